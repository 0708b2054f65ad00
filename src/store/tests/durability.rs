//! An acknowledged write is synced, and a full disk refuses writes whole.

use std::sync::Arc;

use super::*;

fn spec(id: u8) -> Spec {
    Spec {
        id,
        county: usize::from(id % 2),
        site: id % 3,
        household: id % 4,
        status: 0,
        nid: id,
    }
}

/// Many writers at once, each waiting for its group flush: when `sync`
/// answers OK, a flush that began after the write has reached
/// `fdatasync`. Without the sync in `Disk::flush` the count never moves
/// and every assertion fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_follows_an_fdatasync_begun_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let mut tasks = Vec::new();
    for t in 0..16u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..20u8 {
                let store2 = store.clone();
                let after_write = tokio::task::spawn_blocking(move || {
                    let mut w = worker(&spec(t));
                    w.site_id = format!("s{round}");
                    store2.put_worker(w, PutMode::Upsert).unwrap();
                    store2.disk.flushes_started()
                })
                .await
                .unwrap();
                store.sync().await.unwrap();
                let synced = store.disk.syncs();
                assert!(
                    synced > after_write,
                    "OK after {synced} syncs, but {after_write} flushes had begun by the write"
                );
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn a_full_disk_refuses_every_kind_of_write_and_stores_nothing_of_it() {
    let (dir, store) = temp_store();
    let kept = worker(&spec(1));
    store.put_worker(kept.clone(), PutMode::Upsert).unwrap();
    let reserve = store.disk_space().reserve_bytes;
    store.disk.gate().fake_free(Some(reserve - 1));
    assert!(!store.disk_space().writable);

    let full = |r: Result<(), StoreError>| match r {
        Err(StoreError::DiskFull { reserve_bytes, .. }) => assert_eq!(reserve_bytes, reserve),
        other => panic!("not refused for a full disk: {other:?}"),
    };
    full(
        store
            .put_worker(worker(&spec(2)), PutMode::Upsert)
            .map(|_| ()),
    );
    full(store.put_workers(&[worker(&spec(3))]).map(|_| ()));
    full(
        store
            .put_opening(opening("o-1"), PutMode::Upsert)
            .map(|_| ()),
    );
    full(store.delete_worker(&kept.id).map(|_| ()));
    full(store.next_run_id().map(|_| ()));
    full(
        store
            .create_token(
                crate::domain::access::Role::Admin,
                &Default::default(),
                "t",
                "test",
            )
            .map(|_| ()),
    );
    let message = store
        .put_worker(worker(&spec(4)), PutMode::Upsert)
        .unwrap_err()
        .to_string();
    assert!(message.contains("disk is full"), "{message}");
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );

    // Reads go on, and nothing of the refused writes is there.
    assert_eq!(store.worker_count(), 1);
    assert_eq!(store.opening_count(), 0);
    assert!(store.worker(&kept.id).unwrap().is_some());
    assert!(store.worker("w2").unwrap().is_none());

    // Space freed: writes are accepted again.
    store.disk.gate().fake_free(None);
    assert!(store.disk_space().writable);
    store.put_worker(worker(&spec(2)), PutMode::Upsert).unwrap();
    assert_eq!(store.worker_count(), 2);
}

#[tokio::test]
async fn audit_entries_wait_in_memory_while_the_disk_is_full() {
    let (_dir, store) = temp_store();
    store.disk.gate().fake_free(Some(0));
    let seq = store
        .audit(AuditEntry {
            at_ms: 1,
            token_id: "tok".into(),
            method: "/jobbridge.v1.Workers/GetWorker".into(),
            ..Default::default()
        })
        .unwrap();
    // The group flush still runs (writes admitted before the disk filled
    // must be made durable); the entry is kept for later.
    store.sync().await.unwrap();
    assert!(store.audit_log.has_queued());
    store.disk.gate().fake_free(None);
    store.sync().await.unwrap();
    assert!(!store.audit_log.has_queued());
    let log = store.audit_log(0, None, 10).unwrap();
    assert!(log.iter().any(|e| e.seq == seq), "{log:?}");
}
