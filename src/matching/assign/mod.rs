//! Batch assignment: each worker at most one opening, each opening at most
//! its free slots. Two policies:
//!
//! * exact: first the most zero-employment households with a member
//!   placed, then the highest total score (integer micro-points), as a
//!   min-cost flow on the household-first [`network`]. Solved by the
//!   network [`simplex`] (production); [`ssp`] (successive shortest paths)
//!   and [`cost_scaling`] solve it independently as cross-checks in tests.
//!   The final potentials are an optimality certificate that
//!   [`network::Certificate::verify`] checks.
//! * [`stable`]: worker-proposing deferred acceptance with capacities; the
//!   worker-optimal stable matching.
//!
//! Pure and synchronous; the caller builds the [`Problem`] (see
//! `MatchIndex::batch_problem`).

pub mod cost_scaling;
mod flow;
pub mod market;
pub mod network;
pub mod prices;
pub mod simplex;
pub mod ssp;
pub mod stable;

#[cfg(test)]
mod market_tests;
#[cfg(test)]
mod prices_tests;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};

/// An assignment problem over the eligible pairs, in compressed rows.
///
/// Workers and openings are dense indices; rows list each worker's
/// candidate openings with their scores. Ties are broken by index, so give
/// workers and openings in id order for id-ordered tie-breaking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Problem {
    /// Row starts: worker `w`'s edges are `edge_start[w]..edge_start[w + 1]`.
    pub edge_start: Vec<u32>,
    /// Opening index of each edge.
    pub edge_opening: Vec<u32>,
    /// Score of each edge in micro-points (score x 10^6).
    pub edge_score: Vec<u32>,
    /// Free slots per opening.
    pub slots: Vec<u32>,
    /// Household index per worker.
    pub household: Vec<u32>,
    /// Per household: nobody in work (zero-employment).
    pub zero_household: Vec<bool>,
}

impl Problem {
    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.edge_start.len().saturating_sub(1)
    }

    /// Number of openings.
    pub fn openings(&self) -> usize {
        self.slots.len()
    }

    /// Number of eligible pairs.
    pub fn edges(&self) -> usize {
        self.edge_opening.len()
    }

    /// Edge indices of worker `w`.
    #[inline]
    pub fn row(&self, w: usize) -> std::ops::Range<usize> {
        self.edge_start[w] as usize..self.edge_start[w + 1] as usize
    }

    /// Builds a problem from per-worker candidate lists.
    pub fn from_rows(
        rows: Vec<Vec<(u32, u32)>>,
        slots: Vec<u32>,
        household: Vec<u32>,
        zero_household: Vec<bool>,
    ) -> Self {
        let mut p = Problem {
            slots,
            household,
            zero_household,
            ..Default::default()
        };
        p.edge_start.push(0);
        for row in rows {
            for (o, s) in row {
                p.edge_opening.push(o);
                p.edge_score.push(s);
            }
            p.edge_start.push(p.edge_opening.len() as u32);
        }
        p
    }
}

/// The value of an assignment, compared lexicographically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Objective {
    /// Zero-employment households with at least one member assigned.
    pub households_covered: u64,
    /// Sum of assigned edges' scores, micro-points.
    pub total_score: u64,
}

/// An assignment: the chosen edge of each worker, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// Per worker: index of the assigned edge.
    pub edge: Vec<Option<u32>>,
}

/// Why a solver stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    /// The caller asked to stop.
    #[error("cancelled")]
    Cancelled,
}

impl Solution {
    /// Opening of worker `w`, if assigned.
    pub fn opening(&self, p: &Problem, w: usize) -> Option<u32> {
        self.edge[w].map(|e| p.edge_opening[e as usize])
    }

    /// Checks feasibility: edges belong to their workers, no opening over
    /// its slots. Returns the objective.
    pub fn check(&self, p: &Problem) -> Result<Objective, String> {
        if self.edge.len() != p.workers() {
            return Err("one entry per worker expected".into());
        }
        let mut used = vec![0u32; p.openings()];
        let mut covered = vec![false; p.zero_household.len()];
        let mut total = 0u64;
        for (w, e) in self.edge.iter().enumerate() {
            let Some(e) = *e else { continue };
            if !p.row(w).contains(&(e as usize)) {
                return Err(format!("worker {w} assigned an edge of another worker"));
            }
            let o = p.edge_opening[e as usize] as usize;
            used[o] += 1;
            if used[o] > p.slots[o] {
                return Err(format!("opening {o} over its {} slots", p.slots[o]));
            }
            total += u64::from(p.edge_score[e as usize]);
            let h = p.household[w] as usize;
            if p.zero_household[h] {
                covered[h] = true;
            }
        }
        Ok(Objective {
            households_covered: covered.iter().filter(|c| **c).count() as u64,
            total_score: total,
        })
    }
}

/// Progress and cancellation shared with a running solver.
#[derive(Debug, Default)]
pub struct Control {
    cancel: AtomicBool,
    /// Progress in parts per million.
    progress: std::sync::atomic::AtomicU32,
}

impl Control {
    /// Asks the solver to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Reports progress in [0, 1].
    pub fn set_progress(&self, fraction: f64) {
        self.progress
            .store((fraction.clamp(0.0, 1.0) * 1e6) as u32, Ordering::Relaxed);
    }

    /// Progress in [0, 1].
    pub fn progress(&self) -> f64 {
        f64::from(self.progress.load(Ordering::Relaxed)) / 1e6
    }
}
