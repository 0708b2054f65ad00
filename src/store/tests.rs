//! The store against a plain model: a BTreeMap of records, filtered with
//! loops. Random operation sequences must give the same answers, and the
//! indexes must agree with the records after every sequence.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::domain::rules::national_id_check_char;
use crate::domain::scoped;
use crate::domain::EmploymentStatus;
use crate::testing::opening;
use crate::testing::{proposal, propose_and_decline, temp_store};

const COUNTIES: [&str; 2] = ["431202", "431271"];
const STATUSES: [EmploymentStatus; 3] = [
    EmploymentStatus::Seeking,
    EmploymentStatus::Employed,
    EmploymentStatus::Unavailable,
];

fn nid(n: u8) -> String {
    let first17 = format!("{:017}", 43_120_219_900_000_000u64 + u64::from(n));
    format!("{first17}{}", national_id_check_char(first17.as_bytes()))
}

#[derive(Debug, Clone)]
struct Spec {
    id: u8,
    county: usize,
    site: u8,
    household: u8,
    status: usize,
    nid: u8,
}

impl Spec {
    /// Worker `w{i}` of county 0, site 0, sharing a household with the
    /// worker beside it.
    fn numbered(i: usize) -> Spec {
        Spec {
            id: i as u8,
            county: 0,
            site: 0,
            household: (i / 2) as u8,
            status: 0,
            nid: i as u8,
        }
    }
}

fn worker(s: &Spec) -> Worker {
    Worker {
        // A household lives in one county (`verify` checks it).
        household_id: scoped::qualify(COUNTIES[s.county], &format!("h{}", s.household)),
        national_id: nid(s.nid),
        county_code: COUNTIES[s.county].into(),
        site_id: format!("s{}", s.site),
        employment_status: STATUSES[s.status],
        ..crate::testing::worker(&format!("w{}", s.id))
    }
}

#[derive(Debug, Clone)]
enum Op {
    Put(Spec, bool),
    Batch(Vec<Spec>),
    Delete(u8),
}

fn spec() -> impl Strategy<Value = Spec> {
    (0u8..10, 0usize..2, 0u8..3, 0u8..4, 0usize..3, 0u8..8).prop_map(
        |(id, county, site, household, status, nid)| Spec {
            id,
            county,
            site,
            household,
            status,
            nid,
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (spec(), any::<bool>()).prop_map(|(s, create)| Op::Put(s, create)),
        1 => prop::collection::vec(spec(), 1..6).prop_map(Op::Batch),
        2 => (0u8..10).prop_map(Op::Delete),
    ]
}

/// The model's answer to a put: `Ok(created)` or the error kind.
fn model_put(
    model: &mut BTreeMap<String, Worker>,
    w: Worker,
    create: bool,
) -> Result<bool, &'static str> {
    let exists = model.contains_key(&w.id);
    if exists && create {
        return Err("exists");
    }
    if model
        .values()
        .any(|o| o.id != w.id && o.national_id == w.national_id)
    {
        return Err("duplicate");
    }
    model.insert(w.id.clone(), w);
    Ok(!exists)
}

fn kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::AlreadyExists { .. } => "exists",
        StoreError::Duplicate { .. } => "duplicate",
        StoreError::NotFound { .. } => "missing",
        other => panic!("unexpected store error {other}"),
    }
}

fn strip(mut w: Worker) -> Worker {
    w.created_at_ms = 0;
    w.updated_at_ms = 0;
    w
}

/// Every page of a listing, walked with `limit`.
fn walk(store: &Store, filter: &WorkerFilter, limit: usize) -> Vec<Worker> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_workers(filter, after.as_deref(), limit).unwrap();
        assert!(page.items.len() <= limit);
        out.extend(page.items.into_iter().map(strip));
        match page.next_after {
            Some(a) => after = Some(a),
            None => return out,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model(ops in prop::collection::vec(op(), 1..40), limit in 1usize..5) {
        let (dir, store) = temp_store();
        let mut model: BTreeMap<String, Worker> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Put(s, create) => {
                    let w = worker(&s);
                    let mode = if create { PutMode::Create } else { PutMode::Upsert };
                    let got = store.put_worker(w.clone(), mode).map(|(_, c)| c).map_err(|e| kind(&e));
                    prop_assert_eq!(got, model_put(&mut model, w, create));
                }
                Op::Batch(specs) => {
                    let ws: Vec<Worker> = specs.iter().map(worker).collect();
                    let got = store.put_workers(&ws).unwrap();
                    for (w, g) in ws.into_iter().zip(got) {
                        let g = g.map(|(_, c)| c).map_err(|e| kind(&e));
                        prop_assert_eq!(g, model_put(&mut model, w, false));
                    }
                }
                Op::Delete(id) => {
                    let id = format!("w{id}");
                    let got = store.delete_worker(&id).map(strip).map_err(|e| kind(&e));
                    let want = model.remove(&id).ok_or("missing");
                    prop_assert_eq!(got, want);
                }
            }
        }
        check_against_model(&store, &model, limit)?;
        // The indexes are rebuilt from the records at open: the same answers.
        drop(store);
        let store = reopen(dir.path()).unwrap();
        check_against_model(&store, &model, limit)?;
    }
}

/// Household `i` of [`worker`]'s: `h0`..`h3` in the first county, then in
/// the second.
fn household(i: usize) -> String {
    scoped::qualify(COUNTIES[i / 4 % 2], &format!("h{}", i % 4))
}

/// The store's listings, households and indexes agree with the model.
fn check_against_model(
    store: &Store,
    model: &BTreeMap<String, Worker>,
    limit: usize,
) -> Result<(), TestCaseError> {
    store.verify().unwrap();
    let mut filters = vec![WorkerFilter::default()];
    for c in COUNTIES {
        filters.push(WorkerFilter {
            county_code: Some(c.into()),
            ..Default::default()
        });
    }
    for s in STATUSES {
        filters.push(WorkerFilter {
            employment_status: Some(s),
            ..Default::default()
        });
        filters.push(WorkerFilter {
            county_code: Some(COUNTIES[0].into()),
            employment_status: Some(s),
            ..Default::default()
        });
    }
    for i in 0..4 {
        filters.push(WorkerFilter {
            household_id: Some(household(i)),
            ..Default::default()
        });
        filters.push(WorkerFilter {
            site_id: Some(format!("s{}", i % 3)),
            county_code: Some(COUNTIES[1].into()),
            ..Default::default()
        });
    }
    for f in &filters {
        let want: Vec<Worker> = model
            .values()
            .filter(|w| f.county_code.as_ref().is_none_or(|c| &w.county_code == c))
            .filter(|w| f.site_id.as_ref().is_none_or(|s| &w.site_id == s))
            .filter(|w| f.household_id.as_ref().is_none_or(|h| &w.household_id == h))
            .filter(|w| f.employment_status.is_none_or(|s| w.employment_status == s))
            .cloned()
            .collect();
        prop_assert_eq!(walk(store, f, limit), want, "filter {:?}", f);
    }
    for i in 0..8 {
        let id = household(i);
        let members: Vec<&Worker> = model.values().filter(|w| w.household_id == id).collect();
        let got = store.household(&id).unwrap();
        if members.is_empty() {
            prop_assert!(got.is_none());
        } else {
            let h = got.unwrap();
            prop_assert_eq!(
                h.worker_ids,
                members.iter().map(|w| w.id.clone()).collect::<Vec<_>>()
            );
            let count = |s| members.iter().filter(|w| w.employment_status == s).count() as u32;
            prop_assert_eq!(h.employed, count(EmploymentStatus::Employed));
            prop_assert_eq!(h.seeking, count(EmploymentStatus::Seeking));
        }
    }
    Ok(())
}

#[test]
fn close_moves_the_status_index_and_keeps_created_at() {
    let (_dir, store) = temp_store();
    let (stored, created) = store.put_opening(opening("pw-1"), PutMode::Create).unwrap();
    assert!(created);
    let closed = store.close_opening("pw-1").unwrap();
    assert_eq!(closed.status, OpeningStatus::Closed);
    assert_eq!(closed.created_at_ms, stored.created_at_ms);
    let again = store.close_opening("pw-1").unwrap();
    assert_eq!(again, closed);
    let open = OpeningFilter {
        status: Some(OpeningStatus::Open),
        ..Default::default()
    };
    assert!(store
        .list_openings(&open, None, 10)
        .unwrap()
        .items
        .is_empty());
    let shut = OpeningFilter {
        status: Some(OpeningStatus::Closed),
        ..Default::default()
    };
    assert_eq!(store.list_openings(&shut, None, 10).unwrap().items.len(), 1);
    assert!(matches!(
        store.close_opening("nope"),
        Err(StoreError::NotFound { .. })
    ));
    store.verify().unwrap();
}

/// Opens `dir`, retrying while sled's background threads of a store just
/// dropped still hold the directory's lock (an I/O error, for up to 2 s).
fn reopen(dir: &std::path::Path) -> Result<Store, StoreError> {
    for _ in 0..200 {
        match Store::open(dir) {
            // The dropped store's committer thread lets go of sled's lock
            // a moment later.
            Err(StoreError::Backend(_) | StoreError::InUse { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            other => return other,
        }
    }
    Store::open(dir)
}

#[test]
fn reopening_keeps_data_and_checks_the_format_version() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.put_opening(opening("pw-2"), PutMode::Upsert).unwrap();
    }
    {
        let store = reopen(dir.path()).unwrap();
        assert_eq!(
            store.opening("pw-2").unwrap().unwrap().title,
            "Forest ranger"
        );
        let meta = store.db.open_tree(META_TREE).unwrap();
        meta.insert(FORMAT_KEY, &99u32.to_be_bytes()).unwrap();
        store.flush_blocking().unwrap();
    }
    match reopen(dir.path()) {
        Err(StoreError::FormatVersion {
            found: 99,
            expected: FORMAT_VERSION,
        }) => {}
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a foreign format version must be refused"),
    }
}

#[test]
fn listings_longer_than_an_index_chunk_are_whole_and_survive_a_reopen() {
    let (dir, store) = temp_store();
    // More members of one value than one chunk of an index read holds.
    let workers: Vec<Worker> = (0..700u32)
        .map(|i| {
            let mut w = worker(&Spec {
                id: 0,
                county: (i % 7 == 0) as usize,
                site: 0,
                household: 0,
                status: 0,
                nid: 0,
            });
            w.id = format!("w{i:04}");
            w.household_id = scoped::qualify(&w.county_code, &format!("h{}", i % 2));
            let first17 = format!("{:017}", 43_120_219_900_000_000u64 + u64::from(i));
            w.national_id = format!("{first17}{}", national_id_check_char(first17.as_bytes()));
            w
        })
        .collect();
    for r in store.put_workers(&workers).unwrap() {
        r.unwrap();
    }
    let county = WorkerFilter {
        county_code: Some(COUNTIES[0].into()),
        ..Default::default()
    };
    let want: Vec<String> = workers
        .iter()
        .filter(|w| w.county_code == COUNTIES[0])
        .map(|w| w.id.clone())
        .collect();
    assert!(want.len() > 2 * 256);
    for limit in [1, 255, 256, 257, 1000] {
        let got: Vec<String> = walk(&store, &county, limit)
            .into_iter()
            .map(|w| w.id)
            .collect();
        assert_eq!(got, want, "limit {limit}");
    }
    let h1 = scoped::qualify(COUNTIES[0], "h1");
    let members = workers.iter().filter(|w| w.household_id == h1).count();
    assert!(members > 256, "more than one index chunk");
    assert_eq!(
        store.household(&h1).unwrap().unwrap().worker_ids.len(),
        members
    );
    drop(store);
    let store = reopen(dir.path()).unwrap();
    store.verify().unwrap();
    let got: Vec<String> = walk(&store, &county, 300)
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(got, want);
}

#[test]
fn racing_writers_of_one_national_id_leave_exactly_one_owner() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(dir.path()).unwrap());
    for round in 0..200u8 {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut w = worker(&Spec {
                        id: t,
                        county: 0,
                        site: 0,
                        household: round,
                        status: 0,
                        nid: round,
                    });
                    w.id = format!("r{round}-{t}");
                    barrier.wait();
                    store.put_worker(w, PutMode::Upsert).is_ok()
                })
            })
            .collect();
        let won = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&ok| ok)
            .count();
        assert_eq!(won, 1, "round {round}: one writer of a national id wins");
    }
    store.verify().unwrap();
    assert_eq!(store.worker_count(), 200);
}

#[test]
fn a_directory_with_index_trees_is_upgraded_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.put_opening(opening("pw-1"), PutMode::Upsert).unwrap();
        // As the previous format left it: version 2 and an index tree
        // (here a stale one, which must not be trusted).
        let meta = store.db.open_tree(META_TREE).unwrap();
        meta.insert(FORMAT_KEY, &INDEX_TREES_FORMAT.to_be_bytes())
            .unwrap();
        let old = store.db.open_tree("openings_by_region").unwrap();
        old.insert(b"999999\0ghost", &[][..]).unwrap();
        store.flush_blocking().unwrap();
    }
    let store = reopen(dir.path()).unwrap();
    let names = store.db.tree_names();
    assert!(!names.iter().any(|n| n.as_ref() == b"openings_by_region"));
    let meta = store.db.open_tree(META_TREE).unwrap();
    assert_eq!(
        meta.get(FORMAT_KEY).unwrap().unwrap().as_ref(),
        &FORMAT_VERSION.to_be_bytes()
    );
    store.verify().unwrap();
    assert_eq!(store.opening("pw-1").unwrap().unwrap().id, "pw-1");
}

#[test]
fn placement_index_trees_are_built_when_not_marked_complete() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .put_worker(worker(&Spec::numbered(1)), PutMode::Create)
            .unwrap();
        store.put_opening(opening("pw-1"), PutMode::Upsert).unwrap();
        store.propose(&proposal("w1", "pw-1"), "test").unwrap();
        // As format 3 left a directory: every index in memory, so no marker,
        // and (here) a stale tree that must not be trusted.
        let meta = store.db.open_tree(META_TREE).unwrap();
        meta.insert(FORMAT_KEY, &MEMORY_INDEX_FORMAT.to_be_bytes())
            .unwrap();
        meta.remove(b"indexes_built/placement").unwrap();
        let stale = store.db.open_tree("placements_by_worker").unwrap();
        stale.clear().unwrap();
        stale.insert(b"ghost\0P000000000009", &[][..]).unwrap();
        store.flush_blocking().unwrap();
    }
    let store = reopen(dir.path()).unwrap();
    store.verify().unwrap();
    let meta = store.db.open_tree(META_TREE).unwrap();
    assert_eq!(
        meta.get(FORMAT_KEY).unwrap().unwrap().as_ref(),
        &FORMAT_VERSION.to_be_bytes()
    );
    assert!(meta.get(b"indexes_built/placement").unwrap().is_some());
    // The upgrade to format 5 qualified the worker's id too.
    let of_w1 = PlacementFilter {
        worker_id: Some(scoped::qualify(COUNTIES[0], "w1")),
        ..Default::default()
    };
    let page = store.list_placements(&of_w1, None, 10).unwrap();
    assert_eq!(page.items.len(), 1);
    let ghost = PlacementFilter {
        worker_id: Some("ghost".into()),
        ..Default::default()
    };
    assert!(store
        .list_placements(&ghost, None, 10)
        .unwrap()
        .items
        .is_empty());
}

#[test]
fn the_declines_tree_is_built_from_the_placements_when_not_marked_complete() {
    use crate::domain::placement::DeclineReason;
    let dir = tempfile::tempdir().unwrap();
    let recorded = {
        let store = Store::open(dir.path()).unwrap();
        for n in 1..=2 {
            let spec = Spec {
                id: n,
                county: 0,
                site: 0,
                household: n,
                status: 0,
                nid: n,
            };
            store.put_worker(worker(&spec), PutMode::Create).unwrap();
        }
        store.put_opening(opening("pw-1"), PutMode::Upsert).unwrap();
        store.put_opening(opening("pw-2"), PutMode::Upsert).unwrap();
        let declined =
            propose_and_decline(&store, "w1", "pw-1", DeclineReason::FamilyCare, "孩子上学");
        // A proposal still open is no decline.
        store.propose(&proposal("w2", "pw-2"), "test").unwrap();
        let recorded = store.declined("w1", "pw-1").unwrap().unwrap();
        assert_eq!(recorded.reason, DeclineReason::FamilyCare as i32);
        assert_eq!(recorded.placement_id, declined);
        // As an earlier format left the directory: no declines tree.
        store.meta.remove(b"declines_built").unwrap();
        store.declines.clear().unwrap();
        store.flush_blocking().unwrap();
        recorded
    };
    let store = reopen(dir.path()).unwrap();
    store.verify().unwrap();
    assert_eq!(store.declined("w1", "pw-1").unwrap(), Some(recorded));
    assert_eq!(store.declined("w2", "pw-2").unwrap(), None);
    assert_eq!(
        store.declined_openings("w1").unwrap(),
        ["pw-1".to_string()].into()
    );
    // A worker whose id extends w1's has none of w1's declines.
    assert!(store.declined_openings("w").unwrap().is_empty());
    let again = store.propose(&proposal("w1", "pw-1"), "test").unwrap_err();
    assert!(again.to_string().contains("declined"), "{again}");
    // A tree that disagrees with the placements fails verification.
    store.declines.clear().unwrap();
    assert!(store.verify().is_err());
}

#[tokio::test]
async fn sync_waits_for_a_flush_and_many_waiters_share_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(dir.path()).unwrap());
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .put_opening(opening(&format!("o{i}")), PutMode::Upsert)
                .unwrap();
            store.sync().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.opening_count(), 32);
}

mod backup;
mod durability;
mod id_key;
mod placements;
mod scoped_ids;
