//! The page shell (header, navigation, language switch, sign-out), the
//! refusal page and the console's two static files.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::{Act, Officer};
use crate::domain::access::Role;
use crate::domain::Lang;
use crate::service::access::roles_for;

/// The stylesheet, embedded.
const CSS: &str = include_str!("assets/console.css");
/// The script (no inline script anywhere: the CSP forbids it).
const JS: &str = include_str!("assets/console.js");

/// `GET /assets/console.css`.
pub async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// `GET /assets/console.js`.
pub async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Whether `role` may do `act` (by the RPC's permission): the navigation
/// shows only what the role may open.
pub fn may(role: Role, act: Act) -> bool {
    roles_for(act.method()).is_some_and(|roles| roles.contains(&role))
}

/// A role's name in `lang`.
pub fn role_text(role: Role, lang: Lang) -> &'static str {
    match role {
        Role::Admin => lang.pick("管理员", "Administrator"),
        Role::ServiceCompany => lang.pick("县级就业服务公司", "County employment-service company"),
        Role::Recruiter => lang.pick("招聘方", "Recruiter"),
        Role::Reader => lang.pick("只读（县领导）", "Reader (county head)"),
    }
}

/// The html `lang` attribute.
fn html_lang(lang: Lang) -> &'static str {
    lang.pick("zh-CN", "en")
}

/// A whole page for a signed-in person: `title`, the navigation, and
/// `body`.
pub fn shell(who: &Officer, title: &str, body: Markup) -> Response {
    let lang = who.lang;
    let role = who.caller.role;
    let nav: [(Act, &str, &str); 6] = [
        (Act::Caseload, "/caseload", lang.pick("个案", "Caseload")),
        (Act::Openings, "/openings", lang.pick("岗位", "Openings")),
        (
            Act::Runs,
            "/runs",
            lang.pick("夜间匹配审核", "Nightly runs"),
        ),
        (
            Act::Dashboard,
            "/dashboard",
            lang.pick("驾驶舱", "Dashboard"),
        ),
        (
            Act::ImportWorkers,
            "/upload",
            lang.pick("台账上传", "Ledger upload"),
        ),
        (Act::WhatIf, "/whatif", lang.pick("假设推演", "What-if")),
    ];
    let markup = html! {
        (DOCTYPE)
        html lang=(html_lang(lang)) {
            (head(title))
            body {
                header.top {
                    a.brand href="/" { (lang.pick("易地搬迁就业服务", "jobbridge")) }
                    nav {
                        @for (act, href, label) in nav {
                            @if may(role, act) {
                                a href=(href) { (label) }
                            }
                        }
                    }
                    div.who {
                        span.role { (role_text(role, lang)) }
                        " "
                        span.token { (who.caller.token_id) }
                        @if !who.caller.scope.counties.is_empty() {
                            " · " (who.caller.scope.counties.join(", "))
                        }
                        form.inline method="post" action="/lang" {
                            input type="hidden" name="lang" value=(lang.pick("en", "zh"));
                            button.link type="submit" id="lang-switch" { (lang.pick("English", "中文")) }
                        }
                        form.inline method="post" action="/signout" {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button.link type="submit" id="sign-out" { (lang.pick("退出", "Sign out")) }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    html_response(StatusCode::OK, markup)
}

/// A page's head: its title, the stylesheet and the script (every page
/// loads both from the console itself).
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · jobbridge" }
            link rel="stylesheet" href="/assets/console.css";
            script src="/assets/console.js" defer {}
        }
    }
}

/// A page outside a session (sign-in).
pub fn bare(lang: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(html_lang(lang)) {
            (head(title))
            body.bare {
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    html_response(status, markup)
}

fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// What every refusal shows: the reason, and `back`, the way back.
fn refusal_box(reason: &str, back: Markup) -> Markup {
    html! {
        p.refusal id="refusal" { (reason) }
        p { (back) }
    }
}

/// The way back from a refusal: to `href`, or (the script) back in the
/// browser's history where there is one.
fn back(href: &str, lang: Lang) -> Markup {
    html! { a href=(href) data-back="1" { (lang.pick("返回", "Back")) } }
}

/// A refusal: its heading and the service's reason, with a way back.
pub fn refused_page(lang: Lang, status: StatusCode, heading: &str, reason: &str) -> Response {
    bare(lang, status, heading, refusal_box(reason, back("/", lang)))
}

/// A refusal inside the shell of a signed-in person's page.
pub fn refused(who: &Officer, refusal: super::Refusal) -> Response {
    let (heading, reason) = refusal.text(who.lang);
    let back = back("/caseload", who.lang);
    refused_in_shell(who, refusal.status(), heading, &reason, back)
}

/// A refusal with `status` inside the shell of `who`'s pages: `heading`,
/// the `reason` and `back`, the way back.
pub fn refused_in_shell(
    who: &Officer,
    status: StatusCode,
    heading: &str,
    reason: &str,
    back: Markup,
) -> Response {
    let mut response = shell(who, heading, refusal_box(reason, back));
    *response.status_mut() = status;
    response
}

/// A figure of a page's cards: `value` under its `label`, and when it is
/// a part `of` a whole, the whole and a bar.
pub fn figure(id: &str, label: &str, value: u64, of: Option<u64>) -> Markup {
    html! {
        div.figure id=(id) {
            div.value { (value) }
            div.label { (label) @if let Some(of) = of { " / " (of) } }
            @if let Some(of) = of { (bar(value, of)) }
        }
    }
}

/// Any path the console does not have.
pub async fn not_found(headers: axum::http::HeaderMap) -> Response {
    let lang = super::lang_of(&headers);
    refused_page(
        lang,
        StatusCode::NOT_FOUND,
        lang.pick("页面不存在", "No such page"),
        "",
    )
}

/// A score in points (micro-points / 1e6 * 100), one decimal.
pub fn points(micro: u32) -> String {
    format!("{:.1}", f64::from(micro) / 10_000.0)
}

/// A date from Unix ms, China time (UTC+8), `YYYY-MM-DD`.
pub fn day(ms: i64) -> String {
    if ms <= 0 {
        return String::new();
    }
    chrono::DateTime::from_timestamp_millis(ms + 8 * 3600 * 1000)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A horizontal bar of `part` out of `whole`, as inline SVG (no script).
pub fn bar(part: u64, whole: u64) -> Markup {
    let width = if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).clamp(0.0, 1.0) * 100.0
    };
    html! {
        svg.bar viewBox="0 0 100 8" preserveAspectRatio="none" role="img" {
            rect x="0" y="0" width="100" height="8" class="track" {}
            rect x="0" y="0" width=(format!("{width:.2}")) height="8" class="fill" {}
        }
    }
}
