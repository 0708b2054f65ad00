//! Who may do what, checked against a running server. The permission table
//! of docs/api.md (between `<!-- permissions:begin -->` and `<!-- permissions:end -->`)
//! is parsed at test time, it must list exactly the RPCs of the jobbridge.v1
//! descriptor, and every RPC is then called by every kind of caller (each
//! role, in and out of scope, and callers without a valid token) with a
//! valid request on real records, and the outcome compared with the cell.
//! Next to the table: masking of candidates, the rate limit, the audit log,
//! reflection and health, and no taking over another county's or
//! employer's records.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::common::{wait_for_run, Channel, Clients, TestServer};
use jobbridge::api::pb;
use jobbridge::batch::BatchSettings;
use jobbridge::config::Config;
use jobbridge::config::RateLimit;
use jobbridge::domain::access::{Role, Scope};
use jobbridge::domain::placement::{china_today, day_date};
use prost::Message as _;
use tonic::{Code, Status};

/// County of the records every case acts on.
const COUNTY_A: &str = "431202";
/// Another county: its service company acts on county-A records.
const COUNTY_B: &str = "431221";
/// Employer owning the openings the cases act on.
const EMPLOYER_1: &str = "emp-e1";
/// Another employer: its recruiter acts on EMPLOYER_1's openings.
const EMPLOYER_2: &str = "emp-e2";
/// Shared fixture records (only read by the cases).
const WORKER_A: &str = "w-000001";
const WORKER_B: &str = "w-000002";
const HOUSEHOLD_A: &str = "hh-000001";
const OPENING_E1: &str = "o-e1-a";
const OPENING_E2: &str = "o-e2-b";
/// Shape-valid but unknown.
const GARBAGE_TOKEN: &str = "jb.tok_0000000000000000.xxx";

// ---------------------------------------------------------------------------
// The table of docs/api.md and the descriptor.

/// One row of the permission table (docs/api.md).
#[derive(Debug, Clone)]
struct TableRow {
    /// "Service/Method".
    rpc: String,
    /// Column name ("admin", "service_company", ...) to the cell's text.
    cells: BTreeMap<String, String>,
}

fn readme_table() -> Vec<TableRow> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md");
    let text = std::fs::read_to_string(path).expect("read docs/api.md");
    let begin = text
        .find("<!-- permissions:begin -->")
        .expect("docs/api.md has <!-- permissions:begin -->");
    let end = text
        .find("<!-- permissions:end -->")
        .expect("docs/api.md has <!-- permissions:end -->");
    assert!(begin < end, "permissions markers out of order");
    let lines: Vec<&str> = text[begin..end]
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
        .collect();
    assert!(lines.len() > 2, "permission table is empty");
    let split = |line: &str| -> Vec<String> {
        line.trim()
            .trim_start_matches('|')
            .trim_end_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let header = split(lines[0]);
    assert_eq!(header[0], "RPC", "first column of the table");
    for role in ["admin", "service_company", "recruiter", "reader"] {
        assert!(
            header.iter().any(|h| h == role),
            "table has no {role} column: {header:?}"
        );
    }
    assert!(
        split(lines[1])
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':')),
        "second table line is not a separator: {}",
        lines[1]
    );
    lines[2..]
        .iter()
        .map(|line| {
            let cells = split(line);
            assert_eq!(cells.len(), header.len(), "table row {line:?}");
            TableRow {
                rpc: cells[0].trim_matches('`').to_string(),
                cells: header[1..]
                    .iter()
                    .cloned()
                    .zip(cells[1..].iter().cloned())
                    .collect(),
            }
        })
        .collect()
}

/// The first word of a cell: "yes, masked outside its counties" -> "yes".
fn first_word(cell: &str) -> &str {
    cell.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find(|w| !w.is_empty())
        .unwrap_or("")
}

/// Every RPC of package jobbridge.v1 as "Service/Method".
fn descriptor_rpcs() -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET)
        .expect("descriptor set decodes");
    let mut rpcs = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == "jobbridge.v1") {
        for service in &file.service {
            for method in &service.method {
                rpcs.push(format!("{}/{}", service.name(), method.name()));
            }
        }
    }
    rpcs.sort();
    rpcs
}

#[test]
fn readme_table_lists_exactly_the_rpcs_of_the_descriptor() {
    let table = readme_table();
    let mut listed: Vec<String> = table.iter().map(|r| r.rpc.clone()).collect();
    listed.sort();
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "an RPC is listed twice");
    let rpcs = descriptor_rpcs();
    assert_eq!(rpcs.len(), 45, "jobbridge.v1 has 45 RPCs: {rpcs:?}");
    let missing: Vec<&String> = rpcs.iter().filter(|r| !listed.contains(r)).collect();
    let extra: Vec<&String> = listed.iter().filter(|r| !rpcs.contains(r)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/api.md's table and the descriptor differ: missing from docs/api.md {missing:?}, \
         not in the descriptor {extra:?}"
    );
    let mut per_service: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rpcs {
        *per_service.entry(r.split('/').next().unwrap()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("Workers", 8),
        ("Openings", 7),
        ("Matching", 3),
        ("Batch", 10),
        ("PlacementService", 10),
        ("ReportService", 2),
        ("AdminService", 5),
    ]
    .into_iter()
    .collect();
    assert_eq!(per_service, expected);
    // Every cell's first word is one the matrix knows.
    for row in &table {
        for (column, cell) in &row.cells {
            let word = first_word(cell);
            assert!(
                ["yes", "no", "county", "employer"].contains(&word),
                "{} / {column}: unknown cell {cell:?}",
                row.rpc
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Callers and outcomes.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    /// Service company of county A, on county-A records.
    CompanyA,
    /// Service company of county B, on county-A records.
    CompanyB,
    /// Recruiter of employer E1, on E1's openings.
    RecruiterE1,
    /// Recruiter of employer E2, on E1's openings.
    RecruiterE2,
    Reader,
    NoToken,
    Garbage,
    /// Revoked in the store before its first use.
    RevokedStore,
    /// Used once, revoked through AdminService/RevokeToken, then used.
    RevokedApi,
}

impl Who {
    const ALL: [Who; 10] = [
        Who::Admin,
        Who::CompanyA,
        Who::CompanyB,
        Who::RecruiterE1,
        Who::RecruiterE2,
        Who::Reader,
        Who::NoToken,
        Who::Garbage,
        Who::RevokedStore,
        Who::RevokedApi,
    ];

    fn short(self) -> &'static str {
        match self {
            Who::Admin => "admin",
            Who::CompanyA => "coA",
            Who::CompanyB => "coB",
            Who::RecruiterE1 => "recE1",
            Who::RecruiterE2 => "recE2",
            Who::Reader => "reader",
            Who::NoToken => "none",
            Who::Garbage => "junk",
            Who::RevokedStore => "revStore",
            Who::RevokedApi => "revApi",
        }
    }

    /// The table column of the caller's role; `None` without a valid token.
    fn column(self) -> Option<&'static str> {
        match self {
            Who::Admin => Some("admin"),
            Who::CompanyA | Who::CompanyB => Some("service_company"),
            Who::RecruiterE1 | Who::RecruiterE2 => Some("recruiter"),
            Who::Reader => Some("reader"),
            Who::NoToken | Who::Garbage | Who::RevokedStore | Who::RevokedApi => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Not refused with UNAUTHENTICATED or PERMISSION_DENIED.
    Allowed,
    /// PERMISSION_DENIED (for a bulk import: the row refused).
    Denied,
    /// NOT_FOUND, as for a record nobody has, with a message that does not
    /// name the record's county: a read by id of another county's record.
    NotFound,
    Unauthenticated,
}

/// Whether a `county` cell says that a record of another county is not
/// found ("county, NF outside its counties") rather than refused.
fn not_found_outside(cell: &str) -> bool {
    cell.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .any(|w| w == "NF")
}

/// What the table of docs/api.md says `who` gets for `row`.
fn want(row: &TableRow, who: Who) -> Want {
    let Some(column) = who.column() else {
        return Want::Unauthenticated;
    };
    let cell = row
        .cells
        .get(column)
        .unwrap_or_else(|| panic!("{}: no {column} cell", row.rpc));
    match first_word(cell) {
        "yes" => Want::Allowed,
        "no" => Want::Denied,
        "county" if matches!(who, Who::Admin | Who::CompanyA) => Want::Allowed,
        "county" if not_found_outside(cell) => Want::NotFound,
        "county" => Want::Denied,
        "employer" if matches!(who, Who::Admin | Who::RecruiterE1) => Want::Allowed,
        "employer" => Want::Denied,
        other => panic!("{} / {column}: unknown cell word {other:?}", row.rpc),
    }
}

#[derive(Debug, Clone)]
enum Got {
    Ok,
    Refused(Code, String),
    /// A bulk import answered OK but refused the (only) row.
    RowRefused(String),
}

impl Got {
    fn satisfies(&self, want: Want) -> bool {
        match (want, self) {
            (Want::Unauthenticated, Got::Refused(Code::Unauthenticated, _)) => true,
            (Want::Denied, Got::Refused(Code::PermissionDenied, _) | Got::RowRefused(_)) => true,
            // Every case names county-A records, and a county-B company is
            // not told that they exist, nor where.
            (Want::NotFound, Got::Refused(Code::NotFound, message)) => !message.contains(COUNTY_A),
            (Want::Allowed, Got::Ok) => true,
            (Want::Allowed, Got::Refused(c, _)) => {
                !matches!(c, Code::Unauthenticated | Code::PermissionDenied)
            }
            _ => false,
        }
    }

    /// An allowed call that failed for a reason that means the request or
    /// its target was not what the case meant (so the scope check may not
    /// have run): a problem of this test, not of the server's permissions.
    fn fixture_problem(&self) -> bool {
        matches!(
            self,
            Got::Refused(
                Code::InvalidArgument
                    | Code::NotFound
                    | Code::AlreadyExists
                    | Code::Internal
                    | Code::Unknown
                    | Code::Unimplemented
                    | Code::ResourceExhausted
                    | Code::Unavailable,
                _
            )
        )
    }

    fn short(&self) -> String {
        match self {
            Got::Ok => "ok".into(),
            Got::RowRefused(_) => "row".into(),
            Got::Refused(code, _) => match code {
                Code::PermissionDenied => "PD".into(),
                Code::Unauthenticated => "UA".into(),
                Code::FailedPrecondition => "FP".into(),
                Code::NotFound => "NF".into(),
                Code::InvalidArgument => "IA".into(),
                Code::AlreadyExists => "AE".into(),
                Code::ResourceExhausted => "RE".into(),
                other => format!("{other:?}"),
            },
        }
    }

    fn describe(&self) -> String {
        match self {
            Got::Ok => "OK".into(),
            Got::RowRefused(reason) => format!("OK with the row refused ({reason})"),
            Got::Refused(code, message) => format!("{code:?} ({message})"),
        }
    }
}

fn got<T>(result: Result<tonic::Response<T>, Status>) -> Got {
    match result {
        Ok(_) => Got::Ok,
        Err(s) => Got::Refused(s.code(), s.message().to_string()),
    }
}

/// A server stream, read until its first message, end or error.
async fn got_stream<T>(result: Result<tonic::Response<tonic::Streaming<T>>, Status>) -> Got {
    match result {
        Ok(response) => match response.into_inner().message().await {
            Ok(_) => Got::Ok,
            Err(s) => Got::Refused(s.code(), s.message().to_string()),
        },
        Err(s) => Got::Refused(s.code(), s.message().to_string()),
    }
}

/// A one-row import: OK with the row stored, or the row refused.
fn got_import(result: Result<(u64, u64, Vec<pb::RowError>), Status>) -> Got {
    match result {
        Ok((1, 0, _)) => Got::Ok,
        Ok((_, _, errors)) => Got::RowRefused(
            errors
                .first()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .unwrap_or_default(),
        ),
        Err(s) => Got::Refused(s.code(), s.message().to_string()),
    }
}

// ---------------------------------------------------------------------------
// Records and the fixture.

/// The token id of a bearer token "jb.<id>.<secret>".
fn token_id(token: &str) -> String {
    token
        .split('.')
        .nth(1)
        .expect("jb.<id>.<secret>")
        .to_string()
}

fn company(county: &str) -> Scope {
    Scope {
        counties: vec![county.to_string()],
        employer_id: None,
    }
}

fn recruiter(employer: &str) -> Scope {
    Scope {
        counties: vec![],
        employer_id: Some(employer.to_string()),
    }
}

/// Today in China, where the service checks dates.
fn china_date() -> String {
    day_date(china_today()).format("%Y-%m-%d").to_string()
}

/// A seeking worker `n` of `county`, alone in its household, eligible for
/// the openings below.
fn worker_in(n: u32, county: &str) -> pb::Worker {
    let mut w = crate::common::worker(n);
    w.id = format!("w-{n:06}");
    w.household_id = format!("hh-{n:06}");
    w.county_code = county.to_string();
    w.service_company_id = format!("esc-{county}");
    w
}

/// An open opening of `employer` in `region`, with room for every case.
fn opening_of(id: &str, employer: &str, region: &str) -> pb::Opening {
    let mut o = crate::common::opening(0);
    o.id = id.to_string();
    o.employer_id = employer.to_string();
    o.employer_name = format!("Employer {employer}");
    o.region_code = region.to_string();
    o.headcount = 10_000;
    o
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    Proposed,
    Accepted,
    Hired,
}

struct Fixture {
    server: TestServer,
    next: AtomicU32,
    company_a: String,
    company_b: String,
    recruiter_e1: String,
    recruiter_e2: String,
    reader: String,
    revoked: String,
    /// A succeeded dry run.
    run_id: u64,
    /// A PROPOSED placement of a county-A worker.
    placement: String,
}

impl Fixture {
    async fn start(data: &Path, audit: &Path) -> Fixture {
        let options = Config {
            batch: BatchSettings {
                audit_dir: Some(audit.to_path_buf()),
                ..BatchSettings::default()
            },
            ..Config::in_process()
        };
        let server = TestServer::start_with(data, options).await;
        let revoked = server.token(Role::Admin, Scope::default());
        server
            .store
            .revoke_token(&token_id(&revoked))
            .expect("revoke in the store");
        let mut fx = Fixture {
            company_a: server.token(Role::ServiceCompany, company(COUNTY_A)),
            company_b: server.token(Role::ServiceCompany, company(COUNTY_B)),
            recruiter_e1: server.token(Role::Recruiter, recruiter(EMPLOYER_1)),
            recruiter_e2: server.token(Role::Recruiter, recruiter(EMPLOYER_2)),
            reader: server.token(Role::Reader, Scope::default()),
            revoked,
            server,
            next: AtomicU32::new(1000),
            run_id: 0,
            placement: String::new(),
        };
        let mut workers = fx.server.workers();
        for w in [worker_in(1, COUNTY_A), worker_in(2, COUNTY_B)] {
            workers
                .create_worker(pb::CreateWorkerRequest { worker: Some(w) })
                .await
                .expect("fixture worker");
        }
        assert_eq!(worker_in(1, COUNTY_A).id, WORKER_A);
        assert_eq!(worker_in(1, COUNTY_A).household_id, HOUSEHOLD_A);
        assert_eq!(worker_in(2, COUNTY_B).id, WORKER_B);
        let mut openings = fx.server.openings();
        for o in [
            opening_of(OPENING_E1, EMPLOYER_1, COUNTY_A),
            opening_of(OPENING_E2, EMPLOYER_2, COUNTY_B),
        ] {
            openings
                .create_opening(pb::CreateOpeningRequest { opening: Some(o) })
                .await
                .expect("fixture opening");
        }
        fx.placement = fx.new_placement(Stage::Proposed).await;
        // A succeeded dry run for the Batch calls.
        let mut batch = fx.server.batch();
        let run_id = batch
            .start_run(pb::StartRunRequest {
                dry_run: true,
                ..Default::default()
            })
            .await
            .expect("start the fixture run")
            .into_inner()
            .run_id;
        let run = wait_for_run(&mut batch, run_id).await;
        assert_eq!(
            run.status,
            pb::RunStatus::Succeeded as i32,
            "fixture run ended badly: {}",
            run.error
        );
        fx.run_id = run_id;
        fx
    }

    fn fresh(&self) -> u32 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// A new worker of `county`, stored by the admin.
    async fn new_worker(&self, county: &str) -> pb::Worker {
        let w = worker_in(self.fresh(), county);
        self.server
            .workers()
            .create_worker(pb::CreateWorkerRequest {
                worker: Some(w.clone()),
            })
            .await
            .expect("create a case worker");
        w
    }

    /// A new opening of E1 in county A, stored by the admin.
    async fn new_opening(&self) -> pb::Opening {
        let o = opening_of(&format!("o-{:06}", self.fresh()), EMPLOYER_1, COUNTY_A);
        self.server
            .openings()
            .create_opening(pb::CreateOpeningRequest {
                opening: Some(o.clone()),
            })
            .await
            .expect("create a case opening");
        o
    }

    /// A new placement of a new county-A worker in E1's opening, taken to
    /// `stage` by the admin.
    async fn new_placement(&self, stage: Stage) -> String {
        let w = self.new_worker(COUNTY_A).await;
        let mut c = self.server.placements();
        let id = c
            .propose(pb::ProposeRequest {
                worker_id: w.id.clone(),
                opening_id: OPENING_E1.into(),
                run_id: 0,
                actor: "fixture".into(),
            })
            .await
            .unwrap_or_else(|e| panic!("propose {}: {e}", w.id))
            .into_inner()
            .id;
        if matches!(stage, Stage::Accepted | Stage::Hired) {
            c.accept(pb::AcceptRequest {
                placement_id: id.clone(),
                actor: "fixture".into(),
            })
            .await
            .expect("accept");
        }
        if matches!(stage, Stage::Hired) {
            c.record_hire(pb::RecordHireRequest {
                placement_id: id.clone(),
                hire_date: china_date(),
                actor: "fixture".into(),
            })
            .await
            .expect("hire");
        }
        id
    }

    /// The channel `who` calls with. For `RevokedApi` a new admin token
    /// that works once and is then revoked through AdminService.
    async fn channel(&self, who: Who) -> Channel {
        let token = match who {
            Who::Admin => self.server.admin_token.clone(),
            Who::CompanyA => self.company_a.clone(),
            Who::CompanyB => self.company_b.clone(),
            Who::RecruiterE1 => self.recruiter_e1.clone(),
            Who::RecruiterE2 => self.recruiter_e2.clone(),
            Who::Reader => self.reader.clone(),
            Who::NoToken => return self.server.channel_with(None),
            Who::Garbage => GARBAGE_TOKEN.to_string(),
            Who::RevokedStore => self.revoked.clone(),
            Who::RevokedApi => {
                let token = self.server.token(Role::Admin, Scope::default());
                let channel = self.server.channel_with(Some(&token));
                Clients::new(channel.clone())
                    .admin()
                    .list_tokens(pb::ListTokensRequest {})
                    .await
                    .expect("a new token works before it is revoked");
                self.server
                    .admin()
                    .revoke_token(pb::RevokeTokenRequest {
                        token_id: token_id(&token),
                    })
                    .await
                    .expect("revoke through AdminService");
                return channel;
            }
        };
        self.server.channel_with(Some(&token))
    }
}

/// Prepares the targets of one case as the admin, then makes the call on
/// `ch`. Every request is valid and names county-A / E1 records.
async fn call(fx: &Fixture, rpc: &str, ch: Channel) -> Got {
    let c = Clients::new(ch);
    match rpc {
        // Workers.
        "Workers/CreateWorker" => {
            let w = worker_in(fx.fresh(), COUNTY_A);
            got(c
                .workers()
                .create_worker(pb::CreateWorkerRequest { worker: Some(w) })
                .await)
        }
        "Workers/UpdateWorker" => {
            let w = fx.new_worker(COUNTY_A).await;
            got(c
                .workers()
                .update_worker(pb::UpdateWorkerRequest {
                    worker: Some(pb::Worker {
                        id: w.id,
                        phone: "13912345678".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["phone".into()],
                    }),
                })
                .await)
        }
        "Workers/UpsertWorker" => {
            let mut w = fx.new_worker(COUNTY_A).await;
            w.phone = "13912345678".into();
            got(c
                .workers()
                .upsert_worker(pb::UpsertWorkerRequest {
                    worker: Some(w),
                    ..Default::default()
                })
                .await)
        }
        "Workers/GetWorker" => got(c
            .workers()
            .get_worker(pb::GetWorkerRequest {
                id: WORKER_A.into(),
            })
            .await),
        "Workers/DeleteWorker" => {
            let w = fx.new_worker(COUNTY_A).await;
            got(c
                .workers()
                .delete_worker(pb::DeleteWorkerRequest { id: w.id })
                .await)
        }
        "Workers/ListWorkers" => got(c
            .workers()
            .list_workers(pb::ListWorkersRequest {
                page_size: 10,
                county_code: COUNTY_A.into(),
                ..Default::default()
            })
            .await),
        "Workers/ImportWorkers" => {
            let w = worker_in(fx.fresh(), COUNTY_A);
            let rows = vec![pb::ImportWorkersRequest {
                worker: Some(w),
                ..Default::default()
            }];
            got_import(
                c.workers()
                    .import_workers(tokio_stream::iter(rows))
                    .await
                    .map(|r| {
                        let r = r.into_inner();
                        (r.accepted, r.rejected, r.errors)
                    }),
            )
        }
        "Workers/GetHousehold" => got(c
            .workers()
            .get_household(pb::GetHouseholdRequest {
                household_id: HOUSEHOLD_A.into(),
            })
            .await),

        // Openings.
        "Openings/CreateOpening" => {
            let o = opening_of(&format!("o-{:06}", fx.fresh()), EMPLOYER_1, COUNTY_A);
            got(c
                .openings()
                .create_opening(pb::CreateOpeningRequest { opening: Some(o) })
                .await)
        }
        "Openings/UpsertOpening" => {
            let mut o = fx.new_opening().await;
            o.title = "Sewing machinist (night shift)".into();
            got(c
                .openings()
                .upsert_opening(pb::UpsertOpeningRequest { opening: Some(o) })
                .await)
        }
        "Openings/UpdateOpening" => {
            let mut o = fx.new_opening().await;
            o.monthly_wage += 100;
            got(c
                .openings()
                .update_opening(pb::UpdateOpeningRequest {
                    opening: Some(o),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["monthly_wage".into()],
                    }),
                })
                .await)
        }
        "Openings/GetOpening" => got(c
            .openings()
            .get_opening(pb::GetOpeningRequest {
                id: OPENING_E1.into(),
            })
            .await),
        "Openings/CloseOpening" => {
            let o = fx.new_opening().await;
            got(c
                .openings()
                .close_opening(pb::CloseOpeningRequest { id: o.id })
                .await)
        }
        "Openings/ListOpenings" => got(c
            .openings()
            .list_openings(pb::ListOpeningsRequest {
                page_size: 10,
                employer_id: EMPLOYER_1.into(),
                ..Default::default()
            })
            .await),
        "Openings/ImportOpenings" => {
            let o = opening_of(&format!("o-{:06}", fx.fresh()), EMPLOYER_1, COUNTY_A);
            let rows = vec![pb::ImportOpeningsRequest {
                opening: Some(o),
                ..Default::default()
            }];
            got_import(
                c.openings()
                    .import_openings(tokio_stream::iter(rows))
                    .await
                    .map(|r| {
                        let r = r.into_inner();
                        (r.accepted, r.rejected, r.errors)
                    }),
            )
        }

        // Matching.
        "Matching/MatchOpeningsForWorker" => got(c
            .matching()
            .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
                worker_id: WORKER_A.into(),
                top_k: 5,
                ..Default::default()
            })
            .await),
        "Matching/MatchWorkersForOpening" => got(c
            .matching()
            .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
                opening_id: OPENING_E1.into(),
                top_k: 5,
                ..Default::default()
            })
            .await),
        "Matching/ExplainMatch" => got(c
            .matching()
            .explain_match(pb::ExplainMatchRequest {
                worker_id: WORKER_A.into(),
                opening_id: OPENING_E1.into(),
            })
            .await),

        // Batch.
        "Batch/StartRun" => got(c
            .batch()
            .start_run(pb::StartRunRequest {
                dry_run: true,
                ..Default::default()
            })
            .await),
        "Batch/GetRun" => got(c
            .batch()
            .get_run(pb::GetRunRequest { run_id: fx.run_id })
            .await),
        "Batch/ListRuns" => got(c.batch().list_runs(pb::ListRunsRequest::default()).await),
        // The fixture run is over, so an allowed cancel is
        // FAILED_PRECONDITION.
        "Batch/CancelRun" => got(c
            .batch()
            .cancel_run(pb::CancelRunRequest { run_id: fx.run_id })
            .await),
        // The first allowed caller applies county A's part of the fixture
        // run; later ones are FAILED_PRECONDITION (already applied).
        "Batch/ApplyRun" => got(c
            .batch()
            .apply_run(pb::ApplyRunRequest {
                run_id: fx.run_id,
                county_code: COUNTY_A.into(),
                actor: "matrix".into(),
            })
            .await),
        "Batch/DiffRun" => got(c
            .batch()
            .diff_run(pb::DiffRunRequest {
                run_id: fx.run_id,
                county_code: COUNTY_A.into(),
                counts_only: false,
            })
            .await),
        // A county-A opening resized: nothing is stored, so every allowed
        // caller gets the same answer.
        "Batch/WhatIf" => got(c
            .batch()
            .what_if(pb::WhatIfRequest {
                changes: vec![pb::WhatIfChange {
                    change: Some(pb::what_if_change::Change::ResizeOpening(
                        pb::ResizeOpening {
                            opening_id: OPENING_E1.into(),
                            headcount: 40,
                        },
                    )),
                }],
                limit: 5,
            })
            .await),
        "Batch/StreamAssignments" => {
            got_stream(
                c.batch()
                    .stream_assignments(pb::StreamAssignmentsRequest { run_id: fx.run_id })
                    .await,
            )
            .await
        }
        "Batch/StreamChanges" => {
            got_stream(
                c.batch()
                    .stream_changes(pb::StreamChangesRequest { run_id: fx.run_id })
                    .await,
            )
            .await
        }
        "Batch/DownloadAudit" => {
            got_stream(
                c.batch()
                    .download_audit(pb::DownloadAuditRequest { run_id: fx.run_id })
                    .await,
            )
            .await
        }

        // Placements.
        "PlacementService/Propose" => {
            let w = fx.new_worker(COUNTY_A).await;
            got(c
                .placements()
                .propose(pb::ProposeRequest {
                    worker_id: w.id,
                    opening_id: OPENING_E1.into(),
                    run_id: 0,
                    actor: "case".into(),
                })
                .await)
        }
        "PlacementService/Accept" => {
            let id = fx.new_placement(Stage::Proposed).await;
            got(c
                .placements()
                .accept(pb::AcceptRequest {
                    placement_id: id,
                    actor: "case".into(),
                })
                .await)
        }
        "PlacementService/Decline" => {
            let id = fx.new_placement(Stage::Proposed).await;
            got(c
                .placements()
                .decline(pb::DeclineRequest {
                    placement_id: id,
                    reason_code: pb::DeclineReason::Distance as i32,
                    reason: "too far from school".into(),
                    actor: "case".into(),
                })
                .await)
        }
        "PlacementService/RecordHire" => {
            let id = fx.new_placement(Stage::Accepted).await;
            got(c
                .placements()
                .record_hire(pb::RecordHireRequest {
                    placement_id: id,
                    hire_date: china_date(),
                    actor: "case".into(),
                })
                .await)
        }
        "PlacementService/RecordSeparation" => {
            let id = fx.new_placement(Stage::Hired).await;
            got(c
                .placements()
                .record_separation(pb::RecordSeparationRequest {
                    placement_id: id,
                    separation_date: china_date(),
                    reason: pb::SeparationReason::Quit as i32,
                    note: String::new(),
                    actor: "case".into(),
                })
                .await)
        }
        "PlacementService/RecordCheckIn" => {
            let id = fx.new_placement(Stage::Hired).await;
            got(c
                .placements()
                .record_check_in(pb::RecordCheckInRequest {
                    placement_id: id,
                    month: 1,
                    date: china_date(),
                    still_employed: true,
                    note: String::new(),
                    actor: "case".into(),
                })
                .await)
        }
        "PlacementService/Get" => got(c
            .placements()
            .get(pb::GetPlacementRequest {
                placement_id: fx.placement.clone(),
            })
            .await),
        "PlacementService/List" => got(c
            .placements()
            .list(pb::ListPlacementsRequest {
                page_size: 10,
                county_code: COUNTY_A.into(),
                ..Default::default()
            })
            .await),
        "PlacementService/GetHistory" => got(c
            .placements()
            .get_history(pb::GetPlacementHistoryRequest {
                placement_id: fx.placement.clone(),
            })
            .await),
        "PlacementService/ListDueCheckIns" => got(c
            .placements()
            .list_due_check_ins(pb::ListDueCheckInsRequest {
                county_code: COUNTY_A.into(),
                within_days: 30,
            })
            .await),

        // Reports.
        "ReportService/Coverage" => got(c
            .reports()
            .coverage(pb::CoverageRequest {
                county_code: COUNTY_A.into(),
                ..Default::default()
            })
            .await),

        "ReportService/PolicyLists" => got(c
            .reports()
            .policy_lists(pb::PolicyRequest {
                county_code: COUNTY_A.into(),
                max_rows: 10,
            })
            .await),

        // Admin.
        "AdminService/CreateToken" => got(c
            .admin()
            .create_token(pb::CreateTokenRequest {
                role: pb::Role::Reader as i32,
                label: "made by a matrix case".into(),
                ..Default::default()
            })
            .await),
        "AdminService/ListTokens" => got(c.admin().list_tokens(pb::ListTokensRequest {}).await),
        "AdminService/RevokeToken" => {
            let victim = fx.server.token(Role::Reader, Scope::default());
            got(c
                .admin()
                .revoke_token(pb::RevokeTokenRequest {
                    token_id: token_id(&victim),
                })
                .await)
        }
        "AdminService/ListAuditLog" => got(c
            .admin()
            .list_audit_log(pb::ListAuditLogRequest {
                page_size: 5,
                ..Default::default()
            })
            .await),
        "AdminService/Backup" => got_stream(c.admin().backup(pb::BackupRequest {}).await).await,

        other => panic!("permissions_api.rs has no case for {other}: add one to `call`"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_rpc_and_caller_matches_the_readme_table() {
    let table = readme_table();
    let data = tempfile::tempdir().unwrap();
    let audit = tempfile::tempdir().unwrap();
    let fx = Fixture::start(data.path(), audit.path()).await;

    let mut matrix = String::new();
    let _ = write!(matrix, "{:<34}", "RPC \\ caller");
    for who in Who::ALL {
        let _ = write!(matrix, "{:>9}", who.short());
    }
    matrix.push('\n');
    let mut mismatches = Vec::new();
    let mut problems = Vec::new();
    let mut cases = 0;
    for row in &table {
        let _ = write!(matrix, "{:<34}", row.rpc);
        for who in Who::ALL {
            let want = want(row, who);
            let ch = fx.channel(who).await;
            let got = call(&fx, &row.rpc, ch).await;
            cases += 1;
            let ok = got.satisfies(want);
            let problem = ok && want == Want::Allowed && got.fixture_problem();
            let mark = if !ok {
                "!"
            } else if problem {
                "?"
            } else {
                ""
            };
            let _ = write!(matrix, "{:>9}", format!("{}{mark}", got.short()));
            if !ok {
                mismatches.push(format!(
                    "{} as {}: expected {want:?}, got {}",
                    row.rpc,
                    who.short(),
                    got.describe()
                ));
            } else if problem {
                problems.push(format!(
                    "{} as {}: allowed, but {} (the request or its target is wrong)",
                    row.rpc,
                    who.short(),
                    got.describe()
                ));
            }
        }
        matrix.push('\n');
    }
    assert_eq!(cases, 45 * Who::ALL.len(), "every RPC, every caller");
    println!("{matrix}");
    assert!(
        mismatches.is_empty() && problems.is_empty(),
        "permission matrix (! = differs from docs/api.md, ? = case not exercised):\n{matrix}\n\
         mismatches:\n  {}\ncase problems:\n  {}",
        mismatches.join("\n  "),
        problems.join("\n  ")
    );
    fx.server.stop().await;
}

// ---------------------------------------------------------------------------
// Beside the table.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_through_admin_service_is_refused_on_its_next_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let token = server.token(Role::ServiceCompany, company(COUNTY_A));
    let caller = server.clients_with(Some(&token));
    let list = || {
        let mut c = caller.workers();
        async move {
            c.list_workers(pb::ListWorkersRequest {
                county_code: COUNTY_A.into(),
                ..Default::default()
            })
            .await
        }
    };
    list().await.expect("the token works");
    list().await.expect("the token works twice");
    let info = server
        .admin()
        .revoke_token(pb::RevokeTokenRequest {
            token_id: token_id(&token),
        })
        .await
        .expect("revoke")
        .into_inner();
    assert!(info.revoked_at.is_some());
    let e = list().await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
    // Revoked stays revoked, and ListTokens says so.
    let e = list().await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
    let tokens = server
        .admin()
        .list_tokens(pb::ListTokensRequest {})
        .await
        .unwrap()
        .into_inner()
        .tokens;
    let listed = tokens
        .iter()
        .find(|t| t.token_id == token_id(&token))
        .expect("the revoked token is listed");
    assert!(listed.revoked_at.is_some());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_and_health_need_no_token() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;

    async fn list_services(ch: Channel) -> Result<Vec<String>, Status> {
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = ServerReflectionClient::new(ch)
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await?
            .into_inner();
        let reply = stream
            .message()
            .await?
            .ok_or_else(|| Status::unknown("no reply"))?;
        match reply.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                Ok(list.service.into_iter().map(|s| s.name).collect())
            }
            other => Err(Status::unknown(format!("unexpected reply {other:?}"))),
        }
    }

    // Reflection tells the API's shape (the protos are public): no token
    // needed, and a bad one is not looked at.
    let revoked = server.token(Role::Admin, Scope::default());
    server.store.revoke_token(&token_id(&revoked)).unwrap();
    for (what, token) in [
        ("no token", None),
        ("garbage token", Some(GARBAGE_TOKEN.to_string())),
        ("revoked token", Some(revoked)),
    ] {
        let services = list_services(server.channel_with(token.as_deref()))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert!(
            services.iter().any(|x| x == "jobbridge.v1.Workers"),
            "{what}"
        );
    }
    for (role, scope) in [
        (Role::Admin, Scope::default()),
        (Role::ServiceCompany, company(COUNTY_A)),
        (Role::Recruiter, recruiter(EMPLOYER_1)),
        (Role::Reader, Scope::default()),
    ] {
        let token = server.token(role, scope);
        let services = list_services(server.channel_with(Some(&token)))
            .await
            .unwrap_or_else(|e| panic!("{role:?}: {e:?}"));
        for s in ["jobbridge.v1.Workers", "jobbridge.v1.AdminService"] {
            assert!(services.iter().any(|x| x == s), "{role:?}: {services:?}");
        }
    }

    // Health: no token at all.
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    for service in ["", "jobbridge.v1.Workers"] {
        let reply = HealthClient::new(server.raw.clone())
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health {service:?} without a token: {e:?}"))
            .into_inner();
        assert_eq!(reply.status, ServingStatus::Serving as i32);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_are_masked_for_recruiters_and_other_counties() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let names = ["向春梅", "Li Na", "王秀英", "Wu", "张明", "Zhao Lei"];
    // Workers 1-4 in county A, 5-6 in county B; every other one consents.
    let mut expected: BTreeMap<String, (String, String, String, bool)> = BTreeMap::new();
    let mut workers = server.workers();
    for (i, name) in names.iter().enumerate() {
        let n = i as u32 + 1;
        let county = if n <= 4 { COUNTY_A } else { COUNTY_B };
        let mut w = worker_in(n, county);
        w.name = (*name).to_string();
        w.phone = format!("1391234{:04}", 5670 + n);
        w.consent_to_share = n.is_multiple_of(2);
        expected.insert(
            crate::common::whole_id(&w.id, county),
            (
                w.name.clone(),
                w.phone.clone(),
                county.to_string(),
                w.consent_to_share,
            ),
        );
        workers
            .create_worker(pb::CreateWorkerRequest { worker: Some(w) })
            .await
            .unwrap();
    }
    server
        .openings()
        .create_opening(pb::CreateOpeningRequest {
            opening: Some(opening_of(OPENING_E1, EMPLOYER_1, COUNTY_A)),
        })
        .await
        .unwrap();

    let callers = [
        ("admin", server.admin_token.clone()),
        (
            "recruiter E1",
            server.token(Role::Recruiter, recruiter(EMPLOYER_1)),
        ),
        (
            "company A",
            server.token(Role::ServiceCompany, company(COUNTY_A)),
        ),
        (
            "company B",
            server.token(Role::ServiceCompany, company(COUNTY_B)),
        ),
    ];
    for (who, token) in &callers {
        let matches = server
            .clients_with(Some(token))
            .matching()
            .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
                opening_id: OPENING_E1.into(),
                top_k: 50,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{who}: {e:?}"))
            .into_inner()
            .matches;
        let ids: BTreeSet<&str> = matches.iter().map(|m| m.worker_id.as_str()).collect();
        assert_eq!(
            ids,
            expected.keys().map(String::as_str).collect(),
            "{who}: masking must not change who is listed"
        );
        for m in &matches {
            let (name, phone, county, consented) = &expected[&m.worker_id];
            let clear = match *who {
                "admin" => true,
                "recruiter E1" => *consented,
                // Other counties' workers are shown as to a recruiter.
                "company A" => county == COUNTY_A || *consented,
                "company B" => county == COUNTY_B || *consented,
                _ => unreachable!(),
            };
            let context = format!(
                "{who} sees {} (county {county}, consent {consented})",
                m.worker_id
            );
            assert_eq!(&m.county_code, county, "{context}");
            if clear {
                assert!(!m.masked, "{context}: masked");
                assert_eq!(&m.name, name, "{context}");
                assert_eq!(&m.phone, phone, "{context}");
            } else {
                let first = name.chars().next().unwrap();
                let masked_name: String = std::iter::once(first)
                    .chain(std::iter::repeat_n('*', name.chars().count() - 1))
                    .collect();
                let masked_phone = format!("{}{}", "*".repeat(phone.len() - 4), &phone[7..]);
                assert!(m.masked, "{context}: not masked");
                assert_eq!(m.name, masked_name, "{context}");
                assert_eq!(m.phone, masked_phone, "{context}");
                assert!(m.phone.ends_with(&phone[phone.len() - 4..]), "{context}");
            }
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_gets_resource_exhausted_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let options = Config {
        rate_limit: Some(RateLimit {
            per_second: 1.0,
            burst: 5.0,
        }),
        ..Config::in_process()
    };
    let server = TestServer::start_with(dir.path(), options).await;
    let busy = server.token(Role::Reader, Scope::default());
    let other = server.token(Role::Reader, Scope::default());
    let coverage = |token: &str| {
        let mut c = server.clients_with(Some(token)).reports();
        async move { c.coverage(pb::CoverageRequest::default()).await }
    };
    let mut codes = Vec::new();
    for i in 0..20 {
        let code = match coverage(&busy).await {
            Ok(_) => Code::Ok,
            Err(e) => e.code(),
        };
        codes.push(code);
        if i == 10 {
            // Meanwhile another token is served.
            coverage(&other)
                .await
                .expect("another token is served while one is over its rate");
        }
    }
    assert!(
        codes[..5].iter().all(|c| *c == Code::Ok),
        "the burst of 5 is served: {codes:?}"
    );
    assert!(
        codes.contains(&Code::ResourceExhausted),
        "20 quick calls exceed 1/s with a burst of 5: {codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, Code::Ok | Code::ResourceExhausted)),
        "{codes:?}"
    );
    for _ in 0..3 {
        coverage(&other).await.expect("the other token is served");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_says_who_called_what_and_how_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server
        .workers()
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(worker_in(1, COUNTY_A)),
        })
        .await
        .unwrap();
    let company_a = server.token(Role::ServiceCompany, company(COUNTY_A));
    let company_b = server.token(Role::ServiceCompany, company(COUNTY_B));
    let reader = server.token(Role::Reader, Scope::default());
    let get = |token: &str| {
        let mut c = server.clients_with(Some(token)).workers();
        async move {
            c.get_worker(pb::GetWorkerRequest {
                id: WORKER_A.into(),
            })
            .await
        }
    };
    get(&company_a).await.expect("company A reads its worker");
    // Another county's worker is not found, and the refusal does not say
    // where it is.
    let e = get(&company_b).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    assert!(!e.message().contains(COUNTY_A), "{e:?}");
    let e = get(&reader).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = server
        .clients_with(Some(&reader))
        .admin()
        .list_audit_log(pb::ListAuditLogRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::PermissionDenied,
        "reader reads the log: {e:?}"
    );

    let mut admin = server.admin();
    let entries_of = |token: &str| {
        let id = token_id(token);
        let mut admin = admin.clone();
        async move {
            admin
                .list_audit_log(pb::ListAuditLogRequest {
                    page_size: 100,
                    token_id: id,
                    ..Default::default()
                })
                .await
                .expect("admin reads the audit log")
                .into_inner()
                .entries
        }
    };
    const GET_WORKER: &str = "/jobbridge.v1.Workers/GetWorker";
    let a = entries_of(&company_a).await;
    let ok = a
        .iter()
        .find(|e| e.method == GET_WORKER)
        .unwrap_or_else(|| panic!("company A's GetWorker not logged: {a:?}"));
    assert_eq!(ok.token_id, token_id(&company_a));
    assert_eq!(ok.role, "service_company");
    assert_eq!(ok.code, 0, "{ok:?}");
    // The whole id the number resolved to, not the number as sent.
    assert_eq!(ok.target, format!("worker {COUNTY_A}/{WORKER_A}"), "{ok:?}");
    assert!(ok.at.is_some());

    let b = entries_of(&company_b).await;
    let denied = b
        .iter()
        .find(|e| e.method == GET_WORKER)
        .unwrap_or_else(|| panic!("company B's GetWorker not logged: {b:?}"));
    assert_eq!(denied.token_id, token_id(&company_b));
    assert_eq!(denied.code, Code::NotFound as i32, "{denied:?}");

    let r = entries_of(&reader).await;
    for method in [GET_WORKER, "/jobbridge.v1.AdminService/ListAuditLog"] {
        let e = r
            .iter()
            .find(|e| e.method == method)
            .unwrap_or_else(|| panic!("reader's {method} not logged: {r:?}"));
        assert_eq!(e.code, 7, "{e:?}");
        assert_eq!(e.role, "reader");
        assert_eq!(e.token_id, token_id(&reader));
    }
    assert!(r.iter().all(|e| e.token_id == token_id(&reader)));

    // Unfiltered, newest first, and the admin's own reads are there too.
    let all = admin
        .list_audit_log(pb::ListAuditLogRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(all.windows(2).all(|p| p[0].seq > p[1].seq), "newest first");
    assert!(all
        .iter()
        .any(|e| e.token_id == token_id(&server.admin_token)
            && e.method == "/jobbridge.v1.AdminService/ListAuditLog"));
    server.stop().await;
}

/// docs/api.md: the audit log holds "the reply's status code", 0 for OK. A
/// successful unary reply carries `grpc-status` in its trailers, not its
/// headers, so the access layer must not take a missing header status for
/// "unknown" (it logged -1 before commit 3dfa503).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ok_unary_call_is_logged_with_code_0() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server
        .workers()
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(worker_in(1, COUNTY_A)),
        })
        .await
        .unwrap();
    let company_a = server.token(Role::ServiceCompany, company(COUNTY_A));
    let caller = server.clients_with(Some(&company_a));
    caller
        .workers()
        .get_worker(pb::GetWorkerRequest {
            id: WORKER_A.into(),
        })
        .await
        .expect("GetWorker");
    caller
        .workers()
        .list_workers(pb::ListWorkersRequest {
            county_code: COUNTY_A.into(),
            ..Default::default()
        })
        .await
        .expect("ListWorkers");
    caller
        .reports()
        .coverage(pb::CoverageRequest {
            county_code: COUNTY_A.into(),
            ..Default::default()
        })
        .await
        .expect("Coverage");
    let entries = server
        .admin()
        .list_audit_log(pb::ListAuditLogRequest {
            token_id: token_id(&company_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(entries.len(), 3, "{entries:?}");
    let wrong: Vec<String> = entries
        .iter()
        .filter(|e| e.code != 0)
        .map(|e| format!("{} logged with code {}", e.method, e.code))
        .collect();
    assert!(wrong.is_empty(), "OK unary calls: {wrong:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_listing_or_report_must_name_one_of_its_counties() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let caller = server.clients_with(Some(&server.token(Role::ServiceCompany, company(COUNTY_A))));
    let mut failures = Vec::new();
    for county in ["", COUNTY_B, COUNTY_A] {
        let results = [
            (
                "ListWorkers",
                got(caller
                    .workers()
                    .list_workers(pb::ListWorkersRequest {
                        county_code: county.into(),
                        ..Default::default()
                    })
                    .await),
            ),
            (
                "PlacementService/List",
                got(caller
                    .placements()
                    .list(pb::ListPlacementsRequest {
                        county_code: county.into(),
                        ..Default::default()
                    })
                    .await),
            ),
            (
                "ListDueCheckIns",
                got(caller
                    .placements()
                    .list_due_check_ins(pb::ListDueCheckInsRequest {
                        county_code: county.into(),
                        within_days: 0,
                    })
                    .await),
            ),
            (
                "Coverage",
                got(caller
                    .reports()
                    .coverage(pb::CoverageRequest {
                        county_code: county.into(),
                        ..Default::default()
                    })
                    .await),
            ),
        ];
        let want = if county == COUNTY_A {
            Want::Allowed
        } else {
            Want::Denied
        };
        for (rpc, got) in results {
            if !got.satisfies(want)
                || matches!(got, Got::Refused(c, _) if want == Want::Allowed && c != Code::Ok)
            {
                failures.push(format!(
                    "{rpc} with county_code {county:?}: expected {want:?}, got {}",
                    got.describe()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_company_or_recruiter_takes_over_anothers_record() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let stored = worker_in(1, COUNTY_A);
    server
        .workers()
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(stored.clone()),
        })
        .await
        .unwrap();
    server
        .openings()
        .create_opening(pb::CreateOpeningRequest {
            opening: Some(opening_of(OPENING_E1, EMPLOYER_1, COUNTY_A)),
        })
        .await
        .unwrap();
    let company_b =
        server.clients_with(Some(&server.token(Role::ServiceCompany, company(COUNTY_B))));
    let recruiter_e2 =
        server.clients_with(Some(&server.token(Role::Recruiter, recruiter(EMPLOYER_2))));

    let whole_a = format!("{COUNTY_A}/{WORKER_A}");

    // Company B changes county A's worker where it is: refused, naming
    // only the county B sent.
    let mut changed = stored.clone();
    changed.id = whole_a.clone();
    changed.phone = "13900000000".into();
    let e = company_b
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(changed),
            allow_move: true,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");

    // Company B moves county A's worker into its own county, by the whole
    // id and saying allow_move: refused on worker.id (an id of county A
    // is not one B may give), exactly as for an id of county A that
    // nobody has, so the refusal tells nothing of A's records.
    let mut moved = stored.clone();
    moved.id = whole_a.clone();
    moved.county_code = COUNTY_B.into();
    let mut nobody = moved.clone();
    nobody.id = format!("{COUNTY_A}/w-nobody");
    nobody.national_id = crate::common::national_id(999);
    let mut refusals = Vec::new();
    for w in [&moved, &nobody] {
        let e = company_b
            .workers()
            .upsert_worker(pb::UpsertWorkerRequest {
                worker: Some(w.clone()),
                allow_move: true,
            })
            .await
            .unwrap_err();
        crate::common::assert_invalid(&e, "worker.id", &w.id);
        refusals.push(e.message().replace(&w.id, "ID"));
    }
    assert_eq!(
        refusals[0], refusals[1],
        "the refusal differs when A has the id"
    );
    let r = company_b
        .workers()
        .import_workers(tokio_stream::iter(vec![pb::ImportWorkersRequest {
            worker: Some(moved.clone()),
            allow_move: true,
            ..Default::default()
        }]))
        .await
        .expect("an import answers row by row")
        .into_inner();
    assert_eq!((r.accepted, r.rejected), (0, 1), "{r:?}");
    assert_eq!(r.errors[0].field, "worker.id", "{r:?}");

    // By its own number B names a worker of its own county (431221/w-...):
    // the same person cannot be registered twice, and the refusal does not
    // say where they are.
    let mut again = stored.clone();
    again.county_code = COUNTY_B.into();
    let e = company_b
        .workers()
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(again),
            allow_move: true,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
    assert!(!e.message().contains(COUNTY_A), "{e:?}");

    // Company B moves E1's opening into its county; recruiter E2 takes it.
    let mut moved = opening_of(OPENING_E1, EMPLOYER_1, COUNTY_B);
    moved.title = "Taken over".into();
    let e = company_b
        .openings()
        .upsert_opening(pb::UpsertOpeningRequest {
            opening: Some(moved),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let taken = opening_of(OPENING_E1, EMPLOYER_2, COUNTY_A);
    let e = recruiter_e2
        .openings()
        .upsert_opening(pb::UpsertOpeningRequest {
            opening: Some(taken.clone()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let r = recruiter_e2
        .openings()
        .import_openings(tokio_stream::iter(vec![pb::ImportOpeningsRequest {
            opening: Some(taken),
            ..Default::default()
        }]))
        .await
        .expect("an import answers row by row")
        .into_inner();
    assert_eq!((r.accepted, r.rejected), (0, 1), "{r:?}");

    // Nothing changed.
    let w = server
        .workers()
        .get_worker(pb::GetWorkerRequest {
            id: WORKER_A.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .worker
        .unwrap();
    assert_eq!(w.county_code, COUNTY_A);
    assert_eq!(w.id, whole_a);
    assert_eq!(w.phone, stored.phone);
    assert_eq!(server.store.worker_count(), 1, "nothing was created");
    let o = server
        .openings()
        .get_opening(pb::GetOpeningRequest {
            id: OPENING_E1.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .opening
        .unwrap();
    assert_eq!(
        (
            o.employer_id.as_str(),
            o.region_code.as_str(),
            o.title.as_str()
        ),
        (EMPLOYER_1, COUNTY_A, "Sewing machinist")
    );
    // A recruiter lists only its own employer's openings.
    let listed = recruiter_e2
        .openings()
        .list_openings(pb::ListOpeningsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .openings;
    assert!(listed.is_empty(), "recruiter E2 listed {listed:?}");
    server.stop().await;
}
