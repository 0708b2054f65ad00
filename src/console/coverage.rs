//! `GET /dashboard/coverage.xlsx`: the dashboard's figures as the workbook
//! `jobbridge report --xlsx` writes (`report::book`), for the county the
//! dashboard shows; admitted and audited as `ReportService/Coverage`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::dashboard::Pick;

use super::{Act, Console, Officer, Page};
use crate::domain::placement::china_today;
use crate::report::book::{workbook, Period};
use crate::report::CoverageFilter;
use crate::service::ServiceError;

/// The xlsx media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `GET /dashboard/coverage.xlsx?county=`.
pub async fn download(
    State(console): State<Arc<Console>>,
    who: Officer,
    Query(pick): Query<Pick>,
) -> Page {
    let county = pick.county(&who);
    let today = china_today();
    let filter = CoverageFilter::up_to(county.clone(), today);
    let period = Period::of(&filter);
    let day = period.as_of_date.clone();
    let lang = who.lang;
    let work = async {
        let report = console.service.coverage(&who.caller, filter).await?;
        tokio::task::spawn_blocking(move || workbook(&report, &period, lang))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(|e| ServiceError::Internal(e.to_string()))
    };
    let bytes = console.show(&who, Act::Dashboard, work).await?;
    let name = format!(
        "coverage-{}-{}.xlsx",
        county.as_deref().unwrap_or("all"),
        day
    );
    Ok(attachment(bytes, XLSX, &name))
}

/// A file to save: its bytes, media type and name (an ASCII fallback and
/// the UTF-8 name, RFC 6266, so a Chinese ledger's name survives).
pub fn attachment(bytes: Vec<u8>, kind: &'static str, name: &str) -> Response {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let ascii: String = name
        .chars()
        .map(|c| if safe(c) { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for c in name.chars() {
        if safe(c) {
            encoded.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
    }
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response()
}
