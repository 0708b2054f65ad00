//! What-if: what the nightly optimum would do differently after some
//! changes (openings added, resized or closed, workers added or removed),
//! with nothing stored and nothing proposed.
//!
//! The baseline is the problem the nightly run would build now: the same
//! snapshot of the match index, the same pending proposals held back and
//! the same `candidates_per_worker`, its rows taken from the last run's
//! candidate cache where nothing changed. The changed problem is built
//! from a private copy of that snapshot with the changes applied
//! ([`IndexOp::apply`]): the live matcher and the store are never
//! written. Its rows come from the baseline's rows, so only the workers
//! and openings the changes touch are scored again. Both problems are
//! solved exactly and both certificates checked, as a run checks its own,
//! and both as the run solves ([`Batch::solve_exact`]): the baseline kept
//! closest to the last run's plan, which the last optimum's potentials
//! prove at once when nothing that matters changed since that run (so a
//! what-if after a run solves one problem, not two), and the changed one
//! kept closest to the baseline's plan, its pivots starting from the
//! baseline's potentials so that they touch only what the changes moved.
//! A baseline once solved is kept in memory (`Baseline`): a dry run
//! leaves its own plan, and a what-if the baseline it built. The next
//! what-if starts from it, neither building nor proving it again, while
//! everything it was built from is as it was: the match index's revision,
//! the pending proposals, the day and the last succeeded run. A run drops
//! it as it starts.
//!
//! The only state a what-if leaves is in memory: that baseline, and, on a
//! server that has not run the batch since it started, the baseline's
//! rows as the batch's row cache (what the next run would score anyway).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use super::{Batch, BatchError};
use crate::matching::assign::{Control, Solution, SolveError};
use crate::matching::{BatchInput, IndexOp, LastOptimum, MatchContext, MatchIndex, Pending, Reuse};

/// Workers who would move listed when the caller does not say.
pub const DEFAULT_LIMIT: usize = 100;

/// A worker whose assignment differs between the two plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The worker's whole id.
    pub worker_id: String,
    /// The worker's county (six digits).
    pub county_code: String,
    /// The opening in the baseline plan; `None` if not assigned (or not
    /// in the baseline at all: a worker the changes add).
    pub before: Option<String>,
    /// The opening in the changed plan; `None` if not assigned (or
    /// removed by the changes).
    pub after: Option<String>,
}

/// Zero-employment households that gain or lose a placed member, in one
/// county.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountyCoverage {
    /// County code (six digits).
    pub county_code: String,
    /// Covered in the changed plan, not in the baseline.
    pub newly_covered: u64,
    /// Covered in the baseline, not in the changed plan.
    pub no_longer_covered: u64,
}

/// One plan's figures, over the workers the answer covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanFigures {
    /// Workers assigned.
    pub hires: u64,
    /// Zero-employment households with a member assigned.
    pub zero_households_covered: u64,
    /// Sum of the assigned scores, micro-points.
    pub total_score_micro: u64,
}

/// The answer to a what-if, for one view (every county, or some).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhatIfAnswer {
    /// The baseline plan.
    pub before: PlanFigures,
    /// The plan with the changes.
    pub after: PlanFigures,
    /// Households covered after and not before.
    pub newly_covered: u64,
    /// Households covered before and not after.
    pub no_longer_covered: u64,
    /// The two above by county, counties in code order (only counties
    /// where something changes).
    pub by_county: Vec<CountyCoverage>,
    /// Workers whose assignment differs, in worker id order, at most the
    /// limit asked for.
    pub moves: Vec<Move>,
    /// How many workers' assignments differ in all.
    pub moves_total: u64,
    /// Building both problems (the changed one incrementally).
    pub scoring_ms: u64,
    /// Solving and checking both.
    pub solving_ms: u64,
    /// Rows of the changed problem taken from the baseline's, and scored.
    pub rows_kept: u64,
    /// See `rows_kept`.
    pub rows_scored: u64,
    /// The baseline was the last exact run's plan, proved still optimal
    /// by that run's potentials (nothing that matters changed since): only
    /// the changed problem was solved.
    pub baseline_from_last_run: bool,
}

/// A solved and checked problem with its names, as the answer reads it:
/// each worker's opening and score, without the candidate pairs (at
/// national scale they are most of a problem's memory, and a kept
/// baseline would hold them for nothing).
pub(super) struct Plan {
    /// The input, its pairs dropped (`edge_opening` and `edge_score`
    /// empty; the rows' starts, households and ids kept).
    input: BatchInput,
    /// Per worker: the opening it is assigned and the pair's score.
    assigned: Vec<Option<(u32, u32)>>,
}

/// What one worker gets in a plan.
#[derive(Clone, Copy)]
struct Seat<'a> {
    county: u32,
    household: &'a str,
    zero: bool,
    opening: Option<(&'a str, u32)>,
}

impl Plan {
    /// `solution` of `input`, keeping what the answer reads.
    pub fn new(mut input: BatchInput, solution: &Solution) -> Self {
        let p = &input.problem;
        let assigned = solution
            .edge
            .iter()
            .map(|e| e.map(|e| (p.edge_opening[e as usize], p.edge_score[e as usize])))
            .collect();
        input.problem.edge_opening = Vec::new();
        input.problem.edge_score = Vec::new();
        Self { input, assigned }
    }

    /// Worker `w`'s seat.
    fn seat(&self, w: usize) -> Seat<'_> {
        let p = &self.input.problem;
        let h = p.household[w] as usize;
        let opening =
            self.assigned[w].map(|(o, score)| (self.input.opening_ids[o as usize].as_str(), score));
        Seat {
            county: self.input.worker_county[w],
            household: self.input.household_ids[h].as_str(),
            zero: p.zero_household[h],
            opening,
        }
    }
}

/// Both plans' workers in id order (both inputs list them so), each with
/// its seat in the plans it is in: one merge, no table by id.
fn side_by_side<'a>(
    base: &'a Plan,
    changed: &'a Plan,
) -> impl Iterator<Item = (&'a str, Option<Seat<'a>>, Option<Seat<'a>>)> {
    let (b, c) = (&base.input.worker_ids, &changed.input.worker_ids);
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let next = match (b.get(i), c.get(j)) {
            (None, None) => return None,
            (Some(x), Some(y)) if x == y => (x, true, true),
            (Some(x), Some(y)) if x < y => (x, true, false),
            (Some(x), None) => (x, true, false),
            (_, Some(y)) => (y, false, true),
        };
        let (id, in_base, in_changed) = next;
        let before = in_base.then(|| base.seat(i));
        let after = in_changed.then(|| changed.seat(j));
        i += usize::from(in_base);
        j += usize::from(in_changed);
        Some((id.as_str(), before, after))
    })
}

/// Both plans, solved and checked; [`Comparison::answer`] cuts a view of
/// them.
pub struct Comparison {
    base: Arc<Plan>,
    changed: Plan,
    scoring_ms: u64,
    solving_ms: u64,
    reuse: Reuse,
    base_proved: bool,
}

fn county_code(c: u32) -> String {
    format!("{c:06}")
}

impl Comparison {
    /// The answer over the workers of the counties `sees` accepts (and
    /// their households), listing at most `limit` moves.
    pub fn answer(&self, sees: impl Fn(&str) -> bool, limit: usize) -> WhatIfAnswer {
        let mut answer = WhatIfAnswer {
            scoring_ms: self.scoring_ms,
            solving_ms: self.solving_ms,
            rows_kept: self.reuse.kept as u64,
            rows_scored: self.reuse.scored as u64,
            baseline_from_last_run: self.base_proved,
            ..WhatIfAnswer::default()
        };
        let mut seen: HashMap<u32, bool> = HashMap::new();
        let mut visible = |c: u32| *seen.entry(c).or_insert_with(|| sees(&county_code(c)));
        // Per plan: its figures, and its covered households with their
        // county.
        let mut covered: [HashMap<&str, u32>; 2] = Default::default();
        let mut figures = [PlanFigures::default(); 2];
        let mut moves = Vec::new();
        for (id, before, after) in side_by_side(&self.base, &self.changed) {
            for (k, seat) in [before, after].into_iter().enumerate() {
                let Some(seat) = seat.filter(|s| visible(s.county)) else {
                    continue;
                };
                if let Some((_, score)) = seat.opening {
                    figures[k].hires += 1;
                    figures[k].total_score_micro += u64::from(score);
                    if seat.zero {
                        covered[k].insert(seat.household, seat.county);
                    }
                }
            }
            let (ob, oa) = (
                before.and_then(|s| s.opening).map(|o| o.0),
                after.and_then(|s| s.opening).map(|o| o.0),
            );
            let county = after.or(before).expect("in one plan").county;
            if ob != oa && visible(county) {
                answer.moves_total += 1;
                if moves.len() < limit {
                    moves.push(Move {
                        worker_id: id.to_string(),
                        county_code: county_code(county),
                        before: ob.map(str::to_string),
                        after: oa.map(str::to_string),
                    });
                }
            }
        }
        for (k, f) in figures.iter_mut().enumerate() {
            f.zero_households_covered = covered[k].len() as u64;
        }
        [answer.before, answer.after] = figures;
        let mut by_county: BTreeMap<u32, CountyCoverage> = BTreeMap::new();
        fn row(m: &mut BTreeMap<u32, CountyCoverage>, c: u32) -> &mut CountyCoverage {
            m.entry(c).or_insert_with(|| CountyCoverage {
                county_code: county_code(c),
                ..CountyCoverage::default()
            })
        }
        let [covered_before, covered_after] = &covered;
        for (h, &c) in covered_after {
            if !covered_before.contains_key(h) {
                row(&mut by_county, c).newly_covered += 1;
                answer.newly_covered += 1;
            }
        }
        for (h, &c) in covered_before {
            if !covered_after.contains_key(h) {
                row(&mut by_county, c).no_longer_covered += 1;
                answer.no_longer_covered += 1;
            }
        }
        answer.by_county = by_county.into_values().collect();
        answer.moves = moves;
        answer
    }
}

/// [`super::anchor`] to the baseline plan, for the workers of `changed`.
fn anchor(base: &Plan, changed: &BatchInput) -> Vec<u32> {
    let was: HashMap<&str, &str> = (0..base.assigned.len())
        .filter_map(|w| {
            let (o, _) = base.assigned[w]?;
            Some((
                base.input.worker_ids[w].as_str(),
                base.input.opening_ids[o as usize].as_str(),
            ))
        })
        .collect();
    super::anchor(changed, &was)
}

/// What a baseline was built from: a what-if may start from it while all
/// of it is as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BaselineKey {
    /// The match index's revision (see `MatchIndex::revision`; holding
    /// the snapshot itself would keep the matcher's spare copy busy).
    pub revision: u64,
    /// The proposals held back.
    pub pending: Pending,
    /// The year and day the rules were checked against.
    pub day: (i32, i32),
    /// The last succeeded run, whose plan the baseline keeps closest to.
    pub last_run: Option<u64>,
}

/// Tonight's baseline as last solved, by a dry run or by a what-if, kept
/// (by [`Batch`]) so that the next what-if starts from it, neither
/// building nor proving it again, while its [`BaselineKey`] holds. A run
/// drops it as it starts; only a dry run leaves one, since a run that
/// proposes changes what is pending.
pub(super) struct Baseline {
    pub key: BaselineKey,
    pub plan: Arc<Plan>,
    /// Its optimum's potentials and tree, by id.
    pub last: Arc<LastOptimum>,
    /// It was the last run's plan, proved by that run's potentials (or
    /// that run's own solve).
    pub proved: bool,
}

/// Where a what-if's baseline comes from.
enum Base {
    Kept(Arc<Baseline>),
    Built(Box<BatchInput>),
}

fn cancelled(SolveError::Cancelled: SolveError) -> BatchError {
    BatchError::WrongState {
        id: 0,
        status: "cancelled",
    }
}

impl Batch {
    /// What the nightly optimum would do differently with `ops` applied to
    /// a private copy of the current match index. Nothing is stored, the
    /// live index is not touched. Blocking and CPU-heavy (rayon inside):
    /// call it off the async runtime.
    pub fn what_if(&self, ops: &[IndexOp], control: &Control) -> Result<Comparison, BatchError> {
        let started = Instant::now();
        let lap = |step: &str, since: &mut Instant| {
            tracing::debug!(
                step,
                ms = since.elapsed().as_millis() as u64,
                "what-if step"
            );
            *since = Instant::now();
        };
        let mut t = Instant::now();
        let ctx = MatchContext::now();
        let pending = self.pending()?;
        let last = super::taken(&self.last_rows);
        let snapshot = self.matcher.read();
        let req = self.request(&ctx, &pending, control);
        let last_run = self.store.last_succeeded_run(u64::MAX)?.map(|r| r.id);
        let key = BaselineKey {
            revision: snapshot.revision(),
            pending: pending.clone(),
            day: (ctx.year, ctx.today),
            last_run,
        };
        // The baseline as last solved, while nothing it was built from has
        // changed; otherwise built now, from the last run's rows.
        let kept = super::taken(&self.baseline).filter(|b| b.key == key);
        let (base, base_rows) = match kept {
            Some(kept) => (Base::Kept(kept), last.clone()),
            None => {
                let (base, rows, _) = snapshot.batch_input_incremental(&req, last.as_deref());
                let rows = Arc::new(rows);
                if last.is_none() {
                    // The first what-if after a start seeds the batch's cache
                    // with the rows it scored (exactly the next run's, where
                    // nothing changed), so that later what-ifs and the next
                    // run reuse them. A run's own rows replace them as usual.
                    let mut cache = self.last_rows.lock().unwrap_or_else(|e| e.into_inner());
                    if cache.is_none() {
                        *cache = Some(rows.clone());
                    }
                }
                lap("baseline built", &mut t);
                (Base::Built(Box::new(base)), Some(rows))
            }
        };
        drop(last);
        let mut changed = MatchIndex::clone(&snapshot);
        drop(snapshot);
        for op in ops {
            op.apply(&mut changed);
        }
        lap("index copied and changed", &mut t);
        let (after, reuse) = match &base_rows {
            Some(rows) => changed.batch_input_reusing(&req, rows),
            None => {
                let (after, _, reuse) = changed.batch_input_incremental(&req, None);
                (after, reuse)
            }
        };
        drop((changed, base_rows));
        lap("changed built", &mut t);
        if control.cancelled() {
            return Err(cancelled(SolveError::Cancelled));
        }
        let scoring_ms = started.elapsed().as_millis() as u64;
        let started = Instant::now();
        let baseline = match base {
            Base::Kept(kept) => kept,
            Base::Built(base) => {
                let baseline = self.solve_baseline(*base, key, control)?;
                lap("baseline solved", &mut t);
                baseline
            }
        };
        // The changed problem's pivots start from the baseline's optimum:
        // its plan where it still fits, its tree and its potentials.
        let base = baseline.plan.clone();
        let hint = Some(baseline.last.warm_for(&after));
        let base_proved = baseline.proved;
        drop(baseline);
        lap("baseline mapped", &mut t);
        let keep = anchor(&base, &after);
        let (solution, _, _) = self.solve_exact(&after, &keep, hint, control, 0)?;
        lap("changed solved", &mut t);
        let solving_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            changes = ops.len(),
            base_proved_by_last_optimum = base_proved,
            rows_kept = reuse.kept,
            rows_scored = reuse.scored,
            scoring_ms,
            solving_ms,
            "what-if solved"
        );
        Ok(Comparison {
            base,
            changed: Plan::new(after, &solution),
            scoring_ms,
            solving_ms,
            reuse,
            base_proved,
        })
    }

    /// Tonight's problem as the last exact run left it: when nothing that
    /// matters changed since, that run's plan is proved by its potentials
    /// at once; otherwise it is solved as the run would. Kept for the next
    /// what-if under `key`.
    fn solve_baseline(
        &self,
        base: BatchInput,
        key: BaselineKey,
        control: &Control,
    ) -> Result<Arc<Baseline>, BatchError> {
        let (_, before) = self.previous_plan(u64::MAX)?;
        let hint = self.last_hint(&base);
        let base_anchor = super::anchor(&base, &before);
        drop(before);
        let (solution, warm, proved) = self.solve_exact(&base, &base_anchor, hint, control, 0)?;
        let last = Arc::new(LastOptimum::new(&base, &warm));
        let baseline = Arc::new(Baseline {
            key,
            plan: Arc::new(Plan::new(base, &solution)),
            last,
            proved,
        });
        *self.baseline.lock().unwrap_or_else(|e| e.into_inner()) = Some(baseline.clone());
        Ok(baseline)
    }
}
