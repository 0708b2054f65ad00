//! The daily backup flags of `serve`: off unless `--backup-dir` (or the
//! config file's `[backup] dir`) is given. Kept apart from `flags.rs` so
//! that each group of settings reads on one screen.

use std::path::PathBuf;

use crate::batch::schedule::Schedule;
use crate::config::{BackupFile, BackupSchedule, DEFAULT_BACKUP_AT, DEFAULT_BACKUP_KEEP};

use super::LaunchError;

/// Backup flags of `serve`.
#[derive(clap::Args, Debug)]
pub(super) struct BackupFlags {
    /// Take a backup of the whole store into this directory every day (at
    /// --backup-at), named by its UTC time; put it on another disk. The
    /// national id key is not in it.
    #[arg(long, env = "JOBBRIDGE_BACKUP_DIR", value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Local time of the daily backup, HH:MM, in --batch-timezone.
    #[arg(long, env = "JOBBRIDGE_BACKUP_AT", default_value = DEFAULT_BACKUP_AT)]
    pub backup_at: String,
    /// Daily backups kept; older ones are removed after each new one.
    #[arg(long, env = "JOBBRIDGE_BACKUP_KEEP", default_value_t = DEFAULT_BACKUP_KEEP,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_keep: u32,
}

impl BackupFlags {
    /// The schedule these flags give over `file`'s (a flag wins when
    /// `given` says it was given), in the time zone `zone`; `None` without
    /// a directory.
    pub(super) fn into_schedule(
        self,
        given: impl Fn(&str) -> bool,
        file: BackupFile,
        zone: &str,
    ) -> Result<Option<BackupSchedule>, LaunchError> {
        let Some(dir) = self.backup_dir.or(file.dir) else {
            return Ok(None);
        };
        let at = match file.at {
            Some(at) if !given("backup_at") => at,
            _ => self.backup_at,
        };
        let keep = match file.keep {
            Some(keep) if !given("backup_keep") => keep,
            _ => self.backup_keep,
        };
        if chrono::NaiveTime::parse_from_str(&at, "%H:%M").is_err() {
            return Err(LaunchError::Config(format!(
                "--backup-at must be HH:MM, got {at:?}"
            )));
        }
        let at = Schedule::parse(&at, zone).map_err(LaunchError::Config)?;
        Ok(Some(BackupSchedule {
            dir,
            at,
            keep: keep as usize,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::DEFAULT_BATCH_TIMEZONE;
    use crate::launch::flags::tests::try_config as config;

    #[test]
    fn backups_are_off_without_a_directory_and_take_the_batch_zone() {
        assert_eq!(config(&[]).unwrap().backup, None);
        let c = config(&["--backup-dir", "/b", "--no-schedule"]).unwrap();
        let plan = c.backup.unwrap();
        assert_eq!(plan.dir, std::path::PathBuf::from("/b"));
        assert_eq!(plan.at.at.to_string(), "03:00:00");
        assert_eq!(plan.at.tz.name(), DEFAULT_BATCH_TIMEZONE);
        assert_eq!(plan.keep, 7);
        let c = config(&[
            "--backup-dir",
            "/b",
            "--backup-at",
            "04:30",
            "--backup-keep",
            "3",
            "--batch-timezone",
            "Asia/Urumqi",
        ])
        .unwrap();
        let plan = c.backup.unwrap();
        assert_eq!(
            (
                plan.at.at.to_string().as_str(),
                plan.at.tz.name(),
                plan.keep
            ),
            ("04:30:00", "Asia/Urumqi", 3)
        );
        let e = config(&["--backup-dir", "/b", "--backup-at", "4h"]).unwrap_err();
        assert!(e.to_string().contains("--backup-at"), "{e}");
    }

    #[test]
    fn the_config_files_backup_table_is_read_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jobbridge.toml");
        std::fs::write(&file, "[backup]\ndir = \"/f\"\nat = \"01:15\"\nkeep = 2\n").unwrap();
        let path = file.to_str().unwrap();
        let plan = config(&["--config", path]).unwrap().backup.unwrap();
        assert_eq!(plan.dir, std::path::PathBuf::from("/f"));
        assert_eq!(
            (plan.at.at.to_string().as_str(), plan.keep),
            ("01:15:00", 2)
        );
        let plan = config(&["--config", path, "--backup-keep", "9", "--backup-dir", "/g"])
            .unwrap()
            .backup
            .unwrap();
        assert_eq!(plan.dir, std::path::PathBuf::from("/g"));
        assert_eq!(
            (plan.at.at.to_string().as_str(), plan.keep),
            ("01:15:00", 9)
        );
    }
}
