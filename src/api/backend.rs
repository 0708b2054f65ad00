//! What every handler works on: the store and the match index, kept in step.
//!
//! A write goes to the store first and then to the index, under a lock
//! stripe chosen by the record's id, so that two writes of the same record
//! reach the index in the order the store applied them. Reads of the index
//! never wait for the store.
//!
//! Single-record upserts from concurrent clients are combined: one writer
//! thread takes every queued request, applies them in one store transaction
//! and answers each. sled 0.34 serialises transactions on one database-wide
//! lock, so one transaction for many small writes is far cheaper than one
//! each. Durability is still the caller's `sync`, shared by group commit.
//!
//! Every worker write passes here, so this is where a validated national id
//! is replaced by its keyed hash ([`IdKey`]) before anything is stored: the
//! clear number never reaches the store, the index or a reply.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::domain::{IdKey, Opening, Worker};
use crate::matching::{MatchConfig, Matcher};
use crate::store::{Action, Changed, Proposal, PutMode, Store, StoreError};

/// Lock stripes: enough that unrelated writes rarely share one.
const STRIPES: usize = 64;

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

/// The store and the match index, shared by all services.
pub struct Backend {
    store: Arc<Store>,
    id_key: IdKey,
    matcher: Arc<Matcher>,
    stripes: Arc<Vec<Mutex<()>>>,
    writes: mpsc::Sender<(Write, Reply)>,
}

/// Result of a batch put: one outcome per record.
pub(crate) type BatchResult<T> = Result<Vec<Result<T, StoreError>>, StoreError>;

impl Backend {
    /// Binds `id_key` to the store ([`Store::bind_id_key`]: refused if the
    /// store has another key) and builds the match index from everything
    /// stored. Blocking: reads the whole store.
    pub fn open(store: Arc<Store>, id_key: IdKey, config: MatchConfig) -> Result<Self, StoreError> {
        store.bind_id_key(&id_key)?;
        let matcher = Arc::new(load_matcher(&store, config)?);
        let stripes: Arc<Vec<Mutex<()>>> = Arc::new((0..STRIPES).map(|_| Mutex::new(())).collect());
        let (writes, queue) = mpsc::channel();
        let (s, m, st) = (store.clone(), matcher.clone(), stripes.clone());
        std::thread::Builder::new()
            .name("jobbridge-writes".into())
            .spawn(move || combine(&s, &m, &st, &queue))
            .map_err(|e| StoreError::Flush(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            store,
            id_key,
            matcher,
            stripes,
            writes,
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The match index.
    pub fn matcher(&self) -> &Arc<Matcher> {
        &self.matcher
    }

    fn stripe(&self, id: &str) -> MutexGuard<'_, ()> {
        // The page-token hash (FNV-1a): cheap and stable; the spread only
        // has to be fair.
        let h = super::page_token::fingerprint(&[id]);
        self.stripes[(h % STRIPES as u64) as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn all_stripes(&self) -> Vec<MutexGuard<'_, ()>> {
        all_stripes(&self.stripes)
    }

    /// The worker as the store keeps it: the national id replaced by its
    /// keyed hash.
    fn protect(&self, mut worker: Worker) -> Worker {
        worker.national_id = self.id_key.hash(&worker.national_id);
        worker
    }

    async fn combined(&self, write: Write) -> Result<Written, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.writes
            .send((write, tx))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Writes a worker and indexes it (combined with concurrent writes).
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
        let _guards = self.all_stripes();
        let results = self.store.put_workers(&workers)?;
        let mut index = self.matcher.write();
        Ok(results
            .into_iter()
            .map(|r| {
                r.map(|(stored, _)| {
                    index.upsert_worker(&stored);
                })
            })
            .collect())
    }

    /// Deletes a worker and unindexes it.
    pub(crate) fn delete_worker(&self, id: &str) -> Result<Worker, StoreError> {
        let _guard = self.stripe(id);
        let old = self.store.delete_worker(id)?;
        self.matcher.write().remove_worker(id);
        Ok(old)
    }

    /// Writes an opening and indexes it (combined with concurrent writes).
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
        let _guards = self.all_stripes();
        let results = self.store.put_openings(openings)?;
        let mut index = self.matcher.write();
        Ok(results
            .into_iter()
            .map(|r| {
                r.map(|(stored, _)| {
                    index.upsert_opening(&stored, stored.filled);
                })
            })
            .collect())
    }

    /// Closes an opening and updates the index.
    pub(crate) fn close_opening(&self, id: &str) -> Result<Opening, StoreError> {
        let _guard = self.stripe(id);
        let closed = self.store.close_opening(id)?;
        self.matcher.write().upsert_opening(&closed, closed.filled);
        Ok(closed)
    }
}

/// Builds the match index from everything stored, with each opening's
/// filled slots. Blocking: reads the whole store.
pub fn load_matcher(store: &Store, config: MatchConfig) -> Result<Matcher, StoreError> {
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
    Ok(Matcher::build(
        config,
        workers,
        openings.into_iter().map(|o| {
            let filled = o.filled;
            (o, filled)
        }),
    ))
}

impl Backend {
    /// Proposes an opening to a worker and updates the index.
    pub(crate) fn propose(&self, proposal: &Proposal, actor: &str) -> Result<Changed, StoreError> {
        let _guards = self.all_stripes();
        let changed = self.store.propose(proposal, actor)?;
        self.reindex(std::slice::from_ref(&changed));
        Ok(changed)
    }

    /// Proposes many in one transaction and updates the index.
    pub(crate) fn propose_many(&self, proposals: &[Proposal], actor: &str) -> BatchResult<Changed> {
        let _guards = self.all_stripes();
        let results = self.store.propose_many(proposals, actor)?;
        let done: Vec<Changed> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .cloned()
            .collect();
        self.reindex(&done);
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
        let _guards = self.all_stripes();
        let changed = self.store.placement_step(id, action, actor)?;
        self.reindex(std::slice::from_ref(&changed));
        Ok(changed)
    }

    fn reindex(&self, changes: &[Changed]) {
        let mut index = self.matcher.write();
        for c in changes {
            if let Some(w) = &c.worker {
                index.upsert_worker(w);
            }
            if let Some(o) = &c.opening {
                index.upsert_opening(o, o.filled);
            }
        }
    }
}

/// Locks every stripe, always in the same order, so that two holders of
/// several stripes cannot deadlock.
fn all_stripes(stripes: &[Mutex<()>]) -> Vec<MutexGuard<'_, ()>> {
    stripes
        .iter()
        .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

/// The writer thread: takes every queued single-record write, applies them
/// in one transaction per kind, updates the index, answers each.
fn combine(
    store: &Store,
    matcher: &Matcher,
    stripes: &[Mutex<()>],
    queue: &mpsc::Receiver<(Write, Reply)>,
) {
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
        let _guards = all_stripes(stripes);
        if !workers.is_empty() {
            let (items, replies): (Vec<_>, Vec<_>) = workers.into_iter().unzip();
            let results = store.put_workers_each(&items);
            answer(results, replies, |r| {
                matcher.write().upsert_worker(&r.0);
                Written::Worker(r.0, r.1)
            });
        }
        if !openings.is_empty() {
            let (items, replies): (Vec<_>, Vec<_>) = openings.into_iter().unzip();
            let results = store.put_openings_each(&items);
            answer(results, replies, |r| {
                matcher.write().upsert_opening(&r.0, r.0.filled);
                Written::Opening(r.0, r.1)
            });
        }
    }
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
            tracing::error!(error = %e, "combined write failed");
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(StoreError::Flush(message.clone())));
            }
        }
    }
}
