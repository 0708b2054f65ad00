//! Reading placements back: listings, history, the check-ins owed, and
//! the consistency check of placements against workers and openings.
//! Writes are in [`super::placements`].

use prost::Message;

use super::entities::placement_index;
use super::{given, most_selective, page, Page, Store, StoreError};
use crate::domain::placement::{employment_held, Placement, PlacementEvent, PlacementStatus};
use crate::domain::query::PlacementFilter;
use crate::domain::EmploymentStatus;

/// A retention check-in not yet recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct DueCheckIn {
    /// The placement (HIRED).
    pub placement: Placement,
    /// 1, 3 or 6.
    pub month: u32,
    /// Due day, days since 1970-01-01.
    pub due_day: i32,
}

impl Store {
    /// Reads one placement.
    pub fn placement(&self, id: &str) -> Result<Option<Placement>, StoreError> {
        self.placements.get(id)
    }

    /// Lists placements in id (creation) order.
    pub fn list_placements(
        &self,
        filter: &PlacementFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Placement>, StoreError> {
        use placement_index::*;
        let status = filter.status.map(|s| [s as u8]);
        let index = most_selective(&[
            (WORKER, given(&filter.worker_id)),
            (OPENING, given(&filter.opening_id)),
            (COUNTY, given(&filter.county_code)),
            (STATUS, status.as_ref().map(|s| &s[..])),
        ]);
        let matches = |p: &Placement| {
            filter.worker_id.as_ref().is_none_or(|w| &p.worker_id == w)
                && filter
                    .opening_id
                    .as_ref()
                    .is_none_or(|o| &p.opening_id == o)
                && filter
                    .county_code
                    .as_ref()
                    .is_none_or(|c| &p.county_code == c)
                && filter.status.is_none_or(|s| p.state() == s)
        };
        page(&self.placements, index, after, limit, matches)
    }

    /// Every placement, in id order.
    pub fn placements(&self) -> impl Iterator<Item = Result<Placement, StoreError>> + '_ {
        self.placements.scan()
    }

    /// Placements in state `status`, in id order.
    pub fn placements_in(
        &self,
        status: PlacementStatus,
    ) -> impl Iterator<Item = Result<Placement, StoreError>> + '_ {
        self.placements
            .ids_after(Some((placement_index::STATUS, &[status as u8])), None)
            .filter_map(move |id| match id {
                Ok(id) => self.placements.get::<Placement>(&id).transpose(),
                Err(e) => Some(Err(e)),
            })
    }

    /// The worker's placements, in id order (a moment apart from the
    /// records: check the worker id on each).
    pub fn placements_of(
        &self,
        worker_id: &str,
    ) -> impl Iterator<Item = Result<Placement, StoreError>> + '_ {
        self.placements
            .ids_after(Some((placement_index::WORKER, worker_id.as_bytes())), None)
            .filter_map(move |id| match id {
                Ok(id) => self.placements.get::<Placement>(&id).transpose(),
                Err(e) => Some(Err(e)),
            })
    }

    /// The history of placement `id`, oldest first.
    pub fn placement_history(&self, id: &str) -> Result<Vec<PlacementEvent>, StoreError> {
        let mut prefix = id.as_bytes().to_vec();
        prefix.push(0);
        self.placement_events
            .scan_prefix(prefix)
            .map(|r| {
                let (_, v) = r?;
                PlacementEvent::decode(&v[..])
                    .map_err(|e| StoreError::corruption(format!("placement event: {e}")))
            })
            .collect()
    }

    /// Check-ins of HIRED placements not yet recorded and due on or before
    /// `until_day`, optionally in one county; by due day, then placement.
    pub fn check_ins_due(
        &self,
        county_code: Option<&str>,
        until_day: i32,
    ) -> Result<Vec<DueCheckIn>, StoreError> {
        let mut due = Vec::new();
        for p in self.placements_in(PlacementStatus::Hired) {
            let p = p?;
            if county_code.is_some_and(|c| c != p.county_code) {
                continue;
            }
            for (month, due_day) in p.check_ins_owed() {
                if due_day <= until_day {
                    due.push(DueCheckIn {
                        placement: p.clone(),
                        month,
                        due_day,
                    });
                }
            }
        }
        due.sort_by(|a, b| {
            (a.due_day, &a.placement.id, a.month).cmp(&(b.due_day, &b.placement.id, b.month))
        });
        Ok(due)
    }

    /// Checks that placements, workers and openings agree: each opening's
    /// filled count is the number of its ACCEPTED or HIRED placements, and
    /// each worker's active placement is the one active placement naming
    /// that worker, in the same state. Reads everything.
    pub(crate) fn verify_placements(&self) -> Result<(), StoreError> {
        use std::collections::HashMap;
        let mut held: HashMap<String, u32> = HashMap::new();
        let mut active: HashMap<String, (String, PlacementStatus)> = HashMap::new();
        for p in self.placements() {
            let p = p?;
            let state = p.state();
            if state.holds_slot() {
                *held.entry(p.opening_id.clone()).or_default() += 1;
            }
            if state.is_active() {
                if let Some((other, _)) = active.insert(p.worker_id.clone(), (p.id.clone(), state))
                {
                    return Err(StoreError::corruption(format!(
                        "worker {:?} has two active placements, {other} and {}",
                        p.worker_id, p.id
                    )));
                }
            }
        }
        for o in self.openings() {
            let o = o?;
            let expected = held.remove(&o.id).unwrap_or(0);
            if o.filled != expected {
                return Err(StoreError::corruption(format!(
                    "opening {:?} counts {} filled slots, its placements hold {expected}",
                    o.id, o.filled
                )));
            }
        }
        if let Some((id, n)) = held.into_iter().next() {
            return Err(StoreError::corruption(format!(
                "{n} placements hold slots of missing opening {id:?}"
            )));
        }
        for w in self.workers() {
            let w = w?;
            let found = active.remove(&w.id);
            let recorded = w
                .placement
                .active_id
                .clone()
                .map(|id| (id, w.placement.active_status));
            if found != recorded {
                return Err(StoreError::corruption(format!(
                    "worker {:?} records active placement {recorded:?}, the placements say {found:?}",
                    w.id
                )));
            }
            let status_ok = match employment_held(w.placement.active_status) {
                Some(held) => w.employment_status == held,
                None => w.employment_status != EmploymentStatus::Placed,
            };
            if !status_ok {
                return Err(StoreError::corruption(format!(
                    "worker {:?} is {} with placement state {}",
                    w.id,
                    w.employment_status.label(),
                    w.placement.active_status.name()
                )));
            }
        }
        if let Some((worker, (id, _))) = active.into_iter().next() {
            return Err(StoreError::corruption(format!(
                "active placement {id} names missing worker {worker:?}"
            )));
        }
        Ok(())
    }
}
