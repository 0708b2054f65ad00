//! Cost scaling (push-relabel) on the same network ([`super::network`]):
//! a second independent exact method for the tests' cross-checks. On
//! this project's instances it is slower than the network simplex.

use super::network::{Certificate, Layout};
use super::{flow, Control, Problem, Solution, SolveError};

const NONE: u32 = u32::MAX;

/// Solves exactly by cost scaling (push-relabel).
pub fn solve(p: &Problem, control: &Control) -> Result<(Solution, Certificate), SolveError> {
    let layout = Layout::new(p);
    let (n, m, sink) = (layout.n, layout.m, layout.sink);
    let mut net = flow::Network::new(sink + 1);
    let mut edge_arc = vec![0u32; p.edges()];
    let mut supply_total = 0i64;
    for w in 0..n {
        for e in p.row(w) {
            let o = n + p.edge_opening[e] as usize;
            edge_arc[e] = net.arc(w, o, 1, -i64::from(p.edge_score[e])) as u32;
        }
        if layout.member_of[w] == NONE && !p.row(w).is_empty() {
            net.arc(w, sink, 1, 0);
            net.set_supply(w, 1);
            supply_total += 1;
        }
    }
    for (i, members) in layout.members.iter().enumerate() {
        let h = n + m + i;
        for &w in members {
            net.arc(h, w as usize, 1, 0);
        }
        let k = members.len() as i64;
        if k > 1 {
            net.arc(h, sink, k - 1, 0);
        }
        net.arc(h, sink, 1, layout.big);
        net.set_supply(h, k);
        supply_total += k;
    }
    for o in 0..m {
        if p.slots[o] > 0 {
            net.arc(n + o, sink, i64::from(p.slots[o]), 0);
        }
    }
    net.set_supply(sink, -supply_total);
    let price = net.solve(control, (0.0, 0.95))?;
    let solution = Solution {
        edge: (0..n)
            .map(|w| {
                p.row(w)
                    .find(|&e| net.flow(edge_arc[e] as usize) > 0)
                    .map(|e| e as u32)
            })
            .collect(),
    };
    let certificate = Certificate {
        potentials: net.exact_potentials(&price),
        big: layout.big,
    };
    control.set_progress(1.0);
    Ok((solution, certificate))
}
