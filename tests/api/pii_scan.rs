//! No reply of any RPC, for any role, carries a stored national id number:
//! every reply is encoded with prost and its bytes scanned for the ids the
//! test registered (in full, and their first 17 digits). The calls cover
//! every RPC that returns worker data in any form, as each role that may
//! make them.

use crate::common::{opening, wait_for_run, worker, Clients, TestServer};
use jobbridge::api::pb;
use jobbridge::domain::access::{Role, Scope};
use prost::Message;

/// Collects every reply's bytes.
#[derive(Default)]
struct Replies {
    seen: Vec<(String, Vec<u8>)>,
}

impl Replies {
    fn add<M: Message>(&mut self, what: &str, m: &M) {
        self.seen.push((what.to_string(), m.encode_to_vec()));
    }

    /// Asserts that no reply contains `needle`.
    fn assert_free_of(&self, needle: &[u8]) {
        for (what, bytes) in &self.seen {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{what} carries {:?}",
                String::from_utf8_lossy(needle)
            );
        }
    }
}

async fn calls_as(caller: Clients, role: &str, replies: &mut Replies, run_id: Option<u64>) {
    let mut workers = caller.workers();
    let mut matching = caller.matching();
    let mut placements = caller.placements();
    let county = "431202".to_string();
    let label = |rpc: &str| format!("{rpc} as {role}");
    if let Ok(r) = workers
        .get_worker(pb::GetWorkerRequest {
            id: "w-000001".into(),
        })
        .await
    {
        replies.add(&label("GetWorker"), r.get_ref());
    }
    if let Ok(r) = workers
        .list_workers(pb::ListWorkersRequest {
            county_code: county.clone(),
            page_size: 1000,
            ..Default::default()
        })
        .await
    {
        assert!(!r.get_ref().workers.is_empty());
        replies.add(&label("ListWorkers"), r.get_ref());
    }
    if let Ok(r) = workers
        .get_household(pb::GetHouseholdRequest {
            household_id: "hh-000000".into(),
        })
        .await
    {
        replies.add(&label("GetHousehold"), r.get_ref());
    }
    if let Ok(r) = matching
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: "o-000000".into(),
            top_k: 100,
            ..Default::default()
        })
        .await
    {
        assert!(!r.get_ref().matches.is_empty(), "{role} sees candidates");
        replies.add(&label("MatchWorkersForOpening"), r.get_ref());
    }
    if let Ok(r) = matching
        .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
            worker_id: "w-000001".into(),
            top_k: 10,
            ..Default::default()
        })
        .await
    {
        replies.add(&label("MatchOpeningsForWorker"), r.get_ref());
    }
    if let Ok(r) = matching
        .explain_match(pb::ExplainMatchRequest {
            worker_id: "w-000001".into(),
            opening_id: "o-000000".into(),
        })
        .await
    {
        replies.add(&label("ExplainMatch"), r.get_ref());
    }
    if let Ok(r) = placements
        .list(pb::ListPlacementsRequest {
            county_code: county.clone(),
            page_size: 1000,
            ..Default::default()
        })
        .await
    {
        for p in &r.get_ref().placements {
            if let Ok(h) = placements
                .get_history(pb::GetPlacementHistoryRequest {
                    placement_id: p.id.clone(),
                })
                .await
            {
                replies.add(&label("GetHistory"), h.get_ref());
            }
        }
        replies.add(&label("ListPlacements"), r.get_ref());
    }
    if let Ok(r) = caller
        .reports()
        .coverage(pb::CoverageRequest {
            county_code: county.clone(),
            ..Default::default()
        })
        .await
    {
        replies.add(&label("Coverage"), r.get_ref());
    }
    if let Some(run_id) = run_id {
        let mut batch = caller.batch();
        if let Ok(r) = batch
            .stream_assignments(pb::StreamAssignmentsRequest { run_id })
            .await
        {
            let mut stream = r.into_inner();
            while let Some(m) = stream.message().await.unwrap() {
                replies.add(&label("StreamAssignments"), &m);
            }
        }
        if let Ok(r) = batch
            .download_audit(pb::DownloadAuditRequest { run_id })
            .await
        {
            let mut stream = r.into_inner();
            while let Some(m) = stream.message().await.unwrap() {
                replies.add(&label("DownloadAudit"), &m);
            }
        }
        if let Ok(r) = caller
            .admin()
            .list_audit_log(pb::ListAuditLogRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
        {
            replies.add(&label("ListAuditLog"), r.get_ref());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reply_carries_a_national_id_number() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut replies = Replies::default();
    let mut ids = Vec::new();

    // Writes: single, upsert and bulk; their replies are scanned too.
    let mut workers = server.workers();
    for n in 0..6 {
        let mut w = worker(n);
        // Half consent to share, so recruiters see both kinds.
        w.consent_to_share = n.is_multiple_of(2);
        ids.push(w.national_id.clone());
        let r = workers
            .create_worker(pb::CreateWorkerRequest { worker: Some(w) })
            .await
            .unwrap();
        replies.add("CreateWorker", r.get_ref());
    }
    let mut w = worker(1);
    w.phone = "13900001111".into();
    let r = workers
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(w),
            ..Default::default()
        })
        .await
        .unwrap();
    replies.add("UpsertWorker", r.get_ref());
    let bulk: Vec<pb::ImportWorkersRequest> = (6..10)
        .map(|n| {
            let w = worker(n);
            ids.push(w.national_id.clone());
            pb::ImportWorkersRequest {
                worker: Some(w),
                ..Default::default()
            }
        })
        .collect();
    let r = workers
        .import_workers(tokio_stream::iter(bulk))
        .await
        .unwrap();
    assert_eq!(r.get_ref().accepted, 4);
    replies.add("ImportWorkers", r.get_ref());
    // A duplicate person: the refusal must not echo the number either.
    let mut dup = worker(20);
    dup.national_id = ids[0].clone();
    let e = workers
        .create_worker(pb::CreateWorkerRequest { worker: Some(dup) })
        .await
        .unwrap_err();
    replies
        .seen
        .push(("duplicate refusal".into(), e.message().as_bytes().to_vec()));

    let mut openings = server.openings();
    let mut o = opening(0);
    o.headcount = 50;
    openings
        .create_opening(pb::CreateOpeningRequest { opening: Some(o) })
        .await
        .unwrap();

    // A placement, with history, and a non-dry run that proposes more.
    let mut p = server.placements();
    let placed = p
        .propose(pb::ProposeRequest {
            worker_id: "w-000002".into(),
            opening_id: "o-000000".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    replies.add("Propose", placed.get_ref());
    let r = p
        .accept(pb::AcceptRequest {
            placement_id: placed.get_ref().id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    replies.add("Accept", r.get_ref());
    let mut batch = server.batch();
    let run_id = batch
        .start_run(pb::StartRunRequest::default())
        .await
        .unwrap()
        .into_inner()
        .run_id;
    let run = wait_for_run(&mut batch, run_id).await;
    assert_eq!(run.status, pb::RunStatus::Succeeded as i32, "{}", run.error);
    replies.add("GetRun", &run);

    // Reads as every role that may read something.
    let company = server.token(
        Role::ServiceCompany,
        Scope {
            counties: vec!["431202".into()],
            employer_id: None,
        },
    );
    let recruiter = server.token(
        Role::Recruiter,
        Scope {
            counties: vec![],
            employer_id: Some("workshop-000".into()),
        },
    );
    let reader = server.token(Role::Reader, Scope::default());
    calls_as(server.clients(), "admin", &mut replies, Some(run_id)).await;
    for (role, token) in [
        ("service_company", &company),
        ("recruiter", &recruiter),
        ("reader", &reader),
    ] {
        calls_as(server.clients_with(Some(token)), role, &mut replies, None).await;
    }
    assert!(replies.seen.len() > 30, "{} replies", replies.seen.len());
    for id in &ids {
        replies.assert_free_of(id.as_bytes());
        replies.assert_free_of(&id.as_bytes()[..17]);
    }
    server.stop().await;
}
