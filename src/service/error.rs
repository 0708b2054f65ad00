//! The service layer's one error type. Every transport maps it in one
//! exhaustive place (`api::status::from_service` for gRPC; the CLI prints
//! it), so a new variant fails the build until its meaning is decided.

use crate::batch::BatchError;
use crate::domain::{Reason, ValidationError};
use crate::store::StoreError;

/// Why a service call did not do what was asked. Messages are for people:
/// they name the record and the rule, never internals or personal data.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field of the request is invalid.
    #[error("{}: {}", .0.field, .0.reason)]
    Invalid(ValidationError),
    /// The record (worker, opening, household, placement, run) does not
    /// exist.
    #[error("{0}")]
    NotFound(String),
    /// A create-only write found the id taken.
    #[error("{0}")]
    AlreadyExists(String),
    /// A unique field's value belongs to another record.
    #[error("{field}: value already registered to another {kind}")]
    Duplicate {
        /// Record kind.
        kind: &'static str,
        /// Field path, e.g. `worker.national_id`.
        field: &'static str,
    },
    /// The caller's role or scope does not cover the record.
    #[error("{0}")]
    Forbidden(String),
    /// The request is valid, but the state of the records does not allow
    /// it now; the message names the state.
    #[error("{0}")]
    Precondition(String),
    /// The service is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// A fault of the server (storage, audit files, a failed self-check).
    /// Logged where it is mapped; clients get no detail.
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// Whether the error is a refusal read from stored state (a taken id,
    /// a full opening, a missing record), which a write not yet flushed
    /// may have made: such a refusal is told only once that state is
    /// durable ([`super::Service::settle`]).
    pub fn rests_on_state(&self) -> bool {
        match self {
            ServiceError::NotFound(_)
            | ServiceError::AlreadyExists(_)
            | ServiceError::Duplicate { .. }
            | ServiceError::Forbidden(_)
            | ServiceError::Precondition(_) => true,
            ServiceError::Invalid(_) | ServiceError::Unavailable(_) | ServiceError::Internal(_) => {
                false
            }
        }
    }

    /// A `NotFound` in the store's words (`worker "w-1" not found`).
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        StoreError::not_found(kind, id).into()
    }

    /// A `Precondition` with a message.
    pub fn precondition(message: impl Into<String>) -> Self {
        ServiceError::Precondition(message.into())
    }

    /// An `Invalid` naming `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<Reason>) -> Self {
        ServiceError::Invalid(ValidationError::new(field, reason))
    }
}

impl From<ValidationError> for ServiceError {
    fn from(e: ValidationError) -> Self {
        ServiceError::Invalid(e)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ServiceError::NotFound(e.to_string()),
            StoreError::AlreadyExists { .. } => ServiceError::AlreadyExists(e.to_string()),
            StoreError::Duplicate { kind, field } => ServiceError::Duplicate { kind, field },
            StoreError::Precondition(m) => ServiceError::Precondition(m),
            StoreError::Closed => ServiceError::Unavailable("server is shutting down".into()),
            StoreError::InUse { .. } | StoreError::DiskFull { .. } => {
                ServiceError::Unavailable(e.to_string())
            }
            StoreError::Corruption(_)
            | StoreError::FormatVersion { .. }
            | StoreError::IdKeyMismatch { .. }
            | StoreError::Backend(_)
            | StoreError::Flush(_)
            | StoreError::BadBackup { .. }
            | StoreError::Backup(_) => ServiceError::Internal(e.to_string()),
        }
    }
}

impl From<BatchError> for ServiceError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::NotFound(_) => ServiceError::NotFound(e.to_string()),
            BatchError::Busy(_) | BatchError::WrongState { .. } => {
                ServiceError::Precondition(e.to_string())
            }
            BatchError::Store(e) => e.into(),
            BatchError::Audit(_) | BatchError::Check(_) => ServiceError::Internal(e.to_string()),
        }
    }
}
