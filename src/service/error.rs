//! The service layer's one error type. Every transport maps it in one
//! exhaustive place (`api::status::from_service` for gRPC; the CLI prints
//! it), so a new variant fails the build until its meaning is decided.

use crate::batch::BatchError;
use crate::domain::{Lang, Reason, ValidationError};
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

    /// The gRPC status code number of this refusal: what the gRPC face
    /// answers and what every face records in the audit log.
    pub fn grpc_code(&self) -> i32 {
        match self {
            ServiceError::Invalid(_) => 3,
            ServiceError::NotFound(_) => 5,
            ServiceError::AlreadyExists(_) | ServiceError::Duplicate { .. } => 6,
            ServiceError::Forbidden(_) => 7,
            ServiceError::Precondition(_) => 9,
            ServiceError::Unavailable(_) => 14,
            ServiceError::Internal(_) => 13,
        }
    }

    /// The refusal for a person reading `lang`: a field's reason and a
    /// duplicate in their words, other messages as the service wrote them
    /// (they name records and states); an internal fault without detail.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            ServiceError::Invalid(v) => v.text(lang),
            ServiceError::Duplicate { kind, field } => {
                format!("{field}: {}", Self::duplicate_reason(kind, lang))
            }
            ServiceError::Internal(_) => lang.pick("服务器内部错误", "internal error").to_string(),
            other => other.to_string(),
        }
    }

    /// Why a unique value is refused: it belongs to another record of
    /// `kind`.
    pub fn duplicate_reason(kind: &str, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!("该值已登记在另一条{}记录上", kind_text(kind, lang)),
            Lang::En => format!("value already registered to another {kind}"),
        }
    }

    /// A row of an import refused by the service, for people: the field
    /// it names (empty when none) and the reason in `lang`.
    pub fn row_refusal(&self, lang: Lang) -> (String, String) {
        match self {
            ServiceError::Duplicate { kind, field } => {
                ((*field).to_string(), Self::duplicate_reason(kind, lang))
            }
            ServiceError::Invalid(v) => (v.field.clone(), v.reason.text(lang).to_string()),
            other => (String::new(), other.text(lang)),
        }
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

/// A record kind (`worker`, `opening`, ...) in `lang`.
fn kind_text(kind: &str, lang: Lang) -> &str {
    let zh = match kind {
        "worker" => "劳动力",
        "opening" => "岗位",
        "household" => "家庭",
        "placement" => "就业安置",
        "run" => "批量匹配",
        "token" => "令牌",
        _ => return kind,
    };
    lang.pick(zh, kind)
}
