//! `ReportService.Coverage` over real gRPC: a small hand-made data set (two
//! counties, twelve workers in seven households, four openings of three
//! sources, ten placements driven through `PlacementService`), and every
//! figure of the report checked against numbers worked out by hand from the
//! doc comments of `proto/jobbridge/v1/reports.proto` — without a filter,
//! by county, by source and for a date range in the past. Bad filters are
//! refused with INVALID_ARGUMENT naming the field.

use std::time::Duration;

use crate::common::Channel;
use crate::common::{assert_invalid, opening, worker, TestServer};
use jobbridge::api::pb;
use jobbridge::api::pb::placement_service_client::PlacementServiceClient;
use jobbridge::api::pb::report_service_client::ReportServiceClient;

const A: &str = "431202"; // 鹤城区
const B: &str = "431221"; // 中方县

use pb::EmploymentStatus::{Employed, Seeking, Unavailable};
use pb::Source::{AidWorkshop, Enterprise, PublicWelfare};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Worker `n` of `county` in `household` with `status`. Everything else is
/// the builder's: born 1985, sewing 3, near home within 20 km of the site at
/// (27.55, 109.98), so every opening below (at (27.56, 109.99), sewing 2,
/// light work, ages 18-55, open until 2027-12-01) is eligible for a seeker.
fn w(n: u32, county: &str, household: &str, status: pb::EmploymentStatus) -> pb::Worker {
    pb::Worker {
        county_code: county.into(),
        household_id: household.into(),
        service_company_id: format!("esc-{county}"),
        employment_status: status as i32,
        ..worker(n)
    }
}

/// Opening `n` of `source` in `region` with `headcount` slots.
fn o(n: u32, source: pb::Source, region: &str, headcount: u32) -> pb::Opening {
    pb::Opening {
        source: source as i32,
        region_code: region.into(),
        headcount,
        ..opening(n)
    }
}

async fn propose(
    c: &mut PlacementServiceClient<Channel>,
    worker: &pb::Worker,
    op: &pb::Opening,
) -> String {
    let p = c
        .propose(pb::ProposeRequest {
            worker_id: worker.id.clone(),
            opening_id: op.id.clone(),
            run_id: 0,
            actor: "report-test".into(),
        })
        .await
        .unwrap_or_else(|e| panic!("propose {} -> {}: {e}", worker.id, op.id))
        .into_inner();
    assert_eq!(p.status, pb::PlacementStatus::Proposed as i32);
    p.id
}

async fn accept(c: &mut PlacementServiceClient<Channel>, id: &str) {
    let p = c
        .accept(pb::AcceptRequest {
            placement_id: id.into(),
            actor: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("accept {id}: {e}"))
        .into_inner();
    assert_eq!(p.status, pb::PlacementStatus::Accepted as i32);
}

async fn decline(c: &mut PlacementServiceClient<Channel>, id: &str) {
    let p = c
        .decline(pb::DeclineRequest {
            placement_id: id.into(),
            reason_code: pb::DeclineReason::Other as i32,
            reason: "not for me".into(),
            actor: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("decline {id}: {e}"))
        .into_inner();
    assert_eq!(p.status, pb::PlacementStatus::Declined as i32);
}

async fn hire(c: &mut PlacementServiceClient<Channel>, id: &str, day: &str) {
    let p = c
        .record_hire(pb::RecordHireRequest {
            placement_id: id.into(),
            hire_date: day.into(),
            actor: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("hire {id}: {e}"))
        .into_inner();
    assert_eq!(p.status, pb::PlacementStatus::Hired as i32);
    assert_eq!(p.hire_date, day);
}

async fn separate(c: &mut PlacementServiceClient<Channel>, id: &str, day: &str) {
    let p = c
        .record_separation(pb::RecordSeparationRequest {
            placement_id: id.into(),
            separation_date: day.into(),
            reason: pb::SeparationReason::Quit as i32,
            note: String::new(),
            actor: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("separate {id}: {e}"))
        .into_inner();
    assert_eq!(p.status, pb::PlacementStatus::Separated as i32);
}

async fn coverage(
    c: &mut ReportServiceClient<Channel>,
    r: pb::CoverageRequest,
) -> pb::CoverageReport {
    c.coverage(r.clone())
        .await
        .unwrap_or_else(|e| panic!("coverage {r:?}: {e}"))
        .into_inner()
}

/// Worker and household figures of a row: "now", never narrowed by source
/// or dates.
struct People {
    registered: u64,
    want_work: u64,
    seeking: u64,
    placed: u64,
    in_work: u64,
    in_work_placed: u64,
    households_with_labour: u64,
    zero_employment_households: u64,
    seeking_under_three: u64,
}

/// Placement figures of a row (date range and source). Retention is not
/// here: every hire is today, so no 3- or 6-month mark is over and every
/// retention figure is 0.
struct Flow {
    proposals: u64,
    accepted: u64,
    declined: u64,
    hires: u64,
    separations: u64,
    returnees: u64,
    reproposed: u64,
    waiting: u64,
}

/// No placement figure at all.
const NO_FLOW: Flow = Flow {
    proposals: 0,
    accepted: 0,
    declined: 0,
    hires: 0,
    separations: 0,
    returnees: 0,
    reproposed: 0,
    waiting: 0,
};

/// The expected row. Every field of `CoverageRow` is named (no
/// `..Default::default()`), so a new field fails to compile here until it
/// is checked. The three wait figures are 0 here and checked by
/// [`assert_row`] against the counts.
fn row(county: &str, p: &People, f: &Flow) -> pb::CoverageRow {
    pb::CoverageRow {
        county_code: county.into(),
        workers_registered: p.registered,
        workers_want_work: p.want_work,
        workers_seeking: p.seeking,
        workers_placed: p.placed,
        workers_in_work: p.in_work,
        workers_in_work_placed: p.in_work_placed,
        households_with_labour: p.households_with_labour,
        zero_employment_households: p.zero_employment_households,
        proposals: f.proposals,
        accepted: f.accepted,
        declined: f.declined,
        hires: f.hires,
        separations: f.separations,
        retention_3m_due: 0,
        retention_3m_retained: 0,
        retention_3m_share: 0.0,
        retention_6m_due: 0,
        retention_6m_retained: 0,
        retention_6m_share: 0.0,
        returnees: f.returnees,
        returnees_reproposed: f.reproposed,
        returnees_waiting: f.waiting,
        returnee_wait_median_days: 0.0,
        returnee_wait_mean_days: 0.0,
        returnee_waiting_max_days: 0.0,
        seeking_under_three_recommendations: p.seeking_under_three,
    }
}

/// Compares a row field by field. The returnees' waits are seconds, so in
/// days they are only bounded: 0 when nobody is counted, else in [0, 1).
fn assert_row(got: &pb::CoverageRow, want: &pb::CoverageRow, ctx: &str) {
    let tiny = |value: f64, any: bool, name: &str| {
        if any {
            assert!(
                (0.0..1.0).contains(&value),
                "{ctx}: {name} = {value}, want in [0, 1) days"
            );
        } else {
            assert_eq!(value, 0.0, "{ctx}: {name} with nobody counted");
        }
    };
    let reproposed = want.returnees_reproposed > 0;
    tiny(
        got.returnee_wait_median_days,
        reproposed,
        "returnee_wait_median_days",
    );
    tiny(
        got.returnee_wait_mean_days,
        reproposed,
        "returnee_wait_mean_days",
    );
    tiny(
        got.returnee_waiting_max_days,
        want.returnees_waiting > 0,
        "returnee_waiting_max_days",
    );
    let mut got = got.clone();
    got.returnee_wait_median_days = 0.0;
    got.returnee_wait_mean_days = 0.0;
    got.returnee_waiting_max_days = 0.0;
    assert_eq!(&got, want, "{ctx}");
}

/// Compares a report: total, one row per county (by code), the slots.
fn assert_report(
    got: &pb::CoverageReport,
    total: &pb::CoverageRow,
    counties: &[pb::CoverageRow],
    slots: &[pb::SlotsRow],
    ctx: &str,
) {
    assert_row(
        got.total.as_ref().expect("total"),
        total,
        &format!("{ctx}: total"),
    );
    let codes: Vec<&str> = got
        .counties
        .iter()
        .map(|r| r.county_code.as_str())
        .collect();
    let want_codes: Vec<&str> = counties.iter().map(|r| r.county_code.as_str()).collect();
    assert_eq!(codes, want_codes, "{ctx}: county rows");
    for (g, w) in got.counties.iter().zip(counties) {
        assert_row(g, w, &format!("{ctx}: county {}", w.county_code));
    }
    assert_eq!(got.slots, slots, "{ctx}: slots");
}

fn slots(rows: &[(pb::Source, u64, u64, u64)]) -> Vec<pb::SlotsRow> {
    rows.iter()
        .map(
            |&(source, openings_open, slots_open, slots_filled)| pb::SlotsRow {
                source: source as i32,
                openings_open,
                slots_open,
                slots_filled,
            },
        )
        .collect()
}

// ---------------------------------------------------------------------------
// The data set
// ---------------------------------------------------------------------------
//
// County A = 431202:
//   hh-a1: w1 SEEKING (placed through P1 -> HIRED, so EMPLOYED), w2 UNAVAILABLE
//   hh-a2: w3 SEEKING (three proposals P2 P3 P4, all declined),
//          w4 SEEKING (P5 accepted -> PLACED)
//   hh-a3: w5 EMPLOYED by hand, w6 SEEKING (P6 hired then separated,
//          then P7 proposed: a re-proposed returnee)
//   hh-a4: w7 UNAVAILABLE (alone: no labour)
// County B = 431221:
//   hh-b1: w8 SEEKING (P8 hired then separated, no new proposal: waiting),
//          w9 SEEKING (P9 accepted, then backed out -> DECLINED)
//   hh-b2: w10 SEEKING (never proposed), w11 EMPLOYED by hand
//   hh-b3: w12 SEEKING (P10 hired on O4, which is then closed)
//
// Openings:
//   O1 AID_WORKSHOP    region A, headcount 3, open
//   O2 PUBLIC_WELFARE  region A, headcount 2, open
//   O3 ENTERPRISE      region B, headcount 4, open
//   O4 PUBLIC_WELFARE  region B, headcount 2, closed after P10's hire
//
// Placements, in this order (county = the worker's):
//   P1  w1  -> O1  AID  A  proposed, accepted, hired
//   P2  w3  -> O1  AID  A  proposed, declined
//   P3  w3  -> O2  PW   A  proposed, declined
//   P4  w3  -> O3  ENT  A  proposed, declined (opening in B, worker in A)
//   P5  w4  -> O2  PW   A  proposed, accepted
//   P6  w6  -> O1  AID  A  proposed, accepted, hired, separated
//   P7  w6  -> O2  PW   A  proposed (after P6's separation)
//   P8  w8  -> O3  ENT  B  proposed, accepted, hired, separated
//   P9  w9  -> O3  ENT  B  proposed, accepted, declined (backed out)
//   P10 w12 -> O4  PW   B  proposed, accepted, hired; then O4 closed

/// County A's people, now:
const PEOPLE_A: People = People {
    // w1..w7
    registered: 7,
    // all but the UNAVAILABLE w2 and w7: w1 w3 w4 w5 w6
    want_work: 5,
    // w3 (all declined), w6 (separated; P7 is only proposed)
    seeking: 2,
    // w4 (P5 accepted)
    placed: 1,
    // w1 (P1 hired), w5 (by hand)
    in_work: 2,
    // w1 only; w5 works without a placement
    in_work_placed: 1,
    // hh-a1 (w1), hh-a2 (w3 w4), hh-a3 (w5 w6); hh-a4 has only w7,
    // UNAVAILABLE
    households_with_labour: 3,
    // hh-a2: w3 SEEKING, w4 PLACED, nobody EMPLOYED
    zero_employment_households: 1,
    // seekers w3 (3 recommendations: no) and w6 (2: P6, P7: yes)
    seeking_under_three: 1,
};

/// County B's people, now:
const PEOPLE_B: People = People {
    // w8..w12
    registered: 5,
    // nobody UNAVAILABLE
    want_work: 5,
    // w8 (separated), w9 (backed out), w10 (never proposed)
    seeking: 3,
    placed: 0,
    // w11 (by hand), w12 (P10 hired)
    in_work: 2,
    // w12
    in_work_placed: 1,
    // hh-b1, hh-b2, hh-b3
    households_with_labour: 3,
    // hh-b1: w8 and w9 both SEEKING
    zero_employment_households: 1,
    // w8 (1), w9 (1), w10 (0)
    seeking_under_three: 3,
};

/// Both counties: the sums of A and B.
const PEOPLE_ALL: People = People {
    registered: 12,
    want_work: 10,
    seeking: 5,
    placed: 1,
    in_work: 4,
    in_work_placed: 2,
    households_with_labour: 6,
    zero_employment_households: 2,
    seeking_under_three: 4,
};

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_figures_match_a_hand_made_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut wc = server.workers();
    let mut oc = server.openings();
    let mut pc = server.placements();
    let mut rc = server.reports();

    // Today (China), as the server sees it: hires and separations cannot be
    // after it, nor before the proposal (today).
    let empty = coverage(&mut rc, pb::CoverageRequest::default()).await;
    let today = empty.as_of_date.clone();
    assert_eq!(empty.to_date, today);
    assert_eq!(empty.from_date, "");

    let workers = [
        w(1, A, "hh-a1", Seeking),
        w(2, A, "hh-a1", Unavailable),
        w(3, A, "hh-a2", Seeking),
        w(4, A, "hh-a2", Seeking),
        w(5, A, "hh-a3", Employed),
        w(6, A, "hh-a3", Seeking),
        w(7, A, "hh-a4", Unavailable),
        w(8, B, "hh-b1", Seeking),
        w(9, B, "hh-b1", Seeking),
        w(10, B, "hh-b2", Seeking),
        w(11, B, "hh-b2", Employed),
        w(12, B, "hh-b3", Seeking),
    ];
    for x in &workers {
        wc.create_worker(pb::CreateWorkerRequest {
            worker: Some(x.clone()),
        })
        .await
        .unwrap_or_else(|e| panic!("create {}: {e}", x.id));
    }
    let wk = |n: usize| &workers[n - 1];
    let openings = [
        o(1, AidWorkshop, A, 3),
        o(2, PublicWelfare, A, 2),
        o(3, Enterprise, B, 4),
        o(4, PublicWelfare, B, 2),
    ];
    for x in &openings {
        oc.create_opening(pb::CreateOpeningRequest {
            opening: Some(x.clone()),
        })
        .await
        .unwrap_or_else(|e| panic!("create {}: {e}", x.id));
    }
    let op = |n: usize| &openings[n - 1];

    // P1: w1 -> O1, hired.
    let p1 = propose(&mut pc, wk(1), op(1)).await;
    accept(&mut pc, &p1).await;
    hire(&mut pc, &p1, &today).await;
    // P2, P3, P4: w3 turns down three offers.
    for n in [1, 2, 3] {
        let p = propose(&mut pc, wk(3), op(n)).await;
        decline(&mut pc, &p).await;
    }
    // P5: w4 -> O2, accepted, not started.
    let p5 = propose(&mut pc, wk(4), op(2)).await;
    accept(&mut pc, &p5).await;
    // P6: w6 -> O1, hired and separated; P7: w6 -> O2, proposed again.
    let p6 = propose(&mut pc, wk(6), op(1)).await;
    accept(&mut pc, &p6).await;
    hire(&mut pc, &p6, &today).await;
    separate(&mut pc, &p6, &today).await;
    // The wait is measured in ms: make it strictly positive.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let p7 = propose(&mut pc, wk(6), op(2)).await;
    // P8: w8 -> O3, hired and separated, still waiting.
    let p8 = propose(&mut pc, wk(8), op(3)).await;
    accept(&mut pc, &p8).await;
    hire(&mut pc, &p8, &today).await;
    separate(&mut pc, &p8, &today).await;
    // P9: w9 -> O3, accepted then backed out.
    let p9 = propose(&mut pc, wk(9), op(3)).await;
    accept(&mut pc, &p9).await;
    decline(&mut pc, &p9).await;
    // P10: w12 -> O4, hired; O4 then closed (its slot stays filled).
    let p10 = propose(&mut pc, wk(12), op(4)).await;
    accept(&mut pc, &p10).await;
    hire(&mut pc, &p10, &today).await;
    oc.close_opening(pb::CloseOpeningRequest {
        id: op(4).id.clone(),
    })
    .await
    .unwrap();
    let ids = [&p1, &p5, &p6, &p7, &p8, &p9, &p10];
    assert!(ids.windows(2).all(|x| x[0] < x[1]), "ids in creation order");

    // -----------------------------------------------------------------
    // No filter.
    // -----------------------------------------------------------------
    // County A's placements: P1..P7.
    let flow_a = Flow {
        // P1 P2 P3 P4 P5 P6 P7 (P4's opening is in B, its worker in A)
        proposals: 7,
        // P1 P5 P6
        accepted: 3,
        // P2 P3 P4
        declined: 3,
        // P1 P6
        hires: 2,
        // P6
        separations: 1,
        // P6's worker w6, re-proposed by P7
        returnees: 1,
        reproposed: 1,
        waiting: 0,
    };
    // County B's placements: P8 P9 P10.
    let flow_b = Flow {
        proposals: 3,
        // P8 P9 P10 (P9 was accepted before backing out)
        accepted: 3,
        // P9
        declined: 1,
        // P8 P10
        hires: 2,
        // P8
        separations: 1,
        // w8, no proposal since
        returnees: 1,
        reproposed: 0,
        waiting: 1,
    };
    // Both: the sums.
    let flow_all = Flow {
        proposals: 10,
        accepted: 6,
        declined: 4,
        hires: 4,
        separations: 2,
        returnees: 2,
        reproposed: 1,
        waiting: 1,
    };
    // Slots, every source in source order:
    //   AID: O1 open, 3 slots; P1 holds one (P6 freed its own) -> 1 open
    //        opening, 2 free, 1 filled.
    //   PW:  O2 open, 2 slots, P5 holds one -> 1 free; O4 closed, P10
    //        holds one -> not open, but filled. 1 open, 1 free, 2 filled.
    //   ENT: O3 open, 4 slots; P8 separated and P9 backed out, so none
    //        held -> 1 open, 4 free, 0 filled.
    //   The other three sources have no openings.
    let all_slots = slots(&[
        (AidWorkshop, 1, 2, 1),
        (PublicWelfare, 1, 1, 2),
        (pb::Source::LabourCooperation, 0, 0, 0),
        (pb::Source::WorkRelief, 0, 0, 0),
        (pb::Source::IndustrialPark, 0, 0, 0),
        (Enterprise, 1, 4, 0),
    ]);
    let r = coverage(&mut rc, pb::CoverageRequest::default()).await;
    assert_eq!(r.from_date, "");
    assert_eq!(r.to_date, today);
    assert_eq!(r.as_of_date, today);
    assert_report(
        &r,
        &row("", &PEOPLE_ALL, &flow_all),
        &[row(A, &PEOPLE_A, &flow_a), row(B, &PEOPLE_B, &flow_b)],
        &all_slots,
        "no filter",
    );
    // The same range spelled out: from today to today.
    let r = coverage(
        &mut rc,
        pb::CoverageRequest {
            from_date: today.clone(),
            to_date: today.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        (r.from_date.as_str(), r.to_date.as_str()),
        (today.as_str(), today.as_str())
    );
    assert_report(
        &r,
        &row("", &PEOPLE_ALL, &flow_all),
        &[row(A, &PEOPLE_A, &flow_a), row(B, &PEOPLE_B, &flow_b)],
        &all_slots,
        "today to today",
    );

    // -----------------------------------------------------------------
    // By county: the total is the county's row; slots of openings whose
    // region is the county.
    // -----------------------------------------------------------------
    let r = coverage(
        &mut rc,
        pb::CoverageRequest {
            county_code: A.into(),
            ..Default::default()
        },
    )
    .await;
    assert_report(
        &r,
        &row("", &PEOPLE_A, &flow_a),
        &[row(A, &PEOPLE_A, &flow_a)],
        // Region A holds O1 (AID) and O2 (PW) only.
        &slots(&[
            (AidWorkshop, 1, 2, 1),
            (PublicWelfare, 1, 1, 1),
            (pb::Source::LabourCooperation, 0, 0, 0),
            (pb::Source::WorkRelief, 0, 0, 0),
            (pb::Source::IndustrialPark, 0, 0, 0),
            (Enterprise, 0, 0, 0),
        ]),
        "county A",
    );
    let r = coverage(
        &mut rc,
        pb::CoverageRequest {
            county_code: B.into(),
            ..Default::default()
        },
    )
    .await;
    assert_report(
        &r,
        &row("", &PEOPLE_B, &flow_b),
        &[row(B, &PEOPLE_B, &flow_b)],
        // Region B holds O3 (ENT, open) and O4 (PW, closed, 1 filled).
        &slots(&[
            (AidWorkshop, 0, 0, 0),
            (PublicWelfare, 0, 0, 1),
            (pb::Source::LabourCooperation, 0, 0, 0),
            (pb::Source::WorkRelief, 0, 0, 0),
            (pb::Source::IndustrialPark, 0, 0, 0),
            (Enterprise, 1, 4, 0),
        ]),
        "county B",
    );

    // -----------------------------------------------------------------
    // By source: placement figures and slots narrowed, people not.
    // -----------------------------------------------------------------
    // PUBLIC_WELFARE placements: P3 P5 P7 (A, on O2) and P10 (B, on O4).
    let pw_a = Flow {
        // P3 P5 P7
        proposals: 3,
        // P5
        accepted: 1,
        // P3
        declined: 1,
        ..NO_FLOW
    };
    let pw_b = Flow {
        // P10: proposed, accepted, hired
        proposals: 1,
        accepted: 1,
        hires: 1,
        ..NO_FLOW
    };
    let pw_all = Flow {
        proposals: 4,
        accepted: 2,
        declined: 1,
        hires: 1,
        ..NO_FLOW
    };
    let r = coverage(
        &mut rc,
        pb::CoverageRequest {
            source: PublicWelfare as i32,
            ..Default::default()
        },
    )
    .await;
    assert_report(
        &r,
        &row("", &PEOPLE_ALL, &pw_all),
        &[row(A, &PEOPLE_A, &pw_a), row(B, &PEOPLE_B, &pw_b)],
        // Only the source's own row: O2 open with 1 free of 2, O4 closed.
        &slots(&[(PublicWelfare, 1, 1, 2)]),
        "source PUBLIC_WELFARE",
    );

    // AID_WORKSHOP placements: P1 P2 P6, all in A. P6's returnee w6 was
    // re-proposed by P7, a PUBLIC_WELFARE offer: the wait runs to the
    // worker's next proposal, whatever its source.
    let aid_a = Flow {
        // P1 P2 P6
        proposals: 3,
        // P1 P6
        accepted: 2,
        // P2
        declined: 1,
        // P1 P6
        hires: 2,
        // P6
        separations: 1,
        returnees: 1,
        reproposed: 1,
        waiting: 0,
    };
    let r = coverage(
        &mut rc,
        pb::CoverageRequest {
            source: AidWorkshop as i32,
            ..Default::default()
        },
    )
    .await;
    assert_report(
        &r,
        &row("", &PEOPLE_ALL, &aid_a),
        &[row(A, &PEOPLE_A, &aid_a), row(B, &PEOPLE_B, &NO_FLOW)],
        &slots(&[(AidWorkshop, 1, 2, 1)]),
        "source AID_WORKSHOP",
    );

    // ENTERPRISE in county B: P8 and P9 (P4 is ENTERPRISE too, but its
    // worker is of county A).
    let ent_b = Flow {
        // P8 P9
        proposals: 2,
        accepted: 2,
        // P9
        declined: 1,
        // P8
        hires: 1,
        separations: 1,
        // w8, waiting
        returnees: 1,
        reproposed: 0,
        waiting: 1,
    };
    let r = coverage(
        &mut rc,
        pb::CoverageRequest {
            county_code: B.into(),
            source: Enterprise as i32,
            ..Default::default()
        },
    )
    .await;
    assert_report(
        &r,
        &row("", &PEOPLE_B, &ent_b),
        &[row(B, &PEOPLE_B, &ent_b)],
        &slots(&[(Enterprise, 1, 4, 0)]),
        "county B, source ENTERPRISE",
    );

    // -----------------------------------------------------------------
    // A date range in the past: nothing happened then. People and slots
    // are "now" and stay; every placement figure is 0.
    // -----------------------------------------------------------------
    let past = pb::CoverageRequest {
        from_date: "2020-01-01".into(),
        to_date: "2020-12-31".into(),
        ..Default::default()
    };
    let r = coverage(&mut rc, past.clone()).await;
    assert_eq!(r.from_date, "2020-01-01");
    assert_eq!(r.to_date, "2020-12-31");
    assert_eq!(r.as_of_date, today);
    assert_report(
        &r,
        &row("", &PEOPLE_ALL, &NO_FLOW),
        &[row(A, &PEOPLE_A, &NO_FLOW), row(B, &PEOPLE_B, &NO_FLOW)],
        &all_slots,
        "2020",
    );
    let r = coverage(
        &mut rc,
        pb::CoverageRequest {
            county_code: A.into(),
            ..past
        },
    )
    .await;
    assert_report(
        &r,
        &row("", &PEOPLE_A, &NO_FLOW),
        &[row(A, &PEOPLE_A, &NO_FLOW)],
        &slots(&[
            (AidWorkshop, 1, 2, 1),
            (PublicWelfare, 1, 1, 1),
            (pb::Source::LabourCooperation, 0, 0, 0),
            (pb::Source::WorkRelief, 0, 0, 0),
            (pb::Source::IndustrialPark, 0, 0, 0),
            (Enterprise, 0, 0, 0),
        ]),
        "county A, 2020",
    );

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filters_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut rc = server.reports();
    let cases = [
        (
            pb::CoverageRequest {
                county_code: "12".into(),
                ..Default::default()
            },
            "county_code",
        ),
        (
            pb::CoverageRequest {
                from_date: "2026-05-02".into(),
                to_date: "2026-05-01".into(),
                ..Default::default()
            },
            "from_date",
        ),
        (
            pb::CoverageRequest {
                to_date: "2026-13-01".into(),
                ..Default::default()
            },
            "to_date",
        ),
    ];
    for (request, field) in cases {
        let e = rc
            .coverage(request.clone())
            .await
            .expect_err(&format!("{request:?} accepted"));
        assert_invalid(&e, field, &format!("{request:?}"));
    }
    server.stop().await;
}
