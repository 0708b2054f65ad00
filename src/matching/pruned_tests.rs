//! The pruned batch candidates against the reference that scores every
//! pair: equal row for row, pair for pair, ties included, on random data,
//! on demo data and on the edge cases (ties at the N-th place, workers with
//! no eligible opening, openings with one slot).

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::assign::Control;
use super::tests::{ctx, eligible_pair, random_opening, random_worker};
use super::*;
use crate::domain::{GeoPoint, Mobility, Opening, Source, Worker};

fn both(m: &Matcher, per_worker: usize, ctx: &MatchContext) -> (BatchInput, BatchInput) {
    let (pending, control) = (Pending::default(), Control::default());
    let req = InputRequest::new(ctx, per_worker, &pending, &control);
    let fast = m.batch_input_with(&req, true);
    let slow = m.batch_input_with(&req, false);
    (fast, slow)
}

pub(super) fn assert_same(fast: &BatchInput, slow: &BatchInput, what: &str) {
    assert_eq!(fast.worker_ids, slow.worker_ids, "{what}: workers");
    assert_eq!(fast.opening_ids, slow.opening_ids, "{what}: openings");
    let (p, q) = (&fast.problem, &slow.problem);
    for w in 0..q.workers() {
        let row = |p: &assign::Problem| -> Vec<(u32, u32)> {
            p.row(w)
                .map(|e| (p.edge_opening[e], p.edge_score[e]))
                .collect()
        };
        assert_eq!(row(p), row(q), "{what}: worker {}", slow.worker_ids[w]);
    }
    assert_eq!(p, q, "{what}: problem");
}

/// Random workers and openings where most workers may work anywhere, so
/// the pruned path carries most rows.
fn random_matcher(seed: u64, workers: usize, openings: usize) -> Matcher {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ws: Vec<Worker> = (0..workers)
        .map(|n| {
            let mut w = random_worker(&mut rng, n);
            if rng.random_bool(0.7) {
                w.preferences.mobility = Mobility::WillingToMigrate;
            }
            w
        })
        .collect();
    let os: Vec<(Opening, u32)> = (0..openings)
        .map(|n| {
            let (mut o, filled) = random_opening(&mut rng, n);
            // Repeated wages and places make equal scores common.
            if rng.random_bool(0.3) {
                o.monthly_wage = 3000;
                o.location = GeoPoint {
                    lat: 27.5,
                    lon: 109.9,
                };
            }
            (o, filled)
        })
        .collect();
    Matcher::build(MatchConfig::default().normalised().unwrap(), ws, os)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn pruned_candidates_equal_the_full_scan(
        seed in any::<u64>(),
        workers in 1usize..80,
        openings in 0usize..400,
        per_worker in prop::sample::select(vec![1usize, 2, 3, 7, 25, 100, 1000]),
    ) {
        let m = random_matcher(seed, workers, openings);
        let (fast, slow) = both(&m, per_worker, &ctx());
        assert_same(&fast, &slow, &format!("seed {seed}"));
    }
}

#[test]
fn pruned_candidates_equal_the_full_scan_on_demo_data() {
    use chrono::Datelike as _;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let data = crate::demo::generate(0.1, 3, 2026, today);
    let m = Matcher::build(
        MatchConfig::default().normalised().unwrap(),
        data.workers,
        data.openings.into_iter().map(|o| (o, 0)),
    );
    let ctx = MatchContext {
        year: 2026,
        today: today.num_days_from_ce(),
        lang: crate::domain::Lang::En,
    };
    for per_worker in [1, 10, 100] {
        let (fast, slow) = both(&m, per_worker, &ctx);
        assert!(fast.problem.edges() > 0);
        assert_same(&fast, &slow, &format!("demo, {per_worker} per worker"));
    }
}

#[test]
fn ties_at_the_last_place_keep_the_smallest_ids() {
    // Twelve identical one-slot openings and a willing migrant: all score
    // the same, and the best 5 are the 5 smallest ids, in both paths.
    let (mut w, o) = eligible_pair();
    w.preferences.mobility = Mobility::WillingToMigrate;
    let mut nobody = w.clone();
    nobody.id = "w-none".into();
    nobody.birth_year = 1950; // too old for every opening
    let openings: Vec<(Opening, u32)> = (0..12)
        .map(|i| {
            let mut o = o.clone();
            o.id = format!("o{:02}", (i * 7) % 12);
            o.headcount = 1;
            o.source = Source::AidWorkshop;
            (o, 0)
        })
        .collect();
    let m = Matcher::build(
        MatchConfig::default().normalised().unwrap(),
        vec![w, nobody],
        openings,
    );
    for per_worker in [1, 5, 11, 12, 13] {
        let (fast, slow) = both(&m, per_worker, &ctx());
        assert_same(&fast, &slow, &format!("{per_worker} per worker"));
        let p = &fast.problem;
        let w = fast
            .worker_ids
            .iter()
            .position(|id| id != "w-none")
            .unwrap();
        let kept: Vec<&str> = p
            .row(w)
            .map(|e| fast.opening_ids[p.edge_opening[e] as usize].as_str())
            .collect();
        let want: Vec<String> = (0..per_worker.min(12))
            .map(|i| format!("o{i:02}"))
            .collect();
        assert_eq!(kept, want);
        let none = fast
            .worker_ids
            .iter()
            .position(|id| id == "w-none")
            .unwrap();
        assert!(p.row(none).is_empty(), "no eligible opening, empty row");
    }
}

#[test]
fn openings_with_one_slot_left_match_the_full_scan() {
    // Every opening has exactly one free slot (a one-slot opening, or a
    // larger one with all but one filled), and some have none: full ones
    // and those whose last slot a pending proposal holds must leave the
    // batch in both paths.
    for seed in 0..6u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let ws: Vec<Worker> = (0..60)
            .map(|n| {
                let mut w = random_worker(&mut rng, n);
                if rng.random_bool(0.6) {
                    w.preferences.mobility = Mobility::WillingToMigrate;
                }
                w
            })
            .collect();
        let mut pending = Pending::default();
        let os: Vec<(Opening, u32)> = (0..300)
            .map(|n| {
                let (mut o, _) = random_opening(&mut rng, n);
                o.status = crate::domain::OpeningStatus::Open;
                o.end_date = None;
                let filled = match n % 4 {
                    0 => {
                        o.headcount = 1;
                        0
                    }
                    1 => {
                        o.headcount = o.headcount.max(2);
                        o.headcount - 1
                    }
                    2 => {
                        o.headcount = 1;
                        pending.openings.insert(o.id.clone(), 1);
                        0
                    }
                    _ => o.headcount,
                };
                (o, filled)
            })
            .collect();
        let m = Matcher::build(MatchConfig::default().normalised().unwrap(), ws, os);
        let (context, control) = (ctx(), Control::default());
        for per_worker in [1, 3, 100] {
            let req = InputRequest::new(&context, per_worker, &pending, &control);
            let fast = m.batch_input_with(&req, true);
            let slow = m.batch_input_with(&req, false);
            assert_same(
                &fast,
                &slow,
                &format!("seed {seed}, {per_worker} per worker"),
            );
            // Only the openings with one free slot take part, one slot each.
            assert_eq!(fast.problem.openings(), 150, "seed {seed}");
            assert!(fast.problem.slots.iter().all(|&s| s == 1));
            assert!(fast.opening_ids.iter().all(|id| {
                let n: usize = id[1..].parse().unwrap();
                n % 4 < 2
            }));
            assert!(fast.problem.edges() > 0, "seed {seed}");
        }
    }
}
