//! The gRPC face of the access rules (`service::access`: authentication,
//! the permission table, rate limits and the audit log), as one tower
//! layer in front of every service.
//!
//! Every call but the health and reflection services must carry
//! `authorization: Bearer <token>` (a probe has no token, and reflection
//! only tells the API's shape, whose protos are public in this repository). A missing, malformed, unknown or revoked token gets
//! UNAUTHENTICATED. A valid token whose role may not call the method gets
//! PERMISSION_DENIED, and one that calls too often RESOURCE_EXHAUSTED.
//! Otherwise the caller goes into the request's extensions; handlers pass
//! it to the service, which checks the finer scope (a service company's
//! counties, a recruiter's employer; `service::scope`). Each authenticated
//! call, allowed or not, is queued for the audit log before it runs, so
//! that it is flushed with the writes it makes (see `store::audit`); the
//! reply's status and the handler's target are added after.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::layer::{BoxFuture, GrpcRequest, Inner, Middleware, Reply};
use crate::domain::access::Caller;
pub use crate::service::access::{roles_for, PERMISSIONS};
use crate::service::access::{Audited, Denied};
use crate::service::Service;

/// Paths open to everyone and not audited: the health service (load
/// balancers and probes carry no token) and reflection (the API's shape,
/// no data; grpcurl resolves every method through it, health included).
const OPEN_PREFIXES: &[&str] = &["/grpc.health.v1.Health/", "/grpc.reflection."];

/// The standard methods answered without a token.
const OPEN_METHODS: &[&str] = &[
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// Whether `path` is a method this server has (for the metrics' labels:
/// other paths are counted under one name).
pub fn is_known_method(path: &str) -> bool {
    OPEN_METHODS.contains(&path) || roles_for(path).is_some()
}

/// The id of the token a call was made with, put in the reply's
/// extensions for the request log (the id is public; the secret is not
/// kept anywhere).
#[derive(Debug, Clone)]
pub struct TokenId(pub String);

/// Whether `path` is answered without a token.
pub fn is_open(path: &str) -> bool {
    OPEN_PREFIXES.iter().any(|p| path.starts_with(p))
}

/// The token of an `authorization: Bearer <token>` header.
fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The middleware that admits every gRPC call through the service's
/// access rules (a tower layer as `Wrap(Access::new(service))`).
#[derive(Clone)]
pub struct Access {
    service: Arc<Service>,
}

impl Access {
    /// Admits callers through `service`.
    pub fn new(service: Arc<Service>) -> Self {
        Self { service }
    }
}

impl Middleware for Access {
    fn call<S: Inner>(&self, mut inner: S, mut request: GrpcRequest) -> BoxFuture<Reply, S::Error> {
        let path = request.uri().path().to_string();
        if is_open(&path) {
            return Box::pin(inner.call(request));
        }
        // The token lookup and the audit entry are reads of sled's cache
        // and an append to the audit queue: done inline, as before.
        let (caller, call) = match admit(&self.service, request.headers(), &path) {
            Ok(admitted) => admitted,
            Err((denied, token_id)) => {
                let mut response = denied_status(denied).into_http();
                if let Some(id) = token_id {
                    response.extensions_mut().insert(TokenId(id));
                }
                return Box::pin(async move { Ok(response) });
            }
        };
        let service = self.service.clone();
        Box::pin(async move {
            let token_id = TokenId(caller.token_id.clone());
            request.extensions_mut().insert(caller);
            let mut response = inner.call(request).await?;
            response.extensions_mut().insert(token_id);
            if let Some(call) = call {
                // A handler's error comes back as a trailers-only reply,
                // with the status in the headers; a reply without one is
                // the handler's OK (for a stream: the stream started).
                let code = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .unwrap_or(if response.status() == http::StatusCode::OK {
                        0
                    } else {
                        tonic::Code::Unknown as i32
                    });
                let target = response
                    .extensions()
                    .get::<AuditTarget>()
                    .map_or("", |t| t.0.as_str());
                service.audit(call, target, code);
            }
            Ok(response)
        })
    }
}

/// The caller of a request with these headers, let in to call `path`;
/// or why not, with the token id when the token was valid.
#[allow(clippy::type_complexity)]
fn admit(
    service: &Service,
    headers: &http::HeaderMap,
    path: &str,
) -> Result<(Caller, Option<Audited>), (Denied, Option<String>)> {
    let token = bearer(headers).ok_or_else(|| {
        (
            Denied::Unauthenticated(
                "missing credentials: send the header `authorization: Bearer <token>`".into(),
            ),
            None,
        )
    })?;
    let caller = service.authenticate(token).map_err(|d| (d, None))?;
    match service.admit(&caller, path) {
        Ok(call) => Ok((caller, call)),
        Err(denied) => Err((denied, Some(caller.token_id))),
    }
}

/// The status of a refusal.
fn denied_status(denied: Denied) -> Status {
    match denied {
        Denied::Unauthenticated(m) => Status::unauthenticated(m),
        Denied::PermissionDenied(m) => Status::permission_denied(m),
        Denied::RateLimited(m) => Status::resource_exhausted(m),
        Denied::Internal => Status::internal("internal storage error"),
    }
}

/// What a call touched, for the audit log: handlers put it in the reply's
/// extensions (`worker w-1`, `placement P000000000001`).
#[derive(Debug, Clone)]
pub(crate) struct AuditTarget(pub String);

/// Adds an audit target to a reply.
pub(crate) fn audited<T>(mut response: Response<T>, target: impl Into<String>) -> Response<T> {
    response.extensions_mut().insert(AuditTarget(target.into()));
    response
}

/// The authenticated caller of a request (put there by the layer).
pub(crate) fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("missing credentials"))
}

/// The authenticated caller of a request and its message: how nearly
/// every handler begins.
pub(crate) fn unpack<T>(request: Request<T>) -> Result<(Caller, T), Status> {
    Ok((caller(&request)?, request.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_method_is_in_the_table_once() {
        let descriptor = <prost_types::FileDescriptorSet as prost::Message>::decode(
            super::super::pb::FILE_DESCRIPTOR_SET,
        )
        .unwrap();
        let mut methods = Vec::new();
        for file in &descriptor.file {
            if file.package() != "jobbridge.v1" {
                continue;
            }
            for service in &file.service {
                for m in &service.method {
                    methods.push(format!("/jobbridge.v1.{}/{}", service.name(), m.name()));
                }
            }
        }
        methods.sort();
        let mut table: Vec<String> = PERMISSIONS.iter().map(|(p, _)| p.to_string()).collect();
        table.sort();
        assert_eq!(methods, table);
    }

    #[test]
    fn bearer_headers_are_parsed_strictly() {
        let mut h = http::HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert("authorization", "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert("authorization", "Bearer ".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
