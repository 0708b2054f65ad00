//! The placement rules against a plain model: random sequences of
//! proposals, steps and client writes on a few workers and openings, run
//! through the pure functions alone (no store). After every operation the
//! rules must accept or refuse as the model does, for the same reason, and
//! every placement state, worker status, link and filled count must agree.
//! The store's own model test (`store/tests/placements.rs`) checks that the
//! store applies these outcomes faithfully.

use proptest::prelude::*;

use super::refusal_tests::worker;
use super::*;
use crate::domain::{EmploymentStatus, Opening, OpeningStatus, Worker};
use crate::testing::numbered_opening as opening;
use PlacementStatus as S;

const WORKERS: usize = 5;
const OPENINGS: usize = 3;
/// 2026-05-28 in China; any fixed instant does.
const NOW_MS: i64 = 1_780_000_000_000;

#[derive(Debug, Clone)]
pub(super) enum Op {
    Propose(usize, usize),
    Accept(usize),
    Decline(usize),
    /// Hire on proposal day + offset.
    Hire(usize, i32),
    /// Separate on hire day + offset.
    Separate(usize, i32),
    /// Check in for this month on hire day + offset.
    CheckIn(usize, u32, i32),
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
    let month = prop_oneof![Just(0u32), Just(1), Just(2), Just(3), Just(6), Just(12)];
    prop_oneof![
        4 => (0..WORKERS, 0..OPENINGS).prop_map(|(w, o)| Op::Propose(w, o)),
        6 => (0usize..8).prop_map(Op::Accept),
        2 => (0usize..12).prop_map(Op::Decline),
        3 => (0usize..12, -1i32..=1).prop_map(|(p, d)| Op::Hire(p, d)),
        2 => (0usize..12, -1i32..=1).prop_map(|(p, d)| Op::Separate(p, d)),
        2 => (0usize..12, month, -1i32..=1).prop_map(|(p, m, d)| Op::CheckIn(p, m, d)),
        1 => (0..WORKERS, status).prop_map(|(w, s)| Op::PutWorker(w, s)),
        1 => (0..OPENINGS, 0u32..4, any::<bool>())
            .prop_map(|(o, h, open)| Op::PutOpening(o, h, open)),
    ]
}

/// Why the model refuses: one name per [`StepRefused`] variant.
type Why = &'static str;

fn why(r: &StepRefused) -> Why {
    match r {
        StepRefused::WrongState { .. } => "wrong state",
        StepRefused::WorkerBusy { .. } => "busy",
        StepRefused::DeclinedBefore { .. } => "declined before",
        StepRefused::WorkerNotSeeking { .. } => "not seeking",
        StepRefused::OpeningClosed { .. } => "closed",
        StepRefused::NoFreeSlot { .. } => "full",
        StepRefused::BadDate { .. } => "date",
        StepRefused::NotACheckInMonth { .. } => "month",
        StepRefused::DuplicateCheckIn { .. } => "duplicate",
        StepRefused::PlacedByHand { .. } => "placed by hand",
        StepRefused::HeadcountBelowFilled { .. } => "headcount",
        StepRefused::DeleteWhilePlaced { .. } => "delete while placed",
        StepRefused::Dangling { .. } => "dangling",
    }
}

#[derive(Debug, Clone)]
struct MPlacement {
    worker: usize,
    opening: usize,
    state: S,
    check_ins: Vec<u32>,
    /// Successful steps, the proposal included.
    steps: u32,
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
    /// Worker-opening pairs declined once: never proposed again.
    declined: std::collections::HashSet<(usize, usize)>,
}

impl Model {
    fn new() -> Self {
        Model {
            status: vec![EmploymentStatus::Seeking; WORKERS],
            active: vec![None; WORKERS],
            recommendations: vec![0; WORKERS],
            headcount: vec![2; OPENINGS],
            open: vec![true; OPENINGS],
            filled: vec![0; OPENINGS],
            placements: vec![],
            declined: Default::default(),
        }
    }

    fn slot(&self, o: usize) -> Result<(), Why> {
        match () {
            _ if !self.open[o] => Err("closed"),
            _ if self.filled[o] >= self.headcount[o] => Err("full"),
            _ => Ok(()),
        }
    }

    fn state_is(p: &MPlacement, allowed: &[S]) -> Result<(), Why> {
        match allowed.contains(&p.state) {
            true => Ok(()),
            false => Err("wrong state"),
        }
    }

    /// The model's answer, applied if `Ok`. Date offsets are against the
    /// day the rule compares with, so a negative one is refused.
    fn apply(&mut self, op: &Op) -> Result<(), Why> {
        let seeking = |m: &Model, w: usize| match m.status[w] {
            EmploymentStatus::Seeking => Ok(()),
            _ => Err("not seeking"),
        };
        let date = |offset: i32| if offset < 0 { Err("date") } else { Ok(()) };
        match *op {
            Op::Propose(w, o) => {
                if self.declined.contains(&(w, o)) {
                    return Err("declined before");
                }
                if self.active[w].is_some() {
                    return Err("busy");
                }
                seeking(self, w)?;
                self.slot(o)?;
                self.placements.push(MPlacement {
                    worker: w,
                    opening: o,
                    state: S::Proposed,
                    check_ins: vec![],
                    steps: 1,
                });
                self.active[w] = Some(self.placements.len() - 1);
                self.recommendations[w] += 1;
            }
            Op::Accept(i) => {
                let p = self.placements[i].clone();
                Self::state_is(&p, &[S::Proposed])?;
                seeking(self, p.worker)?;
                self.slot(p.opening)?;
                self.filled[p.opening] += 1;
                self.status[p.worker] = EmploymentStatus::Placed;
                self.placements[i].state = S::Accepted;
            }
            Op::Decline(i) => {
                let p = self.placements[i].clone();
                Self::state_is(&p, &[S::Proposed, S::Accepted])?;
                if p.state == S::Accepted {
                    self.filled[p.opening] -= 1;
                    self.status[p.worker] = EmploymentStatus::Seeking;
                }
                self.active[p.worker] = None;
                self.placements[i].state = S::Declined;
                self.declined.insert((p.worker, p.opening));
            }
            Op::Hire(i, offset) => {
                let p = self.placements[i].clone();
                Self::state_is(&p, &[S::Accepted])?;
                date(offset)?;
                self.status[p.worker] = EmploymentStatus::Employed;
                self.placements[i].state = S::Hired;
            }
            Op::Separate(i, offset) => {
                let p = self.placements[i].clone();
                Self::state_is(&p, &[S::Hired])?;
                date(offset)?;
                self.filled[p.opening] -= 1;
                self.status[p.worker] = EmploymentStatus::Seeking;
                self.active[p.worker] = None;
                self.placements[i].state = S::Separated;
            }
            Op::CheckIn(i, month, offset) => {
                let p = self.placements[i].clone();
                Self::state_is(&p, &[S::Hired, S::Separated])?;
                if ![1, 3, 6].contains(&month) {
                    return Err("month");
                }
                if p.check_ins.contains(&month) {
                    return Err("duplicate");
                }
                date(offset)?;
                self.placements[i].check_ins.push(month);
            }
            Op::PutWorker(w, status) => {
                let held = self.active[w].map(|i| self.placements[i].state);
                self.status[w] = match held {
                    Some(S::Accepted) => EmploymentStatus::Placed,
                    Some(S::Hired) => EmploymentStatus::Employed,
                    _ if status == EmploymentStatus::Placed => return Err("placed by hand"),
                    _ => status,
                };
                return Ok(());
            }
            Op::PutOpening(o, headcount, open) => {
                if headcount < self.filled[o] {
                    return Err("headcount");
                }
                self.headcount[o] = headcount;
                self.open[o] = open;
                return Ok(());
            }
        }
        if let Some(i) = op.placement() {
            self.placements[i].steps += 1;
        }
        Ok(())
    }
}

impl Op {
    /// The placement a step names (not a proposal or a client write).
    fn placement(&self) -> Option<usize> {
        match *self {
            Op::Accept(i) | Op::Decline(i) | Op::Hire(i, _) | Op::Separate(i, _) => Some(i),
            Op::CheckIn(i, _, _) => Some(i),
            Op::Propose(..) | Op::PutWorker(..) | Op::PutOpening(..) => None,
        }
    }
}

/// The records the rules see, updated only from their outcomes.
pub(super) struct World {
    pub(super) workers: Vec<Worker>,
    pub(super) openings: Vec<Opening>,
    pub(super) placements: Vec<Placement>,
}

pub(super) fn ctx() -> StepContext<'static> {
    StepContext {
        now_ms: NOW_MS,
        actor: "model",
    }
}

fn index(id: &str, prefix: char) -> usize {
    id.trim_start_matches(prefix).parse().expect("model id")
}

impl World {
    pub(super) fn new() -> Self {
        World {
            workers: (0..WORKERS).map(worker).collect(),
            openings: (0..OPENINGS).map(|o| opening(o, 2, true)).collect(),
            placements: vec![],
        }
    }

    fn take(&mut self, outcome: StepOutcome) {
        if let Some(w) = outcome.worker {
            let i = index(&w.id, 'w');
            self.workers[i] = w;
        }
        if let Some(o) = outcome.opening {
            let i = index(&o.id, 'o');
            self.openings[i] = o;
        }
        let p = outcome.placement;
        assert_eq!(outcome.event.placement_id, p.id);
        assert_eq!(outcome.event.seq, p.events);
        assert_eq!(outcome.event.to, p.status);
        match self.placements.iter_mut().find(|q| q.id == p.id) {
            Some(q) => {
                assert_eq!(outcome.event.from, q.status);
                *q = p;
            }
            None => self.placements.push(p),
        }
    }

    /// Runs `op` through the rules; `Ok(())` if they allowed it.
    pub(super) fn run(&mut self, op: &Op) -> Result<(), StepRefused> {
        let day0 = china_day(NOW_MS);
        let action = match *op {
            Op::Propose(w, o) => {
                let terms = ProposalTerms {
                    run_id: 0,
                    score_micro: 500_000,
                    zero_household: false,
                };
                let id = format!("P{}", self.placements.len());
                let declined = self
                    .placements
                    .iter()
                    .find(|p| {
                        p.state() == S::Declined
                            && p.worker_id == self.workers[w].id
                            && p.opening_id == self.openings[o].id
                    })
                    .map(Declined::of);
                let outcome = propose(
                    id,
                    &self.workers[w],
                    &self.openings[o],
                    declined.as_ref(),
                    &terms,
                    &ctx(),
                )?;
                assert!(outcome.opening.is_none());
                self.take(outcome);
                return Ok(());
            }
            Op::PutWorker(w, status) => {
                let mut new = worker(w);
                new.employment_status = status;
                keep_worker_link(&mut new, Some(&self.workers[w]))?;
                self.workers[w] = new;
                return Ok(());
            }
            Op::PutOpening(o, headcount, open) => {
                let mut new = opening(o, headcount, open);
                keep_opening_slots(&mut new, Some(&self.openings[o]))?;
                self.openings[o] = new;
                return Ok(());
            }
            Op::Accept(_) => Action::Accept,
            Op::Decline(_) => Action::Decline {
                code: DeclineReason::Distance,
                reason: "no".into(),
            },
            Op::Hire(_, d) => Action::Hire { day: day0 + d },
            Op::Separate(i, d) => Action::Separate {
                day: self.hire_day(i) + d,
                reason: SeparationReason::Quit,
                note: String::new(),
            },
            Op::CheckIn(i, month, d) => Action::CheckIn {
                month,
                day: self.hire_day(i) + d,
                still_employed: true,
                note: String::new(),
            },
        };
        let p = &self.placements[op.placement().expect("a step")];
        let w = &self.workers[index(&p.worker_id, 'w')];
        let o = &self.openings[index(&p.opening_id, 'o')];
        let outcome = apply_step(p, Some(w), Some(o), &action, &ctx())?;
        self.take(outcome);
        Ok(())
    }

    pub(super) fn hire_day(&self, i: usize) -> i32 {
        self.placements[i].hire_day.unwrap_or(china_day(NOW_MS))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rules_follow_the_model(ops in prop::collection::vec(op(), 1..80)) {
        let mut model = Model::new();
        let mut world = World::new();
        for op in &ops {
            // A step naming a placement not yet proposed is the store's
            // NotFound; the rules never see it.
            if op.placement().is_some_and(|i| i >= model.placements.len()) {
                continue;
            }
            let expected = model.apply(op);
            let got = world.run(op);
            prop_assert_eq!(got.as_ref().map(|_| ()).map_err(why), expected, "{:?}: {:?}", op, got);
            prop_assert_eq!(world.placements.len(), model.placements.len());
            for (p, m) in world.placements.iter().zip(&model.placements) {
                prop_assert_eq!(p.state(), m.state, "{} after {:?}", &p.id, op);
                let months: Vec<u32> = p.check_ins.iter().map(|c| c.month).collect();
                prop_assert_eq!(&months, &m.check_ins);
                prop_assert_eq!(p.events, m.steps);
                prop_assert_eq!(&p.worker_id, &format!("w{}", m.worker));
                prop_assert_eq!(&p.opening_id, &format!("o{}", m.opening));
            }
            for (w, x) in world.workers.iter().enumerate() {
                prop_assert_eq!(x.employment_status, model.status[w], "w{} after {:?}", w, op);
                let active = model.active[w].map(|i| format!("P{i}"));
                prop_assert_eq!(&x.placement.active_id, &active);
                let state = model.active[w].map_or(S::Unspecified, |i| model.placements[i].state);
                prop_assert_eq!(x.placement.active_status, state);
                prop_assert_eq!(x.placement.recommendations, model.recommendations[w]);
            }
            for (o, x) in world.openings.iter().enumerate() {
                prop_assert_eq!(x.filled, model.filled[o], "o{} after {:?}", o, op);
                prop_assert_eq!(x.headcount, model.headcount[o]);
                prop_assert_eq!(x.status == OpeningStatus::Open, model.open[o]);
            }
        }
    }
}
