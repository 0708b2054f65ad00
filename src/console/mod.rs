//! The console: jobbridge's second face, for the people who act on its
//! matches. Case officers, county heads and recruiters sign in with their
//! token in a browser; every page calls `service` only, and every action is
//! let in, refused and audited by `service::access` as the RPC it equals
//! ([`actions`]).
//!
//! It listens on a port of its own (`--console-listen`, by default the
//! gRPC port + 1 on the same address): gRPC clients and browsers need
//! different things of a connection (HTTP/2 with trailers against HTTP/1.1
//! with cookies), and a county may open one to its intranet and not the
//! other. Under `--tls-cert` it serves HTTPS with the same certificate.
//! Everything it sends is in the binary (no CDN): county intranets may be
//! offline.
//!
//! Pages are HTML written with maud, which escapes every value it
//! interpolates, so whatever a name or a title holds is shown as text. The
//! Content-Security-Policy allows scripts and styles from the console's own
//! files only (none inline) and no framing.

mod actions;
mod caseload;
mod coverage;
mod dashboard;
mod kept;
mod layout;
mod opening;
mod runs;
pub mod session;
mod signin;
mod upload;
mod upload_result;
#[cfg(test)]
mod upload_tests;
mod whatif;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use actions::Act;
use session::Sessions;

use crate::domain::access::Caller;
use crate::domain::Lang;
use crate::service::access::Denied;
use crate::service::{Service, ServiceError};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "jb_session";
/// The pre-session cookie of the sign-in form (double-submit CSRF).
pub const PRE_COOKIE: &str = "jb_pre";
/// The language cookie (`zh` or `en`), set by the switch.
pub const LANG_COOKIE: &str = "jb_lang";

/// What every page needs: the service (with the access rules) and the
/// sessions.
pub struct Console {
    service: Arc<Service>,
    sessions: Sessions,
    /// The files uploads give back, for a while.
    kept: kept::Kept,
    /// Whether the console is served over TLS (cookies get `Secure`).
    secure: bool,
}

impl Console {
    /// A console over `service`, which admits its callers; `secure` when
    /// served over TLS.
    pub fn new(service: Arc<Service>, secure: bool) -> Arc<Self> {
        Arc::new(Self {
            service,
            sessions: Sessions::default(),
            kept: kept::Kept::default(),
            secure,
        })
    }

    /// The sessions (for tests).
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Runs `work` as `act` on behalf of `who`: admitted (role, rate) and
    /// audited as the action's RPC, with `target` naming what it touched
    /// (when it succeeded) and the outcome's gRPC code, as the gRPC layer
    /// records it.
    async fn act<T>(
        &self,
        who: &Officer,
        act: Act,
        target: impl FnOnce(&T) -> String,
        work: impl std::future::Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, Refusal> {
        // A token-store read and an append to the audit queue: done inline,
        // as the gRPC layer does them.
        let call = self
            .service
            .admit(&who.caller, act.method())
            .map_err(Refusal::Denied)?;
        let result = work.await;
        if let Some(call) = call {
            // As the gRPC layer records it: the target of a call that did
            // its work, none for a refusal.
            let (code, target) = match &result {
                Ok(done) => (0, target(done)),
                Err(e) => (e.grpc_code(), String::new()),
            };
            self.service.audit(call, &target, code);
        }
        result.map_err(Refusal::Service)
    }

    /// [`Console::act`] for a page, as most of its calls are: the action's
    /// RPC records no target (a listing, a read, a report, an import), and
    /// a refusal is answered with the refusal page in `who`'s shell.
    async fn show<T>(
        &self,
        who: &Officer,
        act: Act,
        work: impl std::future::Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, Response> {
        self.act(who, act, untargeted, work)
            .await
            .map_err(|refusal| layout::refused(who, refusal))
    }
}

/// What a page handler answers: its page, or the refusal page shown in
/// its place (`?` after [`Console::show`] answers with that one).
type Page = Result<Response, Response>;

/// The target of an action whose RPC records none (listings, reports).
fn untargeted<T>(_: &T) -> String {
    String::new()
}

/// Why an action was not done, shown to the person in their language.
#[derive(Debug)]
pub enum Refusal {
    /// The access rules refused it (role, rate).
    Denied(Denied),
    /// The service refused it (scope, state, invalid input).
    Service(ServiceError),
}

impl Refusal {
    /// The HTTP status of the refusal page.
    fn status(&self) -> StatusCode {
        match self {
            Refusal::Denied(Denied::Unauthenticated(_)) => StatusCode::UNAUTHORIZED,
            Refusal::Denied(Denied::PermissionDenied(_)) => StatusCode::FORBIDDEN,
            Refusal::Denied(Denied::RateLimited(_)) => StatusCode::TOO_MANY_REQUESTS,
            Refusal::Denied(Denied::Internal) => StatusCode::INTERNAL_SERVER_ERROR,
            Refusal::Service(e) => match e {
                ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
                ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
                ServiceError::AlreadyExists(_) | ServiceError::Duplicate { .. } => {
                    StatusCode::CONFLICT
                }
                ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
                ServiceError::Precondition(_) => StatusCode::CONFLICT,
                ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    /// A heading in `lang` and the service's own words.
    fn text(&self, lang: Lang) -> (&'static str, String) {
        match self {
            Refusal::Denied(Denied::Unauthenticated(m)) => {
                (lang.pick("未登录或令牌已失效", "Not signed in"), m.clone())
            }
            Refusal::Denied(Denied::PermissionDenied(m)) => (
                lang.pick("您的角色无权执行此操作", "Your role may not do this"),
                m.clone(),
            ),
            Refusal::Denied(Denied::RateLimited(m)) => (
                lang.pick("操作过于频繁，请稍后再试", "Too many requests"),
                m.clone(),
            ),
            Refusal::Denied(Denied::Internal) | Refusal::Service(ServiceError::Internal(_)) => {
                (lang.pick("服务器内部错误", "Internal error"), String::new())
            }
            Refusal::Service(e) => {
                let heading = match e {
                    ServiceError::Invalid(_) => lang.pick("填写有误", "Invalid input"),
                    ServiceError::NotFound(_) => lang.pick("未找到", "Not found"),
                    ServiceError::AlreadyExists(_) | ServiceError::Duplicate { .. } => {
                        lang.pick("已存在", "Already exists")
                    }
                    ServiceError::Forbidden(_) => {
                        lang.pick("不在您的管辖范围", "Outside your scope")
                    }
                    ServiceError::Precondition(_) => {
                        lang.pick("当前状态不允许此操作", "Not allowed in the current state")
                    }
                    ServiceError::Unavailable(_) => {
                        lang.pick("服务暂不可用", "Service unavailable")
                    }
                    ServiceError::Internal(_) => unreachable!("matched above"),
                };
                let words = match e {
                    ServiceError::Invalid(v) => v.text(lang),
                    other => other.text(lang),
                };
                (heading, words)
            }
        }
    }
}

/// A signed-in person, from the session cookie: every page but sign-in
/// takes one, and a request without a live session (or whose token was
/// revoked) is sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct Officer {
    /// The token's caller.
    pub caller: Caller,
    /// The session's CSRF token.
    pub csrf: String,
    /// The language the pages are written in.
    pub lang: Lang,
}

impl Officer {
    /// The refusal of a form whose CSRF token is not the session's;
    /// `None` when it is.
    pub fn csrf_refusal(&self, sent: &str) -> Option<Response> {
        if session::same(sent, &self.csrf) {
            None
        } else {
            Some(layout::refused_page(
                self.lang,
                StatusCode::FORBIDDEN,
                self.lang.pick("表单已失效", "The form has expired"),
                self.lang.pick(
                    "缺少或不符的 CSRF 令牌：请刷新页面后重试。",
                    "missing or wrong CSRF token: reload the page and try again.",
                ),
            ))
        }
    }
}

/// A form posted by a signed-in officer, its `csrf` field checked against
/// the session's token before the handler sees it: every POST of the
/// console takes its form this way (the ledger upload, a multipart body,
/// checks the same token with [`Officer::csrf_refusal`]), so no handler
/// can forget the check.
pub struct Posted<F> {
    /// Who posted it.
    pub who: Officer,
    /// The form's other fields.
    pub form: F,
}

impl<F: serde::de::DeserializeOwned> FromRequest<Arc<Console>> for Posted<F> {
    type Rejection = Response;

    async fn from_request(request: Request, console: &Arc<Console>) -> Result<Self, Response> {
        #[derive(serde::Deserialize)]
        struct Token {
            #[serde(default)]
            csrf: String,
        }
        let (mut parts, body) = request.into_parts();
        let who = Officer::from_request_parts(&mut parts, console).await?;
        let body = axum::body::Bytes::from_request(Request::from_parts(parts, body), console)
            .await
            .map_err(IntoResponse::into_response)?;
        let sent =
            serde_urlencoded::from_bytes::<Token>(&body).map_or_else(|_| String::new(), |t| t.csrf);
        if let Some(refused) = who.csrf_refusal(&sent) {
            return Err(refused);
        }
        match serde_urlencoded::from_bytes(&body) {
            Ok(form) => Ok(Posted { who, form }),
            Err(e) => Err(layout::refused_page(
                who.lang,
                StatusCode::BAD_REQUEST,
                who.lang.pick("表单有误", "The form is not valid"),
                &e.to_string(),
            )),
        }
    }
}

/// The value of cookie `name` in the request's headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request: the switch's cookie, else `Accept-Language`,
/// else Chinese.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        Some("zh") => Lang::Zh,
        _ => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
            .unwrap_or(Lang::Zh),
    }
}

impl FromRequestParts<Arc<Console>> for Officer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let to_sign_in = || Redirect::to("/signin").into_response();
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in());
        };
        let Some(session) = console.sessions.get(id) else {
            return Err(to_sign_in());
        };
        // One read of the token's record (sled's cache), inline.
        match console.service.still_valid(&session.caller.token_id) {
            Ok(true) => Ok(Officer {
                caller: session.caller,
                csrf: session.csrf,
                lang,
            }),
            Ok(false) => {
                // Revoked: every session of the token ends now.
                console.sessions.end_token(&session.caller.token_id);
                Err(to_sign_in())
            }
            Err(_) => Err(layout::refused_page(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.pick("服务器内部错误", "Internal error"),
                "",
            )),
        }
    }
}

/// A cookie header value: `HttpOnly; SameSite=Strict; Path=/`, `Secure`
/// under TLS, and `Max-Age` when given (0 removes it).
fn set_cookie(console: &Console, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if console.secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).expect("cookie values are base64url")
}

/// The Content-Security-Policy of every page: the console's own script and
/// style files only, nothing inline, no framing, forms posted back here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The console's routes.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/caseload") }))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route("/lang", post(signin::switch_lang))
        .route("/assets/console.css", get(layout::css))
        .route("/assets/console.js", get(layout::js))
        .route("/caseload", get(caseload::page))
        .route("/workers/{county}/{number}", get(worker::page))
        .route("/workers/{county}/{number}/propose", post(worker::propose))
        .route("/placements/{id}/step", post(worker::step))
        .route("/openings", get(opening::list))
        .route("/openings/{id}", get(opening::page))
        .route("/openings/{id}/propose", post(opening::propose))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::page))
        .route("/runs/{id}/apply", post(runs::apply))
        .route("/dashboard", get(dashboard::page))
        .route("/whatif", get(whatif::page).post(whatif::ask))
        .route("/dashboard/coverage.xlsx", get(coverage::download))
        .route(
            "/upload",
            get(upload::form)
                .post(upload::submit)
                .layer(axum::extract::DefaultBodyLimit::max(upload::MAX_UPLOAD)),
        )
        .route("/upload/rejected/{name}", get(upload::rejected))
        .route("/upload/changes/{name}", get(upload::changes))
        .fallback(layout::not_found)
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(console)
}

/// Serves the console on `listener` (plain HTTP; see [`serve_tls`]).
pub async fn serve(listener: TcpListener, console: Arc<Console>) -> std::io::Result<()> {
    let app = router(console).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}

/// Serves the console on `listener` over TLS with `config`, giving each
/// client `handshake_timeout` to finish its handshake.
pub async fn serve_tls(
    listener: TcpListener,
    console: Arc<Console>,
    config: Arc<tokio_rustls::rustls::ServerConfig>,
    handshake_timeout: std::time::Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    use tower::ServiceExt;
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let app = router(console);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "console: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await;
            let Ok(Ok(tls)) = handshake else {
                return;
            };
            let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request.map(axum::body::Body::new))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests;
