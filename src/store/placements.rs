//! Placements and their history. Every step of a placement is one sled
//! transaction over the placement, its worker, its opening, the history and
//! the id counter, so that the opening's filled slots, the worker's status
//! (and with it the household's zero-employment flag) and the placement
//! never disagree, and concurrent accepts cannot oversell an opening.

use prost::Message;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::table::{self, get_in, put_in, Entity, PutMode, TxError, TxTable};
use super::{Store, StoreError};
use crate::domain::placement::{
    self as rules, Placement, ProposalTerms, StepContext, StepOutcome, StepRefused,
};
use crate::domain::{Opening, Worker};

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

/// The steps live with their rules in the domain; re-exported so that
/// callers of [`Store::placement_step`] can keep naming `store::Action`.
pub use crate::domain::placement::Action;

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

/// A placement transaction as seen inside it: the placement, worker and
/// opening tables' parts, the history and the meta tree.
struct Tx<'a> {
    tables: &'a [TxTable<'a>],
    others: &'a [TransactionalTree],
    now_ms: i64,
    actor: &'a str,
}

/// Positions in [`Tx::tables`] and [`Tx::others`].
const PLACEMENTS: usize = 0;
const WORKERS: usize = 1;
const OPENINGS: usize = 2;
const EVENTS: usize = 0;
const META: usize = 1;

fn abort<T>(e: StoreError) -> Result<T, TxError> {
    Err(ConflictableTransactionError::Abort(e))
}

/// One item's result inside a transaction; `Err` is a refusal of that item.
type Outcome = Result<Changed, StoreError>;

impl<'a> Tx<'a> {
    fn placements(&self) -> &TxTable<'a> {
        &self.tables[PLACEMENTS]
    }

    fn workers(&self) -> &TxTable<'a> {
        &self.tables[WORKERS]
    }

    fn openings(&self) -> &TxTable<'a> {
        &self.tables[OPENINGS]
    }

    fn put<E: Entity>(&self, trees: &TxTable<'_>, item: E) -> Result<E, TxError> {
        match put_in(trees, item, PutMode::Upsert, self.now_ms, false)? {
            Ok((stored, _)) => Ok(stored),
            Err(e) => abort(e),
        }
    }

    /// The id the next placement would get, and the counter value that
    /// takes it; the counter is written only if the proposal succeeds.
    fn peek_id(&self) -> Result<(String, u64), TxError> {
        let meta = &self.others[META];
        let n = match meta.get(NEXT_ID_KEY)? {
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                ConflictableTransactionError::Abort(StoreError::corruption(
                    "placement counter is not 8 bytes",
                ))
            })?),
            None => 0,
        } + 1;
        Ok((format!("P{n:012}"), n))
    }

    fn ctx(&self) -> StepContext<'_> {
        StepContext {
            now_ms: self.now_ms,
            actor: self.actor,
        }
    }

    fn propose(&self, proposal: &Proposal, zero_household: bool) -> Result<Outcome, TxError> {
        let Some(worker) = get_in::<Worker>(self.workers(), &proposal.worker_id)? else {
            return Ok(Err(StoreError::not_found("worker", &proposal.worker_id)));
        };
        let Some(opening) = get_in::<Opening>(self.openings(), &proposal.opening_id)? else {
            return Ok(Err(StoreError::not_found("opening", &proposal.opening_id)));
        };
        let (id, n) = self.peek_id()?;
        let terms = ProposalTerms {
            run_id: proposal.run_id,
            score_micro: proposal.score_micro,
            zero_household,
        };
        match rules::propose(id, &worker, &opening, &terms, &self.ctx()) {
            Ok(outcome) => {
                self.others[META].insert(NEXT_ID_KEY, &n.to_be_bytes()[..])?;
                self.write(outcome, PutMode::Create).map(Ok)
            }
            Err(refused) => refused_in_tx(refused),
        }
    }

    fn step(&self, id: &str, action: &Action) -> Result<Outcome, TxError> {
        let Some(p) = get_in::<Placement>(self.placements(), id)? else {
            return Ok(Err(StoreError::not_found("placement", id)));
        };
        let worker = get_in::<Worker>(self.workers(), &p.worker_id)?;
        let opening = get_in::<Opening>(self.openings(), &p.opening_id)?;
        match rules::apply_step(&p, worker.as_ref(), opening.as_ref(), action, &self.ctx()) {
            Ok(outcome) => self.write(outcome, PutMode::Upsert).map(Ok),
            Err(refused) => refused_in_tx(refused),
        }
    }

    /// Writes what the rules decided: the placement (created by a
    /// proposal), its history entry, and the worker and opening if changed.
    fn write(&self, outcome: StepOutcome, mode: PutMode) -> Result<Changed, TxError> {
        let StepOutcome {
            placement,
            worker,
            opening,
            event,
        } = outcome;
        self.others[EVENTS].insert(
            event_key(&event.placement_id, event.seq),
            event.encode_to_vec(),
        )?;
        let placement = match put_in(self.placements(), placement, mode, self.now_ms, false)? {
            Ok((stored, _)) => stored,
            Err(e) => return abort(e),
        };
        let worker = worker.map(|w| self.put(self.workers(), w)).transpose()?;
        let opening = opening.map(|o| self.put(self.openings(), o)).transpose()?;
        Ok(Changed {
            placement,
            worker,
            opening,
        })
    }
}

/// A refusal is the item's result (the transaction still commits the
/// other items of a batch); a dangling reference, which the mapping to
/// `StoreError` makes a corruption, aborts the transaction.
fn refused_in_tx(refused: StepRefused) -> Result<Outcome, TxError> {
    match StoreError::from(refused) {
        e @ StoreError::Corruption(_) => abort(e),
        e => Ok(Err(e)),
    }
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
        table::transaction(
            &[&self.placements, &self.workers, &self.openings],
            &[&self.placement_events, &self.meta],
            |tables, others| {
                f(&Tx {
                    tables,
                    others,
                    now_ms: super::now_ms(),
                    actor,
                })
            },
        )
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
}
