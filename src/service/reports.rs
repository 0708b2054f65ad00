//! The coverage report, for the counties the caller covers.

use std::sync::Arc;

use super::{scope, Result, Service};
use crate::domain::access::Caller;
use crate::report::{self, Coverage, CoverageFilter};

impl Service {
    /// Coverage per county and in total; a service company must name one
    /// of its counties.
    pub async fn coverage(
        self: &Arc<Self>,
        caller: &Caller,
        filter: CoverageFilter,
    ) -> Result<Coverage> {
        scope::county_filter(caller, filter.county_code.as_deref(), "county_code")?;
        self.blocking(move |s| Ok(report::coverage(s.store(), &filter)?))
            .await
    }
}
