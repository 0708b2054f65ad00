//! What the index holds, counted by class: workers by county and status,
//! households with labour by county and whether anyone works, openings by
//! region, source and status with their slots. Kept by
//! [`MatchIndex`](super::MatchIndex) on every upsert and removal, so it
//! always describes exactly the records indexed: the county head's
//! dashboard reads it instead of scanning the store (the rules that turn
//! these classes into figures are `report::figures`').
//!
//! Counts are signed so that a household whose members (against the rule
//! that a household lives in one county) are registered in two counties
//! cannot panic the index; `jobbridge check` refuses such a directory.

use hashbrown::HashMap;

use crate::domain::{EmploymentStatus, OpeningStatus, Source};

/// Openings of one class and their slots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpeningSums {
    /// Openings.
    pub openings: i64,
    /// Slots not taken (headcount minus filled, never below 0).
    pub free: i64,
    /// Slots taken by accepted or hired placements.
    pub filled: i64,
}

/// The census of the index. Counties and regions are numeric codes
/// ([`super::region_number`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// Workers by (county, employment status).
    pub workers: HashMap<(u32, EmploymentStatus), i64>,
    /// Households where someone wants work, by (county, whether anyone is
    /// in work). A household counts in its members' county.
    pub households: HashMap<(u32, bool), i64>,
    /// Openings by (region, source, status).
    pub openings: HashMap<(u32, Source, OpeningStatus), OpeningSums>,
}

impl Census {
    /// Adds `sign` workers of `status` in `county`.
    pub(crate) fn worker(&mut self, county: u32, status: EmploymentStatus, sign: i64) {
        bump(self.workers.entry((county, status)).or_default(), sign);
    }

    /// Adds `sign` households with labour of `county`, `employed` or not.
    pub(crate) fn household(&mut self, county: u32, employed: bool, sign: i64) {
        bump(self.households.entry((county, employed)).or_default(), sign);
    }

    /// Adds `sign` openings of this class with their slots.
    pub(crate) fn opening(
        &mut self,
        class: (u32, Source, OpeningStatus),
        free: u32,
        filled: u32,
        sign: i64,
    ) {
        let s = self.openings.entry(class).or_default();
        s.openings += sign;
        s.free += sign * i64::from(free);
        s.filled += sign * i64::from(filled);
        if *s == OpeningSums::default() {
            self.openings.remove(&class);
        }
    }
}

fn bump(n: &mut i64, sign: i64) {
    *n += sign;
}
