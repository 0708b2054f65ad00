//! Workers: registration, reads, listings, households and bulk imports,
//! each checked against the caller's counties.

use std::collections::HashMap;
use std::sync::Arc;

use super::rows::{check_move, write_rows, ImportOptions, RowChange};
use super::{scope, Result, Service, ServiceError};
use crate::domain::access::{Caller, Role};
use crate::domain::{identity, scoped, Household, Reason, Worker};
use crate::store::{Page, PutMode, Store, WorkerFilter};

impl Service {
    /// Creates or replaces a worker (as `mode` says) and answers once it
    /// is durable and indexed. A bare id or household number is qualified
    /// with the worker's county ([`scoped`]). The caller's counties must
    /// cover that county and, for a replacement, the one it was in; moving
    /// a stored worker to another county or household needs `allow_move`.
    /// A replacement equal to the stored record writes nothing (its
    /// `updated_at` stays). Answers the stored worker and what the write
    /// did.
    pub async fn put_worker(
        self: &Arc<Self>,
        caller: &Caller,
        mut worker: Worker,
        mode: PutMode,
        allow_move: bool,
    ) -> Result<(Worker, RowChange)> {
        worker.scope_ids();
        self.hash_national_id(&mut worker);
        check_worker_write(caller, &worker, "worker")?;
        let owned = worker.id.clone();
        let stored = self
            .blocking(move |s| Ok(s.store().worker(&owned)?))
            .await?;
        // A create finds a stored worker taken (the store says so).
        let allow_move = allow_move || mode == PutMode::Create;
        let change = match self.classify(caller, &worker, stored.as_ref(), allow_move) {
            Ok(change) => change,
            Err(e) => return self.settle(Err(e)).await,
        };
        if mode == PutMode::Upsert && change == RowChange::Unchanged {
            // Nothing to write; answered once what was read is durable (it
            // may be another call's write).
            let old = stored.expect("unchanged means stored");
            return self.settle(Ok((old, change))).await;
        }
        // The writer answers after the group commit: durable either way.
        let (w, _) = self.writer.put_worker(worker, mode).await?;
        Ok((w, change))
    }

    /// Changes a stored worker by `merge`, which gets the stored record
    /// (national id as its hash) and returns the record to store, checked.
    /// The caller's counties must cover the stored county and the new one.
    /// The field mask says what changes, so a county or household named
    /// in it is a move the caller asked for.
    pub async fn update_worker(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
        merge: impl FnOnce(Worker) -> crate::domain::Validated<Worker> + Send + 'static,
    ) -> Result<Worker> {
        let stored = self.find_worker(caller, id).await?;
        let mut merged = merge(stored).map_err(ServiceError::Invalid)?;
        merged.household_id = scoped::qualified(&merged.household_id, &merged.county_code);
        check_worker_write(caller, &merged, "worker")?;
        // Answered after the group commit: durable.
        let (stored, _) = self.writer.put_worker(merged, PutMode::Upsert).await?;
        Ok(stored)
    }

    /// A worker as stored (the national id is never returned), by its
    /// whole id or by its county's number (see [`Service::find_worker`]).
    pub async fn worker(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Worker> {
        self.find_worker(caller, id).await
    }

    /// Deletes a worker (refused while it holds an active placement).
    pub async fn delete_worker(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Worker> {
        self.settled(async {
            let worker = self.find_worker(caller, id).await?;
            self.blocking(move |s| Ok(s.writer.delete_worker(&worker.id)?))
                .await
        })
        .await
    }

    /// One page of workers in id order after `after`. A service company
    /// must name one of its counties. A household filter is resolved like
    /// [`Service::household`]'s id.
    pub async fn list_workers(
        self: &Arc<Self>,
        caller: &Caller,
        mut filter: WorkerFilter,
        after: Option<String>,
        limit: usize,
    ) -> Result<Page<Worker>> {
        scope::county_filter(caller, filter.county_code.as_deref(), "county_code")?;
        if let Some(h) = filter.household_id.take() {
            filter.household_id = Some(match &filter.county_code {
                Some(c) => scoped::qualified(&h, c),
                None => match self.find_household(caller, &h).await {
                    Ok(household) => household.id,
                    // No household of that number: an empty listing.
                    Err(ServiceError::NotFound(_)) => scoped::qualified(&h, "-"),
                    Err(e) => return Err(e),
                },
            });
        }
        self.blocking(move |s| Ok(s.store().list_workers(&filter, after.as_deref(), limit)?))
            .await
    }

    /// A household and its members' employment, by its whole id or its
    /// county's number, if the caller covers its county.
    pub async fn household(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Household> {
        self.find_household(caller, id).await
    }

    /// Upserts one batch of an import in one transaction; each row
    /// succeeds or fails on its own, and says what it changed. Bare ids
    /// are qualified with each row's county; a row whose id is taken by a
    /// worker outside the caller's counties is refused without naming
    /// where; moves need [`ImportOptions::allow_move`]; a row equal to its
    /// stored record writes nothing. With [`ImportOptions::check_only`]
    /// nothing is written at all. Blocking. Durable after
    /// [`Service::commit`].
    pub fn import_workers(
        &self,
        caller: &Caller,
        batch: Vec<Worker>,
        options: ImportOptions,
    ) -> Result<Vec<Result<RowChange>>> {
        let store = self.store();
        let mut rows: Vec<Result<RowChange>> = Vec::with_capacity(batch.len());
        let mut writes: Vec<Worker> = Vec::with_capacity(batch.len());
        // Rows of this batch that write, by id: a row repeating one
        // compares with it.
        let mut earlier: HashMap<String, usize> = HashMap::new();
        // Checking only, the store's unique national id is checked here:
        // who holds each number, stored or earlier in this batch.
        let mut holders: HashMap<String, String> = HashMap::new();
        for mut worker in batch {
            worker.scope_ids();
            self.hash_national_id(&mut worker);
            let row = scope::worker_row(caller, &worker)
                .map_err(ServiceError::Invalid)
                .and_then(|()| match earlier.get(&worker.id) {
                    Some(&i) => Ok(Some(writes[i].clone())),
                    None => Ok(store.worker(&worker.id)?),
                })
                .and_then(|stored| {
                    self.classify(caller, &worker, stored.as_ref(), options.allow_move)
                })
                .and_then(|change| {
                    if options.check_only {
                        let holder = match holders.get(&worker.national_id) {
                            Some(id) => Some(id.clone()),
                            None => store.worker_with_national_id(&worker.national_id)?,
                        };
                        if holder.is_some_and(|id| id != worker.id) {
                            return Err(ServiceError::Duplicate {
                                kind: "worker",
                                field: "worker.national_id",
                            });
                        }
                    }
                    Ok(change)
                });
            if matches!(&row, Ok(change) if change.writes()) {
                if options.check_only {
                    holders.insert(worker.national_id.clone(), worker.id.clone());
                }
                earlier.insert(worker.id.clone(), writes.len());
                writes.push(worker);
            }
            rows.push(row);
        }
        if options.check_only {
            writes.clear();
        }
        write_rows(rows, writes, |w| {
            Ok(into_service(self.writer.put_workers(w)?))
        })
    }

    /// Waits until every write made so far is durable (the end of an
    /// import).
    pub async fn commit(&self) -> Result<()> {
        self.sync().await
    }

    /// The stored worker that `id` names for `caller` (see
    /// [`Service::find_worker_now`]).
    pub(super) async fn find_worker(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Worker> {
        self.find_blocking(caller, id, Service::find_worker_now)
            .await
    }

    /// The household that `id` names for `caller` (see
    /// [`Service::find_household_now`]).
    pub(super) async fn find_household(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
    ) -> Result<Household> {
        self.find_blocking(caller, id, Service::find_household_now)
            .await
    }

    /// `find`, a blocking lookup of `id` for `caller`, on a blocking
    /// thread.
    async fn find_blocking<T: Send + 'static>(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
        find: fn(&Service, &Caller, &str) -> Result<T>,
    ) -> Result<T> {
        let (caller, owned) = (caller.clone(), id.to_string());
        self.blocking(move |s| find(s, &caller, &owned)).await
    }

    /// The stored worker that `id` names for `caller`: a whole id
    /// (`431224/w-1`) as it is, a county's own number (`w-1`) looked up in
    /// the caller's counties (every county for roles without counties).
    /// A worker outside the caller's counties is not found, exactly as if
    /// it did not exist; a number that names workers in several of the
    /// caller's counties is refused with their whole ids. Blocking.
    pub(super) fn find_worker_now(&self, caller: &Caller, id: &str) -> Result<Worker> {
        self.resolve(caller, id, "worker", |store, candidate| {
            let worker = store.worker(candidate)?;
            Ok(worker.filter(|w| sees(caller, &w.county_code)))
        })
    }

    /// The household that `id` names for `caller`, resolved like
    /// [`Service::find_worker_now`]: seen if the caller covers the county
    /// of every member. Blocking.
    pub(super) fn find_household_now(&self, caller: &Caller, id: &str) -> Result<Household> {
        self.resolve(caller, id, "household", |store, candidate| {
            let Some(household) = store.household(candidate)? else {
                return Ok(None);
            };
            let mut seen = true;
            for w in &household.worker_ids {
                if let Some(w) = store.worker(w)? {
                    seen &= sees(caller, &w.county_code);
                }
            }
            Ok(seen.then_some(household))
        })
    }

    /// The one `kind` record that `id` names for `caller`, among the
    /// candidates its id may stand for: `seen` reads a candidate, answering
    /// it if stored and seen by the caller. None is not found; several are
    /// refused with their whole ids. Blocking.
    fn resolve<T: Resolved>(
        &self,
        caller: &Caller,
        id: &str,
        kind: &'static str,
        mut seen: impl FnMut(&Store, &str) -> Result<Option<T>>,
    ) -> Result<T> {
        let store = self.store();
        let mut found = Vec::new();
        for candidate in self.candidates(caller, id)? {
            if let Some(record) = seen(store, &candidate)? {
                found.push(record);
            }
        }
        let ids: Vec<&str> = found.iter().map(T::whole_id).collect();
        match found.len() {
            0 => Err(not_found_for(caller, kind, id)),
            1 => Ok(found.pop().expect("one")),
            _ => Err(ambiguous(kind, id, &ids)),
        }
    }

    /// What writing `worker` (ids scoped, national id hashed) over
    /// `stored`, the record of its id if any, would do, or why `caller`
    /// may not: the household must be in the worker's county; a stored worker outside the caller's
    /// counties is neither replaced nor named; a new worker's id carries
    /// its own county (the same refusal whether or not another county has
    /// that id); moving a stored worker needs `allow_move`.
    pub(super) fn classify(
        &self,
        caller: &Caller,
        worker: &Worker,
        stored: Option<&Worker>,
        allow_move: bool,
    ) -> Result<RowChange> {
        scoped::check_household_county(&worker.household_id, &worker.county_code)
            .map_err(|e| ServiceError::Invalid(e.within("worker")))?;
        let own_county = scoped::county(&worker.id) == Some(worker.county_code.as_str());
        match stored {
            Some(old) if sees(caller, &old.county_code) => {
                check_move(old, worker, allow_move)?;
                Ok(RowChange::comparing(worker.changed_fields(old)))
            }
            _ if !own_county => Err(foreign_id(worker)),
            Some(old) => Err(taken_elsewhere(&old.id)),
            None => Ok(RowChange::Created),
        }
    }

    /// The whole ids a worker or household `id` may stand for: for a
    /// service company, the number in each of its counties; for the
    /// others, in every county that numbered a worker (also one whose
    /// workers all moved away since) or has a household.
    fn candidates(&self, caller: &Caller, id: &str) -> Result<Vec<String>> {
        if scoped::is_qualified(id) {
            return Ok(vec![id.to_string()]);
        }
        let counties = if caller.role == Role::ServiceCompany {
            caller.scope.counties.clone()
        } else {
            let store = self.store();
            let mut counties = store.worker_id_counties()?;
            counties.extend(store.worker_counties());
            counties.sort_unstable();
            counties.dedup();
            counties
        };
        Ok(counties.iter().map(|c| scoped::qualify(c, id)).collect())
    }

    /// Replaces a client's national id number by the store's keyed hash
    /// (a hash stays as it is), so that the record compares with the
    /// stored one and is hashed once.
    pub(super) fn hash_national_id(&self, worker: &mut Worker) {
        if !identity::is_hashed(&worker.national_id) {
            worker.national_id = self.writer.id_key().hash(&worker.national_id);
        }
    }

    /// Not found unless worker `id` is stored where the caller sees it; a
    /// missing worker is left to the operation. (Recruiters and readers
    /// cover no county, but the permission table keeps them from every
    /// call that asks this.) Answers the worker's whole id.
    pub(super) async fn stored_worker_in_scope(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
    ) -> Result<String> {
        Ok(self.find_worker(caller, id).await?.id)
    }
}

/// Whether `caller` sees records of county `county`: a service company in
/// its counties; the other roles are kept to their calls by the
/// permission table (and a recruiter's by its employer).
pub(super) fn sees(caller: &Caller, county: &str) -> bool {
    caller.role != Role::ServiceCompany || caller.covers_county(county)
}

/// Not found, in the caller's words: for a service company, "in the
/// counties of this token", which tells nothing about other counties.
pub(super) fn not_found_for(caller: &Caller, kind: &'static str, id: &str) -> ServiceError {
    if caller.role == Role::ServiceCompany {
        ServiceError::NotFound(format!(
            "{kind} {id:?} not found in the counties of this token ({})",
            caller.scope.counties.join(", ")
        ))
    } else {
        ServiceError::not_found(kind, id)
    }
}

/// A county's number that names records in several counties the caller
/// sees.
fn ambiguous(kind: &'static str, id: &str, ids: &[&str]) -> ServiceError {
    ServiceError::invalid(
        "id",
        Reason::new(
            format!(
                "编号 {id} 在多个县区都有{}：{}；请写出完整编号（县区代码/编号）",
                if kind == "worker" { "劳动力" } else { "户" },
                ids.join("、")
            ),
            format!(
                "{id} names a {kind} in several counties: {}; send the whole id (county code/number)",
                ids.join(", ")
            ),
        ),
    )
}

/// A new worker whose whole id names another county than its own.
fn foreign_id(worker: &Worker) -> ServiceError {
    let county = scoped::county(&worker.id).unwrap_or_default();
    ServiceError::invalid(
        "worker.id",
        Reason::new(
            format!(
                "编号 {} 属于县区 {county}，而劳动力登记在 {}：新登记的劳动力用本县区的编号\
                 （只写编号，或写 {}/编号）",
                worker.id, worker.county_code, worker.county_code
            ),
            format!(
                "{} is an id of county {county} but the worker is in {}: a new worker gets a \
                 number of its own county (the number alone, or {}/number)",
                worker.id, worker.county_code, worker.county_code
            ),
        ),
    )
}

/// A write whose id is taken by a worker the caller may not see: refused
/// without saying where that worker is.
fn taken_elsewhere(id: &str) -> ServiceError {
    ServiceError::Forbidden(format!(
        "worker id {id:?} is taken by a record outside the counties of this token"
    ))
}

/// A worker about to be written by `caller` (`field` in errors): its
/// household in its county, and its county one of the caller's.
pub(super) fn check_worker_write(caller: &Caller, worker: &Worker, field: &str) -> Result<()> {
    scoped::check_household_county(&worker.household_id, &worker.county_code)
        .map_err(|e| ServiceError::Invalid(e.within(field)))?;
    scope::county(
        caller,
        &worker.county_code,
        &format!("worker {:?}", worker.id),
    )
}

/// Row outcomes of the store as service outcomes.
pub(super) fn into_service<T>(
    rows: Vec<std::result::Result<T, crate::store::StoreError>>,
) -> Vec<Result<T, ServiceError>> {
    rows.into_iter().map(|r| r.map_err(Into::into)).collect()
}

/// A record that an id given by a caller may resolve to
/// ([`Service::resolve`]): named by its whole id when several match.
trait Resolved {
    fn whole_id(&self) -> &str;
}

impl Resolved for Worker {
    fn whole_id(&self) -> &str {
        &self.id
    }
}

impl Resolved for Household {
    fn whole_id(&self) -> &str {
        &self.id
    }
}
