//! What a client's write of a worker or an opening may not change: the
//! fields the placement steps own. A client upserts the whole record, so
//! without these rules an edit could undo an accept or free a held slot.

use super::{employment_held, StepRefused};
use crate::domain::{EmploymentStatus, Opening, Worker};

/// Keeps the stored placement link of `new` (from `old`, or none for a new
/// worker). While a placement is accepted or hired the employment status
/// follows it, whatever the client sent; PLACED otherwise is refused, as
/// only an accept can put a worker there.
pub fn keep_worker_link(new: &mut Worker, old: Option<&Worker>) -> Result<(), StepRefused> {
    new.placement = old.map(|o| o.placement.clone()).unwrap_or_default();
    match employment_held(new.placement.active_status) {
        Some(status) => new.employment_status = status,
        None if new.employment_status == EmploymentStatus::Placed => {
            return Err(StepRefused::PlacedByHand {
                worker: new.id.clone(),
            })
        }
        None => {}
    }
    Ok(())
}

/// Whether a stored worker may be deleted: not while it holds an active
/// placement.
pub fn may_delete_worker(w: &Worker) -> Result<(), StepRefused> {
    match &w.placement.active_id {
        Some(p) => Err(StepRefused::DeleteWhilePlaced {
            worker: w.id.clone(),
            placement: p.clone(),
            state: w.placement.active_status,
        }),
        None => Ok(()),
    }
}

/// Keeps the stored filled-slot count of `new`, and refuses a headcount
/// below it: the slots are held by accepted or hired placements.
pub fn keep_opening_slots(new: &mut Opening, old: Option<&Opening>) -> Result<(), StepRefused> {
    new.filled = old.map_or(0, |o| o.filled);
    if new.headcount < new.filled {
        return Err(StepRefused::HeadcountBelowFilled {
            opening: new.id.clone(),
            headcount: new.headcount,
            filled: new.filled,
        });
    }
    Ok(())
}
