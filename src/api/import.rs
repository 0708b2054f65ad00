//! Client-streaming bulk import, shared by workers and openings: rows are
//! validated as they arrive and stored through the service's one import
//! pipeline ([`crate::service::Import`]: batches written while the next
//! is read). The reply is sent after one durable flush covers every stored
//! row.

use std::collections::VecDeque;
use std::sync::Arc;

use tonic::{Request, Response, Status, Streaming};

use super::auth::unpack;
use super::{pb, status};
use crate::domain::access::Caller;
use crate::domain::Validated;
use crate::service::{Import, ImportOptions, Imported, RowChange, Service, ServiceError};
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

/// The import replies of workers and openings are one message under two
/// names: the outcome fills either.
macro_rules! reply_from_outcome {
    ($($reply:ty),+) => {$(
        impl From<Outcome> for $reply {
            fn from(o: Outcome) -> Self {
                Self {
                    accepted: o.accepted,
                    rejected: o.rejected,
                    errors: o.errors,
                    errors_omitted: o.errors_omitted,
                    created: o.created,
                    updated: o.updated,
                    unchanged: o.unchanged,
                    changes: o.changes,
                    changes_omitted: o.changes_omitted,
                    checked_only: o.checked_only,
                }
            }
        }
    )+};
}

reply_from_outcome!(pb::ImportWorkersResponse, pb::ImportOpeningsResponse);

/// How one kind of record is read from the wire.
pub(crate) trait Importer: Send + Sync + 'static {
    /// The wire message of one row.
    type Row: Send + 'static;
    /// The domain record.
    type Record: Imported + Send + Sync + 'static;
    /// The reply to the whole import.
    type Reply: From<Outcome>;
    /// What is imported, plural, for the log line.
    const KIND: &'static str;
    /// The import's options, as the first row gives them.
    fn options(row: &Self::Row) -> ImportOptions;
    /// The row's id as sent, and the validated record (also refused when
    /// `caller`'s scope does not cover it).
    fn parse(row: Self::Row, caller: &Caller) -> (String, Validated<Self::Record>);
    /// The record's whole id as stored.
    fn stored_id(record: &Self::Record) -> String;
}

/// Answers an import call: the caller's rows read through `I` to the end,
/// and the outcome logged and replied.
pub(crate) async fn serve<I: Importer>(
    service: &Arc<Service>,
    request: Request<Streaming<I::Row>>,
) -> Result<Response<I::Reply>, Status> {
    let (caller, rows) = unpack(request)?;
    let outcome = run::<I>(service.clone(), rows, caller).await?;
    tracing::info!(
        accepted = outcome.accepted,
        rejected = outcome.rejected,
        "{} imported",
        I::KIND
    );
    Ok(Response::new(outcome.into()))
}

/// Reads the whole stream, storing good rows and reporting bad ones.
async fn run<I: Importer>(
    service: Arc<Service>,
    mut rows: Streaming<I::Row>,
    caller: Caller,
) -> Result<Outcome, Status> {
    let lang = super::lang::current();
    let mut outcome = Outcome::default();
    let mut row_no = 0u64;
    let mut import: Option<Import<I::Record>> = None;
    // The rows given to the import and not answered yet: their number,
    // their id as sent and as stored.
    let mut sent: VecDeque<(u64, String, String)> = VecDeque::new();
    while let Some(row) = rows.message().await.map_err(status::oversize)? {
        row_no += 1;
        let import = import.get_or_insert_with(|| {
            let options = I::options(&row);
            outcome.checked_only = options.check_only;
            Import::new(service.clone(), caller.clone(), options)
        });
        let (id, parsed) = I::parse(row, &caller);
        match parsed {
            Ok(record) => {
                sent.push_back((row_no, id, I::stored_id(&record)));
                let results = import.push(record).await?;
                settle(results, &mut sent, &mut outcome, lang);
            }
            Err(e) => outcome.reject(row_no, id, e.field, e.reason.text(lang).to_string()),
        }
    }
    if let Some(import) = import {
        let results = import.finish().await?;
        settle(results, &mut sent, &mut outcome, lang);
    }
    outcome.keep_first_rows();
    Ok(outcome)
}

/// Counts the answers of the oldest rows `sent`.
fn settle(
    results: Vec<Result<RowChange, ServiceError>>,
    sent: &mut VecDeque<(u64, String, String)>,
    outcome: &mut Outcome,
    lang: crate::domain::Lang,
) {
    for result in results {
        let (row, id, stored_id) = sent.pop_front().expect("one answer per row sent");
        match result {
            Ok(change) => outcome.accept(row, change, stored_id),
            Err(e) => {
                if e.rests_on_state() {
                    outcome.rejected_on_state += 1;
                }
                let (field, reason) = match &e {
                    // Refused on what is stored (a whole id of another
                    // county, a move without allow_move, a national id
                    // registered to another worker): named like a row
                    // refused when parsed.
                    ServiceError::Duplicate { .. } | ServiceError::Invalid(_) => {
                        e.row_refusal(lang)
                    }
                    _ => (String::new(), status::from_service(e).message().to_string()),
                };
                outcome.reject(row, id, field, reason);
            }
        }
    }
}
