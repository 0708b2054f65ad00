//! Matching: eligibility rules, explainable scores, and ranking in both
//! directions over an in-memory index, in parallel on rayon.
//!
//! Pure and synchronous: no tonic, no sled. The index is built from domain
//! records handed in by the caller and kept current by the caller after
//! every successful write.

pub mod assign;
mod batch_input;
mod config;
mod eligibility;
mod features;
mod grid;
mod index;
mod rank;
mod reference;
mod score;
mod slots;

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use batch_input::{BatchInput, Pending};
pub use config::MatchConfig;
pub use eligibility::{MatchContext, Reason};
pub use features::region_number;
pub use grid::cell_key;
pub use index::{MatchIndex, PairExplanation};
pub use rank::{OpeningsQuery, Ranked, WorkersQuery};
pub use score::ComponentExplanation;

use crate::domain::{Opening, Worker};

/// A match index shared between request handlers: many readers rank at
/// once; a writer applies one record change at a time.
#[derive(Debug)]
pub struct Matcher {
    index: RwLock<MatchIndex>,
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
        Self {
            index: RwLock::new(index),
        }
    }

    /// Read access for ranking and explanations.
    pub fn read(&self) -> RwLockReadGuard<'_, MatchIndex> {
        // A panic while holding the lock cannot leave the index half
        // changed (updates do not panic between steps), so poisoning is
        // ignored rather than taking the service down.
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access for applying a stored change.
    pub fn write(&self) -> RwLockWriteGuard<'_, MatchIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
