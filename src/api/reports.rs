//! Handlers of `ReportService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::caller;
use super::batch::request_lang;
use super::convert::{coverage_to_pb, policy_to_pb, source_filter};
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

    #[instrument(skip_all)]
    async fn policy_lists(
        &self,
        request: Request<pb::PolicyRequest>,
    ) -> Result<Response<pb::PolicyReport>, Status> {
        let caller = caller(&request)?;
        let lang = request_lang(&request);
        let r = request.into_inner();
        let county = match r.county_code.as_str() {
            "" => None,
            c => {
                crate::domain::rules::check_county_code(c).map_err(|e| {
                    status::from_validation(crate::domain::ValidationError::new("county_code", e))
                })?;
                Some(c.to_string())
            }
        };
        let max_rows = match r.max_rows {
            0 => 1000,
            n => n.min(10_000) as usize,
        };
        let lists = self
            .service
            .policy_lists(&caller, county, lang)
            .await
            .map_err(status::from_service)?;
        Ok(Response::new(policy_to_pb(lists, max_rows, lang)))
    }
}
