//! Handlers of `PlacementService`: validate the request, one service call
//! (which takes the step in one store transaction and keeps the match
//! index in step), convert.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{audited, unpack};
use super::convert::{
    actor, decline_reason_from_pb, optional, separation_reason_from_pb, status_from_pb,
};
use super::page_token::Pager;
use super::workers::{request_id, request_scoped_id};
use super::{pb, status};
use crate::domain::access::Caller;
use crate::domain::placement::{china_today, day_number};
use crate::domain::placement::{Action, Placement};
use crate::domain::query::PlacementFilter;
use crate::domain::{rules, scoped, Reason, ValidationError};
use crate::service::access::target;
use crate::service::Service;

/// Longest free-text reason or note.
const MAX_NOTE: usize = 256;
/// Most due check-ins listed in one reply.
const MAX_DUE: usize = 10_000;

/// The `jobbridge.v1.PlacementService` service.
#[derive(Clone)]
pub struct PlacementService {
    service: Arc<Service>,
}

fn invalid(field: &str, reason: impl Into<Reason>) -> Status {
    status::from_validation(ValidationError::new(field, reason))
}

/// Optional free text: at most 256 characters, no control characters.
fn note(value: &str, field: &str) -> Result<String, Status> {
    let note = optional(value, field, |n| rules::check_text(n, MAX_NOTE))?;
    Ok(note.unwrap_or_default())
}

/// A placement on the wire, audited under its id.
fn placement_reply(p: Placement) -> Response<pb::Placement> {
    let target = target::placement(&p);
    audited(Response::new(p.into()), target)
}

/// A past or present date (China), as a day number.
fn past_date(value: &str, field: &str) -> Result<i32, Status> {
    if value.is_empty() {
        return Err(invalid(field, Reason::required()));
    }
    let date = rules::parse_date(value).map_err(|r| invalid(field, r))?;
    let day = day_number(date);
    if day > china_today() {
        return Err(invalid(field, format!("{value} is in the future")));
    }
    Ok(day)
}

impl PlacementService {
    /// Handlers over `service`.
    pub fn new(service: Arc<Service>) -> Self {
        Self { service }
    }

    async fn step(
        &self,
        caller: &Caller,
        id: String,
        action: Action,
        actor: String,
    ) -> Result<Response<pb::Placement>, Status> {
        request_id(&id, "placement_id")?;
        let p = self
            .service
            .placement_step(caller, &id, action, actor)
            .await?;
        Ok(placement_reply(p))
    }
}

#[tonic::async_trait]
impl pb::placement_service_server::PlacementService for PlacementService {
    #[instrument(skip_all, fields(worker_id = %request.get_ref().worker_id, opening_id = %request.get_ref().opening_id))]
    async fn propose(
        &self,
        request: Request<pb::ProposeRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let (caller, r) = unpack(request)?;
        request_scoped_id(&r.worker_id, "worker_id")?;
        request_id(&r.opening_id, "opening_id")?;
        let actor = actor(&r.actor)?;
        let p = self
            .service
            .propose(
                &caller,
                &r.worker_id,
                &r.opening_id,
                r.run_id,
                actor,
                super::lang::current(),
            )
            .await?;
        Ok(placement_reply(p))
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn accept(
        &self,
        request: Request<pb::AcceptRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let (caller, r) = unpack(request)?;
        let actor = actor(&r.actor)?;
        self.step(&caller, r.placement_id, Action::Accept, actor)
            .await
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn decline(
        &self,
        request: Request<pb::DeclineRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let (caller, r) = unpack(request)?;
        let actor = actor(&r.actor)?;
        let reason = note(&r.reason, "reason")?;
        let code = decline_reason_from_pb(r.reason_code)?;
        self.step(
            &caller,
            r.placement_id,
            Action::Decline { code, reason },
            actor,
        )
        .await
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn record_hire(
        &self,
        request: Request<pb::RecordHireRequest>,
    ) -> Result<Response<pb::Placement>, Status> {
        let (caller, r) = unpack(request)?;
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
        let (caller, r) = unpack(request)?;
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
        let (caller, r) = unpack(request)?;
        let actor = actor(&r.actor)?;
        crate::domain::placement::check_in_month(r.month)?;
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
        let (caller, r) = unpack(request)?;
        request_id(&r.placement_id, "placement_id")?;
        let p = self.service.placement(&caller, &r.placement_id).await?;
        Ok(placement_reply(p))
    }

    #[instrument(skip_all)]
    async fn list(
        &self,
        request: Request<pb::ListPlacementsRequest>,
    ) -> Result<Response<pb::ListPlacementsResponse>, Status> {
        let (caller, r) = unpack(request)?;
        // The county is checked first, as before the filter was built in
        // one expression: a request with several bad fields names the same.
        let county_code = optional(&r.county_code, "county_code", rules::check_region_code)?;
        let filter = PlacementFilter {
            worker_id: optional(&r.worker_id, "worker_id", scoped::check_scoped_id)?,
            opening_id: optional(&r.opening_id, "opening_id", rules::check_id)?,
            county_code,
            status: status_from_pb(r.status).map_err(|e| invalid("status", e))?,
        };
        Pager::new(&self.service, &r, &filter)?
            .reply(|after, limit| self.service.list_placements(&caller, filter, after, limit))
            .await
    }

    #[instrument(skip_all, fields(placement_id = %request.get_ref().placement_id))]
    async fn get_history(
        &self,
        request: Request<pb::GetPlacementHistoryRequest>,
    ) -> Result<Response<pb::GetPlacementHistoryResponse>, Status> {
        let (caller, r) = unpack(request)?;
        request_id(&r.placement_id, "placement_id")?;
        let events = self
            .service
            .placement_history(&caller, &r.placement_id)
            .await?;
        Ok(Response::new(pb::GetPlacementHistoryResponse {
            placement_id: r.placement_id,
            events: events.into_iter().map(Into::into).collect(),
        }))
    }

    #[instrument(skip_all)]
    async fn list_due_check_ins(
        &self,
        request: Request<pb::ListDueCheckInsRequest>,
    ) -> Result<Response<pb::ListDueCheckInsResponse>, Status> {
        let (caller, r) = unpack(request)?;
        let county = optional(&r.county_code, "county_code", rules::check_region_code)?;
        if r.within_days > 366 {
            return Err(invalid(
                "within_days",
                format!("must be 0 to 366, got {}", r.within_days),
            ));
        }
        let today = china_today();
        let until = today + r.within_days as i32;
        let due = self.service.due_check_ins(&caller, county, until).await?;
        let omitted = due.len().saturating_sub(MAX_DUE) as u64;
        let check_ins = due
            .into_iter()
            .take(MAX_DUE)
            .map(|call| due_to_pb(call, today))
            .collect();
        Ok(Response::new(pb::ListDueCheckInsResponse {
            check_ins,
            omitted,
        }))
    }
}

/// A check-in due, with whom to call, on the wire.
pub(crate) fn due_to_pb(call: crate::service::DueCall, today: i32) -> pb::DueCheckIn {
    let d = call.due;
    pb::DueCheckIn {
        due_date: crate::domain::placement::day_date(d.due_day)
            .format("%Y-%m-%d")
            .to_string(),
        overdue: d.due_day < today,
        month: d.month,
        placement_id: d.placement.id,
        worker_id: d.placement.worker_id,
        county_code: d.placement.county_code,
        opening_id: d.placement.opening_id,
        worker_name: call.name,
        worker_phone: call.phone,
        masked: call.masked,
    }
}
