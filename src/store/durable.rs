//! Making a flush survive a power cut, not only a killed process.
//!
//! sled 0.34's `flush()` writes its log and ends in `sync_file_range`
//! (sled issue #1452). That call pushes the pages to the device, but it
//! neither persists the file's size nor empties the disk's write cache,
//! and sled calls a real `fsync` only when it writes a snapshot: a power
//! cut simulated with LazyFS lost every write acknowledged since the
//! server started (docs/operating.md, "Durability and storage"). So every flush in
//! the store goes through [`Disk::flush`], which after sled's flush calls
//! `fdatasync` on sled's data file through a handle of its own, and makes
//! durable whatever else sled's recovery needs:
//!
//! - blob files (`blobs/`, values larger than a quarter of a segment),
//!   which sled writes without any sync, and the directory entries that
//!   name them;
//! - the data directory's entries, when a file appears there (the data
//!   file and `conf` when the store is created, a snapshot sled renames
//!   into place).
//!
//! One `fdatasync` serves every writer of a group commit (see
//! `committer`), so the cost is paid per flush, not per write.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::gate::Gate;
use super::StoreError;

/// sled's data file in the data directory (sled's `Config::db_path`).
const DATA_FILE: &str = "db";
/// sled's directory of large values.
const BLOB_DIR: &str = "blobs";

/// sled's database and the fsyncs that make its flushes durable.
pub(crate) struct Disk {
    db: sled::Db,
    gate: Gate,
    state: Mutex<State>,
    /// Flushes begun (under the lock, before sled's flush): for tests.
    started: AtomicU64,
    /// `fdatasync` calls on the data file that succeeded.
    syncs: AtomicU64,
}

/// What the last sync saw of the files, so that only new ones are synced.
struct State {
    dir: PathBuf,
    data: File,
    /// Names in the data directory at the last sync of the directory.
    entries: HashSet<OsString>,
    /// Blob files synced, by name.
    blobs: HashSet<OsString>,
}

impl Disk {
    /// Takes over `db`, opened in `dir`, and makes everything already in
    /// the directory durable (a new store's `conf` and data file, and the
    /// directory entries naming them). Writes keep `min_free` bytes free
    /// on the disk (see `gate`).
    pub(crate) fn open(db: sled::Db, dir: &Path, min_free: u64) -> Result<Self, StoreError> {
        let data = File::open(dir.join(DATA_FILE)).map_err(|e| sync_error(dir, e))?;
        let disk = Disk {
            db,
            gate: Gate::new(dir, min_free),
            state: Mutex::new(State {
                dir: dir.to_path_buf(),
                data,
                entries: HashSet::new(),
                blobs: HashSet::new(),
            }),
            started: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
        };
        {
            let mut state = disk.lock();
            // Files sled wrote without a sync of their own.
            for name in ["conf", DATA_FILE] {
                let path = state.dir.join(name);
                if path.exists() {
                    sync_path(&path)?;
                }
            }
            state.sync(&disk.syncs)?;
        }
        Ok(disk)
    }

    /// The database.
    pub(crate) fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The door every write goes through.
    pub(crate) fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Flushes sled and syncs what it wrote: when this returns `Ok`, every
    /// write applied before the call survives a power cut.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        // The lock orders the syncs with the flushes: a sync that starts
        // after a flush has returned covers it.
        let mut state = self.lock();
        self.started.fetch_add(1, Ordering::SeqCst);
        self.db.flush()?;
        let synced = state.sync(&self.syncs);
        drop(state);
        // What the flush wrote counts against the reserve at once.
        self.gate.recheck();
        synced
    }

    /// `fdatasync` calls on the data file so far.
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }

    /// Flushes begun so far. Flushes run one at a time, so once
    /// [`Disk::syncs`] exceeds what this said after a write, a flush that
    /// began after the write has been synced.
    #[cfg(test)]
    pub(crate) fn flushes_started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while syncing leaves nothing half done in `State` that a
        // later sync would trust: it only remembers what was synced.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn sync(&mut self, syncs: &AtomicU64) -> Result<(), StoreError> {
        self.sync_blobs()?;
        self.data
            .sync_data()
            .map_err(|e| sync_error(&self.dir.join(DATA_FILE), e))?;
        syncs.fetch_add(1, Ordering::SeqCst);
        metrics::counter!(crate::telemetry::STORE_FSYNCS).increment(1);
        self.sync_dir()
    }

    /// Syncs the blob files that appeared since the last sync, then the
    /// blob directory that names them.
    fn sync_blobs(&mut self) -> Result<(), StoreError> {
        let dir = self.dir.join(BLOB_DIR);
        let names = match names(&dir) {
            Ok(names) => names,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(sync_error(&dir, e)),
        };
        let new: Vec<_> = names.difference(&self.blobs).cloned().collect();
        if new.is_empty() {
            // Blobs sled removed are forgotten, so the set stays small.
            self.blobs.retain(|n| names.contains(n));
            return Ok(());
        }
        for name in &new {
            match sync_path(&dir.join(name)) {
                // Removed by sled since the listing: nothing to keep.
                Err(StoreError::Flush(_)) if !dir.join(name).exists() => {}
                other => other?,
            }
        }
        sync_path(&dir)?;
        self.blobs = names;
        Ok(())
    }

    /// Syncs the data directory when its entries changed since the last
    /// sync (a file created or renamed into place).
    fn sync_dir(&mut self) -> Result<(), StoreError> {
        let names = names(&self.dir).map_err(|e| sync_error(&self.dir, e))?;
        if names != self.entries {
            sync_path(&self.dir)?;
            self.entries = names;
        }
        Ok(())
    }
}

fn names(dir: &Path) -> std::io::Result<HashSet<OsString>> {
    std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect()
}

/// `fsync` of a file or directory by path.
fn sync_path(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| sync_error(path, e))
}

fn sync_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Flush(format!("cannot sync {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(dir: &Path) -> Disk {
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .open()
            .unwrap();
        Disk::open(db, dir, 0).unwrap()
    }

    #[test]
    fn every_flush_syncs_the_data_file() {
        let dir = tempfile::tempdir().unwrap();
        let disk = disk(dir.path());
        let before = disk.syncs();
        for i in 0..5u32 {
            disk.db().insert(i.to_be_bytes(), &b"v"[..]).unwrap();
            disk.flush().unwrap();
            assert_eq!(disk.syncs(), before + u64::from(i) + 1);
        }
    }

    #[test]
    fn opening_syncs_the_directory_and_remembers_its_entries() {
        let dir = tempfile::tempdir().unwrap();
        let disk = disk(dir.path());
        let state = disk.lock();
        assert!(state.entries.contains(&OsString::from(DATA_FILE)));
        assert!(state.entries.contains(&OsString::from("conf")));
    }

    #[test]
    fn a_large_value_lands_in_a_synced_blob() {
        let dir = tempfile::tempdir().unwrap();
        let disk = disk(dir.path());
        // Over a quarter of sled's default 512 KiB segment: a blob file.
        disk.db().insert(b"big", vec![7u8; 300 * 1024]).unwrap();
        disk.flush().unwrap();
        let blobs = names(&dir.path().join(BLOB_DIR)).unwrap();
        assert!(!blobs.is_empty(), "sled wrote no blob file");
        assert_eq!(disk.lock().blobs, blobs);
    }

    #[test]
    fn a_new_file_in_the_directory_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let disk = disk(dir.path());
        std::fs::write(dir.path().join("snap.0000000000000001"), b"x").unwrap();
        disk.flush().unwrap();
        assert!(disk
            .lock()
            .entries
            .contains(&OsString::from("snap.0000000000000001")));
    }
}
