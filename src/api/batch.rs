//! Handlers of the `Batch` service.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{audited, caller};
use super::convert::{
    applied_to_pb, assignment_to_pb, change_to_pb, diff_to_pb, run_to_pb, what_if_changes_from_pb,
    what_if_to_pb,
};
use super::pb::batch_server::Batch as BatchRpc;
use super::{pb, status};
use crate::batch::audit;
use crate::batch::whatif::DEFAULT_LIMIT;
use crate::domain::access::{Caller, Role};
use crate::domain::run::{Assignment, Change, Policy, Run};
use crate::domain::{rules, Lang, ValidationError};
use crate::service::access::target;
use crate::service::{Service, MAX_LIMIT};

/// The `jobbridge.v1.Batch` service.
#[derive(Clone)]
pub struct BatchService {
    service: Arc<Service>,
}

impl BatchService {
    /// Handlers over `service`.
    pub fn new(service: Arc<Service>) -> Self {
        Self { service }
    }

    /// Streams the rows of the succeeded run `run`, as `rows` reads them
    /// on a blocking thread and `to_pb` converts them, until the client
    /// goes away.
    async fn stream_run<T, U>(
        &self,
        run: u64,
        rows: impl for<'a> FnOnce(&'a Service, u64) -> Rows<'a, T> + Send + 'static,
        to_pb: fn(T) -> U,
    ) -> Result<Response<Streamed<U>>, Status>
    where
        T: 'static,
        U: Send + 'static,
    {
        let id = run_id(run)?;
        self.service
            .succeeded_run(id)
            .await
            .map_err(status::from_service)?;
        let service = self.service.clone();
        Ok(Response::new(stream_from(move |tx| {
            for row in rows(&service, id) {
                let item = row.map(to_pb).map_err(status::from_service);
                if tx.blocking_send(item).is_err() {
                    return;
                }
            }
        })))
    }
}

/// The stored rows of a run, as the service reads them.
type Rows<'a, T> = Box<dyn Iterator<Item = crate::service::Result<T>> + 'a>;

type Streamed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn run_id(id: u64) -> Result<u64, Status> {
    if id == 0 {
        return Err(status::from_validation(ValidationError::new(
            "run_id",
            "must be set",
        )));
    }
    Ok(id)
}

/// The language of the request's `accept-language` metadata; English
/// when absent or unsupported.
pub(crate) fn request_lang<T>(request: &Request<T>) -> Lang {
    request
        .metadata()
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

/// An optional county code of a request: `None` when empty.
fn county_of(value: &str) -> Result<Option<String>, Status> {
    if value.is_empty() {
        return Ok(None);
    }
    rules::check_county_code(value)
        .map_err(|r| status::from_validation(ValidationError::new("county_code", r)))?;
    Ok(Some(value.to_string()))
}

/// A run as `caller` read it (`service::scope::run_view`), saying whose
/// part it is: a service company's counties, nothing for an admin.
fn scoped_run_to_pb(caller: &Caller, run: Run, progress: f64) -> pb::Run {
    let mut out = run_to_pb(run, progress);
    if caller.role != Role::Admin {
        out.counties = caller.scope.counties.clone();
    }
    out
}

/// A stream fed from a blocking thread (the store's iterators block).
fn stream_from<T, F>(produce: F) -> Streamed<T>
where
    T: Send + 'static,
    F: FnOnce(&mpsc::Sender<Result<T, Status>>) + Send + 'static,
{
    let (tx, rx) = mpsc::channel(256);
    tokio::task::spawn_blocking(move || produce(&tx));
    Box::pin(ReceiverStream::new(rx))
}

#[tonic::async_trait]
impl BatchRpc for BatchService {
    #[instrument(skip_all)]
    async fn start_run(
        &self,
        request: Request<pb::StartRunRequest>,
    ) -> Result<Response<pb::StartRunResponse>, Status> {
        let r = request.into_inner();
        let policy = match pb::Policy::try_from(r.policy) {
            Ok(pb::Policy::Unspecified | pb::Policy::Optimal) => Policy::Optimal,
            Ok(pb::Policy::Stable) => Policy::Stable,
            Err(_) => {
                return Err(status::from_validation(ValidationError::new(
                    "policy",
                    format!("unknown enum value {}", r.policy),
                )))
            }
        };
        let service = self.service.clone();
        let id = tokio::task::spawn_blocking(move || service.start_run(policy, r.dry_run, "api"))
            .await
            .map_err(|_| Status::internal("internal error"))?
            .map_err(status::from_service)?;
        tracing::info!(run_id = id, "run started");
        Ok(Response::new(pb::StartRunResponse { run_id: id }))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::GetRunResponse>, Status> {
        let caller = caller(&request)?;
        let id = run_id(request.into_inner().run_id)?;
        let (run, progress) = self
            .service
            .run(&caller, id)
            .await
            .map_err(status::from_service)?;
        Ok(Response::new(pb::GetRunResponse {
            run: Some(scoped_run_to_pb(&caller, run, progress)),
        }))
    }

    #[instrument(skip_all)]
    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let limit = match r.page_size {
            0 => 20,
            n => n.min(100) as usize,
        };
        let runs = self
            .service
            .list_runs(&caller, r.before_run_id, limit)
            .await
            .map_err(status::from_service)?;
        Ok(Response::new(pb::ListRunsResponse {
            runs: runs
                .into_iter()
                .map(|(run, progress)| scoped_run_to_pb(&caller, run, progress))
                .collect(),
        }))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn cancel_run(
        &self,
        request: Request<pb::CancelRunRequest>,
    ) -> Result<Response<pb::CancelRunResponse>, Status> {
        let id = run_id(request.into_inner().run_id)?;
        let (run, progress) = self
            .service
            .cancel_run(id)
            .await
            .map_err(status::from_service)?;
        Ok(Response::new(pb::CancelRunResponse {
            run: Some(run_to_pb(run, progress)),
        }))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn apply_run(
        &self,
        request: Request<pb::ApplyRunRequest>,
    ) -> Result<Response<pb::ApplyRunResponse>, Status> {
        let caller = caller(&request)?;
        let lang = request_lang(&request);
        let r = request.into_inner();
        let id = run_id(r.run_id)?;
        let county = county_of(&r.county_code)?;
        let actor = match r.actor.as_str() {
            "" => "unknown".to_string(),
            a => {
                rules::check_text(a, 64)
                    .map_err(|e| status::from_validation(ValidationError::new("actor", e)))?;
                a.to_string()
            }
        };
        let applied = self
            .service
            .apply_run(&caller, id, county.clone(), actor, lang)
            .await
            .map_err(status::from_service)?;
        let target = target::run_applied(id, county.as_deref());
        Ok(audited(Response::new(applied_to_pb(applied, lang)), target))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn diff_run(
        &self,
        request: Request<pb::DiffRunRequest>,
    ) -> Result<Response<pb::DiffRunResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let id = run_id(r.run_id)?;
        let county = county_of(&r.county_code)?;
        let diff = self
            .service
            .diff_run(&caller, id, county)
            .await
            .map_err(status::from_service)?;
        Ok(Response::new(diff_to_pb(diff, r.counts_only)))
    }

    #[instrument(skip_all, fields(changes = request.get_ref().changes.len()))]
    async fn what_if(
        &self,
        request: Request<pb::WhatIfRequest>,
    ) -> Result<Response<pb::WhatIfResponse>, Status> {
        let caller = caller(&request)?;
        let lang = request_lang(&request);
        let r = request.into_inner();
        let limit = match r.limit as usize {
            0 => DEFAULT_LIMIT,
            n if n > MAX_LIMIT => {
                return Err(status::from_validation(ValidationError::new(
                    "limit",
                    format!("at most {MAX_LIMIT}"),
                )))
            }
            n => n,
        };
        let count = r.changes.len();
        let changes = what_if_changes_from_pb(r.changes).map_err(status::from_validation)?;
        let answer = self
            .service
            .what_if(&caller, changes, limit)
            .await
            .map_err(status::from_service)?;
        let mut out = what_if_to_pb(answer, lang);
        if caller.role != Role::Admin {
            out.counties = caller.scope.counties.clone();
        }
        Ok(audited(Response::new(out), target::what_if(count)))
    }

    type StreamAssignmentsStream = Streamed<pb::Assignment>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn stream_assignments(
        &self,
        request: Request<pb::StreamAssignmentsRequest>,
    ) -> Result<Response<Self::StreamAssignmentsStream>, Status> {
        fn rows(s: &Service, id: u64) -> Rows<'_, Assignment> {
            Box::new(s.assignments(id))
        }
        self.stream_run(request.into_inner().run_id, rows, assignment_to_pb)
            .await
    }

    type StreamChangesStream = Streamed<pb::AssignmentChange>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn stream_changes(
        &self,
        request: Request<pb::StreamChangesRequest>,
    ) -> Result<Response<Self::StreamChangesStream>, Status> {
        fn rows(s: &Service, id: u64) -> Rows<'_, Change> {
            Box::new(s.changes(id))
        }
        self.stream_run(request.into_inner().run_id, rows, change_to_pb)
            .await
    }

    type DownloadAuditStream = Streamed<pb::AuditChunk>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn download_audit(
        &self,
        request: Request<pb::DownloadAuditRequest>,
    ) -> Result<Response<Self::DownloadAuditStream>, Status> {
        let id = run_id(request.into_inner().run_id)?;
        let folder = self
            .service
            .audit_folder(id)
            .await
            .map_err(status::from_service)?;
        Ok(Response::new(stream_from(move |tx| {
            use std::io::Read as _;
            for name in audit::FILES {
                let mut file = match std::fs::File::open(folder.join(name)) {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::error!(error = %e, file = name, "cannot open audit file");
                        let _ = tx.blocking_send(Err(Status::internal("audit file unreadable")));
                        return;
                    }
                };
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    match file.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            let chunk = pb::AuditChunk {
                                file: name.to_string(),
                                data: buf[..n].to_vec(),
                            };
                            if tx.blocking_send(Ok(chunk)).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, file = name, "cannot read audit file");
                            let _ =
                                tx.blocking_send(Err(Status::internal("audit file unreadable")));
                            return;
                        }
                    }
                }
            }
        })))
    }
}
