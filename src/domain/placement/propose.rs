//! The first step of a placement: proposing an opening to a worker.

use super::step::{free_slot, record, seeking};
use super::{Declined, Placement, PlacementStatus, StepContext, StepOutcome, StepRefused};
use crate::domain::{Opening, PlacementLink, Worker};

/// What the proposer brings besides the worker and the opening.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalTerms {
    /// The batch run proposing it; 0 by hand.
    pub run_id: u64,
    /// Match score, micro-points.
    pub score_micro: i64,
    /// Whether nobody in the worker's household worked when proposed
    /// ([`crate::domain::Household::zero_employment`]); kept for reports.
    pub zero_household: bool,
}

/// Decides a proposal of `opening` to `worker` as placement `id` (the
/// store's next id, taken only if this succeeds). The outcome's worker is
/// always `Some` (its link now names the new placement, one more
/// recommendation), its opening `None`: a proposal holds no slot, but a
/// full or closed opening is refused anyway, as nobody could accept it.
/// `declined` is the worker's earlier decline of this opening, if any: a
/// declined pair is never proposed again, by hand or by a batch run.
pub fn propose(
    id: String,
    worker: &Worker,
    opening: &Opening,
    declined: Option<&Declined>,
    terms: &ProposalTerms,
    ctx: &StepContext<'_>,
) -> Result<StepOutcome, StepRefused> {
    if let Some(d) = declined {
        return Err(StepRefused::DeclinedBefore {
            worker: worker.id.clone(),
            opening: opening.id.clone(),
            placement: d.placement_id.clone(),
            reason: d.reason,
        });
    }
    if let Some(active) = &worker.placement.active_id {
        return Err(StepRefused::WorkerBusy {
            worker: worker.id.clone(),
            placement: active.clone(),
            state: worker.placement.active_status,
        });
    }
    seeking(worker, "be proposed")?;
    free_slot(opening)?;
    let mut placement = Placement {
        id,
        worker_id: worker.id.clone(),
        opening_id: opening.id.clone(),
        county_code: worker.county_code.clone(),
        site_id: worker.site_id.clone(),
        household_id: worker.household_id.clone(),
        source: opening.source.code().into(),
        employer_id: opening.employer_id.clone(),
        run_id: terms.run_id,
        score_micro: terms.score_micro,
        zero_household: terms.zero_household,
        proposed_at_ms: ctx.now_ms,
        ..Default::default()
    };
    placement.set_status(PlacementStatus::Proposed);
    let note = match terms.run_id {
        0 => String::new(),
        run => format!("batch run {run}"),
    };
    let event = record(
        &mut placement,
        PlacementStatus::Unspecified,
        "propose",
        note,
        ctx,
    );
    let mut worker = worker.clone();
    worker.placement = PlacementLink {
        active_id: Some(placement.id.clone()),
        active_status: PlacementStatus::Proposed,
        recommendations: worker.placement.recommendations + 1,
        returned_at_ms: None,
    };
    Ok(StepOutcome {
        placement,
        worker: Some(worker),
        opening: None,
        event,
    })
}
