//! Crash durability of concurrent placement accepts in the real binary.
//!
//! 64 workers are proposed offline (through the library) to one opening of
//! headcount 10. Then, three times over the same data directory, `jobbridge
//! serve` runs as a child while every still PROPOSED placement is accepted
//! at once, and the child is SIGKILLed while the accepts are in flight.
//! After a restart, every acknowledged accept must be ACCEPTED, the
//! opening's `filled` must be exactly its ACCEPTED placements (never more
//! than the headcount: no slot counted twice, none lost), the workers'
//! statuses must agree with their placements, and `jobbridge check` must
//! pass. The last cycle then accepts the rest without a kill: exactly the
//! free slots are taken.
//!
//! The delays come from a seeded RNG. The seed is printed;
//! `JOBBRIDGE_CRASH_SEED=<seed>` replays the same delays (the interleaving
//! with the kill still varies from run to run).

mod common;
#[path = "crash/server.rs"]
mod server;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Channel, Clients};
use jobbridge::api::pb;
use jobbridge::api::pb::placement_service_client::PlacementServiceClient;
use jobbridge::api::pb::workers_client::WorkersClient;
use jobbridge::domain::{Opening, Worker};
use jobbridge::store::{Proposal, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use server::{check_indexes, ServerProcess, STOP_DEADLINE};
use tokio::sync::Notify;
use tonic::{Code, Status};

const WORKERS: u32 = 64;
const HEADCOUNT: u32 = 10;
const CYCLES: u32 = 3;
const OPENING_ID: &str = "o-000007";
/// How long the first accept may take to be sent.
const FIRST_SEND_DEADLINE: Duration = Duration::from_secs(20);

type Placements = PlacementServiceClient<Channel>;

/// What one accept call came to.
#[derive(Debug)]
enum Outcome {
    /// OK: the placement is ACCEPTED, durably.
    Acked,
    /// FAILED_PRECONDITION "no free slot" before the kill.
    Full,
    /// Failed after the kill was sent: may or may not have been applied.
    CutOff(Code),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_concurrent_accepts_counts_no_slot_twice_and_loses_none() {
    let seed = seed();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = tempfile::tempdir().expect("temp dir");
    let all = seed_store(dir.path());
    assert_eq!(all.len(), WORKERS as usize);

    // ACCEPTED placements seen by the previous verification: a later cycle
    // may add to them but never lose one.
    let mut accepted_before = BTreeSet::<String>::new();
    let mut proposed = all.clone();
    for cycle in 1..=CYCLES {
        let mut server =
            ServerProcess::start(dir.path(), logs.path().join(format!("{cycle}-accept.log"))).await;
        let channel = server.connect().await;
        let filled_before = filled(&channel).await;
        assert_eq!(
            filled_before as usize,
            accepted_before.len(),
            "cycle {cycle}"
        );
        let delays: Vec<Duration> = proposed
            .iter()
            .map(|_| Duration::from_millis(rng.random_range(0..=30)))
            .collect();
        let kill_after = Duration::from_millis(rng.random_range(5..=60));

        let killed = Arc::new(AtomicBool::new(false));
        let first_send = Arc::new(Notify::new());
        let tasks: Vec<_> = proposed
            .iter()
            .zip(delays)
            .map(|(id, delay)| {
                let mut c = Clients::new(channel.clone()).placements();
                let (id, killed, first_send) = (id.clone(), killed.clone(), first_send.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    first_send.notify_one();
                    let r = accept(&mut c, &id).await;
                    let outcome = classify(&id, r, killed.load(Ordering::SeqCst));
                    (id, outcome)
                })
            })
            .collect();
        if tokio::time::timeout(FIRST_SEND_DEADLINE, first_send.notified())
            .await
            .is_err()
        {
            panic!("no accept sent; server log:\n{}", server.log_tail());
        }
        let sent_at = Instant::now();
        tokio::time::sleep(kill_after).await;
        // Set before the signal: a failure seen after this is the kill's doing.
        killed.store(true, Ordering::SeqCst);
        server.kill();
        let killed_at = sent_at.elapsed();
        drop(server);
        drop(channel);

        let mut acked = BTreeSet::new();
        let mut outcomes = BTreeMap::<String, usize>::new();
        for t in tasks {
            let (id, outcome) = tokio::time::timeout(STOP_DEADLINE, t)
                .await
                .expect("an accept did not notice that the server was killed")
                .expect("accept task panicked");
            *outcomes.entry(format!("{outcome:?}")).or_default() += 1;
            if let Outcome::Acked = outcome {
                acked.insert(id);
            }
        }
        println!(
            "cycle {cycle}: {} PROPOSED, {filled_before} slots taken before; killed \
             {killed_at:?} after the first send (drawn {kill_after:?}); outcomes {outcomes:?}",
            proposed.len()
        );
        assert!(
            filled_before as usize + acked.len() <= HEADCOUNT as usize,
            "cycle {cycle}: {} accepts acknowledged with {filled_before} of {HEADCOUNT} slots \
             already taken: {acked:?}",
            acked.len()
        );

        let mut server =
            ServerProcess::start(dir.path(), logs.path().join(format!("{cycle}-verify.log"))).await;
        let channel = server.connect().await;
        let (accepted, still_proposed) =
            verify(&channel, &all, &acked, &accepted_before, cycle).await;
        println!(
            "  after restart: {} ACCEPTED ({} acknowledged this cycle), {} PROPOSED",
            accepted.len(),
            acked.len(),
            still_proposed.len()
        );

        if cycle == CYCLES {
            // Without a kill, exactly the free slots are taken.
            let filled_before = filled(&channel).await;
            let results = accept_all(&channel, &still_proposed).await;
            let mut newly = BTreeSet::new();
            for (id, r) in results {
                match classify(&id, r, false) {
                    Outcome::Acked => {
                        newly.insert(id);
                    }
                    Outcome::Full => {}
                    Outcome::CutOff(code) => unreachable!("{id}: {code:?} without a kill"),
                }
            }
            assert_eq!(
                newly.len(),
                (HEADCOUNT - filled_before) as usize,
                "accepting the rest must take exactly the {} free slots",
                HEADCOUNT - filled_before
            );
            assert_eq!(filled(&channel).await, HEADCOUNT);
            let before: BTreeSet<String> = accepted.iter().cloned().collect();
            let (accepted, _) = verify(&channel, &all, &newly, &before, cycle).await;
            assert_eq!(accepted.len(), HEADCOUNT as usize);
            drop(channel);
            server.expect_clean_exit().await;
            check_indexes(dir.path()).await;
        } else {
            drop(channel);
            server.expect_clean_exit().await;
            check_indexes(dir.path()).await;
        }
        accepted_before = accepted;
        proposed = still_proposed;
    }
}

/// Puts the opening and the workers and proposes the opening to each
/// worker, offline; returns the placement ids.
fn seed_store(dir: &Path) -> Vec<String> {
    let store = Store::open(dir).expect("open store");
    let opening = Opening::try_from(pb::Opening {
        headcount: HEADCOUNT,
        ..common::opening(7)
    })
    .expect("valid opening");
    assert_eq!(opening.id, OPENING_ID);
    for r in store.put_openings(&[opening]).expect("put opening") {
        r.expect("opening stored");
    }
    // Stored as the service stores them: ids whole (`431202/w-000100`).
    let workers: Vec<Worker> = (0..WORKERS)
        .map(|n| {
            let mut w = Worker::try_from(common::worker(100 + n)).expect("valid worker");
            w.scope_ids();
            w
        })
        .collect();
    for r in store.put_workers(&workers).expect("put workers") {
        r.expect("worker stored");
    }
    let ids = workers
        .iter()
        .map(|w| {
            let proposal = Proposal {
                worker_id: w.id.clone(),
                opening_id: OPENING_ID.into(),
                run_id: 0,
                score_micro: 500_000,
                zero_household: None,
            };
            store
                .propose(&proposal, "seed")
                .unwrap_or_else(|e| panic!("propose {}: {e}", w.id))
                .placement
                .id
        })
        .collect();
    store.verify().expect("seeded store verifies");
    store.flush_blocking().expect("flush");
    // Dropped here: sled holds a lock on the directory.
    ids
}

/// Checks the state after a restart against what was acknowledged; returns
/// the ACCEPTED and the PROPOSED placements of the opening.
async fn verify(
    channel: &Channel,
    all: &[String],
    acked: &BTreeSet<String>,
    accepted_before: &BTreeSet<String>,
    cycle: u32,
) -> (BTreeSet<String>, Vec<String>) {
    let clients = Clients::new(channel.clone());
    let (mut c, mut w) = (clients.placements(), clients.workers());
    let accepted = list_all(&mut c, pb::PlacementStatus::Accepted).await;
    let proposed = list_all(&mut c, pb::PlacementStatus::Proposed).await;
    let everything = list_all(&mut c, pb::PlacementStatus::Unspecified).await;
    let ids =
        |ps: &[pb::Placement]| -> BTreeSet<String> { ps.iter().map(|p| p.id.clone()).collect() };
    let accepted_ids = ids(&accepted);
    let proposed_ids = ids(&proposed);

    // Nothing appeared, vanished or went anywhere else.
    assert_eq!(
        ids(&everything),
        all.iter().cloned().collect::<BTreeSet<_>>(),
        "cycle {cycle}: the opening's placements"
    );
    assert_eq!(
        accepted.len() + proposed.len(),
        all.len(),
        "cycle {cycle}: every placement is ACCEPTED or PROPOSED"
    );
    for id in acked {
        let p = c
            .get(pb::GetPlacementRequest {
                placement_id: id.clone(),
            })
            .await
            .expect("get placement")
            .into_inner();
        assert_eq!(
            p.status,
            pb::PlacementStatus::Accepted as i32,
            "cycle {cycle}: acknowledged accept of {id} lost"
        );
    }
    assert!(
        accepted_ids.is_superset(acked),
        "cycle {cycle}: acknowledged {acked:?}, ACCEPTED {accepted_ids:?}"
    );
    assert!(
        accepted_ids.is_superset(accepted_before),
        "cycle {cycle}: ACCEPTED before {accepted_before:?}, now {accepted_ids:?}"
    );

    let filled = filled(channel).await;
    assert_eq!(
        filled as usize,
        accepted.len(),
        "cycle {cycle}: filled {filled} but {} ACCEPTED placements: {accepted_ids:?}",
        accepted.len()
    );
    assert!(
        filled <= HEADCOUNT,
        "cycle {cycle}: {filled} of {HEADCOUNT} slots filled"
    );

    for p in &accepted {
        assert_eq!(p.opening_id, OPENING_ID);
        let worker = get_worker(&mut w, &p.worker_id).await;
        assert_eq!(
            worker.employment_status,
            pb::EmploymentStatus::Placed as i32,
            "cycle {cycle}: worker {} of ACCEPTED {}",
            p.worker_id,
            p.id
        );
        assert_eq!(
            worker.active_placement_id, p.id,
            "cycle {cycle}: worker {}",
            p.worker_id
        );
    }
    for p in &proposed {
        let worker = get_worker(&mut w, &p.worker_id).await;
        assert_eq!(
            worker.employment_status,
            pb::EmploymentStatus::Seeking as i32,
            "cycle {cycle}: worker {} of PROPOSED {}",
            p.worker_id,
            p.id
        );
        assert_eq!(
            worker.active_placement_id, p.id,
            "cycle {cycle}: worker {}",
            p.worker_id
        );
    }
    // Listed in id order; keep that order for the next cycle.
    let proposed: Vec<String> = proposed.into_iter().map(|p| p.id).collect();
    assert_eq!(proposed.len(), proposed_ids.len());
    (accepted_ids, proposed)
}

async fn accept(c: &mut Placements, id: &str) -> Result<pb::Placement, Status> {
    c.accept(pb::AcceptRequest {
        placement_id: id.into(),
        actor: "esc-431202:clerk".into(),
    })
    .await
    .map(tonic::Response::into_inner)
}

/// Accepts every id at once, without delays.
async fn accept_all(
    channel: &Channel,
    ids: &[String],
) -> Vec<(String, Result<pb::Placement, Status>)> {
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let mut c = Clients::new(channel.clone()).placements();
            let id = id.clone();
            tokio::spawn(async move {
                let r = accept(&mut c, &id).await;
                (id, r)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("accept task panicked"));
    }
    results
}

/// What an accept's result means; panics on a result that no accept may
/// have (before the kill, only OK or "no free slot").
fn classify(id: &str, r: Result<pb::Placement, Status>, killed: bool) -> Outcome {
    match r {
        Ok(p) => {
            assert_eq!(p.id, id);
            assert_eq!(
                p.status,
                pb::PlacementStatus::Accepted as i32,
                "accept of {id} answered OK"
            );
            Outcome::Acked
        }
        Err(e) if e.code() == Code::FailedPrecondition && e.message().contains("no free slot") => {
            Outcome::Full
        }
        Err(e) if killed => Outcome::CutOff(e.code()),
        Err(e) => panic!("accept {id} failed before the kill: {e:?}"),
    }
}

/// Every placement of the opening in `status` (UNSPECIFIED: any), walking
/// small pages.
async fn list_all(c: &mut Placements, status: pb::PlacementStatus) -> Vec<pb::Placement> {
    let mut all = Vec::new();
    let mut token = String::new();
    for _ in 0..1000 {
        let page = c
            .list(pb::ListPlacementsRequest {
                page_size: 7,
                page_token: token.clone(),
                opening_id: OPENING_ID.into(),
                status: status as i32,
                ..Default::default()
            })
            .await
            .expect("list placements")
            .into_inner();
        assert!(page.placements.len() <= 7, "page too long");
        for p in &page.placements {
            assert_eq!(p.opening_id, OPENING_ID);
            if status != pb::PlacementStatus::Unspecified {
                assert_eq!(p.status, status as i32, "{} listed as {status:?}", p.id);
            }
        }
        all.extend(page.placements);
        if page.next_page_token.is_empty() {
            let mut sorted = all.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), all.len(), "a placement listed twice");
            return all;
        }
        token = page.next_page_token;
    }
    panic!("listing did not end");
}

async fn get_worker(c: &mut WorkersClient<Channel>, id: &str) -> pb::Worker {
    c.get_worker(pb::GetWorkerRequest { id: id.into() })
        .await
        .expect("get worker")
        .into_inner()
        .worker
        .expect("worker in reply")
}

async fn filled(channel: &Channel) -> u32 {
    Clients::new(channel.clone())
        .openings()
        .get_opening(pb::GetOpeningRequest {
            id: OPENING_ID.into(),
        })
        .await
        .expect("get opening")
        .into_inner()
        .opening
        .expect("opening in reply")
        .filled
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
