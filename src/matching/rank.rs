//! Ranking: gather candidate slots (pruned by the spatial buckets), score
//! them in parallel on rayon, keep the top k in each task, merge. Order is
//! score descending, then id ascending (byte order), so results are
//! deterministic. Openings for a worker rank by net value by default: score
//! minus the price the last exact run put on the opening's last slot
//! (`matching::contest`), ties to the cheaper opening, then by id.

use std::cmp::Ordering;

use rayon::prelude::*;

use super::contest::Contest;
use super::eligibility::MatchContext;
use super::features::{distance_km, source_bit, OpeningFeat, WorkerFeat};
use super::index::{MatchIndex, GRID_RADIUS_KM};
use super::score::ComponentExplanation;
use crate::domain::{Mobility, Source};

/// Candidates per rayon task: large enough to amortise task overhead,
/// small enough to balance two threads.
const CHUNK: usize = 2048;
/// Below this many candidates, rank on the calling thread.
const SEQUENTIAL_BELOW: usize = 4096;

/// Filters of a worker -> openings query; empty means any.
#[derive(Debug, Clone, Default)]
pub struct OpeningsQuery {
    /// How many results, 1 to 1000.
    pub top_k: usize,
    /// Only these sources.
    pub sources: Vec<Source>,
    /// Only openings in these region codes (numeric).
    pub counties: Vec<u32>,
    /// Only openings within this many km.
    pub max_distance_km: Option<f64>,
    /// Only openings paying at least this.
    pub min_wage: u32,
    /// Only results scoring at least this (micro-points).
    pub min_score_micro: u32,
    /// By net value (the default) or by score alone.
    pub ranking: Ranking,
    /// The opening the last exact run gave the worker, if any: under net
    /// ranking, ties go to it. The service fills it in.
    pub planned: Option<String>,
}

/// How openings are ranked for a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ranking {
    /// Score minus the opening's price from the last exact run: an
    /// opening many suit and few can get ranks below one nearly as good
    /// that is not contested. Ties go first to the opening the run gave
    /// the worker, then to the cheaper opening. The default: in the
    /// market simulation (`cargo bench --bench market`) top-1
    /// recommendations ranked so place everyone the nightly optimum
    /// places, against 65% by score.
    #[default]
    Net,
    /// Score alone.
    Score,
}

/// Filters of an opening -> workers query; empty means any.
#[derive(Debug, Clone, Default)]
pub struct WorkersQuery {
    /// How many results, 1 to 1000.
    pub top_k: usize,
    /// Only workers registered in these county codes (numeric).
    pub counties: Vec<u32>,
    /// Only workers within this many km.
    pub max_distance_km: Option<f64>,
    /// Only results scoring at least this (micro-points).
    pub min_score_micro: u32,
}

/// One ranked result with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Id of the opening (or worker) found.
    pub id: String,
    /// Score in micro-points.
    pub score_micro: u32,
    /// Great-circle km between site and workplace.
    pub distance_km: f64,
    /// The weighted components; value x weight summed is the score.
    pub components: Vec<ComponentExplanation>,
    /// The worker's household has labour and nobody in work.
    pub zero_household: bool,
    /// The opening's price from the last exact run, when it has one (and
    /// the query ranked by net value).
    pub contest: Option<Contest>,
}

impl Ranked {
    /// Score minus price, micro-points (the score when not priced).
    pub fn net_micro(&self) -> i64 {
        i64::from(self.score_micro) - self.contest.map_or(0, |c| c.combined())
    }
}

/// A ranking key: higher is better, compared in order (net value, then
/// whether it is the worker's planned opening, then the negated price, so
/// that remaining ties go to the cheaper opening).
type Key = (i64, bool, i64);

/// Below every key.
const LOWEST: Key = (i64::MIN, false, i64::MIN);

/// The k best (key, slot) pairs seen so far.
struct TopK {
    k: usize,
    items: Vec<(Key, u32)>,
    /// Keys below this cannot enter.
    floor: Key,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            items: Vec::with_capacity(2 * k + 1),
            floor: LOWEST,
        }
    }

    #[inline]
    fn push<'a>(&mut self, key: Key, slot: u32, id: &impl Fn(u32) -> &'a str) {
        if key < self.floor {
            return;
        }
        self.items.push((key, slot));
        if self.items.len() > 2 * self.k {
            self.shrink(id);
        }
    }

    fn shrink<'a>(&mut self, id: &impl Fn(u32) -> &'a str) {
        let cmp = |a: &(Key, u32), b: &(Key, u32)| order(*a, *b, id);
        if self.items.len() > self.k {
            self.items.select_nth_unstable_by(self.k - 1, cmp);
            self.items.truncate(self.k);
            self.floor = self.items.iter().map(|i| i.0).min().unwrap_or(LOWEST);
        }
    }

    fn merge<'a>(mut self, other: TopK, id: &impl Fn(u32) -> &'a str) -> TopK {
        self.items.extend(other.items);
        self.shrink(id);
        self
    }

    fn finish<'a>(mut self, id: &impl Fn(u32) -> &'a str) -> Vec<(Key, u32)> {
        self.shrink(id);
        self.items.sort_unstable_by(|a, b| order(*a, *b, id));
        self.items
    }
}

/// Better first: higher key, then smaller id.
#[inline]
fn order<'a>(a: (Key, u32), b: (Key, u32), id: &impl Fn(u32) -> &'a str) -> Ordering {
    b.0.cmp(&a.0).then_with(|| id(a.1).cmp(id(b.1)))
}

/// Scores candidate slots in parallel and keeps the k best.
fn top_k<'a, F>(
    buckets: Vec<&[u32]>,
    k: usize,
    id: impl Fn(u32) -> &'a str + Sync,
    score: F,
) -> Vec<(Key, u32)>
where
    F: Fn(u32) -> Option<Key> + Sync,
{
    let total: usize = buckets.iter().map(|b| b.len()).sum();
    let run = |acc: &mut TopK, chunk: &[u32]| {
        for &slot in chunk {
            if let Some(s) = score(slot) {
                acc.push(s, slot, &id);
            }
        }
    };
    if total < SEQUENTIAL_BELOW {
        let mut acc = TopK::new(k);
        for b in &buckets {
            run(&mut acc, b);
        }
        return acc.finish(&id);
    }
    let chunks: Vec<&[u32]> = buckets.iter().flat_map(|b| b.chunks(CHUNK)).collect();
    chunks
        .par_iter()
        .fold(
            || TopK::new(k),
            |mut acc, chunk| {
                run(&mut acc, chunk);
                acc
            },
        )
        .reduce(|| TopK::new(k), |a, b| a.merge(b, &id))
        .finish(&id)
}

impl MatchIndex {
    /// The best openings for a worker; `None` if the worker is unknown.
    /// Runs rayon inside: call it from a blocking context.
    pub fn rank_openings(
        &self,
        worker_id: &str,
        q: &OpeningsQuery,
        ctx: &MatchContext,
    ) -> Option<Vec<Ranked>> {
        let ws = self.workers.slot(worker_id)?;
        let w = self.workers.get(ws)?;
        if !self.worker_is_available(w) || q.top_k == 0 {
            return Some(Vec::new());
        }
        let mut radius = q.max_distance_km.unwrap_or(f64::INFINITY);
        if w.mobility == Mobility::NearHome {
            radius = radius.min(f64::from(w.max_commute_km));
        }
        let buckets: Vec<&[u32]> = if radius <= 2000.0 {
            self.opening_grid.near(w.lat, w.lon, radius)
        } else {
            self.opening_grid.all().collect()
        };
        let sources = q.sources.iter().fold(0u8, |m, s| m | source_bit(*s));
        // Per worker, not per pair: the policy rules and the declines.
        let welfare_ok = self.welfare_ok(w, ctx);
        let declined = self.declined_opening_slots(worker_id);
        let priced = q.ranking == Ranking::Net && !self.prices.is_empty();
        let planned = q
            .planned
            .as_deref()
            .filter(|_| priced)
            .and_then(|id| self.openings.slot(id));
        let best = top_k(
            buckets,
            q.top_k,
            |s| self.openings.id(s),
            |slot| {
                let o = self.openings.get(slot)?;
                if (sources != 0 && sources & source_bit(o.source) == 0)
                    || o.wage < q.min_wage
                    || (!q.counties.is_empty() && !q.counties.contains(&o.region))
                {
                    return None;
                }
                let limits = (q.max_distance_km, q.min_score_micro);
                let declined = declined.contains(&slot);
                let score = self.query_score(w, o, ctx, welfare_ok, declined, limits)?;
                let price = if priced {
                    self.prices
                        .get(self.openings.id(slot), o.free_slots())
                        .map_or(0, |c| c.combined())
                } else {
                    0
                };
                Some((i64::from(score) - price, planned == Some(slot), -price))
            },
        );
        Some(
            best.into_iter()
                .map(|(_, os)| {
                    let mut r = self.ranked(ws, os, self.openings.id(os), ctx);
                    if priced {
                        r.contest = self.contest_of(os);
                    }
                    r
                })
                .collect(),
        )
    }

    /// The last exact run whose prices rank openings, if any.
    pub fn price_run(&self) -> Option<u64> {
        self.prices.run_id()
    }

    /// The price of the opening in slot `os` now, if it has one.
    pub(crate) fn contest_of(&self, os: u32) -> Option<Contest> {
        let o = self.openings.get(os)?;
        self.prices.get(self.openings.id(os), o.free_slots())
    }

    /// The best workers for an opening; `None` if the opening is unknown.
    /// Runs rayon inside: call it from a blocking context.
    pub fn rank_workers(
        &self,
        opening_id: &str,
        q: &WorkersQuery,
        ctx: &MatchContext,
    ) -> Option<Vec<Ranked>> {
        let os = self.openings.slot(opening_id)?;
        let o = self.openings.get(os)?;
        if !self.opening_is_available(o, ctx) || q.top_k == 0 {
            return Some(Vec::new());
        }
        let radius = q
            .max_distance_km
            .unwrap_or(GRID_RADIUS_KM)
            .min(GRID_RADIUS_KM);
        let mut buckets = self.worker_grid.near(o.lat, o.lon, radius);
        buckets.push(self.worker_grid.wide());
        let welfare = o.source == Source::PublicWelfare;
        let declined = self.declined_worker_slots(opening_id);
        let best = top_k(
            buckets,
            q.top_k,
            |s| self.workers.id(s),
            |slot| {
                let w = self.workers.get(slot)?;
                if !q.counties.is_empty() && !q.counties.contains(&w.county) {
                    return None;
                }
                // A great circle is at least as long as its latitude span.
                if w.mobility == Mobility::NearHome
                    && (w.lat - o.lat).abs() * 111.0 > f32::from(w.max_commute_km)
                {
                    return None;
                }
                // Each worker is scored once here, so the policy rules
                // are worked out once per worker (and only for a
                // public-welfare post).
                let welfare_ok = !welfare || self.welfare_ok(w, ctx);
                let limits = (q.max_distance_km, q.min_score_micro);
                let declined = declined.contains(&slot);
                self.query_score(w, o, ctx, welfare_ok, declined, limits)
                    .map(|s| (i64::from(s), false, 0))
            },
        );
        Some(
            best.into_iter()
                .map(|(_, ws)| self.ranked(ws, os, self.workers.id(ws), ctx))
                .collect(),
        )
    }

    /// The score of a pair a query considers: `None` unless the pair fits,
    /// is not `declined`, lies within the query's distance and scores at
    /// least its minimum (`limits`). Distance is computed only for pairs
    /// that fit otherwise.
    fn query_score(
        &self,
        w: &WorkerFeat,
        o: &OpeningFeat,
        ctx: &MatchContext,
        welfare_ok: bool,
        declined: bool,
        (max_distance_km, min_score_micro): (Option<f64>, u32),
    ) -> Option<u32> {
        if declined || !super::eligibility::fits_before_distance(w, o, ctx, welfare_ok) {
            return None;
        }
        let d = distance_km(w.lat, w.lon, o.lat, o.lon);
        if max_distance_km.is_some_and(|m| d > m) {
            return None;
        }
        self.pair_score(w, o, d, ctx, welfare_ok)
            .filter(|s| *s >= min_score_micro)
    }

    fn ranked(&self, ws: u32, os: u32, id: &str, ctx: &MatchContext) -> Ranked {
        let e = self.explain_slots(ws, os, ctx);
        let zero_household = self.workers.get(ws).is_some_and(|w| self.zero_household(w));
        Ranked {
            id: id.to_string(),
            score_micro: e.score_micro,
            distance_km: e.distance_km,
            components: e.components,
            zero_household,
            contest: None,
        }
    }

    /// Feature access for the reference and tests.
    pub(crate) fn worker_feat(&self, id: &str) -> Option<&WorkerFeat> {
        self.workers.get(self.workers.slot(id)?)
    }

    /// Feature access for the reference and tests.
    pub(crate) fn opening_feat(&self, id: &str) -> Option<&OpeningFeat> {
        self.openings.get(self.openings.slot(id)?)
    }
}
