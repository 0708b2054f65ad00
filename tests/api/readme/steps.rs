//! The walk-through's placements: by hand, then by a batch run.

use std::path::Path;

use jobbridge::api::pb;

use super::walk::china_today;
use super::{assert_fields, assert_status, run_cli, Readme};

/// From the hand-made proposal to the separation.
pub async fn placements(server: &crate::common::TestServer, md: &mut Readme) {
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
    md.command(
        r#"-d '{"household_id":"hh-demo-1"}' 127.0.0.1:50051 jobbridge.v1.Workers/GetHousehold"#,
    );
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
        [format!(
            "the 1-, 3- and 6-month retention check-ins of {first}"
        )]
    );
}

/// The batch run that proposes, the steps after it and the reports.
pub async fn batch_run(server: &crate::common::TestServer, md: &mut Readme, dir: &Path) {
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
    assert!(
        by_worker.windows(2).all(|w| w[0].1 < w[1].1),
        "not in worker-id order"
    );

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

    md.command(
        r#"-d '{"county_code":"431224"}' 127.0.0.1:50051 jobbridge.v1.ReportService/Coverage"#,
    );
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
}
