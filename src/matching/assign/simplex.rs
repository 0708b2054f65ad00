//! The production exact solver: primal network simplex with block-search
//! pricing, on the household-first network of [`super::network`] (same
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
//! the length of its cycle plus the size of the subtree it moves.
//!
//! It starts from a greedy assignment ([`greedy`]: best pairs first, one
//! member per zero-employment household before anyone else) hung in a
//! strongly feasible tree whose other arcs are artificial arcs at zero flow
//! (`Start::Greedy`). On a scale-30 export this cut the run from 182 s to
//! 34 s. The textbook start (every supply node to the root at cost 0, the
//! root to the sink at a cost `art` larger than any simple path of the real
//! network can save; `Start::Artificial`) is kept as a cross-check in
//! tests. Either way every unit left on an artificial arc at the end would
//! be a saving the method would have found: the final flow uses none.
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

use super::network::{Certificate, Layout};
use super::{Control, Problem, Solution, SolveError};

const NONE: u32 = u32::MAX;
/// Arc states: at its upper bound, in the tree, at zero.
const UPPER: i8 = -1;
const TREE: i8 = 0;
const LOWER: i8 = 1;
/// Capacity of the artificial arcs.
const INF: i32 = i32::MAX;
/// Candidates per worker priced from the start; the others join when they
/// would improve the flow (see [`Simplex::run`]). All of them: from the
/// greedy start, pricing every arc from the first pivot measured best on a
/// scale-30 export (2.4M pivots, 29 s) against the best 12 (20.5M pivots,
/// 180 s, most of them after the reserve joined) and the best 40 (6.7M,
/// 222 s). The reserve stays for smaller cores, which the tests use.
const CORE: usize = usize::MAX;

/// Solves exactly by network simplex. Returns the assignment and the
/// potentials that prove it optimal.
pub fn solve(p: &Problem, control: &Control) -> Result<(Solution, Certificate), SolveError> {
    solve_with(p, control, CORE, Start::Greedy)
}

/// Solves exactly, and among the optimal plans takes one closest to
/// `anchor` (per worker: the opening index of the plan to stay close to,
/// or `u32::MAX`): the fewest workers whose outcome differs, counting a
/// worker whose anchored opening changes or who is placed without one.
/// Households and score come first and are exactly those of [`solve`];
/// the certificate proves them.
///
/// The third tier is a second simplex phase on the optimal face. With the
/// first phase's potentials, the optimal plans are exactly the flows that
/// keep every arc of non-zero reduced cost at its bound; those arcs are
/// frozen (never priced again), the costs become the distance to the
/// anchor (-1 on an anchored edge, +1 on any edge of an unanchored
/// worker, 0 otherwise), and the pivots go on from the same basis. Every
/// cycle they cancel has reduced cost 0 in the first phase, so the first
/// two tiers never move.
pub fn solve_keeping(
    p: &Problem,
    anchor: &[u32],
    control: &Control,
) -> Result<(Solution, Certificate), SolveError> {
    solve_keeping_with(p, anchor, control, CORE, None).map(|(s, warm)| (s, warm.certificate))
}

/// What a solve leaves for the next one to start from: the potentials
/// that prove its plan and, where known, the spanning tree it ended on.
/// A hint for another problem is mapped onto that problem's nodes (see
/// `matching::warm::LastOptimum`).
#[derive(Debug, Clone)]
pub struct Warm {
    /// The potentials, one per node, sink last.
    pub certificate: Certificate,
    /// The tree, where the solve that made the potentials left one.
    pub basis: Option<Basis>,
}

/// The spanning tree a solve ended on, per node as [`Layout`] numbers them
/// (workers, openings, households, sink): the node it hangs from, or
/// `u32::MAX` for the artificial root, and whether the arc between them is
/// a household's uncovered arc (of cost `big`; a household has two arcs to
/// the sink).
///
/// Starting from the last tree rather than from its potentials alone is
/// what makes a small change cost few pivots. With the potentials alone
/// every node hangs from the root, and a change of price (an opening that
/// is no longer full, say) must reach each node it concerns by a pivot of
/// its own; in the last tree one pivot moves the whole subtree that the
/// price holds up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Basis {
    /// Per node: the node it hangs from (`u32::MAX`: the root).
    pub parent: Vec<u32>,
    /// Per node: it hangs by a household's uncovered arc.
    pub by_big_arc: Vec<bool>,
}

/// [`solve_keeping`], first trying the anchor itself with `hint`'s
/// potentials: when they certify it (nothing that matters changed since
/// the plan was made), it is the answer, without a pivot, and the hint is
/// what the next solve starts from. Its distance to itself is 0, so the
/// third tier holds too. Otherwise the pivots start from the hint's tree
/// and potentials. Returns whether the hint was enough.
pub fn solve_keeping_from(
    p: &Problem,
    anchor: &[u32],
    hint: Option<Warm>,
    control: &Control,
) -> Result<(Solution, Warm, bool), SolveError> {
    if let Some(hint) = hint {
        let plan = Solution {
            edge: (0..p.workers())
                .map(|w| {
                    p.row(w)
                        .find(|&e| p.edge_opening[e] == anchor[w])
                        .map(|e| e as u32)
                })
                .collect(),
        };
        // It keeps every anchored pair that still exists and places no one
        // else: no plan is closer. Optimal if the potentials prove it.
        if plan.check(p).is_ok() && hint.certificate.verify(p, &plan).is_ok() {
            control.set_progress(1.0);
            return Ok((plan, hint, true));
        }
        // Otherwise the pivots start from there: only the arcs the changes
        // made wrong are priced as entering.
        let (s, warm) = solve_keeping_with(p, anchor, control, CORE, Some(&hint))?;
        return Ok((s, warm, false));
    }
    let (s, warm) = solve_keeping_with(p, anchor, control, CORE, None)?;
    Ok((s, warm, false))
}

/// [`solve_keeping`] with the core size given, and the starting tree
/// hung from `hint`'s tree and potentials where given (see
/// [`Simplex::hint_tree`]).
pub(crate) fn solve_keeping_with(
    p: &Problem,
    anchor: &[u32],
    control: &Control,
    core: usize,
    hint: Option<&Warm>,
) -> Result<(Solution, Warm), SolveError> {
    assert_eq!(anchor.len(), p.workers(), "one anchor entry per worker");
    let t0 = std::time::Instant::now();
    let layout = Layout::new(p);
    let nodes = layout.sink + 1;
    let start = match hint {
        Some(w) if w.certificate.potentials.len() == nodes => Start::Hint(
            &w.certificate.potentials,
            w.basis.as_ref().filter(|b| b.parent.len() == nodes),
        ),
        _ => Start::Greedy,
    };
    let mut net = Simplex::build(p, &layout, core.max(1), start, Some(anchor));
    let built = t0.elapsed();
    let first = net.run(control)?;
    let certificate = net.certificate(&layout);
    let t1 = t0.elapsed();
    let second = net.keep_close(&layout, anchor, control)?;
    tracing::debug!(
        build = ?built,
        first = ?t1,
        second = ?(t0.elapsed() - t1),
        first_pivots = first,
        second_pivots = second,
        hinted = matches!(start, Start::Hint(..)),
        from_tree = matches!(start, Start::Hint(_, Some(_))),
        "network simplex solved, closest plan"
    );
    control.set_progress(1.0);
    let warm = Warm {
        certificate,
        basis: Some(net.basis()),
    };
    Ok((net.solution(p, &layout), warm))
}

/// The basis the simplex starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start<'a> {
    /// Every node on its artificial arc (the textbook start; kept as a
    /// cross-check in tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Artificial,
    /// A greedy assignment (see [`greedy`]) in a strongly feasible tree.
    Greedy,
    /// The same greedy flow, in a tree whose potentials are the given ones
    /// (one per node, sink last), hung where it can be as the given tree
    /// was (see [`Simplex::hint_tree`]).
    Hint(&'a [i64], Option<&'a Basis>),
}

/// [`solve`] with the core size and the starting basis given.
pub(crate) fn solve_with(
    p: &Problem,
    control: &Control,
    core: usize,
    start: Start,
) -> Result<(Solution, Certificate), SolveError> {
    let t0 = std::time::Instant::now();
    let layout = Layout::new(p);
    let mut net = Simplex::build(p, &layout, core.max(1), start, None);
    let t1 = t0.elapsed();
    let pivots = net.run(control)?;
    tracing::debug!(build = ?t1, run = ?(t0.elapsed() - t1), pivots, "network simplex solved");
    control.set_progress(1.0);
    let solution = net.solution(p, &layout);
    let certificate = net.certificate(&layout);
    Ok((solution, certificate))
}

/// Blocks priced per round of a search on both cores, half on each (see
/// [`Simplex::find_entering`]); also how many blocks the last search must
/// have scanned for the next one to start on both cores.
const PAIRED_BLOCKS: usize = 8;

/// Arcs priced per block: a fifth of the square root of the priced arcs.
/// LEMON's default is the whole square root; on the batch's graphs a fifth
/// took 2.25M pivots at scale 10 against 2.15M and priced 2.7G arcs against
/// 4.6G (11 s against 24 s in all). Below a tenth the pivots multiply (5.4M
/// at 0.06), so the factor keeps a margin from that edge.
fn block_size(active: usize) -> usize {
    (((active as f64).sqrt() * 0.2) as usize).max(10)
}

/// An arc's reduced cost under `pi`, signed by its state: negative when
/// the arc would improve the flow.
#[inline]
fn reduced_cost(arc: &Arc, state: i8, pi: &[i64]) -> i64 {
    i64::from(state) * (arc.cost + pi[arc.source as usize] - pi[arc.target as usize])
}

/// The most negative reduced cost among `arcs` (the first such arc's
/// offset), or 0 when none is negative.
#[inline]
fn most_violating(arcs: &[Arc], state: &[i8], pi: &[i64]) -> (i64, usize) {
    let (mut best, mut at) = (0i64, 0);
    for (i, (arc, &st)) in arcs.iter().zip(state).enumerate() {
        let c = reduced_cost(arc, st, pi);
        if c < best {
            best = c;
            at = i;
        }
    }
    (best, at)
}

/// In the first of `arcs`' blocks (of `block` arcs each; `arcs` holds a
/// whole number of them, PAIRED_BLOCKS / 2) that has an arc of negative
/// reduced cost, the most negative one's offset.
fn first_violating(arcs: &[Arc], state: &[i8], pi: &[i64], block: usize) -> Option<usize> {
    arcs.chunks(block)
        .zip(state.chunks(block))
        .enumerate()
        .find_map(|(i, (arcs, state))| {
            let (c, at) = most_violating(arcs, state, pi);
            (c < 0).then_some(i * block + at)
        })
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
    /// Arcs the last entering-arc search priced.
    scanned_last: usize,
    /// Whether sparse searches price on both cores (tests turn it off).
    pair: bool,
    /// Rounds priced on both cores so far.
    paired_rounds: u64,
    /// The artificial arc into the sink, whose flow measures progress.
    art_sink: usize,
    /// The households' uncovered arcs (cost `big`), sorted: a [`Basis`]
    /// names them apart from the households' other arc to the sink, and
    /// the second phase's costs no longer do.
    big_arcs: Vec<u32>,
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
    /// The network and its starting basis; the greedy start takes the
    /// anchor's pairs first (`anchor`: see [`solve_keeping`]).
    fn build(
        p: &Problem,
        layout: &Layout,
        core_len: usize,
        start: Start,
        anchor: Option<&[u32]>,
    ) -> Self {
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
            scanned_last: 0,
            pair: true,
            paired_rounds: 0,
            art_sink: real + sink,
            big_arcs: Vec::with_capacity(layout.members.len()),
            supply_total: 0,
            in_arc: 0,
            join: 0,
            u_in: 0,
            v_in: 0,
            u_out: 0,
            delta: 0,
        };
        // The warm start: a greedy assignment, the slots it uses and the
        // members it places per household. Empty for the artificial start.
        let warm = start != Start::Artificial;
        let clock = std::time::Instant::now();
        let chosen = if warm {
            // From a hint, the anchor is most of the plan: placed apart,
            // it spares sorting every candidate pair.
            let apart = matches!(start, Start::Hint(..));
            greedy(p, layout, core_len, anchor, apart)
        } else {
            Vec::new()
        };
        let greedy_done = clock.elapsed();
        let mut used = vec![0u32; if warm { m } else { 0 }];
        let mut placed = vec![0u32; if warm { layout.members.len() } else { 0 }];
        for (w, &e) in chosen.iter().enumerate() {
            if e != NONE {
                used[p.edge_opening[e as usize] as usize] += 1;
                if layout.member_of[w] != NONE {
                    placed[layout.member_of[w] as usize - n - m] += 1;
                }
            }
        }
        let mut mix = Mixer {
            at: 0,
            residue: 0,
            skip: (active / nodes).max(3),
            len: active,
        };
        let mut reserve = active;
        let mut supply = vec![0i64; nodes];
        let mut arc =
            |net: &mut Simplex, from: usize, to: usize, cap: i64, cost: i64, core: bool| -> usize {
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
                a
            };
        let mut max_score = 0i64;
        let mut row: Vec<usize> = Vec::new();
        for w in 0..n {
            // The worker's best `core_len` candidates are priced first.
            core_row(p, w, core_len, &mut row);
            let assigned = warm && chosen[w] != NONE;
            // An unplaced worker hangs from its best candidate (an arc at
            // zero pointing up the tree).
            let best = (warm && !assigned)
                .then(|| {
                    row.iter()
                        .take(core_len)
                        .max_by_key(|&&e| (p.edge_score[e], std::cmp::Reverse(e)))
                        .copied()
                })
                .flatten();
            for (i, &e) in row.iter().enumerate() {
                let score = i64::from(p.edge_score[e]);
                max_score = max_score.max(score);
                let o = n + p.edge_opening[e] as usize;
                let a = arc(&mut net, w, o, 1, -score, i < core_len);
                if assigned && chosen[w] as usize == e {
                    net.flow[a] = 1;
                    // A full opening hangs from one of its workers: an arc
                    // carrying flow, pointing down the tree.
                    if used[o - n] == p.slots[o - n] && net.pred[o] == NONE {
                        net.hang(o, w, a, -1);
                    }
                } else if best == Some(e) {
                    net.hang(w, o, a, 1);
                }
            }
            if is_source(w) {
                let a = arc(&mut net, w, sink, 1, 0, true);
                supply[w] = 1;
                if assigned {
                    net.hang(w, sink, a, 1);
                } else if warm {
                    net.flow[a] = 1;
                }
            }
        }
        for (i, members) in layout.members.iter().enumerate() {
            let h = n + m + i;
            let k = members.len() as i64;
            let j = if warm { i64::from(placed[i]) } else { -1 };
            for (at, &w) in members.iter().enumerate() {
                let w = w as usize;
                let a = arc(&mut net, h, w, 1, 0, true);
                if warm && chosen[w] != NONE {
                    net.flow[a] = 1;
                    net.hang(w, h, a, -1);
                } else if j == 0 && at == 0 {
                    // Nobody placed: the household hangs from a member.
                    net.hang(h, w, a, 1);
                }
            }
            if k > 1 {
                let a = arc(&mut net, h, sink, k - 1, 0, true);
                if warm {
                    net.flow[a] = i32::try_from((k - j).min(k - 1)).expect("fits i32");
                    if j >= 2 {
                        net.hang(h, sink, a, 1);
                    }
                }
            }
            let a = arc(&mut net, h, sink, 1, layout.big, true);
            net.big_arcs.push(a as u32);
            if warm {
                net.flow[a] = i32::from(j == 0);
                if j >= 1 && (k == 1 || j == 1) {
                    net.hang(h, sink, a, 1);
                }
            }
            supply[h] = k;
        }
        for o in 0..m {
            if p.slots[o] > 0 {
                let a = arc(&mut net, n + o, sink, i64::from(p.slots[o]), 0, true);
                if warm {
                    net.flow[a] = used[o] as i32;
                    if used[o] < p.slots[o] {
                        net.hang(n + o, sink, a, 1);
                    }
                }
            }
        }
        let total: i64 = supply.iter().sum();
        supply[sink] = -total;
        net.supply_total = total;
        net.big_arcs.sort_unstable();
        let arcs_laid = clock.elapsed();
        if let Start::Hint(potentials, basis) = start {
            net.hint_tree(potentials, basis);
        }
        let hinted = clock.elapsed();
        if warm {
            net.warm_tree();
            tracing::debug!(
                greedy = ?greedy_done,
                arcs_laid = ?(arcs_laid - greedy_done),
                hinted = ?(hinted - arcs_laid),
                tree = ?(clock.elapsed() - hinted),
                "network simplex start built"
            );
        } else {
            // A simple path of the real network passes the sink at most
            // once, so it holds at most two arcs of cost +-big and its
            // other arcs cost at most max_score each.
            let art = 2 * layout.big + (nodes as i64 + 1) * (max_score + 1) + 1;
            net.init_tree(&supply, art);
        }
        net
    }

    /// Makes arc `a` the tree arc joining `u` to its parent `v`; `dir` is
    /// +1 when the arc points from `u` to `v`.
    fn hang(&mut self, u: usize, v: usize, a: usize, dir: i8) {
        self.parent[u] = v as u32;
        self.pred[u] = a as u32;
        self.pred_dir[u] = dir;
    }

    /// Re-hangs the greedy start so that its potentials are `hint`'s. A
    /// node whose arc to the sink carries flow strictly between its bounds
    /// (an opening with free slots, a household with members both placed
    /// and not) hangs by that arc; these are the only arcs that can, so
    /// every other arc is then at a bound. Where `basis` is given, every
    /// other node but the sink hangs from its parent there when it can
    /// (see [`Simplex::hang_basis`]). The rest, the sink among them, hang
    /// from the root by their artificial arcs, whose costs are set to give
    /// each its hinted potential. When the hint is the last optimum and
    /// the greedy flow the last plan, only the arcs the changes since made
    /// wrong price as entering, so the pivots are few. The artificial
    /// arcs' costs are free to choose: no flow ever passes them (see
    /// [`Simplex::warm_tree`]).
    fn hint_tree(&mut self, hint: &[i64], basis: Option<&Basis>) {
        let root = self.nodes;
        assert_eq!(hint.len(), root, "one potential per node");
        self.parent[..root].fill(NONE);
        self.pred[..root].fill(NONE);
        self.pred_dir[..root].fill(1);
        for a in 0..self.real {
            if self.flow[a] > 0 && self.flow[a] < self.cap[a] {
                let Arc { source, target, .. } = self.arcs[a];
                debug_assert_eq!(self.pred[source as usize], NONE, "one arc to the sink");
                self.hang(source as usize, target as usize, a, 1);
            }
        }
        if let Some(basis) = basis {
            self.hang_basis(basis);
        }
        for (u, &pi) in hint.iter().enumerate() {
            self.arcs[self.real + u].cost = -pi;
        }
    }

    /// Hangs each node not yet hung, but the sink, from its parent in
    /// `basis` by the arc between them, where that arc exists and keeps
    /// the tree strongly feasible with the flow as built: pointing up, it
    /// must be below its capacity; pointing down, it must carry flow.
    /// No cycle can form: parents come from `basis`, a tree, except the
    /// sink's children by the rule of [`Simplex::hint_tree`], and the sink
    /// hangs from the root. Only priced arcs hang anything: the reserve
    /// stays outside the tree (see [`Simplex::admit`]).
    fn hang_basis(&mut self, basis: &Basis) {
        debug_assert_eq!(basis.parent.len(), self.nodes);
        let sink = self.nodes - 1;
        for a in 0..self.active {
            let Arc {
                cost,
                source,
                target,
            } = self.arcs[a];
            let (s, t) = (source as usize, target as usize);
            // Only a household's uncovered arc costs more than nothing.
            let big = cost > 0;
            if basis.parent[s] == target
                && basis.by_big_arc[s] == big
                && self.pred[s] == NONE
                && s != sink
                && self.flow[a] < self.cap[a]
            {
                self.hang(s, t, a, 1);
            } else if basis.parent[t] == source
                && basis.by_big_arc[t] == big
                && self.pred[t] == NONE
                && t != sink
                && self.flow[a] > 0
            {
                self.hang(t, s, a, -1);
            }
        }
    }

    /// The tree as it stands, for the next solve to start from.
    fn basis(&self) -> Basis {
        let root = self.nodes as u32;
        let (parent, by_big_arc) = (0..self.nodes)
            .map(|u| {
                let p = self.parent[u];
                let big = self.big_arcs.binary_search(&self.pred[u]).is_ok();
                (if p == root { NONE } else { p }, big)
            })
            .unzip();
        Basis { parent, by_big_arc }
    }

    /// Completes the warm basis: the flow is feasible and every node but
    /// some has a parent. The others (the sink, full openings nobody hangs
    /// from, nodes without arcs) hang from the root by artificial arcs at
    /// zero pointing up; artificial arcs are never priced, and as they all
    /// point into the root, no cycle can carry flow through it. Every tree
    /// arc then can take more flow towards the root (an arc pointing up is
    /// below its capacity, one pointing down carries flow), which is what
    /// makes the basis strongly feasible; every other arc is at a bound.
    fn warm_tree(&mut self) {
        let root = self.nodes;
        for u in 0..root {
            let a = self.real + u;
            self.arcs[a] = Arc {
                cost: self.arcs[a].cost,
                source: u as u32,
                target: root as u32,
            };
            self.cap[a] = INF;
            if self.pred[u] == NONE {
                self.hang(u, root, a, 1);
            }
        }
        for a in 0..self.real {
            if self.flow[a] == self.cap[a] && self.cap[a] > 0 {
                self.state[a] = UPPER;
            }
        }
        for u in 0..root {
            self.state[self.pred[u] as usize] = TREE;
        }
        // Children lists, then one preorder walk from the root gives the
        // thread, the potentials (each tree arc at reduced cost 0), the
        // subtree sizes and their last nodes.
        let total = root + 1;
        let mut first = vec![0u32; total + 1];
        for u in 0..root {
            first[self.parent[u] as usize + 1] += 1;
        }
        for i in 0..total {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut children = vec![0u32; root];
        for u in 0..root {
            let v = self.parent[u] as usize;
            children[fill[v] as usize] = u as u32;
            fill[v] += 1;
        }
        let mut order: Vec<u32> = Vec::with_capacity(total);
        let mut stack = vec![root as u32];
        while let Some(u) = stack.pop() {
            order.push(u);
            let u = u as usize;
            stack.extend(
                children[first[u] as usize..first[u + 1] as usize]
                    .iter()
                    .rev(),
            );
        }
        assert_eq!(order.len(), total, "the warm basis is a spanning tree");
        for i in 0..total {
            let u = order[i] as usize;
            let next = order[(i + 1) % total];
            self.thread[u] = next;
            self.rev_thread[next as usize] = u as u32;
        }
        self.tree_potentials();
        self.succ_num.fill(1);
        for &u in order.iter().rev() {
            if u as usize != root {
                let v = self.parent[u as usize] as usize;
                self.succ_num[v] += self.succ_num[u as usize];
            }
        }
        for (i, &u) in order.iter().enumerate() {
            self.last_succ[u as usize] = order[i + self.succ_num[u as usize] as usize - 1];
        }
        self.parent[root] = NONE;
        self.pred[root] = NONE;
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

    /// Pivots until the flow is optimal; returns the pivots taken.
    fn run(&mut self, control: &Control) -> Result<u64, SolveError> {
        if control.cancelled() {
            return Err(SolveError::Cancelled);
        }
        let mut pivots = 0u64;
        loop {
            let t = std::time::Instant::now();
            let before = pivots;
            self.pivot_until_optimal(control, &mut pivots)?;
            tracing::debug!(
                pivots = pivots - before,
                elapsed = ?t.elapsed(),
                active = self.active,
                "network simplex round"
            );
            if !self.admit_reserve() {
                break;
            }
        }
        debug_assert!(
            (self.real..self.real + self.nodes).all(|a| self.flow[a] == 0),
            "flow left on an artificial arc"
        );
        Ok(pivots)
    }

    /// Prices the reserve arcs against the current potentials and moves
    /// every one with a negative reduced cost into the priced range. False
    /// when there is none: the flow is then optimal for the whole network.
    fn admit_reserve(&mut self) -> bool {
        let before = self.active;
        for a in self.active..self.real {
            if self.reduced(a) < 0 {
                self.admit(a);
            }
        }
        self.block = block_size(self.active);
        self.active > before
    }

    /// Moves reserve arc `a` into the priced range. It and the arc it
    /// swaps with are both at zero flow and outside the tree, so swapping
    /// their slots changes nothing else.
    fn admit(&mut self, a: usize) {
        let b = self.active;
        self.arcs.swap(a, b);
        self.cap.swap(a, b);
        self.flow.swap(a, b);
        self.state.swap(a, b);
        self.active += 1;
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
        reduced_cost(&self.arcs[a], self.state[a], &self.pi)
    }

    /// Block search: scan arcs from where the last search stopped, one
    /// block at a time, and take the most violating arc of the first block
    /// that has one. A block that runs past the last arc goes on from the
    /// first. Each stretch is priced over slices ([`most_violating`]), so
    /// the arc and state reads need no bounds checks.
    ///
    /// Near the optimum few arcs violate and a search scans many blocks
    /// (at scale 80, 28,500 arcs a pivot from its 10.5 millionth pivot to
    /// its 11.5 millionth, against one block of 2,077 in the first nine
    /// million). After a
    /// search that scanned [`PAIRED_BLOCKS`] blocks or more, the next one
    /// prices [`PAIRED_BLOCKS`] blocks at a time, half on each core
    /// (`rayon::join`); the first half's first violating block wins, so the
    /// pivots are exactly those of the one-core search.
    fn find_entering(&mut self) -> bool {
        let len = self.active;
        if len == 0 {
            return false;
        }
        let block = self.block;
        let mut best = 0i64;
        let mut count = block;
        let mut a = if self.next_arc < len {
            self.next_arc
        } else {
            0
        };
        let mut scanned = 0;
        let paired = self.pair && self.scanned_last >= PAIRED_BLOCKS * block;
        while scanned < len {
            // Both cores, when a whole round of blocks lies before the
            // wrap (the round then starts and ends on block boundaries).
            let round = count + (PAIRED_BLOCKS - 1) * block;
            if paired && count == block && a + round <= len && scanned + round <= len {
                let half = round / 2;
                let (arcs, state, pi) = (
                    &self.arcs[a..a + round],
                    &self.state[a..a + round],
                    &self.pi,
                );
                let (left, right) = rayon::join(
                    || first_violating(&arcs[..half], &state[..half], pi, block),
                    || first_violating(&arcs[half..], &state[half..], pi, block),
                );
                self.paired_rounds += 1;
                let found = left.or(right.map(|at| at + half));
                if let Some(at) = found {
                    let end = a + (at / block + 1) * block;
                    self.in_arc = a + at;
                    self.next_arc = if end == len { 0 } else { end };
                    self.scanned_last = scanned + end - a;
                    return true;
                }
                (a, scanned) = (a + round, scanned + round);
                if a == len {
                    a = 0;
                }
                continue;
            }
            let take = count.min(len - a).min(len - scanned);
            let (c, at) =
                most_violating(&self.arcs[a..a + take], &self.state[a..a + take], &self.pi);
            if c < best {
                best = c;
                self.in_arc = a + at;
            }
            (a, scanned, count) = (a + take, scanned + take, count - take);
            if a == len {
                a = 0;
            }
            if count == 0 {
                if best < 0 {
                    self.next_arc = a;
                    self.scanned_last = scanned;
                    return true;
                }
                count = block;
            }
        }
        self.next_arc = a;
        self.scanned_last = scanned;
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

    /// The potentials as a certificate, the sink at 0.
    fn certificate(&self, layout: &Layout) -> Certificate {
        let sink = layout.sink;
        let shift = self.pi[sink];
        Certificate {
            potentials: self.pi[..=sink].iter().map(|x| x - shift).collect(),
            big: layout.big,
        }
    }

    /// The second phase of [`solve_keeping`], from an optimal basis of the
    /// first. Returns the pivots it took. It leaves the network with the
    /// second phase's costs and the frozen arcs marked as tree arcs, so
    /// only [`Simplex::solution`] may follow (nothing is copied to restore
    /// them: at scale 80 that would be two more arrays of every arc).
    fn keep_close(
        &mut self,
        layout: &Layout,
        anchor: &[u32],
        control: &Control,
    ) -> Result<u64, SolveError> {
        let (n, m) = (layout.n, layout.m);
        let full =
            |arc: &Arc, pi: &[i64]| arc.cost + pi[arc.source as usize] - pi[arc.target as usize];
        // Reserve arcs at reduced cost 0 join the priced range: they are
        // part of the optimal face.
        for a in self.active..self.real {
            if full(&self.arcs[a], &self.pi) == 0 {
                self.admit(a);
            }
        }
        // Freeze the rest: state 0 prices as never entering, and an arc
        // outside the tree never leaves it.
        for a in 0..self.active {
            if self.state[a] != TREE && full(&self.arcs[a], &self.pi) != 0 {
                self.state[a] = TREE;
            }
        }
        for a in 0..self.real {
            let arc = &mut self.arcs[a];
            let (w, o) = (arc.source as usize, arc.target as usize);
            arc.cost = if w < n && (n..n + m).contains(&o) {
                match anchor[w] {
                    NONE => 1,
                    k if k as usize == o - n => -1,
                    _ => 0,
                }
            } else {
                0
            };
        }
        for a in self.real..self.arcs.len() {
            self.arcs[a].cost = 0;
        }
        self.tree_potentials();
        self.block = block_size(self.active);
        let mut pivots = 0;
        self.pivot_until_optimal(control, &mut pivots)?;
        Ok(pivots)
    }

    /// Potentials from the tree: the root at 0, each tree arc at reduced
    /// cost 0, walking the thread (parents come first).
    fn tree_potentials(&mut self) {
        let root = self.nodes;
        self.pi[root] = 0;
        let mut u = self.thread[root] as usize;
        while u != root {
            let v = self.parent[u] as usize;
            let cost = self.arcs[self.pred[u] as usize].cost;
            self.pi[u] = if self.pred_dir[u] == 1 {
                self.pi[v] - cost
            } else {
                self.pi[v] + cost
            };
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

/// Builds the starting basis and checks it (see [`Simplex::check_basis`]),
/// then solves and checks the final basis the same way.
#[cfg(test)]
pub(crate) fn check_bases(p: &Problem, core: usize, start: Start) -> Result<(), String> {
    let layout = Layout::new(p);
    let mut net = Simplex::build(p, &layout, core.max(1), start, None);
    net.check_basis(p, &layout, start != Start::Artificial)
        .map_err(|e| format!("start: {e}"))?;
    net.run(&Control::default()).map_err(|e| e.to_string())?;
    net.check_basis(p, &layout, true)
        .map_err(|e| format!("end: {e}"))
}

/// Solves `p` from the greedy start with sparse searches on both cores and
/// on one, and checks that both took the same pivots to the same plan.
/// Returns the rounds priced on both cores.
#[cfg(test)]
pub(crate) fn check_paired_search(p: &Problem) -> Result<u64, String> {
    let layout = Layout::new(p);
    let solve = |pair: bool| {
        let mut net = Simplex::build(p, &layout, CORE, Start::Greedy, None);
        net.pair = pair;
        let pivots = net.run(&Control::default()).map_err(|e| e.to_string())?;
        Ok::<_, String>((pivots, net.paired_rounds, net.solution(p, &layout)))
    };
    let (pivots, rounds, plan) = solve(true)?;
    let (alone, none, alone_plan) = solve(false)?;
    if none != 0 {
        return Err(format!("{none} rounds on both cores with pairing off"));
    }
    if (pivots, &plan) != (alone, &alone_plan) {
        return Err(format!(
            "{pivots} pivots on both cores against {alone} on one, or another plan"
        ));
    }
    Ok(rounds)
}

#[cfg(test)]
impl Simplex {
    /// Everything the pivots rely on: a feasible flow (on the real arcs
    /// alone when `real_flow`), a spanning tree whose arcs have reduced
    /// cost 0 and can each take more flow towards the root (strong
    /// feasibility), non-tree arcs at the bound their state says, and the
    /// thread, subtree sizes and last successors of that tree.
    fn check_basis(&self, p: &Problem, layout: &Layout, real_flow: bool) -> Result<(), String> {
        let root = self.nodes;
        let all = self.arcs.len();
        let mut net = vec![0i64; root + 1];
        for a in 0..all {
            let (f, c) = (self.flow[a], self.cap[a]);
            if f < 0 || f > c {
                return Err(format!("arc {a}: flow {f} outside 0..={c}"));
            }
            if real_flow && a >= self.real && f != 0 {
                return Err(format!("artificial arc {a} carries {f}"));
            }
            net[self.arcs[a].source as usize] += i64::from(f);
            net[self.arcs[a].target as usize] -= i64::from(f);
        }
        let (n, m) = (layout.n, layout.m);
        let mut supply = vec![0i64; root];
        for w in 0..n {
            if layout.member_of[w] == NONE && !p.row(w).is_empty() {
                supply[w] = 1;
            }
        }
        for (i, ms) in layout.members.iter().enumerate() {
            supply[n + m + i] = ms.len() as i64;
        }
        supply[layout.sink] = -supply.iter().sum::<i64>();
        for u in 0..root {
            if net[u] != supply[u] {
                return Err(format!(
                    "node {u}: net outflow {} for supply {}",
                    net[u], supply[u]
                ));
            }
        }
        let mut tree = 0;
        for a in 0..all {
            match self.state[a] {
                TREE => tree += 1,
                UPPER if self.flow[a] != self.cap[a] => {
                    return Err(format!("arc {a} marked at its upper bound"))
                }
                LOWER if self.flow[a] != 0 => return Err(format!("arc {a} marked at zero")),
                _ => {}
            }
        }
        if tree != root {
            return Err(format!(
                "{tree} tree arcs for {root} nodes besides the root"
            ));
        }
        for u in 0..root {
            let (a, v) = (self.pred[u] as usize, self.parent[u] as usize);
            let arc = self.arcs[a];
            let up = (arc.source as usize, arc.target as usize) == (u, v);
            let down = (arc.source as usize, arc.target as usize) == (v, u);
            if self.state[a] != TREE
                || !(up && self.pred_dir[u] == 1 || down && self.pred_dir[u] == -1)
            {
                return Err(format!(
                    "node {u}: pred arc {a} does not join it to its parent {v}"
                ));
            }
            if arc.cost + self.pi[arc.source as usize] - self.pi[arc.target as usize] != 0 {
                return Err(format!("tree arc {a}: reduced cost not 0"));
            }
            if (up && self.flow[a] == self.cap[a]) || (down && self.flow[a] == 0) {
                return Err(format!("tree arc {a} cannot take flow towards the root"));
            }
        }
        let mut order = Vec::with_capacity(root + 1);
        let mut pos = vec![usize::MAX; root + 1];
        let mut u = root;
        loop {
            if pos[u] != usize::MAX {
                break;
            }
            pos[u] = order.len();
            order.push(u);
            let next = self.thread[u] as usize;
            if self.rev_thread[next] as usize != u {
                return Err(format!("rev_thread of {next} is not {u}"));
            }
            u = next;
        }
        if u != root || order.len() != root + 1 {
            return Err("the thread is not one cycle through every node".into());
        }
        let mut size = vec![1u32; root + 1];
        for &u in order.iter().rev() {
            if u != root {
                let v = self.parent[u] as usize;
                if pos[v] >= pos[u] {
                    return Err(format!("node {u} comes before its parent in the thread"));
                }
                size[v] += size[u];
            }
        }
        for &u in &order {
            if self.succ_num[u] != size[u] {
                return Err(format!(
                    "node {u}: subtree size {} for {}",
                    self.succ_num[u], size[u]
                ));
            }
            if self.last_succ[u] as usize != order[pos[u] + size[u] as usize - 1] {
                return Err(format!("node {u}: wrong last successor"));
            }
            if u != root {
                let v = self.parent[u] as usize;
                if pos[u] + size[u] as usize > pos[v] + size[v] as usize {
                    return Err(format!("node {u}'s subtree leaves its parent's"));
                }
            }
        }
        Ok(())
    }
}

/// Fills `row` with worker `w`'s edges, its best `core_len` (by score)
/// first.
fn core_row(p: &Problem, w: usize, core_len: usize, row: &mut Vec<usize>) {
    row.clear();
    row.extend(p.row(w));
    if row.len() > core_len {
        row.select_nth_unstable_by_key(core_len - 1, |&e| std::cmp::Reverse(p.edge_score[e]));
    }
}

/// A feasible assignment to start from, over each worker's core
/// candidates: first, in descending score, one member for each
/// zero-employment household while slots last; then everyone else the same
/// way. The anchor's pairs, where given, go first in each pass: the last
/// plan, where it still fits, is usually most of the next optimum.
/// With `anchor_apart`, the anchor's pairs take their two passes alone,
/// and only then the workers left without one are sorted and placed: the
/// same start when the anchor fits, without sorting every candidate pair
/// (about 100M at national scale) when it covers most workers.
/// Deterministic (ties by worker, then edge). Returns each worker's edge
/// or `NONE`.
fn greedy(
    p: &Problem,
    layout: &Layout,
    core_len: usize,
    anchor: Option<&[u32]>,
    anchor_apart: bool,
) -> Vec<u32> {
    let n = layout.n;
    let mut g = Greedy {
        left: p.slots.clone(),
        chosen: vec![NONE; n],
        covered: vec![false; layout.members.len()],
    };
    let anchored = |w: usize, e: usize| anchor.is_some_and(|a| a[w] == p.edge_opening[e]);
    let mut row = Vec::new();
    if anchor_apart {
        let pairs = (0..n).filter_map(|w| {
            p.row(w)
                .find(|&e| anchored(w, e))
                .map(|e| (true, p.edge_score[e], w as u32, e as u32))
        });
        g.place(p, layout, pairs.collect());
    }
    let mut pairs: Vec<(bool, u32, u32, u32)> = Vec::new();
    for w in (0..n).filter(|&w| g.chosen[w] == NONE) {
        core_row(p, w, core_len, &mut row);
        for &e in row.iter().take(core_len) {
            pairs.push((anchored(w, e), p.edge_score[e], w as u32, e as u32));
        }
    }
    g.place(p, layout, pairs);
    tracing::debug!(
        assigned = g.chosen.iter().filter(|&&e| e != NONE).count(),
        covered = g.covered.iter().filter(|&&c| c).count(),
        "greedy start"
    );
    g.chosen
}

/// The greedy start's state: slots left, each worker's edge, households
/// covered.
struct Greedy {
    left: Vec<u32>,
    chosen: Vec<u32>,
    covered: Vec<bool>,
}

impl Greedy {
    /// Sorts `pairs` (anchored, score, worker, edge): anchored first, then
    /// by score, ties by worker and edge; and places them in two passes,
    /// one member per uncovered zero-employment household first.
    fn place(&mut self, p: &Problem, layout: &Layout, mut pairs: Vec<(bool, u32, u32, u32)>) {
        use rayon::prelude::*;
        let (n, m) = (layout.n, layout.m);
        pairs.par_sort_unstable_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.cmp(&a.1))
                .then(a.2.cmp(&b.2))
                .then(a.3.cmp(&b.3))
        });
        for households_first in [true, false] {
            for &(_, _, w, e) in &pairs {
                let w = w as usize;
                if self.chosen[w] != NONE {
                    continue;
                }
                let h = layout.member_of[w];
                if households_first && (h == NONE || self.covered[h as usize - n - m]) {
                    continue;
                }
                let o = p.edge_opening[e as usize] as usize;
                if self.left[o] == 0 {
                    continue;
                }
                self.left[o] -= 1;
                self.chosen[w] = e;
                if h != NONE {
                    self.covered[h as usize - n - m] = true;
                }
            }
        }
    }
}
