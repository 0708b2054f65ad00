//! The one import pipeline of every face: the gRPC streaming imports, the
//! CLI's offline `import` and the console's upload all store a ledger's
//! rows through [`Import`]. Rows arrive validated; they are written in
//! batches of [`IMPORT_BATCH_ROWS`], one store transaction each, on
//! tokio's blocking pool, each batch while the caller reads and validates
//! the next. The last answers wait for the flush that makes them durable.

use std::sync::Arc;

use tokio::task::JoinHandle;

use super::rows::IMPORT_BATCH_ROWS;
use super::{ImportOptions, Result, RowChange, Service, ServiceError};
use crate::domain::access::Caller;
use crate::domain::{Opening, Worker};

/// The service's upsert of a batch of records (or, checking only, its look
/// at them): each record succeeds or fails on its own and says what it
/// changes.
pub type Put<R> = fn(&Service, &Caller, Vec<R>, ImportOptions) -> Result<Vec<Result<RowChange>>>;

/// A record kind a ledger holds.
pub trait Imported: Sized + Send + 'static {
    /// How a batch of them is stored.
    const PUT: Put<Self>;
}

impl Imported for Worker {
    const PUT: Put<Self> = Service::import_workers;
}

impl Imported for Opening {
    const PUT: Put<Self> = Service::import_openings;
}

/// The batch being written.
type Pending = JoinHandle<Result<Vec<Result<RowChange>>>>;

/// One import in progress: push the rows in order, then
/// [`Import::finish`]. Each call answers the rows of the batches written
/// since the last one, in row order.
pub struct Import<R> {
    service: Arc<Service>,
    caller: Arc<Caller>,
    options: ImportOptions,
    batch: Vec<R>,
    pending: Option<Pending>,
    /// Whether an answer rests on what is stored: an accepted row, or a
    /// refusal that read stored state. Such answers wait for a flush.
    settles: bool,
}

impl<R: Imported> Import<R> {
    /// An import by `caller` with `options`.
    pub fn new(service: Arc<Service>, caller: Caller, options: ImportOptions) -> Self {
        Self {
            service,
            caller: Arc::new(caller),
            options,
            batch: Vec::with_capacity(IMPORT_BATCH_ROWS),
            pending: None,
            settles: false,
        }
    }

    /// Adds a row. When it fills a batch, waits for the batch before to
    /// be written, starts writing this one, and answers the rows of the
    /// batch before.
    pub async fn push(&mut self, record: R) -> Result<Vec<Result<RowChange>>> {
        self.batch.push(record);
        if self.batch.len() < IMPORT_BATCH_ROWS {
            return Ok(Vec::new());
        }
        self.start().await
    }

    /// Writes the rows left, waits for the flush if any answer rests on
    /// stored state (see [`Service::commit`]), and answers the rows not
    /// answered yet.
    pub async fn finish(mut self) -> Result<Vec<Result<RowChange>>> {
        let mut results = if self.batch.is_empty() {
            Vec::new()
        } else {
            self.start().await?
        };
        results.extend(self.settle().await?);
        if self.settles {
            self.service.commit().await?;
        }
        Ok(results)
    }

    /// Answers the batch being written, then starts writing the batch
    /// gathered.
    async fn start(&mut self) -> Result<Vec<Result<RowChange>>> {
        let results = self.settle().await?;
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(IMPORT_BATCH_ROWS));
        let (service, caller, options) = (self.service.clone(), self.caller.clone(), self.options);
        self.pending = Some(tokio::task::spawn_blocking(move || {
            R::PUT(&service, &caller, batch, options)
        }));
        Ok(results)
    }

    /// The answers of the batch being written, if any.
    async fn settle(&mut self) -> Result<Vec<Result<RowChange>>> {
        let Some(pending) = self.pending.take() else {
            return Ok(Vec::new());
        };
        let results = pending.await.map_err(|e| {
            tracing::error!(error = %e, "import batch task failed");
            ServiceError::Internal(format!("import batch task failed: {e}"))
        })??;
        self.settles |= results.iter().any(|r| match r {
            Ok(_) => true,
            Err(e) => e.rests_on_state(),
        });
        Ok(results)
    }
}

impl Service {
    /// Imports a whole ledger's `records` (already validated) through
    /// [`Import`], as the gRPC imports do; answers each row in order.
    pub async fn import_all<R: Imported>(
        self: &Arc<Self>,
        caller: &Caller,
        records: Vec<R>,
        options: ImportOptions,
    ) -> Result<Vec<Result<RowChange>>> {
        let mut import = Import::new(self.clone(), caller.clone(), options);
        let mut results = Vec::with_capacity(records.len());
        for record in records {
            results.extend(import.push(record).await?);
        }
        results.extend(import.finish().await?);
        Ok(results)
    }
}
