//! What-if: "if we open 50 more slots like this workshop, or close that
//! post, how many more households get a job?", asked in a form and
//! answered on the page while the meeting is still on. The same call as
//! `Batch.WhatIf` (`Service::what_if`): each change checked as the write
//! it stands for, nothing stored or proposed, the answer over the
//! caller's counties.
//!
//! A form holds up to one change of each kind: a new opening like an
//! existing one (its site, wage and demands) with its own headcount, an
//! opening resized, an opening closed. Openings and workers from ledger
//! files are for the CLI and the API (`jobbridge whatif --add-openings`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::caseload::worker_href;
use super::layout;
use super::{Act, Console, Officer, Page, Posted, Refusal};
use crate::batch::audit::micro_decimal_u64;
use crate::batch::whatif::{PlanFigures, WhatIfAnswer};
use crate::domain::{regions, Lang, Reason};
use crate::service::{ServiceError, WhatIfChange};

/// Workers who would move listed on the page (the total is always shown).
const LISTED: usize = 200;

/// The form's fields, kept to fill it again under the answer.
#[derive(Debug, Default, Deserialize)]
pub struct WhatIfForm {
    /// An opening to copy, and the copy's headcount.
    #[serde(default)]
    like: String,
    #[serde(default)]
    like_headcount: String,
    /// An opening to resize, and its new headcount.
    #[serde(default)]
    resize: String,
    #[serde(default)]
    resize_headcount: String,
    /// An opening to close.
    #[serde(default)]
    close: String,
}

/// `GET /whatif`; `?like=ID` fills in the opening to copy (the opening
/// card links here).
pub async fn page(who: Officer, Query(form): Query<WhatIfForm>) -> Response {
    let lang = who.lang;
    let body = html! {
        p.muted { (lang.pick(
            "按夜间匹配的精确算法推演：先保证零就业家庭，再看匹配分。结果不保存，也不会生成推荐。",
            "Worked out as the nightly run would: zero-employment households first, then the score. Nothing is stored or proposed."
        )) }
        (form_markup(&who, &form))
    };
    layout::shell(&who, lang.pick("假设推演", "What-if"), body)
}

/// `POST /whatif`: asks, and shows the answer under the form.
pub async fn ask(
    State(console): State<Arc<Console>>,
    Posted { who, form }: Posted<WhatIfForm>,
) -> Page {
    let lang = who.lang;
    let changes = changes(&console, &who, &form)
        .await
        .map_err(|refusal| layout::refused(&who, refusal))?;
    let answer = console
        .show(
            &who,
            Act::WhatIf,
            console.service.what_if(&who.caller, changes, LISTED),
        )
        .await?;
    let body = html! {
        (answer_markup(&answer, lang))
        h2 { (lang.pick("再推演一次", "Ask again")) }
        (form_markup(&who, &form))
    };
    Ok(layout::shell(
        &who,
        lang.pick("假设推演：结果", "What-if: the answer"),
        body,
    ))
}

/// An invalid field of the form, as the service words it.
fn invalid(field: &str, zh: &str, en: &str) -> Refusal {
    Refusal::Service(ServiceError::invalid(field, Reason::new(zh, en)))
}

/// A headcount field: a whole number from 0 to 10,000.
fn headcount(field: &str, value: &str) -> Result<u32, Refusal> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|&n| n <= 10_000)
        .ok_or_else(|| {
            invalid(
                field,
                "需填 0 至 10000 的整数",
                "needs a whole number from 0 to 10000",
            )
        })
}

/// The changes the form asks for, in the CLI's order (added, resized,
/// closed). The opening to copy is read as the caller may read it.
async fn changes(
    console: &Arc<Console>,
    who: &Officer,
    form: &WhatIfForm,
) -> Result<Vec<WhatIfChange>, Refusal> {
    let mut changes = Vec::new();
    let like = form.like.trim();
    if !like.is_empty() {
        let headcount = headcount("like_headcount", &form.like_headcount)?;
        let mut opening = console
            .act(
                who,
                Act::ViewOpening,
                super::untargeted,
                console.service.opening(&who.caller, like),
            )
            .await?;
        opening.id = format!("{}-whatif", opening.id);
        opening.headcount = headcount;
        changes.push(WhatIfChange::AddOpening(opening));
    }
    let resize = form.resize.trim();
    if !resize.is_empty() {
        changes.push(WhatIfChange::ResizeOpening {
            opening_id: resize.to_string(),
            headcount: headcount("resize_headcount", &form.resize_headcount)?,
        });
    }
    let close = form.close.trim();
    if !close.is_empty() {
        changes.push(WhatIfChange::CloseOpening(close.to_string()));
    }
    if changes.is_empty() {
        return Err(invalid(
            "changes",
            "至少填写一项变更",
            "fill in at least one change",
        ));
    }
    Ok(changes)
}

fn form_markup(who: &Officer, form: &WhatIfForm) -> Markup {
    let lang = who.lang;
    html! {
        form.whatif method="post" action="/whatif" {
            input type="hidden" name="csrf" value=(who.csrf);
            fieldset {
                legend { (lang.pick("新增一个同类岗位", "Add an opening like another")) }
                label { (lang.pick("样板岗位编号", "Opening to copy (id)"))
                    input type="text" name="like" value=(form.like) placeholder="ws-0001-1"; }
                label { (lang.pick("新岗位人数", "Its headcount"))
                    input type="number" name="like_headcount" min="0" max="10000" value=(form.like_headcount); }
                p.muted { (lang.pick(
                    "同一地点、薪资与要求，按所填人数新开（如在安置点新开 50 个帮扶车间岗位）。",
                    "Same site, wage and demands, with the headcount given (e.g. a 50-slot aid workshop at a site)."
                )) }
            }
            fieldset {
                legend { (lang.pick("调整岗位人数", "Resize an opening")) }
                label { (lang.pick("岗位编号", "Opening id"))
                    input type="text" name="resize" value=(form.resize); }
                label { (lang.pick("新的人数", "New headcount"))
                    input type="number" name="resize_headcount" min="0" max="10000" value=(form.resize_headcount); }
            }
            fieldset {
                legend { (lang.pick("关闭岗位", "Close an opening")) }
                label { (lang.pick("岗位编号", "Opening id"))
                    input type="text" name="close" value=(form.close); }
            }
            button type="submit" { (lang.pick("推演", "Work it out")) }
        }
    }
}

fn figures_row(label: &str, f: impl Fn(&PlanFigures) -> String, a: &WhatIfAnswer) -> Markup {
    html! {
        tr {
            th { (label) }
            td.num { (f(&a.before)) }
            td.num { (f(&a.after)) }
        }
    }
}

fn answer_markup(a: &WhatIfAnswer, lang: Lang) -> Markup {
    let score = |f: &PlanFigures| micro_decimal_u64(f.total_score_micro);
    let gained = a.after.zero_households_covered as i64 - a.before.zero_households_covered as i64;
    html! {
        p.notice id="whatif-headline" {
            (match lang {
                Lang::Zh => format!(
                    "零就业家庭：新增覆盖 {} 户，不再覆盖 {} 户（净 {:+}）；{} 人的分配会变化。",
                    a.newly_covered, a.no_longer_covered, gained, a.moves_total
                ),
                Lang::En => format!(
                    "Zero-employment households: {} newly covered, {} no longer (net {:+}); {} workers would move.",
                    a.newly_covered, a.no_longer_covered, gained, a.moves_total
                ),
            })
        }
        table id="whatif-figures" {
            thead { tr {
                th {}
                th.num { (lang.pick("现状", "Now")) }
                th.num { (lang.pick("变更后", "With the changes")) }
            } }
            tbody {
                (figures_row(lang.pick("分配人数", "Workers assigned"), |f| f.hires.to_string(), a))
                (figures_row(lang.pick("覆盖的零就业家庭", "Zero-employment households covered"), |f| f.zero_households_covered.to_string(), a))
                (figures_row(lang.pick("匹配总分", "Total score"), score, a))
            }
        }
        @if !a.by_county.is_empty() {
            h2 { (lang.pick("各县零就业家庭", "Zero-employment households by county")) }
            table id="whatif-counties" {
                thead { tr {
                    th { (lang.pick("县区", "County")) }
                    th.num { (lang.pick("新增覆盖", "Newly covered")) }
                    th.num { (lang.pick("不再覆盖", "No longer covered")) }
                } }
                tbody {
                    @for c in &a.by_county {
                        tr data-county=(c.county_code) {
                            td { (regions::name(&c.county_code, lang)) " " span.muted { (c.county_code) } }
                            td.num { (c.newly_covered) }
                            td.num { (c.no_longer_covered) }
                        }
                    }
                }
            }
        }
        h2 { (lang.pick("分配会变化的劳动力", "Workers who would move")) " (" (a.moves_total) ")" }
        @if a.moves.is_empty() {
            p.muted { (lang.pick("没有人的分配会变化。", "Nobody would move.")) }
        } @else {
            table id="whatif-moves" {
                thead { tr {
                    th { (lang.pick("劳动力", "Worker")) }
                    th { (lang.pick("现在", "Now")) }
                    th { (lang.pick("变更后", "With the changes")) }
                } }
                tbody {
                    @for m in &a.moves {
                        tr {
                            td { a href=(worker_href(&m.worker_id)) { (m.worker_id) } }
                            td { (m.before.as_deref().unwrap_or("—")) }
                            td { (m.after.as_deref().unwrap_or("—")) }
                        }
                    }
                    @if a.moves_total > a.moves.len() as u64 {
                        tr { td.muted colspan="3" { "… " (a.moves_total - a.moves.len() as u64) } }
                    }
                }
            }
        }
        p.muted id="whatif-timing" {
            (match lang {
                Lang::Zh => format!("建模 {} 毫秒，求解 {} 毫秒。", a.scoring_ms, a.solving_ms),
                Lang::En => format!("Building {} ms, solving {} ms.", a.scoring_ms, a.solving_ms),
            })
            @if a.baseline_from_last_run {
                " " (lang.pick("现状取自上次运行的方案（其势能证明仍为最优）。", "Now is the last run's plan, proved still optimal by its potentials."))
            }
        }
    }
}
