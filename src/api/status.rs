//! The one place where errors become gRPC statuses. Every match is
//! exhaustive, so a new error variant fails the build until its code is
//! decided here.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::ValidationError;
use crate::service::ServiceError;

/// `INVALID_ARGUMENT` naming the field, with a google.rpc.BadRequest detail
/// so that clients can read the field without parsing the message.
/// The reason and message are in the request's language
/// ([`super::lang::current`]).
pub(crate) fn from_validation(e: ValidationError) -> Status {
    let lang = super::lang::current();
    let message = e.text(lang);
    Status::with_error_details(
        Code::InvalidArgument,
        message,
        ErrorDetails::with_bad_request_violation(e.field, e.reason.text(lang)),
    )
}

/// Maps a service error; internal faults are logged here, once, and
/// reported to the client without detail.
pub(crate) fn from_service(e: ServiceError) -> Status {
    let code = Code::from(e.grpc_code());
    let lang = super::lang::current();
    match e {
        ServiceError::Invalid(v) => from_validation(v),
        ServiceError::Duplicate { field, kind } => {
            let reason = ServiceError::duplicate_reason(kind, lang);
            Status::with_error_details(
                code,
                format!("{field}: {reason}"),
                ErrorDetails::with_bad_request_violation(field, reason),
            )
        }
        ServiceError::Internal(ref m) => {
            tracing::error!(error = %m, "internal failure");
            Status::new(code, e.text(lang))
        }
        other => Status::new(code, other.text(lang)),
    }
}

/// So that a handler's `?` maps a rejected request the one way above.
impl From<ValidationError> for Status {
    fn from(e: ValidationError) -> Self {
        from_validation(e)
    }
}

/// So that a handler's `?` on a service call maps its error the one way
/// above.
impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        from_service(e)
    }
}

/// tonic reports a request over the size limit as `OUT_OF_RANGE`; gRPC's
/// convention (and every other implementation) says `RESOURCE_EXHAUSTED`.
pub(crate) fn oversize(status: Status) -> Status {
    if is_oversize(status.code(), status.message()) {
        Status::resource_exhausted(status.message().to_string())
    } else {
        status
    }
}

fn is_oversize(code: Code, message: &str) -> bool {
    code == Code::OutOfRange && message.contains("message length too large")
}

/// Rewrites tonic's `OUT_OF_RANGE` for an oversize unary request into
/// `RESOURCE_EXHAUSTED` on the way out. Unary requests are decoded before
/// the handler runs, so only a layer over the whole server can see it.
pub fn remap_oversize<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers_mut();
    let oversize = headers.get("grpc-status").is_some_and(|v| v == "11")
        && headers
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|m| {
                m.contains("message%20length%20too%20large")
                    || m.contains("message length too large")
            });
    if oversize {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    response
}

/// A required message field that the client left out.
pub(crate) fn required<T>(value: Option<T>, field: &str) -> Result<T, Status> {
    value.ok_or_else(|| from_validation(ValidationError::required(field)))
}
