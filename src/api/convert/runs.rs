//! Runs, their summaries and assignments on the wire.

use crate::api::pb;
use crate::domain::run::{DiffClass, DiffEntry, Run, RunDiff, RunSummary, SummaryRow};
use crate::domain::Lang;

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
        rows_kept: s.rows_kept,
        rows_scored: s.rows_scored,
        contested_openings: s.contested_openings,
        proved_by_last_optimum: s.proved_by_last_optimum,
    }
}

/// A run on the wire, with live progress.
/// A run with its live progress on the wire.
pub(crate) fn run_to_pb(run: Run, progress: f64) -> pb::Run {
    let staged = run.staged();
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
        staged,
        applied_at: timestamp(run.applied_at_ms),
        applied_counties: run.applied_counties,
        counties: Vec::new(),
    }
}

/// What ApplyRun did, with the reasons in `lang`.
pub(crate) fn applied_to_pb(a: crate::service::Applied, lang: Lang) -> pb::ApplyRunResponse {
    pb::ApplyRunResponse {
        run: Some(run_to_pb(a.run, 1.0)),
        proposed: a.proposed,
        refused: a
            .refused
            .into_iter()
            .map(|r| pb::RefusedAssignment {
                reason_code: r.reason.code().to_string(),
                reason: r.reason.text(lang),
                worker_id: r.worker_id,
                opening_id: r.opening_id,
                county_code: r.county_code,
            })
            .collect(),
    }
}

fn class_to_pb(c: DiffClass) -> pb::diff_entry::Class {
    use pb::diff_entry::Class;
    match c {
        DiffClass::New => Class::New,
        DiffClass::ChangedOpening => Class::ChangedOpening,
        DiffClass::Same => Class::Same,
        DiffClass::HoldingPlacement => Class::HoldingPlacement,
        DiffClass::NoLongerAssigned => Class::NoLongerAssigned,
    }
}

/// A run's diff on the wire; without entries when `counts_only`.
pub(crate) fn diff_to_pb(d: RunDiff, counts_only: bool) -> pb::DiffRunResponse {
    pb::DiffRunResponse {
        run_id: d.run_id,
        previous_run_id: d.previous_run_id,
        workers: d.workers(),
        new: d.count(DiffClass::New),
        changed_opening: d.count(DiffClass::ChangedOpening),
        same: d.count(DiffClass::Same),
        holding_placement: d.count(DiffClass::HoldingPlacement),
        no_longer_assigned: d.count(DiffClass::NoLongerAssigned),
        entries: if counts_only {
            Vec::new()
        } else {
            d.entries
                .into_iter()
                .map(|e| pb::DiffEntry {
                    worker_id: e.worker_id,
                    class: class_to_pb(e.class).into(),
                    previous_opening_id: e.previous_opening_id.unwrap_or_default(),
                    opening_id: e.opening_id.unwrap_or_default(),
                    county_code: e.county_code,
                })
                .collect()
        },
    }
}

/// A diff read from a remote server, as the domain keeps it.
pub(crate) fn diff_from_pb(d: pb::DiffRunResponse) -> RunDiff {
    use pb::diff_entry::Class;
    let entries = d
        .entries
        .into_iter()
        .filter_map(|e| {
            let class = match Class::try_from(e.class).ok()? {
                Class::New => DiffClass::New,
                Class::ChangedOpening => DiffClass::ChangedOpening,
                Class::Same => DiffClass::Same,
                Class::HoldingPlacement => DiffClass::HoldingPlacement,
                Class::NoLongerAssigned => DiffClass::NoLongerAssigned,
                Class::Unspecified => return None,
            };
            let some = |s: String| (!s.is_empty()).then_some(s);
            Some(DiffEntry {
                worker_id: e.worker_id,
                class,
                previous_opening_id: some(e.previous_opening_id),
                opening_id: some(e.opening_id),
                county_code: e.county_code,
            })
        })
        .collect();
    RunDiff {
        run_id: d.run_id,
        previous_run_id: d.previous_run_id,
        counts: [
            d.new,
            d.changed_opening,
            d.same,
            d.holding_placement,
            d.no_longer_assigned,
        ],
        entries,
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
            contest: None,
        }),
        county_code: a.county_code,
        source: source.into(),
    }
}

/// A run read from a remote server, as the domain keeps it (what the CLI
/// prints; the per-source rows are left out).
pub(crate) fn run_from_pb(run: &pb::Run) -> Run {
    Run {
        id: run.run_id,
        policy: run.policy,
        dry_run: run.dry_run,
        status: run.status,
        error: run.error.clone(),
        proposals_created: run.proposals_created,
        proposals_skipped: run.proposals_skipped,
        applied_counties: run.applied_counties.clone(),
        trigger: run.trigger.clone(),
        started_at_ms: run
            .started_at
            .as_ref()
            .map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000),
        finished_at_ms: run
            .finished_at
            .as_ref()
            .map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000),
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
            rows_kept: s.rows_kept,
            rows_scored: s.rows_scored,
            contested_openings: s.contested_openings,
            proved_by_last_optimum: s.proved_by_last_optimum,
            by_county: s
                .by_county
                .iter()
                .map(|r| SummaryRow {
                    key: r.key.clone(),
                    workers_eligible: r.workers_eligible,
                    workers_assigned: r.workers_assigned,
                    zero_households_covered: r.zero_households_covered,
                    slots_filled: r.slots_filled,
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}
