//! README's walk-through with grpcurl, call by call.

use jobbridge::api::pb;

use super::{assert_fields, assert_status, demo_server, Readme};

/// grpcurl's JSON of a string field.
pub fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// The worker README's `UpsertWorker` sends, read from its JSON as grpcurl
/// reads it (enums by name, snake_case fields): the call below sends the
/// text's own worker, so the text cannot drift from what is checked.
fn worker_from_json(v: &serde_json::Value) -> pb::Worker {
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let number = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or_default() as u32;
    let named = |v: &serde_json::Value, k: &str, of: fn(&str) -> Option<i32>| {
        v[k].as_str()
            .map(|n| of(n).unwrap_or_else(|| panic!("README's {k}: unknown {n}")))
            .unwrap_or_default()
    };
    let skills = |k: &str| {
        v[k].as_array()
            .into_iter()
            .flatten()
            .map(|s| pb::Skill {
                code: text(s, "code"),
                level: number(s, "level"),
            })
            .collect()
    };
    let p = &v["preferences"];
    let at = &v["site_location"];
    pb::Worker {
        id: text(v, "id"),
        household_id: text(v, "household_id"),
        name: text(v, "name"),
        national_id: text(v, "national_id"),
        gender: named(v, "gender", |n| {
            pb::Gender::from_str_name(n).map(|e| e as i32)
        }),
        birth_year: number(v, "birth_year"),
        phone: text(v, "phone"),
        county_code: text(v, "county_code"),
        site_id: text(v, "site_id"),
        site_location: Some(pb::GeoPoint {
            lat: at["lat"].as_f64().unwrap(),
            lon: at["lon"].as_f64().unwrap(),
        }),
        labour_capacity: named(v, "labour_capacity", |n| {
            pb::LabourCapacity::from_str_name(n).map(|e| e as i32)
        }),
        education: named(v, "education", |n| {
            pb::Education::from_str_name(n).map(|e| e as i32)
        }),
        skills: skills("skills"),
        certificates: skills("certificates"),
        preferences: Some(pb::WorkerPreferences {
            mobility: named(p, "mobility", |n| {
                pb::Mobility::from_str_name(n).map(|e| e as i32)
            }),
            max_commute_km: number(p, "max_commute_km"),
            expected_monthly_wage: number(p, "expected_monthly_wage"),
            preferred_sources: p["preferred_sources"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| pb::Source::from_str_name(s.as_str().unwrap()).unwrap() as i32)
                .collect(),
            needs_flexible_hours: p["needs_flexible_hours"].as_bool().unwrap_or_default(),
            ..Default::default()
        }),
        employment_status: named(v, "employment_status", |n| {
            pb::EmploymentStatus::from_str_name(n).map(|e| e as i32)
        }),
        service_company_id: text(v, "service_company_id"),
        ..Default::default()
    }
}

/// README's `ws-demo-1`.
fn demo_opening() -> pb::Opening {
    pb::Opening {
        id: "ws-demo-1".into(),
        source: pb::Source::AidWorkshop as i32,
        employer_id: "workshop-demo".into(),
        employer_name: "Xupu sewing workshop".into(),
        title: "Sewing machinist".into(),
        region_code: "431224".into(),
        location: Some(pb::GeoPoint {
            lat: 27.92,
            lon: 110.60,
        }),
        required_skills: vec![pb::SkillRequirement {
            code: "sewing".into(),
            min_level: 2,
        }],
        physical_demand: pb::PhysicalDemand::Light as i32,
        monthly_wage: 3000,
        headcount: 20,
        flexible_hours: true,
        reserved_for_relocated: true,
        start_date: "2026-12-01".into(),
        ..Default::default()
    }
}

/// The two rows of README's `ImportOpenings` call.
fn import_rows() -> Vec<pb::ImportOpeningsRequest> {
    let good = pb::Opening {
        id: "pw-demo-1".into(),
        source: pb::Source::PublicWelfare as i32,
        employer_id: "gov-431224".into(),
        employer_name: "Xupu posts".into(),
        title: "Forest ranger".into(),
        region_code: "431224".into(),
        location: Some(pb::GeoPoint {
            lat: 27.9,
            lon: 110.6,
        }),
        physical_demand: pb::PhysicalDemand::Light as i32,
        monthly_wage: 900,
        headcount: 1,
        start_date: "2026-12-01".into(),
        ..Default::default()
    };
    let bad = pb::Opening {
        id: "pw-demo-2".into(),
        source: pb::Source::PublicWelfare as i32,
        ..Default::default()
    };
    [good, bad]
        .into_iter()
        .map(|o| pb::ImportOpeningsRequest {
            opening: Some(o),
            check_only: false,
        })
        .collect()
}

/// Today in China, as `$(TZ=Asia/Shanghai date +%F)`.
pub fn china_today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%F")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walk_through_prints_what_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(&dir.path().join("data")).await;
    let admin = server.clients();
    let mut md = Readme::load();
    md.section("## A walk through with grpcurl");

    md.command("grpcurl -plaintext 127.0.0.1:50051 jobbridge.v1.Workers/GetWorker");
    let refused = server
        .clients_with(None)
        .workers()
        .get_worker(pb::GetWorkerRequest::default())
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);

    let whole = md.between("the reply's id is the whole one, \"", '"');
    md.command(r#"-d '{"id":"w-0000004"}' 127.0.0.1:50051 jobbridge.v1.Workers/GetWorker"#);
    let read = admin
        .workers()
        .get_worker(pb::GetWorkerRequest {
            id: "w-0000004".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.worker.unwrap().id, whole);

    md.command(
        r#"-d '{"household_id":"hh-0000003"}' 127.0.0.1:50051 jobbridge.v1.Workers/GetHousehold"#,
    );
    admin
        .workers()
        .get_household(pb::GetHouseholdRequest {
            household_id: "hh-0000003".into(),
        })
        .await
        .unwrap();

    let sent = worker_from_json(&md.data("jobbridge.v1.Workers/UpsertWorker")["worker"]);
    assert_eq!(sent.id, "w-demo-1", "README's worker, read whole");
    md.command("}' 127.0.0.1:50051 jobbridge.v1.Workers/UpsertWorker");
    let upserted = admin
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(sent),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let w = upserted.worker.unwrap();
    assert_fields(
        md.quote(),
        &[
            ("id", q(&w.id)),
            ("householdId", q(&w.household_id)),
            ("created", upserted.created.to_string()),
        ],
    );

    md.command("127.0.0.1:50051 jobbridge.v1.Workers/CreateWorker");
    let bad = pb::Worker {
        id: "w-bad".into(),
        household_id: "h".into(),
        name: "x".into(),
        national_id: "431224199003150026".into(),
        ..Default::default()
    };
    let refused = admin
        .workers()
        .create_worker(pb::CreateWorkerRequest { worker: Some(bad) })
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);

    md.command("}' 127.0.0.1:50051 jobbridge.v1.Openings/CreateOpening");
    admin
        .openings()
        .create_opening(pb::CreateOpeningRequest {
            opening: Some(demo_opening()),
        })
        .await
        .unwrap();

    md.command(r#"-d '{"worker_id":"w-demo-1","top_k":3}' 127.0.0.1:50051 jobbridge.v1.Matching/MatchOpeningsForWorker"#);
    let mut matching = admin.matching();
    let found = matching
        .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
            worker_id: "w-demo-1".into(),
            top_k: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!found.matches.is_empty(), "no opening suits w-demo-1");
    md.command(r#"-d '{"opening_id":"ws-demo-1","top_k":5}' 127.0.0.1:50051 jobbridge.v1.Matching/MatchWorkersForOpening"#);
    let found = matching
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: "ws-demo-1".into(),
            top_k: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!found.matches.is_empty(), "nobody suits ws-demo-1");
    md.command(r#"-d '{"worker_id":"w-0000003","opening_id":"ws-demo-1"}' 127.0.0.1:50051 jobbridge.v1.Matching/ExplainMatch"#);
    let explained = matching
        .explain_match(pb::ExplainMatchRequest {
            worker_id: "w-0000003".into(),
            opening_id: "ws-demo-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_fields(md.quote(), &violations(&explained));

    md.command("127.0.0.1:50051 jobbridge.v1.Openings/ImportOpenings");
    let imported = admin
        .openings()
        .import_openings(tokio_stream::iter(import_rows()))
        .await
        .unwrap()
        .into_inner();
    let mut fields = vec![
        ("accepted", q(&imported.accepted.to_string())),
        ("rejected", q(&imported.rejected.to_string())),
        ("created", q(&imported.created.to_string())),
    ];
    for e in &imported.errors {
        fields.extend([("row", q(&e.row.to_string())), ("id", q(&e.id))]);
        fields.push(("field", q(&e.field)));
    }
    for c in &imported.changes {
        fields.extend([("row", q(&c.row.to_string())), ("id", q(&c.id))]);
        let kind = pb::row_change::Kind::try_from(c.kind).unwrap();
        fields.push(("kind", q(kind.as_str_name())));
    }
    assert_fields(md.quote(), &fields);

    super::steps::placements(&server, &mut md).await;
    super::steps::batch_run(&server, &mut md, dir.path()).await;
    super::tokens::tokens(&server, &mut md).await;
    super::ledgers::county_day(&server, &mut md, dir.path()).await;
    server.stop().await;
}

/// `ExplainMatch`'s violations as grpcurl names them.
pub fn violations(explained: &pb::ExplainMatchResponse) -> Vec<(&'static str, String)> {
    explained
        .violations
        .iter()
        .map(|v| {
            let reason = pb::IneligibilityReason::try_from(v.reason).unwrap();
            ("reason", q(reason.as_str_name()))
        })
        .collect()
}
