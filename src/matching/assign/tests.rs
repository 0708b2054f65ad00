//! Solvers against plain references: brute-force enumeration for the exact
//! policy, a round-based deferred acceptance for the stable one.

use std::cmp::Reverse;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::simplex::Start;
use super::*;

/// A random instance: `n` workers, `m` openings, edges with probability
/// `density`, scores from a small range so ties happen.
pub(super) fn random_problem(
    seed: u64,
    n: usize,
    m: usize,
    density: f64,
    max_slots: u32,
) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let households = (n / 2).max(1);
    let household: Vec<u32> = (0..n)
        .map(|_| rng.random_range(0..households as u32))
        .collect();
    let zero_household: Vec<bool> = (0..households).map(|_| rng.random_bool(0.4)).collect();
    let slots: Vec<u32> = (0..m).map(|_| rng.random_range(0..=max_slots)).collect();
    let score_range = if rng.random_bool(0.5) { 5 } else { 1_000_000 };
    let mut rows: Vec<Vec<(u32, u32)>> = Vec::with_capacity(n);
    for _ in 0..n {
        let mut row = Vec::new();
        for o in 0..m as u32 {
            if rng.random_bool(density) {
                row.push((o, rng.random_range(0..=score_range)));
            }
        }
        rows.push(row);
    }
    Problem::from_rows(rows, slots, household, zero_household)
}

/// The best objective over every feasible assignment.
pub(super) fn brute_force(p: &Problem) -> Objective {
    fn go(p: &Problem, w: usize, choice: &mut Vec<Option<u32>>, best: &mut Objective) {
        if w == p.workers() {
            if let Ok(obj) = (Solution {
                edge: choice.clone(),
            })
            .check(p)
            {
                *best = (*best).max(obj);
            }
            return;
        }
        choice.push(None);
        go(p, w + 1, choice, best);
        choice.pop();
        for e in p.row(w) {
            choice.push(Some(e as u32));
            go(p, w + 1, choice, best);
            choice.pop();
        }
    }
    let mut best = Objective::default();
    go(p, 0, &mut Vec::new(), &mut best);
    best
}

/// Deferred acceptance in rounds: every free worker proposes at once, each
/// opening keeps its best `slots` of everything it holds or is offered.
fn reference_stable(p: &Problem) -> Vec<Option<u32>> {
    let n = p.workers();
    let order: Vec<Vec<u32>> = (0..n).map(|w| stable::worker_order(p, w)).collect();
    let mut next = vec![0usize; n];
    let mut held: Vec<Vec<(usize, u32)>> = vec![Vec::new(); p.openings()];
    let mut matched = vec![false; n];
    loop {
        let mut offers: Vec<Vec<(usize, u32)>> = vec![Vec::new(); p.openings()];
        let mut any = false;
        for w in 0..n {
            if !matched[w] && next[w] < order[w].len() {
                let e = order[w][next[w]];
                next[w] += 1;
                offers[p.edge_opening[e as usize] as usize].push((w, e));
                any = true;
            }
        }
        if !any {
            break;
        }
        for o in 0..p.openings() {
            let mut all: Vec<(usize, u32)> = held[o].drain(..).chain(offers[o].drain(..)).collect();
            all.sort_by_key(|&(w, e)| Reverse(stable::opening_key(p, w, e as usize)));
            for (i, &(w, _)) in all.iter().enumerate() {
                matched[w] = i < p.slots[o] as usize;
            }
            all.truncate(p.slots[o] as usize);
            held[o] = all;
        }
    }
    let mut out = vec![None; n];
    for list in held {
        for (w, e) in list {
            out[w] = Some(e);
        }
    }
    out
}

/// Potentials that have nothing to do with the optimum, and a forest
/// whose parents are random earlier nodes (mostly joined by no arc): a
/// start from them must not matter.
fn wild_start(cert: &network::Certificate, seed: u64) -> (Vec<i64>, simplex::Basis) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x41e7);
    let nodes = cert.potentials.len();
    let wild = (0..nodes)
        .map(|_| rng.random_range(-3 * cert.big..3 * cert.big))
        .collect();
    let basis = simplex::Basis {
        parent: (0..nodes)
            .map(|u| match u {
                0 => u32::MAX,
                u => rng.random_range(0..u as u32),
            })
            .collect(),
        by_big_arc: (0..nodes).map(|_| rng.random_bool(0.3)).collect(),
    };
    (wild, basis)
}

/// The tree an exact solve of `p` ends on.
fn last_tree(p: &Problem) -> simplex::Basis {
    let none = vec![u32::MAX; p.workers()];
    let (_, warm) =
        simplex::solve_keeping_with(p, &none, &Control::default(), usize::MAX, None).unwrap();
    warm.basis.expect("the simplex leaves its tree")
}

/// Every starting basis: the textbook and greedy ones, and hinted ones
/// from the optimum's potentials or wild ones, with or without a tree
/// (the optimum's, or a wild forest).
fn starts<'a>(
    cert: &'a network::Certificate,
    wild: &'a [i64],
    basis: &'a simplex::Basis,
    wild_basis: &'a simplex::Basis,
) -> [Start<'a>; 8] {
    let good = &cert.potentials[..];
    [
        Start::Greedy,
        Start::Artificial,
        Start::Hint(wild, None),
        Start::Hint(good, None),
        Start::Hint(good, Some(basis)),
        Start::Hint(wild, Some(basis)),
        Start::Hint(good, Some(wild_basis)),
        Start::Hint(wild, Some(wild_basis)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn optimal_equals_brute_force(seed in any::<u64>(), n in 1usize..7, m in 1usize..4) {
        let p = random_problem(seed, n, m, 0.6, 2);
        let want = brute_force(&p);
        let (s, cert) = ssp::solve(&p, &Control::default()).unwrap();
        prop_assert_eq!(s.check(&p).unwrap(), want);
        cert.verify(&p, &s).map_err(TestCaseError::fail)?;
        let (s, cert) = cost_scaling::solve(&p, &Control::default()).unwrap();
        prop_assert_eq!(s.check(&p).unwrap(), want);
        cert.verify(&p, &s).map_err(TestCaseError::fail)?;
        let (s, cert) = simplex::solve(&p, &Control::default()).unwrap();
        prop_assert_eq!(s.check(&p).unwrap(), want);
        cert.verify(&p, &s).map_err(TestCaseError::fail)?;
        // Pricing one candidate per worker first: the rest must join. And
        // every starting basis, checked before and after the pivots; the
        // hinted one from potentials that have nothing to do with the
        // optimum, which must not matter.
        let (wild, wild_basis) = wild_start(&cert, seed);
        let basis = last_tree(&p);
        for start in starts(&cert, &wild, &basis, &wild_basis) {
            for core in [1, usize::MAX] {
                let (s, cert) = simplex::solve_with(&p, &Control::default(), core, start).unwrap();
                prop_assert_eq!(s.check(&p).unwrap(), want);
                cert.verify(&p, &s).map_err(TestCaseError::fail)?;
                simplex::check_bases(&p, core, start).map_err(TestCaseError::fail)?;
            }
        }
    }

    #[test]
    fn simplex_equals_brute_force_on_crowded_households(seed in any::<u64>(), n in 1usize..9, m in 1usize..3) {
        // Few slots, dense rows, many zero-employment households: the
        // household layer decides.
        let p = random_problem(seed, n, m, 0.9, 1);
        let want = brute_force(&p);
        let (_, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let (wild, wild_basis) = wild_start(&cert, seed);
        let basis = last_tree(&p);
        for start in starts(&cert, &wild, &basis, &wild_basis) {
            for core in [1, 2, usize::MAX] {
                let (s, cert) = simplex::solve_with(&p, &Control::default(), core, start).unwrap();
                prop_assert_eq!(s.check(&p).unwrap(), want);
                cert.verify(&p, &s).map_err(TestCaseError::fail)?;
                simplex::check_bases(&p, core, start).map_err(TestCaseError::fail)?;
            }
        }
    }

    #[test]
    fn stable_has_no_blocking_pair_and_equals_the_reference(seed in any::<u64>(), n in 1usize..40, m in 1usize..10) {
        let p = random_problem(seed, n, m, 0.4, 4);
        let s = stable::solve(&p, &Control::default()).unwrap();
        s.check(&p).unwrap();
        prop_assert_eq!(stable::blocking_pair(&p, &s), None);
        prop_assert_eq!(s.edge, reference_stable(&p));
    }
}

#[test]
fn certificates_hold_on_larger_instances_and_catch_tampering() {
    for seed in 0..20 {
        let p = random_problem(seed, 400, 60, 0.08, 6);
        let (s, cert) = ssp::solve(&p, &Control::default()).unwrap();
        let (s2, cert2) = cost_scaling::solve(&p, &Control::default()).unwrap();
        assert_eq!(s.check(&p).unwrap(), s2.check(&p).unwrap(), "seed {seed}");
        cert.verify(&p, &s).unwrap();
        cert2.verify(&p, &s2).unwrap();
        let (s3, cert3) = simplex::solve(&p, &Control::default()).unwrap();
        assert_eq!(s.check(&p).unwrap(), s3.check(&p).unwrap(), "seed {seed}");
        cert3.verify(&p, &s3).unwrap();
        // Complementary slackness: an optimal dual certifies every optimal
        // primal, so the simplex's potentials also prove the other solver's
        // assignment optimal.
        cert3.verify(&p, &s).unwrap();
        // Any other feasible solution that is worse must fail the check:
        // drop one assigned worker.
        if let Some(w) = s
            .edge
            .iter()
            .position(|e| e.is_some_and(|e| p.edge_score[e as usize] > 0))
        {
            let mut worse = s.clone();
            worse.edge[w] = None;
            assert!(cert.verify(&p, &worse).is_err(), "seed {seed}");
        }
        tampering_fails(&p, &s3, &cert3, seed);
    }
}

/// Corrupts an optimal solution three ways (a worker dropped, a worker
/// moved to a worse candidate, the certificate's potentials nudged) and
/// expects the certificate check to refuse each.
fn tampering_fails(p: &Problem, s: &Solution, cert: &network::Certificate, seed: u64) {
    let assigned = |e: &Option<u32>| e.is_some_and(|e| p.edge_score[e as usize] > 0);
    if let Some(w) = s.edge.iter().position(assigned) {
        let mut worse = s.clone();
        worse.edge[w] = None;
        assert!(cert.verify(p, &worse).is_err(), "seed {seed}: dropped");
    }
    // Move a worker to a strictly worse candidate with a free slot.
    let obj = s.check(p).unwrap();
    'outer: for w in 0..p.workers() {
        if s.edge[w].is_none() {
            continue;
        }
        for f in p.row(w) {
            let mut moved = s.clone();
            moved.edge[w] = Some(f as u32);
            if moved.check(p).is_ok_and(|o| o < obj) {
                assert!(cert.verify(p, &moved).is_err(), "seed {seed}: moved");
                break 'outer;
            }
        }
    }
    // Raising an assigned worker's potential makes its assigned arc's
    // reverse residual arc negative.
    if let Some(w) = s.edge.iter().position(|e| e.is_some()) {
        let mut bad = cert.clone();
        bad.potentials[w] += cert.big;
        assert!(bad.verify(p, s).is_err(), "seed {seed}: potentials");
    }
}

#[test]
fn simplex_equals_successive_shortest_paths_on_crowded_graphs() {
    // Crowded: many workers, dense rows, few slots, ties in the scores.
    for seed in 200..206 {
        let p = random_problem(seed, 1500, 120, 0.3, 3);
        let (a, _) = ssp::solve(&p, &Control::default()).unwrap();
        for (core, start) in [
            (2, Start::Greedy),
            (12, Start::Greedy),
            (usize::MAX, Start::Greedy),
            (usize::MAX, Start::Artificial),
        ] {
            let (b, cert) = simplex::solve_with(&p, &Control::default(), core, start).unwrap();
            assert_eq!(a.check(&p).unwrap(), b.check(&p).unwrap(), "seed {seed}");
            cert.verify(&p, &b).unwrap();
        }
        simplex::check_bases(&p, 12, Start::Greedy).unwrap();
    }
}

#[test]
fn sparse_searches_on_both_cores_take_the_pivots_of_one() {
    let mut rounds = 0;
    for seed in 300..304 {
        let p = random_problem(seed, 3000, 200, 0.15, 4);
        rounds += simplex::check_paired_search(&p).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
    assert!(rounds > 0, "no search ran on both cores");
}

#[test]
fn optimal_beats_greedy_and_never_loses_to_stable() {
    for seed in 100..130 {
        let p = random_problem(seed, 300, 40, 0.1, 5);
        let (best, _) = ssp::solve(&p, &Control::default()).unwrap();
        let best = best.check(&p).unwrap();
        let stable = stable::solve(&p, &Control::default())
            .unwrap()
            .check(&p)
            .unwrap();
        assert!(best >= stable, "seed {seed}: {best:?} < {stable:?}");
    }
}

#[test]
fn zero_employment_household_comes_before_a_higher_score() {
    // One slot. Worker 0 (zero-employment household) scores 0.5, worker 1
    // (a household with someone in work) scores 0.9. Max score takes worker
    // 1; the policy takes worker 0.
    let p = Problem::from_rows(
        vec![vec![(0, 500_000)], vec![(0, 900_000)]],
        vec![1],
        vec![0, 1],
        vec![true, false],
    );
    let (s, cert) = ssp::solve(&p, &Control::default()).unwrap();
    assert_eq!(s.edge, vec![Some(0), None]);
    assert_eq!(
        s.check(&p).unwrap(),
        Objective {
            households_covered: 1,
            total_score: 500_000
        }
    );
    cert.verify(&p, &s).unwrap();
    // Without the household rule the other worker wins.
    let plain = Problem {
        zero_household: vec![false, false],
        ..p.clone()
    };
    let (s, _) = ssp::solve(&plain, &Control::default()).unwrap();
    assert_eq!(s.edge, vec![None, Some(1)]);
    // The stable policy also puts the zero-employment household first.
    assert_eq!(
        stable::solve(&p, &Control::default()).unwrap().edge,
        vec![Some(0), None]
    );
}

#[test]
fn one_member_covers_the_household_and_the_rest_compete_on_score() {
    // Household 0 (zero) has workers 0 and 1; worker 2 is from household 1.
    // Two slots at opening 0. Covering household 0 needs one member; the
    // second slot goes to the better of worker 1 and worker 2.
    let p = Problem::from_rows(
        vec![vec![(0, 100)], vec![(0, 200)], vec![(0, 300)]],
        vec![2],
        vec![0, 0, 1],
        vec![true, false],
    );
    let (s, cert) = ssp::solve(&p, &Control::default()).unwrap();
    assert_eq!(
        s.check(&p).unwrap(),
        Objective {
            households_covered: 1,
            total_score: 500
        }
    );
    assert_eq!(s.edge, vec![None, Some(1), Some(2)]);
    cert.verify(&p, &s).unwrap();
}

#[test]
fn cancel_stops_the_solvers() {
    let p = random_problem(7, 3000, 100, 0.05, 5);
    let control = Control::default();
    control.cancel();
    assert_eq!(ssp::solve(&p, &control).unwrap_err(), SolveError::Cancelled);
    assert_eq!(
        stable::solve(&p, &control).unwrap_err(),
        SolveError::Cancelled
    );
    assert_eq!(
        simplex::solve(&p, &control).unwrap_err(),
        SolveError::Cancelled
    );
}

#[test]
fn stable_ties_break_by_index() {
    // Equal scores everywhere: worker 0 takes opening 0 (lower index first);
    // opening 0 with one slot prefers worker 0 over worker 1.
    let p = Problem::from_rows(
        vec![vec![(0, 5), (1, 5)], vec![(0, 5), (1, 5)]],
        vec![1, 1],
        vec![0, 1],
        vec![false, false],
    );
    let s = stable::solve(&p, &Control::default()).unwrap();
    assert_eq!(s.edge, vec![Some(0), Some(3)]);
}

/// How far a plan is from an anchor: workers whose anchored opening is not
/// kept, plus workers placed without one.
fn distance(p: &Problem, s: &Solution, anchor: &[u32]) -> u64 {
    (0..p.workers())
        .filter(|&w| match (anchor[w], s.opening(p, w)) {
            (u32::MAX, got) => got.is_some(),
            (want, got) => got != Some(want),
        })
        .count() as u64
}

/// The best (objective, -distance) over every feasible assignment.
fn brute_force_keeping(p: &Problem, anchor: &[u32]) -> (Objective, u64) {
    fn go(
        p: &Problem,
        anchor: &[u32],
        w: usize,
        choice: &mut Vec<Option<u32>>,
        best: &mut Option<(Objective, Reverse<u64>)>,
    ) {
        if w == p.workers() {
            let s = Solution {
                edge: choice.clone(),
            };
            if let Ok(obj) = s.check(p) {
                let key = (obj, Reverse(distance(p, &s, anchor)));
                if best.is_none_or(|b| key > b) {
                    *best = Some(key);
                }
            }
            return;
        }
        choice.push(None);
        go(p, anchor, w + 1, choice, best);
        choice.pop();
        for e in p.row(w) {
            choice.push(Some(e as u32));
            go(p, anchor, w + 1, choice, best);
            choice.pop();
        }
    }
    let mut best = None;
    go(p, anchor, 0, &mut Vec::new(), &mut best);
    let (obj, Reverse(d)) = best.unwrap();
    (obj, d)
}

/// A random anchor: each worker one of its candidates' openings, an
/// opening it has no edge to, or nothing.
fn random_anchor(p: &Problem, seed: u64) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    (0..p.workers())
        .map(|w| {
            let row = p.row(w);
            match rng.random_range(0..4) {
                0 if !row.is_empty() => p.edge_opening[rng.random_range(row.start..row.end)],
                1 => rng.random_range(0..p.openings() as u32),
                _ => u32::MAX,
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn closest_plan_equals_brute_force(seed in any::<u64>(), n in 1usize..7, m in 1usize..4) {
        let p = random_problem(seed, n, m, 0.6, 2);
        let anchor = random_anchor(&p, seed);
        let (want, want_distance) = brute_force_keeping(&p, &anchor);
        for core in [1, usize::MAX] {
            let (s, warm) = simplex::solve_keeping_with(&p, &anchor, &Control::default(), core, None).unwrap();
            prop_assert_eq!(s.check(&p).unwrap(), want);
            warm.certificate.verify(&p, &s).map_err(TestCaseError::fail)?;
            prop_assert_eq!(distance(&p, &s, &anchor), want_distance);
        }
    }

    #[test]
    fn closest_plan_equals_brute_force_on_crowded_households(seed in any::<u64>(), n in 1usize..8, m in 1usize..3) {
        let p = random_problem(seed, n, m, 0.9, 1);
        let anchor = random_anchor(&p, seed);
        let (want, want_distance) = brute_force_keeping(&p, &anchor);
        let (s, cert) = simplex::solve_keeping(&p, &anchor, &Control::default()).unwrap();
        prop_assert_eq!(s.check(&p).unwrap(), want);
        cert.verify(&p, &s).map_err(TestCaseError::fail)?;
        prop_assert_eq!(distance(&p, &s, &anchor), want_distance);
    }
}

#[test]
fn closest_plan_never_costs_a_household_or_a_point() {
    // Larger instances with many ties: the third tier against the first
    // two solved alone. (Its exactness is the brute-force property above.)
    for seed in 400..412 {
        let p = random_problem(seed, 300, 40, 0.1, 4);
        let anchor = random_anchor(&p, seed);
        let (plain, _) = simplex::solve(&p, &Control::default()).unwrap();
        let (s, cert) = simplex::solve_keeping(&p, &anchor, &Control::default()).unwrap();
        assert_eq!(
            s.check(&p).unwrap(),
            plain.check(&p).unwrap(),
            "seed {seed}"
        );
        cert.verify(&p, &s).unwrap();
        // Never farther than the plan that ignores the anchor.
        assert!(distance(&p, &s, &anchor) <= distance(&p, &plain, &anchor));
    }
}

#[test]
fn an_unchanged_instance_keeps_its_plan() {
    for seed in 500..510 {
        let p = random_problem(seed, 400, 50, 0.1, 3);
        let (first, _) = simplex::solve(&p, &Control::default()).unwrap();
        let anchor: Vec<u32> = (0..p.workers())
            .map(|w| first.opening(&p, w).unwrap_or(u32::MAX))
            .collect();
        let (again, _) = simplex::solve_keeping(&p, &anchor, &Control::default()).unwrap();
        assert_eq!(again, first, "seed {seed}");
    }
}

/// A random change of a problem: a score, a slot count, a household's
/// employment, or a worker's row, or none.
fn random_change(p: &Problem, seed: u64) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc4a9e);
    let mut q = p.clone();
    match rng.random_range(0..5) {
        0 if q.edges() > 0 => {
            let e = rng.random_range(0..q.edges());
            q.edge_score[e] = rng.random_range(0..=5);
        }
        1 if q.openings() > 0 => {
            let o = rng.random_range(0..q.openings());
            q.slots[o] = rng.random_range(0..=3);
        }
        2 if !q.zero_household.is_empty() => {
            let h = rng.random_range(0..q.zero_household.len());
            q.zero_household[h] = !q.zero_household[h];
        }
        3 if q.workers() > 0 => {
            // One worker loses their candidates.
            let w = rng.random_range(0..q.workers());
            let rows: Vec<Vec<(u32, u32)>> = (0..q.workers())
                .map(|v| {
                    if v == w {
                        Vec::new()
                    } else {
                        q.row(v)
                            .map(|e| (q.edge_opening[e], q.edge_score[e]))
                            .collect()
                    }
                })
                .collect();
            q = Problem::from_rows(rows, q.slots, q.household, q.zero_household);
        }
        _ => {}
    }
    q
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn warm_from_the_last_optimum_equals_a_cold_solve(seed in any::<u64>(), n in 1usize..12, m in 1usize..5) {
        let p = random_problem(seed, n, m, 0.5, 2);
        let none = vec![u32::MAX; p.workers()];
        let (first, last) = simplex::solve_keeping_with(&p, &none, &Control::default(), usize::MAX, None).unwrap();
        let anchor: Vec<u32> = (0..p.workers())
            .map(|w| first.opening(&p, w).unwrap_or(u32::MAX))
            .collect();
        let q = random_change(&p, seed);
        let (cold, _) = simplex::solve_keeping(&q, &anchor, &Control::default()).unwrap();
        // From the potentials alone, and from the potentials and the tree.
        let potentials_only = simplex::Warm { certificate: last.certificate.clone(), basis: None };
        for hint in [potentials_only, last.clone()] {
            let (warm, next, fast) =
                simplex::solve_keeping_from(&q, &anchor, Some(hint), &Control::default()).unwrap();
            prop_assert_eq!(warm.check(&q).unwrap(), cold.check(&q).unwrap());
            next.certificate.verify(&q, &warm).map_err(TestCaseError::fail)?;
            prop_assert_eq!(distance(&q, &warm, &anchor), distance(&q, &cold, &anchor));
            prop_assert!(next.basis.is_some() || fast);
            if q == p {
                // Unchanged: the last plan, proved by the last potentials.
                prop_assert!(fast);
                prop_assert_eq!(&warm, &first);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// Night after night: each solve starts from the last one's optimum
    /// (its potentials and tree) and keeps closest to its plan, and must
    /// equal a cold solve kept closest to the same plan, whatever changed
    /// in between. The tree it starts from is checked as a basis too.
    #[test]
    fn warm_solves_through_a_sequence_of_changes_equal_cold_ones(seed in any::<u64>(), n in 20usize..120, m in 3usize..20, nights in 2usize..7) {
        let mut p = random_problem(seed, n, m, 0.3, 3);
        let none = vec![u32::MAX; p.workers()];
        let (mut plan, mut last) = simplex::solve_keeping_with(&p, &none, &Control::default(), usize::MAX, None).unwrap();
        for night in 0..nights as u64 {
            let anchor: Vec<u32> = (0..p.workers())
                .map(|w| plan.opening(&p, w).unwrap_or(u32::MAX))
                .collect();
            for k in 0..3 {
                p = random_change(&p, seed ^ (night * 7 + k));
            }
            let (cold, _) = simplex::solve_keeping(&p, &anchor, &Control::default()).unwrap();
            if let Some(basis) = &last.basis {
                if basis.parent.len() == last.certificate.potentials.len()
                    && basis.parent.len() == network::Layout::new(&p).sink + 1
                {
                    let start = Start::Hint(&last.certificate.potentials, Some(basis));
                    simplex::check_bases(&p, usize::MAX, start).map_err(TestCaseError::fail)?;
                }
            }
            let (warm, next) =
                simplex::solve_keeping_with(&p, &anchor, &Control::default(), usize::MAX, Some(&last)).unwrap();
            prop_assert_eq!(warm.check(&p).unwrap(), cold.check(&p).unwrap());
            next.certificate.verify(&p, &warm).map_err(TestCaseError::fail)?;
            prop_assert_eq!(distance(&p, &warm, &anchor), distance(&p, &cold, &anchor));
            (plan, last) = (warm, next);
        }
    }
}

#[test]
fn an_unchanged_larger_instance_needs_no_pivot() {
    for seed in 520..526 {
        let p = random_problem(seed, 400, 50, 0.1, 3);
        let (first, cert) = simplex::solve(&p, &Control::default()).unwrap();
        let anchor: Vec<u32> = (0..p.workers())
            .map(|w| first.opening(&p, w).unwrap_or(u32::MAX))
            .collect();
        let hint = simplex::Warm {
            certificate: cert,
            basis: None,
        };
        let (again, _, fast) =
            simplex::solve_keeping_from(&p, &anchor, Some(hint), &Control::default()).unwrap();
        assert!(fast, "seed {seed}");
        assert_eq!(again, first);
    }
}
