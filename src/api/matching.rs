//! Handlers of the `Matching` service: convert the query, one service call
//! (ranking runs on rayon there), convert the matches.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{audited, unpack};
use super::pb;
use super::pb::matching_server::Matching;
use super::workers::{request_id, request_scoped_id};
use crate::domain::{rules, Lang, Validated, ValidationError};
use crate::matching::{
    region_number, ComponentExplanation, OpeningsQuery, Ranking, Reason, WorkersQuery,
};
use crate::service::access::target;
use crate::service::{OpeningMatch, Service, WorkerMatch};

/// Results returned when the request says `top_k = 0`.
const DEFAULT_TOP_K: u32 = 20;
/// Most results one query may ask for.
const MAX_TOP_K: u32 = 1000;

/// The `jobbridge.v1.Matching` service.
#[derive(Clone)]
pub struct MatchingService {
    service: Arc<Service>,
}

impl MatchingService {
    /// Handlers over `service`.
    pub fn new(service: Arc<Service>) -> Self {
        Self { service }
    }
}

#[tonic::async_trait]
impl Matching for MatchingService {
    #[instrument(skip_all, fields(worker_id = %request.get_ref().worker_id))]
    async fn match_openings_for_worker(
        &self,
        request: Request<pb::MatchOpeningsForWorkerRequest>,
    ) -> Result<Response<pb::MatchOpeningsForWorkerResponse>, Status> {
        let (caller, r) = unpack(request)?;
        request_scoped_id(&r.worker_id, "worker_id")?;
        let query = openings_query(&r)?;
        let lang = super::lang::current();
        let matches = self
            .service
            .match_openings(&caller, &r.worker_id, query, lang)
            .await?;
        let matches = matches
            .into_iter()
            .map(|m| opening_match(m, lang))
            .collect();
        let target = target::worker(&r.worker_id);
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
        let (caller, r) = unpack(request)?;
        request_id(&r.opening_id, "opening_id")?;
        let query = workers_query(&r)?;
        let matches = self
            .service
            .match_workers(&caller, &r.opening_id, query, super::lang::current())
            .await?;
        let matches = matches.into_iter().map(worker_match).collect();
        let target = target::opening(&r.opening_id);
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
        let (caller, r) = unpack(request)?;
        request_scoped_id(&r.worker_id, "worker_id")?;
        request_id(&r.opening_id, "opening_id")?;
        let e = self
            .service
            .explain_match(&caller, &r.worker_id, &r.opening_id, super::lang::current())
            .await?;
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
        ranking: ranking(r.ranking)?,
        planned: None,
    })
}

fn ranking(value: i32) -> Validated<Ranking> {
    match pb::Ranking::try_from(value) {
        Ok(pb::Ranking::Unspecified) => Ok(Ranking::default()),
        Ok(pb::Ranking::Net) => Ok(Ranking::Net),
        Ok(pb::Ranking::Score) => Ok(Ranking::Score),
        Err(_) => Err(ValidationError::new(
            "ranking",
            format!("unknown ranking {value}; RANKING_NET or RANKING_SCORE"),
        )),
    }
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
        contest: None,
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

fn opening_match(m: OpeningMatch, lang: Lang) -> pb::OpeningMatch {
    let (r, o) = (m.ranked, m.opening);
    let contest = r.contest.map(|c| pb::Contest {
        price: c.points_micro as f64 / 1e6,
        price_micro: c.points_micro,
        covers_household: c.households > 0,
        net_score: r.net_micro() as f64 / 1e6,
        reason: c.reason(r.score_micro, lang),
        run_id: c.run_id,
    });
    let mut why = explanation(r.components, r.distance_km);
    why.contest = contest;
    pb::OpeningMatch {
        opening_id: r.id,
        score: f64::from(r.score_micro) / 1e6,
        explanation: Some(why),
        title: o.title,
        employer_name: o.employer_name,
        source: super::convert::source_to_pb(o.source).into(),
        monthly_wage: o.monthly_wage,
        region_code: o.region_code,
    }
}

fn worker_match(m: WorkerMatch) -> pb::WorkerMatch {
    let r = m.ranked;
    pb::WorkerMatch {
        worker_id: r.id,
        score: f64::from(r.score_micro) / 1e6,
        explanation: Some(explanation(r.components, r.distance_km)),
        name: m.name,
        phone: m.phone,
        masked: m.masked,
        county_code: m.county_code,
        site_id: m.site_id,
        zero_employment_household: r.zero_household,
    }
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
        Reason::WelfareHireAge => pb::IneligibilityReason::WelfareHireAgeReached,
        Reason::WelfareGroup => pb::IneligibilityReason::NotInWelfareGroup,
        Reason::WelfareTenure => pb::IneligibilityReason::WelfareTenureUsedUp,
        Reason::DeclinedBefore => pb::IneligibilityReason::DeclinedBefore,
    }
}
