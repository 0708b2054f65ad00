//! Run-time settings: one [`Config`] whose [`Default`] is every documented
//! default, written once. `jobbridge serve`'s flags take their defaults from
//! the constants here, so `serve` with no flags runs `Config::default()`
//! (a test in `launch::flags` checks it), and the Configuration table of
//! docs/operating.md lists the same values.
//!
//! This module sits at the bottom with the domain: every layer reads it, so
//! it imports only plain settings types (the match weights, the batch's
//! settings and schedule), never the api, server or store layers. TLS, for
//! instance, is held as two paths here; `server::tls` reads and checks the
//! files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::batch::schedule::Schedule;
use crate::batch::BatchSettings;
use crate::domain::policy::PolicyConfig;
use crate::domain::IdKey;
use crate::matching::MatchConfig;

/// Default listen address: loopback only, so a fresh install is not
/// reachable from the network by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./jobbridge-data";
/// Largest request message accepted, in bytes. A bulk import sends one
/// record per message, so 4 MiB (gRPC's usual default) is far above any
/// valid record; larger requests get `RESOURCE_EXHAUSTED`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// sled's page cache, MiB (see [`crate::store::DEFAULT_CACHE_MB`]).
pub use crate::store::DEFAULT_CACHE_MB;
/// Free space kept on the data directory's disk, MiB: writes are refused
/// below it (see [`crate::store::DEFAULT_MIN_FREE_MB`]).
pub use crate::store::DEFAULT_MIN_FREE_MB;
/// Ranking threads; 0 is one per core.
pub const DEFAULT_RANK_THREADS: usize = 0;
/// Local time of the nightly batch run.
pub const DEFAULT_BATCH_AT: &str = "02:00";
/// Time zone of [`DEFAULT_BATCH_AT`]: the counties served are in Hunan.
pub const DEFAULT_BATCH_TIMEZONE: &str = "Asia/Shanghai";
/// Calls per second per token (0 turns the limit off); the burst is twice
/// the rate unless `--rate-burst` says otherwise.
pub const DEFAULT_RATE_LIMIT: f64 = 2000.0;
/// Days the audit log keeps entries: two years, enough for an annual
/// review of who read what.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 730;

/// Local time of the daily backup with `--backup-dir`, in the batch's time
/// zone: an hour after the nightly batch run has started.
pub const DEFAULT_BACKUP_AT: &str = "03:00";
/// Daily backups kept in `--backup-dir`: a week.
pub const DEFAULT_BACKUP_KEEP: u32 = 7;

/// Seconds a shutdown waits for open calls before cutting them with
/// UNAVAILABLE: long enough for a unary call and a balancer's next probe,
/// short enough for systemd's default 90 s stop timeout.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: f64 = 10.0;

pub use crate::store::key_file::{ID_KEY_ENV, ID_KEY_FILE};

/// Settings of `jobbridge serve`, and of [`crate::server::Ready`], which
/// reads the part past the data directory.
///
/// | field | default |
/// | --- | --- |
/// | `listen` | [`DEFAULT_LISTEN`] |
/// | `data_dir` | [`DEFAULT_DATA_DIR`] |
/// | `max_message_bytes` | [`DEFAULT_MAX_MESSAGE_BYTES`] (4 MiB) |
/// | `cache_mb` | [`DEFAULT_CACHE_MB`] (32) |
/// | `min_free_disk_mb` | [`DEFAULT_MIN_FREE_MB`] (256) |
/// | `demo` | off |
/// | `matching` | [`MatchConfig::default`] |
/// | `policy` | [`PolicyConfig::default`] |
/// | `rank_threads` | [`DEFAULT_RANK_THREADS`] (one per core) |
/// | `batch` | [`BatchSettings::default`] (100 candidates, 30 runs kept, nightly run staged, staged runs valid 24 h) |
/// | `schedule` | [`DEFAULT_BATCH_AT`] in [`DEFAULT_BATCH_TIMEZONE`] |
/// | `rate_limit` | [`DEFAULT_RATE_LIMIT`] per second, burst twice that |
/// | `audit_retention` | [`DEFAULT_AUDIT_RETENTION_DAYS`] days |
/// | `tls` | none: plaintext |
/// | `insecure` | off: plaintext only on loopback |
/// | `id_key_file`, `id_key` | none: [`ID_KEY_ENV`], else `DATA_DIR/id.key` |
/// | `shutdown_grace` | [`DEFAULT_SHUTDOWN_GRACE_SECS`] (10 s) |
/// | `metrics_listen` | none: no metrics endpoint |
/// | `console_listen` | none for [`crate::server::Ready::open`]; `jobbridge serve` puts it beside `listen` ([`console_beside`]) |
/// | `admin_token_file` | none: no first admin token written |
/// | `log_format` | [`LogFormat::Text`] |
/// | `backup` | none: no scheduled backups ([`DEFAULT_BACKUP_AT`], [`DEFAULT_BACKUP_KEEP`] kept, once a directory is given) |
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// sled data directory.
    pub data_dir: PathBuf,
    /// Largest request message, bytes.
    pub max_message_bytes: usize,
    /// sled's page cache, MiB.
    pub cache_mb: u64,
    /// Free space kept on the data directory's disk, MiB.
    pub min_free_disk_mb: u64,
    /// Fill an empty data directory with demo data before serving.
    pub demo: bool,
    /// Score weights and constants.
    pub matching: MatchConfig,
    /// Policy rules (the config file's `[policy]`).
    pub policy: PolicyConfig,
    /// Threads of the ranking pool (rayon); 0 for one per core.
    pub rank_threads: usize,
    /// Batch run settings. An `audit_dir` of `None` means `DATA_DIR/audit`
    /// to the launcher, and no audit files to a bare `server::Ready::open`.
    pub batch: BatchSettings,
    /// When the nightly run starts; `None` for never.
    pub schedule: Option<Schedule>,
    /// Calls per token; `None` for no limit.
    pub rate_limit: Option<RateLimit>,
    /// Audit log entries older than this are removed (at start and daily).
    pub audit_retention: Duration,
    /// Certificate and key files to serve TLS with; `None` for plaintext.
    pub tls: Option<TlsFiles>,
    /// Serve plaintext on a non-loopback address all the same.
    pub insecure: bool,
    /// File holding the national id key as hex (`--id-key-file`).
    pub id_key_file: Option<PathBuf>,
    /// The national id key itself, once resolved; `None` looks for it in
    /// `id_key_file`, [`ID_KEY_ENV`] and the data directory, in that order
    /// ([`crate::store::id_key`]).
    pub id_key: Option<IdKey>,
    /// How long a shutdown waits for open calls before cutting them.
    pub shutdown_grace: Duration,
    /// Where Prometheus metrics are served (`GET /metrics`); `None` for
    /// nowhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the browser console is served; `None` for nowhere.
    pub console_listen: Option<SocketAddr>,
    /// Where the first start writes an admin token (mode 0600), if the
    /// store has no valid admin token yet.
    pub admin_token_file: Option<PathBuf>,
    /// How `jobbridge serve` writes its log (read by the binary before
    /// the server starts).
    pub log_format: LogFormat,
    /// Daily backups into a directory; `None` for none.
    pub backup: Option<BackupSchedule>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN
                .parse()
                .expect("DEFAULT_LISTEN is an address"),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            cache_mb: DEFAULT_CACHE_MB,
            min_free_disk_mb: DEFAULT_MIN_FREE_MB,
            demo: false,
            matching: MatchConfig::default(),
            policy: PolicyConfig::default(),
            rank_threads: DEFAULT_RANK_THREADS,
            batch: BatchSettings::default(),
            schedule: Some(
                Schedule::parse(DEFAULT_BATCH_AT, DEFAULT_BATCH_TIMEZONE)
                    .expect("the default schedule parses"),
            ),
            rate_limit: RateLimit::per_second(DEFAULT_RATE_LIMIT, None),
            audit_retention: days(DEFAULT_AUDIT_RETENTION_DAYS),
            tls: None,
            insecure: false,
            id_key_file: None,
            id_key: None,
            shutdown_grace: Duration::from_secs_f64(DEFAULT_SHUTDOWN_GRACE_SECS),
            metrics_listen: None,
            console_listen: None,
            admin_token_file: None,
            log_format: LogFormat::Text,
            backup: None,
        }
    }
}

impl Config {
    /// The defaults without the nightly schedule and the rate limit, for a
    /// server inside a test or a bench: a 02:00 run would make results
    /// depend on the clock, and a per-token limit would cap the load.
    pub fn in_process() -> Self {
        Self {
            schedule: None,
            rate_limit: None,
            ..Self::default()
        }
    }
}

/// `n` days.
pub fn days(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 24 * 3600)
}

/// Daily backups of `serve` (`--backup-dir`, `--backup-at`,
/// `--backup-keep`): files named by their UTC time in `dir`, the newest
/// `keep` kept.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupSchedule {
    /// Where the backup files go.
    pub dir: PathBuf,
    /// When, in the nightly batch's time zone.
    pub at: Schedule,
    /// Files kept; older ones are removed after each new one.
    pub keep: usize,
}

/// Per-token request rate: a token bucket of `burst` calls refilled at
/// `per_second`. The access layer in `api::auth` enforces it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained calls per second.
    pub per_second: f64,
    /// Calls allowed at once after a quiet spell.
    pub burst: f64,
}

impl RateLimit {
    /// The limit of `--rate-limit` and `--rate-burst`: `None` for 0 (no
    /// limit); the burst is twice the rate unless given, and at least one
    /// call. The caller checks that `per_second` is finite and not negative.
    ///
    /// ```
    /// use jobbridge::config::RateLimit;
    /// assert_eq!(RateLimit::per_second(0.0, None), None);
    /// assert_eq!(RateLimit::per_second(10.0, None).unwrap().burst, 20.0);
    /// ```
    pub fn per_second(per_second: f64, burst: Option<f64>) -> Option<Self> {
        (per_second > 0.0).then(|| Self {
            per_second,
            burst: burst.unwrap_or(per_second * 2.0).max(1.0),
        })
    }
}

/// The PEM files of `--tls-cert` and `--tls-key`; `server::tls` reads and
/// checks them at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, server certificate first.
    pub cert: PathBuf,
    /// Private key of the certificate (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The console's address when none is given: the gRPC address with the
/// next port (an ephemeral port stays ephemeral).
///
/// ```
/// use jobbridge::config::console_beside;
/// assert_eq!(console_beside("127.0.0.1:50051".parse().unwrap()).to_string(), "127.0.0.1:50052");
/// assert_eq!(console_beside("127.0.0.1:0".parse().unwrap()).port(), 0);
/// ```
pub fn console_beside(listen: SocketAddr) -> SocketAddr {
    let port = match listen.port() {
        0 => 0,
        p => p.checked_add(1).unwrap_or(p - 1),
    };
    SocketAddr::new(listen.ip(), port)
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

mod file;

pub use file::{BackupFile, BatchFile, FileConfig, RateLimitFile, TlsFile};

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event; colours only on a terminal.
    #[default]
    Text,
    /// One JSON object per line, fields at the top level.
    Json,
}

impl LogFormat {
    /// The format `JOBBRIDGE_LOG_FORMAT` names (`serve --log-format`'s
    /// variable), for the commands other than `serve`: text when unset or
    /// not a format.
    pub fn from_env() -> LogFormat {
        std::env::var("JOBBRIDGE_LOG_FORMAT")
            .ok()
            .and_then(|f| f.parse().ok())
            .unwrap_or_default()
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("must be text or json, got {other:?}")),
        }
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
    fn the_example_file_parses_and_names_every_key() {
        let text = include_str!("../jobbridge.example.toml");
        FileConfig::parse(text).unwrap();
        // Keys left at "off" are commented out in the example; they must
        // still be shown, and parse once uncommented.
        let uncommented = text.replace("# metrics_listen", "metrics_listen");
        FileConfig::parse(&uncommented).unwrap();
        for key in [
            "listen",
            "data_dir",
            "max_message_bytes",
            "cache_mb",
            "min_free_disk_mb",
            "rank_threads",
            "demo",
            "audit_retention_days",
            "shutdown_grace_secs",
            "metrics_listen",
            "log_format",
            "admin_token_file",
            "id_key_file",
            "[rate_limit]",
            "per_second",
            "burst",
            "[tls]",
            "cert",
            "key",
            "insecure",
            "[batch]",
            "at",
            "timezone",
            "schedule",
            "candidates_per_worker",
            "keep_runs",
            "audit_dir",
            "[backup]",
            "keep",
            "[matching]",
            "weight_skill",
        ] {
            assert!(
                text.contains(key),
                "jobbridge.example.toml does not show {key}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(FileConfig::parse("[matching]\nweight_skil = 0.3\n")
            .unwrap_err()
            .contains("weight_skil"));
        for (text, named) in [
            ("listn = \"127.0.0.1:1\"\n", "listn"),
            ("[tls]\ncertificate = \"c.pem\"\n", "certificate"),
            ("[batch]\nevery = \"day\"\n", "every"),
            ("[backup]\nkeep = 0\n", "backup.keep"),
            ("[rate_limit]\nper_minute = 3\n", "per_minute"),
            ("cache_mb = 0\n", "cache_mb"),
            ("log_format = \"xml\"\n", "log_format"),
            ("shutdown_grace_secs = -1.0\n", "shutdown_grace_secs"),
            ("[tls]\ncert = \"c.pem\"\n", "tls"),
        ] {
            let e = FileConfig::parse(text).unwrap_err();
            assert!(e.contains(named), "{text:?}: {e}");
        }
        assert!(FileConfig::parse("[matching]\nweight_pay = -1.0\n")
            .unwrap_err()
            .contains("weight_pay"));
        assert!(FileConfig::parse("[matching]\ncommute_decay_km = 0.0\n").is_err());
    }
}
