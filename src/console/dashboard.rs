//! The county head's dashboard (驾驶舱): per county, zero-employment
//! households, seekers, placed, in work, hires, 3- and 6-month retention
//! and slots by source, with bars drawn as server-side SVG.

use std::sync::Arc;

use axum::extract::{Query, State};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, bar, figure};
use super::{Act, Console, Officer, Page};
use crate::domain::access::Role;
use crate::domain::placement::day_date;
use crate::domain::{regions, Lang};
use crate::report::Row;

/// The county picked.
#[derive(Debug, Default, Deserialize)]
pub struct Pick {
    #[serde(default)]
    county: String,
}

impl Pick {
    /// The county the dashboard and its workbook show: the one picked,
    /// else a service company's first county, else every county the
    /// caller sees.
    pub fn county(&self, who: &Officer) -> Option<String> {
        match (&who.caller.role, self.county.trim()) {
            (_, c) if !c.is_empty() => Some(c.to_string()),
            (Role::ServiceCompany, _) => who.caller.scope.counties.first().cloned(),
            _ => None,
        }
    }
}

/// Days of the trend.
const TREND_DAYS: u32 = 90;

/// `GET /dashboard`: the figures kept by the write path
/// (`Service::dashboard`), not a scan, and the trend of the daily rows.
pub async fn page(
    State(console): State<Arc<Console>>,
    who: Officer,
    Query(pick): Query<Pick>,
) -> Page {
    let lang = who.lang;
    let county = pick.county(&who);
    let service = &console.service;
    let report = console
        .show(
            &who,
            Act::Dashboard,
            service.dashboard(&who.caller, county.clone()),
        )
        .await?;
    let trend = console
        .show(
            &who,
            Act::Dashboard,
            service.dashboard_trend(&who.caller, county.clone(), TREND_DAYS),
        )
        .await?;
    let t = &report.total;
    let body = html! {
        @if who.caller.role == Role::ServiceCompany && who.caller.scope.counties.len() > 1 {
            form.filters method="get" action="/dashboard" {
                label { (lang.pick("县（区）", "County"))
                    select name="county" data-autosubmit="1" {
                        @for c in &who.caller.scope.counties {
                            option value=(c) selected[Some(c) == county.as_ref()] { (regions::name(c, lang)) }
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
        h2 { (lang.pick("趋势（每日快照）", "Trend (daily rows)")) }
        (trend_chart(&trend, lang))
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
    Ok(layout::shell(
        &who,
        lang.pick("县域就业驾驶舱", "County dashboard"),
        body,
    ))
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
                        td { (regions::name(&r.county_code, lang)) " " span.muted { (r.county_code) } }
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

/// The zero-employment households and the workers in work over the days
/// kept, as an SVG line chart drawn here (no script, no chart library).
fn trend_chart(days: &[(i32, Row)], lang: Lang) -> Markup {
    if days.len() < 2 {
        return html! {
            p.muted id="trend" {
                (lang.pick(
                    "服务器每天记录一次各县数据；记录满两天后显示趋势。",
                    "The server keeps one row per county a day; the trend shows from the second day.",
                ))
            }
        };
    }
    let (w, h, pad) = (720.0, 220.0, 36.0);
    let zero: Vec<f64> = days
        .iter()
        .map(|(_, r)| r.zero_employment_households as f64)
        .collect();
    let work: Vec<f64> = days.iter().map(|(_, r)| r.workers_in_work as f64).collect();
    let top = zero.iter().chain(&work).copied().fold(1.0, f64::max);
    let first = f64::from(days[0].0);
    let span = (f64::from(days[days.len() - 1].0) - first).max(1.0);
    let points = |values: &[f64]| {
        days.iter()
            .zip(values)
            .map(|((d, _), v)| {
                let x = pad + (f64::from(*d) - first) / span * (w - 2.0 * pad);
                let y = h - pad - v / top * (h - 2.0 * pad);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let label = |d: i32| day_date(d).format("%m-%d").to_string();
    html! {
        svg.chart id="trend" viewBox=(format!("0 0 {w} {h}")) role="img" {
            title { (lang.pick("零就业家庭与在岗人数", "Zero-employment households and workers in work")) }
            polyline.line2 points=(points(&zero)) {}
            polyline.line points=(points(&work)) {}
            text x=(pad) y=(h - 8.0) { (label(days[0].0)) }
            text x=(w - pad) y=(h - 8.0) text-anchor="end" { (label(days[days.len() - 1].0)) }
            text x="4" y=(pad - 8.0) { (format!("{top:.0}")) }
            text x=(w - pad) y="16" text-anchor="end" {
                tspan.l2 { (lang.pick("— 零就业家庭", "— zero-employment households")) }
                "  "
                tspan.l1 { (lang.pick("— 在岗", "— in work")) }
            }
        }
    }
}
