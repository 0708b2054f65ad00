//! A county's caseload, read from the index: households with nobody in
//! work first, then seekers by how long they have waited. The index holds
//! every worker with the fields the order needs and is kept by the write
//! path, so the order costs one pass over memory instead of a scan of the
//! store (a county has about 300,000 workers at scale 80).

use rayon::prelude::*;

use super::features::source_bit;
use super::index::MatchIndex;
use crate::domain::{EmploymentStatus, Source};

/// What a caseload selects; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// Numeric county code ([`super::region_number`]).
    pub county: u32,
    /// Resettlement site id.
    pub site_id: Option<String>,
    /// Employment status.
    pub status: Option<EmploymentStatus>,
    /// Workers who prefer this source.
    pub source: Option<Source>,
}

/// One worker of a caseload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The worker's whole id.
    pub id: String,
    /// The worker's household has labour and nobody in work.
    pub zero_household: bool,
    /// Employment status.
    pub status: EmploymentStatus,
    /// Waiting since, Unix seconds.
    pub waiting_since_s: i64,
}

/// The order of a caseload: zero-employment households first, seekers
/// before the rest, the longest wait first, then by id.
pub fn order_key(c: &Case) -> (bool, u8, i64, &str) {
    let status = match c.status {
        EmploymentStatus::Seeking => 0,
        EmploymentStatus::Placed => 1,
        EmploymentStatus::Employed => 2,
        EmploymentStatus::Unavailable => 3,
    };
    (!c.zero_household, status, c.waiting_since_s, &c.id)
}

impl MatchIndex {
    /// The case of worker `id`, if indexed.
    pub fn case(&self, id: &str) -> Option<Case> {
        let slot = self.workers.slot(id)?;
        let w = self.workers.get(slot)?;
        Some(Case {
            id: id.to_string(),
            zero_household: self.zero_household(w),
            status: w.status,
            waiting_since_s: w.waiting_since_s,
        })
    }

    /// The workers `filter` selects, in caseload order: the `limit` from
    /// `offset`, and how many it selects in all.
    pub fn caseload(&self, filter: &CaseFilter, offset: usize, limit: usize) -> (Vec<Case>, usize) {
        let site = match &filter.site_id {
            Some(s) => match self.sites.find(s) {
                Some(n) => Some(n),
                None => return (Vec::new(), 0),
            },
            None => None,
        };
        let bit = filter.source.map(source_bit);
        let mut cases: Vec<Case> = self
            .workers
            .iter()
            .collect::<Vec<_>>()
            .into_par_iter()
            .filter(|(_, w)| {
                w.county == filter.county
                    && site.is_none_or(|s| w.site == s)
                    && filter.status.is_none_or(|s| w.status == s)
                    && bit.is_none_or(|b| w.preferred_sources & b != 0)
            })
            .map(|(slot, w)| Case {
                id: self.workers.id(slot).to_string(),
                zero_household: self.zero_household(w),
                status: w.status,
                waiting_since_s: w.waiting_since_s,
            })
            .collect();
        let total = cases.len();
        let end = offset.saturating_add(limit).min(total);
        if offset >= end {
            return (Vec::new(), total);
        }
        // Only the page needs ordering: select, then sort the front.
        cases.select_nth_unstable_by(end - 1, |a, b| order_key(a).cmp(&order_key(b)));
        cases.truncate(end);
        cases.par_sort_unstable_by(|a, b| order_key(a).cmp(&order_key(b)));
        (cases.split_off(offset), total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::MatchConfig;
    use proptest::prelude::*;

    fn worker(
        i: usize,
        household: usize,
        county: &str,
        status: EmploymentStatus,
        created_s: i64,
    ) -> crate::domain::Worker {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(i as u64);
        let mut w = crate::matching::tests::random_worker(&mut rng, i);
        w.id = format!("{county}/w-{i:05}");
        w.household_id = format!("{county}/hh-{household}");
        w.county_code = county.to_string();
        w.site_id = format!("site-{}", i % 3);
        w.employment_status = status;
        w.created_at_ms = created_s * 1000;
        w
    }

    proptest! {
        /// Any page of the caseload equals the same page of a plain sort
        /// of every worker of the county, recounted from the records.
        #[test]
        fn a_page_is_the_page_of_a_full_sort(
            people in proptest::collection::vec((0usize..12, 0usize..2, 0u8..4, 0i64..50, any::<bool>()), 1..80),
            offset in 0usize..40,
            limit in 1usize..30,
            by_site in any::<bool>(),
        ) {
            let mut index = MatchIndex::new(MatchConfig::default());
            let counties = ["431202", "431224"];
            let statuses = [EmploymentStatus::Seeking, EmploymentStatus::Placed, EmploymentStatus::Employed, EmploymentStatus::Unavailable];
            let mut all = Vec::new();
            for (i, (h, c, s, t, returned)) in people.iter().enumerate() {
                let mut w = worker(i, *h, counties[*c], statuses[*s as usize], *t);
                if *returned {
                    w.placement.returned_at_ms = Some((t + 7) * 1000);
                }
                index.upsert_worker(&w);
                all.push(w);
            }
            let filter = CaseFilter {
                county: 431202,
                site_id: by_site.then(|| "site-1".to_string()),
                ..CaseFilter::default()
            };
            let (page, total) = index.caseload(&filter, offset, limit);
            // The reference: every worker of the county, the household
            // counted from the records, sorted in full.
            let zero = |hh: &str| {
                let members: Vec<_> = all.iter().filter(|w| w.household_id == hh).collect();
                members.iter().any(|w| matches!(w.employment_status, EmploymentStatus::Seeking | EmploymentStatus::Placed))
                    && !members.iter().any(|w| w.employment_status == EmploymentStatus::Employed)
            };
            let mut expected: Vec<Case> = all
                .iter()
                .filter(|w| w.county_code == "431202" && (!by_site || w.site_id == "site-1"))
                .map(|w| Case {
                    id: w.id.clone(),
                    zero_household: zero(&w.household_id),
                    status: w.employment_status,
                    waiting_since_s: w.placement.returned_at_ms.unwrap_or(w.created_at_ms).max(w.created_at_ms) / 1000,
                })
                .collect();
            expected.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
            prop_assert_eq!(total, expected.len());
            let want: Vec<Case> = expected.into_iter().skip(offset).take(limit).collect();
            prop_assert_eq!(page, want);
        }
    }
}
