//! README's county day: the nightly run reviewed, and a decline recorded
//! (docs/matching.md), on a fresh demo as README starts it.

use jobbridge::api::pb;

use super::walk::violations;
use super::{assert_fields, assert_quoted, assert_status, demo_server, run_cli, Readme};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nightly_review_prints_what_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(&dir.path().join("data")).await;
    let admin = server.admin_token.clone();
    let xupu = super::tokens::xupu_token(&server).await;
    let tokens = [("TOKEN", admin.as_str()), ("XUPU", xupu.as_str())];
    let mut md = Readme::load();
    md.section("## A county company's day: the nightly run reviewed");

    // The staged run, the company's view of it, its diff and Xupu's apply.
    for fragment in [
        "-- batch --server 127.0.0.1:50051 --token \"$TOKEN\" --dry-run",
        "-- batch list --server",
        "-- batch diff 1 ",
        "-- batch apply 1 ",
    ] {
        let command = md.command(fragment);
        let out = run_cli(&command, dir.path(), &server, &tokens);
        assert_eq!(out.code, 0, "{command}: {}", out.all);
        assert_quoted(md.quote(), &out.all);
    }

    md.command(r#"-d '{"run_id":1,"county_code":"431225","counts_only":true}'"#);
    let mut batch = server.batch();
    batch
        .diff_run(pb::DiffRunRequest {
            run_id: 1,
            county_code: "431225".into(),
            counts_only: true,
        })
        .await
        .unwrap();
    md.command(r#"-d '{"run_id":1,"county_code":"431225","actor":"clerk-xiang"}'"#);
    batch
        .apply_run(pb::ApplyRunRequest {
            run_id: 1,
            county_code: "431225".into(),
            actor: "clerk-xiang".into(),
        })
        .await
        .unwrap();

    for fragment in [
        "-- batch apply 1 --server 127.0.0.1:50051 --token \"$TOKEN\" --county 431224 --yes",
        "-- batch apply 1 --server 127.0.0.1:50051 --token \"$TOKEN\" --yes",
        "-- batch --server 127.0.0.1:50051 --token \"$TOKEN\" --dry-run",
        "-- batch diff 2 ",
    ] {
        let command = md.command(fragment);
        let out = run_cli(&command, dir.path(), &server, &tokens);
        let refused = out.all.contains("Error: ");
        assert_eq!(
            out.code,
            if refused { 65 } else { 0 },
            "{command}: {}",
            out.all
        );
        assert_quoted(md.quote(), &out.all);
    }

    decline(&server).await;
    server.stop().await;
}

/// "Recording a decline" (docs/matching.md): the text names the worker and
/// the opening of the placement it declines; the pair is then refused and
/// explained.
async fn decline(server: &crate::common::TestServer) {
    let mut md = Readme::open("docs/matching.md");
    md.section("### Recording a decline");
    let mut placements = server.placements();
    md.command(r#"-d '{"placement_id":"P000000000004","reason_code":"DECLINE_REASON_FAMILY_CARE""#);
    let declined = placements
        .decline(pb::DeclineRequest {
            placement_id: "P000000000004".into(),
            reason_code: pb::DeclineReason::FamilyCare as i32,
            reason: "孩子在安置点上学，离不开".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let said = md.between(
        "On README's fresh demo, after its nightly review, that is ",
        ';',
    );
    assert_eq!(
        said,
        format!("{}'s offer of {}", declined.worker_id, declined.opening_id),
        "README names another pair"
    );
    let number = declined.worker_id.split('/').nth(1).unwrap().to_string();
    let pair = format!(
        r#"-d '{{"worker_id":"{number}","opening_id":"{}"}}'"#,
        declined.opening_id
    );
    md.command(&pair);
    let refused = placements
        .propose(pb::ProposeRequest {
            worker_id: number.clone(),
            opening_id: declined.opening_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);
    md.command(&pair);
    let explained = server
        .matching()
        .explain_match(pb::ExplainMatchRequest {
            worker_id: number,
            opening_id: declined.opening_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_fields(md.quote(), &violations(&explained));
}
