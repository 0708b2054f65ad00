//! The market simulation against a plain reference, its invariants, and
//! what capacity-aware lists guarantee.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use proptest::prelude::*;

use super::market::{simulate, Lists, Outcome, Ranking};
use super::prices::{minimal, Duals};
use super::tests::random_problem;
use super::*;

/// Each worker's top `k`, ranked as plainly as possible: compare net
/// values, then (given a plan) whether it is the planned edge, then
/// prices, then opening indices (a plain ranking is a net one with every
/// price zero).
fn reference_lists(
    p: &Problem,
    duals: Option<&Duals>,
    plan: Option<&Solution>,
    k: usize,
) -> Vec<Vec<u32>> {
    let price = |o: usize| duals.map_or(0, |d| d.combined(o));
    (0..p.workers())
        .map(|w| {
            let mut row: Vec<u32> = p.row(w).map(|e| e as u32).collect();
            row.sort_by(|&a, &b| {
                let (oa, ob) = (
                    p.edge_opening[a as usize] as usize,
                    p.edge_opening[b as usize] as usize,
                );
                let net_a = i64::from(p.edge_score[a as usize]) - price(oa);
                let net_b = i64::from(p.edge_score[b as usize]) - price(ob);
                let planned = |e: u32| plan.is_some_and(|s| s.edge[w] == Some(e));
                net_b
                    .cmp(&net_a)
                    .then(planned(b).cmp(&planned(a)))
                    .then(price(oa).cmp(&price(ob)))
                    .then(oa.cmp(&ob))
            });
            row.truncate(k);
            row
        })
        .collect()
}

/// The market by fixed point: every round, each opening offers its slots
/// to the best applicants who have not turned it down; each worker keeps
/// their best offer and turns the others down. Stops when a round offers
/// nobody new. Returns each worker's edge and the rounds with a new offer.
fn reference_market(p: &Problem, lists: &[Vec<u32>]) -> (Vec<Option<u32>>, u32) {
    let n = p.workers();
    let mut turned_down: BTreeSet<(usize, u32)> = BTreeSet::new();
    let mut last: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); p.openings()];
    let mut rounds = 0;
    loop {
        // Per worker: (position in their list, edge) of each offer.
        let mut offers: Vec<Vec<(usize, u32)>> = vec![Vec::new(); n];
        let mut anything_new = false;
        for o in 0..p.openings() as u32 {
            let mut applicants: Vec<(u32, usize, usize, u32)> = Vec::new();
            for (w, list) in lists.iter().enumerate() {
                for (rank, &e) in list.iter().enumerate() {
                    if p.edge_opening[e as usize] == o && !turned_down.contains(&(w, o)) {
                        applicants.push((p.edge_score[e as usize], w, rank, e));
                    }
                }
            }
            // Higher score first, then lower worker index.
            applicants.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            applicants.truncate(p.slots[o as usize] as usize);
            let now: BTreeSet<usize> = applicants.iter().map(|a| a.1).collect();
            anything_new |= !now.is_subset(&last[o as usize]);
            last[o as usize] = now;
            for (_, w, rank, e) in applicants {
                offers[w].push((rank, e));
            }
        }
        if !anything_new {
            let hired = offers
                .into_iter()
                .map(|mine| {
                    assert!(mine.len() <= 1, "a settled worker holds one offer");
                    mine.first().map(|&(_, e)| e)
                })
                .collect();
            return (hired, rounds);
        }
        rounds += 1;
        for (w, mut mine) in offers.into_iter().enumerate() {
            mine.sort();
            for &(_, e) in mine.iter().skip(1) {
                turned_down.insert((w, p.edge_opening[e as usize]));
            }
        }
    }
}

/// The outcome's invariants, whatever the ranking.
fn check_outcome(p: &Problem, lists: &[Vec<u32>], out: &Outcome) -> Result<(), TestCaseError> {
    // One edge per worker, each the worker's own, no opening over its
    // slots: nobody holds two openings and hires stay within slots.
    let objective = out.hired.check(p).map_err(TestCaseError::fail)?;
    prop_assert_eq!(objective.households_covered, out.households_covered);
    let hires = out.hired.edge.iter().flatten().count() as u64;
    prop_assert_eq!(out.hires, hires);
    prop_assert!(out.hires <= p.slots.iter().map(|&s| u64::from(s)).sum::<u64>());
    let mut per_opening = vec![0u32; p.openings()];
    for (w, list) in lists.iter().enumerate() {
        if let Some(e) = out.hired.edge[w] {
            prop_assert!(list.contains(&e), "worker {} hired off their list", w);
        }
        for &e in list {
            per_opening[p.edge_opening[e as usize] as usize] += 1;
        }
    }
    let applications: usize = lists.iter().map(Vec::len).sum();
    prop_assert_eq!(out.applications, applications as u64);
    prop_assert_eq!(
        out.most_applications_on_one_opening,
        per_opening.iter().copied().max().unwrap_or(0)
    );
    // Stable on the lists: no worker and listed opening would both rather
    // have each other (the opening has a free slot or holds someone it
    // ranks lower, and the worker is free or holds something listed lower).
    let mut used = vec![0u32; p.openings()];
    let mut worst: Vec<Option<(Reverse<u32>, usize)>> = vec![None; p.openings()];
    for w in 0..p.workers() {
        if let Some(e) = out.hired.edge[w] {
            let o = p.edge_opening[e as usize] as usize;
            used[o] += 1;
            let key = (Reverse(p.edge_score[e as usize]), w);
            worst[o] = worst[o].max(Some(key));
        }
    }
    for (w, list) in lists.iter().enumerate() {
        let held_at = out.hired.edge[w].map(|h| list.iter().position(|&e| e == h).unwrap());
        for (rank, &e) in list.iter().enumerate() {
            if held_at.is_some_and(|h| h <= rank) {
                break;
            }
            let o = p.edge_opening[e as usize] as usize;
            let key = (Reverse(p.edge_score[e as usize]), w);
            let wanted = used[o] < p.slots[o] || worst[o].is_some_and(|worst| key < worst);
            prop_assert!(!wanted, "worker {} and opening {} block", w, o);
        }
    }
    Ok(())
}

fn check_against_reference(
    p: &Problem,
    ranking: Ranking<'_>,
    k: usize,
) -> Result<(), TestCaseError> {
    let lists = match ranking {
        Ranking::Plain => reference_lists(p, None, None, k),
        Ranking::Net(duals) => reference_lists(p, Some(duals), None, k),
        Ranking::NetTiesToPlan(duals, plan) => reference_lists(p, Some(duals), Some(plan), k),
    };
    let fast = Lists::new(p, ranking, k);
    for (w, list) in lists.iter().enumerate() {
        prop_assert_eq!(fast.of(w), &list[..], "worker {}'s list", w);
    }
    let out = simulate(p, ranking, k);
    let (hired, rounds) = reference_market(p, &lists);
    prop_assert_eq!(&out.hired.edge, &hired);
    prop_assert_eq!(out.rounds, rounds);
    check_outcome(p, &lists, &out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn market_equals_the_plain_reference(
        seed in any::<u64>(), n in 1usize..12, m in 1usize..6, k in 1usize..7,
        density in 0.2f64..0.9, max_slots in 0u32..4,
    ) {
        let p = random_problem(seed, n, m, density, max_slots);
        check_against_reference(&p, Ranking::Plain, k)?;
        let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let duals = minimal(&p, &s, &cert);
        check_against_reference(&p, Ranking::Net(&duals), k)?;
        check_against_reference(&p, Ranking::NetTiesToPlan(&duals, &s), k)?;
    }

    #[test]
    fn net_top_one_hires_every_planned_worker_it_points_home(
        seed in any::<u64>(), n in 1usize..40, m in 1usize..12,
    ) {
        // With k = 1 nobody turns an offer down, so an opening hires
        // min(slots, applicants); the planned workers whose net top-1 is
        // their planned opening number at most its slots. They are hired,
        // or someone else is in their place.
        let p = random_problem(seed, n, m, 0.3, 3);
        let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let duals = minimal(&p, &s, &cert);
        let out = simulate(&p, Ranking::Net(&duals), 1);
        let lists = reference_lists(&p, Some(&duals), None, 1);
        let mut pointed_home = vec![0u64; p.openings()];
        let mut hired_at = vec![0u64; p.openings()];
        for w in 0..p.workers() {
            if s.edge[w].is_some() && lists[w].first() == s.edge[w].as_ref() {
                pointed_home[s.opening(&p, w).unwrap() as usize] += 1;
            }
            if let Some(o) = out.hired.opening(&p, w) {
                hired_at[o as usize] += 1;
            }
        }
        for o in 0..p.openings() {
            prop_assert!(hired_at[o] >= pointed_home[o], "opening {}", o);
        }
        prop_assert!(out.rounds <= 1);
    }

    #[test]
    fn net_top_one_with_ties_to_the_plan_hires_at_least_the_plan(
        seed in any::<u64>(), n in 1usize..40, m in 1usize..12,
    ) {
        // Every planned worker's net top-1 is their planned opening, so
        // each opening has at least its planned workers among its
        // applicants, no more than its slots, and nobody turns it down.
        let p = random_problem(seed, n, m, 0.3, 3);
        let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let duals = minimal(&p, &s, &cert);
        let lists = Lists::new(&p, Ranking::NetTiesToPlan(&duals, &s), 1);
        for w in 0..p.workers() {
            if let Some(e) = s.edge[w] {
                prop_assert_eq!(lists.of(w), &[e][..], "worker {}", w);
            }
        }
        let out = simulate(&p, Ranking::NetTiesToPlan(&duals, &s), 1);
        prop_assert!(out.hires >= s.edge.iter().flatten().count() as u64);
        let mut hired_at = vec![0u32; p.openings()];
        let mut planned_at = vec![0u32; p.openings()];
        for w in 0..p.workers() {
            if let Some(o) = out.hired.opening(&p, w) {
                hired_at[o as usize] += 1;
            }
            if let Some(o) = s.opening(&p, w) {
                planned_at[o as usize] += 1;
            }
        }
        for o in 0..p.openings() {
            prop_assert!(hired_at[o] >= planned_at[o], "opening {}", o);
        }
    }
}

#[test]
fn lower_price_breaks_the_tie_toward_the_plan() {
    // One contested slot at opening 0. Worker 0 scores 0.9 there and 0.85
    // at opening 1; worker 1 scores 0.8 at opening 0 only. The plan seats
    // worker 1 at 0 and worker 0 at 1; opening 0's price is 0.05, so
    // worker 0 nets 0.85 at both. By score both apply to opening 0 and
    // one is hired; by net value with the lower price first, both are.
    let p = Problem::from_rows(
        vec![vec![(0, 900_000), (1, 850_000)], vec![(0, 800_000)]],
        vec![1, 5],
        vec![0, 1],
        vec![true, true],
    );
    let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
    let duals = minimal(&p, &s, &cert);
    assert_eq!(duals.combined(0), 50_000);

    let plain = simulate(&p, Ranking::Plain, 1);
    assert_eq!(plain.hires, 1);
    assert_eq!(plain.most_applications_on_one_opening, 2);

    let net = simulate(&p, Ranking::Net(&duals), 1);
    assert_eq!(net.hired, s, "every worker's net top-1 is their plan");
    assert_eq!((net.hires, net.households_covered), (2, 2));
    assert_eq!(net.rounds, 1);

    // Two recommendations do not help plain lists: opening 0 prefers
    // worker 0, who prefers it too and turns opening 1 down, and worker 1
    // has nowhere else to go.
    let plain = simulate(&p, Ranking::Plain, 2);
    assert_eq!(plain.hires, 1);
    assert_eq!(plain.applications, 3);
}

#[test]
fn each_worker_pointed_home_reaches_the_plan_exactly() {
    // On random instances, keep only the workers whose net top-1 is their
    // planned opening (and drop the unplanned ones): the market at k = 1
    // hires exactly the plan.
    for seed in 0..200 {
        let p = random_problem(seed, 30, 8, 0.3, 3);
        let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let duals = minimal(&p, &s, &cert);
        let lists = reference_lists(&p, Some(&duals), None, 1);
        let mut rows = Vec::new();
        let mut household = Vec::new();
        let mut plan = Vec::new();
        for w in 0..p.workers() {
            if s.edge[w].is_some() && lists[w].first() == s.edge[w].as_ref() {
                rows.push(
                    p.row(w)
                        .map(|e| (p.edge_opening[e], p.edge_score[e]))
                        .collect::<Vec<_>>(),
                );
                household.push(p.household[w]);
                plan.push(s.opening(&p, w));
            }
        }
        let q = Problem::from_rows(rows, p.slots.clone(), household, p.zero_household.clone());
        let out = simulate(&q, Ranking::Net(&duals), 1);
        let got: Vec<Option<u32>> = (0..q.workers()).map(|w| out.hired.opening(&q, w)).collect();
        assert_eq!(got, plan, "seed {seed}");
    }
}

#[test]
fn measure_top_one_against_the_plan_on_random_instances() {
    // Measured, not asserted beyond what is guaranteed: the share of the
    // plan's hires each ranking's top-1 reaches, and of the planned
    // workers whose net top-1 is their plan (cargo test -- --nocapture
    // prints them).
    let (mut plan, mut home, mut plain, mut net, mut sticky) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for seed in 0..300 {
        let p = random_problem(seed, 60, 15, 0.2, 4);
        let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let duals = minimal(&p, &s, &cert);
        let lists = reference_lists(&p, Some(&duals), None, 1);
        plan += s.edge.iter().flatten().count() as u64;
        home += (0..p.workers())
            .filter(|&w| s.edge[w].is_some() && lists[w].first() == s.edge[w].as_ref())
            .count() as u64;
        plain += simulate(&p, Ranking::Plain, 1).hires;
        net += simulate(&p, Ranking::Net(&duals), 1).hires;
        sticky += simulate(&p, Ranking::NetTiesToPlan(&duals, &s), 1).hires;
    }
    assert!(net >= home && sticky >= plan);
    let share = |x: u64| 100.0 * x as f64 / plan as f64;
    eprintln!(
        "top-1 on random instances, share of the plan's {plan} hires: plain {:.1}%, \
         capacity-aware {:.1}% (ties to the plan {:.1}%); planned workers whose net \
         top-1 is their plan {:.1}%",
        share(plain),
        share(net),
        share(sticky),
        share(home)
    );
}
