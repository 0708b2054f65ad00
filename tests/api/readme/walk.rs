//! README's walk-through with grpcurl, call by call.

use jobbridge::api::pb;

use super::{assert_fields, assert_status, demo_server, Readme};

/// grpcurl's JSON of a string field.
pub fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// README's `w-demo-1`, every field as the walk-through sends it.
fn demo_worker() -> pb::Worker {
    pb::Worker {
        id: "w-demo-1".into(),
        household_id: "hh-demo-1".into(),
        name: "向春梅".into(),
        national_id: "431224199003150025".into(),
        gender: pb::Gender::Female as i32,
        birth_year: 1990,
        phone: "13912345678".into(),
        county_code: "431224".into(),
        site_id: "site-431224-001".into(),
        site_location: Some(pb::GeoPoint {
            lat: 27.91,
            lon: 110.59,
        }),
        labour_capacity: pb::LabourCapacity::Full as i32,
        skills: vec![pb::Skill {
            code: "sewing".into(),
            level: 3,
        }],
        certificates: vec![pb::Skill {
            code: "housekeeping".into(),
            level: 2,
        }],
        education: pb::Education::JuniorSecondary as i32,
        preferences: Some(pb::WorkerPreferences {
            mobility: pb::Mobility::NearHome as i32,
            max_commute_km: 15,
            expected_monthly_wage: 2800,
            preferred_sources: vec![pb::Source::AidWorkshop as i32],
            needs_flexible_hours: true,
            ..Default::default()
        }),
        employment_status: pb::EmploymentStatus::Seeking as i32,
        service_company_id: "esc-431224".into(),
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

    md.command("}' 127.0.0.1:50051 jobbridge.v1.Workers/UpsertWorker");
    let upserted = admin
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(demo_worker()),
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
