//! The writing clients and what each knows about the records it wrote.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::common::{Channel, Clients};
use jobbridge::api::pb;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::Notify;

use crate::common;

/// Concurrent unary writers; one import client runs beside them.
const UNARY_CLIENTS: usize = 8;

/// A record as clients see it, compared without the server's timestamps.
pub trait Record: Clone + PartialEq + Debug {
    fn id(&self) -> &str;
    /// Clears the timestamps; `false` if the server had not set both.
    fn clear_times(&mut self) -> bool;
}

impl Record for pb::Worker {
    fn id(&self) -> &str {
        &self.id
    }

    fn clear_times(&mut self) -> bool {
        let set = self.created_at.take().is_some();
        self.updated_at.take().is_some() && set
    }
}

impl Record for pb::Opening {
    fn id(&self) -> &str {
        &self.id
    }

    fn clear_times(&mut self) -> bool {
        let set = self.created_at.take().is_some();
        self.updated_at.take().is_some() && set
    }
}

/// What the writing client knows of one record.
pub struct Known<T> {
    /// The value of the last call answered OK.
    pub acked: Option<T>,
    /// Values sent after it whose calls were cut off: each may or may not
    /// have been stored.
    pub unsure: Vec<T>,
}

pub type Ledger<T> = HashMap<String, Known<T>>;

fn sent<T: Record>(ledger: &mut Ledger<T>, value: &T) {
    let known = ledger.entry(value.id().to_string()).or_insert(Known {
        acked: None,
        unsure: Vec::new(),
    });
    known.unsure.push(value.clone());
}

fn acked<T: Record>(ledger: &mut Ledger<T>, value: T) {
    let known = ledger
        .get_mut(value.id())
        .expect("sent before acknowledged");
    known.acked = Some(value);
    known.unsure.clear();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Unary UpsertWorker and UpsertOpening calls, one at a time.
    Unary,
    /// ImportWorkers streams of a few hundred to a few thousand rows.
    Import,
}

/// One client: its own connection, id numbers and record of what it wrote.
/// Its state carries over from cycle to cycle.
pub struct Client {
    pub kind: Kind,
    rng: ChaCha8Rng,
    /// Id numbers `first..first + used` belong to this client.
    first: u32,
    used: u32,
    /// Makes each value written distinct.
    version: u32,
    pub workers: Ledger<pb::Worker>,
    pub openings: Ledger<pb::Opening>,
    /// Failures seen while the server was meant to be up.
    pub problems: Vec<String>,
    /// How the last cycle's writing ended (the stop's doing).
    pub ended_by: String,
}

/// What the clients of one cycle share with the test.
#[derive(Default)]
pub struct Progress {
    /// Set just before the server is stopped: failures after it are expected.
    pub stopping: AtomicBool,
    /// Unary calls and import rows answered OK.
    pub acked: AtomicU64,
    /// Notified on every acknowledgement (a permit is kept if nobody waits).
    pub first_ack: Notify,
}

impl Progress {
    fn ack(&self, count: u64) {
        self.acked.fetch_add(count, Ordering::SeqCst);
        self.first_ack.notify_one();
    }
}

pub fn new_clients(rng: &mut ChaCha8Rng) -> Vec<Client> {
    let kinds = std::iter::once(Kind::Import).chain([Kind::Unary; UNARY_CLIENTS]);
    kinds
        .enumerate()
        .map(|(i, kind)| Client {
            kind,
            rng: ChaCha8Rng::seed_from_u64(rng.random()),
            first: (i as u32 + 1) * 10_000_000,
            used: 0,
            version: 0,
            workers: HashMap::new(),
            openings: HashMap::new(),
            problems: Vec::new(),
            ended_by: String::new(),
        })
        .collect()
}

impl Client {
    /// Writes until a call fails; returns itself for the next cycle.
    pub async fn run(mut self, channel: Channel, progress: Arc<Progress>) -> Client {
        let result = match self.kind {
            Kind::Unary => self.unary_writes(channel, &progress).await,
            Kind::Import => self.imports(channel, &progress).await,
        };
        if let Err(status) = result {
            let (code, message) = (status.code(), status.message());
            self.ended_by = format!("{:?} client: {code:?} {message}", self.kind);
            if !progress.stopping.load(Ordering::SeqCst) {
                self.problems
                    .push(format!("{:?} client: {status:?}", self.kind));
            }
        }
        self
    }

    async fn unary_writes(
        &mut self,
        channel: Channel,
        progress: &Progress,
    ) -> Result<(), tonic::Status> {
        let clients = Clients::new(channel);
        let (mut workers, mut openings) = (clients.workers(), clients.openings());
        loop {
            let (n, v) = (self.number(0.3), self.next_version());
            if self.rng.random_bool(0.5) {
                let worker = worker_version(n, v);
                // Known as the server shows it: without the national id.
                let shown = common::returned(&worker);
                sent(&mut self.workers, &shown);
                let request = pb::UpsertWorkerRequest {
                    worker: Some(worker),
                    ..Default::default()
                };
                let reply = workers.upsert_worker(request).await?.into_inner().worker;
                self.check_reply(reply, &shown);
                acked(&mut self.workers, shown);
            } else {
                let opening = opening_version(n, v);
                sent(&mut self.openings, &opening);
                let request = pb::UpsertOpeningRequest {
                    opening: Some(opening.clone()),
                };
                let reply = openings.upsert_opening(request).await?.into_inner().opening;
                self.check_reply(reply, &opening);
                acked(&mut self.openings, opening);
            }
            progress.ack(1);
        }
    }

    async fn imports(
        &mut self,
        channel: Channel,
        progress: &Progress,
    ) -> Result<(), tonic::Status> {
        let mut workers = Clients::new(channel).workers();
        loop {
            let rows = self.rng.random_range(200..=3000);
            let mut numbers = HashSet::new();
            let mut batch = Vec::with_capacity(rows);
            while batch.len() < rows {
                // Some rows overwrite earlier imports; none twice per stream.
                let n = self.number(0.2);
                if numbers.insert(n) {
                    let worker = worker_version(n, self.next_version());
                    sent(&mut self.workers, &common::returned(&worker));
                    batch.push(worker);
                }
            }
            let requests = batch.iter().map(|w| pb::ImportWorkersRequest {
                worker: Some(w.clone()),
                ..Default::default()
            });
            let reply = workers
                .import_workers(tokio_stream::iter(requests.collect::<Vec<_>>()))
                .await?
                .into_inner();
            if reply.accepted != rows as u64 || reply.rejected != 0 {
                self.problems
                    .push(format!("import of {rows} rows: {reply:?}"));
            }
            for worker in batch {
                acked(&mut self.workers, common::returned(&worker));
            }
            progress.ack(rows as u64);
        }
    }

    /// The reply carries the stored record: the request plus timestamps
    /// (less a worker's national id, which `sent` already lacks).
    fn check_reply<T: Record>(&mut self, reply: Option<T>, sent: &T) {
        let ok = reply
            .clone()
            .is_some_and(|mut r| r.clear_times() && &r == sent);
        if !ok {
            let problem = format!("reply {reply:?} differs from request {sent:?}");
            self.problems.push(problem);
        }
    }

    /// An id number: one of this client's earlier ones with probability
    /// `overwrite`, otherwise a new one.
    fn number(&mut self, overwrite: f64) -> u32 {
        if self.used > 0 && self.rng.random_bool(overwrite) {
            self.first + self.rng.random_range(0..self.used)
        } else {
            self.used += 1;
            self.first + self.used - 1
        }
    }

    fn next_version(&mut self) -> u32 {
        self.version += 1;
        self.version
    }
}

/// Worker `n` as written the `v`th time. Indexed fields change with `v`, so
/// overwrites move index entries.
fn worker_version(n: u32, v: u32) -> pb::Worker {
    let mut worker = common::worker(n);
    worker.site_id = format!("site-{:03}", v % 7);
    worker.employment_status = if v.is_multiple_of(3) {
        pb::EmploymentStatus::Employed
    } else {
        pb::EmploymentStatus::Seeking
    } as i32;
    if let Some(p) = worker.preferences.as_mut() {
        p.expected_monthly_wage = 1000 + v % 90_000;
    }
    worker
}

/// Opening `n` as written the `v`th time.
fn opening_version(n: u32, v: u32) -> pb::Opening {
    let mut opening = common::opening(n);
    opening.employer_id = format!("workshop-{:03}", v % 5);
    opening.monthly_wage = 1000 + v % 90_000;
    opening.status = if v.is_multiple_of(4) {
        pb::OpeningStatus::Closed
    } else {
        pb::OpeningStatus::Open
    } as i32;
    opening
}
