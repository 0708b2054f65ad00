//! Authentication, the permission table, rate limits and the audit log, as
//! one tower layer in front of every service.
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

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use tonic::{Request, Response, Status};

use crate::config::RateLimit;
use crate::domain::access::{Caller, Role};
use crate::store::{AuditEntry, Store};

use Role::{Admin, Reader, Recruiter, ServiceCompany};

const ADMIN: &[Role] = &[Admin];
const COMPANY: &[Role] = &[Admin, ServiceCompany];
const COMPANY_OR_RECRUITER: &[Role] = &[Admin, ServiceCompany, Recruiter];
const REPORTS: &[Role] = &[Admin, ServiceCompany, Reader];

/// Which roles may call each RPC. The finer scope is checked by the
/// service (`service::scope`); README's permission table says the same in
/// words.
pub const PERMISSIONS: &[(&str, &[Role])] = &[
    ("/jobbridge.v1.Workers/CreateWorker", COMPANY),
    ("/jobbridge.v1.Workers/UpsertWorker", COMPANY),
    ("/jobbridge.v1.Workers/UpdateWorker", COMPANY),
    ("/jobbridge.v1.Workers/GetWorker", COMPANY),
    ("/jobbridge.v1.Workers/DeleteWorker", COMPANY),
    ("/jobbridge.v1.Workers/ListWorkers", COMPANY),
    ("/jobbridge.v1.Workers/ImportWorkers", COMPANY),
    ("/jobbridge.v1.Workers/GetHousehold", COMPANY),
    ("/jobbridge.v1.Openings/CreateOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/UpsertOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/UpdateOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/GetOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/CloseOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/ListOpenings", COMPANY_OR_RECRUITER),
    (
        "/jobbridge.v1.Openings/ImportOpenings",
        COMPANY_OR_RECRUITER,
    ),
    ("/jobbridge.v1.Matching/MatchOpeningsForWorker", COMPANY),
    (
        "/jobbridge.v1.Matching/MatchWorkersForOpening",
        COMPANY_OR_RECRUITER,
    ),
    ("/jobbridge.v1.Matching/ExplainMatch", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Batch/StartRun", ADMIN),
    // A service company reads its counties' part (`service::scope::run_view`).
    ("/jobbridge.v1.Batch/GetRun", COMPANY),
    ("/jobbridge.v1.Batch/ListRuns", COMPANY),
    ("/jobbridge.v1.Batch/CancelRun", ADMIN),
    ("/jobbridge.v1.Batch/ApplyRun", COMPANY),
    ("/jobbridge.v1.Batch/DiffRun", COMPANY),
    // Every county's rows: a service company reads its own through DiffRun.
    ("/jobbridge.v1.Batch/StreamAssignments", ADMIN),
    ("/jobbridge.v1.Batch/StreamChanges", ADMIN),
    ("/jobbridge.v1.Batch/DownloadAudit", ADMIN),
    ("/jobbridge.v1.PlacementService/Propose", COMPANY),
    ("/jobbridge.v1.PlacementService/Accept", COMPANY),
    ("/jobbridge.v1.PlacementService/Decline", COMPANY),
    ("/jobbridge.v1.PlacementService/RecordHire", COMPANY),
    ("/jobbridge.v1.PlacementService/RecordSeparation", COMPANY),
    ("/jobbridge.v1.PlacementService/RecordCheckIn", COMPANY),
    ("/jobbridge.v1.PlacementService/Get", COMPANY),
    ("/jobbridge.v1.PlacementService/List", COMPANY),
    ("/jobbridge.v1.PlacementService/GetHistory", COMPANY),
    ("/jobbridge.v1.PlacementService/ListDueCheckIns", COMPANY),
    ("/jobbridge.v1.ReportService/Coverage", REPORTS),
    ("/jobbridge.v1.ReportService/PolicyLists", REPORTS),
    ("/jobbridge.v1.AdminService/CreateToken", ADMIN),
    ("/jobbridge.v1.AdminService/ListTokens", ADMIN),
    ("/jobbridge.v1.AdminService/RevokeToken", ADMIN),
    ("/jobbridge.v1.AdminService/ListAuditLog", ADMIN),
    ("/jobbridge.v1.AdminService/Backup", ADMIN),
];

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

/// The roles allowed to call `path`; `None` for a path not in the table.
pub fn roles_for(path: &str) -> Option<&'static [Role]> {
    PERMISSIONS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, roles)| *roles)
}

struct Buckets {
    limit: RateLimit,
    tokens: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    fn take(&self, token_id: &str) -> bool {
        let now = Instant::now();
        let mut all = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() > 100_000 {
            // Forget full buckets of tokens not seen lately.
            all.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 60);
        }
        let (level, at) = all
            .entry(token_id.to_string())
            .or_insert((self.limit.burst, now));
        let refill = now.duration_since(*at).as_secs_f64() * self.limit.per_second;
        *level = (*level + refill).min(self.limit.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the layer needs: the store (tokens, audit log) and the limits.
#[derive(Clone)]
pub struct Access {
    store: Arc<Store>,
    buckets: Option<Arc<Buckets>>,
}

impl Access {
    /// Checks tokens against `store`; `rate` limits each token (`None`:
    /// no limit).
    pub fn new(store: Arc<Store>, rate: Option<RateLimit>) -> Self {
        Self {
            store,
            buckets: rate.map(|limit| {
                Arc::new(Buckets {
                    limit,
                    tokens: Mutex::new(HashMap::new()),
                })
            }),
        }
    }

    /// The caller of a request with these headers, for `path`.
    fn admit(&self, headers: &http::HeaderMap) -> Result<Caller, Status> {
        let token = bearer(headers).ok_or_else(|| {
            Status::unauthenticated(
                "missing credentials: send the header `authorization: Bearer <token>`",
            )
        })?;
        let caller = self
            .store
            .authenticate(token)
            .map_err(|e| {
                tracing::error!(error = %e, "token lookup failed");
                Status::internal("internal storage error")
            })?
            .ok_or_else(|| Status::unauthenticated("invalid or revoked token"))?;
        if let Some(b) = &self.buckets {
            if !b.take(&caller.token_id) {
                metrics::counter!(crate::telemetry::RATE_LIMITED).increment(1);
                return Err(Status::resource_exhausted(format!(
                    "rate limit: token {} may make {} calls per second (burst {})",
                    caller.token_id, b.limit.per_second, b.limit.burst
                )));
            }
        }
        Ok(caller)
    }

    fn audit(&self, caller: &Caller, path: &str, code: i32) -> Option<u64> {
        let entry = AuditEntry {
            at_ms: chrono::Utc::now().timestamp_millis(),
            token_id: caller.token_id.clone(),
            role: caller.role.label().to_string(),
            method: path.to_string(),
            code,
            ..AuditEntry::default()
        };
        match self.store.audit(entry) {
            Ok(seq) => Some(seq),
            Err(e) => {
                tracing::error!(error = %e, "cannot write the audit log");
                None
            }
        }
    }
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

/// The tower layer that puts [`Access`] in front of a service.
#[derive(Clone)]
pub struct AccessLayer {
    access: Access,
}

impl AccessLayer {
    /// A layer checking with `access`.
    pub fn new(access: Access) -> Self {
        Self { access }
    }
}

impl<S> tower::Layer<S> for AccessLayer {
    type Service = AccessService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessService {
            inner,
            access: self.access.clone(),
        }
    }
}

/// See [`AccessLayer`].
#[derive(Clone)]
pub struct AccessService<S> {
    inner: S,
    access: Access,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for AccessService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The ready service is the one to call; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let path = request.uri().path().to_string();
        if is_open(&path) {
            return Box::pin(inner.call(request));
        }
        let caller = match self.access.admit(request.headers()) {
            Ok(caller) => caller,
            Err(status) => return Box::pin(async move { Ok(status.into_http()) }),
        };
        if let Some(roles) = roles_for(&path) {
            if !roles.contains(&caller.role) {
                self.access
                    .audit(&caller, &path, tonic::Code::PermissionDenied as i32);
                let status = Status::permission_denied(format!(
                    "a {} token may not call {path}",
                    caller.role.label()
                ));
                let mut response = status.into_http();
                response
                    .extensions_mut()
                    .insert(TokenId(caller.token_id.clone()));
                return Box::pin(async move { Ok(response) });
            }
        }
        let seq = self.access.audit(&caller, &path, -1);
        let token_id = TokenId(caller.token_id.clone());
        request.extensions_mut().insert(caller);
        let access = self.access.clone();
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            response.extensions_mut().insert(token_id);
            if let Some(seq) = seq {
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
                if let Err(e) = access.store.audit_outcome(seq, target, code) {
                    tracing::error!(error = %e, "cannot complete the audit log");
                }
            }
            Ok(response)
        })
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

    #[test]
    fn buckets_refuse_beyond_the_burst() {
        let b = Buckets {
            limit: RateLimit {
                per_second: 0.001,
                burst: 3.0,
            },
            tokens: Mutex::new(HashMap::new()),
        };
        assert!((0..3).all(|_| b.take("a")));
        assert!(!b.take("a"));
        assert!(b.take("b"));
    }
}
