//! A run's summary (per county, per source) and its changes against the
//! previous run.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::domain::run::{Change, ChangeKind, RunSummary, SummaryRow};
use crate::domain::Source;
use crate::matching::assign::{Objective, Solution};
use crate::matching::BatchInput;

/// Figures of a solved run (timings and the diff are filled in later).
pub fn summarize(input: &BatchInput, solution: &Solution, objective: Objective) -> RunSummary {
    let p = &input.problem;
    let mut by_county: BTreeMap<String, SummaryRow> = BTreeMap::new();
    let mut by_source: BTreeMap<&'static str, SummaryRow> = BTreeMap::new();
    let mut covered_in_county: HashSet<(u32, u32)> = HashSet::new();
    let mut covered_in_source: HashSet<(Source, u32)> = HashSet::new();
    let mut eligible_in_source: HashMap<Source, HashSet<usize>> = HashMap::new();
    for w in 0..p.workers() {
        let county = input.worker_county[w];
        let row = by_county
            .entry(format!("{county:06}"))
            .or_insert_with(|| SummaryRow {
                key: format!("{county:06}"),
                ..Default::default()
            });
        if p.row(w).is_empty() {
            continue;
        }
        row.workers_eligible += 1;
        for e in p.row(w) {
            let source = input.opening_source[p.edge_opening[e] as usize];
            eligible_in_source.entry(source).or_default().insert(w);
        }
        let Some(o) = solution.opening(p, w) else {
            continue;
        };
        row.workers_assigned += 1;
        row.slots_filled += 1;
        let h = p.household[w];
        if p.zero_household[h as usize] && covered_in_county.insert((county, h)) {
            row.zero_households_covered += 1;
        }
        let source = input.opening_source[o as usize];
        let srow = by_source
            .entry(source.label())
            .or_insert_with(|| SummaryRow {
                key: source.label().into(),
                ..Default::default()
            });
        srow.workers_assigned += 1;
        srow.slots_filled += 1;
        if p.zero_household[h as usize] && covered_in_source.insert((source, h)) {
            srow.zero_households_covered += 1;
        }
    }
    for (source, workers) in eligible_in_source {
        by_source
            .entry(source.label())
            .or_insert_with(|| SummaryRow {
                key: source.label().into(),
                ..Default::default()
            })
            .workers_eligible = workers.len() as u64;
    }
    let zero_households = (0..p.workers())
        .filter(|&w| p.zero_household[p.household[w] as usize])
        .map(|w| p.household[w])
        .collect::<HashSet<_>>()
        .len() as u64;
    RunSummary {
        workers_considered: p.workers() as u64,
        openings_considered: p.openings() as u64,
        eligible_pairs: p.edges() as u64,
        slots_available: p.slots.iter().map(|&s| u64::from(s)).sum(),
        workers_assigned: solution.edge.iter().filter(|e| e.is_some()).count() as u64,
        zero_households,
        zero_households_covered: objective.households_covered,
        total_score_micro: objective.total_score,
        by_county: by_county.into_values().collect(),
        by_source: by_source.into_values().collect(),
        ..Default::default()
    }
}

/// Who gained, lost or changed an assignment, in worker id order.
pub fn changes(previous: &HashMap<String, String>, current: &[(String, String)]) -> Vec<Change> {
    let now: HashMap<&str, &str> = current
        .iter()
        .map(|(w, o)| (w.as_str(), o.as_str()))
        .collect();
    let mut out = Vec::new();
    for (w, o) in current {
        match previous.get(w) {
            None => out.push(change(w, ChangeKind::Gained, "", o)),
            Some(before) if before != o => out.push(change(w, ChangeKind::Changed, before, o)),
            Some(_) => {}
        }
    }
    for (w, before) in previous {
        if !now.contains_key(w.as_str()) {
            out.push(change(w, ChangeKind::Lost, before, ""));
        }
    }
    out.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
    out
}

fn change(worker: &str, kind: ChangeKind, before: &str, now: &str) -> Change {
    Change {
        worker_id: worker.to_string(),
        kind: kind as i32,
        previous_opening_id: before.to_string(),
        opening_id: now.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_classified() {
        let previous: HashMap<String, String> = [("a", "o1"), ("b", "o2"), ("c", "o3")]
            .iter()
            .map(|(w, o)| (w.to_string(), o.to_string()))
            .collect();
        let current: Vec<(String, String)> = [("a", "o1"), ("b", "o9"), ("d", "o4")]
            .iter()
            .map(|(w, o)| (w.to_string(), o.to_string()))
            .collect();
        let c = changes(&previous, &current);
        let kinds: Vec<(&str, ChangeKind)> =
            c.iter().map(|c| (c.worker_id.as_str(), c.kind())).collect();
        assert_eq!(
            kinds,
            vec![
                ("b", ChangeKind::Changed),
                ("c", ChangeKind::Lost),
                ("d", ChangeKind::Gained)
            ]
        );
    }
}
