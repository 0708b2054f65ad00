//! Placements: one worker's way from a proposal to a hire and, perhaps, a
//! separation. Plain data encoded with prost by the store, and the life
//! cycle's rules.
//!
//! ```text
//! PROPOSED --accept--> ACCEPTED --hire--> HIRED --separate--> SEPARATED
//!    |                    |
//!    +--decline--+--------+
//!                v
//!             DECLINED
//! ```
//!
//! A placement is *active* while PROPOSED, ACCEPTED or HIRED; a worker holds
//! at most one active placement. ACCEPTED and HIRED hold one slot of the
//! opening; DECLINED and SEPARATED give it back.
//!
//! Every rule of the life cycle is decided here, by pure functions
//! ([`propose`], [`apply_step`], [`keep_worker_link`],
//! [`keep_opening_slots`]) that refuse with a [`StepRefused`]; the store
//! only reads the records, calls them and writes what they return, in one
//! transaction.

use chrono::{Months, NaiveDate};

use super::{EmploymentStatus, ValidationError};

mod action;
mod decline;
mod propose;
mod refused;
mod server_owned;
mod step;

#[cfg(test)]
pub(crate) mod model;
#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod refusal_tests;
#[cfg(test)]
mod tests;

pub use action::Action;
pub use decline::{counselling_cases, CounsellingCase, DeclineReason, Declined};
pub use propose::{propose, ProposalTerms};
pub use refused::StepRefused;
pub use server_owned::{keep_opening_slots, keep_worker_link, may_delete_worker};
pub use step::{apply_step, StepContext, StepOutcome};

/// Where a placement is in its life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum PlacementStatus {
    /// Not set.
    Unspecified = 0,
    /// Offered to the worker; holds no slot.
    Proposed = 1,
    /// The worker took the offer; holds one slot.
    Accepted = 2,
    /// The worker turned the offer down, or backed out after accepting.
    Declined = 3,
    /// The worker started work; holds one slot.
    Hired = 4,
    /// The worker left the job; the slot is free again.
    Separated = 5,
}

impl PlacementStatus {
    /// Upper-case name as on the wire, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            PlacementStatus::Unspecified => "UNSPECIFIED",
            PlacementStatus::Proposed => "PROPOSED",
            PlacementStatus::Accepted => "ACCEPTED",
            PlacementStatus::Declined => "DECLINED",
            PlacementStatus::Hired => "HIRED",
            PlacementStatus::Separated => "SEPARATED",
        }
    }

    /// Proposed, accepted or hired: the worker can hold only one.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            PlacementStatus::Proposed | PlacementStatus::Accepted | PlacementStatus::Hired
        )
    }

    /// Accepted or hired: one slot of the opening is taken.
    pub fn holds_slot(self) -> bool {
        matches!(self, PlacementStatus::Accepted | PlacementStatus::Hired)
    }
}

/// Why a worker left a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SeparationReason {
    /// Not set.
    Unspecified = 0,
    /// The worker quit.
    Quit = 1,
    /// The employer let the worker go.
    Dismissed = 2,
    /// A fixed-term or seasonal job ended.
    ContractEnded = 3,
    /// Illness or injury.
    Health = 4,
    /// Family duties (care, moving).
    Family = 5,
    /// Anything else; say what in the note.
    Other = 6,
}

impl SeparationReason {
    /// Lower-case name for history notes and reports.
    pub fn label(self) -> &'static str {
        match self {
            SeparationReason::Unspecified => "unspecified",
            SeparationReason::Quit => "quit",
            SeparationReason::Dismissed => "dismissed",
            SeparationReason::ContractEnded => "contract_ended",
            SeparationReason::Health => "health",
            SeparationReason::Family => "family",
            SeparationReason::Other => "other",
        }
    }
}

/// A retention check-in: whether the worker was still in the job.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CheckIn {
    /// Months after hire: 1, 3 or 6.
    #[prost(uint32, tag = "1")]
    pub month: u32,
    /// Day of the check-in, days since 1970-01-01.
    #[prost(int32, tag = "2")]
    pub day: i32,
    /// Still in the job.
    #[prost(bool, tag = "3")]
    pub still_employed: bool,
    /// Free text.
    #[prost(string, tag = "4")]
    pub note: String,
    /// Who recorded it.
    #[prost(string, tag = "5")]
    pub actor: String,
    /// When it was recorded, Unix ms.
    #[prost(int64, tag = "6")]
    pub recorded_at_ms: i64,
}

/// Months after hire at which retention check-ins are due.
pub const CHECK_IN_MONTHS: [u32; 3] = [1, 3, 6];

/// Refuses a check-in month not in [`CHECK_IN_MONTHS`]; the one place that
/// rule is checked (the API for requests, [`apply_step`] for the store).
pub fn check_in_month(month: u32) -> Result<(), ValidationError> {
    if CHECK_IN_MONTHS.contains(&month) {
        return Ok(());
    }
    Err(ValidationError::new(
        "month",
        format!(
            "must be {} (months after hire), got {month}",
            check_in_months_text()
        ),
    ))
}

/// "1, 3 or 6", from [`CHECK_IN_MONTHS`].
fn check_in_months_text() -> String {
    let (last, rest) = CHECK_IN_MONTHS.split_last().expect("not empty");
    let rest: Vec<String> = rest.iter().map(u32::to_string).collect();
    format!("{} or {last}", rest.join(", "))
}

/// The employment status an active placement in `state` imposes on its
/// worker: PLACED while accepted, EMPLOYED while hired; `None` for the
/// states that impose nothing (the worker's status is the client's then).
pub fn employment_held(state: PlacementStatus) -> Option<EmploymentStatus> {
    match state {
        PlacementStatus::Accepted => Some(EmploymentStatus::Placed),
        PlacementStatus::Hired => Some(EmploymentStatus::Employed),
        _ => None,
    }
}

/// One placement.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Placement {
    /// Server-assigned id, `P` and 12 digits, in creation order.
    #[prost(string, tag = "1")]
    pub id: String,
    /// The worker.
    #[prost(string, tag = "2")]
    pub worker_id: String,
    /// The opening.
    #[prost(string, tag = "3")]
    pub opening_id: String,
    /// Life-cycle state.
    #[prost(enumeration = "PlacementStatus", tag = "4")]
    pub status: i32,
    /// The worker's county when proposed.
    #[prost(string, tag = "5")]
    pub county_code: String,
    /// The worker's site when proposed.
    #[prost(string, tag = "6")]
    pub site_id: String,
    /// The worker's household.
    #[prost(string, tag = "7")]
    pub household_id: String,
    /// The opening's source code.
    #[prost(uint32, tag = "8")]
    pub source: u32,
    /// The opening's employer.
    #[prost(string, tag = "9")]
    pub employer_id: String,
    /// The batch run that proposed it; 0 if proposed by hand.
    #[prost(uint64, tag = "10")]
    pub run_id: u64,
    /// Match score when proposed, micro-points.
    #[prost(int64, tag = "11")]
    pub score_micro: i64,
    /// The worker's household had nobody in work when proposed.
    #[prost(bool, tag = "12")]
    pub zero_household: bool,
    /// Unix ms of each step; 0 if not reached.
    #[prost(int64, tag = "13")]
    pub proposed_at_ms: i64,
    /// When accepted.
    #[prost(int64, tag = "14")]
    pub accepted_at_ms: i64,
    /// When declined.
    #[prost(int64, tag = "15")]
    pub declined_at_ms: i64,
    /// Why declined.
    #[prost(string, tag = "16")]
    pub decline_reason: String,
    /// First day of work, days since 1970-01-01; set when hired.
    #[prost(int32, optional, tag = "17")]
    pub hire_day: Option<i32>,
    /// Last day of work, days since 1970-01-01; set when separated.
    #[prost(int32, optional, tag = "18")]
    pub separation_day: Option<i32>,
    /// Why the worker left.
    #[prost(enumeration = "SeparationReason", tag = "19")]
    pub separation_reason: i32,
    /// Free text about the separation.
    #[prost(string, tag = "20")]
    pub separation_note: String,
    /// Retention check-ins, in the order recorded.
    #[prost(message, repeated, tag = "21")]
    pub check_ins: Vec<CheckIn>,
    /// Last change, Unix ms.
    #[prost(int64, tag = "22")]
    pub updated_at_ms: i64,
    /// Entries in the history so far.
    #[prost(uint32, tag = "23")]
    pub events: u32,
    /// When the separation was recorded (the worker returned to the pool),
    /// Unix ms; 0 if not separated.
    #[prost(int64, tag = "24")]
    pub separated_at_ms: i64,
    /// Why declined, as a code ([`DeclineReason`]); `decline_reason` holds
    /// the note.
    #[prost(enumeration = "DeclineReason", tag = "25")]
    pub decline_code: i32,
}

/// One entry of a placement's history.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PlacementEvent {
    /// The placement.
    #[prost(string, tag = "1")]
    pub placement_id: String,
    /// 1, 2, 3, ... within the placement.
    #[prost(uint32, tag = "2")]
    pub seq: u32,
    /// When, Unix ms.
    #[prost(int64, tag = "3")]
    pub at_ms: i64,
    /// Who: the actor named in the request, or `batch:run-N`.
    #[prost(string, tag = "4")]
    pub actor: String,
    /// State before; UNSPECIFIED for the proposal itself.
    #[prost(enumeration = "PlacementStatus", tag = "5")]
    pub from: i32,
    /// State after (the same as `from` for a check-in).
    #[prost(enumeration = "PlacementStatus", tag = "6")]
    pub to: i32,
    /// What happened: `propose`, `accept`, `decline`, `hire`, `separate`,
    /// `check_in`.
    #[prost(string, tag = "7")]
    pub action: String,
    /// Details (reason, date, note).
    #[prost(string, tag = "8")]
    pub note: String,
}

/// Days since 1970-01-01 of `date`.
pub fn day_number(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as i32
}

/// The day in China (UTC+8) at Unix time `ms`, as days since 1970-01-01.
pub fn china_day(ms: i64) -> i32 {
    (ms + 8 * 3_600_000).div_euclid(86_400_000) as i32
}

/// Today in China, as days since 1970-01-01.
pub fn china_today() -> i32 {
    china_day(chrono::Utc::now().timestamp_millis())
}

/// The date of day number `day`.
pub fn day_date(day: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid") + chrono::Duration::days(day.into())
}

/// The day `months` calendar months after `day` (the month's last day if
/// the date does not exist, e.g. 31 January + 1 month = 28/29 February).
pub fn months_after(day: i32, months: u32) -> i32 {
    day_number(
        day_date(day)
            .checked_add_months(Months::new(months))
            .expect("dates stay in range"),
    )
}

/// Whether a worker hired on `hire_day` and separated on `separation_day`
/// (if at all) was still in the job `months` after the hire, as of day
/// `today`: `None` if that day has not come yet.
pub fn retained(
    hire_day: i32,
    separation_day: Option<i32>,
    months: u32,
    today: i32,
) -> Option<bool> {
    let mark = months_after(hire_day, months);
    if mark > today {
        return None;
    }
    Some(separation_day.is_none_or(|s| s >= mark))
}

impl Placement {
    /// The state as an enum (UNSPECIFIED for an unknown stored value).
    pub fn state(&self) -> PlacementStatus {
        PlacementStatus::try_from(self.status).unwrap_or(PlacementStatus::Unspecified)
    }

    /// Whether the worker was still in this job `months` after the hire,
    /// as of day `today`: `None` if not hired or that day has not come yet.
    pub fn retained(&self, months: u32, today: i32) -> Option<bool> {
        retained(self.hire_day?, self.separation_day, months, today)
    }

    /// Check-ins not yet recorded, with their due days, for a placement in
    /// work (none for others).
    pub fn check_ins_owed(&self) -> Vec<(u32, i32)> {
        let (PlacementStatus::Hired, Some(hire)) = (self.state(), self.hire_day) else {
            return Vec::new();
        };
        CHECK_IN_MONTHS
            .iter()
            .filter(|m| !self.check_ins.iter().any(|c| c.month == **m))
            .map(|&m| (m, months_after(hire, m)))
            .collect()
    }
}
