//! What a write of one record does, told to the caller: created, updated
//! (and which fields), or unchanged, which writes nothing; and the rule
//! that a worker moves to another county or household only when the
//! officer says so.

use super::ServiceError;
use crate::domain::{Reason, ValidationError, Worker};

/// Rows per store transaction of an import. sled 0.34 holds a
/// database-wide write lock for a whole transaction, so smaller batches
/// keep other writers waiting less; 100 measured fastest here (fewer,
/// larger allocations per batch).
pub const IMPORT_BATCH_ROWS: usize = 100;

/// What a write of one record did or, checking only, would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowChange {
    /// No record had the id: a new one.
    Created,
    /// An existing record, and the fields (API names) that change.
    Updated(Vec<&'static str>),
    /// An existing record equal to the row: nothing is written, and its
    /// `updated_at` stays.
    Unchanged,
}

impl RowChange {
    /// What writing a record over the stored one does, given the fields
    /// that differ.
    pub fn comparing(changed: Vec<&'static str>) -> Self {
        if changed.is_empty() {
            RowChange::Unchanged
        } else {
            RowChange::Updated(changed)
        }
    }

    /// Whether the row is written.
    pub fn writes(&self) -> bool {
        !matches!(self, RowChange::Unchanged)
    }
}

/// How an import treats its rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Report what each row would do, and store nothing.
    pub check_only: bool,
    /// The officer moves workers to the county or household their rows
    /// give; without it such a row is refused.
    pub allow_move: bool,
}

/// Writes `writes`, the records of the rows that write (none when
/// checking only), with `put` in one go, and answers each row in its
/// place: a written row's store outcome, or the row as it was.
pub(super) fn write_rows<R>(
    rows: Vec<Result<RowChange, ServiceError>>,
    writes: Vec<R>,
    put: impl FnOnce(Vec<R>) -> Result<Vec<Result<(), ServiceError>>, ServiceError>,
) -> Result<Vec<Result<RowChange, ServiceError>>, ServiceError> {
    if writes.is_empty() {
        return Ok(rows);
    }
    let mut stored = put(writes)?.into_iter();
    Ok(rows
        .into_iter()
        .map(|row| match row {
            Ok(change) if change.writes() => stored
                .next()
                .expect("one result per written row")
                .map(|()| change),
            other => other,
        })
        .collect())
}

/// Refuses to move stored worker `old` to the county or household of
/// `new` unless `allow_move`: a ledger row with a mistyped household
/// number or county must not silently move a person. The error names the
/// field; the caller covers `old` (it sees what it names).
pub fn check_move(old: &Worker, new: &Worker, allow_move: bool) -> Result<(), ServiceError> {
    if allow_move {
        return Ok(());
    }
    let (field, from, to, zh_what, en_what) = if old.county_code != new.county_code {
        (
            "worker.county_code",
            &old.county_code,
            &new.county_code,
            "县区",
            "county",
        )
    } else if old.household_id != new.household_id {
        (
            "worker.household_id",
            &old.household_id,
            &new.household_id,
            "户",
            "household",
        )
    } else {
        return Ok(());
    };
    Err(ServiceError::Invalid(ValidationError::new(
        field,
        Reason::new(
            format!(
                "会把劳动力 {} 从{zh_what} {from} 迁到 {to}：确属迁移请加 --allow-move（allow_move）",
                old.id
            ),
            format!(
                "would move worker {} from {en_what} {from} to {to}: if they did move, \
                 send allow_move (--allow-move)",
                old.id
            ),
        ),
    )))
}
