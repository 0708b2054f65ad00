//! `Batch.WhatIf` through the generated client and `jobbridge whatif
//! --server` against the real server on 127.0.0.1: an answer that adds up,
//! nothing stored, and refusals that name the field.

use std::path::Path;

use crate::common::{assert_invalid, binary, opening, TestServer};
use jobbridge::api::pb;
use jobbridge::api::pb::what_if_change::Change;
use jobbridge::domain::EmploymentStatus;
use tonic::Code;

fn seed(dir: &Path) {
    let store = jobbridge::store::Store::open(dir).unwrap();
    let year = jobbridge::domain::current_year();
    let data = jobbridge::demo::generate(0.02, 11, year, chrono::Utc::now().date_naive());
    let key = jobbridge::store::id_key(None, None, &store).unwrap().0;
    jobbridge::demo::load(&store, &key, &data, year).unwrap();
}

fn change(c: Change) -> pb::WhatIfChange {
    pb::WhatIfChange { change: Some(c) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_answers_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let server = TestServer::start(dir.path()).await;
    let someone = server
        .store
        .workers()
        .map(Result::unwrap)
        .find(|w| w.employment_status == EmploymentStatus::Seeking)
        .unwrap();
    let mut workshop = opening(990_001);
    workshop.required_skills.clear();
    workshop.preferred_skills.clear();
    workshop.min_age = 16;
    workshop.max_age = 65;
    workshop.headcount = 50;
    workshop.region_code = someone.county_code.clone();
    workshop.location = Some(pb::GeoPoint {
        lat: someone.site_location.lat,
        lon: someone.site_location.lon,
    });
    let openings_before = server.store.opening_count();
    let mut c = server.batch();
    let mut request = tonic::Request::new(pb::WhatIfRequest {
        changes: vec![change(Change::AddOpening(workshop.clone()))],
        limit: 3,
    });
    request
        .metadata_mut()
        .insert("accept-language", "zh-CN".parse().unwrap());
    let r = c.what_if(request).await.unwrap().into_inner();
    let (before, after) = (r.before.unwrap(), r.after.unwrap());
    assert_eq!(
        after.zero_households_covered + r.households_no_longer_covered,
        before.zero_households_covered + r.households_newly_covered
    );
    assert!(after.total_score_micro >= before.total_score_micro);
    assert_eq!(
        r.score_change_micro,
        after.total_score_micro as i64 - before.total_score_micro as i64
    );
    assert!(r.moves.len() <= 3 && r.moves_total >= r.moves.len() as u64);
    assert!(r.counties.is_empty(), "an admin reads every county");
    for county in &r.by_county {
        assert_ne!(county.county_name, county.county_code, "named in Chinese");
    }
    assert_eq!(server.store.opening_count(), openings_before);
    assert!(server.store.opening(&workshop.id).unwrap().is_none());

    // Refusals name the field.
    let unknown = c
        .what_if(pb::WhatIfRequest {
            changes: vec![change(Change::ResizeOpening(pb::ResizeOpening {
                opening_id: "o-nobody".into(),
                headcount: 5,
            }))],
            limit: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    assert!(unknown
        .message()
        .contains("changes[0].resize_opening.opening_id"));
    let mut untitled = workshop.clone();
    untitled.title.clear();
    let invalid = c
        .what_if(pb::WhatIfRequest {
            changes: vec![
                change(Change::CloseOpeningId(workshop.id.clone())),
                change(Change::AddOpening(untitled)),
            ],
            limit: 0,
        })
        .await
        .unwrap_err();
    assert_invalid(&invalid, "changes[1].add_opening.title", "untitled opening");

    // The command line, against the same server.
    let (addr, token) = (server.addr.to_string(), server.admin_token.clone());
    let gone = someone.id.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(binary())
            .args(["whatif", "--server", &addr, "--token", &token])
            .args(["--remove-worker", &gone, "--json", "--lang", "en"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["before"]["hires"].as_u64().unwrap() > 0, "{json}");
    assert!(server.store.worker(&someone.id).unwrap().is_some());
    server.stop().await;
}
