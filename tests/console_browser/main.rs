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
//! the screenshots README and docs/console.md show to docs/console/*.png.

mod browser;
#[path = "../common/mod.rs"]
mod common;
mod served;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use jobbridge::api::pb;
use serde_json::{json, Value};

use browser::Browser;
use common::Clients;
use served::{Driver, Served};

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

    step("a phone-sized window: the officer's pages do not scroll sideways");
    b.fits_a_phone(&[
        ("/caseload", "narrow-caseload"),
        (member, "narrow-worker"),
        ("/dashboard", "narrow-dashboard"),
        ("/whatif", "narrow-whatif"),
        ("/runs", "narrow-runs"),
    ])
    .await;

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

    step("what-if: close an opening the optimum fills, from its card; the API's answer");
    let (filled, api) = an_opening_whose_closing_moves_someone(&server, &officer).await;
    b.go(&format!("/openings/{filled}")).await;
    b.click("#whatif-like").await;
    assert_eq!(b.path().await, "/whatif");
    assert_eq!(
        b.attr("form.whatif input[name=like]", "value")
            .await
            .as_deref(),
        Some(filled.as_str()),
        "the card's link fills in the opening"
    );
    b.find("form.whatif input[name=like]")
        .await
        .clear()
        .await
        .unwrap();
    b.type_into("form.whatif input[name=close]", &filled).await;
    b.click("form.whatif button[type=submit]").await;
    let headline = b.text("#whatif-headline").await;
    eprintln!("  what-if: {headline}");
    let (before, after) = (api.before.unwrap(), api.after.unwrap());
    let net = after.zero_households_covered as i64 - before.zero_households_covered as i64;
    let want = format!(
        "新增覆盖 {} 户，不再覆盖 {} 户（净 {:+}）；{} 人的分配会变化",
        api.households_newly_covered, api.households_no_longer_covered, net, api.moves_total
    );
    assert!(
        headline.contains(&want),
        "{headline:?} against the API's {want:?}"
    );
    let figures = b.texts("table#whatif-figures tbody td.num").await;
    assert_eq!(
        figures[..4],
        [
            before.hires.to_string(),
            after.hires.to_string(),
            before.zero_households_covered.to_string(),
            after.zero_households_covered.to_string()
        ],
        "the page's figures are not the API's"
    );
    let listed = b.texts("table#whatif-moves tbody td:first-child a").await;
    let moved: Vec<String> = api.moves.iter().map(|m| m.worker_id.clone()).collect();
    assert_eq!(listed, moved, "the page's movers are not the API's");
    b.shot("whatif").await;

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
    let opening_page = format!("/openings/{}", employer.id);
    b.fits_a_phone(&[(&opening_page, "narrow-opening-recruiter")])
        .await;

    b.close(&driver).await;
    drop(driver);
    server.stop();
    step("done");
}

/// An open opening of the county whose closing moves someone in the
/// what-if of `token` (the optimum fills it), with the API's answer.
async fn an_opening_whose_closing_moves_someone(
    server: &Served,
    token: &str,
) -> (String, pb::WhatIfResponse) {
    let clients = server.clients(token).await;
    let openings = open_openings(&clients).await;
    for o in openings {
        let answer = clients
            .batch()
            .what_if(pb::WhatIfRequest {
                changes: vec![pb::WhatIfChange {
                    change: Some(pb::what_if_change::Change::CloseOpeningId(o.id.clone())),
                }],
                limit: 200,
            })
            .await
            .expect("WhatIf as the county's company")
            .into_inner();
        if answer.moves_total > 0 {
            return (o.id, answer);
        }
    }
    panic!("no opening of {COUNTY} whose closing moves anyone");
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

/// The county's open openings (the first 50), as `clients` may list them.
async fn open_openings(clients: &Clients) -> Vec<pb::Opening> {
    clients
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
        .openings
}

/// An open opening of the county that has ranked candidates.
async fn an_opening_with_candidates(admin: &Clients) -> pb::Opening {
    let openings = open_openings(admin).await;
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
