//! Handlers of the `Openings` service: validate, call the store, convert.

use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;

use super::auth::{caller, need_employer};
use super::backend::Backend;
use super::convert::{
    opening_from_pb, opening_status_filter, optional_region_filter, source_filter,
};
use super::import::{self, Importer};
use super::pb::openings_server::Openings;
use super::workers::request_id;
use super::{blocking, page_token, pb, status};
use crate::domain::access::{Caller, Role};
use crate::domain::{rules, Opening, Validated, ValidationError};
use crate::store::{OpeningFilter, PutMode, StoreError};

/// The `jobbridge.v1.Openings` service.
#[derive(Clone)]
pub struct OpeningService {
    backend: Arc<Backend>,
}

impl OpeningService {
    /// A service over `backend`.
    pub fn new(backend: Arc<Backend>) -> Self {
        Self { backend }
    }

    async fn put(
        &self,
        caller: &Caller,
        opening: Option<pb::Opening>,
        mode: PutMode,
    ) -> Result<(Opening, bool), Status> {
        let opening = status::required(opening, "opening")?;
        let opening = opening_from_pb(opening).map_err(status::from_validation)?;
        may_write(caller, &opening).map_err(forbidden)?;
        self.stored_in_scope(caller, &opening.id).await?;
        let stored = self
            .backend
            .put_opening(opening, mode)
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

impl OpeningService {
    /// PERMISSION_DENIED if opening `id` is stored outside the caller's
    /// scope; `NotFound` is left to the operation.
    async fn stored_in_scope(&self, caller: &Caller, id: &str) -> Result<(), Status> {
        if caller.role == Role::Admin {
            return Ok(());
        }
        let store = self.backend.store().clone();
        let owned = id.to_string();
        match blocking(move || store.opening(&owned)).await? {
            Some(o) => may_write(caller, &o).map_err(forbidden),
            None => Ok(()),
        }
    }
}

/// Whether `caller` may write `o`: a service company in its counties, a
/// recruiter for its employer.
fn may_write(caller: &Caller, o: &Opening) -> Result<(), String> {
    match caller.role {
        Role::Admin => Ok(()),
        Role::ServiceCompany if caller.covers_county(&o.region_code) => Ok(()),
        Role::ServiceCompany => Err(format!(
            "opening {:?} is in county {}, outside the counties of this token",
            o.id, o.region_code
        )),
        Role::Recruiter if caller.covers_employer(&o.employer_id) => Ok(()),
        Role::Recruiter | Role::Reader => Err(format!(
            "opening {:?} belongs to employer {:?}, not to this token's",
            o.id, o.employer_id
        )),
    }
}

fn forbidden(message: String) -> Status {
    Status::permission_denied(message)
}

#[tonic::async_trait]
impl Openings for OpeningService {
    #[instrument(skip_all)]
    async fn create_opening(
        &self,
        request: Request<pb::CreateOpeningRequest>,
    ) -> Result<Response<pb::CreateOpeningResponse>, Status> {
        let caller = caller(&request)?;
        let (opening, _) = self
            .put(&caller, request.into_inner().opening, PutMode::Create)
            .await?;
        Ok(Response::new(pb::CreateOpeningResponse {
            opening: Some(opening.into()),
        }))
    }

    #[instrument(skip_all)]
    async fn upsert_opening(
        &self,
        request: Request<pb::UpsertOpeningRequest>,
    ) -> Result<Response<pb::UpsertOpeningResponse>, Status> {
        let caller = caller(&request)?;
        let (opening, created) = self
            .put(&caller, request.into_inner().opening, PutMode::Upsert)
            .await?;
        Ok(Response::new(pb::UpsertOpeningResponse {
            opening: Some(opening.into()),
            created,
        }))
    }

    #[instrument(skip_all, fields(opening_id = %request.get_ref().id))]
    async fn get_opening(
        &self,
        request: Request<pb::GetOpeningRequest>,
    ) -> Result<Response<pb::GetOpeningResponse>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().id;
        request_id(&id, "id")?;
        let store = self.backend.store().clone();
        let opening = blocking(move || {
            store
                .opening(&id)?
                .ok_or_else(|| StoreError::not_found("opening", id))
        })
        .await?;
        need_employer(
            &caller,
            &opening.employer_id,
            &format!("opening {:?}", opening.id),
        )?;
        Ok(Response::new(pb::GetOpeningResponse {
            opening: Some(opening.into()),
        }))
    }

    #[instrument(skip_all, fields(opening_id = %request.get_ref().id))]
    async fn close_opening(
        &self,
        request: Request<pb::CloseOpeningRequest>,
    ) -> Result<Response<pb::CloseOpeningResponse>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().id;
        request_id(&id, "id")?;
        self.stored_in_scope(&caller, &id).await?;
        let backend = self.backend.clone();
        let opening = blocking(move || backend.close_opening(&id)).await?;
        self.backend
            .store()
            .sync()
            .await
            .map_err(status::from_store)?;
        Ok(Response::new(pb::CloseOpeningResponse {
            opening: Some(opening.into()),
        }))
    }

    #[instrument(skip_all)]
    async fn list_openings(
        &self,
        request: Request<pb::ListOpeningsRequest>,
    ) -> Result<Response<pb::ListOpeningsResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let mut filter = opening_filter(&r).map_err(status::from_validation)?;
        if caller.role == Role::Recruiter {
            // A recruiter lists its own employer's openings.
            match &filter.employer_id {
                Some(e) => need_employer(&caller, e, &format!("employer_id {e:?}"))?,
                None => filter.employer_id = caller.scope.employer_id.clone(),
            }
        }
        let fingerprint = page_token::fingerprint(&[
            filter.region_code.as_deref().unwrap_or(""),
            filter.source.map_or("", |s| s.label()),
            filter.status.map_or("", |s| s.label()),
            filter.employer_id.as_deref().unwrap_or(""),
        ]);
        let after =
            page_token::decode(&r.page_token, fingerprint).map_err(status::from_validation)?;
        let limit = page_token::page_size(r.page_size);
        let store = self.backend.store().clone();
        let page = blocking(move || store.list_openings(&filter, after.as_deref(), limit)).await?;
        Ok(Response::new(pb::ListOpeningsResponse {
            openings: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page
                .next_after
                .map(|a| page_token::encode(&a, fingerprint))
                .unwrap_or_default(),
        }))
    }

    #[instrument(skip_all)]
    async fn import_openings(
        &self,
        request: Request<Streaming<pb::ImportOpeningsRequest>>,
    ) -> Result<Response<pb::ImportOpeningsResponse>, Status> {
        let caller = caller(&request)?;
        let outcome =
            import::run::<OpeningImport>(self.backend.clone(), request.into_inner(), caller)
                .await?;
        tracing::info!(
            accepted = outcome.accepted,
            rejected = outcome.rejected,
            "openings imported"
        );
        Ok(Response::new(pb::ImportOpeningsResponse {
            accepted: outcome.accepted,
            rejected: outcome.rejected,
            errors: outcome.errors,
            errors_omitted: outcome.errors_omitted,
        }))
    }
}

fn opening_filter(r: &pb::ListOpeningsRequest) -> Validated<OpeningFilter> {
    let employer_id = if r.employer_id.is_empty() {
        None
    } else {
        rules::check_id(&r.employer_id)
            .map_err(|reason| ValidationError::new("employer_id", reason))?;
        Some(r.employer_id.clone())
    };
    Ok(OpeningFilter {
        region_code: optional_region_filter(r.region_code.clone(), "region_code")?,
        source: source_filter(r.source, "source")?,
        status: opening_status_filter(r.status, "status")?,
        employer_id,
    })
}

struct OpeningImport;

impl Importer for OpeningImport {
    type Row = pb::ImportOpeningsRequest;
    type Record = Opening;

    fn parse(row: Self::Row, caller: &Caller) -> (String, Validated<Opening>) {
        match row.opening {
            None => (
                String::new(),
                Err(ValidationError::new("opening", "is required")),
            ),
            Some(o) => {
                let id = o.id.clone();
                let parsed = opening_from_pb(o).and_then(|o| {
                    let field = if caller.role == Role::Recruiter {
                        "opening.employer_id"
                    } else {
                        "opening.region_code"
                    };
                    may_write(caller, &o)
                        .map(|()| o)
                        .map_err(|reason| ValidationError::new(field, reason))
                });
                (id, parsed)
            }
        }
    }

    fn put(
        backend: &Backend,
        batch: Vec<Opening>,
        caller: &Caller,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        // An admin may write any record: nothing stored to check against.
        if caller.role == Role::Admin {
            return backend.put_openings(&batch);
        }
        import::put_checked(
            batch,
            |o| match backend.store().opening(&o.id)? {
                Some(old) => may_write(caller, &old).map_err(StoreError::Forbidden),
                None => Ok(()),
            },
            |allowed| backend.put_openings(&allowed),
        )
    }
}
