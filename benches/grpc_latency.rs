//! End-to-end latency of the two ranking RPCs through the real server and a
//! real tonic client over TCP on 127.0.0.1: sequential calls, so each figure
//! is one request's wall time (decode, validate, rank on rayon, read the
//! matched records from sled, encode), not throughput.
//!
//! ```text
//! cargo bench --bench grpc_latency
//! ```
//!
//! The store holds 1,000,000 workers and 101,016 openings (see
//! `fixtures`), written directly with `demo::load`, not over gRPC. Then:
//! 2,000 `MatchOpeningsForWorker` (top 20) over seeking workers in
//! population order, and 300 `MatchWorkersForOpening` (top 50) over open
//! openings. Prints p50, p90, p99 and max in ms against the targets.
//! `JOBBRIDGE_BENCH_STORE_DIR=dir` keeps the store between runs.

mod fixtures;

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use fixtures::QueryIds;
use jobbridge::api::pb;
use jobbridge::api::pb::matching_client::MatchingClient;
use jobbridge::cli::TokenChannel as Channel;
use jobbridge::config::Config;
use jobbridge::domain::access::Role;
use jobbridge::domain::Mobility;
use jobbridge::matching::MatchContext;
use jobbridge::store::Store;

/// The server binary's allocator (see src/main.rs), so that time and
/// memory figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WORKER_CALLS: usize = 2_000;
const OPENING_CALLS: usize = 300;
const WARM_UP_CALLS: usize = 50;
/// Targets on the 2-core reference machine, p99 in ms.
const WORKER_P99_TARGET_MS: f64 = 5.0;
const OPENING_P99_TARGET_MS: f64 = 50.0;
/// Set to a directory to keep the loaded store between runs (writing a
/// million workers takes minutes): a store there holding as many workers
/// and openings as the data set is reused. Delete it after changing the
/// generator.
const STORE_DIR_ENV: &str = "JOBBRIDGE_BENCH_STORE_DIR";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // Like criterion: without --bench (cargo test --benches), a smoke run.
    let smoke = !has("--bench") || has("--test");
    // The server checks end dates and ages against today, so the data is
    // generated for today too.
    let ctx = MatchContext::now();
    let today = NaiveDate::from_num_days_from_ce_opt(ctx.today).expect("valid day");
    let data = fixtures::dataset(ctx.year, today, smoke);
    let ids = QueryIds::pick(&data, WORKER_CALLS, OPENING_CALLS);
    let chosen: HashSet<&str> = ids.seeking.iter().map(String::as_str).collect();
    let migrants: HashSet<String> = data
        .workers
        .iter()
        .filter(|w| {
            w.preferences.mobility == Mobility::WillingToMigrate && chosen.contains(w.id.as_str())
        })
        .map(|w| w.id.clone())
        .collect();

    let temp;
    // Never in a smoke run: its small data set would overwrite part of a
    // kept store.
    let path = match std::env::var_os(STORE_DIR_ENV).filter(|_| !smoke) {
        Some(dir) => PathBuf::from(dir),
        None => {
            temp = tempfile::tempdir().expect("temp dir");
            temp.path().to_path_buf()
        }
    };
    let store = Arc::new(Store::open(&path).expect("open store"));
    if store.worker_count() == data.workers.len() && store.opening_count() == data.openings.len() {
        eprintln!("store: reusing the one in {}", path.display());
    } else {
        let started = Instant::now();
        let key = jobbridge::store::id_key(None, None, &store)
            .expect("id key")
            .0;
        jobbridge::demo::load(&store, &key, &data, ctx.year).expect("load");
        eprintln!(
            "store: {} workers, {} openings written in {:.1} s",
            data.workers.len(),
            data.openings.len(),
            started.elapsed().as_secs_f64()
        );
    }
    drop(data);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(measure(store, &ids, &migrants, smoke));
}

async fn measure(store: Arc<Store>, ids: &QueryIds, migrants: &HashSet<String>, smoke: bool) {
    // Bind before spawning: the port accepts as soon as we connect; the
    // first answer comes once the index is built.
    let (_, token) = store
        .create_token(Role::Admin, &Default::default(), "bench", "bench")
        .expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let server = tokio::spawn(jobbridge::server::open_and_run(
        listener,
        store,
        Config::in_process(),
        async {
            let _ = stopped.await;
        },
    ));
    let channel = Channel::connect(&addr.to_string(), Some(&token))
        .await
        .expect("connect");
    let mut client = MatchingClient::new(channel);
    let first = openings_request(&ids.seeking[0]);
    client
        .match_openings_for_worker(first)
        .await
        .expect("first call");
    eprintln!(
        "server: first answer {:.1} s after start (index build included)",
        started.elapsed().as_secs_f64()
    );

    let worker_calls = if smoke { 20 } else { WORKER_CALLS };
    let opening_calls = if smoke { 20 } else { OPENING_CALLS };
    for id in ids.seeking.iter().cycle().take(WARM_UP_CALLS) {
        let c = &mut client;
        time(c.match_openings_for_worker(openings_request(id))).await;
    }
    let mut all = Vec::new();
    let (mut near, mut far) = (Vec::new(), Vec::new());
    let mut results = 0;
    for id in ids.seeking.iter().cycle().take(worker_calls) {
        let c = &mut client;
        let (ms, reply) = time(c.match_openings_for_worker(openings_request(id))).await;
        results += reply.matches.len();
        all.push(ms);
        if migrants.contains(id) {
            far.push(ms);
        } else {
            near.push(ms);
        }
    }
    eprintln!(
        "MatchOpeningsForWorker top 20, {worker_calls} calls, {:.1} matches on average:",
        results as f64 / worker_calls as f64
    );
    report(
        "all seeking",
        &mut all,
        (!smoke).then_some(WORKER_P99_TARGET_MS),
    );
    report("near-home", &mut near, None);
    report("willing to migrate", &mut far, None);

    for id in ids.openings.iter().cycle().take(WARM_UP_CALLS) {
        let c = &mut client;
        time(c.match_workers_for_opening(workers_request(id))).await;
    }
    let mut all = Vec::new();
    let mut results = 0;
    for id in ids.openings.iter().cycle().take(opening_calls) {
        let c = &mut client;
        let (ms, reply) = time(c.match_workers_for_opening(workers_request(id))).await;
        results += reply.matches.len();
        all.push(ms);
    }
    eprintln!(
        "MatchWorkersForOpening top 50, {opening_calls} calls, {:.1} matches on average:",
        results as f64 / opening_calls as f64
    );
    report(
        "open openings",
        &mut all,
        (!smoke).then_some(OPENING_P99_TARGET_MS),
    );

    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("server stopped cleanly");
}

fn openings_request(worker_id: &str) -> pb::MatchOpeningsForWorkerRequest {
    pb::MatchOpeningsForWorkerRequest {
        worker_id: worker_id.to_string(),
        top_k: 20,
        ..Default::default()
    }
}

fn workers_request(opening_id: &str) -> pb::MatchWorkersForOpeningRequest {
    pb::MatchWorkersForOpeningRequest {
        opening_id: opening_id.to_string(),
        top_k: 50,
        ..Default::default()
    }
}

/// Wall time of one call in ms, and its reply.
async fn time<T>(
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> (f64, T) {
    let started = Instant::now();
    let reply = call.await.expect("call succeeds").into_inner();
    (duration_ms(started.elapsed()), reply)
}

fn duration_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(label: &str, ms: &mut [f64], p99_target: Option<f64>) {
    ms.sort_by(f64::total_cmp);
    let q = |p| fixtures::quantile(ms, p);
    let verdict = match p99_target {
        Some(t) if q(0.99) < t => format!("; target p99 < {t} ms met"),
        Some(t) => format!("; target p99 < {t} ms NOT met"),
        None => String::new(),
    };
    eprintln!(
        "  {label:<20} n={:<5} p50 {:7.2} ms  p90 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms{verdict}",
        ms.len(),
        q(0.5),
        q(0.9),
        q(0.99),
        ms.last().copied().unwrap_or(f64::NAN),
    );
}
