//! The application layer: everything jobbridge does, once, for every
//! transport. The gRPC handlers, the CLI, the nightly schedule and the
//! tests all call it.
//!
//! ```text
//! api (gRPC), console, cli  ->  service  ->  store, matching, batch  ->  domain
//! ```
//!
//! A [`Service`] owns the store, the match index and the write path that
//! keeps them in step ([`write`]), the batch, the access rules both faces
//! admit callers by ([`access`]), and the scope checks ([`scope`]): who
//! may read or change which record is decided here, next to the reads it
//! needs, never in a handler. Its operations take domain
//! values and a [`Caller`](crate::domain::access::Caller) and answer domain
//! values or a [`ServiceError`]; conversion from and to the wire stays in
//! `api/`.
//!
//! Operations that touch sled run on tokio's blocking pool, ranking runs
//! on rayon, and a write answers only after the group commit made it
//! durable, so the callers' async tasks never block.

pub mod access;
mod apply;
mod backup;
mod caseload;
pub mod dashboard;
mod error;
mod hires;
mod import;
mod matching;
mod openings;
mod placements;
mod reports;
mod rows;
mod runs;
pub mod scope;
mod tokens;
mod whatif;
mod workers;
mod write;

use std::future::Future;
use std::sync::Arc;

pub use apply::{Applied, RefusedAssignment};
pub use caseload::{Caseload, CaseloadQuery};
pub use dashboard::Dashboard;
pub use error::ServiceError;
pub use import::{Import, Imported, Put};
pub use matching::{OpeningMatch, WorkerMatch};
pub use placements::DueCall;
pub use rows::{ImportOptions, RowChange, IMPORT_BATCH_ROWS};
pub use runs::RunRows;
pub use whatif::{WhatIfChange, MAX_CHANGES, MAX_LIMIT};
pub use write::load_matcher;

use crate::batch::{Batch, BatchSettings};
use crate::config::RateLimit;
use crate::domain::policy::PolicyConfig;
use crate::domain::IdKey;
use crate::matching::{MatchConfig, Matcher};
use crate::store::Store;
use access::RateLimits;
use write::Writer;

/// How the store reads one record by id (`Store::worker`, ...).
type StoreRead<T> = fn(&Store, &str) -> std::result::Result<Option<T>, crate::store::StoreError>;

/// What a service call returns.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The application: store, match index, write path, batch and access
/// rules.
pub struct Service {
    writer: Writer,
    batch: Batch,
    policy: PolicyConfig,
    /// Each token's calls per second ([`access`]).
    rate_limits: RateLimits,
    /// Held while a staged run is applied: one at a time.
    apply_lock: std::sync::Mutex<()>,
    /// One permit: taken by a what-if's blocking work for as long as it
    /// computes (each holds a copy of the index and two problems).
    what_if_turn: Arc<tokio::sync::Semaphore>,
}

impl Service {
    /// Binds `id_key` to the store (refused if the store was written with
    /// another key), builds the match index from everything stored, marks
    /// runs a stop interrupted as failed and finishes the proposals of runs
    /// that were past their point of no return. Blocking: reads the whole
    /// store.
    pub fn open(
        store: Arc<Store>,
        id_key: IdKey,
        matching: MatchConfig,
        batch: BatchSettings,
    ) -> Result<Arc<Self>> {
        Self::open_with_policy(
            store,
            id_key,
            matching,
            batch,
            PolicyConfig::default(),
            None,
        )
    }

    /// As [`Service::open`], with the `[policy]` rules (eligibility rules
    /// of the match index: ranking, the batch, `Propose`, `ExplainMatch`;
    /// and the rules the policy lists apply) and each token's `rate_limit`
    /// ([`Service::admit`]; `None`: no limit).
    pub fn open_with_policy(
        store: Arc<Store>,
        id_key: IdKey,
        matching: MatchConfig,
        batch: BatchSettings,
        policy: PolicyConfig,
        rate_limit: Option<RateLimit>,
    ) -> Result<Arc<Self>> {
        let writer = Writer::open(store.clone(), id_key, matching, policy.clone())?;
        let batch = Batch::new(store, writer.matcher().clone(), batch)?;
        let service = Arc::new(Self {
            writer,
            batch,
            policy,
            rate_limits: RateLimits::new(rate_limit),
            apply_lock: std::sync::Mutex::new(()),
            what_if_turn: Arc::new(tokio::sync::Semaphore::new(1)),
        });
        service.finish_interrupted_runs()?;
        Ok(service)
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        self.writer.store()
    }

    /// The match index.
    pub fn matcher(&self) -> &Arc<Matcher> {
        self.writer.matcher()
    }

    /// A key derived from the server's national id key under `label`
    /// ([`IdKey::derive`]), for signing what the server hands out.
    pub fn derived_key(&self, label: &[u8]) -> [u8; 32] {
        self.writer.id_key().derive(label)
    }

    /// The batch settings.
    pub fn batch_settings(&self) -> &BatchSettings {
        self.batch.settings()
    }

    /// The policy rules.
    pub fn policy(&self) -> &PolicyConfig {
        &self.policy
    }

    /// The run in progress, if any.
    pub fn active_run(&self) -> Option<u64> {
        self.batch.active_run()
    }

    /// Runs `f` on tokio's blocking pool (sled calls block).
    async fn blocking<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        F: FnOnce(&Service) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let me = self.clone();
        match tokio::task::spawn_blocking(move || f(&me)).await {
            Ok(result) => result,
            Err(e) => Err(ServiceError::Internal(format!("service task failed: {e}"))),
        }
    }

    /// Checks the record stored under `id`, as `read` reads it on the
    /// blocking pool, with `check`; a missing record is left to the
    /// operation (which names it).
    async fn check_stored<T: Send + 'static>(
        self: &Arc<Self>,
        id: &str,
        read: StoreRead<T>,
        check: impl FnOnce(T) -> Result<()>,
    ) -> Result<()> {
        let owned = id.to_string();
        match self.blocking(move |s| Ok(read(s.store(), &owned)?)).await? {
            Some(record) => check(record),
            None => Ok(()),
        }
    }

    /// Waits until every write made before the call is on disk (group
    /// commit).
    async fn sync(&self) -> Result<()> {
        Ok(self.store().sync().await?)
    }

    /// Tells the outcome of a write only once it cannot be undone by a
    /// crash. An OK waits for its own flush. A refusal that read stored
    /// state waits too: the state it read (10 of 10 slots taken) may come
    /// from another call's write not flushed yet, and a crash would undo
    /// it (7 taken after the restart) while the client acted on the
    /// refusal. If that flush fails, the client is told the refusal is not
    /// durable (UNAVAILABLE: retry) rather than told the refusal.
    async fn settle<T>(&self, result: Result<T>) -> Result<T> {
        match result {
            Ok(value) => {
                self.sync().await?;
                Ok(value)
            }
            Err(e) if e.rests_on_state() => match self.sync().await {
                Ok(()) => Err(e),
                Err(_) => Err(ServiceError::Unavailable(
                    "refused on state that is not yet durable (a flush failed); retry".into(),
                )),
            },
            Err(e) => Err(e),
        }
    }

    /// Runs `work` and settles its outcome ([`Service::settle`]).
    async fn settled<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let result = work.await;
        self.settle(result).await
    }
}

#[cfg(test)]
mod apply_tests;
#[cfg(test)]
mod dashboard_tests;
#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod scoped_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod whatif_tests;
