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

/// The fields of a summary row, the same on the wire and in the domain.
macro_rules! summary_row {
    ($ty:ty, $r:ident) => {
        copy_fields!(
            $ty,
            $r,
            [
                key,
                workers_eligible,
                workers_assigned,
                zero_households_covered,
                slots_filled
            ]
        )
    };
}

/// The figures of a run summary, the same on the wire and in the domain
/// (the per-county and per-source rows are converted apart).
macro_rules! summary {
    ($ty:ty, $s:ident, $($rows:tt)*) => {
        copy_fields!($ty, $s, [
            workers_considered, openings_considered, eligible_pairs, slots_available,
            workers_assigned, zero_households, zero_households_covered, total_score_micro,
            gained, lost, changed, previous_run_id, scoring_ms, solving_ms, saving_ms,
            rows_kept, rows_scored, contested_openings, proved_by_last_optimum,
        ], $($rows)*)
    };
}

fn row_to_pb(r: SummaryRow) -> pb::SummaryRow {
    summary_row!(pb::SummaryRow, r)
}

fn row_from_pb(r: pb::SummaryRow) -> SummaryRow {
    summary_row!(SummaryRow, r)
}

fn summary_to_pb(s: RunSummary) -> pb::RunSummary {
    summary!(
        pb::RunSummary,
        s,
        by_county: s.by_county.into_iter().map(row_to_pb).collect(),
        by_source: s.by_source.into_iter().map(row_to_pb).collect(),
    )
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

wire_enum!(class_from_pb, class_to_pb: DiffClass <-> pb::diff_entry::Class {
    New, ChangedOpening, Same, HoldingPlacement, NoLongerAssigned,
});

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
    let entries = d
        .entries
        .into_iter()
        .filter_map(|e| {
            let class = class_from_pb(pb::diff_entry::Class::try_from(e.class).ok()?)?;
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

/// A change of a run against the run before it, on the wire.
pub(crate) fn change_to_pb(c: crate::domain::run::Change) -> pb::AssignmentChange {
    pb::AssignmentChange {
        kind: c.kind,
        worker_id: c.worker_id,
        previous_opening_id: c.previous_opening_id,
        opening_id: c.opening_id,
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
        summary: run.summary.as_ref().map(|s| {
            summary!(
                RunSummary,
                s,
                by_county: s.by_county.iter().cloned().map(row_from_pb).collect(),
                by_source: Vec::new(),
            )
        }),
        ..Default::default()
    }
}
