//! The worker page: the household card, the profile, the recommendations
//! with each score component and its reason, the placements with their
//! timelines and check-ins, the declines; and the one-click steps.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::caseload::worker_href;
use super::layout::{self, day, points};
use super::{Act, Console, Officer, Posted, Refusal};
use crate::domain::placement::{
    china_today, Action, DeclineReason, PlacementStatus, SeparationReason,
};
use crate::domain::placement::{Placement, PlacementEvent};
use crate::domain::words::skill_text;
use crate::domain::{rules, Lang, ValidationError};
use crate::matching::OpeningsQuery;
use crate::service::access::target;
use crate::service::{OpeningMatch, ServiceError};
use crate::store::PlacementFilter;

/// Recommendations shown.
const TOP: usize = 10;

/// What the page was sent back with after a step.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    /// Whether a proposal was just made.
    pub fn is_proposed(&self) -> bool {
        self.done == "propose"
    }
}

/// `GET /workers/{county}/{number}`.
pub async fn page(
    State(console): State<Arc<Console>>,
    who: Officer,
    Path((county, number)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let id = format!("{county}/{number}");
    match load(&console, &who, &id).await {
        Ok(view) => render(&who, &view, &done.done),
        Err(refusal) => layout::refused(&who, refusal),
    }
}

/// Everything the page shows.
struct View {
    worker: crate::domain::Worker,
    household: crate::domain::Household,
    members: Vec<crate::domain::Worker>,
    recommendations: Vec<OpeningMatch>,
    placements: Vec<(Placement, Vec<PlacementEvent>)>,
}

async fn load(console: &Arc<Console>, who: &Officer, id: &str) -> Result<View, Refusal> {
    let service = &console.service;
    let caller = &who.caller;
    let worker = console
        .act(
            who,
            Act::ViewWorker,
            |w| target::worker(&w.id),
            service.worker(caller, id),
        )
        .await?;
    let household = console
        .act(
            who,
            Act::ViewHousehold,
            |h| target::household(&h.id),
            service.household(caller, &worker.household_id),
        )
        .await?;
    let mut members = Vec::new();
    for m in household.worker_ids.iter().filter(|m| **m != worker.id) {
        // Members are of the same county, so in scope: read as the profile is.
        if let Ok(w) = console
            .act(
                who,
                Act::ViewWorker,
                |w| target::worker(&w.id),
                service.worker(caller, m),
            )
            .await
        {
            members.push(w);
        }
    }
    let query = OpeningsQuery {
        top_k: TOP,
        ..OpeningsQuery::default()
    };
    let recommendations = console
        .act(
            who,
            Act::Recommend,
            |_| target::worker(&worker.id),
            service.match_openings(caller, &worker.id, query, who.lang),
        )
        .await?;
    let filter = PlacementFilter {
        worker_id: Some(worker.id.clone()),
        county_code: Some(worker.county_code.clone()),
        ..PlacementFilter::default()
    };
    let listed = console
        .act(
            who,
            Act::Placements,
            super::untargeted,
            service.list_placements(caller, filter, None, 100),
        )
        .await?;
    let mut placements = Vec::new();
    for p in listed.items {
        let events = console
            .act(
                who,
                Act::History,
                super::untargeted,
                service.placement_history(caller, &p.id),
            )
            .await?;
        placements.push((p, events));
    }
    placements.sort_by_key(|p| std::cmp::Reverse(p.0.proposed_at_ms));
    Ok(View {
        worker,
        household,
        members,
        recommendations,
        placements,
    })
}

fn render(who: &Officer, v: &View, done: &str) -> Response {
    let lang = who.lang;
    let w = &v.worker;
    let zero = v.household.seeking + v.household.placed > 0 && v.household.employed == 0;
    let pending = v.placements.iter().any(|(p, _)| p.state().is_active());
    let body = html! {
        @if !done.is_empty() {
            p.notice id="notice" { (done_text(done, lang)) }
        }
        div.cards {
            div.card id="household" {
                h2 { (lang.pick("家庭", "Household")) " " (v.household.id) }
                @if zero {
                    p { span.flag.zero id="zero-flag" { (lang.pick("零就业家庭：家中有劳动力但无人就业", "Zero-employment household: labour and nobody in work")) } }
                } @else if v.household.employed > 0 {
                    p { span.flag.ok { (lang.pick("家中已有人就业", "Someone in the household works")) } }
                }
                p.muted {
                    (lang.pick("已就业", "employed")) " " (v.household.employed) " · "
                    (lang.pick("求职中", "seeking")) " " (v.household.seeking) " · "
                    (lang.pick("待上岗", "placed")) " " (v.household.placed)
                }
                ul {
                    li { strong { (w.name) } " · " (w.employment_status.text(lang)) }
                    @for m in &v.members {
                        li { a href=(worker_href(&m.id)) { (m.name) } " · " (m.employment_status.text(lang)) }
                    }
                }
            }
            div.card id="profile" {
                h2 { (w.name) }
                dl.profile {
                    dt { (lang.pick("编号", "Id")) } dd { (w.id) }
                    dt { (lang.pick("就业状态", "Status")) } dd id="status" { (w.employment_status.text(lang)) }
                    dt { (lang.pick("出生年份", "Born")) } dd { (w.birth_year) }
                    dt { (lang.pick("手机", "Phone")) } dd { (w.phone.as_deref().unwrap_or("")) }
                    dt { (lang.pick("安置点", "Site")) } dd { (w.site_id) }
                    dt { (lang.pick("劳动能力", "Capacity")) } dd { (w.labour_capacity.text(lang)) }
                    dt { (lang.pick("技能", "Skills")) }
                    dd { (w.skills.iter().map(|s| format!("{} {}", skill_text(&s.code, lang), s.level)).collect::<Vec<_>>().join("、")) }
                    dt { (lang.pick("期望月薪", "Expected wage")) } dd { (w.preferences.expected_monthly_wage) }
                    dt { (lang.pick("最远通勤", "Longest commute")) } dd { (w.preferences.max_commute_km) " km" }
                }
            }
        }
        h2 { (lang.pick("推荐岗位", "Recommended openings")) }
        @if pending {
            p.muted { (lang.pick("该劳动力已有进行中的推荐或岗位；新推荐会被拒绝，直到其结束。", "This worker has a placement in progress; a new proposal is refused until it ends.")) }
        }
        (recommendations(who, v))
        h2 { (lang.pick("就业安置与回访", "Placements and check-ins")) }
        (placements(who, v))
    };
    layout::shell(who, &format!("{} · {}", w.name, w.id), body)
}

fn done_text(done: &str, lang: Lang) -> &'static str {
    match done {
        "propose" => lang.pick("已推荐。", "Proposed."),
        "accept" => lang.pick("已记录接受。", "Acceptance recorded."),
        "decline" => lang.pick("已记录拒绝及原因。", "Decline recorded with its reason."),
        "hire" => lang.pick("已记录上岗。", "Hire recorded."),
        "checkin" => lang.pick("已记录回访。", "Check-in recorded."),
        "separate" => lang.pick("已记录离职。", "Separation recorded."),
        _ => lang.pick("已完成。", "Done."),
    }
}

fn recommendations(who: &Officer, v: &View) -> Markup {
    let lang = who.lang;
    html! {
        table id="recommendations" {
            thead { tr {
                th { (lang.pick("岗位", "Opening")) }
                th { (lang.pick("来源", "Source")) }
                th.num { (lang.pick("月薪", "Wage")) }
                th.num { (lang.pick("距离", "Distance")) }
                th.num { (lang.pick("得分", "Score")) }
                th { (lang.pick("各项得分与理由", "Components and reasons")) }
                th {}
            } }
            tbody {
                @for m in &v.recommendations {
                    tr data-opening=(m.opening.id) {
                        td { a href=(format!("/openings/{}", m.opening.id)) { (m.opening.title) } br; span.muted { (m.opening.employer_name) } }
                        td { (m.opening.source.text(lang)) }
                        td.num { (m.opening.monthly_wage) }
                        td.num { (format!("{:.1} km", m.ranked.distance_km)) }
                        td.num { (points(m.ranked.score_micro)) }
                        td {
                            table.components { tbody {
                                @for c in &m.ranked.components {
                                    tr {
                                        td { (component_text(c.name, lang)) }
                                        td.num { (format!("{:.0}%", c.value * 100.0)) }
                                        td.muted { "×" (format!("{:.2}", c.weight)) }
                                        td.text { (c.reason) }
                                    }
                                }
                            } }
                            @if let Some(c) = m.ranked.contest {
                                p.contested { (c.reason(m.ranked.score_micro, lang)) }
                            }
                        }
                        td {
                            form method="post" action=(format!("{}/propose", worker_href(&v.worker.id))) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                input type="hidden" name="opening_id" value=(m.opening.id);
                                button type="submit" class="propose" { (lang.pick("推荐", "Propose")) }
                            }
                        }
                    }
                }
            }
        }
        @if v.recommendations.is_empty() {
            p.muted { (lang.pick("暂无符合条件的岗位。", "No eligible opening now.")) }
        }
    }
}

/// A score component's name in `lang`.
fn component_text(name: &str, lang: Lang) -> &str {
    match name {
        "skill" => lang.pick("技能", "skill"),
        "commute" => lang.pick("通勤", "commute"),
        "pay" => lang.pick("薪资", "pay"),
        "preference" => lang.pick("意向", "preference"),
        "priority" => lang.pick("优先", "priority"),
        other => other,
    }
}

fn status_text(s: PlacementStatus, lang: Lang) -> &'static str {
    s.text(lang)
}

fn placements(who: &Officer, v: &View) -> Markup {
    let lang = who.lang;
    let today = china_today();
    html! {
        @if v.placements.is_empty() {
            p.muted { (lang.pick("暂无推荐记录。", "No placement yet.")) }
        }
        @for (p, events) in &v.placements {
            div.card.placement id=(format!("placement-{}", p.id)) data-status=(p.state().name()) {
                h3 {
                    (p.id) " · " a href=(format!("/openings/{}", p.opening_id)) { (p.opening_id) }
                    " · " span.status { (status_text(p.state(), lang)) }
                }
                @if p.state() == PlacementStatus::Declined {
                    p.declined {
                        (lang.pick("拒绝原因：", "Declined: "))
                        (DeclineReason::try_from(p.decline_code).map_or("", |r| r.text(lang)))
                        @if !p.decline_reason.is_empty() { " · " (p.decline_reason) }
                    }
                }
                ol.timeline {
                    @for e in events {
                        li { (day(e.at_ms)) " " (e.action) @if !e.note.is_empty() { " · " (e.note) } span.muted { " (" (e.actor) ")" } }
                    }
                }
                @if !p.check_ins.is_empty() {
                    p { (lang.pick("回访：", "Check-ins: "))
                        @for c in &p.check_ins {
                            span.flag.(if c.still_employed { "ok" } else { "bad" }) {
                                (c.month) (lang.pick("个月", " mo")) " "
                                (if c.still_employed { lang.pick("在岗", "in work") } else { lang.pick("已离岗", "left") })
                            } " "
                        }
                    }
                }
                div.actions { (steps(who, p, today)) }
            }
        }
    }
}

/// The step forms a placement's state allows.
fn steps(who: &Officer, p: &Placement, today: i32) -> Markup {
    let lang = who.lang;
    let action = format!("/placements/{}/step", p.id);
    let state = p.state();
    let owed: Vec<u32> = p
        .check_ins_owed()
        .into_iter()
        .filter(|(_, due)| *due <= today)
        .map(|(m, _)| m)
        .collect();
    html! {
        @if state == PlacementStatus::Proposed {
            form.inline method="post" action=(action) {
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="step" value="accept";
                button type="submit" class="accept" { (lang.pick("接受", "Accept")) }
            }
        }
        @if matches!(state, PlacementStatus::Proposed | PlacementStatus::Accepted) {
            form method="post" action=(action) class="decline" {
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="step" value="decline";
                select name="decline_code" required {
                    @for r in DeclineReason::ALL.iter().filter(|r| **r != DeclineReason::Unspecified) {
                        option value=(r.code()) { (r.text(lang)) }
                    }
                }
                " "
                input name="note" placeholder=(lang.pick("说明（可选）", "note (optional)")) size="24";
                " "
                button.secondary type="submit" { (lang.pick("记录拒绝", "Record decline")) }
            }
        }
        @if state == PlacementStatus::Accepted {
            form method="post" action=(action) class="hire" {
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="step" value="hire";
                (lang.pick("上岗日期 ", "First day "))
                input type="date" name="day" value=(layout::day(chrono::Utc::now().timestamp_millis()));
                " "
                button type="submit" { (lang.pick("记录上岗", "Record hire")) }
            }
        }
        @if state == PlacementStatus::Hired {
            @for m in &owed {
                form method="post" action=(action) class="checkin" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    input type="hidden" name="step" value="checkin";
                    input type="hidden" name="month" value=(m);
                    (m) (lang.pick(" 个月回访：", "-month check-in: "))
                    select name="still_employed" {
                        option value="yes" { (lang.pick("仍在岗", "still in work")) }
                        option value="no" { (lang.pick("已离岗", "left")) }
                    }
                    " "
                    input name="note" placeholder=(lang.pick("备注", "note")) size="18";
                    " "
                    button type="submit" { (lang.pick("记录回访", "Record check-in")) }
                }
            }
            form method="post" action=(action) class="separate" {
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="step" value="separate";
                (lang.pick("离职：", "Left: "))
                select name="separation" {
                    @for r in SEPARATIONS {
                        option value=(r.label()) { (r.text(lang)) }
                    }
                }
                " "
                input type="date" name="day" value=(layout::day(chrono::Utc::now().timestamp_millis()));
                " "
                button.secondary type="submit" { (lang.pick("记录离职", "Record separation")) }
            }
        }
    }
}

const SEPARATIONS: [SeparationReason; 6] = [
    SeparationReason::Quit,
    SeparationReason::Dismissed,
    SeparationReason::ContractEnded,
    SeparationReason::Health,
    SeparationReason::Family,
    SeparationReason::Other,
];

/// The propose form.
#[derive(Debug, Deserialize)]
pub struct ProposeForm {
    #[serde(default)]
    opening_id: String,
}

/// The actor recorded in a placement's history for a console step.
fn actor(who: &Officer) -> String {
    format!("console:{}", who.caller.token_id)
}

/// `POST /workers/{county}/{number}/propose`.
pub async fn propose(
    State(console): State<Arc<Console>>,
    Path((county, number)): Path<(String, String)>,
    Posted { who, form }: Posted<ProposeForm>,
) -> Response {
    let worker_id = format!("{county}/{number}");
    propose_pair(
        &console,
        &who,
        &worker_id,
        &form.opening_id,
        &worker_href(&worker_id),
    )
    .await
}

/// Proposes `worker_id` for `opening_id` and goes back to `back` (or shows
/// the refusal). Shared by the worker and the opening page.
pub async fn propose_pair(
    console: &Arc<Console>,
    who: &Officer,
    worker_id: &str,
    opening_id: &str,
    back: &str,
) -> Response {
    let proposed = console
        .act(
            who,
            Act::Propose,
            target::placement,
            console
                .service
                .propose(&who.caller, worker_id, opening_id, 0, actor(who), who.lang),
        )
        .await;
    match proposed {
        Ok(_) => Redirect::to(&format!("{back}?done=propose")).into_response(),
        Err(refusal) => layout::refused(who, refusal),
    }
}

/// A step's form.
#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    decline_code: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    still_employed: String,
    #[serde(default)]
    separation: String,
}

/// The action a step form asks for, checked as the API checks its request.
fn action_of(form: &StepForm) -> Result<(Act, Action), ValidationError> {
    let note = |field: &str| {
        rules::check_text(&form.note, 500)
            .map(|_| form.note.trim().to_string())
            .map_err(|r| ValidationError::new(field, r))
    };
    let day = || {
        chrono::NaiveDate::parse_from_str(form.day.trim(), "%Y-%m-%d")
            .map(crate::domain::placement::day_number)
            .map_err(|_| ValidationError::new("day", "a date as YYYY-MM-DD"))
    };
    Ok(match form.step.as_str() {
        "accept" => (Act::Accept, Action::Accept),
        "decline" => {
            let code = DeclineReason::ALL
                .iter()
                .copied()
                .find(|r| r.code() == form.decline_code && *r != DeclineReason::Unspecified)
                .ok_or_else(|| ValidationError::new("decline_code", "choose a reason"))?;
            (
                Act::Decline,
                Action::Decline {
                    code,
                    reason: note("note")?,
                },
            )
        }
        "hire" => (Act::Hire, Action::Hire { day: day()? }),
        "checkin" => {
            let month: u32 = form
                .month
                .parse()
                .map_err(|_| ValidationError::new("month", "1, 3 or 6"))?;
            crate::domain::placement::check_in_month(month)?;
            (
                Act::CheckIn,
                Action::CheckIn {
                    month,
                    day: china_today(),
                    still_employed: form.still_employed != "no",
                    note: note("note")?,
                },
            )
        }
        "separate" => {
            let reason = SEPARATIONS
                .iter()
                .copied()
                .find(|r| r.label() == form.separation)
                .ok_or_else(|| ValidationError::new("separation", "choose a reason"))?;
            (
                Act::Separate,
                Action::Separate {
                    day: day()?,
                    reason,
                    note: note("note")?,
                },
            )
        }
        _ => return Err(ValidationError::new("step", "unknown step")),
    })
}

/// `POST /placements/{id}/step`: accept, decline, hire, check in or
/// separate.
pub async fn step(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    Posted { who, form }: Posted<StepForm>,
) -> Response {
    let (act, action) = match action_of(&form) {
        Ok(a) => a,
        Err(e) => return layout::refused(&who, Refusal::Service(ServiceError::Invalid(e))),
    };
    let done = form.step.clone();
    let stepped = console
        .act(
            &who,
            act,
            target::placement,
            console
                .service
                .placement_step(&who.caller, &id, action, actor(&who)),
        )
        .await;
    match stepped {
        Ok(p) => {
            Redirect::to(&format!("{}?done={done}", worker_href(&p.worker_id))).into_response()
        }
        Err(refusal) => layout::refused(&who, refusal),
    }
}
