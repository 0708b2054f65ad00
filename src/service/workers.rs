//! Workers: registration, reads, listings, households and bulk imports,
//! each checked against the caller's counties.

use std::sync::Arc;

use super::{scope, Result, Service, ServiceError};
use crate::domain::access::{Caller, Role};
use crate::domain::{Household, Worker};
use crate::store::{Page, PutMode, WorkerFilter};

impl Service {
    /// Creates or replaces a worker (as `mode` says) and answers once it
    /// is durable and indexed. The caller's counties must cover the county
    /// it is registered in and, for a replacement, the one it was in.
    pub async fn put_worker(
        self: &Arc<Self>,
        caller: &Caller,
        worker: Worker,
        mode: PutMode,
    ) -> Result<(Worker, bool)> {
        scope::county(
            caller,
            &worker.county_code,
            &format!("worker {:?}", worker.id),
        )?;
        if let Err(e) = self.stored_worker_in_scope(caller, &worker.id).await {
            return self.settle(Err(e)).await;
        }
        // The writer answers after the group commit: durable either way.
        Ok(self.writer.put_worker(worker, mode).await?)
    }

    /// Changes a stored worker by `merge`, which gets the stored record
    /// (national id as its hash) and returns the record to store, checked.
    /// The caller's counties must cover the stored county and the new one.
    pub async fn update_worker(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
        merge: impl FnOnce(Worker) -> crate::domain::Validated<Worker> + Send + 'static,
    ) -> Result<Worker> {
        let owned = id.to_string();
        let stored = self
            .blocking(move |s| {
                s.store()
                    .worker(&owned)?
                    .ok_or_else(|| ServiceError::not_found("worker", owned))
            })
            .await?;
        scope::county(caller, &stored.county_code, &format!("worker {id:?}"))?;
        let merged = merge(stored).map_err(ServiceError::Invalid)?;
        scope::county(
            caller,
            &merged.county_code,
            &format!("worker {:?}", merged.id),
        )?;
        // Answered after the group commit: durable.
        let (stored, _) = self.writer.put_worker(merged, PutMode::Upsert).await?;
        Ok(stored)
    }

    /// A worker as stored (the national id is never returned).
    pub async fn worker(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Worker> {
        let owned = id.to_string();
        let worker = self
            .blocking(move |s| {
                s.store()
                    .worker(&owned)?
                    .ok_or_else(|| ServiceError::not_found("worker", owned))
            })
            .await?;
        scope::county(caller, &worker.county_code, &format!("worker {id}"))?;
        Ok(worker)
    }

    /// Deletes a worker (refused while it holds an active placement).
    pub async fn delete_worker(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Worker> {
        let result = async {
            self.stored_worker_in_scope(caller, id).await?;
            let owned = id.to_string();
            self.blocking(move |s| Ok(s.writer.delete_worker(&owned)?))
                .await
        }
        .await;
        self.settle(result).await
    }

    /// One page of workers in id order after `after`. A service company
    /// must name one of its counties.
    pub async fn list_workers(
        self: &Arc<Self>,
        caller: &Caller,
        filter: WorkerFilter,
        after: Option<String>,
        limit: usize,
    ) -> Result<Page<Worker>> {
        scope::county_filter(caller, filter.county_code.as_deref(), "county_code")?;
        self.blocking(move |s| Ok(s.store().list_workers(&filter, after.as_deref(), limit)?))
            .await
    }

    /// A household and its members' employment, if the caller covers the
    /// county of every member.
    pub async fn household(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Household> {
        let owned = id.to_string();
        let (household, counties) = self
            .blocking(move |s| {
                let store = s.store();
                let household = store
                    .household(&owned)?
                    .ok_or_else(|| ServiceError::not_found("household", owned))?;
                let mut counties = Vec::new();
                for w in &household.worker_ids {
                    if let Some(w) = store.worker(w)? {
                        counties.push(w.county_code);
                    }
                }
                Ok((household, counties))
            })
            .await?;
        let what = format!("household {id}");
        for county in &counties {
            scope::county(caller, county, &what)?;
        }
        Ok(household)
    }

    /// Upserts one batch of an import in one transaction; each row
    /// succeeds or fails on its own (also when the worker it would replace
    /// is registered outside the caller's counties). Blocking. Durable
    /// after [`Service::commit`].
    pub fn import_workers(
        &self,
        caller: &Caller,
        batch: Vec<Worker>,
    ) -> Result<Vec<Result<(), ServiceError>>> {
        // An admin may write any record: nothing stored to check against.
        if caller.role == Role::Admin {
            return Ok(into_service(self.writer.put_workers(batch)?));
        }
        put_checked(
            batch,
            |w| match self.store().worker(&w.id)? {
                Some(old) => scope::stored_worker(caller, &old),
                None => Ok(()),
            },
            |allowed| Ok(into_service(self.writer.put_workers(allowed)?)),
        )
    }

    /// Waits until every write made so far is durable (the end of an
    /// import).
    pub async fn commit(&self) -> Result<()> {
        self.sync().await
    }

    /// Forbidden if worker `id` is stored in a county outside the caller's;
    /// a missing worker is left to the operation. (Recruiters and readers
    /// cover no county, but the permission table keeps them from every
    /// call that asks this.)
    pub(super) async fn stored_worker_in_scope(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
    ) -> Result<()> {
        if caller.role == Role::Admin {
            return Ok(());
        }
        let owned = id.to_string();
        match self
            .blocking(move |s| Ok(s.store().worker(&owned)?))
            .await?
        {
            Some(w) => scope::county(caller, &w.county_code, &format!("worker {id:?}")),
            None => Ok(()),
        }
    }
}

/// Row outcomes of the store as service outcomes.
pub(super) fn into_service<T>(
    rows: Vec<std::result::Result<T, crate::store::StoreError>>,
) -> Vec<Result<T, ServiceError>> {
    rows.into_iter().map(|r| r.map_err(Into::into)).collect()
}

/// Puts the records that pass `check` with `put`, and answers the others
/// with `check`'s error, each in its place.
pub(super) fn put_checked<R>(
    batch: Vec<R>,
    check: impl Fn(&R) -> Result<()>,
    put: impl FnOnce(Vec<R>) -> Result<Vec<Result<()>>>,
) -> Result<Vec<Result<()>>> {
    let checks: Vec<Result<()>> = batch.iter().map(check).collect();
    if checks.iter().all(std::result::Result::is_ok) {
        return put(batch);
    }
    let allowed: Vec<R> = batch
        .into_iter()
        .zip(&checks)
        .filter(|(_, c)| c.is_ok())
        .map(|(r, _)| r)
        .collect();
    let mut stored = put(allowed)?.into_iter();
    Ok(checks
        .into_iter()
        .map(|c| match c {
            Ok(()) => stored.next().expect("one result per allowed record"),
            Err(e) => Err(e),
        })
        .collect())
}
