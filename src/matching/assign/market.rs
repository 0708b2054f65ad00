//! A market simulation: what recommendations place if people act on them.
//!
//! Each worker applies to the top `k` openings of a [`Ranking`]; openings
//! hire applicants up to their free slots; rounds go on until nothing
//! changes. Comparing plain and capacity-aware rankings with the batch
//! optimum (the upper bound) measures how much of the optimum a ranking
//! alone can reach.
//!
//! The rounds are opening-proposing deferred acceptance restricted to the
//! lists. An opening ranks its applicants by score, higher first, then by
//! worker index, lower first, and offers its free slots to the best of
//! them who have not turned it down. A worker holding several offers keeps
//! the best by their own ranking and turns the rest down for good; the
//! slots they free go to the opening's next applicants in the next round.
//! Nobody applies beyond their top `k`.
//!
//! It ends: an opening walks its applicants in order and never goes back,
//! so each application is offered at most once, and a round that offers
//! nothing is the last. There are at most as many rounds as applications.
//! A worker's held offer only gets better, so turning an opening down for
//! good loses them nothing, and an opening never holds more than its slots.

use std::cmp::Reverse;

use super::prices::Duals;
use super::{Problem, Solution};

const NONE: u32 = u32::MAX;

/// How a worker's recommendations are ordered.
#[derive(Debug, Clone, Copy)]
pub enum Ranking<'a> {
    /// By score, descending; ties by opening index. What the live
    /// recommendations do today.
    Plain,
    /// By net value, score minus the opening's price in combined units
    /// ([`Duals::combined`]), descending. Ties go to the lower price, then
    /// the lower opening index.
    ///
    /// Why the lower price: with minimal prices, a worker the plan moves
    /// away from a contested opening is left exactly indifferent between
    /// it and the opening the plan gives them (the price is the score they
    /// give up), and the plan's opening is the cheaper of the two. Breaking
    /// the tie by index alone would send every such worker whose contested
    /// opening has the lower index back into the contest.
    ///
    /// It is a rule of thumb, not a guarantee: a worker the plan seats at a
    /// priced opening may tie with a cheaper one, and openings at the same
    /// price (often zero: full, but one more slot would add nothing) tie by
    /// index. `benches/market.rs` counts both on the demo data.
    Net(&'a Duals),
    /// By net value as [`Ranking::Net`], but a tie goes first to the
    /// opening the plan (the last run) gave the worker, then to the lower
    /// price, then the lower index. The server keeps the last run, so it
    /// can rank this way; with `k = 1` every worker the plan assigns is
    /// pointed at their planned opening (the prices' net-ranking property),
    /// so the market hires at least everyone the plan does.
    NetTiesToPlan(&'a Duals, &'a Solution),
}

impl Ranking<'_> {
    /// Worker `w`'s edges, best first.
    pub fn order(&self, p: &Problem, w: usize) -> Vec<u32> {
        let mut edges: Vec<u32> = p.row(w).map(|e| e as u32).collect();
        match self {
            Ranking::Plain => edges.sort_by_key(|&e| {
                let e = e as usize;
                (Reverse(p.edge_score[e]), p.edge_opening[e], e)
            }),
            Ranking::Net(duals) => edges.sort_by_key(|&e| {
                let e = e as usize;
                let o = p.edge_opening[e] as usize;
                let price = duals.combined(o);
                (Reverse(i64::from(p.edge_score[e]) - price), price, o, e)
            }),
            Ranking::NetTiesToPlan(duals, plan) => edges.sort_by_key(|&e| {
                let away = plan.edge[w] != Some(e);
                let e = e as usize;
                let o = p.edge_opening[e] as usize;
                let price = duals.combined(o);
                (
                    Reverse(i64::from(p.edge_score[e]) - price),
                    away,
                    price,
                    o,
                    e,
                )
            }),
        }
        edges
    }
}

/// What a simulated market placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Workers hired.
    pub hires: u64,
    /// Zero-employment households with at least one member hired.
    pub households_covered: u64,
    /// Applications sent: every worker's list, in full.
    pub applications: u64,
    /// Applications over the free slots of all openings.
    pub applications_per_slot: f64,
    /// The most applications any one opening received.
    pub most_applications_on_one_opening: u32,
    /// Rounds in which some opening made an offer.
    pub rounds: u32,
    /// Who was hired where: each worker's edge, if hired.
    pub hired: Solution,
}

/// Every worker's top `k` edges under `ranking`, in compressed rows:
/// worker `w`'s list is `edges[start[w]..start[w + 1]]`, best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lists {
    /// Row starts, one per worker plus one.
    pub start: Vec<u32>,
    /// Edge indices, each worker's best first.
    pub edges: Vec<u32>,
}

impl Lists {
    /// Builds the lists.
    pub fn new(p: &Problem, ranking: Ranking<'_>, k: usize) -> Self {
        let mut lists = Lists {
            start: Vec::with_capacity(p.workers() + 1),
            edges: Vec::new(),
        };
        lists.start.push(0);
        for w in 0..p.workers() {
            let mut order = ranking.order(p, w);
            order.truncate(k);
            lists.edges.extend(order);
            lists.start.push(lists.edges.len() as u32);
        }
        lists
    }

    /// Worker `w`'s list, best first.
    pub fn of(&self, w: usize) -> &[u32] {
        &self.edges[self.start[w] as usize..self.start[w + 1] as usize]
    }
}

/// Runs the market on `p`: every worker applies to their top `k` under
/// `ranking`, rounds until nothing changes.
pub fn simulate(p: &Problem, ranking: Ranking<'_>, k: usize) -> Outcome {
    let lists = Lists::new(p, ranking, k);
    let (n, m) = (p.workers(), p.openings());
    // An application is a position in `lists.edges`; within a worker's
    // list a lower position is a better one.
    let apps = lists.edges.len();
    let mut app_worker = vec![0u32; apps];
    for w in 0..n {
        for a in lists.start[w]..lists.start[w + 1] {
            app_worker[a as usize] = w as u32;
        }
    }
    let opening_of = |a: usize| p.edge_opening[lists.edges[a] as usize] as usize;
    // Each opening's applications in its order: score, then worker index.
    let mut pool_start = vec![0u32; m + 1];
    for a in 0..apps {
        pool_start[opening_of(a) + 1] += 1;
    }
    let most = pool_start.iter().copied().max().unwrap_or(0);
    for o in 0..m {
        pool_start[o + 1] += pool_start[o];
    }
    let mut fill = pool_start.clone();
    let mut pool = vec![0u32; apps];
    for a in 0..apps {
        let o = opening_of(a);
        pool[fill[o] as usize] = a as u32;
        fill[o] += 1;
    }
    for o in 0..m {
        pool[pool_start[o] as usize..pool_start[o + 1] as usize].sort_by_key(|&a| {
            let a = a as usize;
            (
                Reverse(p.edge_score[lists.edges[a] as usize]),
                app_worker[a],
            )
        });
    }

    let mut next = pool_start[..m].to_vec();
    let mut held = vec![0u32; m];
    let mut holding = vec![NONE; n];
    let mut rounds = 0u32;
    // Openings with a free slot and applicants left to offer it to.
    let mut open: Vec<usize> = (0..m).collect();
    let mut queued = vec![true; m];
    let mut offers: Vec<u32> = Vec::new();
    loop {
        offers.clear();
        for o in open.drain(..) {
            queued[o] = false;
            while held[o] < p.slots[o] && next[o] < pool_start[o + 1] {
                offers.push(pool[next[o] as usize]);
                next[o] += 1;
                held[o] += 1;
            }
        }
        if offers.is_empty() {
            break;
        }
        rounds += 1;
        // Each worker keeps the best of what they hold and are offered; the
        // order of offers within a round does not matter.
        for &a in &offers {
            let w = app_worker[a as usize] as usize;
            let released = match holding[w] {
                NONE => {
                    holding[w] = a;
                    continue;
                }
                h if a < h => {
                    holding[w] = a;
                    h
                }
                _ => a,
            };
            let o = opening_of(released as usize);
            held[o] -= 1;
            if !queued[o] {
                queued[o] = true;
                open.push(o);
            }
        }
    }

    let hired = Solution {
        edge: holding
            .iter()
            .map(|&a| (a != NONE).then(|| lists.edges[a as usize]))
            .collect(),
    };
    let mut covered = vec![false; p.zero_household.len()];
    let mut hires = 0u64;
    for w in (0..n).filter(|&w| holding[w] != NONE) {
        hires += 1;
        let h = p.household[w] as usize;
        covered[h] |= p.zero_household[h];
    }
    let slots: u64 = p.slots.iter().map(|&s| u64::from(s)).sum();
    Outcome {
        hires,
        households_covered: covered.iter().filter(|&&c| c).count() as u64,
        applications: apps as u64,
        applications_per_slot: apps as f64 / slots.max(1) as f64,
        most_applications_on_one_opening: most,
        rounds,
        hired,
    }
}
