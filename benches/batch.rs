//! Batch run phases on the Huaihua demo data (scale 1: 49,874 workers of
//! whom about 13,500 seek work, 4,209 openings): scoring every seeking
//! worker's best 100 eligible openings, then each solver on that problem.
//! Scoring again with the last run's rows after no change and after a
//! day's changes (1% of openings and workers), beside scoring in full.
//! Also the exact solver on a synthetic crowded graph (random scores, one
//! slot per worker, 84 candidates each), which is its hard case.
//!
//! `cargo bench --bench batch`

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use jobbridge::matching::assign::{simplex, ssp, stable, Control, Problem};
use jobbridge::matching::{IndexOp, InputRequest, MatchConfig, MatchContext, Matcher, Pending};

fn demo_data() -> jobbridge::demo::DemoData {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    jobbridge::demo::generate(1.0, 1, 2026, today)
}

fn demo_matcher() -> Matcher {
    let data = demo_data();
    let config = MatchConfig::default().normalised().unwrap();
    Matcher::build(
        config,
        data.workers,
        data.openings.into_iter().map(|o| (o, 0)),
    )
}

fn context() -> MatchContext {
    MatchContext::on(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap())
}

/// Random scores, one slot per worker, candidates mostly in the worker's
/// own county block: the crowded case where many workers want the same
/// openings.
fn crowded_graph(workers: usize, openings: usize, per_worker: usize, seed: u64) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let household: Vec<u32> = (0..workers).map(|w| (w / 2) as u32).collect();
    let zero: Vec<bool> = (0..workers / 2 + 1).map(|_| rng.random_bool(0.1)).collect();
    let mut slots: Vec<u32> = (0..openings).map(|_| rng.random_range(1..=12)).collect();
    let mut total: u32 = slots.iter().sum();
    while (total as usize) < workers {
        let o = rng.random_range(0..openings);
        slots[o] += 50;
        total += 50;
    }
    let block = openings / 13;
    let rows = (0..workers)
        .map(|w| {
            let county = w % 13;
            let mut seen = std::collections::HashSet::new();
            let mut row = Vec::with_capacity(per_worker);
            while row.len() < per_worker {
                let o = if rng.random_bool(0.8) {
                    county * block + rng.random_range(0..block)
                } else {
                    rng.random_range(0..openings)
                } as u32;
                if seen.insert(o) {
                    row.push((o, rng.random_range(200_000..=950_000)));
                }
            }
            row.sort_unstable();
            row
        })
        .collect();
    Problem::from_rows(rows, slots, household, zero)
}

fn bench(c: &mut Criterion) {
    let matcher = demo_matcher();
    let (ctx, pending, control) = (context(), Pending::default(), Control::default());
    let req = InputRequest::new(&ctx, 100, &pending, &control);
    let input = matcher.batch_input(&req);
    let p = &input.problem;
    eprintln!(
        "huaihua demo: {} workers, {} openings, {} edges, {} slots",
        p.workers(),
        p.openings(),
        p.edges(),
        p.slots.iter().sum::<u32>()
    );
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.bench_function("scoring/huaihua_demo/100_per_worker", |b| {
        b.iter(|| matcher.batch_input(&req))
    });
    // Incremental scoring: the last run's rows, then a day's changes (1%
    // of the openings pay 300 more, 1% of the workers expect 200 more),
    // or none. The full scoring above is the anchor.
    let quiet = demo_matcher();
    let rescore = |last| quiet.batch_input_incremental(&req, last);
    let (_, last, _) = rescore(None);
    group.bench_function("scoring/huaihua_demo/quiet_night", |b| {
        b.iter(|| rescore(Some(&last)))
    });
    let data = demo_data();
    let mut day = Vec::new();
    for o in data.openings.iter().step_by(100) {
        let mut o = o.clone();
        o.monthly_wage += 300;
        day.push(IndexOp::PutOpening(o));
    }
    for w in data.workers.iter().step_by(100) {
        let mut w = w.clone();
        w.preferences.expected_monthly_wage += 200;
        day.push(IndexOp::PutWorker(w));
    }
    quiet.update(|| Ok::<_, ()>(day)).expect("changes");
    let (_, _, reuse) = rescore(Some(&last));
    eprintln!("after 1% changes: {reuse:?}");
    group.bench_function("scoring/huaihua_demo/after_1pct_changes", |b| {
        b.iter(|| rescore(Some(&last)))
    });
    group.bench_function("simplex/huaihua_demo", |b| {
        b.iter(|| simplex::solve(p, &Control::default()).unwrap())
    });
    group.bench_function("ssp/huaihua_demo", |b| {
        b.iter(|| ssp::solve(p, &Control::default()).unwrap())
    });
    group.bench_function("stable/huaihua_demo", |b| {
        b.iter(|| stable::solve(p, &Control::default()).unwrap())
    });
    let crowded = crowded_graph(10_000, 1_000, 84, 1);
    group.bench_function("simplex/crowded_10k_workers_840k_edges", |b| {
        b.iter(|| simplex::solve(&crowded, &Control::default()).unwrap())
    });
    group.bench_function("ssp/crowded_10k_workers_840k_edges", |b| {
        b.iter(|| ssp::solve(&crowded, &Control::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
