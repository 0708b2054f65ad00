//! The in-memory match index: compact features of every worker and opening,
//! households' employment counts, and spatial buckets for pruning. Built
//! from the store at start-up and updated on every successful write.

use super::config::MatchConfig;
use super::eligibility::{opening_available, violations, worker_available, MatchContext, Reason};
use super::features::{distance_km, opening_feat, worker_feat, Interner, OpeningFeat, WorkerFeat};
use super::grid::Grid;
use super::score::{components, explain, micro, total, ComponentExplanation};
use super::slots::Slots;
use crate::domain::{EmploymentStatus, Mobility, Opening, Worker};

/// Near-home workers whose commute limit is at most this many km are kept
/// in spatial cells; the rest (migrants, long commuters) in one bucket that
/// every opening query scans.
pub(crate) const GRID_RADIUS_KM: f64 = 100.0;

/// Employment counts of one household.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HouseholdCounts {
    pub employed: u32,
    /// Labour without work: seeking, or placed and waiting to start.
    pub seeking: u32,
}

impl HouseholdCounts {
    fn add(&mut self, status: EmploymentStatus, sign: i32) {
        let apply = |n: &mut u32| {
            *n = n
                .checked_add_signed(sign)
                .expect("household count stays >= 0")
        };
        match status {
            EmploymentStatus::Employed => apply(&mut self.employed),
            EmploymentStatus::Seeking | EmploymentStatus::Placed => apply(&mut self.seeking),
            EmploymentStatus::Unavailable => {}
        }
    }

    /// Labour in the household and nobody in work.
    pub fn zero_employment(&self) -> bool {
        self.seeking > 0 && self.employed == 0
    }
}

/// The explanation of one pair: eligibility, score and its components.
#[derive(Debug, Clone, PartialEq)]
pub struct PairExplanation {
    /// True when no rule is broken.
    pub eligible: bool,
    /// Every broken rule with a short reason; empty when eligible.
    pub violations: Vec<(Reason, String)>,
    /// Score in micro-points (what the pair would score if eligible).
    pub score_micro: u32,
    /// Great-circle km between the worker's site and the workplace.
    pub distance_km: f64,
    /// The weighted components; value x weight summed is the score.
    pub components: Vec<ComponentExplanation>,
}

/// The in-memory index. Not synchronised: see [`super::Matcher`].
#[derive(Debug, Default, Clone)]
pub struct MatchIndex {
    pub(crate) config: MatchConfig,
    pub(crate) skills: Interner,
    pub(crate) sites: Interner,
    pub(crate) households: Interner,
    pub(crate) household_counts: Vec<HouseholdCounts>,
    pub(crate) workers: Slots<WorkerFeat>,
    pub(crate) openings: Slots<OpeningFeat>,
    /// Seeking workers: near-home ones by cell, the rest wide.
    pub(crate) worker_grid: Grid,
    /// Openings that are open with free slots, by cell.
    pub(crate) opening_grid: Grid,
}

impl MatchIndex {
    /// An empty index scoring with `config` (normalised).
    pub fn new(config: MatchConfig) -> Self {
        Self {
            config,
            ..Default::default()
        }
    }

    /// The score configuration.
    pub fn config(&self) -> &MatchConfig {
        &self.config
    }

    /// Adds or replaces a worker.
    pub fn upsert_worker(&mut self, w: &Worker) {
        let household = self.households.intern(&w.household_id);
        if self.household_counts.len() <= household as usize {
            self.household_counts
                .resize(household as usize + 1, HouseholdCounts::default());
        }
        let site = self.sites.intern(&w.site_id);
        let feat = worker_feat(w, household, site, &mut self.skills);
        self.household_counts[household as usize].add(feat.status, 1);
        let placement = worker_placement(&feat);
        let (slot, old) = self.workers.put(&w.id, feat);
        if let Some(old) = old {
            self.household_counts[old.household as usize].add(old.status, -1);
        }
        match placement {
            Some(at) => self.worker_grid.insert(slot, at),
            None => self.worker_grid.remove(slot),
        }
    }

    /// Removes a worker; unknown ids are ignored.
    pub fn remove_worker(&mut self, id: &str) {
        if let Some((slot, old)) = self.workers.remove(id) {
            self.household_counts[old.household as usize].add(old.status, -1);
            self.worker_grid.remove(slot);
        }
    }

    /// Adds or replaces an opening with `filled` slots taken.
    pub fn upsert_opening(&mut self, o: &Opening, filled: u32) {
        let feat = opening_feat(o, filled, &mut self.skills);
        let available = feat.status == crate::domain::OpeningStatus::Open && feat.free_slots() > 0;
        let at = (feat.lat, feat.lon);
        let (slot, _) = self.openings.put(&o.id, feat);
        if available {
            self.opening_grid.insert(slot, Some(at));
        } else {
            self.opening_grid.remove(slot);
        }
    }

    /// Removes an opening; unknown ids are ignored.
    pub fn remove_opening(&mut self, id: &str) {
        if let Some((slot, _)) = self.openings.remove(id) {
            self.opening_grid.remove(slot);
        }
    }

    /// Number of workers indexed.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// Number of openings indexed.
    pub fn opening_count(&self) -> usize {
        self.openings.len()
    }

    /// Approximate heap bytes of the whole index.
    pub fn heap_bytes(&self) -> usize {
        let worker_skills: usize = self.workers.iter().map(|(_, w)| w.skills.len() * 4).sum();
        let opening_skills: usize = self
            .openings
            .iter()
            .map(|(_, o)| (o.required.len() + o.preferred.len()) * 4)
            .sum();
        self.workers.heap_bytes()
            + worker_skills
            + self.openings.heap_bytes()
            + opening_skills
            + self.skills.heap_bytes()
            + self.sites.heap_bytes()
            + self.households.heap_bytes()
            + self.household_counts.capacity() * 8
            + self.worker_grid.heap_bytes()
            + self.opening_grid.heap_bytes()
    }

    /// Whether the worker in `slot` belongs to a zero-employment household.
    #[inline]
    pub(crate) fn zero_household(&self, w: &WorkerFeat) -> bool {
        self.household_counts[w.household as usize].zero_employment()
    }

    /// Score of a pair in micro-points if eligible, `None` otherwise. The one
    /// function every ranking path and the reference use.
    #[inline]
    pub(crate) fn pair_score(
        &self,
        w: &WorkerFeat,
        o: &OpeningFeat,
        distance: f64,
        ctx: &MatchContext,
    ) -> Option<u32> {
        if !super::eligibility::eligible(w, o, distance, ctx) {
            return None;
        }
        let c = components(w, o, distance, self.zero_household(w), &self.config);
        Some(micro(total(&c, &self.config)))
    }

    /// Explains any pair, eligible or not; `None` if either id is unknown.
    pub fn explain_pair(
        &self,
        worker_id: &str,
        opening_id: &str,
        ctx: &MatchContext,
    ) -> Option<PairExplanation> {
        let ws = self.workers.slot(worker_id)?;
        let os = self.openings.slot(opening_id)?;
        Some(self.explain_slots(ws, os, ctx))
    }

    pub(crate) fn explain_slots(&self, ws: u32, os: u32, ctx: &MatchContext) -> PairExplanation {
        let w = self.workers.get(ws).expect("live worker slot");
        let o = self.openings.get(os).expect("live opening slot");
        let distance = distance_km(w.lat, w.lon, o.lat, o.lon);
        let skill_name =
            |c: u16| crate::domain::words::skill_text(self.skills.name(u32::from(c)), ctx.lang);
        let violations = violations(w, o, ctx, skill_name);
        let zero = self.zero_household(w);
        let c = components(w, o, distance, zero, &self.config);
        let components = explain(
            w,
            o,
            distance,
            zero,
            &self.config,
            self.sites.name(w.site),
            skill_name,
            ctx.lang,
        );
        PairExplanation {
            eligible: violations.is_empty(),
            violations,
            score_micro: micro(total(&c, &self.config)),
            distance_km: distance,
            components,
        }
    }

    /// True if the worker can take any job now.
    pub(crate) fn worker_is_available(&self, w: &WorkerFeat) -> bool {
        worker_available(w)
    }

    /// True if the opening takes people now.
    pub(crate) fn opening_is_available(&self, o: &OpeningFeat, ctx: &MatchContext) -> bool {
        opening_available(o, ctx)
    }
}

/// Where a worker goes in the worker grid: `None` if not seeking (never
/// ranked), `Some(None)` for the wide bucket, `Some(Some(cell point))`.
fn worker_placement(w: &WorkerFeat) -> Option<Option<(f32, f32)>> {
    if w.status != EmploymentStatus::Seeking {
        return None;
    }
    if w.mobility == Mobility::NearHome && f64::from(w.max_commute_km) <= GRID_RADIUS_KM {
        Some(Some((w.lat, w.lon)))
    } else {
        Some(None)
    }
}
