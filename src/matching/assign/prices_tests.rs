//! Minimal prices against their definition: one more slot, solved again.

use proptest::prelude::*;

use super::prices::{implied, minimal, Duals, Price};
use super::tests::{brute_force, random_problem};
use super::*;

/// What one more slot at each opening adds, by solving again: the
/// definition of the minimal price.
fn by_resolving(p: &Problem, solve: impl Fn(&Problem) -> Objective) -> Vec<Price> {
    let base = solve(p);
    (0..p.openings())
        .map(|o| {
            let mut more = p.clone();
            more.slots[o] += 1;
            let plus = solve(&more);
            Price {
                households: (plus.households_covered - base.households_covered) as u32,
                points: plus.total_score as i64 - base.total_score as i64,
            }
        })
        .collect()
}

fn simplex_objective(p: &Problem) -> Objective {
    let (s, _) = simplex::solve(p, &Control::default()).unwrap();
    s.check(p).unwrap()
}

/// Checks the duals of an optimal plan: a valid certificate, the prices it
/// implies are the ones reported, and no optimal dual prices lower.
fn check_duals(p: &Problem, s: &Solution, duals: &Duals) -> Result<(), TestCaseError> {
    duals
        .certificate()
        .verify(p, s)
        .map_err(TestCaseError::fail)?;
    let own = implied(p, &duals.certificate());
    // An opening without slots has no arc to the sink, so potentials say
    // nothing of it; its price is still what one slot would add.
    let slotted = |o: &usize| p.slots[*o] > 0;
    for o in (0..p.openings()).filter(slotted) {
        prop_assert_eq!(own[o], duals.combined(o), "opening {}", o);
    }
    // Complementary slackness, opening by opening: a positive price only
    // on a full opening.
    let mut used = vec![0u32; p.openings()];
    for w in 0..p.workers() {
        if let Some(o) = s.opening(p, w) {
            used[o as usize] += 1;
        }
    }
    for o in 0..p.openings() {
        if duals.prices[o].contested() {
            prop_assert_eq!(used[o], p.slots[o], "priced opening {} not full", o);
        }
    }
    // Minimal: every other solver's optimal duals price each opening at
    // least as high.
    let (_, c1) = ssp::solve(p, &Control::default()).unwrap();
    let (_, c2) = cost_scaling::solve(p, &Control::default()).unwrap();
    let (_, c3) = simplex::solve(p, &Control::default()).unwrap();
    for cert in [c1, c2, c3] {
        let other = implied(p, &cert);
        for o in (0..p.openings()).filter(slotted) {
            prop_assert!(
                duals.combined(o) <= other[o],
                "opening {}: minimal {} above {}",
                o,
                duals.combined(o),
                other[o]
            );
        }
    }
    Ok(())
}

/// Every worker the plan assigns has that opening on top of their ranking
/// by score minus price (combined units), up to ties.
fn check_net_ranking(p: &Problem, s: &Solution, duals: &Duals) -> Result<(), TestCaseError> {
    for w in 0..p.workers() {
        let Some(chosen) = s.edge[w] else { continue };
        let net =
            |e: usize| i64::from(p.edge_score[e]) - duals.combined(p.edge_opening[e] as usize);
        let mine = net(chosen as usize);
        for e in p.row(w) {
            prop_assert!(
                net(e) <= mine,
                "worker {} prefers edge {} ({}) to its plan ({})",
                w,
                e,
                net(e),
                mine
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn minimal_prices_equal_one_more_slot_by_brute_force(
        seed in any::<u64>(), n in 1usize..7, m in 1usize..4,
    ) {
        let p = random_problem(seed, n, m, 0.6, 2);
        let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let duals = minimal(&p, &s, &cert);
        prop_assert_eq!(&duals.prices, &by_resolving(&p, brute_force));
        check_duals(&p, &s, &duals)?;
        check_net_ranking(&p, &s, &duals)?;
    }

    #[test]
    fn minimal_prices_hold_on_crowded_households(
        seed in any::<u64>(), n in 1usize..9, m in 1usize..3,
    ) {
        // Dense rows and few slots: households compete, prices carry the
        // household tier.
        let p = random_problem(seed, n, m, 0.9, 1);
        let (s, cert) = ssp::solve(&p, &Control::default()).unwrap();
        let duals = minimal(&p, &s, &cert);
        prop_assert_eq!(&duals.prices, &by_resolving(&p, brute_force));
        check_duals(&p, &s, &duals)?;
        check_net_ranking(&p, &s, &duals)?;
    }
}

#[test]
fn minimal_prices_on_larger_instances_equal_resolving() {
    let mut household_priced = 0;
    for seed in 300..312 {
        let p = random_problem(seed, 120, 25, 0.15, 3);
        let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let duals = minimal(&p, &s, &cert);
        assert_eq!(
            duals.prices,
            by_resolving(&p, simplex_objective),
            "seed {seed}"
        );
        check_duals(&p, &s, &duals).unwrap();
        check_net_ranking(&p, &s, &duals).unwrap();
        household_priced += duals.prices.iter().filter(|p| p.households > 0).count();
    }
    // The household tier shows up, or the test would not test it.
    assert!(household_priced > 0);
}

#[test]
fn a_contested_slot_costs_the_second_best_gain() {
    // One slot. Worker 0 scores 0.9 there and 0.85 at a free opening;
    // worker 1 scores 0.8 there and has nowhere else. The plan seats 1 in
    // the contested slot and 0 elsewhere; one more slot would add 0.05.
    let p = Problem::from_rows(
        vec![vec![(0, 900_000), (1, 850_000)], vec![(0, 800_000)]],
        vec![1, 5],
        vec![0, 1],
        vec![false, false],
    );
    let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
    assert_eq!(s.opening(&p, 1), Some(0));
    let duals = minimal(&p, &s, &cert);
    assert_eq!(
        duals.prices,
        vec![
            Price {
                households: 0,
                points: 50_000
            },
            Price::default()
        ]
    );
}
