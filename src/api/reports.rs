//! Handlers of `ReportService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::unpack;
use super::convert::{county_of, coverage_to_pb, policy_to_pb, source_filter};
use super::page_token::capped;
use super::pb;
use crate::report::CoverageFilter;
use crate::service::Service;

/// The `jobbridge.v1.ReportService` service.
#[derive(Clone)]
pub struct ReportService {
    service: Arc<Service>,
}

impl ReportService {
    /// Handlers over `service`.
    pub fn new(service: Arc<Service>) -> Self {
        Self { service }
    }
}

/// The filter of a coverage request; errors name the field.
pub(crate) fn coverage_filter(r: &pb::CoverageRequest) -> Result<CoverageFilter, Status> {
    let source = source_filter(r.source, "source")?;
    Ok(CoverageFilter::parse(
        &r.county_code,
        &r.site_id,
        source,
        &r.from_date,
        &r.to_date,
    )?)
}

#[tonic::async_trait]
impl pb::report_service_server::ReportService for ReportService {
    #[instrument(skip_all)]
    async fn coverage(
        &self,
        request: Request<pb::CoverageRequest>,
    ) -> Result<Response<pb::CoverageReport>, Status> {
        let (caller, r) = unpack(request)?;
        let filter = coverage_filter(&r)?;
        let coverage = self.service.coverage(&caller, filter.clone()).await?;
        Ok(Response::new(coverage_to_pb(coverage, &filter)))
    }

    #[instrument(skip_all)]
    async fn policy_lists(
        &self,
        request: Request<pb::PolicyRequest>,
    ) -> Result<Response<pb::PolicyReport>, Status> {
        let (caller, r) = unpack(request)?;
        let lang = super::lang::current();
        let county = county_of(&r.county_code)?;
        let max_rows = capped(r.max_rows, 1000, 10_000);
        let lists = self.service.policy_lists(&caller, county, lang).await?;
        Ok(Response::new(policy_to_pb(lists, max_rows, lang)))
    }
}
