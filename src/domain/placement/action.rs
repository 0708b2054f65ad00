//! The steps of a placement's life cycle, and from which states each may
//! be taken. The API builds an [`Action`] from a validated request; the
//! rules of what it does are in [`super::apply_step`].

use super::{DeclineReason, PlacementStatus, SeparationReason};

/// A step of a placement's life cycle (its fields validated by the caller).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The worker takes the offer: one slot of the opening.
    Accept,
    /// The worker turns it down or backs out.
    Decline {
        /// Why, as a code.
        code: DeclineReason,
        /// Details, free text.
        reason: String,
    },
    /// The worker started work on `day` (days since 1970-01-01).
    Hire {
        /// First day of work.
        day: i32,
    },
    /// The worker left on `day`.
    Separate {
        /// Last day of work.
        day: i32,
        /// Why.
        reason: SeparationReason,
        /// Details.
        note: String,
    },
    /// A retention check-in.
    CheckIn {
        /// 1, 3 or 6 months after hire.
        month: u32,
        /// Day of the check-in.
        day: i32,
        /// Still in the job.
        still_employed: bool,
        /// Details.
        note: String,
    },
}

impl Action {
    /// The step's name as the history and error messages spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Decline { .. } => "decline",
            Action::Hire { .. } => "hire",
            Action::Separate { .. } => "separate",
            Action::CheckIn { .. } => "check_in",
        }
    }

    /// States the step may start from: the arrows of the diagram in
    /// [`super`]. A check-in also follows a separation, because the
    /// 6-month check-in of a worker who left after 4 months is still owed.
    pub fn allowed_from(&self) -> &'static [PlacementStatus] {
        use PlacementStatus::*;
        match self {
            Action::Accept => &[Proposed],
            Action::Decline { .. } => &[Proposed, Accepted],
            Action::Hire { .. } => &[Accepted],
            Action::Separate { .. } => &[Hired],
            Action::CheckIn { .. } => &[Hired, Separated],
        }
    }
}
