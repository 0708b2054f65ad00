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
//! A flush costs the same whether it answers one call or sixty (a write to
//! the log file, a `sync_file_range`, a wake-up of sled's I/O threads), so
//! under load it pays to wait a little for the rest of the writers before
//! flushing, as PostgreSQL's `commit_delay`/`commit_siblings` do. Callers
//! that are about to ask for a flush say so first ([`Committer::coming`]);
//! when fewer calls are waiting than are announced, the thread waits for
//! the others, at most [`MAX_LINGER`], and flushes as soon as they are all
//! there. A lone writer is never delayed: it is the only one announced.
//! With 64 clients upserting, flushes answered about 10 calls each before;
//! with the wait the throughput rose by about a fifth (docs/benchmarks.md,
//! durable writes over gRPC).
//!
//! A caller that is a thread, not a task, hands over a callback instead of
//! waiting ([`Committer::after_flush`]): the write combiner passes its
//! whole batch's answers that way, so one flush answers every call of the
//! batch without each call's task waking up to ask for it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::audit::{AuditLog, IDLE_WRITE};
use super::durable::Disk;
use super::StoreError;

/// The longest a flush waits for announced writers that have not asked
/// for it yet. Short against a flush on this machine (0.3 to 3 ms), so a
/// writer that was announced but will not ask (refused before it wrote)
/// costs the others little.
pub(crate) const MAX_LINGER: Duration = Duration::from_millis(1);

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
    coming: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

/// An announced writer ([`Committer::coming`]); dropping it withdraws the
/// announcement.
pub(crate) struct Coming(Arc<AtomicUsize>);

impl Drop for Coming {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Committer {
    /// Starts the thread that flushes `db`, writing the audit log's queue
    /// before each flush.
    pub(crate) fn start(disk: Arc<Disk>, audit: Arc<AuditLog>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Waiter>();
        let coming = Arc::new(AtomicUsize::new(0));
        let announced = coming.clone();
        let thread = std::thread::Builder::new()
            .name("jobbridge-commit".into())
            .spawn(move || run(&disk, audit, &announced, rx))?;
        Ok(Self {
            requests: Some(tx),
            coming,
            thread: Some(thread),
        })
    }

    /// Announces a call that will ask for a flush soon (for one of its own
    /// or through a batch), until the returned guard is dropped: a flush
    /// started meanwhile waits a little for it (see the module doc). Hold
    /// the guard until the call's answer has come.
    pub(crate) fn coming(&self) -> Coming {
        self.coming.fetch_add(1, Ordering::Relaxed);
        Coming(self.coming.clone())
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

fn run(disk: &Disk, audit: Arc<AuditLog>, coming: &AtomicUsize, requests: mpsc::Receiver<Waiter>) {
    let mut peak = Peak::default();
    loop {
        let first = match requests.recv_timeout(IDLE_WRITE) {
            Ok(first) => first,
            Err(RecvTimeoutError::Timeout) => {
                // No write asked for a flush: audit entries of reads still
                // reach disk within IDLE_WRITE.
                if audit.has_queued() {
                    if let Err(e) = commit(disk, &audit) {
                        tracing::error!(error = %e, "cannot write the audit log");
                    }
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut waiting = vec![first];
        waiting.extend(requests.try_iter());
        linger(&requests, &mut waiting, coming, &mut peak);
        // Entries queued before these writers asked (their calls' entries
        // among them) go into this flush.
        let started = Instant::now();
        let result = commit(disk, &audit).map_err(|e| {
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
    if let Err(e) = commit(disk, &audit) {
        tracing::error!(error = %e, "final flush failed");
    }
}

/// Writes the audit log's queue and flushes. On a full disk the queue
/// stays in memory (see `gate`), but the flush still runs: the writes
/// admitted before the disk filled are waiting for it.
fn commit(disk: &Disk, audit: &AuditLog) -> Result<(), StoreError> {
    match audit.write_queued() {
        Ok(()) | Err(StoreError::DiskFull { .. }) => {}
        Err(e) => return Err(e),
    }
    disk.flush()
}

/// The most writers announced at once lately: the number of calls a flush
/// can expect under the present load.
#[derive(Default)]
struct Peak {
    /// The peak of the window before this one.
    last: usize,
    /// The peak so far in this window.
    now: usize,
    since: Option<Instant>,
}

impl Peak {
    /// How long a peak is remembered: long against a round trip of a
    /// client, short against a change of load.
    const WINDOW: Duration = Duration::from_millis(100);

    fn observe(&mut self, coming: usize) -> usize {
        let now = Instant::now();
        let since = *self.since.get_or_insert(now);
        if now.duration_since(since) > Self::WINDOW {
            self.last = self.now;
            self.now = 0;
            self.since = Some(now);
        }
        self.now = self.now.max(coming);
        self.now.max(self.last)
    }
}

/// Waits, at most [`MAX_LINGER`], until the waiting calls are as many as
/// the writers announced at once lately, taking every request that
/// arrives meanwhile; not at all if no other writer is announced.
fn linger(
    requests: &mpsc::Receiver<Waiter>,
    waiting: &mut Vec<Waiter>,
    coming: &AtomicUsize,
    peak: &mut Peak,
) {
    let deadline = Instant::now() + MAX_LINGER;
    let mut calls: usize = waiting.iter().map(Waiter::calls).sum();
    let announced = coming.load(Ordering::Relaxed);
    let expected = peak.observe(announced);
    if announced <= calls {
        return;
    }
    while calls < expected {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return;
        };
        let Ok(waiter) = requests.recv_timeout(left) else {
            return;
        };
        for waiter in std::iter::once(waiter).chain(requests.try_iter()) {
            calls += waiter.calls();
            waiting.push(waiter);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Waiter {
        Waiter::Task(oneshot::channel().0)
    }

    /// Lingers as a flush holding one task does with `announced` writers
    /// announced; returns the waiters it then holds.
    fn linger_for(rx: &mpsc::Receiver<Waiter>, announced: usize, peak: &mut Peak) -> Vec<Waiter> {
        let mut waiting = vec![task()];
        linger(rx, &mut waiting, &AtomicUsize::new(announced), peak);
        waiting
    }

    #[test]
    fn a_lone_writer_is_flushed_without_waiting_for_anyone() {
        let (tx, rx) = mpsc::channel();
        let mut peak = Peak::default();
        // A crowd lately, but only this writer is announced now.
        peak.observe(64);
        let waiting = linger_for(&rx, 1, &mut peak);
        assert_eq!(waiting.len(), 1);
        // A request sent afterwards is left for the next flush.
        tx.send(task()).unwrap();
        assert!(rx.try_recv().is_ok());
    }

    #[test]
    fn a_flush_takes_the_announced_writers_that_arrive_while_it_waits() {
        let (tx, rx) = mpsc::channel();
        // Arrive after the flush took what was queued (one call), before
        // it gave up on the other three.
        tx.send(task()).unwrap();
        tx.send(Waiter::Then(2, Box::new(|_| ()))).unwrap();
        let waiting = linger_for(&rx, 4, &mut Peak::default());
        assert_eq!(waiting.iter().map(Waiter::calls).sum::<usize>(), 4);
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_flush_gives_up_on_writers_that_never_ask() {
        let (_tx, rx) = mpsc::channel();
        let waiting = linger_for(&rx, 8, &mut Peak::default());
        assert_eq!(waiting.len(), 1);
    }

    #[test]
    fn announcements_are_withdrawn_when_dropped() {
        let coming = Arc::new(AtomicUsize::new(0));
        let announce = || {
            coming.fetch_add(1, Ordering::Relaxed);
            Coming(coming.clone())
        };
        let (a, b) = (announce(), announce());
        assert_eq!(coming.load(Ordering::Relaxed), 2);
        drop(a);
        drop(b);
        assert_eq!(coming.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_peak_is_forgotten_after_two_windows() {
        let mut peak = Peak::default();
        assert_eq!(peak.observe(10), 10);
        assert_eq!(peak.observe(3), 10);
        peak.since = Some(Instant::now() - Peak::WINDOW * 2);
        // The last window's peak is still remembered...
        assert_eq!(peak.observe(2), 10);
        peak.since = Some(Instant::now() - Peak::WINDOW * 2);
        // ...then forgotten.
        assert_eq!(peak.observe(1), 2);
    }
}
