//! Handlers of the `Batch` service.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::instrument;

use super::pb::batch_server::Batch as BatchRpc;
use super::{pb, status};
use crate::batch::{audit, Batch, BatchError};
use crate::domain::run::{Policy, Run, RunStatus, RunSummary, SummaryRow};
use crate::domain::ValidationError;

/// The `jobbridge.v1.Batch` service.
#[derive(Clone)]
pub struct BatchService {
    batch: Arc<Batch>,
}

impl BatchService {
    /// A service over `batch`.
    pub fn new(batch: Arc<Batch>) -> Self {
        Self { batch }
    }
}

type Streamed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Maps batch errors; exhaustive on purpose.
fn from_batch(e: BatchError) -> Status {
    match e {
        BatchError::NotFound(_) => Status::not_found(e.to_string()),
        BatchError::Busy(_) | BatchError::WrongState { .. } => {
            Status::failed_precondition(e.to_string())
        }
        BatchError::Store(e) => status::from_store(e),
        BatchError::Audit(_) | BatchError::Check(_) => {
            tracing::error!(error = %e, "batch failure");
            Status::internal("internal batch error")
        }
    }
}

fn run_id(id: u64) -> Result<u64, Status> {
    if id == 0 {
        return Err(status::from_validation(ValidationError::new(
            "run_id",
            "must be set",
        )));
    }
    Ok(id)
}

/// Sends the items of a blocking producer as a gRPC stream.
fn stream_from<T, F>(produce: F) -> Streamed<T>
where
    T: Send + 'static,
    F: FnOnce(&mpsc::Sender<Result<T, Status>>) + Send + 'static,
{
    let (tx, rx) = mpsc::channel(256);
    tokio::task::spawn_blocking(move || produce(&tx));
    Box::pin(ReceiverStream::new(rx))
}

/// The run must have succeeded for its results to be read.
fn succeeded(batch: &Batch, id: u64) -> Result<Run, Status> {
    let run = batch
        .store()
        .run(id)
        .map_err(status::from_store)?
        .ok_or_else(|| from_batch(BatchError::NotFound(id)))?;
    if run.status() != RunStatus::Succeeded {
        return Err(from_batch(BatchError::WrongState {
            id,
            status: crate::batch::status_label(run.status()),
        }));
    }
    Ok(run)
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
        let batch = self.batch.clone();
        let id = tokio::task::spawn_blocking(move || batch.start(policy, r.dry_run, "api"))
            .await
            .map_err(|_| Status::internal("internal error"))?
            .map_err(from_batch)?;
        tracing::info!(run_id = id, "run started");
        Ok(Response::new(pb::StartRunResponse { run_id: id }))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::GetRunResponse>, Status> {
        let id = run_id(request.into_inner().run_id)?;
        let (run, progress) = self.batch.get(id).map_err(from_batch)?;
        Ok(Response::new(pb::GetRunResponse {
            run: Some(run_to_pb(run, progress)),
        }))
    }

    #[instrument(skip_all)]
    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        let r = request.into_inner();
        let limit = match r.page_size {
            0 => 20,
            n => n.min(100) as usize,
        };
        let runs = self
            .batch
            .store()
            .list_runs(r.before_run_id, limit)
            .map_err(status::from_store)?;
        Ok(Response::new(pb::ListRunsResponse {
            runs: runs
                .into_iter()
                .map(|run| {
                    let (run, progress) = self.batch.with_live(run);
                    run_to_pb(run, progress)
                })
                .collect(),
        }))
    }

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn cancel_run(
        &self,
        request: Request<pb::CancelRunRequest>,
    ) -> Result<Response<pb::CancelRunResponse>, Status> {
        let id = run_id(request.into_inner().run_id)?;
        let run = self.batch.cancel(id).map_err(from_batch)?;
        let (run, progress) = self.batch.with_live(run);
        Ok(Response::new(pb::CancelRunResponse {
            run: Some(run_to_pb(run, progress)),
        }))
    }

    type StreamAssignmentsStream = Streamed<pb::Assignment>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn stream_assignments(
        &self,
        request: Request<pb::StreamAssignmentsRequest>,
    ) -> Result<Response<Self::StreamAssignmentsStream>, Status> {
        let id = run_id(request.into_inner().run_id)?;
        succeeded(&self.batch, id)?;
        let store = self.batch.store().clone();
        Ok(Response::new(stream_from(move |tx| {
            for a in store.assignments(id) {
                let item = a.map(assignment_to_pb).map_err(status::from_store);
                if tx.blocking_send(item).is_err() {
                    return;
                }
            }
        })))
    }

    type StreamChangesStream = Streamed<pb::AssignmentChange>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn stream_changes(
        &self,
        request: Request<pb::StreamChangesRequest>,
    ) -> Result<Response<Self::StreamChangesStream>, Status> {
        let id = run_id(request.into_inner().run_id)?;
        succeeded(&self.batch, id)?;
        let store = self.batch.store().clone();
        Ok(Response::new(stream_from(move |tx| {
            for c in store.changes(id) {
                let item = c
                    .map(|c| pb::AssignmentChange {
                        kind: c.kind,
                        worker_id: c.worker_id,
                        previous_opening_id: c.previous_opening_id,
                        opening_id: c.opening_id,
                    })
                    .map_err(status::from_store);
                if tx.blocking_send(item).is_err() {
                    return;
                }
            }
        })))
    }

    type DownloadAuditStream = Streamed<pb::AuditChunk>;

    #[instrument(skip_all, fields(run_id = request.get_ref().run_id))]
    async fn download_audit(
        &self,
        request: Request<pb::DownloadAuditRequest>,
    ) -> Result<Response<Self::DownloadAuditStream>, Status> {
        let id = run_id(request.into_inner().run_id)?;
        succeeded(&self.batch, id)?;
        let Some(dir) = self.batch.settings().audit_dir.clone() else {
            return Err(Status::failed_precondition(
                "this server keeps no audit files (no audit directory configured)",
            ));
        };
        let folder = dir.join(format!("run-{id}"));
        if !folder.is_dir() {
            return Err(Status::not_found(format!(
                "audit files of run {id} are gone (pruned or never written)"
            )));
        }
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

/// A run's time, or none while it is unset (0).
fn timestamp(ms: i64) -> Option<prost_types::Timestamp> {
    if ms > 0 {
        super::convert::timestamp(ms)
    } else {
        None
    }
}

fn row_to_pb(r: SummaryRow) -> pb::SummaryRow {
    pb::SummaryRow {
        key: r.key,
        workers_eligible: r.workers_eligible,
        workers_assigned: r.workers_assigned,
        zero_households_covered: r.zero_households_covered,
        slots_filled: r.slots_filled,
    }
}

fn summary_to_pb(s: RunSummary) -> pb::RunSummary {
    pb::RunSummary {
        workers_considered: s.workers_considered,
        openings_considered: s.openings_considered,
        eligible_pairs: s.eligible_pairs,
        slots_available: s.slots_available,
        workers_assigned: s.workers_assigned,
        zero_households: s.zero_households,
        zero_households_covered: s.zero_households_covered,
        total_score_micro: s.total_score_micro,
        by_county: s.by_county.into_iter().map(row_to_pb).collect(),
        by_source: s.by_source.into_iter().map(row_to_pb).collect(),
        gained: s.gained,
        lost: s.lost,
        changed: s.changed,
        previous_run_id: s.previous_run_id,
        scoring_ms: s.scoring_ms,
        solving_ms: s.solving_ms,
        saving_ms: s.saving_ms,
    }
}

/// A run on the wire, with live progress.
pub(crate) fn run_to_pb(run: Run, progress: f64) -> pb::Run {
    pb::Run {
        run_id: run.id,
        policy: run.policy,
        dry_run: run.dry_run,
        status: run.status,
        phase: run.phase,
        progress,
        trigger: run.trigger,
        started_at: timestamp(run.started_at_ms),
        finished_at: timestamp(run.finished_at_ms),
        error: run.error,
        summary: run.summary.map(summary_to_pb),
        candidates_per_worker: run.candidates_per_worker,
        proposals_created: run.proposals_created,
        proposals_skipped: run.proposals_skipped,
    }
}

fn assignment_to_pb(a: crate::domain::run::Assignment) -> pb::Assignment {
    let source = crate::domain::Source::from_code(a.source as u8)
        .map_or(pb::Source::Unspecified, super::convert::source_to_pb);
    pb::Assignment {
        worker_id: a.worker_id,
        opening_id: a.opening_id,
        household_id: a.household_id,
        zero_employment_household: a.zero_household,
        score: f64::from(a.score_micro) / 1e6,
        score_micro: u64::from(a.score_micro),
        explanation: Some(pb::Explanation {
            components: a
                .components
                .into_iter()
                .map(|c| pb::ScoreComponent {
                    contribution: c.value * c.weight,
                    name: c.name,
                    value: c.value,
                    weight: c.weight,
                    reason: c.reason,
                })
                .collect(),
            distance_km: a.distance_km,
        }),
        county_code: a.county_code,
        source: source.into(),
    }
}
