//! Handlers of the `Openings` service: validate, call the store, convert.

use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;

use super::auth::unpack;
use super::convert::{
    merge_opening, opening_from_pb, opening_status_filter, optional, source_filter,
};
use super::import::{self, Importer};
use super::page_token::Pager;
use super::pb::openings_server::Openings;
use super::workers::request_id;
use super::{pb, status};
use crate::domain::access::Caller;
use crate::domain::query::{OpeningFilter, PutMode};
use crate::domain::{rules, Opening, Validated, ValidationError};
use crate::service::{scope, ImportOptions, Service};

/// The `jobbridge.v1.Openings` service.
#[derive(Clone)]
pub struct OpeningService {
    service: Arc<Service>,
}

impl OpeningService {
    /// Handlers over `service`.
    pub fn new(service: Arc<Service>) -> Self {
        Self { service }
    }

    async fn put(
        &self,
        caller: &Caller,
        opening: Option<pb::Opening>,
        mode: PutMode,
    ) -> Result<(Opening, bool), Status> {
        let opening = status::required(opening, "opening")?;
        let opening = opening_from_pb(opening)?;
        self.service
            .put_opening(caller, opening, mode)
            .await
            .map_err(status::from_service)
    }
}

#[tonic::async_trait]
impl Openings for OpeningService {
    #[instrument(skip_all)]
    async fn create_opening(
        &self,
        request: Request<pb::CreateOpeningRequest>,
    ) -> Result<Response<pb::CreateOpeningResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let (opening, _) = self.put(&caller, r.opening, PutMode::Create).await?;
        Ok(Response::new(pb::CreateOpeningResponse {
            opening: Some(opening.into()),
        }))
    }

    #[instrument(skip_all)]
    async fn upsert_opening(
        &self,
        request: Request<pb::UpsertOpeningRequest>,
    ) -> Result<Response<pb::UpsertOpeningResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let (opening, created) = self.put(&caller, r.opening, PutMode::Upsert).await?;
        Ok(Response::new(pb::UpsertOpeningResponse {
            opening: Some(opening.into()),
            created,
        }))
    }

    #[instrument(skip_all)]
    async fn update_opening(
        &self,
        request: Request<pb::UpdateOpeningRequest>,
    ) -> Result<Response<pb::UpdateOpeningResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let patch = status::required(r.opening, "opening")?;
        request_id(&patch.id, "opening.id")?;
        let id = patch.id.clone();
        let mask = r.update_mask;
        let opening = self
            .service
            .update_opening(&caller, &id, move |stored| {
                merge_opening(stored, &patch, mask.as_ref())
            })
            .await?;
        Ok(Response::new(pb::UpdateOpeningResponse {
            opening: Some(opening.into()),
        }))
    }

    #[instrument(skip_all, fields(opening_id = %request.get_ref().id))]
    async fn get_opening(
        &self,
        request: Request<pb::GetOpeningRequest>,
    ) -> Result<Response<pb::GetOpeningResponse>, Status> {
        let (caller, r) = unpack(request)?;
        request_id(&r.id, "id")?;
        let opening = Some(self.service.opening(&caller, &r.id).await?.into());
        Ok(Response::new(pb::GetOpeningResponse { opening }))
    }

    #[instrument(skip_all, fields(opening_id = %request.get_ref().id))]
    async fn close_opening(
        &self,
        request: Request<pb::CloseOpeningRequest>,
    ) -> Result<Response<pb::CloseOpeningResponse>, Status> {
        let (caller, r) = unpack(request)?;
        request_id(&r.id, "id")?;
        let opening = Some(self.service.close_opening(&caller, &r.id).await?.into());
        Ok(Response::new(pb::CloseOpeningResponse { opening }))
    }

    #[instrument(skip_all)]
    async fn list_openings(
        &self,
        request: Request<pb::ListOpeningsRequest>,
    ) -> Result<Response<pb::ListOpeningsResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let filter = opening_filter(&r)?;
        // The page token binds to the filter as the service applies it.
        let filter = Service::opening_filter_for(&caller, filter);
        Pager::new(&self.service, &r, &filter)?
            .reply(|after, limit| self.service.list_openings(&caller, filter, after, limit))
            .await
    }

    #[instrument(skip_all)]
    async fn import_openings(
        &self,
        request: Request<Streaming<pb::ImportOpeningsRequest>>,
    ) -> Result<Response<pb::ImportOpeningsResponse>, Status> {
        import::serve::<OpeningImport>(&self.service, request).await
    }
}

fn opening_filter(r: &pb::ListOpeningsRequest) -> Validated<OpeningFilter> {
    let employer_id = optional(&r.employer_id, "employer_id", rules::check_id)?;
    Ok(OpeningFilter {
        region_code: optional(&r.region_code, "region_code", rules::check_region_code)?,
        source: source_filter(r.source, "source")?,
        status: opening_status_filter(r.status, "status")?,
        employer_id,
    })
}

struct OpeningImport;

impl Importer for OpeningImport {
    type Row = pb::ImportOpeningsRequest;
    type Record = Opening;
    type Reply = pb::ImportOpeningsResponse;
    const KIND: &'static str = "openings";

    fn options(row: &Self::Row) -> ImportOptions {
        ImportOptions {
            check_only: row.check_only,
            allow_move: false,
        }
    }

    fn stored_id(record: &Opening) -> String {
        record.id.clone()
    }

    fn parse(row: Self::Row, caller: &Caller) -> (String, Validated<Opening>) {
        match row.opening {
            None => (String::new(), Err(ValidationError::required("opening"))),
            Some(o) => {
                let id = o.id.clone();
                let parsed =
                    opening_from_pb(o).and_then(|o| scope::opening_row(caller, &o).map(|()| o));
                (id, parsed)
            }
        }
    }
}
