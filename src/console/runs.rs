//! Nightly run review: the runs, a staged run's diff against the last
//! applied run per county (with the workers behind each count), and
//! applying one county, with what was refused and why.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use maud::html;
use serde::Deserialize;

use super::caseload::worker_href;
use super::layout;
use super::{Act, Console, Officer, Page, Posted, Refusal};
use crate::domain::access::Role;
use crate::domain::run::{DiffClass, DiffEntry, Run, RunStatus};
use crate::domain::{regions, Lang};
use crate::service::access::target;

/// Workers listed under one count before "and N more".
const LISTED: usize = 200;

fn status_text(run: &Run, lang: Lang) -> &'static str {
    match run.status() {
        RunStatus::Unspecified => lang.pick("未知", "unknown"),
        RunStatus::Running => lang.pick("运行中", "running"),
        RunStatus::Succeeded if run.applied_counties.is_empty() => {
            lang.pick("待审核（已暂存）", "staged, to review")
        }
        RunStatus::Succeeded => lang.pick("已完成", "succeeded"),
        RunStatus::Failed => lang.pick("失败", "failed"),
        RunStatus::Cancelled => lang.pick("已取消", "cancelled"),
    }
}

/// `GET /runs`.
pub async fn list(State(console): State<Arc<Console>>, who: Officer) -> Page {
    let lang = who.lang;
    let runs = console
        .show(
            &who,
            Act::Runs,
            console.service.list_runs(&who.caller, 0, 30),
        )
        .await?;
    let body = html! {
        table id="runs" {
            thead { tr {
                th { (lang.pick("批次", "Run")) }
                th { (lang.pick("状态", "Status")) }
                th { (lang.pick("开始", "Started")) }
                th.num { (lang.pick("分配人数", "Assigned")) }
                th { (lang.pick("已应用的县", "Applied counties")) }
            } }
            tbody {
                @for (run, _) in &runs {
                    tr data-run=(run.id) {
                        td { a href=(format!("/runs/{}", run.id)) { "#" (run.id) } }
                        td { (status_text(run, lang)) }
                        td { (layout::day(run.started_at_ms)) }
                        td.num { (run.summary.as_ref().map_or(0, |s| s.workers_assigned)) }
                        td { (run.applied_counties.join(", ")) }
                    }
                }
            }
        }
        @if runs.is_empty() {
            p.muted { (lang.pick("还没有夜间匹配批次。", "No nightly run yet.")) }
        }
    };
    Ok(layout::shell(
        &who,
        lang.pick("夜间匹配审核", "Nightly run review"),
        body,
    ))
}

/// `GET /runs/{id}`: the diff per county of the caller's counties.
pub async fn page(State(console): State<Arc<Console>>, who: Officer, Path(id): Path<u64>) -> Page {
    let lang = who.lang;
    let service = &console.service;
    let (run, _) = console
        .show(&who, Act::ViewRun, service.run(&who.caller, id))
        .await?;
    // A service company reads the diff one county of its own at a time.
    let scopes: Vec<Option<String>> = match who.caller.role {
        Role::ServiceCompany => who
            .caller
            .scope
            .counties
            .iter()
            .cloned()
            .map(Some)
            .collect(),
        _ => vec![None],
    };
    let mut entries: Vec<DiffEntry> = Vec::new();
    let mut previous = 0;
    let mut staged = true;
    for county in scopes {
        match console
            .act(
                &who,
                Act::DiffRun,
                super::untargeted,
                service.diff_run(&who.caller, id, county),
            )
            .await
        {
            Ok(diff) => {
                previous = diff.previous_run_id;
                entries.extend(diff.entries);
            }
            Err(Refusal::Service(crate::service::ServiceError::Precondition(_))) => {
                staged = false;
                break;
            }
            Err(other) => return Err(layout::refused(&who, other)),
        }
    }
    let mut by_county: BTreeMap<&str, BTreeMap<DiffClass, Vec<&DiffEntry>>> = BTreeMap::new();
    for e in &entries {
        by_county
            .entry(e.county_code.as_str())
            .or_default()
            .entry(e.class)
            .or_default()
            .push(e);
    }
    let body = html! {
        p {
            (status_text(&run, lang)) " · " (layout::day(run.started_at_ms))
            @if previous != 0 {
                " · " (lang.pick("对比上次已应用的批次 #", "against the last applied run #")) (previous)
            }
        }
        @if !staged {
            p.muted { (lang.pick("此批次不可审核（未成功完成）。", "This run cannot be reviewed (it did not succeed).")) }
        }
        @for (county, classes) in &by_county {
            div.card.county id=(format!("county-{county}")) {
                h2 { (regions::name(county, lang)) " " span.muted { (county) } }
                table.diff {
                    thead { tr {
                        @for c in DiffClass::ALL { th.num { (c.text(lang)) } }
                    } }
                    tbody { tr {
                        @for c in DiffClass::ALL {
                            td.num data-class=(c.code()) { (classes.get(&c).map_or(0, Vec::len)) }
                        }
                    } }
                }
                @for c in DiffClass::ALL {
                    @if let Some(list) = classes.get(&c) {
                        @if c != DiffClass::Same {
                            details {
                                summary { (c.text(lang)) " (" (list.len()) ")" }
                                ul {
                                    @for e in list.iter().take(LISTED) {
                                        li {
                                            a href=(worker_href(&e.worker_id)) { (e.worker_id) }
                                            @if let Some(o) = &e.previous_opening_id { " " span.muted { (o) } " →" }
                                            @if let Some(o) = &e.opening_id { " " (o) }
                                        }
                                    }
                                    @if list.len() > LISTED { li.muted { "… " (list.len() - LISTED) } }
                                }
                            }
                        }
                    }
                }
                @if staged && !run.applied_counties.iter().any(|c| c == county || c == "*") {
                    form method="post" action=(format!("/runs/{id}/apply")) data-confirm=(lang.pick("确认为该县生成推荐？", "Propose this county's assignments?")) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        input type="hidden" name="county" value=(county);
                        button type="submit" class="apply" { (lang.pick("应用本县", "Apply this county")) }
                    }
                } @else if run.applied_counties.iter().any(|c| c == county || c == "*") {
                    p.notice { (lang.pick("本县已应用。", "Applied for this county.")) }
                }
            }
        }
    };
    Ok(layout::shell(
        &who,
        &format!("{} #{id}", lang.pick("批次", "Run")),
        body,
    ))
}

/// The apply form.
#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    county: String,
}

/// `POST /runs/{id}/apply`: proposes one county's staged assignments and
/// shows what was proposed and what was refused, with why.
pub async fn apply(
    State(console): State<Arc<Console>>,
    Path(id): Path<u64>,
    Posted { who, form }: Posted<ApplyForm>,
) -> Page {
    let lang = who.lang;
    let county = (!form.county.is_empty()).then(|| form.county.clone());
    let county_label = county.clone();
    let applied = console
        .act(
            &who,
            Act::ApplyRun,
            |_| target::run_applied(id, county_label.as_deref()),
            console.service.apply_run(
                &who.caller,
                id,
                county,
                format!("console:{}", who.caller.token_id),
                lang,
            ),
        )
        .await
        .map_err(|refusal| layout::refused(&who, refusal))?;
    let body = html! {
        p.notice id="applied" {
            (match lang {
                Lang::Zh => format!("{} 县：已生成 {} 条推荐，{} 条被拒绝。", form.county, applied.proposed, applied.refused.len()),
                Lang::En => format!("County {}: {} proposed, {} refused.", form.county, applied.proposed, applied.refused.len()),
            })
        }
        @if !applied.refused.is_empty() {
            table id="refused" {
                thead { tr {
                    th { (lang.pick("劳动力", "Worker")) }
                    th { (lang.pick("岗位", "Opening")) }
                    th { (lang.pick("原因", "Why")) }
                } }
                tbody {
                    @for r in applied.refused.iter().take(1000) {
                        tr {
                            td { a href=(worker_href(&r.worker_id)) { (r.worker_id) } }
                            td { (r.opening_id) }
                            td.text { (r.reason.text(lang)) }
                        }
                    }
                }
            }
        }
        p { a href=(format!("/runs/{id}")) { (lang.pick("返回批次", "Back to the run")) } }
    };
    Ok(layout::shell(
        &who,
        &format!("{} #{id}", lang.pick("应用批次", "Applied run")),
        body,
    ))
}
