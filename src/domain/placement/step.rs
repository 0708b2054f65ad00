//! One step of a placement, decided without touching storage: given the
//! placement, its worker and its opening as read, [`apply_step`] says what
//! each becomes and what the history records, or why the step is refused.
//! The store reads the records and writes the outcome in one transaction,
//! so the decision and the write cannot be separated by another writer.

use super::{
    check_in_month, china_day, day_date, employment_held, Action, CheckIn, Placement,
    PlacementEvent, PlacementStatus, StepRefused,
};
use crate::domain::{EmploymentStatus, Opening, OpeningStatus, Worker};

/// Who takes a step, and when: stamped on the placement, its check-ins and
/// its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepContext<'a> {
    /// Now, Unix ms.
    pub now_ms: i64,
    /// The actor named in the request, or `batch:run-N`.
    pub actor: &'a str,
}

/// What a step changes. `worker` and `opening` are `Some` only when they
/// change, so the store writes (and the match index reloads) only those.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// The placement after the step, its event counter advanced.
    pub placement: Placement,
    /// The worker after the step, if it changed.
    pub worker: Option<Worker>,
    /// The opening after the step, if it changed.
    pub opening: Option<Opening>,
    /// The history entry for the step (`seq` is the placement's new count).
    pub event: PlacementEvent,
}

/// Decides step `action` of placement `p`. `worker` and `opening` are the
/// records the placement names, `None` if the store found none; a step
/// that needs a missing one is refused as [`StepRefused::Dangling`].
pub fn apply_step(
    p: &Placement,
    worker: Option<&Worker>,
    opening: Option<&Opening>,
    action: &Action,
    ctx: &StepContext<'_>,
) -> Result<StepOutcome, StepRefused> {
    let from = p.state();
    if !action.allowed_from().contains(&from) {
        return Err(StepRefused::WrongState {
            id: p.id.clone(),
            state: from,
            action: action.name(),
            needs: action.allowed_from(),
        });
    }
    let need_worker = || {
        worker
            .cloned()
            .ok_or_else(|| dangling(p, "worker", &p.worker_id))
    };
    let need_opening = || {
        opening
            .cloned()
            .ok_or_else(|| dangling(p, "opening", &p.opening_id))
    };
    let mut p = p.clone();
    let (note, worker, opening) = match action {
        Action::Accept => {
            let mut w = need_worker()?;
            seeking(&w, "accept")?;
            let mut o = need_opening()?;
            free_slot(&o)?;
            o.filled += 1;
            hold(&mut w, PlacementStatus::Accepted);
            p.set_status(PlacementStatus::Accepted);
            p.accepted_at_ms = ctx.now_ms;
            let note = format!("slot {} of {}", o.filled, o.headcount);
            (note, Some(w), Some(o))
        }
        Action::Decline { code, reason } => {
            let mut w = need_worker()?;
            let mut opening = None;
            if from.holds_slot() {
                let mut o = need_opening()?;
                o.filled = o.filled.saturating_sub(1);
                opening = Some(o);
                w.employment_status = EmploymentStatus::Seeking;
            }
            release(&mut w);
            p.set_status(PlacementStatus::Declined);
            p.declined_at_ms = ctx.now_ms;
            p.decline_reason = reason.clone();
            p.set_decline_code(*code);
            let colon = if reason.is_empty() { "" } else { ": " };
            (format!("{}{colon}{reason}", code.code()), Some(w), opening)
        }
        Action::Hire { day } => {
            let proposed = china_day(p.proposed_at_ms);
            not_before(*day, proposed, "hire_date", "proposal", &p.id)?;
            let mut w = need_worker()?;
            hold(&mut w, PlacementStatus::Hired);
            p.set_status(PlacementStatus::Hired);
            p.hire_day = Some(*day);
            (format!("first day {}", day_date(*day)), Some(w), None)
        }
        Action::Separate { day, reason, note } => {
            let hired = p.hire_day.unwrap_or(i32::MIN);
            not_before(*day, hired, "separation_date", "hire", &p.id)?;
            let mut w = need_worker()?;
            let mut o = need_opening()?;
            o.filled = o.filled.saturating_sub(1);
            w.employment_status = EmploymentStatus::Seeking;
            release(&mut w);
            // Flags the worker for re-matching until the next proposal.
            w.placement.returned_at_ms = Some(ctx.now_ms);
            p.set_status(PlacementStatus::Separated);
            p.separation_day = Some(*day);
            p.separated_at_ms = ctx.now_ms;
            p.set_separation_reason(*reason);
            p.separation_note = note.clone();
            let colon = if note.is_empty() { "" } else { ": " };
            let text = format!(
                "last day {}, {}{colon}{note}",
                day_date(*day),
                reason.label()
            );
            (text, Some(w), Some(o))
        }
        Action::CheckIn {
            month,
            day,
            still_employed,
            note,
        } => {
            check_in_month(*month).map_err(|_| StepRefused::NotACheckInMonth { month: *month })?;
            if p.check_ins.iter().any(|c| c.month == *month) {
                return Err(StepRefused::DuplicateCheckIn {
                    id: p.id.clone(),
                    month: *month,
                });
            }
            let hired = p.hire_day.unwrap_or(i32::MIN);
            not_before(*day, hired, "date", "hire", &p.id)?;
            p.check_ins.push(CheckIn {
                month: *month,
                day: *day,
                still_employed: *still_employed,
                note: note.clone(),
                actor: ctx.actor.to_string(),
                recorded_at_ms: ctx.now_ms,
            });
            let how = if *still_employed {
                "still employed"
            } else {
                "not employed"
            };
            let text = format!("{month}-month check-in on {}: {how}", day_date(*day));
            (text, None, None)
        }
    };
    let event = record(&mut p, from, action.name(), note, ctx);
    Ok(StepOutcome {
        placement: p,
        worker,
        opening,
        event,
    })
}

/// Advances the placement's event counter and writes the history entry
/// for a step from `from` to its current state.
pub(super) fn record(
    p: &mut Placement,
    from: PlacementStatus,
    action: &str,
    note: String,
    ctx: &StepContext<'_>,
) -> PlacementEvent {
    p.events += 1;
    let mut event = PlacementEvent {
        placement_id: p.id.clone(),
        seq: p.events,
        at_ms: ctx.now_ms,
        actor: ctx.actor.to_string(),
        action: action.to_string(),
        note,
        ..Default::default()
    };
    event.set_from(from);
    event.set_to(p.state());
    event
}

/// Refuses a worker who is not seeking work.
pub(super) fn seeking(w: &Worker, doing: &'static str) -> Result<(), StepRefused> {
    if w.employment_status == EmploymentStatus::Seeking {
        return Ok(());
    }
    Err(StepRefused::WorkerNotSeeking {
        worker: w.id.clone(),
        status: w.employment_status,
        doing,
    })
}

/// Refuses a closed or full opening.
pub(super) fn free_slot(o: &Opening) -> Result<(), StepRefused> {
    if o.status == OpeningStatus::Closed {
        return Err(StepRefused::OpeningClosed {
            opening: o.id.clone(),
        });
    }
    if o.filled >= o.headcount {
        return Err(StepRefused::NoFreeSlot {
            opening: o.id.clone(),
            filled: o.filled,
            headcount: o.headcount,
        });
    }
    Ok(())
}

/// The worker's active placement moves to `state`, and with it the
/// employment status that state imposes.
fn hold(w: &mut Worker, state: PlacementStatus) {
    w.placement.active_status = state;
    if let Some(status) = employment_held(state) {
        w.employment_status = status;
    }
}

/// The worker holds no active placement any more.
fn release(w: &mut Worker) {
    w.placement.active_id = None;
    w.placement.active_status = PlacementStatus::Unspecified;
}

/// Refuses `day` in `field` if it falls before `earlier`, the day of the
/// placement's `what` (proposal or hire).
fn not_before(
    day: i32,
    earlier: i32,
    field: &'static str,
    what: &str,
    id: &str,
) -> Result<(), StepRefused> {
    if day >= earlier {
        return Ok(());
    }
    Err(StepRefused::BadDate {
        field,
        reason: format!(
            "{} is before the {what} of placement {id} on {}",
            day_date(day),
            day_date(earlier)
        ),
    })
}

fn dangling(p: &Placement, kind: &'static str, id: &str) -> StepRefused {
    StepRefused::Dangling {
        placement: p.id.clone(),
        kind,
        id: id.to_string(),
    }
}
