//! The store's one error type.

/// What can go wrong in the store. Expected outcomes of a write (the id is
/// taken, a unique field is used by someone else) are variants the caller
/// maps to a client error; the rest are server faults.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No record with this id.
    #[error("{kind} {id:?} not found")]
    NotFound {
        /// Record kind, e.g. `worker`.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// A create-only write found the id taken.
    #[error("{kind} {id:?} already exists")]
    AlreadyExists {
        /// Record kind.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A unique field's value belongs to another record.
    #[error("{field}: value already registered to another {kind}")]
    Duplicate {
        /// Record kind.
        kind: &'static str,
        /// Field path, e.g. `worker.national_id`.
        field: &'static str,
    },
    /// The request is valid but the records' state does not allow it (an
    /// illegal placement transition, a full opening). The message names the
    /// current state.
    #[error("{0}")]
    Precondition(String),
    /// Stored bytes could not be decoded, or an index disagrees.
    #[error("stored data is corrupt: {0}")]
    Corruption(String),
    /// The data directory was written by an incompatible version.
    #[error("data directory has format version {found}, this build reads version {expected}")]
    FormatVersion {
        /// Version found on disk.
        found: u32,
        /// Version this build reads and writes.
        expected: u32,
    },
    /// The national id key is not the one this data directory's ids were
    /// hashed with. Both are named by the start of their fingerprints.
    #[error(
        "the national id key (fingerprint {given}...) is not the one this data directory \
         was written with (fingerprint {stored}...): start with that key, or the same \
         person could be registered twice"
    )]
    IdKeyMismatch {
        /// Fingerprint of the bound key, shortened.
        stored: String,
        /// Fingerprint of the key given, shortened.
        given: String,
    },
    /// Another process holds the data directory: sled locks it for one
    /// process at a time. Told as such, because the usual cause is a
    /// running server and the fix is to go through it.
    #[error(
        "the data directory {} is in use by a running server{}; use --server \
         (or stop the server) and try again",
        dir.display(),
        pid.map_or_else(String::new, |p| format!(" (pid {p}?)"))
    )]
    InUse {
        /// The directory.
        dir: std::path::PathBuf,
        /// The pid the server recorded at its start, if it did.
        pid: Option<u32>,
    },
    /// sled failed (I/O error, or a bug in sled).
    #[error("storage backend: {0}")]
    Backend(#[from] sled::Error),
    /// A flush failed; the write may not be durable.
    #[error("flush to disk failed: {0}")]
    Flush(String),
    /// The data directory's disk is (nearly) full: the write was refused
    /// before anything of it was applied (see `store::gate`).
    #[error(
        "the server's disk is full (data directory {}: {} MiB free, {} MiB kept in reserve): \
         writes are refused until space is freed; reads go on",
        dir.display(),
        free_bytes / (1024 * 1024),
        reserve_bytes / (1024 * 1024)
    )]
    DiskFull {
        /// The data directory.
        dir: std::path::PathBuf,
        /// Bytes free when the write came.
        free_bytes: u64,
        /// Bytes kept in reserve.
        reserve_bytes: u64,
    },
    /// The store is shutting down.
    #[error("store is closed")]
    Closed,
    /// A backup file cannot be restored: it is not a jobbridge backup, it
    /// is truncated or damaged, or a newer version made it. The reason
    /// starts with which (`truncated: ...`, `checksum mismatch: ...`).
    #[error("backup file {}: {reason}", file.display())]
    BadBackup {
        /// The file.
        file: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing a backup, or a restore's directory, failed (the disk, the
    /// permissions, a client that went away).
    #[error("{0}")]
    Backup(String),
}

impl StoreError {
    /// A `NotFound` for `kind` and `id`.
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        StoreError::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// A `Precondition` with a message.
    pub fn precondition(message: impl Into<String>) -> Self {
        StoreError::Precondition(message.into())
    }

    /// A `Corruption` with a message.
    pub fn corruption(message: impl Into<String>) -> Self {
        StoreError::Corruption(message.into())
    }
}

/// Every refusal of the placement rules is a precondition, its message the
/// domain's as it is: clients (and tests) read which state stood in the way.
/// [`StepRefused::Dangling`] is the exception, a fault the store reports as
/// corruption before it gets here.
///
/// [`StepRefused::Dangling`]: crate::domain::placement::StepRefused::Dangling
impl From<crate::domain::placement::StepRefused> for StoreError {
    fn from(refused: crate::domain::placement::StepRefused) -> Self {
        use crate::domain::placement::StepRefused;
        match refused {
            StepRefused::Dangling { .. } => StoreError::corruption(refused.to_string()),
            refused => StoreError::precondition(refused.to_string()),
        }
    }
}
