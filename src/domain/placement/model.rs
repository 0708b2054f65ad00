//! A plain model of the placement life cycle: random sequences of
//! proposals, steps and client writes on a few workers and openings, and
//! what each should do. The rules' model test (`model_tests.rs`) and the
//! store's (`store/tests/placements.rs`) both run against it.

use proptest::prelude::*;

use super::StepRefused;
use crate::domain::placement::PlacementStatus as S;
use crate::domain::EmploymentStatus;

/// Workers in a sequence, `w0` to `w4`.
pub(crate) const WORKERS: usize = 5;
/// Openings in a sequence, `o0` to `o2`, two slots each at first.
pub(crate) const OPENINGS: usize = 3;

/// One operation: a proposal, a step of the `n`th placement, or a
/// client write.
#[derive(Debug, Clone)]
pub(crate) enum Op {
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

/// One random operation.
pub(crate) fn op() -> impl Strategy<Value = Op> {
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
pub(crate) type Why = &'static str;

/// The model's name for a refusal of the rules.
pub(crate) fn why(r: &StepRefused) -> Why {
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

/// A placement as the model holds it.
#[derive(Debug, Clone)]
pub(crate) struct MPlacement {
    pub(crate) worker: usize,
    pub(crate) opening: usize,
    pub(crate) state: S,
    pub(crate) check_ins: Vec<u32>,
    /// Successful steps, the proposal included.
    pub(crate) steps: u32,
}

/// Workers, openings and placements as the model holds them.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) status: Vec<EmploymentStatus>,
    pub(crate) active: Vec<Option<usize>>,
    pub(crate) recommendations: Vec<u32>,
    pub(crate) headcount: Vec<u32>,
    pub(crate) open: Vec<bool>,
    pub(crate) filled: Vec<u32>,
    pub(crate) placements: Vec<MPlacement>,
    /// Worker-opening pairs declined once: never proposed again.
    pub(crate) declined: std::collections::HashSet<(usize, usize)>,
}

impl Model {
    /// Every worker seeking, every opening open with two free slots.
    pub(crate) fn new() -> Self {
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
    /// day the rule compares with, so a negative one is refused. A step
    /// naming a placement not yet proposed is refused as "not found".
    pub(crate) fn apply(&mut self, op: &Op) -> Result<(), Why> {
        if op.placement().is_some_and(|i| i >= self.placements.len()) {
            return Err("not found");
        }
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
    pub(crate) fn placement(&self) -> Option<usize> {
        match *self {
            Op::Accept(i) | Op::Decline(i) | Op::Hire(i, _) | Op::Separate(i, _) => Some(i),
            Op::CheckIn(i, _, _) => Some(i),
            Op::Propose(..) | Op::PutWorker(..) | Op::PutOpening(..) => None,
        }
    }
}
