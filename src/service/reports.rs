//! The coverage report, for the counties the caller covers.

use std::sync::Arc;

use super::{scope, Result, Service};
use crate::domain::access::Caller;
use crate::domain::Lang;
use crate::report::policy::{policy_lists, PolicyLists};
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

    /// The policy lists by the server's `[policy]` rules, for one county
    /// or all; a service company must name one of its counties.
    pub async fn policy_lists(
        self: &Arc<Self>,
        caller: &Caller,
        county_code: Option<String>,
        lang: Lang,
    ) -> Result<PolicyLists> {
        scope::county_filter(caller, county_code.as_deref(), "county_code")?;
        self.blocking(move |s| {
            let now = chrono::Utc::now().timestamp_millis();
            Ok(policy_lists(
                s.store(),
                s.policy(),
                county_code.as_deref(),
                now,
                lang,
            )?)
        })
        .await
    }
}
