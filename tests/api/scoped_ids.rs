//! Two county companies that number their ledgers alike, against the real
//! server: each imports its own ledger at the same time as the other;
//! every worker and household stays in its county, neither reads, changes
//! or learns of the other's records, a second import changes nothing, and
//! the coverage figures equal a recount of every stored worker.

use std::collections::BTreeMap;

use jobbridge::api::pb;
use jobbridge::domain::access::{Role, Scope};
use tonic::Code;

use crate::common::{national_id, worker, TestServer};

const HUITONG: &str = "431225";
const MAYANG: &str = "431226";

/// A county's ledger numbered from 1: three people a household, statuses
/// mixed. `base` keeps the two counties' id numbers (persons) apart.
fn ledger(county: &str, base: u32, rows: u32) -> Vec<pb::Worker> {
    (1..=rows)
        .map(|n| {
            let mut w = worker(n);
            w.id = format!("w-{n:06}");
            w.household_id = format!("hh-{:06}", n.div_ceil(3));
            w.county_code = county.into();
            w.national_id = national_id(base + n);
            w.employment_status = match n % 4 {
                0 => pb::EmploymentStatus::Employed,
                3 => pb::EmploymentStatus::Unavailable,
                _ => pb::EmploymentStatus::Seeking,
            } as i32;
            w
        })
        .collect()
}

async fn import(
    server: &TestServer,
    token: &str,
    rows: Vec<pb::Worker>,
) -> pb::ImportWorkersResponse {
    let stream = tokio_stream::iter(rows.into_iter().map(|w| pb::ImportWorkersRequest {
        worker: Some(w),
        ..Default::default()
    }));
    server
        .clients_with(Some(token))
        .workers()
        .import_workers(stream)
        .await
        .unwrap()
        .into_inner()
}

async fn get(server: &TestServer, token: &str, id: &str) -> Result<pb::Worker, tonic::Status> {
    server
        .clients_with(Some(token))
        .workers()
        .get_worker(pb::GetWorkerRequest { id: id.into() })
        .await
        .map(|r| r.into_inner().worker.unwrap())
}

async fn all_workers(server: &TestServer) -> Vec<pb::Worker> {
    let mut c = server.workers();
    let (mut out, mut token) = (Vec::new(), String::new());
    loop {
        let page = c
            .list_workers(pb::ListWorkersRequest {
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        out.extend(page.workers);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_companies_numbering_from_one_keep_their_own_records() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let company = |county: &str| {
        server.token(
            Role::ServiceCompany,
            Scope {
                counties: vec![county.into()],
                employer_id: None,
            },
        )
    };
    let (huitong, mayang) = (company(HUITONG), company(MAYANG));

    // Both at once, 300 rows each, numbered w-000001.. and hh-000001..
    let (a, b) = tokio::join!(
        import(&server, &huitong, ledger(HUITONG, 0, 300)),
        import(&server, &mayang, ledger(MAYANG, 1000, 300)),
    );
    for r in [&a, &b] {
        assert_eq!(
            (r.created, r.updated, r.unchanged, r.rejected),
            (300, 0, 0, 0)
        );
    }
    assert_eq!(a.changes[0].id, "431225/w-000001");
    assert_eq!(b.changes[0].id, "431226/w-000001");

    // The same number, two people: each company reads its own.
    let mine = get(&server, &huitong, "w-000001").await.unwrap();
    assert_eq!(
        (mine.id.as_str(), mine.household_id.as_str()),
        ("431225/w-000001", "431225/hh-000001")
    );
    let theirs = get(&server, &mayang, "w-000001").await.unwrap();
    assert_eq!(theirs.id, "431226/w-000001");
    // The other's record by whole id is not found, exactly like one that
    // nobody has; nothing in the reply names it.
    let other = get(&server, &huitong, "431226/w-000001").await.unwrap_err();
    let nobody = get(&server, &huitong, "431226/w-999999").await.unwrap_err();
    assert_eq!(
        (other.code(), nobody.code()),
        (Code::NotFound, Code::NotFound)
    );
    assert_eq!(
        other.message().replace("w-000001", "N"),
        nobody.message().replace("w-999999", "N")
    );
    let household = server
        .clients_with(Some(&huitong))
        .workers()
        .get_household(pb::GetHouseholdRequest {
            household_id: "431226/hh-000001".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(household.code(), Code::NotFound);
    // An admin must say which one it means.
    let ambiguous = get(&server, &server_admin(&server), "w-000001")
        .await
        .unwrap_err();
    assert_eq!(ambiguous.code(), Code::InvalidArgument);
    assert!(
        ambiguous.message().contains("431225/w-000001"),
        "{}",
        ambiguous.message()
    );

    // Neither changes the other's: a row naming the other's whole id or
    // household is refused, and the other's record stays as it was.
    let mut reach = ledger(HUITONG, 0, 2);
    reach[0].id = "431226/w-000001".into();
    reach[1].household_id = "431226/hh-000001".into();
    let r = import(&server, &huitong, reach).await;
    assert_eq!(r.rejected, 2);
    let fields: Vec<&str> = r.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["worker.id", "worker.household_id"]);
    assert_eq!(get(&server, &mayang, "w-000001").await.unwrap(), theirs);

    // The same ledger again: every row unchanged, nothing written.
    let again = import(&server, &huitong, ledger(HUITONG, 0, 300)).await;
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 300));
    assert_eq!(get(&server, &huitong, "w-000001").await.unwrap(), mine);

    // No household spans counties, and the figures equal a recount.
    let workers = all_workers(&server).await;
    assert_eq!(workers.len(), 600);
    let mut households: BTreeMap<&str, (&str, bool, bool)> = BTreeMap::new();
    for w in &workers {
        let h = households
            .entry(&w.household_id)
            .or_insert((&w.county_code, false, false));
        assert_eq!(
            h.0, w.county_code,
            "household {} spans counties",
            w.household_id
        );
        assert!(w.household_id.starts_with(&format!("{}/", w.county_code)));
        h.1 |= w.employment_status != pb::EmploymentStatus::Unavailable as i32;
        h.2 |= w.employment_status == pb::EmploymentStatus::Employed as i32;
    }
    let report = server
        .reports()
        .coverage(pb::CoverageRequest::default())
        .await
        .unwrap()
        .into_inner();
    let total = report.total.unwrap();
    let labour = households.values().filter(|h| h.1).count() as u64;
    let zero = households.values().filter(|h| h.1 && !h.2).count() as u64;
    assert_eq!(
        labour, 200,
        "100 households a county, each with someone who wants work"
    );
    assert_eq!(total.households_with_labour, labour);
    assert_eq!(total.zero_employment_households, zero);
    server.stop().await;
}

/// An admin token of the test server.
fn server_admin(server: &TestServer) -> String {
    server.token(Role::Admin, Scope::default())
}
