//! The rules that turn records into the figures of a [`Row`] or
//! [`SlotsRow`]: how one worker, household, opening or hire counts.
//!
//! Two callers count with them, and must agree: the coverage report's full
//! scan ([`super::coverage`]), one record at a time, and the county head's
//! dashboard (`service::dashboard`), which counts classes of records the
//! write path keeps tallied (so many workers of this county with this
//! status, so many hires of this county on this day and separated on that
//! one) and passes each class with its size `n`. A figure's rule is written
//! here once; neither caller decides one of its own.

use super::{Row, SlotsRow};
use crate::domain::placement::retained;
use crate::domain::{EmploymentStatus, OpeningStatus};

/// Counts `n` workers of employment status `status`: registered, wanting
/// work (everyone but the unavailable), and seeking, placed (waiting to
/// start) or in work. The report adds the figures that need more than the
/// status (in work through a placement, seeking with under three
/// recommendations) itself.
pub fn add_workers(r: &mut Row, status: EmploymentStatus, n: u64) {
    r.workers_registered += n;
    if wants_work(status) {
        r.workers_want_work += n;
    }
    match status {
        EmploymentStatus::Seeking => r.workers_seeking += n,
        EmploymentStatus::Placed => r.workers_placed += n,
        EmploymentStatus::Employed => r.workers_in_work += n,
        EmploymentStatus::Unavailable => {}
    }
}

/// Whether a worker of `status` is labour that wants work.
pub fn wants_work(status: EmploymentStatus) -> bool {
    status != EmploymentStatus::Unavailable
}

/// Whether a worker of `status` is in work.
pub fn in_work(status: EmploymentStatus) -> bool {
    status == EmploymentStatus::Employed
}

/// Counts `n` households: with labour if a member wants work, and then a
/// zero-employment household (零就业家庭) if no member is in work. A
/// household whose members are all unavailable counts in neither.
pub fn add_households(r: &mut Row, labour: bool, employed: bool, n: u64) {
    if labour {
        r.households_with_labour += n;
        if !employed {
            r.zero_employment_households += n;
        }
    }
}

/// Counts `n` openings of `status` that have `free` slots not taken and
/// `filled` slots held by accepted or hired placements between them: open
/// openings and their free slots, and the filled slots of every opening.
pub fn add_openings(s: &mut SlotsRow, status: OpeningStatus, n: u64, free: u64, filled: u64) {
    if status == OpeningStatus::Open {
        s.openings_open += n;
        s.slots_open += free;
    }
    s.slots_filled += filled;
}

/// The days of a placement that the hire-side figures read: its first day
/// of work and last, and whether it is separated. Only hired and separated
/// placements carry days (`domain::placement::step`), so every other one
/// is [`HireDays::NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HireDays {
    /// First day of work (days since 1970-01-01).
    pub hire_day: Option<i32>,
    /// Last day of work.
    pub separation_day: Option<i32>,
    /// Whether the placement is SEPARATED.
    pub separated: bool,
}

impl HireDays {
    /// A placement that counts in no hire-side figure.
    pub const NONE: HireDays = HireDays {
        hire_day: None,
        separation_day: None,
        separated: false,
    };

    /// The days of placement `p`.
    pub fn of(p: &crate::domain::placement::Placement) -> Self {
        HireDays {
            hire_day: p.hire_day,
            separation_day: p.separation_day,
            separated: p.state() == crate::domain::placement::PlacementStatus::Separated,
        }
    }

    /// Whether no hire-side figure reads this placement, whatever the day.
    pub fn is_none(&self) -> bool {
        self.hire_day.is_none() && !(self.separated && self.separation_day.is_some())
    }
}

/// Counts `n` placements with days `d`: a hire if its first day is in the
/// range, with the 3- and 6-month retention it is due for on `today`, and
/// a separation if it is separated with its last day in the range. Answers
/// whether they counted as separations (the report then follows the
/// returnees' waits).
pub fn add_hires(
    r: &mut Row,
    d: HireDays,
    in_range: impl Fn(i32) -> bool,
    today: i32,
    n: u64,
) -> bool {
    if d.hire_day.is_some_and(&in_range) {
        r.hires += n;
        if let Some(kept) = d
            .hire_day
            .and_then(|h| retained(h, d.separation_day, 3, today))
        {
            r.retention_3m_due += n;
            r.retention_3m_retained += if kept { n } else { 0 };
        }
        if let Some(kept) = d
            .hire_day
            .and_then(|h| retained(h, d.separation_day, 6, today))
        {
            r.retention_6m_due += n;
            r.retention_6m_retained += if kept { n } else { 0 };
        }
    }
    let separation = d.separated && d.separation_day.is_some_and(&in_range);
    if separation {
        r.separations += n;
    }
    separation
}
