//! Incremental scoring for the batch: the candidate rows of the last run,
//! kept so that a quiet night scores only what changed.
//!
//! A worker's row is its best N eligible openings among the run's. It
//! depends on the worker's features (and whether their household has
//! nobody in work), the openings' features, the year (ages), N and the
//! scoring weights; free slots only decide which openings are in the run.
//! Each row is kept with a fingerprint of its worker, and each opening of
//! the run with one of its own. A kept row goes deeper than the run needs:
//! it holds the worker's best `depth` openings, `depth` a quarter more than
//! N when it is scored. The next run, for a worker whose fingerprint is
//! unchanged:
//!
//! - the openings of the old row that left the run or changed are taken
//!   out, `d` of them: what remains is exactly the best `depth - d` of the
//!   unchanged openings still in the run (taking members out of a ranked
//!   list leaves the best of the rest), or all of their eligible ones if
//!   the old row was shorter than its depth;
//! - if that depth is still at least N, the row is the best `depth - d` of
//!   what remains and of the worker's best `depth - d` among the openings
//!   new or changed since (scored on the pruned groups of those openings
//!   alone), and the run takes its best N: the best of a union is the best
//!   of the parts' best;
//! - otherwise the row is scored again from scratch, to the full depth.
//!
//! Ties are broken by opening id in every run. Tests compare incremental
//! rows with rows scored from scratch over random nights of changes.
//!
//! Fingerprints are 64-bit SipHash values of the fields that scoring reads
//! (interned skill codes by name, so they mean the same in every index).
//! The cache lives as long as the process; a fresh process scores in full.

use std::hash::{DefaultHasher, Hash, Hasher};

use hashbrown::HashMap;

use super::eligibility::MatchContext;
use super::features::{skill_code, skill_level, OpeningFeat, SkillEntry, WorkerFeat};
use super::index::MatchIndex;

/// Marks a gone or changed opening in [`Plan::remap`].
const NONE: u32 = u32::MAX;

/// The candidate rows of one run, to seed the next.
#[derive(Debug, Default)]
pub struct CandidateCache {
    /// Year, N and weights the rows were scored with.
    basis: u64,
    /// The run's openings by index, and their fingerprints.
    opening_ids: Vec<Box<str>>,
    opening_prints: Vec<u64>,
    /// Row number of each worker id.
    worker_rows: HashMap<Box<str>, u32>,
    /// Fingerprint of each row's worker.
    worker_prints: Vec<u64>,
    /// Each row is its worker's best `depth` openings (all of them when it
    /// is shorter).
    depths: Vec<u32>,
    /// Row `r` is `pairs[start[r]..start[r + 1]]`: (opening index, score),
    /// before declined pairs were taken out.
    start: Vec<u64>,
    pairs: Vec<(u32, u32)>,
}

/// How a run used the last run's rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reuse {
    /// Rows taken from the last run (topped up with changed openings).
    pub kept: usize,
    /// Rows scored from scratch.
    pub scored: usize,
    /// Openings new or changed since the last run (all of them without a
    /// usable last run).
    pub changed_openings: usize,
}

impl CandidateCache {
    /// Rows kept.
    pub fn rows(&self) -> usize {
        self.worker_prints.len()
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.pairs.capacity() * 8
            + self.start.capacity() * 8
            + self.worker_prints.capacity() * 8
            + self.depths.capacity() * 4
            + self.opening_prints.capacity() * 8
            + self.opening_ids.iter().map(|s| s.len() + 16).sum::<usize>()
            + self.worker_rows.keys().map(|s| s.len() + 24).sum::<usize>()
    }

    fn row(&self, r: u32) -> &[(u32, u32)] {
        let r = r as usize;
        &self.pairs[self.start[r] as usize..self.start[r + 1] as usize]
    }
}

/// Builds the cache of a run as its rows are made, in any order.
pub(super) struct CacheBuilder {
    cache: CandidateCache,
}

impl CacheBuilder {
    pub(super) fn new(
        basis: u64,
        opening_ids: &[String],
        opening_prints: Vec<u64>,
        workers: usize,
    ) -> Self {
        Self {
            cache: CandidateCache {
                basis,
                opening_ids: opening_ids.iter().map(|s| s.as_str().into()).collect(),
                opening_prints,
                worker_rows: HashMap::with_capacity(workers),
                worker_prints: Vec::with_capacity(workers),
                depths: Vec::with_capacity(workers),
                start: vec![0],
                pairs: Vec::new(),
            },
        }
    }

    pub(super) fn push(&mut self, worker_id: &str, print: u64, row: &[(u32, u32)], depth: u32) {
        let c = &mut self.cache;
        let r = c.worker_prints.len() as u32;
        c.worker_rows.insert(worker_id.into(), r);
        c.worker_prints.push(print);
        c.depths.push(depth);
        c.pairs.extend_from_slice(row);
        c.start.push(c.pairs.len() as u64);
    }

    pub(super) fn finish(mut self) -> CandidateCache {
        self.cache.pairs.shrink_to_fit();
        self.cache
    }
}

/// What scoring with the last run's rows needs, worked out once per run.
pub(super) struct Plan<'a> {
    prev: &'a CandidateCache,
    /// The last run's opening index -> this run's, or [`NONE`] if the
    /// opening left the run or changed.
    remap: Vec<u32>,
    /// Opening slot -> this run's index, for the new or changed openings
    /// only ([`NONE`] for the rest): the `opening_index` of the top-up.
    pub(super) added_index: Vec<u32>,
    pub(super) added: usize,
}

impl<'a> Plan<'a> {
    /// Compares this run's openings (`ids`, `prints`, `slots` by index)
    /// with the last run's; `None` if the last run's rows cannot serve
    /// (another year, N or weights).
    pub(super) fn new(
        prev: &'a CandidateCache,
        basis: u64,
        ids: &[String],
        prints: &[u64],
        slots: &[u32],
        slot_count: usize,
    ) -> Option<Self> {
        if prev.basis != basis {
            return None;
        }
        let now: HashMap<&str, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i as u32))
            .collect();
        let remap: Vec<u32> = prev
            .opening_ids
            .iter()
            .zip(&prev.opening_prints)
            .map(|(id, print)| match now.get(&**id) {
                Some(&i) if prints[i as usize] == *print => i,
                _ => NONE,
            })
            .collect();
        let mut unchanged = vec![false; ids.len()];
        for &i in remap.iter().filter(|&&i| i != NONE) {
            unchanged[i as usize] = true;
        }
        let mut added_index = vec![NONE; slot_count];
        let mut added = 0;
        for (i, keep) in unchanged.iter().enumerate() {
            if !keep {
                added_index[slots[i] as usize] = i as u32;
                added += 1;
            }
        }
        Some(Self {
            prev,
            remap,
            added_index,
            added,
        })
    }

    /// The worker's last row in this run's opening indices without the
    /// openings that left or changed, and the depth to which it is still
    /// exact; `None` if the worker changed or that depth is below
    /// `per_worker`.
    pub(super) fn kept_row(
        &self,
        worker_id: &str,
        print: u64,
        per_worker: usize,
    ) -> Option<(Vec<(u32, u32)>, u32)> {
        let &r = self.prev.worker_rows.get(worker_id)?;
        if self.prev.worker_prints[r as usize] != print {
            return None;
        }
        let old = self.prev.row(r);
        let depth = self.prev.depths[r as usize];
        let row: Vec<(u32, u32)> = old
            .iter()
            .filter_map(|&(o, s)| {
                let i = self.remap[o as usize];
                (i != NONE).then_some((i, s))
            })
            .collect();
        let depth = if old.len() < depth as usize {
            // Every eligible opening of the last run: still every one of
            // those that remain, to any depth.
            depth
        } else {
            depth - (old.len() - row.len()) as u32
        };
        (depth as usize >= per_worker).then_some((row, depth))
    }
}

/// How deep a row is scored when it is scored from scratch for the cache.
pub(super) fn depth(per_worker: usize) -> usize {
    per_worker + (per_worker / 4).max(2)
}

/// What every row depends on beyond its worker and the openings.
pub(super) fn basis(index: &MatchIndex, ctx: &MatchContext, per_worker: usize) -> u64 {
    let mut h = DefaultHasher::new();
    ctx.year.hash(&mut h);
    per_worker.hash(&mut h);
    // The weights and decay as written (f64 has no Hash; Debug prints
    // every field exactly).
    format!("{:?}", index.config).hash(&mut h);
    format!("{:?}", index.policy).hash(&mut h);
    h.finish()
}

fn skills(index: &MatchIndex, entries: &[SkillEntry], h: &mut DefaultHasher) {
    entries.len().hash(h);
    for &e in entries {
        index.skills.name(u32::from(skill_code(e))).hash(h);
        skill_level(e).hash(h);
    }
}

/// What scoring reads of a worker, with their household's "nobody in
/// work" and whether the `[policy]` rules let them take a public-welfare
/// post (`welfare_ok`, which also reads their age, gender and tenure).
pub(super) fn worker_print(index: &MatchIndex, w: &WorkerFeat, welfare_ok: bool) -> u64 {
    let mut h = DefaultHasher::new();
    w.lat.to_bits().hash(&mut h);
    w.lon.to_bits().hash(&mut h);
    w.county.hash(&mut h);
    w.expected_wage.hash(&mut h);
    w.birth_year.hash(&mut h);
    w.max_commute_km.hash(&mut h);
    std::mem::discriminant(&w.status).hash(&mut h);
    std::mem::discriminant(&w.capacity).hash(&mut h);
    std::mem::discriminant(&w.mobility).hash(&mut h);
    w.preferred_sources.hash(&mut h);
    w.strict_sources.hash(&mut h);
    w.needs_flexible_hours.hash(&mut h);
    skills(index, &w.skills, &mut h);
    index.zero_household(w).hash(&mut h);
    welfare_ok.hash(&mut h);
    h.finish()
}

/// What scoring reads of an opening: everything but its slots and status
/// (which decide whether it is in the run at all).
pub(super) fn opening_print(index: &MatchIndex, o: &OpeningFeat) -> u64 {
    let mut h = DefaultHasher::new();
    o.lat.to_bits().hash(&mut h);
    o.lon.to_bits().hash(&mut h);
    o.region.hash(&mut h);
    o.wage.hash(&mut h);
    o.end_day.hash(&mut h);
    o.min_age.hash(&mut h);
    o.max_age.hash(&mut h);
    std::mem::discriminant(&o.source).hash(&mut h);
    std::mem::discriminant(&o.demand).hash(&mut h);
    o.flexible_hours.hash(&mut h);
    o.housing.hash(&mut h);
    o.transport.hash(&mut h);
    o.reserved.hash(&mut h);
    skills(index, &o.required, &mut h);
    skills(index, &o.preferred, &mut h);
    h.finish()
}
