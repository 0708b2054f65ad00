//! Handlers of the `Workers` service: convert, one service call, convert.

use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;

use super::auth::{audited, unpack};
use super::convert::{employment_status_filter, merge_worker, optional, worker_from_pb};
use super::import::{self, Importer};
use super::page_token::Pager;
use super::pb::workers_server::Workers;
use super::{pb, status};
use crate::domain::access::Caller;
use crate::domain::query::{PutMode, WorkerFilter};
use crate::domain::{rules, scoped, Validated, ValidationError, Worker};
use crate::service::access::target;
use crate::service::{scope, ImportOptions, RowChange, Service};

/// The `jobbridge.v1.Workers` service.
#[derive(Clone)]
pub struct WorkerService {
    service: Arc<Service>,
}

impl WorkerService {
    /// Handlers over `service`.
    pub fn new(service: Arc<Service>) -> Self {
        Self { service }
    }

    async fn put(
        &self,
        caller: &Caller,
        worker: Option<pb::Worker>,
        mode: PutMode,
        allow_move: bool,
    ) -> Result<(Worker, bool), Status> {
        let worker = status::required(worker, "worker")?;
        let worker = worker_from_pb(worker)?;
        let (worker, change) = self
            .service
            .put_worker(caller, worker, mode, allow_move)
            .await?;
        Ok((worker, change == RowChange::Created))
    }
}

/// Checks an id given in a request.
pub(crate) fn request_id(id: &str, field: &str) -> Result<(), Status> {
    rules::check_id(id).map_err(|r| status::from_validation(ValidationError::new(field, r)))
}

/// Checks a worker or household id given in a request: a county's own
/// number or a whole id (`431224/w-0000001`).
pub(crate) fn request_scoped_id(id: &str, field: &str) -> Result<(), Status> {
    scoped::check_scoped_id(id).map_err(|r| status::from_validation(ValidationError::new(field, r)))
}

#[tonic::async_trait]
impl Workers for WorkerService {
    #[instrument(skip_all, fields(worker_id))]
    async fn create_worker(
        &self,
        request: Request<pb::CreateWorkerRequest>,
    ) -> Result<Response<pb::CreateWorkerResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let (worker, _) = self.put(&caller, r.worker, PutMode::Create, false).await?;
        tracing::Span::current().record("worker_id", worker.id.as_str());
        Ok(worker_reply(worker, |worker| pb::CreateWorkerResponse {
            worker,
        }))
    }

    #[instrument(skip_all, fields(worker_id))]
    async fn upsert_worker(
        &self,
        request: Request<pb::UpsertWorkerRequest>,
    ) -> Result<Response<pb::UpsertWorkerResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let (worker, created) = self
            .put(&caller, r.worker, PutMode::Upsert, r.allow_move)
            .await?;
        tracing::Span::current().record("worker_id", worker.id.as_str());
        Ok(worker_reply(worker, |worker| pb::UpsertWorkerResponse {
            worker,
            created,
        }))
    }

    #[instrument(skip_all, fields(worker_id))]
    async fn update_worker(
        &self,
        request: Request<pb::UpdateWorkerRequest>,
    ) -> Result<Response<pb::UpdateWorkerResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let patch = status::required(r.worker, "worker")?;
        request_scoped_id(&patch.id, "worker.id")?;
        tracing::Span::current().record("worker_id", patch.id.as_str());
        let id = patch.id.clone();
        let mask = r.update_mask;
        let worker = self
            .service
            .update_worker(&caller, &id, move |stored| {
                merge_worker(stored, &patch, mask.as_ref())
            })
            .await?;
        Ok(worker_reply(worker, |worker| pb::UpdateWorkerResponse {
            worker,
        }))
    }

    #[instrument(skip_all, fields(worker_id = %request.get_ref().id))]
    async fn get_worker(
        &self,
        request: Request<pb::GetWorkerRequest>,
    ) -> Result<Response<pb::GetWorkerResponse>, Status> {
        let (caller, r) = unpack(request)?;
        request_scoped_id(&r.id, "id")?;
        let worker = self.service.worker(&caller, &r.id).await?;
        Ok(worker_reply(worker, |worker| pb::GetWorkerResponse {
            worker,
        }))
    }

    #[instrument(skip_all, fields(worker_id = %request.get_ref().id))]
    async fn delete_worker(
        &self,
        request: Request<pb::DeleteWorkerRequest>,
    ) -> Result<Response<pb::DeleteWorkerResponse>, Status> {
        let (caller, r) = unpack(request)?;
        request_scoped_id(&r.id, "id")?;
        let deleted = self.service.delete_worker(&caller, &r.id).await?;
        Ok(audited(
            Response::new(pb::DeleteWorkerResponse {}),
            target::worker(&deleted.id),
        ))
    }

    #[instrument(skip_all)]
    async fn list_workers(
        &self,
        request: Request<pb::ListWorkersRequest>,
    ) -> Result<Response<pb::ListWorkersResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let filter = worker_filter(&r)?;
        Pager::new(&self.service, &r, &filter)?
            .reply(|after, limit| self.service.list_workers(&caller, filter, after, limit))
            .await
    }

    #[instrument(skip_all)]
    async fn import_workers(
        &self,
        request: Request<Streaming<pb::ImportWorkersRequest>>,
    ) -> Result<Response<pb::ImportWorkersResponse>, Status> {
        import::serve::<WorkerImport>(&self.service, request).await
    }

    #[instrument(skip_all, fields(household_id = %request.get_ref().household_id))]
    async fn get_household(
        &self,
        request: Request<pb::GetHouseholdRequest>,
    ) -> Result<Response<pb::GetHouseholdResponse>, Status> {
        let (caller, r) = unpack(request)?;
        request_scoped_id(&r.household_id, "household_id")?;
        let household = self.service.household(&caller, &r.household_id).await?;
        let target = target::household(&household.id);
        Ok(audited(
            Response::new(pb::GetHouseholdResponse {
                zero_employment: household.zero_employment(),
                household_id: household.id,
                worker_ids: household.worker_ids,
                employed: household.employed,
                seeking: household.seeking,
                placed: household.placed,
            }),
            target,
        ))
    }
}

/// A reply carrying `worker`, audited under its whole id (a county's
/// number alone may name others elsewhere).
fn worker_reply<T>(worker: Worker, reply: impl FnOnce(Option<pb::Worker>) -> T) -> Response<T> {
    let target = target::worker(&worker.id);
    audited(Response::new(reply(Some(worker.into()))), target)
}

fn worker_filter(r: &pb::ListWorkersRequest) -> Validated<WorkerFilter> {
    Ok(WorkerFilter {
        county_code: optional(&r.county_code, "county_code", rules::check_region_code)?,
        site_id: optional(&r.site_id, "site_id", rules::check_id)?,
        household_id: optional(&r.household_id, "household_id", scoped::check_scoped_id)?,
        employment_status: employment_status_filter(r.employment_status, "employment_status")?,
    })
}

struct WorkerImport;

impl Importer for WorkerImport {
    type Row = pb::ImportWorkersRequest;
    type Record = Worker;
    type Reply = pb::ImportWorkersResponse;
    const KIND: &'static str = "workers";

    fn options(row: &Self::Row) -> ImportOptions {
        ImportOptions {
            check_only: row.check_only,
            allow_move: row.allow_move,
        }
    }

    fn stored_id(record: &Worker) -> String {
        scoped::qualified(&record.id, &record.county_code)
    }

    fn parse(row: Self::Row, caller: &Caller) -> (String, Validated<Worker>) {
        match row.worker {
            None => (String::new(), Err(ValidationError::required("worker"))),
            Some(w) => {
                let id = w.id.clone();
                let parsed =
                    worker_from_pb(w).and_then(|w| scope::worker_row(caller, &w).map(|()| w));
                (id, parsed)
            }
        }
    }
}
