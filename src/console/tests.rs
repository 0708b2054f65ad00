//! The console through its router, over a real service on a temporary
//! store with demo data: sign-in, cookies and headers, CSRF, scope,
//! escaping, revocation, and the audit log it writes.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::{router, Console, CSP};
use crate::batch::BatchSettings;
use crate::domain::access::{Role, Scope};
use crate::service::Service;
use crate::store::{PlacementFilter, Store};
use crate::testing;

struct World {
    _dir: tempfile::TempDir,
    service: Arc<Service>,
    console: Arc<Console>,
}

fn world(secure: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let key = testing::id_key(0xcd);
    crate::launch::write_demo(&store, &key, 0.05, 7).unwrap();
    let service = testing::service(store.clone(), key, BatchSettings::default());
    let console = Console::new(service.clone(), secure);
    World {
        _dir: dir,
        service,
        console,
    }
}

impl World {
    fn token(&self, role: Role, scope: Scope) -> (String, String) {
        let (record, secret) = self
            .service
            .store()
            .create_token(role, &scope, "test", "test")
            .unwrap();
        (record.id, secret)
    }

    fn company(&self, county: &str) -> (String, String) {
        self.token(
            Role::ServiceCompany,
            Scope {
                counties: vec![county.into()],
                employer_id: None,
            },
        )
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
        let response = router(self.console.clone()).oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    /// A recruiter's token, for `employer`'s openings.
    fn recruiter(&self, employer: &str) -> (String, String) {
        self.token(
            Role::Recruiter,
            Scope {
                counties: vec![],
                employer_id: Some(employer.into()),
            },
        )
    }

    async fn get(
        &self,
        path: &str,
        session: Option<&str>,
    ) -> (StatusCode, http::HeaderMap, String) {
        let mut r = Request::get(path);
        if let Some(s) = session {
            r = r.header(header::COOKIE, format!("jb_session={s}"));
        }
        self.send(r.body(Body::empty()).unwrap()).await
    }

    async fn post(
        &self,
        path: &str,
        session: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, http::HeaderMap, String) {
        let body = serde_urlencoded::to_string(form).unwrap();
        self.send(
            Request::post(path)
                .header(header::COOKIE, format!("jb_session={session}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// A new service company of `county`, signed in; answers the session id.
    async fn company_session(&self, county: &str) -> String {
        let (_, secret) = self.company(county);
        self.sign_in(&secret).await
    }

    /// Posts `form` as the page does, with the session's CSRF token.
    async fn submit(
        &self,
        path: &str,
        session: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, http::HeaderMap, String) {
        let csrf = self.csrf(session);
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(path, session, &fields).await
    }

    /// Signs in with `secret` through the form; answers the session id.
    async fn sign_in(&self, secret: &str) -> String {
        let (status, headers, _) = self.sign_in_attempt(secret).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        cookie_value(&headers, "jb_session").expect("a session cookie")
    }

    async fn sign_in_attempt(&self, secret: &str) -> (StatusCode, http::HeaderMap, String) {
        let (_, headers, body) = self.get("/signin", None).await;
        let pre = cookie_value(&headers, "jb_pre").unwrap();
        assert!(
            body.contains(&pre),
            "the form carries the pre-session token"
        );
        let form = serde_urlencoded::to_string([("token", secret), ("pre", &pre)]).unwrap();
        self.send(
            Request::post("/signin")
                .header(header::COOKIE, format!("jb_pre={pre}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
    }

    fn csrf(&self, session: &str) -> String {
        self.console.sessions().get(session).unwrap().csrf
    }

    fn first_worker(&self, county: &str) -> String {
        self.service
            .store()
            .list_workers(
                &crate::store::WorkerFilter {
                    county_code: Some(county.into()),
                    ..Default::default()
                },
                None,
                1,
            )
            .unwrap()
            .items[0]
            .id
            .clone()
    }
}

fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (kv, _) = v.split_once(';')?;
            let (k, val) = kv.split_once('=')?;
            (k == name && !val.is_empty()).then(|| val.to_string())
        })
}

fn set_cookies(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The refusal paragraph of a page.
fn refusal(body: &str) -> String {
    let start = body.find("id=\"refusal\">").expect("a refusal") + "id=\"refusal\">".len();
    body[start..start + body[start..].find('<').unwrap()].to_string()
}

#[tokio::test]
async fn pages_send_the_csp_and_cookies_are_http_only_strict_and_secure_under_tls() {
    for secure in [false, true] {
        let w = world(secure);
        let (_, headers, body) = w.get("/signin", None).await;
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], CSP);
        assert!(CSP.contains("frame-ancestors 'none'") && !CSP.contains("unsafe-inline"));
        assert!(!body.contains("<script>"), "no inline script");
        for c in set_cookies(&headers) {
            assert!(
                c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                "{c}"
            );
            assert_eq!(c.contains("Secure"), secure, "{c}");
        }
        let (_, secret) = w.company("431202");
        let (_, headers, _) = w.sign_in_attempt(&secret).await;
        let session = set_cookies(&headers)
            .into_iter()
            .find(|c| c.starts_with("jb_session="))
            .unwrap();
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
        assert!(session.contains("Max-Age="));
        assert_eq!(session.contains("Secure"), secure);
    }
}

#[tokio::test]
async fn sign_in_needs_its_form_token_a_valid_token_and_is_slowed_after_failures() {
    let w = world(false);
    let (_, secret) = w.company("431202");
    // No pre-session token: refused, no session.
    let form = serde_urlencoded::to_string([("token", secret.as_str()), ("pre", "x")]).unwrap();
    let (status, headers, _) = w
        .send(
            Request::post("/signin")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(cookie_value(&headers, "jb_session").is_none());
    // Wrong tokens: refused, then slowed down.
    for _ in 0..super::session::FREE_FAILURES {
        let (status, headers, _) = w.sign_in_attempt("jb.tok_0000.nope").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(cookie_value(&headers, "jb_session").is_none());
    }
    let (status, headers, _) = w.sign_in_attempt(&secret).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even a good token waits"
    );
    assert!(headers.contains_key(header::RETRY_AFTER));
    // Without a session every page leads to the sign-in form.
    let (status, headers, _) = w.get("/caseload", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/signin");
    let (status, _, _) = w.get("/caseload", Some("made-up")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let w = world(false);
    let session = w.company_session("431202").await;
    let worker = w.first_worker("431202");
    let opening = w
        .service
        .store()
        .list_openings(&Default::default(), None, 1)
        .unwrap()
        .items[0]
        .id
        .clone();
    let placements = || {
        w.service
            .store()
            .list_placements(
                &PlacementFilter {
                    worker_id: Some(worker.clone()),
                    ..Default::default()
                },
                None,
                10,
            )
            .unwrap()
            .items
            .len()
    };
    let path = format!("/workers/{worker}/propose");
    for csrf in ["", "wrong", &w.csrf(&session)[1..]] {
        let (status, _, body) = w
            .post(&path, &session, &[("csrf", csrf), ("opening_id", &opening)])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{csrf:?}");
        assert!(body.contains("CSRF"));
        assert_eq!(placements(), 0);
    }
    // Sign-out is a form too.
    let (status, _, _) = w.post("/signout", &session, &[("csrf", "")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(w.console.sessions().get(&session).is_some());
    let (status, _, _) = w.submit("/signout", &session, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(w.console.sessions().get(&session).is_none());
}

#[tokio::test]
async fn another_countys_worker_is_answered_like_one_that_does_not_exist() {
    let w = world(false);
    let session = w.company_session("431202").await;
    let theirs = w.first_worker("431224");
    let (status, _, body) = w.get(&format!("/workers/{theirs}"), Some(&session)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let missing = "431224/w-9999999";
    let (status2, _, body2) = w.get(&format!("/workers/{missing}"), Some(&session)).await;
    assert_eq!(status2, StatusCode::NOT_FOUND);
    assert_eq!(
        refusal(&body).replace(&theirs, "ID"),
        refusal(&body2).replace(missing, "ID")
    );
    // Its own worker opens.
    let ours = w.first_worker("431202");
    let (status, _, body) = w.get(&format!("/workers/{ours}"), Some(&session)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("id=\"recommendations\""));
}

#[tokio::test]
async fn whatever_a_name_holds_is_shown_as_text() {
    let w = world(false);
    let id = w.first_worker("431202");
    let mut worker = w.service.store().worker(&id).unwrap().unwrap();
    worker.name = "<img src=x onerror=alert(1)>".into();
    w.service
        .store()
        .put_worker(worker, crate::store::PutMode::Upsert)
        .unwrap();
    let session = w.company_session("431202").await;
    let (status, _, body) = w.get(&format!("/workers/{id}"), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!body.contains("<img"));
}

#[tokio::test]
async fn a_revoked_token_ends_its_sessions() {
    let w = world(false);
    let (token_id, secret) = w.company("431202");
    let a = w.sign_in(&secret).await;
    let b = w.sign_in(&secret).await;
    assert_eq!(w.get("/caseload", Some(&a)).await.0, StatusCode::OK);
    w.service.store().revoke_token(&token_id).unwrap();
    let (status, headers, _) = w.get("/caseload", Some(&a)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/signin");
    assert!(
        w.console.sessions().get(&b).is_none(),
        "every session of it"
    );
    assert_eq!(w.sign_in_attempt(&secret).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn console_actions_are_refused_and_audited_as_their_rpcs() {
    let w = world(false);
    let (recruiter_id, recruiter) = w.recruiter("gov-431202");
    let (company_id, company) = w.company("431202");
    // A recruiter may not list workers: refused by the permission table,
    // audited as ListWorkers with PERMISSION_DENIED.
    let r = w.sign_in(&recruiter).await;
    let (status, _, _) = w.get("/caseload", Some(&r)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A company reads a worker of another county: NOT_FOUND, audited.
    let c = w.sign_in(&company).await;
    let theirs = w.first_worker("431224");
    w.get(&format!("/workers/{theirs}"), Some(&c)).await;
    let ours = w.first_worker("431202");
    w.get(&format!("/workers/{ours}"), Some(&c)).await;
    w.service.store().flush_blocking().unwrap();
    let log = w.service.store().audit_log(0, None, 100).unwrap();
    let find = |token: &str, method: &str, code: i32| {
        log.iter()
            .any(|e| e.token_id == token && e.method.ends_with(method) && e.code == code)
    };
    assert!(find(&recruiter_id, "Workers/ListWorkers", 7), "{log:?}");
    assert!(find(&company_id, "Workers/GetWorker", 5), "{log:?}");
    assert!(
        log.iter().any(|e| e.token_id == company_id
            && e.method.ends_with("Workers/GetWorker")
            && e.code == 0
            && e.target == format!("worker {ours}")),
        "{log:?}"
    );
    assert!(find(&company_id, "Matching/MatchOpeningsForWorker", 0));
}

/// The first open opening of `county` (a region code of it).
fn an_open_opening(w: &World, county: &str) -> crate::domain::Opening {
    let page = w
        .service
        .store()
        .list_openings(
            &crate::store::OpeningFilter {
                region_code: Some(county.into()),
                status: Some(crate::domain::OpeningStatus::Open),
                ..Default::default()
            },
            None,
            1,
        )
        .unwrap();
    page.items.into_iter().next().expect("an open opening")
}

/// The what-if headline's figures, as the page words them in Chinese.
fn want_text(a: &crate::batch::whatif::WhatIfAnswer) -> String {
    format!(
        "新增覆盖 {} 户，不再覆盖 {} 户（净 {:+}）；{} 人的分配会变化",
        a.newly_covered,
        a.no_longer_covered,
        a.after.zero_households_covered as i64 - a.before.zero_households_covered as i64,
        a.moves_total
    )
}

/// The text of the element with `id` (up to its first tag).
fn text_of(body: &str, id: &str) -> String {
    let at = format!("id=\"{id}\">");
    let start = body.find(&at).unwrap_or_else(|| panic!("no #{id}")) + at.len();
    body[start..start + body[start..].find('<').unwrap()].to_string()
}

#[tokio::test]
async fn the_what_if_page_answers_as_the_service_does_and_refuses_bad_fields() {
    let w = world(false);
    let c = w.company_session("431202").await;
    let like = an_open_opening(&w, "431202");
    // The form, filled in from the opening card's link.
    let (status, _, body) = w.get(&format!("/whatif?like={}", like.id), Some(&c)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&format!("value=\"{}\"", like.id)), "{body}");
    let (status, _, body) = w
        .submit(
            "/whatif",
            &c,
            &[("like", &like.id), ("like_headcount", "40")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The reference: the same change asked of the service directly.
    let mut copy = like.clone();
    copy.id = format!("{}-whatif", like.id);
    copy.headcount = 40;
    let caller = w.console.sessions().get(&c).unwrap().caller;
    let want = w
        .service
        .what_if(
            &caller,
            vec![crate::service::WhatIfChange::AddOpening(copy)],
            200,
        )
        .await
        .unwrap();
    let headline = text_of(&body, "whatif-headline");
    assert!(
        headline.contains(&want_text(&want)),
        "{headline:?} against {want:?}"
    );
    // An opening whose closing moves someone (the baseline fills it).
    let mut closing = None;
    for o in w
        .service
        .store()
        .list_openings(&Default::default(), None, 200)
        .unwrap()
        .items
        .into_iter()
        .filter(|o| o.region_code == "431202")
    {
        let a = w
            .service
            .what_if(
                &caller,
                vec![crate::service::WhatIfChange::CloseOpening(o.id.clone())],
                200,
            )
            .await
            .unwrap();
        if a.moves_total > 0 {
            closing = Some((o.id, a));
            break;
        }
    }
    let (closed, want) = closing.expect("an opening the baseline fills");
    let (status, _, body) = w.submit("/whatif", &c, &[("close", &closed)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let headline = text_of(&body, "whatif-headline");
    assert!(
        headline.contains(&want_text(&want)),
        "{headline:?} against {want:?}"
    );
    for m in &want.moves {
        assert!(body.contains(&m.worker_id), "{} not listed", m.worker_id);
    }
    // Bad fields: refused naming the field, before anything is solved.
    for (form, field) in [
        (
            vec![("like", like.id.as_str()), ("like_headcount", "lots")],
            "like_headcount",
        ),
        (
            vec![("resize", like.id.as_str()), ("resize_headcount", "-1")],
            "resize_headcount",
        ),
        (vec![], "changes"),
        (vec![("close", "no-such-opening")], "close_opening_id"),
    ] {
        let (status, _, body) = w.submit("/whatif", &c, &form).await;
        assert_ne!(status, StatusCode::OK, "{form:?}");
        assert!(
            refusal(&body).contains(field),
            "{form:?}: {}",
            refusal(&body)
        );
    }
    // Another county's opening may be read (openings are not secret) but
    // not copied into this county's what-if: refused as CreateOpening
    // would refuse it.
    let theirs = an_open_opening(&w, "431224");
    let (status, _, body) = w
        .submit(
            "/whatif",
            &c,
            &[("like", &theirs.id), ("like_headcount", "5")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(refusal(&body).contains("431224"), "{body}");
    // A recruiter may not ask.
    let (_, recruiter) = w.recruiter("gov-431202");
    let r = w.sign_in(&recruiter).await;
    let (status, _, _) = w.submit("/whatif", &r, &[("close", &like.id)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_console_post_refuses_a_form_without_its_csrf_token() {
    let w = world(false);
    let session = w.company_session("431202").await;
    let worker = w.first_worker("431202");
    let paths = [
        format!("/workers/{worker}/propose"),
        "/openings/o-1/propose".to_string(),
        "/runs/1/apply".to_string(),
        "/placements/p-1/step".to_string(),
        "/whatif".to_string(),
        "/signout".to_string(),
    ];
    for path in &paths {
        for form in [&[][..], &[("csrf", "wrong"), ("step", "hire")][..]] {
            let (status, _, body) = w.post(path, &session, form).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {form:?}");
            assert!(body.contains("CSRF"), "{path}");
        }
    }
    assert!(w.console.sessions().get(&session).is_some());
}
