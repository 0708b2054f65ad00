//! The caseload page: the officer's county, households with nobody in work
//! first, then seekers by how long they have waited.

use std::sync::Arc;

use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

use super::layout;
use super::{Act, Console, Officer, Page};
use crate::domain::{regions, scoped};
use crate::domain::{EmploymentStatus, Source};
use crate::service::CaseloadQuery;

/// Rows per page.
const PAGE: usize = 50;

/// The filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    county: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
}

/// `GET /caseload`.
pub async fn page(
    State(console): State<Arc<Console>>,
    who: Officer,
    Query(f): Query<Filters>,
) -> Page {
    let lang = who.lang;
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let query = CaseloadQuery {
        county: nonempty(&f.county),
        site_id: nonempty(&f.site),
        status: EmploymentStatus::from_label(&f.status),
        source: Source::from_label(&f.source),
        search: nonempty(&f.q),
        offset: f.page * PAGE,
        limit: PAGE,
    };
    let caseload = console
        .show(
            &who,
            Act::Caseload,
            console.service.caseload(&who.caller, query),
        )
        .await?;
    let today_s = chrono::Utc::now().timestamp();
    let pages = caseload.total.div_ceil(PAGE);
    let link = |page: usize| {
        let q = serde_urlencoded::to_string([
            ("county", caseload.county.as_str()),
            ("site", f.site.as_str()),
            ("status", f.status.as_str()),
            ("source", f.source.as_str()),
            ("q", f.q.as_str()),
            ("page", &page.to_string()),
        ])
        .unwrap_or_default();
        format!("/caseload?{q}")
    };
    let body = html! {
        form.filters method="get" action="/caseload" id="caseload-filters" {
            label { (lang.pick("县（区）", "County"))
                select name="county" {
                    @for c in &caseload.counties {
                        option value=(c) selected[*c == caseload.county] { (regions::name(c, lang)) }
                    }
                }
            }
            label { (lang.pick("安置点", "Site"))
                input name="site" value=(f.site) size="14";
            }
            label { (lang.pick("就业状态", "Status"))
                select name="status" {
                    option value="" { (lang.pick("全部", "all")) }
                    @for s in EmploymentStatus::ALL {
                        option value=(s.label()) selected[s.label() == f.status] { (s.text(lang)) }
                    }
                }
            }
            label { (lang.pick("意向来源", "Preferred source"))
                select name="source" {
                    option value="" { (lang.pick("全部", "all")) }
                    @for s in Source::ALL {
                        option value=(s.label()) selected[s.label() == f.source] { (s.text(lang)) }
                    }
                }
            }
            label { (lang.pick("姓名、编号或手机号", "Name, id or phone"))
                input name="q" id="search" value=(f.q) size="18";
            }
            button type="submit" { (lang.pick("筛选", "Filter")) }
        }
        p.muted id="caseload-total" {
            (match lang {
                crate::domain::Lang::Zh => format!("共 {} 人 · 零就业家庭优先，其次按等待时间", caseload.total),
                crate::domain::Lang::En => format!("{} workers · zero-employment households first, then by waiting time", caseload.total),
            })
        }
        table id="caseload" {
            thead { tr {
                th { (lang.pick("姓名", "Name")) }
                th { (lang.pick("编号", "Id")) }
                th { (lang.pick("家庭", "Household")) }
                th { (lang.pick("就业状态", "Status")) }
                th { (lang.pick("安置点", "Site")) }
                th.num { (lang.pick("等待天数", "Days waiting")) }
                th { (lang.pick("手机", "Phone")) }
            } }
            tbody {
                @for (case, w) in &caseload.rows {
                    tr data-worker=(w.id) {
                        td { a href=(worker_href(&w.id)) { (w.name) } }
                        td { (w.id) }
                        td {
                            (scoped::number(&w.household_id))
                            @if case.zero_household {
                                " " span.flag.zero { (lang.pick("零就业家庭", "zero-employment")) }
                            }
                        }
                        td { (w.employment_status.text(lang)) }
                        td { (w.site_id) }
                        td.num { ((today_s - case.waiting_since_s).max(0) / 86_400) }
                        td { (w.phone.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        div.pager {
            @if f.page > 0 {
                a href=(link(f.page - 1)) id="prev" { (lang.pick("上一页", "Previous")) }
            }
            span.muted { (f.page + 1) " / " (pages.max(1)) }
            @if f.page + 1 < pages {
                a href=(link(f.page + 1)) id="next" { (lang.pick("下一页", "Next")) }
            }
        }
    };
    Ok(layout::shell(&who, lang.pick("个案管理", "Caseload"), body))
}

/// The console path of worker `id` (`431202/w-0000001` ->
/// `/workers/431202/w-0000001`).
pub fn worker_href(id: &str) -> String {
    format!("/workers/{id}")
}
