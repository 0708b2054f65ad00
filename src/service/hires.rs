//! The hire-side tally of the dashboard: how many placements of each
//! county have which hire and separation days. Retention depends on the
//! day it is measured on, so the days themselves are kept (a compact map
//! of (county, hire day, separation day, separated) to a count) and the
//! figures for any "today" are worked out from it by `report::figures`.
//!
//! Only hired and separated placements carry days; a proposal never does,
//! so only a placement step can change the tally. After a step commits,
//! [`HireTally::refresh`] reads the placement back from the store under
//! the tally's mutex and replaces what the tally held for it: whatever
//! order concurrent steps of one placement reach the mutex in, the last
//! refresh reads the store's last word (as the match index does; see
//! `service::write`), and the counts never drift.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::placement::Placement;
use crate::matching::region_number;
use crate::report::figures::HireDays;
use crate::store::{Store, StoreError};

/// A class of placements: its county (numeric code) and days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct HireClass {
    pub county: u32,
    pub days: HireDays,
}

impl HireClass {
    /// The class of `p`; `None` if it counts in no hire-side figure.
    fn of(p: &Placement) -> Option<Self> {
        let days = HireDays::of(p);
        (!days.is_none()).then(|| HireClass {
            county: region_number(&p.county_code),
            days,
        })
    }
}

#[derive(Default)]
struct Inner {
    /// Each counted placement's class, by placement id.
    placements: HashMap<Box<str>, HireClass>,
    /// How many placements each class has (no zero entries).
    classes: HashMap<HireClass, u64>,
}

impl Inner {
    fn set(&mut self, id: &str, class: Option<HireClass>) {
        let old = match class {
            Some(c) => self.placements.insert(id.into(), c),
            None => self.placements.remove(id),
        };
        if old == class {
            return;
        }
        if let Some(old) = old {
            if let Some(n) = self.classes.get_mut(&old) {
                *n -= 1;
                if *n == 0 {
                    self.classes.remove(&old);
                }
            }
        }
        if let Some(c) = class {
            *self.classes.entry(c).or_default() += 1;
        }
    }
}

/// The hire-side tally; see the module doc.
#[derive(Default)]
pub(crate) struct HireTally {
    inner: Mutex<Inner>,
}

impl HireTally {
    /// Counts a placement read at start-up (the caller passes every hired
    /// and separated placement once).
    pub(crate) fn load(&self, p: &Placement) {
        let class = HireClass::of(p);
        if class.is_some() {
            self.lock().set(&p.id, class);
        }
    }

    /// Replaces what the tally holds for placement `id` with what the
    /// store holds now. Blocking: reads the store.
    pub(crate) fn refresh(&self, store: &Store, id: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let class = store.placement(id)?.as_ref().and_then(HireClass::of);
        inner.set(id, class);
        Ok(())
    }

    /// Each class and its count, copied out under the mutex (placement
    /// steps wait only for the copy, not for the figures made from it).
    pub(crate) fn classes(&self) -> Vec<(HireClass, u64)> {
        let inner = self.lock();
        inner.classes.iter().map(|(c, n)| (*c, *n)).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
