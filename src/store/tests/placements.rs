//! Placements against a plain model: random sequences of proposals, steps
//! and client writes on a few workers and openings. After every operation
//! the store must answer as the model does (success, or a refusal), and
//! every placement state, worker status and filled count must agree with
//! the model; at the end `verify` must find everything consistent.

use proptest::prelude::*;

use super::super::*;
use super::{worker, Spec};
use crate::domain::placement::{china_today, PlacementStatus as S, SeparationReason};
use crate::domain::EmploymentStatus;
use crate::testing::numbered_opening;

const WORKERS: usize = 5;
const OPENINGS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Propose(usize, usize),
    Accept(usize),
    Decline(usize),
    /// Hire on proposal day + offset.
    Hire(usize, i32),
    /// Separate on hire day + offset.
    Separate(usize, i32),
    CheckIn(usize, u32),
    /// A client write of the worker with this status.
    PutWorker(usize, EmploymentStatus),
    /// A client write of the opening with this headcount and open flag.
    PutOpening(usize, u32, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let status = prop_oneof![
        Just(EmploymentStatus::Seeking),
        Just(EmploymentStatus::Employed),
        Just(EmploymentStatus::Unavailable),
        Just(EmploymentStatus::Placed),
    ];
    prop_oneof![
        4 => (0..WORKERS, 0..OPENINGS).prop_map(|(w, o)| Op::Propose(w, o)),
        6 => (0usize..8).prop_map(Op::Accept),
        2 => (0usize..12).prop_map(Op::Decline),
        3 => (0usize..12, -1i32..=0).prop_map(|(p, d)| Op::Hire(p, d)),
        2 => (0usize..12, -1i32..=1).prop_map(|(p, d)| Op::Separate(p, d)),
        1 => (0usize..12, prop_oneof![Just(1u32), Just(2), Just(3), Just(6)])
            .prop_map(|(p, m)| Op::CheckIn(p, m)),
        1 => (0..WORKERS, status).prop_map(|(w, s)| Op::PutWorker(w, s)),
        1 => (0..OPENINGS, 0u32..4, any::<bool>()).prop_map(|(o, h, open)| Op::PutOpening(o, h, open)),
    ]
}

#[derive(Debug, Clone)]
struct MPlacement {
    worker: usize,
    opening: usize,
    state: S,
    hire: Option<i32>,
    check_ins: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Model {
    status: Vec<EmploymentStatus>,
    active: Vec<Option<usize>>,
    recommendations: Vec<u32>,
    headcount: Vec<u32>,
    open: Vec<bool>,
    filled: Vec<u32>,
    placements: Vec<MPlacement>,
    /// Declined pairs: never proposed again.
    declined: std::collections::HashSet<(usize, usize)>,
}

impl Model {
    /// The model's answer: `true` if the step is allowed (and applied).
    fn apply(&mut self, op: &Op, today: i32) -> bool {
        match *op {
            Op::Propose(w, o) => {
                if self.declined.contains(&(w, o))
                    || self.active[w].is_some()
                    || self.status[w] != EmploymentStatus::Seeking
                    || !self.open[o]
                    || self.filled[o] >= self.headcount[o]
                {
                    return false;
                }
                self.placements.push(MPlacement {
                    worker: w,
                    opening: o,
                    state: S::Proposed,
                    hire: None,
                    check_ins: vec![],
                });
                self.active[w] = Some(self.placements.len() - 1);
                self.recommendations[w] += 1;
                true
            }
            Op::Accept(i) => {
                let Some(p) = self.placements.get(i).cloned() else {
                    return false;
                };
                if p.state != S::Proposed
                    || self.status[p.worker] != EmploymentStatus::Seeking
                    || !self.open[p.opening]
                    || self.filled[p.opening] >= self.headcount[p.opening]
                {
                    return false;
                }
                self.filled[p.opening] += 1;
                self.status[p.worker] = EmploymentStatus::Placed;
                self.placements[i].state = S::Accepted;
                true
            }
            Op::Decline(i) => {
                let Some(p) = self.placements.get(i).cloned() else {
                    return false;
                };
                match p.state {
                    S::Proposed => {}
                    S::Accepted => {
                        self.filled[p.opening] -= 1;
                        self.status[p.worker] = EmploymentStatus::Seeking;
                    }
                    _ => return false,
                }
                self.active[p.worker] = None;
                self.placements[i].state = S::Declined;
                self.declined.insert((p.worker, p.opening));
                true
            }
            Op::Hire(i, offset) => {
                let Some(p) = self.placements.get(i).cloned() else {
                    return false;
                };
                if p.state != S::Accepted || offset < 0 {
                    return false;
                }
                self.status[p.worker] = EmploymentStatus::Employed;
                self.placements[i].state = S::Hired;
                self.placements[i].hire = Some(today + offset);
                true
            }
            Op::Separate(i, offset) => {
                let Some(p) = self.placements.get(i).cloned() else {
                    return false;
                };
                if p.state != S::Hired || offset < 0 {
                    return false;
                }
                self.filled[p.opening] -= 1;
                self.status[p.worker] = EmploymentStatus::Seeking;
                self.active[p.worker] = None;
                self.placements[i].state = S::Separated;
                true
            }
            Op::CheckIn(i, month) => {
                let Some(p) = self.placements.get(i).cloned() else {
                    return false;
                };
                if !matches!(p.state, S::Hired | S::Separated)
                    || ![1, 3, 6].contains(&month)
                    || p.check_ins.contains(&month)
                {
                    return false;
                }
                self.placements[i].check_ins.push(month);
                true
            }
            Op::PutWorker(w, status) => {
                let held = self.active[w].map(|i| self.placements[i].state);
                self.status[w] = match held {
                    Some(S::Accepted) => EmploymentStatus::Placed,
                    Some(S::Hired) => EmploymentStatus::Employed,
                    _ if status == EmploymentStatus::Placed => return false,
                    _ => status,
                };
                true
            }
            Op::PutOpening(o, headcount, open) => {
                if headcount < self.filled[o] {
                    return false;
                }
                self.headcount[o] = headcount;
                self.open[o] = open;
                true
            }
        }
    }
}

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
                    worker_id: format!("w{w}"),
                    opening_id: format!("o{o}"),
                    run_id: 0,
                    score_micro: 500_000,
                    zero_household: None,
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
        Op::CheckIn(i, month) => {
            let (id, hire) = hired(store, i, today);
            store
                .placement_step(
                    &id,
                    &Action::CheckIn {
                        month,
                        day: hire,
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
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let today = china_today();
        let mut model = Model {
            status: vec![EmploymentStatus::Seeking; WORKERS],
            active: vec![None; WORKERS],
            recommendations: vec![0; WORKERS],
            headcount: vec![2; OPENINGS],
            open: vec![true; OPENINGS],
            filled: vec![0; OPENINGS],
            placements: vec![],
            declined: Default::default(),
        };
        for w in 0..WORKERS {
            store.put_worker(worker(&Spec::numbered(w)), PutMode::Create).unwrap();
        }
        for o in 0..OPENINGS {
            store.put_opening(numbered_opening(o, 2, true), PutMode::Create).unwrap();
        }
        for op in &ops {
            let expected = model.apply(op, today);
            let got = run(&store, op, today);
            prop_assert_eq!(got, expected, "{:?}", op);
            for (i, p) in model.placements.iter().enumerate() {
                let stored = store.placement(&format!("P{:012}", i + 1)).unwrap().unwrap();
                prop_assert_eq!(stored.state(), p.state, "placement {} after {:?}", i, op);
                prop_assert_eq!(stored.check_ins.len(), p.check_ins.len());
            }
            for w in 0..WORKERS {
                let stored = store.worker(&format!("w{w}")).unwrap().unwrap();
                prop_assert_eq!(stored.employment_status, model.status[w], "worker {} after {:?}", w, op);
                prop_assert_eq!(
                    stored.placement.active_id.clone(),
                    model.active[w].map(|i| format!("P{:012}", i + 1))
                );
                prop_assert_eq!(stored.placement.recommendations, model.recommendations[w]);
            }
            for o in 0..OPENINGS {
                let stored = store.opening(&format!("o{o}")).unwrap().unwrap();
                prop_assert_eq!(stored.filled, model.filled[o], "opening {} after {:?}", o, op);
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
                let filter = PlacementFilter { worker_id: Some(format!("w{w}")), ..Default::default() };
                prop_assert_eq!(listed(&store, filter), expected(&|p| p.worker == w), "worker {} pass {}", w, pass);
            }
            for o in 0..OPENINGS {
                let filter = PlacementFilter { opening_id: Some(format!("o{o}")), ..Default::default() };
                prop_assert_eq!(listed(&store, filter), expected(&|p| p.opening == o), "opening {} pass {}", o, pass);
            }
            for state in [S::Proposed, S::Accepted, S::Declined, S::Hired, S::Separated] {
                let filter = PlacementFilter { status: Some(state), ..Default::default() };
                prop_assert_eq!(listed(&store, filter), expected(&|p| p.state == state), "{:?} pass {}", state, pass);
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
    }
}
