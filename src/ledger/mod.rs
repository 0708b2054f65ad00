//! Ledgers (台账): the spreadsheets a county employment-service company
//! keeps, read into the API's records and written from them.
//!
//! A ledger's first row names its columns, in Chinese or English, by the
//! tables of [`workers::COLUMNS`] and [`openings::COLUMNS`] (docs/ledgers.md
//! lists them). A row becomes a domain record here and the domain's validation
//! judges it exactly as the API judges a record it is sent
//! ([`import::parse_rows`], shared by the CLI and the console); a refusal
//! names the row, the column and the reason.
//!
//! ```text
//! cli, console -> ledger (files, columns, import) -> domain
//! ```

pub mod cells;
pub mod columns;
pub mod fields;
pub mod files;
pub mod import;
pub mod openings;
pub mod template;
pub mod workers;

pub use cells::CellKind;
pub use columns::{Column, Mapping, RowError};
pub use files::{Encoding, Format};

/// One cell as text, and whether the spreadsheet stored it as a number
/// (an 18-digit id number stored as a number has lost its last digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The cell's text, trimmed.
    pub text: String,
    /// Stored as a number in an xlsx sheet.
    pub number: bool,
    /// How an xlsx export writes it (text unless the table was typed
    /// with [`Table::typed`]).
    pub kind: CellKind,
}

impl Cell {
    /// A text cell.
    pub fn text(s: impl Into<String>) -> Self {
        Self {
            text: s.into(),
            number: false,
            kind: CellKind::Text,
        }
    }

    /// A cell an xlsx sheet stored as a number.
    pub fn number(s: impl Into<String>) -> Self {
        Self {
            text: s.into(),
            number: true,
            kind: CellKind::Text,
        }
    }
}

/// A data row and its row number in the file (the header is row 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Row number as a spreadsheet shows it.
    pub number: u64,
    /// Cells, as many as the file gave (possibly fewer than headers).
    pub cells: Vec<Cell>,
}

/// A ledger as read: headers and the non-empty data rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column headers, trimmed.
    pub headers: Vec<String>,
    /// Data rows, blank rows left out.
    pub rows: Vec<Row>,
}

impl Table {
    /// A table from numbered lines, the first being the header.
    pub fn from_lines(lines: Vec<(u64, Vec<Cell>)>) -> anyhow::Result<Table> {
        let mut lines = lines
            .into_iter()
            .filter(|(_, cells)| cells.iter().any(|c| !c.text.is_empty()));
        let Some((_, header)) = lines.next() else {
            anyhow::bail!("the ledger is empty: its first row must name the columns");
        };
        let mut headers: Vec<String> = header.into_iter().map(|c| c.text).collect();
        while headers.last().is_some_and(String::is_empty) {
            headers.pop();
        }
        let rows = lines.map(|(number, cells)| Row { number, cells }).collect();
        Ok(Table { headers, rows })
    }

    /// A table of `headers` and text rows (numbered from 2).
    pub fn of_text(headers: Vec<String>, rows: Vec<Vec<String>>) -> Table {
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, cells)| Row {
                number: i as u64 + 2,
                cells: cells.into_iter().map(Cell::text).collect(),
            })
            .collect();
        Table { headers, rows }
    }

    /// The table with column `i`'s cells of `kinds[i]` (columns past the
    /// end of `kinds` stay text): how an xlsx export writes them.
    pub fn typed(mut self, kinds: &[CellKind]) -> Table {
        for row in &mut self.rows {
            for (cell, kind) in row.cells.iter_mut().zip(kinds) {
                cell.kind = *kind;
            }
        }
        self
    }
}

/// What a ledger holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Relocated workers (劳动力台账).
    Workers,
    /// Job openings (岗位台账).
    Openings,
}

#[cfg(test)]
mod template_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod xlsx_tests;
