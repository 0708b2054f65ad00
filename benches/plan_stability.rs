//! How still the nightly plan keeps: the Huaihua demo (scale 1) solved,
//! then a day's changes, then solved again, once from scratch and once
//! keeping closest to the first plan (the third tier). Reports the
//! workers whose outcome moved against the records that changed, and the
//! solve times (median of 5 each); and the run's way, warm: closest to the
//! first plan, its pivots starting from the first optimum's potentials
//! (`LastOptimum`), as the server's next run does.
//!
//! The day: 1% of the openings pay 300 more, 1% of the workers expect 200
//! more (as in `benches/batch.rs`), and 1% of the openings lose a slot.
//!
//! `cargo bench --bench plan_stability` (the demo), or
//! `cargo bench --bench plan_stability -- 10` for scale 10 (medians of 3).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jobbridge::matching::assign::{simplex, Control, Solution};
use jobbridge::matching::{
    BatchInput, IndexOp, InputRequest, LastOptimum, MatchConfig, MatchContext, Matcher, Pending,
};

fn context() -> MatchContext {
    MatchContext::on(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap())
}

fn plan(input: &BatchInput, s: &Solution) -> HashMap<String, String> {
    (0..input.worker_ids.len())
        .filter_map(|w| {
            s.opening(&input.problem, w).map(|o| {
                (
                    input.worker_ids[w].clone(),
                    input.opening_ids[o as usize].clone(),
                )
            })
        })
        .collect()
}

/// (moved to another opening, newly placed, no longer placed)
fn diff(
    before: &HashMap<String, String>,
    after: &HashMap<String, String>,
) -> (usize, usize, usize) {
    let moved = after
        .iter()
        .filter(|(w, o)| before.get(*w).is_some_and(|b| b != *o))
        .count();
    let gained = after.keys().filter(|w| !before.contains_key(*w)).count();
    let lost = before.keys().filter(|w| !after.contains_key(*w)).count();
    (moved, gained, lost)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let scale: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1.0);
    let rounds = if scale > 1.0 { 3 } else { 5 };
    let data = jobbridge::demo::generate(scale, 1, 2026, today);
    let config = MatchConfig::default().normalised().unwrap();
    let matcher = Matcher::build(
        config,
        data.workers.clone(),
        data.openings.iter().cloned().map(|o| (o, 0)),
    );
    let (ctx, pending, control) = (context(), Pending::default(), Control::default());
    let req = InputRequest::new(&ctx, 100, &pending, &control);
    let input = |m: &Matcher| m.batch_input(&req);
    let night1 = input(&matcher);
    // The first night as the batch solves it (no plan to keep yet): its
    // potentials and tree are what the second night starts from.
    let first_night = vec![u32::MAX; night1.problem.workers()];
    let (s1, warm1, _) =
        simplex::solve_keeping_from(&night1.problem, &first_night, None, &Control::default())
            .unwrap();
    let last = LastOptimum::new(&night1, &warm1);
    let before = plan(&night1, &s1);

    let mut day = Vec::new();
    for o in data.openings.iter().step_by(100) {
        let mut o = o.clone();
        o.monthly_wage += 300;
        day.push(IndexOp::PutOpening(o));
    }
    for o in data.openings.iter().skip(50).step_by(100) {
        let mut o = o.clone();
        o.headcount = o.headcount.saturating_sub(1).max(1);
        day.push(IndexOp::PutOpening(o));
    }
    for w in data.workers.iter().step_by(100) {
        let mut w = w.clone();
        w.preferences.expected_monthly_wage += 200;
        day.push(IndexOp::PutWorker(w));
    }
    let changed_openings = data.openings.len().div_ceil(100) * 2;
    let changed_workers: Vec<&str> = data
        .workers
        .iter()
        .step_by(100)
        .map(|w| w.id.as_str())
        .collect();
    matcher.update(|| Ok::<_, ()>(day)).expect("changes");
    let night2 = input(&matcher);
    let p = &night2.problem;
    let seeking_changed = changed_workers
        .iter()
        .filter(|w| {
            night2
                .worker_ids
                .binary_search_by(|x| x.as_str().cmp(w))
                .is_ok()
        })
        .count();
    let opening_index: HashMap<&str, u32> = night2
        .opening_ids
        .iter()
        .enumerate()
        .map(|(o, id)| (id.as_str(), o as u32))
        .collect();
    let anchor: Vec<u32> = night2
        .worker_ids
        .iter()
        .map(|w| {
            before
                .get(w)
                .and_then(|o| opening_index.get(o.as_str()).copied())
                .unwrap_or(u32::MAX)
        })
        .collect();

    let mut cold_times = Vec::new();
    let mut keep_times = Vec::new();
    let mut warm_times = Vec::new();
    let mut cold = None;
    let mut kept = None;
    let mut warm = None;
    for _ in 0..rounds {
        let t = Instant::now();
        cold = Some(simplex::solve(p, &Control::default()).unwrap().0);
        cold_times.push(t.elapsed());
        let t = Instant::now();
        kept = Some(
            simplex::solve_keeping(p, &anchor, &Control::default())
                .unwrap()
                .0,
        );
        keep_times.push(t.elapsed());
        let t = Instant::now();
        let hint = Some(last.warm_for(&night2));
        warm = Some(
            simplex::solve_keeping_from(p, &anchor, hint, &Control::default())
                .unwrap()
                .0,
        );
        warm_times.push(t.elapsed());
    }
    let (cold, kept, warm) = (cold.unwrap(), kept.unwrap(), warm.unwrap());
    assert_eq!(
        cold.check(p).unwrap(),
        kept.check(p).unwrap(),
        "same optimum"
    );
    assert_eq!(
        cold.check(p).unwrap(),
        warm.check(p).unwrap(),
        "same optimum"
    );
    let objective = kept.check(p).unwrap();
    let cold_diff = diff(&before, &plan(&night2, &cold));
    let kept_diff = diff(&before, &plan(&night2, &kept));
    let warm_diff = diff(&before, &plan(&night2, &warm));
    let date = chrono::Utc::now().date_naive();
    println!("# Plan stability, Huaihua demo (scale {scale}), {date}");
    println!(
        "night 2: {} workers, {} openings; {} households covered, score {:.6}",
        p.workers(),
        p.openings(),
        objective.households_covered,
        objective.total_score as f64 / 1e6
    );
    println!(
        "records changed: {changed_openings} openings, {} workers ({seeking_changed} of them seeking)",
        changed_workers.len()
    );
    println!();
    println!("| night 2 solved | workers moved | newly placed | no longer placed | solve (median of {rounds}) |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| from scratch (households, score) | {} | {} | {} | {:.0} ms |",
        cold_diff.0,
        cold_diff.1,
        cold_diff.2,
        median(cold_times).as_secs_f64() * 1e3
    );
    println!(
        "| closest to night 1 (third tier) | {} | {} | {} | {:.0} ms |",
        kept_diff.0,
        kept_diff.1,
        kept_diff.2,
        median(keep_times).as_secs_f64() * 1e3
    );
    println!(
        "| closest to night 1, from its potentials (the run's way) | {} | {} | {} | {:.0} ms |",
        warm_diff.0,
        warm_diff.1,
        warm_diff.2,
        median(warm_times).as_secs_f64() * 1e3
    );
}
