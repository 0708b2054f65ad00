//! Fixtures the store's unit tests share: a store in a temporary
//! directory, and a proposal and a decline made by hand. Tests elsewhere in
//! the crate may use them too.

use super::{Action, Proposal, Store};
use crate::domain::placement::DeclineReason;

/// A store in a new temporary directory. The directory goes when the
/// returned guard drops, so keep it alive as long as the store.
pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A proposal of `worker_id` for `opening_id` made by hand (no run), with
/// a score of one micro-point.
pub(crate) fn proposal(worker_id: &str, opening_id: &str) -> Proposal {
    Proposal {
        worker_id: worker_id.into(),
        opening_id: opening_id.into(),
        run_id: 0,
        score_micro: 1,
        zero_household: None,
    }
}

/// Proposes `worker_id` for `opening_id` and declines it for `code`,
/// giving `reason`; returns the placement's id.
pub(crate) fn propose_and_decline(
    store: &Store,
    worker_id: &str,
    opening_id: &str,
    code: DeclineReason,
    reason: &str,
) -> String {
    let p = store
        .propose(&proposal(worker_id, opening_id), "test")
        .unwrap();
    let decline = Action::Decline {
        code,
        reason: reason.into(),
    };
    store
        .placement_step(&p.placement.id, &decline, "test")
        .unwrap();
    p.placement.id
}
