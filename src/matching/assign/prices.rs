//! Prices of openings: the minimal (worker-optimal) dual values of their
//! slot constraints in an optimal plan.
//!
//! The price of an opening is what one more of its slots would add to the
//! optimum: `V(slots + 1) - V(slots)` in the batch's lexicographic value
//! (households covered, then micro-points), so zero for an opening that is
//! not full. By LP duality this is the smallest price the opening can
//! carry in any optimal dual solution, and the prices of all openings are
//! minimal together (the worker-optimal corner of the dual lattice, as in
//! Shapley and Shubik's assignment game, where they equal the VCG prices).
//! Minimal prices are the ones a worker can be quoted without overstating
//! the contest, and they do not move with the solver's choice of basis.
//!
//! They are shortest-path distances from the sink in the residual network
//! of the optimal flow: one more slot at `o` opens the arc `o -> T`, and the
//! best cycle it closes runs `T -> ... -> o` at cost `dist(T, o)`, so the
//! gain is `max(0, -dist(T, o))`. Any optimal potentials make every
//! residual arc's reduced cost non-negative, so one Dijkstra from the sink
//! on reduced costs finds them all.
//!
//! The two tiers stay apart: a price carries the households one more slot
//! would cover (0 or 1) and the points it would add. The shortest path
//! covers a household exactly when it starts by undoing a household's
//! slack, and since the combined cost orders plans lexicographically, the
//! split is unique.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::network::{Certificate, Layout};
use super::{Problem, Solution};

const NONE: u32 = u32::MAX;

/// The price of one opening's last slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Price {
    /// Zero-employment households one more slot would cover: 0 or 1.
    pub households: u32,
    /// Score one more slot would add, micro-points. It can be negative
    /// when `households` is 1: covering a household may cost score.
    pub points: i64,
}

impl Price {
    /// Whether the opening is contested: one more slot would add value.
    pub fn contested(&self) -> bool {
        self.households > 0 || self.points > 0
    }
}

/// Minimal prices of every opening, with the potentials that prove them.
#[derive(Debug, Clone)]
pub struct Duals {
    /// Per opening.
    pub prices: Vec<Price>,
    /// The household weight of the combined value (see
    /// [`Certificate::big`]).
    pub big: i64,
    /// Optimal potentials whose opening prices are the minimal ones
    /// (workers, openings, households, sink; sink at 0). A valid
    /// [`Certificate`] of the same plan.
    pub potentials: Vec<i64>,
}

impl Duals {
    /// An opening's price in the solver's combined units.
    pub fn combined(&self, opening: usize) -> i64 {
        let p = self.prices[opening];
        i64::from(p.households) * self.big + p.points
    }

    /// The certificate these potentials make.
    pub fn certificate(&self) -> Certificate {
        Certificate {
            potentials: self.potentials.clone(),
            big: self.big,
        }
    }
}

/// The price each opening's potentials imply in an optimal dual:
/// `pot[T] - pot[o]`, and zero for an opening with a free slot. An opening
/// with no slots has no arc to the sink, so this says nothing of it.
pub fn implied(p: &Problem, certificate: &Certificate) -> Vec<i64> {
    let n = p.workers();
    let sink = certificate.potentials.len() - 1;
    (0..p.openings())
        .map(|o| (certificate.potentials[sink] - certificate.potentials[n + o]).max(0))
        .collect()
}

/// The minimal prices of an optimal plan. `certificate` must prove
/// `solution` optimal (see [`Certificate::verify`]); the search relies on
/// its reduced costs being non-negative.
pub fn minimal(p: &Problem, solution: &Solution, certificate: &Certificate) -> Duals {
    let layout = Layout::new(p);
    let (n, m, sink) = (layout.n, layout.m, layout.sink);
    let pot = &certificate.potentials;
    let big = certificate.big;
    // Who sits where: per opening, its workers (compressed rows).
    let mut used = vec![0u32; m];
    for w in 0..n {
        if let Some(o) = solution.opening(p, w) {
            used[o as usize] += 1;
        }
    }
    let mut start = vec![0u32; m + 1];
    for o in 0..m {
        start[o + 1] = start[o] + used[o];
    }
    let mut fill = start.clone();
    let mut seated = vec![0u32; start[m] as usize];
    for w in 0..n {
        if let Some(e) = solution.edge[w] {
            let o = p.edge_opening[e as usize] as usize;
            seated[fill[o] as usize] = e;
            fill[o] += 1;
        }
    }
    let worker_of_edge = |e: u32| -> usize {
        // Rows are sorted by worker: binary search the row starts.
        p.edge_start.partition_point(|&s| s <= e) - 1
    };
    let placed: Vec<usize> = layout
        .members
        .iter()
        .map(|ms| {
            ms.iter()
                .filter(|&&w| solution.edge[w as usize].is_some())
                .count()
        })
        .collect();

    // Dijkstra from the sink on reduced costs `c + pot[u] - pot[v]`.
    let reduced = |c: i64, u: usize, v: usize| c + pot[u] - pot[v];
    let mut s = Search::new(sink + 1);
    s.dist[sink] = 0;
    for w in 0..n {
        if layout.member_of[w] == NONE && !p.row(w).is_empty() && solution.edge[w].is_none() {
            s.reach(w, reduced(0, sink, w), false);
        }
    }
    for o in 0..m {
        if used[o] > 0 {
            s.reach(n + o, reduced(0, sink, n + o), false);
        }
    }
    for (i, ms) in layout.members.iter().enumerate() {
        let h = n + m + i;
        let slack = placed[i] == 0;
        if slack {
            s.reach(h, reduced(-big, sink, h), true);
        }
        if ms.len() - placed[i] - usize::from(slack) > 0 {
            s.reach(h, reduced(0, sink, h), false);
        }
    }
    while let Some(Reverse((d, u))) = s.heap.pop() {
        let u = u as usize;
        if d > s.dist[u] {
            continue;
        }
        let cover = s.covers[u];
        if u < n {
            let chosen = solution.edge[u];
            for e in p.row(u) {
                if chosen != Some(e as u32) {
                    let o = n + p.edge_opening[e] as usize;
                    s.reach(o, d + reduced(-i64::from(p.edge_score[e]), u, o), cover);
                }
            }
            let h = layout.member_of[u];
            if h != NONE && chosen.is_some() {
                let h = h as usize;
                s.reach(h, d + reduced(0, u, h), cover);
            }
        } else if u < n + m {
            let o = u - n;
            for &e in &seated[start[o] as usize..start[o + 1] as usize] {
                let w = worker_of_edge(e);
                s.reach(
                    w,
                    d + reduced(i64::from(p.edge_score[e as usize]), u, w),
                    cover,
                );
            }
        } else if u < sink {
            for &w in &layout.members[u - n - m] {
                let w = w as usize;
                if solution.edge[w].is_none() {
                    s.reach(w, d + reduced(0, u, w), cover);
                }
            }
        }
    }
    let Search { dist, covers, .. } = s;

    // True distances from the sink, and potentials equal to them where
    // reached (see the module's tests for why the cap keeps them valid).
    let cap = dist
        .iter()
        .copied()
        .filter(|&d| d != i64::MAX)
        .max()
        .unwrap_or(0);
    let potentials: Vec<i64> = (0..=sink)
        .map(|v| dist[v].min(cap) + pot[v] - pot[sink])
        .collect();
    let prices = (0..m)
        .map(|o| {
            let v = n + o;
            if used[o] < p.slots[o] || dist[v] == i64::MAX {
                return Price::default();
            }
            let gain = -potentials[v];
            if gain <= 0 {
                return Price::default();
            }
            let households = u32::from(covers[v]);
            Price {
                households,
                points: gain - i64::from(households) * big,
            }
        })
        .collect();
    Duals {
        prices,
        big,
        potentials,
    }
}

/// Dijkstra's labels: distance, whether the path covers a household, and
/// the queue.
struct Search {
    dist: Vec<i64>,
    covers: Vec<bool>,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
}

impl Search {
    fn new(nodes: usize) -> Self {
        Self {
            dist: vec![i64::MAX; nodes],
            covers: vec![false; nodes],
            heap: BinaryHeap::new(),
        }
    }

    #[inline]
    fn reach(&mut self, v: usize, d: i64, cover: bool) {
        if d < self.dist[v] {
            self.dist[v] = d;
            self.covers[v] = cover;
            self.heap.push(Reverse((d, v as u32)));
        }
    }
}
