//! The household-first network every exact solver works on, and the
//! certificate that proves a plan optimal on it.
//!
//! The network (costs in micro-points; `B` exceeds any total score):
//!
//! ```text
//! worker w (supply 1) --(-score)--> opening o --(cap slots)--> T
//! worker w --(0)--> T                     "w stays unassigned"
//! household h (supply k, zero-employment, k members with candidates)
//!   --(cap 1 each)--> its members (which then only go to openings)
//!   --(cap k-1, 0)--> T                   "some members stay unassigned"
//!   --(cap 1,  B)--> T                    "nobody of h is placed"
//! ```
//!
//! Minimising the cost maximises first the households covered, then the
//! total score. The production solver is the network simplex
//! ([`super::simplex`]); successive shortest paths ([`super::ssp`]) and
//! cost scaling ([`super::cost_scaling`]) solve the same network
//! independently as cross-checks in tests. Whatever solved it, the node
//! potentials certify the plan ([`Certificate::verify`]), and the batch
//! checks that on every run.

use super::{Problem, Solution};

const NONE: u32 = u32::MAX;

/// Dual values proving a solution optimal.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// Potential of every node: workers, openings, households, sink.
    pub potentials: Vec<i64>,
    /// The uncovered-household cost used.
    pub big: i64,
}

/// The shape of the network, shared by every exact solver and the
/// certificate: which workers are household members, the household nodes
/// and the cost `big` of an uncovered household. Node numbering: workers
/// `0..n`, openings `n..n+m`, households `n+m..sink`, then the sink.
#[derive(Debug)]
pub(crate) struct Layout {
    pub n: usize,
    pub m: usize,
    pub sink: usize,
    pub big: i64,
    /// Per worker: its household node, or `NONE` (not a member).
    pub member_of: Vec<u32>,
    /// Per household node (in order): its member workers.
    pub members: Vec<Vec<u32>>,
}

impl Layout {
    pub fn new(p: &Problem) -> Self {
        let (n, m) = (p.workers(), p.openings());
        // Households that count: zero-employment, with members who have
        // candidates. Each becomes a node after the openings.
        let mut node_of_household = vec![NONE; p.zero_household.len()];
        let mut members: Vec<Vec<u32>> = Vec::new();
        let mut member_of = vec![NONE; n];
        for w in 0..n {
            let h = p.household[w] as usize;
            if !p.zero_household[h] || p.row(w).is_empty() {
                continue;
            }
            if node_of_household[h] == NONE {
                node_of_household[h] = members.len() as u32;
                members.push(Vec::new());
            }
            let node = node_of_household[h];
            members[node as usize].push(w as u32);
            member_of[w] = (n + m) as u32 + node;
        }
        let sink = n + m + members.len();
        let big = (0..n)
            .map(|w| {
                p.row(w)
                    .map(|e| i64::from(p.edge_score[e]))
                    .max()
                    .unwrap_or(0)
            })
            .sum::<i64>()
            + 1;
        Layout {
            n,
            m,
            sink,
            big,
            member_of,
            members,
        }
    }
}

impl Certificate {
    /// Checks the optimality conditions of `solution` for `p`: every arc of
    /// the residual network has a non-negative reduced cost under these
    /// potentials, and the flow is a valid routing of every unit. A pass
    /// proves the solution optimal (no negative cycle exists).
    pub fn verify(&self, p: &Problem, solution: &Solution) -> Result<(), String> {
        let net = Layout::new(p);
        let (n, m, sink) = (net.n, net.m, net.sink);
        if self.potentials.len() != sink + 1 || self.big != net.big {
            return Err("certificate does not fit the problem".into());
        }
        let pot = &self.potentials;
        let reduced_ok = |cost: i64, u: usize, v: usize| cost + pot[u] - pot[v] >= 0;
        let mut used = vec![0u32; m];
        for w in 0..n {
            let chosen = solution.edge[w];
            for e in p.row(w) {
                let o = n + p.edge_opening[e] as usize;
                let score = i64::from(p.edge_score[e]);
                if chosen == Some(e as u32) {
                    used[o - n] += 1;
                    if !reduced_ok(score, o, w) {
                        return Err(format!(
                            "assigned edge {e} has negative reverse reduced cost"
                        ));
                    }
                } else if !reduced_ok(-score, w, o) {
                    return Err(format!(
                        "unused edge {e} of worker {w} has negative reduced cost"
                    ));
                }
            }
            if net.member_of[w] == NONE && !p.row(w).is_empty() {
                // The worker's unit goes to an opening or to its dummy.
                let ok = if chosen.is_some() {
                    reduced_ok(0, w, sink)
                } else {
                    reduced_ok(0, sink, w)
                };
                if !ok {
                    return Err(format!("worker {w}'s dummy arc violates optimality"));
                }
            }
        }
        for o in 0..m {
            if used[o] > p.slots[o] {
                return Err(format!("opening {o} over capacity"));
            }
            if used[o] < p.slots[o] && !reduced_ok(0, n + o, sink) {
                return Err(format!(
                    "opening {o} has a free slot with negative reduced cost"
                ));
            }
            if used[o] > 0 && !reduced_ok(0, sink, n + o) {
                return Err(format!("opening {o}'s used slots violate optimality"));
            }
        }
        for (i, ms) in net.members.iter().enumerate() {
            let h = n + m + i;
            let placed = ms
                .iter()
                .filter(|&&w| solution.edge[w as usize].is_some())
                .count();
            // Units: placed members carry one each; of the rest, up to k-1
            // go to the free dummy and the last pays the slack if nobody is
            // placed.
            let k = ms.len();
            let slack = placed == 0;
            let dummy = k - placed - usize::from(slack);
            for &w in ms {
                let carries = solution.edge[w as usize].is_some();
                let ok = if carries {
                    reduced_ok(0, w as usize, h)
                } else {
                    reduced_ok(0, h, w as usize)
                };
                if !ok {
                    return Err(format!("household arc to member {w} violates optimality"));
                }
            }
            if dummy + 1 < k && !reduced_ok(0, h, sink) {
                return Err(format!("household {i}'s free dummy violates optimality"));
            }
            if dummy > 0 && !reduced_ok(0, sink, h) {
                return Err(format!("household {i}'s used dummy violates optimality"));
            }
            let ok = if slack {
                reduced_ok(-self.big, sink, h)
            } else {
                reduced_ok(self.big, h, sink)
            };
            if !ok {
                return Err(format!("household {i}'s slack violates optimality"));
            }
        }
        Ok(())
    }
}
