//! Run-time settings. Every setting has a flag and an environment variable
//! (see `jobbridge serve --help`); these are the defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default listen address: loopback only, so a fresh install is not
/// reachable from the network by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./jobbridge-data";

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
}
