//! Crash durability of the real binary.
//!
//! `jobbridge serve` runs as a child process while concurrent clients write
//! through gRPC: unary upserts of workers and openings, and a stream of bulk
//! imports. At a random moment the child is SIGKILLed (or SIGTERMed) and then
//! restarted on the same data directory. An OK reply promises a flushed
//! write, so every acknowledged record must come back exactly as sent; a
//! write cut off by the kill may or may not be there, but nothing else may.
//! `jobbridge check` must then find the indexes agreeing with the records.
//!
//! The delays and the clients' choices come from a seeded RNG. The seed is
//! printed; `JOBBRIDGE_CRASH_SEED=<seed>` replays the same choices (the
//! interleaving with the kill still varies from run to run).

#[path = "crash/clients.rs"]
mod clients;
mod common;
#[path = "crash/server.rs"]
mod server;
#[path = "crash/verify.rs"]
mod verify;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use clients::{new_clients, Client, Progress};
use server::{check_indexes, ServerProcess, STOP_DEADLINE};
use verify::verify;

/// How long the clients may take to get their first write acknowledged.
const FIRST_ACK_DEADLINE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_writes_loses_no_acknowledged_write() {
    let mut rng = ChaCha8Rng::seed_from_u64(seed());
    let (dir, logs) = (temp_dir(), temp_dir());
    let mut clients = new_clients(&mut rng);
    // Writes accumulate: every cycle re-checks what earlier cycles stored.
    for cycle in 1..=3 {
        let delay = Duration::from_millis(rng.random_range(200..=1500));
        clients = cycle_once(dir.path(), logs.path(), cycle, clients, delay, Stop::Kill).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_writes_exits_cleanly_and_keeps_acknowledged_writes() {
    let mut rng = ChaCha8Rng::seed_from_u64(seed());
    let (dir, logs) = (temp_dir(), temp_dir());
    let clients = new_clients(&mut rng);
    let delay = Duration::from_millis(rng.random_range(200..=1500));
    cycle_once(dir.path(), logs.path(), 1, clients, delay, Stop::Terminate).await;
}

/// How the writing server is stopped.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Kill,
    Terminate,
}

/// Starts the server, writes until it is stopped after `delay`, restarts it,
/// verifies every record, stops it with SIGTERM and runs `jobbridge check`.
async fn cycle_once(
    dir: &Path,
    logs: &Path,
    cycle: u32,
    clients: Vec<Client>,
    delay: Duration,
    stop: Stop,
) -> Vec<Client> {
    let label = format!("{stop:?}-{cycle}").to_lowercase();
    let mut server = ServerProcess::start(dir, logs.join(format!("{label}-write.log"))).await;
    let progress = Arc::new(Progress::default());
    let mut tasks = Vec::new();
    for client in clients {
        let channel = server.connect().await;
        tasks.push(tokio::spawn(client.run(channel, progress.clone())));
    }
    // The delay runs from the first acknowledgement, so that every cycle
    // stops the server in the middle of writing, even on a busy machine.
    let first_ack = tokio::time::timeout(FIRST_ACK_DEADLINE, progress.first_ack.notified());
    if first_ack.await.is_err() {
        panic!("no write acknowledged; server log:\n{}", server.log_tail());
    }
    tokio::time::sleep(delay).await;
    // Set before the signal: a failure seen after this is the stop's doing.
    progress.stopping.store(true, Ordering::SeqCst);
    match stop {
        Stop::Kill => server.kill(),
        Stop::Terminate => server.expect_clean_exit().await,
    }
    let mut clients = Vec::new();
    for task in tasks {
        let client = tokio::time::timeout(STOP_DEADLINE, task)
            .await
            .expect("a client did not notice that the server stopped")
            .expect("client task panicked");
        clients.push(client);
    }
    let problems: Vec<&String> = clients.iter().flat_map(|c| &c.problems).collect();
    assert!(
        problems.is_empty(),
        "calls failed before the stop: {problems:#?}"
    );
    let acked = progress.acked.load(Ordering::SeqCst);

    let mut server = ServerProcess::start(dir, logs.join(format!("{label}-verify.log"))).await;
    let summary = verify(server.connect().await, &mut clients).await;
    println!(
        "{label}: stopped {delay:?} after the first OK; {acked} writes acknowledged; {summary:?}"
    );
    let mut endings = BTreeMap::<&str, usize>::new();
    for c in &clients {
        *endings.entry(&c.ended_by).or_default() += 1;
    }
    println!("  clients' last calls failed with: {endings:?}");
    server.expect_clean_exit().await;
    check_indexes(dir).await;
    clients
}

fn seed() -> u64 {
    let seed = match std::env::var("JOBBRIDGE_CRASH_SEED") {
        Ok(s) => s.parse().expect("JOBBRIDGE_CRASH_SEED must be a u64"),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos() as u64,
    };
    println!("seed {seed} (replay with JOBBRIDGE_CRASH_SEED={seed})");
    seed
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}
