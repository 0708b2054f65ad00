//! Placements against the plain model the rules are tested with
//! (`domain/placement/model.rs`): random sequences of proposals, steps and
//! client writes on a few workers and openings. After every operation
//! the store must answer as the model does (success, or a refusal), and
//! every placement state, worker status and filled count must agree with
//! the model; at the end `verify` must find everything consistent.

use proptest::prelude::*;

use super::super::*;
use super::{worker, Spec};
use crate::domain::placement::model::{op, MPlacement, Model, Op, OPENINGS, WORKERS};
use crate::domain::placement::{china_today, PlacementStatus as S, SeparationReason};
use crate::testing::numbered_opening;
use crate::testing::{proposal, temp_store};

fn placement_id(store: &Store, i: usize) -> String {
    // Ids are given in creation order: P000000000001 is the first.
    let id = format!("P{:012}", i + 1);
    if store.placement(&id).unwrap().is_some() {
        id
    } else {
        // An index past the end: a placement that does not exist.
        format!("P{:012}", 900_000 + i)
    }
}

/// The `i`th placement's id and its hire day (`today` if not hired).
fn hired(store: &Store, i: usize, today: i32) -> (String, i32) {
    let id = placement_id(store, i);
    let hire = store
        .placement(&id)
        .unwrap()
        .and_then(|p| p.hire_day)
        .unwrap_or(today);
    (id, hire)
}

/// Runs `op` on the store; `true` if it succeeded. Only refusals are
/// expected errors.
fn run(store: &Store, op: &Op, today: i32) -> bool {
    let result: Result<(), StoreError> = match *op {
        Op::Propose(w, o) => store
            .propose(
                &Proposal {
                    score_micro: 500_000,
                    ..proposal(&format!("w{w}"), &format!("o{o}"))
                },
                "model",
            )
            .map(drop),
        Op::Accept(i) => store
            .placement_step(&placement_id(store, i), &Action::Accept, "model")
            .map(drop),
        Op::Decline(i) => store
            .placement_step(
                &placement_id(store, i),
                &Action::Decline {
                    code: crate::domain::placement::DeclineReason::Pay,
                    reason: "no".into(),
                },
                "model",
            )
            .map(drop),
        Op::Hire(i, offset) => store
            .placement_step(
                &placement_id(store, i),
                &Action::Hire {
                    day: today + offset,
                },
                "model",
            )
            .map(drop),
        Op::Separate(i, offset) => {
            let (id, hire) = hired(store, i, today);
            store
                .placement_step(
                    &id,
                    &Action::Separate {
                        day: hire + offset,
                        reason: SeparationReason::Quit,
                        note: String::new(),
                    },
                    "model",
                )
                .map(drop)
        }
        Op::CheckIn(i, month, offset) => {
            let (id, hire) = hired(store, i, today);
            store
                .placement_step(
                    &id,
                    &Action::CheckIn {
                        month,
                        day: hire + offset,
                        still_employed: true,
                        note: String::new(),
                    },
                    "model",
                )
                .map(drop)
        }
        Op::PutWorker(w, status) => {
            let mut x = worker(&Spec::numbered(w));
            x.employment_status = status;
            store.put_worker(x, PutMode::Upsert).map(drop)
        }
        Op::PutOpening(o, headcount, open) => store
            .put_opening(numbered_opening(o, headcount, open), PutMode::Upsert)
            .map(drop),
    };
    match result {
        Ok(()) => true,
        Err(StoreError::Precondition(_) | StoreError::NotFound { .. }) => false,
        Err(e) => panic!("unexpected store error for {op:?}: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn placements_follow_the_model(ops in prop::collection::vec(op(), 1..80)) {
        follows_the_model(&ops)?;
    }
}

/// Two sequences that once failed, kept as cases of their own: the seeds
/// proptest saved for them replay other operations since the generator
/// became the model's.
#[test]
fn placements_follow_the_model_in_the_cases_that_once_failed() {
    let cases = [
        // An opening closed to headcount 0, then proposals on it.
        vec![
            Op::PutOpening(1, 0, true),
            Op::Propose(0, 0),
            Op::Propose(3, 0),
            Op::Propose(1, 1),
        ],
        // Accepted, then declined.
        vec![
            Op::Propose(2, 0),
            Op::Propose(0, 0),
            Op::Accept(1),
            Op::Decline(1),
        ],
    ];
    for ops in cases {
        follows_the_model(&ops).unwrap();
    }
}

/// Runs `ops` on a store and on the model, and checks that they agree
/// after each and at the end.
fn follows_the_model(ops: &[Op]) -> Result<(), TestCaseError> {
    let (dir, store) = temp_store();
    let today = china_today();
    let mut model = Model::new();
    for w in 0..WORKERS {
        store
            .put_worker(worker(&Spec::numbered(w)), PutMode::Create)
            .unwrap();
    }
    for o in 0..OPENINGS {
        store
            .put_opening(numbered_opening(o, 2, true), PutMode::Create)
            .unwrap();
    }
    for op in ops {
        let expected = model.apply(op).is_ok();
        let got = run(&store, op, today);
        prop_assert_eq!(got, expected, "{:?}", op);
        for (i, p) in model.placements.iter().enumerate() {
            let stored = store
                .placement(&format!("P{:012}", i + 1))
                .unwrap()
                .unwrap();
            prop_assert_eq!(stored.state(), p.state, "placement {} after {:?}", i, op);
            prop_assert_eq!(stored.check_ins.len(), p.check_ins.len());
        }
        for w in 0..WORKERS {
            let stored = store.worker(&format!("w{w}")).unwrap().unwrap();
            prop_assert_eq!(
                stored.employment_status,
                model.status[w],
                "worker {} after {:?}",
                w,
                op
            );
            prop_assert_eq!(
                stored.placement.active_id.clone(),
                model.active[w].map(|i| format!("P{:012}", i + 1))
            );
            prop_assert_eq!(stored.placement.recommendations, model.recommendations[w]);
        }
        for o in 0..OPENINGS {
            let stored = store.opening(&format!("o{o}")).unwrap().unwrap();
            prop_assert_eq!(
                stored.filled,
                model.filled[o],
                "opening {} after {:?}",
                o,
                op
            );
            prop_assert_eq!(stored.headcount, model.headcount[o]);
        }
    }
    store.verify().unwrap();
    // Listings through the placements' indexes (on disk) give what the
    // model holds, before and after a reopen.
    let dir_path = dir.path().to_path_buf();
    let listed = |store: &Store, filter: PlacementFilter| -> Vec<String> {
        store
            .list_placements(&filter, None, 1000)
            .unwrap()
            .items
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    let expected = |keep: &dyn Fn(&MPlacement) -> bool| -> Vec<String> {
        model
            .placements
            .iter()
            .enumerate()
            .filter(|(_, p)| keep(p))
            .map(|(i, _)| format!("P{:012}", i + 1))
            .collect()
    };
    let mut store = store;
    for pass in 0..2 {
        for w in 0..WORKERS {
            let filter = PlacementFilter {
                worker_id: Some(format!("w{w}")),
                ..Default::default()
            };
            prop_assert_eq!(
                listed(&store, filter),
                expected(&|p| p.worker == w),
                "worker {} pass {}",
                w,
                pass
            );
        }
        for o in 0..OPENINGS {
            let filter = PlacementFilter {
                opening_id: Some(format!("o{o}")),
                ..Default::default()
            };
            prop_assert_eq!(
                listed(&store, filter),
                expected(&|p| p.opening == o),
                "opening {} pass {}",
                o,
                pass
            );
        }
        for state in [
            S::Proposed,
            S::Accepted,
            S::Declined,
            S::Hired,
            S::Separated,
        ] {
            let filter = PlacementFilter {
                status: Some(state),
                ..Default::default()
            };
            prop_assert_eq!(
                listed(&store, filter),
                expected(&|p| p.state == state),
                "{:?} pass {}",
                state,
                pass
            );
        }
        if pass == 0 {
            drop(store);
            store = super::reopen(&dir_path).unwrap();
            store.verify().unwrap();
        }
    }
    // The history has one entry per successful step of each placement.
    for i in 0..model.placements.len() {
        let id = format!("P{:012}", i + 1);
        let history = store.placement_history(&id).unwrap();
        let p = store.placement(&id).unwrap().unwrap();
        prop_assert_eq!(history.len() as u32, p.events);
        prop_assert_eq!(history[0].action.as_str(), "propose");
        prop_assert_eq!(history.last().unwrap().to, p.status);
    }
    Ok(())
}
