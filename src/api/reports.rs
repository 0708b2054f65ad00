//! Handlers of `ReportService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::caller;
use super::convert::{coverage_to_pb, source_filter};
use super::{pb, status};
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
    let source = source_filter(r.source, "source").map_err(status::from_validation)?;
    CoverageFilter::parse(&r.county_code, &r.site_id, source, &r.from_date, &r.to_date)
        .map_err(status::from_validation)
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
        let coverage = self
            .service
            .coverage(&caller, filter.clone())
            .await
            .map_err(status::from_service)?;
        Ok(Response::new(coverage_to_pb(coverage, &filter)))
    }
}
