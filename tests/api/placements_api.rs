//! The PlacementService over real gRPC: the whole life cycle with the
//! worker's status, the opening's slots and the household's flag kept in
//! step, every illegal step refused without a trace, concurrent accepts that
//! never oversell an opening (also across a restart), the batch seeing a
//! household leave zero employment, and bad input named.

use std::collections::HashSet;

use crate::common::Channel;
use crate::common::{assert_invalid, opening, wait_for_run, worker, TestServer};
use jobbridge::api::pb;
use jobbridge::api::pb::placement_service_client::PlacementServiceClient;
use jobbridge::domain::placement::{china_today, day_date};
use tonic::{Code, Status};

type Placements = PlacementServiceClient<Channel>;

/// Today in China, where the service checks dates, plus `days`.
fn china_date(days: i32) -> String {
    day_date(china_today() + days)
        .format("%Y-%m-%d")
        .to_string()
}

async fn put_worker(server: &TestServer, w: pb::Worker) -> pb::Worker {
    server
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(w),
            ..Default::default()
        })
        .await
        .expect("upsert worker")
        .into_inner()
        .worker
        .unwrap()
}

async fn put_opening(server: &TestServer, o: pb::Opening) -> pb::Opening {
    server
        .openings()
        .upsert_opening(pb::UpsertOpeningRequest { opening: Some(o) })
        .await
        .expect("upsert opening")
        .into_inner()
        .opening
        .unwrap()
}

async fn get_worker(server: &TestServer, id: &str) -> pb::Worker {
    server
        .workers()
        .get_worker(pb::GetWorkerRequest { id: id.into() })
        .await
        .expect("get worker")
        .into_inner()
        .worker
        .unwrap()
}

async fn get_opening(server: &TestServer, id: &str) -> pb::Opening {
    server
        .openings()
        .get_opening(pb::GetOpeningRequest { id: id.into() })
        .await
        .expect("get opening")
        .into_inner()
        .opening
        .unwrap()
}

async fn filled(server: &TestServer, id: &str) -> u32 {
    get_opening(server, id).await.filled
}

async fn household(server: &TestServer, id: &str) -> pb::GetHouseholdResponse {
    server
        .workers()
        .get_household(pb::GetHouseholdRequest {
            household_id: id.into(),
        })
        .await
        .expect("get household")
        .into_inner()
}

fn status_of(w: &pb::Worker) -> pb::EmploymentStatus {
    pb::EmploymentStatus::try_from(w.employment_status).unwrap()
}

fn state_of(p: &pb::Placement) -> pb::PlacementStatus {
    pb::PlacementStatus::try_from(p.status).unwrap()
}

async fn propose(
    c: &mut Placements,
    worker_id: &str,
    opening_id: &str,
    actor: &str,
) -> pb::Placement {
    c.propose(pb::ProposeRequest {
        worker_id: worker_id.into(),
        opening_id: opening_id.into(),
        run_id: 0,
        actor: actor.into(),
    })
    .await
    .unwrap_or_else(|e| panic!("propose {worker_id} for {opening_id}: {e:?}"))
    .into_inner()
}

async fn accept(c: &mut Placements, id: &str) -> Result<pb::Placement, Status> {
    c.accept(pb::AcceptRequest {
        placement_id: id.into(),
        actor: "esc-431202:clerk".into(),
    })
    .await
    .map(tonic::Response::into_inner)
}

async fn decline(c: &mut Placements, id: &str) -> Result<pb::Placement, Status> {
    c.decline(pb::DeclineRequest {
        placement_id: id.into(),
        reason_code: pb::DeclineReason::Distance as i32,
        reason: "too far from the children's school".into(),
        actor: "esc-431202:clerk".into(),
    })
    .await
    .map(tonic::Response::into_inner)
}

async fn hire(c: &mut Placements, id: &str) -> Result<pb::Placement, Status> {
    c.record_hire(pb::RecordHireRequest {
        placement_id: id.into(),
        hire_date: china_date(0),
        actor: "esc-431202:clerk".into(),
    })
    .await
    .map(tonic::Response::into_inner)
}

async fn separate(c: &mut Placements, id: &str) -> Result<pb::Placement, Status> {
    c.record_separation(pb::RecordSeparationRequest {
        placement_id: id.into(),
        separation_date: china_date(0),
        reason: pb::SeparationReason::Quit as i32,
        note: String::new(),
        actor: "esc-431202:clerk".into(),
    })
    .await
    .map(tonic::Response::into_inner)
}

async fn check_in(c: &mut Placements, id: &str, month: u32) -> Result<pb::Placement, Status> {
    c.record_check_in(pb::RecordCheckInRequest {
        placement_id: id.into(),
        month,
        date: china_date(0),
        still_employed: true,
        note: String::new(),
        actor: "esc-431202:clerk".into(),
    })
    .await
    .map(tonic::Response::into_inner)
}

async fn get(c: &mut Placements, id: &str) -> pb::Placement {
    c.get(pb::GetPlacementRequest {
        placement_id: id.into(),
    })
    .await
    .expect("get placement")
    .into_inner()
}

async fn history(c: &mut Placements, id: &str) -> Vec<pb::PlacementEvent> {
    let h = c
        .get_history(pb::GetPlacementHistoryRequest {
            placement_id: id.into(),
        })
        .await
        .expect("get history")
        .into_inner();
    assert_eq!(h.placement_id, id);
    h.events
}

/// Every placement the filter lists, walking pages of `page_size`; checks
/// each page's size and that the token is empty only on the last page.
async fn list_all(
    c: &mut Placements,
    filter: pb::ListPlacementsRequest,
    page_size: u32,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = String::new();
    for _ in 0..1000 {
        let page = c
            .list(pb::ListPlacementsRequest {
                page_size,
                page_token: token.clone(),
                ..filter.clone()
            })
            .await
            .expect("list placements")
            .into_inner();
        let max = if page_size == 0 {
            100
        } else {
            page_size as usize
        };
        assert!(page.placements.len() <= max, "page too long");
        ids.extend(page.placements.into_iter().map(|p| p.id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        token = page.next_page_token;
    }
    panic!("listing did not end");
}

fn assert_precondition(status: &Status, contains: &str, context: &str) {
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "{context}: wrong code, message {:?}",
        status.message()
    );
    assert!(
        status.message().contains(contains),
        "{context}: message {:?} does not contain {contains:?}",
        status.message()
    );
}

/// A worker of household `household_id`.
fn member(n: u32, household_id: &str) -> pb::Worker {
    pb::Worker {
        household_id: household_id.into(),
        ..worker(n)
    }
}

/// An opening with `headcount` slots.
fn opening_for(n: u32, headcount: u32) -> pb::Opening {
    pb::Opening {
        headcount,
        ..opening(n)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_goes_from_proposal_to_separation() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.placements();
    let mut m = server.matching();
    // w-000010 and w-000011 share household hh-000005, both seeking.
    let w10 = put_worker(&server, worker(10)).await;
    put_worker(&server, worker(11)).await;
    // A worker of another county, for the county filter.
    let w20 = put_worker(
        &server,
        pb::Worker {
            county_code: "431221".into(),
            ..worker(20)
        },
    )
    .await;
    assert_eq!(w20.county_code, "431221");
    put_opening(&server, opening_for(1, 5)).await;
    put_opening(&server, opening_for(2, 5)).await;
    let hh = w10.household_id.clone();
    assert_eq!(hh, "431202/hh-000005");
    assert!(household(&server, &hh).await.zero_employment);

    // Propose.
    let expected_score = m
        .explain_match(pb::ExplainMatchRequest {
            worker_id: "w-000010".into(),
            opening_id: "o-000001".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(expected_score.eligible, "{:?}", expected_score.violations);
    let p = propose(&mut c, "w-000010", "o-000001", "esc-431202:wang").await;
    let id = p.id.clone();
    assert!(
        id.len() == 13 && id.starts_with('P') && id[1..].bytes().all(|b| b.is_ascii_digit()),
        "id {id:?}"
    );
    assert_eq!(state_of(&p), pb::PlacementStatus::Proposed);
    assert_eq!(p.worker_id, "431202/w-000010");
    assert_eq!(p.opening_id, "o-000001");
    assert_eq!(p.county_code, "431202");
    assert_eq!(p.site_id, w10.site_id);
    assert_eq!(p.household_id, hh);
    assert_eq!(p.source, pb::Source::AidWorkshop as i32);
    assert_eq!(p.employer_id, opening(1).employer_id);
    assert_eq!(p.run_id, 0);
    assert!(p.zero_household, "nobody in hh-000005 works");
    assert!(p.score > 0.0);
    assert!(
        (p.score - expected_score.score).abs() < 1e-9,
        "placement score {} vs ExplainMatch {}",
        p.score,
        expected_score.score
    );
    assert!(p.proposed_at.is_some());
    assert!(p.accepted_at.is_none() && p.declined_at.is_none());
    assert!(p.hire_date.is_empty() && p.separation_date.is_empty());
    assert_eq!(
        get(&mut c, &id).await,
        p,
        "Get returns what Propose returned"
    );
    let w = get_worker(&server, "w-000010").await;
    assert_eq!(status_of(&w), pb::EmploymentStatus::Seeking);
    assert_eq!(w.active_placement_id, id);
    assert_eq!(w.recommendations, 1);
    assert!(w.returned_at.is_none());
    assert_eq!(filled(&server, "o-000001").await, 0);
    let h = household(&server, &hh).await;
    assert_eq!((h.seeking, h.placed, h.employed), (2, 0, 0));
    assert!(h.zero_employment);

    // Accept.
    let p = c
        .accept(pb::AcceptRequest {
            placement_id: id.clone(),
            actor: "worker-phone".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state_of(&p), pb::PlacementStatus::Accepted);
    assert!(p.accepted_at.is_some());
    let w = get_worker(&server, "w-000010").await;
    assert_eq!(status_of(&w), pb::EmploymentStatus::Placed);
    assert_eq!(w.active_placement_id, id);
    assert_eq!(filled(&server, "o-000001").await, 1);
    let h = household(&server, &hh).await;
    assert_eq!((h.seeking, h.placed, h.employed), (1, 1, 0));
    assert!(h.zero_employment, "PLACED is not in work yet");

    // Hire.
    let today = china_date(0);
    let p = c
        .record_hire(pb::RecordHireRequest {
            placement_id: id.clone(),
            hire_date: today.clone(),
            actor: "workshop-001:hr".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state_of(&p), pb::PlacementStatus::Hired);
    assert_eq!(p.hire_date, today);
    let w = get_worker(&server, "w-000010").await;
    assert_eq!(status_of(&w), pb::EmploymentStatus::Employed);
    assert_eq!(w.active_placement_id, id);
    assert_eq!(filled(&server, "o-000001").await, 1);
    let h = household(&server, &hh).await;
    assert_eq!((h.seeking, h.placed, h.employed), (1, 0, 1));
    assert!(!h.zero_employment);

    // A hire owes check-ins 1, 3 and 6 months on.
    let due = |c: &mut Placements, within_days: u32| {
        let mut c = c.clone();
        async move {
            c.list_due_check_ins(pb::ListDueCheckInsRequest {
                county_code: "431202".into(),
                within_days,
            })
            .await
            .unwrap()
            .into_inner()
        }
    };
    let hired_on = day_date(china_today());
    let d = due(&mut c, 366).await;
    let got: Vec<(&str, u32, &str, bool)> = d
        .check_ins
        .iter()
        .map(|x| {
            (
                x.placement_id.as_str(),
                x.month,
                x.due_date.as_str(),
                x.overdue,
            )
        })
        .collect();
    let want_dates: Vec<String> = [1u32, 3, 6]
        .iter()
        .map(|&m| {
            (hired_on + chrono::Months::new(m))
                .format("%Y-%m-%d")
                .to_string()
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (id.as_str(), 1, want_dates[0].as_str(), false),
            (id.as_str(), 3, want_dates[1].as_str(), false),
            (id.as_str(), 6, want_dates[2].as_str(), false),
        ]
    );
    assert_eq!(d.omitted, 0);
    assert!(
        due(&mut c, 0).await.check_ins.is_empty(),
        "nothing due today"
    );

    // Separate.
    let p = c
        .record_separation(pb::RecordSeparationRequest {
            placement_id: id.clone(),
            separation_date: today.clone(),
            reason: pb::SeparationReason::Family as i32,
            note: "mother fell ill".into(),
            actor: "esc-431202:li".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state_of(&p), pb::PlacementStatus::Separated);
    assert_eq!(p.separation_date, today);
    assert_eq!(p.separation_reason, pb::SeparationReason::Family as i32);
    assert_eq!(p.separation_note, "mother fell ill");
    assert_eq!(p.hire_date, today);
    let w = get_worker(&server, "w-000010").await;
    assert_eq!(status_of(&w), pb::EmploymentStatus::Seeking);
    assert!(w.active_placement_id.is_empty());
    assert!(w.returned_at.is_some(), "flagged for re-matching");
    assert!(
        due(&mut c, 366).await.check_ins.is_empty(),
        "a separated placement owes no check-ins"
    );
    assert_eq!(w.recommendations, 1);
    assert_eq!(filled(&server, "o-000001").await, 0);
    let h = household(&server, &hh).await;
    assert_eq!((h.seeking, h.placed, h.employed), (2, 0, 0));
    assert!(h.zero_employment);

    // History: four steps, with the actors as sent.
    let events = history(&mut c, &id).await;
    let got: Vec<(u32, &str, i32, i32, &str)> = events
        .iter()
        .map(|e| {
            (
                e.seq,
                e.action.as_str(),
                e.from_status,
                e.to_status,
                e.actor.as_str(),
            )
        })
        .collect();
    use pb::PlacementStatus as S;
    assert_eq!(
        got,
        vec![
            (
                1,
                "propose",
                S::Unspecified as i32,
                S::Proposed as i32,
                "esc-431202:wang"
            ),
            (
                2,
                "accept",
                S::Proposed as i32,
                S::Accepted as i32,
                "worker-phone"
            ),
            (
                3,
                "hire",
                S::Accepted as i32,
                S::Hired as i32,
                "workshop-001:hr"
            ),
            (
                4,
                "separate",
                S::Hired as i32,
                S::Separated as i32,
                "esc-431202:li"
            ),
        ]
    );
    assert!(events.iter().all(|e| e.at.is_some()));
    assert!(events
        .windows(2)
        .all(|p| crate::common::ts_ms(&p[0].at) <= crate::common::ts_ms(&p[1].at)));

    // The returned worker can be proposed again; the flag clears.
    let second = propose(&mut c, "w-000010", "o-000001", "").await;
    let w = get_worker(&server, "w-000010").await;
    assert_eq!(w.active_placement_id, second.id);
    assert_eq!(w.recommendations, 2);
    assert!(w.returned_at.is_none(), "a new proposal clears returned_at");
    assert_eq!(history(&mut c, &second.id).await[0].actor, "unknown");
    let second = decline(&mut c, &second.id).await.unwrap();
    assert_eq!(state_of(&second), pb::PlacementStatus::Declined);
    assert_eq!(second.decline_reason, "too far from the children's school");
    assert!(second.declined_at.is_some());
    assert!(get_worker(&server, "w-000010")
        .await
        .active_placement_id
        .is_empty());
    let third = propose(&mut c, "w-000011", "o-000001", "").await;
    let fourth = propose(&mut c, "w-000020", "o-000002", "").await;
    let fifth = propose(&mut c, "w-000010", "o-000002", "").await;
    accept(&mut c, &fifth.id).await.unwrap();
    assert!(id < second.id && second.id < third.id && third.id < fourth.id && fourth.id < fifth.id);

    // Listings, one per page and in one page, in creation order.
    let cases: Vec<(pb::ListPlacementsRequest, Vec<&str>)> = vec![
        (
            pb::ListPlacementsRequest::default(),
            vec![&id, &second.id, &third.id, &fourth.id, &fifth.id],
        ),
        (
            pb::ListPlacementsRequest {
                worker_id: "w-000010".into(),
                ..Default::default()
            },
            vec![&id, &second.id, &fifth.id],
        ),
        (
            pb::ListPlacementsRequest {
                opening_id: "o-000001".into(),
                ..Default::default()
            },
            vec![&id, &second.id, &third.id],
        ),
        (
            pb::ListPlacementsRequest {
                county_code: "431202".into(),
                ..Default::default()
            },
            vec![&id, &second.id, &third.id, &fifth.id],
        ),
        (
            pb::ListPlacementsRequest {
                county_code: "431221".into(),
                ..Default::default()
            },
            vec![&fourth.id],
        ),
        (
            pb::ListPlacementsRequest {
                status: S::Proposed as i32,
                ..Default::default()
            },
            vec![&third.id, &fourth.id],
        ),
        (
            pb::ListPlacementsRequest {
                status: S::Separated as i32,
                ..Default::default()
            },
            vec![&id],
        ),
        (
            pb::ListPlacementsRequest {
                status: S::Accepted as i32,
                ..Default::default()
            },
            vec![&fifth.id],
        ),
        (
            pb::ListPlacementsRequest {
                worker_id: "w-000010".into(),
                opening_id: "o-000001".into(),
                status: S::Declined as i32,
                ..Default::default()
            },
            vec![&second.id],
        ),
        (
            pb::ListPlacementsRequest {
                opening_id: "o-000002".into(),
                county_code: "431202".into(),
                ..Default::default()
            },
            vec![&fifth.id],
        ),
        (
            pb::ListPlacementsRequest {
                worker_id: "w-000011".into(),
                status: S::Hired as i32,
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (f, want) in cases {
        let want: Vec<String> = want.into_iter().map(String::from).collect();
        assert_eq!(
            list_all(&mut c, f.clone(), 1).await,
            want,
            "page_size 1, {f:?}"
        );
        assert_eq!(
            list_all(&mut c, f.clone(), 2).await,
            want,
            "page_size 2, {f:?}"
        );
        assert_eq!(
            list_all(&mut c, f.clone(), 0).await,
            want,
            "page_size 0, {f:?}"
        );
    }
    // A token is bound to its filters.
    let page = c
        .list(pb::ListPlacementsRequest {
            page_size: 1,
            worker_id: "w-000010".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!page.next_page_token.is_empty());
    let err = c
        .list(pb::ListPlacementsRequest {
            page_size: 1,
            page_token: page.next_page_token,
            opening_id: "o-000001".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_illegal_step_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.placements();
    put_opening(&server, opening_for(1, 10)).await;
    let mut ids = Vec::new();
    for n in 0..5u32 {
        put_worker(&server, worker(n)).await;
        ids.push(
            propose(&mut c, &format!("w-{n:06}"), "o-000001", "")
                .await
                .id,
        );
    }
    // ids[0] PROPOSED, ids[1] ACCEPTED, ids[2] DECLINED, ids[3] HIRED,
    // ids[4] SEPARATED.
    accept(&mut c, &ids[1]).await.unwrap();
    decline(&mut c, &ids[2]).await.unwrap();
    accept(&mut c, &ids[3]).await.unwrap();
    hire(&mut c, &ids[3]).await.unwrap();
    accept(&mut c, &ids[4]).await.unwrap();
    hire(&mut c, &ids[4]).await.unwrap();
    separate(&mut c, &ids[4]).await.unwrap();
    // A worker holds one active placement at a time. A seeking worker with
    // a proposal is told which placement it holds; an ACCEPTED (PLACED) or
    // HIRED (EMPLOYED) worker is refused as not seeking.
    for (n, names) in [
        (0usize, "already holds active placement"),
        (1, "PLACED"),
        (3, "EMPLOYED"),
    ] {
        let wid = format!("w-{n:06}");
        let before = get_worker(&server, &wid).await;
        let err = c
            .propose(pb::ProposeRequest {
                worker_id: wid.clone(),
                opening_id: "o-000001".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        let context = format!("second proposal to {wid}");
        assert_precondition(&err, &wid, &context);
        assert!(
            err.message().to_uppercase().contains(&names.to_uppercase()),
            "{context}: {:?} does not say {names:?}",
            err.message()
        );
        if n == 0 {
            assert_precondition(&err, &ids[0], &context);
        }
        assert_eq!(get_worker(&server, &wid).await, before, "{context}");
    }
    assert_eq!(
        list_all(&mut c, pb::ListPlacementsRequest::default(), 0).await,
        ids,
        "no placement was made"
    );

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Step {
        Accept,
        Decline,
        Hire,
        Separate,
        CheckIn,
    }
    use pb::PlacementStatus as S;
    let cases: [(usize, S, &[Step]); 5] = [
        (0, S::Proposed, &[Step::Hire, Step::Separate, Step::CheckIn]),
        (
            1,
            S::Accepted,
            &[Step::Accept, Step::Separate, Step::CheckIn],
        ),
        (
            2,
            S::Declined,
            &[
                Step::Accept,
                Step::Decline,
                Step::Hire,
                Step::Separate,
                Step::CheckIn,
            ],
        ),
        (3, S::Hired, &[Step::Accept, Step::Decline, Step::Hire]),
        (
            4,
            S::Separated,
            &[Step::Accept, Step::Decline, Step::Hire, Step::Separate],
        ),
    ];
    for (i, state, steps) in cases {
        let id = &ids[i];
        let wid = format!("w-{i:06}");
        let before = get(&mut c, id).await;
        assert_eq!(state_of(&before), state);
        let events = history(&mut c, id).await.len();
        let worker_before = get_worker(&server, &wid).await;
        let filled_before = filled(&server, "o-000001").await;
        let name = state.as_str_name().trim_start_matches("PLACEMENT_STATUS_");
        for &step in steps {
            let result = match step {
                Step::Accept => accept(&mut c, id).await,
                Step::Decline => decline(&mut c, id).await,
                Step::Hire => hire(&mut c, id).await,
                Step::Separate => separate(&mut c, id).await,
                Step::CheckIn => check_in(&mut c, id, 1).await,
            };
            let err = result.expect_err(&format!("{step:?} from {name} must fail"));
            assert_precondition(
                &err,
                &format!("is {name}"),
                &format!("{step:?} from {name}"),
            );
            assert!(err.message().contains(id.as_str()), "{}", err.message());
            assert_eq!(
                get(&mut c, id).await,
                before,
                "{step:?} from {name} changed it"
            );
            assert_eq!(
                history(&mut c, id).await.len(),
                events,
                "{step:?} from {name}"
            );
            assert_eq!(
                get_worker(&server, &wid).await,
                worker_before,
                "{step:?} from {name}"
            );
            assert_eq!(
                filled(&server, "o-000001").await,
                filled_before,
                "{step:?} from {name}"
            );
        }
    }
    assert_eq!(
        filled(&server, "o-000001").await,
        2,
        "ACCEPTED and HIRED hold slots"
    );

    // The steps allowed from HIRED and SEPARATED that the loop left out:
    // check-ins, each month once.
    for id in [&ids[3], &ids[4]] {
        let p = check_in(&mut c, id, 1).await.unwrap();
        assert_eq!(p.check_ins.len(), 1);
        assert_eq!(p.check_ins[0].month, 1);
        assert_eq!(p.check_ins[0].date, china_date(0));
        let err = check_in(&mut c, id, 1).await.unwrap_err();
        assert_precondition(&err, "1-month check-in", "second 1-month check-in");
        assert_eq!(history(&mut c, id).await.last().unwrap().action, "check_in");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_accepts_never_oversell_an_opening_even_across_a_restart() {
    const WORKERS: u32 = 64;
    const HEADCOUNT: u32 = 10;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.placements();
    put_opening(&server, opening_for(7, HEADCOUNT)).await;
    let mut ids = Vec::new();
    for n in 0..WORKERS {
        put_worker(&server, worker(100 + n)).await;
        ids.push(
            propose(&mut c, &format!("w-{:06}", 100 + n), "o-000007", "")
                .await
                .id,
        );
    }

    /// Accepts every id at once; the ids accepted.
    async fn accept_all(c: &Placements, ids: &[String]) -> Vec<String> {
        let tasks: Vec<_> = ids
            .iter()
            .map(|id| {
                let mut c = c.clone();
                let id = id.clone();
                tokio::spawn(async move {
                    let r = accept(&mut c, &id).await;
                    (id, r)
                })
            })
            .collect();
        let mut accepted = Vec::new();
        for t in tasks {
            let (id, r) = t.await.unwrap();
            match r {
                Ok(p) => {
                    assert_eq!(state_of(&p), pb::PlacementStatus::Accepted);
                    accepted.push(id);
                }
                Err(e) => assert_precondition(&e, "no free slot", &format!("accept {id}")),
            }
        }
        accepted
    }

    let accepted = accept_all(&c, &ids).await;
    assert_eq!(
        accepted.len(),
        HEADCOUNT as usize,
        "exactly the headcount accepted"
    );
    assert_eq!(filled(&server, "o-000007").await, HEADCOUNT);
    let placed = server
        .workers()
        .list_workers(pb::ListWorkersRequest {
            page_size: 1000,
            employment_status: pb::EmploymentStatus::Placed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .workers;
    assert_eq!(placed.len(), HEADCOUNT as usize);
    let placed_ids: HashSet<&str> = placed
        .iter()
        .map(|w| w.active_placement_id.as_str())
        .collect();
    assert_eq!(
        placed_ids,
        accepted.iter().map(String::as_str).collect::<HashSet<_>>()
    );
    let listed = list_all(
        &mut c,
        pb::ListPlacementsRequest {
            opening_id: "o-000007".into(),
            status: pb::PlacementStatus::Accepted as i32,
            ..Default::default()
        },
        0,
    )
    .await;
    assert_eq!(listed.len(), HEADCOUNT as usize);
    server.stop().await;

    // Everything answered was durable.
    let server = TestServer::start(dir.path()).await;
    let mut c = server.placements();
    assert_eq!(filled(&server, "o-000007").await, HEADCOUNT);
    // The reloaded match index knows the opening is full, too.
    put_worker(&server, worker(99)).await;
    let err = c
        .propose(pb::ProposeRequest {
            worker_id: "w-000099".into(),
            opening_id: "o-000007".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_precondition(&err, "slots", "propose on the full opening after restart");
    for id in &accepted {
        let p = get(&mut c, id).await;
        assert_eq!(state_of(&p), pb::PlacementStatus::Accepted, "{id}");
        assert_eq!(
            status_of(&get_worker(&server, &p.worker_id).await),
            pb::EmploymentStatus::Placed
        );
    }
    for id in &accepted[..3] {
        let p = decline(&mut c, id).await.unwrap();
        assert_eq!(state_of(&p), pb::PlacementStatus::Declined);
        assert_eq!(
            status_of(&get_worker(&server, &p.worker_id).await),
            pb::EmploymentStatus::Seeking
        );
    }
    assert_eq!(filled(&server, "o-000007").await, HEADCOUNT - 3);
    let accepted: HashSet<&String> = accepted.iter().collect();
    let proposed: Vec<String> = ids
        .iter()
        .filter(|id| !accepted.contains(id))
        .cloned()
        .collect();
    assert_eq!(proposed.len(), (WORKERS - HEADCOUNT) as usize);
    let again = accept_all(&c, &proposed).await;
    assert_eq!(again.len(), 3, "exactly the freed slots accepted");
    assert_eq!(filled(&server, "o-000007").await, HEADCOUNT);
    let placed = server
        .workers()
        .list_workers(pb::ListWorkersRequest {
            page_size: 1000,
            employment_status: pb::EmploymentStatus::Placed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .workers;
    assert_eq!(placed.len(), HEADCOUNT as usize);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hire_takes_the_household_out_of_zero_employment_for_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.placements();
    let mut b = server.batch();
    // hh-zero: two seeking members; hh-ctl: one seeking member, a control.
    put_worker(&server, member(1, "hh-zero")).await;
    put_worker(&server, member(2, "hh-zero")).await;
    put_worker(&server, member(3, "hh-ctl")).await;
    put_opening(&server, opening_for(1, 5)).await;
    let h = household(&server, "hh-zero").await;
    assert_eq!(h.worker_ids, vec!["431202/w-000001", "431202/w-000002"]);
    assert_eq!((h.seeking, h.placed, h.employed), (2, 0, 0));
    assert!(h.zero_employment);

    let p = propose(&mut c, "w-000001", "o-000001", "").await;
    assert!(p.zero_household);
    assert!(household(&server, "hh-zero").await.zero_employment);
    accept(&mut c, &p.id).await.unwrap();
    let h = household(&server, "hh-zero").await;
    assert_eq!((h.seeking, h.placed, h.employed), (1, 1, 0));
    assert!(h.zero_employment, "PLACED counts as not in work");
    hire(&mut c, &p.id).await.unwrap();
    let h = household(&server, "hh-zero").await;
    assert_eq!((h.seeking, h.placed, h.employed), (1, 0, 1));
    assert!(!h.zero_employment);

    // A dry run sees the change: hh-zero is no longer a zero household.
    let run_id = b
        .start_run(pb::StartRunRequest {
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .run_id;
    let run = wait_for_run(&mut b, run_id).await;
    assert_eq!(run.status, pb::RunStatus::Succeeded as i32, "{}", run.error);
    assert_eq!(run.proposals_created, 0, "a dry run proposes nothing");
    let summary = run.summary.unwrap();
    assert_eq!(
        summary.workers_considered, 2,
        "the employed member is not seeking"
    );
    assert_eq!(
        summary.zero_households, 1,
        "only hh-ctl is a zero household"
    );
    let mut stream = b
        .stream_assignments(pb::StreamAssignmentsRequest { run_id })
        .await
        .unwrap()
        .into_inner();
    let mut rows = Vec::new();
    while let Some(a) = stream.message().await.unwrap() {
        rows.push(a);
    }
    assert!(rows.iter().all(|a| a.worker_id != "431202/w-000001"));
    for a in &rows {
        match a.household_id.as_str() {
            "431202/hh-zero" => assert!(!a.zero_employment_household, "{a:?}"),
            "431202/hh-ctl" => assert!(a.zero_employment_household, "{a:?}"),
            other => panic!("unexpected household {other}"),
        }
    }
    assert!(
        rows.iter().any(|a| a.worker_id == "431202/w-000003"),
        "the control worker has four free slots to take"
    );
    assert!(get_worker(&server, "w-000002")
        .await
        .active_placement_id
        .is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_and_placements_guard_worker_and_opening_writes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.placements();
    put_worker(&server, worker(1)).await;
    put_worker(&server, worker(2)).await;
    put_opening(&server, opening_for(1, 3)).await;

    let err = c
        .propose(pb::ProposeRequest {
            opening_id: "o-000001".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "worker_id", "propose without worker_id");
    let err = c
        .propose(pb::ProposeRequest {
            worker_id: "w-000001".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "opening_id", "propose without opening_id");
    for (w, o) in [("w-999999", "o-000001"), ("w-000001", "o-999999")] {
        let err = c
            .propose(pb::ProposeRequest {
                worker_id: w.into(),
                opening_id: o.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{w} {o}: {}", err.message());
    }

    let p = propose(&mut c, "w-000001", "o-000001", "").await;
    accept(&mut c, &p.id).await.unwrap();
    let err = c
        .record_hire(pb::RecordHireRequest {
            placement_id: p.id.clone(),
            hire_date: china_date(2),
            actor: String::new(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "hire_date", "hire in the future");
    let err = c
        .record_hire(pb::RecordHireRequest {
            placement_id: p.id.clone(),
            hire_date: "2026-02-30".into(),
            actor: String::new(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "hire_date", "no such day");
    let err = c
        .record_hire(pb::RecordHireRequest {
            placement_id: p.id.clone(),
            hire_date: china_date(-400),
            actor: String::new(),
        })
        .await
        .unwrap_err();
    assert_precondition(&err, "before the proposal", "hire before the proposal");
    let hired = hire(&mut c, &p.id).await.unwrap();
    assert_eq!(state_of(&hired), pb::PlacementStatus::Hired);
    let err = c
        .record_separation(pb::RecordSeparationRequest {
            placement_id: p.id.clone(),
            separation_date: china_date(0),
            reason: pb::SeparationReason::Unspecified as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "reason", "separation without reason");
    let err = check_in(&mut c, &p.id, 2).await.unwrap_err();
    assert_invalid(&err, "month", "check-in at month 2");
    let err = c
        .record_separation(pb::RecordSeparationRequest {
            placement_id: p.id.clone(),
            separation_date: china_date(-1),
            reason: pb::SeparationReason::Quit as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_precondition(&err, "before the hire", "separation before the hire");
    let err = c
        .record_check_in(pb::RecordCheckInRequest {
            placement_id: p.id.clone(),
            month: 1,
            date: china_date(-1),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_precondition(&err, "before the hire", "check-in before the hire");
    let err = c
        .record_separation(pb::RecordSeparationRequest {
            placement_id: p.id.clone(),
            separation_date: china_date(0),
            reason: pb::SeparationReason::Quit as i32,
            note: "x".repeat(257),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "note", "separation note too long");
    let err = c
        .record_hire(pb::RecordHireRequest {
            placement_id: p.id.clone(),
            hire_date: china_date(0),
            actor: "a".repeat(65),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "actor", "actor too long");
    // None of that changed the placement.
    assert_eq!(history(&mut c, &p.id).await.len(), 3);
    assert_eq!(get(&mut c, &p.id).await, hired);

    // Unknown placements.
    let unknown = "P999999999999".to_string();
    let err = c
        .get(pb::GetPlacementRequest {
            placement_id: unknown.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{}", err.message());
    let err = accept(&mut c, &unknown).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{}", err.message());
    let err = c
        .get_history(pb::GetPlacementHistoryRequest {
            placement_id: unknown.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{}", err.message());
    let err = c
        .get(pb::GetPlacementRequest {
            placement_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "placement_id", "get without id");

    // PLACED is set only by Accept: for a worker with none, or with a
    // proposal only, a write sending it is refused.
    let err = server
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(pb::Worker {
                employment_status: pb::EmploymentStatus::Placed as i32,
                ..worker(2)
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_precondition(&err, "PLACED", "upsert PLACED without a placement");
    let err = server
        .workers()
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(pb::Worker {
                employment_status: pb::EmploymentStatus::Placed as i32,
                ..worker(3)
            }),
        })
        .await
        .unwrap_err();
    assert_precondition(&err, "PLACED", "create PLACED");
    let p2 = propose(&mut c, "w-000002", "o-000001", "").await;
    let err = server
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(pb::Worker {
                employment_status: pb::EmploymentStatus::Placed as i32,
                ..worker(2)
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_precondition(&err, "PLACED", "upsert PLACED with a proposal only");
    assert_eq!(
        status_of(&get_worker(&server, "w-000002").await),
        pb::EmploymentStatus::Seeking
    );

    // An active placement keeps its worker.
    let err = server
        .workers()
        .delete_worker(pb::DeleteWorkerRequest {
            id: "w-000002".into(),
        })
        .await
        .unwrap_err();
    assert_precondition(&err, &p2.id, "delete a worker with a proposal");
    let err = server
        .workers()
        .delete_worker(pb::DeleteWorkerRequest {
            id: "w-000001".into(),
        })
        .await
        .unwrap_err();
    assert_precondition(&err, &p.id, "delete a hired worker");

    // An upsert of an ACCEPTED worker keeps PLACED and the link, whatever
    // it sends.
    accept(&mut c, &p2.id).await.unwrap();
    assert_eq!(filled(&server, "o-000001").await, 2);
    let stored = put_worker(
        &server,
        pb::Worker {
            name: "王秀兰".into(),
            employment_status: pb::EmploymentStatus::Seeking as i32,
            ..worker(2)
        },
    )
    .await;
    assert_eq!(stored.name, "王秀兰");
    assert_eq!(status_of(&stored), pb::EmploymentStatus::Placed);
    assert_eq!(stored.active_placement_id, p2.id);
    assert_eq!(stored.recommendations, 1);
    let stored = get_worker(&server, "w-000002").await;
    assert_eq!(status_of(&stored), pb::EmploymentStatus::Placed);
    assert_eq!(stored.active_placement_id, p2.id);
    // Sending PLACED for it is fine too: it holds an accepted placement.
    let stored = put_worker(
        &server,
        pb::Worker {
            employment_status: pb::EmploymentStatus::Placed as i32,
            ..worker(2)
        },
    )
    .await;
    assert_eq!(status_of(&stored), pb::EmploymentStatus::Placed);
    // And a HIRED worker stays EMPLOYED.
    let stored = put_worker(&server, worker(1)).await;
    assert_eq!(status_of(&stored), pb::EmploymentStatus::Employed);
    assert_eq!(stored.active_placement_id, p.id);

    // A proposal holds no slot.
    put_worker(&server, worker(5)).await;
    let p3 = propose(&mut c, "w-000005", "o-000001", "").await;
    assert_eq!(filled(&server, "o-000001").await, 2);

    // The headcount cannot go below the slots taken; the count is kept.
    let err = server
        .openings()
        .upsert_opening(pb::UpsertOpeningRequest {
            opening: Some(opening_for(1, 1)),
        })
        .await
        .unwrap_err();
    assert_precondition(&err, "headcount", "headcount below filled");
    assert_eq!(get_opening(&server, "o-000001").await.headcount, 3);
    let o = put_opening(&server, opening_for(1, 2)).await;
    assert_eq!((o.headcount, o.filled), (2, 2));
    // Now full: no proposal, no accept.
    put_worker(&server, worker(4)).await;
    let err = c
        .propose(pb::ProposeRequest {
            worker_id: "w-000004".into(),
            opening_id: "o-000001".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    // The eligibility check names the rule (NO_FREE_SLOTS).
    assert_precondition(&err, "slots", "propose on a full opening");
    let err = accept(&mut c, &p3.id).await.unwrap_err();
    assert_precondition(&err, "no free slot", "accept on a full opening");

    // Closing keeps the slots taken; a closed opening takes nobody, and
    // backing out still frees the slot.
    let closed = server
        .openings()
        .close_opening(pb::CloseOpeningRequest {
            id: "o-000001".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .opening
        .unwrap();
    assert_eq!(closed.filled, 2);
    let err = accept(&mut c, &p3.id).await.unwrap_err();
    assert_precondition(&err, "CLOSED", "accept on a closed opening");
    decline(&mut c, &p2.id).await.unwrap();
    assert_eq!(filled(&server, "o-000001").await, 1);
    assert_eq!(
        status_of(&get_worker(&server, "w-000002").await),
        pb::EmploymentStatus::Seeking
    );
    decline(&mut c, &p3.id).await.unwrap();
    // Without an active placement a worker can go.
    server
        .workers()
        .delete_worker(pb::DeleteWorkerRequest {
            id: "w-000005".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        get(&mut c, &p3.id).await.worker_id,
        "431202/w-000005",
        "history stays"
    );
    server.stop().await;
}

/// Whom to call: ListDueCheckIns and `jobbridge export checkins` carry
/// the worker's name and phone, in clear for an admin and for a service
/// company of the worker's county (the county filter keeps it to those).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_check_ins_carry_whom_to_call() {
    use jobbridge::domain::access::{Role, Scope};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let w = put_worker(
        &server,
        pb::Worker {
            name: "向春梅".into(),
            phone: "13907451234".into(),
            consent_to_share: false,
            ..worker(30)
        },
    )
    .await;
    let o = put_opening(&server, opening_for(3, 5)).await;
    let mut c = server.placements();
    let p = propose(&mut c, &w.id, &o.id, "esc-431202:clerk").await;
    accept(&mut c, &p.id).await.unwrap();
    hire(&mut c, &p.id).await.unwrap();

    let company = server.token(
        Role::ServiceCompany,
        Scope {
            counties: vec![w.county_code.clone()],
            ..Default::default()
        },
    );
    let request = pb::ListDueCheckInsRequest {
        county_code: w.county_code.clone(),
        within_days: 366,
    };
    for token in [server.admin_token.clone(), company.clone()] {
        let due = server
            .clients_with(Some(&token))
            .placements()
            .list_due_check_ins(request.clone())
            .await
            .unwrap()
            .into_inner()
            .check_ins;
        assert_eq!(due.len(), 3, "months 1, 3 and 6");
        for d in &due {
            assert_eq!(d.worker_id, w.id);
            assert_eq!(
                (d.worker_name.as_str(), d.worker_phone.as_str()),
                ("向春梅", "13907451234")
            );
            assert!(!d.masked);
        }
    }

    // The officer's file, through the server with the company's token.
    let out = dir.path().join("checkins.csv");
    let args = [
        "export",
        "checkins",
        "--server",
        &server.addr.to_string(),
        "--token",
        &company,
        "--county",
        &w.county_code,
        "--within-days",
        "366",
        "--out",
        out.to_str().unwrap(),
        "--lang",
        "en",
    ]
    .map(String::from);
    let done = tokio::task::spawn_blocking(move || {
        std::process::Command::new(crate::common::binary())
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("placement_id,worker_id,name,phone,"),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "{text}");
    for row in rows {
        assert!(row.contains(",向春梅,13907451234,"), "{row}");
    }
    server.stop().await;
}
