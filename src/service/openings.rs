//! Openings: posting, reads, closing, listings and bulk imports, each
//! checked against the caller's counties or employer.

use std::collections::HashMap;
use std::sync::Arc;

use super::rows::write_rows;
use super::workers::into_service;
use super::{scope, ImportOptions, Result, RowChange, Service, ServiceError};
use crate::domain::access::{Caller, Role};
use crate::domain::Opening;
use crate::store::{OpeningFilter, Page, PutMode, Store};

impl Service {
    /// Creates or replaces an opening and answers once it is durable and
    /// indexed. The caller must cover it as sent and, for a replacement,
    /// as stored.
    pub async fn put_opening(
        self: &Arc<Self>,
        caller: &Caller,
        opening: Opening,
        mode: PutMode,
    ) -> Result<(Opening, bool)> {
        scope::opening_write(caller, &opening).map_err(ServiceError::Forbidden)?;
        if let Err(e) = self.stored_opening_in_scope(caller, &opening.id).await {
            return self.settle(Err(e)).await;
        }
        // The writer answers after the group commit: durable either way.
        Ok(self.writer.put_opening(opening, mode).await?)
    }

    /// Changes a stored opening by `merge` (given the stored record, it
    /// returns the record to store, checked). The caller must cover the
    /// opening as stored and as changed.
    pub async fn update_opening(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
        merge: impl FnOnce(Opening) -> crate::domain::Validated<Opening> + Send + 'static,
    ) -> Result<Opening> {
        let stored = self.stored_opening(id).await?;
        scope::opening_write(caller, &stored).map_err(ServiceError::Forbidden)?;
        let merged = merge(stored).map_err(ServiceError::Invalid)?;
        scope::opening_write(caller, &merged).map_err(ServiceError::Forbidden)?;
        // Answered after the group commit: durable.
        let (stored, _) = self.writer.put_opening(merged, PutMode::Upsert).await?;
        Ok(stored)
    }

    /// An opening as stored; a recruiter sees only its employer's.
    pub async fn opening(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Opening> {
        let opening = self.stored_opening(id).await?;
        scope::employer(
            caller,
            &opening.employer_id,
            &format!("opening {:?}", opening.id),
        )?;
        Ok(opening)
    }

    /// Closes an opening: no new proposals, no new acceptances.
    pub async fn close_opening(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Opening> {
        self.settled(async {
            self.stored_opening_in_scope(caller, id).await?;
            let owned = id.to_string();
            self.blocking(move |s| Ok(s.writer.close_opening(&owned)?))
                .await
        })
        .await
    }

    /// One page of openings in id order after `after`. A recruiter lists
    /// its own employer's openings (its employer is the filter unless it
    /// names it).
    pub async fn list_openings(
        self: &Arc<Self>,
        caller: &Caller,
        filter: OpeningFilter,
        after: Option<String>,
        limit: usize,
    ) -> Result<Page<Opening>> {
        if let Some(e) = &filter.employer_id {
            scope::employer(caller, e, &format!("employer_id {e:?}"))?;
        }
        let filter = Self::opening_filter_for(caller, filter);
        self.blocking(move |s| Ok(s.store().list_openings(&filter, after.as_deref(), limit)?))
            .await
    }

    /// The filter a listing really uses for `caller` (a recruiter's
    /// employer filled in), so that page tokens bind to it.
    pub fn opening_filter_for(caller: &Caller, mut filter: OpeningFilter) -> OpeningFilter {
        if caller.role == Role::Recruiter && filter.employer_id.is_none() {
            filter.employer_id = caller.scope.employer_id.clone();
        }
        filter
    }

    /// Upserts one batch of an import in one transaction; each row
    /// succeeds or fails on its own (also when the opening it would
    /// replace is outside the caller's scope) and says what it changes; a
    /// row equal to its stored opening writes nothing. With
    /// [`ImportOptions::check_only`] nothing is written. Blocking. Durable
    /// after [`Service::commit`].
    pub fn import_openings(
        &self,
        caller: &Caller,
        batch: Vec<Opening>,
        options: ImportOptions,
    ) -> Result<Vec<Result<RowChange>>> {
        let store = self.store();
        let mut rows: Vec<Result<RowChange>> = Vec::with_capacity(batch.len());
        let mut writes: Vec<Opening> = Vec::with_capacity(batch.len());
        // A row repeating an id of this batch compares with that row.
        let mut earlier: HashMap<String, Opening> = HashMap::new();
        for opening in batch {
            let stored = match earlier.get(&opening.id) {
                Some(o) => Ok(Some(o.clone())),
                None => store.opening(&opening.id),
            };
            let row = match stored {
                Err(e) => Err(e.into()),
                Ok(None) => Ok(RowChange::Created),
                Ok(Some(old)) => scope::opening_write(caller, &old)
                    .map_err(ServiceError::Forbidden)
                    .map(|()| RowChange::comparing(opening.changed_fields(&old))),
            };
            if matches!(&row, Ok(change) if change.writes()) {
                earlier.insert(opening.id.clone(), opening.clone());
                if !options.check_only {
                    writes.push(opening);
                }
            }
            rows.push(row);
        }
        write_rows(rows, writes, |o| {
            Ok(into_service(self.writer.put_openings(&o)?))
        })
    }

    /// Opening `id` as stored, or not found.
    async fn stored_opening(self: &Arc<Self>, id: &str) -> Result<Opening> {
        let owned = id.to_string();
        self.blocking(move |s| {
            s.store()
                .opening(&owned)?
                .ok_or_else(|| ServiceError::not_found("opening", owned))
        })
        .await
    }

    /// Forbidden if opening `id` is stored outside the caller's scope; a
    /// missing opening is left to the operation.
    async fn stored_opening_in_scope(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<()> {
        if caller.role == Role::Admin {
            return Ok(());
        }
        self.check_stored(id, Store::opening, |o| {
            scope::opening_write(caller, &o).map_err(ServiceError::Forbidden)
        })
        .await
    }
}
