//! Ledgers end to end: a GB18030 CSV and an xlsx with Chinese headers, each
//! with good and bad rows, imported offline and through the real server;
//! the rejected file names the right rows and fields in Chinese, `--check`
//! stores nothing and a second import changes nothing. Then the words
//! people read: Chinese reasons and labels through the API with
//! `accept-language: zh-CN`, and the xlsx report read back with calamine.

use std::path::{Path, PathBuf};

use calamine::{Data, DataType as _, Reader as _};
use jobbridge::api::pb;
use jobbridge::cli::args::Target;
use jobbridge::cli::ledger::{import, ImportArgs, ImportOutcome};
use jobbridge::domain::{Lang, Worker};
use jobbridge::ledger::Kind;
use jobbridge::store::{Store, WorkerFilter};
use tonic_types::StatusExt as _;

use crate::common::{national_id, TestServer};

const HEADERS: &str = "编号,户编号,姓名,身份证号,性别,出生年份,手机号,县区,安置点编号,安置点纬度,安置点经度,劳动能力,技能,就业意向,最远通勤公里,期望月薪,意向岗位类型,需要弹性工时";

/// A ledger line for worker `n` (valid unless changed).
fn line(n: u32) -> Vec<String> {
    [
        format!("w-{n:04}"),
        format!("hh-{:04}", n / 2),
        "向春梅".into(),
        national_id(n),
        "女".into(),
        String::new(), // birth year: from the id number
        "13912345678".into(),
        "鹤城区".into(),
        "site-431202-001".into(),
        "27.55".into(),
        "109.98".into(),
        "半".into(),
        "缝纫:3;电工:2".into(),
        "就近就业".into(),
        "20".into(),
        "2500".into(),
        "帮扶车间;公益岗位".into(),
        "是".into(),
    ]
    .to_vec()
}

/// Rows 2..: good, bad id check digit, bad gender, good, unknown skill,
/// a repeated id, bad county, good. (row number, field) of each bad one.
fn ledger_lines() -> (Vec<Vec<String>>, Vec<(u64, &'static str)>) {
    let mut lines: Vec<Vec<String>> = (1..=8).map(line).collect();
    let id = &mut lines[1][3];
    let last = if id.ends_with('0') { '1' } else { '0' };
    id.replace_range(17.., &last.to_string());
    lines[2][4] = "未知".into();
    lines[4][12] = "开挖掘机:3".into();
    lines[5][0] = lines[0][0].clone();
    lines[6][7] = "火星县".into();
    let bad = vec![
        (3, "worker.national_id"),
        (4, "worker.gender"),
        (6, "worker.skills"),
        (7, "worker.id"),
        (8, "worker.county_code"),
    ];
    (lines, bad)
}

fn csv_text(lines: &[Vec<String>]) -> String {
    let mut text = format!("{HEADERS}\r\n");
    for l in lines {
        text.push_str(&l.join(","));
        text.push_str("\r\n");
    }
    text
}

fn offline(dir: &Path) -> Target {
    Target {
        data_dir: dir.to_path_buf(),
        server: None,
        token: None,
        tls_ca: None,
    }
}

fn args(file: &Path, check: bool) -> ImportArgs {
    ImportArgs {
        kind: Kind::Workers,
        file: file.to_path_buf(),
        check,
        allow_move: false,
        rejected: None,
        lang: Lang::Zh,
    }
}

/// Every stored worker, without the write time (which an upsert moves).
fn snapshot(store: &Store) -> Vec<Worker> {
    let page = store
        .list_workers(&WorkerFilter::default(), None, 10_000)
        .unwrap();
    page.items
        .into_iter()
        .map(|w| Worker {
            updated_at_ms: 0,
            ..w
        })
        .collect()
}

/// The rejected rows' (row, field) as the extra column states them.
fn stated(outcome: &ImportOutcome) -> Vec<(u64, String)> {
    outcome
        .rejected
        .iter()
        .map(|e| (e.row, e.field.clone()))
        .collect()
}

fn expected(bad: &[(u64, &str)]) -> Vec<(u64, String)> {
    bad.iter().map(|(r, f)| (*r, f.to_string())).collect()
}

#[test]
fn gb18030_csv_offline_check_import_and_reimport() {
    let tmp = tempfile::tempdir().unwrap();
    let (lines, bad) = ledger_lines();
    let file = tmp.path().join("台账.csv");
    let bytes = encoding_rs::GB18030
        .encode(&csv_text(&lines))
        .0
        .into_owned();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the file must not be UTF-8"
    );
    std::fs::write(&file, &bytes).unwrap();
    let data = tmp.path().join("data");

    // --check: the same verdicts, nothing stored.
    let checked = import(&offline(&data), &args(&file, true)).unwrap();
    assert_eq!(stated(&checked), expected(&bad));
    assert_eq!(checked.accepted, 3);
    if data.exists() {
        assert_eq!(Store::open(&data).unwrap().worker_count(), 0);
    }

    let first = import(&offline(&data), &args(&file, false)).unwrap();
    assert_eq!(first.rows, 8);
    assert_eq!(first.accepted, 3);
    assert_eq!(stated(&first), expected(&bad));

    // The rejected file: GB18030 like the ledger, the bad rows as they
    // were, and the row, column, field and reason in Chinese.
    let rejected = first.rejected_file.clone().unwrap();
    assert_eq!(rejected, tmp.path().join("台账.rejected.csv"));
    let bytes = std::fs::read(&rejected).unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "not written in GB18030"
    );
    let (text, _, malformed) = encoding_rs::GB18030.decode(&bytes);
    assert!(!malformed);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(headers.len(), 19);
    assert_eq!(&headers[18], "错误说明");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), bad.len());
    for (row, (number, field)) in rows.iter().zip(&bad) {
        let original = &lines[*number as usize - 2];
        assert_eq!(&row[3], original[3].as_str(), "cells kept as they were");
        let why = &row[18];
        assert!(why.starts_with(&format!("第 {number} 行")), "{why}");
        assert!(why.contains(field), "{why}");
    }
    assert!(rows[0][18].contains("身份证号") && rows[0][18].contains("校验码不符"));
    assert!(rows[1][18].contains("性别") && rows[1][18].contains("无法识别"));
    assert!(rows[3][18].contains("与第 2 行重复"));

    // What was stored is what the ledger said.
    let store = Store::open(&data).unwrap();
    let stored = snapshot(&store);
    assert_eq!(stored.len(), 3);
    let w = &stored[0];
    assert_eq!(w.id, "431202/w-0001");
    assert_eq!(w.county_code, "431202");
    assert_eq!(w.birth_year, 1985);
    assert_eq!(w.skills.len(), 2);
    assert_eq!(w.preferences.preferred_sources.len(), 2);
    assert_ne!(w.national_id, national_id(1), "stored in the clear");
    drop(store);

    assert_eq!(
        (first.created, first.updated.len(), first.unchanged),
        (3, 0, 0)
    );

    // Re-importing changes nothing, and says so row by row.
    let second = import(&offline(&data), &args(&file, false)).unwrap();
    assert_eq!(second.accepted, 3);
    assert_eq!(
        (second.created, second.updated.len(), second.unchanged),
        (0, 0, 3)
    );
    assert_eq!(stated(&second), expected(&bad));
    let store = Store::open(&data).unwrap();
    assert_eq!(snapshot(&store), stored);
    drop(store);
    let changes = second.changes_file.clone().unwrap();
    assert_eq!(changes, tmp.path().join("台账.changes.csv"));
    let bytes = std::fs::read(&changes).unwrap();
    let (text, _, malformed) = encoding_rs::GB18030.decode(&bytes);
    assert!(!malformed);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["行号", "编号", "结果", "改动的字段"]
    );
    let listed: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0][1], "431202/w-0001");
    assert!(
        listed.iter().all(|r| r[2] == "不变" && r[3].is_empty()),
        "{listed:?}"
    );

    // A changed phone is listed with its field, and --check stores nothing.
    let mut edited = lines.clone();
    edited[0][6] = "13900000001".into();
    let bytes = encoding_rs::GB18030
        .encode(&csv_text(&edited))
        .0
        .into_owned();
    std::fs::write(&file, &bytes).unwrap();
    let checked = import(&offline(&data), &args(&file, true)).unwrap();
    assert_eq!(
        checked.updated,
        [(2, "431202/w-0001".to_string(), vec!["phone".to_string()])]
    );
    assert_eq!(snapshot(&Store::open(&data).unwrap()), stored);
}

/// The ledger as an xlsx sheet; the national id of row 4 (w-0003) is
/// stored as a number, as Excel does when nobody formats the column.
fn write_xlsx(path: &Path, lines: &[Vec<String>]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADERS.split(',').enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (r, line) in lines.iter().enumerate() {
        for (c, cell) in line.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            // Row 4's id number, and the coordinates, as number cells.
            if (r == 3 && c == 3) || c == 9 || c == 10 {
                sheet
                    .write_number(r, c, cell.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                sheet.write_string(r, c, cell).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

fn xlsx_rows(path: &Path) -> Vec<Vec<String>> {
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|d: &Data| d.to_string()).collect())
        .collect()
}

/// Runs a CLI function off the test's runtime (it starts its own).
async fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(move || std::thread::spawn(f).join().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_through_the_server_in_chinese() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("data")).await;
    let (mut lines, mut bad) = ledger_lines();
    // Row 9: the id number of row 2, which only the server can refuse
    // (it is registered to another worker by then).
    let mut copy = line(9);
    copy[3] = lines[0][3].clone();
    lines.push(copy);
    bad.push((10, "worker.national_id"));
    // Row 4's id number is a number cell now (refused before its gender).
    bad[1] = (4, "worker.national_id");
    let file = tmp.path().join("ledger.xlsx");
    write_xlsx(&file, &lines);
    let target = Target {
        data_dir: PathBuf::from("unused"),
        server: Some(server.addr.to_string()),
        token: Some(server.admin_token.clone()),
        tls_ca: None,
    };

    let (t, f) = (target.clone_target(), file.clone());
    let checked = off_runtime(move || import(&t, &args(&f, true)).unwrap()).await;
    assert_eq!(server.store.worker_count(), 0, "--check stored something");
    // The server checks what only it knows, the repeated id number too,
    // exactly as the import will.
    assert_eq!(checked.accepted, 3);
    assert_eq!(stated(&checked), expected(&bad));
    assert_eq!((checked.created, checked.unchanged), (3, 0));

    let (t, f) = (target.clone_target(), file.clone());
    let first = off_runtime(move || import(&t, &args(&f, false)).unwrap()).await;
    assert_eq!(stated(&first), expected(&bad));
    assert_eq!(first.accepted, 3);
    assert_eq!(server.store.worker_count(), 3);
    let stored = snapshot(&server.store);

    let rows = xlsx_rows(&first.rejected_file.clone().unwrap());
    assert_eq!(rows.len(), bad.len() + 1);
    assert_eq!(rows[0].last().unwrap(), "错误说明");
    let why: Vec<&String> = rows[1..].iter().map(|r| r.last().unwrap()).collect();
    assert!(
        why[1].contains("第 4 行") && why[1].contains("文本"),
        "{}",
        why[1]
    );
    assert!(
        why[5].contains("第 10 行") && why[5].contains("已登记"),
        "{}",
        why[5]
    );
    assert_eq!(rows[1][0], "w-0002");
    // The rejected file checked again: the id number Excel stored as a
    // number is still a number cell there, and refused again for it (as
    // text, its lost digits would read as an id number); the repeated 编号
    // passes, its first row not being in the file.
    let (t, f) = (target.clone_target(), first.rejected_file.clone().unwrap());
    let again = off_runtime(move || import(&t, &args(&f, true)).unwrap()).await;
    let number_cell = again.rejected.iter().find(|e| e.row == 3).unwrap();
    assert_eq!(number_cell.field, "worker.national_id");
    assert!(number_cell.reason.contains("文本"), "{number_cell:?}");
    assert!(
        !again.rejected.iter().any(|e| e.field == "worker.id"),
        "{:?}",
        again.rejected
    );

    let (t, f) = (target.clone_target(), file.clone());
    let second = off_runtime(move || import(&t, &args(&f, false)).unwrap()).await;
    assert_eq!(stated(&second), expected(&bad));
    assert_eq!(snapshot(&server.store), stored, "re-import changed records");
    server.stop().await;
}

trait CloneTarget {
    fn clone_target(&self) -> Target;
}

impl CloneTarget for Target {
    fn clone_target(&self) -> Target {
        Target {
            data_dir: self.data_dir.clone(),
            server: self.server.clone(),
            token: self.token.clone(),
            tls_ca: self.tls_ca.clone(),
        }
    }
}

fn zh<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert(
        "accept-language",
        "zh-CN,zh;q=0.9,en;q=0.8".parse().unwrap(),
    );
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinese_reasons_and_labels_round_trip_through_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(tmp.path()).await;
    let clients = server.clients();
    let mut bad = crate::common::worker(1);
    bad.national_id.replace_range(17.., "Y");
    let request = pb::CreateWorkerRequest {
        worker: Some(bad.clone()),
    };
    let status = clients
        .workers()
        .create_worker(zh(request.clone()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "worker.national_id: 最后一位必须是数字或 X"
    );
    let details = status.get_error_details();
    let v = &details.bad_request().unwrap().field_violations[0];
    assert_eq!(v.field, "worker.national_id");
    assert_eq!(v.description, "最后一位必须是数字或 X");
    // No accept-language: English, as before.
    let status = clients.workers().create_worker(request).await.unwrap_err();
    assert_eq!(
        status.message(),
        "worker.national_id: last character must be a digit or X"
    );

    // A partial-capacity worker and a heavy job 3 km away: the reasons and
    // the labels in them come back in Chinese.
    let mut w = crate::common::worker(2);
    w.labour_capacity = pb::LabourCapacity::Partial as i32;
    clients
        .workers()
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(w.clone()),
        })
        .await
        .unwrap();
    let mut o = crate::common::opening(1);
    o.physical_demand = pb::PhysicalDemand::Heavy as i32;
    clients
        .openings()
        .create_opening(pb::CreateOpeningRequest {
            opening: Some(o.clone()),
        })
        .await
        .unwrap();
    let explained = clients
        .matching()
        .explain_match(zh(pb::ExplainMatchRequest {
            worker_id: w.id.clone(),
            opening_id: o.id.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    let text = format!("{explained:?}");
    assert!(text.contains("半劳动力，岗位体力要求为“重体力”"), "{text}");
    assert!(text.contains("公里"), "{text}");
    assert!(text.contains("缝纫"), "{text}");
    assert!(text.contains("帮扶车间是意向岗位类型"), "{text}");
    let english = clients
        .matching()
        .explain_match(pb::ExplainMatchRequest {
            worker_id: w.id.clone(),
            opening_id: o.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let text = format!("{english:?}");
    assert!(
        text.contains("partial labour capacity, work is heavy"),
        "{text}"
    );
    assert!(!text.contains("公里"), "{text}");

    // A refused import row in Chinese, through the stream.
    let rows = tokio_stream::iter(vec![pb::ImportWorkersRequest {
        worker: Some(bad),
        ..Default::default()
    }]);
    let reply = clients
        .workers()
        .import_workers(zh(rows))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.errors[0].reason, "最后一位必须是数字或 X");
    server.stop().await;
}

#[test]
fn the_xlsx_report_reads_back_with_names_and_totals() {
    use jobbridge::cli::lang::{LangArg, LangFlag};
    use jobbridge::cli::{ReportArgs, ReportCommand};
    let tmp = tempfile::tempdir().unwrap();
    let (lines, _) = ledger_lines();
    let mut lines: Vec<Vec<String>> = lines.into_iter().take(1).collect();
    for n in 20..26 {
        let mut l = line(n);
        if n % 2 == 0 {
            l[7] = "431230".into(); // 通道侗族自治县, by code
        }
        lines.push(l);
    }
    let file = tmp.path().join("w.csv");
    std::fs::write(&file, csv_text(&lines)).unwrap();
    let data = tmp.path().join("data");
    assert_eq!(
        import(&offline(&data), &args(&file, false))
            .unwrap()
            .accepted,
        7
    );

    let book_path = tmp.path().join("report.xlsx");
    let args = ReportArgs {
        xlsx: Some(book_path.clone()),
        lang: LangFlag {
            lang: Some(LangArg::Zh),
        },
        ..Default::default()
    };
    ReportCommand {
        target: offline(&data),
        args,
    }
    .run()
    .unwrap();

    // The reference: the report the library computes.
    let store = Store::open(&data).unwrap();
    let coverage = jobbridge::report::coverage(
        &store,
        &jobbridge::report::CoverageFilter::parse("", "", None, "", "").unwrap(),
    )
    .unwrap();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&book_path).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "说明",
            "劳动力",
            "搬迁户",
            "推荐与上岗",
            "稳岗",
            "返乡再就业",
            "服务频次",
            "岗位名额"
        ]
    );
    let sheet = book.worksheet_range("劳动力").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows[0][0], Data::String("县区".into()));
    assert_eq!(rows[0][1], Data::String("登记劳动力".into()));
    let names: Vec<String> = rows[1..].iter().map(|r| r[0].to_string()).collect();
    assert_eq!(names, ["鹤城区", "通道侗族自治县", "合计"]);
    let registered: Vec<f64> = rows[1..].iter().map(|r| r[1].as_f64().unwrap()).collect();
    assert_eq!(registered, [4.0, 3.0, 7.0]);
    assert_eq!(coverage.total.workers_registered, 7);
    let seeking: f64 = rows[3][3].as_f64().unwrap();
    assert_eq!(seeking, coverage.total.workers_seeking as f64);
    let households = book.worksheet_range("搬迁户").unwrap();
    let total = households.rows().next_back().unwrap().to_vec();
    assert_eq!(total[0].to_string(), "合计");
    assert_eq!(
        total[1].as_f64().unwrap(),
        coverage.total.households_with_labour as f64
    );
}
