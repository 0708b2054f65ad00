//! The mix of calls the liveness test (`tests/liveness.rs`) and the soak
//! bench (`benches/soak.rs`) put on a server: ranking in both directions,
//! explanations, single and bulk writes of existing workers, and placement
//! steps, from many clients at once. Reads and writes interleave on purpose:
//! a ranking that holds the match index while a write waits for it is the
//! deadlock this load exists to catch.
//!
//! Every call has a [`CALL_DEADLINE`]. Refusals a race explains
//! (FAILED_PRECONDITION, ALREADY_EXISTS, NOT_FOUND) are counted, not
//! errors; a timeout or a code that means the server is stuck or broken
//! is [`Outcome::Fatal`] and stops every client.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jobbridge::api::pb;
use jobbridge::cli::TokenChannel as Channel;
use jobbridge::demo::DemoData;
use jobbridge::domain::EmploymentStatus;
use pb::matching_client::MatchingClient;
use pb::placement_service_client::PlacementServiceClient;
use pb::workers_client::WorkersClient;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tonic::{Code, Request, Response, Status};

/// Deadline of every call: a call that takes longer is a hang.
pub const CALL_DEADLINE: Duration = Duration::from_secs(10);
/// Rows in one `ImportWorkers` stream.
pub const IMPORT_ROWS: usize = 20;

/// The records the load reads and writes.
pub struct Pool {
    /// Existing workers with their national ids: the server never returns
    /// them, and every write must send one.
    pub workers: Vec<pb::Worker>,
    /// Indexes into `workers` of those seeking work when loaded.
    pub seeking: Vec<usize>,
    /// Opening ids.
    pub openings: Vec<String>,
}

impl Pool {
    /// The workers and openings of a demo data set, as loaded.
    pub fn from_demo(data: &DemoData) -> Pool {
        let workers: Vec<pb::Worker> = data
            .workers
            .iter()
            .map(|w| pb::Worker {
                national_id: w.national_id.clone(),
                ..pb::Worker::from(w.clone())
            })
            .collect();
        let seeking = (0..data.workers.len())
            .filter(|&i| data.workers[i].employment_status == EmploymentStatus::Seeking)
            .collect();
        let openings = data.openings.iter().map(|o| o.id.clone()).collect();
        Pool {
            workers,
            seeking,
            openings,
        }
    }
}

/// How one call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// OK.
    Ok,
    /// A refusal a concurrent change explains.
    Refused(Code),
    /// Neither OK nor a race: a bug in the mix or the server.
    Unexpected(Code),
    /// The server is stuck or broken: a timeout, DEADLINE_EXCEEDED,
    /// UNAVAILABLE, CANCELLED, INTERNAL or UNKNOWN.
    Fatal(Option<Code>),
}

impl Outcome {
    fn of(code: Code) -> Outcome {
        use Code::*;
        match code {
            Ok => Outcome::Ok,
            FailedPrecondition | AlreadyExists | NotFound => Outcome::Refused(code),
            DeadlineExceeded | Unavailable | Cancelled | Internal | Unknown => {
                Outcome::Fatal(Some(code))
            }
            _ => Outcome::Unexpected(code),
        }
    }

    /// `OK`, the code's name, or `TIMEOUT`.
    pub fn label(self) -> String {
        match self {
            Outcome::Ok => "OK".into(),
            Outcome::Refused(c) | Outcome::Unexpected(c) | Outcome::Fatal(Some(c)) => {
                format!("{c:?}")
            }
            Outcome::Fatal(None) => "TIMEOUT".into(),
        }
    }
}

/// Counts by method and outcome since the start, and latencies and error
/// counts since the last [`Recorder::take_interval`].
#[derive(Default)]
pub struct Recorder {
    inner: Mutex<Counts>,
    stop: AtomicBool,
}

/// What [`Recorder`] holds.
#[derive(Default, Clone)]
pub struct Counts {
    /// (method, outcome label) -> calls, since the start.
    pub by_method: BTreeMap<(&'static str, String), u64>,
    pub calls: u64,
    pub fatal: u64,
    pub unexpected: u64,
    /// Rows `ImportWorkers` reported rejected.
    pub rows_rejected: u64,
    pub slowest: Duration,
    /// The first fatal call, as `method: label after N ms`.
    pub first_fatal: Option<String>,
    /// Since the last interval: latencies in ms, and non-OK labels.
    pub interval_ms: Vec<f64>,
    pub interval_errors: BTreeMap<String, u64>,
}

impl Counts {
    /// Calls of `method` that ended with `label`.
    pub fn count(&self, method: &str, label: &str) -> u64 {
        self.by_method
            .iter()
            .filter(|((m, l), _)| *m == method && l == label)
            .map(|(_, n)| n)
            .sum()
    }

    /// One line per method: calls and outcomes.
    pub fn summary(&self) -> String {
        let mut methods: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
        for ((method, label), n) in &self.by_method {
            methods
                .entry(method)
                .or_default()
                .push(format!("{label} {n}"));
            *totals.entry(method).or_default() += n;
        }
        let mut out = format!(
            "{} calls, {} fatal, {} unexpected, {} import rows rejected, slowest {} ms\n",
            self.calls,
            self.fatal,
            self.unexpected,
            self.rows_rejected,
            self.slowest.as_millis()
        );
        for (method, labels) in methods {
            out += &format!(
                "  {method:<24} {:>7}: {}\n",
                totals[method],
                labels.join(", ")
            );
        }
        if let Some(first) = &self.first_fatal {
            out += &format!("  first fatal: {first}\n");
        }
        out
    }
}

impl Recorder {
    fn record(&self, method: &'static str, outcome: Outcome, elapsed: Duration) {
        let mut c = self.inner.lock().expect("recorder lock");
        *c.by_method.entry((method, outcome.label())).or_default() += 1;
        c.calls += 1;
        c.slowest = c.slowest.max(elapsed);
        c.interval_ms.push(elapsed.as_secs_f64() * 1e3);
        if outcome != Outcome::Ok {
            *c.interval_errors.entry(outcome.label()).or_default() += 1;
        }
        match outcome {
            Outcome::Fatal(_) => {
                c.fatal += 1;
                if c.first_fatal.is_none() {
                    c.first_fatal = Some(format!(
                        "{method}: {} after {} ms",
                        outcome.label(),
                        elapsed.as_millis()
                    ));
                }
                self.stop.store(true, Ordering::Relaxed);
            }
            Outcome::Unexpected(_) => c.unexpected += 1,
            Outcome::Ok | Outcome::Refused(_) => {}
        }
    }

    /// Asks every client to stop after its current call.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether a client should stop: asked to, or after a fatal call.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// A copy of the counts so far.
    pub fn counts(&self) -> Counts {
        self.inner.lock().expect("recorder lock").clone()
    }

    /// The counts, and the interval's latencies (sorted) and errors, which
    /// start again from empty.
    pub fn take_interval(&self) -> Counts {
        let mut c = self.inner.lock().expect("recorder lock");
        let copy = c.clone();
        c.interval_ms.clear();
        c.interval_errors.clear();
        drop(c);
        let mut copy = copy;
        copy.interval_ms.sort_by(f64::total_cmp);
        copy
    }
}

/// One client of the mix. Cheap to clone; each clone is an independent
/// client over the same channel.
#[derive(Clone)]
pub struct Mix {
    matching: MatchingClient<Channel>,
    workers: WorkersClient<Channel>,
    placements: PlacementServiceClient<Channel>,
    pool: Arc<Pool>,
    recorder: Arc<Recorder>,
}

impl Mix {
    pub fn new(channel: Channel, pool: Arc<Pool>, recorder: Arc<Recorder>) -> Mix {
        let big = 64 * 1024 * 1024;
        Mix {
            matching: MatchingClient::new(channel.clone()).max_decoding_message_size(big),
            workers: WorkersClient::new(channel.clone()).max_decoding_message_size(big),
            placements: PlacementServiceClient::new(channel),
            pool,
            recorder,
        }
    }

    /// Loops over the mix until `until` or until the recorder stops.
    pub async fn run(mut self, seed: u64, until: Instant) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        while Instant::now() < until && !self.recorder.stopped() {
            self.step(&mut rng).await;
        }
    }

    /// One step, chosen by weight: 20% workers for an opening, 20% openings
    /// for a worker, 10% explanations, 20% read-modify-write upserts, 10%
    /// imports, 20% placement steps.
    async fn step(&mut self, rng: &mut ChaCha8Rng) {
        let pool = self.pool.clone();
        match rng.random_range(0..100) {
            0..20 => {
                let o = rng.random_range(0..pool.openings.len());
                self.match_workers(o).await;
            }
            20..40 => {
                let w = pool.seeking[rng.random_range(0..pool.seeking.len())];
                self.match_openings(w, 20).await;
            }
            40..50 => {
                let w = rng.random_range(0..pool.workers.len());
                let o = rng.random_range(0..pool.openings.len());
                let request = pb::ExplainMatchRequest {
                    worker_id: pool.workers[w].id.clone(),
                    opening_id: pool.openings[o].clone(),
                };
                let mut c = self.matching.clone();
                self.call("ExplainMatch", c.explain_match(deadline(request)))
                    .await;
            }
            50..70 => {
                let w = rng.random_range(0..pool.workers.len());
                self.upsert(w, rng).await;
            }
            70..80 => self.import(rng).await,
            _ => self.placement(rng).await,
        }
    }

    /// Top 50 workers for opening `o`; true if OK.
    pub async fn match_workers(&mut self, o: usize) -> bool {
        let request = pb::MatchWorkersForOpeningRequest {
            opening_id: self.pool.openings[o].clone(),
            top_k: 50,
            ..Default::default()
        };
        let mut c = self.matching.clone();
        let reply = self.call(
            "MatchWorkersForOpening",
            c.match_workers_for_opening(deadline(request)),
        );
        reply.await.is_some()
    }

    /// Top `k` openings for worker `w`.
    async fn match_openings(&mut self, w: usize, k: u32) -> Option<Vec<pb::OpeningMatch>> {
        let request = pb::MatchOpeningsForWorkerRequest {
            worker_id: self.pool.workers[w].id.clone(),
            top_k: k,
            ..Default::default()
        };
        let mut c = self.matching.clone();
        let reply = self.call(
            "MatchOpeningsForWorker",
            c.match_openings_for_worker(deadline(request)),
        );
        reply.await.map(|r| r.matches)
    }

    /// Reads worker `w`, changes its phone and expected wage, and writes it
    /// back with its national id; true if the write was OK.
    pub async fn upsert(&mut self, w: usize, rng: &mut ChaCha8Rng) -> bool {
        let id = self.pool.workers[w].id.clone();
        let mut c = self.workers.clone();
        let got = self.call(
            "GetWorker",
            c.get_worker(deadline(pb::GetWorkerRequest { id })),
        );
        let Some(mut worker) = got.await.and_then(|r| r.worker) else {
            return false;
        };
        worker.national_id = self.pool.workers[w].national_id.clone();
        worker.phone = phone(rng);
        if let Some(p) = worker.preferences.as_mut() {
            p.expected_monthly_wage = rng.random_range(15..=60) * 100;
        }
        // PLACED is the server's to set (it keeps it while a placement is
        // accepted); a write that races a decline must not send it.
        if worker.employment_status == pb::EmploymentStatus::Placed as i32 {
            worker.employment_status = pb::EmploymentStatus::Seeking as i32;
        }
        worker.created_at = None;
        worker.updated_at = None;
        let request = pb::UpsertWorkerRequest {
            worker: Some(worker),
            ..Default::default()
        };
        let mut c = self.workers.clone();
        let reply = self.call("UpsertWorker", c.upsert_worker(deadline(request)));
        reply.await.is_some()
    }

    /// One `ImportWorkers` stream of [`IMPORT_ROWS`] existing workers as
    /// loaded, with a new expected wage.
    async fn import(&mut self, rng: &mut ChaCha8Rng) {
        let rows: Vec<pb::ImportWorkersRequest> = (0..IMPORT_ROWS)
            .map(|_| {
                let mut worker =
                    self.pool.workers[rng.random_range(0..self.pool.workers.len())].clone();
                if let Some(p) = worker.preferences.as_mut() {
                    p.expected_monthly_wage = rng.random_range(15..=60) * 100;
                }
                pb::ImportWorkersRequest {
                    worker: Some(worker),
                    ..Default::default()
                }
            })
            .collect();
        let mut request = Request::new(tokio_stream::iter(rows));
        request.set_timeout(CALL_DEADLINE);
        let mut c = self.workers.clone();
        if let Some(reply) = self.call("ImportWorkers", c.import_workers(request)).await {
            self.recorder
                .inner
                .lock()
                .expect("recorder lock")
                .rows_rejected += reply.rejected;
        }
    }

    /// A seeking worker's best openings, a proposal of one of them, then one
    /// of three endings that each put the worker back in the pool and free
    /// the slot: decline; accept and decline; accept, hire and separate.
    async fn placement(&mut self, rng: &mut ChaCha8Rng) {
        let w = self.pool.seeking[rng.random_range(0..self.pool.seeking.len())];
        let Some(matches) = self.match_openings(w, 5).await else {
            return;
        };
        if matches.is_empty() {
            return;
        }
        let request = pb::ProposeRequest {
            worker_id: self.pool.workers[w].id.clone(),
            opening_id: matches[rng.random_range(0..matches.len())]
                .opening_id
                .clone(),
            run_id: 0,
            actor: "load".into(),
        };
        let mut p = self.placements.clone();
        let Some(placement) = self.call("Propose", p.propose(deadline(request))).await else {
            return;
        };
        let id = placement.id;
        let actor = || "load".to_string();
        let ending = rng.random_range(0..3);
        if ending > 0 {
            let request = pb::AcceptRequest {
                placement_id: id.clone(),
                actor: actor(),
            };
            if self
                .call("Accept", p.accept(deadline(request)))
                .await
                .is_none()
            {
                return;
            }
        }
        if ending < 2 {
            let request = pb::DeclineRequest {
                placement_id: id,
                reason_code: pb::DeclineReason::Other as i32,
                reason: "load test".into(),
                actor: actor(),
            };
            self.call("Decline", p.decline(deadline(request))).await;
            return;
        }
        let today = china_today();
        let request = pb::RecordHireRequest {
            placement_id: id.clone(),
            hire_date: today.clone(),
            actor: actor(),
        };
        if self
            .call("RecordHire", p.record_hire(deadline(request)))
            .await
            .is_none()
        {
            return;
        }
        let request = pb::RecordSeparationRequest {
            placement_id: id,
            separation_date: today,
            reason: pb::SeparationReason::Family as i32,
            note: String::new(),
            actor: actor(),
        };
        self.call("RecordSeparation", p.record_separation(deadline(request)))
            .await;
    }

    /// Runs one call under [`CALL_DEADLINE`] and records how it ended.
    async fn call<T>(
        &self,
        method: &'static str,
        call: impl Future<Output = Result<Response<T>, Status>>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = tokio::time::timeout(CALL_DEADLINE, call).await;
        let elapsed = started.elapsed();
        let (outcome, reply) = match result {
            Err(_) => (Outcome::Fatal(None), None),
            Ok(Ok(reply)) => (Outcome::Ok, Some(reply.into_inner())),
            Ok(Err(status)) => (Outcome::of(status.code()), None),
        };
        self.recorder.record(method, outcome, elapsed);
        reply
    }
}

/// `message` with the [`CALL_DEADLINE`] sent to the server as well.
fn deadline<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(CALL_DEADLINE);
    request
}

fn phone(rng: &mut ChaCha8Rng) -> String {
    format!("13{:09}", rng.random_range(0..1_000_000_000u32))
}

/// Today in China, ISO: what hire and separation dates are checked against.
fn china_today() -> String {
    use jobbridge::domain::placement::{china_today, day_date};
    day_date(china_today()).format("%F").to_string()
}
