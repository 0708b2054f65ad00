//! Batch runs: starting them (by request, by the CLI, by the nightly
//! schedule), reading them, and turning a run's assignments into PROPOSED
//! placements through the same write path as every other write.

use std::path::PathBuf;
use std::sync::atomic::AtomicI32;
use std::sync::Arc;

use chrono::Utc;

use super::{scope, Result, Service, ServiceError};
use crate::batch::schedule::Schedule;
use crate::batch::{status_label, ApplyMode, BatchError, Started};
use crate::domain::access::Caller;
use crate::domain::run::{Assignment, Change, Policy, Run, RunStatus};
use crate::matching::assign::Control;
use crate::store::{Proposal, StoreError};

/// The stored rows of a run, as [`Service::assignments`] and
/// [`Service::changes`] read them: one type, so that a caller streams
/// either the same way.
pub type RunRows<'a, T> = Box<dyn Iterator<Item = Result<T>> + 'a>;

/// Proposals made per store transaction.
const PROPOSALS_PER_TX: usize = 256;

impl Service {
    /// Starts a run in the background and returns its id at once; refused
    /// while another run is going on.
    pub fn start_run(
        self: &Arc<Self>,
        policy: Policy,
        dry_run: bool,
        trigger: &str,
    ) -> Result<u64> {
        let mut started = self.batch.begin(policy, dry_run, trigger)?;
        let id = started.run.id;
        let me = self.clone();
        std::thread::Builder::new()
            .name(format!("jobbridge-run-{id}"))
            .spawn(move || {
                let result = me.execute_run(&mut started);
                me.batch.finish(started, result);
            })
            .map_err(|e| ServiceError::Internal(format!("cannot start the run thread: {e}")))?;
        Ok(id)
    }

    /// Runs to the end on the calling thread (the CLI). `watch` gets the
    /// control and phase first, so that a caller can show progress.
    pub fn run_now(
        &self,
        policy: Policy,
        dry_run: bool,
        trigger: &str,
        watch: impl FnOnce(Arc<Control>, Arc<AtomicI32>),
    ) -> Result<Run> {
        let mut started = self.batch.begin(policy, dry_run, trigger)?;
        watch(started.control.clone(), started.phase.clone());
        let id = started.run.id;
        let result = self.execute_run(&mut started);
        self.batch.finish(started, result);
        self.store()
            .run(id)?
            .ok_or_else(|| BatchError::NotFound(id).into())
    }

    /// Scores, solves and stores the run, then makes its proposals.
    fn execute_run(&self, started: &mut Started) -> std::result::Result<(), BatchError> {
        self.batch.execute(started)?;
        if started.run.proposing {
            let begun = std::time::Instant::now();
            self.propose_run(&mut started.run, &started.control)?;
            if let Some(s) = started.run.summary.as_mut() {
                s.saving_ms += begun.elapsed().as_millis() as u64;
            }
        }
        Ok(())
    }

    /// Turns the run's stored assignments into PROPOSED placements. Safe
    /// to repeat: a worker this run already proposed to counts as done.
    /// An assignment whose worker or opening changed meanwhile is skipped.
    fn propose_run(&self, run: &mut Run, control: &Control) -> std::result::Result<(), BatchError> {
        let store = self.store();
        let actor = format!("batch:run-{}", run.id);
        let rows = store
            .assignments(run.id)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let (mut created, mut skipped) = (0u64, 0u64);
        for (c, chunk) in rows.chunks(PROPOSALS_PER_TX).enumerate() {
            let mut todo = Vec::with_capacity(chunk.len());
            for a in chunk {
                if self.proposed_by(run.id, &a.worker_id)? {
                    created += 1;
                    continue;
                }
                todo.push(Proposal {
                    worker_id: a.worker_id.clone(),
                    opening_id: a.opening_id.clone(),
                    run_id: run.id,
                    score_micro: i64::from(a.score_micro),
                    zero_household: Some(a.zero_household),
                });
            }
            for result in self.writer.propose_many(&todo, &actor)? {
                match result {
                    Ok(_) => created += 1,
                    Err(StoreError::Precondition(_) | StoreError::NotFound { .. }) => skipped += 1,
                    Err(e) => return Err(e.into()),
                }
            }
            control.set_progress(
                ((c + 1) * PROPOSALS_PER_TX).min(rows.len()) as f64 / rows.len().max(1) as f64,
            );
        }
        run.proposals_created = created;
        run.proposals_skipped = skipped;
        Ok(())
    }

    /// Whether the worker's active placement was proposed by run `id`.
    pub(super) fn proposed_by(
        &self,
        id: u64,
        worker_id: &str,
    ) -> std::result::Result<bool, StoreError> {
        let Some(w) = self.store().worker(worker_id)? else {
            return Ok(false);
        };
        let Some(pid) = w.placement.active_id else {
            return Ok(false);
        };
        Ok(self
            .store()
            .placement(&pid)?
            .is_some_and(|p| p.run_id == id))
    }

    /// At start-up: finishes the proposals of runs a stop interrupted past
    /// their point of no return.
    pub(super) fn finish_interrupted_runs(&self) -> Result<()> {
        for mut run in self.batch.runs_proposing()? {
            tracing::warn!(
                run_id = run.id,
                "finishing the proposals of an interrupted run"
            );
            self.propose_run(&mut run, &Control::default())?;
            self.batch.complete_recovered(run)?;
        }
        Ok(())
    }

    /// A run with its live progress (0 to 1), as `caller` may read it
    /// (a service company: its counties' part, see [`scope::run_view`]).
    pub async fn run(self: &Arc<Self>, caller: &Caller, id: u64) -> Result<(Run, f64)> {
        let (run, progress) = self.blocking(move |s| Ok(s.batch.get(id)?)).await?;
        Ok((scope::run_view(caller, run), progress))
    }

    /// Runs newest first, before `before_id` (0 for the newest), with live
    /// progress, as `caller` may read them (see [`scope::run_view`]).
    pub async fn list_runs(
        self: &Arc<Self>,
        caller: &Caller,
        before_id: u64,
        limit: usize,
    ) -> Result<Vec<(Run, f64)>> {
        let runs = self
            .blocking(move |s| {
                let runs = s.store().list_runs(before_id, limit)?;
                Ok(runs
                    .into_iter()
                    .map(|r| s.batch.with_live(r))
                    .collect::<Vec<_>>())
            })
            .await?;
        Ok(runs
            .into_iter()
            .map(|(run, progress)| (scope::run_view(caller, run), progress))
            .collect())
    }

    /// Asks the run in progress to stop; refused for any other run.
    pub async fn cancel_run(self: &Arc<Self>, id: u64) -> Result<(Run, f64)> {
        self.blocking(move |s| {
            let run = s.batch.cancel(id)?;
            Ok(s.batch.with_live(run))
        })
        .await
    }

    /// A run whose results may be read: it must have succeeded.
    pub async fn succeeded_run(self: &Arc<Self>, id: u64) -> Result<Run> {
        self.blocking(move |s| {
            let run = s.store().run(id)?.ok_or(BatchError::NotFound(id))?;
            if run.status() != RunStatus::Succeeded {
                return Err(BatchError::WrongState {
                    id,
                    status: status_label(run.status()),
                }
                .into());
            }
            Ok(run)
        })
        .await
    }

    /// A succeeded run's assignments in worker-id order. Blocking
    /// iterator: drive it from a blocking thread.
    pub fn assignments(&self, id: u64) -> RunRows<'_, Assignment> {
        Box::new(self.store().assignments(id).map(|r| r.map_err(Into::into)))
    }

    /// A succeeded run's changes against the run before it. Blocking
    /// iterator.
    pub fn changes(&self, id: u64) -> RunRows<'_, Change> {
        Box::new(self.store().changes(id).map(|r| r.map_err(Into::into)))
    }

    /// The folder of a succeeded run's audit files, if this server keeps
    /// them and they are still there.
    pub async fn audit_folder(self: &Arc<Self>, id: u64) -> Result<PathBuf> {
        self.succeeded_run(id).await?;
        let Some(dir) = &self.batch_settings().audit_dir else {
            return Err(ServiceError::precondition(
                "this server keeps no audit files (no audit directory configured)",
            ));
        };
        let folder = crate::batch::audit::run_folder(dir, id);
        if !folder.is_dir() {
            return Err(ServiceError::NotFound(format!(
                "audit files of run {id} are gone (pruned or never written)"
            )));
        }
        Ok(folder)
    }

    /// Starts the scheduled run now, as the schedule does: OPTIMAL, staged
    /// unless the nightly apply mode is [`ApplyMode::Auto`]. Blocking.
    pub fn start_scheduled_run(self: &Arc<Self>) -> Result<u64> {
        let stage = self.batch_settings().nightly_apply == ApplyMode::Manual;
        self.start_run(Policy::Optimal, stage, "schedule")
    }

    /// Starts an OPTIMAL run at every scheduled time, forever: staged for
    /// review under [`ApplyMode::Manual`] (the default), proposing at once
    /// under [`ApplyMode::Auto`]. Abort the task to stop it.
    pub async fn nightly(self: Arc<Self>, schedule: Schedule) {
        loop {
            let now = Utc::now();
            let next = schedule.next_after(now);
            tracing::info!(next = %next.with_timezone(&schedule.tz), "next nightly run");
            let wait = (next - now).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let me = self.clone();
            let started = tokio::task::spawn_blocking(move || me.start_scheduled_run()).await;
            match started {
                Ok(Ok(id)) => tracing::info!(run_id = id, "nightly run started"),
                Ok(Err(ServiceError::Precondition(why))) => {
                    tracing::warn!(reason = %why, "nightly run skipped")
                }
                Ok(Err(e)) => tracing::error!(error = %e, "nightly run could not start"),
                Err(e) => tracing::error!(error = %e, "nightly run task failed"),
            }
        }
    }
}
