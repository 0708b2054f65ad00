//! `Batch.WhatIf`: its changes from the wire, its answer to the wire and
//! back (the CLI prints what a server answered as it prints its own).

use super::{opening_from_pb, worker_from_pb};
use crate::api::pb;
use crate::batch::whatif::{CountyCoverage, Move, PlanFigures, WhatIfAnswer};
use crate::domain::{regions, rules, scoped, Lang, Reason, Validated, ValidationError};
use crate::service::WhatIfChange;

/// `e`, raised on a record named `from` (`opening.title`), as a field of
/// `to` (`changes[0].add_opening.title`).
fn rebase(mut e: ValidationError, from: &str, to: &str) -> ValidationError {
    e.field = match e.field.strip_prefix(from) {
        Some(rest) if rest.is_empty() || rest.starts_with('.') => format!("{to}{rest}"),
        _ => format!("{to}.{}", e.field),
    };
    e
}

/// The request's changes, each validated as the write it stands for;
/// errors name the field as `changes[i].<path>`.
pub(crate) fn what_if_changes_from_pb(
    changes: Vec<pb::WhatIfChange>,
) -> Validated<Vec<WhatIfChange>> {
    use pb::what_if_change::Change;
    changes
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let at = |name: &str| format!("changes[{i}].{name}");
            let id = |value: &str, field: String| {
                rules::check_id(value).map_err(|r| ValidationError::new(field, r))
            };
            match c.change {
                None => Err(ValidationError::new(
                    format!("changes[{i}]"),
                    Reason::new(
                        "须给出一项变更（add_opening、resize_opening、close_opening_id、\
                         add_worker 或 remove_worker_id）",
                        "must set one change (add_opening, resize_opening, close_opening_id, \
                         add_worker or remove_worker_id)",
                    ),
                )),
                Some(Change::AddOpening(o)) => opening_from_pb(o)
                    .map(WhatIfChange::AddOpening)
                    .map_err(|e| rebase(e, "opening", &at("add_opening"))),
                Some(Change::ResizeOpening(r)) => {
                    id(&r.opening_id, at("resize_opening.opening_id"))?;
                    Ok(WhatIfChange::ResizeOpening {
                        opening_id: r.opening_id,
                        headcount: r.headcount,
                    })
                }
                Some(Change::CloseOpeningId(o)) => {
                    id(&o, at("close_opening_id"))?;
                    Ok(WhatIfChange::CloseOpening(o))
                }
                Some(Change::AddWorker(w)) => worker_from_pb(w)
                    .map(WhatIfChange::AddWorker)
                    .map_err(|e| rebase(e, "worker", &at("add_worker"))),
                Some(Change::RemoveWorkerId(w)) => {
                    scoped::check_scoped_id(&w)
                        .map_err(|r| ValidationError::new(at("remove_worker_id"), r))?;
                    Ok(WhatIfChange::RemoveWorker(w))
                }
            }
        })
        .collect()
}

fn plan_to_pb(p: PlanFigures) -> pb::WhatIfPlan {
    pb::WhatIfPlan {
        hires: p.hires,
        zero_households_covered: p.zero_households_covered,
        total_score_micro: p.total_score_micro,
    }
}

fn plan_from_pb(p: Option<pb::WhatIfPlan>) -> PlanFigures {
    let p = p.unwrap_or_default();
    PlanFigures {
        hires: p.hires,
        zero_households_covered: p.zero_households_covered,
        total_score_micro: p.total_score_micro,
    }
}

/// The answer on the wire, county names in `lang`.
pub(crate) fn what_if_to_pb(a: WhatIfAnswer, lang: Lang) -> pb::WhatIfResponse {
    let change = a.after.total_score_micro as i64 - a.before.total_score_micro as i64;
    pb::WhatIfResponse {
        before: Some(plan_to_pb(a.before)),
        after: Some(plan_to_pb(a.after)),
        households_newly_covered: a.newly_covered,
        households_no_longer_covered: a.no_longer_covered,
        by_county: a
            .by_county
            .into_iter()
            .map(|c| pb::WhatIfCounty {
                county_name: regions::name(&c.county_code, lang),
                county_code: c.county_code,
                newly_covered: c.newly_covered,
                no_longer_covered: c.no_longer_covered,
            })
            .collect(),
        score_change_micro: change,
        score_change: change as f64 / 1e6,
        moves: a
            .moves
            .into_iter()
            .map(|m| pb::WhatIfMove {
                worker_id: m.worker_id,
                county_code: m.county_code,
                opening_before: m.before.unwrap_or_default(),
                opening_after: m.after.unwrap_or_default(),
            })
            .collect(),
        moves_total: a.moves_total,
        scoring_ms: a.scoring_ms,
        solving_ms: a.solving_ms,
        rows_kept: a.rows_kept,
        rows_scored: a.rows_scored,
        baseline_from_last_run: a.baseline_from_last_run,
        counties: Vec::new(),
    }
}

/// A server's answer as the service gives it (county names are looked up
/// again where printed).
pub(crate) fn what_if_from_pb(r: pb::WhatIfResponse) -> WhatIfAnswer {
    let some = |s: String| (!s.is_empty()).then_some(s);
    WhatIfAnswer {
        before: plan_from_pb(r.before),
        after: plan_from_pb(r.after),
        newly_covered: r.households_newly_covered,
        no_longer_covered: r.households_no_longer_covered,
        by_county: r
            .by_county
            .into_iter()
            .map(|c| CountyCoverage {
                county_code: c.county_code,
                newly_covered: c.newly_covered,
                no_longer_covered: c.no_longer_covered,
            })
            .collect(),
        moves: r
            .moves
            .into_iter()
            .map(|m| Move {
                worker_id: m.worker_id,
                county_code: m.county_code,
                before: some(m.opening_before),
                after: some(m.opening_after),
            })
            .collect(),
        moves_total: r.moves_total,
        scoring_ms: r.scoring_ms,
        solving_ms: r.solving_ms,
        rows_kept: r.rows_kept,
        rows_scored: r.rows_scored,
        baseline_from_last_run: r.baseline_from_last_run,
    }
}
