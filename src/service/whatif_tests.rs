//! What-if at the service: its answer equals making the same changes for
//! real and solving cold; it stores nothing and leaves the live index as
//! it was; refusals name the field and tell nothing outside the scope.

use std::sync::Arc;

use super::{Service, ServiceError, WhatIfChange};
use crate::batch::BatchSettings;
use crate::domain::placement::PlacementStatus;
use crate::domain::{EmploymentStatus, Opening, OpeningStatus, Source, Worker};
use crate::matching::assign::{simplex, Control, Objective};
use crate::matching::{InputRequest, MatchContext, Pending};
use crate::store::PutMode;
use crate::testing::{self, admin, company};

fn service(dir: &std::path::Path) -> Arc<Service> {
    testing::service_with(
        dir,
        0xcd,
        Some(&testing::demo(0.02, 5)),
        BatchSettings::default(),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The nightly optimum of the service's current state, scored and solved
/// from scratch (no cache), as the objective the run would reach.
fn cold_objective(s: &Service) -> Objective {
    let mut pending = Pending::default();
    for p in s.store().placements_in(PlacementStatus::Proposed) {
        let p = p.unwrap();
        *pending.openings.entry(p.opening_id).or_default() += 1;
        pending.workers.insert(p.worker_id);
    }
    let input = s.matcher().batch_input(&InputRequest::new(
        &MatchContext::now(),
        s.batch_settings().candidates_per_worker,
        &pending,
        &Control::default(),
    ));
    let (solution, certificate) = simplex::solve(&input.problem, &Control::default()).unwrap();
    certificate.verify(&input.problem, &solution).unwrap();
    solution.check(&input.problem).unwrap()
}

fn openings(s: &Service) -> Vec<Opening> {
    s.store().openings().map(Result::unwrap).collect()
}

fn seeking(s: &Service) -> Vec<Worker> {
    s.store()
        .workers()
        .map(Result::unwrap)
        .filter(|w| {
            w.employment_status == EmploymentStatus::Seeking && w.placement.active_id.is_none()
        })
        .collect()
}

/// Four changes on demo records: a 50-slot aid workshop where a seeking
/// worker lives, a busy opening resized up, another closed, a worker gone.
fn changes(s: &Service) -> (Vec<WhatIfChange>, Opening, String, String, String) {
    let all = openings(s);
    let open: Vec<&Opening> = all
        .iter()
        .filter(|o| o.status == OpeningStatus::Open && o.filled < o.headcount)
        .collect();
    let people = seeking(s);
    let near = &people[people.len() / 2];
    let mut workshop = open
        .iter()
        .find(|o| o.source == Source::AidWorkshop)
        .copied()
        .unwrap_or(open[0])
        .clone();
    workshop.id = "o-whatif-workshop".into();
    workshop.headcount = 50;
    workshop.filled = 0;
    workshop.location = near.site_location;
    workshop.region_code = near.county_code.clone();
    let resized = open[1].id.clone();
    let closed = open[2].id.clone();
    let gone = people[0].id.clone();
    let changes = vec![
        WhatIfChange::AddOpening(workshop.clone()),
        WhatIfChange::ResizeOpening {
            opening_id: resized.clone(),
            headcount: open[1].headcount + 20,
        },
        WhatIfChange::CloseOpening(closed.clone()),
        WhatIfChange::RemoveWorker(gone.clone()),
    ];
    (changes, workshop, resized, closed, gone)
}

#[test]
fn the_answer_equals_making_the_changes_and_solving_cold() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let rt = runtime();
    let before = cold_objective(&s);
    let (changes, workshop, resized, closed, gone) = changes(&s);
    let answer = rt.block_on(s.what_if(&admin(), changes, 100)).unwrap();
    assert_eq!(
        answer.before.zero_households_covered,
        before.households_covered
    );
    assert_eq!(answer.before.total_score_micro, before.total_score);

    // The same changes through the write path, then a cold solve.
    rt.block_on(async {
        s.put_opening(&admin(), workshop, PutMode::Create)
            .await
            .unwrap();
        s.update_opening(&admin(), &resized, |mut o| {
            o.headcount += 20;
            Ok(o)
        })
        .await
        .unwrap();
        s.close_opening(&admin(), &closed).await.unwrap();
        s.delete_worker(&admin(), &gone).await.unwrap();
    });
    let after = cold_objective(&s);
    assert_eq!(
        answer.after.zero_households_covered,
        after.households_covered
    );
    assert_eq!(answer.after.total_score_micro, after.total_score);
    assert_eq!(
        answer.after.zero_households_covered + answer.no_longer_covered,
        answer.before.zero_households_covered + answer.newly_covered
    );
    let by_county: (u64, u64) = answer.by_county.iter().fold((0, 0), |(n, l), c| {
        (n + c.newly_covered, l + c.no_longer_covered)
    });
    assert_eq!(by_county, (answer.newly_covered, answer.no_longer_covered));
    // A 50-slot workshop in reach of seeking workers takes some of them.
    assert!(answer.moves_total > 0);
    assert!(answer
        .moves
        .iter()
        .any(|m| m.after.as_deref() == Some("o-whatif-workshop")));
    assert!(answer
        .moves
        .windows(2)
        .all(|w| w[0].worker_id < w[1].worker_id));
    // Only the touched rows were scored again.
    assert!(answer.rows_kept > 0, "{answer:?}");
    assert!(answer.rows_scored < answer.rows_kept, "{answer:?}");
}

#[test]
fn nothing_is_stored_and_the_live_index_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let rt = runtime();
    let index = s.matcher().read();
    let (openings_before, workers_before) = (openings(&s), s.store().worker_count());
    let runs = s.store().list_runs(0, usize::MAX).unwrap().len();
    let placements = s.store().placement_count();
    let (changes, _, _, _, gone) = changes(&s);
    let answer = rt.block_on(s.what_if(&admin(), changes, 3)).unwrap();
    assert!(answer.moves.len() <= 3);
    assert!(
        Arc::ptr_eq(&index, &s.matcher().read()),
        "the index was written"
    );
    assert_eq!(openings(&s), openings_before);
    assert_eq!(s.store().worker_count(), workers_before);
    assert!(s.store().worker(&gone).unwrap().is_some());
    assert!(s.store().opening("o-whatif-workshop").unwrap().is_none());
    assert_eq!(s.store().list_runs(0, usize::MAX).unwrap().len(), runs);
    assert_eq!(s.store().placement_count(), placements);
}

#[test]
fn refusals_name_the_field_and_nothing_outside_the_scope() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let rt = runtime();
    let unknown = rt.block_on(s.what_if(
        &admin(),
        vec![
            WhatIfChange::CloseOpening(openings(&s)[0].id.clone()),
            WhatIfChange::ResizeOpening {
                opening_id: "o-nobody".into(),
                headcount: 3,
            },
        ],
        10,
    ));
    match unknown {
        Err(ServiceError::NotFound(m)) => {
            assert!(m.contains("changes[1].resize_opening.opening_id"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let zero = rt.block_on(s.what_if(
        &admin(),
        vec![WhatIfChange::ResizeOpening {
            opening_id: openings(&s)[0].id.clone(),
            headcount: 0,
        }],
        10,
    ));
    match zero {
        Err(ServiceError::Invalid(e)) => assert_eq!(e.field, "changes[0].resize_opening.headcount"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        rt.block_on(s.what_if(&admin(), Vec::new(), 10)),
        Err(ServiceError::Invalid(e)) if e.field == "changes"
    ));

    // A company of another county: another county's worker is not found,
    // with the message of a worker nobody has; another county's opening
    // is refused as CloseOpening refuses it.
    let worker = &seeking(&s)[0];
    let other = crate::domain::regions::all()
        .into_iter()
        .map(|r| r.code)
        .find(|c| *c != worker.county_code && c.starts_with("4312") && *c != "431200")
        .unwrap();
    let outside = rt.block_on(s.what_if(
        &company(other),
        vec![WhatIfChange::RemoveWorker(worker.id.clone())],
        10,
    ));
    let nobody = rt.block_on(s.what_if(
        &company(other),
        vec![WhatIfChange::RemoveWorker(format!("{other}/w-nobody"))],
        10,
    ));
    match (outside, nobody) {
        (Err(ServiceError::NotFound(a)), Err(ServiceError::NotFound(b))) => {
            // The id sent carries its county; nothing else tells it.
            let a = a.replace(&worker.id, "ID");
            assert!(!a.contains(&worker.county_code), "{a}");
            assert_eq!(a, b.replace(&format!("{other}/w-nobody"), "ID"));
        }
        other => panic!("{other:?}"),
    }
    let theirs = openings(&s)
        .into_iter()
        .find(|o| o.region_code != other)
        .unwrap();
    assert!(matches!(
        rt.block_on(s.what_if(
            &company(other),
            vec![WhatIfChange::CloseOpening(theirs.id)],
            10
        )),
        Err(ServiceError::Forbidden(_))
    ));

    // In its own county the company is answered over its own workers.
    let own = company(&worker.county_code);
    let (changes, ..) = changes(&s);
    let mine: Vec<WhatIfChange> = changes
        .into_iter()
        .filter(|c| match c {
            WhatIfChange::RemoveWorker(id) => id == &worker.id,
            _ => false,
        })
        .collect();
    let answer = rt.block_on(s.what_if(&own, mine, 1000)).unwrap();
    assert!(answer
        .moves
        .iter()
        .all(|m| m.county_code == worker.county_code));
    assert!(answer
        .by_county
        .iter()
        .all(|c| c.county_code == worker.county_code));
}

#[test]
fn a_change_that_changes_nothing_moves_nobody() {
    // Resizing an opening to the headcount it has is no change: the
    // changed problem is the baseline, and the third tier keeps its plan.
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let rt = runtime();
    let o = openings(&s)
        .into_iter()
        .find(|o| o.status == OpeningStatus::Open && o.filled < o.headcount)
        .unwrap();
    let same = vec![WhatIfChange::ResizeOpening {
        opening_id: o.id.clone(),
        headcount: o.headcount,
    }];
    let answer = rt.block_on(s.what_if(&admin(), same, 10)).unwrap();
    assert_eq!(answer.moves_total, 0, "{:?}", answer.moves);
}

#[test]
fn after_a_run_the_baseline_is_the_runs_plan_and_only_the_change_is_solved() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let rt = runtime();
    let (changes, ..) = changes(&s);
    // Before any run the baseline is solved.
    let first = rt
        .block_on(s.what_if(&admin(), changes.clone(), 10))
        .unwrap();
    assert!(!first.baseline_from_last_run);
    let run = s
        .run_now(crate::domain::run::Policy::Optimal, true, "test", |_, _| {})
        .unwrap();
    let summary = run.summary.unwrap();
    // After a run, nothing changed since: the run's plan is the baseline,
    // proved by its potentials, and its figures are the run's.
    let answer = rt.block_on(s.what_if(&admin(), changes, 10)).unwrap();
    assert!(answer.baseline_from_last_run, "{answer:?}");
    assert_eq!(answer.before.hires, summary.workers_assigned);
    assert_eq!(
        answer.before.zero_households_covered,
        summary.zero_households_covered
    );
    assert_eq!(answer.after, first.after);
    assert_eq!(answer.before, first.before);
}

#[test]
fn a_kept_baseline_serves_only_while_nothing_it_was_built_from_changed() {
    // A dry run leaves its plan as the baseline, and a what-if leaves its
    // own; each serves the next what-if only while the index, the pending
    // proposals, the day and the last run are as they were. After a real
    // write the answer must be that of the new state, not of the kept one.
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let rt = runtime();
    s.run_now(crate::domain::run::Policy::Optimal, true, "test", |_, _| {})
        .unwrap();
    let (changes, ..) = changes(&s);
    let first = rt
        .block_on(s.what_if(&admin(), changes.clone(), 10))
        .unwrap();
    let again = rt
        .block_on(s.what_if(&admin(), changes.clone(), 10))
        .unwrap();
    assert_eq!((again.before, again.after), (first.before, first.after));
    assert_eq!(again.moves, first.moves);
    // Close, for real, the opening that holds the most of the plan's
    // workers: the baseline's figures change.
    let run = s.store().list_runs(0, 1).unwrap().remove(0);
    let mut held: std::collections::HashMap<String, usize> = Default::default();
    for a in s.store().assignments(run.id) {
        *held.entry(a.unwrap().opening_id).or_default() += 1;
    }
    let busiest = held
        .into_iter()
        .max_by_key(|(id, n)| (*n, id.clone()))
        .unwrap()
        .0;
    rt.block_on(s.close_opening(&admin(), &busiest)).unwrap();
    let now = cold_objective(&s);
    let answer = rt.block_on(s.what_if(&admin(), changes, 10)).unwrap();
    assert_ne!(now.total_score, first.before.total_score_micro);
    assert_eq!(answer.before.total_score_micro, now.total_score);
    assert_eq!(
        answer.before.zero_households_covered,
        now.households_covered
    );
    assert!(!answer.baseline_from_last_run);
}
