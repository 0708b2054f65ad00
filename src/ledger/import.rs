//! What an import of a ledger does on either side of the service, shared
//! by `jobbridge import` and the console's upload: every row read through
//! the column tables and judged by the domain's rules (a row repeating an
//! earlier row's id is refused), and the two files an import gives back:
//! the rejected rows as they were with the reason, and what each accepted
//! row did.

use std::collections::HashMap;

use super::columns::{headers, Column, Mapping, RowError};
use super::{Cell, Row, Table};
use crate::domain::{Lang, Validated};

/// A record kind a ledger holds (implemented beside its columns, in
/// [`super::workers`] and [`super::openings`]).
pub trait Record: Sized + Clone {
    /// The record's name in field paths (`worker`).
    const NAME: &'static str;
    /// The ledger's columns.
    fn columns() -> &'static [Column<Self>];
    /// A record before its row is read.
    fn blank() -> Self;
    /// Fills what a row may leave out (a birth year from the id number).
    fn finish(&mut self);
    /// The id as the row gives it.
    fn id(&self) -> &str;
    /// The record's whole id as the service stores it.
    fn stored_id(&self) -> String;
    /// The domain's rules, as the API applies them to a record it is
    /// sent; the error names the field (`worker.<path>`).
    fn validate(&self) -> Validated<()>;
}

/// Reads and validates every row: the good ones with their row numbers,
/// and the refusals. A row repeating an earlier row's id is refused (an
/// import upserts by id, so the later row would silently win).
pub fn parse_rows<R: Record>(
    table: &Table,
    mapping: &Mapping<R>,
    lang: Lang,
) -> (Vec<(u64, R)>, Vec<RowError>) {
    let mut good = Vec::with_capacity(table.rows.len());
    let mut rejected = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in &table.rows {
        let mut record = R::blank();
        if let Err(e) = mapping.read(row, &mut record, lang) {
            rejected.push(e);
            continue;
        }
        record.finish();
        match record.validate() {
            Err(e) => {
                rejected.push(mapping.error(row.number, &e.field, e.reason.text(lang).into()))
            }
            Ok(()) => match seen.get(record.id()) {
                Some(first) => rejected.push(mapping.error(
                    row.number,
                    &format!("{}.id", R::NAME),
                    match lang {
                        Lang::Zh => format!("编号与第 {first} 行重复"),
                        Lang::En => format!("same id as row {first}"),
                    },
                )),
                None => {
                    seen.insert(record.id().to_string(), row.number);
                    good.push((row.number, record));
                }
            },
        }
    }
    (good, rejected)
}

/// What an accepted row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new record.
    Created,
    /// A stored record changed.
    Updated,
    /// Equal to the stored record: nothing written.
    Unchanged,
}

impl ChangeKind {
    /// The result's word in the file of changes.
    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            ChangeKind::Created => lang.pick("新增", "new"),
            ChangeKind::Updated => lang.pick("更新", "changed"),
            ChangeKind::Unchanged => lang.pick("不变", "unchanged"),
        }
    }
}

/// One accepted row and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its row in the ledger.
    pub row: u64,
    /// The record's whole id.
    pub id: String,
    /// What it did.
    pub kind: ChangeKind,
    /// The fields it changes (API names), for an update.
    pub fields: Vec<String>,
}

/// The file of changes: one line per accepted row, in row order: its row
/// in the ledger, its whole id, what it did (new, changed, unchanged) and
/// the fields that change.
pub fn changes_table(changes: &[Change], lang: Lang) -> Table {
    let headers = headers(
        lang,
        &[
            ("行号", "row"),
            ("编号", "id"),
            ("结果", "result"),
            ("改动的字段", "fields changed"),
        ],
    );
    let mut rows: Vec<Row> = changes
        .iter()
        .map(|c| Row {
            number: c.row,
            cells: vec![
                Cell::text(c.row.to_string()),
                Cell::text(c.id.clone()),
                Cell::text(c.kind.text(lang)),
                Cell::text(c.fields.join(lang.pick("、", ", "))),
            ],
        })
        .collect();
    rows.sort_by_key(|r| r.number);
    Table { headers, rows }
}

/// The file of rejected rows: each as it was, and one more column saying
/// why.
pub fn rejected_table(table: &Table, rejected: &[RowError], lang: Lang) -> Table {
    let by_number: HashMap<u64, &Row> = table.rows.iter().map(|r| (r.number, r)).collect();
    let mut headers = table.headers.clone();
    headers.push(lang.pick("错误说明", "rejection").to_string());
    let width = table.headers.len();
    let rows = rejected
        .iter()
        .map(|e| {
            let mut cells: Vec<Cell> = by_number
                .get(&e.row)
                .map(|r| r.cells.clone())
                .unwrap_or_default();
            cells.resize(width, Cell::text(""));
            cells.push(Cell::text(e.text(lang)));
            Row {
                number: e.row,
                cells,
            }
        })
        .collect();
    Table { headers, rows }
}
