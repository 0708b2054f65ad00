//! A reviewed nightly run and respected declines, over real gRPC: a staged
//! run's diff, ApplyRun proposing exactly the still-valid assignments and
//! refusing the stale ones with their reasons, a declined pair never
//! proposed again (by batch runs or by hand) over several runs, and the
//! counselling list.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::common::{wait_for_run, Channel, TestServer};
use jobbridge::api::pb;
use jobbridge::api::pb::placement_service_client::PlacementServiceClient;
use tonic::Code;

fn seed(dir: &Path, scale: f64) {
    let store = jobbridge::store::Store::open(dir).unwrap();
    let year = jobbridge::domain::current_year();
    let data = jobbridge::demo::generate(scale, 7, year, chrono::Utc::now().date_naive());
    let key = jobbridge::store::id_key(None, None, &store).unwrap().0;
    jobbridge::demo::load(&store, &key, &data, year).unwrap();
}

async fn run(server: &TestServer, dry_run: bool) -> pb::Run {
    let mut c = server.batch();
    let id = c
        .start_run(pb::StartRunRequest {
            dry_run,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .run_id;
    let run = wait_for_run(&mut c, id).await;
    assert_eq!(run.status, pb::RunStatus::Succeeded as i32, "{}", run.error);
    run
}

async fn assignments(server: &TestServer, id: u64) -> Vec<pb::Assignment> {
    let mut s = server
        .batch()
        .stream_assignments(pb::StreamAssignmentsRequest { run_id: id })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(a) = s.message().await.unwrap() {
        out.push(a);
    }
    out
}

async fn placements_in(
    c: &mut PlacementServiceClient<Channel>,
    status: pb::PlacementStatus,
) -> Vec<pb::Placement> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list(pb::ListPlacementsRequest {
                page_size: 1000,
                page_token: token,
                status: status as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        out.extend(page.placements);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

async fn propose(
    c: &mut PlacementServiceClient<Channel>,
    w: &str,
    o: &str,
) -> Result<pb::Placement, tonic::Status> {
    c.propose(pb::ProposeRequest {
        worker_id: w.into(),
        opening_id: o.into(),
        run_id: 0,
        actor: "test".into(),
    })
    .await
    .map(|r| r.into_inner())
}

async fn decline(c: &mut PlacementServiceClient<Channel>, id: &str, code: pb::DeclineReason) {
    c.decline(pb::DeclineRequest {
        placement_id: id.into(),
        reason: "太远了，孩子在这边上学".into(),
        actor: "test".into(),
        reason_code: code as i32,
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_proposes_exactly_the_valid_staged_assignments() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), 0.02);
    let server = TestServer::start(dir.path()).await;
    let staged = run(&server, true).await;
    assert!(staged.staged);
    let id = staged.run_id;
    let rows = assignments(&server, id).await;
    assert!(rows.len() > 20, "{} assignments", rows.len());
    let mut pc = server.placements();
    assert!(placements_in(&mut pc, pb::PlacementStatus::Proposed)
        .await
        .is_empty());

    // Four kinds of later writes, on assignments with distinct openings.
    let mut picked: Vec<&pb::Assignment> = Vec::new();
    for a in &rows {
        if picked.iter().all(|p| p.opening_id != a.opening_id) {
            picked.push(a);
        }
        if picked.len() == 4 {
            break;
        }
    }
    let [edited, busy, closed, declined] = picked[..] else {
        panic!("not four openings");
    };
    // 1. The worker's phone changes (a partial update).
    server
        .workers()
        .update_worker(pb::UpdateWorkerRequest {
            worker: Some(pb::Worker {
                id: edited.worker_id.clone(),
                phone: "13900001111".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["phone".into()],
            }),
        })
        .await
        .unwrap();
    // 2. The worker gets a proposal by hand.
    propose(&mut pc, &busy.worker_id, &busy.opening_id)
        .await
        .unwrap();
    // 3. The opening closes: every assignment to it is stale.
    server
        .openings()
        .close_opening(pb::CloseOpeningRequest {
            id: closed.opening_id.clone(),
        })
        .await
        .unwrap();
    // 4. The worker is offered the opening by hand and declines it.
    let p = propose(&mut pc, &declined.worker_id, &declined.opening_id)
        .await
        .unwrap();
    decline(&mut pc, &p.id, pb::DeclineReason::Distance).await;

    let mut expected: HashMap<String, &str> = HashMap::new();
    expected.insert(edited.worker_id.clone(), "worker_changed");
    expected.insert(busy.worker_id.clone(), "worker_holds_placement");
    expected.insert(declined.worker_id.clone(), "declined_before");
    for a in rows.iter().filter(|a| a.opening_id == closed.opening_id) {
        expected.insert(a.worker_id.clone(), "opening_changed");
    }

    // The diff before applying: nothing applied yet, so all new but the
    // worker holding a proposal; the counts add up.
    let diff = server
        .batch()
        .diff_run(pb::DiffRunRequest {
            run_id: id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(diff.previous_run_id, 0);
    assert_eq!(diff.workers, rows.len() as u64);
    assert_eq!(
        diff.new
            + diff.changed_opening
            + diff.same
            + diff.holding_placement
            + diff.no_longer_assigned,
        diff.workers
    );
    assert_eq!(
        (diff.holding_placement, diff.new),
        (1, rows.len() as u64 - 1)
    );
    assert_eq!(diff.entries.len(), rows.len());

    // A county's part first, then the rest, in Chinese.
    let county = rows[0].county_code.clone();
    let mut c = server.batch();
    let apply = |county: &str| {
        let mut r = tonic::Request::new(pb::ApplyRunRequest {
            run_id: id,
            county_code: county.into(),
            actor: "county-head".into(),
        });
        r.metadata_mut()
            .insert("accept-language", "zh-CN".parse().unwrap());
        r
    };
    let first = c.apply_run(apply(&county)).await.unwrap().into_inner();
    let again = c.apply_run(apply(&county)).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(again.message().contains("已应用"), "{}", again.message());
    // The whole run is refused once applied by county: the rest goes county by county.
    let whole = c.apply_run(apply("")).await.unwrap_err();
    assert_eq!(whole.code(), Code::FailedPrecondition);
    let mut refused = first.refused;
    let mut proposed = first.proposed;
    let counties: HashSet<&str> = rows.iter().map(|a| a.county_code.as_str()).collect();
    for other in counties.iter().filter(|c| **c != county) {
        let r = c.apply_run(apply(other)).await.unwrap().into_inner();
        proposed += r.proposed;
        refused.extend(r.refused);
    }
    let got: HashMap<String, &str> = refused
        .iter()
        .map(|r| (r.worker_id.clone(), r.reason_code.as_str()))
        .collect();
    assert_eq!(got, expected);
    assert!(
        refused.iter().all(|r| !r.reason.is_ascii()),
        "reasons in Chinese"
    );
    assert_eq!(proposed as usize, rows.len() - expected.len());

    // Exactly the valid assignments are proposed, by this run.
    let by_run: HashMap<String, String> = placements_in(&mut pc, pb::PlacementStatus::Proposed)
        .await
        .into_iter()
        .filter(|p| p.run_id == id)
        .map(|p| (p.worker_id, p.opening_id))
        .collect();
    let valid: HashMap<String, String> = rows
        .iter()
        .filter(|a| !expected.contains_key(&a.worker_id))
        .map(|a| (a.worker_id.clone(), a.opening_id.clone()))
        .collect();
    assert_eq!(by_run, valid);
    let after = server
        .batch()
        .get_run(pb::GetRunRequest { run_id: id })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    assert!(!after.staged);
    assert_eq!(after.proposals_created, proposed);

    // A dry run after the applied one: the proposed workers are left out
    // and shown as holding a placement, never "no longer assigned" or lost.
    let next = run(&server, true).await;
    let diff = server
        .batch()
        .diff_run(pb::DiffRunRequest {
            run_id: next.run_id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(diff.previous_run_id, id);
    assert_eq!(
        diff.new
            + diff.changed_opening
            + diff.same
            + diff.holding_placement
            + diff.no_longer_assigned,
        diff.workers
    );
    assert_eq!(diff.entries.len() as u64, diff.workers);
    let holding = pb::diff_entry::Class::HoldingPlacement as i32;
    for e in &diff.entries {
        if valid.contains_key(&e.worker_id) {
            assert_eq!(e.class, holding, "{}", e.worker_id);
        }
    }
    let lost = next.summary.unwrap().lost;
    assert!(lost <= expected.len() as u64, "{lost} lost");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_pair_is_never_proposed_again() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), 0.01);
    let server = TestServer::start(dir.path()).await;
    let mut pc = server.placements();
    let codes = [
        pb::DeclineReason::Distance,
        pb::DeclineReason::Pay,
        pb::DeclineReason::FamilyCare,
        pb::DeclineReason::Hours,
    ];
    let mut declined: HashSet<(String, String)> = HashSet::new();
    let mut per_worker: HashMap<String, u32> = HashMap::new();
    for round in 0..3 {
        let r = run(&server, false).await;
        let offers = placements_in(&mut pc, pb::PlacementStatus::Proposed).await;
        assert!(!offers.is_empty(), "round {round}: no proposals");
        assert_eq!(offers.len() as u64, r.proposals_created);
        // The store would refuse a declined pair: none offered means the
        // batch left them out of its candidates.
        assert_eq!(r.proposals_skipped, 0, "round {round}");
        for (i, p) in offers.iter().enumerate() {
            let pair = (p.worker_id.clone(), p.opening_id.clone());
            assert!(
                !declined.contains(&pair),
                "round {round}: {pair:?} proposed again"
            );
            decline(&mut pc, &p.id, codes[i % codes.len()]).await;
            declined.insert(pair);
            *per_worker.entry(p.worker_id.clone()).or_default() += 1;
        }
    }
    // By hand: refused with the reason.
    let (w, o) = declined.iter().next().unwrap().clone();
    let err = propose(&mut pc, &w, &o).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("declined"), "{}", err.message());
    // Ranking leaves the pair out (it is ineligible: DECLINED_BEFORE).
    let matches = server
        .matching()
        .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
            worker_id: w.clone(),
            top_k: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .matches;
    for m in &matches {
        assert!(!declined.contains(&(w.clone(), m.opening_id.clone())));
    }
    // Three declines in the period: listed for a counselling visit.
    let lists = server
        .reports()
        .policy_lists(pb::PolicyRequest {
            max_rows: 10_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let want: HashSet<String> = per_worker
        .iter()
        .filter(|(_, n)| **n >= 3)
        .map(|(w, _)| w.clone())
        .collect();
    let got: HashSet<String> = lists
        .counselling
        .iter()
        .map(|c| c.worker_id.clone())
        .collect();
    assert_eq!(got, want);
    assert_eq!(lists.counselling_count, want.len() as u64);
    for c in &lists.counselling {
        assert!(c.declines.len() >= 3);
        assert!(c.declines.iter().all(|d| d.reason_code != "unspecified"));
    }
    // A decline without a reason code is refused, naming the field.
    let p = server
        .placements()
        .list(pb::ListPlacementsRequest {
            status: pb::PlacementStatus::Declined as i32,
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .placements;
    let err = pc
        .decline(pb::DeclineRequest {
            placement_id: p[0].id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    crate::common::assert_invalid(&err, "reason_code", "decline without a code");
    server.stop().await;
}

/// `jobbridge batch list` through the server with `token`.
async fn cli_list(server: &TestServer, token: &str) -> (bool, String, String) {
    let (addr, token) = (server.addr.to_string(), token.to_string());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(crate::common::binary())
            .args(["batch", "list", "--server", &addr, "--token", &token])
            .args(["--lang", "en"])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_lists_and_reads_runs_with_only_its_counties_part() {
    use jobbridge::domain::access::{Role, Scope};
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), 0.02);
    let server = TestServer::start(dir.path()).await;
    let whole = run(&server, true).await;
    let rows = whole.summary.clone().unwrap().by_county;
    assert!(rows.len() >= 3, "{rows:?}");
    let mine = rows[0].key.clone();
    let company = server.token(
        Role::ServiceCompany,
        Scope {
            counties: vec![mine.clone()],
            ..Default::default()
        },
    );
    let mut c = server.clients_with(Some(&company)).batch();

    let listed = c
        .list_runs(pb::ListRunsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .runs;
    let read = c
        .get_run(pb::GetRunRequest {
            run_id: whole.run_id,
        })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    assert_eq!(listed.len(), 1);
    for seen in [&listed[0], &read] {
        assert_eq!(seen.run_id, whole.run_id);
        assert_eq!(seen.counties, vec![mine.clone()]);
        assert!(seen.staged && seen.dry_run);
        let s = seen.summary.clone().unwrap();
        // Its county's row, exactly as the admin reads it; no other row.
        assert_eq!(s.by_county, vec![rows[0].clone()]);
        // Nothing that counts other counties' records.
        assert!(s.by_source.is_empty());
        assert_eq!(
            (s.workers_considered, s.workers_assigned, s.eligible_pairs),
            (0, 0, 0)
        );
        assert_eq!((s.zero_households, s.gained, s.rows_scored), (0, 0, 0));
    }
    // The admin still reads the run whole.
    let admin_view = server
        .batch()
        .get_run(pb::GetRunRequest {
            run_id: whole.run_id,
        })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    assert!(admin_view.counties.is_empty());
    assert_eq!(admin_view.summary, whole.summary);

    // Every county's rows stay the admin's.
    let code = c
        .stream_assignments(pb::StreamAssignmentsRequest {
            run_id: whole.run_id,
        })
        .await
        .map(|_| ())
        .unwrap_err()
        .code();
    assert_eq!(code, Code::PermissionDenied);
    let code = c
        .download_audit(pb::DownloadAuditRequest {
            run_id: whole.run_id,
        })
        .await
        .map(|_| ())
        .unwrap_err()
        .code();
    assert_eq!(code, Code::PermissionDenied);

    // A recruiter and a reader may not read runs at all.
    let recruiter = server.token(
        Role::Recruiter,
        Scope {
            employer_id: Some("emp-any".into()),
            ..Default::default()
        },
    );
    let reader = server.token(Role::Reader, Scope::default());
    for token in [&recruiter, &reader] {
        let mut c = server.clients_with(Some(token)).batch();
        let listed = c.list_runs(pb::ListRunsRequest::default()).await;
        assert_eq!(listed.unwrap_err().code(), Code::PermissionDenied);
        let read = c
            .get_run(pb::GetRunRequest {
                run_id: whole.run_id,
            })
            .await;
        assert_eq!(read.unwrap_err().code(), Code::PermissionDenied);
    }

    // The CLI with the company's token: its county's line, no other county.
    let (ok, out, err) = cli_list(&server, &company).await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("run {}", whole.run_id)), "{out}");
    assert!(out.contains(&format!("county {mine}:")), "{out}");
    for other in &rows[1..] {
        assert!(!out.contains(&other.key), "{out}");
    }
    let (ok, _, err) = cli_list(&server, &reader).await;
    assert!(!ok && err.contains("PermissionDenied"), "{err}");
    server.stop().await;
}
