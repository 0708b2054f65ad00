//! Restoring a backup file into a new directory: checked whole first,
//! written second, opened and checked last, and removed again if any of
//! that fails after the directory was made.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::file::sync_parent;
use super::read::{self, Item};
use super::verify_backup;
use crate::store::durable::Disk;
use crate::store::{open_db, Store, StoreError, StoreOptions};

/// What [`restore`] restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSummary {
    /// When the backup's copy was taken, ms since the epoch.
    pub created_at_ms: i64,
    /// The store's format version in the backup.
    pub store_format: u32,
    /// sled trees restored.
    pub trees: u32,
    /// Keys restored, over all trees.
    pub entries: u64,
    /// The backup file's bytes.
    pub file_bytes: u64,
    /// Workers in the restored store.
    pub workers: usize,
    /// Openings in the restored store.
    pub openings: usize,
    /// Placements in the restored store.
    pub placements: usize,
    /// Fingerprint of the national id key the store is bound to, if any:
    /// the key is not in the backup, and a server on the restored
    /// directory needs this same key.
    pub id_key_fingerprint: Option<String>,
    /// The whole restore, the checks included.
    pub elapsed: Duration,
}

/// Bytes of keys and values applied to sled in one batch.
const BATCH_BYTES: usize = 4 << 20;
/// sled's page cache while the trees are written, MiB: nothing is read
/// back, and sled takes far more memory than it counts in its cache. A
/// scale-10 restore (670,776 keys, 170 MB) peaked at 1.8 GB with the
/// store's default of 32 MiB and at 0.9 GB with 4; flushing every 8 or
/// 64 MB on the way changed nothing.
const FILL_CACHE_MB: u64 = 4;

/// Restores the backup `file` into `dir`, which must not exist or be
/// empty ([`StoreError::Precondition`] otherwise; nothing is written into
/// a directory that holds anything). The whole file is read and checked
/// before anything is created ([`StoreError::BadBackup`] says what is
/// wrong with it); then the trees are written into a new sled directory,
/// synced, and the result opened with [`Store::open`] and checked with
/// [`Store::verify`], as `jobbridge check` does. If any step after the
/// directory was created fails, what restore created is removed.
///
/// The national id key is not in a backup: serve the restored directory
/// with the key of [`RestoreSummary::id_key_fingerprint`].
pub fn restore(file: &Path, dir: &Path) -> Result<RestoreSummary, StoreError> {
    let started = Instant::now();
    refuse_used(dir)?;
    let info = verify_backup(file)?;
    let made = Made::prepare(dir)?;
    let entries = fill(file, dir)?;
    made.sync()?;
    let store = Store::open(dir)?;
    store.verify()?;
    let summary = RestoreSummary {
        created_at_ms: info.created_at_ms,
        store_format: info.store_format,
        trees: info.trees,
        entries,
        file_bytes: info.file_bytes,
        workers: store.worker_count(),
        openings: store.opening_count(),
        placements: store.placement_count(),
        id_key_fingerprint: store.id_key_fingerprint()?,
        elapsed: Duration::ZERO,
    };
    // Opening may have upgraded an older format: that is durable too.
    store.flush_blocking()?;
    drop(store);
    made.keep();
    let summary = RestoreSummary {
        elapsed: started.elapsed(),
        ..summary
    };
    tracing::info!(
        file = %file.display(),
        dir = %dir.display(),
        entries = summary.entries,
        elapsed_ms = summary.elapsed.as_millis() as u64,
        "backup restored and checked"
    );
    Ok(summary)
}

/// Writes the file's trees into a new sled directory in `dir`, syncs
/// them, and checks that sled holds as many keys per tree as the file;
/// returns the keys written.
fn fill(file: &Path, dir: &Path) -> Result<u64, StoreError> {
    let started = Instant::now();
    let options = StoreOptions::with_cache_mb(FILL_CACHE_MB);
    let disk = Disk::open(open_db(dir, options)?, dir, 0)?;
    let db = disk.db();
    let mut loader = Loader {
        tree: None,
        batch: sled::Batch::default(),
        pending: 0,
    };
    // The file is read (and checked) again as it is written: had it
    // changed since `verify_backup`, the error removes the directory.
    let contents = read::read(file, |item| match item {
        Item::Tree { name } => {
            loader.apply()?;
            loader.tree = Some(db.open_tree(name)?);
            Ok(())
        }
        Item::Entry { key, value } => loader.insert(key, value),
    })?;
    loader.apply()?;
    disk.flush()?;
    for (name, entries) in &contents.trees {
        let found = db.open_tree(name)?.len() as u64;
        if found != *entries {
            return Err(StoreError::corruption(format!(
                "restored tree {:?} holds {found} keys, the backup {entries}",
                String::from_utf8_lossy(name)
            )));
        }
    }
    let entries = contents.trees.iter().map(|(_, n)| n).sum();
    tracing::info!(
        entries,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "restore: trees written and synced; opening and checking the store"
    );
    Ok(entries)
}

/// Batches of one tree's entries on their way into sled.
struct Loader {
    tree: Option<sled::Tree>,
    batch: sled::Batch,
    pending: usize,
}

impl Loader {
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.batch.insert(key, value);
        self.pending += key.len() + value.len();
        if self.pending >= BATCH_BYTES {
            self.apply()?;
        }
        Ok(())
    }

    /// Applies the batch to the current tree.
    fn apply(&mut self) -> Result<(), StoreError> {
        if let Some(tree) = &self.tree {
            tree.apply_batch(std::mem::take(&mut self.batch))?;
        }
        self.pending = 0;
        Ok(())
    }
}

/// Refuses a `dir` that holds anything, or is not a directory.
fn refuse_used(dir: &Path) -> Result<(), StoreError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(StoreError::precondition(format!(
                "{} is not empty: restore writes only into a new or empty directory, \
                 never over data",
                dir.display()
            ))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => Err(StoreError::precondition(format!(
            "{} is not a directory",
            dir.display()
        ))),
        Err(e) => Err(StoreError::Backup(format!(
            "cannot read {}: {e}",
            dir.display()
        ))),
    }
}

/// What restore created, removed when dropped unless kept.
struct Made {
    dir: PathBuf,
    /// The directories created, `dir` first; empty if `dir` existed.
    created: Vec<PathBuf>,
    kept: bool,
}

impl Made {
    /// Creates `dir` (and missing parents), or takes it as it is if it
    /// exists and is empty.
    fn prepare(dir: &Path) -> Result<Self, StoreError> {
        refuse_used(dir)?;
        let created: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .map(Path::to_path_buf)
            .collect();
        fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backup(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            created,
            kept: false,
        })
    }

    /// Syncs the entries of the directories created in their parents.
    fn sync(&self) -> Result<(), StoreError> {
        for dir in &self.created {
            sync_parent(dir)?;
        }
        Ok(())
    }

    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        let removed = match self.created.last() {
            Some(outermost) => fs::remove_dir_all(outermost),
            // It existed and was empty: whatever it holds now is ours.
            None => fs::read_dir(&self.dir).and_then(|entries| {
                for entry in entries {
                    let path = entry?.path();
                    if path.is_dir() {
                        fs::remove_dir_all(&path)?;
                    } else {
                        fs::remove_file(&path)?;
                    }
                }
                Ok(())
            }),
        };
        if let Err(e) = removed {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot remove a failed restore");
        }
    }
}
