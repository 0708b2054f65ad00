//! Builds a batch assignment problem from the match index: every seeking
//! worker with each of their best eligible openings (up to a limit), scored
//! exactly as the ranking RPCs score them.

use rayon::prelude::*;

use super::assign::{Control, Problem};
use super::eligibility::MatchContext;
use super::features::{distance_km, WorkerFeat};
use super::index::MatchIndex;
use super::pruned::{Groups, Scratch};
use super::row_cache::{self, CacheBuilder, CandidateCache, Plan, Reuse};
use super::Matcher;
use crate::domain::{EmploymentStatus, Mobility, OpeningStatus, Source};

const NONE: u32 = u32::MAX;
/// Workers scored between progress reports and cancel checks.
const WORKERS_PER_STEP: usize = 2048;

/// A problem and the names behind its indices.
#[derive(Debug, Clone, Default)]
pub struct BatchInput {
    /// The problem; workers and openings in id order.
    pub problem: Problem,
    /// Worker ids by index.
    pub worker_ids: Vec<String>,
    /// Numeric county code of each worker.
    pub worker_county: Vec<u32>,
    /// Opening ids by index.
    pub opening_ids: Vec<String>,
    /// Source of each opening.
    pub opening_source: Vec<Source>,
    /// Household ids by index.
    pub household_ids: Vec<String>,
}

/// Proposals made earlier and not answered yet: their workers wait for an
/// answer and are left out, and each holds one of its opening's free slots
/// back from the run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    /// Workers with a pending proposal.
    pub workers: std::collections::HashSet<String>,
    /// Pending proposals per opening id.
    pub openings: std::collections::HashMap<String, u32>,
}

/// What a batch input is built from; every way of building one below
/// takes the same request.
#[derive(Debug, Clone, Copy)]
pub struct InputRequest<'a> {
    /// The day and year the rules are checked against.
    pub ctx: &'a MatchContext,
    /// How many of each worker's best eligible openings are kept.
    pub per_worker: usize,
    /// Proposals not answered yet: their workers are left out and their
    /// slots held back.
    pub pending: &'a Pending,
    /// Progress and cancellation; scoring stops between steps once
    /// cancelled.
    pub control: &'a Control,
    /// Where progress ends when scoring is done (it starts at 0).
    pub progress_to: f64,
}

impl<'a> InputRequest<'a> {
    /// A request whose progress ends at 1 when scoring is done (a build of
    /// its own, not a step of a run).
    pub fn new(
        ctx: &'a MatchContext,
        per_worker: usize,
        pending: &'a Pending,
        control: &'a Control,
    ) -> Self {
        Self {
            ctx,
            per_worker,
            pending,
            control,
            progress_to: 1.0,
        }
    }
}

impl Matcher {
    /// Scores every seeking worker without a pending proposal against the
    /// openings that take people now (free slots beyond those the request's
    /// `pending` holds), keeping each worker's best `per_worker` eligible
    /// openings. Runs rayon inside; progress goes from 0 to `progress_to`.
    pub fn batch_input(&self, req: &InputRequest<'_>) -> BatchInput {
        self.batch_input_with(req, true)
    }

    /// [`Matcher::batch_input`], reusing the rows of the last run where
    /// nothing they depend on changed (see `row_cache`): the same input as
    /// scoring from scratch, the cache of this run's rows to pass to the
    /// next, and how much was reused.
    pub fn batch_input_incremental(
        &self,
        req: &InputRequest<'_>,
        last: Option<&CandidateCache>,
    ) -> (BatchInput, CandidateCache, Reuse) {
        self.read().batch_input_incremental(req, last)
    }

    /// [`Matcher::batch_input`], or with `pruned` false the reference that
    /// scores every pair in reach (tests compare the two).
    pub(crate) fn batch_input_with(&self, req: &InputRequest<'_>, pruned: bool) -> BatchInput {
        self.read().build_input(req, pruned, Rows::Scored).0
    }
}

impl MatchIndex {
    /// [`Matcher::batch_input_incremental`] on this index rather than on
    /// the matcher's current snapshot: what-if problems are built on a
    /// changed copy of a snapshot (`batch::whatif`).
    pub fn batch_input_incremental(
        &self,
        req: &InputRequest<'_>,
        last: Option<&CandidateCache>,
    ) -> (BatchInput, CandidateCache, Reuse) {
        let (input, cache, reuse) = self.build_input(req, true, Rows::Cached(last));
        (input, cache.unwrap_or_default(), reuse)
    }

    /// [`MatchIndex::batch_input_incremental`] without building a cache
    /// of its own rows: for a problem no later run starts from (a
    /// what-if's changed problem), it spares copying every row once more.
    pub fn batch_input_reusing(
        &self,
        req: &InputRequest<'_>,
        last: &CandidateCache,
    ) -> (BatchInput, Reuse) {
        let (input, _, reuse) = self.build_input(req, true, Rows::Borrowed(last));
        (input, reuse)
    }

    /// The input; with [`Rows::Cached`] also this run's cache.
    fn build_input(
        &self,
        req: &InputRequest<'_>,
        pruned: bool,
        rows_from: Rows<'_>,
    ) -> (BatchInput, Option<CandidateCache>, Reuse) {
        let &InputRequest {
            ctx,
            per_worker,
            pending,
            control,
            progress_to,
        } = req;
        let (caching, last) = match rows_from {
            Rows::Scored => (false, None),
            Rows::Cached(last) => (true, last),
            Rows::Borrowed(last) => (false, Some(last)),
        };
        let mut input = BatchInput::default();
        // One snapshot for the whole phase (the caller's): every pair is
        // scored against the same state, and slots cannot change meaning
        // between steps. Holding it never blocks a writer (see `shared`).
        let index = self;
        let mut opening_slots: Vec<u32> = Vec::new();
        let (worker_slots, opening_index) = {
            let mut openings: Vec<(&str, u32, u32)> = index
                .openings
                .iter()
                .filter(|(_, o)| o.status == OpeningStatus::Open && o.end_day >= ctx.today)
                .filter_map(|(slot, o)| {
                    let id = index.openings.id(slot);
                    let held = pending.openings.get(id).copied().unwrap_or(0);
                    let free = o.free_slots().saturating_sub(held);
                    (free > 0).then_some((id, slot, free))
                })
                .collect();
            openings.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let mut opening_index = vec![
                NONE;
                index
                    .openings
                    .iter()
                    .map(|(s, _)| s as usize + 1)
                    .max()
                    .unwrap_or(0)
            ];
            for (i, (id, slot, free)) in openings.iter().enumerate() {
                opening_index[*slot as usize] = i as u32;
                opening_slots.push(*slot);
                input.opening_ids.push((*id).to_string());
                input
                    .opening_source
                    .push(index.openings.get(*slot).expect("live").source);
                input.problem.slots.push(*free);
            }
            let mut workers: Vec<(&str, u32)> = index
                .workers
                .iter()
                .filter(|(_, w)| w.status == EmploymentStatus::Seeking)
                .map(|(slot, _)| (index.workers.id(slot), slot))
                .filter(|(id, _)| !pending.workers.contains(*id))
                .collect();
            workers.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let mut household_of = hashbrown::HashMap::new();
            for (id, slot) in &workers {
                let w = index.workers.get(*slot).expect("live");
                let next = household_of.len() as u32;
                let h = *household_of.entry(w.household).or_insert_with(|| {
                    input
                        .household_ids
                        .push(index.households.name(w.household).to_string());
                    input.problem.zero_household.push(index.zero_household(w));
                    next
                });
                input.problem.household.push(h);
                input.worker_ids.push((*id).to_string());
                input.worker_county.push(w.county);
            }
            (
                workers.into_iter().map(|(_, s)| s).collect::<Vec<u32>>(),
                opening_index,
            )
        };
        // Declined pairs (never offered again) as (worker slot, opening
        // index), for the filter: the index's, as ranking and
        // `ExplainMatch` see them.
        let mut excluded: hashbrown::HashMap<u32, Vec<u32>> = hashbrown::HashMap::new();
        for (w, os) in &index.declined_by_worker {
            let Some(ws) = index.workers.slot(w) else {
                continue;
            };
            for o in os {
                let Some(os) = index.openings.slot(o) else {
                    continue;
                };
                let oi = opening_index.get(os as usize).copied().unwrap_or(NONE);
                if oi != NONE {
                    excluded.entry(ws).or_default().push(oi);
                }
            }
        }
        let groups = pruned.then(|| Groups::build(index, &opening_index));
        // Incremental scoring: this run's opening fingerprints against the
        // last run's, and the pruned groups of the openings new or changed.
        let basis = row_cache::basis(index, ctx, per_worker);
        let opening_prints: Vec<u64> = if caching || last.is_some() {
            opening_slots
                .par_iter()
                .map(|&s| row_cache::opening_print(index, index.openings.get(s).expect("live")))
                .collect()
        } else {
            Vec::new()
        };
        let plan = last.and_then(|last| {
            Plan::new(
                last,
                basis,
                &input.opening_ids,
                &opening_prints,
                &opening_slots,
                opening_index.len(),
            )
        });
        let added_groups = plan
            .as_ref()
            .filter(|p| p.added > 0)
            .map(|p| Groups::build(index, &p.added_index));
        let mut reuse = Reuse {
            changed_openings: plan.as_ref().map_or(opening_slots.len(), |p| p.added),
            ..Reuse::default()
        };
        let mut builder = caching.then(|| {
            CacheBuilder::new(
                basis,
                &input.opening_ids,
                opening_prints,
                worker_slots.len(),
            )
        });
        let total = worker_slots.len().max(1);
        let mut rows: Vec<Vec<(u32, u32)>> = Vec::with_capacity(worker_slots.len());
        for (c, chunk) in worker_slots.chunks(WORKERS_PER_STEP).enumerate() {
            if control.cancelled() {
                break;
            }
            let part: Vec<Scored> = chunk
                .par_iter()
                .map_init(Scratch::default, |scratch, &ws| {
                    let printed = builder.is_some() || plan.is_some();
                    let print = match (printed, index.workers.get(ws)) {
                        (true, Some(w)) => {
                            row_cache::worker_print(index, w, index.welfare_ok(w, ctx))
                        }
                        _ => 0,
                    };
                    let kept = plan.as_ref().and_then(|p| {
                        p.kept_row(index.workers.id(ws), print, per_worker)
                            .map(|kept| (p, kept))
                    });
                    match kept {
                        Some((p, (mut full, depth))) => {
                            if let Some(g) = &added_groups {
                                full.extend(candidates(
                                    index,
                                    ws,
                                    &p.added_index,
                                    depth as usize,
                                    ctx,
                                    Some((g, &mut *scratch)),
                                ));
                            }
                            keep_best(&mut full, depth as usize);
                            Scored {
                                full,
                                depth,
                                print,
                                kept: true,
                            }
                        }
                        None => {
                            // Cached rows go deeper than the run needs,
                            // so that openings leaving them later do not
                            // force a new scoring at once.
                            let depth = match builder {
                                Some(_) => row_cache::depth(per_worker),
                                None => per_worker,
                            };
                            let full = candidates(
                                index,
                                ws,
                                &opening_index,
                                depth,
                                ctx,
                                groups.as_ref().map(|g| (g, &mut *scratch)),
                            );
                            Scored {
                                full,
                                depth: depth as u32,
                                print,
                                kept: false,
                            }
                        }
                    }
                })
                .collect();
            for (k, scored) in part.into_iter().enumerate() {
                let ws = chunk[k];
                if scored.kept {
                    reuse.kept += 1;
                } else {
                    reuse.scored += 1;
                }
                let mut row = scored.full;
                if let Some(b) = &mut builder {
                    b.push(index.workers.id(ws), scored.print, &row, scored.depth);
                }
                // Rows scored or kept for a cache go deeper than the run
                // needs.
                if row.len() > per_worker {
                    keep_best(&mut row, per_worker);
                }
                if let Some(ex) = excluded.get(&ws) {
                    row.retain(|(oi, _)| !ex.contains(oi));
                }
                rows.push(row);
            }
            control.set_progress(
                progress_to * ((c + 1) * WORKERS_PER_STEP).min(total) as f64 / total as f64,
            );
        }
        rows.resize(worker_slots.len(), Vec::new());
        let Problem {
            slots,
            household,
            zero_household,
            ..
        } = std::mem::take(&mut input.problem);
        input.problem = Problem::from_rows(rows, slots, household, zero_household);
        // A cancelled run's cache lacks the rows it did not reach, which
        // the next run then scores: still correct, only less of a saving.
        (input, builder.map(CacheBuilder::finish), reuse)
    }
}

/// Where a run's rows come from.
#[derive(Clone, Copy)]
enum Rows<'a> {
    /// Scored, and no cache built.
    Scored,
    /// Taken from the last run's cache where they can be (none yet:
    /// `None`), and this run's cache built.
    Cached(Option<&'a CandidateCache>),
    /// Taken from the given cache where they can be, and no cache built
    /// (a problem no run will reuse: a what-if's changed one).
    Borrowed(&'a CandidateCache),
}

/// A worker's row as scored, before declined pairs leave it: its best
/// `depth` openings (the run takes the best `per_worker` of them).
struct Scored {
    full: Vec<(u32, u32)>,
    depth: u32,
    /// The worker's fingerprint (0 when no cache is built).
    print: u64,
    /// Taken from the last run's rows.
    kept: bool,
}

/// One worker's best eligible openings among the batch's, as (opening
/// index, micro-points), sorted by opening index: through `groups`
/// (pruned, exact), or with `None` (the reference) by scoring every
/// opening in reach.
fn candidates(
    index: &MatchIndex,
    ws: u32,
    opening_index: &[u32],
    limit: usize,
    ctx: &MatchContext,
    groups: Option<(&Groups, &mut Scratch)>,
) -> Vec<(u32, u32)> {
    let Some(w) = index.workers.get(ws) else {
        return Vec::new();
    };
    if w.status != EmploymentStatus::Seeking || limit == 0 {
        return Vec::new();
    }
    // The `[policy]` rules, once per worker.
    let welfare_ok = index.welfare_ok(w, ctx);
    match groups {
        Some((g, scratch)) => {
            g.candidates(index, w, opening_index, limit, ctx, welfare_ok, scratch);
            let found = &mut scratch.found;
            select_best(found, limit);
            found.to_vec()
        }
        None => {
            let mut found = scan(index, w, opening_index, ctx, welfare_ok);
            keep_best(&mut found, limit);
            found
        }
    }
}

/// Keeps the best `limit` of `found` in place, sorted by opening index:
/// higher score first, ties to the lower index (= smaller id).
fn select_best(found: &mut Vec<(u32, u32)>, limit: usize) {
    if limit == 0 {
        found.clear();
    } else if found.len() > limit {
        found.select_nth_unstable_by(limit - 1, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        found.truncate(limit);
    }
    found.sort_unstable();
}

/// Keeps the best `limit` of `found`, sorted by opening index: higher
/// score first, ties to the lower index (= smaller id).
fn keep_best(found: &mut Vec<(u32, u32)>, limit: usize) {
    select_best(found, limit);
    // The search buffer may hold tens of thousands of entries for a
    // migrant; keep only what the row needs.
    found.shrink_to_fit();
}

/// Every eligible opening in the worker's reach, scored.
fn scan(
    index: &MatchIndex,
    w: &WorkerFeat,
    opening_index: &[u32],
    ctx: &MatchContext,
    welfare_ok: bool,
) -> Vec<(u32, u32)> {
    let buckets: Vec<&[u32]> = if w.mobility == Mobility::NearHome {
        index
            .opening_grid
            .near(w.lat, w.lon, f64::from(w.max_commute_km))
    } else {
        index.opening_grid.all().collect()
    };
    let mut found: Vec<(u32, u32)> = Vec::new();
    for bucket in buckets {
        for &os in bucket {
            let oi = opening_index.get(os as usize).copied().unwrap_or(NONE);
            if oi == NONE {
                continue;
            }
            let Some(o) = index.openings.get(os) else {
                continue;
            };
            let d = distance_km(w.lat, w.lon, o.lat, o.lon);
            if let Some(score) = index.pair_score(w, o, d, ctx, welfare_ok) {
                found.push((oi, score));
            }
        }
    }
    found
}
