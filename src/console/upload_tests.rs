//! The ledger upload and the coverage workbook through the console's
//! router, on a service over a temporary store, with real files: an xlsx
//! written by the ledger writer and a GB18030 CSV in, calamine reading
//! what comes back.

use std::io::Cursor;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use calamine::{Data, Reader as _, Xlsx};
use tower::ServiceExt as _;

use super::{router, Console, SESSION_COOKIE};
use crate::batch::BatchSettings;
use crate::domain::access::{Caller, Role, Scope};
use crate::domain::placement::china_today;
use crate::domain::{scoped, Lang, Worker};
use crate::ledger::columns::table_of;
use crate::ledger::files::{self, Encoding, Format};
use crate::ledger::{workers, Cell, Table};
use crate::report::book::{workbook, Period};
use crate::report::{self, CoverageFilter};
use crate::store::{Store, WorkerFilter};
use crate::testing;

const BOUNDARY: &str = "jbtestboundary7MA4YWxk";

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    console: Arc<Console>,
    cookie: String,
    csrf: String,
}

fn fixture() -> Fixture {
    fixture_as(Role::Admin, Scope::default())
}

fn fixture_as(role: Role, scope: Scope) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let service = testing::service(
        store.clone(),
        testing::id_key(0xab),
        BatchSettings::default(),
    );
    let console = Console::new(service, false);
    let (record, _secret) = store
        .create_token(role, &scope, "upload test", "test")
        .unwrap();
    let caller = Caller {
        token_id: record.id.clone(),
        role,
        scope,
    };
    let id = console.sessions().start(caller);
    let csrf = console.sessions().get(&id).unwrap().csrf;
    Fixture {
        _dir: dir,
        store,
        console,
        cookie: format!("{SESSION_COOKIE}={id}"),
        csrf,
    }
}

/// Six demo workers as a ledger (with their id numbers); row 4 (the third
/// data row) has a broken id number.
fn ledger() -> (Vec<Worker>, Table) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut people = crate::demo::generate(0.01, 7, 2026, today).workers;
    people.truncate(6);
    let mut table = table_of(workers::COLUMNS, &people, Lang::Zh, true);
    // The column is write-only: an export leaves it empty; the company
    // fills it in.
    let column = table.headers.iter().position(|h| h == "身份证号").unwrap();
    for (row, w) in table.rows.iter_mut().zip(&people) {
        assert_eq!(w.national_id.len(), 18);
        row.cells[column] = Cell::text(w.national_id.clone());
    }
    table.rows[2].cells[column] = Cell::text("12345");
    (people, table)
}

/// [`ledger`] written as an xlsx file.
fn ledger_xlsx() -> (Vec<Worker>, Vec<u8>) {
    let (people, table) = ledger();
    (people, files::to_bytes(&table, Format::Xlsx).unwrap())
}

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"ledger\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post(f: &Fixture, body: Vec<u8>) -> Response {
    let request = Request::post("/upload")
        .header(header::COOKIE, &f.cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    router(f.console.clone()).oneshot(request).await.unwrap()
}

async fn get(f: &Fixture, path: &str) -> Response {
    get_as(f, &f.cookie, path).await
}

/// `GET path` with the session `cookie` (another than the fixture's).
async fn get_as(f: &Fixture, cookie: &str, path: &str) -> Response {
    let request = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    router(f.console.clone()).oneshot(request).await.unwrap()
}

async fn bytes(response: Response) -> Vec<u8> {
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

async fn text(response: Response) -> String {
    String::from_utf8(bytes(response).await).unwrap()
}

async fn upload(f: &Fixture, mode: &str, name: &str, file: &[u8]) -> (StatusCode, String) {
    let csrf = f.csrf.clone();
    let response = post(
        f,
        multipart(&[("csrf", &csrf), ("mode", mode)], Some((name, file))),
    )
    .await;
    let status = response.status();
    (status, text(response).await)
}

fn stored(store: &Store) -> Vec<Worker> {
    store
        .list_workers(&WorkerFilter::default(), None, 1000)
        .unwrap()
        .items
}

/// The link `/upload/{what}/...` on a result page.
fn link(page: &str, what: &str) -> String {
    let start = page
        .find(&format!("/upload/{what}/"))
        .unwrap_or_else(|| panic!("no {what} link in {page}"));
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_string()
}

/// Every sheet of a workbook: its name and its cells.
fn sheets(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let rows = range.rows().map(|r| r.to_vec()).collect();
            (name, rows)
        })
        .collect()
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn a_check_stores_nothing_and_an_import_stores_the_good_rows() {
    let f = fixture();
    let (people, xlsx) = ledger_xlsx();

    let (status, page) = upload(&f, "check", "台账.xlsx", &xlsx).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("未保存"), "{page}");
    assert!(stored(&f.store).is_empty(), "a check stores nothing");
    assert!(
        page.contains("data-row=\"4\""),
        "the bad row is listed: {page}"
    );

    let (status, page) = upload(&f, "import", "台账.xlsx", &xlsx).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut got = stored(&f.store);
    got.sort_by(|a, b| a.id.cmp(&b.id));
    let mut want: Vec<&Worker> = people
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, w)| w)
        .collect();
    want.sort_by_key(|w| scoped::qualified(&w.id, &w.county_code));
    assert_eq!(got.len(), 5);
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.id, scoped::qualified(&w.id, &w.county_code));
        assert_eq!(g.name, w.name);
        assert_eq!(
            g.household_id,
            scoped::qualified(&w.household_id, &w.county_code)
        );
        assert_eq!(g.birth_year, w.birth_year);
        assert_eq!(g.skills, w.skills);
    }

    // The rejected rows file: the row as it was, and why.
    let response = get(&f, &link(&page, "rejected")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let sheets = sheets(bytes(response).await);
    let rows = &sheets[0].1;
    assert_eq!(rows.len(), 2, "the header and the one bad row");
    assert_eq!(cell_text(&rows[0][rows[0].len() - 1]), "错误说明");
    let bad = &rows[1];
    assert!(bad.iter().any(|c| cell_text(c) == people[2].name));
    assert!(
        cell_text(&bad[bad.len() - 1]).contains("身份证号"),
        "{bad:?}"
    );

    // The changes file: five new rows.
    let response = get(&f, &link(&page, "changes")).await;
    let sheets = self::sheets(bytes(response).await);
    let rows = &sheets[0].1;
    assert_eq!(rows.len(), 6);
    assert!(rows[1..].iter().all(|r| cell_text(&r[2]) == "新增"));

    // Importing again changes nothing.
    let (_, page) = upload(&f, "import", "台账.xlsx", &xlsx).await;
    assert!(page.contains("id=\"unchanged\""), "{page}");
    assert_eq!(stored(&f.store).len(), 5);
}

#[tokio::test]
async fn a_gb18030_csv_is_read_as_the_cli_reads_it() {
    let f = fixture();
    let (_, table) = ledger();
    let csv = files::to_bytes(&table, Format::Csv(Encoding::Gb18030)).unwrap();
    assert!(std::str::from_utf8(&csv).is_err(), "really GB18030");
    let (status, page) = upload(&f, "import", "ledger.csv", &csv).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(stored(&f.store).len(), 5, "{page}");
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_stores_nothing() {
    let f = fixture();
    let (_, xlsx) = ledger_xlsx();
    let response = post(
        &f,
        multipart(&[("mode", "import")], Some(("a.xlsx", &xlsx))),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = post(
        &f,
        multipart(
            &[("csrf", "wrong"), ("mode", "import")],
            Some(("a.xlsx", &xlsx)),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(stored(&f.store).is_empty());
}

#[tokio::test]
async fn an_oversize_or_unreadable_upload_is_refused_clearly() {
    let f = fixture();
    let big = vec![b'a'; super::upload::MAX_UPLOAD + 1024];
    let (status, page) = upload(&f, "import", "big.csv", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.contains("20 MB"), "{page}");

    let (status, page) = upload(&f, "import", "ledger.pdf", b"%PDF-1.4").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains(".xlsx"), "{page}");

    let (status, page) = upload(&f, "import", "ledger.xlsx", b"not a zip").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("xlsx"), "{page}");

    let (status, page) = upload(
        &f,
        "import",
        "ledger.csv",
        "编号,姓名\nw-1,张三\n".as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("身份证号"),
        "the missing columns are named: {page}"
    );
    assert!(stored(&f.store).is_empty());
}

#[tokio::test]
async fn the_files_are_for_the_session_that_uploaded() {
    let f = fixture();
    let (_, xlsx) = ledger_xlsx();
    let (_, page) = upload(&f, "check", "a.xlsx", &xlsx).await;
    let path = link(&page, "rejected");
    // Another session of the same token.
    let caller = f
        .console
        .sessions()
        .get(f.cookie.split('=').nth(1).unwrap())
        .unwrap()
        .caller;
    let other = f.console.sessions().start(caller);
    let response = get_as(&f, &format!("{SESSION_COOKIE}={other}"), &path).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&f, &path).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_coverage_workbook_is_the_clis() {
    let f = fixture();
    let (_, xlsx) = ledger_xlsx();
    upload(&f, "import", "a.xlsx", &xlsx).await;

    let page = text(get(&f, "/dashboard").await).await;
    assert!(
        page.contains("href=\"/dashboard/coverage.xlsx?county=\""),
        "{page}"
    );
    let response = get(&f, "/dashboard/coverage.xlsx").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains(".xlsx"));
    let got = sheets(bytes(response).await);

    let today = china_today();
    let filter = CoverageFilter::up_to(None, today);
    let coverage = report::coverage(&f.store, &filter).unwrap();
    assert_eq!(coverage.total.workers_registered, 5);
    let period = Period::of(&filter);
    // What `jobbridge report --xlsx` writes (offline; from a server's
    // reply it is the same report, see api::convert::reports' tests).
    let want = sheets(workbook(&coverage, &period, Lang::Zh).unwrap());
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "sheet {}", w.0);
    }
}

#[tokio::test]
async fn a_reader_may_not_upload_and_a_company_only_for_its_counties() {
    let (people, xlsx) = ledger_xlsx();
    let f = fixture_as(Role::Reader, Scope::default());
    let (status, _) = upload(&f, "import", "a.xlsx", &xlsx).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(stored(&f.store).is_empty());

    let county = people[0].county_code.clone();
    let theirs = people
        .iter()
        .enumerate()
        .filter(|(i, w)| *i != 2 && w.county_code == county)
        .count();
    let f = fixture_as(
        Role::ServiceCompany,
        Scope {
            counties: vec![county.clone()],
            employer_id: None,
        },
    );
    let (status, page) = upload(&f, "import", "a.xlsx", &xlsx).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let got = stored(&f.store);
    assert_eq!(got.len(), theirs);
    assert!(got.iter().all(|w| w.county_code == county));
}
