//! Backups taken while writers run, and restores of good, cut and
//! damaged files.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::*;

const THREADS: usize = 8;
/// Every this many operations a thread also proposes a placement.
const PROPOSE_EVERY: u32 = 5;

fn national_id(n: u32) -> String {
    let first17 = format!("{:017}", 43_120_219_700_000_000u64 + u64::from(n));
    format!("{first17}{}", national_id_check_char(first17.as_bytes()))
}

/// Thread `t`'s worker of operation `i`, its own household; `wage` marks
/// the write.
fn worker_of(id: String, n: u32, wage: u32) -> Worker {
    let mut w = worker(&Spec {
        id: 0,
        county: (n % 2) as usize,
        site: (n % 3) as u8,
        household: 0,
        status: 0,
        nid: 0,
    });
    w.household_id = format!("h-{id}");
    w.id = id;
    w.national_id = national_id(n);
    w.preferences.expected_monthly_wage = wage;
    w
}

fn new_worker(t: usize, i: u32) -> Worker {
    worker_of(format!("w-{t}-{i:06}"), t as u32 * 100_000 + i, 1000 + i)
}

/// Thread `t`'s counter: rewritten by every operation, in the same
/// transaction as the operation's new worker, with the operation's index.
fn counter(t: usize, i: u32) -> Worker {
    worker_of(format!("c-{t}"), 900_000 + t as u32, i)
}

fn wide_opening(t: usize) -> Opening {
    Opening {
        headcount: 1_000_000,
        ..opening(&format!("o-{t}"))
    }
}

/// Thread `t`'s operations until `stop`: operation `i` writes a new worker
/// and the counter in one transaction, and every [`PROPOSE_EVERY`]th
/// proposes the new worker for the thread's opening. `acked` is the count
/// of operations whose writes all returned.
fn write_until(store: &Store, t: usize, stop: &AtomicBool, acked: &AtomicU32) {
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let fresh = new_worker(t, i);
        let written = store.put_workers(&[fresh.clone(), counter(t, i)]).unwrap();
        for result in written {
            result.unwrap();
        }
        if i.is_multiple_of(PROPOSE_EVERY) {
            let proposal = proposal(&fresh.id, &format!("o-{t}"));
            store.propose(&proposal, "backup test").unwrap();
        }
        i += 1;
        acked.store(i, Ordering::SeqCst);
    }
}

/// Each tree's keys, counted by a full scan of `store`'s sled.
fn scan(store: &Store) -> u64 {
    store
        .db
        .tree_names()
        .iter()
        .map(|name| store.db.open_tree(name).unwrap().iter().count() as u64)
        .sum()
}

/// Backups taken, one after another, while the writers run.
const ROUNDS: usize = 4;

/// One backup: the operations acknowledged before it began and after it
/// ended, per thread.
struct Round {
    file: std::path::PathBuf,
    summary: BackupSummary,
    before: Vec<u32>,
    after: Vec<u32>,
}

#[test]
fn a_backup_during_writes_restores_every_acknowledged_write_and_no_half_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap());
    for t in 0..THREADS {
        store.put_opening(wide_opening(t), PutMode::Create).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Vec<AtomicU32>> = Arc::new((0..THREADS).map(|_| AtomicU32::new(0)).collect());
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, stop, acked) = (store.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || write_until(&store, t, &stop, &acked[t]))
        })
        .collect();
    let counts = || -> Vec<u32> { acked.iter().map(|a| a.load(Ordering::SeqCst)).collect() };
    // Waits until every thread has acknowledged `more` operations past `from`.
    let wait = |from: &[u32], more: u32| {
        while counts().iter().zip(from).any(|(n, f)| *n < f + more) {
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let mut rounds = Vec::new();
    let mut last = vec![0; THREADS];
    for round in 0..ROUNDS {
        wait(&last, 10);
        let before = counts();
        let file = dir.path().join(format!("backup-{round}.jbbackup"));
        let summary = store.backup_to_file(&file).unwrap();
        let after = counts();
        last = after.clone();
        rounds.push(Round {
            file,
            summary,
            before,
            after,
        });
    }
    // Writes go on after the last backup: the gate opened again.
    wait(&last, 3);
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    let total = counts();
    for (i, round) in rounds.iter().enumerate() {
        check_round(&dir.path().join(format!("restored-{i}")), round, &total);
    }
}

/// Restores `round`'s file into `dir` and checks it against what the
/// writers did.
fn check_round(dir: &Path, round: &Round, total: &[u32]) {
    let restored = restore(&round.file, dir).unwrap();
    assert_eq!(restored.entries, round.summary.entries);
    let copy = Store::open(dir).unwrap();
    copy.verify().unwrap();
    assert_eq!(
        scan(&copy),
        round.summary.entries,
        "captured keys != a full scan"
    );

    let mut workers = THREADS;
    let mut placements = 0;
    for t in 0..THREADS {
        // The thread's new workers in the copy are a prefix of its
        // operations, at least as long as what was acknowledged.
        let n = (0..total[t])
            .take_while(|i| copy.worker(&new_worker(t, *i).id).unwrap().is_some())
            .count() as u32;
        for i in n..total[t] {
            assert!(copy.worker(&new_worker(t, i).id).unwrap().is_none());
        }
        let before = round.before[t];
        assert!(
            n >= before,
            "thread {t}: {before} operations acknowledged before the backup, {n} in it"
        );
        // At most the one in flight when the backup ended was not yet
        // acknowledged.
        let after = round.after[t];
        assert!(
            n <= after + 1,
            "thread {t}: {n} in a backup ended at {after}"
        );
        for i in 0..n {
            let want = new_worker(t, i);
            let got = copy.worker(&want.id).unwrap().unwrap();
            assert_eq!(
                (
                    got.national_id.as_str(),
                    got.preferences.expected_monthly_wage
                ),
                (
                    want.national_id.as_str(),
                    want.preferences.expected_monthly_wage
                )
            );
        }
        // The counter was written in the same transaction as each new
        // worker: a copy with half a transaction would disagree.
        let c = copy.worker(&counter(t, 0).id).unwrap().unwrap();
        assert_eq!(c.preferences.expected_monthly_wage, n - 1, "thread {t}");
        // A proposal follows its worker's write in a transaction of its own.
        let proposed = (0..n)
            .filter(|i| i.is_multiple_of(PROPOSE_EVERY))
            .filter(|i| copy.placements_of(&new_worker(t, *i).id).count() == 1)
            .count();
        let due = (0..n).filter(|i| i.is_multiple_of(PROPOSE_EVERY)).count();
        let last_pending = (n - 1).is_multiple_of(PROPOSE_EVERY);
        assert!(
            proposed == due || (last_pending && proposed + 1 == due),
            "thread {t}: {proposed} of {due} proposals"
        );
        workers += n as usize;
        placements += proposed;
    }
    assert_eq!(copy.worker_count(), workers);
    assert_eq!(copy.placement_count(), placements);
    assert_eq!(restored.workers, workers);
}

/// A small store's backup, as bytes.
fn small_backup(dir: &Path) -> Vec<u8> {
    let store = Store::open(&dir.join("data")).unwrap();
    store.put_opening(wide_opening(0), PutMode::Create).unwrap();
    for i in 0..20 {
        store.put_worker(new_worker(0, i), PutMode::Create).unwrap();
    }
    let mut file = Vec::new();
    store.backup(&mut file).unwrap();
    file
}

fn refusal(file: &Path, target: &Path) -> String {
    match restore(file, target) {
        Err(StoreError::BadBackup { reason, .. }) => reason,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn a_cut_or_damaged_file_is_refused_and_leaves_no_directory() {
    let dir = tempfile::tempdir().unwrap();
    let good = small_backup(dir.path());
    let file = dir.path().join("b.jbbackup");
    // Restored into a directory whose parent does not exist either.
    let target = dir.path().join("new").join("data");
    let mut truncated = 0;
    for cut in 0..good.len() {
        std::fs::write(&file, &good[..cut]).unwrap();
        let reason = refusal(&file, &target);
        assert!(reason.starts_with("truncated"), "cut at {cut}: {reason}");
        assert!(
            !dir.path().join("new").exists(),
            "cut at {cut}: left a directory"
        );
        truncated += 1;
    }
    // Every byte, header, body and trailer, flipped in one bit and in all.
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for at in 0..good.len() {
        for mask in [0x01u8, 0x10, 0xff] {
            let mut damaged = good.clone();
            damaged[at] ^= mask;
            std::fs::write(&file, &damaged).unwrap();
            let reason = refusal(&file, &target);
            let kind = reason.split(':').next().unwrap().to_string();
            *reasons.entry(kind).or_default() += 1;
            assert!(
                !dir.path().join("new").exists(),
                "byte {at} ^ {mask:#x}: left a directory"
            );
        }
    }
    assert!(reasons.contains_key("checksum mismatch"), "{reasons:?}");
    assert!(truncated > 100);
    // Not a backup at all.
    std::fs::write(
        &file,
        b"PK\x03\x04 a zip file, say, of the right length or not",
    )
    .unwrap();
    assert!(refusal(&file, &target).starts_with("not a jobbridge backup"));
    // The good file still restores there.
    std::fs::write(&file, &good).unwrap();
    assert_eq!(restore(&file, &target).unwrap().workers, 20);
}

#[test]
fn a_newer_store_format_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = small_backup(dir.path());
    // The header's store format, with both digests made to match, as a
    // newer build would write them.
    bytes[12..16].copy_from_slice(&(FORMAT_VERSION + 1).to_be_bytes());
    let file = dir.path().join("newer.jbbackup");
    std::fs::write(&file, rehash(&bytes)).unwrap();
    let reason = refusal(&file, &dir.path().join("new"));
    assert!(reason.starts_with("made by a newer version"), "{reason}");
}

/// `bytes` with the trailer's digests computed again.
fn rehash(bytes: &[u8]) -> Vec<u8> {
    use sha2::{Digest as _, Sha256};
    let (head, tail) = bytes.split_at(bytes.len() - 100);
    let body = zstd::decode_all(&head[44..]).unwrap();
    let mut out = bytes.to_vec();
    let body_digest = Sha256::new()
        .chain_update(&head[..44])
        .chain_update(&body)
        .finalize();
    let file_digest = Sha256::digest(head);
    let n = head.len();
    out[n + 36..n + 68].copy_from_slice(&body_digest);
    out[n + 68..n + 100].copy_from_slice(&file_digest);
    assert_eq!(&tail[..8], b"JBBKEND\n");
    out
}

#[test]
fn restore_never_writes_into_a_directory_that_holds_anything() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.jbbackup");
    std::fs::write(&file, small_backup(dir.path())).unwrap();
    let used = dir.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("notes.txt"), b"mine").unwrap();
    match restore(&file, &used) {
        Err(StoreError::Precondition(m)) => assert!(m.contains("not empty"), "{m}"),
        other => panic!("not refused: {other:?}"),
    }
    let names: Vec<_> = std::fs::read_dir(&used).unwrap().collect();
    assert_eq!(names.len(), 1);
    // An empty directory is fine, and stays after a failed restore.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(dir.path().join("cut.jbbackup"), b"JBBACKUP").unwrap();
    refusal(&dir.path().join("cut.jbbackup"), &empty);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    assert_eq!(restore(&file, &empty).unwrap().workers, 20);
}

#[test]
fn a_store_that_fails_its_check_is_removed_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    store.put_worker(new_worker(0, 1), PutMode::Create).unwrap();
    // Bytes that are no worker: a sound file of an unsound store.
    store
        .db
        .open_tree(b"workers")
        .unwrap()
        .insert(b"w-garbage", &b"\xff\xff\xff"[..])
        .unwrap();
    let file = dir.path().join("b.jbbackup");
    store.backup_to_file(&file).unwrap();
    let target = dir.path().join("restored");
    assert!(restore(&file, &target).is_err());
    assert!(!target.exists(), "a failed restore left its directory");
}

#[test]
fn a_backup_file_appears_only_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    let file = dir.path().join("b.jbbackup");
    let summary = store.backup_to_file(&file).unwrap();
    assert_eq!(std::fs::metadata(&file).unwrap().len(), summary.file_bytes);
    let info = verify_backup(&file).unwrap();
    assert_eq!(info.entries, summary.entries);
    assert_eq!(info.store_format, FORMAT_VERSION);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(!names
        .iter()
        .any(|n| n.to_string_lossy().ends_with(PARTIAL_SUFFIX)));
}
