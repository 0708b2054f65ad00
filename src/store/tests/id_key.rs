//! Binding the national id key, and upgrading a directory from before
//! national ids were hashed.

use super::*;
use crate::domain::identity::is_hashed;
use crate::domain::IdKey;

fn key(byte: u8) -> IdKey {
    IdKey::new(vec![byte; 32]).unwrap()
}

/// `count` (under 100) workers with clear national ids, one of them with a
/// lower-case x that nobody else has, written as an older build did, in a
/// directory of the older format version.
fn old_directory(dir: &std::path::Path, count: u8) -> Vec<Worker> {
    let x = (100..=255u8)
        .find(|&n| nid(n).ends_with('X'))
        .expect("some id ends in X");
    let workers: Vec<Worker> = (0..count)
        .map(|i| {
            let mut w = worker(&Spec {
                id: i,
                county: usize::from(i % 2),
                site: i % 3,
                household: i % 4,
                status: usize::from(i % 3),
                nid: i,
            });
            if i == 0 {
                w.national_id = nid(x).to_ascii_lowercase();
            }
            w
        })
        .collect();
    let store = Store::open(dir).unwrap();
    for result in store.put_workers(&workers).unwrap() {
        result.unwrap();
    }
    store
        .meta
        .insert(FORMAT_KEY, &CLEAR_ID_FORMAT.to_be_bytes())
        .unwrap();
    store.flush_blocking().unwrap();
    workers
}

/// The id `w` has once its directory is upgraded to scoped ids.
fn scoped_id(w: &Worker) -> String {
    crate::domain::scoped::qualify(&w.county_code, &w.id)
}

fn format_version(store: &Store) -> u32 {
    let v = store.meta.get(FORMAT_KEY).unwrap().unwrap();
    u32::from_be_bytes(v.as_ref().try_into().unwrap())
}

#[test]
fn binding_hashes_the_clear_ids_of_an_older_directory() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_directory(dir.path(), 30);
    let store = reopen(dir.path()).expect("the older format opens");
    // Its ids were qualified at open; its national ids wait for a key.
    assert_eq!(format_version(&store), FORMAT_VERSION);
    assert!(store.id_key_fingerprint().unwrap().is_none());
    let before: Vec<Worker> = store.workers().collect::<Result<_, _>>().unwrap();

    let bound = store.bind_id_key(&key(1)).unwrap();
    assert_eq!(
        bound,
        Bound {
            recorded: true,
            hashed: old.len()
        }
    );
    assert_eq!(format_version(&store), FORMAT_VERSION);
    assert_eq!(
        store.id_key_fingerprint().unwrap(),
        Some(key(1).fingerprint())
    );
    for (was, w) in before.iter().zip(store.workers()) {
        let w = w.unwrap();
        assert_eq!(w.national_id, key(1).hash(&was.national_id));
        // Only the national id changed, timestamps included.
        assert_eq!(
            Worker {
                national_id: was.national_id.clone(),
                ..w
            },
            *was
        );
    }
    store
        .verify()
        .expect("records and the unique index moved together");

    // The same person, in either case of X, is still one worker.
    let mut twin = worker(&Spec {
        id: 99,
        county: 0,
        site: 0,
        household: 0,
        status: 0,
        nid: 0,
    });
    twin.national_id = key(1).hash(&old[0].national_id.to_ascii_uppercase());
    assert!(matches!(
        store.put_worker(twin.clone(), PutMode::Create),
        Err(StoreError::Duplicate {
            field: "worker.national_id",
            ..
        })
    ));
    twin.national_id = key(1).hash(&old[7].national_id);
    assert!(matches!(
        store.put_worker(twin, PutMode::Create),
        Err(StoreError::Duplicate { .. })
    ));

    // Binding again does nothing; another key is refused.
    assert_eq!(
        store.bind_id_key(&key(1)).unwrap(),
        Bound {
            recorded: false,
            hashed: 0
        }
    );
    assert!(matches!(
        store.bind_id_key(&key(2)),
        Err(StoreError::IdKeyMismatch { .. })
    ));
    assert!(matches!(
        store.check_id_key(&key(2)),
        Err(StoreError::IdKeyMismatch { .. })
    ));
    assert!(store.check_id_key(&key(1)).unwrap());
}

#[test]
fn an_upgrade_cut_short_is_finished_by_the_same_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_directory(dir.path(), 12);
    let store = reopen(dir.path()).unwrap();
    // As if the process died after recording the key and hashing one record.
    let mut batch = sled::Batch::default();
    batch.insert(&b"id_key_fingerprint"[..], key(1).fingerprint().as_bytes());
    batch.insert(&b"id_key_upgrade_pending"[..], &[][..]);
    store.meta.apply_batch(batch).unwrap();
    let mut first = store.worker(&scoped_id(&old[3])).unwrap().unwrap();
    first.national_id = key(1).hash(&first.national_id);
    store.put_worker(first, PutMode::Upsert).unwrap();
    assert!(
        store.verify().is_ok(),
        "clear ids are allowed while pending"
    );

    let e = store.bind_id_key(&key(2)).unwrap_err();
    assert!(e.to_string().contains("fingerprint"), "{e}");
    let bound = store.bind_id_key(&key(1)).unwrap();
    assert_eq!(
        bound,
        Bound {
            recorded: false,
            hashed: old.len() - 1
        }
    );
    for was in &old {
        let w = store.worker(&scoped_id(was)).unwrap().unwrap();
        assert_eq!(w.national_id, key(1).hash(&was.national_id));
    }
    assert_eq!(format_version(&store), FORMAT_VERSION);
    store.verify().unwrap();
}

#[test]
fn a_fresh_store_records_the_first_key_and_verify_finds_clear_ids() {
    let (_dir, store) = temp_store();
    assert_eq!(format_version(&store), FORMAT_VERSION);
    assert!(!store.check_id_key(&key(1)).unwrap(), "no key bound yet");
    assert_eq!(
        store.bind_id_key(&key(1)).unwrap(),
        Bound {
            recorded: true,
            hashed: 0
        }
    );
    let mut w = worker(&Spec::numbered(1));
    w.national_id = key(1).hash(&w.national_id);
    store.put_worker(w.clone(), PutMode::Create).unwrap();
    store.verify().unwrap();
    assert!(is_hashed(&store.worker("w1").unwrap().unwrap().national_id));

    // A clear id written past the API into a bound store is damage.
    let mut clear = w;
    clear.id = "w2".into();
    clear.national_id = nid(2);
    store.put_worker(clear, PutMode::Create).unwrap();
    match store.verify() {
        Err(StoreError::Corruption(m)) => assert!(m.contains("\"w2\""), "{m}"),
        other => panic!("a clear id must be found, got {other:?}"),
    }
}
