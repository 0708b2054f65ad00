//! Batch solvers on a Huaihua-shaped assignment graph: 50,000 workers,
//! 5,000 openings with 50,000 slots, about 84 candidate openings per worker
//! (4.2 million eligible pairs), 25,000 households of which 10% have nobody
//! in work. The graph is built outside the timed part.
//!
//! `cargo bench --bench batch`

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use jobbridge::matching::assign::{optimal, stable, Control, Problem};

fn huaihua_graph(workers: usize, openings: usize, per_worker: usize, seed: u64) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let households = workers / 2;
    let household: Vec<u32> = (0..workers).map(|w| (w / 2) as u32).collect();
    let zero: Vec<bool> = (0..households).map(|_| rng.random_bool(0.1)).collect();
    // Slots: mostly small openings, a few large labour-cooperation ones;
    // about one slot per worker in all.
    let mut slots: Vec<u32> = (0..openings).map(|_| rng.random_range(1..=12)).collect();
    let mut total: u32 = slots.iter().sum();
    while (total as usize) < workers {
        let o = rng.random_range(0..openings);
        slots[o] += 50;
        total += 50;
    }
    // Openings cluster by county: a worker's candidates come mostly from
    // its own county's block, plus some far ones (migrants).
    let counties = 13;
    let block = openings / counties;
    let rows = (0..workers)
        .map(|w| {
            let county = w % counties;
            let mut row: Vec<(u32, u32)> = Vec::with_capacity(per_worker);
            let mut seen = std::collections::HashSet::new();
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
    let p = huaihua_graph(50_000, 5_000, 84, 1);
    eprintln!(
        "graph: {} workers, {} openings, {} edges, {} slots",
        p.workers(),
        p.openings(),
        p.edges(),
        p.slots.iter().sum::<u32>()
    );
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.bench_function("optimal/50k_workers_5k_openings_4.2M_edges", |b| {
        b.iter(|| optimal::solve(&p, &Control::default()).unwrap())
    });
    group.bench_function("stable/50k_workers_5k_openings_4.2M_edges", |b| {
        b.iter(|| stable::solve(&p, &Control::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
