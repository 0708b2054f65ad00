//! The write path: the store and the match index, kept in step. Every
//! write of the service passes here.
//!
//! A write goes to the store first; then the index reads the changed
//! records back from the store under its writer mutex and publishes them
//! ([`Matcher::update`]). Whatever order concurrent writers reach the index
//! in, each refresh reads what the store holds at that moment, so the index
//! ends with the store's last word and no lock is held around the store
//! write: writes of different records never wait for each other here.
//! Readers of the index never wait at all (see `matching::shared`).
//!
//! Puts of workers and openings skip the read-back when they can
//! ([`publish`]): a table counts its committed transactions under its
//! write lock, and if the count is one above what it was before the put's
//! transaction (no other write to the table committed since), the records
//! the transaction stored are published as they are. Otherwise they are
//! read back.
//!
//! Single-record upserts from concurrent clients are combined: one writer
//! thread takes every queued request, applies them in one store transaction
//! and answers each once the group commit after it has flushed it: every
//! answer of [`Writer::put_worker`] and [`Writer::put_opening`], a refusal
//! as much as an OK, is durable (see `Service::settle` for why a refusal
//! must be). sled 0.34 serialises transactions on one database-wide lock,
//! so one transaction for many small writes is far cheaper than one each,
//! and one hand-over of the batch to the committer is cheaper than each
//! call's task waking up to ask for its own flush.
//!
//! Every worker write passes here, so this is where a validated national id
//! is replaced by its keyed hash ([`IdKey`]) before anything is stored: the
//! clear number never reaches the store, the index or a reply.

use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::oneshot;

use std::collections::HashMap;

use crate::domain::placement::PlacementStatus;
use crate::domain::policy::{PolicyConfig, WelfareStint};
use crate::domain::{IdKey, Opening, Worker};
use crate::matching::{IndexOp, MatchConfig, MatchIndex, Matcher};
use crate::store::{Action, Changed, Proposal, PutMode, Store, StoreError};

use super::hires::HireTally;

/// Most single-record writes combined into one transaction.
const MAX_COMBINED: usize = 512;

enum Write {
    Worker(Worker, PutMode),
    Opening(Opening, PutMode),
}

enum Written {
    Worker(Worker, bool),
    Opening(Opening, bool),
}

type Reply = oneshot::Sender<Result<Written, StoreError>>;

/// The store and the match index, kept in step.
pub(crate) struct Writer {
    store: Arc<Store>,
    id_key: IdKey,
    matcher: Arc<Matcher>,
    /// The dashboard's hire-side tally (the rest of its figures are the
    /// index's census).
    hires: HireTally,
    writes: mpsc::Sender<(Write, Reply)>,
}

/// Result of a batch put: one outcome per record.
pub(crate) type BatchResult<T> = Result<Vec<Result<T, StoreError>>, StoreError>;

impl Writer {
    /// Binds `id_key` to the store ([`Store::bind_id_key`]: refused if the
    /// store has another key) and builds the match index from everything
    /// stored. Blocking: reads the whole store.
    pub(crate) fn open(
        store: Arc<Store>,
        id_key: IdKey,
        config: MatchConfig,
        policy: PolicyConfig,
    ) -> Result<Self, StoreError> {
        store.bind_id_key(&id_key)?;
        let hires = HireTally::default();
        let matcher = Arc::new(load(&store, config, policy, &hires)?);
        let (writes, queue) = mpsc::channel();
        let (s, m) = (store.clone(), matcher.clone());
        std::thread::Builder::new()
            .name("jobbridge-writes".into())
            .spawn(move || combine(&s, &m, &queue))
            .map_err(|e| StoreError::Flush(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            store,
            id_key,
            matcher,
            hires,
            writes,
        })
    }

    /// The store.
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The match index.
    pub(crate) fn matcher(&self) -> &Arc<Matcher> {
        &self.matcher
    }

    /// The dashboard's hire-side tally.
    pub(crate) fn hires(&self) -> &HireTally {
        &self.hires
    }

    /// The worker as the store keeps it: the national id replaced by its
    /// keyed hash.
    /// A worker that already carries a hash is a partial update keeping
    /// the stored one (clients' numbers are checked to be 18-character
    /// numbers before they get here, so they never look like a hash).
    fn protect(&self, mut worker: Worker) -> Worker {
        if !crate::domain::identity::is_hashed(&worker.national_id) {
            worker.national_id = self.id_key.hash(&worker.national_id);
        }
        worker
    }

    async fn combined(&self, write: Write) -> Result<Written, StoreError> {
        // Announced until answered: a flush of the writes combined before
        // this one waits a little for it (see `store::committer`).
        let _coming = self.store.coming();
        let (tx, rx) = oneshot::channel();
        self.writes
            .send((write, tx))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Writes a worker and indexes it (combined with concurrent writes);
    /// answers once the outcome is durable.
    pub(crate) async fn put_worker(
        &self,
        worker: Worker,
        mode: PutMode,
    ) -> Result<(Worker, bool), StoreError> {
        let worker = self.protect(worker);
        match self.combined(Write::Worker(worker, mode)).await? {
            Written::Worker(w, created) => Ok((w, created)),
            Written::Opening(..) => unreachable!("a worker write answers with a worker"),
        }
    }

    /// Writes a batch of workers in one transaction and indexes the stored
    /// ones.
    pub(crate) fn put_workers(&self, workers: Vec<Worker>) -> BatchResult<()> {
        let workers: Vec<Worker> = workers.into_iter().map(|w| self.protect(w)).collect();
        let before = Worker::commits(&self.store);
        let results = self.store.put_workers(&workers)?;
        publish(&self.store, &self.matcher, &results, before)?;
        Ok(results.into_iter().map(|r| r.map(|_| ())).collect())
    }

    /// Deletes a worker and unindexes it.
    pub(crate) fn delete_worker(&self, id: &str) -> Result<Worker, StoreError> {
        let old = self.store.delete_worker(id)?;
        refresh(&self.store, &self.matcher, &[id], &[], &Facts::default())?;
        Ok(old)
    }

    /// Writes an opening and indexes it (combined with concurrent writes);
    /// answers once the outcome is durable.
    pub(crate) async fn put_opening(
        &self,
        opening: Opening,
        mode: PutMode,
    ) -> Result<(Opening, bool), StoreError> {
        match self.combined(Write::Opening(opening, mode)).await? {
            Written::Opening(o, created) => Ok((o, created)),
            Written::Worker(..) => unreachable!("an opening write answers with an opening"),
        }
    }

    /// Writes a batch of openings in one transaction and indexes them.
    pub(crate) fn put_openings(&self, openings: &[Opening]) -> BatchResult<()> {
        let before = Opening::commits(&self.store);
        let results = self.store.put_openings(openings)?;
        publish(&self.store, &self.matcher, &results, before)?;
        Ok(results.into_iter().map(|r| r.map(|_| ())).collect())
    }

    /// Closes an opening and updates the index.
    pub(crate) fn close_opening(&self, id: &str) -> Result<Opening, StoreError> {
        let closed = self.store.close_opening(id)?;
        refresh(&self.store, &self.matcher, &[], &[id], &Facts::default())?;
        Ok(closed)
    }
}

/// Builds the match index from everything stored, with each opening's
/// filled slots, the declined pairs and the public-welfare stints, under
/// the `[policy]` rules `policy`. Blocking: reads the whole store.
pub fn load_matcher(
    store: &Store,
    config: MatchConfig,
    policy: PolicyConfig,
) -> Result<Matcher, StoreError> {
    load(store, config, policy, &HireTally::default())
}

/// As [`load_matcher`], counting the hired and separated placements it
/// reads into `hires` on the way (the only placements with days).
fn load(
    store: &Store,
    config: MatchConfig,
    policy: PolicyConfig,
    hires: &HireTally,
) -> Result<Matcher, StoreError> {
    let mut index = MatchIndex::with_policy(config, policy);
    let mut stints: HashMap<String, Vec<WelfareStint>> = HashMap::new();
    for status in [PlacementStatus::Hired, PlacementStatus::Separated] {
        for p in store.placements_in(status) {
            let p = p?;
            hires.load(&p);
            if let Some(s) = WelfareStint::of(&p) {
                stints.entry(p.worker_id).or_default().push(s);
            }
        }
    }
    for (worker_id, stints) in &stints {
        index.set_welfare_stints(worker_id, stints);
    }
    for d in store.declines() {
        let d = d?;
        index.add_decline(&d.worker_id, &d.opening_id);
    }
    let mut workers = store.workers().collect::<Result<Vec<_>, _>>()?;
    let mut openings = store.openings().collect::<Result<Vec<_>, _>>()?;
    // Slots in scan order (seeking workers, then by grid cell), so that
    // ranking walks memory sequentially rather than at random.
    let cell = crate::matching::cell_key;
    workers.sort_by_cached_key(|w| {
        (
            w.employment_status != crate::domain::EmploymentStatus::Seeking,
            w.preferences.mobility != crate::domain::Mobility::NearHome,
            cell(w.site_location.lat, w.site_location.lon),
        )
    });
    openings.sort_by_cached_key(|o| cell(o.location.lat, o.location.lon));
    for w in &workers {
        index.upsert_worker(w);
    }
    for o in &openings {
        index.upsert_opening(o, o.filled);
    }
    Ok(Matcher::from_index(index))
}

/// What a placement step changed besides its worker and opening records,
/// for the index: pairs newly declined, and workers whose public-welfare
/// stints changed.
#[derive(Default)]
struct Facts<'a> {
    declined: Vec<(&'a str, &'a str)>,
    welfare: Vec<&'a str>,
}

impl<'a> Facts<'a> {
    fn of(changes: &'a [Changed]) -> Self {
        let mut facts = Facts::default();
        for c in changes {
            let p = &c.placement;
            if p.state() == PlacementStatus::Declined {
                facts.declined.push((&p.worker_id, &p.opening_id));
            }
            if WelfareStint::of(p).is_some() {
                facts.welfare.push(&p.worker_id);
            }
        }
        facts
    }
}

/// The worker's public-welfare stints as stored now.
fn welfare_stints(store: &Store, worker_id: &str) -> Result<Vec<WelfareStint>, StoreError> {
    let mut stints = Vec::new();
    for p in store.placements_of(worker_id) {
        let p = p?;
        if p.worker_id == worker_id {
            stints.extend(WelfareStint::of(&p));
        }
    }
    Ok(stints)
}

impl Writer {
    /// The national id key (the root of the server's derived keys).
    pub(crate) fn id_key(&self) -> &IdKey {
        &self.id_key
    }

    /// Proposes an opening to a worker and updates the index.
    pub(crate) fn propose(&self, proposal: &Proposal, actor: &str) -> Result<Changed, StoreError> {
        let changed = self.store.propose(proposal, actor)?;
        self.reindex(std::slice::from_ref(&changed))?;
        Ok(changed)
    }

    /// Proposes many in one transaction and updates the index.
    pub(crate) fn propose_many(&self, proposals: &[Proposal], actor: &str) -> BatchResult<Changed> {
        let results = self.store.propose_many(proposals, actor)?;
        let done: Vec<Changed> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .cloned()
            .collect();
        self.reindex(&done)?;
        Ok(results)
    }

    /// Takes one step of a placement and updates the index (the worker's
    /// status, the opening's free slots).
    pub(crate) fn placement_step(
        &self,
        id: &str,
        action: &Action,
        actor: &str,
    ) -> Result<Changed, StoreError> {
        let changed = self.store.placement_step(id, action, actor)?;
        self.reindex(std::slice::from_ref(&changed))?;
        // A proposal has no days, so only a step changes the hire tally.
        self.hires
            .refresh(&self.store, &changed.placement.id)
            .inspect_err(|e| tracing::error!(error = %e, "cannot refresh the hire tally"))?;
        Ok(changed)
    }

    fn reindex(&self, changes: &[Changed]) -> Result<(), StoreError> {
        let workers: Vec<&str> = changes
            .iter()
            .filter_map(|c| c.worker.as_ref().map(|w| w.id.as_str()))
            .collect();
        let openings: Vec<&str> = changes
            .iter()
            .filter_map(|c| c.opening.as_ref().map(|o| o.id.as_str()))
            .collect();
        refresh(
            &self.store,
            &self.matcher,
            &workers,
            &openings,
            &Facts::of(changes),
        )
    }
}

/// Publishes the stored state of these records to the index: each is read
/// back from the store under the index's writer mutex, so a refresh that
/// arrives late still reads the latest write (see the module doc).
fn refresh(
    store: &Store,
    matcher: &Matcher,
    workers: &[&str],
    openings: &[&str],
    facts: &Facts<'_>,
) -> Result<(), StoreError> {
    if workers.is_empty()
        && openings.is_empty()
        && facts.declined.is_empty()
        && facts.welfare.is_empty()
    {
        return Ok(());
    }
    matcher
        .update(|| {
            let mut ops = Vec::with_capacity(workers.len() + openings.len());
            for id in workers {
                ops.push(Worker::stored_op(store, id)?);
            }
            for id in openings {
                ops.push(Opening::stored_op(store, id)?);
            }
            // A decline is final: published as it is.
            for (w, o) in &facts.declined {
                ops.push(IndexOp::Declined {
                    worker_id: w.to_string(),
                    opening_id: o.to_string(),
                });
            }
            for id in &facts.welfare {
                ops.push(IndexOp::WelfareStints {
                    worker_id: id.to_string(),
                    stints: welfare_stints(store, id)?,
                });
            }
            Ok(ops)
        })
        .inspect_err(|e| tracing::error!(error = %e, "cannot refresh the match index"))
}

/// A kind of record the match index holds.
trait Indexed: Sized {
    /// The store's count of committed transactions on this kind's table.
    fn commits(store: &Store) -> u64;
    /// Publishes this record as written.
    fn put(&self) -> IndexOp;
    /// Publishes what the store holds now under `id`.
    fn stored_op(store: &Store, id: &str) -> Result<IndexOp, StoreError>;
    fn id(&self) -> &str;
}

impl Indexed for Worker {
    fn commits(store: &Store) -> u64 {
        store.worker_commits()
    }
    fn put(&self) -> IndexOp {
        IndexOp::PutWorker(self.clone())
    }
    fn stored_op(store: &Store, id: &str) -> Result<IndexOp, StoreError> {
        Ok(match store.worker(id)? {
            Some(w) => IndexOp::PutWorker(w),
            None => IndexOp::RemoveWorker(id.to_string()),
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
}

impl Indexed for Opening {
    fn commits(store: &Store) -> u64 {
        store.opening_commits()
    }
    fn put(&self) -> IndexOp {
        IndexOp::PutOpening(self.clone())
    }
    fn stored_op(store: &Store, id: &str) -> Result<IndexOp, StoreError> {
        Ok(match store.opening(id)? {
            Some(o) => IndexOp::PutOpening(o),
            None => IndexOp::RemoveOpening(id.to_string()),
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
}

/// Publishes the records a put stored (the refused ones left out), given
/// the table's commit count read before the put's transaction. If, under
/// the index's writer mutex, the count is exactly one more (no other
/// transaction on the table committed since), the records as written are
/// still the store's last word, and any later writer's refresh waits for
/// the mutex and reads the store after this one: they are published as
/// they are. Otherwise each is read back, as [`refresh`] does.
fn publish<T: Indexed>(
    store: &Store,
    matcher: &Matcher,
    results: &[Result<(T, bool), StoreError>],
    before: u64,
) -> Result<(), StoreError> {
    let stored: Vec<&T> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(record, _)| record))
        .collect();
    if stored.is_empty() {
        return Ok(());
    }
    matcher
        .update(|| {
            if T::commits(store) == before + 1 {
                Ok(stored.iter().map(|r| r.put()).collect())
            } else {
                stored.iter().map(|r| T::stored_op(store, r.id())).collect()
            }
        })
        .inspect_err(|e| tracing::error!(error = %e, "cannot refresh the match index"))
}

/// The writer thread: takes every queued single-record write, applies them
/// in one transaction per kind, updates the index, and hands the answers to
/// the committer, which sends them after its next flush.
fn combine(store: &Store, matcher: &Matcher, queue: &mpsc::Receiver<(Write, Reply)>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(MAX_COMBINED - 1));
        let mut workers = Vec::new();
        let mut openings = Vec::new();
        for (write, reply) in batch {
            match write {
                Write::Worker(w, mode) => workers.push(((w, mode), reply)),
                Write::Opening(o, mode) => openings.push(((o, mode), reply)),
            }
        }
        if !workers.is_empty() {
            let (items, replies): (Vec<_>, Vec<_>) = workers.into_iter().unzip();
            let before = Worker::commits(store);
            let results = store.put_workers_each(&items).and_then(|results| {
                publish(store, matcher, &results, before)?;
                Ok(results)
            });
            answer_durable(store, results, replies, |r| Written::Worker(r.0, r.1));
        }
        if !openings.is_empty() {
            let (items, replies): (Vec<_>, Vec<_>) = openings.into_iter().unzip();
            let before = Opening::commits(store);
            let results = store.put_openings_each(&items).and_then(|results| {
                publish(store, matcher, &results, before)?;
                Ok(results)
            });
            answer_durable(store, results, replies, |r| Written::Opening(r.0, r.1));
        }
    }
}

/// Sends each caller its outcome once the next flush is done; if that flush
/// fails, each is told so instead (nothing it was told may be undone by a
/// crash). A failed transaction is answered at once: it wrote nothing.
fn answer_durable<T: Send + 'static>(
    store: &Store,
    results: BatchResult<(T, bool)>,
    replies: Vec<Reply>,
    ok: impl Fn((T, bool)) -> Written + Send + 'static,
) {
    if results.is_err() {
        return answer(results, replies, ok);
    }
    store.after_sync(replies.len(), move |flushed| match flushed {
        Ok(()) => answer(results, replies, ok),
        Err(e) => {
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(StoreError::Flush(message.clone())));
            }
        }
    });
}

/// Sends each caller its outcome; a failure of the whole transaction goes
/// to all of them.
fn answer<T>(
    results: BatchResult<(T, bool)>,
    replies: Vec<Reply>,
    ok: impl Fn((T, bool)) -> Written,
) {
    match results {
        Ok(results) => {
            for (result, reply) in results.into_iter().zip(replies) {
                let _ = reply.send(result.map(&ok));
            }
        }
        Err(e) => {
            if !matches!(e, StoreError::DiskFull { .. }) {
                tracing::error!(error = %e, "combined write failed");
            }
            for reply in replies {
                let _ = reply.send(Err(each_caller(&e)));
            }
        }
    }
}

/// What each caller of a combined write is told of the whole write's
/// failure: a full disk as such (nothing was applied; retry later), any
/// other failure as a failed write.
fn each_caller(e: &StoreError) -> StoreError {
    match e {
        StoreError::DiskFull {
            dir,
            free_bytes,
            reserve_bytes,
        } => StoreError::DiskFull {
            dir: dir.clone(),
            free_bytes: *free_bytes,
            reserve_bytes: *reserve_bytes,
        },
        StoreError::Closed => StoreError::Closed,
        other => StoreError::Flush(other.to_string()),
    }
}
