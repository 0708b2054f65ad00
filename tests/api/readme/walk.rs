//! README's walk-through with grpcurl, call by call.

use std::path::Path;

use jobbridge::api::pb;

use super::{assert_fields, assert_status, demo_server, run_cli, Readme};

/// grpcurl's JSON of a string field.
fn q(s: &str) -> String {
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
fn china_today() -> String {
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

    md.command(r#"-d '{"household_id":"hh-0000003"}' 127.0.0.1:50051 jobbridge.v1.Workers/GetHousehold"#);
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

    placements(&server, &mut md).await;
    batch_and_tokens(&server, &mut md, dir.path()).await;
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

/// From the hand-made proposal to the separation.
async fn placements(server: &crate::common::TestServer, md: &mut Readme) {
    let mut placements = server.placements();
    let first = md.between("the first placement of a fresh data directory is ", ')');
    md.command(r#"-d '{"worker_id":"w-demo-1","opening_id":"ws-demo-1","actor":"clerk-xiang"}'"#);
    let proposed = placements
        .propose(pb::ProposeRequest {
            worker_id: "w-demo-1".into(),
            opening_id: "ws-demo-1".into(),
            actor: "clerk-xiang".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(proposed.id, first);
    md.command(&format!(
        r#"-d '{{"placement_id":"{first}","actor":"clerk-xiang"}}' 127.0.0.1:50051 jobbridge.v1.PlacementService/Accept"#
    ));
    placements
        .accept(pb::AcceptRequest {
            placement_id: first.clone(),
            actor: "clerk-xiang".into(),
        })
        .await
        .unwrap();
    md.command(r#"-d '{"id":"ws-demo-1"}' 127.0.0.1:50051 jobbridge.v1.Openings/GetOpening"#);
    let opening = server
        .openings()
        .get_opening(pb::GetOpeningRequest {
            id: "ws-demo-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .opening
        .unwrap();
    assert_fields(
        md.quote(),
        &[
            ("headcount", opening.headcount.to_string()),
            ("filled", opening.filled.to_string()),
        ],
    );
    md.command("jobbridge.v1.PlacementService/RecordHire");
    placements
        .record_hire(pb::RecordHireRequest {
            placement_id: first.clone(),
            hire_date: china_today(),
            ..Default::default()
        })
        .await
        .unwrap();
    md.command(&format!(
        r#"-d '{{"placement_id":"{first}"}}' 127.0.0.1:50051 jobbridge.v1.PlacementService/Accept"#
    ));
    let refused = placements
        .accept(pb::AcceptRequest {
            placement_id: first.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);
    md.command(r#"-d '{"household_id":"hh-demo-1"}' 127.0.0.1:50051 jobbridge.v1.Workers/GetHousehold"#);
    let household = server
        .workers()
        .get_household(pb::GetHouseholdRequest {
            household_id: "hh-demo-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!household.zero_employment);
    assert_fields(md.quote(), &[("employed", household.employed.to_string())]);
    md.command("jobbridge.v1.PlacementService/GetHistory");
    md.command(r#"-d '{"county_code":"431224","within_days":200}' 127.0.0.1:50051 jobbridge.v1.PlacementService/ListDueCheckIns"#);
    let due = placements
        .list_due_check_ins(pb::ListDueCheckInsRequest {
            county_code: "431224".into(),
            within_days: 200,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let months: Vec<u32> = due
        .check_ins
        .iter()
        .filter(|c| c.placement_id == first)
        .map(|c| c.month)
        .collect();
    assert_eq!(months, [1, 3, 6], "{due:?}");
    assert_eq!(
        md.quote(),
        [format!("the 1-, 3- and 6-month retention check-ins of {first}")]
    );
}

/// The batch run that proposes, the steps after it, the reports and the
/// tokens for others.
async fn batch_and_tokens(server: &crate::common::TestServer, md: &mut Readme, dir: &Path) {
    md.command(r#"-d '{"policy":"POLICY_OPTIMAL"}' 127.0.0.1:50051 jobbridge.v1.Batch/StartRun"#);
    let mut batch = server.batch();
    let id = batch
        .start_run(pb::StartRunRequest {
            policy: pb::Policy::Optimal as i32,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner()
        .run_id;
    assert_eq!(id, 1);
    let run = crate::common::wait_for_run(&mut batch, id).await;
    assert_eq!(run.status, pb::RunStatus::Succeeded as i32, "{}", run.error);
    md.command("| head -40");
    let mut stream = batch
        .stream_assignments(pb::StreamAssignmentsRequest { run_id: 1 })
        .await
        .unwrap()
        .into_inner();
    let mut assigned = 0u64;
    while stream.message().await.unwrap().is_some() {
        assigned += 1;
    }
    assert!(assigned > 10_000, "{assigned} assignments");
    md.command(r#"-d '{"run_id":1}' 127.0.0.1:50051 jobbridge.v1.Batch/StreamChanges"#);

    // "numbered from P000000000002 in worker-id order"
    let from = md.between("numbered from ", ' ');
    let made = run.proposals_created;
    assert_eq!(made, assigned, "every assignment proposed");
    let mut placements = server.placements();
    let mut by_worker = Vec::new();
    let mut token = String::new();
    loop {
        let page = placements
            .list(pb::ListPlacementsRequest {
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        by_worker.extend(
            page.placements
                .into_iter()
                .filter(|p| p.run_id == 1)
                .map(|p| (p.id, p.worker_id)),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    by_worker.sort();
    assert_eq!(by_worker[0].0, from);
    assert!(by_worker.windows(2).all(|w| w[0].1 < w[1].1), "not in worker-id order");

    md.command(r#""status":"PLACEMENT_STATUS_PROPOSED","page_size":2}'"#);
    md.command(r#"-d '{"placement_id":"P000000000002","actor":"clerk-xiang"}'"#);
    placements
        .accept(pb::AcceptRequest {
            placement_id: "P000000000002".into(),
            actor: "clerk-xiang".into(),
        })
        .await
        .unwrap();
    md.command(r#"-d '{"placement_id":"P000000000003","reason_code":"DECLINE_REASON_DISTANCE""#);
    placements
        .decline(pb::DeclineRequest {
            placement_id: "P000000000003".into(),
            reason_code: pb::DeclineReason::Distance as i32,
            reason: "too far from the children".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    md.command("jobbridge.v1.PlacementService/RecordSeparation");
    placements
        .record_separation(pb::RecordSeparationRequest {
            placement_id: "P000000000001".into(),
            separation_date: china_today(),
            reason: pb::SeparationReason::Family as i32,
            ..Default::default()
        })
        .await
        .unwrap();

    md.command(r#"-d '{"county_code":"431224"}' 127.0.0.1:50051 jobbridge.v1.ReportService/Coverage"#);
    server
        .reports()
        .coverage(pb::CoverageRequest {
            county_code: "431224".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let admin_token = server.admin_token.clone();
    for fragment in ["report --server", "--csv"] {
        let command = md.command(fragment);
        let out = run_cli(&command, dir, server, &[("TOKEN", &admin_token)]);
        assert_eq!(out.code, 0, "{command}: {}", out.all);
    }
    tokens(server, md).await;
}

/// Tokens for a Xupu company and the workshop's recruiter, and what each
/// may read.
async fn tokens(server: &crate::common::TestServer, md: &mut Readme) {
    let mut admin = server.admin();
    md.command(r#""counties":["431224"],"label":"Xupu employment service"}'"#);
    let xupu = admin
        .create_token(pb::CreateTokenRequest {
            role: pb::Role::ServiceCompany as i32,
            counties: vec!["431224".into()],
            label: "Xupu employment service".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    md.command(r#""employer_id":"workshop-demo","label":"Xupu sewing workshop"}'"#);
    let recruiter = admin
        .create_token(pb::CreateTokenRequest {
            role: pb::Role::Recruiter as i32,
            employer_id: "workshop-demo".into(),
            label: "Xupu sewing workshop".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let xupu = server.clients_with(Some(&xupu));
    let recruiter = server.clients_with(Some(&recruiter));
    let get = |id: &str| pb::GetWorkerRequest { id: id.into() };

    md.command(r#"-H "authorization: Bearer $XUPU" -d '{"id":"w-demo-1"}'"#);
    xupu.workers().get_worker(get("w-demo-1")).await.unwrap();
    md.command(r#"-H "authorization: Bearer $XUPU" -d '{"id":"w-0000004"}'"#);
    let refused = xupu.workers().get_worker(get("w-0000004")).await.unwrap_err();
    assert_status(md.quote(), &refused);

    md.command(r#"-H "authorization: Bearer $RECRUITER" -d '{"opening_id":"ws-demo-1","top_k":3}'"#);
    let found = recruiter
        .matching()
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: "ws-demo-1".into(),
            top_k: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let fields: Vec<_> = found
        .matches
        .iter()
        .flat_map(|m| {
            [
                ("name", q(&m.name)),
                ("phone", q(&m.phone)),
                ("masked", m.masked.to_string()),
            ]
        })
        .collect();
    assert_fields(md.quote(), &fields);
    md.command(r#"-H "authorization: Bearer $RECRUITER" -d '{"id":"w-demo-1"}'"#);
    let refused = recruiter
        .workers()
        .get_worker(get("w-demo-1"))
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);
    md.command("jobbridge.v1.AdminService/ListAuditLog");
}
