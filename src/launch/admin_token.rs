//! `serve --admin-token-file PATH`: the first start of a service that
//! nobody may stop (systemd) makes its own admin token and leaves it in a
//! file only the service's user can read, so the operator never has to
//! stop the server to run `jobbridge token create --data-dir`.

use std::io::Write as _;
use std::path::Path;

use crate::domain::access::{Role, Scope};
use crate::store::Store;

use super::LaunchError;

/// If `store` has no valid admin token, creates one and writes it to
/// `path` (mode 0600, created new: an existing file is never overwritten).
/// A store that has a valid admin token is left as it is, so restarts
/// change nothing.
pub fn bootstrap(store: &Store, path: &Path) -> Result<(), LaunchError> {
    let has_admin = store
        .tokens()?
        .iter()
        .any(|t| t.revoked_at_ms == 0 && t.role() == Role::Admin);
    if has_admin {
        tracing::info!(
            file = %path.display(),
            "the store has a valid admin token: --admin-token-file left as it is"
        );
        return Ok(());
    }
    let (record, token) =
        store.create_token(Role::Admin, &Scope::default(), "first admin", "bootstrap")?;
    if let Err(e) = write_secret(path, &token) {
        // Nobody can know this token: take it back before failing.
        let _ = store.revoke_token(&record.id);
        let _ = store.flush_blocking();
        return Err(LaunchError::Config(format!(
            "--admin-token-file {}: {e}",
            path.display()
        )));
    }
    store.flush_blocking()?;
    tracing::info!(
        token_id = %record.id,
        file = %path.display(),
        "first admin token written (mode 0600)"
    );
    Ok(())
}

/// Writes `token` and a newline to a new file readable by its owner only.
fn write_secret(path: &Path, token: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            std::io::Error::new(
                e.kind(),
                "exists, but the store has no valid admin token: remove the file to have a new \
                 token written",
            )
        } else {
            e
        }
    })?;
    file.write_all(format!("{token}\n").as_bytes())?;
    file.sync_all()
}
