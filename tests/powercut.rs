//! Power cuts under the real binary, on LazyFS (issue 27).
//!
//! `jobbridge serve` runs as a child process over a data directory on a
//! LazyFS mount while clients write through gRPC: unary upserts of workers
//! and openings and bulk imports (the clients of `tests/crash.rs`), and
//! placement steps (Propose, then Accept or Decline); the bulk imports
//! only in every fourth cut (see [`IMPORT_EVERY`]). After a few seconds
//! of writes the server is SIGKILLed, so that it makes no more syncs, and
//! LazyFS is told to `clear-cache`: every byte that was not fsynced is
//! gone, as from a disk whose power was cut. The server is restarted on
//! the same directory, everything is read back through it, and every write
//! it answered OK must be there; then it is stopped and `jobbridge check`
//! must find the indexes agreeing with the records. Writes accumulate over
//! the cuts, as in `tests/crash.rs`.
//!
//! Unlike the crash test, this one counts instead of stopping at the first
//! loss: each cut prints a line, the end a total (`cuts: 20, acknowledged
//! writes: N, lost: 0`), and the test fails if anything was lost or broken
//! or a check failed.
//!
//! It needs LazyFS, which CI does not have, so without its variables it
//! says "skipped" and passes: `scripts/powercut.sh` mounts LazyFS and runs it
//! with the mount in `JOBBRIDGE_POWERCUT_DIR`, the faults fifo in
//! `JOBBRIDGE_POWERCUT_FIFO`, the completion fifo (`fifo_path_completed`)
//! in `JOBBRIDGE_POWERCUT_DONE_FIFO` and the number of cuts in
//! `JOBBRIDGE_POWERCUT_CUTS` (20 by default). Without
//! `JOBBRIDGE_POWERCUT_DIR` the test returns at once. The seed is printed;
//! `JOBBRIDGE_POWERCUT_SEED=<seed>` replays the same choices.

#[path = "crash/clients.rs"]
mod clients;
mod common;
#[path = "powercut/lazyfs.rs"]
mod lazyfs;
#[path = "powercut/placements.rs"]
mod placements;
// Partly used: `check_indexes` asserts, and this test counts failed checks
// instead; it needs no extra `serve` flags either.
#[allow(dead_code)]
#[path = "crash/server.rs"]
mod server;
#[path = "powercut/verify.rs"]
mod verify;
// The listings of the kill -9 test's check; its `verify` is not used here.
#[allow(dead_code)]
#[path = "crash/verify.rs"]
mod crash_verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use clients::{new_clients, Client, Kind, Progress};
use lazyfs::Faults;
use placements::PlacementClient;
use server::{ServerProcess, STOP_DEADLINE};
use verify::Tally;

/// `serve` flags: no per-token call limit. The writers share one admin
/// token and, on a fast machine, go past the default 2,000 calls/s; a
/// refusal for that is no durability fault (the limiter has tests of its
/// own), but the verification would count the refused call as broken.
const UNLIMITED: &[&str] = &["--rate-limit", "0"];
/// Cuts when `JOBBRIDGE_POWERCUT_CUTS` is not set.
const DEFAULT_CUTS: u32 = 20;
/// How long the clients may take to get their first write acknowledged.
const FIRST_ACK_DEADLINE: Duration = Duration::from_secs(30);
/// Writing time before a cut, from the first acknowledgement, in ms.
const WRITE_MS: std::ops::RangeInclusive<u64> = 1000..=3000;
/// The bulk-import client writes in cuts 1, 1 + this, 1 + twice this...:
/// it writes ten to twenty times as many rows as the eight unary clients
/// together, and were it in every cut the store would grow so large that
/// the restarts, read-backs and checks of the last cuts took minutes each.
const IMPORT_EVERY: u32 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_cuts_during_writes_lose_no_acknowledged_write() {
    let Some(setup) = Setup::from_env() else {
        println!("skipped: JOBBRIDGE_POWERCUT_DIR is not set (scripts/powercut.sh sets it on a LazyFS mount)");
        return;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed());
    let mut faults = Faults::open(&setup.fifo, &setup.done);
    faults.canary(&setup.dir).await;
    let dir = tempfile::tempdir_in(&setup.dir).expect("data dir on the LazyFS mount");
    let temp_logs = tempfile::tempdir().expect("temp dir");
    let logs = setup.logs.as_deref().unwrap_or(temp_logs.path());
    println!(
        "{} cuts; data in {}, server logs in {}",
        setup.cuts,
        dir.path().display(),
        logs.display()
    );

    let mut writers = Writers {
        clients: new_clients(&mut rng),
        placer: PlacementClient::new(&mut rng),
    };
    let mut totals = Totals::default();
    for cut in 1..=setup.cuts {
        let delay = Duration::from_millis(rng.random_range(WRITE_MS));
        let run = Cut {
            dir: dir.path(),
            logs,
            cut,
            cuts: setup.cuts,
            delay,
            imports: cut % IMPORT_EVERY == 1 % IMPORT_EVERY,
        };
        writers = run.once(writers, &mut faults, &mut totals).await;
    }
    totals.finished = true;
    println!("{}", totals.line());
    assert!(
        totals.lost == 0 && totals.broken == 0 && totals.failed_checks == 0,
        "power cuts lost acknowledged writes or broke the store: {}",
        totals.line()
    );
}

/// Where the test runs, from the environment.
struct Setup {
    /// A directory on the LazyFS mount.
    dir: PathBuf,
    /// LazyFS's faults fifo.
    fifo: PathBuf,
    /// LazyFS's completion fifo.
    done: PathBuf,
    cuts: u32,
    /// Where to keep the server logs (a temporary directory otherwise).
    logs: Option<PathBuf>,
}

impl Setup {
    fn from_env() -> Option<Setup> {
        let dir = PathBuf::from(std::env::var_os("JOBBRIDGE_POWERCUT_DIR")?);
        let need = |name: &str| {
            PathBuf::from(std::env::var_os(name).unwrap_or_else(|| {
                panic!(
                    "{name} must be set with JOBBRIDGE_POWERCUT_DIR (scripts/powercut.sh sets it)"
                )
            }))
        };
        let cuts = match std::env::var("JOBBRIDGE_POWERCUT_CUTS") {
            Ok(n) => n
                .parse()
                .expect("JOBBRIDGE_POWERCUT_CUTS must be a whole number"),
            Err(_) => DEFAULT_CUTS,
        };
        Some(Setup {
            dir,
            fifo: need("JOBBRIDGE_POWERCUT_FIFO"),
            done: need("JOBBRIDGE_POWERCUT_DONE_FIFO"),
            cuts,
            logs: std::env::var_os("JOBBRIDGE_POWERCUT_LOGS").map(PathBuf::from),
        })
    }
}

/// The writing clients, whose ledgers carry over from cut to cut.
struct Writers {
    clients: Vec<Client>,
    placer: PlacementClient,
}

/// One power cut.
struct Cut<'a> {
    dir: &'a Path,
    logs: &'a Path,
    cut: u32,
    cuts: u32,
    /// Writing time before the cut, from the first acknowledgement.
    delay: Duration,
    /// Whether the bulk-import client writes in this cut.
    imports: bool,
}

impl Cut<'_> {
    /// Starts the server, writes, kills it, cuts the power, restarts it,
    /// counts what was lost, stops it and runs `jobbridge check`.
    async fn once(self, writers: Writers, faults: &mut Faults, totals: &mut Totals) -> Writers {
        let started = Instant::now();
        let label = format!("cut-{:02}", self.cut);
        let log = self.logs.join(format!("{label}-write.log"));
        let mut server = ServerProcess::start_with(self.dir, log, UNLIMITED).await;
        let start = started.elapsed();
        let progress = Arc::new(Progress::default());
        let (running, resting): (Vec<Client>, Vec<Client>) = writers
            .clients
            .into_iter()
            .partition(|c| c.kind == Kind::Unary || self.imports);
        let mut tasks = Vec::new();
        for client in running {
            let channel = server.connect().await;
            tasks.push(tokio::spawn(client.run(channel, progress.clone())));
        }
        let channel = server.connect().await;
        let placer = tokio::spawn(writers.placer.run(channel, progress.clone()));
        let first_ack = tokio::time::timeout(FIRST_ACK_DEADLINE, progress.first_ack.notified());
        if first_ack.await.is_err() {
            panic!("no write acknowledged; server log:\n{}", server.log_tail());
        }
        tokio::time::sleep(self.delay).await;
        // Set before the signal: a failure seen after this is the cut's doing.
        progress.stopping.store(true, Ordering::SeqCst);
        // SIGKILL and reap: the server makes no syncs after this, and every
        // write it had sent to LazyFS has been answered.
        server.kill();
        let mut clients = Vec::new();
        for task in tasks {
            clients.push(join(task).await);
        }
        let ran = clients.len();
        clients.extend(resting);
        let mut placer = join(placer).await;
        let acked = progress.acked.load(Ordering::SeqCst);
        let cleared = faults.clear_cache().await;

        let log = self.logs.join(format!("{label}-verify.log"));
        let restarting = Instant::now();
        let mut server = ServerProcess::start_with(self.dir, log, UNLIMITED).await;
        let restart = restarting.elapsed();
        let reading = Instant::now();
        let channel = server.connect().await;
        let mut tally = Tally::default();
        let found = verify::read_back(channel.clone()).await;
        verify::settle_clients(&mut clients, &found, &mut tally, placements::owns);
        placer.verify(channel.clone(), &found, &mut tally).await;
        verify::point_reads(channel, &found, &mut tally).await;
        for problem in clients.iter_mut().flat_map(|c| c.problems.drain(..)) {
            tally.broke(format!("a call failed before the cut: {problem}"));
        }
        for problem in placer.problems.drain(..) {
            tally.broke(format!("a call failed before the cut: {problem}"));
        }
        let read = reading.elapsed();
        server.expect_clean_exit().await;
        let checking = Instant::now();
        let check = check(self.dir).await;
        let checked = checking.elapsed();

        totals.cuts += 1;
        totals.acked += acked;
        totals.lost += tally.lost;
        totals.broken += tally.broken;
        totals.failed_checks += u32::from(check.is_err());
        println!(
            "cut {}/{}: {:.1} s of writes{}, {acked} acknowledged; lost {}{}, broken {}, check {}",
            self.cut,
            self.cuts,
            self.delay.as_secs_f64(),
            if self.imports { " with imports" } else { "" },
            tally.lost,
            by_kind(&tally),
            tally.broken,
            if check.is_ok() { "ok" } else { "FAILED" },
        );
        println!(
            "  found {} workers, {} openings; {} placement steps so far; cut-off writes kept \
             {}, dropped {}; took {:.1?} (start {:.1?}, clear-cache {cleared:.1?}, restart \
             {restart:.1?}, read-back {read:.1?}, check {checked:.1?})",
            found.workers.len(),
            found.openings.len(),
            placer.acked,
            tally.unsure_kept,
            tally.unsure_dropped,
            started.elapsed(),
            start,
        );
        for problem in &tally.problems {
            println!("  {problem}");
        }
        let more = (tally.lost + tally.broken).saturating_sub(tally.problems.len() as u64);
        if more > 0 {
            println!("  ... and {more} more");
        }
        if let Err(e) = check {
            println!("  jobbridge check: {e}");
        }
        let mut endings = BTreeMap::<&str, usize>::new();
        // The clients that wrote in this cut, and the placement client.
        let this_cut = clients[..ran].iter().map(|c| &c.ended_by);
        for ending in this_cut.chain([&placer.ended_by]) {
            *endings.entry(ending).or_default() += 1;
        }
        println!("  last calls failed with: {endings:?}");
        Writers { clients, placer }
    }
}

/// " (3 workers, 1 placement step)": what the lost writes were, if any.
fn by_kind(tally: &Tally) -> String {
    if tally.lost == 0 {
        return String::new();
    }
    let kinds: Vec<String> = tally
        .lost_by_kind
        .iter()
        .map(|(kind, n)| format!("{n} {kind}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    format!(" ({})", kinds.join(", "))
}

/// Waits for a client task to notice that the server is gone.
async fn join<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(STOP_DEADLINE, task)
        .await
        .expect("a client did not notice that the server was killed")
        .expect("client task panicked")
}

/// Runs `jobbridge check`; the start of its output if it failed.
async fn check(dir: &Path) -> Result<(), String> {
    server::run_check(dir).await.map_err(|text| {
        let lines: Vec<&str> = text.lines().take(20).collect();
        lines.join("\n  ")
    })
}

/// Counts over every cut so far.
#[derive(Default)]
struct Totals {
    cuts: u32,
    acked: u64,
    lost: u64,
    broken: u64,
    failed_checks: u32,
    /// Every cut ran: the totals are the result, not an interruption's.
    finished: bool,
}

impl Totals {
    fn line(&self) -> String {
        format!(
            "cuts: {}, acknowledged writes: {}, lost: {}, broken: {}, failed checks: {}",
            self.cuts, self.acked, self.lost, self.broken, self.failed_checks
        )
    }
}

impl Drop for Totals {
    /// A panic (a server that does not come back, say) still reports the
    /// cuts before it.
    fn drop(&mut self) {
        if std::thread::panicking() && !self.finished {
            println!(
                "stopped by a failure in cut {}; before it: {}",
                self.cuts + 1,
                self.line()
            );
        }
    }
}

fn seed() -> u64 {
    let seed = match std::env::var("JOBBRIDGE_POWERCUT_SEED") {
        Ok(s) => s.parse().expect("JOBBRIDGE_POWERCUT_SEED must be a u64"),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos() as u64,
    };
    println!("seed {seed} (replay with JOBBRIDGE_POWERCUT_SEED={seed})");
    seed
}
