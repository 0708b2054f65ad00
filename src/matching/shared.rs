//! The match index shared between readers and writers, built so that a
//! reader can never wait for a writer.
//!
//! # Why not a lock
//!
//! Ranking runs on rayon. A rayon thread that waits for its own parallel
//! work steals queued jobs, and one of those may be another query. With an
//! `RwLock`, the stolen query asks for a read guard while the first still
//! holds one; std's `RwLock` makes it queue behind any waiting writer, the
//! writer waits for the first guard, and nothing moves again. The server
//! deadlocked this way within seconds of mixed load. Any lock held across
//! rayon work has this hole, so readers here hold no lock at all.
//!
//! # The design: two copies, published atomically
//!
//! There are two copies of the index. One is *published* in an [`ArcSwap`]:
//! a reader takes an `Arc` of it ([`Matcher::read`]), lock-free and without
//! waiting, and ranks on that immutable snapshot for as long as it likes,
//! on as many rayon threads as it likes. The other copy is the writer's
//! *spare*. A write ([`Matcher::update`]):
//!
//! 1. takes the writer mutex (only writers ever take it);
//! 2. waits until the last reader of the spare has dropped its `Arc`
//!    (readers of the previous version finish their query and go; new
//!    readers only ever see the published copy). If that takes longer than
//!    [`SPARE_WAIT`] (the nightly batch holds a snapshot for its whole
//!    scoring phase), it stops waiting and makes a fresh spare by cloning
//!    the published copy, so a write is never held up by a long reader;
//! 3. brings the spare up to date with the operations the published copy
//!    has and it lacks, applies the new operations, and publishes it with
//!    one atomic swap; the old copy becomes the spare, owing exactly the
//!    new operations.
//!
//! Readers wait for nothing; writers wait only for readers to finish (or
//! not at all, after the fallback). No cycle of waits can form, whatever
//! rayon steals. The price is a second copy of the index in memory and
//! each operation applied twice, both cheap next to ranking.
//!
//! Writes must not be made from inside rayon work: a writer on a rayon
//! thread that holds a snapshot further up its stack would wait for itself
//! (the fallback bounds that wait, but it is a bug). [`Matcher::update`]
//! asserts this in debug builds.
//!
//! # Order of writes
//!
//! The closure given to [`Matcher::update`] runs under the writer mutex and
//! produces the operations. The service layer reads the changed records
//! back from the store inside it, so the index always ends with what the
//! store holds last, whatever order concurrent writers reach the mutex in:
//! no lock is needed around the store write itself.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::config::MatchConfig;
use super::index::MatchIndex;
use crate::domain::policy::WelfareStint;
use crate::domain::{Opening, Worker};

/// Longest a write waits for the readers of the spare copy before it
/// clones a fresh one. Queries take milliseconds; only a long holder (the
/// batch) reaches this.
pub const SPARE_WAIT: Duration = Duration::from_millis(200);

/// One change to the index.
#[derive(Debug, Clone)]
pub enum IndexOp {
    /// Adds or replaces a worker (as stored).
    PutWorker(Worker),
    /// Removes a worker; unknown ids are ignored.
    RemoveWorker(String),
    /// Adds or replaces an opening (as stored, with its `filled`).
    PutOpening(Opening),
    /// Removes an opening; unknown ids are ignored.
    RemoveOpening(String),
    /// The worker declined the opening: the pair is never offered again.
    Declined {
        /// The worker.
        worker_id: String,
        /// The opening.
        opening_id: String,
    },
    /// The prices of the last exact run replace the book
    /// (`matching::contest`).
    Prices {
        /// The run.
        run_id: u64,
        /// Its contested openings' prices.
        prices: Vec<crate::domain::run::OpeningPrice>,
    },
    /// The worker's public-welfare stints as stored now (for the tenure
    /// rule of `[policy]`).
    WelfareStints {
        /// The worker.
        worker_id: String,
        /// Every hire of the worker on a public-welfare post.
        stints: Vec<WelfareStint>,
    },
}

impl IndexOp {
    /// Applies the operation to `index` (the matcher's copies, or a
    /// what-if's private copy).
    pub fn apply(&self, index: &mut MatchIndex) {
        if !matches!(self, IndexOp::Prices { .. }) {
            index.revision += 1;
        }
        match self {
            IndexOp::PutWorker(w) => index.upsert_worker(w),
            IndexOp::RemoveWorker(id) => index.remove_worker(id),
            IndexOp::PutOpening(o) => index.upsert_opening(o, o.filled),
            IndexOp::RemoveOpening(id) => index.remove_opening(id),
            IndexOp::Declined {
                worker_id,
                opening_id,
            } => index.add_decline(worker_id, opening_id),
            IndexOp::Prices { run_id, prices } => {
                index.prices = super::contest::PriceBook::new(*run_id, prices).into();
            }
            IndexOp::WelfareStints { worker_id, stints } => {
                index.set_welfare_stints(worker_id, stints)
            }
        }
    }
}

/// The writer's side: the spare copy and what it still owes.
struct Writer {
    spare: Arc<MatchIndex>,
    /// Operations in the published copy that the spare lacks.
    owed: Vec<IndexOp>,
    /// Times a write gave up waiting and cloned (for tests and logs).
    clones: u64,
}

/// A match index shared between request handlers, the batch and writers.
/// See the module documentation for why readers never wait.
pub struct Matcher {
    published: ArcSwap<MatchIndex>,
    writer: Mutex<Writer>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let index = self.read();
        f.debug_struct("Matcher")
            .field("workers", &index.worker_count())
            .field("openings", &index.opening_count())
            .finish()
    }
}

impl Matcher {
    /// Builds the index from every stored worker and opening (with its
    /// filled-slot count).
    pub fn build(
        config: MatchConfig,
        workers: impl IntoIterator<Item = Worker>,
        openings: impl IntoIterator<Item = (Opening, u32)>,
    ) -> Self {
        let mut index = MatchIndex::new(config);
        for w in workers {
            index.upsert_worker(&w);
        }
        for (o, filled) in openings {
            index.upsert_opening(&o, filled);
        }
        Self::from_index(index)
    }

    /// Shares `index`: publishes it and keeps a copy as the spare.
    pub fn from_index(index: MatchIndex) -> Self {
        let spare = Arc::new(index.clone());
        Self {
            published: ArcSwap::from_pointee(index),
            writer: Mutex::new(Writer {
                spare,
                owed: Vec::new(),
                clones: 0,
            }),
        }
    }

    /// The current index, as an immutable snapshot. Never waits. Every
    /// write acknowledged before this call is in it. Hold it for one query:
    /// while it is held, the next write may have to copy the index.
    pub fn read(&self) -> Arc<MatchIndex> {
        self.published.load_full()
    }

    /// Applies the operations `ops` returns and publishes them; readers
    /// that start after this returns see them. `ops` runs under the writer
    /// mutex, so reading the changed records from the store inside it
    /// orders index updates as the store ordered the writes.
    ///
    /// Blocking (waits for readers of the spare copy, at most about
    /// [`SPARE_WAIT`]); never call it from a rayon thread.
    pub fn update<E>(&self, ops: impl FnOnce() -> Result<Vec<IndexOp>, E>) -> Result<(), E> {
        debug_assert!(
            rayon::current_thread_index().is_none(),
            "index writes must not run on a rayon thread"
        );
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let new = ops()?;
        if new.is_empty() {
            return Ok(());
        }
        self.wait_for_spare(&mut writer);
        let owed = std::mem::take(&mut writer.owed);
        let spare = Arc::get_mut(&mut writer.spare).expect("no reader holds the spare");
        for op in &owed {
            op.apply(spare);
        }
        for op in &new {
            op.apply(spare);
        }
        let spare = std::mem::replace(&mut writer.spare, Arc::new(MatchIndex::default()));
        writer.spare = self.published.swap(spare);
        writer.owed = new;
        Ok(())
    }

    /// Exclusive access to the spare: waits for its last readers, or after
    /// [`SPARE_WAIT`] replaces it with a clone of the published copy.
    fn wait_for_spare(&self, writer: &mut Writer) {
        let started = Instant::now();
        let mut spins = 0u32;
        while Arc::get_mut(&mut writer.spare).is_none() {
            if started.elapsed() >= SPARE_WAIT {
                // The published copy has everything: the clone owes nothing.
                writer.spare = Arc::new(MatchIndex::clone(&self.published.load()));
                writer.owed.clear();
                writer.clones += 1;
                tracing::debug!(
                    clones = writer.clones,
                    "a reader held the spare index copy; cloned a fresh one"
                );
                break;
            }
            spins += 1;
            if spins < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }

    /// How many writes had to clone the index because a reader held the
    /// spare copy too long.
    pub fn spare_clones(&self) -> u64 {
        self.writer.lock().unwrap_or_else(|e| e.into_inner()).clones
    }
}

#[cfg(test)]
mod tests;
