//! Durable storage in sled: one table per entity with its secondary indexes,
//! a format version checked at open, and group commit for durability.
//!
//! The API is synchronous like sled's own (call it from `spawn_blocking`);
//! only [`Store::sync`], which waits for the shared flush, is async.
//! Nothing outside this module touches sled.

mod audit;
mod backup;
mod committer;
mod dashboard_days;
mod durable;
mod entities;
mod error;
mod gate;
mod households;
mod id_key;
pub mod key_file;
mod options;
mod placement_reads;
mod placements;
mod records;
mod runs;
mod scoped_ids;
mod table;
mod tokens;

use std::path::{Path, PathBuf};

use crate::domain::placement::Placement;
use crate::domain::{Household, Opening, OpeningStatus, Worker};

pub use audit::AuditEntry;
pub use backup::{
    restore, verify_backup, BackupInfo, BackupSummary, PartialFile, RestoreSummary, PARTIAL_SUFFIX,
};
pub use dashboard_days::DayFigures;
pub use entities::{opening_fingerprint, worker_fingerprint};
pub use error::StoreError;
pub use gate::DiskSpace;
pub use households::{CountyMembers, SpanningHousehold};
pub use id_key::Bound;
pub use key_file::{find_id_key, id_key, IdKeySource};
pub use options::{StoreOptions, DEFAULT_CACHE_MB, DEFAULT_MIN_FREE_MB};
pub use placement_reads::DueCheckIn;
pub use placements::{Action, Changed, Proposal};
pub use scoped_ids::IdUpgradeReport;
pub use tokens::TokenRecord;
// The shapes of a listing and a put are the domain's (every face states
// them); re-exported for the store's own code and its tests.
pub use crate::domain::query::{OpeningFilter, Page, PlacementFilter, PutMode, WorkerFilter};

use committer::Committer;
use durable::Disk;
use entities::{opening_index, worker_index};
use std::sync::Arc;
use table::Table;

/// On-disk format this build writes. Bump it, with a migration, when a
/// change is not covered by prost's field evolution.
///
/// 2: national ids are keyed hashes ([`Store::bind_id_key`]).
/// 3: no index trees on disk; the indexes are built in memory at open
///    (see `table`).
/// 4: the placements' indexes are on disk again (they grow with the
///    history), built once and marked complete in `meta`.
/// 5: worker and household ids qualified with their county
///    (`431224/w-0000001`, see [`crate::domain::scoped`]); older
///    directories are upgraded at open (see `scoped_ids`).
pub const FORMAT_VERSION: u32 = 5;

/// Bare worker and household ids: read, and upgraded to [`FORMAT_VERSION`]
/// at open by qualifying them with their county.
const PLACEMENT_INDEX_FORMAT: u32 = 4;

/// Every index in memory: read, and upgraded to [`FORMAT_VERSION`] at open
/// by building the placements' index trees (and qualifying the ids).
const MEMORY_INDEX_FORMAT: u32 = 3;

/// Hashed national ids and index trees on disk: read, and upgraded to
/// [`FORMAT_VERSION`] at open by dropping the index trees (the placements'
/// are built again).
const INDEX_TREES_FORMAT: u32 = 2;

/// The format before national ids were hashed: still read; its ids are
/// qualified at open, and its national ids hashed by [`Store::bind_id_key`]
/// (which does not depend on the format recorded).
const CLEAR_ID_FORMAT: u32 = 1;

const META_TREE: &str = "meta";
const FORMAT_KEY: &[u8] = b"format_version";

/// The jobbridge store. Cheap to share behind an `Arc`; all methods take
/// `&self`.
pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    /// Every flush goes through it (fsyncs after sled's flush).
    disk: Arc<Disk>,
    meta: sled::Tree,
    workers: Table,
    openings: Table,
    runs: sled::Tree,
    run_assignments: sled::Tree,
    run_changes: sled::Tree,
    /// Per run, the prices of its contested openings.
    run_prices: sled::Tree,
    placements: Table,
    placement_events: sled::Tree,
    /// Each declined pair's first decline (see `placements`).
    declines: sled::Tree,
    tokens: sled::Tree,
    /// The dashboard's daily figures (see `dashboard_days`).
    dashboard_days: sled::Tree,
    audit_log: std::sync::Arc<audit::AuditLog>,
    // Declared last so it is dropped (final flush, join) after the tables.
    committer: Committer,
}

/// Where a serving process records its pid in the data directory.
const PID_FILE: &str = "serve.pid";

/// sled's lock failure as [`StoreError::InUse`]; other errors as they are.
fn in_use(e: sled::Error, dir: &Path) -> StoreError {
    match &e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            let pid = std::fs::read_to_string(dir.join(PID_FILE))
                .ok()
                .and_then(|t| t.trim().parse().ok());
            StoreError::InUse {
                dir: dir.to_path_buf(),
                pid,
            }
        }
        _ => StoreError::Backend(e),
    }
}

/// How long an open waits for sled's lock when no live server holds it.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens sled in `dir`. A directory locked by a live serving process is
/// refused at once ([`StoreError::InUse`]); otherwise the lock belongs to a
/// store that was just closed (sled's background threads let go of it a
/// moment after the drop, in this process or one that just exited), so the
/// open waits up to [`LOCK_WAIT`] for it.
fn open_db(dir: &Path, options: StoreOptions) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        let opened = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_bytes)
            // Group commit does the flushing; sled's own timer would only
            // add flushes that nobody waits for.
            .flush_every_ms(None)
            .open()
            .map_err(|e| in_use(e, dir));
        match opened {
            Err(StoreError::InUse { pid, .. })
                if !pid.is_some_and(server_alive) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Whether the process that recorded `pid` is still running (and is not
/// this process, whose own closed store is what holds the lock).
fn server_alive(pid: u32) -> bool {
    pid != std::process::id() && Path::new("/proc").join(pid.to_string()).exists()
}

impl Store {
    /// Opens or creates the store in `dir`, checking the format version. A
    /// directory of an older format is upgraded in place first (ids
    /// qualified with their county: [`Store::id_upgrade_report`] tells what
    /// changed); one from before national ids were hashed opens too, and
    /// [`Store::bind_id_key`] hashes them.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = jobbridge::store::Store::open(dir.path()).unwrap();
    /// assert_eq!(store.worker_count(), 0);
    /// ```
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(dir, StoreOptions::default())
    }

    /// As [`Store::open`], with `options` (the page cache's size).
    ///
    /// ```
    /// use jobbridge::store::{Store, StoreOptions};
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = StoreOptions::with_cache_mb(16);
    /// let store = Store::open_with(dir.path(), options).unwrap();
    /// assert_eq!(store.worker_count(), 0);
    /// ```
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let disk = Arc::new(Disk::open(
            open_db(dir, options)?,
            dir,
            options.min_free_bytes,
        )?);
        let db = disk.db().clone();
        let found = check_format(&disk)?;
        // Every older format is upgraded here, before the tables build
        // their indexes. The upgrade records the new format before it
        // changes anything, and so before any index tree is dropped or
        // built: an earlier build refuses the directory instead of trusting
        // trees it would not keep in step (or dropping the ones this build
        // marked complete), or ids it does not know.
        scoped_ids::upgrade_if_needed(&disk, found)?;
        let workers = Table::open::<Worker>(&disk)?;
        let openings = Table::open::<Opening>(&disk)?;
        let runs = db.open_tree("runs")?;
        let run_assignments = db.open_tree("run_assignments")?;
        let run_changes = db.open_tree("run_changes")?;
        let run_prices = db.open_tree("run_prices")?;
        let placements = Table::open::<Placement>(&disk)?;
        let placement_events = db.open_tree("placement_events")?;
        let declines = db.open_tree(placements::DECLINES_TREE)?;
        let tokens = db.open_tree("tokens")?;
        let dashboard_days = db.open_tree(dashboard_days::DASHBOARD_DAYS_TREE)?;
        let audit_log = std::sync::Arc::new(audit::AuditLog::open(&disk)?);
        let meta = db.open_tree(META_TREE)?;
        let committer = Committer::start(disk.clone(), audit_log.clone())
            .map_err(|e| StoreError::Flush(format!("cannot start committer: {e}")))?;
        let store = Store {
            dir: dir.to_path_buf(),
            db,
            disk,
            meta,
            workers,
            openings,
            runs,
            run_assignments,
            run_changes,
            run_prices,
            placements,
            placement_events,
            declines,
            tokens,
            dashboard_days,
            audit_log,
            committer,
        };
        store.build_declines()?;
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits until every write made before the call is on disk (survives a
    /// killed process). Many concurrent callers share one flush.
    pub async fn sync(&self) -> Result<(), StoreError> {
        self.committer.sync().await
    }

    /// Announces a call that will soon ask for a flush ([`Store::sync`] or
    /// [`Store::after_sync`]), until the guard is dropped, so that a flush
    /// under way waits a little for it rather than leave it to the next.
    pub(crate) fn coming(&self) -> committer::Coming {
        self.committer.coming()
    }

    /// Runs `then` once every write made before the call is on disk, on the
    /// thread that flushes: for threads that answer many (`calls`) calls at
    /// once. `then` must be quick (the next flush waits for it).
    pub(crate) fn after_sync(
        &self,
        calls: usize,
        then: impl FnOnce(Result<(), StoreError>) + Send + 'static,
    ) {
        self.committer
            .after_flush(calls, move |result| then(result.map_err(StoreError::Flush)));
    }

    /// Flushes now, blocking; for tools that run without a runtime.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.audit_log.write_queued()?;
        self.disk.flush()?;
        Ok(())
    }

    /// Records this process as the directory's server, for the message
    /// another process gets when it finds the directory locked
    /// ([`StoreError::InUse`]). Removed by [`Store::forget_pid`].
    pub fn record_pid(&self) -> std::io::Result<()> {
        std::fs::write(self.dir.join(PID_FILE), format!("{}\n", std::process::id()))
    }

    /// Removes the pid file of [`Store::record_pid`].
    pub fn forget_pid(&self) {
        let _ = std::fs::remove_file(self.dir.join(PID_FILE));
    }

    /// The free space of the data directory's disk, read now, and whether
    /// writes are accepted.
    pub fn disk_space(&self) -> DiskSpace {
        self.disk.gate().space()
    }

    /// `fdatasync` calls that made a flush durable since the store opened.
    pub fn fsyncs(&self) -> u64 {
        self.disk.syncs()
    }

    /// Bytes the store takes on disk (sled's own count).
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Number of workers.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// Transactions committed on the workers since the store was opened:
    /// equal to `n + 1` after a write that read `n` before it when no
    /// other write to a worker committed in between.
    pub fn worker_commits(&self) -> u64 {
        self.workers.commits()
    }

    /// The same for the openings.
    pub fn opening_commits(&self) -> u64 {
        self.openings.commits()
    }

    /// Number of openings.
    pub fn opening_count(&self) -> usize {
        self.openings.len()
    }

    /// Number of placements.
    pub fn placement_count(&self) -> usize {
        self.placements.len()
    }

    /// Writes a validated worker. Fails with `AlreadyExists` in create mode
    /// if the id is taken, and `Duplicate` if another worker has the same
    /// national id. Returns the stored worker and whether it was new.
    pub fn put_worker(&self, worker: Worker, mode: PutMode) -> Result<(Worker, bool), StoreError> {
        self.workers.put(worker, mode, now_ms())
    }

    /// Upserts many validated workers in one transaction; each succeeds or
    /// fails on its own.
    #[allow(clippy::type_complexity)]
    pub fn put_workers(
        &self,
        workers: &[Worker],
    ) -> Result<Vec<Result<(Worker, bool), StoreError>>, StoreError> {
        self.workers.put_many(workers, PutMode::Upsert, now_ms())
    }

    /// Writes many validated workers, each with its own mode, in one
    /// transaction; each succeeds or fails on its own.
    #[allow(clippy::type_complexity)]
    pub fn put_workers_each(
        &self,
        workers: &[(Worker, PutMode)],
    ) -> Result<Vec<Result<(Worker, bool), StoreError>>, StoreError> {
        self.workers
            .put_each(workers.len(), |i| (&workers[i].0, workers[i].1), now_ms())
    }

    /// The counties that have registered workers, in code order.
    pub fn worker_counties(&self) -> Vec<String> {
        self.workers
            .values(worker_index::COUNTY)
            .into_iter()
            .filter_map(|v| String::from_utf8(v).ok())
            .collect()
    }

    /// The counties that worker ids name (`431224` of `431224/w-1`), in
    /// code order: the counties that registered workers, also those whose
    /// workers all moved away since.
    pub fn worker_id_counties(&self) -> Result<Vec<String>, StoreError> {
        self.workers.id_prefixes(b'/')
    }

    /// The id of the worker registered with national id `stored` (as the
    /// store keeps it: the keyed hash), if any.
    pub fn worker_with_national_id(&self, stored: &str) -> Result<Option<String>, StoreError> {
        self.workers.unique_id(
            worker_index::NATIONAL_ID,
            &entities::national_id_key(stored),
        )
    }

    /// Reads one worker.
    pub fn worker(&self, id: &str) -> Result<Option<Worker>, StoreError> {
        self.workers.get(id)
    }

    /// Deletes one worker; `NotFound` if absent, `Precondition` while the
    /// worker holds an active placement.
    pub fn delete_worker(&self, id: &str) -> Result<Worker, StoreError> {
        self.workers.delete(id, |w: &Worker| {
            crate::domain::placement::may_delete_worker(w).map_err(StoreError::from)
        })
    }

    /// Lists up to `limit` workers after id `after` that match `filter`, in
    /// id order.
    pub fn list_workers(
        &self,
        filter: &WorkerFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Worker>, StoreError> {
        use worker_index::*;
        let status = filter.employment_status.map(|s| [s.code()]);
        let index = most_selective(&[
            (HOUSEHOLD, given(&filter.household_id)),
            (SITE, given(&filter.site_id)),
            (COUNTY, given(&filter.county_code)),
            (STATUS, status.as_ref().map(|s| &s[..])),
        ]);
        let matches = |w: &Worker| {
            filter
                .county_code
                .as_ref()
                .is_none_or(|c| &w.county_code == c)
                && filter.site_id.as_ref().is_none_or(|s| &w.site_id == s)
                && filter
                    .household_id
                    .as_ref()
                    .is_none_or(|h| &w.household_id == h)
                && filter
                    .employment_status
                    .is_none_or(|s| w.employment_status == s)
        };
        page(&self.workers, index, after, limit, matches)
    }

    /// The household `id` as seen through its registered members; `None` if
    /// no worker names it.
    pub fn household(&self, id: &str) -> Result<Option<Household>, StoreError> {
        let mut household = Household {
            id: id.to_string(),
            worker_ids: Vec::new(),
            employed: 0,
            seeking: 0,
            placed: 0,
        };
        for wid in self
            .workers
            .ids_after(Some((worker_index::HOUSEHOLD, id.as_bytes())), None)
        {
            let wid = wid?;
            // The index is read a moment apart from the records (see
            // `table`): a worker just removed or moved is left out.
            let Some(worker) = self.workers.get::<Worker>(&wid)? else {
                continue;
            };
            if worker.household_id == id {
                household.add_member(wid, worker.employment_status);
            }
        }
        Ok((!household.worker_ids.is_empty()).then_some(household))
    }

    /// Writes a validated opening; see [`Store::put_worker`].
    pub fn put_opening(
        &self,
        opening: Opening,
        mode: PutMode,
    ) -> Result<(Opening, bool), StoreError> {
        self.openings.put(opening, mode, now_ms())
    }

    /// Upserts many validated openings in one transaction.
    #[allow(clippy::type_complexity)]
    pub fn put_openings(
        &self,
        openings: &[Opening],
    ) -> Result<Vec<Result<(Opening, bool), StoreError>>, StoreError> {
        self.openings.put_many(openings, PutMode::Upsert, now_ms())
    }

    /// Writes many validated openings, each with its own mode, in one
    /// transaction; each succeeds or fails on its own.
    #[allow(clippy::type_complexity)]
    pub fn put_openings_each(
        &self,
        openings: &[(Opening, PutMode)],
    ) -> Result<Vec<Result<(Opening, bool), StoreError>>, StoreError> {
        self.openings.put_each(
            openings.len(),
            |i| (&openings[i].0, openings[i].1),
            now_ms(),
        )
    }

    /// Reads one opening.
    pub fn opening(&self, id: &str) -> Result<Option<Opening>, StoreError> {
        self.openings.get(id)
    }

    /// Marks an opening closed; `NotFound` if absent. Closing a closed
    /// opening changes nothing.
    pub fn close_opening(&self, id: &str) -> Result<Opening, StoreError> {
        self.openings.update(id, now_ms(), |current: &Opening| {
            if current.status == OpeningStatus::Closed {
                return Ok(None);
            }
            let mut closed = current.clone();
            closed.status = OpeningStatus::Closed;
            Ok(Some(closed))
        })
    }

    /// Lists openings; see [`Store::list_workers`].
    pub fn list_openings(
        &self,
        filter: &OpeningFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Opening>, StoreError> {
        use opening_index::*;
        let source = filter.source.map(|s| [s.code()]);
        let status = filter.status.map(|s| [s.code()]);
        let index = most_selective(&[
            (EMPLOYER, given(&filter.employer_id)),
            (REGION, given(&filter.region_code)),
            (SOURCE, source.as_ref().map(|s| &s[..])),
            (STATUS, status.as_ref().map(|s| &s[..])),
        ]);
        let matches = |o: &Opening| {
            filter
                .region_code
                .as_ref()
                .is_none_or(|r| &o.region_code == r)
                && filter.source.is_none_or(|s| o.source == s)
                && filter.status.is_none_or(|s| o.status == s)
                && filter
                    .employer_id
                    .as_ref()
                    .is_none_or(|e| &o.employer_id == e)
        };
        page(&self.openings, index, after, limit, matches)
    }

    /// Every worker, in id order (for index builds and exports).
    pub fn workers(&self) -> impl Iterator<Item = Result<Worker, StoreError>> + '_ {
        self.workers.scan()
    }

    /// Every opening, in id order.
    pub fn openings(&self) -> impl Iterator<Item = Result<Opening, StoreError>> + '_ {
        self.openings.scan()
    }

    /// Checks that every index agrees with the records, placements with the
    /// workers and openings they change, that no clear national id is left
    /// once a key is bound, and that every household is wholly in its
    /// county ([`Store::spanning_households`]). Reads everything.
    pub fn verify(&self) -> Result<(), StoreError> {
        self.workers.verify::<Worker>()?;
        self.verify_national_ids()?;
        self.openings.verify::<Opening>()?;
        self.placements.verify::<Placement>()?;
        self.verify_placements()?;
        self.verify_declines()?;
        self.verify_households()
    }
}

/// The index a listing walks: the first of `indexes` (the most selective
/// first) whose filter is given, or none (the whole table). The other
/// filters are checked on the records themselves.
fn most_selective<'a>(indexes: &[(usize, Option<&'a [u8]>)]) -> Option<(usize, &'a [u8])> {
    indexes
        .iter()
        .find_map(|&(tree, value)| Some((tree, value?)))
}

/// A text filter's value as index key bytes, if given.
fn given(filter: &Option<String>) -> Option<&[u8]> {
    filter.as_deref().map(str::as_bytes)
}

fn page<E: table::Entity>(
    table: &Table,
    index: Option<(usize, &[u8])>,
    after: Option<&str>,
    limit: usize,
    matches: impl Fn(&E) -> bool,
) -> Result<Page<E>, StoreError> {
    let mut items = Vec::with_capacity(limit.min(1024));
    for id in table.ids_after(index, after) {
        let id = id?;
        // A record removed between the index read and this get is skipped.
        let Some(item) = table.get::<E>(&id)? else {
            continue;
        };
        if !matches(&item) {
            continue;
        }
        if items.len() == limit {
            let next_after = items.last().map(|i: &E| i.id().to_string());
            return Ok(Page { items, next_after });
        }
        items.push(item);
    }
    Ok(Page {
        items,
        next_after: None,
    })
}

/// Checks the directory's format version and returns it; a new directory
/// gets [`FORMAT_VERSION`].
fn check_format(disk: &Disk) -> Result<u32, StoreError> {
    let db = disk.db();
    let meta = db.open_tree(META_TREE)?;
    match meta.get(FORMAT_KEY)? {
        Some(v) => {
            let bytes: [u8; 4] = v
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::corruption("format version is not 4 bytes"))?;
            let found = u32::from_be_bytes(bytes);
            let known = [
                FORMAT_VERSION,
                PLACEMENT_INDEX_FORMAT,
                MEMORY_INDEX_FORMAT,
                INDEX_TREES_FORMAT,
                CLEAR_ID_FORMAT,
            ];
            if !known.contains(&found) {
                return Err(StoreError::FormatVersion {
                    found,
                    expected: FORMAT_VERSION,
                });
            }
            Ok(found)
        }
        None => {
            if db.tree_names().len() > 2 {
                // Trees exist but no version: not a jobbridge directory we wrote.
                let non_empty = db
                    .tree_names()
                    .iter()
                    .filter(|n| {
                        n.as_ref() != META_TREE.as_bytes() && n.as_ref() != b"__sled__default"
                    })
                    .any(|n| db.open_tree(n).map(|t| !t.is_empty()).unwrap_or(true));
                if non_empty {
                    return Err(StoreError::corruption(
                        "data directory has data but no format version",
                    ));
                }
            }
            meta.insert(FORMAT_KEY, &FORMAT_VERSION.to_be_bytes())?;
            disk.flush()?;
            Ok(FORMAT_VERSION)
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests;
