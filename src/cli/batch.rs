//! `jobbridge batch`: one run from the command line, on a data directory
//! (the server must not be running on it) or through a running server, with
//! a progress bar and an optional audit export.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressStyle};

use super::args::{PolicyArg, Target};
use super::review::ReviewAction;
use super::{Local, Server, TwoWays};
use crate::api::pb;
use crate::api::pb::batch_client::BatchClient;
use crate::batch::{audit, BatchSettings};
use crate::domain::run::{Policy, Run, RunPhase, RunStatus};
use crate::launch::flags::default_candidates_per_worker;

/// Run one batch assignment now, on a data directory or through a
/// server; `batch diff` / `batch apply` review and apply a staged run.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BatchCommand {
    #[command(subcommand)]
    review: Option<ReviewAction>,
    #[command(flatten)]
    target: Target,
    /// optimal: exact; stable: deferred acceptance.
    #[arg(long, value_enum, default_value_t = PolicyArg::Optimal)]
    policy: PolicyArg,
    /// Store the results but propose nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the audit files here (edges, openings, workers, assignment, anchor, prices).
    #[arg(long)]
    export: Option<PathBuf>,
    /// Each worker's best N eligible openings are the run's candidates.
    #[arg(long, default_value_t = default_candidates_per_worker(),
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    candidates_per_worker: u32,
    /// TOML config file with match weights and the [policy] rules
    /// (offline only; a server applies its own).
    #[arg(long, env = "JOBBRIDGE_CONFIG")]
    config: Option<PathBuf>,
}

impl BatchCommand {
    /// Runs the batch (or the review subcommand) and prints the result.
    pub fn run(self) -> anyhow::Result<()> {
        if let Some(action) = self.review {
            return action.run();
        }
        self.target.run(BatchRun {
            policy: self.policy.into(),
            dry_run: self.dry_run,
            export: self.export,
            candidates_per_worker: self.candidates_per_worker as usize,
            config: self.config,
        })
    }
}

/// One run, as asked.
struct BatchRun {
    policy: Policy,
    dry_run: bool,
    /// Write the audit files here.
    export: Option<PathBuf>,
    candidates_per_worker: usize,
    /// The config file (offline only).
    config: Option<PathBuf>,
}

fn bar() -> ProgressBar {
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:10} [{bar:40}] {percent:>3}% {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

fn phase_name(p: RunPhase) -> &'static str {
    match p {
        RunPhase::Unspecified | RunPhase::Scoring => "scoring",
        RunPhase::Solving => "solving",
        RunPhase::Saving => "saving",
        RunPhase::Done => "done",
    }
}

fn report(run: &Run) -> anyhow::Result<()> {
    if run.status() != RunStatus::Succeeded {
        bail!(
            "run {} {}: {}",
            run.id,
            crate::batch::status_label(run.status()),
            run.error
        );
    }
    let s = run.summary.clone().unwrap_or_default();
    println!(
        "run {} succeeded ({:?}{})",
        run.id,
        run.policy(),
        if run.dry_run { ", dry run" } else { "" }
    );
    println!(
        "  {} workers, {} openings, {} eligible pairs, {} free slots",
        s.workers_considered, s.openings_considered, s.eligible_pairs, s.slots_available
    );
    println!(
        "  assigned {} workers; zero-employment households covered {} of {}; total score {}",
        s.workers_assigned,
        s.zero_households_covered,
        s.zero_households,
        audit::micro_decimal_u64(s.total_score_micro)
    );
    println!(
        "  vs run {}: {} gained, {} lost, {} changed",
        s.previous_run_id, s.gained, s.lost, s.changed
    );
    if run.dry_run {
        println!(
            "  staged, nothing proposed: review with `jobbridge batch diff {id}`, apply with \
             `jobbridge batch apply {id}` (same --server/--data-dir)",
            id = run.id
        );
    } else {
        println!(
            "  proposals: {} created (PROPOSED placements), {} skipped (worker or opening changed during the run)",
            run.proposals_created, run.proposals_skipped
        );
    }
    println!(
        "  time: scoring {} ms, solving {} ms, saving {} ms",
        s.scoring_ms, s.solving_ms, s.saving_ms
    );
    println!(
        "  candidate rows: {} kept from the last run, {} scored",
        s.rows_kept, s.rows_scored
    );
    if s.proved_by_last_optimum {
        println!("  solving: the last run's plan, proved still optimal by its potentials");
    }
    if s.contested_openings > 0 {
        println!(
            "  contested openings: {} (their prices rank recommendations until the next run)",
            s.contested_openings
        );
    }
    Ok(())
}

impl TwoWays for BatchRun {
    type Output = ();

    /// Runs through the server, polling its progress.
    async fn remote(self, server: Server<'_>) -> anyhow::Result<()> {
        remote(server, &self).await
    }

    /// Runs in this process, with the service a server would run.
    fn local(self, data: Local<'_>) -> anyhow::Result<()> {
        let config = super::load_config(self.config.as_deref())?;
        let audit_dir = data.dir().join("audit");
        let settings = BatchSettings {
            candidates_per_worker: self.candidates_per_worker,
            audit_dir: Some(audit_dir.clone()),
            ..BatchSettings::default()
        };
        // The same service as the server's: the same write path makes the
        // run's proposals.
        let batch = data.service(config, settings)?;
        let bar = bar();
        let done = std::sync::atomic::AtomicBool::new(false);
        let run = std::thread::scope(|scope| {
            let result = batch.run_now(self.policy, self.dry_run, "cli", |control, phase| {
                let (bar, done) = (bar.clone(), &done);
                scope.spawn(move || {
                    while !done.load(Ordering::Relaxed) {
                        let p = RunPhase::try_from(phase.load(Ordering::Relaxed))
                            .unwrap_or(RunPhase::Scoring);
                        bar.set_message(phase_name(p));
                        bar.set_position((control.progress() * 1000.0) as u64);
                        std::thread::sleep(Duration::from_millis(100));
                    }
                });
            });
            done.store(true, Ordering::Relaxed);
            result
        })?;
        bar.finish_and_clear();
        report(&run)?;
        if let Some(dir) = &self.export {
            let from = audit::run_folder(&audit_dir, run.id);
            std::fs::create_dir_all(dir)?;
            for name in audit::FILES {
                std::fs::copy(from.join(name), dir.join(name))
                    .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
            }
            println!("  audit files written to {}", dir.display());
        }
        Ok(())
    }
}

/// Starts the run on `server`, shows its progress, and downloads the
/// audit files if asked.
async fn remote(server: Server<'_>, args: &BatchRun) -> anyhow::Result<()> {
    let mut client = BatchClient::new(server.channel().await?);
    let policy = match args.policy {
        Policy::Stable => pb::Policy::Stable,
        _ => pb::Policy::Optimal,
    };
    let id = client
        .start_run(pb::StartRunRequest {
            policy: policy.into(),
            dry_run: args.dry_run,
        })
        .await?
        .into_inner()
        .run_id;
    let bar = bar();
    let run = loop {
        let run = client
            .get_run(pb::GetRunRequest { run_id: id })
            .await?
            .into_inner()
            .run
            .context("empty reply")?;
        bar.set_message(phase_name(
            RunPhase::try_from(run.phase).unwrap_or(RunPhase::Scoring),
        ));
        bar.set_position((run.progress * 1000.0) as u64);
        if run.status != pb::RunStatus::Running as i32 {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    bar.finish_and_clear();
    let local = crate::api::run_from_pb(&run);
    report(&local)?;
    if let Some(dir) = &args.export {
        use tokio::io::AsyncWriteExt as _;
        std::fs::create_dir_all(dir)?;
        let mut stream = client
            .download_audit(pb::DownloadAuditRequest { run_id: id })
            .await?
            .into_inner();
        let mut open: Option<(String, tokio::fs::File)> = None;
        while let Some(chunk) = stream.message().await? {
            if open.as_ref().is_none_or(|(name, _)| *name != chunk.file) {
                if !audit::FILES.contains(&chunk.file.as_str()) {
                    bail!("server sent an unexpected file {:?}", chunk.file);
                }
                if let Some((_, f)) = open.take() {
                    f.sync_all().await?;
                }
                let f = tokio::fs::File::create(dir.join(&chunk.file)).await?;
                open = Some((chunk.file.clone(), f));
            }
            open.as_mut()
                .expect("opened")
                .1
                .write_all(&chunk.data)
                .await?;
        }
        if let Some((_, f)) = open {
            f.sync_all().await?;
        }
        println!("  audit files written to {}", dir.display());
    }
    Ok(())
}
