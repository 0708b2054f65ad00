//! The upgrade of a format-4 directory to scoped ids (format 5), whole and
//! cut short, and the check that every household is in one county.

use std::path::Path;

use super::*;
use crate::domain::placement::{DeclineReason, PlacementStatus};
use crate::domain::run::{Assignment, Change, ChangeKind, Run, RunStatus};
use crate::store::scoped_ids::TEST_LIMITS;

const A: &str = COUNTIES[0];
const B: &str = COUNTIES[1];

fn member(id: &str, household: &str, county: usize, nid: u8) -> Worker {
    let mut w = worker(&Spec {
        id: 0,
        county,
        site: 0,
        household: 0,
        status: 0,
        nid,
    });
    w.id = id.into();
    w.household_id = household.into();
    w
}

fn decline(store: &Store, w: &str, o: &str) {
    propose_and_decline(store, w, o, DeclineReason::Distance, "太远");
}

fn assignment(w: &Worker, opening: &str, fingerprint: u64) -> Assignment {
    Assignment {
        worker_id: w.id.clone(),
        opening_id: opening.into(),
        household_id: w.household_id.clone(),
        county_code: w.county_code.clone(),
        worker_fingerprint: fingerprint,
        opening_fingerprint: 1,
        ..Default::default()
    }
}

fn change(worker: &str, kind: ChangeKind) -> Change {
    Change {
        worker_id: worker.into(),
        kind: kind as i32,
        previous_opening_id: "pw-1".into(),
        opening_id: String::new(),
    }
}

/// A directory as format 4 left it, with bare ids: household hh-1 has two
/// members in county A and one in B; w-5 (A) was deleted after a declined
/// placement and a run; a run's change names w-9, of whom nothing is left.
/// Returns the store still open (flushed), and the workers as stored.
fn format_4_directory(dir: &Path) -> (Store, Vec<Worker>, [u64; 2]) {
    let store = Store::open(dir).unwrap();
    let workers = [
        member("w-1", "hh-1", 0, 1),
        member("w-2", "hh-1", 0, 2),
        member("w-3", "hh-1", 1, 3),
        member("w-4", "hh-2", 1, 4),
        member("w-5", "hh-3", 0, 5),
    ];
    for r in store.put_workers(&workers).unwrap() {
        r.unwrap();
    }
    for o in ["pw-1", "pw-2", "pw-3"] {
        store.put_opening(opening(o), PutMode::Create).unwrap();
    }
    store.propose(&proposal("w-1", "pw-1"), "test").unwrap();
    decline(&store, "w-3", "pw-2");
    decline(&store, "w-5", "pw-1");
    let stored: Vec<Worker> = store.workers().collect::<Result<_, _>>().unwrap();
    let runs = [store.next_run_id().unwrap(), store.next_run_id().unwrap()];
    for id in runs {
        let mut run = Run {
            id,
            ..Default::default()
        };
        run.set_status(RunStatus::Succeeded);
        store.put_run(&run).unwrap();
    }
    let [w1, w2, _, w4, w5] = &stored[..] else {
        panic!("five workers")
    };
    let fp = worker_fingerprint;
    store
        .put_assignments(
            runs[0],
            &[
                assignment(w2, "pw-3", fp(w2)),
                assignment(w4, "pw-3", 0),
                assignment(w5, "pw-3", fp(w5)),
            ],
        )
        .unwrap();
    store
        .put_changes(runs[0], &[change("w-2", ChangeKind::Gained)])
        .unwrap();
    store
        .put_assignments(runs[1], &[assignment(w1, "pw-3", fp(w1))])
        .unwrap();
    store
        .put_changes(
            runs[1],
            &[
                change("w-5", ChangeKind::Lost),
                change("w-9", ChangeKind::Lost),
            ],
        )
        .unwrap();
    store.delete_worker("w-5").unwrap();
    store
        .meta
        .insert(FORMAT_KEY, &PLACEMENT_INDEX_FORMAT.to_be_bytes())
        .unwrap();
    store.flush_blocking().unwrap();
    (store, stored[..4].to_vec(), runs)
}

/// Copies a directory file by file (of a store flushed and idle: what a
/// killed process would leave).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every tree's entries, but the upgrade report (whose times differ).
type Dump = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

fn dump(store: &Store) -> Dump {
    let mut names = store.db.tree_names();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let tree = store.db.open_tree(&name).unwrap();
            let rows = tree
                .iter()
                .map(|r| r.unwrap())
                .filter(|(k, _)| {
                    !(name.as_ref() == META_TREE.as_bytes() && k[..] == b"id_upgrade_report"[..])
                })
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect();
            (name.to_vec(), rows)
        })
        .collect()
}

fn report_without_times(store: &Store) -> IdUpgradeReport {
    let mut r = store.id_upgrade_report().unwrap().expect("a report");
    assert!(r.finished_at_ms >= r.started_at_ms && r.started_at_ms > 0);
    r.started_at_ms = 0;
    r.finished_at_ms = 0;
    r
}

fn by_worker(store: &Store, id: &str) -> Vec<Placement> {
    let filter = PlacementFilter {
        worker_id: Some(id.into()),
        ..Default::default()
    };
    store.list_placements(&filter, None, 10).unwrap().items
}

#[test]
fn a_format_4_directory_gets_scoped_ids_and_reports_its_split_household() {
    let dir = tempfile::tempdir().unwrap();
    let (store, before, runs) = format_4_directory(dir.path());
    drop(store);
    let store = reopen(dir.path()).unwrap();

    // Every worker kept, under its county's id, nothing else changed.
    assert_eq!(store.worker_count(), 4);
    for was in &before {
        assert!(store.worker(&was.id).unwrap().is_none(), "{} left", was.id);
        let id = scoped::qualify(&was.county_code, &was.id);
        let now = store.worker(&id).unwrap().expect("qualified id");
        let household = scoped::qualify(&was.county_code, &was.household_id);
        assert_eq!(now.household_id, household);
        assert_eq!(
            Worker {
                id: was.id.clone(),
                household_id: was.household_id.clone(),
                ..now
            },
            *was
        );
    }
    // The household of two counties is now one in each.
    let in_a = store.household(&format!("{A}/hh-1")).unwrap().unwrap();
    assert_eq!(in_a.worker_ids, [format!("{A}/w-1"), format!("{A}/w-2")]);
    let in_b = store.household(&format!("{B}/hh-1")).unwrap().unwrap();
    assert_eq!(in_b.worker_ids, [format!("{B}/w-3")]);
    assert!(store.household("hh-1").unwrap().is_none());

    let report = report_without_times(&store);
    assert_eq!(
        report,
        IdUpgradeReport {
            from_format: PLACEMENT_INDEX_FORMAT,
            started_at_ms: 0,
            finished_at_ms: 0,
            workers: 4,
            placements: 3,
            run_assignments: 4,
            run_changes: 2,
            declines: 2,
            unresolved_changes: 1,
            split_households: vec![SpanningHousehold {
                household_id: "hh-1".into(),
                counties: vec![
                    CountyMembers {
                        county_code: A.into(),
                        members: 2
                    },
                    CountyMembers {
                        county_code: B.into(),
                        members: 1
                    },
                ],
            }],
        }
    );

    // Placements (and their rebuilt index), declines and runs follow.
    let p1 = by_worker(&store, &format!("{A}/w-1"));
    assert_eq!(p1.len(), 1);
    assert_eq!(p1[0].household_id, format!("{A}/hh-1"));
    assert!(by_worker(&store, "w-1").is_empty());
    let p3 = by_worker(&store, &format!("{B}/w-3"));
    assert_eq!(p3[0].state(), PlacementStatus::Declined);
    assert_eq!(p3[0].household_id, format!("{B}/hh-1"));
    // The deleted worker's history takes the county it records.
    assert_eq!(by_worker(&store, &format!("{A}/w-5")).len(), 1);
    let d = store
        .declined(&format!("{B}/w-3"), "pw-2")
        .unwrap()
        .unwrap();
    assert_eq!(d.worker_id, format!("{B}/w-3"));
    assert!(store.declined("w-3", "pw-2").unwrap().is_none());
    assert!(store
        .declined(&format!("{A}/w-5"), "pw-1")
        .unwrap()
        .is_some());

    let w2 = store.worker(&format!("{A}/w-2")).unwrap().unwrap();
    let a2 = store.assignment(runs[0], &w2.id).unwrap().unwrap();
    assert_eq!(a2.household_id, format!("{A}/hh-1"));
    assert_eq!(a2.worker_fingerprint, worker_fingerprint(&w2), "not stale");
    let a4 = store.assignment(runs[0], &format!("{B}/w-4")).unwrap();
    assert_eq!(a4.unwrap().worker_fingerprint, 0, "changed stays changed");
    assert!(store
        .assignment(runs[0], &format!("{A}/w-5"))
        .unwrap()
        .is_some());
    let ids = |run: u64| -> Vec<String> {
        store
            .changes(run)
            .map(|c| c.unwrap().worker_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(runs[0]), [format!("{A}/w-2")]);
    // w-5 by its assignment of the earlier run; w-9 is nowhere.
    assert_eq!(ids(runs[1]), [format!("{A}/w-5"), "w-9".to_string()]);

    store.verify().unwrap();
    assert!(store.spanning_households().unwrap().is_empty());
    let format = store.meta.get(FORMAT_KEY).unwrap().unwrap();
    assert_eq!(format.as_ref(), &FORMAT_VERSION.to_be_bytes());

    // Opening again changes nothing.
    let (first, kept) = (dump(&store), store.id_upgrade_report().unwrap());
    drop(store);
    let store = reopen(dir.path()).unwrap();
    assert_eq!(dump(&store), first);
    assert_eq!(store.id_upgrade_report().unwrap(), kept);
}

#[test]
fn an_upgrade_cut_short_anywhere_is_finished_by_the_next_open() {
    let base = tempfile::tempdir().unwrap();
    let (store, _, _) = format_4_directory(base.path());
    let work = tempfile::tempdir().unwrap();
    let whole = work.path().join("whole");
    copy_dir(base.path(), &whole);
    let cuts: Vec<_> = (0..40)
        .map(|n| {
            let to = work.path().join(format!("cut-{n}"));
            copy_dir(base.path(), &to);
            to
        })
        .collect();
    drop(store);

    let whole = reopen(&whole).unwrap();
    let (expected, report) = (dump(&whole), report_without_times(&whole));
    let mut finished = false;
    for (n, dir) in cuts.iter().enumerate() {
        // One row per batch, stopped after `n` batches.
        TEST_LIMITS.with(|l| l.set(Some((1, n))));
        let cut = Store::open(dir);
        TEST_LIMITS.with(|l| l.set(None));
        match cut {
            // Enough batches to finish: the last round.
            Ok(store) => {
                drop(store);
                finished = true;
            }
            Err(StoreError::Corruption(m)) if m.contains("test: upgrade stopped") => {}
            Err(e) => panic!("cut after {n} batches: {e}"),
        }
        let store = reopen(dir).unwrap();
        assert_eq!(dump(&store), expected, "cut after {n} batches");
        assert_eq!(report_without_times(&store), report, "cut after {n}");
        store.verify().unwrap();
        if finished {
            break;
        }
    }
    assert!(
        finished,
        "the upgrade takes more batches than the test cuts"
    );
}

#[test]
fn a_household_outside_its_county_fails_the_check_by_county_not_by_person() {
    let (_dir, store) = temp_store();
    store
        .put_worker(
            member(&format!("{A}/w-1"), &format!("{A}/hh-1"), 0, 1),
            PutMode::Create,
        )
        .unwrap();
    store.verify().unwrap();
    // A worker of county A in a household that names county B.
    let astray = member(&format!("{A}/w-2"), &format!("{B}/hh-7"), 0, 2);
    store.put_worker(astray, PutMode::Create).unwrap();
    let e = store.verify().unwrap_err().to_string();
    assert!(e.contains(&format!("{B}/hh-7: {A} (1)")), "{e}");
    assert!(!e.contains("w-2"), "names a person: {e}");
    // A household of members in two counties.
    store
        .put_worker(
            member(&format!("{B}/w-3"), &format!("{A}/hh-1"), 1, 3),
            PutMode::Create,
        )
        .unwrap();
    let e = store.verify().unwrap_err().to_string();
    assert!(e.contains("2 households"), "{e}");
    assert!(e.contains(&format!("{A}/hh-1: {A} (1), {B} (1)")), "{e}");
    assert_eq!(store.spanning_households().unwrap().len(), 2);
}
