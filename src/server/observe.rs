//! One log line and one count per request, as a tower layer outermost in
//! the stack: it sees every reply, refusals of the access layer and calls
//! cut by the drain included.
//!
//! The line is written when the call ends: for a unary call when its reply
//! has been sent, for a stream when its trailers go out (or when the client
//! goes away: CANCELLED). It carries the method, the gRPC code, the latency
//! and the token id (the public half of a token, never its secret), and no
//! field of a request: names, phones and ids of people stay out of logs.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tonic::Code;

use crate::api::auth::{is_known_method, TokenId};
use crate::api::layer::{BoxFuture, GrpcRequest, Inner, Middleware, Reply};

/// The middleware (a tower layer through [`crate::api::layer::Wrap`]);
/// see the module doc.
#[derive(Clone, Copy, Default)]
pub struct Observe;

impl Middleware for Observe {
    fn call<S: Inner>(&self, mut inner: S, request: GrpcRequest) -> BoxFuture<Reply, S::Error> {
        let path = request.uri().path();
        // Paths of no service are counted under one name: a client
        // inventing paths must not grow the metrics without bound.
        let method = if is_known_method(path) {
            path.to_string()
        } else {
            "unknown".to_string()
        };
        let started = Instant::now();
        Box::pin(async move {
            let response = inner.call(request).await?;
            let mut call = Call {
                method,
                token_id: response.extensions().get::<TokenId>().map(|t| t.0.clone()),
                started,
                done: false,
            };
            // A refusal or a handler's error is a trailers-only reply:
            // the code is in the headers and the body is empty.
            if let Some(code) = grpc_status(response.headers()) {
                call.finish(code);
                return Ok(response);
            }
            let (parts, body) = response.into_parts();
            if body.is_end_stream() {
                call.finish(Code::Ok);
                return Ok(http::Response::from_parts(parts, body));
            }
            let body = ObserveBody { inner: body, call };
            Ok(http::Response::from_parts(
                parts,
                tonic::body::Body::new(body),
            ))
        })
    }
}

fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map(Code::from_i32)
}

/// A call being answered, logged and counted once when it ends.
struct Call {
    method: String,
    token_id: Option<String>,
    started: Instant,
    done: bool,
}

impl Call {
    fn finish(&mut self, code: Code) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        let (service, method) = split(&self.method);
        let code_name = code_name(code);
        tracing::info!(
            target: "jobbridge::request",
            method = %self.method,
            code = code_name,
            latency_ms = (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
            token_id = self.token_id.as_deref().unwrap_or("-"),
            "request"
        );
        let labels = [
            ("service", service.to_string()),
            ("method", method.to_string()),
            ("code", code_name.to_string()),
        ];
        metrics::counter!(crate::telemetry::REQUESTS, &labels).increment(1);
        metrics::histogram!(
            crate::telemetry::REQUEST_SECONDS,
            "service" => service.to_string(),
            "method" => method.to_string()
        )
        .record(elapsed.as_secs_f64());
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // The body went away before its trailers: the client left.
        self.finish(Code::Cancelled);
    }
}

/// `("jobbridge.v1.Workers", "GetWorker")` of `/jobbridge.v1.Workers/GetWorker`.
fn split(path: &str) -> (&str, &str) {
    path.trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""))
}

/// The code as gRPC's documentation spells it (`OK`, `INVALID_ARGUMENT`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A reply body that finishes its [`Call`] with the code of its trailers.
struct ObserveBody {
    inner: tonic::body::Body,
    call: Call,
}

impl Body for ObserveBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    self.call.finish(code);
                }
            }
            Poll::Ready(Some(Err(_))) => self.call.finish(Code::Internal),
            // The end without trailers: tonic always sends them, so this
            // is an OK reply whose status was already in the headers.
            Poll::Ready(None) => self.call.finish(Code::Ok),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            split("/jobbridge.v1.Workers/GetWorker"),
            ("jobbridge.v1.Workers", "GetWorker")
        );
        assert_eq!(split("unknown"), ("unknown", ""));
    }
}
