//! The national id key for the launcher: [`crate::store::id_key`]'s order
//! of sources, with the environment read here and the source logged.

use std::path::Path;

use super::LaunchError;
use crate::config::ID_KEY_ENV;
use crate::domain::identity::short_fingerprint;
use crate::domain::IdKey;
use crate::store::{IdKeySource, Store};

/// The key of `store`: `file`, else [`ID_KEY_ENV`], else `DATA_DIR/id.key`,
/// generated if the store has no key yet.
pub fn resolve(file: Option<&Path>, store: &Store) -> Result<IdKey, LaunchError> {
    let env = env()?;
    let (key, source) =
        crate::store::id_key(file, env.as_deref(), store).map_err(LaunchError::IdKey)?;
    log_source(&key, &source);
    Ok(key)
}

/// As [`resolve`], but `None` instead of generating a key (for `check`,
/// which only looks).
pub fn find(file: Option<&Path>, data_dir: &Path) -> Result<Option<IdKey>, LaunchError> {
    let env = env()?;
    let found =
        crate::store::find_id_key(file, env.as_deref(), data_dir).map_err(LaunchError::IdKey)?;
    Ok(found.map(|(key, source)| {
        log_source(&key, &source);
        key
    }))
}

/// [`ID_KEY_ENV`], read here rather than through clap: a key must not be a
/// command-line argument, where every user of the machine can see it.
fn env() -> Result<Option<String>, LaunchError> {
    match std::env::var(ID_KEY_ENV) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(LaunchError::IdKey(format!("{ID_KEY_ENV} is not hex")))
        }
    }
}

/// Logs where the key came from and its fingerprint, never the key.
fn log_source(key: &IdKey, source: &IdKeySource) {
    let from = match source {
        IdKeySource::File(path) => path.display().to_string(),
        IdKeySource::Env => ID_KEY_ENV.to_string(),
        IdKeySource::DataDir { path, .. } => path.display().to_string(),
    };
    tracing::info!(
        from,
        fingerprint = short_fingerprint(&key.fingerprint()),
        "national id key"
    );
}
