//! National id numbers are personal data: stored only as a keyed hash,
//! never returned, and still unique per person. Against the real server on
//! 127.0.0.1:0 with a temporary data directory.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{national_id, opening, worker, TestServer};
use jobbridge::api::pb;
use jobbridge::config::Config;
use jobbridge::domain::IdKey;
use jobbridge::server::ServeError;
use jobbridge::store::Store;
use prost::Message;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

/// A national id number whose check character is `X`, and its index.
fn national_id_with_x() -> (u32, String) {
    (60_000..61_000)
        .map(|n| (n, national_id(n)))
        .find(|(_, id)| id.ends_with('X'))
        .expect("some id in the range ends in X")
}

/// Every 10-byte window of the number, in both cases of a final X: no part
/// of it that could identify the person may appear. (Shorter runs do appear
/// on their own: the county code and the birth year are fields too.)
fn pieces(national_id: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for form in [
        national_id.to_ascii_uppercase(),
        national_id.to_ascii_lowercase(),
    ] {
        for window in form.as_bytes().windows(10) {
            out.push(window.to_vec());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Asserts that no piece of any of `ids`, nor of their stored hashes, is in
/// `bytes` (one encoded reply).
fn assert_clean(bytes: &[u8], ids: &[String], key: &IdKey, what: &str) {
    for id in ids {
        for piece in pieces(id) {
            assert!(
                !contains(bytes, &piece),
                "{what} carries part of national id {id}: {:?}",
                String::from_utf8_lossy(&piece)
            );
        }
        let hash = key.hash(id);
        for piece in hash.as_bytes()[hash.len() - 64..].windows(16) {
            assert!(
                !contains(bytes, piece),
                "{what} carries the stored hash of {id}"
            );
        }
    }
}

/// The encoded status as a client receives it: message and details.
fn status_bytes(e: &Status) -> Vec<u8> {
    let mut bytes = e.message().as_bytes().to_vec();
    bytes.extend_from_slice(e.details());
    bytes
}

fn assert_duplicate(e: &Status, context: &str) {
    assert_eq!(e.code(), Code::AlreadyExists, "{context}: {e}");
    assert!(
        e.message().starts_with("worker.national_id"),
        "{context}: {}",
        e.message()
    );
    let details = e.get_details_bad_request().expect("BadRequest detail");
    assert_eq!(details.field_violations[0].field, "worker.national_id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_person_in_another_county_is_already_exists_in_either_case_of_x() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let (n, x_id) = national_id_with_x();
    let mut first = worker(n);
    first.national_id = x_id.clone();
    c.create_worker(pb::CreateWorkerRequest {
        worker: Some(first.clone()),
    })
    .await
    .expect("first registration");

    // The same person registered again by another county's company, once
    // with the upper-case and once with the lower-case check character.
    for (i, id) in [x_id.clone(), x_id.to_ascii_lowercase()].iter().enumerate() {
        let mut again = worker(n + 1);
        again.id = format!("w-again-{i}");
        again.household_id = format!("hh-again-{i}");
        again.county_code = "431221".into();
        again.site_id = "site-431221-001".into();
        again.service_company_id = "esc-431221".into();
        again.national_id = id.clone();
        let e = c
            .create_worker(pb::CreateWorkerRequest {
                worker: Some(again.clone()),
            })
            .await
            .unwrap_err();
        assert_duplicate(&e, &format!("create with {id}"));
        assert_clean(
            &status_bytes(&e),
            std::slice::from_ref(&x_id),
            &server.id_key,
            "create status",
        );
        let e = c
            .upsert_worker(pb::UpsertWorkerRequest {
                worker: Some(again.clone()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_duplicate(&e, &format!("upsert with {id}"));
        let reply = c
            .import_workers(tokio_stream::iter(vec![pb::ImportWorkersRequest {
                worker: Some(again),
                ..Default::default()
            }]))
            .await
            .expect("import")
            .into_inner();
        assert_eq!((reply.accepted, reply.rejected), (0, 1), "{reply:?}");
        assert_eq!(reply.errors[0].field, "worker.national_id");
    }
    assert_eq!(server.store.worker_count(), 1);
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reply_carries_any_part_of_a_national_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let key = server.id_key.clone();
    let mut c = server.workers();
    let (x_index, x_id) = national_id_with_x();
    let mut with_x = worker(x_index);
    with_x.national_id = x_id.to_ascii_lowercase();
    let ids: Vec<String> = (1..=4).map(national_id).chain([x_id.clone()]).collect();

    let created = c
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(worker(1)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_clean(&created.encode_to_vec(), &ids, &key, "CreateWorker");
    let upserted = c
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(with_x),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_clean(&upserted.encode_to_vec(), &ids, &key, "UpsertWorker");
    let mut twin = worker(5);
    twin.national_id = national_id(1);
    let rows = [worker(2), worker(3), worker(4), twin];
    let imported = c
        .import_workers(tokio_stream::iter(rows.map(|w| pb::ImportWorkersRequest {
            worker: Some(w),
            ..Default::default()
        })))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((imported.accepted, imported.rejected), (3, 1));
    assert_clean(&imported.encode_to_vec(), &ids, &key, "ImportWorkers");

    for id in ["w-000001", "w-000002", &format!("w-{x_index:06}")] {
        let got = c
            .get_worker(pb::GetWorkerRequest { id: id.into() })
            .await
            .unwrap()
            .into_inner();
        assert!(got.worker.as_ref().unwrap().national_id.is_empty());
        assert_clean(&got.encode_to_vec(), &ids, &key, "GetWorker");
    }
    let listed = c
        .list_workers(pb::ListWorkersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.workers.len(), 5);
    assert!(listed.workers.iter().all(|w| w.national_id.is_empty()));
    assert_clean(&listed.encode_to_vec(), &ids, &key, "ListWorkers");
    let household = c
        .get_household(pb::GetHouseholdRequest {
            household_id: "hh-000001".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_clean(&household.encode_to_vec(), &ids, &key, "GetHousehold");

    server
        .openings()
        .create_opening(pb::CreateOpeningRequest {
            opening: Some(opening(1)),
        })
        .await
        .unwrap();
    let mut m = server.matching();
    let matches = m
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: "o-000001".into(),
            top_k: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!matches.matches.is_empty());
    assert_clean(
        &matches.encode_to_vec(),
        &ids,
        &key,
        "MatchWorkersForOpening",
    );
    let explained = m
        .explain_match(pb::ExplainMatchRequest {
            worker_id: "w-000001".into(),
            opening_id: "o-000001".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_clean(&explained.encode_to_vec(), &ids, &key, "ExplainMatch");
    server.stop().await;
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_never_holds_a_clear_national_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let key = server.id_key.clone();
    let mut c = server.workers();
    let (x_index, x_id) = national_id_with_x();
    let mut with_x = worker(x_index);
    with_x.national_id = x_id.to_ascii_lowercase();
    c.create_worker(pb::CreateWorkerRequest {
        worker: Some(worker(1)),
    })
    .await
    .unwrap();
    c.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(with_x),
        ..Default::default()
    })
    .await
    .unwrap();
    let rows: Vec<_> = (2..300)
        .map(|n| pb::ImportWorkersRequest {
            worker: Some(worker(n)),
            ..Default::default()
        })
        .collect();
    let reply = c
        .import_workers(tokio_stream::iter(rows))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.accepted, 298);
    // An OK means flushed; stopping flushes whatever else is left.
    server.stop().await;

    let contents: Vec<(std::path::PathBuf, Vec<u8>)> = files(dir.path())
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    let all: Vec<u8> = contents.iter().flat_map(|(_, b)| b.clone()).collect();
    // The scan sees the records: their hashes are there.
    assert!(
        contains(&all, key.hash(&national_id(1)).as_bytes()),
        "no stored hash found: the scan reads nothing"
    );
    let ids: Vec<String> = (1..300).map(national_id).chain([x_id]).collect();
    for (path, bytes) in &contents {
        for id in &ids {
            for form in [id.to_ascii_uppercase(), id.to_ascii_lowercase()] {
                assert!(
                    !contains(bytes, form.as_bytes()),
                    "{} holds national id {form}",
                    path.display()
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    c.create_worker(pb::CreateWorkerRequest {
        worker: Some(worker(1)),
    })
    .await
    .unwrap();
    let key = server.id_key.clone();
    server.stop().await;

    // In the library: the server does not start.
    let other = IdKey::new(vec![0x42; 32]).unwrap();
    let store = std::sync::Arc::new(crate::common::reopen(dir.path()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = Config {
        id_key: Some(other.clone()),
        ..Config::in_process()
    };
    let result = jobbridge::server::open_and_run(listener, store.clone(), options, async {}).await;
    match result {
        Err(ServeError::IdKey(message)) => {
            assert!(message.contains("fingerprint"), "{message}");
            assert!(message.contains(&other.fingerprint()[..16]), "{message}");
            assert!(message.contains(&key.fingerprint()[..16]), "{message}");
        }
        other => panic!("a different key must be refused, got {other:?}"),
    }
    drop(store);

    // The binary: `serve` exits with the error, `check` fails too.
    let data_dir = dir.path().to_path_buf();
    let other_hex = "42".repeat(32);
    let serve_args = ["serve", "--listen", "127.0.0.1:0", "--no-schedule"];
    let (ok, stderr) = run_binary(&serve_args, &data_dir, Some(&other_hex)).await;
    assert!(!ok, "serve started with another key");
    assert!(stderr.contains("fingerprint"), "{stderr}");
    assert!(!stderr.contains(&other_hex), "the key is printed: {stderr}");
    let (ok, stderr) = run_binary(&["check"], &data_dir, Some(&other_hex)).await;
    assert!(!ok, "check accepted another key");
    assert!(stderr.contains("fingerprint"), "{stderr}");

    // With its own key the directory works as before.
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let e = c
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(worker(1)),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    server.stop().await;
    let key_file = data_dir.join("elsewhere.key");
    std::fs::write(&key_file, format!("{}\n", "42".repeat(32))).unwrap();
    let key_file = key_file.to_str().unwrap();
    let (ok, _) = run_binary(&["check", "--id-key-file", key_file], &data_dir, None).await;
    assert!(!ok, "check ignored the --id-key-file key");
    let (ok, output) = run_binary(&["check"], &data_dir, None).await;
    assert!(ok, "{output}");
    assert!(
        output.contains("the national id key is the store's"),
        "{output}"
    );
}

/// Runs the binary with `args` on `data_dir` (and `JOBBRIDGE_ID_KEY` set to
/// `key`, or unset) until it exits; returns whether it succeeded, and its
/// stdout and stderr. Tries again while sled's lock of a store just closed
/// by this process keeps the directory from opening; kills a run that is
/// still going after 30 s.
async fn run_binary(args: &[&str], data_dir: &Path, key: Option<&str>) -> (bool, String) {
    for _ in 0..100 {
        let mut command = Command::new(crate::common::binary());
        command
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match key {
            Some(key) => command.env("JOBBRIDGE_ID_KEY", key),
            None => command.env_remove("JOBBRIDGE_ID_KEY"),
        };
        let mut child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{args:?} still running after 30 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let mut output = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut output).unwrap();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut output).unwrap();
        if output.contains("cannot open data directory") {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        return (status.success(), output);
    }
    panic!("{args:?}: the data directory stayed locked");
}

/// A store holding `workers` as a build from before hashing left them:
/// clear national ids and no key bound. (The older format version number is
/// covered by the store's own tests.)
fn store_with_clear_ids(dir: &Path, workers: &[pb::Worker]) -> Store {
    let store = Store::open(dir).unwrap();
    let domain: Vec<_> = workers
        .iter()
        .map(|w| {
            let mut w = jobbridge::domain::Worker::try_from(w.clone()).unwrap();
            // Stored whole, as this format keeps ids (bare ids of an older
            // format are the store's own upgrade tests' business).
            w.scope_ids();
            w
        })
        .collect();
    for result in store.put_workers(&domain).unwrap() {
        result.unwrap();
    }
    store.flush_blocking().unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_with_clear_ids_is_upgraded_at_the_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let (x_index, x_id) = national_id_with_x();
    let mut with_x = worker(x_index);
    with_x.national_id = x_id.to_ascii_lowercase();
    let mut old: Vec<pb::Worker> = (1..=2500).map(worker).collect();
    old.push(with_x);
    let store = store_with_clear_ids(dir.path(), &old);
    assert_eq!(store.id_key_fingerprint().unwrap(), None);

    let server = TestServer::start_on(store, Config::in_process()).await;
    let key = server.id_key.clone();
    let mut c = server.workers();
    // The first answer comes once the server has bound the key (and so
    // upgraded the store).
    let got = c
        .get_worker(pb::GetWorkerRequest {
            id: "w-000001".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(got.worker.unwrap().national_id.is_empty());
    for w in &old {
        // Upgraded ids are whole (format 5 qualifies them with the county).
        let stored = server
            .store
            .worker(&crate::common::whole_id(&w.id, &w.county_code))
            .unwrap()
            .unwrap();
        assert_eq!(stored.national_id, key.hash(&w.national_id), "{}", w.id);
    }
    assert_eq!(
        server.store.id_key_fingerprint().unwrap(),
        Some(key.fingerprint())
    );
    server
        .store
        .verify()
        .expect("records and index upgraded together");
    // Duplicates are still found, through the hashes.
    let mut twin = worker(9000);
    twin.national_id = national_id(7);
    let e = c
        .create_worker(pb::CreateWorkerRequest { worker: Some(twin) })
        .await
        .unwrap_err();
    assert_duplicate(&e, "twin of an upgraded worker");
    let mut twin = worker(9001);
    twin.national_id = x_id.clone();
    let e = c
        .create_worker(pb::CreateWorkerRequest { worker: Some(twin) })
        .await
        .unwrap_err();
    assert_duplicate(&e, "upper-case X twin of an upgraded lower-case x");
    // A worker may take its own national id again.
    c.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(worker(7)),
        ..Default::default()
    })
    .await
    .expect("upsert with its own national id");
    server.stop().await;

    // The next start finds nothing left to upgrade and the same answers.
    let server = TestServer::start(dir.path()).await;
    assert_eq!(server.store.worker_count(), old.len());
    server.store.verify().unwrap();
    server.stop().await;
}
