//! The flags of `jobbridge serve`, parsed into a [`Config`]. They live in
//! the library so that their defaults can be checked against
//! `Config::default()` (the test below) and so that another binary can
//! offer the same flags. Every default here is a constant of
//! [`crate::config`] or a field of a `Default`, never a second literal.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::batch::schedule::Schedule;
use crate::batch::{ApplyMode, BatchSettings};
use crate::config::{
    console_beside, days, Config, FileConfig, RateLimit, TlsFiles, DEFAULT_AUDIT_RETENTION_DAYS,
    DEFAULT_BATCH_AT, DEFAULT_BATCH_TIMEZONE, DEFAULT_CACHE_MB, DEFAULT_DATA_DIR, DEFAULT_LISTEN,
    DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MIN_FREE_MB, DEFAULT_RANK_THREADS, DEFAULT_RATE_LIMIT,
};
use crate::domain::IdKey;
use crate::store::Store;

use super::LaunchError;

/// Flags of `serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "JOBBRIDGE_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// sled data directory (created if missing).
    #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Largest request message in bytes; larger ones get RESOURCE_EXHAUSTED.
    #[arg(long, env = "JOBBRIDGE_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    max_message_bytes: usize,
    /// sled's page cache in MiB (the resident set grows up to about this
    /// plus the match index).
    #[arg(long, env = "JOBBRIDGE_CACHE_MB", default_value_t = DEFAULT_CACHE_MB,
          value_parser = clap::value_parser!(u64).range(1..))]
    cache_mb: u64,
    /// Free space in MiB kept on the data directory's disk: below it,
    /// writes are refused with UNAVAILABLE until space is freed (reads go
    /// on), so the store never meets a full disk.
    #[arg(long, env = "JOBBRIDGE_MIN_FREE_DISK_MB", default_value_t = DEFAULT_MIN_FREE_MB)]
    min_free_disk_mb: u64,
    /// Fill an empty data directory with the Huaihua demo data first.
    #[arg(long)]
    demo: bool,
    /// TOML file with any of these settings (see jobbridge.example.toml);
    /// a flag or its environment variable overrides the file.
    #[arg(long, env = "JOBBRIDGE_CONFIG")]
    config: Option<PathBuf>,
    /// Threads that rank matches (rayon); 0 means one per core.
    #[arg(long, env = "JOBBRIDGE_RANK_THREADS", default_value_t = DEFAULT_RANK_THREADS)]
    rank_threads: usize,
    /// Calls per second allowed to each token (0: no limit); a token
    /// over it gets RESOURCE_EXHAUSTED while others are served.
    #[arg(long, env = "JOBBRIDGE_RATE_LIMIT", default_value_t = DEFAULT_RATE_LIMIT)]
    rate_limit: f64,
    /// Calls a token may make at once after a quiet spell (default:
    /// twice --rate-limit).
    #[arg(long, env = "JOBBRIDGE_RATE_BURST")]
    rate_burst: Option<f64>,
    /// Days the audit log keeps its entries.
    #[arg(long, env = "JOBBRIDGE_AUDIT_RETENTION_DAYS", default_value_t = DEFAULT_AUDIT_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(1..))]
    audit_retention_days: u32,
    #[command(flatten)]
    batch: BatchFlags,
    #[command(flatten)]
    tls: TlsFlags,
    #[command(flatten)]
    id_key: IdKeyArgs,
    #[command(flatten)]
    ops: super::ops_flags::OpsFlags,
    #[command(flatten)]
    backup: super::backup_flags::BackupFlags,
}

/// Batch settings of `serve`.
#[derive(clap::Args, Debug)]
struct BatchFlags {
    /// Local time of the nightly run, HH:MM.
    #[arg(long, env = "JOBBRIDGE_BATCH_AT", default_value = DEFAULT_BATCH_AT)]
    batch_at: String,
    /// Time zone of --batch-at (IANA name).
    #[arg(long, env = "JOBBRIDGE_BATCH_TIMEZONE", default_value = DEFAULT_BATCH_TIMEZONE)]
    batch_timezone: String,
    /// Do not run the nightly batch.
    #[arg(long)]
    no_schedule: bool,
    /// Each worker's best N eligible openings are a run's candidates.
    #[arg(long, default_value_t = default_candidates_per_worker(),
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    candidates_per_worker: u32,
    /// Runs kept; older ones and their audit files are deleted.
    #[arg(long, default_value_t = BatchSettings::default().keep_runs as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    keep_runs: u32,
    /// Where runs' audit files go (default: DATA_DIR/audit).
    #[arg(long, env = "JOBBRIDGE_AUDIT_DIR")]
    audit_dir: Option<PathBuf>,
    /// What the nightly run does with its assignments: manual stages them
    /// for review (`jobbridge batch diff` / `batch apply`), auto proposes
    /// them at once.
    #[arg(long, env = "JOBBRIDGE_BATCH_APPLY", value_enum, default_value_t = ApplyArg::Manual)]
    batch_apply: ApplyArg,
    /// Hours a staged run stays valid for ApplyRun.
    #[arg(long, env = "JOBBRIDGE_BATCH_MAX_AGE_HOURS",
          default_value_t = BatchSettings::default().max_staged_age_hours,
          value_parser = clap::value_parser!(u32).range(1..))]
    batch_max_age_hours: u32,
}

/// `--batch-apply`: clap's view of [`ApplyMode`].
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ApplyArg {
    /// Propose the nightly run's assignments at once.
    Auto,
    /// Stage them for review and ApplyRun.
    Manual,
}

/// Transport security of `serve`.
#[derive(clap::Args, Debug)]
struct TlsFlags {
    /// Serve TLS with this PEM certificate chain (server certificate first).
    #[arg(long, env = "JOBBRIDGE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "JOBBRIDGE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plaintext even when --listen is not a loopback address (e.g.
    /// behind a proxy that terminates TLS).
    #[arg(long, conflicts_with = "tls_cert")]
    insecure: bool,
}

/// Where the national id key comes from (`serve`, `demo-data`, `check`).
#[derive(clap::Args, Debug)]
pub struct IdKeyArgs {
    /// File holding the national id key as hex (at least 32 bytes). Without
    /// it the key comes from the JOBBRIDGE_ID_KEY environment variable, else
    /// from DATA_DIR/id.key, generated on the first start.
    #[arg(long, value_name = "PATH")]
    pub id_key_file: Option<PathBuf>,
}

impl IdKeyArgs {
    /// The key of `store`, generating DATA_DIR/id.key if no source is
    /// given and the store has no key yet.
    pub fn key(&self, store: &Store) -> Result<IdKey, LaunchError> {
        super::id_key::resolve(self.id_key_file.as_deref(), store)
    }

    /// The key if a source is given or DATA_DIR/id.key exists.
    pub fn find(&self, data_dir: &Path) -> Result<Option<IdKey>, LaunchError> {
        super::id_key::find(self.id_key_file.as_deref(), data_dir)
    }
}

/// The batch's default candidates per worker, as the flags' type (also
/// the default of `jobbridge batch --candidates-per-worker`).
pub fn default_candidates_per_worker() -> u32 {
    BatchSettings::default().candidates_per_worker as u32
}

impl ServeArgs {
    /// The settings these flags give over the config file's, with the
    /// schedule parsed: a flag or its environment variable wins, then the
    /// file, then the default. `matches` are the parsed `serve` arguments
    /// (they tell a value given from a default). The national id key and
    /// the audit directory's default are left to [`super::Launch::open`],
    /// which has the store.
    pub fn into_config(self, matches: &clap::ArgMatches) -> Result<Config, LaunchError> {
        let invalid = LaunchError::Config;
        let file = match &self.config {
            Some(path) => FileConfig::load(path).map_err(invalid)?,
            None => FileConfig::default(),
        };
        // The flag's value if given (or its environment variable), else the
        // file's if set, else the flag's default.
        let given = |id: &str| {
            !matches!(
                matches.value_source(id),
                None | Some(clap::parser::ValueSource::DefaultValue)
            )
        };
        fn pick<T>(given: bool, flag: T, file: Option<T>) -> T {
            match (given, file) {
                (false, Some(f)) => f,
                _ => flag,
            }
        }
        fn pick_opt<T>(flag: Option<T>, file: Option<T>) -> Option<T> {
            flag.or(file)
        }
        let rate = pick(
            given("rate_limit"),
            self.rate_limit,
            file.rate_limit.per_second,
        );
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(invalid("--rate-limit must be a number >= 0".into()));
        }
        let burst = pick_opt(self.rate_burst, file.rate_limit.burst);
        let grace = pick(
            given("shutdown_grace"),
            self.ops.shutdown_grace,
            file.shutdown_grace_secs,
        );
        if !(grace.is_finite() && grace >= 0.0) {
            return Err(invalid(
                "--shutdown-grace must be a number of seconds >= 0".into(),
            ));
        }
        let b = self.batch;
        let schedule_on = if given("no_schedule") {
            !b.no_schedule
        } else {
            file.batch.schedule.unwrap_or(!b.no_schedule)
        };
        // The daily backup's time is in the batch's zone, run or not.
        let zone = pick(
            given("batch_timezone"),
            b.batch_timezone,
            file.batch.timezone,
        );
        let schedule = if schedule_on {
            let at = pick(given("batch_at"), b.batch_at, file.batch.at);
            Some(Schedule::parse(&at, &zone).map_err(invalid)?)
        } else {
            None
        };
        let (cert, key) = if self.tls.tls_cert.is_some() {
            (self.tls.tls_cert, self.tls.tls_key)
        } else {
            (file.tls.cert, file.tls.key)
        };
        let tls = match (cert, key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            _ => None,
        };
        let listen = pick(given("listen"), self.listen, file.listen);
        Ok(Config {
            listen,
            data_dir: pick(given("data_dir"), self.data_dir, file.data_dir),
            max_message_bytes: pick(
                given("max_message_bytes"),
                self.max_message_bytes,
                file.max_message_bytes,
            ),
            cache_mb: pick(given("cache_mb"), self.cache_mb, file.cache_mb),
            min_free_disk_mb: pick(
                given("min_free_disk_mb"),
                self.min_free_disk_mb,
                file.min_free_disk_mb,
            ),
            demo: pick(given("demo"), self.demo, file.demo),
            matching: file.matching,
            policy: file.policy,
            rank_threads: pick(given("rank_threads"), self.rank_threads, file.rank_threads),
            batch: BatchSettings {
                candidates_per_worker: pick(
                    given("candidates_per_worker"),
                    b.candidates_per_worker,
                    file.batch.candidates_per_worker,
                ) as usize,
                keep_runs: pick(given("keep_runs"), b.keep_runs, file.batch.keep_runs) as usize,
                audit_dir: pick_opt(b.audit_dir, file.batch.audit_dir),
                nightly_apply: match file.batch.apply.filter(|_| !given("batch_apply")) {
                    Some(mode) => mode,
                    None => match b.batch_apply {
                        ApplyArg::Auto => ApplyMode::Auto,
                        ApplyArg::Manual => ApplyMode::Manual,
                    },
                },
                max_staged_age_hours: pick(
                    given("batch_max_age_hours"),
                    b.batch_max_age_hours,
                    file.batch.max_age_hours,
                ),
            },
            schedule,
            rate_limit: RateLimit::per_second(rate, burst),
            audit_retention: days(pick(
                given("audit_retention_days"),
                self.audit_retention_days,
                file.audit_retention_days,
            )),
            tls,
            insecure: pick(given("insecure"), self.tls.insecure, file.tls.insecure),
            id_key_file: pick_opt(self.id_key.id_key_file, file.id_key_file),
            id_key: None,
            shutdown_grace: std::time::Duration::from_secs_f64(grace),
            metrics_listen: pick_opt(self.ops.metrics_listen, file.metrics_listen),
            console_listen: (!self.ops.no_console).then(|| {
                self.ops
                    .console_listen
                    .unwrap_or_else(|| console_beside(listen))
            }),
            admin_token_file: pick_opt(self.ops.admin_token_file, file.admin_token_file),
            log_format: pick(given("log_format"), self.ops.log_format, file.log_format),
            backup: self.backup.into_schedule(given, file.backup, &zone)?,
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn config(flags: &[&str]) -> Config {
        try_config(flags).unwrap()
    }

    /// Tests that set environment variables hold it, so that no other
    /// test of this module parses flags meanwhile.
    static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// `serve FLAGS` as a `Config`; one at a time, as tests here set the
    /// environment (the backup flags' tests use it too).
    pub(in crate::launch) fn try_config(flags: &[&str]) -> Result<Config, LaunchError> {
        use clap::{CommandFactory as _, FromArgMatches as _};
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let argv = std::iter::once("serve").chain(flags.iter().copied());
        let matches = Serve::command().try_get_matches_from(argv).unwrap();
        Serve::from_arg_matches(&matches)
            .unwrap()
            .args
            .into_config(&matches)
    }

    /// Debug text, since not every settings type is `PartialEq`; it shows
    /// every field, so any difference shows.
    fn text(config: &Config) -> String {
        format!("{config:?}")
    }

    /// What `serve` runs with when nothing is given: the documented
    /// defaults, and the console beside the gRPC address (which
    /// `Config::default` leaves off for servers started in-process).
    fn serve_default() -> Config {
        let default = Config::default();
        Config {
            console_listen: Some(console_beside(default.listen)),
            ..default
        }
    }

    #[test]
    fn serve_without_flags_is_the_default_config() {
        assert_eq!(text(&config(&[])), text(&serve_default()));
    }

    #[test]
    fn the_console_can_be_moved_or_turned_off() {
        let moved = config(&["--console-listen", "127.0.0.1:8088"]);
        assert_eq!(moved.console_listen.unwrap().port(), 8088);
        assert_eq!(config(&["--no-console"]).console_listen, None);
        let beside = config(&["--listen", "127.0.0.1:6001"]);
        assert_eq!(beside.console_listen.unwrap().port(), 6002);
    }

    #[test]
    fn the_example_file_loads_as_the_defaults() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/jobbridge.example.toml");
        assert_eq!(
            text(&config(&["--config", example])),
            text(&serve_default())
        );
    }

    #[test]
    fn flags_reach_the_config() {
        let c = config(&[
            "--cache-mb",
            "64",
            "--rate-limit",
            "0",
            "--no-schedule",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
        ]);
        assert_eq!(c.cache_mb, 64);
        assert_eq!(c.rate_limit, None);
        assert!(c.schedule.is_none());
        assert_eq!(c.tls.unwrap().key, PathBuf::from("k.pem"));
        assert!(Serve::try_parse_from(["serve", "--cache-mb", "0"]).is_err());
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file_which_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jobbridge.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:6001\"\ncache_mb = 48\nshutdown_grace_secs = 3.0\n\
             metrics_listen = \"127.0.0.1:6002\"\n\
             [batch]\nschedule = false\nkeep_runs = 5\n[matching]\nweight_skill = 0.5\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
        std::env::set_var("JOBBRIDGE_CACHE_MB", "56");
        std::env::set_var("JOBBRIDGE_SHUTDOWN_GRACE", "4");
        let parsed = {
            use clap::{CommandFactory as _, FromArgMatches as _};
            let argv = ["serve", "--config", path, "--shutdown-grace", "5"];
            let matches = Serve::command().try_get_matches_from(argv).unwrap();
            Serve::from_arg_matches(&matches)
                .unwrap()
                .args
                .into_config(&matches)
        };
        std::env::remove_var("JOBBRIDGE_CACHE_MB");
        std::env::remove_var("JOBBRIDGE_SHUTDOWN_GRACE");
        drop(guard);
        let c = parsed.unwrap();
        // File over default.
        assert_eq!(c.listen.port(), 6001);
        assert_eq!(c.metrics_listen.unwrap().port(), 6002);
        assert!(c.schedule.is_none());
        assert_eq!(c.batch.keep_runs, 5);
        assert_eq!(c.matching.weight_skill, 0.5);
        // Environment over file.
        assert_eq!(c.cache_mb, 56);
        // Flag over environment.
        assert_eq!(c.shutdown_grace, std::time::Duration::from_secs(5));
        // Untouched: the default.
        assert_eq!(c.max_message_bytes, Config::default().max_message_bytes);
    }

    #[test]
    fn a_bad_config_file_is_refused_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:1\"\nlisten_addr = \"x\"\n").unwrap();
        let e = try_config(&["--config", file.to_str().unwrap()]).unwrap_err();
        assert!(e.to_string().contains("listen_addr"), "{e}");
    }
}
