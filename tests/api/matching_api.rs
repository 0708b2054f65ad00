//! The Matching service over real gRPC: both directions and ExplainMatch,
//! writes seen by the very next query, errors with the field named.

use crate::common::{opening, worker, TestServer};
use jobbridge::api::pb;
use jobbridge::api::pb::matching_client::MatchingClient;
use tonic::Code;

/// A seeking worker in Hecheng who sews at level 3.
fn seamstress(n: u32) -> pb::Worker {
    worker(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_seen_by_the_next_match_query() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (mut w, mut o, mut m) = (server.workers(), server.openings(), server.matching());
    w.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(seamstress(1)),
        ..Default::default()
    })
    .await
    .unwrap();

    let ask = |m: &mut MatchingClient<_>| {
        let mut m = m.clone();
        async move {
            m.match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
                worker_id: "w-000001".into(),
                top_k: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .matches
        }
    };
    assert!(ask(&mut m).await.is_empty());
    for i in 0..20 {
        // Each new opening must show up in the query right after its OK.
        o.upsert_opening(pb::UpsertOpeningRequest {
            opening: Some(opening(i)),
        })
        .await
        .unwrap();
        let found = ask(&mut m).await;
        assert_eq!(found.len(), (i + 1).min(10) as usize, "after opening {i}");
        assert!(found.iter().any(|f| f.opening_id == format!("o-{i:06}")) || i >= 10);
    }
    // Closing is seen at once too.
    o.close_opening(pb::CloseOpeningRequest {
        id: "o-000000".into(),
    })
    .await
    .unwrap();
    assert!(ask(&mut m).await.iter().all(|f| f.opening_id != "o-000000"));
    // So is the worker taking a job: employed workers get no matches.
    let mut employed = seamstress(1);
    employed.employment_status = pb::EmploymentStatus::Employed as i32;
    w.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(employed),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(ask(&mut m).await.is_empty());
    // And deletion.
    w.delete_worker(pb::DeleteWorkerRequest {
        id: "w-000001".into(),
    })
    .await
    .unwrap();
    let err = m
        .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
            worker_id: "w-000001".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_for_an_opening_are_ranked_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (mut w, mut o, mut m) = (server.workers(), server.openings(), server.matching());
    o.upsert_opening(pb::UpsertOpeningRequest {
        opening: Some(opening(1)),
    })
    .await
    .unwrap();
    // Worker 10: sews at 3, household with nobody in work (priority).
    w.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(seamstress(10)),
        ..Default::default()
    })
    .await
    .unwrap();
    // Worker 12: same, but a household member (13) is employed.
    w.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(seamstress(12)),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut sibling = seamstress(13);
    sibling.employment_status = pb::EmploymentStatus::Employed as i32;
    w.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(sibling),
        ..Default::default()
    })
    .await
    .unwrap();
    // Worker 14: cannot sew: ineligible.
    let mut cannot = seamstress(14);
    cannot.skills.clear();
    w.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(cannot),
        ..Default::default()
    })
    .await
    .unwrap();

    let found = m
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: "o-000001".into(),
            top_k: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .matches;
    let ids: Vec<&str> = found.iter().map(|f| f.worker_id.as_str()).collect();
    assert_eq!(ids, vec!["431202/w-000010", "431202/w-000012"]);
    assert!(found[0].zero_employment_household);
    assert!(!found[1].zero_employment_household);
    assert!(found[0].score > found[1].score);
    for f in &found {
        let e = f.explanation.as_ref().unwrap();
        let sum: f64 = e.components.iter().map(|c| c.value * c.weight).sum();
        assert!((sum - f.score).abs() <= 1e-6, "{sum} vs {}", f.score);
        assert!(e
            .components
            .iter()
            .any(|c| c.reason.contains("sewing level 3 >= 2 required")));
        assert_eq!(f.name, "王秀英");
    }

    // Why is worker 14 left out?
    let why = m
        .explain_match(pb::ExplainMatchRequest {
            worker_id: "w-000014".into(),
            opening_id: "o-000001".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!why.eligible);
    assert_eq!(why.violations.len(), 1);
    assert_eq!(
        why.violations[0].reason,
        pb::IneligibilityReason::SkillNotMet as i32
    );
    assert!(why.violations[0].message.contains("sewing"));
    let ok = m
        .explain_match(pb::ExplainMatchRequest {
            worker_id: "w-000010".into(),
            opening_id: "o-000001".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(ok.eligible && ok.violations.is_empty());
    assert!((ok.score - found[0].score).abs() < 1e-9);

    // Filters: a county the workers are not in.
    let none = m
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: "o-000001".into(),
            county_codes: vec!["431221".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert!(none.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_match_requests_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut m = server.matching();
    server
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(seamstress(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    let cases: Vec<(pb::MatchOpeningsForWorkerRequest, Code, &str)> = vec![
        (
            pb::MatchOpeningsForWorkerRequest {
                worker_id: "".into(),
                ..Default::default()
            },
            Code::InvalidArgument,
            "worker_id",
        ),
        (
            pb::MatchOpeningsForWorkerRequest {
                worker_id: "w-000001".into(),
                top_k: 1001,
                ..Default::default()
            },
            Code::InvalidArgument,
            "top_k",
        ),
        (
            pb::MatchOpeningsForWorkerRequest {
                worker_id: "w-000001".into(),
                min_score: 1.5,
                ..Default::default()
            },
            Code::InvalidArgument,
            "min_score",
        ),
        (
            pb::MatchOpeningsForWorkerRequest {
                worker_id: "w-000001".into(),
                max_distance_km: -1.0,
                ..Default::default()
            },
            Code::InvalidArgument,
            "max_distance_km",
        ),
        (
            pb::MatchOpeningsForWorkerRequest {
                worker_id: "w-000001".into(),
                sources: vec![0],
                ..Default::default()
            },
            Code::InvalidArgument,
            "sources[0]",
        ),
        (
            pb::MatchOpeningsForWorkerRequest {
                worker_id: "w-000001".into(),
                region_codes: vec!["4312".into()],
                ..Default::default()
            },
            Code::InvalidArgument,
            "region_codes[0]",
        ),
        (
            pb::MatchOpeningsForWorkerRequest {
                worker_id: "nobody".into(),
                ..Default::default()
            },
            Code::NotFound,
            "worker",
        ),
    ];
    for (request, code, field) in cases {
        let err = m
            .match_openings_for_worker(request.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{request:?}: {}", err.message());
        assert!(
            err.message().starts_with(field),
            "{request:?}: {}",
            err.message()
        );
    }
    let err = m
        .explain_match(pb::ExplainMatchRequest {
            worker_id: "w-000001".into(),
            opening_id: "none".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("opening"), "{}", err.message());
    let err = m
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: "none".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_rebuilds_the_index_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(seamstress(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    server
        .openings()
        .upsert_opening(pb::UpsertOpeningRequest {
            opening: Some(opening(1)),
        })
        .await
        .unwrap();
    let before = server
        .matching()
        .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
            worker_id: "w-000001".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    let after = server
        .matching()
        .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
            worker_id: "w-000001".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.matches.len(), 1);
    assert_eq!(before, after);
    server.stop().await;
}

/// Upserts a worker and returns the id the server stored it under (the
/// test assumes no format of worker ids).
async fn put(
    w: &mut jobbridge::api::pb::workers_client::WorkersClient<crate::common::Channel>,
    worker: pb::Worker,
) -> String {
    w.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(worker),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .worker
    .unwrap()
    .id
}

/// The reasons `ExplainMatch` gives for a pair, as codes.
async fn reasons(
    m: &mut MatchingClient<crate::common::Channel>,
    worker_id: &str,
    opening_id: &str,
) -> (bool, Vec<(pb::IneligibilityReason, String)>) {
    let e = m
        .explain_match(pb::ExplainMatchRequest {
            worker_id: worker_id.into(),
            opening_id: opening_id.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let v = e
        .violations
        .into_iter()
        .map(|v| (v.reason(), v.message))
        .collect();
    (e.eligible, v)
}

/// One set of rules over real gRPC: a declined pair is ineligible in
/// `ExplainMatch` with DECLINED_BEFORE, as `Propose` refuses it and ranking
/// leaves it out; a 61-year-old is ineligible for a public-welfare post
/// (new hires must be under 60 by default) with WELFARE_HIRE_AGE_REACHED,
/// in ranking and `Propose` too, while a 41-year-old is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_pairs_and_the_welfare_hire_age_are_eligibility_rules() {
    use chrono::Datelike as _;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (mut w, mut o, mut m) = (server.workers(), server.openings(), server.matching());
    let mut p = server.placements();
    let year = (chrono::Utc::now() + chrono::Duration::hours(8)).year();

    let mut young = seamstress(1);
    young.birth_year = (year - 41) as u32;
    let young = put(&mut w, young).await;
    let mut older = seamstress(2);
    older.household_id = "hh-older".into();
    older.birth_year = (year - 61) as u32;
    let older = put(&mut w, older).await;
    o.upsert_opening(pb::UpsertOpeningRequest {
        opening: Some(opening(1)),
    })
    .await
    .unwrap();
    let mut post = opening(2);
    post.source = pb::Source::PublicWelfare as i32;
    post.title = "Site cleaner".into();
    post.required_skills.clear();
    post.preferred_skills.clear();
    post.max_age = 65;
    post.headcount = 1;
    o.upsert_opening(pb::UpsertOpeningRequest {
        opening: Some(post),
    })
    .await
    .unwrap();
    let (workshop, welfare) = ("o-000001", "o-000002");

    // The young worker declines the workshop.
    assert!(reasons(&mut m, &young, workshop).await.0);
    let placement = p
        .propose(pb::ProposeRequest {
            worker_id: young.clone(),
            opening_id: workshop.into(),
            run_id: 0,
            actor: "esc-431202:clerk".into(),
        })
        .await
        .unwrap()
        .into_inner();
    p.decline(pb::DeclineRequest {
        placement_id: placement.id,
        reason: String::new(),
        actor: "esc-431202:clerk".into(),
        reason_code: pb::DeclineReason::Pay as i32,
    })
    .await
    .unwrap();
    let (eligible, v) = reasons(&mut m, &young, workshop).await;
    assert!(!eligible);
    assert_eq!(
        v.iter().map(|v| v.0).collect::<Vec<_>>(),
        vec![pb::IneligibilityReason::DeclinedBefore],
        "{v:?}"
    );
    let err = p
        .propose(pb::ProposeRequest {
            worker_id: young.clone(),
            opening_id: workshop.into(),
            run_id: 0,
            actor: "esc-431202:clerk".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("DECLINED_BEFORE"),
        "{}",
        err.message()
    );
    let listed = m
        .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
            worker_id: young.clone(),
            top_k: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert!(listed.iter().all(|x| x.opening_id != workshop));
    assert!(listed.iter().any(|x| x.opening_id == welfare));

    // The 61-year-old and the public-welfare post.
    let (eligible, v) = reasons(&mut m, &older, welfare).await;
    assert!(!eligible);
    assert_eq!(
        v.iter().map(|v| v.0).collect::<Vec<_>>(),
        vec![pb::IneligibilityReason::WelfareHireAgeReached],
        "{v:?}"
    );
    assert!(v[0].1.contains("61") && v[0].1.contains("60"), "{}", v[0].1);
    assert!(reasons(&mut m, &young, welfare).await.0);
    let ranked = m
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: welfare.into(),
            top_k: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .matches;
    let ids: Vec<&str> = ranked.iter().map(|x| x.worker_id.as_str()).collect();
    assert_eq!(ids, vec![young.as_str()]);
    let err = p
        .propose(pb::ProposeRequest {
            worker_id: older.clone(),
            opening_id: welfare.into(),
            run_id: 0,
            actor: "esc-431202:clerk".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("WELFARE_HIRE_AGE_REACHED"),
        "{}",
        err.message()
    );
    server.stop().await;
}
