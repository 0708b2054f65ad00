//! Backups of a running store, and restores into a new directory.
//!
//! **A consistent copy.** [`Store::backup`] shuts the write gate
//! (`gate::Gate::pause`): the writes already inside finish, new ones wait,
//! and the trees are copied into memory, raw keys and values, while no
//! transaction is half applied. Every write answered OK before the backup
//! began was applied before its flush, so it is in the copy; no part of a
//! transaction is. The gate opens again as soon as the copy is made, and
//! only then is the copy compressed and written out, so writes wait for a
//! copy in memory, never for the disk or the network (the pause is logged
//! as `pause_ms`). Reads never wait.
//!
//! **One file** ([`format`]): a header (magic, backup format, store format,
//! time, counts), the trees compressed with zstd, and a trailer with the
//! counts again and a SHA-256 of the header and the uncompressed body. A
//! file cut short or with any byte changed is refused. The national id key
//! is not in it (it is not in sled): whoever restores needs the same key.
//!
//! **Restore** ([`restore()`]) reads and checks the whole file before it
//! creates anything, writes into a new or empty directory only, syncs it,
//! and opens and checks the result as `jobbridge check` does; if anything
//! fails after the directory was made, what it made is removed.

mod file;
mod format;
mod read;
mod restore;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::{Store, StoreError, FORMAT_KEY, FORMAT_VERSION};
use format::{Header, TreeCopy};

pub use file::{PartialFile, PARTIAL_SUFFIX};
pub use restore::{restore, RestoreSummary};

/// What [`Store::backup`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// When the copy was taken (the gate's pause), ms since the epoch.
    pub created_at_ms: i64,
    /// sled trees copied.
    pub trees: u32,
    /// Keys copied, over all trees.
    pub entries: u64,
    /// The body's bytes before compression.
    pub body_bytes: u64,
    /// The file's bytes.
    pub file_bytes: u64,
    /// How long writes waited: from asking for the pause (new writes
    /// wait from then on) to its end.
    pub pause: Duration,
    /// The whole backup, the pause included.
    pub elapsed: Duration,
}

/// A backup file as [`verify_backup`] found it: sound, and holding this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// When the copy was taken, ms since the epoch.
    pub created_at_ms: i64,
    /// The store's format version in the copy.
    pub store_format: u32,
    /// sled trees.
    pub trees: u32,
    /// Keys, over all trees.
    pub entries: u64,
    /// The body's bytes before compression.
    pub body_bytes: u64,
    /// The file's bytes.
    pub file_bytes: u64,
}

impl Store {
    /// Writes a consistent backup of the whole store to `out` (see the
    /// module doc), while other threads go on reading and writing: writes
    /// wait only while the trees are copied into memory.
    ///
    /// ```
    /// use jobbridge::store::{restore, verify_backup, Store};
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = Store::open(&dir.path().join("data")).unwrap();
    /// let file = dir.path().join("data.jbbackup");
    /// let summary = store.backup(std::fs::File::create(&file).unwrap()).unwrap();
    /// assert_eq!(verify_backup(&file).unwrap().entries, summary.entries);
    /// let restored = restore(&file, &dir.path().join("restored")).unwrap();
    /// assert_eq!(restored.entries, summary.entries);
    /// ```
    pub fn backup(&self, out: impl Write) -> Result<BackupSummary, StoreError> {
        let started = Instant::now();
        // The audit entries of calls answered so far go into their tree
        // first (they wait in memory otherwise), so the copy has them.
        match self.audit_log.write_queued() {
            Ok(()) | Err(StoreError::DiskFull { .. }) => {}
            Err(e) => return Err(e),
        }
        let asked = Instant::now();
        let paused = self.disk.gate().pause();
        let copy_began = Instant::now();
        let created_at_ms = super::now_ms();
        let copied = self.copy_trees();
        drop(paused);
        let pause = asked.elapsed();
        let (trees, store_format) = copied?;
        let header = Header {
            store_format,
            created_at_ms,
            trees: trees.len() as u32,
            entries: trees.iter().map(|t| t.entries).sum(),
            body_bytes: 1 + trees.iter().map(TreeCopy::body_bytes).sum::<u64>(),
        };
        tracing::info!(
            pause_ms = pause.as_millis() as u64,
            copy_ms = copy_began.elapsed().as_millis() as u64,
            trees = header.trees,
            entries = header.entries,
            body_bytes = header.body_bytes,
            "backup: trees copied, writes go on"
        );
        let file_bytes = format::write(out, header, &trees)
            .map_err(|e| StoreError::Backup(format!("cannot write the backup: {e}")))?;
        drop(trees);
        let summary = BackupSummary {
            created_at_ms: header.created_at_ms,
            trees: header.trees,
            entries: header.entries,
            body_bytes: header.body_bytes,
            file_bytes,
            pause,
            elapsed: started.elapsed(),
        };
        tracing::info!(
            pause_ms = summary.pause.as_millis() as u64,
            elapsed_ms = summary.elapsed.as_millis() as u64,
            entries = summary.entries,
            file_bytes,
            "backup written"
        );
        Ok(summary)
    }

    /// [`Store::backup`] into the file `path`, which appears only once it
    /// is whole and read back sound ([`PartialFile`]); an existing file of
    /// that name is replaced then.
    pub fn backup_to_file(&self, path: &Path) -> Result<BackupSummary, StoreError> {
        let mut file = PartialFile::create(path)?;
        let summary = self.backup(BufWriter::with_capacity(1 << 20, &mut file))?;
        file.commit()?;
        Ok(summary)
    }

    /// Every tree, raw, and the format version: called with the gate shut.
    fn copy_trees(&self) -> Result<(Vec<TreeCopy>, u32), StoreError> {
        let store_format = match self.meta.get(FORMAT_KEY)? {
            Some(v) => u32::from_be_bytes(
                v.as_ref()
                    .try_into()
                    .map_err(|_| StoreError::corruption("format version is not 4 bytes"))?,
            ),
            None => FORMAT_VERSION,
        };
        let mut names = self.db.tree_names();
        names.sort();
        let mut trees = Vec::with_capacity(names.len());
        for name in names {
            let mut copy = TreeCopy::new(&name);
            for entry in self.db.open_tree(&name)?.iter() {
                let (key, value) = entry?;
                copy.push(&key, &value);
            }
            trees.push(copy);
        }
        Ok((trees, store_format))
    }
}

/// Reads the backup file at `path` whole and checks it (magic, versions,
/// length, checksums, counts) without writing anything.
/// [`StoreError::BadBackup`] says what is wrong with it.
pub fn verify_backup(path: &Path) -> Result<BackupInfo, StoreError> {
    let contents = read::read(path, |_| Ok(()))?;
    Ok(BackupInfo {
        created_at_ms: contents.header.created_at_ms,
        store_format: contents.header.store_format,
        trees: contents.header.trees,
        entries: contents.header.entries,
        body_bytes: contents.header.body_bytes,
        file_bytes: contents.file_bytes,
    })
}
