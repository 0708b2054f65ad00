//! Handlers of the `Batch` service.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{audited, unpack};
use super::convert::{
    actor, applied_to_pb, assignment_to_pb, change_to_pb, county_of, diff_to_pb, run_to_pb,
    what_if_changes_from_pb, what_if_to_pb,
};
use super::page_token::capped;
use super::pb::batch_server::Batch as BatchRpc;
use super::{pb, status};
use crate::batch::audit;
use crate::batch::whatif::DEFAULT_LIMIT;
use crate::domain::access::{Caller, Role};
use crate::domain::run::{Policy, Run};
use crate::domain::ValidationError;
use crate::service::access::target;
use crate::service::{RunRows, Service, MAX_LIMIT};

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
        rows: for<'a> fn(&'a Service, u64) -> RunRows<'a, T>,
        to_pb: fn(T) -> U,
    ) -> Result<Response<Streamed<U>>, Status>
    where
        T: 'static,
        U: Send + 'static,
    {
        let id = run_id(run)?;
        self.service.succeeded_run(id).await?;
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

/// A run as `caller` read it (`service::scope::run_view`), saying whose
/// part it is.
fn scoped_run_to_pb(caller: &Caller, run: Run, progress: f64) -> pb::Run {
    let mut out = run_to_pb(run, progress);
    say_whose(caller, &mut out.counties);
    out
}

/// Names the part of a run or what-if that `caller` read: a service
/// company's counties; an admin's reply keeps what it holds.
fn say_whose(caller: &Caller, counties: &mut Vec<String>) {
    if caller.role != Role::Admin {
        *counties = caller.scope.counties.clone();
    }
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
            .map_err(|_| Status::internal("internal error"))??;
        tracing::info!(run_id = id, "run started");
        Ok(Response::new(pb::StartRunResponse { run_id: id }))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::GetRunResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let id = run_id(r.run_id)?;
        let (run, progress) = self.service.run(&caller, id).await?;
        Ok(Response::new(pb::GetRunResponse {
            run: Some(scoped_run_to_pb(&caller, run, progress)),
        }))
    }

    #[instrument(skip_all)]
    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let limit = capped(r.page_size, 20, 100);
        let runs = self
            .service
            .list_runs(&caller, r.before_run_id, limit)
            .await?;
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
        let (run, progress) = self.service.cancel_run(id).await?;
        Ok(Response::new(pb::CancelRunResponse {
            run: Some(run_to_pb(run, progress)),
        }))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn apply_run(
        &self,
        request: Request<pb::ApplyRunRequest>,
    ) -> Result<Response<pb::ApplyRunResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let lang = super::lang::current();
        let id = run_id(r.run_id)?;
        let county = county_of(&r.county_code)?;
        let actor = actor(&r.actor)?;
        let applied = self
            .service
            .apply_run(&caller, id, county.clone(), actor, lang)
            .await?;
        let target = target::run_applied(id, county.as_deref());
        Ok(audited(Response::new(applied_to_pb(applied, lang)), target))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn diff_run(
        &self,
        request: Request<pb::DiffRunRequest>,
    ) -> Result<Response<pb::DiffRunResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let id = run_id(r.run_id)?;
        let county = county_of(&r.county_code)?;
        let diff = self.service.diff_run(&caller, id, county).await?;
        Ok(Response::new(diff_to_pb(diff, r.counts_only)))
    }

    #[instrument(skip_all, fields(changes = request.get_ref().changes.len()))]
    async fn what_if(
        &self,
        request: Request<pb::WhatIfRequest>,
    ) -> Result<Response<pb::WhatIfResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let lang = super::lang::current();
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
        let changes = what_if_changes_from_pb(r.changes)?;
        let answer = self.service.what_if(&caller, changes, limit).await?;
        let mut out = what_if_to_pb(answer, lang);
        say_whose(&caller, &mut out.counties);
        Ok(audited(Response::new(out), target::what_if(count)))
    }

    type StreamAssignmentsStream = Streamed<pb::Assignment>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn stream_assignments(
        &self,
        request: Request<pb::StreamAssignmentsRequest>,
    ) -> Result<Response<Self::StreamAssignmentsStream>, Status> {
        let id = request.into_inner().run_id;
        self.stream_run(id, Service::assignments, assignment_to_pb)
            .await
    }

    type StreamChangesStream = Streamed<pb::AssignmentChange>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn stream_changes(
        &self,
        request: Request<pb::StreamChangesRequest>,
    ) -> Result<Response<Self::StreamChangesStream>, Status> {
        let id = request.into_inner().run_id;
        self.stream_run(id, Service::changes, change_to_pb).await
    }

    type DownloadAuditStream = Streamed<pb::AuditChunk>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn download_audit(
        &self,
        request: Request<pb::DownloadAuditRequest>,
    ) -> Result<Response<Self::DownloadAuditStream>, Status> {
        let id = run_id(request.into_inner().run_id)?;
        let folder = self.service.audit_folder(id).await?;
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
