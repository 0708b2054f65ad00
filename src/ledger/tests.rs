//! The ledger's formats and column tables against plain references: the
//! demo data written as a ledger and read back is the same data, the
//! templates' example rows pass the API's validation, encodings survive a
//! round trip.

use super::columns::{table_of, template, Mapping};
use super::files::{decode, encode, read, write, Encoding, Format};
use super::import::Record;
use super::{openings, workers, Cell, Table};
use crate::domain::{Lang, Opening, Worker};

/// The records a ledger holds, as the import reads them.
pub(super) fn read_records<R: Record + 'static>(table: &Table, lang: Lang) -> Vec<R> {
    let mapping = Mapping::new(R::columns(), R::NAME, &table.headers, lang).unwrap();
    table
        .rows
        .iter()
        .map(|row| {
            let mut r = R::blank();
            mapping.read(row, &mut r, lang).unwrap();
            r.finish();
            r
        })
        .collect()
}

/// `sent` as a ledger carries it: without the fields the server owns.
pub(super) fn worker_as_sent(sent: &Worker) -> Worker {
    Worker {
        placement: Default::default(),
        created_at_ms: 0,
        updated_at_ms: 0,
        ..sent.clone()
    }
}

/// `sent` as a ledger carries it: without the fields the server owns.
pub(super) fn opening_as_sent(sent: &Opening) -> Opening {
    Opening {
        filled: 0,
        created_at_ms: 0,
        updated_at_ms: 0,
        ..sent.clone()
    }
}

pub(super) fn demo() -> crate::demo::DemoData {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    crate::demo::generate(0.01, 7, 2026, today)
}

#[test]
fn demo_workers_written_as_a_ledger_read_back_the_same_in_both_languages() {
    let data = demo();
    assert!(data.workers.len() > 100);
    for lang in [Lang::Zh, Lang::En] {
        let mut table = table_of(workers::COLUMNS, &data.workers, lang, false);
        assert!(!table
            .headers
            .iter()
            .any(|h| h == "身份证号" || h == "national_id"));
        // An export cannot be imported as it is: the id numbers, a required
        // column, are not in it. The company adds them back.
        let err = Mapping::new(workers::COLUMNS, "worker", &table.headers, lang)
            .err()
            .unwrap();
        assert!(err.contains(lang.pick("身份证号", "national_id")), "{err}");
        table
            .headers
            .push(lang.pick("身份证号", "national_id").into());
        for (row, w) in table.rows.iter_mut().zip(&data.workers) {
            row.cells.push(Cell::text(w.national_id.clone()));
        }
        let back = read_records::<Worker>(&table, lang);
        for (sent, got) in data.workers.iter().zip(&back) {
            let expected = Worker {
                national_id: String::new(),
                ..worker_as_sent(sent)
            };
            let mut got = got.clone();
            // No id number in an export: the year came from its own column.
            got.national_id = String::new();
            // The ledger holds the county's own numbers; the service
            // qualifies them with the row's county.
            assert!(!got.id.contains('/'), "{}", got.id);
            got.scope_ids();
            assert_eq!(got, expected, "{lang:?}");
        }
    }
}

#[test]
fn demo_openings_written_as_a_ledger_read_back_the_same() {
    let data = demo();
    let table = table_of(openings::COLUMNS, &data.openings, Lang::Zh, false);
    let back = read_records::<Opening>(&table, Lang::Zh);
    for (o, sent) in back.iter().zip(&data.openings) {
        assert_eq!(*o, opening_as_sent(sent));
    }
}

#[test]
fn template_examples_pass_the_api_validation() {
    for lang in [Lang::Zh, Lang::En] {
        let t = template(workers::COLUMNS, lang);
        let mut w = read_records::<Worker>(&t, lang).remove(0);
        let national_id = w.national_id.clone();
        w.national_id = national_id.clone();
        let pb = crate::api::pb::Worker {
            national_id,
            ..w.into()
        };
        crate::api::worker_from_pb(pb).unwrap();

        let t = template(openings::COLUMNS, lang);
        let mapping = Mapping::new(openings::COLUMNS, "opening", &t.headers, lang).unwrap();
        let mut o = openings::blank();
        mapping.read(&t.rows[0], &mut o, lang).unwrap();
        o.finish();
        crate::api::opening_from_pb(o.into()).unwrap();
    }
}

#[test]
fn headers_missing_unknown_and_repeated() {
    let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let full: Vec<String> = workers::COLUMNS.iter().map(|c| c.zh.to_string()).collect();
    let mut with_extra = full.clone();
    with_extra.insert(0, "序号".into());
    let m = Mapping::new(workers::COLUMNS, "worker", &with_extra, Lang::Zh).unwrap();
    assert_eq!(m.unknown, ["序号"]);
    let err = Mapping::new(workers::COLUMNS, "worker", &h(&["编号", "姓名"]), Lang::Zh)
        .err()
        .unwrap();
    assert!(
        err.contains("缺少必填列") && err.contains("身份证号"),
        "{err}"
    );
    // Every header garbled, as a GB18030 ledger read as Big5 or Latin-1
    // would be: the refusal points at the encoding, not at missing columns.
    let garbled: Vec<String> = full
        .iter()
        .map(|h| {
            encoding_rs::WINDOWS_1252
                .decode(&encoding_rs::GB18030.encode(h).0)
                .0
                .into_owned()
        })
        .collect();
    for lang in [Lang::Zh, Lang::En] {
        let err = Mapping::new(workers::COLUMNS, "worker", &garbled, lang)
            .err()
            .unwrap();
        assert!(err.contains("编码") || err.contains("encoding"), "{err}");
        assert!(err.contains(&garbled[0]), "names what it read: {err}");
    }
    let mut twice = full.clone();
    twice.push("name".into());
    let err = Mapping::new(workers::COLUMNS, "worker", &twice, Lang::En)
        .err()
        .unwrap();
    assert!(err.contains("twice"), "{err}");
    // Marked, spaced and bracketed headers are the same column.
    let marked: Vec<String> = full.iter().map(|h| format!(" {h}* （说明）")).collect();
    assert!(Mapping::new(workers::COLUMNS, "worker", &marked, Lang::Zh)
        .unwrap()
        .unknown
        .is_empty());
}

#[test]
fn api_field_paths_lead_to_their_columns() {
    let headers: Vec<String> = workers::COLUMNS.iter().map(|c| c.zh.to_string()).collect();
    let m = Mapping::new(workers::COLUMNS, "worker", &headers, Lang::Zh).unwrap();
    let column = |field: &str| m.error(2, field, String::new()).column;
    assert_eq!(column("worker.national_id"), "身份证号");
    assert_eq!(column("worker.skills[1].level"), "技能");
    assert_eq!(column("worker.site_location.lat"), "安置点纬度");
    assert_eq!(column("worker.site_location"), "安置点纬度");
    assert_eq!(column("worker.preferences.max_commute_km"), "最远通勤公里");
    assert_eq!(
        column("worker.preferences.preferred_sources[0]"),
        "意向岗位类型"
    );
    assert_eq!(column("worker"), "");
}

#[test]
fn encodings_are_detected_and_kept() {
    let text = "姓名,县区\n向春梅,鹤城区\n";
    for encoding in [Encoding::Utf8, Encoding::Utf8Bom, Encoding::Gb18030] {
        let bytes = encode(text, encoding);
        assert_eq!(decode(&bytes), Some((text.to_string(), encoding)));
    }
    // Not UTF-8 and not GB18030 either (a lone lead byte at the end).
    assert_eq!(decode(b"abc\x81"), None);

    let dir = tempfile::tempdir().unwrap();
    let table = Table::of_text(
        vec!["姓名".into(), "身份证号".into()],
        vec![vec!["向春梅".into(), "431202198506123018".into()]],
    );
    for (name, format) in [
        ("a.csv", Format::Csv(Encoding::Gb18030)),
        ("b.csv", Format::Csv(Encoding::Utf8Bom)),
        ("c.xlsx", Format::Xlsx),
    ] {
        let path = dir.path().join(name);
        write(&path, &table, format).unwrap();
        let (back, found) = read(&path).unwrap();
        assert_eq!(found, format);
        assert_eq!(back, table);
    }
}

#[test]
fn cells_read_as_people_write_them() {
    use super::columns::{date, number, skills, yes_no};
    assert_eq!(number(&Cell::text("2,500"), 0), Ok(2500));
    assert_eq!(number(&Cell::text(""), 30), Ok(30));
    assert!(number(&Cell::text("abc"), 0).is_err());
    assert_eq!(yes_no(&Cell::text("是")), Ok(true));
    assert_eq!(yes_no(&Cell::text("")), Ok(false));
    assert!(yes_no(&Cell::text("也许")).is_err());
    assert_eq!(date(&Cell::text("2026/3/1")), "2026-03-01");
    assert_eq!(date(&Cell::text("2026年3月1日")), "2026-03-01");
    assert_eq!(
        skills(&Cell::text("缝纫:3；电工：2、sewing_x:1")),
        Ok(vec![
            ("sewing".into(), 3),
            ("electrics".into(), 2),
            ("sewing_x".into(), 1)
        ])
    );
    assert!(skills(&Cell::text("开挖掘机:3")).is_err());
    assert!(skills(&Cell::text("缝纫:三")).is_err());
}

#[test]
fn regions_are_read_by_name_or_code_and_unknown_names_refused_as_names() {
    use super::columns::region;
    assert_eq!(region(&Cell::text(" 溆浦县 ")), Ok("431224".into()));
    assert_eq!(region(&Cell::text("Shenzhen")), Ok("440300".into()));
    assert_eq!(region(&Cell::text("431224")), Ok("431224".into()));
    // Digits are the domain's to judge (a code no table has may be real).
    assert_eq!(region(&Cell::text("431271")), Ok("431271".into()));
    assert_eq!(region(&Cell::text("12")), Ok("12".into()));
    assert_eq!(region(&Cell::text("")), Ok(String::new()));
    let refused = region(&Cell::text("火星县")).unwrap_err();
    assert!(
        refused.zh().contains("未知地区名称 \"火星县\""),
        "{}",
        refused.zh()
    );
    assert!(
        refused.en().contains("unknown region name"),
        "{}",
        refused.en()
    );
}
