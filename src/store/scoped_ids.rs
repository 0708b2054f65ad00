//! The upgrade to format 5: worker and household ids qualified with their
//! county (`w-0000001` becomes `431224/w-0000001`, see
//! [`crate::domain::scoped`]), in place, when an older directory opens.
//!
//! Every record keeps its fields; what changes is each worker's id and
//! household id, and every row that names a worker or a household follows:
//! run changes and assignments (keyed by run and worker), placements (and
//! with them their index trees, built again), declines (keyed by worker
//! and opening), and last the workers themselves. A household whose members
//! were in two counties becomes one household per county; the upgrade lists
//! those in its report ([`IdUpgradeReport`], kept in `meta`).
//!
//! A kill at any moment leaves a directory that the next open finishes:
//!
//! - The report and format 5 are recorded, and flushed, before the first
//!   row changes, together with a pending marker: an older build refuses
//!   the directory from then on, and this build finishes the upgrade while
//!   the marker is there (it never takes half-upgraded data for format 5).
//! - Each row's new entry and the removal of its old one are one sled
//!   batch (atomic), and every step is idempotent: a qualified id contains
//!   '/', a bare one never does (format 4 forbade it), so rows already
//!   rewritten are skipped.
//! - The workers are rewritten last, after a flush: until then every row
//!   finds its worker under the bare id, with the record as the run saw it
//!   (its fingerprint), so no map of old to new ids is held in memory.
//! - The marker is removed, with the report's finish time, only after the
//!   last flush.

use std::collections::HashMap;
use std::ops::Bound;

use prost::Message;
use sled::{Batch, IVec, Tree};

use super::durable::Disk;
use super::households::{Census, SpanningHousehold};
use super::records::decode;
use super::table::{self, Entity};
use super::{placements, Store, StoreError, FORMAT_KEY, FORMAT_VERSION, META_TREE};
use crate::domain::placement::{Declined, Placement};
use crate::domain::run::{Assignment, Change};
use crate::domain::scoped::{is_qualified, qualified, qualify};
use crate::domain::Worker;

/// `meta`: the report of an upgrade under way (present until it is done).
const PENDING_KEY: &[u8] = b"id_upgrade_pending";
/// `meta`: the report of the finished upgrade.
const REPORT_KEY: &[u8] = b"id_upgrade_report";
/// Rows rewritten per sled batch.
const BATCH_ROWS: usize = 2000;
/// Split households logged one per line; the rest are counted.
const LOGGED_HOUSEHOLDS: usize = 100;

/// What the upgrade to scoped ids did, kept in the `meta` tree
/// ([`Store::id_upgrade_report`]).
#[derive(Clone, PartialEq, prost::Message)]
pub struct IdUpgradeReport {
    /// The directory's format before the upgrade.
    #[prost(uint32, tag = "1")]
    pub from_format: u32,
    /// When the upgrade began, Unix ms.
    #[prost(int64, tag = "2")]
    pub started_at_ms: i64,
    /// When it finished, Unix ms (after any restart that finished it).
    #[prost(int64, tag = "3")]
    pub finished_at_ms: i64,
    /// Workers given a qualified id.
    #[prost(uint64, tag = "4")]
    pub workers: u64,
    /// Placements whose worker and household ids were qualified.
    #[prost(uint64, tag = "5")]
    pub placements: u64,
    /// Batch runs' assignment rows rewritten.
    #[prost(uint64, tag = "6")]
    pub run_assignments: u64,
    /// Batch runs' change rows rewritten.
    #[prost(uint64, tag = "7")]
    pub run_changes: u64,
    /// Declines (worker, opening) rewritten.
    #[prost(uint64, tag = "8")]
    pub declines: u64,
    /// Change rows of a worker deleted before the upgrade whose county no
    /// row tells: left with the bare id.
    #[prost(uint64, tag = "9")]
    pub unresolved_changes: u64,
    /// The households whose members were in more than one county, by their
    /// old id; each became one household per county (`county/old id`).
    #[prost(message, repeated, tag = "10")]
    pub split_households: Vec<SpanningHousehold>,
}

#[cfg(test)]
thread_local! {
    /// Tests: rows per batch, and the batches applied before the upgrade
    /// stops as if the process were killed.
    pub(super) static TEST_LIMITS: std::cell::Cell<Option<(usize, usize)>> =
        const { std::cell::Cell::new(None) };
}

/// Upgrades the directory if its format is older than 5, or finishes an
/// upgrade that a crash cut short. Runs at open, before the tables build
/// their indexes.
pub(super) fn upgrade_if_needed(disk: &Disk, found: u32) -> Result<(), StoreError> {
    let db = disk.db();
    let meta = db.open_tree(META_TREE)?;
    if found >= FORMAT_VERSION && meta.get(PENDING_KEY)?.is_none() {
        return Ok(());
    }
    let tree = |name: &str| db.open_tree(name);
    let (batch_rows, batches_left) = limits();
    let upgrade = Upgrade {
        disk,
        workers: tree(&format!("{}s", Worker::KIND))?,
        placements: tree(&format!("{}s", Placement::KIND))?,
        declines: tree(placements::DECLINES_TREE)?,
        assignments: tree("run_assignments")?,
        changes: tree("run_changes")?,
        meta,
        batch_rows,
        batches_left,
        gone: None,
        unresolved: 0,
    };
    upgrade.run(found)
}

/// Rows per batch, and batches allowed (tests only, see [`TEST_LIMITS`]).
#[cfg(test)]
fn limits() -> (usize, Option<usize>) {
    TEST_LIMITS
        .with(|l| l.get())
        .map_or((BATCH_ROWS, None), |(rows, batches)| (rows, Some(batches)))
}

#[cfg(not(test))]
fn limits() -> (usize, Option<usize>) {
    (BATCH_ROWS, None)
}

/// `id` qualified with `county`, unless empty (a field never set).
fn household(id: &str, county: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        qualified(id, county)
    }
}

/// The worker as format 5 keeps it.
fn upgraded(w: &Worker) -> Worker {
    let mut new = w.clone();
    new.id = qualified(&w.id, &w.county_code);
    new.household_id = household(&w.household_id, &w.county_code);
    new
}

/// A run row's key: the run id (8 bytes) and the worker id.
fn row_key(run: &[u8], worker_id: &str) -> Vec<u8> {
    let mut k = run.to_vec();
    k.extend_from_slice(worker_id.as_bytes());
    k
}

/// A rewrite of one row: its new key and value.
type Row = Option<(Vec<u8>, Vec<u8>)>;

struct Upgrade<'a> {
    disk: &'a Disk,
    meta: Tree,
    workers: Tree,
    placements: Tree,
    declines: Tree,
    assignments: Tree,
    changes: Tree,
    batch_rows: usize,
    /// Tests: batches still allowed before a simulated kill.
    batches_left: Option<usize>,
    /// Deleted workers' counties as other rows tell them, read once if a
    /// change row needs it.
    gone: Option<HashMap<String, String>>,
    /// Change rows left with a bare id.
    unresolved: u64,
}

impl Upgrade<'_> {
    fn run(mut self, found: u32) -> Result<(), StoreError> {
        let mut report = match self.meta.get(PENDING_KEY)? {
            Some(v) => decode::<IdUpgradeReport>(&v, "id upgrade report")?,
            None => self.start(found)?,
        };
        // The order matters (see the module doc), so each tree is flushed
        // before the next one changes: changes read the assignments, and
        // every row reads the workers, under their bare ids.
        type RowFn<T> = fn(&mut T, &[u8], &[u8]) -> Result<Row, StoreError>;
        let in_order: [(Tree, RowFn<Self>); 5] = [
            (self.changes.clone(), Self::change),
            (self.assignments.clone(), Self::assignment),
            (self.placements.clone(), Self::placement),
            (self.declines.clone(), Self::decline),
            (self.workers.clone(), Self::worker_row),
        ];
        for (tree, row) in in_order {
            self.rewrite(&tree, row)?;
            self.disk.flush()?;
        }
        report.unresolved_changes = self.unresolved;
        report.run_changes = report.run_changes.saturating_sub(self.unresolved);
        report.finished_at_ms = super::now_ms();
        self.check_batch()?;
        let mut batch = Batch::default();
        batch.remove(PENDING_KEY);
        batch.insert(REPORT_KEY, report.encode_to_vec());
        self.meta.apply_batch(batch)?;
        self.disk.flush()?;
        log(&report);
        Ok(())
    }

    /// Counts what is to do and the households that span counties, then
    /// records the pending report and format 5 (and that the placements'
    /// index trees must be built again) before anything changes.
    fn start(&mut self, found: u32) -> Result<IdUpgradeReport, StoreError> {
        tracing::info!(
            from_format = found,
            "upgrading the data directory to format {FORMAT_VERSION}: worker and household \
             ids qualified with their county"
        );
        let mut census = Census::default();
        let mut workers = 0;
        for entry in self.workers.iter() {
            let w = <Worker as Entity>::decode(&entry?.1)?;
            census.add(&w.household_id, &w.county_code);
            workers += u64::from(!is_qualified(&w.id));
        }
        let mut placements = 0;
        for entry in self.placements.iter() {
            let p = <Placement as Entity>::decode(&entry?.1)?;
            placements += u64::from(!is_qualified(&p.worker_id));
        }
        let bare_rows = |tree: &Tree, worker: fn(&[u8]) -> &[u8]| -> Result<u64, StoreError> {
            let mut n = 0;
            for key in tree.iter().keys() {
                n += u64::from(!worker(&key?).contains(&b'/'));
            }
            Ok(n)
        };
        fn run_worker(k: &[u8]) -> &[u8] {
            k.get(8..).unwrap_or_default()
        }
        fn decline_worker(k: &[u8]) -> &[u8] {
            k.split(|b| *b == 0).next().unwrap_or(k)
        }
        let report = IdUpgradeReport {
            from_format: found,
            started_at_ms: super::now_ms(),
            finished_at_ms: 0,
            workers,
            placements,
            run_assignments: bare_rows(&self.assignments, run_worker)?,
            run_changes: bare_rows(&self.changes, run_worker)?,
            declines: bare_rows(&self.declines, decline_worker)?,
            unresolved_changes: 0,
            split_households: census.spanning(),
        };
        self.check_batch()?;
        let mut batch = Batch::default();
        batch.insert(PENDING_KEY, report.encode_to_vec());
        batch.insert(FORMAT_KEY, &FORMAT_VERSION.to_be_bytes());
        batch.remove(table::built_marker(Placement::KIND).as_bytes());
        self.meta.apply_batch(batch)?;
        self.disk.flush()?;
        Ok(report)
    }

    /// Tests: fails as a killed process would stop, once the batches
    /// allowed are used up.
    fn check_batch(&mut self) -> Result<(), StoreError> {
        match &mut self.batches_left {
            Some(0) => Err(StoreError::corruption("test: upgrade stopped")),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Rewrites the rows of `tree` that `row` maps, [`Upgrade::batch_rows`]
    /// per batch; a row whose key changes is removed in the batch that
    /// writes its new key.
    fn rewrite(
        &mut self,
        tree: &Tree,
        mut row: impl FnMut(&mut Self, &[u8], &[u8]) -> Result<Row, StoreError>,
    ) -> Result<(), StoreError> {
        let mut after: Option<IVec> = None;
        loop {
            let start = match &after {
                Some(k) => Bound::Excluded(k.to_vec()),
                None => Bound::Unbounded,
            };
            let (mut batch, mut rows) = (Batch::default(), 0);
            for entry in tree.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
                let (key, value) = entry?;
                after = Some(key.clone());
                let Some((new_key, new_value)) = row(self, &key, &value)? else {
                    continue;
                };
                if new_key != key.as_ref() {
                    if tree.contains_key(&new_key)? {
                        return Err(StoreError::corruption(format!(
                            "qualifying the ids of {:?} in {}: {:?} exists already",
                            String::from_utf8_lossy(&key),
                            String::from_utf8_lossy(&tree.name()),
                            String::from_utf8_lossy(&new_key),
                        )));
                    }
                    batch.remove(key);
                }
                batch.insert(new_key, new_value);
                rows += 1;
                if rows == self.batch_rows {
                    break;
                }
            }
            if rows > 0 {
                self.check_batch()?;
                tree.apply_batch(batch)?;
            }
            if rows < self.batch_rows {
                return Ok(());
            }
        }
    }

    /// The worker stored under the bare id `id` (not yet rewritten).
    fn worker(&self, id: &str) -> Result<Option<Worker>, StoreError> {
        self.workers
            .get(id.as_bytes())?
            .map(|v| <Worker as Entity>::decode(&v))
            .transpose()
    }

    /// `id`'s new id: from its worker, or with `county` for a worker that
    /// no longer exists.
    fn new_id(&self, id: &str, county: &str) -> Result<String, StoreError> {
        Ok(match self.worker(id)? {
            Some(w) => qualify(&w.county_code, id),
            None => qualify(county, id),
        })
    }

    fn change(&mut self, key: &[u8], value: &[u8]) -> Result<Row, StoreError> {
        let mut c: Change = decode(value, "change")?;
        if is_qualified(&c.worker_id) {
            return Ok(None);
        }
        let run = &key[..8.min(key.len())];
        let county = match self.worker(&c.worker_id)? {
            Some(w) => Some(w.county_code),
            // A deleted worker: the county of the same run's assignment
            // (still under the bare id: assignments come after changes),
            // or of any other row that names them.
            None => match self.assignments.get(row_key(run, &c.worker_id))? {
                Some(a) => Some(decode::<Assignment>(&a, "assignment")?.county_code),
                None => self.gone_county(&c.worker_id)?,
            },
        };
        let Some(county) = county else {
            tracing::warn!(
                worker_id = %c.worker_id,
                "a run's change names a deleted worker whose county no row tells: left as it is"
            );
            self.unresolved += 1;
            return Ok(None);
        };
        c.worker_id = qualify(&county, &c.worker_id);
        Ok(Some((row_key(run, &c.worker_id), c.encode_to_vec())))
    }

    /// The county of deleted worker `id` in the first assignment or
    /// placement that names them (read once, for every deleted worker).
    fn gone_county(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        if self.gone.is_none() {
            let mut gone = HashMap::new();
            for entry in self.assignments.iter() {
                let a: Assignment = decode(&entry?.1, "assignment")?;
                if !is_qualified(&a.worker_id)
                    && !gone.contains_key(&a.worker_id)
                    && self.worker(&a.worker_id)?.is_none()
                {
                    gone.insert(a.worker_id, a.county_code);
                }
            }
            for entry in self.placements.iter() {
                let p = <Placement as Entity>::decode(&entry?.1)?;
                if !is_qualified(&p.worker_id)
                    && !gone.contains_key(&p.worker_id)
                    && self.worker(&p.worker_id)?.is_none()
                {
                    gone.insert(p.worker_id, p.county_code);
                }
            }
            self.gone = Some(gone);
        }
        Ok(self.gone.as_ref().and_then(|g| g.get(id).cloned()))
    }

    fn assignment(&mut self, key: &[u8], value: &[u8]) -> Result<Row, StoreError> {
        use super::entities::worker_fingerprint;
        let mut a: Assignment = decode(value, "assignment")?;
        if is_qualified(&a.worker_id) {
            return Ok(None);
        }
        match self.worker(&a.worker_id)? {
            Some(old) => {
                let new = upgraded(&old);
                // A staged run computed from the record as it was is not
                // stale because the upgrade renamed its ids.
                if a.worker_fingerprint == worker_fingerprint(&old) {
                    a.worker_fingerprint = worker_fingerprint(&new);
                }
                a.worker_id = new.id;
            }
            None => a.worker_id = qualify(&a.county_code, &a.worker_id),
        }
        a.household_id = household(&a.household_id, &a.county_code);
        let run = &key[..8.min(key.len())];
        Ok(Some((row_key(run, &a.worker_id), a.encode_to_vec())))
    }

    fn placement(&mut self, key: &[u8], value: &[u8]) -> Result<Row, StoreError> {
        let mut p = <Placement as Entity>::decode(value)?;
        if is_qualified(&p.worker_id) {
            return Ok(None);
        }
        p.worker_id = self.new_id(&p.worker_id, &p.county_code)?;
        p.household_id = household(&p.household_id, &p.county_code);
        Ok(Some((key.to_vec(), Entity::encode(&p))))
    }

    fn decline(&mut self, _key: &[u8], value: &[u8]) -> Result<Row, StoreError> {
        let mut d: Declined = decode(value, "decline")?;
        if is_qualified(&d.worker_id) {
            return Ok(None);
        }
        d.worker_id = self.new_id(&d.worker_id, &d.county_code)?;
        let key = placements::decline_key(&d.worker_id, &d.opening_id);
        Ok(Some((key, d.encode_to_vec())))
    }

    /// A worker under its new id; last, as every other row reads the
    /// workers under their bare ids.
    fn worker_row(&mut self, _key: &[u8], value: &[u8]) -> Result<Row, StoreError> {
        let w = <Worker as Entity>::decode(value)?;
        Ok((!is_qualified(&w.id)).then(|| {
            let new = upgraded(&w);
            (new.id.clone().into_bytes(), Entity::encode(&new))
        }))
    }
}

/// Logs the split households (one line each, up to a cap) and the totals.
fn log(report: &IdUpgradeReport) {
    for h in report.split_households.iter().take(LOGGED_HOUSEHOLDS) {
        tracing::warn!(
            "household {h}: its members were in more than one county; it is now one \
             household per county (county/{})",
            h.household_id
        );
    }
    let split = report.split_households.len();
    if split > 0 {
        tracing::warn!(
            households = split,
            "{split} households spanned counties and were split ({} listed above; \
             `jobbridge check` lists them all)",
            split.min(LOGGED_HOUSEHOLDS)
        );
    }
    tracing::info!(
        workers = report.workers,
        placements = report.placements,
        run_assignments = report.run_assignments,
        run_changes = report.run_changes,
        declines = report.declines,
        unresolved_changes = report.unresolved_changes,
        "data directory upgraded to format {FORMAT_VERSION}: ids qualified with their county"
    );
}

impl Store {
    /// What the upgrade to scoped ids (format 5) did to this directory, if
    /// it was upgraded rather than created in format 5: when, how many rows
    /// it rewrote, and the households it split.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = jobbridge::store::Store::open(dir.path()).unwrap();
    /// assert!(store.id_upgrade_report().unwrap().is_none());
    /// ```
    pub fn id_upgrade_report(&self) -> Result<Option<IdUpgradeReport>, StoreError> {
        self.meta
            .get(REPORT_KEY)?
            .map(|v| decode(&v, "id upgrade report"))
            .transpose()
    }
}
