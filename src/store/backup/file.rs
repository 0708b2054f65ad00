//! A backup file that takes its name only once it is whole: written as
//! `NAME.partial`, synced, read back and checked, then renamed into place
//! and its directory synced. A crash, a full disk or a cut stream leaves
//! at most a `.partial` file, never a file under the final name that
//! would fail its restore.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{verify_backup, BackupInfo};
use crate::store::StoreError;

/// The suffix of a backup file still being written.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// See the module doc. Dropped before [`PartialFile::commit`], it removes
/// the partial file.
#[derive(Debug)]
pub struct PartialFile {
    file: Option<File>,
    partial: PathBuf,
    path: PathBuf,
}

impl PartialFile {
    /// Creates (or empties) `PATH.partial`; `path` itself is not touched
    /// until [`PartialFile::commit`].
    ///
    /// ```
    /// use std::io::Write as _;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("x.jbbackup");
    /// let mut file = jobbridge::store::PartialFile::create(&path).unwrap();
    /// file.write_all(b"not a backup").unwrap();
    /// assert!(file.commit().is_err()); // read back and refused
    /// assert!(!path.exists());
    /// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    /// ```
    pub fn create(path: &Path) -> Result<Self, StoreError> {
        let mut name = path
            .file_name()
            .ok_or_else(|| StoreError::Backup(format!("{} names no file", path.display())))?
            .to_os_string();
        name.push(PARTIAL_SUFFIX);
        let partial = path.with_file_name(name);
        let file = File::create(&partial).map_err(|e| write_error(&partial, e))?;
        Ok(Self {
            file: Some(file),
            partial,
            path: path.to_path_buf(),
        })
    }

    /// The file being written.
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// Syncs the partial file, reads it back whole ([`verify_backup`]),
    /// and only if it is sound renames it to its name and syncs the
    /// directory. On any error the partial file is removed.
    pub fn commit(mut self) -> Result<BackupInfo, StoreError> {
        let file = self.file.take().expect("committed once");
        file.sync_all().map_err(|e| write_error(&self.partial, e))?;
        drop(file);
        let info = verify_backup(&self.partial)?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| write_error(&self.path, e))?;
        sync_parent(&self.path)?;
        Ok(info)
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("not committed").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("not committed").flush()
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        // Not committed (or the commit failed before the rename): nothing
        // under this name is worth keeping.
        if self.file.is_some() || self.partial.exists() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Syncs the directory that holds `path`, so that a file created or
/// renamed there survives a power cut.
pub(crate) fn sync_parent(path: &Path) -> Result<(), StoreError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| write_error(parent, e))
}

pub(crate) fn write_error(path: &Path, e: io::Error) -> StoreError {
    StoreError::Backup(format!("cannot write {}: {e}", path.display()))
}
