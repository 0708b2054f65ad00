//! Backups: the one the `Backup` RPC streams, and the daily ones that
//! `serve --backup-dir` writes (see `store::backup` for what a backup
//! holds and how it stays consistent while writes go on).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Result, Service};
use crate::config::BackupSchedule;
use crate::store::{BackupSummary, Store, PARTIAL_SUFFIX};
use crate::telemetry as names;

/// Names of scheduled backup files: `jobbridge-<UTC time>.jbbackup`, so
/// that their names sort as their times.
const PREFIX: &str = "jobbridge-";
const SUFFIX: &str = ".jbbackup";
const TIME: &str = "%Y%m%dT%H%M%SZ";
/// How often the age of the last backup is set while waiting.
const AGE_TICK: Duration = Duration::from_secs(15);

impl Service {
    /// Writes a backup of the store to `out`, on tokio's blocking pool:
    /// writes wait only while the trees are copied into memory, and the
    /// copy is compressed and written after (see `store::backup`).
    pub async fn backup(
        self: &Arc<Self>,
        out: impl Write + Send + 'static,
    ) -> Result<BackupSummary> {
        self.blocking(move |s| Ok(s.store().backup(out)?)).await
    }

    /// Takes a backup into `plan.dir` at `plan.at` every day, keeps the
    /// newest `plan.keep` files and removes older ones. A failure is
    /// logged, and the next day's backup is tried as usual. Sets the
    /// backup metrics after each success, and their age every
    /// [`AGE_TICK`].
    pub async fn scheduled_backups(self: Arc<Self>, plan: BackupSchedule) {
        let store = self.store().clone();
        let dir = plan.dir.clone();
        let mut last = match tokio::task::spawn_blocking(move || prepare(&store, &dir)).await {
            Ok(Ok(last)) => last,
            Ok(Err(e)) => {
                tracing::error!(dir = %plan.dir.display(), error = %e, "scheduled backups: cannot use the backup directory");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "scheduled backups: task failed");
                None
            }
        };
        if let Some(at) = last {
            metrics::gauge!(names::BACKUP_LAST_SUCCESS).set(at.timestamp() as f64);
        }
        loop {
            let next = plan.at.next_after(Utc::now());
            tracing::info!(next = %next.with_timezone(&plan.at.tz), dir = %plan.dir.display(), "next scheduled backup");
            loop {
                let now = Utc::now();
                if let Some(at) = last {
                    let age = (now - at).num_milliseconds().max(0) as f64 / 1000.0;
                    metrics::gauge!(names::BACKUP_AGE_SECONDS).set(age);
                }
                if now >= next {
                    break;
                }
                let wait = (next - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait.min(AGE_TICK)).await;
            }
            let (store, plan2) = (self.store().clone(), plan.clone());
            match tokio::task::spawn_blocking(move || backup_now(&store, &plan2)).await {
                Ok(Ok((path, at))) => {
                    tracing::info!(file = %path.display(), "scheduled backup written");
                    last = Some(at);
                    metrics::gauge!(names::BACKUP_LAST_SUCCESS).set(at.timestamp() as f64);
                    metrics::gauge!(names::BACKUP_AGE_SECONDS).set(0.0);
                }
                Ok(Err(e)) => tracing::error!(
                    dir = %plan.dir.display(),
                    error = %e,
                    "scheduled backup failed; the server goes on, the next is tried at its time"
                ),
                Err(e) => tracing::error!(error = %e, "scheduled backup task failed"),
            }
        }
    }
}

/// Creates the backup directory if needed, removes `.partial` files an
/// interrupted backup left, warns if the directory shares the data
/// directory's disk, and returns the time of the newest backup there.
fn prepare(store: &Store, dir: &Path) -> std::io::Result<Option<DateTime<Utc>>> {
    std::fs::create_dir_all(dir)?;
    for name in ours(dir)? {
        if name.ends_with(PARTIAL_SUFFIX) {
            let _ = std::fs::remove_file(dir.join(&name));
        }
    }
    if same_disk(store.dir(), dir) {
        tracing::warn!(
            dir = %dir.display(),
            "the backup directory is on the data directory's disk: copy the backups \
             elsewhere, or a lost disk takes both"
        );
    }
    Ok(backups(dir)?.last().and_then(|name| time_of(name)))
}

#[cfg(unix)]
fn same_disk(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_disk(_: &Path, _: &Path) -> bool {
    false
}

/// One scheduled backup: written, checked, named by its time; then the
/// files past `plan.keep` are removed, oldest first.
fn backup_now(
    store: &Store,
    plan: &BackupSchedule,
) -> std::result::Result<(PathBuf, DateTime<Utc>), crate::store::StoreError> {
    let at = Utc::now();
    let path = plan.dir.join(file_name(at));
    let summary = store.backup_to_file(&path)?;
    tracing::info!(
        file = %path.display(),
        file_bytes = summary.file_bytes,
        entries = summary.entries,
        pause_ms = summary.pause.as_millis() as u64,
        elapsed_ms = summary.elapsed.as_millis() as u64,
        "scheduled backup: file checked"
    );
    if let Err(e) = prune(&plan.dir, plan.keep) {
        tracing::warn!(dir = %plan.dir.display(), error = %e, "cannot remove old backups");
    }
    Ok((path, at))
}

fn file_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(TIME))
}

fn time_of(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    chrono::NaiveDateTime::parse_from_str(stamp, TIME)
        .ok()
        .map(|t| t.and_utc())
}

/// Names in `dir` that scheduled backups write (finished or partial).
fn ours(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let stem = name.strip_suffix(PARTIAL_SUFFIX).unwrap_or(&name);
        if time_of(stem).is_some() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Finished scheduled backups in `dir`, oldest first.
fn backups(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = ours(dir)?
        .into_iter()
        .filter(|n| !n.ends_with(PARTIAL_SUFFIX))
        .collect();
    names.sort();
    Ok(names)
}

/// Removes all but the newest `keep` scheduled backups; other files are
/// never touched.
fn prune(dir: &Path, keep: usize) -> std::io::Result<usize> {
    let names = backups(dir)?;
    let old = names.len().saturating_sub(keep);
    for name in &names[..old] {
        std::fs::remove_file(dir.join(name))?;
        tracing::info!(file = %dir.join(name).display(), "old backup removed");
    }
    Ok(old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::schedule::Schedule;

    #[test]
    fn file_names_sort_as_their_times_and_read_back() {
        let a = Utc.with_ymd_and_hms(2026, 3, 9, 19, 0, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 11, 30, 3, 5, 1).unwrap();
        assert!(file_name(a) < file_name(b));
        assert_eq!(file_name(b), "jobbridge-20261130T030501Z.jbbackup");
        assert_eq!(time_of(&file_name(b)), Some(b));
        assert_eq!(time_of("jobbridge-notatime.jbbackup"), None);
    }
    use chrono::TimeZone as _;

    #[test]
    fn scheduled_backups_keep_the_newest_and_touch_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(&root.path().join("data")).unwrap();
        let dir = root.path().join("backups");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
        let old = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        for day in 0..3 {
            let name = file_name(old + chrono::Duration::days(day));
            std::fs::write(dir.join(name), b"an old backup").unwrap();
        }
        std::fs::write(
            dir.join(format!("{}{PARTIAL_SUFFIX}", file_name(old))),
            b"cut",
        )
        .unwrap();
        assert_eq!(
            prepare(&store, &dir).unwrap(),
            Some(old + chrono::Duration::days(2))
        );
        let plan = BackupSchedule {
            dir: dir.clone(),
            at: Schedule::parse("03:00", "Asia/Shanghai").unwrap(),
            keep: 2,
        };
        let (path, _) = backup_now(&store, &plan).unwrap();
        crate::store::verify_backup(&path).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let newest_old = file_name(old + chrono::Duration::days(2));
        let new = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(left, vec![newest_old, new, "notes.txt".to_string()]);
    }
}
