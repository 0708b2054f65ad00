//! The nightly batch: score every seeking worker against every opening with
//! free slots, solve the assignment under a policy, and store the result,
//! its summary, its changes against the previous run and its audit files.
//!
//! One run at a time. The service layer starts it on a thread of its own
//! ([`Batch::begin`], [`Batch::execute`], then the proposals through the
//! service's write path, then [`Batch::finish`]); scoring uses rayon;
//! progress and cancellation go through [`Control`]. A run is applied only when it is marked SUCCEEDED, after
//! all its rows are stored, so a crash or a cancel never leaves half a run:
//! at the next start, runs left RUNNING are marked FAILED and their rows
//! removed.

pub mod audit;
pub mod schedule;
mod summary;
pub mod whatif;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use crate::domain::placement::PlacementStatus;
use crate::domain::run::OpeningPrice;
use crate::domain::run::{Assignment, Policy, Run, RunPhase, RunStatus, StoredComponent};
use crate::matching::assign::prices::{self, Duals};
use crate::matching::assign::simplex::Warm;
use crate::matching::assign::{simplex, stable, Control, Solution, SolveError};
use crate::matching::{BatchInput, LastOptimum};
use crate::matching::{CandidateCache, InputRequest, MatchContext, Matcher, Pending};
use crate::store::{Store, StoreError};

/// Settings of the batch.
#[derive(Debug, Clone)]
pub struct BatchSettings {
    /// Each worker's best eligible openings kept as candidates. 100: wide
    /// enough that the optimum almost never wants a worker's 101st choice,
    /// small enough that ten times Huaihua fits in memory.
    pub candidates_per_worker: usize,
    /// Runs kept (older ones, their rows and audit files are deleted).
    pub keep_runs: usize,
    /// Where each run's audit folder `run-<id>` goes; `None` for none.
    pub audit_dir: Option<PathBuf>,
    /// What the nightly run does with its assignments. Manual (stage them
    /// for review and `ApplyRun`) by default: nobody wants 13,000 offers
    /// made overnight without a look.
    pub nightly_apply: ApplyMode,
    /// A staged run older than this many hours is refused by `ApplyRun`:
    /// 24, so the night's run is applied during the next working day and
    /// never after the data moved on for days.
    pub max_staged_age_hours: u32,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            candidates_per_worker: 100,
            keep_runs: 30,
            audit_dir: None,
            nightly_apply: ApplyMode::Manual,
            max_staged_age_hours: 24,
        }
    }
}

/// What a scheduled run does with its assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyMode {
    /// Propose them at once.
    Auto,
    /// Stage them: stored, nothing proposed until `ApplyRun`.
    #[default]
    Manual,
}

/// Why a batch request failed.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No such run.
    #[error("run {0} not found")]
    NotFound(u64),
    /// Another run is going on.
    #[error("run {0} is in progress; one run at a time")]
    Busy(u64),
    /// The run is not running (for cancel) or has no results (for reads).
    #[error("run {id} is {status}")]
    WrongState {
        /// Run id.
        id: u64,
        /// Its status, in words.
        status: &'static str,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing audit files failed.
    #[error("audit files: {0}")]
    Audit(#[from] std::io::Error),
    /// The solver's own check failed: a bug, reported rather than applied.
    #[error("solution failed its optimality check: {0}")]
    Check(String),
}

/// Lower-case name of a status, for messages.
pub fn status_label(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Unspecified => "unknown",
        RunStatus::Running => "running",
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "failed",
        RunStatus::Cancelled => "cancelled",
    }
}

struct Active {
    id: u64,
    control: Arc<Control>,
    phase: Arc<AtomicI32>,
    /// When the current phase began, for the phase-time metric.
    phase_started: std::time::Instant,
}

/// A run that [`Batch::begin`] registered: the run, its cancel and
/// progress handle, and its phase for observers.
pub struct Started {
    /// The run as stored so far.
    pub run: Run,
    /// Cancel flag and progress.
    pub control: Arc<Control>,
    /// The current [`RunPhase`], as an `i32`.
    pub phase: Arc<AtomicI32>,
}

/// Starts, tracks and stores batch runs.
pub struct Batch {
    store: Arc<Store>,
    matcher: Arc<Matcher>,
    settings: BatchSettings,
    active: Mutex<Option<Active>>,
    /// The last scored run's candidate rows, which the next run reuses
    /// where nothing they depend on changed (`matching::CandidateCache`).
    last_rows: Mutex<Option<Arc<CandidateCache>>>,
    /// The last exact optimum's potentials by id: a night that changed
    /// nothing is proved optimal with them, without solving
    /// (`matching::LastOptimum`).
    last_optimum: Mutex<Option<Arc<LastOptimum>>>,
    /// Tonight's baseline as a dry run or a what-if last solved it, for
    /// the next what-if (`whatif::Baseline`).
    baseline: Mutex<Option<Arc<whatif::Baseline>>>,
}

/// Share of the progress bar each phase takes.
fn phase_span(phase: RunPhase) -> (f64, f64) {
    match phase {
        RunPhase::Unspecified | RunPhase::Scoring => (0.0, 0.3),
        RunPhase::Solving => (0.3, 0.9),
        RunPhase::Saving => (0.9, 1.0),
        RunPhase::Done => (1.0, 1.0),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Batch {
    /// A batch over `store` and `matcher`. Marks runs a stopped server
    /// left RUNNING as FAILED; runs that were making their proposals are
    /// left to the caller ([`Batch::runs_proposing`]), which owns the
    /// write path that makes them.
    pub fn new(
        store: Arc<Store>,
        matcher: Arc<Matcher>,
        settings: BatchSettings,
    ) -> Result<Self, BatchError> {
        for id in store.fail_interrupted_runs(now_ms())? {
            tracing::warn!(run_id = id, "run interrupted by a restart marked failed");
        }
        store.flush_blocking()?;
        let batch = Self {
            store,
            matcher,
            settings,
            active: Mutex::new(None),
            last_rows: Mutex::new(None),
            last_optimum: Mutex::new(None),
            baseline: Mutex::new(None),
        };
        // The prices of the last exact run rank recommendations until the
        // next one.
        let mut before = 0;
        'runs: loop {
            let runs = batch.store.list_runs(before, 64)?;
            for run in &runs {
                if run.status() == RunStatus::Succeeded && run.policy() != Policy::Stable {
                    batch.publish_prices(run.id)?;
                    break 'runs;
                }
            }
            match runs.last() {
                Some(last) if runs.len() == 64 => before = last.id,
                _ => break,
            }
        }
        Ok(batch)
    }

    /// Puts run `id`'s prices into the match index, replacing the last.
    fn publish_prices(&self, id: u64) -> Result<(), StoreError> {
        self.matcher.update(|| {
            let prices = self.store.prices(id).collect::<Result<Vec<_>, _>>()?;
            tracing::info!(
                run_id = id,
                contested = prices.len(),
                "opening prices published"
            );
            Ok(vec![crate::matching::IndexOp::Prices {
                run_id: id,
                prices,
            }])
        })
    }

    /// Runs past their point of no return whose proposals a stop
    /// interrupted: the caller makes the rest and calls
    /// [`Batch::complete_recovered`].
    pub fn runs_proposing(&self) -> Result<Vec<Run>, BatchError> {
        Ok(self.store.runs_proposing()?)
    }

    /// Marks a recovered run (see [`Batch::runs_proposing`]) SUCCEEDED
    /// once its proposals are made.
    pub fn complete_recovered(&self, mut run: Run) -> Result<(), BatchError> {
        run.proposing = false;
        run.set_status(RunStatus::Succeeded);
        run.set_phase(RunPhase::Done);
        run.finished_at_ms = now_ms();
        self.store.put_run(&run)?;
        self.store.flush_blocking()?;
        Ok(())
    }

    /// Proposals not answered yet, which hold their workers and slots back.
    fn pending(&self) -> Result<Pending, StoreError> {
        let mut pending = Pending::default();
        for p in self.store.placements_in(PlacementStatus::Proposed) {
            let p = p?;
            *pending.openings.entry(p.opening_id).or_default() += 1;
            pending.workers.insert(p.worker_id);
        }
        Ok(pending)
    }

    /// How this batch asks for tonight's problem (the run's and the
    /// what-ifs' alike): its candidates per worker, scoring over the whole
    /// progress range.
    fn request<'a>(
        &self,
        ctx: &'a MatchContext,
        pending: &'a Pending,
        control: &'a Control,
    ) -> InputRequest<'a> {
        InputRequest {
            ctx,
            per_worker: self.settings.candidates_per_worker,
            pending,
            control,
            progress_to: 1.0,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &BatchSettings {
        &self.settings
    }

    /// Registers a new run (refused while another is going on) and
    /// returns it with its control handles. Then [`Batch::execute`] it
    /// and [`Batch::finish`] it, on a thread of the caller's.
    pub fn begin(
        &self,
        policy: Policy,
        dry_run: bool,
        trigger: &str,
    ) -> Result<Started, BatchError> {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = active.as_ref() {
            return Err(BatchError::Busy(a.id));
        }
        let mut run = Run {
            id: self.store.next_run_id()?,
            dry_run,
            trigger: trigger.to_string(),
            started_at_ms: now_ms(),
            candidates_per_worker: self.settings.candidates_per_worker as u32,
            ..Default::default()
        };
        run.set_policy(policy);
        run.set_status(RunStatus::Running);
        run.set_phase(RunPhase::Scoring);
        self.store.put_run(&run)?;
        self.store.flush_blocking()?;
        let control = Arc::new(Control::default());
        let phase = Arc::new(AtomicI32::new(RunPhase::Scoring as i32));
        *active = Some(Active {
            id: run.id,
            control: control.clone(),
            phase: phase.clone(),
            phase_started: std::time::Instant::now(),
        });
        Ok(Started {
            run,
            control,
            phase,
        })
    }

    /// Ends a run with the outcome of [`Batch::execute`] and of its
    /// proposals: stores its status (removing the rows of a run that did
    /// not succeed), prunes old runs and frees the slot for the next.
    pub fn finish(&self, started: Started, result: Result<(), BatchError>) {
        let Started {
            mut run,
            control,
            phase,
        } = started;
        run.proposing = false;
        match result {
            Ok(()) => run.set_status(RunStatus::Succeeded),
            Err(BatchError::Check(e)) => {
                tracing::error!(run_id = run.id, error = %e, "run failed its check");
                run.set_status(RunStatus::Failed);
                run.error = format!("solution failed its optimality check: {e}");
            }
            Err(e) if control.cancelled() => {
                tracing::info!(run_id = run.id, reason = %e, "run cancelled");
                run.set_status(RunStatus::Cancelled);
            }
            Err(e) => {
                tracing::error!(run_id = run.id, error = %e, "run failed");
                run.set_status(RunStatus::Failed);
                run.error = e.to_string();
            }
        }
        if run.status() != RunStatus::Succeeded {
            run.summary = None;
            if let Err(e) = self.store.delete_run_rows(run.id) {
                tracing::error!(run_id = run.id, error = %e, "cannot remove rows of an unfinished run");
            }
        }
        self.phase_ended(run.phase());
        run.set_phase(RunPhase::Done);
        phase.store(RunPhase::Done as i32, Ordering::Relaxed);
        run.finished_at_ms = now_ms();
        {
            // The slot is freed and the end stored under one lock, so that
            // whoever reads the end can start the next run at once (the
            // pruning below can take seconds), and a cancel sees either a
            // running active run or an ended one.
            let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
            *active = None;
            if let Err(e) = self
                .store
                .put_run(&run)
                .and_then(|()| self.store.flush_blocking())
            {
                tracing::error!(run_id = run.id, error = %e, "cannot store the run's end");
            }
        }
        if run.status() == RunStatus::Succeeded && run.policy() != Policy::Stable {
            if let Err(e) = self.publish_prices(run.id) {
                tracing::error!(run_id = run.id, error = %e, "cannot publish the run's prices");
            }
        }
        if run.status() == RunStatus::Succeeded {
            if let Err(e) = self.prune() {
                tracing::warn!(error = %e, "cannot prune old runs");
            }
        }
        tracing::info!(
            run_id = run.id,
            status = status_label(run.status()),
            "run finished"
        );
        metrics::counter!(crate::telemetry::RUNS, "outcome" => status_label(run.status()))
            .increment(1);
    }

    /// Scores, solves, checks and stores the run's assignments: the three
    /// phases, in order, `score`, `solve` and
    /// `save`, each recorded on the run as it starts. A cancel is
    /// honoured inside and between them. A run that is not a dry run then
    /// passes its point of no return: it is stored with `proposing` set,
    /// and the caller turns its assignments into proposals before
    /// [`Batch::finish`] (a restart finishes them).
    pub fn execute(&self, started: &mut Started) -> Result<(), BatchError> {
        let (control, phase) = (started.control.clone(), started.phase.clone());
        let run = &mut started.run;
        // Whatever this run does, the kept baseline is not tonight's any
        // more once it ends; dropped now, it does not add to the run's peak.
        *self.baseline.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let scored = self.score(run.id, &control)?;
        self.enter(run, &phase, &control, RunPhase::Solving)?;
        let solved = self.solve(run, &scored, &control)?;
        self.enter(run, &phase, &control, RunPhase::Saving)?;
        self.save(run, scored, solved, &control)
    }

    /// Scoring: tonight's problem, the rows of unchanged workers taken from
    /// the last run's cache, which this run's rows then replace.
    fn score(&self, id: u64, control: &Control) -> Result<Scored, BatchError> {
        let started = Instant::now();
        let ctx = MatchContext::now();
        let pending = self.pending()?;
        // Taken out of the lock: scoring runs on rayon and holds nothing.
        let last = taken(&self.last_rows);
        let req = self.request(&ctx, &pending, control);
        let snapshot = self.matcher.read();
        let (input, rows, reuse) = snapshot.batch_input_incremental(&req, last.as_deref());
        let revision = snapshot.revision();
        drop((last, snapshot));
        not_cancelled(control, id)?;
        *self.last_rows.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(rows));
        let scoring_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            run_id = id,
            rows_kept = reuse.kept,
            rows_scored = reuse.scored,
            changed_openings = reuse.changed_openings,
            scoring_ms,
            "candidates scored"
        );
        Ok(Scored {
            input,
            pending,
            reuse,
            scoring_ms,
            revision,
            day: (ctx.year, ctx.today),
        })
    }

    /// Solving, by the run's policy, each plan checked: the exact one by
    /// its certificate (kept for the next run as [`LastOptimum`]) and its
    /// prices by theirs, the stable one for blocking pairs.
    fn solve(&self, run: &Run, scored: &Scored, control: &Control) -> Result<Solved, BatchError> {
        let started = Instant::now();
        let (id, input) = (run.id, &scored.input);
        let p = &input.problem;
        // The previous run: the changes count against it, and the exact
        // policy keeps its plan where an optimum allows.
        let (previous, before) = self.previous_plan(id)?;
        let mut exact = None;
        let mut kept_last = None;
        let mut proved_by_last_optimum = false;
        let solution = match run.policy() {
            Policy::Stable => {
                let s = stable::solve(p, control).map_err(|SolveError::Cancelled| {
                    BatchError::WrongState {
                        id,
                        status: "cancelled",
                    }
                })?;
                if let Some((w, e)) = stable::blocking_pair(p, &s) {
                    return Err(BatchError::Check(format!(
                        "blocking pair: worker {} and opening {}",
                        input.worker_ids[w], input.opening_ids[p.edge_opening[e] as usize]
                    )));
                }
                s
            }
            Policy::Optimal | Policy::Unspecified => {
                let anchor = anchor(input, &before);
                let hint = self.last_hint(input);
                let (s, warm, proved) = self.solve_exact(input, &anchor, hint, control, id)?;
                tracing::info!(
                    run_id = id,
                    proved_by_last_optimum = proved,
                    "exact plan found"
                );
                proved_by_last_optimum = proved;
                let last = Arc::new(LastOptimum::new(input, &warm));
                *self.last_optimum.lock().unwrap_or_else(|e| e.into_inner()) = Some(last.clone());
                let duals = prices::minimal(p, &s, &warm.certificate);
                duals
                    .certificate()
                    .verify(p, &s)
                    .map_err(|e| BatchError::Check(format!("prices: {e}")))?;
                exact = Some((anchor, duals));
                kept_last = Some(last);
                s
            }
        };
        let objective = solution.check(p).map_err(BatchError::Check)?;
        Ok(Solved {
            solution,
            objective,
            exact,
            last: kept_last,
            proved_by_last_optimum,
            previous,
            before,
            solving_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Saving: the audit files, the assignments with their explanations,
    /// the changes against the previous run, the prices and the summary;
    /// for a run that proposes, the point of no return.
    fn save(
        &self,
        run: &mut Run,
        scored: Scored,
        solved: Solved,
        control: &Control,
    ) -> Result<(), BatchError> {
        let started = Instant::now();
        let Scored {
            input,
            pending,
            reuse,
            scoring_ms,
            revision,
            day,
        } = scored;
        let Solved {
            solution,
            objective,
            exact,
            last,
            proved_by_last_optimum,
            previous,
            mut before,
            solving_ms,
        } = solved;
        let mut summary = summary::summarize(&input, &solution, objective);
        if let Some(dir) = &self.settings.audit_dir {
            let files = exact
                .as_ref()
                .map(|(anchor, duals)| audit::Exact { anchor, duals });
            audit::write(&audit::run_folder(dir, run.id), &input, &solution, files)?;
        }
        let mut rows = self.assignments(&input, &solution);
        self.fingerprint(&mut rows)?;
        control.set_progress(0.5);
        not_cancelled(control, run.id)?;
        let now: Vec<(String, String)> = rows
            .iter()
            .map(|a| (a.worker_id.clone(), a.opening_id.clone()))
            .collect();
        // Workers holding a proposal were left out of this run: not lost.
        before.retain(|w, _| !pending.workers.contains(w));
        let changes = summary::changes(&before, &now);
        summary.previous_run_id = previous.map_or(0, |r| r.id);
        for c in &changes {
            match c.kind() {
                crate::domain::run::ChangeKind::Gained => summary.gained += 1,
                crate::domain::run::ChangeKind::Lost => summary.lost += 1,
                crate::domain::run::ChangeKind::Changed => summary.changed += 1,
                crate::domain::run::ChangeKind::Unspecified => {}
            }
        }
        self.store.put_assignments(run.id, &rows)?;
        self.store.put_changes(run.id, &changes)?;
        if let Some((_, duals)) = &exact {
            let prices = opening_prices(&input, duals);
            summary.contested_openings = prices.len() as u64;
            self.store.put_prices(run.id, &prices)?;
        }
        not_cancelled(control, run.id)?;
        summary.scoring_ms = scoring_ms;
        summary.rows_kept = reuse.kept as u64;
        summary.rows_scored = reuse.scored as u64;
        summary.solving_ms = solving_ms;
        summary.proved_by_last_optimum = proved_by_last_optimum;
        summary.saving_ms = started.elapsed().as_millis() as u64;
        run.summary = Some(summary);
        if !run.dry_run {
            // The point of no return: from here a restart finishes the
            // proposals rather than failing the run, and a cancel is too late.
            run.proposing = true;
            self.store.put_run(run)?;
            self.store.flush_blocking()?;
        } else if let Some(last) = last {
            // Nothing changes with a dry run: its plan is tonight's
            // baseline for the what-ifs that follow, once it succeeds.
            let key = whatif::BaselineKey {
                revision,
                pending,
                day,
                last_run: Some(run.id),
            };
            let plan = Arc::new(whatif::Plan::new(input, &solution));
            let baseline = whatif::Baseline {
                key,
                plan,
                last,
                proved: true,
            };
            *self.baseline.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(baseline));
        }
        Ok(())
    }

    /// The last succeeded run with an id below `before`, and its plan by
    /// worker id (empty without one).
    pub(crate) fn previous_plan(
        &self,
        before: u64,
    ) -> Result<(Option<Run>, HashMap<String, String>), StoreError> {
        let previous = self.store.last_succeeded_run(before)?;
        let mut plan = HashMap::new();
        if let Some(prev) = &previous {
            for a in self.store.assignments(prev.id) {
                let a = a?;
                plan.insert(a.worker_id, a.opening_id);
            }
        }
        Ok((previous, plan))
    }

    /// The last exact run's potentials and tree, mapped onto `input`'s
    /// nodes (see [`LastOptimum::warm_for`]); none before the first run.
    pub(crate) fn last_hint(&self, input: &BatchInput) -> Option<Warm> {
        taken(&self.last_optimum).map(|l| l.warm_for(input))
    }

    /// Solves `input` exactly, closest to `anchor` (see
    /// [`simplex::solve_keeping_from`]), first trying whether `hint`'s
    /// potentials prove the anchor itself, and otherwise pivoting from
    /// them; checks the certificate. Also says whether the hint proved it.
    /// `id` names the run in a cancellation.
    pub(crate) fn solve_exact(
        &self,
        input: &BatchInput,
        anchor: &[u32],
        hint: Option<Warm>,
        control: &Control,
        id: u64,
    ) -> Result<(Solution, Warm, bool), BatchError> {
        let p = &input.problem;
        let (s, warm, proved) = simplex::solve_keeping_from(p, anchor, hint, control).map_err(
            |SolveError::Cancelled| BatchError::WrongState {
                id,
                status: "cancelled",
            },
        )?;
        // A plan the hint proved was verified by that very check (and
        // checked as a plan) inside `solve_keeping_from`: once is the
        // check; a second scan of every arc is not (1-2 s at scale 80).
        if !proved {
            warm.certificate.verify(p, &s).map_err(BatchError::Check)?;
            s.check(p).map_err(BatchError::Check)?;
        }
        Ok((s, warm, proved))
    }

    fn enter(
        &self,
        run: &mut Run,
        phase: &AtomicI32,
        control: &Control,
        next: RunPhase,
    ) -> Result<(), BatchError> {
        self.phase_ended(run.phase());
        run.set_phase(next);
        self.store.put_run(run)?;
        control.set_progress(0.0);
        phase.store(next as i32, Ordering::Relaxed);
        Ok(())
    }

    /// Records how long the active run spent in `ended` and starts the
    /// clock of its next phase.
    fn phase_ended(&self, ended: RunPhase) {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = active.as_mut() {
            let now = std::time::Instant::now();
            let label = format!("{ended:?}").to_lowercase();
            metrics::histogram!(crate::telemetry::RUN_PHASE_SECONDS, "phase" => label)
                .record(now.duration_since(a.phase_started).as_secs_f64());
            a.phase_started = now;
        }
    }

    /// The stored rows of a solved run, with explanations.
    fn assignments(
        &self,
        input: &crate::matching::BatchInput,
        solution: &crate::matching::assign::Solution,
    ) -> Vec<Assignment> {
        let p = &input.problem;
        let ctx = MatchContext::now();
        let assigned: Vec<usize> = (0..p.workers())
            .filter(|&w| solution.edge[w].is_some())
            .collect();
        // Explained in parallel, each chunk on a snapshot of the index
        // (lock-free: see `matching::shared`); the order is kept.
        assigned
            .par_chunks(4096)
            .flat_map_iter(|chunk| {
                let index = self.matcher.read();
                let ctx = &ctx;
                chunk.iter().map(move |&w| {
                    let e = solution.edge[w].expect("assigned") as usize;
                    let o = p.edge_opening[e] as usize;
                    let h = p.household[w] as usize;
                    let explanation =
                        index.explain_pair(&input.worker_ids[w], &input.opening_ids[o], ctx);
                    let (components, distance_km) = explanation.map_or((Vec::new(), 0.0), |x| {
                        let c = x
                            .components
                            .into_iter()
                            .map(|c| StoredComponent {
                                name: c.name.to_string(),
                                value: c.value,
                                weight: c.weight,
                                reason: c.reason,
                            })
                            .collect();
                        (c, x.distance_km)
                    });
                    Assignment {
                        worker_id: input.worker_ids[w].clone(),
                        opening_id: input.opening_ids[o].clone(),
                        household_id: input.household_ids[h].clone(),
                        zero_household: p.zero_household[h],
                        score_micro: p.edge_score[e],
                        components,
                        distance_km,
                        county_code: format!("{:06}", input.worker_county[w]),
                        source: u32::from(input.opening_source[o].code()),
                        worker_fingerprint: 0,
                        opening_fingerprint: 0,
                    }
                })
            })
            .collect()
    }

    /// Stamps each row with its worker's and opening's fingerprints, for
    /// the check when a staged run is applied. (Read at saving time: a
    /// client write between scoring and saving goes unnoticed, as it does
    /// for the stored explanations.)
    fn fingerprint(&self, rows: &mut [Assignment]) -> Result<(), StoreError> {
        let mut ids: Vec<&str> = rows.iter().map(|a| a.opening_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let openings: HashMap<String, u64> = ids
            .par_iter()
            .map(|id| {
                let f = self
                    .store
                    .opening(id)?
                    .map_or(0, |o| crate::store::opening_fingerprint(&o));
                Ok(((*id).to_string(), f))
            })
            .collect::<Result<_, StoreError>>()?;
        rows.par_iter_mut().try_for_each(|a| {
            a.worker_fingerprint = self
                .store
                .worker(&a.worker_id)?
                .map_or(0, |w| crate::store::worker_fingerprint(&w));
            a.opening_fingerprint = openings[&a.opening_id];
            Ok(())
        })
    }

    /// Deletes runs beyond the retention count, with their audit folders.
    fn prune(&self) -> Result<(), BatchError> {
        let runs = self.store.list_runs(0, usize::MAX)?;
        for run in runs.iter().skip(self.settings.keep_runs.max(1)) {
            self.store.delete_run(run.id)?;
            if let Some(dir) = &self.settings.audit_dir {
                let folder = audit::run_folder(dir, run.id);
                if folder.exists() {
                    std::fs::remove_dir_all(folder)?;
                }
            }
        }
        Ok(())
    }

    /// A run with live phase and progress if it is the active one.
    pub fn get(&self, id: u64) -> Result<(Run, f64), BatchError> {
        let run = self.store.run(id)?.ok_or(BatchError::NotFound(id))?;
        Ok(self.with_live(run))
    }

    /// Adds live progress to a stored run.
    pub fn with_live(&self, mut run: Run) -> (Run, f64) {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = active
            .as_ref()
            .filter(|a| a.id == run.id && run.status() == RunStatus::Running)
        {
            let phase =
                RunPhase::try_from(a.phase.load(Ordering::Relaxed)).unwrap_or(RunPhase::Scoring);
            run.set_phase(phase);
            let (lo, hi) = phase_span(phase);
            return (run, lo + (hi - lo) * a.control.progress());
        }
        let progress = if run.status() == RunStatus::Succeeded {
            1.0
        } else {
            0.0
        };
        (run, progress)
    }

    /// Asks the active run `id` to stop.
    pub fn cancel(&self, id: u64) -> Result<Run, BatchError> {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        // Read under the lock: a run stores its end and leaves the slot
        // under it (see `finish`), and an ended run is not cancelled.
        let run = self.store.run(id)?.ok_or(BatchError::NotFound(id))?;
        match active.as_ref() {
            Some(a) if a.id == id && run.status() == RunStatus::Running => {
                a.control.cancel();
                Ok(run)
            }
            _ => Err(BatchError::WrongState {
                id,
                status: status_label(run.status()),
            }),
        }
    }

    /// The id of the run in progress, if any.
    pub fn active_run(&self) -> Option<u64> {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|a| a.id)
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

/// The plan a run keeps close to: per worker of `input`, the opening the
/// previous plan gave them (`before`: worker id -> opening id), where that
/// opening is in this run; `u32::MAX` for a worker who had none, or whose
/// opening is not in this run. The anchor of the solver's third tier: among
/// optimal plans, the one closest to it.
pub(crate) fn anchor<K, V>(input: &BatchInput, before: &HashMap<K, V>) -> Vec<u32>
where
    K: std::borrow::Borrow<str> + std::hash::Hash + Eq,
    V: AsRef<str>,
{
    let opening: HashMap<&str, u32> = input
        .opening_ids
        .iter()
        .enumerate()
        .map(|(o, id)| (id.as_str(), o as u32))
        .collect();
    input
        .worker_ids
        .iter()
        .map(|w| {
            before
                .get(w.as_str())
                .and_then(|o| opening.get(o.as_ref()).copied())
                .unwrap_or(u32::MAX)
        })
        .collect()
}

/// The contested openings' prices as stored with the run.
fn opening_prices(input: &BatchInput, duals: &Duals) -> Vec<OpeningPrice> {
    duals
        .prices
        .iter()
        .enumerate()
        .filter(|(_, p)| p.contested())
        .map(|(o, p)| OpeningPrice {
            opening_id: input.opening_ids[o].clone(),
            households: p.households,
            points_micro: p.points,
            free_slots: input.problem.slots[o],
            household_weight: duals.big,
        })
        .collect()
}

/// What a cache slot holds now, taken out of its lock: the work that uses
/// it (scoring on rayon, solving) never runs under the lock.
/// What scoring hands to solving and saving.
struct Scored {
    input: BatchInput,
    /// The proposals held back (their workers are left out).
    pending: Pending,
    reuse: crate::matching::Reuse,
    scoring_ms: u64,
    /// The revision of the match index it was scored on, and the year
    /// and day: with `pending`, what a baseline kept from it depends on.
    revision: u64,
    day: (i32, i32),
}

/// What solving hands to saving.
struct Solved {
    solution: Solution,
    objective: crate::matching::assign::Objective,
    /// The exact policy's anchor and prices.
    exact: Option<(Vec<u32>, Duals)>,
    /// The exact policy's potentials and tree, by id.
    last: Option<Arc<LastOptimum>>,
    proved_by_last_optimum: bool,
    /// The previous succeeded run and its plan by worker id.
    previous: Option<Run>,
    before: HashMap<String, String>,
    solving_ms: u64,
}

/// An error if run `id` was cancelled.
fn not_cancelled(control: &Control, id: u64) -> Result<(), BatchError> {
    if control.cancelled() {
        Err(BatchError::WrongState {
            id,
            status: "cancelled",
        })
    } else {
        Ok(())
    }
}

fn taken<T>(slot: &Mutex<Option<Arc<T>>>) -> Option<Arc<T>> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
