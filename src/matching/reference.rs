//! The plain reference ranking: every pair, plain loops, a full sort. No
//! buckets, no pruning, no parallelism, no top-k heap; the `[policy]`
//! rules and the declines checked per pair. Tests compare the
//! index's answers with these, exactly.

use super::eligibility::MatchContext;
use super::features::{distance_km, source_bit, OpeningFeat, WorkerFeat};
use super::index::MatchIndex;
use super::rank::{OpeningsQuery, Ranking, WorkersQuery};

impl MatchIndex {
    /// Reference for [`MatchIndex::rank_openings`]: (id, micro) pairs, in
    /// the query's order (net value: score minus the opening's price, ties
    /// to the cheaper; or score).
    pub fn reference_openings(
        &self,
        worker_id: &str,
        q: &OpeningsQuery,
        ctx: &MatchContext,
    ) -> Vec<(String, u32)> {
        let Some(w) = self.worker_feat(worker_id) else {
            return Vec::new();
        };
        let mut all = Vec::new();
        for (slot, o) in self.openings.iter() {
            let d = distance_km(w.lat, w.lon, o.lat, o.lon);
            let filtered = (!q.sources.is_empty()
                && !q
                    .sources
                    .iter()
                    .any(|s| source_bit(*s) == source_bit(o.source)))
                || o.wage < q.min_wage
                || (!q.counties.is_empty() && !q.counties.contains(&o.region))
                || q.max_distance_km.is_some_and(|m| d > m);
            if filtered {
                continue;
            }
            let id = self.openings.id(slot);
            let pair = (worker_id, id, w, o, d);
            if let Some(s) = self.reference_score(pair, ctx, q.min_score_micro) {
                let (price, planned) = match q.ranking {
                    Ranking::Net if !self.prices.is_empty() => (
                        self.prices
                            .get(id, o.free_slots())
                            .map_or(0, |c| c.combined()),
                        q.planned.as_deref() == Some(id),
                    ),
                    _ => (0, false),
                };
                all.push((id.to_string(), s, price, planned));
            }
        }
        let net = |a: &(String, u32, i64, bool)| i64::from(a.1) - a.2;
        all.sort_by(|a, b| {
            net(b)
                .cmp(&net(a))
                .then(b.3.cmp(&a.3))
                .then(a.2.cmp(&b.2))
                .then_with(|| a.0.cmp(&b.0))
        });
        all.truncate(q.top_k);
        all.into_iter().map(|(id, s, _, _)| (id, s)).collect()
    }

    /// Reference for [`MatchIndex::rank_workers`].
    pub fn reference_workers(
        &self,
        opening_id: &str,
        q: &WorkersQuery,
        ctx: &MatchContext,
    ) -> Vec<(String, u32)> {
        let Some(o) = self.opening_feat(opening_id) else {
            return Vec::new();
        };
        let mut all = Vec::new();
        for (slot, w) in self.workers.iter() {
            let d = distance_km(w.lat, w.lon, o.lat, o.lon);
            if (!q.counties.is_empty() && !q.counties.contains(&w.county))
                || q.max_distance_km.is_some_and(|m| d > m)
            {
                continue;
            }
            let id = self.workers.id(slot);
            if let Some(s) = self.reference_score((id, opening_id, w, o, d), ctx, q.min_score_micro)
            {
                all.push((id.to_string(), s));
            }
        }
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(q.top_k);
        all
    }

    /// The score of one pair (worker id, opening id, their features and
    /// distance), if it is eligible, not declined and at least `min`:
    /// decided per pair, plainly, where the fast paths work the welfare
    /// rules out per worker.
    fn reference_score(
        &self,
        (worker_id, opening_id, w, o, d): (&str, &str, &WorkerFeat, &OpeningFeat, f64),
        ctx: &MatchContext,
        min: u32,
    ) -> Option<u32> {
        if self.declined(worker_id, opening_id) {
            return None;
        }
        let welfare_ok = self
            .policy
            .welfare_bars(&self.welfare_facts(w, ctx))
            .is_empty();
        self.pair_score(w, o, d, ctx, welfare_ok)
            .filter(|s| *s >= min)
    }
}
