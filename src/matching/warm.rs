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
//! its pivots starting from these potentials (see
//! `assign::simplex::solve_keeping_from`), so that a few changes cost a
//! few pivots. A what-if hands its changed problem the baseline's
//! potentials the same way.

use super::assign::network::{Certificate, Layout};

use super::batch_input::BatchInput;

/// Potentials of the last optimum, by id.
#[derive(Debug, Default)]
pub struct LastOptimum {
    /// Sorted, as in a [`BatchInput`].
    worker_ids: Vec<String>,
    worker_potential: Vec<i64>,
    opening_ids: Vec<String>,
    opening_potential: Vec<i64>,
    /// Zero-employment households with a node, sorted by id.
    households: Vec<(String, i64)>,
    big: i64,
}

impl LastOptimum {
    /// Keeps `certificate`'s potentials (sink at 0) by the ids of
    /// `input`.
    pub fn new(input: &BatchInput, certificate: &Certificate) -> Self {
        let p = &input.problem;
        let layout = Layout::new(p);
        let (n, m) = (layout.n, layout.m);
        let pot = &certificate.potentials;
        let mut households: Vec<(String, i64)> = layout
            .members
            .iter()
            .enumerate()
            .map(|(i, members)| {
                let h = p.household[members[0] as usize] as usize;
                (input.household_ids[h].clone(), pot[n + m + i])
            })
            .collect();
        households.sort_unstable();
        Self {
            worker_ids: input.worker_ids.clone(),
            worker_potential: pot[..n].to_vec(),
            opening_ids: input.opening_ids.clone(),
            opening_potential: pot[n..n + m].to_vec(),
            households,
            big: certificate.big,
        }
    }

    /// A certificate for `input`'s problem made of the kept potentials; a
    /// node without one (a worker, opening or household new since) gets
    /// the sink's, 0. When the household tier is weighed differently now
    /// (another `big`: a worker's best score moved), each potential keeps
    /// its score part and its count of `big`s (see [`reweigh`]). Whether it
    /// proves anything is for [`Certificate::verify`] to say; either way it
    /// is where the next solve's pivots start.
    pub fn certificate_for(&self, input: &BatchInput) -> Certificate {
        let p = &input.problem;
        let layout = Layout::new(p);
        let (from, to) = (self.big, layout.big);
        let find = |ids: &[String], values: &[i64], id: &str| {
            ids.binary_search_by(|x| x.as_str().cmp(id))
                .map_or(0, |i| reweigh(values[i], from, to))
        };
        let mut potentials = Vec::with_capacity(layout.sink + 1);
        for id in &input.worker_ids {
            potentials.push(find(&self.worker_ids, &self.worker_potential, id));
        }
        for id in &input.opening_ids {
            potentials.push(find(&self.opening_ids, &self.opening_potential, id));
        }
        for members in &layout.members {
            let id = &input.household_ids[p.household[members[0] as usize] as usize];
            let i = self
                .households
                .binary_search_by(|(h, _)| h.as_str().cmp(id));
            potentials.push(i.map_or(0, |i| reweigh(self.households[i].1, from, to)));
        }
        potentials.push(0);
        Certificate {
            potentials,
            big: to,
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
    use super::reweigh;

    #[test]
    fn reweighing_keeps_the_count_of_bigs_and_the_points() {
        assert_eq!(reweigh(3 * 1000 + 17, 1000, 1200), 3 * 1200 + 17);
        assert_eq!(reweigh(-2 * 1000 - 17, 1000, 900), -2 * 900 - 17);
        assert_eq!(reweigh(-2 * 1000 + 17, 1000, 900), -2 * 900 + 17);
        assert_eq!(reweigh(42, 1000, 5), 42);
        assert_eq!(reweigh(42, 1000, 1000), 42);
    }
}
