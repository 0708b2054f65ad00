//! Handlers of `PlacementService`: validate, take the step in one store
//! transaction (through the backend, which keeps the match index in step),
//! wait for durability, convert.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{audited, caller, need_county, need_county_filter};
use super::backend::Backend;
use super::convert::{separation_reason_from_pb, status_from_pb};
use super::workers::request_id;
use super::{blocking, page_token, pb, status};
use crate::domain::access::{Caller, Role};
use crate::domain::placement::{china_today, day_number};
use crate::domain::run::RunStatus;
use crate::domain::{rules, ValidationError};
use crate::matching::MatchContext;
use crate::store::{Action, PlacementFilter, Proposal, StoreError};

/// Longest free-text reason or note.
const MAX_NOTE: usize = 256;
/// Most due check-ins listed in one reply.
const MAX_DUE: usize = 10_000;

/// The `jobbridge.v1.PlacementService` service.
#[derive(Clone)]
pub struct PlacementService {
    backend: Arc<Backend>,
}

fn invalid(field: &str, reason: impl Into<String>) -> Status {
    status::from_validation(ValidationError::new(field, reason))
}

/// The actor named in a request: 1-64 printable characters, or "unknown".
fn actor(value: &str) -> Result<String, Status> {
    if value.is_empty() {
        return Ok("unknown".into());
    }
    rules::check_text(value, 64).map_err(|r| invalid("actor", r))?;
    Ok(value.to_string())
}

/// Optional free text: at most 256 characters, no control characters.
fn note(value: &str, field: &str) -> Result<String, Status> {
    if value.is_empty() {
        return Ok(String::new());
    }
    rules::check_text(value, MAX_NOTE).map_err(|r| invalid(field, r))?;
    Ok(value.to_string())
}

/// A past or present date (China), as a day number.
fn past_date(value: &str, field: &str) -> Result<i32, Status> {
    if value.is_empty() {
        return Err(invalid(field, "is required"));
    }
    let date = rules::parse_date(value).map_err(|r| invalid(field, r))?;
    let day = day_number(date);
    if day > china_today() {
        return Err(invalid(field, format!("{value} is in the future")));
    }
    Ok(day)
}

impl PlacementService {
    /// A service over `backend`.
    pub fn new(backend: Arc<Backend>) -> Self {
        Self { backend }
    }

    async fn step(
        &self,
        caller: &Caller,
        id: String,
        action: Action,
        actor: String,
    ) -> Result<Response<pb::Placement>, Status> {
        request_id(&id, "placement_id")?;
        self.in_scope(caller, &id).await?;
        let backend = self.backend.clone();
        let changed = blocking(move || backend.placement_step(&id, &action, &actor)).await?;
        self.sync().await?;
        let target = format!(
            "placement {} (worker {})",
            changed.placement.id, changed.placement.worker_id
        );
        Ok(audited(Response::new(changed.placement.into()), target))
    }

    /// PERMISSION_DENIED if placement `id` is of a county outside the
    /// caller's; `NotFound` is left to the operation.
    async fn in_scope(&self, caller: &Caller, id: &str) -> Result<(), Status> {
        if caller.role == Role::Admin {
            return Ok(());
        }
        let store = self.backend.store().clone();
        let owned = id.to_string();
        match blocking(move || store.placement(&owned)).await? {
            Some(p) => need_county(caller, &p.county_code, &format!("placement {id}")),
            None => Ok(()),
        }
    }

    async fn sync(&self) -> Result<(), Status> {
        self.backend
            .store()
            .sync()
            .await
            .map_err(status::from_store)
    }

    /// Checks a proposal: the caller's scope over the worker, the match
    /// index (eligibility, score) and, for a batch run's, the run's
    /// assignment.
    fn check_proposal(
        backend: &Backend,
        caller: &Caller,
        worker_id: &str,
        opening_id: &str,
        run_id: u64,
    ) -> Result<Proposal, StoreError> {
        let store = backend.store();
        let worker = store
            .worker(worker_id)?
            .ok_or_else(|| StoreError::not_found("worker", worker_id))?;
        need_county(
            caller,
            &worker.county_code,
            &format!("worker {worker_id:?}"),
        )
        .map_err(|s| StoreError::Forbidden(s.message().to_string()))?;
        if store.opening(opening_id)?.is_none() {
            return Err(StoreError::not_found("opening", opening_id));
        }
        if run_id != 0 {
            let run = store
                .run(run_id)?
                .ok_or_else(|| StoreError::not_found("run", run_id.to_string()))?;
            if run.status() != RunStatus::Succeeded {
                return Err(StoreError::precondition(format!(
                    "run {run_id} did not succeed; only a succeeded run's assignments can be \
                     proposed"
                )));
            }
            match store.assignment(run_id, worker_id)? {
                Some(a) if a.opening_id == opening_id => {}
                Some(a) => {
                    return Err(StoreError::precondition(format!(
                        "run {run_id} assigned worker {worker_id:?} to opening {:?}, not {opening_id:?}",
                        a.opening_id
                    )))
                }
                None => {
                    return Err(StoreError::precondition(format!(
                        "run {run_id} assigned worker {worker_id:?} to no opening"
                    )))
                }
            }
        }
        let explanation =
            backend
                .matcher()
                .read()
                .explain_pair(worker_id, opening_id, &MatchContext::now());
        let Some(x) = explanation else {
            return Err(StoreError::not_found("worker or opening", worker_id));
        };
        if !x.eligible {
            let reasons: Vec<String> = x
                .violations
                .iter()
                .map(|(r, text)| format!("{}: {text}", r.code()))
                .collect();
            return Err(StoreError::precondition(format!(
                "worker {worker_id:?} is not eligible for opening {opening_id:?}: {}",
                reasons.join("; ")
            )));
        }
        Ok(Proposal {
            worker_id: worker_id.to_string(),
            opening_id: opening_id.to_string(),
            run_id,
            score_micro: i64::from(x.score_micro),
            zero_household: None,
        })
    }
}

#[tonic::async_trait]
impl pb::placement_service_server::PlacementService for PlacementService {
    #[instrument(skip_all, fields(worker_id = %request.get_ref().worker_id, opening_id = %request.get_ref().opening_id))]
    async fn propose(
        &self,
        request: Request<pb::ProposeRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        request_id(&r.worker_id, "worker_id")?;
        request_id(&r.opening_id, "opening_id")?;
        let actor = actor(&r.actor)?;
        let backend = self.backend.clone();
        let changed = blocking(move || {
            let proposal =
                Self::check_proposal(&backend, &caller, &r.worker_id, &r.opening_id, r.run_id)?;
            backend.propose(&proposal, &actor)
        })
        .await?;
        self.sync().await?;
        let target = format!(
            "placement {} (worker {})",
            changed.placement.id, changed.placement.worker_id
        );
        Ok(audited(Response::new(changed.placement.into()), target))
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn accept(
        &self,
        request: Request<pb::AcceptRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let actor = actor(&r.actor)?;
        self.step(&caller, r.placement_id, Action::Accept, actor)
            .await
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn decline(
        &self,
        request: Request<pb::DeclineRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let actor = actor(&r.actor)?;
        let reason = note(&r.reason, "reason")?;
        self.step(&caller, r.placement_id, Action::Decline { reason }, actor)
            .await
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn record_hire(
        &self,
        request: Request<pb::RecordHireRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let actor = actor(&r.actor)?;
        let day = past_date(&r.hire_date, "hire_date")?;
        self.step(&caller, r.placement_id, Action::Hire { day }, actor)
            .await
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn record_separation(
        &self,
        request: Request<pb::RecordSeparationRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let actor = actor(&r.actor)?;
        let day = past_date(&r.separation_date, "separation_date")?;
        let reason = separation_reason_from_pb(r.reason).map_err(|e| invalid("reason", e))?;
        let note = note(&r.note, "note")?;
        self.step(
            &caller,
            r.placement_id,
            Action::Separate { day, reason, note },
            actor,
        )
        .await
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn record_check_in(
        &self,
        request: Request<pb::RecordCheckInRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let actor = actor(&r.actor)?;
        crate::domain::placement::check_in_month(r.month).map_err(status::from_validation)?;
        let day = past_date(&r.date, "date")?;
        let note = note(&r.note, "note")?;
        let action = Action::CheckIn {
            month: r.month,
            day,
            still_employed: r.still_employed,
            note,
        };
        self.step(&caller, r.placement_id, action, actor).await
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn get(
        &self,
        request: Request<pb::GetPlacementRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().placement_id;
        request_id(&id, "placement_id")?;
        let store = self.backend.store().clone();
        let p = blocking(move || {
            store
                .placement(&id)?
                .ok_or_else(|| StoreError::not_found("placement", id))
        })
        .await?;
        need_county(&caller, &p.county_code, &format!("placement {}", p.id))?;
        let target = format!("placement {} (worker {})", p.id, p.worker_id);
        Ok(audited(Response::new(p.into()), target))
    }

    #[instrument(skip_all)]
    async fn list(
        &self,
        request: Request<pb::ListPlacementsRequest>,
    ) -> Result<Response<pb::ListPlacementsResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let id_filter = |value: &str, field: &str| -> Result<Option<String>, Status> {
            if value.is_empty() {
                return Ok(None);
            }
            request_id(value, field)?;
            Ok(Some(value.to_string()))
        };
        let county_code = if r.county_code.is_empty() {
            None
        } else {
            rules::check_region_code(&r.county_code).map_err(|e| invalid("county_code", e))?;
            Some(r.county_code.clone())
        };
        let filter = PlacementFilter {
            worker_id: id_filter(&r.worker_id, "worker_id")?,
            opening_id: id_filter(&r.opening_id, "opening_id")?,
            county_code,
            status: status_from_pb(r.status).map_err(|e| invalid("status", e))?,
        };
        need_county_filter(&caller, filter.county_code.as_deref(), "county_code")?;
        let fingerprint = page_token::fingerprint(&[
            "placements",
            filter.worker_id.as_deref().unwrap_or(""),
            filter.opening_id.as_deref().unwrap_or(""),
            filter.county_code.as_deref().unwrap_or(""),
            filter.status.map_or("", |s| s.name()),
        ]);
        let after =
            page_token::decode(&r.page_token, fingerprint).map_err(status::from_validation)?;
        let limit = page_token::page_size(r.page_size);
        let store = self.backend.store().clone();
        let page =
            blocking(move || store.list_placements(&filter, after.as_deref(), limit)).await?;
        Ok(Response::new(pb::ListPlacementsResponse {
            placements: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page
                .next_after
                .map(|a| page_token::encode(&a, fingerprint))
                .unwrap_or_default(),
        }))
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn get_history(
        &self,
        request: Request<pb::GetPlacementHistoryRequest>,
    ) -> Result<Response<pb::GetPlacementHistoryResponse>, Status> {
        let caller = caller(&request)?;
        let id = request.into_inner().placement_id;
        request_id(&id, "placement_id")?;
        self.in_scope(&caller, &id).await?;
        let store = self.backend.store().clone();
        let placement_id = id.clone();
        let events = blocking(move || {
            if store.placement(&id)?.is_none() {
                return Err(StoreError::not_found("placement", id));
            }
            store.placement_history(&id)
        })
        .await?;
        Ok(Response::new(pb::GetPlacementHistoryResponse {
            placement_id,
            events: events.into_iter().map(Into::into).collect(),
        }))
    }

    #[instrument(skip_all)]
    async fn list_due_check_ins(
        &self,
        request: Request<pb::ListDueCheckInsRequest>,
    ) -> Result<Response<pb::ListDueCheckInsResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let county = if r.county_code.is_empty() {
            None
        } else {
            rules::check_region_code(&r.county_code).map_err(|e| invalid("county_code", e))?;
            Some(r.county_code)
        };
        need_county_filter(&caller, county.as_deref(), "county_code")?;
        if r.within_days > 366 {
            return Err(invalid(
                "within_days",
                format!("must be 0 to 366, got {}", r.within_days),
            ));
        }
        let today = china_today();
        let until = today + r.within_days as i32;
        let store = self.backend.store().clone();
        let due = blocking(move || store.check_ins_due(county.as_deref(), until)).await?;
        let omitted = due.len().saturating_sub(MAX_DUE) as u64;
        let check_ins = due
            .into_iter()
            .take(MAX_DUE)
            .map(|d| pb::DueCheckIn {
                due_date: crate::domain::placement::day_date(d.due_day)
                    .format("%Y-%m-%d")
                    .to_string(),
                overdue: d.due_day < today,
                month: d.month,
                placement_id: d.placement.id,
                worker_id: d.placement.worker_id,
                county_code: d.placement.county_code,
                opening_id: d.placement.opening_id,
            })
            .collect();
        Ok(Response::new(pb::ListDueCheckInsResponse {
            check_ins,
            omitted,
        }))
    }
}
