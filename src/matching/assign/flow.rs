//! Min-cost flow by cost scaling (Goldberg and Tarjan's push-relabel with
//! epsilon-scaling), for networks where every unit of supply can reach the
//! one sink. Integer costs; exact.
//!
//! Costs are multiplied by `nodes + 1`, so that once the flow is 1-optimal
//! in scaled units it is optimal in the original ones. Each phase divides
//! epsilon by [`ALPHA`] and restores epsilon-optimality by pushing excess
//! along admissible arcs (negative reduced cost) and relabelling nodes that
//! have none. After the last phase, [`Network::exact_potentials`] turns the
//! prices into exact dual values: the optimality certificate.

use std::collections::VecDeque;

use super::{Control, SolveError};

/// Epsilon shrinks by this factor per phase (LEMON's and CS2's choice).
const ALPHA: i64 = 16;

/// A flow network in compressed adjacency form; arc `a ^ 1` is the reverse
/// of arc `a`.
#[derive(Debug, Default)]
pub(crate) struct Network {
    nodes: usize,
    tail: Vec<u32>,
    head: Vec<u32>,
    /// Residual capacity.
    pub cap: Vec<i64>,
    /// Original cost.
    pub cost: Vec<i64>,
    supply: Vec<i64>,
    // Built by `finish`.
    first: Vec<u32>,
    adj: Vec<u32>,
}

impl Network {
    /// A network of `nodes` nodes with no arcs.
    pub fn new(nodes: usize) -> Self {
        Self {
            nodes,
            supply: vec![0; nodes],
            ..Default::default()
        }
    }

    /// Adds an arc and its reverse; returns the forward arc's index.
    pub fn arc(&mut self, from: usize, to: usize, cap: i64, cost: i64) -> usize {
        let a = self.head.len();
        self.tail.extend([from as u32, to as u32]);
        self.head.extend([to as u32, from as u32]);
        self.cap.extend([cap, 0]);
        self.cost.extend([cost, -cost]);
        a
    }

    /// Sets a node's supply (negative for demand).
    pub fn set_supply(&mut self, node: usize, supply: i64) {
        self.supply[node] = supply;
    }

    /// Flow on forward arc `a`.
    pub fn flow(&self, a: usize) -> i64 {
        self.cap[a ^ 1]
    }

    fn finish(&mut self) {
        let mut count = vec![0u32; self.nodes + 1];
        for &t in &self.tail {
            count[t as usize + 1] += 1;
        }
        for i in 0..self.nodes {
            count[i + 1] += count[i];
        }
        self.first = count.clone();
        let mut next = count;
        self.adj = vec![0; self.tail.len()];
        for (a, &t) in self.tail.iter().enumerate() {
            self.adj[next[t as usize] as usize] = a as u32;
            next[t as usize] += 1;
        }
    }

    /// Solves; returns the final prices (in scaled units, see module docs).
    pub fn solve(
        &mut self,
        control: &Control,
        progress: (f64, f64),
    ) -> Result<Vec<i64>, SolveError> {
        self.finish();
        let scale = self.nodes as i64 + 1;
        let scaled: Vec<i64> = self.cost.iter().map(|c| c * scale).collect();
        let mut price = vec![0i64; self.nodes];
        let mut excess = self.supply.clone();
        let max_cost = scaled.iter().map(|c| c.abs()).max().unwrap_or(0).max(1);
        let mut eps = max_cost;
        let phases = (max_cost as f64).log(ALPHA as f64).ceil().max(1.0);
        let mut phase = 0.0;
        let mut current = vec![0u32; self.nodes];
        let mut queue = VecDeque::new();
        loop {
            eps = (eps / ALPHA).max(1);
            self.refine(
                eps,
                &scaled,
                &mut price,
                &mut excess,
                &mut current,
                &mut queue,
                control,
            )?;
            phase += 1.0;
            control
                .set_progress(progress.0 + (progress.1 - progress.0) * (phase / phases).min(1.0));
            if eps == 1 {
                return Ok(price);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn refine(
        &mut self,
        eps: i64,
        scaled: &[i64],
        price: &mut [i64],
        excess: &mut [i64],
        current: &mut [u32],
        queue: &mut VecDeque<u32>,
        control: &Control,
    ) -> Result<(), SolveError> {
        // Saturate every arc with negative reduced cost: the flow becomes
        // 0-optimal, at the price of excesses and deficits.
        for a in 0..self.head.len() {
            if self.cap[a] > 0 {
                let (u, v) = (self.tail[a] as usize, self.head[a] as usize);
                if scaled[a] + price[u] - price[v] < 0 {
                    let d = self.cap[a];
                    self.cap[a] = 0;
                    self.cap[a ^ 1] += d;
                    excess[u] -= d;
                    excess[v] += d;
                }
            }
        }
        queue.clear();
        for u in 0..self.nodes {
            current[u] = self.first[u];
            if excess[u] > 0 {
                queue.push_back(u as u32);
            }
        }
        let mut steps = 0u64;
        while let Some(u) = queue.pop_front() {
            steps += 1;
            if steps.is_multiple_of(65_536) && control.cancelled() {
                return Err(SolveError::Cancelled);
            }
            let u = u as usize;
            let end = self.first[u + 1];
            while excess[u] > 0 {
                let mut i = current[u];
                while i < end {
                    let a = self.adj[i as usize] as usize;
                    if self.cap[a] > 0 {
                        let v = self.head[a] as usize;
                        if scaled[a] + price[u] - price[v] < 0 {
                            let d = excess[u].min(self.cap[a]);
                            self.cap[a] -= d;
                            self.cap[a ^ 1] += d;
                            excess[u] -= d;
                            let was = excess[v];
                            excess[v] += d;
                            if was <= 0 && excess[v] > 0 {
                                queue.push_back(v as u32);
                            }
                            if excess[u] == 0 {
                                break;
                            }
                        }
                    }
                    i += 1;
                }
                current[u] = i;
                if excess[u] > 0 {
                    // Relabel: the cheapest residual arc becomes -eps.
                    let mut best = i64::MIN;
                    for j in self.first[u]..end {
                        let a = self.adj[j as usize] as usize;
                        if self.cap[a] > 0 {
                            best = best.max(price[self.head[a] as usize] - scaled[a]);
                        }
                    }
                    debug_assert!(best > i64::MIN, "active node without residual arcs");
                    price[u] = best - eps;
                    current[u] = self.first[u];
                }
            }
        }
        Ok(())
    }

    /// Exact dual values for the final flow, in original cost units: every
    /// residual arc gets a non-negative reduced cost. Starts from the scaled
    /// prices (almost right) and corrects them by label-correcting shortest
    /// paths, which terminates because an optimal flow has no negative
    /// cycle.
    pub fn exact_potentials(&self, price: &[i64]) -> Vec<i64> {
        let scale = self.nodes as i64 + 1;
        let mut p: Vec<i64> = price.iter().map(|x| x.div_euclid(scale)).collect();
        let mut queued = vec![true; self.nodes];
        let mut queue: VecDeque<u32> = (0..self.nodes as u32).collect();
        while let Some(u) = queue.pop_front() {
            let u = u as usize;
            queued[u] = false;
            for j in self.first[u]..self.first[u + 1] {
                let a = self.adj[j as usize] as usize;
                if self.cap[a] > 0 {
                    let v = self.head[a] as usize;
                    // Need cost + p(u) - p(v) >= 0.
                    if p[v] > p[u] + self.cost[a] {
                        p[v] = p[u] + self.cost[a];
                        if !queued[v] {
                            queued[v] = true;
                            queue.push_back(v as u32);
                        }
                    }
                }
            }
        }
        p
    }
}
