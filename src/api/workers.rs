//! Handlers of the `Workers` service: validate, call the store, convert.

use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;

use super::backend::Backend;
use super::convert::{employment_status_filter, optional_region_filter, worker_from_pb};
use super::import::{self, Importer};
use super::pb::workers_server::Workers;
use super::{blocking, page_token, pb, status};
use crate::domain::{rules, Validated, ValidationError, Worker};
use crate::store::{PutMode, StoreError, WorkerFilter};

/// The `jobbridge.v1.Workers` service.
#[derive(Clone)]
pub struct WorkerService {
    backend: Arc<Backend>,
}

impl WorkerService {
    /// A service over `backend`.
    pub fn new(backend: Arc<Backend>) -> Self {
        Self { backend }
    }

    async fn put(
        &self,
        worker: Option<pb::Worker>,
        mode: PutMode,
    ) -> Result<(Worker, bool), Status> {
        let worker = status::required(worker, "worker")?;
        let worker = worker_from_pb(worker).map_err(status::from_validation)?;
        let stored = self
            .backend
            .put_worker(worker, mode)
            .await
            .map_err(status::from_store)?;
        self.backend
            .store()
            .sync()
            .await
            .map_err(status::from_store)?;
        Ok(stored)
    }
}

/// Checks an id given in a request.
pub(crate) fn request_id(id: &str, field: &str) -> Result<(), Status> {
    rules::check_id(id).map_err(|r| status::from_validation(ValidationError::new(field, r)))
}

#[tonic::async_trait]
impl Workers for WorkerService {
    #[instrument(skip_all, fields(worker_id))]
    async fn create_worker(
        &self,
        request: Request<pb::CreateWorkerRequest>,
    ) -> Result<Response<pb::CreateWorkerResponse>, Status> {
        let (worker, _) = self
            .put(request.into_inner().worker, PutMode::Create)
            .await?;
        tracing::Span::current().record("worker_id", worker.id.as_str());
        Ok(Response::new(pb::CreateWorkerResponse {
            worker: Some(worker.into()),
        }))
    }

    #[instrument(skip_all, fields(worker_id))]
    async fn upsert_worker(
        &self,
        request: Request<pb::UpsertWorkerRequest>,
    ) -> Result<Response<pb::UpsertWorkerResponse>, Status> {
        let (worker, created) = self
            .put(request.into_inner().worker, PutMode::Upsert)
            .await?;
        tracing::Span::current().record("worker_id", worker.id.as_str());
        Ok(Response::new(pb::UpsertWorkerResponse {
            worker: Some(worker.into()),
            created,
        }))
    }

    #[instrument(skip_all, fields(worker_id = %request.get_ref().id))]
    async fn get_worker(
        &self,
        request: Request<pb::GetWorkerRequest>,
    ) -> Result<Response<pb::GetWorkerResponse>, Status> {
        let id = request.into_inner().id;
        request_id(&id, "id")?;
        let store = self.backend.store().clone();
        let worker = blocking(move || {
            store
                .worker(&id)?
                .ok_or_else(|| StoreError::not_found("worker", id))
        })
        .await?;
        Ok(Response::new(pb::GetWorkerResponse {
            worker: Some(worker.into()),
        }))
    }

    #[instrument(skip_all, fields(worker_id = %request.get_ref().id))]
    async fn delete_worker(
        &self,
        request: Request<pb::DeleteWorkerRequest>,
    ) -> Result<Response<pb::DeleteWorkerResponse>, Status> {
        let id = request.into_inner().id;
        request_id(&id, "id")?;
        let backend = self.backend.clone();
        blocking(move || backend.delete_worker(&id)).await?;
        self.backend
            .store()
            .sync()
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(pb::DeleteWorkerResponse {}))
    }

    #[instrument(skip_all)]
    async fn list_workers(
        &self,
        request: Request<pb::ListWorkersRequest>,
    ) -> Result<Response<pb::ListWorkersResponse>, Status> {
        let r = request.into_inner();
        let filter = worker_filter(&r).map_err(status::from_validation)?;
        let fingerprint = page_token::fingerprint(&[
            filter.county_code.as_deref().unwrap_or(""),
            filter.site_id.as_deref().unwrap_or(""),
            filter.household_id.as_deref().unwrap_or(""),
            filter.employment_status.map_or("", |s| s.label()),
        ]);
        let after =
            page_token::decode(&r.page_token, fingerprint).map_err(status::from_validation)?;
        let limit = page_token::page_size(r.page_size);
        let store = self.backend.store().clone();
        let page = blocking(move || store.list_workers(&filter, after.as_deref(), limit)).await?;
        Ok(Response::new(pb::ListWorkersResponse {
            workers: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page
                .next_after
                .map(|a| page_token::encode(&a, fingerprint))
                .unwrap_or_default(),
        }))
    }

    #[instrument(skip_all)]
    async fn import_workers(
        &self,
        request: Request<Streaming<pb::ImportWorkersRequest>>,
    ) -> Result<Response<pb::ImportWorkersResponse>, Status> {
        let outcome =
            import::run::<WorkerImport>(self.backend.clone(), request.into_inner()).await?;
        tracing::info!(
            accepted = outcome.accepted,
            rejected = outcome.rejected,
            "workers imported"
        );
        Ok(Response::new(pb::ImportWorkersResponse {
            accepted: outcome.accepted,
            rejected: outcome.rejected,
            errors: outcome.errors,
            errors_omitted: outcome.errors_omitted,
        }))
    }

    #[instrument(skip_all, fields(household_id = %request.get_ref().household_id))]
    async fn get_household(
        &self,
        request: Request<pb::GetHouseholdRequest>,
    ) -> Result<Response<pb::GetHouseholdResponse>, Status> {
        let id = request.into_inner().household_id;
        request_id(&id, "household_id")?;
        let store = self.backend.store().clone();
        let household = blocking(move || {
            store
                .household(&id)?
                .ok_or_else(|| StoreError::not_found("household", id))
        })
        .await?;
        Ok(Response::new(pb::GetHouseholdResponse {
            zero_employment: household.zero_employment(),
            household_id: household.id,
            worker_ids: household.worker_ids,
            employed: household.employed,
            seeking: household.seeking,
            placed: household.placed,
        }))
    }
}

fn worker_filter(r: &pb::ListWorkersRequest) -> Validated<WorkerFilter> {
    let id_filter = |value: &str, field: &str| -> Validated<Option<String>> {
        if value.is_empty() {
            return Ok(None);
        }
        rules::check_id(value).map_err(|reason| ValidationError::new(field, reason))?;
        Ok(Some(value.to_string()))
    };
    Ok(WorkerFilter {
        county_code: optional_region_filter(r.county_code.clone(), "county_code")?,
        site_id: id_filter(&r.site_id, "site_id")?,
        household_id: id_filter(&r.household_id, "household_id")?,
        employment_status: employment_status_filter(r.employment_status, "employment_status")?,
    })
}

struct WorkerImport;

impl Importer for WorkerImport {
    type Row = pb::ImportWorkersRequest;
    type Record = Worker;

    fn parse(row: Self::Row) -> (String, Validated<Worker>) {
        match row.worker {
            None => (
                String::new(),
                Err(ValidationError::new("worker", "is required")),
            ),
            Some(w) => (w.id.clone(), worker_from_pb(w)),
        }
    }

    fn put(
        backend: &Backend,
        batch: Vec<Worker>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        backend.put_workers(batch)
    }
}
