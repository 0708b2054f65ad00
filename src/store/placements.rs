//! Placements and their history. Every step of a placement is one sled
//! transaction over the placement, its worker, its opening, the history and
//! the id counter, so that the opening's filled slots, the worker's status
//! (and with it the household's zero-employment flag) and the placement
//! never disagree, and concurrent accepts cannot oversell an opening.

use std::collections::BTreeMap;

use prost::Message;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::table::{self, get_in, put_in, Entity, PutMode, TxError, TxTable};
use super::{Store, StoreError};
use crate::domain::placement::{
    self as rules, Declined, Placement, PlacementStatus, ProposalTerms, StepContext, StepOutcome,
    StepRefused,
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
const DECLINES: usize = 2;

/// The sled tree of declines: `worker id, 0, opening id` -> the pair's
/// first [`Declined`]. A propose transaction reads it with
/// `TransactionalTree::get` (sled 0.34 cannot scan a tree, nor read one
/// outside the transaction, while a transaction runs: its transactions
/// hold the lock that plain reads take).
pub(super) const DECLINES_TREE: &str = "declines";

/// Set in `meta` once the declines tree holds every decline.
const DECLINES_BUILT: &[u8] = b"declines_built";

pub(super) fn decline_key(worker_id: &str, opening_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(worker_id.len() + 1 + opening_id.len());
    k.extend_from_slice(worker_id.as_bytes());
    k.push(0);
    k.extend_from_slice(opening_id.as_bytes());
    k
}

fn decode_declined(bytes: &[u8]) -> Result<Declined, StoreError> {
    Declined::decode(bytes).map_err(|e| StoreError::corruption(format!("bad decline record: {e}")))
}

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

    /// The worker's earlier decline of the opening, as this transaction
    /// sees the declines.
    fn declined(&self, worker_id: &str, opening_id: &str) -> Result<Option<Declined>, TxError> {
        self.others[DECLINES]
            .get(decline_key(worker_id, opening_id))?
            .map(|v| decode_declined(&v).map_err(ConflictableTransactionError::Abort))
            .transpose()
    }

    fn propose(&self, proposal: &Proposal, zero_household: bool) -> Result<Outcome, TxError> {
        let Some(worker) = get_in::<Worker>(self.workers(), &proposal.worker_id)? else {
            return Ok(Err(StoreError::not_found("worker", &proposal.worker_id)));
        };
        let Some(opening) = get_in::<Opening>(self.openings(), &proposal.opening_id)? else {
            return Ok(Err(StoreError::not_found("opening", &proposal.opening_id)));
        };
        let declined = self.declined(&proposal.worker_id, &proposal.opening_id)?;
        let (id, n) = self.peek_id()?;
        let terms = ProposalTerms {
            run_id: proposal.run_id,
            score_micro: proposal.score_micro,
            zero_household,
        };
        match rules::propose(
            id,
            &worker,
            &opening,
            declined.as_ref(),
            &terms,
            &self.ctx(),
        ) {
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
        if placement.state() == PlacementStatus::Declined {
            // A declined placement is final, so this runs once per
            // placement; the pair keeps its first decline.
            let key = decline_key(&placement.worker_id, &placement.opening_id);
            if self.others[DECLINES].get(&key)?.is_none() {
                self.others[DECLINES].insert(key, Declined::of(&placement).encode_to_vec())?;
            }
        }
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
            &[&self.placement_events, &self.meta, &self.declines],
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

    /// The worker's earlier decline of the opening, if any (the first,
    /// should a directory of an older build hold several).
    pub fn declined(
        &self,
        worker_id: &str,
        opening_id: &str,
    ) -> Result<Option<Declined>, StoreError> {
        self.declines
            .get(decline_key(worker_id, opening_id))?
            .map(|v| decode_declined(&v))
            .transpose()
    }

    /// The openings the worker declined before.
    pub fn declined_openings(
        &self,
        worker_id: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let prefix = decline_key(worker_id, "");
        self.declines
            .scan_prefix(&prefix)
            .map(|entry| Ok(decode_declined(&entry?.1)?.opening_id))
            .collect()
    }

    /// Fills the declines tree from the declined placements, unless `meta`
    /// says it is complete (a directory of an earlier format has none).
    /// Flushed before it is marked, so a crash in between builds it again.
    pub(super) fn build_declines(&self) -> Result<(), StoreError> {
        if self.meta.get(DECLINES_BUILT)?.is_some() {
            return Ok(());
        }
        self.declines.clear()?;
        let mut batch = sled::Batch::default();
        for (key, d) in self.first_declines()? {
            batch.insert(key, d.encode_to_vec());
        }
        self.declines.apply_batch(batch)?;
        self.disk.flush()?;
        self.meta.insert(DECLINES_BUILT, &[1u8][..])?;
        self.disk.flush()?;
        Ok(())
    }

    /// Checks the declines tree against the declined placements.
    pub(super) fn verify_declines(&self) -> Result<(), StoreError> {
        let first = self.first_declines()?;
        let stored = self.declines.len();
        if stored != first.len() {
            return Err(StoreError::corruption(format!(
                "the declines tree holds {stored} pairs, the placements {}",
                first.len()
            )));
        }
        for (key, d) in first {
            let found = self
                .declines
                .get(&key)?
                .map(|v| decode_declined(&v))
                .transpose()?;
            if found.as_ref() != Some(&d) {
                return Err(StoreError::corruption(format!(
                    "the declines tree disagrees with placement {} ({:?} declined {:?})",
                    d.placement_id, d.worker_id, d.opening_id
                )));
            }
        }
        Ok(())
    }

    /// Each declined pair's first decline, by key, read from the placements.
    fn first_declines(&self) -> Result<BTreeMap<Vec<u8>, Declined>, StoreError> {
        let mut first: BTreeMap<Vec<u8>, Placement> = BTreeMap::new();
        for p in self.placements_in(PlacementStatus::Declined) {
            let p = p?;
            let key = decline_key(&p.worker_id, &p.opening_id);
            let kept = earlier(first.remove(&key), p);
            first.extend(kept.map(|p| (key, p)));
        }
        Ok(first
            .into_iter()
            .map(|(key, p)| (key, Declined::of(&p)))
            .collect())
    }

    /// Every decline, in placement id order, read from the declined
    /// placements (a declined placement is final); the `declines` tree
    /// keeps only each pair's first.
    pub fn declines(&self) -> impl Iterator<Item = Result<Declined, StoreError>> + '_ {
        self.placements_in(PlacementStatus::Declined)
            .map(|p| p.map(|p| Declined::of(&p)))
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

/// The earlier decline of two.
fn earlier(first: Option<Placement>, p: Placement) -> Option<Placement> {
    match first {
        Some(f) if (f.declined_at_ms, &f.id) <= (p.declined_at_ms, &p.id) => Some(f),
        _ => Some(p),
    }
}
