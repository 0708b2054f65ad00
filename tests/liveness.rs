//! Liveness of the whole server under concurrent reads and writes: eight
//! clients run the mix of `common/load.rs` (ranking both ways, explanations,
//! upserts, imports, placement steps) for 30 s against the real server over
//! demo data, every call with a 10 s deadline. A hang anywhere (the match
//! index's lock held across rayon work while a writer waits, say) shows as
//! a timeout and fails the test within seconds instead of stalling it.
//!
//! The data set is the full demo (scale 1: 49,874 workers, 4,209
//! openings), loaded directly into the store before the server starts: about
//! 5-6 s in the debug test build, so the whole test takes about 37 s on the
//! 2-core reference machine. `JOBBRIDGE_LIVENESS_SECS=N` changes the 30 s.
//! On a server that deadlocks it fails about 10 s after the hang (the first
//! deadline), usually under 20 s from the start.
//!
//! The test runs its own runtime and shuts it down with a timeout: a
//! deadlocked server leaves blocking threads that would make dropping a
//! `#[tokio::test]` runtime wait forever.

mod common;
#[path = "common/load.rs"]
mod load;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestServer;
use jobbridge::cli::TokenChannel as Channel;
use jobbridge::config::Config;
use load::{Counts, Mix, Pool, Recorder, CALL_DEADLINE};
use rand::SeedableRng;

/// Demo scale: 1.0 is the full Huaihua set, about 50,000 workers and 4,200
/// openings.
const SCALE: f64 = 1.0;
const CLIENTS: usize = 8;
const DEFAULT_SECS: u64 = 30;
/// Server stop and join, after the last call.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

#[test]
fn mixed_reads_and_writes_stay_live() {
    let secs = std::env::var("JOBBRIDGE_LIVENESS_SECS")
        .ok()
        .map(|s| s.parse().expect("JOBBRIDGE_LIVENESS_SECS: whole seconds"))
        .unwrap_or(DEFAULT_SECS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(run(Duration::from_secs(secs)))
    }));
    // A stuck server's tasks never finish; do not wait for them.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => panic!("{failure}"),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

async fn run(duration: Duration) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let store = jobbridge::store::Store::open(dir.path()).expect("open store");
    let key = jobbridge::store::id_key(None, None, &store)
        .expect("id key")
        .0;
    let year = jobbridge::domain::current_year();
    let today = chrono::Utc::now().date_naive();
    let data = jobbridge::demo::generate(SCALE, 1, year, today);
    jobbridge::demo::load(&store, &key, &data, year).expect("load demo data");
    let pool = Arc::new(Pool::from_demo(&data));
    drop(data);
    eprintln!(
        "liveness: {} workers, {} openings loaded in {:.1} s",
        pool.workers.len(),
        pool.openings.len(),
        started.elapsed().as_secs_f64()
    );
    // The defaults a real server runs with (rank threads, limits), minus
    // the clock-driven schedule and the rate limit.
    let options = Config {
        id_key: Some(key),
        ..Config::in_process()
    };
    let server = TestServer::start_on(store, options).await;

    let recorder = Arc::new(Recorder::default());
    let until = Instant::now() + duration;
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        // One connection per client, as separate callers would have.
        let channel = Channel::connect(&server.addr.to_string(), Some(&server.admin_token))
            .await
            .expect("connect");
        let mix = Mix::new(channel, pool.clone(), recorder.clone());
        clients.push(tokio::spawn(mix.run(i as u64, until)));
    }
    // Each client stops after its current call, which ends within its
    // deadline.
    let joined = tokio::time::timeout(duration + 2 * CALL_DEADLINE, async {
        for client in clients {
            client.await.expect("client task");
        }
    })
    .await;
    let counts = recorder.counts();
    eprintln!("liveness: {}", counts.summary());
    if joined.is_err() {
        return Err(format!(
            "clients did not stop within their deadlines\n{}",
            counts.summary()
        ));
    }
    check(&counts)?;

    // After the load: one more write and one more query must succeed.
    let after = Arc::new(Recorder::default());
    let mut last = Mix::new(server.channel.clone(), pool.clone(), after.clone());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let wrote = last.upsert(0, &mut rng).await;
    let matched = last.match_workers(0).await;
    if !(wrote && matched) {
        return Err(format!(
            "the final write ({wrote}) or query ({matched}) failed after the load\n{}",
            after.counts().summary()
        ));
    }
    tokio::time::timeout(STOP_TIMEOUT, server.stop())
        .await
        .map_err(|_| format!("the server did not stop within {STOP_TIMEOUT:?}"))?;
    eprintln!(
        "liveness: passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// No fatal or unexpected outcome, and every kind of call succeeded at
/// least once (so the test cannot pass by doing nothing).
fn check(counts: &Counts) -> Result<(), String> {
    if counts.fatal > 0 || counts.unexpected > 0 {
        return Err(format!(
            "{} calls hung or failed, {} ended with an unexpected code\n{}",
            counts.fatal,
            counts.unexpected,
            counts.summary()
        ));
    }
    let methods = [
        "MatchWorkersForOpening",
        "MatchOpeningsForWorker",
        "ExplainMatch",
        "GetWorker",
        "UpsertWorker",
        "ImportWorkers",
        "Propose",
        "Accept",
        "Decline",
        "RecordHire",
        "RecordSeparation",
    ];
    let missing: Vec<&str> = methods
        .into_iter()
        .filter(|m| counts.count(m, "OK") == 0)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no successful call of {missing:?}\n{}",
            counts.summary()
        ));
    }
    if counts.rows_rejected > 0 {
        return Err(format!(
            "ImportWorkers rejected {} valid rows\n{}",
            counts.rows_rejected,
            counts.summary()
        ));
    }
    Ok(())
}
