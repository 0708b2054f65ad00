//! The dashboard against the coverage report's full scan: random writes
//! through the service (worker puts, imports, deletes and restores,
//! opening puts and closes, proposals, every placement step, a batch
//! run), from several tasks at once, then every figure the dashboard fills
//! compared with `report::coverage` for each county and in total, on
//! several "today"s. Also the daily rows (one per day, kept across a
//! reopen) and who may read what.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;

use super::dashboard::Counties;
use super::{ImportOptions, Service, ServiceError};
use crate::batch::BatchSettings;
use crate::domain::access::Role;
use crate::domain::placement::{china_today, DeclineReason, SeparationReason};
use crate::domain::run::Policy;
use crate::domain::{EmploymentStatus, OpeningStatus};
use crate::report::{coverage, CoverageFilter, Row};
use crate::store::{Action, PutMode};
use crate::testing::{self, admin, caller};

fn open(dir: &std::path::Path, data: Option<&crate::demo::DemoData>) -> Arc<Service> {
    testing::service_with(dir, 0xcd, data, BatchSettings::default())
}

fn demo(seed: u64) -> crate::demo::DemoData {
    testing::demo(0.03, seed)
}

/// The figures the dashboard fills, by name.
fn filled(r: &Row) -> Vec<(&'static str, u64)> {
    vec![
        ("workers_registered", r.workers_registered),
        ("workers_want_work", r.workers_want_work),
        ("workers_seeking", r.workers_seeking),
        ("workers_placed", r.workers_placed),
        ("workers_in_work", r.workers_in_work),
        ("households_with_labour", r.households_with_labour),
        ("zero_employment_households", r.zero_employment_households),
        ("hires", r.hires),
        ("separations", r.separations),
        ("retention_3m_due", r.retention_3m_due),
        ("retention_3m_retained", r.retention_3m_retained),
        ("retention_6m_due", r.retention_6m_due),
        ("retention_6m_retained", r.retention_6m_retained),
    ]
}

fn scan(service: &Service, county: Option<&str>, today: i32) -> crate::report::Coverage {
    let filter = CoverageFilter::up_to(county.map(str::to_string), today);
    coverage(service.store(), &filter).unwrap()
}

/// Every figure the dashboard fills equals the scan's, per county and in
/// total, with the slots, for all counties and for each one alone.
fn check_equal(service: &Service, today: i32) -> Result<(), TestCaseError> {
    let all = scan(service, None, today);
    let dash = service.dashboard_on(&None, today);
    prop_assert_eq!(
        filled(&dash.total),
        filled(&all.total),
        "total, today {}",
        today
    );
    prop_assert_eq!(&dash.slots, &all.slots, "slots, today {}", today);
    let counties: BTreeSet<String> = all
        .counties
        .iter()
        .chain(&dash.counties)
        .map(|r| r.county_code.clone())
        .collect();
    for c in &counties {
        let one = scan(service, Some(c), today);
        let want = one
            .counties
            .first()
            .map(filled)
            .unwrap_or_else(|| filled(&Row::default()));
        let only: Counties = Some(BTreeSet::from([c.clone()]));
        let mine = service.dashboard_on(&only, today);
        let got = mine
            .counties
            .first()
            .map(filled)
            .unwrap_or_else(|| filled(&Row::default()));
        prop_assert_eq!(&got, &want, "county {}, today {}", c, today);
        let listed = dash.counties.iter().find(|r| &r.county_code == c);
        let listed = listed
            .map(filled)
            .unwrap_or_else(|| filled(&Row::default()));
        prop_assert_eq!(&listed, &want, "county {} among all, today {}", c, today);
        prop_assert_eq!(&mine.slots, &one.slots, "slots of {}, today {}", c, today);
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Op {
    Status(usize, usize),
    Delete(usize),
    Restore(usize),
    Import(Vec<(usize, usize)>),
    Headcount(usize, u32),
    Close(usize),
    Propose(usize, usize),
    Step(usize, u8, i32),
    /// The next step of the placement's life, whatever state it is in.
    Advance(usize, u8, i32),
    Run,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<usize>(), 0..4usize).prop_map(|(w, s)| Op::Status(w, s)),
        1 => any::<usize>().prop_map(Op::Delete),
        1 => any::<usize>().prop_map(Op::Restore),
        1 => prop::collection::vec((any::<usize>(), 0..4usize), 1..6).prop_map(Op::Import),
        1 => (any::<usize>(), 0..40u32).prop_map(|(o, h)| Op::Headcount(o, h)),
        1 => any::<usize>().prop_map(Op::Close),
        6 => (any::<usize>(), any::<usize>()).prop_map(|(w, o)| Op::Propose(w, o)),
        4 => (0..16usize, 0..5u8, 0..400i32).prop_map(|(p, s, d)| Op::Step(p, s, d)),
        24 => (0..16usize, 0..5u8, 0..400i32).prop_map(|(p, s, d)| Op::Advance(p, s, d)),
        1 => Just(Op::Run),
    ]
}

const STATUSES: [EmploymentStatus; 4] = [
    EmploymentStatus::Seeking,
    EmploymentStatus::Placed,
    EmploymentStatus::Employed,
    EmploymentStatus::Unavailable,
];

/// Applies one operation; refusals are expected (a step out of order, a
/// delete of a placed worker) and ignored: the check compares with what
/// the store holds, whatever was refused.
async fn apply(service: &Arc<Service>, data: &crate::demo::DemoData, op: Op) {
    let admin = admin();
    let worker = |i: usize| &data.workers[i % data.workers.len()];
    let opening = |i: usize| &data.openings[i % data.openings.len()];
    let stored = |id: String| {
        let s = service.clone();
        async move { s.store().worker(&id).ok().flatten() }
    };
    let today = china_today();
    match op {
        Op::Status(w, s) => {
            if let Some(mut w) = stored(worker(w).id.clone()).await {
                w.employment_status = STATUSES[s];
                let _ = service.put_worker(&admin, w, PutMode::Upsert, false).await;
            }
        }
        Op::Delete(w) => {
            let _ = service.delete_worker(&admin, &worker(w).id).await;
        }
        Op::Restore(w) => {
            let _ = service
                .put_worker(&admin, worker(w).clone(), PutMode::Upsert, false)
                .await;
        }
        Op::Import(rows) => {
            let mut batch = Vec::new();
            for (w, s) in rows {
                if let Some(mut w) = stored(worker(w).id.clone()).await {
                    w.employment_status = STATUSES[s];
                    batch.push(w);
                }
            }
            let s = service.clone();
            let _ = tokio::task::spawn_blocking(move || {
                s.import_workers(&admin, batch, ImportOptions::default())
            })
            .await;
        }
        Op::Headcount(o, h) => {
            let id = opening(o).id.clone();
            if let Ok(Some(mut o)) = service.store().opening(&id) {
                o.headcount = h.max(1);
                o.status = OpeningStatus::Open;
                let _ = service.put_opening(&admin, o, PutMode::Upsert).await;
            }
        }
        Op::Close(o) => {
            let _ = service.close_opening(&admin, &opening(o).id).await;
        }
        Op::Propose(w, o) => {
            // Through the write path without the eligibility check (as a
            // run's proposals are), so that most proposals are made.
            let p = crate::testing::proposal(&worker(w).id, &opening(o).id);
            let s = service.clone();
            let _ = tokio::task::spawn_blocking(move || s.writer.propose(&p, "test")).await;
        }
        Op::Advance(p, coin, days) => {
            use crate::domain::placement::PlacementStatus as S;
            let id = format!("P{:012}", p + 1);
            let Ok(Some(placement)) = service.store().placement(&id) else {
                return;
            };
            let step = match (placement.state(), coin) {
                (S::Proposed, 0) | (S::Accepted, 0) => 1,
                (S::Proposed, _) => 0,
                (S::Accepted, _) => 2,
                (S::Hired, 0 | 1) => 4,
                (S::Hired, _) => 3,
                (S::Separated, _) => 4,
                _ => return,
            };
            Box::pin(apply(service, data, Op::Step(p, step, days))).await;
        }
        Op::Step(p, step, days) => {
            let id = format!("P{:012}", p + 1);
            let action = match step {
                0 => Action::Accept,
                1 => Action::Decline {
                    code: DeclineReason::Pay,
                    reason: String::new(),
                },
                2 => Action::Hire { day: today + days },
                3 => {
                    let hired = service
                        .store()
                        .placement(&id)
                        .ok()
                        .flatten()
                        .and_then(|p| p.hire_day)
                        .unwrap_or(today);
                    Action::Separate {
                        day: hired + days,
                        reason: SeparationReason::ContractEnded,
                        note: String::new(),
                    }
                }
                _ => Action::CheckIn {
                    month: 1,
                    day: today,
                    still_employed: true,
                    note: String::new(),
                },
            };
            let _ = service
                .placement_step(&admin, &id, action, "test".into())
                .await;
        }
        Op::Run => {
            let s = service.clone();
            let _ = tokio::task::spawn_blocking(move || {
                s.run_now(Policy::Optimal, false, "test", |_, _| {})
            })
            .await;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    #[test]
    fn the_dashboard_equals_the_full_scan_after_concurrent_writes(
        seed in 0..1000u64,
        tasks in prop::collection::vec(prop::collection::vec(op(), 20..60), 2..5),
    ) {
        let data = demo(seed);
        let dir = tempfile::tempdir().unwrap();
        let service = open(dir.path(), Some(&data));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(3)
            .enable_all()
            .build()
            .unwrap();
        let data = Arc::new(data);
        rt.block_on(async {
            let mut joins = Vec::new();
            for ops in tasks {
                let (service, data) = (service.clone(), data.clone());
                joins.push(tokio::spawn(async move {
                    for op in ops {
                        apply(&service, &data, op).await;
                    }
                }));
            }
            for j in joins {
                j.await.unwrap();
            }
        });
        let today = china_today();
        for day in [today - 1, today, today + 95, today + 190, today + 600] {
            check_equal(&service, day)?;
        }
        // And after a reopen, built by the start-up scan.
        drop(service);
        drop(rt);
        let service = open(dir.path(), None);
        check_equal(&service, today + 190)?;
    }
}

#[test]
fn the_trend_keeps_one_row_per_day_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(7);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let day = china_today();
    let service = open(dir.path(), Some(&data));
    let (first, second) = rt.block_on(async {
        assert!(service.snapshot_on(day - 1, true).await.unwrap());
        // Once a day: the task's second try the same day writes nothing.
        assert!(!service.snapshot_on(day - 1, true).await.unwrap());
        let first = service.dashboard_on(&None, day - 1).total;
        // A change, then today's rows; then today's again, replacing them.
        let w = &data.workers[0];
        let mut changed = service.store().worker(&w.id).unwrap().unwrap();
        changed.employment_status = EmploymentStatus::Unavailable;
        service
            .put_worker(&admin(), changed, PutMode::Upsert, false)
            .await
            .unwrap();
        assert!(service.snapshot_on(day, true).await.unwrap());
        let mut again = service
            .store()
            .worker(&data.workers[1].id)
            .unwrap()
            .unwrap();
        again.employment_status = EmploymentStatus::Unavailable;
        service
            .put_worker(&admin(), again, PutMode::Upsert, false)
            .await
            .unwrap();
        assert_eq!(service.snapshot_dashboard().await.unwrap(), day);
        let second = service.dashboard_on(&None, day).total;
        (first, second)
    });
    assert_ne!(filled(&first), filled(&second), "the change shows");
    let check = |service: &Service| {
        let trend = service.trend_between(&None, day - 5, day).unwrap();
        let days: Vec<i32> = trend.iter().map(|(d, _)| *d).collect();
        assert_eq!(days, vec![day - 1, day]);
        assert_eq!(filled(&trend[0].1), filled(&first));
        assert_eq!(filled(&trend[1].1), filled(&second));
    };
    check(&service);
    drop(service);
    drop(rt);
    let service = open(dir.path(), None);
    check(&service);
    // One county's trend is its own row.
    let c = data.workers[0].county_code.clone();
    let only: Counties = Some(BTreeSet::from([c.clone()]));
    let trend = service.trend_between(&only, day - 5, day).unwrap();
    assert_eq!(trend.len(), 2);
    let want = service.dashboard_on(&only, day);
    assert_eq!(trend[1].1.county_code, c);
    assert_eq!(filled(&trend[1].1), filled(&want.counties[0]));
}

#[test]
fn a_company_reads_its_counties_and_a_recruiter_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(11);
    let service = open(dir.path(), Some(&data));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (a, b) = ("431224", "431225");
    let company = caller(Role::ServiceCompany, &[a]);
    let all = rt.block_on(service.dashboard(&admin(), None)).unwrap();
    assert!(all.counties.len() > 2, "the demo has several counties");
    let mine = rt.block_on(service.dashboard(&company, None)).unwrap();
    let codes: Vec<&str> = mine
        .counties
        .iter()
        .map(|r| r.county_code.as_str())
        .collect();
    assert_eq!(codes, vec![a]);
    assert_eq!(filled(&mine.total), filled(&mine.counties[0]));
    let named = rt
        .block_on(service.dashboard(&company, Some(a.to_string())))
        .unwrap();
    assert_eq!(named, mine);
    let scanned = scan(&service, Some(a), china_today());
    assert_eq!(mine.slots, scanned.slots, "slots of its county only");
    let other = rt.block_on(service.dashboard(&company, Some(b.to_string())));
    assert!(
        matches!(other, Err(ServiceError::Forbidden(_))),
        "{other:?}"
    );
    let trend = rt.block_on(service.dashboard_trend(&company, Some(b.to_string()), 7));
    assert!(
        matches!(trend, Err(ServiceError::Forbidden(_))),
        "{trend:?}"
    );
    let recruiter = caller(Role::Recruiter, &[]);
    let refused = rt.block_on(service.dashboard(&recruiter, None));
    assert!(
        matches!(refused, Err(ServiceError::Forbidden(_))),
        "{refused:?}"
    );
    let refused = rt.block_on(service.dashboard_trend(&recruiter, None, 7));
    assert!(
        matches!(refused, Err(ServiceError::Forbidden(_))),
        "{refused:?}"
    );
    let reader = caller(Role::Reader, &[]);
    let read = rt.block_on(service.dashboard(&reader, None)).unwrap();
    assert_eq!(read.counties.len(), all.counties.len());
    let bad = rt.block_on(service.dashboard(&admin(), Some("43".into())));
    assert!(matches!(bad, Err(ServiceError::Invalid(_))), "{bad:?}");
    // Two counties of a company's trend are summed per day.
    rt.block_on(service.snapshot_dashboard()).unwrap();
    let two = caller(Role::ServiceCompany, &[a, b]);
    let trend = rt.block_on(service.dashboard_trend(&two, None, 1)).unwrap();
    let both = rt.block_on(service.dashboard(&two, None)).unwrap();
    assert_eq!(trend.len(), 1);
    assert_eq!(filled(&trend[0].1), filled(&both.total));
}
