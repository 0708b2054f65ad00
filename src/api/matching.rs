//! Handlers of the `Matching` service. Ranking runs on the rayon pool, never
//! on tokio's worker threads; the handler awaits the result.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{audited, caller, need_county, need_employer};
use super::backend::Backend;
use super::pb::matching_server::Matching;
use super::workers::request_id;
use super::{blocking, pb, status};
use crate::domain::access::{mask_name, mask_phone, Caller, Role};
use crate::domain::{rules, Validated, ValidationError};
use crate::matching::{
    region_number, ComponentExplanation, MatchContext, OpeningsQuery, Ranked, Reason, WorkersQuery,
};
use crate::store::StoreError;

/// Results returned when the request says `top_k = 0`.
const DEFAULT_TOP_K: u32 = 20;
/// Most results one query may ask for.
const MAX_TOP_K: u32 = 1000;

/// The `jobbridge.v1.Matching` service.
#[derive(Clone)]
pub struct MatchingService {
    backend: Arc<Backend>,
}

impl MatchingService {
    /// A service over `backend`.
    pub fn new(backend: Arc<Backend>) -> Self {
        Self { backend }
    }
}

/// Runs CPU-heavy work on the rayon pool and waits for it without blocking
/// a tokio worker.
async fn on_rayon<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Status> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await.map_err(|_| {
        tracing::error!("ranking task panicked");
        Status::internal("internal error")
    })
}

impl MatchingService {
    /// A service company asks only about workers of its counties.
    async fn worker_in_scope(&self, caller: &Caller, id: &str) -> Result<(), Status> {
        if caller.role != Role::ServiceCompany {
            return Ok(());
        }
        let store = self.backend.store().clone();
        let owned = id.to_string();
        match blocking(move || store.worker(&owned)).await? {
            Some(w) => need_county(caller, &w.county_code, &format!("worker {id:?}")),
            None => Ok(()),
        }
    }

    /// A recruiter asks only about its employer's openings.
    async fn opening_in_scope(&self, caller: &Caller, id: &str) -> Result<(), Status> {
        if caller.role != Role::Recruiter {
            return Ok(());
        }
        let store = self.backend.store().clone();
        let owned = id.to_string();
        match blocking(move || store.opening(&owned)).await? {
            Some(o) => need_employer(caller, &o.employer_id, &format!("opening {id:?}")),
            None => Ok(()),
        }
    }
}

#[tonic::async_trait]
impl Matching for MatchingService {
    #[instrument(skip_all, fields(worker_id = %request.get_ref().worker_id))]
    async fn match_openings_for_worker(
        &self,
        request: Request<pb::MatchOpeningsForWorkerRequest>,
    ) -> Result<Response<pb::MatchOpeningsForWorkerResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        request_id(&r.worker_id, "worker_id")?;
        let query = openings_query(&r).map_err(status::from_validation)?;
        self.worker_in_scope(&caller, &r.worker_id).await?;
        let target = format!("worker {}", r.worker_id);
        let backend = self.backend.clone();
        let matches = on_rayon(move || {
            let ranked =
                backend
                    .matcher()
                    .read()
                    .rank_openings(&r.worker_id, &query, &MatchContext::now());
            let ranked =
                ranked.ok_or_else(|| StoreError::not_found("worker", r.worker_id.clone()))?;
            ranked
                .into_iter()
                .map(|m| opening_match(&backend, m))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?
        .map_err(status::from_store)?;
        Ok(audited(
            Response::new(pb::MatchOpeningsForWorkerResponse { matches }),
            target,
        ))
    }

    #[instrument(skip_all, fields(opening_id = %request.get_ref().opening_id))]
    async fn match_workers_for_opening(
        &self,
        request: Request<pb::MatchWorkersForOpeningRequest>,
    ) -> Result<Response<pb::MatchWorkersForOpeningResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        request_id(&r.opening_id, "opening_id")?;
        let query = workers_query(&r).map_err(status::from_validation)?;
        self.opening_in_scope(&caller, &r.opening_id).await?;
        let target = format!("opening {}", r.opening_id);
        let backend = self.backend.clone();
        let matches = on_rayon(move || {
            let ranked =
                backend
                    .matcher()
                    .read()
                    .rank_workers(&r.opening_id, &query, &MatchContext::now());
            let ranked =
                ranked.ok_or_else(|| StoreError::not_found("opening", r.opening_id.clone()))?;
            ranked
                .into_iter()
                .map(|m| worker_match(&backend, m, &caller))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?
        .map_err(status::from_store)?;
        Ok(audited(
            Response::new(pb::MatchWorkersForOpeningResponse { matches }),
            target,
        ))
    }

    #[instrument(skip_all, fields(worker_id = %request.get_ref().worker_id, opening_id = %request.get_ref().opening_id))]
    async fn explain_match(
        &self,
        request: Request<pb::ExplainMatchRequest>,
    ) -> Result<Response<pb::ExplainMatchResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        request_id(&r.worker_id, "worker_id")?;
        request_id(&r.opening_id, "opening_id")?;
        match caller.role {
            Role::Recruiter => self.opening_in_scope(&caller, &r.opening_id).await?,
            _ => self.worker_in_scope(&caller, &r.worker_id).await?,
        }
        let index = self.backend.matcher().read();
        let e = index
            .explain_pair(&r.worker_id, &r.opening_id, &MatchContext::now())
            .ok_or_else(|| {
                // Name whichever is missing.
                let store = self.backend.store();
                match store.worker(&r.worker_id) {
                    Ok(Some(_)) => {
                        status::from_store(StoreError::not_found("opening", r.opening_id.clone()))
                    }
                    _ => status::from_store(StoreError::not_found("worker", r.worker_id.clone())),
                }
            })?;
        drop(index);
        Ok(Response::new(pb::ExplainMatchResponse {
            eligible: e.eligible,
            violations: e
                .violations
                .into_iter()
                .map(|(reason, message)| pb::Violation {
                    reason: reason_to(reason).into(),
                    message,
                })
                .collect(),
            score: f64::from(e.score_micro) / 1e6,
            explanation: Some(explanation(e.components, e.distance_km)),
        }))
    }
}

fn top_k(requested: u32) -> Validated<usize> {
    match requested {
        0 => Ok(DEFAULT_TOP_K as usize),
        n if n <= MAX_TOP_K => Ok(n as usize),
        n => Err(ValidationError::new(
            "top_k",
            format!("must be 1 to {MAX_TOP_K}, got {n}"),
        )),
    }
}

fn min_score(value: f64) -> Validated<u32> {
    if !(0.0..=1.0).contains(&value) {
        return Err(ValidationError::new(
            "min_score",
            format!("must be 0 to 1, got {value}"),
        ));
    }
    // Round up, so that "at least 0.5" never admits 0.4999996.
    Ok((value * 1e6).ceil() as u32)
}

fn max_distance(value: f64) -> Validated<Option<f64>> {
    if !value.is_finite() || value < 0.0 {
        return Err(ValidationError::new(
            "max_distance_km",
            format!("must be a number >= 0, got {value}"),
        ));
    }
    Ok((value > 0.0).then_some(value))
}

fn codes(values: &[String], field: &str) -> Validated<Vec<u32>> {
    values
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rules::check_region_code(c)
                .map_err(|r| ValidationError::new(format!("{field}[{i}]"), r))?;
            Ok(region_number(c))
        })
        .collect()
}

fn openings_query(r: &pb::MatchOpeningsForWorkerRequest) -> Validated<OpeningsQuery> {
    let sources = r
        .sources
        .iter()
        .enumerate()
        .map(|(i, &s)| super::convert::required_source(s, &format!("sources[{i}]")))
        .collect::<Validated<Vec<_>>>()?;
    Ok(OpeningsQuery {
        top_k: top_k(r.top_k)?,
        sources,
        counties: codes(&r.region_codes, "region_codes")?,
        max_distance_km: max_distance(r.max_distance_km)?,
        min_wage: r.min_monthly_wage,
        min_score_micro: min_score(r.min_score)?,
    })
}

fn workers_query(r: &pb::MatchWorkersForOpeningRequest) -> Validated<WorkersQuery> {
    Ok(WorkersQuery {
        top_k: top_k(r.top_k)?,
        counties: codes(&r.county_codes, "county_codes")?,
        max_distance_km: max_distance(r.max_distance_km)?,
        min_score_micro: min_score(r.min_score)?,
    })
}

fn explanation(components: Vec<ComponentExplanation>, distance_km: f64) -> pb::Explanation {
    pb::Explanation {
        components: components
            .into_iter()
            .map(|c| pb::ScoreComponent {
                name: c.name.to_string(),
                value: c.value,
                weight: c.weight,
                contribution: c.value * c.weight,
                reason: c.reason,
            })
            .collect(),
        distance_km,
    }
}

fn opening_match(backend: &Backend, m: Ranked) -> Result<pb::OpeningMatch, StoreError> {
    // Written before it was indexed, so it is there unless deleted since.
    let o = backend
        .store()
        .opening(&m.id)?
        .ok_or_else(|| StoreError::not_found("opening", m.id.clone()))?;
    Ok(pb::OpeningMatch {
        opening_id: m.id,
        score: f64::from(m.score_micro) / 1e6,
        explanation: Some(explanation(m.components, m.distance_km)),
        title: o.title,
        employer_name: o.employer_name,
        source: super::convert::source_to_pb(o.source).into(),
        monthly_wage: o.monthly_wage,
        region_code: o.region_code,
    })
}

fn worker_match(
    backend: &Backend,
    m: Ranked,
    caller: &Caller,
) -> Result<pb::WorkerMatch, StoreError> {
    let w = backend
        .store()
        .worker(&m.id)?
        .ok_or_else(|| StoreError::not_found("worker", m.id.clone()))?;
    let clear = caller.sees_personal_data(&w.county_code, w.consent_to_share);
    let phone = w.phone.unwrap_or_default();
    Ok(pb::WorkerMatch {
        worker_id: m.id,
        score: f64::from(m.score_micro) / 1e6,
        explanation: Some(explanation(m.components, m.distance_km)),
        name: if clear { w.name } else { mask_name(&w.name) },
        phone: if clear { phone } else { mask_phone(&phone) },
        masked: !clear,
        county_code: w.county_code,
        site_id: w.site_id,
        zero_employment_household: m.zero_household,
    })
}

fn reason_to(r: Reason) -> pb::IneligibilityReason {
    match r {
        Reason::OpeningClosed => pb::IneligibilityReason::OpeningClosed,
        Reason::NoFreeSlots => pb::IneligibilityReason::NoFreeSlots,
        Reason::OpeningEnded => pb::IneligibilityReason::OpeningEnded,
        Reason::WorkerNotSeeking => pb::IneligibilityReason::WorkerNotSeeking,
        Reason::AgeOutOfRange => pb::IneligibilityReason::AgeOutOfRange,
        Reason::SkillNotMet => pb::IneligibilityReason::SkillNotMet,
        Reason::TooHeavy => pb::IneligibilityReason::TooHeavyForPartialCapacity,
        Reason::TooFar => pb::IneligibilityReason::BeyondCommuteLimit,
        Reason::SourceNotPreferred => pb::IneligibilityReason::SourceNotPreferred,
    }
}
