//! Placements and their history. Every step of a placement is one sled
//! transaction over the placement, its worker, its opening, the history and
//! the id counter, so that the opening's filled slots, the worker's status
//! (and with it the household's zero-employment flag) and the placement
//! never disagree, and concurrent accepts cannot oversell an opening.

use prost::Message;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::{Transactional, Tree};

use super::entities::placement_index;
use super::table::{get_in, put_in, tx_err, Entity, PutMode, Table, TxError};
use super::{page, Page, Store, StoreError};
use crate::domain::placement::{
    china_day, day_date, Placement, PlacementEvent, PlacementStatus, SeparationReason,
    CHECK_IN_MONTHS,
};
use crate::domain::{EmploymentStatus, Opening, OpeningStatus, PlacementLink, Worker};

const NEXT_ID_KEY: &[u8] = b"next_placement_id";

/// A proposal to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The worker.
    pub worker_id: String,
    /// The opening.
    pub opening_id: String,
    /// The batch run proposing it; 0 by hand.
    pub run_id: u64,
    /// Match score, micro-points.
    pub score_micro: i64,
    /// Whether nobody in the worker's household works, if the caller knows
    /// (a batch run does); read from the store otherwise.
    pub zero_household: Option<bool>,
}

/// A step of a placement's life cycle (validated by the caller).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The worker takes the offer: one slot of the opening.
    Accept,
    /// The worker turns it down or backs out.
    Decline {
        /// Why.
        reason: String,
    },
    /// The worker started work on `day` (days since 1970-01-01).
    Hire {
        /// First day of work.
        day: i32,
    },
    /// The worker left on `day`.
    Separate {
        /// Last day of work.
        day: i32,
        /// Why.
        reason: SeparationReason,
        /// Details.
        note: String,
    },
    /// A retention check-in.
    CheckIn {
        /// 1, 3 or 6 months after hire.
        month: u32,
        /// Day of the check-in.
        day: i32,
        /// Still in the job.
        still_employed: bool,
        /// Details.
        note: String,
    },
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Decline { .. } => "decline",
            Action::Hire { .. } => "hire",
            Action::Separate { .. } => "separate",
            Action::CheckIn { .. } => "check_in",
        }
    }

    /// States the action may start from.
    fn allowed_from(&self) -> &'static [PlacementStatus] {
        use PlacementStatus::*;
        match self {
            Action::Accept => &[Proposed],
            Action::Decline { .. } => &[Proposed, Accepted],
            Action::Hire { .. } => &[Accepted],
            Action::Separate { .. } => &[Hired],
            Action::CheckIn { .. } => &[Hired, Separated],
        }
    }
}

/// What a placement step changed; the worker and opening when they changed
/// (for the match index).
#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    /// The placement after the step.
    pub placement: Placement,
    /// The worker, if changed.
    pub worker: Option<Worker>,
    /// The opening, if changed.
    pub opening: Option<Opening>,
}

/// Filters of a placement listing; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PlacementFilter {
    /// Worker id.
    pub worker_id: Option<String>,
    /// Opening id.
    pub opening_id: Option<String>,
    /// County code.
    pub county_code: Option<String>,
    /// State.
    pub status: Option<PlacementStatus>,
}

/// A retention check-in not yet recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct DueCheckIn {
    /// The placement (HIRED).
    pub placement: Placement,
    /// 1, 3 or 6.
    pub month: u32,
    /// Due day, days since 1970-01-01.
    pub due_day: i32,
}

/// The trees of one placement transaction, joined: the placement table, the
/// worker table, the opening table, the history and the meta tree.
pub(crate) struct PlacementTrees {
    all: Vec<Tree>,
    worker_at: usize,
    opening_at: usize,
    events_at: usize,
    meta_at: usize,
}

impl PlacementTrees {
    pub(crate) fn new(
        placements: &Table,
        workers: &Table,
        openings: &Table,
        events: Tree,
        meta: Tree,
    ) -> Self {
        let mut all = placements.trees().to_vec();
        let worker_at = all.len();
        all.extend_from_slice(workers.trees());
        let opening_at = all.len();
        all.extend_from_slice(openings.trees());
        let events_at = all.len();
        all.push(events);
        let meta_at = all.len();
        all.push(meta);
        Self {
            all,
            worker_at,
            opening_at,
            events_at,
            meta_at,
        }
    }
}

/// The joined trees as seen inside a transaction.
struct Tx<'a> {
    t: &'a [TransactionalTree],
    at: &'a PlacementTrees,
    now_ms: i64,
    actor: &'a str,
}

fn abort<T>(e: StoreError) -> Result<T, TxError> {
    Err(ConflictableTransactionError::Abort(e))
}

/// One item's result inside a transaction; `Err` is a refusal of that item.
type Outcome = Result<Changed, StoreError>;

impl Tx<'_> {
    fn placements(&self) -> &[TransactionalTree] {
        &self.t[..self.at.worker_at]
    }

    fn workers(&self) -> &[TransactionalTree] {
        &self.t[self.at.worker_at..self.at.opening_at]
    }

    fn openings(&self) -> &[TransactionalTree] {
        &self.t[self.at.opening_at..self.at.events_at]
    }

    fn put<E: Entity>(&self, trees: &[TransactionalTree], item: E) -> Result<E, TxError> {
        match put_in(trees, item, PutMode::Upsert, self.now_ms, false)? {
            Ok((stored, _)) => Ok(stored),
            Err(e) => abort(e),
        }
    }

    fn next_id(&self) -> Result<String, TxError> {
        let meta = &self.t[self.at.meta_at];
        let n = match meta.get(NEXT_ID_KEY)? {
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                ConflictableTransactionError::Abort(StoreError::corruption(
                    "placement counter is not 8 bytes",
                ))
            })?),
            None => 0,
        } + 1;
        meta.insert(NEXT_ID_KEY, &n.to_be_bytes()[..])?;
        Ok(format!("P{n:012}"))
    }

    fn event(
        &self,
        p: &mut Placement,
        from: PlacementStatus,
        action: &str,
        note: String,
    ) -> Result<(), TxError> {
        p.events += 1;
        let mut event = PlacementEvent {
            placement_id: p.id.clone(),
            seq: p.events,
            at_ms: self.now_ms,
            actor: self.actor.to_string(),
            action: action.to_string(),
            note,
            ..Default::default()
        };
        event.set_from(from);
        event.set_to(p.state());
        self.t[self.at.events_at].insert(event_key(&p.id, p.events), event.encode_to_vec())?;
        Ok(())
    }

    fn propose(&self, proposal: &Proposal, zero_household: bool) -> Result<Outcome, TxError> {
        let Some(mut worker) = get_in::<Worker>(self.workers(), &proposal.worker_id)? else {
            return Ok(Err(StoreError::not_found("worker", &proposal.worker_id)));
        };
        if let Some(active) = &worker.placement.active_id {
            return Ok(Err(StoreError::precondition(format!(
                "worker {:?} already holds active placement {active} ({}); a worker holds \
                 one active placement at a time",
                worker.id,
                worker.placement.active_status.name()
            ))));
        }
        if worker.employment_status != EmploymentStatus::Seeking {
            return Ok(Err(StoreError::precondition(format!(
                "worker {:?} is {}; only a seeking worker can be proposed",
                worker.id,
                worker.employment_status.label().to_uppercase()
            ))));
        }
        let Some(opening) = get_in::<Opening>(self.openings(), &proposal.opening_id)? else {
            return Ok(Err(StoreError::not_found("opening", &proposal.opening_id)));
        };
        if let Err(e) = open_with_free_slot(&opening) {
            return Ok(Err(e));
        }
        let mut placement = Placement {
            id: self.next_id()?,
            worker_id: worker.id.clone(),
            opening_id: opening.id.clone(),
            county_code: worker.county_code.clone(),
            site_id: worker.site_id.clone(),
            household_id: worker.household_id.clone(),
            source: opening.source.code().into(),
            employer_id: opening.employer_id.clone(),
            run_id: proposal.run_id,
            score_micro: proposal.score_micro,
            zero_household,
            ..Default::default()
        };
        placement.set_status(PlacementStatus::Proposed);
        placement.proposed_at_ms = self.now_ms;
        let note = match proposal.run_id {
            0 => String::new(),
            run => format!("batch run {run}"),
        };
        self.event(
            &mut placement,
            PlacementStatus::Unspecified,
            "propose",
            note,
        )?;
        let placement = match put_in(
            self.placements(),
            placement,
            PutMode::Create,
            self.now_ms,
            false,
        )? {
            Ok((stored, _)) => stored,
            Err(e) => return abort(e),
        };
        worker.placement = PlacementLink {
            active_id: Some(placement.id.clone()),
            active_status: PlacementStatus::Proposed,
            recommendations: worker.placement.recommendations + 1,
            returned_at_ms: None,
        };
        let worker = self.put(self.workers(), worker)?;
        Ok(Ok(Changed {
            placement,
            worker: Some(worker),
            opening: None,
        }))
    }

    fn step(&self, id: &str, action: &Action) -> Result<Outcome, TxError> {
        let Some(mut p) = get_in::<Placement>(self.placements(), id)? else {
            return Ok(Err(StoreError::not_found("placement", id)));
        };
        let from = p.state();
        if !action.allowed_from().contains(&from) {
            let allowed: Vec<&str> = action.allowed_from().iter().map(|s| s.name()).collect();
            return Ok(Err(StoreError::precondition(format!(
                "placement {id} is {}; {} needs a placement that is {}",
                from.name(),
                action.name(),
                allowed.join(" or ")
            ))));
        }
        let mut worker = None;
        let mut opening = None;
        let note;
        match action {
            Action::Accept => {
                let mut w = self.worker_of(&p)?;
                if w.employment_status != EmploymentStatus::Seeking {
                    return Ok(Err(StoreError::precondition(format!(
                        "worker {:?} is {}; only a seeking worker can accept",
                        w.id,
                        w.employment_status.label().to_uppercase()
                    ))));
                }
                let mut o = self.opening_of(&p)?;
                if let Err(e) = open_with_free_slot(&o) {
                    return Ok(Err(e));
                }
                o.filled += 1;
                w.employment_status = EmploymentStatus::Placed;
                w.placement.active_status = PlacementStatus::Accepted;
                p.set_status(PlacementStatus::Accepted);
                p.accepted_at_ms = self.now_ms;
                note = format!("slot {} of {}", o.filled, o.headcount);
                worker = Some(w);
                opening = Some(o);
            }
            Action::Decline { reason } => {
                let mut w = self.worker_of(&p)?;
                if from == PlacementStatus::Accepted {
                    let mut o = self.opening_of(&p)?;
                    o.filled = o.filled.saturating_sub(1);
                    opening = Some(o);
                    w.employment_status = EmploymentStatus::Seeking;
                }
                w.placement.active_id = None;
                w.placement.active_status = PlacementStatus::Unspecified;
                p.set_status(PlacementStatus::Declined);
                p.declined_at_ms = self.now_ms;
                p.decline_reason = reason.clone();
                note = reason.clone();
                worker = Some(w);
            }
            Action::Hire { day } => {
                let proposed = china_day(p.proposed_at_ms);
                if *day < proposed {
                    return Ok(Err(StoreError::precondition(format!(
                        "hire_date: {} is before the proposal of placement {id} on {}",
                        day_date(*day),
                        day_date(proposed)
                    ))));
                }
                let mut w = self.worker_of(&p)?;
                w.employment_status = EmploymentStatus::Employed;
                w.placement.active_status = PlacementStatus::Hired;
                p.set_status(PlacementStatus::Hired);
                p.hire_day = Some(*day);
                note = format!("first day {}", day_date(*day));
                worker = Some(w);
            }
            Action::Separate {
                day,
                reason,
                note: text,
            } => {
                let hired = p.hire_day.unwrap_or(i32::MIN);
                if *day < hired {
                    return Ok(Err(StoreError::precondition(format!(
                        "separation_date: {} is before the hire of placement {id} on {}",
                        day_date(*day),
                        day_date(hired)
                    ))));
                }
                let mut w = self.worker_of(&p)?;
                let mut o = self.opening_of(&p)?;
                o.filled = o.filled.saturating_sub(1);
                w.employment_status = EmploymentStatus::Seeking;
                w.placement.active_id = None;
                w.placement.active_status = PlacementStatus::Unspecified;
                w.placement.returned_at_ms = Some(self.now_ms);
                p.set_status(PlacementStatus::Separated);
                p.separation_day = Some(*day);
                p.separated_at_ms = self.now_ms;
                p.set_separation_reason(*reason);
                p.separation_note = text.clone();
                note = format!(
                    "last day {}, {}{}{}",
                    day_date(*day),
                    reason.label(),
                    if text.is_empty() { "" } else { ": " },
                    text
                );
                worker = Some(w);
                opening = Some(o);
            }
            Action::CheckIn {
                month,
                day,
                still_employed,
                note: text,
            } => {
                if !CHECK_IN_MONTHS.contains(month) {
                    return Ok(Err(StoreError::precondition(format!(
                        "month: check-ins are 1, 3 or 6 months after hire, got {month}"
                    ))));
                }
                if p.check_ins.iter().any(|c| c.month == *month) {
                    return Ok(Err(StoreError::precondition(format!(
                        "placement {id} already has its {month}-month check-in"
                    ))));
                }
                let hired = p.hire_day.unwrap_or(i32::MIN);
                if *day < hired {
                    return Ok(Err(StoreError::precondition(format!(
                        "date: {} is before the hire of placement {id} on {}",
                        day_date(*day),
                        day_date(hired)
                    ))));
                }
                p.check_ins.push(crate::domain::placement::CheckIn {
                    month: *month,
                    day: *day,
                    still_employed: *still_employed,
                    note: text.clone(),
                    actor: self.actor.to_string(),
                    recorded_at_ms: self.now_ms,
                });
                note = format!(
                    "{month}-month check-in on {}: {}",
                    day_date(*day),
                    if *still_employed {
                        "still employed"
                    } else {
                        "not employed"
                    }
                );
            }
        }
        self.event(&mut p, from, action.name(), note)?;
        let placement = self.put(self.placements(), p)?;
        let worker = worker.map(|w| self.put(self.workers(), w)).transpose()?;
        let opening = opening.map(|o| self.put(self.openings(), o)).transpose()?;
        Ok(Ok(Changed {
            placement,
            worker,
            opening,
        }))
    }

    fn worker_of(&self, p: &Placement) -> Result<Worker, TxError> {
        match get_in::<Worker>(self.workers(), &p.worker_id)? {
            Some(w) => Ok(w),
            None => abort(StoreError::corruption(format!(
                "placement {} names missing worker {:?}",
                p.id, p.worker_id
            ))),
        }
    }

    fn opening_of(&self, p: &Placement) -> Result<Opening, TxError> {
        match get_in::<Opening>(self.openings(), &p.opening_id)? {
            Some(o) => Ok(o),
            None => abort(StoreError::corruption(format!(
                "placement {} names missing opening {:?}",
                p.id, p.opening_id
            ))),
        }
    }
}

/// Refuses a closed or full opening.
fn open_with_free_slot(o: &Opening) -> Result<(), StoreError> {
    if o.status == OpeningStatus::Closed {
        return Err(StoreError::precondition(format!(
            "opening {:?} is CLOSED",
            o.id
        )));
    }
    if o.filled >= o.headcount {
        return Err(StoreError::precondition(format!(
            "opening {:?} has no free slot: {} of {} taken",
            o.id, o.filled, o.headcount
        )));
    }
    Ok(())
}

fn event_key(id: &str, seq: u32) -> Vec<u8> {
    let mut k = id.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

impl Store {
    fn placement_tx<T>(
        &self,
        actor: &str,
        f: impl Fn(&Tx<'_>) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let at = &self.placement_trees;
        at.all[..]
            .transaction(|t| {
                f(&Tx {
                    t,
                    at,
                    now_ms: super::now_ms(),
                    actor,
                })
            })
            .map_err(tx_err)
    }

    /// Proposes an opening to a worker: a new PROPOSED placement, counted
    /// as a recommendation. Refused if the worker holds an active placement
    /// or is not seeking, or if the opening is closed or full.
    pub fn propose(&self, proposal: &Proposal, actor: &str) -> Result<Changed, StoreError> {
        let zero = match proposal.zero_household {
            Some(z) => z,
            None => self.household_zero(&proposal.worker_id)?,
        };
        self.placement_tx(actor, |tx| tx.propose(proposal, zero))?
    }

    /// Proposes many in one transaction; each succeeds or fails on its own.
    pub fn propose_many(
        &self,
        proposals: &[Proposal],
        actor: &str,
    ) -> Result<Vec<Result<Changed, StoreError>>, StoreError> {
        // The flag is informational ("nobody in the household worked when
        // this was proposed"), so it is read before the transaction.
        let zero = proposals
            .iter()
            .map(|p| match p.zero_household {
                Some(z) => Ok(z),
                None => self.household_zero(&p.worker_id),
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.placement_tx(actor, |tx| {
            proposals
                .iter()
                .zip(&zero)
                .map(|(p, &z)| tx.propose(p, z))
                .collect()
        })
    }

    /// Takes one step of placement `id`'s life cycle. An illegal step is a
    /// `Precondition` naming the current state.
    pub fn placement_step(
        &self,
        id: &str,
        action: &Action,
        actor: &str,
    ) -> Result<Changed, StoreError> {
        self.placement_tx(actor, |tx| tx.step(id, action))?
    }

    fn household_zero(&self, worker_id: &str) -> Result<bool, StoreError> {
        let Some(w) = self.worker(worker_id)? else {
            return Ok(false);
        };
        Ok(self
            .household(&w.household_id)?
            .is_some_and(|h| h.zero_employment()))
    }

    /// Reads one placement.
    pub fn placement(&self, id: &str) -> Result<Option<Placement>, StoreError> {
        self.placements.get(id)
    }

    /// Lists placements in id (creation) order.
    pub fn list_placements(
        &self,
        filter: &PlacementFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Placement>, StoreError> {
        use placement_index::*;
        let status = filter.status.map(|s| [s as u8]);
        let index: Option<(usize, &[u8])> = if let Some(w) = &filter.worker_id {
            Some((WORKER, w.as_bytes()))
        } else if let Some(o) = &filter.opening_id {
            Some((OPENING, o.as_bytes()))
        } else if let Some(c) = &filter.county_code {
            Some((COUNTY, c.as_bytes()))
        } else {
            status.as_ref().map(|s| (STATUS, &s[..]))
        };
        let matches = |p: &Placement| {
            filter.worker_id.as_ref().is_none_or(|w| &p.worker_id == w)
                && filter
                    .opening_id
                    .as_ref()
                    .is_none_or(|o| &p.opening_id == o)
                && filter
                    .county_code
                    .as_ref()
                    .is_none_or(|c| &p.county_code == c)
                && filter.status.is_none_or(|s| p.state() == s)
        };
        page(&self.placements, index, after, limit, matches)
    }

    /// Every placement, in id order.
    pub fn placements(&self) -> impl Iterator<Item = Result<Placement, StoreError>> + '_ {
        self.placements.scan()
    }

    /// Placements in state `status`, in id order.
    pub fn placements_in(
        &self,
        status: PlacementStatus,
    ) -> impl Iterator<Item = Result<Placement, StoreError>> + '_ {
        self.placements
            .ids_after(Some((placement_index::STATUS, &[status as u8])), None)
            .filter_map(move |id| match id {
                Ok(id) => self.placements.get::<Placement>(&id).transpose(),
                Err(e) => Some(Err(e)),
            })
    }

    /// The history of placement `id`, oldest first.
    pub fn placement_history(&self, id: &str) -> Result<Vec<PlacementEvent>, StoreError> {
        let mut prefix = id.as_bytes().to_vec();
        prefix.push(0);
        self.placement_events
            .scan_prefix(prefix)
            .map(|r| {
                let (_, v) = r?;
                PlacementEvent::decode(&v[..])
                    .map_err(|e| StoreError::corruption(format!("placement event: {e}")))
            })
            .collect()
    }

    /// Check-ins of HIRED placements not yet recorded and due on or before
    /// `until_day`, optionally in one county; by due day, then placement.
    pub fn check_ins_due(
        &self,
        county_code: Option<&str>,
        until_day: i32,
    ) -> Result<Vec<DueCheckIn>, StoreError> {
        let mut due = Vec::new();
        for p in self.placements_in(PlacementStatus::Hired) {
            let p = p?;
            if county_code.is_some_and(|c| c != p.county_code) {
                continue;
            }
            for (month, due_day) in p.check_ins_owed() {
                if due_day <= until_day {
                    due.push(DueCheckIn {
                        placement: p.clone(),
                        month,
                        due_day,
                    });
                }
            }
        }
        due.sort_by(|a, b| {
            (a.due_day, &a.placement.id, a.month).cmp(&(b.due_day, &b.placement.id, b.month))
        });
        Ok(due)
    }

    /// Checks that placements, workers and openings agree: each opening's
    /// filled count is the number of its ACCEPTED or HIRED placements, and
    /// each worker's active placement is the one active placement naming
    /// that worker, in the same state. Reads everything.
    pub(crate) fn verify_placements(&self) -> Result<(), StoreError> {
        use std::collections::HashMap;
        let mut held: HashMap<String, u32> = HashMap::new();
        let mut active: HashMap<String, (String, PlacementStatus)> = HashMap::new();
        for p in self.placements() {
            let p = p?;
            let state = p.state();
            if state.holds_slot() {
                *held.entry(p.opening_id.clone()).or_default() += 1;
            }
            if state.is_active() {
                if let Some((other, _)) = active.insert(p.worker_id.clone(), (p.id.clone(), state))
                {
                    return Err(StoreError::corruption(format!(
                        "worker {:?} has two active placements, {other} and {}",
                        p.worker_id, p.id
                    )));
                }
            }
        }
        for o in self.openings() {
            let o = o?;
            let expected = held.remove(&o.id).unwrap_or(0);
            if o.filled != expected {
                return Err(StoreError::corruption(format!(
                    "opening {:?} counts {} filled slots, its placements hold {expected}",
                    o.id, o.filled
                )));
            }
        }
        if let Some((id, n)) = held.into_iter().next() {
            return Err(StoreError::corruption(format!(
                "{n} placements hold slots of missing opening {id:?}"
            )));
        }
        for w in self.workers() {
            let w = w?;
            let found = active.remove(&w.id);
            let recorded = w
                .placement
                .active_id
                .clone()
                .map(|id| (id, w.placement.active_status));
            if found != recorded {
                return Err(StoreError::corruption(format!(
                    "worker {:?} records active placement {recorded:?}, the placements say {found:?}",
                    w.id
                )));
            }
            let status_ok = match w.placement.active_status {
                PlacementStatus::Accepted => w.employment_status == EmploymentStatus::Placed,
                PlacementStatus::Hired => w.employment_status == EmploymentStatus::Employed,
                _ => w.employment_status != EmploymentStatus::Placed,
            };
            if !status_ok {
                return Err(StoreError::corruption(format!(
                    "worker {:?} is {} with placement state {}",
                    w.id,
                    w.employment_status.label(),
                    w.placement.active_status.name()
                )));
            }
        }
        if let Some((worker, (id, _))) = active.into_iter().next() {
            return Err(StoreError::corruption(format!(
                "active placement {id} names missing worker {worker:?}"
            )));
        }
        Ok(())
    }
}
