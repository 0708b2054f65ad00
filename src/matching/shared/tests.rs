//! Liveness and consistency of the shared index: ranking on a small rayon
//! pool while writers write in a loop must never hang, and every write is
//! visible to the next reader.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::{IndexOp, Matcher};
use crate::domain::EmploymentStatus;
use crate::matching::{MatchConfig, MatchContext, OpeningsQuery, Ranking, WorkersQuery};

fn demo_matcher(scale: f64) -> (Matcher, Vec<crate::domain::Worker>, Vec<String>) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let data = crate::demo::generate(scale, 7, 2026, today);
    let opening_ids = data.openings.iter().map(|o| o.id.clone()).collect();
    let workers = data.workers.clone();
    let matcher = Matcher::build(
        MatchConfig::default().normalised().unwrap(),
        data.workers,
        data.openings.into_iter().map(|o| {
            let f = o.filled;
            (o, f)
        }),
    );
    (matcher, workers, opening_ids)
}

fn ctx() -> MatchContext {
    MatchContext::now()
}

/// The deadlock seen in production: queries spawned onto a 2-thread rayon
/// pool (so that a thread waiting inside one query's parallel loop steals
/// another query) while a writer thread writes without pause. Joined with
/// a timeout: a hang fails the test instead of stalling the suite.
#[test]
fn ranking_on_rayon_never_hangs_behind_a_writer() {
    let (matcher, workers, openings) = demo_matcher(0.2);
    let matcher = Arc::new(matcher);
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let queries = Arc::new(AtomicU64::new(0));
    let writes = Arc::new(AtomicU64::new(0));
    let (done_tx, done_rx) = mpsc::channel::<&'static str>();

    let writer = {
        let (m, stop, writes, done) = (
            matcher.clone(),
            stop.clone(),
            writes.clone(),
            done_tx.clone(),
        );
        let workers = workers.clone();
        std::thread::spawn(move || {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let mut w = workers[i % workers.len()].clone();
                w.preferences.expected_monthly_wage = 2000 + (i % 500) as u32;
                m.update(|| Ok::<_, ()>(vec![IndexOp::PutWorker(w)]))
                    .unwrap();
                writes.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            done.send("writer").unwrap();
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let (m, stop, queries, done, pool) = (
                matcher.clone(),
                stop.clone(),
                queries.clone(),
                done_tx.clone(),
                pool.clone(),
            );
            let (workers, openings) = (workers.clone(), openings.clone());
            std::thread::spawn(move || {
                let mut i = r;
                while !stop.load(Ordering::Relaxed) {
                    // Several queries queued at once on the pool, as the
                    // server's handlers spawn them.
                    let (tx, rx) = mpsc::channel();
                    for k in 0..4 {
                        let (m, tx) = (m.clone(), tx.clone());
                        let o = openings[(i + k) % openings.len()].clone();
                        let w = workers[(i + k) % workers.len()].id.clone();
                        pool.spawn(move || {
                            let index = m.read();
                            let q = WorkersQuery {
                                top_k: 20,
                                counties: vec![],
                                max_distance_km: None,
                                min_score_micro: 0,
                            };
                            let _ = index.rank_workers(&o, &q, &ctx());
                            let q = OpeningsQuery {
                                top_k: 20,
                                sources: vec![],
                                counties: vec![],
                                max_distance_km: None,
                                min_wage: 0,
                                min_score_micro: 0,
                                ranking: Ranking::Net,
                                planned: None,
                            };
                            let _ = index.rank_openings(&w, &q, &ctx());
                            let _ = tx.send(());
                        });
                    }
                    drop(tx);
                    for _ in 0..4 {
                        rx.recv().unwrap();
                        queries.fetch_add(1, Ordering::Relaxed);
                    }
                    i += 4;
                }
                done.send("reader").unwrap();
            })
        })
        .collect();
    drop(done_tx);

    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    for _ in 0..5 {
        let who = done_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a reader or the writer hung (deadlock)");
        assert!(who == "reader" || who == "writer");
    }
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    assert!(queries.load(Ordering::Relaxed) > 0, "no query finished");
    assert!(writes.load(Ordering::Relaxed) > 0, "no write finished");
}

/// Every update is visible to the next reader, in both copies: the
/// published one and, after the next swap, the spare that caught up.
#[test]
fn each_write_is_seen_by_the_next_reader_in_either_copy() {
    let (matcher, workers, _) = demo_matcher(0.02);
    for (i, w) in workers.iter().take(50).enumerate() {
        let mut w = w.clone();
        w.employment_status = if i % 2 == 0 {
            EmploymentStatus::Unavailable
        } else {
            EmploymentStatus::Seeking
        };
        let status = w.employment_status;
        let id = w.id.clone();
        matcher
            .update(|| Ok::<_, ()>(vec![IndexOp::PutWorker(w)]))
            .unwrap();
        assert_eq!(matcher.read().worker_feat(&id).unwrap().status, status);
        matcher
            .update(|| Ok::<_, ()>(vec![IndexOp::RemoveWorker(id.clone())]))
            .unwrap();
        assert!(matcher.read().worker_feat(&id).is_none());
    }
    // The two copies agree: one more no-op-free write brings the spare
    // up to date and publishes it.
    let last = workers[60].clone();
    matcher
        .update(|| Ok::<_, ()>(vec![IndexOp::PutWorker(last)]))
        .unwrap();
    let a = matcher.read();
    matcher
        .update(|| Ok::<_, ()>(vec![IndexOp::RemoveWorker("nobody".into())]))
        .unwrap();
    let b = matcher.read();
    assert!(!Arc::ptr_eq(&a, &b), "a write publishes the other copy");
    assert_eq!(a.worker_count(), b.worker_count());
    for w in workers.iter().take(61) {
        assert_eq!(
            a.worker_feat(&w.id).map(|f| f.status),
            b.worker_feat(&w.id).map(|f| f.status),
            "{}",
            w.id
        );
    }
}

/// A reader that keeps its snapshot (the batch does, for minutes) does not
/// hold writes up: after the wait limit the writer clones, and the reader
/// still sees its old, unchanged snapshot.
#[test]
fn a_long_reader_makes_the_writer_clone_not_wait() {
    let (matcher, workers, _) = demo_matcher(0.02);
    let id = workers[0].id.clone();
    // Publish once so that the held snapshot below is the next spare.
    matcher
        .update(|| Ok::<_, ()>(vec![IndexOp::RemoveWorker("nobody".into())]))
        .unwrap();
    let held = matcher.read();
    let before = held.worker_count();
    for _ in 0..3 {
        matcher
            .update(|| Ok::<_, ()>(vec![IndexOp::RemoveWorker(id.clone())]))
            .unwrap();
    }
    assert!(matcher.spare_clones() >= 1);
    assert_eq!(held.worker_count(), before, "a snapshot never changes");
    assert!(held.worker_feat(&id).is_some());
    assert!(matcher.read().worker_feat(&id).is_none());
    assert_eq!(matcher.read().worker_count(), before - 1);
}
