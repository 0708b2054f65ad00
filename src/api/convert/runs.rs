//! Runs, their summaries and assignments on the wire.

use crate::api::pb;
use crate::domain::run::{Run, RunSummary, SummaryRow};

/// A time in ms since the epoch, or none for 0 (not yet).
fn timestamp(ms: i64) -> Option<prost_types::Timestamp> {
    if ms > 0 {
        super::timestamp(ms)
    } else {
        None
    }
}

fn row_to_pb(r: SummaryRow) -> pb::SummaryRow {
    pb::SummaryRow {
        key: r.key,
        workers_eligible: r.workers_eligible,
        workers_assigned: r.workers_assigned,
        zero_households_covered: r.zero_households_covered,
        slots_filled: r.slots_filled,
    }
}

fn summary_to_pb(s: RunSummary) -> pb::RunSummary {
    pb::RunSummary {
        workers_considered: s.workers_considered,
        openings_considered: s.openings_considered,
        eligible_pairs: s.eligible_pairs,
        slots_available: s.slots_available,
        workers_assigned: s.workers_assigned,
        zero_households: s.zero_households,
        zero_households_covered: s.zero_households_covered,
        total_score_micro: s.total_score_micro,
        by_county: s.by_county.into_iter().map(row_to_pb).collect(),
        by_source: s.by_source.into_iter().map(row_to_pb).collect(),
        gained: s.gained,
        lost: s.lost,
        changed: s.changed,
        previous_run_id: s.previous_run_id,
        scoring_ms: s.scoring_ms,
        solving_ms: s.solving_ms,
        saving_ms: s.saving_ms,
    }
}

/// A run on the wire, with live progress.
/// A run with its live progress on the wire.
pub(crate) fn run_to_pb(run: Run, progress: f64) -> pb::Run {
    pb::Run {
        run_id: run.id,
        policy: run.policy,
        dry_run: run.dry_run,
        status: run.status,
        phase: run.phase,
        progress,
        trigger: run.trigger,
        started_at: timestamp(run.started_at_ms),
        finished_at: timestamp(run.finished_at_ms),
        error: run.error,
        summary: run.summary.map(summary_to_pb),
        candidates_per_worker: run.candidates_per_worker,
        proposals_created: run.proposals_created,
        proposals_skipped: run.proposals_skipped,
    }
}

/// A stored assignment with its explanation on the wire.
pub(crate) fn assignment_to_pb(a: crate::domain::run::Assignment) -> pb::Assignment {
    let source = crate::domain::Source::from_code(a.source as u8)
        .map_or(pb::Source::Unspecified, super::source_to_pb);
    pb::Assignment {
        worker_id: a.worker_id,
        opening_id: a.opening_id,
        household_id: a.household_id,
        zero_employment_household: a.zero_household,
        score: f64::from(a.score_micro) / 1e6,
        score_micro: u64::from(a.score_micro),
        explanation: Some(pb::Explanation {
            components: a
                .components
                .into_iter()
                .map(|c| pb::ScoreComponent {
                    contribution: c.value * c.weight,
                    name: c.name,
                    value: c.value,
                    weight: c.weight,
                    reason: c.reason,
                })
                .collect(),
            distance_km: a.distance_km,
        }),
        county_code: a.county_code,
        source: source.into(),
    }
}

/// A run read from a remote server, as the domain keeps it (what the CLI
/// prints; the per-county and per-source rows are left out).
pub(crate) fn run_from_pb(run: &pb::Run) -> Run {
    Run {
        id: run.run_id,
        policy: run.policy,
        dry_run: run.dry_run,
        status: run.status,
        error: run.error.clone(),
        proposals_created: run.proposals_created,
        proposals_skipped: run.proposals_skipped,
        summary: run.summary.as_ref().map(|s| RunSummary {
            workers_considered: s.workers_considered,
            openings_considered: s.openings_considered,
            eligible_pairs: s.eligible_pairs,
            slots_available: s.slots_available,
            workers_assigned: s.workers_assigned,
            zero_households: s.zero_households,
            zero_households_covered: s.zero_households_covered,
            total_score_micro: s.total_score_micro,
            gained: s.gained,
            lost: s.lost,
            changed: s.changed,
            previous_run_id: s.previous_run_id,
            scoring_ms: s.scoring_ms,
            solving_ms: s.solving_ms,
            saving_ms: s.saving_ms,
            ..Default::default()
        }),
        ..Default::default()
    }
}
