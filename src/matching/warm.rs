//! The last optimum's dual values, kept by record id between runs, so that
//! a night whose problem did not change is proved optimal without solving
//! it again.
//!
//! The exact policy keeps the previous plan where an optimum allows (see
//! `assign::simplex::solve_keeping`). When nothing changed, that plan is
//! the answer: the previous potentials, mapped onto this night's nodes by
//! id, certify it, and [`Certificate::verify`] checks that exactly. Any
//! change that matters makes the check fail (a score, a slot, a household,
//! or a worker or opening come or gone), and the night is solved again,
//! its pivots starting from these potentials and from the spanning tree
//! the last solve ended on (see `assign::simplex::solve_keeping_from`),
//! so that a few changes cost a few pivots. A what-if hands its changed
//! problem the baseline's optimum the same way.

use super::assign::network::{Certificate, Layout};
use super::assign::simplex::{Basis, Warm};

use super::batch_input::BatchInput;

/// Potentials of the last optimum, by id.
#[derive(Debug, Default)]
pub struct LastOptimum {
    /// Sorted, as in a [`BatchInput`].
    worker_ids: Vec<String>,
    worker_potential: Vec<i64>,
    opening_ids: Vec<String>,
    opening_potential: Vec<i64>,
    /// Zero-employment households with a node, sorted by id: the id, the
    /// potential and the node's number then.
    households: Vec<(String, i64, u32)>,
    big: i64,
    /// The last tree, by the node numbers of then (see [`Basis`]).
    basis: Option<Basis>,
}

const NONE: u32 = u32::MAX;

impl LastOptimum {
    /// Keeps `warm`'s potentials (sink at 0) and tree by the ids of
    /// `input`.
    pub fn new(input: &BatchInput, warm: &Warm) -> Self {
        let p = &input.problem;
        let layout = Layout::new(p);
        let (n, m) = (layout.n, layout.m);
        let pot = &warm.certificate.potentials;
        let mut households: Vec<(String, i64, u32)> = layout
            .members
            .iter()
            .enumerate()
            .map(|(i, members)| {
                let h = p.household[members[0] as usize] as usize;
                let node = n + m + i;
                (input.household_ids[h].clone(), pot[node], node as u32)
            })
            .collect();
        households.sort_unstable();
        Self {
            worker_ids: input.worker_ids.clone(),
            worker_potential: pot[..n].to_vec(),
            opening_ids: input.opening_ids.clone(),
            opening_potential: pot[n..n + m].to_vec(),
            households,
            big: warm.certificate.big,
            basis: warm.basis.clone(),
        }
    }

    /// A start for `input`'s problem made of the kept potentials and tree.
    /// A node without a potential (a worker, opening or household new
    /// since) gets the sink's, 0. When the household tier is weighed
    /// differently now (another `big`: a worker's best score moved), each
    /// potential keeps its score part and its count of `big`s (see
    /// [`reweigh`]). A node hangs from its last parent where both are still
    /// there; the solver checks that the arc between them still exists.
    /// Whether the potentials prove anything is for
    /// [`Certificate::verify`] to say; either way it is where the next
    /// solve's pivots start.
    pub fn warm_for(&self, input: &BatchInput) -> Warm {
        let p = &input.problem;
        let layout = Layout::new(p);
        let (from, to) = (self.big, layout.big);
        let (old_n, old_m) = (self.worker_ids.len(), self.opening_ids.len());
        let find = |ids: &[String], id: &str| ids.binary_search_by(|x| x.as_str().cmp(id)).ok();
        // Per node of now: its potential, and its node number then.
        let mut potentials = Vec::with_capacity(layout.sink + 1);
        let mut then = Vec::with_capacity(layout.sink + 1);
        for id in &input.worker_ids {
            let i = find(&self.worker_ids, id);
            potentials.push(i.map_or(0, |i| reweigh(self.worker_potential[i], from, to)));
            then.push(i.map_or(NONE, |i| i as u32));
        }
        for id in &input.opening_ids {
            let i = find(&self.opening_ids, id);
            potentials.push(i.map_or(0, |i| reweigh(self.opening_potential[i], from, to)));
            then.push(i.map_or(NONE, |i| (old_n + i) as u32));
        }
        for members in &layout.members {
            let id = &input.household_ids[p.household[members[0] as usize] as usize];
            let i = self
                .households
                .binary_search_by(|(h, _, _)| h.as_str().cmp(id))
                .ok();
            let (potential, node) = i.map_or((0, NONE), |i| {
                let (_, potential, node) = &self.households[i];
                (reweigh(*potential, from, to), *node)
            });
            potentials.push(potential);
            then.push(node);
        }
        potentials.push(0);
        then.push((old_n + old_m + self.households.len()) as u32);
        let basis = self.basis.as_ref().map(|last| {
            let mut now = vec![NONE; last.parent.len()];
            for (u, &t) in then.iter().enumerate() {
                if t != NONE {
                    now[t as usize] = u as u32;
                }
            }
            let (parent, by_big_arc) = then
                .iter()
                .map(|&t| match t {
                    NONE => (NONE, false),
                    t => match last.parent[t as usize] {
                        NONE => (NONE, false),
                        q => (now[q as usize], last.by_big_arc[t as usize]),
                    },
                })
                .unzip();
            Basis { parent, by_big_arc }
        });
        Warm {
            certificate: Certificate {
                potentials,
                big: to,
            },
            basis,
        }
    }
}

/// A potential `k * from + r` (the nearest multiple, so `|r| <= from / 2`)
/// as `k * to + r`: the household tier counts in units of `big`, the score
/// tier in points, and scores are far below `big` (it exceeds every
/// plan's total score).
fn reweigh(potential: i64, from: i64, to: i64) -> i64 {
    if from == to || from <= 0 {
        return potential;
    }
    let k = (potential + from / 2).div_euclid(from);
    k * to + (potential - k * from)
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::{reweigh, LastOptimum, NONE};
    use crate::domain::Source;
    use crate::matching::assign::network::Layout;
    use crate::matching::assign::{simplex, Control, Problem};
    use crate::matching::BatchInput;

    /// A random input: workers `w00..`, openings `o00..`, households
    /// `h00..`, in id order as a run builds them.
    fn input(seed: u64, n: usize, m: usize) -> BatchInput {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let households = (n / 2).max(1);
        let rows = (0..n)
            .map(|_| {
                (0..m as u32)
                    .filter_map(|o| {
                        let score = rng.random_range(1..1_000_000);
                        rng.random_bool(0.4).then_some((o, score))
                    })
                    .collect()
            })
            .collect();
        let slots = (0..m).map(|_| rng.random_range(0..=2)).collect();
        let household = (0..n)
            .map(|_| rng.random_range(0..households as u32))
            .collect();
        let zero = (0..households).map(|_| rng.random_bool(0.5)).collect();
        BatchInput {
            problem: Problem::from_rows(rows, slots, household, zero),
            worker_ids: (0..n).map(|w| format!("w{w:02}")).collect(),
            worker_county: vec![0; n],
            opening_ids: (0..m).map(|o| format!("o{o:02}")).collect(),
            opening_source: vec![Source::AidWorkshop; m],
            household_ids: (0..households).map(|h| format!("h{h:02}")).collect(),
        }
    }

    /// Each node's name: its record's id, or "sink".
    fn names(input: &BatchInput) -> Vec<String> {
        let p = &input.problem;
        let layout = Layout::new(p);
        let mut names: Vec<String> = input.worker_ids.clone();
        names.extend(input.opening_ids.iter().cloned());
        for members in &layout.members {
            names.push(input.household_ids[p.household[members[0] as usize] as usize].clone());
        }
        names.push("sink".into());
        names
    }

    /// `a` without worker `gone`, and with one more opening `o00x` (which
    /// sorts between `o00` and `o01`) wanted by every other worker.
    fn changed(a: &BatchInput, gone: usize) -> BatchInput {
        let p = &a.problem;
        let rows = (0..p.workers())
            .filter(|&w| w != gone)
            .map(|w| {
                let mut row: Vec<(u32, u32)> = p
                    .row(w)
                    .map(|e| {
                        let o = p.edge_opening[e];
                        (if o == 0 { 0 } else { o + 1 }, p.edge_score[e])
                    })
                    .collect();
                if w % 2 == 0 {
                    row.push((1, 999_999));
                }
                row
            })
            .collect();
        let mut slots = p.slots.clone();
        slots.insert(1, 2);
        let household = (0..p.workers())
            .filter(|&w| w != gone)
            .map(|w| p.household[w])
            .collect();
        let mut b = a.clone();
        b.problem = Problem::from_rows(rows, slots, household, p.zero_household.clone());
        b.worker_ids.remove(gone);
        b.worker_county.remove(gone);
        b.opening_ids.insert(1, "o00x".into());
        b.opening_source.insert(1, Source::AidWorkshop);
        b
    }

    #[test]
    fn the_last_tree_is_carried_over_by_id() {
        for seed in 0..40 {
            let a = input(seed, 14, 5);
            let none = vec![NONE; a.problem.workers()];
            let (_, warm) = simplex::solve_keeping_with(
                &a.problem,
                &none,
                &Control::default(),
                usize::MAX,
                None,
            )
            .unwrap();
            let b = changed(&a, (seed % 14) as usize);
            let start = LastOptimum::new(&a, &warm).warm_for(&b);
            let (names_a, names_b) = (names(&a), names(&b));
            let basis_a = warm.basis.as_ref().unwrap();
            let basis_b = start.basis.as_ref().unwrap();
            let name = |names: &[String], u: u32| match u {
                NONE => "root".to_string(),
                u => names[u as usize].clone(),
            };
            for (u, id) in names_b.iter().enumerate() {
                let then = names_a.iter().position(|x| x == id);
                let (want_parent, want_potential) = match then {
                    Some(t) => {
                        let parent = name(&names_a, basis_a.parent[t]);
                        let kept = names_b.contains(&parent) || parent == "root";
                        let (from, to) = (warm.certificate.big, start.certificate.big);
                        let potential = reweigh(warm.certificate.potentials[t], from, to);
                        (if kept { parent } else { "root".into() }, potential)
                    }
                    None => ("root".into(), 0),
                };
                assert_eq!(
                    name(&names_b, basis_b.parent[u]),
                    want_parent,
                    "seed {seed}, node {id}"
                );
                assert_eq!(start.certificate.potentials[u], want_potential);
            }
            // And the changed problem solved from there equals a cold solve.
            let keep = vec![NONE; b.problem.workers()];
            let (cold, _) = simplex::solve_keeping(&b.problem, &keep, &Control::default()).unwrap();
            let (warm_b, next, _) =
                simplex::solve_keeping_from(&b.problem, &keep, Some(start), &Control::default())
                    .unwrap();
            next.certificate.verify(&b.problem, &warm_b).unwrap();
            assert_eq!(
                warm_b.check(&b.problem).unwrap(),
                cold.check(&b.problem).unwrap()
            );
        }
    }

    #[test]
    fn reweighing_keeps_the_count_of_bigs_and_the_points() {
        assert_eq!(reweigh(3 * 1000 + 17, 1000, 1200), 3 * 1200 + 17);
        assert_eq!(reweigh(-2 * 1000 - 17, 1000, 900), -2 * 900 - 17);
        assert_eq!(reweigh(-2 * 1000 + 17, 1000, 900), -2 * 900 + 17);
        assert_eq!(reweigh(42, 1000, 5), 42);
        assert_eq!(reweigh(42, 1000, 1000), 42);
    }
}
