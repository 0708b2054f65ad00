//! The console in a real browser (issue 29): Debian's headless chromium,
//! driven through chromedriver (WebDriver over plain HTTP on loopback) by
//! fantoccini, against `jobbridge serve --demo` run as a child process.
//!
//! One server, one browser session, one test that plays a case officer's
//! day on the demo data in Chinese, then the roles and the defences, step by
//! step (each step names itself on failure). Where chromium or chromedriver
//! is missing the test says SKIPPED (past the harness's output capture, so
//! `cargo test` shows it) and passes.
//!
//! `JOBBRIDGE_SCREENSHOTS=1 cargo test --test console_browser` also writes
//! the screenshots README shows to docs/console/*.png.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use jobbridge::api::pb;
use serde_json::{json, Value};

use common::Clients;

/// Debian's; `JOBBRIDGE_CHROMIUM` and `JOBBRIDGE_CHROMEDRIVER` name others.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long the demo server and chromedriver may take to come up (a debug
/// build writes 50k demo workers first).
const START_DEADLINE: Duration = Duration::from_secs(180);
/// How long the browser waits for an element after a navigation.
const ELEMENT_WAIT: Duration = Duration::from_secs(20);
/// The county the officer works for, and a county that is not hers.
const COUNTY: &str = "431202";
const OTHER_COUNTY: &str = "431224";
const XSS_NAME: &str = "<img src=x onerror=alert(1)>";

fn chromium() -> String {
    std::env::var("JOBBRIDGE_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into())
}

fn chromedriver() -> String {
    std::env::var("JOBBRIDGE_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into())
}

/// Whether chromium and chromedriver are here; says SKIPPED if not.
fn browser_present() -> bool {
    let present = Path::new(&chromium()).exists() && Path::new(&chromedriver()).exists();
    if !present {
        // Straight to the process's stderr, past the test harness's
        // capture, so that a passing run still shows it.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no chromium/chromedriver (apt-get install chromium chromium-driver)"
        );
    }
    present
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_headless_chromium() {
    if !browser_present() {
        return;
    }
    let started = Instant::now();
    let server = Served::start();
    let driver = Driver::start();
    let admin = server.clients(&server.admin_token).await;
    let b = Browser::open(&driver, &server.console).await;
    let step = |name: &str| {
        eprintln!("[{:>6.1} s] {name}", started.elapsed().as_secs_f64());
    };

    step("tokens and the worker with a script for a name, over gRPC");
    let (officer, officer_id) = token(&admin, pb::Role::ServiceCompany, &[COUNTY], "").await;
    let employer = an_opening_with_candidates(&admin).await;
    let (recruiter, _) = token(&admin, pb::Role::Recruiter, &[], &employer.employer_id).await;
    let xss_worker = create_xss_worker(&admin).await;

    step("sign in as the county's company");
    b.sign_in(&officer).await;
    assert_eq!(b.path().await, "/caseload");
    let lang = b.attr("html", "lang").await;
    assert_eq!(
        lang.as_deref(),
        Some("zh-CN"),
        "the console is not in Chinese"
    );
    b.shot("caseload").await;

    step("dashboard before");
    let before = b.figures().await;

    step("a zero-employment household in the caseload: open a member");
    b.go("/caseload").await;
    let member = b
        .eval(
            "const row = [...document.querySelectorAll('table#caseload tbody tr')]
                .find(r => r.querySelector('span.flag.zero'));
             return row ? row.querySelector('a').getAttribute('href') : null;",
        )
        .await;
    let member = member
        .as_str()
        .expect("no zero-employment household on page 1");
    b.go(member).await;
    b.find("#zero-flag").await;

    step("read the recommendations with their score components");
    let first = b.first_recommendation().await;
    let components = b.text("table#recommendations table.components").await;
    for name in ["技能", "通勤", "薪资"] {
        assert!(components.contains(name), "no {name} in {components:?}");
    }

    step("propose the first, see the notice");
    b.click(&format!(
        "table#recommendations tr[data-opening='{first}'] button.propose"
    ))
    .await;
    assert!(b.text("#notice").await.contains("已推荐"));
    let placement = b.find("div.placement").await;
    assert_eq!(
        placement.attr("data-status").await.unwrap().as_deref(),
        Some("PROPOSED")
    );

    step("record a decline with its reason");
    b.select("form.decline select[name=decline_code]", 1).await;
    b.type_into("form.decline input[name=note]", "离家太远，需照顾老人")
        .await;
    b.click("form.decline button[type=submit]").await;
    assert!(b.text("#notice").await.contains("已记录拒绝"));
    let declined = b.text("div.placement p.declined").await;
    assert!(declined.contains("离家太远"), "{declined:?}");

    step("propose the declined pair again: refused, naming the decline");
    let still_listed = b
        .exists(&format!("table#recommendations tr[data-opening='{first}']"))
        .await;
    assert!(!still_listed, "a declined opening is still recommended");
    // As from a page loaded before the decline: another recommendation's
    // form, sent with the declined opening.
    b.navigate_with(
        "const f = document.querySelector('table#recommendations form');
         f.querySelector('input[name=opening_id]').value = arguments[0];
         f.querySelector('button.propose').click();",
        vec![json!(first)],
    )
    .await;
    let refusal = b.text("#refusal").await;
    eprintln!("  refusal: {refusal}");
    assert!(refusal.contains("DECLINED_BEFORE"), "{refusal:?}");
    assert_eq!(b.text("h1").await, "当前状态不允许此操作");
    b.shot_named_later("worker", member).await;

    step("CSRF: a form posted without its token is refused");
    b.go(member).await;
    b.navigate_with(
        "const f = document.querySelector('table#recommendations form');
         f.querySelector('input[name=csrf]').remove();
         f.querySelector('button.propose').click();",
        Vec::new(),
    )
    .await;
    assert_eq!(b.text("h1").await, "表单已失效");
    assert!(b.text("#refusal").await.contains("CSRF"));
    let status = b
        .fetch_status(&format!("{member}/propose"), &format!("opening_id={first}"))
        .await;
    assert_eq!(status, 403, "a post without the CSRF token");

    step("hire another worker: propose, accept, hire");
    let hired = another_seeker(&b, member).await;
    b.go(&hired).await;
    let opening = b.first_recommendation().await;
    b.click(&format!(
        "table#recommendations tr[data-opening='{opening}'] button.propose"
    ))
    .await;
    b.click("div.placement button.accept").await;
    assert!(b.text("#notice").await.contains("已记录接受"));
    b.click("form.hire button[type=submit]").await;
    assert!(b.text("#notice").await.contains("已记录上岗"));
    let placement = b.find("div.placement").await;
    assert_eq!(
        placement.attr("data-status").await.unwrap().as_deref(),
        Some("HIRED")
    );

    step("record a check-in");
    // A hire cannot be dated before its proposal, so no check-in is due
    // on the day of a first proposal and the page offers none yet: post
    // the step form's fields as the check-in form would.
    assert!(!b.exists("form.checkin").await, "a check-in is due already");
    let placement_id = placement.attr("id").await.unwrap().unwrap();
    let placement_id = placement_id.trim_start_matches("placement-");
    let status = b
        .fetch_status(
            &format!("/placements/{placement_id}/step"),
            "step=checkin&month=1&still_employed=yes&note=%E5%9C%A8%E5%B2%97&csrf=",
        )
        .await;
    assert_eq!(status, 200, "the check-in after the redirect");
    b.go(&hired).await;
    let checked = b.text("div.placement").await;
    assert!(checked.contains("1个月 在岗"), "{checked:?}");

    step("the dashboard's figures moved");
    let after = b.figures().await;
    assert_eq!(after.hires, before.hires + 1, "{before:?} -> {after:?}");
    assert_eq!(after.in_work, before.in_work + 1, "{before:?} -> {after:?}");
    b.shot("dashboard").await;

    step("propose from an opening's ranked candidates (before the run's proposals)");
    b.go(&format!("/openings/{}", employer.id)).await;
    // Another county's workers are ranked too, but not hers to propose.
    let foreign = b
        .eval_with(
            "return [...document.querySelectorAll('table#candidates tbody tr')]
                .filter(tr => tr.cells[2].textContent.trim() !== arguments[0]
                              && tr.querySelector('button.propose, td.name a'))
                .length;",
            vec![json!(COUNTY)],
        )
        .await;
    assert_eq!(foreign, json!(0), "another county's worker may be proposed");
    b.click("table#candidates button.propose").await;
    assert!(b.text("#notice").await.contains("已推荐"));
    assert_eq!(b.path().await, format!("/openings/{}", employer.id));

    step("a staged run, reviewed and applied for the county");
    let run_id = staged_run(&admin).await;
    b.go("/runs").await;
    b.click(&format!("table#runs tr[data-run='{run_id}'] a"))
        .await;
    b.find(&format!("#county-{COUNTY}")).await;
    b.shot("run-review").await;
    b.mark().await;
    b.find(&format!("#county-{COUNTY} button.apply"))
        .await
        .click()
        .await
        .expect("click apply");
    b.accept_confirm().await;
    b.loaded().await;
    let applied = b.text("#applied").await;
    assert!(applied.contains(COUNTY), "{applied:?}");

    step("a worker of another county is not found, as one that does not exist");
    let theirs = a_worker_of(&admin, OTHER_COUNTY).await;
    let number = theirs.split('/').nth(1).unwrap().to_string();
    b.go(&format!("/workers/{theirs}")).await;
    let other = b.text("#refusal").await;
    assert_eq!(b.status_heading().await, "未找到");
    b.go(&format!("/workers/{OTHER_COUNTY}/w-9999999")).await;
    let missing = b.text("#refusal").await;
    eprintln!("  refusals: {other:?} and {missing:?}");
    assert_eq!(
        other.replace(&number, "ID"),
        missing.replace("w-9999999", "ID"),
        "another county's worker is told apart from a missing one"
    );

    step("a name that is markup renders as text");
    b.go(&format!("/workers/{xss_worker}")).await;
    assert_eq!(b.text("#profile h2").await, XSS_NAME);
    assert!(!b.exists("#profile h2 img, #household img").await);
    assert!(b.client.get_alert_text().await.is_err(), "an alert is open");
    b.go(&format!(
        "/caseload?q={}",
        xss_worker.split('/').nth(1).unwrap()
    ))
    .await;
    assert_eq!(b.text("table#caseload tbody td a").await, XSS_NAME);
    assert!(!b.exists("table#caseload img").await);

    step("revoking the token ends the session");
    admin
        .admin()
        .revoke_token(pb::RevokeTokenRequest {
            token_id: officer_id,
        })
        .await
        .expect("RevokeToken");
    b.go("/caseload").await;
    assert_eq!(b.path().await, "/signin");

    step("a recruiter sees masked names");
    b.sign_in(&recruiter).await;
    assert_eq!(b.path().await, "/openings");
    b.go(&format!("/openings/{}", employer.id)).await;
    // Masked as the API masks them for this recruiter: every name but
    // those of workers who consented to share.
    let api = server
        .clients(&recruiter)
        .await
        .matching()
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: employer.id.clone(),
            top_k: 20,
            ..Default::default()
        })
        .await
        .expect("MatchWorkersForOpening as the recruiter")
        .into_inner()
        .matches;
    let names = b
        .eval(
            "return [...document.querySelectorAll('table#candidates td.name')]
                .map(td => td.firstChild.textContent.trim());",
        )
        .await;
    let names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let expected: Vec<&str> = api.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, expected, "the page's names are not the API's");
    assert!(api.iter().any(|m| m.masked), "no masked candidate");
    for m in &api {
        assert_eq!(m.masked, m.name.contains('*'), "{m:?}");
    }
    let masked_rows = b.texts("table#candidates tr[data-worker=''] td.name").await;
    assert_eq!(masked_rows.len(), api.iter().filter(|m| m.masked).count());
    for name in &masked_rows {
        assert!(name.contains('*'), "unmasked name {name:?}");
    }
    assert!(!b.exists("table#candidates td.name a").await);
    b.shot("opening-recruiter").await;

    b.close(&driver).await;
    drop(driver);
    server.stop();
    step("done");
}

/// A `jobbridge serve --demo` child process; killed when dropped.
struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    console: String,
    grpc: SocketAddr,
    admin_token: String,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts the server on ports of its choosing and reads the console's
    /// address and the admin token from its stdout, the gRPC address from
    /// its log.
    fn start() -> Served {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("serve.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(common::binary())
            .arg("serve")
            .arg("--demo")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0"])
            .arg("--no-schedule")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env_remove("JOBBRIDGE_LISTEN")
            .env_remove("JOBBRIDGE_TLS_CERT")
            .env_remove("JOBBRIDGE_TLS_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn jobbridge serve --demo");
        // Read stdout to its end (the pipe must never fill up).
        let out = Arc::new(Mutex::new(Vec::<String>::new()));
        let stdout = child.stdout.take().unwrap();
        let lines = out.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let printed = out.lock().unwrap().clone();
            let token = printed
                .iter()
                .map(|l| l.trim())
                .find(|l| l.starts_with("jb.") && !l.contains(' '));
            let console = printed
                .iter()
                .find_map(|l| l.strip_prefix("Console: "))
                .and_then(|l| l.split_whitespace().next());
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let grpc = log
                .lines()
                .filter(|l| l.contains("serving gRPC"))
                .find_map(|l| l.split_whitespace().find_map(|f| f.strip_prefix("addr=")));
            if let (Some(token), Some(console), Some(grpc)) = (token, console, grpc) {
                return Served {
                    console: console.trim_end_matches('/').to_string(),
                    grpc: grpc.parse().expect("gRPC address"),
                    admin_token: token.to_string(),
                    child,
                    _dir: dir,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited with {status}; stdout {printed:?}; log:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "serve --demo not up after {START_DEADLINE:?}; stdout {printed:?}; log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The gRPC clients of `token`.
    async fn clients(&self, token: &str) -> Clients {
        let raw = tonic::transport::Endpoint::from_shared(format!("http://{}", self.grpc))
            .unwrap()
            .connect()
            .await
            .expect("connect to the gRPC port");
        Clients::new(common::Channel::new(raw, Some(token)).unwrap())
    }

    /// SIGTERM, and the exit (the store flushed).
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver on a free loopback port. Dropped, it ends the browser
/// session first (chromium outlives a killed chromedriver), then itself.
struct Driver {
    child: Child,
    port: u16,
    url: String,
    profile: tempfile::TempDir,
    /// The session opened on it, to end if the test panics.
    session: Mutex<Option<String>>,
}

impl Driver {
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let deadline = Instant::now() + START_DEADLINE;
        // chromedriver is not ours to hand a bound listener to: wait for
        // its port to answer.
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            profile: tempfile::tempdir().unwrap(),
            session: Mutex::new(None),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let session = self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let (Some(id), Ok(mut conn)) = (session, TcpStream::connect(("127.0.0.1", self.port))) {
            // WebDriver's Delete Session, by hand: Drop cannot await.
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                conn,
                "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = std::io::Read::read_to_end(&mut conn, &mut Vec::new());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The figures of the dashboard the test follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Figures {
    hires: u64,
    in_work: u64,
}

/// One browser session on the console at `base`.
struct Browser {
    client: Client,
    base: String,
}

impl Browser {
    async fn open(driver: &Driver, base: &str) -> Browser {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--lang=zh-CN",
                    format!("--user-data-dir={}", driver.profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": "zh-CN,zh" },
            }),
        );
        // Leave confirm() dialogs open for the test to accept.
        caps.insert("unhandledPromptBehavior".into(), json!("ignore"));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a chromium session through chromedriver");
        *driver.session.lock().unwrap() = client.session_id().await.unwrap();
        client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
        Browser {
            client,
            base: base.to_string(),
        }
    }

    async fn go(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    /// The current page's path.
    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    async fn sign_in(&self, token: &str) {
        self.go("/signin").await;
        self.type_into("input#token", token).await;
        self.click("button#signin-submit").await;
        self.find("header.top").await;
    }

    /// Waits for the element `css`.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(ELEMENT_WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!("no {css} on {}: {e}", self.where_am_i().await),
        }
    }

    /// The page's heading.
    async fn status_heading(&self) -> String {
        self.text("h1").await
    }

    async fn where_am_i(&self) -> String {
        let url = self.client.current_url().await.map(|u| u.to_string());
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let text: String = text.chars().take(600).collect();
        format!("{url:?}, page text: {text:?}")
    }

    async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(e.text().await.unwrap());
        }
        out
    }

    async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap()
    }

    /// Clicks `css` (a link or a submit button) and waits for the page it
    /// leads to, so that nothing is read from the page before.
    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.mark().await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
        self.loaded().await;
    }

    /// Runs `script`, which leaves the page, and waits for the next one.
    async fn navigate_with(&self, script: &str, args: Vec<Value>) {
        self.mark().await;
        self.eval_with(script, args).await;
        self.loaded().await;
    }

    /// Marks the current document, for [`Browser::loaded`].
    async fn mark(&self) {
        self.eval("window.jbLeft = true;").await;
    }

    /// Waits until a document without the mark has loaded.
    async fn loaded(&self) {
        let deadline = Instant::now() + ELEMENT_WAIT;
        loop {
            let fresh = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !window.jbLeft;",
                    Vec::new(),
                )
                .await;
            // An error is a page in between (or a dialog still open).
            if let Ok(Value::Bool(true)) = fresh {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no new page after {ELEMENT_WAIT:?}: {}",
                self.where_am_i().await
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap();
    }

    async fn select(&self, css: &str, index: usize) {
        self.find(css).await.select_by_index(index).await.unwrap();
    }

    async fn eval(&self, script: &str) -> Value {
        self.eval_with(script, Vec::new()).await
    }

    async fn eval_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Posts `body` to `path` from the page with fetch (the page's cookies,
    /// its CSRF token appended when `body` ends in `csrf=`), and answers the
    /// final status.
    async fn fetch_status(&self, path: &str, body: &str) -> u64 {
        let status = self
            .client
            .execute_async(
                "const [path, body, done] = arguments;
                 let sent = body;
                 if (body.endsWith('csrf=')) {
                     sent += encodeURIComponent(document.querySelector('input[name=csrf]').value);
                 }
                 fetch(path, {method: 'POST', body: sent,
                              headers: {'Content-Type': 'application/x-www-form-urlencoded'}})
                     .then(r => done(r.status), e => done(String(e)));",
                vec![json!(path), json!(body)],
            )
            .await
            .expect("fetch");
        status
            .as_u64()
            .unwrap_or_else(|| panic!("fetch {path}: {status}"))
    }

    /// The recommendation at the top of a worker's page.
    async fn first_recommendation(&self) -> String {
        self.attr("table#recommendations > tbody > tr", "data-opening")
            .await
            .expect("a recommendation")
    }

    /// Accepts the confirm() the apply button opens.
    async fn accept_confirm(&self) {
        let deadline = Instant::now() + ELEMENT_WAIT;
        loop {
            match self.client.accept_alert().await {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => panic!("no confirm dialog: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn figures(&self) -> Figures {
        self.go("/dashboard").await;
        let number = |s: String| {
            s.trim()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("not a number: {s:?}"))
        };
        Figures {
            hires: number(self.text("#figures #hires .value").await),
            in_work: number(self.text("#figures #in-work .value").await),
        }
    }

    /// Saves a screenshot to docs/console/`name`.png when
    /// JOBBRIDGE_SCREENSHOTS=1.
    async fn shot(&self, name: &str) {
        if std::env::var("JOBBRIDGE_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/console");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Goes back to `path` and saves it as `name` (a page whose refusal
    /// was just shown).
    async fn shot_named_later(&self, name: &str, path: &str) {
        if std::env::var("JOBBRIDGE_SCREENSHOTS").as_deref() == Ok("1") {
            self.go(path).await;
            self.shot(name).await;
        }
    }

    async fn close(self, driver: &Driver) {
        if self.client.close().await.is_ok() {
            driver.session.lock().unwrap().take();
        }
    }
}

/// A token of `role`; answers it and its id.
async fn token(
    admin: &Clients,
    role: pb::Role,
    counties: &[&str],
    employer_id: &str,
) -> (String, String) {
    let reply = admin
        .admin()
        .create_token(pb::CreateTokenRequest {
            role: role as i32,
            counties: counties.iter().map(|c| c.to_string()).collect(),
            employer_id: employer_id.to_string(),
            label: "console browser test".into(),
        })
        .await
        .expect("CreateToken")
        .into_inner();
    (reply.token, reply.info.unwrap().token_id)
}

/// An open opening of the county that has ranked candidates.
async fn an_opening_with_candidates(admin: &Clients) -> pb::Opening {
    let openings = admin
        .openings()
        .list_openings(pb::ListOpeningsRequest {
            page_size: 50,
            region_code: COUNTY.into(),
            status: pb::OpeningStatus::Open as i32,
            ..Default::default()
        })
        .await
        .expect("ListOpenings")
        .into_inner()
        .openings;
    for o in openings {
        let ranked = admin
            .matching()
            .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
                opening_id: o.id.clone(),
                top_k: 5,
                ..Default::default()
            })
            .await
            .expect("MatchWorkersForOpening")
            .into_inner();
        if !ranked.matches.is_empty() {
            return o;
        }
    }
    panic!("no open opening of {COUNTY} with candidates");
}

/// A worker of the county whose name is markup; answers its whole id.
async fn create_xss_worker(admin: &Clients) -> String {
    let mut w = common::worker(990_001);
    w.name = XSS_NAME.into();
    w.phone = "13900990001".into();
    admin
        .workers()
        .create_worker(pb::CreateWorkerRequest { worker: Some(w) })
        .await
        .expect("CreateWorker")
        .into_inner()
        .worker
        .unwrap()
        .id
}

/// The whole id of a worker of `county`.
async fn a_worker_of(admin: &Clients, county: &str) -> String {
    let workers = admin
        .workers()
        .list_workers(pb::ListWorkersRequest {
            page_size: 1,
            county_code: county.into(),
            ..Default::default()
        })
        .await
        .expect("ListWorkers")
        .into_inner()
        .workers;
    workers[0].id.clone()
}

/// Another seeker of the caseload than `not`, with a recommendation.
async fn another_seeker(b: &Browser, not: &str) -> String {
    b.go("/caseload?status=seeking").await;
    let hrefs = b
        .eval(
            "return [...document.querySelectorAll('table#caseload tbody tr td:first-child a')]
                .map(a => a.getAttribute('href'));",
        )
        .await;
    for href in hrefs.as_array().unwrap().iter().filter_map(Value::as_str) {
        if href == not {
            continue;
        }
        b.go(href).await;
        if b.exists("table#recommendations > tbody > tr").await {
            return href.to_string();
        }
    }
    panic!("no other seeker with a recommendation");
}

/// Starts a staged (dry) run as the admin and waits until it succeeded.
async fn staged_run(admin: &Clients) -> u64 {
    let mut batch = admin.batch();
    let run_id = batch
        .start_run(pb::StartRunRequest {
            dry_run: true,
            ..Default::default()
        })
        .await
        .expect("StartRun")
        .into_inner()
        .run_id;
    let run = common::wait_for_run(&mut batch, run_id).await;
    assert_eq!(run.status, pb::RunStatus::Succeeded as i32, "{run:?}");
    assert!(run.staged, "a dry run is staged");
    run_id
}
