//! What-if: a caller's changes checked as the write path would check
//! them, turned into index operations, and handed to the batch
//! (`batch::whatif`), which answers with what the nightly optimum would do
//! differently. Nothing is written.
//!
//! Scope: a service company may change only what it could change for
//! real (openings of its counties, workers of its counties, a worker of
//! another county not found as if it did not exist), and reads the answer
//! over its own counties' workers and households only.

use std::collections::HashMap;
use std::sync::Arc;

use super::workers::not_found_for;
use super::{scope, Result, Service, ServiceError};
use crate::batch::whatif::WhatIfAnswer;
use crate::domain::access::{Caller, Role};
use crate::domain::placement::{keep_opening_slots, keep_worker_link, may_delete_worker};
use crate::domain::{Opening, OpeningStatus, ValidationError, Worker};
use crate::matching::assign::Control;
use crate::matching::IndexOp;
use crate::store::StoreError;

/// Changes one request may make.
pub const MAX_CHANGES: usize = 1000;
/// Moves one answer may list.
pub const MAX_LIMIT: usize = 10_000;

/// Cancels its control when dropped: the what-if's future owns it.
struct StopOnDrop(Arc<Control>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// One change of a what-if.
#[derive(Debug, Clone)]
pub enum WhatIfChange {
    /// An opening added, or replacing the one of its id (validated as
    /// `CreateOpening` validates it).
    AddOpening(Opening),
    /// A stored (or earlier added) opening with another headcount.
    ResizeOpening {
        /// The opening.
        opening_id: String,
        /// Its new headcount.
        headcount: u32,
    },
    /// An opening closed.
    CloseOpening(String),
    /// A worker added, or replacing the one of its id (validated as
    /// `CreateWorker` validates it).
    AddWorker(Worker),
    /// A worker removed.
    RemoveWorker(String),
}

impl WhatIfChange {
    /// The request field of change `i` (`changes[2].resize_opening`).
    fn field(&self, i: usize) -> String {
        let name = match self {
            WhatIfChange::AddOpening(_) => "add_opening",
            WhatIfChange::ResizeOpening { .. } => "resize_opening",
            WhatIfChange::CloseOpening(_) => "close_opening_id",
            WhatIfChange::AddWorker(_) => "add_worker",
            WhatIfChange::RemoveWorker(_) => "remove_worker_id",
        };
        format!("changes[{i}].{name}")
    }
}

/// A refusal of the write path, naming the change's field.
fn refused(field: &str, e: impl Into<StoreError>) -> ServiceError {
    match ServiceError::from(e.into()) {
        ServiceError::Precondition(m) => ServiceError::Precondition(format!("{field}: {m}")),
        other => other,
    }
}

/// The records the changes made so far, over the store's: `None` for
/// removed. Later changes see earlier ones, as later writes would.
#[derive(Default)]
struct Overlay {
    openings: HashMap<String, Option<Opening>>,
    workers: HashMap<String, Option<Worker>>,
}

impl Service {
    /// What the nightly optimum would do differently after `changes`,
    /// over the workers `caller` sees, listing at most `limit` moves.
    /// Each change is checked as the write it stands for would be (scope
    /// included) and refused the same way, naming its field; nothing is
    /// stored or proposed, and the live index is not touched.
    pub async fn what_if(
        self: &Arc<Self>,
        caller: &Caller,
        changes: Vec<WhatIfChange>,
        limit: usize,
    ) -> Result<WhatIfAnswer> {
        if changes.is_empty() || changes.len() > MAX_CHANGES {
            return Err(ServiceError::invalid(
                "changes",
                crate::domain::Reason::new(
                    format!("需要 1 至 {MAX_CHANGES} 项变更"),
                    format!("1 to {MAX_CHANGES} changes are needed"),
                ),
            ));
        }
        // One at a time: each holds a copy of the index and two problems.
        // The turn goes with the work, not with this future: a caller who
        // goes away does not let a second what-if start beside one still
        // running, and no guard is held across an await.
        let turn = self
            .what_if_turn
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::Unavailable("the server is stopping".into()))?;
        let caller = caller.clone();
        // A caller who goes away (cancels, passes its deadline, drops the
        // connection) drops this future, and the guard stops the work: at
        // scale 80 it would hold the turn and 14 GiB for a minute and a half
        // for nobody.
        let control = Arc::new(Control::default());
        let _stop = StopOnDrop(control.clone());
        self.blocking(move |s| {
            let _turn = turn;
            let ops = s.what_if_ops(&caller, changes)?;
            let comparison = s.batch.what_if(&ops, &control).inspect_err(|_| {
                if control.cancelled() {
                    metrics::counter!(crate::telemetry::WHAT_IFS_ABANDONED).increment(1);
                    tracing::info!("what-if given up: its caller went away");
                }
            })?;
            let county = |c: &str| caller.role == Role::Admin || caller.covers_county(c);
            Ok(comparison.answer(county, limit.min(MAX_LIMIT)))
        })
        .await
    }

    /// The index operations the changes stand for, each checked. Blocking.
    fn what_if_ops(&self, caller: &Caller, changes: Vec<WhatIfChange>) -> Result<Vec<IndexOp>> {
        let mut overlay = Overlay::default();
        let mut ops = Vec::with_capacity(changes.len());
        for (i, change) in changes.into_iter().enumerate() {
            let field = change.field(i);
            let op = match change {
                WhatIfChange::AddOpening(o) => self.what_if_opening(caller, o, &field, &overlay)?,
                WhatIfChange::ResizeOpening {
                    opening_id,
                    headcount,
                } => {
                    let at = format!("{field}.opening_id");
                    let stored = self.what_if_stored_opening(caller, &opening_id, &at, &overlay)?;
                    let mut o = stored.clone();
                    o.headcount = headcount;
                    o.validate().map_err(|e| {
                        ServiceError::Invalid(ValidationError::new(
                            format!("{field}.headcount"),
                            e.reason,
                        ))
                    })?;
                    keep_opening_slots(&mut o, Some(&stored)).map_err(|e| refused(&field, e))?;
                    IndexOp::PutOpening(o)
                }
                WhatIfChange::CloseOpening(id) => {
                    let mut o = self.what_if_stored_opening(caller, &id, &field, &overlay)?;
                    o.status = OpeningStatus::Closed;
                    IndexOp::PutOpening(o)
                }
                WhatIfChange::AddWorker(w) => self.what_if_worker(caller, w, &field, &overlay)?,
                WhatIfChange::RemoveWorker(id) => {
                    let w = match overlay.workers.get(&id) {
                        Some(Some(w)) => w.clone(),
                        Some(None) => return Err(not_found_for(caller, "worker", &id)),
                        None => self.find_worker_now(caller, &id)?,
                    };
                    may_delete_worker(&w).map_err(|e| refused(&field, e))?;
                    IndexOp::RemoveWorker(w.id)
                }
            };
            match &op {
                IndexOp::PutOpening(o) => {
                    overlay.openings.insert(o.id.clone(), Some(o.clone()));
                }
                IndexOp::PutWorker(w) => {
                    overlay.workers.insert(w.id.clone(), Some(w.clone()));
                }
                IndexOp::RemoveWorker(id) => {
                    overlay.workers.insert(id.clone(), None);
                }
                _ => {}
            }
            ops.push(op);
        }
        Ok(ops)
    }

    /// The opening `id` as the changes so far leave it, if the caller may
    /// change it: not found otherwise (naming `field`).
    fn what_if_stored_opening(
        &self,
        caller: &Caller,
        id: &str,
        field: &str,
        overlay: &Overlay,
    ) -> Result<Opening> {
        let stored = match overlay.openings.get(id) {
            Some(o) => o.clone(),
            None => self.store().opening(id)?,
        };
        let o = stored
            .ok_or_else(|| ServiceError::NotFound(format!("{field}: opening {id:?} not found")))?;
        scope::opening_write(caller, &o).map_err(ServiceError::Forbidden)?;
        Ok(o)
    }

    /// An added opening, checked as `put_opening` checks it.
    fn what_if_opening(
        &self,
        caller: &Caller,
        mut o: Opening,
        field: &str,
        overlay: &Overlay,
    ) -> Result<IndexOp> {
        scope::opening_write(caller, &o).map_err(ServiceError::Forbidden)?;
        let stored = match overlay.openings.get(&o.id) {
            Some(s) => s.clone(),
            None => self.store().opening(&o.id)?,
        };
        if let Some(s) = &stored {
            scope::opening_write(caller, s).map_err(ServiceError::Forbidden)?;
        }
        keep_opening_slots(&mut o, stored.as_ref()).map_err(|e| refused(field, e))?;
        Ok(IndexOp::PutOpening(o))
    }

    /// An added worker, checked as `put_worker` checks an upsert (a move
    /// to another county or household is allowed: that is a what-if).
    fn what_if_worker(
        &self,
        caller: &Caller,
        mut w: Worker,
        field: &str,
        overlay: &Overlay,
    ) -> Result<IndexOp> {
        w.scope_ids();
        self.hash_national_id(&mut w);
        super::workers::check_worker_write(caller, &w, field)?;
        let stored = match overlay.workers.get(&w.id) {
            Some(s) => s.clone(),
            None => self.store().worker(&w.id)?,
        };
        self.classify(caller, &w, stored.as_ref(), true)?;
        if let Some(other) = self.store().worker_with_national_id(&w.national_id)? {
            if other != w.id && overlay.workers.get(&other).is_none_or(Option::is_some) {
                return Err(ServiceError::AlreadyExists(format!(
                    "{field}.national_id: value already registered to another worker"
                )));
            }
        }
        keep_worker_link(&mut w, stored.as_ref()).map_err(|e| refused(field, e))?;
        Ok(IndexOp::PutWorker(w))
    }
}
