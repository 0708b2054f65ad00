//! Handlers of `ReportService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{caller, need_county_filter};
use super::convert::{source_filter, source_to_pb};
use super::{blocking, pb, status};
use crate::domain::placement::day_date;
use crate::report::{self, Coverage, CoverageFilter, Row};
use crate::store::Store;

/// The `jobbridge.v1.ReportService` service.
#[derive(Clone)]
pub struct ReportService {
    store: Arc<Store>,
}

impl ReportService {
    /// A service over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }
}

/// The filter of a coverage request; errors name the field.
pub(crate) fn coverage_filter(r: &pb::CoverageRequest) -> Result<CoverageFilter, Status> {
    let source = source_filter(r.source, "source").map_err(status::from_validation)?;
    CoverageFilter::parse(&r.county_code, &r.site_id, source, &r.from_date, &r.to_date)
        .map_err(status::from_validation)
}

fn row_to_pb(r: Row) -> pb::CoverageRow {
    pb::CoverageRow {
        retention_3m_share: r.retention_3m_share(),
        retention_6m_share: r.retention_6m_share(),
        county_code: r.county_code,
        workers_registered: r.workers_registered,
        workers_want_work: r.workers_want_work,
        workers_seeking: r.workers_seeking,
        workers_placed: r.workers_placed,
        workers_in_work: r.workers_in_work,
        workers_in_work_placed: r.workers_in_work_placed,
        households_with_labour: r.households_with_labour,
        zero_employment_households: r.zero_employment_households,
        proposals: r.proposals,
        accepted: r.accepted,
        declined: r.declined,
        hires: r.hires,
        separations: r.separations,
        retention_3m_due: r.retention_3m_due,
        retention_3m_retained: r.retention_3m_retained,
        retention_6m_due: r.retention_6m_due,
        retention_6m_retained: r.retention_6m_retained,
        returnees: r.returnees,
        returnees_reproposed: r.returnees_reproposed,
        returnees_waiting: r.returnees_waiting,
        returnee_wait_median_days: r.returnee_wait_median_days,
        returnee_wait_mean_days: r.returnee_wait_mean_days,
        returnee_waiting_max_days: r.returnee_waiting_max_days,
        seeking_under_three_recommendations: r.seeking_under_three_recommendations,
    }
}

/// A report on the wire.
pub(crate) fn coverage_to_pb(c: Coverage, f: &CoverageFilter) -> pb::CoverageReport {
    let date = |d: i32| day_date(d).format("%Y-%m-%d").to_string();
    pb::CoverageReport {
        from_date: f.from_day.map(date).unwrap_or_default(),
        to_date: date(f.to_day),
        as_of_date: date(f.today),
        total: Some(row_to_pb(c.total)),
        counties: c.counties.into_iter().map(row_to_pb).collect(),
        slots: c
            .slots
            .into_iter()
            .map(|s| pb::SlotsRow {
                source: source_to_pb(s.source).into(),
                openings_open: s.openings_open,
                slots_open: s.slots_open,
                slots_filled: s.slots_filled,
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl pb::report_service_server::ReportService for ReportService {
    #[instrument(skip_all)]
    async fn coverage(
        &self,
        request: Request<pb::CoverageRequest>,
    ) -> Result<Response<pb::CoverageReport>, Status> {
        let caller = caller(&request)?;
        let filter = coverage_filter(request.get_ref())?;
        need_county_filter(&caller, filter.county_code.as_deref(), "county_code")?;
        let store = self.store.clone();
        let report = blocking(move || {
            let c = report::coverage(&store, &filter)?;
            Ok(coverage_to_pb(c, &filter))
        })
        .await?;
        Ok(Response::new(report))
    }
}
