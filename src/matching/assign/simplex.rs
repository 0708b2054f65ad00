//! The production exact solver: primal network simplex with block-search
//! pricing, on the household-first network of [`super::optimal`] (same
//! nodes, arcs and costs; see that module's diagram).
//!
//! Why this method: on the graphs the batch builds (one unit per worker,
//! about 100 candidate arcs each, a few slots per opening) network simplex
//! needs few pivots per unit of supply and each pivot touches only the
//! cycle it closes, while successive shortest paths run one Dijkstra per
//! unit and cost scaling pays for many global passes. Measured side by side
//! with OR-Tools and LEMON by `scripts/compare_solvers.py`.
//!
//! The basis is a spanning tree rooted at an artificial node, kept in the
//! usual thread / reverse-thread / subtree-size form so that a pivot costs
//! the length of its cycle plus the size of the subtree it moves. It starts
//! from artificial arcs (every supply node to the root at cost 0, the root
//! to the sink at a cost `art` larger than any simple path of the real
//! network can save), so every unit left on an artificial arc at the end
//! would be a saving the method would have found: the final flow uses none.
//! Leaving arcs are chosen by the strongly-feasible rule (the last blocking
//! arc met walking the cycle in its direction), which rules out cycling.
//!
//! At the end the node potentials satisfy every optimality condition of the
//! real arcs; they are the [`Certificate`] the batch checks independently.
//!
//! A pivot re-prices the potentials of one side of the tree it cuts: the
//! moved subtree, or the rest of the tree when the subtree holds more than
//! half the nodes (only differences of potentials matter).
//!
//! Memory: one slot per arc in flat arrays (a 16-byte record of u32 ends
//! and i64 cost, which pricing reads together; i32 capacity and flow, i8
//! state), about 25 bytes an arc; no per-node lists.

use super::optimal::{Certificate, Layout};
use super::{Control, Problem, Solution, SolveError};

const NONE: u32 = u32::MAX;
/// Arc states: at its upper bound, in the tree, at zero.
const UPPER: i8 = -1;
const TREE: i8 = 0;
const LOWER: i8 = 1;
/// Capacity of the artificial arcs.
const INF: i32 = i32::MAX;
/// Candidates per worker priced from the start; the others join when they
/// would improve the flow (see [`Simplex::run`]).
const CORE: usize = 12;

/// Solves exactly by network simplex. Returns the assignment and the
/// potentials that prove it optimal.
pub fn solve(p: &Problem, control: &Control) -> Result<(Solution, Certificate), SolveError> {
    solve_with_core(p, control, CORE)
}

/// [`solve`] pricing only each worker's best `core` candidates at first.
pub(crate) fn solve_with_core(
    p: &Problem,
    control: &Control,
    core: usize,
) -> Result<(Solution, Certificate), SolveError> {
    let layout = Layout::new(p);
    let mut net = Simplex::build(p, &layout, core.max(1));
    net.run(control)?;
    control.set_progress(1.0);
    let solution = net.solution(p, &layout);
    let sink = layout.sink;
    let shift = net.pi[sink];
    let certificate = Certificate {
        potentials: net.pi[..=sink].iter().map(|x| x - shift).collect(),
        big: layout.big,
    };
    Ok((solution, certificate))
}

/// Arcs priced per block: a fifth of the square root of the priced arcs.
/// LEMON's default is the whole square root; on the batch's graphs a fifth
/// took 2.25M pivots at scale 10 against 2.15M and priced 2.7G arcs against
/// 4.6G (11 s against 24 s in all). Below a tenth the pivots multiply (5.4M
/// at 0.06), so the factor keeps a margin from that edge.
fn block_size(active: usize) -> usize {
    (((active as f64).sqrt() * 0.2) as usize).max(10)
}

/// An arc's cost and ends, in one 16-byte slot.
#[derive(Debug, Clone, Copy, Default)]
struct Arc {
    cost: i64,
    source: u32,
    target: u32,
}

/// The network and its spanning-tree basis.
struct Simplex {
    /// Real nodes; the artificial root is node `nodes`.
    nodes: usize,
    /// Real arcs; arc `real + u` is node `u`'s artificial arc.
    real: usize,
    /// Arcs `0..active` are priced; the rest (each worker's weaker
    /// candidates) wait until pricing them finds one worth entering.
    active: usize,
    /// Ends and cost side by side: pricing reads all three of an arc.
    arcs: Vec<Arc>,
    cap: Vec<i32>,
    flow: Vec<i32>,
    state: Vec<i8>,
    /// Node potentials: every tree arc has reduced cost 0.
    pi: Vec<i64>,
    parent: Vec<u32>,
    /// The tree arc joining a node to its parent.
    pred: Vec<u32>,
    /// +1 when `pred` points from the node to its parent, -1 otherwise.
    pred_dir: Vec<i8>,
    /// Preorder successor in the tree, and its inverse.
    thread: Vec<u32>,
    rev_thread: Vec<u32>,
    /// Subtree size, and the subtree's last node in thread order.
    succ_num: Vec<u32>,
    last_succ: Vec<u32>,
    dirty: Vec<u32>,
    block: usize,
    next_arc: usize,
    /// The artificial arc into the sink, whose flow measures progress.
    art_sink: usize,
    supply_total: i64,
    // The pivot under way.
    in_arc: usize,
    join: usize,
    u_in: usize,
    v_in: usize,
    u_out: usize,
    delta: i32,
}

/// Fills the arc arrays in a spread order (arc `k` of the natural order
/// goes to slot `k * skip`, wrapping onto the next residue), so that each
/// pricing block samples the whole network rather than a few workers.
struct Mixer {
    at: usize,
    residue: usize,
    skip: usize,
    len: usize,
}

impl Mixer {
    fn next(&mut self) -> usize {
        let slot = self.at;
        self.at += self.skip;
        if self.at >= self.len {
            self.residue += 1;
            self.at = self.residue;
        }
        slot
    }
}

impl Simplex {
    fn build(p: &Problem, layout: &Layout, core_len: usize) -> Self {
        let (n, m, sink) = (layout.n, layout.m, layout.sink);
        let nodes = sink + 1;
        let is_source = |w: usize| layout.member_of[w] == NONE && !p.row(w).is_empty();
        let core = |w: usize| p.row(w).len().min(core_len);
        let mut active: usize = (0..n).map(core).sum();
        active += (0..n).filter(|&w| is_source(w)).count();
        active += layout
            .members
            .iter()
            .map(|ms| ms.len() + usize::from(ms.len() > 1) + 1)
            .sum::<usize>();
        active += p.slots.iter().filter(|&&s| s > 0).count();
        let real = active + p.edges() - (0..n).map(core).sum::<usize>();
        let all = real + nodes;
        let mut net = Simplex {
            nodes,
            real,
            active,
            arcs: vec![Arc::default(); all],
            cap: vec![0; all],
            flow: vec![0; all],
            state: vec![LOWER; all],
            pi: vec![0; nodes + 1],
            parent: vec![NONE; nodes + 1],
            pred: vec![NONE; nodes + 1],
            pred_dir: vec![1; nodes + 1],
            thread: vec![0; nodes + 1],
            rev_thread: vec![0; nodes + 1],
            succ_num: vec![1; nodes + 1],
            last_succ: vec![0; nodes + 1],
            dirty: Vec::new(),
            block: block_size(active),
            next_arc: 0,
            art_sink: real + sink,
            supply_total: 0,
            in_arc: 0,
            join: 0,
            u_in: 0,
            v_in: 0,
            u_out: 0,
            delta: 0,
        };
        let mut mix = Mixer {
            at: 0,
            residue: 0,
            skip: (active / nodes).max(3),
            len: active,
        };
        let mut reserve = active;
        let mut supply = vec![0i64; nodes];
        let mut arc =
            |net: &mut Simplex, from: usize, to: usize, cap: i64, cost: i64, core: bool| {
                let a = if core {
                    mix.next()
                } else {
                    reserve += 1;
                    reserve - 1
                };
                net.arcs[a] = Arc {
                    cost,
                    source: from as u32,
                    target: to as u32,
                };
                net.cap[a] = i32::try_from(cap).expect("capacity fits i32");
            };
        let mut max_score = 0i64;
        let mut row: Vec<usize> = Vec::new();
        for w in 0..n {
            // The worker's best `core_len` candidates are priced first.
            row.clear();
            row.extend(p.row(w));
            if row.len() > core_len {
                row.select_nth_unstable_by_key(core_len - 1, |&e| {
                    std::cmp::Reverse(p.edge_score[e])
                });
            }
            for (i, &e) in row.iter().enumerate() {
                let score = i64::from(p.edge_score[e]);
                max_score = max_score.max(score);
                arc(
                    &mut net,
                    w,
                    n + p.edge_opening[e] as usize,
                    1,
                    -score,
                    i < core_len,
                );
            }
            if is_source(w) {
                arc(&mut net, w, sink, 1, 0, true);
                supply[w] = 1;
            }
        }
        for (i, members) in layout.members.iter().enumerate() {
            let h = n + m + i;
            for &w in members {
                arc(&mut net, h, w as usize, 1, 0, true);
            }
            let k = members.len() as i64;
            if k > 1 {
                arc(&mut net, h, sink, k - 1, 0, true);
            }
            arc(&mut net, h, sink, 1, layout.big, true);
            supply[h] = k;
        }
        for o in 0..m {
            if p.slots[o] > 0 {
                arc(&mut net, n + o, sink, i64::from(p.slots[o]), 0, true);
            }
        }
        let total: i64 = supply.iter().sum();
        supply[sink] = -total;
        net.supply_total = total;
        // A simple path of the real network passes the sink at most once,
        // so it holds at most two arcs of cost +-big and its other arcs
        // cost at most max_score each.
        let art = 2 * layout.big + (nodes as i64 + 1) * (max_score + 1) + 1;
        net.init_tree(&supply, art);
        net
    }

    /// The starting basis: every node hangs from the root by its
    /// artificial arc, which carries its supply.
    fn init_tree(&mut self, supply: &[i64], art: i64) {
        let root = self.nodes;
        self.parent[root] = NONE;
        self.pred[root] = NONE;
        self.thread[root] = 0;
        self.rev_thread[0] = root as u32;
        self.succ_num[root] = root as u32 + 1;
        self.last_succ[root] = root as u32 - 1;
        self.pi[root] = 0;
        for u in 0..root {
            let a = self.real + u;
            self.parent[u] = root as u32;
            self.pred[u] = a as u32;
            self.thread[u] = u as u32 + 1;
            self.rev_thread[u + 1] = u as u32;
            self.succ_num[u] = 1;
            self.last_succ[u] = u as u32;
            self.cap[a] = INF;
            self.state[a] = TREE;
            let amount = i32::try_from(supply[u].abs()).expect("supply fits i32");
            self.flow[a] = amount;
            if supply[u] >= 0 {
                self.pred_dir[u] = 1;
                self.pi[u] = 0;
                self.arcs[a].source = u as u32;
                self.arcs[a].target = root as u32;
                self.arcs[a].cost = 0;
            } else {
                self.pred_dir[u] = -1;
                self.pi[u] = art;
                self.arcs[a].source = root as u32;
                self.arcs[a].target = u as u32;
                self.arcs[a].cost = art;
            }
        }
    }

    fn run(&mut self, control: &Control) -> Result<(), SolveError> {
        if control.cancelled() {
            return Err(SolveError::Cancelled);
        }
        let mut pivots = 0u64;
        loop {
            self.pivot_until_optimal(control, &mut pivots)?;
            if !self.admit_reserve() {
                break;
            }
        }
        debug_assert!(
            (self.real..self.real + self.nodes).all(|a| self.flow[a] == 0),
            "flow left on an artificial arc"
        );
        Ok(())
    }

    /// Prices the reserve arcs against the current potentials and moves
    /// every one with a negative reduced cost into the priced range. False
    /// when there is none: the flow is then optimal for the whole network.
    fn admit_reserve(&mut self) -> bool {
        let before = self.active;
        for a in self.active..self.real {
            if self.reduced(a) < 0 {
                // Both arcs are at zero flow and outside the tree, so
                // swapping their slots changes nothing else.
                let b = self.active;
                self.arcs.swap(a, b);
                self.cap.swap(a, b);
                self.flow.swap(a, b);
                self.state.swap(a, b);
                self.active += 1;
            }
        }
        self.block = block_size(self.active);
        self.active > before
    }

    fn pivot_until_optimal(
        &mut self,
        control: &Control,
        pivots: &mut u64,
    ) -> Result<(), SolveError> {
        while self.find_entering() {
            *pivots += 1;
            if pivots.is_multiple_of(4096) {
                if control.cancelled() {
                    return Err(SolveError::Cancelled);
                }
                let left = f64::from(self.flow[self.art_sink]);
                control.set_progress(1.0 - left / (self.supply_total.max(1) as f64));
            }
            self.find_join();
            let change = self.find_leaving();
            self.change_flow(change);
            if change {
                self.update_tree();
                self.update_potential();
            }
        }
        Ok(())
    }

    #[inline]
    fn reduced(&self, a: usize) -> i64 {
        let arc = self.arcs[a];
        i64::from(self.state[a])
            * (arc.cost + self.pi[arc.source as usize] - self.pi[arc.target as usize])
    }

    /// Block search: scan arcs from where the last search stopped, one
    /// block at a time, and take the most violating arc of the first block
    /// that has one.
    fn find_entering(&mut self) -> bool {
        let len = self.active;
        if len == 0 {
            return false;
        }
        let mut best = 0i64;
        let mut count = self.block;
        let mut a = if self.next_arc < len {
            self.next_arc
        } else {
            0
        };
        for _ in 0..len {
            let c = self.reduced(a);
            if c < best {
                best = c;
                self.in_arc = a;
            }
            a += 1;
            if a == len {
                a = 0;
            }
            count -= 1;
            if count == 0 {
                if best < 0 {
                    self.next_arc = a;
                    return true;
                }
                count = self.block;
            }
        }
        self.next_arc = a;
        best < 0
    }

    fn find_join(&mut self) {
        let mut u = self.arcs[self.in_arc].source as usize;
        let mut v = self.arcs[self.in_arc].target as usize;
        while u != v {
            if self.succ_num[u] < self.succ_num[v] {
                u = self.parent[u] as usize;
            } else {
                v = self.parent[v] as usize;
            }
        }
        self.join = u;
    }

    /// Finds the arc leaving the basis and the flow change `delta`; false
    /// when the entering arc itself is the bottleneck (it just flips from
    /// one bound to the other).
    fn find_leaving(&mut self) -> bool {
        let a = self.in_arc;
        let (first, second) = if self.state[a] == LOWER {
            (self.arcs[a].source as usize, self.arcs[a].target as usize)
        } else {
            (self.arcs[a].target as usize, self.arcs[a].source as usize)
        };
        let mut delta = self.cap[a];
        let mut side = 0;
        let mut u = first;
        while u != self.join {
            let e = self.pred[u] as usize;
            let d = if self.pred_dir[u] == 1 {
                self.flow[e]
            } else {
                self.cap[e] - self.flow[e]
            };
            if d < delta {
                delta = d;
                self.u_out = u;
                side = 1;
            }
            u = self.parent[u] as usize;
        }
        let mut u = second;
        while u != self.join {
            let e = self.pred[u] as usize;
            let d = if self.pred_dir[u] == 1 {
                self.cap[e] - self.flow[e]
            } else {
                self.flow[e]
            };
            if d <= delta {
                delta = d;
                self.u_out = u;
                side = 2;
            }
            u = self.parent[u] as usize;
        }
        self.delta = delta;
        (self.u_in, self.v_in) = if side == 1 {
            (first, second)
        } else {
            (second, first)
        };
        side != 0
    }

    fn change_flow(&mut self, change: bool) {
        let a = self.in_arc;
        if self.delta > 0 {
            let val = i32::from(self.state[a]) * self.delta;
            self.flow[a] += val;
            let mut u = self.arcs[a].source as usize;
            while u != self.join {
                self.flow[self.pred[u] as usize] -= i32::from(self.pred_dir[u]) * val;
                u = self.parent[u] as usize;
            }
            let mut u = self.arcs[a].target as usize;
            while u != self.join {
                self.flow[self.pred[u] as usize] += i32::from(self.pred_dir[u]) * val;
                u = self.parent[u] as usize;
            }
        }
        if change {
            self.state[a] = TREE;
            let out = self.pred[self.u_out] as usize;
            self.state[out] = if self.flow[out] == 0 { LOWER } else { UPPER };
        } else {
            self.state[a] = -self.state[a];
        }
    }

    /// Re-hangs the subtree cut off by the leaving arc under the entering
    /// arc: the stem from `u_in` up to `u_out` is reversed, and the thread,
    /// subtree sizes and last successors are patched along it and along
    /// the two paths to the join node.
    fn update_tree(&mut self) {
        let (u_in, v_in, u_out, join) = (self.u_in, self.v_in, self.u_out, self.join);
        let old_rev_thread = self.rev_thread[u_out] as usize;
        let old_succ_num = self.succ_num[u_out];
        let old_last_succ = self.last_succ[u_out] as usize;
        let v_out = self.parent[u_out] as usize;
        let in_dir = if u_in == self.arcs[self.in_arc].source as usize {
            1
        } else {
            -1
        };

        if u_in == u_out {
            self.parent[u_in] = v_in as u32;
            self.pred[u_in] = self.in_arc as u32;
            self.pred_dir[u_in] = in_dir;
            if self.thread[v_in] as usize != u_out {
                // Move the subtree's thread segment right after v_in.
                let after = self.thread[old_last_succ];
                self.thread[old_rev_thread] = after;
                self.rev_thread[after as usize] = old_rev_thread as u32;
                let after = self.thread[v_in];
                self.thread[v_in] = u_out as u32;
                self.rev_thread[u_out] = v_in as u32;
                self.thread[old_last_succ] = after;
                self.rev_thread[after as usize] = old_last_succ as u32;
            }
        } else {
            // When old_rev_thread is v_in, join and v_out coincide.
            let thread_continue = if old_rev_thread == v_in {
                self.thread[old_last_succ]
            } else {
                self.thread[v_in]
            };
            // Walk the stem from u_in up to u_out, splicing each stem
            // node's remaining subtree after the previous one.
            let mut stem = u_in;
            let mut par_stem = v_in;
            let mut last = self.last_succ[u_in] as usize;
            let mut after = self.thread[last];
            self.thread[v_in] = u_in as u32;
            self.dirty.clear();
            self.dirty.push(v_in as u32);
            while stem != u_out {
                let next_stem = self.parent[stem] as usize;
                self.thread[last] = next_stem as u32;
                self.dirty.push(last as u32);
                let before = self.rev_thread[stem];
                self.thread[before as usize] = after;
                self.rev_thread[after as usize] = before;
                self.parent[stem] = par_stem as u32;
                par_stem = stem;
                stem = next_stem;
                last = if self.last_succ[stem] == self.last_succ[par_stem] {
                    self.rev_thread[par_stem] as usize
                } else {
                    self.last_succ[stem] as usize
                };
                after = self.thread[last];
            }
            self.parent[u_out] = par_stem as u32;
            self.thread[last] = thread_continue;
            self.rev_thread[thread_continue as usize] = last as u32;
            self.last_succ[u_out] = last as u32;
            if old_rev_thread != v_in {
                self.thread[old_rev_thread] = after;
                self.rev_thread[after as usize] = old_rev_thread as u32;
            }
            for i in 0..self.dirty.len() {
                let u = self.dirty[i];
                self.rev_thread[self.thread[u as usize] as usize] = u;
            }
            // Reverse pred along the stem, from u_out down to u_in.
            let mut sizes = 0u32;
            let tail_last = self.last_succ[u_out];
            let mut u = u_out;
            while u != u_in {
                let p = self.parent[u] as usize;
                self.pred[u] = self.pred[p];
                self.pred_dir[u] = -self.pred_dir[p];
                sizes += self.succ_num[u] - self.succ_num[p];
                self.succ_num[u] = sizes;
                self.last_succ[p] = tail_last;
                u = p;
            }
            self.pred[u_in] = self.in_arc as u32;
            self.pred_dir[u_in] = in_dir;
            self.succ_num[u_in] = old_succ_num;
        }

        // Last successors from v_in towards the root.
        let up_limit_out = if self.last_succ[join] as usize == v_in {
            join as u32
        } else {
            NONE
        };
        let last_succ_out = self.last_succ[u_out];
        let mut u = v_in as u32;
        while u != NONE && self.last_succ[u as usize] as usize == v_in {
            self.last_succ[u as usize] = last_succ_out;
            u = self.parent[u as usize];
        }
        // And from v_out towards the root.
        let replace = if join != old_rev_thread && v_in != old_rev_thread {
            Some(old_rev_thread as u32)
        } else if last_succ_out as usize != old_last_succ {
            Some(last_succ_out)
        } else {
            None
        };
        if let Some(value) = replace {
            let mut u = v_out as u32;
            while u != up_limit_out && self.last_succ[u as usize] as usize == old_last_succ {
                self.last_succ[u as usize] = value;
                u = self.parent[u as usize];
            }
        }
        // Subtree sizes on the two paths to the join node.
        let mut u = v_in;
        while u != join {
            self.succ_num[u] += old_succ_num;
            u = self.parent[u] as usize;
        }
        let mut u = v_out;
        while u != join {
            self.succ_num[u] -= old_succ_num;
            u = self.parent[u] as usize;
        }
    }

    /// Shifts the potentials of the moved subtree (or, when it is the
    /// larger side, of the rest of the tree the other way) so that the
    /// entering arc has reduced cost 0.
    fn update_potential(&mut self) {
        let (u_in, v_in) = (self.u_in, self.v_in);
        let sigma = self.pi[v_in]
            - self.pi[u_in]
            - i64::from(self.pred_dir[u_in]) * self.arcs[self.in_arc].cost;
        let end = self.thread[self.last_succ[u_in] as usize] as usize;
        // Only differences of potentials matter, so when the moved subtree
        // holds more than half the tree its complement moves the other
        // way instead: the thread is a cycle through every node, and the
        // complement is the stretch from `end` back round to `u_in`.
        let (mut u, stop, sigma) = if 2 * self.succ_num[u_in] as usize > self.nodes + 1 {
            (end, u_in, -sigma)
        } else {
            (u_in, end, sigma)
        };
        while u != stop {
            self.pi[u] += sigma;
            u = self.thread[u] as usize;
        }
    }

    /// Reads each worker's assigned edge off the flow.
    fn solution(&self, p: &Problem, layout: &Layout) -> Solution {
        let (n, m) = (layout.n, layout.m);
        let mut opening = vec![NONE; n];
        for a in 0..self.real {
            let (w, o) = (self.arcs[a].source as usize, self.arcs[a].target as usize);
            if w < n && (n..n + m).contains(&o) && self.flow[a] > 0 {
                opening[w] = (o - n) as u32;
            }
        }
        Solution {
            edge: (0..n)
                .map(|w| {
                    (opening[w] != NONE)
                        .then(|| p.row(w).find(|&e| p.edge_opening[e] == opening[w]))
                        .flatten()
                        .map(|e| e as u32)
                })
                .collect(),
        }
    }
}
