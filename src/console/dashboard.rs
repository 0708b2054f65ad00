//! The county head's dashboard (驾驶舱): per county, zero-employment
//! households, seekers, placed, in work, hires, 3- and 6-month retention
//! and slots by source, with bars drawn as server-side SVG.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, bar};
use super::{Act, Console, Officer};
use crate::domain::access::Role;
use crate::domain::placement::china_today;
use crate::domain::Lang;
use crate::report::{CoverageFilter, Row};

/// The county picked.
#[derive(Debug, Default, Deserialize)]
pub struct Pick {
    #[serde(default)]
    county: String,
}

/// `GET /dashboard`.
pub async fn page(
    State(console): State<Arc<Console>>,
    who: Officer,
    Query(pick): Query<Pick>,
) -> Response {
    let lang = who.lang;
    let county = match (&who.caller.role, pick.county.trim()) {
        (_, c) if !c.is_empty() => Some(c.to_string()),
        (Role::ServiceCompany, _) => who.caller.scope.counties.first().cloned(),
        _ => None,
    };
    let today = china_today();
    let filter = CoverageFilter {
        county_code: county.clone(),
        site_id: None,
        source: None,
        from_day: None,
        to_day: today,
        today,
        now_ms: chrono::Utc::now().timestamp_millis(),
    };
    let report = match console
        .act(
            &who,
            Act::Dashboard,
            super::untargeted,
            console.service.coverage(&who.caller, filter),
        )
        .await
    {
        Ok(r) => r,
        Err(refusal) => return layout::refused(&who, refusal),
    };
    let t = &report.total;
    let body = html! {
        @if who.caller.role == Role::ServiceCompany && who.caller.scope.counties.len() > 1 {
            form.filters method="get" action="/dashboard" {
                label { (lang.pick("县（区）", "County"))
                    select name="county" data-autosubmit="1" {
                        @for c in &who.caller.scope.counties {
                            option value=(c) selected[Some(c) == county.as_ref()] { (c) }
                        }
                    }
                }
                button type="submit" { (lang.pick("查看", "Show")) }
            }
        }
        p.download {
            a id="coverage-xlsx" href=(format!("/dashboard/coverage.xlsx?county={}", county.as_deref().unwrap_or(""))) {
                (lang.pick("下载报表（xlsx）", "Download the workbook (xlsx)"))
            }
        }
        div.cards id="figures" {
            (figure("zero-households", lang.pick("零就业家庭", "Zero-employment households"), t.zero_employment_households, Some(t.households_with_labour)))
            (figure("seeking", lang.pick("求职中", "Seeking work"), t.workers_seeking, Some(t.workers_want_work)))
            (figure("placed", lang.pick("已录用待上岗", "Placed, not started"), t.workers_placed, None))
            (figure("in-work", lang.pick("在岗", "In work"), t.workers_in_work, Some(t.workers_want_work)))
            (figure("hires", lang.pick("上岗人数", "Hires"), t.hires, None))
            (share_figure("retention-3m", lang.pick("3个月留存", "3-month retention"), t.retention_3m_retained, t.retention_3m_due))
            (share_figure("retention-6m", lang.pick("6个月留存", "6-month retention"), t.retention_6m_retained, t.retention_6m_due))
        }
        h2 { (lang.pick("分县", "By county")) }
        (county_table(&report.counties, lang))
        h2 { (lang.pick("分来源岗位", "Slots by source")) }
        table id="slots" {
            thead { tr {
                th { (lang.pick("来源", "Source")) }
                th.num { (lang.pick("在招岗位", "Open openings")) }
                th.num { (lang.pick("空余名额", "Free slots")) }
                th.num { (lang.pick("已占名额", "Filled slots")) }
                th {}
            } }
            tbody {
                @for s in &report.slots {
                    tr {
                        td { (s.source.text(lang)) }
                        td.num { (s.openings_open) }
                        td.num { (s.slots_open) }
                        td.num { (s.slots_filled) }
                        td { (bar(s.slots_filled, s.slots_filled + s.slots_open)) }
                    }
                }
            }
        }
    };
    layout::shell(&who, lang.pick("县域就业驾驶舱", "County dashboard"), body)
}

fn figure(id: &str, label: &str, value: u64, of: Option<u64>) -> Markup {
    html! {
        div.figure id=(id) {
            div.value { (value) }
            div.label { (label) @if let Some(of) = of { " / " (of) } }
            @if let Some(of) = of { (bar(value, of)) }
        }
    }
}

fn share_figure(id: &str, label: &str, part: u64, whole: u64) -> Markup {
    let share = if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    };
    html! {
        div.figure id=(id) {
            div.value { (format!("{share:.0}%")) }
            div.label { (label) " · " (part) " / " (whole) }
            (bar(part, whole))
        }
    }
}

fn county_table(rows: &[Row], lang: Lang) -> Markup {
    html! {
        table id="counties" {
            thead { tr {
                th { (lang.pick("县（区）", "County")) }
                th.num { (lang.pick("零就业家庭", "Zero-employment households")) }
                th.num { (lang.pick("求职中", "Seeking")) }
                th.num { (lang.pick("待上岗", "Placed")) }
                th.num { (lang.pick("在岗", "In work")) }
                th.num { (lang.pick("上岗", "Hires")) }
                th.num { (lang.pick("3个月留存", "3-month retention")) }
                th.num { (lang.pick("6个月留存", "6-month retention")) }
            } }
            tbody {
                @for r in rows {
                    tr data-county=(r.county_code) {
                        td { (r.county_code) }
                        td.num.zero { (r.zero_employment_households) }
                        td.num { (r.workers_seeking) }
                        td.num { (r.workers_placed) }
                        td.num { (r.workers_in_work) }
                        td.num { (r.hires) }
                        td.num { (format!("{:.0}%", r.retention_3m_share() * 100.0)) }
                        td.num { (format!("{:.0}%", r.retention_6m_share() * 100.0)) }
                    }
                }
            }
        }
    }
}
