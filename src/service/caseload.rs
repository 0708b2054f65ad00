//! The caseload: a county's workers in the order a case officer works
//! them (households with nobody in work first, then seekers by how long
//! they have waited), filtered and paged. The order is read from the match
//! index (`matching::caseload`), the page's records from the store.

use std::sync::Arc;

use super::{scope, Result, Service};
use crate::domain::access::{Caller, Role};
use crate::domain::{EmploymentStatus, Source, Worker};
use crate::matching::{case_order, region_number, Case, CaseFilter};
use crate::store::WorkerFilter;

/// What a caseload asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseloadQuery {
    /// The county; `None` for the caller's first county.
    pub county: Option<String>,
    /// Only this resettlement site.
    pub site_id: Option<String>,
    /// Only this employment status.
    pub status: Option<EmploymentStatus>,
    /// Only workers who prefer this source.
    pub source: Option<Source>,
    /// A worker's id (number or whole), or part of a name or phone.
    pub search: Option<String>,
    /// Rows to skip.
    pub offset: usize,
    /// Rows to answer (at most 200).
    pub limit: usize,
}

/// One page of a caseload.
#[derive(Debug, Clone)]
pub struct Caseload {
    /// The county shown.
    pub county: String,
    /// The counties the caller may choose from.
    pub counties: Vec<String>,
    /// The page: each case with its worker's record.
    pub rows: Vec<(Case, Worker)>,
    /// How many the filters select in all.
    pub total: usize,
}

/// Most rows a search by name or phone reads from the store before it
/// stops (a county has about 300,000 workers at scale 80).
const SEARCH_SCAN: usize = 400_000;

impl Service {
    /// A page of the caseload of `query.county` (one of the caller's).
    pub async fn caseload(
        self: &Arc<Self>,
        caller: &Caller,
        query: CaseloadQuery,
    ) -> Result<Caseload> {
        let counties = match caller.role {
            Role::ServiceCompany => caller.scope.counties.clone(),
            _ => {
                let s = self.clone();
                s.blocking(|s| Ok(s.store().worker_counties())).await?
            }
        };
        let county = match &query.county {
            Some(c) => c.clone(),
            None => counties.first().cloned().unwrap_or_default(),
        };
        scope::county_filter(caller, Some(&county), "county_code")?;
        let limit = query.limit.clamp(1, 200);
        let filter = CaseFilter {
            county: region_number(&county),
            site_id: query.site_id.clone(),
            status: query.status,
            source: query.source,
        };
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let (caller, county2) = (caller.clone(), county.clone());
        let search = search.map(str::to_string);
        let (rows, total) = self
            .blocking(move |s| {
                let index = s.matcher().read();
                let Some(search) = search else {
                    let (cases, total) = index.caseload(&filter, query.offset, limit);
                    drop(index);
                    let mut rows = Vec::with_capacity(cases.len());
                    for case in cases {
                        // A worker deleted since the index was read is left out.
                        if let Some(w) = s.store().worker(&case.id)? {
                            rows.push((case, w));
                        }
                    }
                    return Ok((rows, total));
                };
                // An id: the worker, if in scope and in this county.
                if let Ok(w) = s.find_worker_now(&caller, &search) {
                    if w.county_code == county2 {
                        let case = case_of(&index, &w);
                        return Ok((vec![(case, w)], 1));
                    }
                }
                drop(index);
                let found = s.search_county(&county2, &filter, &search, query.offset + limit)?;
                let index = s.matcher().read();
                let total = found.len();
                let mut rows: Vec<(Case, Worker)> = found
                    .into_iter()
                    .map(|w| (case_of(&index, &w), w))
                    .collect();
                rows.sort_by(|a, b| case_order(&a.0).cmp(&case_order(&b.0)));
                let rows = rows.into_iter().skip(query.offset).take(limit).collect();
                Ok((rows, total))
            })
            .await?;
        Ok(Caseload {
            county,
            counties,
            rows,
            total,
        })
    }

    /// Workers of `county` whose name or phone contains `text`, up to
    /// `want` of them. Blocking: reads the county's workers from the store.
    fn search_county(
        &self,
        county: &str,
        filter: &CaseFilter,
        text: &str,
        want: usize,
    ) -> Result<Vec<Worker>> {
        let store_filter = WorkerFilter {
            county_code: Some(county.to_string()),
            site_id: filter.site_id.clone(),
            employment_status: filter.status,
            ..WorkerFilter::default()
        };
        let mut found = Vec::new();
        let (mut after, mut read) = (None::<String>, 0usize);
        loop {
            let page = self
                .store()
                .list_workers(&store_filter, after.as_deref(), 4096)?;
            read += page.items.len();
            for w in page.items {
                let hit =
                    w.name.contains(text) || w.phone.as_deref().is_some_and(|p| p.contains(text));
                let source_ok = filter
                    .source
                    .is_none_or(|s| w.preferences.preferred_sources.contains(&s));
                if hit && source_ok {
                    found.push(w);
                }
            }
            match page.next_after {
                Some(next) if found.len() < want.max(1000) && read < SEARCH_SCAN => {
                    after = Some(next)
                }
                _ => break,
            }
        }
        Ok(found)
    }
}

/// The case of a worker as the index sees it (the record's own status if
/// the index has not caught up).
fn case_of(index: &crate::matching::MatchIndex, w: &Worker) -> Case {
    index.case(&w.id).unwrap_or(Case {
        id: w.id.clone(),
        zero_household: false,
        status: w.employment_status,
        waiting_since_s: w.created_at_ms / 1000,
    })
}
