//! Group commit: one thread owns flushing, many writers share each flush.
//!
//! sled 0.34's `flush_async` deadlocks when called from many tasks at once
//! (sled issues #1308, #1241), and a `flush()` per write caps the store at
//! about 6k writes/s. Instead every writer, after its write is applied, asks
//! this thread for durability and waits. The thread takes every request that
//! is queued, flushes once, and answers them all. A request that arrives
//! during a flush waits for the next one, so an answer always comes from a
//! flush that started after the write.
//!
//! A caller that is a thread, not a task, hands over a callback instead of
//! waiting ([`Committer::after_flush`]): the write combiner passes its
//! whole batch's answers that way, so one flush answers every call of the
//! batch without each call's task waking up to ask for it.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::audit::{AuditLog, IDLE_WRITE};
use super::StoreError;

/// Someone waiting for a flush: a task, or a callback run on this thread.
enum Waiter {
    Task(oneshot::Sender<Result<(), String>>),
    /// Answers `.0` calls.
    Then(usize, Box<dyn FnOnce(Result<(), String>) + Send>),
}

impl Waiter {
    /// Calls answered by this waiter (for the batch-size histogram).
    fn calls(&self) -> usize {
        match self {
            Waiter::Task(_) => 1,
            Waiter::Then(calls, _) => *calls,
        }
    }

    fn answer(self, result: Result<(), String>) {
        match self {
            // The writer may have gone away (client cancelled): nothing to do.
            Waiter::Task(reply) => drop(reply.send(result)),
            Waiter::Then(_, then) => then(result),
        }
    }
}

/// Handle to the committer thread. Dropping it flushes once more and joins.
pub(crate) struct Committer {
    requests: Option<mpsc::Sender<Waiter>>,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Starts the thread that flushes `db`, writing the audit log's queue
    /// before each flush.
    pub(crate) fn start(db: sled::Db, audit: Arc<AuditLog>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Waiter>();
        let thread = std::thread::Builder::new()
            .name("jobbridge-commit".into())
            .spawn(move || run(db, audit, rx))?;
        Ok(Self {
            requests: Some(tx),
            thread: Some(thread),
        })
    }

    /// Waits until everything written before this call is on disk.
    pub(crate) async fn sync(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(Waiter::Task(tx))
            .map_err(|_| StoreError::Closed)?;
        rx.await
            .map_err(|_| StoreError::Closed)?
            .map_err(StoreError::Flush)
    }

    /// Runs `then` on the committer thread once everything written before
    /// this call is on disk (or the flush failed); `then` answers `calls`
    /// calls. `then` must be quick: the next flush waits for it. If the
    /// committer is gone, `then` runs at once with an error.
    pub(crate) fn after_flush(
        &self,
        calls: usize,
        then: impl FnOnce(Result<(), String>) + Send + 'static,
    ) {
        let waiter = Waiter::Then(calls, Box::new(then));
        let refused = match self.requests.as_ref() {
            Some(requests) => requests.send(waiter).err().map(|e| e.0),
            None => Some(waiter),
        };
        if let Some(waiter) = refused {
            waiter.answer(Err(StoreError::Closed.to_string()));
        }
    }
}

fn run(db: sled::Db, audit: Arc<AuditLog>, requests: mpsc::Receiver<Waiter>) {
    loop {
        let first = match requests.recv_timeout(IDLE_WRITE) {
            Ok(first) => first,
            Err(RecvTimeoutError::Timeout) => {
                // No write asked for a flush: audit entries of reads still
                // reach disk within IDLE_WRITE.
                if audit.has_queued() {
                    if let Err(e) = audit.write_queued().and_then(|()| Ok(db.flush()?)) {
                        tracing::error!(error = %e, "cannot write the audit log");
                    }
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut waiting = vec![first];
        waiting.extend(requests.try_iter());
        // Entries queued before these writers asked (their calls' entries
        // among them) go into this flush.
        let started = std::time::Instant::now();
        let result = audit
            .write_queued()
            .and_then(|()| Ok(db.flush()?))
            .map(|_| ())
            .map_err(|e| {
                tracing::error!(error = %e, "group flush failed");
                e.to_string()
            });
        metrics::histogram!(crate::telemetry::COMMIT_BATCH)
            .record(waiting.iter().map(Waiter::calls).sum::<usize>() as f64);
        metrics::histogram!(crate::telemetry::COMMIT_SECONDS)
            .record(started.elapsed().as_secs_f64());
        for waiter in waiting {
            waiter.answer(result.clone());
        }
    }
    if let Err(e) = audit.write_queued().and_then(|()| Ok(db.flush()?)) {
        tracing::error!(error = %e, "final flush failed");
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
