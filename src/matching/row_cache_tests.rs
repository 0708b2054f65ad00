//! Incremental batch rows against rows scored from scratch: after random
//! changes to workers and openings between runs, each run's input equals
//! the reference that scores every pair of the same state, pair for pair,
//! and a run after no change scores no row again.

use proptest::prelude::*;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::assign::Control;
use super::pruned_tests::assert_same;
use super::tests::{ctx, random_opening, random_worker};
use super::*;
use crate::domain::{EmploymentStatus, GeoPoint, Mobility, Opening, OpeningStatus, Skill, Worker};

/// The state the matcher was built from, kept to derive changes from.
struct World {
    workers: Vec<Worker>,
    openings: Vec<Opening>,
}

fn world(rng: &mut ChaCha8Rng, workers: usize, openings: usize) -> World {
    let workers = (0..workers)
        .map(|n| {
            let mut w = random_worker(rng, n);
            if rng.random_bool(0.7) {
                w.preferences.mobility = Mobility::WillingToMigrate;
            }
            w
        })
        .collect();
    let openings = (0..openings)
        .map(|n| {
            let (mut o, filled) = random_opening(rng, n);
            if rng.random_bool(0.3) {
                o.monthly_wage = 3000;
                o.location = GeoPoint {
                    lat: 27.5,
                    lon: 109.9,
                };
            }
            o.filled = filled;
            o
        })
        .collect();
    World { workers, openings }
}

fn matcher(world: &World) -> Matcher {
    Matcher::build(
        MatchConfig::default().normalised().unwrap(),
        world.workers.clone(),
        world.openings.iter().map(|o| (o.clone(), o.filled)),
    )
}

/// `count` random changes of the kinds a day brings, applied to `world`
/// and returned as index operations.
fn changes(rng: &mut ChaCha8Rng, world: &mut World, count: usize) -> Vec<IndexOp> {
    let mut ops = Vec::new();
    for _ in 0..count {
        let k = rng.random_range(0..12);
        if k < 6 && !world.workers.is_empty() {
            let i = rng.random_range(0..world.workers.len());
            let w = &mut world.workers[i];
            match k {
                // A hire or a leaver: the household's "nobody in work"
                // changes for every member.
                0 => {
                    w.employment_status = match w.employment_status {
                        EmploymentStatus::Seeking => EmploymentStatus::Employed,
                        _ => EmploymentStatus::Seeking,
                    }
                }
                1 => w.preferences.expected_monthly_wage = rng.random_range(0..=60) * 100,
                2 => w.site_location.lat += 0.05,
                3 => w.skills.push(Skill {
                    code: "masonry".into(),
                    level: 5,
                }),
                4 => {
                    let id = w.id.clone();
                    world.workers.remove(i);
                    ops.push(IndexOp::RemoveWorker(id));
                    continue;
                }
                _ => {
                    let n = 10_000 + rng.random_range(0..1_000_000);
                    let mut new = random_worker(rng, n);
                    new.preferences.mobility = Mobility::WillingToMigrate;
                    world.workers.push(new.clone());
                    ops.push(IndexOp::PutWorker(new));
                    continue;
                }
            }
            ops.push(IndexOp::PutWorker(w.clone()));
        } else if !world.openings.is_empty() {
            let i = rng.random_range(0..world.openings.len());
            let o = &mut world.openings[i];
            match k {
                6 => o.monthly_wage = rng.random_range(5..=65) * 100,
                // Filled up (leaves the run), or a slot freed (comes back);
                // neither changes a score.
                7 => {
                    o.filled = if o.filled < o.headcount {
                        o.headcount
                    } else {
                        0
                    }
                }
                8 => {
                    o.status = match o.status {
                        OpeningStatus::Open => OpeningStatus::Closed,
                        _ => OpeningStatus::Open,
                    }
                }
                9 => o.location.lon += 0.2,
                10 => {
                    let id = o.id.clone();
                    world.openings.remove(i);
                    ops.push(IndexOp::RemoveOpening(id));
                    continue;
                }
                _ => {
                    let n = 10_000 + rng.random_range(0..1_000_000);
                    let (mut new, filled) = random_opening(rng, n);
                    new.filled = filled;
                    world.openings.push(new.clone());
                    ops.push(IndexOp::PutOpening(new));
                    continue;
                }
            }
            ops.push(IndexOp::PutOpening(o.clone()));
        }
    }
    ops
}

/// Some (worker, opening) pairs the workers declined, for the index.
fn declines(rng: &mut ChaCha8Rng, world: &World) -> Vec<IndexOp> {
    let mut ops = Vec::new();
    if world.workers.is_empty() || world.openings.is_empty() {
        return ops;
    }
    for _ in 0..rng.random_range(0..20) {
        let w = world.workers.choose(rng).unwrap();
        let o = world.openings.choose(rng).unwrap();
        ops.push(IndexOp::Declined {
            worker_id: w.id.clone(),
            opening_id: o.id.clone(),
        });
    }
    ops
}

fn reference(m: &Matcher, req: &InputRequest<'_>) -> BatchInput {
    m.batch_input_with(req, false)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn incremental_rows_equal_scoring_from_scratch(
        seed in any::<u64>(),
        workers in 1usize..60,
        openings in 0usize..300,
        per_worker in prop::sample::select(vec![0usize, 1, 2, 3, 7, 25, 100]),
        nights in prop::collection::vec(0usize..30, 1..4),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut world = world(&mut rng, workers, openings);
        let m = matcher(&world);
        let (context, c, none) = (ctx(), Control::default(), Pending::default());
        let req = InputRequest::new(&context, per_worker, &none, &c);
        let (first, mut cache, reuse) = m.batch_input_incremental(&req, None);
        assert_same(&first, &reference(&m, &req), &format!("seed {seed}, first run"));
        prop_assert_eq!(reuse.kept, 0);
        for (night, count) in nights.into_iter().enumerate() {
            let mut ops = changes(&mut rng, &mut world, count);
            ops.extend(declines(&mut rng, &world));
            m.update(|| Ok::<_, ()>(ops)).unwrap();
            let (input, next, reuse) = m.batch_input_incremental(&req, Some(&cache));
            let what = format!("seed {seed}, night {night}, {count} changes");
            assert_same(&input, &reference(&m, &req), &what);
            // The same rows reused without building a cache of its own.
            let (borrowed, borrowed_reuse) = m.read().batch_input_reusing(&req, &cache);
            assert_same(&borrowed, &input, &format!("{what}, no cache built"));
            prop_assert_eq!(borrowed_reuse.kept, reuse.kept);
            prop_assert_eq!(reuse.kept + reuse.scored, input.worker_ids.len());
            if count == 0 {
                prop_assert_eq!(reuse.scored, 0, "{}: nothing changed", what);
                prop_assert_eq!(reuse.changed_openings, 0);
            }
            cache = next;
        }
        // A night without changes keeps every row.
        let (input, _, reuse) = m.batch_input_incremental(&req, Some(&cache));
        assert_same(&input, &reference(&m, &req), &format!("seed {seed}, quiet night"));
        prop_assert_eq!(reuse.scored, 0);
        prop_assert_eq!(reuse.kept, input.worker_ids.len());
    }
}

/// On demo data, one opening's wage change keeps most rows and tops them
/// up exactly; another N or year scores everything again.
#[test]
fn one_change_on_demo_data_keeps_most_rows() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let data = crate::demo::generate(0.05, 5, 2026, today);
    let mut openings = data.openings.clone();
    let m = Matcher::build(
        MatchConfig::default().normalised().unwrap(),
        data.workers,
        data.openings.into_iter().map(|o| (o, 0)),
    );
    let ctx = ctx();
    let (c, none) = (Control::default(), Pending::default());
    let req = InputRequest::new(&ctx, 30, &none, &c);
    let (_, cache, _) = m.batch_input_incremental(&req, None);
    // The best paid opening pays more still: it enters many rows.
    let o = openings
        .iter_mut()
        .max_by_key(|o| o.monthly_wage)
        .expect("demo openings");
    o.monthly_wage += 5_000;
    let o = o.clone();
    m.update(|| Ok::<_, ()>(vec![IndexOp::PutOpening(o)]))
        .unwrap();
    let (input, _, reuse) = m.batch_input_incremental(&req, Some(&cache));
    assert_same(&input, &reference(&m, &req), "demo, one opening changed");
    assert_eq!(reuse.changed_openings, 1);
    assert!(
        reuse.kept > 9 * input.worker_ids.len() / 10,
        "most rows kept: {reuse:?} of {}",
        input.worker_ids.len()
    );
    let other_n_req = InputRequest {
        per_worker: 31,
        ..req
    };
    let (_, _, other_n) = m.batch_input_incremental(&other_n_req, Some(&cache));
    assert_eq!(other_n.kept, 0);
    let next_year = MatchContext {
        year: ctx.year + 1,
        ..ctx
    };
    let next_year_req = InputRequest {
        ctx: &next_year,
        ..req
    };
    let (_, _, other_year) = m.batch_input_incremental(&next_year_req, Some(&cache));
    assert_eq!(other_year.kept, 0);
}
