//! Ledger files: CSV in UTF-8, UTF-8 with a BOM or GB18030 (what Excel
//! writes on a Chinese Windows), and xlsx; read into a [`Table`] of text
//! cells and written back in the same format.

use std::io::Cursor;
use std::path::Path;

use anyhow::{bail, Context as _};
use calamine::{Data, Reader as _, Xlsx};

use super::cells::{self, CellKind};
use super::{Cell, Table};

/// How a ledger file is stored; a file of rejected rows is written the way
/// its ledger was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV in the given encoding.
    Csv(Encoding),
    /// An Excel workbook (the first sheet).
    Xlsx,
}

/// A CSV file's text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// GB18030, a superset of GBK and GB2312 (Excel's plain "CSV" in China).
    Gb18030,
}

impl Format {
    /// The format of a file named `path` (by extension; a CSV's encoding is
    /// found when it is read). UTF-8 with a BOM for new CSV files, which
    /// Excel opens correctly everywhere.
    pub fn for_path(path: &Path) -> anyhow::Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv(Encoding::Utf8Bom)),
            Some("xlsx") => Ok(Format::Xlsx),
            _ => bail!(
                "{}: a ledger is a .csv or .xlsx file (其他格式请在 Excel 中另存为 .xlsx)",
                path.display()
            ),
        }
    }
}

/// Reads a ledger: its first row is the header.
pub fn read(path: &Path) -> anyhow::Result<(Table, Format)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    read_bytes(path, bytes)
}

/// Reads a ledger named `name` (its extension gives the format) from its
/// bytes, as [`read`] reads a file: an upload is read the way the CLI reads
/// a file.
pub fn read_bytes(name: &Path, bytes: Vec<u8>) -> anyhow::Result<(Table, Format)> {
    match Format::for_path(name)? {
        Format::Csv(_) => {
            let (text, encoding) = decode(&bytes)
                .with_context(|| format!("{}: not UTF-8 or GB18030 text", name.display()))?;
            let table = parse_csv(&text).with_context(|| format!("{}", name.display()))?;
            Ok((table, Format::Csv(encoding)))
        }
        Format::Xlsx => {
            let table = parse_xlsx(bytes).with_context(|| format!("{}", name.display()))?;
            Ok((table, Format::Xlsx))
        }
    }
}

/// Writes `table` at `path` in `format`.
pub fn write(path: &Path, table: &Table, format: Format) -> anyhow::Result<()> {
    let bytes = to_bytes(table, format)?;
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The bytes of `table` as a file in `format` (what [`write`] writes).
pub fn to_bytes(table: &Table, format: Format) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Csv(encoding) => encode(&csv_text(table)?, encoding),
        Format::Xlsx => xlsx_bytes(table, "Sheet1")?,
    })
}

/// The text of a CSV file and its encoding: a UTF-8 BOM, else valid UTF-8,
/// else GB18030; `None` if it is none of them.
pub fn decode(bytes: &[u8]) -> Option<(String, Encoding)> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .ok()
            .map(|s| (s.to_string(), Encoding::Utf8Bom));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some((s.to_string(), Encoding::Utf8));
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| (s.into_owned(), Encoding::Gb18030))
}

/// `text` in `encoding` (GB18030 encodes every Unicode character).
pub fn encode(text: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Utf8Bom => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        Encoding::Gb18030 => encoding_rs::GB18030.encode(text).0.into_owned(),
    }
}

fn parse_csv(text: &str) -> anyhow::Result<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut lines = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("CSV row {}", i + 1))?;
        let cells = record.iter().map(|c| Cell::text(c.trim())).collect();
        lines.push((i as u64 + 1, cells));
    }
    Table::from_lines(lines)
}

fn parse_xlsx(bytes: Vec<u8>) -> anyhow::Result<Table> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).context("not an xlsx workbook")?;
    let range = book
        .worksheet_range_at(0)
        .context("the workbook has no sheet")?
        .context("cannot read the first sheet")?;
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    let mut lines = Vec::new();
    for (i, row) in range.rows().enumerate() {
        // Cells left of the used range are empty: keep columns aligned
        // with the sheet's.
        let mut cells = vec![Cell::text(""); first_col];
        cells.extend(row.iter().map(xlsx_cell));
        lines.push((first_row + i as u64 + 1, cells));
    }
    Table::from_lines(lines)
}

fn xlsx_cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::text(""),
        Data::String(s) => Cell::text(s.trim()),
        Data::Int(i) => Cell::number(i.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            Cell::number(format!("{}", *f as i64))
        }
        Data::Float(f) => Cell::number(f.to_string()),
        Data::Bool(b) => Cell::text(if *b { "是" } else { "否" }),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            Cell::text(format!("{y:04}-{m:02}-{d:02}"))
        }
        Data::DateTimeIso(s) => Cell::text(s.get(..10).unwrap_or(s)),
        Data::DurationIso(s) => Cell::text(s),
        Data::Error(e) => Cell::text(format!("#{e}")),
    }
}

fn csv_text(table: &Table) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&table.headers)?;
    for row in &table.rows {
        writer.write_record(row.cells.iter().map(|c| c.text.as_str()))?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// One sheet named `sheet` holding `table`: text cells as text (so that
/// an 18-digit id number stays exact), typed cells as numbers and dates
/// (see [`CellKind`]), the header bold and frozen.
pub fn xlsx_bytes(table: &Table, sheet: &str) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    add_sheet(&mut book, sheet, table)?;
    Ok(book.save_to_buffer()?)
}

/// Adds `table` to `book` as a sheet. Each column is formatted by the
/// kind of its cells (text "@" unless typed), so that what someone types
/// into it later is kept as that kind too; a cell is written as its kind
/// when its text reads as one, else as text (an empty cell is left empty).
/// Cells read as numbers from an xlsx sheet are written as numbers again.
pub fn add_sheet(
    book: &mut rust_xlsxwriter::Workbook,
    name: &str,
    table: &Table,
) -> anyhow::Result<()> {
    use rust_xlsxwriter::Format as Fmt;
    let bold = Fmt::new().set_bold();
    let kinds: Vec<CellKind> = (0..table.headers.len())
        .map(|c| {
            table
                .rows
                .first()
                .and_then(|r| r.cells.get(c))
                .map_or(CellKind::Text, |cell| cell.kind)
        })
        .collect();
    let formats: Vec<Fmt> = kinds
        .iter()
        .map(|k| Fmt::new().set_num_format(k.num_format()))
        .collect();
    let sheet = book.add_worksheet();
    sheet.set_name(name)?;
    for (c, h) in table.headers.iter().enumerate() {
        sheet.set_column_format(c as u16, &formats[c])?;
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
        let wide = table
            .rows
            .iter()
            .take(200)
            .map(|r| r.cells.get(c).map_or(0, |x| x.text.chars().count()))
            .chain([h.chars().count()])
            .max()
            .unwrap_or(8);
        sheet.set_column_width(c as u16, (wide as f64 * 1.6).clamp(8.0, 60.0))?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        for (c, cell) in row.cells.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            let format = formats.get(c as usize);
            if cell.text.is_empty() {
                continue;
            }
            // A cell the sheet read held as a number stays one (a
            // rejected id number Excel stored as a number must still
            // read as one, not as the wrong digits in a text cell).
            if let (true, Ok(v)) = (cell.number, cell.text.parse::<f64>()) {
                sheet.write_number(r, c, v)?;
            } else if let (Some(v), Some(f)) = (cells::number_of(cell.kind, &cell.text), format) {
                sheet.write_number_with_format(r, c, v, f)?;
            } else if let (CellKind::Date, Some(d), Some(f)) =
                (cell.kind, cells::date_of(&cell.text), format)
            {
                sheet.write_datetime_with_format(r, c, &d, f)?;
            } else {
                sheet.write_string(r, c, &cell.text)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}
