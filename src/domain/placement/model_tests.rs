//! The placement rules against a plain model: random sequences of
//! proposals, steps and client writes on a few workers and openings, run
//! through the pure functions alone (no store). After every operation the
//! rules must accept or refuse as the model does, for the same reason, and
//! every placement state, worker status, link and filled count must agree.
//! The store's own model test (`store/tests/placements.rs`) checks that the
//! store applies these outcomes faithfully.

use proptest::prelude::*;

use super::model::{op, why, Model, Op, OPENINGS, WORKERS};
use super::refusal_tests::worker;
use super::*;
use crate::domain::{Opening, OpeningStatus, Worker};
use crate::testing::numbered_opening as opening;
use PlacementStatus as S;

/// 2026-05-28 in China; any fixed instant does.
const NOW_MS: i64 = 1_780_000_000_000;

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
