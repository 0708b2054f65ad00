//! Who may touch which record: the county and employer scope checks, in
//! one place. The permission table (which role may call which RPC) is the
//! access layer's (`api::auth`); these checks look at the records
//! themselves, so they run here, next to the reads they need.

use super::ServiceError;
use crate::domain::access::{Caller, Role};
use crate::domain::run::{Run, RunSummary, APPLIED_WHOLE};
use crate::domain::{Opening, Reason, ValidationError, Worker};

/// Forbidden unless the caller may act on county `code`. `what` names the
/// record (`worker "w-1"`).
pub fn county(caller: &Caller, code: &str, what: &str) -> Result<(), ServiceError> {
    if caller.covers_county(code) {
        return Ok(());
    }
    Err(ServiceError::Forbidden(format!(
        "{what} is in county {code}, outside the counties of token {} ({})",
        caller.token_id,
        caller.scope.counties.join(", ")
    )))
}

/// Forbidden unless the caller may act on employer `id`'s openings:
/// admins and service companies always, recruiters for their employer.
pub fn employer(caller: &Caller, id: &str, what: &str) -> Result<(), ServiceError> {
    if caller.role != Role::Recruiter || caller.covers_employer(id) {
        return Ok(());
    }
    Err(ServiceError::Forbidden(format!(
        "{what} belongs to employer {id:?}, not to the employer of token {}",
        caller.token_id
    )))
}

/// For a service company, a listing or report must name one of its
/// counties in `field`; others may leave it empty.
pub fn county_filter(
    caller: &Caller,
    county_code: Option<&str>,
    field: &str,
) -> Result<(), ServiceError> {
    if caller.role != Role::ServiceCompany {
        return Ok(());
    }
    match county_code {
        Some(c) => county(caller, c, &format!("{field} {c}")),
        None => Err(ServiceError::Forbidden(format!(
            "a service_company token must set {field} to one of its counties ({})",
            caller.scope.counties.join(", ")
        ))),
    }
}

/// Whether `caller` may write opening `o` (as sent, or as stored): a
/// service company in its counties, a recruiter for its employer.
pub fn opening_write(caller: &Caller, o: &Opening) -> Result<(), String> {
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

/// An imported opening row the caller may not write, refused as a row
/// error naming the field that puts it out of scope.
pub fn opening_row(caller: &Caller, o: &Opening) -> Result<(), ValidationError> {
    let field = if caller.role == Role::Recruiter {
        "opening.employer_id"
    } else {
        "opening.region_code"
    };
    opening_write(caller, o).map_err(|reason| ValidationError::new(field, reason))
}

/// An imported worker row outside the caller's counties, refused as a row
/// error on `worker.county_code`.
pub fn worker_row(caller: &Caller, w: &Worker) -> Result<(), ValidationError> {
    if caller.covers_county(&w.county_code) {
        return Ok(());
    }
    Err(ValidationError::new(
        "worker.county_code",
        Reason::new(
            format!(
                "县区 {} 不在本令牌可管理的县区（{}）之内",
                w.county_code,
                caller.scope.counties.join("、")
            ),
            format!(
                "county {} is outside the counties of this token ({})",
                w.county_code,
                caller.scope.counties.join(", ")
            ),
        ),
    ))
}

/// What `caller` may read of a batch run. An admin reads it whole. A
/// service company reads the run's identity and state (id, policy,
/// status, phase, times, whether it is staged) and, of its results, only
/// the `by_county` rows of its own counties and the run's timings.
/// Everything else counts records of every county (the whole-run totals,
/// the per-source rows, gained / lost / changed, the proposals made) and
/// is left at 0; `applied_counties` keeps only its counties and `"*"`; a
/// failure's message, which may name any record, becomes a fixed one.
/// Readers and recruiters never reach this (the permission table refuses
/// them); they get the company's view with no counties, i.e. no rows.
pub fn run_view(caller: &Caller, mut run: Run) -> Run {
    if caller.role == Role::Admin {
        return run;
    }
    let mine = |code: &str| caller.covers_county(code);
    run.summary = run.summary.map(|s| RunSummary {
        by_county: s.by_county.into_iter().filter(|r| mine(&r.key)).collect(),
        previous_run_id: s.previous_run_id,
        scoring_ms: s.scoring_ms,
        solving_ms: s.solving_ms,
        saving_ms: s.saving_ms,
        ..RunSummary::default()
    });
    run.applied_counties
        .retain(|c| c == APPLIED_WHOLE || mine(c));
    run.proposals_created = 0;
    run.proposals_skipped = 0;
    if !run.error.is_empty() {
        run.error = "the run failed; an administrator can read why".to_string();
    }
    run
}
