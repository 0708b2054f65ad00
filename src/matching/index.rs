//! The in-memory match index: compact features of every worker and opening,
//! households' employment counts, and spatial buckets for pruning. Built
//! from the store at start-up and updated on every successful write.

use hashbrown::HashMap;

use super::census::Census;
use super::config::MatchConfig;
use super::eligibility::{opening_available, violations, worker_available, MatchContext, Reason};
use super::features::{distance_km, opening_feat, worker_feat, Interner, OpeningFeat, WorkerFeat};
use super::grid::Grid;
use super::score::{components, explain, micro, total, ComponentExplanation};
use super::slots::Slots;
use crate::domain::policy::{PolicyConfig, WelfareBars, WelfareFacts, WelfareStint};
use crate::domain::{EmploymentStatus, Mobility, Opening, Source, Worker};

/// Days from CE of 1970-01-01: [`MatchContext::today`] counts from CE,
/// placements from 1970.
const CE_TO_1970: i32 = 719_163;

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

    /// Someone in the household wants work (seeking, placed or in work).
    pub fn labour(&self) -> bool {
        self.seeking + self.employed > 0
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
    /// The `[policy]` rules that are eligibility rules.
    pub(crate) policy: PolicyConfig,
    /// Workers who ever held a public-welfare post: the day their
    /// subsidised tenure is used up from (see [`WorkerFeat`]), kept by id
    /// so that a worker written again keeps it.
    pub(crate) welfare_used_from: HashMap<Box<str>, i32>,
    /// Declined pairs, by worker id and by opening id: never offered again.
    pub(crate) declined_by_worker: HashMap<Box<str>, Vec<Box<str>>>,
    pub(crate) declined_by_opening: HashMap<Box<str>, Vec<Box<str>>>,
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
    /// The indexed records counted by class, for the dashboard.
    pub(crate) census: Census,
    /// The last exact run's prices (shared between snapshots: replaced
    /// whole, never changed in place).
    pub(crate) prices: std::sync::Arc<super::contest::PriceBook>,
    /// How many operations other than prices have been applied to it
    /// ([`super::IndexOp::apply`]). Both copies of a [`super::Matcher`]
    /// apply the same operations in the same order, so two snapshots with
    /// the same revision hold the same records (prices aside: they do not
    /// enter a batch input).
    pub(crate) revision: u64,
}

/// An opening's class in the census, its free slots and its filled ones.
fn opening_class(o: &OpeningFeat) -> ((u32, Source, crate::domain::OpeningStatus), u32, u32) {
    ((o.region, o.source, o.status), o.free_slots(), o.filled)
}

impl MatchIndex {
    /// An empty index scoring with `config` (normalised), under the
    /// default `[policy]` rules.
    pub fn new(config: MatchConfig) -> Self {
        Self::with_policy(config, PolicyConfig::default())
    }

    /// An empty index scoring with `config` (normalised) and applying the
    /// hard rules of `policy` (see [`PolicyConfig::welfare_bars`]).
    pub fn with_policy(config: MatchConfig, policy: PolicyConfig) -> Self {
        Self {
            config,
            policy,
            ..Default::default()
        }
    }

    /// The score configuration.
    pub fn config(&self) -> &MatchConfig {
        &self.config
    }

    /// The `[policy]` rules applied.
    pub fn policy(&self) -> &PolicyConfig {
        &self.policy
    }

    /// Records that the worker declined the opening: the pair is
    /// ineligible from now on ([`Reason::DeclinedBefore`]). Either may be
    /// indexed later or not at all.
    pub fn add_decline(&mut self, worker_id: &str, opening_id: &str) {
        let by_worker = self.declined_by_worker.entry(worker_id.into()).or_default();
        if by_worker.iter().any(|o| &**o == opening_id) {
            return;
        }
        by_worker.push(opening_id.into());
        self.declined_by_opening
            .entry(opening_id.into())
            .or_default()
            .push(worker_id.into());
    }

    /// Whether the worker declined the opening before.
    pub fn declined(&self, worker_id: &str, opening_id: &str) -> bool {
        self.declined_by_worker
            .get(worker_id)
            .is_some_and(|os| os.iter().any(|o| &**o == opening_id))
    }

    /// Sets the worker's public-welfare stints (hired placements on
    /// public-welfare posts, running or ended), for the tenure rule.
    pub fn set_welfare_stints(&mut self, worker_id: &str, stints: &[WelfareStint]) {
        let from = self
            .policy
            .welfare_tenure_used_from(stints)
            .unwrap_or(i32::MAX);
        if from == i32::MAX {
            self.welfare_used_from.remove(worker_id);
        } else {
            self.welfare_used_from.insert(worker_id.into(), from);
        }
        if let Some(slot) = self.workers.slot(worker_id) {
            if let Some(w) = self.workers.get_mut(slot) {
                w.welfare_used_from = from;
            }
        }
    }

    /// What the public-welfare rules read of worker `w` on `ctx`'s day.
    pub(crate) fn welfare_facts(&self, w: &WorkerFeat, ctx: &MatchContext) -> WelfareFacts {
        WelfareFacts {
            age: ctx.year - i32::from(w.birth_year),
            gender: w.gender,
            zero_household: self.zero_household(w),
            tenure_used_up: ctx.today - CE_TO_1970 >= w.welfare_used_from,
        }
    }

    /// The `[policy]` rules that bar `w` from public-welfare posts now.
    pub(crate) fn welfare_bars(&self, w: &WorkerFeat, ctx: &MatchContext) -> WelfareBars {
        self.policy.welfare_bars(&self.welfare_facts(w, ctx))
    }

    /// Whether no `[policy]` rule bars `w` from public-welfare posts now:
    /// worked out once per worker and query, then tested per pair.
    #[inline]
    pub(crate) fn welfare_ok(&self, w: &WorkerFeat, ctx: &MatchContext) -> bool {
        self.welfare_bars(w, ctx).is_empty()
    }

    /// Slots of the openings the worker declined (indexed ones only).
    pub(crate) fn declined_opening_slots(&self, worker_id: &str) -> Vec<u32> {
        self.declined_by_worker
            .get(worker_id)
            .into_iter()
            .flatten()
            .filter_map(|o| self.openings.slot(o))
            .collect()
    }

    /// Slots of the workers who declined the opening (indexed ones only).
    pub(crate) fn declined_worker_slots(&self, opening_id: &str) -> Vec<u32> {
        self.declined_by_opening
            .get(opening_id)
            .into_iter()
            .flatten()
            .filter_map(|w| self.workers.slot(w))
            .collect()
    }

    /// Adds or replaces a worker.
    pub fn upsert_worker(&mut self, w: &Worker) {
        let household = self.households.intern(&w.household_id);
        if self.household_counts.len() <= household as usize {
            self.household_counts
                .resize(household as usize + 1, HouseholdCounts::default());
        }
        let site = self.sites.intern(&w.site_id);
        let used_from = self
            .welfare_used_from
            .get(w.id.as_str())
            .copied()
            .unwrap_or(i32::MAX);
        let feat = worker_feat(w, household, site, used_from, &mut self.skills);
        let (county, status) = (feat.county, feat.status);
        let placement = worker_placement(&feat);
        let (slot, old) = self.workers.put(&w.id, feat);
        if let Some(old) = old {
            self.count_member(old.county, old.household, old.status, -1);
        }
        self.count_member(county, household, status, 1);
        match placement {
            Some(at) => self.worker_grid.insert(slot, at),
            None => self.worker_grid.remove(slot),
        }
    }

    /// Removes a worker; unknown ids are ignored.
    pub fn remove_worker(&mut self, id: &str) {
        if let Some((slot, old)) = self.workers.remove(id) {
            self.count_member(old.county, old.household, old.status, -1);
            self.worker_grid.remove(slot);
        }
    }

    /// Counts a worker in (`sign` 1) or out (-1) of its household's
    /// employment counts and of the census, moving the household between
    /// the census's classes as its counts change.
    fn count_member(&mut self, county: u32, household: u32, status: EmploymentStatus, sign: i32) {
        let counts = &mut self.household_counts[household as usize];
        let before = *counts;
        counts.add(status, sign);
        let after = *counts;
        self.census.worker(county, status, i64::from(sign));
        if before.labour() {
            self.census.household(county, before.employed > 0, -1);
        }
        if after.labour() {
            self.census.household(county, after.employed > 0, 1);
        }
    }

    /// What the index holds, counted by class (see [`Census`]).
    pub fn census(&self) -> &Census {
        &self.census
    }

    /// Adds or replaces an opening with `filled` slots taken.
    pub fn upsert_opening(&mut self, o: &Opening, filled: u32) {
        let feat = opening_feat(o, filled, &mut self.skills);
        let available = feat.status == crate::domain::OpeningStatus::Open && feat.free_slots() > 0;
        let at = (feat.lat, feat.lon);
        let counted = opening_class(&feat);
        let (slot, old) = self.openings.put(&o.id, feat);
        if let Some(old) = old {
            let (class, free, filled) = opening_class(&old);
            self.census.opening(class, free, filled, -1);
        }
        self.census.opening(counted.0, counted.1, counted.2, 1);
        if available {
            self.opening_grid.insert(slot, Some(at));
        } else {
            self.opening_grid.remove(slot);
        }
    }

    /// Removes an opening; unknown ids are ignored.
    pub fn remove_opening(&mut self, id: &str) {
        if let Some((slot, old)) = self.openings.remove(id) {
            let (class, free, filled) = opening_class(&old);
            self.census.opening(class, free, filled, -1);
            self.opening_grid.remove(slot);
        }
    }

    /// How many changes of records it has had (see the field).
    pub fn revision(&self) -> u64 {
        self.revision
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
            + self.policy_heap_bytes()
    }

    /// Approximate heap bytes of the declines and public-welfare tenures.
    fn policy_heap_bytes(&self) -> usize {
        let ids = |m: &HashMap<Box<str>, Vec<Box<str>>>| -> usize {
            m.iter()
                .map(|(k, v)| k.len() + 40 + v.iter().map(|s| s.len() + 16).sum::<usize>())
                .sum()
        };
        ids(&self.declined_by_worker)
            + ids(&self.declined_by_opening)
            + self
                .welfare_used_from
                .keys()
                .map(|k| k.len() + 24)
                .sum::<usize>()
    }

    /// Whether the worker in `slot` belongs to a zero-employment household.
    #[inline]
    pub(crate) fn zero_household(&self, w: &WorkerFeat) -> bool {
        self.household_counts[w.household as usize].zero_employment()
    }

    /// Score of a pair in micro-points if eligible, `None` otherwise. The one
    /// function every ranking path and the reference use. `welfare_ok` is
    /// [`MatchIndex::welfare_ok`] of `w` (worked out once per worker); a
    /// declined pair is the caller's to leave out.
    #[inline]
    pub(crate) fn pair_score(
        &self,
        w: &WorkerFeat,
        o: &OpeningFeat,
        distance: f64,
        ctx: &MatchContext,
        welfare_ok: bool,
    ) -> Option<u32> {
        if !super::eligibility::eligible(w, o, distance, ctx, welfare_ok) {
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
        let mut violations = violations(w, o, ctx, skill_name);
        if o.source == Source::PublicWelfare {
            let facts = self.welfare_facts(w, ctx);
            for bar in self.policy.welfare_bars(&facts).iter() {
                let text = self.policy.welfare_bar_text(bar, &facts, ctx.lang);
                violations.push((Reason::of_welfare_bar(bar), text));
            }
        }
        if self.declined(self.workers.id(ws), self.openings.id(os)) {
            violations.push((
                Reason::DeclinedBefore,
                ctx.lang
                    .pick(
                        "本人曾拒绝该岗位，同一岗位不再推荐",
                        "the worker declined this opening before; it is never proposed again",
                    )
                    .to_string(),
            ));
        }
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
