//! Openings: the list the caller may see, and one opening's card with its
//! slots and the ranked candidates (masked as the caller's role requires);
//! propose from here.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::caseload::worker_href;
use super::layout::{self, bar, points};
use super::worker::propose_pair;
use super::{Act, Console, Officer, Page, Posted};
use crate::domain::access::Role;
use crate::domain::OpeningStatus;
use crate::matching::WorkersQuery;
use crate::service::access::target;

/// Candidates shown.
const TOP: usize = 20;
/// Openings per page of the list.
const PAGE: usize = 50;

/// The list's paging.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    after: String,
}

/// `GET /openings`.
pub async fn list(
    State(console): State<Arc<Console>>,
    who: Officer,
    Query(q): Query<ListQuery>,
) -> Page {
    let lang = who.lang;
    let filter = crate::service::Service::opening_filter_for(&who.caller, Default::default());
    let after = (!q.after.is_empty()).then(|| q.after.clone());
    let page_of = console
        .show(
            &who,
            Act::Openings,
            console
                .service
                .list_openings(&who.caller, filter, after, PAGE),
        )
        .await?;
    let body = html! {
        table id="openings" {
            thead { tr {
                th { (lang.pick("岗位", "Opening")) }
                th { (lang.pick("用工单位", "Employer")) }
                th { (lang.pick("来源", "Source")) }
                th { (lang.pick("地区", "Region")) }
                th.num { (lang.pick("月薪", "Wage")) }
                th.num { (lang.pick("名额（已占）", "Slots (taken)")) }
                th { (lang.pick("状态", "Status")) }
            } }
            tbody {
                @for o in &page_of.items {
                    tr data-opening=(o.id) {
                        td { a href=(format!("/openings/{}", o.id)) { (o.title) } br; span.muted { (o.id) } }
                        td { (o.employer_name) }
                        td { (o.source.text(lang)) }
                        td { (o.region_code) }
                        td.num { (o.monthly_wage) }
                        td.num { (o.headcount) " (" (o.filled) ")" }
                        td { (o.status.text(lang)) }
                    }
                }
            }
        }
        @if let Some(next) = &page_of.next_after {
            p.pager { a id="next" href=(format!("/openings?after={}", urlencode(next))) { (lang.pick("下一页", "Next")) } }
        }
    };
    Ok(layout::shell(&who, lang.pick("岗位", "Openings"), body))
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .to_string()
}

/// `GET /openings/{id}`.
pub async fn page(
    State(console): State<Arc<Console>>,
    who: Officer,
    Path(id): Path<String>,
    Query(done): Query<super::worker::Done>,
) -> Page {
    let lang = who.lang;
    let opening = console
        .show(
            &who,
            Act::ViewOpening,
            console.service.opening(&who.caller, &id),
        )
        .await?;
    let query = WorkersQuery {
        top_k: TOP,
        ..WorkersQuery::default()
    };
    let candidates = console
        .act(
            &who,
            Act::Candidates,
            |_| target::opening(&id),
            console.service.match_workers(&who.caller, &id, query, lang),
        )
        .await
        .map_err(|refusal| layout::refused(&who, refusal))?;
    let filled = opening.filled;
    let may_propose = layout::may(who.caller.role, Act::Propose);
    let body = html! {
        @if done.is_proposed() {
            p.notice id="notice" { (lang.pick("已推荐。", "Proposed.")) }
        }
        div.card id="opening" {
            p { strong { (opening.employer_name) } " · " (opening.source.text(lang)) " · " (opening.region_code) }
            p {
                (lang.pick("名额", "Slots")) " " span id="slots" { (opening.headcount) }
                " · " (lang.pick("已占", "taken")) " " span id="filled" { (filled) }
                " " (bar(u64::from(filled), u64::from(opening.headcount)))
            }
            p { (lang.pick("月薪", "Wage")) " " (opening.monthly_wage) " · " (opening.status.text(lang)) }
            @if layout::may(who.caller.role, Act::WhatIf) {
                p { a id="whatif-like" href=(format!("/whatif?like={}", opening.id)) {
                    (lang.pick("假设推演：再开这样的岗位，能多覆盖几户？", "What-if: how many more households with more openings like this?"))
                } }
            }
        }
        h2 { (lang.pick("候选人排名", "Ranked candidates")) }
        table id="candidates" {
            thead { tr {
                th { (lang.pick("姓名", "Name")) }
                th { (lang.pick("手机", "Phone")) }
                th { (lang.pick("县", "County")) }
                th.num { (lang.pick("距离", "Distance")) }
                th.num { (lang.pick("得分", "Score")) }
                th { (lang.pick("理由", "Reasons")) }
                @if may_propose { th {} }
            } }
            tbody {
                @for c in &candidates {
                    // A company opens and proposes only its own counties'
                    // workers; others are ranked here but refused there.
                    @let ours = !c.masked && who.caller.covers_county(&c.county_code);
                    tr data-worker=(if c.masked { "" } else { c.ranked.id.as_str() }) {
                        td.name {
                            @if !ours || who.caller.role == Role::Recruiter {
                                (c.name)
                            } @else {
                                a href=(worker_href(&c.ranked.id)) { (c.name) }
                            }
                            @if c.ranked.zero_household { " " span.flag.zero { (lang.pick("零就业家庭", "zero-employment")) } }
                        }
                        td { (c.phone) }
                        td { (c.county_code) }
                        td.num { (format!("{:.1} km", c.ranked.distance_km)) }
                        td.num { (points(c.ranked.score_micro)) }
                        td.text { (c.ranked.components.iter().map(|x| x.reason.as_str()).filter(|r| !r.is_empty()).collect::<Vec<_>>().join("；")) }
                        @if may_propose {
                            td {
                                @if ours {
                                    form method="post" action=(format!("/openings/{}/propose", opening.id)) {
                                        input type="hidden" name="csrf" value=(who.csrf);
                                        input type="hidden" name="worker_id" value=(c.ranked.id);
                                        button type="submit" class="propose" { (lang.pick("推荐", "Propose")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if candidates.is_empty() && opening.status == OpeningStatus::Open {
            p.muted { (lang.pick("暂无符合条件的求职者。", "No eligible worker now.")) }
        }
    };
    Ok(layout::shell(&who, &opening.title, body))
}

/// The propose form of the opening page.
#[derive(Debug, Deserialize)]
pub struct ProposeWorker {
    #[serde(default)]
    worker_id: String,
}

/// `POST /openings/{id}/propose`.
pub async fn propose(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    Posted { who, form }: Posted<ProposeWorker>,
) -> Response {
    propose_pair(
        &console,
        &who,
        &form.worker_id,
        &id,
        &format!("/openings/{id}"),
    )
    .await
}
