//! The write path against the store: whatever order concurrent writers
//! reach the index in, the index ends with what the store holds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::Duration;

use crate::batch::BatchSettings;
use crate::domain::Worker;
use crate::testing;

fn demo_workers(n: usize) -> Vec<Worker> {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let mut w = crate::demo::generate(0.02, 3, 2026, today).workers;
    w.truncate(n);
    w
}

/// Rounds of four writers released together, each writing the same worker
/// with its own expected wage, while readers hold snapshots (so that
/// writers queue for the index and reach it in any order). After each
/// round the wage in the index must be the one the store kept. Writing the
/// values just committed, instead of re-reading them under the writer
/// mutex, fails this within a few rounds.
#[test]
fn the_index_ends_with_the_stores_last_word_under_racing_writers() {
    let dir = tempfile::tempdir().unwrap();
    let service = testing::service_with(dir.path(), 0xab, None, BatchSettings::default());
    let store = service.store().clone();
    let worker = demo_workers(1).remove(0);
    let done = AtomicBool::new(false);
    let mut mismatch = None;
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (service, done) = (&service, &done);
            s.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let snapshot = service.matcher().read();
                    std::thread::sleep(Duration::from_millis(1));
                    drop(snapshot);
                }
            });
        }
        for round in 0..200u32 {
            let barrier = Barrier::new(4);
            std::thread::scope(|w| {
                for t in 0..4u32 {
                    let (service, barrier, worker) = (&service, &barrier, &worker);
                    w.spawn(move || {
                        let mut w = worker.clone();
                        w.preferences.expected_monthly_wage = 1000 + round * 10 + t;
                        barrier.wait();
                        service.writer.put_workers(vec![w]).unwrap()[0]
                            .as_ref()
                            .unwrap();
                    });
                }
            });
            let stored = store.worker(&worker.id).unwrap().unwrap();
            let indexed = service
                .matcher()
                .read()
                .worker_feat(&worker.id)
                .unwrap()
                .expected_wage;
            if indexed != stored.preferences.expected_monthly_wage {
                mismatch = Some((round, indexed, stored.preferences.expected_monthly_wage));
                break;
            }
        }
        // Stop the readers before any assertion, or a failure would leave
        // the scope waiting for them forever.
        done.store(true, Ordering::Relaxed);
    });
    assert_eq!(
        mismatch, None,
        "(round, wage in the index, wage in the store): the index kept an older write"
    );
}
