//! The TOML file of `serve --config` (and `batch --config`, which reads its
//! `[matching]` table): every serve setting, each optional. A key left out
//! keeps the value of the environment or the default; a flag or an
//! environment variable overrides the file (`launch::flags` applies the
//! order). Unknown keys are refused with their name, so a typo never
//! silently keeps a default. `jobbridge.example.toml` lists every key with
//! its default, and a test loads it.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::LogFormat;
use crate::batch::ApplyMode;
use crate::domain::policy::PolicyConfig;
use crate::matching::MatchConfig;

/// The whole file. Field names are the flags' without the dashes, grouped
/// as in the Configuration table of docs/operating.md.
///
/// ```
/// let file = jobbridge::config::FileConfig::parse(
///     "listen = \"127.0.0.1:6000\"\n[matching]\nweight_skill = 0.5\n",
/// )
/// .unwrap();
/// assert_eq!(file.listen.unwrap().port(), 6000);
/// assert_eq!(file.matching.weight_skill, 0.5);
/// assert_eq!(file.matching.commute_decay_km, 15.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--max-message-bytes`.
    pub max_message_bytes: Option<usize>,
    /// `--cache-mb` (at least 1).
    pub cache_mb: Option<u64>,
    /// `--min-free-disk-mb`.
    pub min_free_disk_mb: Option<u64>,
    /// `--rank-threads`.
    pub rank_threads: Option<usize>,
    /// `--demo`.
    pub demo: Option<bool>,
    /// `--audit-retention-days` (at least 1).
    pub audit_retention_days: Option<u32>,
    /// `--shutdown-grace`, seconds.
    pub shutdown_grace_secs: Option<f64>,
    /// `--metrics-listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// `--log-format`: `text` or `json`.
    pub log_format: Option<LogFormat>,
    /// `--admin-token-file`.
    pub admin_token_file: Option<PathBuf>,
    /// `--id-key-file`.
    pub id_key_file: Option<PathBuf>,
    /// `[rate_limit]`.
    pub rate_limit: RateLimitFile,
    /// `[tls]`.
    pub tls: TlsFile,
    /// `[batch]`.
    pub batch: BatchFile,
    /// `[backup]`.
    pub backup: BackupFile,
    /// `[matching]`: score weights and constants.
    pub matching: MatchConfig,
    /// `[policy]`: the policy rules.
    pub policy: PolicyConfig,
}

/// `[rate_limit]`: `--rate-limit`, `--rate-burst`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitFile {
    /// Calls per second per token; 0 for no limit.
    pub per_second: Option<f64>,
    /// Calls at once after a quiet spell.
    pub burst: Option<f64>,
}

/// `[tls]`: `--tls-cert`, `--tls-key`, `--insecure`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsFile {
    /// PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
    /// Plaintext on a non-loopback address.
    pub insecure: Option<bool>,
}

/// `[batch]`: the nightly schedule and the run settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchFile {
    /// `--batch-at`, HH:MM.
    pub at: Option<String>,
    /// `--batch-timezone`, an IANA name.
    pub timezone: Option<String>,
    /// `false` is `--no-schedule`.
    pub schedule: Option<bool>,
    /// `--candidates-per-worker` (1 to 10,000).
    pub candidates_per_worker: Option<u32>,
    /// `--keep-runs` (at least 1).
    pub keep_runs: Option<u32>,
    /// `--audit-dir`.
    pub audit_dir: Option<PathBuf>,
    /// `--batch-apply`: `auto` proposes a scheduled run at once, `manual`
    /// stages it for review.
    pub apply: Option<ApplyMode>,
    /// `--batch-max-age-hours`.
    pub max_age_hours: Option<u32>,
}

/// `[backup]`: daily backups (`--backup-dir`, `--backup-at`,
/// `--backup-keep`); none unless `dir` is set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupFile {
    /// `--backup-dir`.
    pub dir: Option<PathBuf>,
    /// `--backup-at`, HH:MM in `[batch] timezone`.
    pub at: Option<String>,
    /// `--backup-keep` (at least 1).
    pub keep: Option<u32>,
}

impl FileConfig {
    /// Parses the file's text; the error names the bad key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        file.check()?;
        Ok(file)
    }

    /// Reads and parses `path`.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The ranges the flags' parsers check, for the same settings here.
    fn check(&self) -> Result<(), String> {
        fn at_least<T: PartialOrd + std::fmt::Display>(
            key: &str,
            value: Option<T>,
            min: T,
        ) -> Result<(), String> {
            match value {
                Some(v) if v < min => Err(format!("{key}: must be at least {min}, got {v}")),
                _ => Ok(()),
            }
        }
        at_least("cache_mb", self.cache_mb, 1)?;
        at_least("audit_retention_days", self.audit_retention_days, 1)?;
        at_least("batch.keep_runs", self.batch.keep_runs, 1)?;
        at_least("backup.keep", self.backup.keep, 1)?;
        at_least(
            "batch.candidates_per_worker",
            self.batch.candidates_per_worker,
            1,
        )?;
        if self.batch.candidates_per_worker.is_some_and(|n| n > 10_000) {
            return Err("batch.candidates_per_worker: must be at most 10000".into());
        }
        for (key, value) in [
            ("shutdown_grace_secs", self.shutdown_grace_secs),
            ("rate_limit.per_second", self.rate_limit.per_second),
            ("rate_limit.burst", self.rate_limit.burst),
        ] {
            if value.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                return Err(format!("{key}: must be a number >= 0"));
            }
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err("tls: cert and key go together".into());
        }
        self.matching.clone().normalised()?;
        self.policy.check()?;
        Ok(())
    }
}
