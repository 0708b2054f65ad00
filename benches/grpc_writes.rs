//! Write throughput over real gRPC: the server runs in-process on
//! 127.0.0.1:0 over a temporary sled directory and is driven by the
//! generated tonic client. A write counts once its call returned OK, which
//! means it was flushed to disk (group commit).
//!
//! `cargo bench --bench grpc_writes`
//!
//! - `writes/import_stream/10000_workers`: one ImportWorkers stream of 10,000
//!   workers per iteration. Every iteration uses fresh ids and national ids,
//!   so all rows are inserts, and the store grows during the run.
//! - `writes/unary_upsert/64_clients`: 64 concurrent clients (tasks), each
//!   doing [`UPSERTS_PER_CLIENT`] sequential UpsertWorker calls of fresh
//!   workers (inserts), all over one shared HTTP/2 connection: measured
//!   faster here than one connection per client (3.2k against 2.7k/s).
//! - `writes/unary_health/64_clients`: the anchor. The same 64 clients and
//!   calls per iteration on the same server and connection, asking the
//!   health service, which does no work: the ceiling the gRPC transport
//!   (both ends on this machine's cores) sets for any unary call.
//!
//! Each benchmark gets its own server and directory. The rows are built
//! outside the timed part; encoding them is part of it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use jobbridge::api::pb;
use jobbridge::api::pb::workers_client::WorkersClient;
use jobbridge::config::Config;
use jobbridge::domain::rules::national_id_check_char;
use jobbridge::store::Store;
use tokio::runtime::Runtime;

/// The server binary's allocator, so the figures match what it does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use jobbridge::cli::TokenChannel as Channel;
use jobbridge::domain::access::Role;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// Rows per import stream.
const IMPORT_ROWS: u32 = 10_000;
/// Concurrent unary clients.
const CLIENTS: u32 = 64;
/// Sequential calls per unary client per iteration.
const UPSERTS_PER_CLIENT: u32 = 50;

fn writes(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("writes");
    group.sampling_mode(SamplingMode::Flat);

    let server = BenchServer::start(&rt);
    let mut next = 0u32;
    group.throughput(Throughput::Elements(IMPORT_ROWS.into()));
    group.bench_function("import_stream/10000_workers", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let rows: Vec<_> = (next..next + IMPORT_ROWS)
                    .map(|n| pb::ImportWorkersRequest {
                        worker: Some(worker(n)),
                        ..Default::default()
                    })
                    .collect();
                next += IMPORT_ROWS;
                let mut client = server.client();
                let started = Instant::now();
                let reply = rt
                    .block_on(client.import_workers(tokio_stream::iter(rows)))
                    .expect("import")
                    .into_inner();
                elapsed += started.elapsed();
                assert_eq!(reply.accepted, u64::from(IMPORT_ROWS), "{reply:?}");
            }
            elapsed
        })
    });
    server.stop(&rt);

    let server = BenchServer::start(&rt);
    let mut next = 0u32;
    group.throughput(Throughput::Elements((CLIENTS * UPSERTS_PER_CLIENT).into()));
    group.bench_function("unary_upsert/64_clients", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let batches: Vec<Vec<pb::Worker>> = (0..CLIENTS)
                    .map(|_| {
                        next += UPSERTS_PER_CLIENT;
                        (next - UPSERTS_PER_CLIENT..next).map(worker).collect()
                    })
                    .collect();
                let started = Instant::now();
                rt.block_on(upsert_concurrently(&server, batches));
                elapsed += started.elapsed();
            }
            elapsed
        })
    });
    server.stop(&rt);

    // The anchor: the same 64 clients and calls on the same stack, but
    // calls that do no work (the health check). What the machine's gRPC
    // transport alone allows, beside which the upserts are read.
    let server = BenchServer::start(&rt);
    group.bench_function("unary_health/64_clients", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                rt.block_on(check_concurrently(&server));
                elapsed += started.elapsed();
            }
            elapsed
        })
    });
    server.stop(&rt);
    group.finish();
}

/// One task per client, each asking for health [`UPSERTS_PER_CLIENT`] times
/// one call at a time.
async fn check_concurrently(server: &BenchServer) {
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let mut client = HealthClient::new(server.channel.clone());
            tokio::spawn(async move {
                for _ in 0..UPSERTS_PER_CLIENT {
                    let request = HealthCheckRequest {
                        service: String::new(),
                    };
                    client.check(request).await.expect("health");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client task");
    }
}

/// One task per batch, each upserting its workers one call at a time.
async fn upsert_concurrently(server: &BenchServer, batches: Vec<Vec<pb::Worker>>) {
    let tasks: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let mut client = server.client();
            tokio::spawn(async move {
                for worker in batch {
                    let request = pb::UpsertWorkerRequest {
                        worker: Some(worker),
                        ..Default::default()
                    };
                    client.upsert_worker(request).await.expect("upsert");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client task");
    }
}

/// The real server on 127.0.0.1:0 over a temporary directory, as in
/// `tests/common` (which benches cannot import).
struct BenchServer {
    channel: Channel,
    store: Arc<Store>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl BenchServer {
    fn start(rt: &Runtime) -> BenchServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(open(dir.path()));
        let (stop, stopped) = oneshot::channel::<()>();
        let server_store = store.clone();
        let (_, token) = store
            .create_token(Role::Admin, &Default::default(), "bench", "bench")
            .expect("token");
        let (task, channel) = rt.block_on(async {
            // Bound before spawning: ready when we connect.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("local addr");
            let task = tokio::spawn(async move {
                let shutdown = async {
                    let _ = stopped.await;
                };
                jobbridge::server::open_and_run(
                    listener,
                    server_store,
                    Config::in_process(),
                    shutdown,
                )
                .await
                .expect("server failed");
            });
            let channel = Channel::connect(&addr.to_string(), Some(&token))
                .await
                .expect("connect");
            (task, channel)
        });
        BenchServer {
            channel,
            store,
            stop,
            task,
            _dir: dir,
        }
    }

    fn client(&self) -> WorkersClient<Channel> {
        WorkersClient::new(self.channel.clone())
    }

    /// Shuts the server down and closes the store before the directory goes.
    fn stop(self, rt: &Runtime) {
        let _ = self.stop.send(());
        rt.block_on(self.task).expect("server task");
        drop(self.channel);
        let mut store = self.store;
        loop {
            match Arc::try_unwrap(store) {
                Ok(store) => break drop(store),
                Err(shared) => {
                    store = shared;
                    std::thread::yield_now();
                }
            }
        }
    }
}

fn open(dir: &Path) -> Store {
    Store::open(dir).expect("open store")
}

/// A valid national id number, unique per `n`.
fn national_id(n: u32) -> String {
    let first17 = format!("{:017}", 43_120_219_850_000_000u64 + u64::from(n));
    format!("{first17}{}", national_id_check_char(first17.as_bytes()))
}

/// A valid worker with every field set, unique per `n`.
fn worker(n: u32) -> pb::Worker {
    pb::Worker {
        id: format!("w-{n:07}"),
        household_id: format!("hh-{:07}", n / 2),
        name: "王秀英".into(),
        national_id: national_id(n),
        gender: pb::Gender::Female as i32,
        birth_year: 1985,
        phone: "13812345678".into(),
        county_code: "431202".into(),
        site_id: format!("site-{:03}", n % 7),
        site_location: Some(pb::GeoPoint {
            lat: 27.55,
            lon: 109.98,
        }),
        labour_capacity: pb::LabourCapacity::Full as i32,
        skills: vec![pb::Skill {
            code: "sewing".into(),
            level: 3,
        }],
        certificates: vec![pb::Skill {
            code: "housekeeping".into(),
            level: 2,
        }],
        education: pb::Education::JuniorSecondary as i32,
        preferences: Some(pb::WorkerPreferences {
            mobility: pb::Mobility::NearHome as i32,
            max_commute_km: 20,
            expected_monthly_wage: 3000,
            preferred_sources: vec![pb::Source::AidWorkshop as i32],
            strict_sources: false,
            needs_flexible_hours: true,
        }),
        employment_status: pb::EmploymentStatus::Seeking as i32,
        service_company_id: "esc-431202".into(),
        consent_to_share: true,
        created_at: None,
        updated_at: None,
        ..Default::default()
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    targets = writes
}
criterion_main!(benches);
