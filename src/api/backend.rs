//! What every handler works on: the store and the match index, kept in step.
//!
//! A write goes to the store first and then to the index, under a lock
//! stripe chosen by the record's id, so that two writes of the same record
//! reach the index in the order the store applied them. Reads of the index
//! never wait for the store.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::domain::{Opening, Worker};
use crate::matching::{MatchConfig, Matcher};
use crate::store::{PutMode, Store, StoreError};

/// Lock stripes: enough that unrelated writes rarely share one.
const STRIPES: usize = 64;

/// The store and the match index, shared by all services.
pub struct Backend {
    store: Arc<Store>,
    matcher: Arc<Matcher>,
    stripes: Vec<Mutex<()>>,
}

/// Result of a batch put: one outcome per record.
pub(crate) type BatchResult<T> = Result<Vec<Result<T, StoreError>>, StoreError>;

impl Backend {
    /// Builds the match index from everything stored. Blocking: reads the
    /// whole store.
    pub fn open(store: Arc<Store>, config: MatchConfig) -> Result<Self, StoreError> {
        let workers = store.workers().collect::<Result<Vec<_>, _>>()?;
        let openings = store.openings().collect::<Result<Vec<_>, _>>()?;
        // Placements are not tracked yet: no slot is taken.
        let matcher = Arc::new(Matcher::build(
            config,
            workers,
            openings.into_iter().map(|o| (o, 0)),
        ));
        Ok(Self {
            store,
            matcher,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
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
        // FNV-1a: cheap and stable; the spread only has to be fair.
        let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        self.stripes[(h % STRIPES as u64) as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn all_stripes(&self) -> Vec<MutexGuard<'_, ()>> {
        // Always in the same order, so two batches cannot deadlock.
        self.stripes
            .iter()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }

    /// Writes a worker and indexes it.
    pub(crate) fn put_worker(
        &self,
        worker: Worker,
        mode: PutMode,
    ) -> Result<(Worker, bool), StoreError> {
        let _guard = self.stripe(&worker.id);
        let stored = self.store.put_worker(worker, mode)?;
        self.matcher.write().upsert_worker(&stored.0);
        Ok(stored)
    }

    /// Writes a batch of workers in one transaction and indexes the stored
    /// ones.
    pub(crate) fn put_workers(&self, workers: &[Worker]) -> BatchResult<()> {
        let _guards = self.all_stripes();
        let results = self.store.put_workers(workers)?;
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

    /// Writes an opening and indexes it.
    pub(crate) fn put_opening(
        &self,
        opening: Opening,
        mode: PutMode,
    ) -> Result<(Opening, bool), StoreError> {
        let _guard = self.stripe(&opening.id);
        let stored = self.store.put_opening(opening, mode)?;
        self.matcher.write().upsert_opening(&stored.0, 0);
        Ok(stored)
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
                    index.upsert_opening(&stored, 0);
                })
            })
            .collect())
    }

    /// Closes an opening and updates the index.
    pub(crate) fn close_opening(&self, id: &str) -> Result<Opening, StoreError> {
        let _guard = self.stripe(id);
        let closed = self.store.close_opening(id)?;
        self.matcher.write().upsert_opening(&closed, 0);
        Ok(closed)
    }
}
