//! Typed cells in xlsx exports: numbers, money and dates written as
//! such (read back with calamine, as Excel would see them), ids and
//! phone numbers as text, and every export still read back by the import
//! as the same records, through a real file in xlsx and in CSV.

use calamine::{Data, Reader as _, Xlsx};

use super::columns::table_of;
use super::files::{read, write, Encoding, Format};
use super::tests::{demo, opening_as_sent, read_records, worker_as_sent};
use super::{openings, workers, Cell, Table};
use crate::domain::{Lang, Opening, Worker};

/// The demo's workers as an export, with the id numbers put back (an
/// export has none; the import requires them).
fn workers_ledger(data: &crate::demo::DemoData, lang: Lang) -> Table {
    let mut table = table_of(workers::COLUMNS, &data.workers, lang, false);
    table
        .headers
        .push(lang.pick("身份证号", "national_id").into());
    for (row, w) in table.rows.iter_mut().zip(&data.workers) {
        row.cells.push(Cell::text(w.national_id.clone()));
    }
    table
}

/// The first sheet of an xlsx file, cell by cell, and its header row.
fn sheet(path: &std::path::Path) -> (Vec<String>, calamine::Range<Data>) {
    let mut book: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let headers = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    (headers, range)
}

/// The cells of column `header`, below the header.
fn column<'a>(headers: &[String], range: &'a calamine::Range<Data>, header: &str) -> Vec<&'a Data> {
    let c = headers.iter().position(|h| h == header).unwrap();
    range.rows().skip(1).map(|r| &r[c]).collect()
}

fn is_number(d: &Data) -> bool {
    matches!(d, Data::Float(_) | Data::Int(_))
}

/// Asserts that every cell of the columns `headers_of_text` is text or
/// empty: ids and codes must not turn into numbers.
fn assert_text(headers: &[String], range: &calamine::Range<Data>, headers_of_text: &[&str]) {
    for h in headers_of_text {
        let cells = column(headers, range, h);
        assert!(
            cells
                .iter()
                .all(|d| matches!(d, Data::String(_) | Data::Empty)),
            "{h}: {:?}",
            &cells[..3]
        );
    }
}

#[test]
fn workers_export_writes_numbers_as_numbers_and_ids_as_text_and_reads_back() {
    let data = demo();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workers.xlsx");
    let table = workers_ledger(&data, Lang::En);
    write(&path, &table, Format::Xlsx).unwrap();

    let (headers, range) = sheet(&path);
    for h in [
        "birth_year",
        "lat",
        "lon",
        "max_commute_km",
        "expected_monthly_wage",
    ] {
        let cells = column(&headers, &range, h);
        assert!(cells.iter().all(|d| is_number(d)), "{h}: {cells:?}");
    }
    let ids = [
        "id",
        "household_id",
        "phone",
        "national_id",
        "county_code",
        "site_id",
    ];
    assert_text(&headers, &range, &ids);
    // Yes / no stay text, as the import reads them.
    let consent = column(&headers, &range, "consent_to_share");
    assert!(consent
        .iter()
        .all(|d| matches!(d, Data::String(s) if s == "yes" || s == "no")));

    // Read back by the import: the same records.
    let (back, format) = read(&path).unwrap();
    assert_eq!(format, Format::Xlsx);
    for (mut w, sent) in read_records::<Worker>(&back, Lang::En)
        .into_iter()
        .zip(&data.workers)
    {
        // The county's own numbers, qualified as the service does.
        w.scope_ids();
        assert_eq!(w, worker_as_sent(sent));
    }
    assert_eq!(back.rows.len(), data.workers.len());
}

#[test]
fn openings_export_writes_money_and_dates_typed_and_reads_back_in_xlsx_and_csv() {
    let data = demo();
    let dir = tempfile::tempdir().unwrap();
    let table = table_of(openings::COLUMNS, &data.openings, Lang::Zh, false);
    let xlsx = dir.path().join("openings.xlsx");
    write(&xlsx, &table, Format::Xlsx).unwrap();

    let (headers, range) = sheet(&xlsx);
    for h in ["月薪", "招聘人数", "最小年龄", "最大年龄", "纬度", "经度"] {
        let cells = column(&headers, &range, h);
        assert!(cells.iter().all(|d| is_number(d)), "{h}: {:?}", &cells[..3]);
    }
    let starts = column(&headers, &range, "开始日期");
    assert!(
        starts.iter().all(|d| matches!(d, Data::DateTime(_))),
        "{:?}",
        &starts[..3]
    );
    let ends = column(&headers, &range, "结束日期");
    assert!(ends
        .iter()
        .all(|d| matches!(d, Data::DateTime(_) | Data::Empty)));
    assert!(ends.iter().any(|d| matches!(d, Data::DateTime(_))));
    assert_text(&headers, &range, &["岗位编号", "用工单位编号", "职业代码"]);

    let csv = dir.path().join("openings.csv");
    write(&csv, &table, Format::Csv(Encoding::Utf8Bom)).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(!text.contains("#,##0"), "CSV cells are plain text");
    for path in [&xlsx, &csv] {
        let (back, _) = read(path).unwrap();
        assert_eq!(back.rows.len(), data.openings.len());
        let read = read_records::<Opening>(&back, Lang::Zh);
        for (o, sent) in read.iter().zip(&data.openings) {
            assert_eq!(*o, opening_as_sent(sent), "{}", path.display());
        }
    }
}
