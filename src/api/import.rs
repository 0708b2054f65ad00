//! Client-streaming bulk import, shared by workers and openings.
//!
//! Rows are validated as they arrive and written in batches of
//! [`BATCH_ROWS`], one store transaction per batch; the next batch is read
//! and validated while the previous one is written. The reply is sent after
//! one durable flush covers every stored row.

use std::sync::Arc;

use tokio::task::JoinHandle;
use tonic::{Status, Streaming};

use super::{pb, status};
use crate::domain::access::Caller;
use crate::domain::Validated;
use crate::service::{ImportOptions, RowChange, Service, ServiceError, IMPORT_BATCH_ROWS};

/// Rows per store transaction (see [`IMPORT_BATCH_ROWS`]).
const BATCH_ROWS: usize = IMPORT_BATCH_ROWS;
/// Rejected rows listed in the reply; later ones are only counted, so that
/// the reply stays far below clients' default 4 MiB receive limit.
pub(crate) const MAX_LISTED_ERRORS: usize = 10_000;

/// What an import did.
#[derive(Default)]
pub(crate) struct Outcome {
    pub accepted: u64,
    pub rejected: u64,
    pub errors: Vec<pb::RowError>,
    pub errors_omitted: u64,
    /// Rows refused on stored state ([`ServiceError::rests_on_state`]).
    pub rejected_on_state: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// What the first [`MAX_LISTED_ERRORS`] accepted rows did, in row
    /// order (batches are settled in order).
    pub changes: Vec<pb::RowChange>,
    pub changes_omitted: u64,
    /// The import only checked: nothing was stored.
    pub checked_only: bool,
}

impl Outcome {
    fn accept(&mut self, row: u64, change: RowChange, id: String) {
        self.accepted += 1;
        match &change {
            RowChange::Created => self.created += 1,
            RowChange::Updated(_) => self.updated += 1,
            RowChange::Unchanged => self.unchanged += 1,
        }
        if self.changes.len() < MAX_LISTED_ERRORS {
            self.changes
                .push(super::convert::row_change_to_pb(row, id, change));
        } else {
            self.changes_omitted += 1;
        }
    }

    fn reject(&mut self, row: u64, id: String, field: String, reason: String) {
        self.rejected += 1;
        self.errors.push(pb::RowError {
            row,
            id,
            field,
            reason,
        });
        // Store refusals arrive a batch late, so errors are not in row order
        // here: keep the lowest rows, bounded, and order them at the end.
        if self.errors.len() >= 2 * MAX_LISTED_ERRORS {
            self.keep_first_rows();
        }
    }

    fn keep_first_rows(&mut self) {
        self.errors.sort_unstable_by_key(|e| e.row);
        if self.errors.len() > MAX_LISTED_ERRORS {
            self.errors_omitted += (self.errors.len() - MAX_LISTED_ERRORS) as u64;
            self.errors.truncate(MAX_LISTED_ERRORS);
        }
    }
}

/// How one kind of record is imported.
pub(crate) trait Importer: Send + Sync + 'static {
    /// The wire message of one row.
    type Row: Send + 'static;
    /// The domain record.
    type Record: Send + Sync + 'static;
    /// The import's options, as the first row gives them.
    fn options(row: &Self::Row) -> ImportOptions;
    /// The row's id as sent, and the validated record (also refused when
    /// `caller`'s scope does not cover it).
    fn parse(row: Self::Row, caller: &Caller) -> (String, Validated<Self::Record>);
    /// The record's whole id as stored.
    fn stored_id(record: &Self::Record) -> String;
    /// Upserts a batch (or, checking only, looks at it); each record
    /// succeeds or fails on its own (also when the record it would replace
    /// is outside `caller`'s scope) and says what it changes.
    #[allow(clippy::type_complexity)]
    fn put(
        service: &Service,
        batch: Vec<Self::Record>,
        caller: &Caller,
        options: ImportOptions,
    ) -> Result<Vec<Result<RowChange, ServiceError>>, ServiceError>;
}

/// Rows of a batch: their number, their id as sent and as stored.
type BatchRows = Vec<(u64, String, String)>;

type Pending = JoinHandle<(
    BatchRows,
    Result<Vec<Result<RowChange, ServiceError>>, ServiceError>,
)>;

/// Reads the whole stream, storing good rows and reporting bad ones.
pub(crate) async fn run<I: Importer>(
    service: Arc<Service>,
    mut rows: Streaming<I::Row>,
    caller: Caller,
) -> Result<Outcome, Status> {
    let caller = Arc::new(caller);
    let lang = super::lang::current();
    let mut outcome = Outcome::default();
    let mut row_no = 0u64;
    let mut batch: Vec<I::Record> = Vec::with_capacity(BATCH_ROWS);
    let mut batch_rows: BatchRows = Vec::with_capacity(BATCH_ROWS);
    let mut pending: Option<Pending> = None;
    let mut options = None;
    loop {
        let message = rows.message().await.map_err(status::oversize)?;
        let done = message.is_none();
        if let Some(row) = message {
            row_no += 1;
            let options = *options.get_or_insert_with(|| I::options(&row));
            outcome.checked_only = options.check_only;
            let (id, parsed) = I::parse(row, &caller);
            match parsed {
                Ok(record) => {
                    batch_rows.push((row_no, id, I::stored_id(&record)));
                    batch.push(record);
                }
                Err(e) => outcome.reject(row_no, id, e.field, e.reason.text(lang).to_string()),
            }
        }
        if batch.len() == BATCH_ROWS || (done && !batch.is_empty()) {
            if let Some(previous) = pending.take() {
                settle(previous, &mut outcome).await?;
            }
            let records = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            let ids = std::mem::replace(&mut batch_rows, Vec::with_capacity(BATCH_ROWS));
            let service = service.clone();
            let caller = caller.clone();
            let options = options.unwrap_or_default();
            pending = Some(tokio::task::spawn_blocking(move || {
                let result = I::put(&service, records, &caller, options);
                (ids, result)
            }));
        }
        if done {
            break;
        }
    }
    if let Some(previous) = pending.take() {
        settle(previous, &mut outcome).await?;
    }
    // Accepted rows wait for their flush, and so do rows refused on (or
    // found unchanged against) stored state (a national id already
    // registered): that state may be another call's write not yet flushed,
    // which a crash would undo.
    if outcome.accepted > 0 || outcome.rejected_on_state > 0 {
        service.commit().await.map_err(status::from_service)?;
    }
    outcome.keep_first_rows();
    Ok(outcome)
}

async fn settle(pending: Pending, outcome: &mut Outcome) -> Result<(), Status> {
    let (ids, result) = pending.await.map_err(|e| {
        tracing::error!(error = %e, "import batch task failed");
        Status::internal("internal error")
    })?;
    let results = result.map_err(status::from_service)?;
    for ((row, id, stored_id), result) in ids.into_iter().zip(results) {
        match result {
            Ok(change) => outcome.accept(row, change, stored_id),
            Err(e) => {
                if e.rests_on_state() {
                    outcome.rejected_on_state += 1;
                }
                let (field, reason) = match &e {
                    ServiceError::Duplicate { field, kind } => (
                        (*field).to_string(),
                        crate::service::ServiceError::duplicate_reason(
                            kind,
                            super::lang::current(),
                        ),
                    ),
                    // Refused on what is stored (a whole id of another
                    // county, a move without allow_move): named like a
                    // row refused when parsed.
                    ServiceError::Invalid(v) => (
                        v.field.clone(),
                        v.reason.text(super::lang::current()).to_string(),
                    ),
                    _ => (String::new(), status::from_service(e).message().to_string()),
                };
                outcome.reject(row, id, field, reason);
            }
        }
    }
    Ok(())
}
