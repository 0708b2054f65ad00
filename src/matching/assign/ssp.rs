//! Successive shortest paths: the exact cross-check of the network
//! simplex ([`super::simplex`]), on the same network
//! ([`super::network`]). Each unit of supply is routed along a shortest
//! path found by Dijkstra on reduced costs, stopping at the sink (the
//! Jonker-Volgenant idea for sparse assignment); potentials keep every
//! residual arc's reduced cost non-negative, and at the end they certify
//! optimality ([`Certificate::verify`]). Simple enough to trust, and one
//! Dijkstra per worker: too slow for a province, which is why production
//! pivots instead. Tests compare the two on random instances.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::network::{Certificate, Layout};
use super::{Control, Problem, Solution, SolveError};

const NONE: u32 = u32::MAX;

/// How a node was reached in the search.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// Worker -> opening along edge `e`.
    Edge(u32),
    /// Opening -> worker: the worker leaves the opening.
    Unassign(u32),
    /// Worker -> sink: stays unassigned.
    WorkerDummy,
    /// Opening -> sink: takes a free slot.
    Slot,
    /// Household -> member.
    Member,
    /// Member -> household: gives its unit back.
    Release,
    /// Household -> sink, free.
    HouseholdDummy,
    /// Household -> sink, paying B.
    Slack,
}

/// The solver's state: flows and potentials over the network.
struct Network<'p> {
    p: &'p Problem,
    n: usize,
    m: usize,
    sink: usize,
    /// Cost of leaving a zero-employment household uncovered.
    big: i64,
    pot: Vec<i64>,
    /// Per worker: assigned edge or NONE.
    assigned: Vec<u32>,
    /// Per worker: the household node it belongs to (members) or NONE.
    member_of: Vec<u32>,
    /// Per worker: unit routed to the sink directly (non-members).
    dummy: Vec<bool>,
    /// Per worker (members): carries a unit from its household.
    carries: Vec<bool>,
    /// Per opening: workers in it.
    taken: Vec<Vec<u32>>,
    /// Per household node: members, dummy flow, slack flow.
    members: Vec<Vec<u32>>,
    household_dummy: Vec<u32>,
    slack: Vec<bool>,
    // Search scratch space, reused.
    dist: Vec<i64>,
    seen: Vec<u32>,
    done: Vec<u32>,
    parent: Vec<(u32, Via)>,
    stamp: u32,
    finalized: Vec<u32>,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
}

/// Solves exactly by successive shortest paths: one Dijkstra per unit of
/// supply, stopped at the sink. Returns the assignment and its optimality
/// certificate.
pub fn solve(p: &Problem, control: &Control) -> Result<(Solution, Certificate), SolveError> {
    let mut net = Network::new(p);
    let sources = net.sources();
    for (i, &s) in sources.iter().enumerate() {
        if i % 256 == 0 {
            if control.cancelled() {
                return Err(SolveError::Cancelled);
            }
            control.set_progress(i as f64 / sources.len().max(1) as f64);
        }
        net.route_one(s as usize);
    }
    control.set_progress(1.0);
    let solution = Solution {
        edge: net
            .assigned
            .iter()
            .map(|&e| (e != NONE).then_some(e))
            .collect(),
    };
    let certificate = Certificate {
        potentials: net.pot,
        big: net.big,
    };
    Ok((solution, certificate))
}

impl<'p> Network<'p> {
    fn new(p: &'p Problem) -> Self {
        let Layout {
            n,
            m,
            sink,
            big,
            member_of,
            members,
        } = Layout::new(p);
        let hz = members.len();
        let nodes = sink + 1;
        // Initial potentials: any that give every arc of the empty flow a
        // reduced cost >= 0 keep the method exact. Openings and the sink
        // start at 0, a worker at its best score, a household at its best
        // member's. (Opening prices from an auction pre-pass were tried as
        // a warm start; they did not shorten the searches measurably.)
        let mut pot = vec![0i64; nodes];
        for w in 0..n {
            let net = p
                .row(w)
                .map(|e| i64::from(p.edge_score[e]) + pot[n + p.edge_opening[e] as usize])
                .max();
            pot[w] = net.unwrap_or(0).max(pot[sink]);
        }
        for (i, ms) in members.iter().enumerate() {
            pot[n + m + i] = ms
                .iter()
                .map(|&w| pot[w as usize])
                .max()
                .unwrap_or(0)
                .max(pot[sink]);
        }
        Network {
            p,
            n,
            m,
            sink,
            big,
            pot,
            assigned: vec![NONE; n],
            member_of,
            dummy: vec![false; n],
            carries: vec![false; n],
            taken: vec![Vec::new(); m],
            household_dummy: vec![0; hz],
            slack: vec![false; hz],
            members,
            dist: vec![0; nodes],
            seen: vec![0; nodes],
            done: vec![0; nodes],
            parent: vec![(NONE, Via::Slot); nodes],
            stamp: 0,
            finalized: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// Every unit of supply, as the node it starts from: each household
    /// node once per member, then each non-member worker with candidates.
    fn sources(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (i, ms) in self.members.iter().enumerate() {
            out.extend(std::iter::repeat_n((self.n + self.m + i) as u32, ms.len()));
        }
        for w in 0..self.n {
            if self.member_of[w] == NONE && !self.p.row(w).is_empty() {
                out.push(w as u32);
            }
        }
        out
    }

    #[inline]
    fn relax(&mut self, from: u32, to: usize, reduced: i64, via: Via) {
        debug_assert!(reduced >= 0, "negative reduced cost {reduced}");
        let d = self.dist[from as usize] + reduced;
        if self.done[to] == self.stamp {
            return;
        }
        if self.seen[to] != self.stamp || d < self.dist[to] {
            self.seen[to] = self.stamp;
            self.dist[to] = d;
            self.parent[to] = (from, via);
            self.heap.push(Reverse((d, to as u32)));
        }
    }

    /// Routes one unit from `source` to the sink along a shortest path.
    fn route_one(&mut self, source: usize) {
        self.stamp += 1;
        self.heap.clear();
        self.finalized.clear();
        self.seen[source] = self.stamp;
        self.dist[source] = 0;
        self.heap.push(Reverse((0, source as u32)));
        let (n, m, sink) = (self.n, self.m, self.sink);
        let total = loop {
            let Reverse((d, u)) = self.heap.pop().expect("the sink is always reachable");
            let u = u as usize;
            if self.done[u] == self.stamp || d > self.dist[u] {
                continue;
            }
            self.done[u] = self.stamp;
            self.finalized.push(u as u32);
            if u == sink {
                break d;
            }
            let pu = self.pot[u];
            if u < n {
                // Worker: to unused candidate openings, to its dummy, back
                // to its household.
                let w = u;
                for e in self.p.row(w) {
                    if self.assigned[w] == e as u32 {
                        continue;
                    }
                    let o = n + self.p.edge_opening[e] as usize;
                    let reduced = -i64::from(self.p.edge_score[e]) + pu - self.pot[o];
                    self.relax(u as u32, o, reduced, Via::Edge(e as u32));
                }
                let h = self.member_of[w];
                if h == NONE {
                    if !self.dummy[w] {
                        let reduced = pu - self.pot[sink];
                        self.relax(u as u32, sink, reduced, Via::WorkerDummy);
                    }
                } else if self.carries[w] {
                    let reduced = pu - self.pot[h as usize];
                    self.relax(u as u32, h as usize, reduced, Via::Release);
                }
            } else if u < n + m {
                // Opening: a free slot, or bump one of its workers.
                let o = u - n;
                if (self.taken[o].len() as u32) < self.p.slots[o] {
                    let reduced = pu - self.pot[sink];
                    self.relax(u as u32, sink, reduced, Via::Slot);
                }
                for i in 0..self.taken[o].len() {
                    let w = self.taken[o][i] as usize;
                    let e = self.assigned[w] as usize;
                    let reduced = i64::from(self.p.edge_score[e]) + pu - self.pot[w];
                    self.relax(u as u32, w, reduced, Via::Unassign(w as u32));
                }
            } else {
                // Household: a member without a unit, or one of the sinks.
                let hi = u - n - m;
                for i in 0..self.members[hi].len() {
                    let w = self.members[hi][i] as usize;
                    if !self.carries[w] {
                        let reduced = pu - self.pot[w];
                        self.relax(u as u32, w, reduced, Via::Member);
                    }
                }
                if (self.household_dummy[hi] as usize) + 1 < self.members[hi].len() {
                    let reduced = pu - self.pot[sink];
                    self.relax(u as u32, sink, reduced, Via::HouseholdDummy);
                }
                if !self.slack[hi] {
                    let reduced = self.big + pu - self.pot[sink];
                    self.relax(u as u32, sink, reduced, Via::Slack);
                }
            }
        };
        // Potentials: finalized nodes move by d - D; the rest stay.
        for &v in &self.finalized {
            self.pot[v as usize] += self.dist[v as usize] - total;
        }
        self.augment(source);
    }

    /// Applies the path found to the sink.
    fn augment(&mut self, source: usize) {
        let (n, m) = (self.n, self.m);
        let mut v = self.sink;
        while v != source {
            let (u, via) = self.parent[v];
            let u = u as usize;
            match via {
                Via::Edge(e) => {
                    let w = u;
                    let o = v - n;
                    self.assigned[w] = e;
                    self.taken[o].push(w as u32);
                }
                Via::Unassign(w) => {
                    let o = u - n;
                    let list = &mut self.taken[o];
                    let i = list
                        .iter()
                        .position(|&x| x == w)
                        .expect("bumped worker is in the opening");
                    list.swap_remove(i);
                    // The worker's edge is replaced by the step after it
                    // (already applied, since we walk backwards).
                    if self.assigned[w as usize] != NONE
                        && self.p.edge_opening[self.assigned[w as usize] as usize] as usize == o
                    {
                        self.assigned[w as usize] = NONE;
                    }
                }
                Via::WorkerDummy => self.dummy[u] = true,
                Via::Slot => {}
                Via::Member => self.carries[v] = true,
                Via::Release => {
                    self.carries[u] = false;
                }
                Via::HouseholdDummy => self.household_dummy[u - n - m] += 1,
                Via::Slack => self.slack[u - n - m] = true,
            }
            v = u;
        }
    }
}
