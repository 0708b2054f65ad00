//! Why the placement rules refuse a step. The messages are the ones
//! clients see (as FAILED_PRECONDITION), so they name the record and its
//! current state; the store passes them on unchanged.

use super::PlacementStatus;
use crate::domain::EmploymentStatus;

/// A step (or proposal) the placement rules do not allow, as a value:
/// these are expected outcomes of a request, not faults, except
/// [`StepRefused::Dangling`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepRefused {
    /// The placement is not in a state the step starts from.
    #[error("placement {id} is {}; {action} needs a placement that is {}", state.name(), names(needs))]
    WrongState {
        /// The placement.
        id: String,
        /// Its state now.
        state: PlacementStatus,
        /// The step asked for (`accept`, ...).
        action: &'static str,
        /// States it may start from.
        needs: &'static [PlacementStatus],
    },
    /// A worker who holds an active placement cannot be deleted: the
    /// placement (and the slot it may hold) would point at nobody.
    #[error(
        "worker {worker:?} holds active placement {placement} ({}); decline or separate it first",
        state.name()
    )]
    DeleteWhilePlaced {
        /// The worker.
        worker: String,
        /// The placement it holds.
        placement: String,
        /// That placement's state.
        state: PlacementStatus,
    },
    /// The worker already holds a proposed, accepted or hired placement.
    #[error(
        "worker {worker:?} already holds active placement {placement} ({}); a worker holds \
         one active placement at a time",
        state.name()
    )]
    WorkerBusy {
        /// The worker.
        worker: String,
        /// The placement it holds.
        placement: String,
        /// That placement's state.
        state: PlacementStatus,
    },
    /// Only a seeking worker can be proposed or accept.
    #[error(
        "worker {worker:?} is {}; only a seeking worker can {doing}",
        status.label().to_uppercase()
    )]
    WorkerNotSeeking {
        /// The worker.
        worker: String,
        /// Its employment status.
        status: EmploymentStatus,
        /// What was refused: `be proposed` or `accept`.
        doing: &'static str,
    },
    /// The worker declined this opening before: the pair is never
    /// proposed again.
    #[error(
        "worker {worker:?} declined opening {opening:?} before (placement {placement}, reason {}); \
         a declined pair is not proposed again",
        super::DeclineReason::try_from(*reason).unwrap_or(super::DeclineReason::Unspecified).code()
    )]
    DeclinedBefore {
        /// The worker.
        worker: String,
        /// The opening.
        opening: String,
        /// The declined placement.
        placement: String,
        /// Its [`super::DeclineReason`] code.
        reason: i32,
    },
    /// The opening is closed.
    #[error("opening {opening:?} is CLOSED")]
    OpeningClosed {
        /// The opening.
        opening: String,
    },
    /// Every slot of the opening is held by an accepted or hired placement.
    #[error("opening {opening:?} has no free slot: {filled} of {headcount} taken")]
    NoFreeSlot {
        /// The opening.
        opening: String,
        /// Slots taken.
        filled: u32,
        /// Slots in all.
        headcount: u32,
    },
    /// A date breaks the order proposal <= hire <= separation, check-in.
    #[error("{field}: {reason}")]
    BadDate {
        /// The request field holding the date (`hire_date`, ...).
        field: &'static str,
        /// Why, naming the date it must not precede.
        reason: String,
    },
    /// A check-in month other than those of [`super::CHECK_IN_MONTHS`].
    #[error(
        "month: check-ins are {} months after hire, got {month}",
        super::check_in_months_text()
    )]
    NotACheckInMonth {
        /// The month asked for.
        month: u32,
    },
    /// That month's check-in is already recorded.
    #[error("placement {id} already has its {month}-month check-in")]
    DuplicateCheckIn {
        /// The placement.
        id: String,
        /// The month.
        month: u32,
    },
    /// A client wrote PLACED for a worker without an accepted placement.
    #[error(
        "worker.employment_status: PLACED is set only by accepting a placement, and worker \
         {worker:?} holds no accepted placement"
    )]
    PlacedByHand {
        /// The worker.
        worker: String,
    },
    /// A client wrote a headcount below the slots already taken.
    #[error(
        "opening.headcount: {headcount} is below the {filled} slots of opening {opening:?} \
         already taken by accepted or hired placements"
    )]
    HeadcountBelowFilled {
        /// The opening.
        opening: String,
        /// The headcount written.
        headcount: u32,
        /// Slots taken.
        filled: u32,
    },
    /// The step needs a record the placement names, and it is missing:
    /// the stored data is inconsistent (a fault, not a client error).
    #[error("placement {placement} names missing {kind} {id:?}")]
    Dangling {
        /// The placement.
        placement: String,
        /// `worker` or `opening`.
        kind: &'static str,
        /// The id it names.
        id: String,
    },
}

/// "PROPOSED or ACCEPTED".
fn names(states: &[PlacementStatus]) -> String {
    let names: Vec<&str> = states.iter().map(|s| s.name()).collect();
    names.join(" or ")
}
