//! The stable policy: worker-proposing deferred acceptance with capacities
//! (hospitals/residents). Workers rank openings by score, then opening index;
//! openings rank workers by zero-employment household first, then score,
//! then worker index. The result is the worker-optimal stable matching, the
//! same whatever order proposals are made in.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Control, Problem, Solution, SolveError};

/// An opening's preference key for a worker: larger is better.
pub(crate) type Key = (bool, u32, Reverse<u32>);

/// An opening's preference key for a worker: larger is better.
pub(crate) fn opening_key(p: &Problem, w: usize, e: usize) -> Key {
    let zero = p.zero_household[p.household[w] as usize];
    (zero, p.edge_score[e], Reverse(w as u32))
}

/// A worker's edges in preference order: score descending, then opening
/// index ascending.
pub(crate) fn worker_order(p: &Problem, w: usize) -> Vec<u32> {
    let mut edges: Vec<u32> = p.row(w).map(|e| e as u32).collect();
    edges.sort_by_key(|&e| {
        (
            Reverse(p.edge_score[e as usize]),
            p.edge_opening[e as usize],
        )
    });
    edges
}

/// Runs deferred acceptance.
pub fn solve(p: &Problem, control: &Control) -> Result<Solution, SolveError> {
    let n = p.workers();
    let order: Vec<Vec<u32>> = (0..n).map(|w| worker_order(p, w)).collect();
    let mut next = vec![0usize; n];
    let mut held: Vec<BinaryHeap<Reverse<(Key, u32)>>> =
        (0..p.openings()).map(|_| BinaryHeap::new()).collect();
    let mut edge: Vec<Option<u32>> = vec![None; n];
    let mut free: Vec<u32> = (0..n as u32).rev().collect();
    let mut proposals = 0usize;
    let total = p.edges().max(1);
    while let Some(w) = free.pop() {
        let w = w as usize;
        proposals += 1;
        if proposals.is_multiple_of(4096) {
            if control.cancelled() {
                return Err(SolveError::Cancelled);
            }
            control.set_progress(proposals as f64 / total as f64);
        }
        let Some(&e) = order[w].get(next[w]) else {
            continue;
        };
        next[w] += 1;
        let o = p.edge_opening[e as usize] as usize;
        let key = opening_key(p, w, e as usize);
        let heap = &mut held[o];
        if (heap.len() as u32) < p.slots[o] {
            heap.push(Reverse((key, w as u32)));
            edge[w] = Some(e);
            continue;
        }
        match heap.peek() {
            Some(Reverse((worst, _))) if *worst < key => {
                let Reverse((_, out)) = heap.pop().expect("peeked");
                heap.push(Reverse((key, w as u32)));
                edge[w] = Some(e);
                edge[out as usize] = None;
                free.push(out);
            }
            // Full of better workers, or no slot at all: try the next one.
            _ => free.push(w as u32),
        }
    }
    control.set_progress(1.0);
    Ok(Solution { edge })
}

/// A pair that would both rather be together than with what they have:
/// `(worker, edge)`. `None` when the solution is stable.
pub fn blocking_pair(p: &Problem, s: &Solution) -> Option<(usize, usize)> {
    let mut worst: Vec<Option<Key>> = vec![None; p.openings()];
    let mut used = vec![0u32; p.openings()];
    for w in 0..p.workers() {
        if let Some(e) = s.edge[w] {
            let o = p.edge_opening[e as usize] as usize;
            used[o] += 1;
            let key = opening_key(p, w, e as usize);
            worst[o] = Some(worst[o].map_or(key, |k| k.min(key)));
        }
    }
    for w in 0..p.workers() {
        let rank = |e: usize| (Reverse(p.edge_score[e]), p.edge_opening[e]);
        for e in p.row(w) {
            let better_for_worker = s.edge[w].is_none_or(|cur| rank(e) < rank(cur as usize));
            if !better_for_worker {
                continue;
            }
            let o = p.edge_opening[e] as usize;
            let wants = used[o] < p.slots[o] || worst[o].is_some_and(|k| k < opening_key(p, w, e));
            if wants {
                return Some((w, e));
            }
        }
    }
    None
}
