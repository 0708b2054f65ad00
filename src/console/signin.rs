//! Sign-in with a token, sign-out, and the language switch.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;

use super::session::{random_token, same};
use super::{cookie, lang_of, layout, set_cookie, Console, Officer};
use super::{LANG_COOKIE, PRE_COOKIE, SESSION_COOKIE};
use crate::domain::access::Role;
use crate::domain::Lang;
use crate::service::access::Denied;

/// The address a request came from (for the sign-in throttle).
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
        ))
    }
}

/// `GET /signin`: the form, with a fresh pre-session token in a cookie and
/// in the form.
pub async fn form(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    sign_in_page(&console, lang, StatusCode::OK, None)
}

fn sign_in_page(
    console: &Console,
    lang: Lang,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let pre = random_token();
    let mut response = layout::bare(
        lang,
        status,
        lang.pick("登录", "Sign in"),
        html! {
            @if let Some(e) = &error {
                p.refusal id="refusal" { (e) }
            }
            form method="post" action="/signin" id="signin" {
                input type="hidden" name="pre" value=(pre);
                p {
                    label for="token" { (lang.pick("访问令牌", "Access token")) }
                    br;
                    input id="token" name="token" type="password" autocomplete="off" required size="44";
                }
                p { button type="submit" id="signin-submit" { (lang.pick("登录", "Sign in")) } }
            }
            p.muted {
                (lang.pick(
                    "令牌由管理员用 jobbridge token create 发放；演示模式下，启动时打印的管理员令牌即可登录。",
                    "Tokens are issued by an administrator with `jobbridge token create`; in demo mode, the admin token printed at start signs in.",
                ))
            }
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(console, PRE_COOKIE, &pre, Some(600)),
    );
    response
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignIn {
    token: String,
    #[serde(default)]
    pre: String,
}

/// `POST /signin`: checks the pre-session token, the throttle and the
/// token; starts a session.
pub async fn submit(
    State(console): State<Arc<Console>>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    let lang = lang_of(&headers);
    let pre_ok = cookie(&headers, PRE_COOKIE).is_some_and(|c| !c.is_empty() && same(c, &form.pre));
    if !pre_ok {
        return sign_in_page(
            &console,
            lang,
            StatusCode::FORBIDDEN,
            Some(
                lang.pick(
                    "表单已失效（缺少 CSRF 令牌），请重新登录。",
                    "The form has expired (missing CSRF token): sign in again.",
                )
                .to_string(),
            ),
        );
    }
    if let Some(wait) = console.sessions.wait(peer) {
        let secs = wait.as_secs().max(1);
        let mut response = sign_in_page(
            &console,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            Some(match lang {
                Lang::Zh => format!("登录失败次数过多，请 {secs} 秒后再试。"),
                Lang::En => format!("Too many failed sign-ins: try again in {secs} s."),
            }),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
        return response;
    }
    let service = console.service.clone();
    let token = form.token.trim().to_string();
    let caller = tokio::task::spawn_blocking(move || service.authenticate(&token))
        .await
        .unwrap_or(Err(Denied::Internal));
    let caller = match caller {
        Ok(caller) => caller,
        Err(Denied::Internal) => {
            return layout::refused_page(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.pick("服务器内部错误", "Internal error"),
                "",
            )
        }
        Err(_) => {
            console.sessions.failed(peer);
            return sign_in_page(
                &console,
                lang,
                StatusCode::UNAUTHORIZED,
                Some(
                    lang.pick("令牌无效或已被吊销。", "Invalid or revoked token.")
                        .to_string(),
                ),
            );
        }
    };
    console.sessions.succeeded(peer);
    let landing = match caller.role {
        Role::Admin | Role::ServiceCompany => "/caseload",
        Role::Recruiter => "/openings",
        Role::Reader => "/dashboard",
    };
    let id = console.sessions.start(caller);
    let mut response = Redirect::to(landing).into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            &console,
            SESSION_COOKIE,
            &id,
            Some(super::session::ABSOLUTE.as_secs()),
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&console, PRE_COOKIE, "", Some(0)),
    );
    response
}

/// A form that carries only its CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`: ends the session.
pub async fn sign_out(
    State(console): State<Arc<Console>>,
    who: Officer,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = who.csrf_refusal(&form.csrf) {
        return refused;
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        console.sessions.end(id);
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&console, SESSION_COOKIE, "", Some(0)),
    );
    response
}

/// The language switch's form.
#[derive(Deserialize)]
pub struct SwitchLang {
    lang: String,
}

/// `POST /lang`: remembers the language in a cookie (a preference of the
/// browser, nothing stored on the server).
pub async fn switch_lang(
    State(console): State<Arc<Console>>,
    Form(form): Form<SwitchLang>,
) -> Response {
    let value = if form.lang == "en" { "en" } else { "zh" };
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&console, LANG_COOKIE, value, Some(365 * 24 * 3600)),
    );
    response
}
