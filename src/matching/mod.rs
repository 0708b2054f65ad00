//! Matching: eligibility rules, explainable scores, and ranking in both
//! directions over an in-memory index, in parallel on rayon.
//!
//! Pure and synchronous: no tonic, no sled. The index is built from domain
//! records handed in by the caller and kept current by the caller after
//! every successful write. It is shared as immutable snapshots published
//! atomically ([`Matcher`], see `shared.rs`), so ranking on rayon never
//! holds a lock.

pub mod assign;
mod batch_input;
mod caseload;
mod census;
mod config;
mod contest;
mod eligibility;
mod features;
mod grid;
mod index;
mod pruned;
mod rank;
mod reference;
mod row_cache;
mod score;
mod shared;
mod slots;
mod warm;

pub use batch_input::{BatchInput, InputRequest, Pending};
pub use caseload::{order_key as case_order, Case, CaseFilter};
pub use census::{Census, OpeningSums};
pub use config::MatchConfig;
pub use contest::Contest;
pub use eligibility::{MatchContext, Reason};
pub use features::region_number;
pub use grid::cell_key;
pub use index::{MatchIndex, PairExplanation};
pub use rank::{OpeningsQuery, Ranked, Ranking, WorkersQuery};
pub use row_cache::{CandidateCache, Reuse};
pub use score::ComponentExplanation;
pub use shared::{IndexOp, Matcher, SPARE_WAIT};
pub use warm::LastOptimum;

#[cfg(test)]
mod pruned_tests;
#[cfg(test)]
mod row_cache_tests;
#[cfg(test)]
mod tests;

/// Runs CPU-heavy work (ranking) on the rayon pool; the receiver gets the
/// result, or is dropped if `f` panicked. Await it from async code
/// instead of blocking a tokio worker.
pub fn spawn<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> tokio::sync::oneshot::Receiver<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}
