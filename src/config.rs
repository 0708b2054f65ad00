//! Run-time settings. Every setting has a flag and an environment variable
//! (see `jobbridge serve --help`); these are the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::domain::identity::{hex, short_fingerprint, IdKey, MIN_KEY_BYTES};
use crate::store::Store;

/// Default listen address: loopback only, so a fresh install is not
/// reachable from the network by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./jobbridge-data";

/// Environment variable that holds the national id key itself, as hex.
pub const ID_KEY_ENV: &str = "JOBBRIDGE_ID_KEY";
/// File in the data directory that holds a generated national id key.
pub const ID_KEY_FILE: &str = "id.key";

/// Settings of `jobbridge serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// sled data directory.
    pub data_dir: PathBuf,
    /// Largest request message, bytes.
    pub max_message_bytes: usize,
    /// Fill an empty data directory with demo data before serving.
    pub demo: bool,
    /// Score weights and constants.
    pub matching: crate::matching::MatchConfig,
    /// Threads of the ranking pool (rayon); 0 for one per core.
    pub rank_threads: usize,
    /// Batch run settings.
    pub batch: crate::batch::BatchSettings,
    /// When the nightly run starts; `None` for never.
    pub schedule: Option<crate::batch::schedule::Schedule>,
    /// Calls per token; `None` for no limit.
    pub rate_limit: Option<crate::api::auth::RateLimit>,
    /// How long the audit log keeps entries.
    pub audit_retention: std::time::Duration,
    /// Certificate and key to serve TLS with; `None` for plaintext.
    pub tls: Option<crate::server::tls::TlsIdentity>,
    /// Serve plaintext on a non-loopback address all the same.
    pub insecure: bool,
    /// The key that national ids are hashed with ([`id_key`]).
    pub id_key: IdKey,
}

/// How the server is reachable, as [`check_listen`] decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// TLS, on any address.
    Tls,
    /// Plaintext on a loopback address: only this machine can connect.
    LoopbackPlaintext,
    /// Plaintext on a network address, allowed by `--insecure`.
    InsecurePlaintext,
}

/// Refuses plaintext on an address other machines can reach, unless
/// `insecure`: gRPC metadata and the workers' personal data would cross the
/// network readable by anyone on the path. Loopback is 127.0.0.0/8 and ::1
/// (also written as ::ffff:127.x.x.x).
///
/// ```
/// use jobbridge::config::{check_listen, Exposure};
/// let lan = "0.0.0.0:50051".parse().unwrap();
/// assert!(check_listen(lan, false, false).is_err());
/// assert_eq!(check_listen(lan, true, false), Ok(Exposure::Tls));
/// assert_eq!(check_listen(lan, false, true), Ok(Exposure::InsecurePlaintext));
/// ```
pub fn check_listen(listen: SocketAddr, tls: bool, insecure: bool) -> Result<Exposure, String> {
    if tls {
        Ok(Exposure::Tls)
    } else if listen.ip().to_canonical().is_loopback() {
        Ok(Exposure::LoopbackPlaintext)
    } else if insecure {
        Ok(Exposure::InsecurePlaintext)
    } else {
        Err(format!(
            "refusing to serve plaintext gRPC on {listen}, which is not a loopback address: \
             give --tls-cert and --tls-key to serve TLS, or --insecure to serve plaintext \
             anyway (e.g. behind a TLS-terminating proxy)"
        ))
    }
}

/// The optional TOML config file (`--config`). Today it holds the match
/// score's weights; every field has a default, so an empty file is valid.
///
/// ```
/// let file: jobbridge::config::FileConfig =
///     jobbridge::config::FileConfig::parse("[matching]\nweight_skill = 0.5\n").unwrap();
/// assert_eq!(file.matching.weight_skill, 0.5);
/// assert_eq!(file.matching.commute_decay_km, 15.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// `[matching]`: score weights and constants.
    pub matching: crate::matching::MatchConfig,
}

impl FileConfig {
    /// Parses the file's text; the error names the bad key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        file.matching.clone().normalised()?;
        Ok(file)
    }

    /// Reads and parses `path`.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Where a national id key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdKeySource {
    /// The file named by `--id-key-file`.
    File(PathBuf),
    /// The environment variable [`ID_KEY_ENV`].
    Env,
    /// [`ID_KEY_FILE`] in the data directory; `created` if generated now.
    DataDir {
        /// The file.
        path: PathBuf,
        /// Generated by this call.
        created: bool,
    },
}

/// The national id key of `store`, from the first source given: the
/// `--id-key-file` file, else `env` (the value of [`ID_KEY_ENV`]; empty
/// counts as unset), else `DATA_DIR/id.key`. If there is none, a store that
/// has no key yet gets a new one, 32 random bytes written to
/// `DATA_DIR/id.key`; a store bound to a key is an error naming that key's
/// fingerprint. The open store's directory lock keeps two processes from
/// generating two keys.
pub fn id_key(
    file: Option<&Path>,
    env: Option<&str>,
    store: &Store,
) -> Result<(IdKey, IdKeySource), String> {
    let data_dir = store.dir();
    if let Some(found) = find_id_key(file, env, data_dir)? {
        return Ok(found);
    }
    let bound = store.id_key_fingerprint().map_err(|e| e.to_string())?;
    if let Some(fingerprint) = bound {
        return Err(format!(
            "the national ids in {} are hashed with the key of fingerprint {}...: give that key \
             with --id-key-file or {ID_KEY_ENV}",
            data_dir.display(),
            short_fingerprint(&fingerprint)
        ));
    }
    let path = data_dir.join(ID_KEY_FILE);
    let key = generate_key_file(&path)?;
    tracing::warn!(
        path = %path.display(),
        fingerprint = short_fingerprint(&key.fingerprint()),
        "generated a national id key in the data directory; in production keep the key \
         apart from the data ({ID_KEY_ENV} or --id-key-file) and back it up: without it the \
         stored national ids can no longer be matched"
    );
    Ok((
        key,
        IdKeySource::DataDir {
            path,
            created: true,
        },
    ))
}

/// As [`id_key`], but `None` instead of generating a key (for tools that
/// only check).
pub fn find_id_key(
    file: Option<&Path>,
    env: Option<&str>,
    data_dir: &Path,
) -> Result<Option<(IdKey, IdKeySource)>, String> {
    if let Some(file) = file {
        let key = read_key_file(file)?;
        return Ok(Some((key, IdKeySource::File(file.to_path_buf()))));
    }
    if let Some(hex) = env.filter(|v| !v.is_empty()) {
        let key = IdKey::from_hex(hex).map_err(|e| format!("{ID_KEY_ENV}: {e}"))?;
        return Ok(Some((key, IdKeySource::Env)));
    }
    let path = data_dir.join(ID_KEY_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let key = read_key_file(&path)?;
    Ok(Some((
        key,
        IdKeySource::DataDir {
            path,
            created: false,
        },
    )))
}

fn read_key_file(path: &Path) -> Result<IdKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the id key file {}: {e}", path.display()))?;
    warn_if_readable_by_others(path);
    IdKey::from_hex(&text).map_err(|e| format!("id key file {}: {e}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "the id key file can be read by other users; restrict it to its owner (chmod 600)"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes a fresh random key to `path`, readable by its owner only: first
/// to a temporary file, then renamed, so a crash never leaves half a key.
fn generate_key_file(path: &Path) -> Result<IdKey, String> {
    use rand::TryRngCore as _;
    use std::io::Write as _;
    let mut bytes = vec![0u8; MIN_KEY_BYTES];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| format!("cannot get random bytes for the id key: {e}"))?;
    let key = IdKey::new(bytes.clone()).expect("MIN_KEY_BYTES is a valid length");
    let failed =
        |e: std::io::Error| format!("cannot write the id key file {}: {e}", path.display());
    let temporary = path.with_extension("key.tmp");
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).map_err(failed)?;
    file.write_all(format!("{}\n", hex(&bytes)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(failed)?;
    if let Some(dir) = path.parent() {
        // The rename is durable once the directory is.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(failed)?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_refused_off_loopback_unless_insecure() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        for local in [
            "127.0.0.1:1",
            "127.8.9.10:1",
            "[::1]:1",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert_eq!(
                check_listen(addr(local), false, false),
                Ok(Exposure::LoopbackPlaintext),
                "{local}"
            );
        }
        for exposed in ["0.0.0.0:1", "[::]:1", "10.0.0.1:1", "[::ffff:10.0.0.1]:1"] {
            let message = check_listen(addr(exposed), false, false).unwrap_err();
            for flag in ["--tls-cert", "--tls-key", "--insecure"] {
                assert!(message.contains(flag), "{exposed}: {message}");
            }
            assert_eq!(
                check_listen(addr(exposed), false, true),
                Ok(Exposure::InsecurePlaintext)
            );
            assert_eq!(check_listen(addr(exposed), true, false), Ok(Exposure::Tls));
        }
        assert_eq!(
            check_listen(addr("127.0.0.1:1"), true, false),
            Ok(Exposure::Tls)
        );
    }

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let file = FileConfig::parse(include_str!("../jobbridge.example.toml")).unwrap();
        assert_eq!(file, FileConfig::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(FileConfig::parse("[matching]\nweight_skil = 0.3\n")
            .unwrap_err()
            .contains("weight_skil"));
        assert!(FileConfig::parse("[matching]\nweight_pay = -1.0\n")
            .unwrap_err()
            .contains("weight_pay"));
        assert!(FileConfig::parse("[matching]\ncommute_decay_km = 0.0\n").is_err());
    }

    #[test]
    fn a_generated_key_is_kept_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (key, source) = id_key(None, None, &store).unwrap();
        let path = dir.path().join(ID_KEY_FILE);
        assert_eq!(
            source,
            IdKeySource::DataDir {
                path: path.clone(),
                created: true
            }
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap().trim().len(), 64);
        let (again, source) = id_key(None, Some(""), &store).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
        assert_eq!(
            source,
            IdKeySource::DataDir {
                path,
                created: false
            }
        );
        assert!(!dir.path().join("id.key.tmp").exists());
    }

    #[test]
    fn the_key_file_flag_comes_first_then_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let file = dir.path().join("elsewhere.key");
        std::fs::write(&file, format!("{}\n", "11".repeat(32))).unwrap();
        let env = "22".repeat(40);
        let (from_file, source) = id_key(Some(&file), Some(&env), &store).unwrap();
        assert_eq!(source, IdKeySource::File(file.clone()));
        assert_eq!(
            from_file.fingerprint(),
            IdKey::new(vec![0x11; 32]).unwrap().fingerprint()
        );
        let (from_env, source) = id_key(None, Some(&env), &store).unwrap();
        assert_eq!(source, IdKeySource::Env);
        assert_eq!(
            from_env.fingerprint(),
            IdKey::new(vec![0x22; 40]).unwrap().fingerprint()
        );
        assert!(!dir.path().join(ID_KEY_FILE).exists(), "nothing generated");
        assert!(find_id_key(None, None, dir.path()).unwrap().is_none());
    }

    #[test]
    fn bad_keys_are_refused_without_showing_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let short = "ab".repeat(16);
        let e = id_key(None, Some(&short), &store).unwrap_err();
        assert!(e.starts_with(ID_KEY_ENV), "{e}");
        assert!(!e.contains(&short), "{e}");
        let file = dir.path().join("bad.key");
        std::fs::write(&file, "not hex at all").unwrap();
        let e = id_key(Some(&file), None, &store).unwrap_err();
        assert!(
            e.contains("bad.key") && !e.contains("not hex at all"),
            "{e}"
        );
        let missing = dir.path().join("missing.key");
        assert!(id_key(Some(&missing), None, &store)
            .unwrap_err()
            .contains("missing.key"));
    }

    #[test]
    fn a_store_bound_to_a_key_gets_no_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let key = IdKey::new(vec![9; 32]).unwrap();
        store.bind_id_key(&key).unwrap();
        let e = id_key(None, None, &store).unwrap_err();
        assert!(e.contains(short_fingerprint(&key.fingerprint())), "{e}");
        assert!(!dir.path().join(ID_KEY_FILE).exists());
        let (found, _) = id_key(None, Some(&"09".repeat(32)), &store).unwrap();
        assert_eq!(found.fingerprint(), key.fingerprint());
    }
}
