//! The `jobbridge.v1.Workers` service through the generated client, against
//! the real server on 127.0.0.1:0 with a temporary data directory.

use std::collections::BTreeMap;

use crate::common::Channel;
use crate::common::{
    assert_invalid, national_id, now_ms, opening, returned, ts_ms, worker, TestServer,
};
use jobbridge::api::pb;
use jobbridge::api::pb::workers_client::WorkersClient;
use jobbridge::config::Config;
use jobbridge::domain::current_year;
use prost::Message as _;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A worker from a reply without its server-set timestamps, after checking
/// that the reply left the write-only national id out.
fn strip(mut w: pb::Worker) -> pb::Worker {
    assert!(
        w.national_id.is_empty(),
        "worker {} returned with a national id",
        w.id
    );
    w.created_at = None;
    w.updated_at = None;
    w
}

async fn create(c: &mut WorkersClient<Channel>, w: pb::Worker) -> Result<pb::Worker, Status> {
    c.create_worker(pb::CreateWorkerRequest { worker: Some(w) })
        .await
        .map(|r| r.into_inner().worker.expect("worker in reply"))
}

async fn upsert(
    c: &mut WorkersClient<Channel>,
    w: pb::Worker,
) -> Result<(pb::Worker, bool), Status> {
    c.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(w),
        ..Default::default()
    })
    .await
    .map(|r| {
        let r = r.into_inner();
        (r.worker.expect("worker in reply"), r.created)
    })
}

/// An upsert that may move a stored worker to another county or household
/// (`allow_move`).
async fn upsert_moving(
    c: &mut WorkersClient<Channel>,
    w: pb::Worker,
) -> Result<(pb::Worker, bool), Status> {
    c.upsert_worker(pb::UpsertWorkerRequest {
        worker: Some(w),
        allow_move: true,
    })
    .await
    .map(|r| {
        let r = r.into_inner();
        (r.worker.expect("worker in reply"), r.created)
    })
}

async fn get(c: &mut WorkersClient<Channel>, id: &str) -> Result<pb::Worker, Status> {
    c.get_worker(pb::GetWorkerRequest { id: id.into() })
        .await
        .map(|r| r.into_inner().worker.expect("worker in reply"))
}

async fn delete(c: &mut WorkersClient<Channel>, id: &str) -> Result<(), Status> {
    c.delete_worker(pb::DeleteWorkerRequest { id: id.into() })
        .await
        .map(|_| ())
}

async fn import(
    c: &mut WorkersClient<Channel>,
    rows: Vec<Option<pb::Worker>>,
) -> Result<pb::ImportWorkersResponse, Status> {
    let rows: Vec<pb::ImportWorkersRequest> = rows
        .into_iter()
        .map(|worker| pb::ImportWorkersRequest {
            worker,
            ..Default::default()
        })
        .collect();
    c.import_workers(tokio_stream::iter(rows))
        .await
        .map(|r| r.into_inner())
}

/// Walks every page of a listing; returns the workers and the page count.
async fn list_all(
    c: &mut WorkersClient<Channel>,
    mut request: pb::ListWorkersRequest,
) -> (Vec<pb::Worker>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let page = c
            .list_workers(request.clone())
            .await
            .unwrap_or_else(|e| panic!("list {request:?}: {e}"))
            .into_inner();
        pages += 1;
        out.extend(page.workers);
        if page.next_page_token.is_empty() {
            return (out, pages);
        }
        assert!(pages < 10_000, "listing does not end");
        request.page_token = page.next_page_token;
    }
}

async fn all_ids(c: &mut WorkersClient<Channel>) -> Vec<String> {
    let (workers, _) = list_all(c, pb::ListWorkersRequest::default()).await;
    workers.into_iter().map(|w| w.id).collect()
}

/// A national id number whose check character is `X`, and its index (far
/// from the indexes the tests use for ordinary workers).
fn national_id_with_x() -> (u32, String) {
    (50_000..51_000)
        .map(|n| (n, national_id(n)))
        .find(|(_, id)| id.ends_with('X'))
        .expect("some id in the range ends in X")
}

/// The first 17 digits of `national_id(n)` with a wrong check character.
fn wrong_check_digit(n: u32) -> String {
    let good = national_id(n);
    let wrong = if good.ends_with('0') { '1' } else { '0' };
    format!("{}{wrong}", &good[..17])
}

/// A worker that sets every field to a non-default value, with several
/// skills, certificates and preferred sources.
fn rich_worker(n: u32) -> pb::Worker {
    let mut w = worker(n);
    w.gender = pb::Gender::Male as i32;
    w.birth_year = 1970;
    w.phone = "19912345678".into();
    w.county_code = "431271".into();
    w.site_id = "site-hongjiang.01".into();
    w.site_location = Some(pb::GeoPoint {
        lat: 27.109_876_543_21,
        lon: 110.000_123_456_78,
    });
    w.labour_capacity = pb::LabourCapacity::Partial as i32;
    w.skills = vec![
        pb::Skill {
            code: "sewing".into(),
            level: 5,
        },
        pb::Skill {
            code: "driving_c1".into(),
            level: 1,
        },
        pb::Skill {
            code: "tea-picking".into(),
            level: 3,
        },
    ];
    w.certificates = vec![
        pb::Skill {
            code: "electrician".into(),
            level: 4,
        },
        pb::Skill {
            code: "housekeeping".into(),
            level: 2,
        },
    ];
    w.education = pb::Education::Vocational as i32;
    w.preferences = Some(pb::WorkerPreferences {
        mobility: pb::Mobility::WillingToMigrate as i32,
        max_commute_km: 1000,
        expected_monthly_wage: 100_000,
        preferred_sources: vec![
            pb::Source::LabourCooperation as i32,
            pb::Source::Enterprise as i32,
            pb::Source::WorkRelief as i32,
        ],
        strict_sources: true,
        needs_flexible_hours: false,
    });
    w.employment_status = pb::EmploymentStatus::Unavailable as i32;
    w.service_company_id = "esc:431271_a.b-c".into();
    w.consent_to_share = false;
    w
}

// ---------------------------------------------------------------------------
// Round trip
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();

    for sent in [worker(1), rich_worker(2)] {
        let before = now_ms();
        let created = create(&mut c, sent.clone()).await.expect("create");
        let after = now_ms();
        assert_eq!(
            strip(created.clone()),
            returned(&sent),
            "create reply differs"
        );
        let created_at = ts_ms(&created.created_at);
        assert!(
            (before - 5..=after + 5).contains(&created_at),
            "created_at {created_at} not within {before}..{after}"
        );
        assert_eq!(created.created_at, created.updated_at);

        let read = get(&mut c, &sent.id).await.expect("get");
        assert_eq!(read, created, "get differs from the create reply");
    }

    // Upsert of an existing id: created=false, created_at kept, updated_at
    // moves on, and the new values are stored. Every field changes, the
    // county too (431202 -> 431271): that is a move, so it names the
    // worker by its whole id and sets allow_move; the id stays the one
    // its first county gave, the household is one of the new county.
    let first = get(&mut c, "w-000001").await.unwrap();
    assert_eq!(first.id, "431202/w-000001");
    let mut changed = rich_worker(1);
    changed.id = "431202/w-000001".into();
    changed.national_id = national_id(1);
    changed.name = "王秀英 (updated)".into();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (upserted, was_created) = upsert_moving(&mut c, changed.clone())
        .await
        .expect("upsert");
    assert!(!was_created, "upsert of an existing id reports created");
    assert_eq!(strip(upserted.clone()), returned(&changed));
    assert_eq!(upserted.id, "431202/w-000001");
    assert_eq!(upserted.household_id, "431271/hh-000000");
    assert_eq!(upserted.created_at, first.created_at, "created_at changed");
    assert!(ts_ms(&upserted.updated_at) > ts_ms(&first.updated_at));
    assert_eq!(get(&mut c, "431202/w-000001").await.unwrap(), upserted);

    // Upsert of a new id: created=true.
    let (fresh, was_created) = upsert(&mut c, worker(3)).await.expect("upsert new");
    assert!(was_created);
    assert_eq!(strip(fresh.clone()), returned(&worker(3)));
    assert_eq!(fresh.created_at, fresh.updated_at);

    // Timestamps the client sends are ignored.
    let mut w = worker(4);
    w.created_at = Some(prost_types::Timestamp {
        seconds: 1,
        nanos: 0,
    });
    w.updated_at = Some(prost_types::Timestamp {
        seconds: 2,
        nanos: 0,
    });
    let stored = create(&mut c, w).await.unwrap();
    assert!(ts_ms(&stored.created_at) > 1_000_000_000_000);
    assert_eq!(stored.created_at, stored.updated_at);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_enum_value_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();

    let mut n = 10;
    let mut sent = Vec::new();
    for gender in 0..=2 {
        for education in 0..=6 {
            let mut w = worker(n);
            n += 1;
            w.gender = gender;
            w.education = education;
            w.labour_capacity = 1 + (n as i32 % 2);
            w.employment_status = 1 + (n as i32 % 3);
            let p = w.preferences.as_mut().unwrap();
            p.mobility = 1 + (n as i32 % 2);
            p.preferred_sources = vec![1 + (n as i32 % 6), 1 + ((n as i32 + 1) % 6)];
            sent.push(w);
        }
    }
    // Optional fields left empty stay empty.
    let mut bare = worker(n);
    bare.phone.clear();
    bare.service_company_id.clear();
    bare.skills.clear();
    bare.certificates.clear();
    bare.preferences.as_mut().unwrap().preferred_sources.clear();
    bare.preferences.as_mut().unwrap().expected_monthly_wage = 0;
    sent.push(bare);

    for w in &sent {
        let created = create(&mut c, w.clone()).await.expect("create");
        assert_eq!(strip(created), returned(w));
        assert_eq!(strip(get(&mut c, &w.id).await.unwrap()), returned(w));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boundary_values_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let (x_index, x_id) = national_id_with_x();

    type Edit = fn(&mut pb::Worker);
    let cases: Vec<(&str, Edit)> = vec![
        ("county 431271 (statistics-only district)", |w| {
            w.county_code = "431271".into()
        }),
        ("county in another province", |w| {
            w.county_code = "440305".into()
        }),
        ("id of 64 characters", |w| w.id = "i".repeat(64)),
        ("id of every allowed character", |w| {
            w.id = "AZaz09._:-".into()
        }),
        ("household id of 64 characters", |w| {
            w.household_id = "h".repeat(64)
        }),
        ("name of 64 characters", |w| w.name = "字".repeat(64)),
        ("name of one character", |w| w.name = "王".into()),
        ("youngest", |w| w.birth_year = current_year() as u32 - 16),
        ("oldest", |w| w.birth_year = current_year() as u32 - 75),
        ("no phone", |w| w.phone.clear()),
        ("phone starting 13", |w| w.phone = "13000000000".into()),
        ("site id of 64 characters", |w| w.site_id = "s".repeat(64)),
        ("south-west corner of the box", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: 3.0,
                lon: 73.0,
            })
        }),
        ("north-east corner of the box", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: 54.0,
                lon: 136.0,
            })
        }),
        ("32 skills of 32 characters", |w| {
            w.skills = (0..32)
                .map(|i| pb::Skill {
                    code: format!("{i:0>32}"),
                    level: 1 + i % 5,
                })
                .collect()
        }),
        ("32 certificates", |w| {
            w.certificates = (0..32)
                .map(|i| pb::Skill {
                    code: format!("cert_{i}"),
                    level: 5,
                })
                .collect()
        }),
        ("the same code as skill and certificate", |w| {
            w.certificates = w.skills.clone();
        }),
        ("commute 1 km", |w| {
            w.preferences.as_mut().unwrap().max_commute_km = 1
        }),
        ("commute 1000 km", |w| {
            w.preferences.as_mut().unwrap().max_commute_km = 1000
        }),
        ("wage 100000", |w| {
            w.preferences.as_mut().unwrap().expected_monthly_wage = 100_000
        }),
        ("all six sources", |w| {
            w.preferences.as_mut().unwrap().preferred_sources = (1..=6).collect()
        }),
        ("strict with sources", |w| {
            w.preferences.as_mut().unwrap().strict_sources = true
        }),
        ("no service company", |w| w.service_company_id.clear()),
        ("gender unspecified", |w| w.gender = 0),
        ("education unspecified", |w| w.education = 0),
    ];
    for (i, (label, edit)) in cases.iter().enumerate() {
        let mut w = worker(100 + i as u32);
        edit(&mut w);
        let created = create(&mut c, w.clone())
            .await
            .unwrap_or_else(|e| panic!("{label}: refused: {e}"));
        assert_eq!(strip(created), returned(&w), "{label}");
        assert_eq!(
            strip(get(&mut c, &w.id).await.unwrap()),
            returned(&w),
            "{label}"
        );
    }

    // A national id ending in a lower-case x is valid (and, like every
    // national id, not returned).
    let mut w = worker(x_index);
    w.national_id = x_id.to_ascii_lowercase();
    let stored = create(&mut c, w.clone()).await.expect("lower-case x");
    assert_eq!(strip(stored), returned(&w));
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

type Mutate = Box<dyn Fn(&mut pb::Worker)>;

fn case(field: &'static str, f: impl Fn(&mut pb::Worker) + 'static) -> (&'static str, Mutate) {
    (field, Box::new(f))
}

fn prefs(w: &mut pb::Worker) -> &mut pb::WorkerPreferences {
    w.preferences.as_mut().unwrap()
}

fn skill(code: &str, level: u32) -> pb::Skill {
    pb::Skill {
        code: code.into(),
        level,
    }
}

fn validation_cases() -> Vec<(&'static str, Mutate)> {
    let year = current_year() as u32;
    vec![
        // ids
        case("worker.id", |w| w.id.clear()),
        case("worker.id", |w| w.id = "w".repeat(65)),
        case("worker.id", |w| w.id = "w 1".into()),
        case("worker.id", |w| w.id = "w/1".into()),
        case("worker.id", |w| w.id = "w\u{0}1".into()),
        case("worker.id", |w| w.id = "工人1".into()),
        case("worker.household_id", |w| w.household_id.clear()),
        case("worker.household_id", |w| w.household_id = "h".repeat(65)),
        case("worker.household_id", |w| w.household_id = "hh#1".into()),
        // name
        case("worker.name", |w| w.name.clear()),
        case("worker.name", |w| w.name = "   ".into()),
        case("worker.name", |w| w.name = "\t\n".into()),
        case("worker.name", |w| w.name = "字".repeat(65)),
        case("worker.name", |w| w.name = "a".repeat(65)),
        case("worker.name", |w| w.name = "王\n秀英".into()),
        case("worker.name", |w| w.name = "王\u{7}秀英".into()),
        case("worker.name", |w| w.name = "王\u{0}秀英".into()),
        // national id
        case("worker.national_id", |w| w.national_id.clear()),
        case("worker.national_id", |w| {
            w.national_id = national_id(7)[..17].into()
        }),
        case("worker.national_id", |w| {
            w.national_id = format!("{}0", national_id(7))
        }),
        case("worker.national_id", |w| {
            w.national_id = wrong_check_digit(7)
        }),
        case("worker.national_id", |w| {
            w.national_id = "43120219850A000017".into()
        }),
        case("worker.national_id", |w| {
            w.national_id = "ABCDEFGHIJKLMNOPQR".into()
        }),
        case("worker.national_id", |w| {
            w.national_id = format!("{}Y", &national_id(7)[..17])
        }),
        // birth year
        case("worker.birth_year", move |w| w.birth_year = year - 76),
        case("worker.birth_year", move |w| w.birth_year = year - 15),
        case("worker.birth_year", move |w| w.birth_year = year + 1),
        case("worker.birth_year", |w| w.birth_year = 0),
        case("worker.birth_year", |w| w.birth_year = u32::MAX),
        // phone
        case("worker.phone", |w| w.phone = "12812345678".into()),
        case("worker.phone", |w| w.phone = "1381234567".into()),
        case("worker.phone", |w| w.phone = "138123456789".into()),
        case("worker.phone", |w| w.phone = "1381234567a".into()),
        case("worker.phone", |w| w.phone = "+8613812345678".into()),
        case("worker.phone", |w| w.phone = "23812345678".into()),
        // county code
        case("worker.county_code", |w| w.county_code.clear()),
        case("worker.county_code", |w| w.county_code = "43120".into()),
        case("worker.county_code", |w| w.county_code = "4312021".into()),
        case("worker.county_code", |w| w.county_code = "43120a".into()),
        case("worker.county_code", |w| w.county_code = "991202".into()),
        case("worker.county_code", |w| w.county_code = "001202".into()),
        case("worker.county_code", |w| w.county_code = "431200".into()),
        case("worker.county_code", |w| w.county_code = "430000".into()),
        // site
        case("worker.site_id", |w| w.site_id.clear()),
        case("worker.site_id", |w| w.site_id = "site 1".into()),
        case("worker.site_id", |w| w.site_id = "s".repeat(65)),
        case("worker.site_location", |w| w.site_location = None),
        case("worker.site_location.lat", |w| {
            w.site_location = Some(pb::GeoPoint { lat: 0.0, lon: 0.0 })
        }),
        case("worker.site_location.lat", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: 2.9,
                lon: 109.0,
            })
        }),
        case("worker.site_location.lat", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: 54.1,
                lon: 109.0,
            })
        }),
        case("worker.site_location.lat", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: -27.5,
                lon: 109.0,
            })
        }),
        case("worker.site_location.lat", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: f64::NAN,
                lon: 109.0,
            })
        }),
        case("worker.site_location.lat", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: f64::INFINITY,
                lon: 109.0,
            })
        }),
        case("worker.site_location.lon", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: 27.5,
                lon: 72.9,
            })
        }),
        case("worker.site_location.lon", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: 27.5,
                lon: 136.1,
            })
        }),
        case("worker.site_location.lon", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: 27.5,
                lon: f64::NAN,
            })
        }),
        case("worker.site_location.lon", |w| {
            w.site_location = Some(pb::GeoPoint {
                lat: 27.5,
                lon: f64::NEG_INFINITY,
            })
        }),
        // labour capacity
        case("worker.labour_capacity", |w| w.labour_capacity = 0),
        case("worker.labour_capacity", |w| w.labour_capacity = 99),
        case("worker.labour_capacity", |w| w.labour_capacity = -1),
        // skills
        case("worker.skills[0].code", |w| {
            w.skills = vec![skill("Sewing", 3)]
        }),
        case("worker.skills[0].code", |w| w.skills = vec![skill("", 3)]),
        case("worker.skills[0].code", |w| {
            w.skills = vec![skill(&"a".repeat(33), 3)]
        }),
        case("worker.skills[0].code", |w| {
            w.skills = vec![skill("sewing machine", 3)]
        }),
        case("worker.skills[0].code", |w| {
            w.skills = vec![skill("缝纫", 3)]
        }),
        case("worker.skills[1].code", |w| {
            w.skills = vec![skill("sewing", 3), skill("sewing", 2)]
        }),
        case("worker.skills[2].code", |w| {
            w.skills = vec![skill("sewing", 3), skill("cooking", 2), skill("sewing", 3)]
        }),
        case("worker.skills[0].level", |w| {
            w.skills = vec![skill("sewing", 0)]
        }),
        case("worker.skills[1].level", |w| {
            w.skills = vec![skill("sewing", 3), skill("cooking", 0)]
        }),
        case("worker.skills[1].level", |w| {
            w.skills = vec![skill("sewing", 3), skill("cooking", 6)]
        }),
        case("worker.skills", |w| {
            w.skills = (0..33).map(|i| skill(&format!("s{i}"), 1)).collect()
        }),
        // certificates
        case("worker.certificates[0].code", |w| {
            w.certificates = vec![skill("Housekeeping", 2)]
        }),
        case("worker.certificates[1].code", |w| {
            w.certificates = vec![skill("housekeeping", 2), skill("housekeeping", 3)]
        }),
        case("worker.certificates[0].level", |w| {
            w.certificates = vec![skill("housekeeping", 0)]
        }),
        case("worker.certificates[1].level", |w| {
            w.certificates = vec![skill("housekeeping", 2), skill("sewing", 6)]
        }),
        case("worker.certificates", |w| {
            w.certificates = (0..33).map(|i| skill(&format!("c{i}"), 1)).collect()
        }),
        // preferences
        case("worker.preferences", |w| w.preferences = None),
        case("worker.preferences.mobility", |w| prefs(w).mobility = 0),
        case("worker.preferences.mobility", |w| prefs(w).mobility = 99),
        case("worker.preferences.max_commute_km", |w| {
            prefs(w).max_commute_km = 0
        }),
        case("worker.preferences.max_commute_km", |w| {
            prefs(w).max_commute_km = 1001
        }),
        case("worker.preferences.expected_monthly_wage", |w| {
            prefs(w).expected_monthly_wage = 100_001
        }),
        case("worker.preferences.expected_monthly_wage", |w| {
            prefs(w).expected_monthly_wage = u32::MAX
        }),
        case("worker.preferences.preferred_sources[1]", |w| {
            prefs(w).preferred_sources = vec![1, 1]
        }),
        case("worker.preferences.preferred_sources[2]", |w| {
            prefs(w).preferred_sources = vec![1, 2, 1]
        }),
        case("worker.preferences.preferred_sources[0]", |w| {
            prefs(w).preferred_sources = vec![0]
        }),
        case("worker.preferences.preferred_sources[1]", |w| {
            prefs(w).preferred_sources = vec![1, 99]
        }),
        case("worker.preferences.strict_sources", |w| {
            let p = prefs(w);
            p.strict_sources = true;
            p.preferred_sources.clear();
        }),
        // status, company, gender, education
        case("worker.employment_status", |w| w.employment_status = 0),
        case("worker.employment_status", |w| w.employment_status = 99),
        case("worker.service_company_id", |w| {
            w.service_company_id = "esc 431202".into()
        }),
        case("worker.service_company_id", |w| {
            w.service_company_id = "e".repeat(65)
        }),
        case("worker.gender", |w| w.gender = 99),
        case("worker.gender", |w| w.gender = -3),
        case("worker.education", |w| w.education = 99),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_validation_error_names_its_field_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let base = worker(7);

    for (i, (field, mutate)) in validation_cases().into_iter().enumerate() {
        let mut w = base.clone();
        mutate(&mut w);
        assert_ne!(w, base, "case {i} ({field}) does not change the worker");
        let context = format!("case {i} ({field})");

        let e = create(&mut c, w.clone()).await.expect_err(&context);
        assert_invalid(&e, field, &format!("{context}, create"));
        assert!(
            !e.message().contains(&base.national_id[..12]),
            "{context}: the message echoes the national id: {:?}",
            e.message()
        );
        let e = upsert(&mut c, w.clone()).await.expect_err(&context);
        assert_invalid(&e, field, &format!("{context}, upsert"));

        let e = get(&mut c, &base.id).await.expect_err(&context);
        assert_eq!(e.code(), Code::NotFound, "{context}: {e}");
        assert!(
            all_ids(&mut c).await.is_empty(),
            "{context}: something was stored"
        );
    }

    // A request without a worker at all.
    let e = c
        .create_worker(pb::CreateWorkerRequest { worker: None })
        .await
        .unwrap_err();
    assert_invalid(&e, "worker", "create without worker");
    let e = c
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: None,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&e, "worker", "upsert without worker");

    // Nothing of any refused worker reached the indexes either.
    let e = c
        .get_household(pb::GetHouseholdRequest {
            household_id: base.household_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(server.store.worker_count(), 0);
    server.store.verify().expect("indexes agree with records");

    // The unchanged worker is accepted: the cases failed for their change.
    create(&mut c, base.clone())
        .await
        .expect("base worker is valid");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upsert_leaves_the_stored_worker_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let stored = create(&mut c, worker(7)).await.unwrap();
    assert_eq!(stored.id, "431202/w-000007");

    let cases = validation_cases();
    let mut tried = 0;
    for (i, (field, mutate)) in cases.iter().enumerate() {
        let mut w = worker(7);
        mutate(&mut w);
        // The cases that keep the id as sent (the stored id is that id
        // qualified with the county).
        if w.id != worker(7).id {
            continue;
        }
        tried += 1;
        let e = upsert(&mut c, w).await.expect_err(field);
        assert_invalid(&e, field, &format!("case {i}"));
        assert_eq!(
            get(&mut c, &stored.id).await.unwrap(),
            stored,
            "case {i} ({field})"
        );
    }
    // All but the six cases of a bad worker.id.
    assert!(
        tried + 6 >= cases.len(),
        "only {tried} of {} cases upserted over the stored worker",
        cases.len()
    );
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Conflicts, missing records, delete
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_twice_is_already_exists_and_keeps_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let first = create(&mut c, worker(1)).await.unwrap();

    let mut again = worker(1);
    again.name = "李桂兰".into();
    let e = create(&mut c, again).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e}");
    assert!(e.message().contains("w-000001"), "{}", e.message());
    assert_eq!(get(&mut c, "w-000001").await.unwrap(), first);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_national_id_belongs_to_one_worker() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    create(&mut c, worker(1)).await.unwrap();
    let first_national_id = national_id(1);

    // Same person under another id, in another household and county.
    let mut twin = worker(2);
    twin.national_id = first_national_id.clone();
    twin.household_id = "hh-twin".into();
    twin.county_code = "431221".into();
    twin.site_id = "site-twin".into();
    for (how, result) in [
        ("create", create(&mut c, twin.clone()).await.map(|_| ())),
        ("upsert", upsert(&mut c, twin.clone()).await.map(|_| ())),
    ] {
        let e = result.expect_err(how);
        assert_eq!(e.code(), Code::AlreadyExists, "{how}: {e}");
        assert!(
            e.message().starts_with("worker.national_id"),
            "{how}: {}",
            e.message()
        );
        assert!(
            !e.message().contains(&first_national_id[..12]),
            "{how}: message echoes the national id: {}",
            e.message()
        );
        let details = e.get_details_bad_request().expect("BadRequest detail");
        assert_eq!(details.field_violations[0].field, "worker.national_id");
    }
    assert_eq!(
        get(&mut c, &twin.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(all_ids(&mut c).await, vec!["431202/w-000001".to_string()]);
    let e = c
        .get_household(pb::GetHouseholdRequest {
            household_id: "hh-twin".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::NotFound,
        "twin's household index entry was written"
    );
    for (field, value) in [("county_code", "431221"), ("site_id", "site-twin")] {
        let mut r = pb::ListWorkersRequest::default();
        match field {
            "county_code" => r.county_code = value.into(),
            _ => r.site_id = value.into(),
        }
        let (found, _) = list_all(&mut c, r).await;
        assert!(found.is_empty(), "twin found by {field}");
    }

    // The check digit X is case-insensitive: "...x" and "...X" are one person.
    let (x_index, x_id) = national_id_with_x();
    let mut upper = worker(x_index);
    upper.id = "w-upper".into();
    upper.national_id = x_id.clone();
    create(&mut c, upper).await.unwrap();
    let mut lower = worker(x_index);
    lower.id = "w-lower".into();
    lower.national_id = x_id.to_ascii_lowercase();
    let e = create(&mut c, lower).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e}");
    assert!(
        e.message().starts_with("worker.national_id"),
        "{}",
        e.message()
    );

    // An upsert may not take another worker's national id either, and the
    // refused upsert changes nothing.
    let second = create(&mut c, worker(2)).await.unwrap();
    let mut steal = worker(2);
    steal.national_id = first_national_id.clone();
    let e = upsert(&mut c, steal).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    assert_eq!(get(&mut c, "w-000002").await.unwrap(), second);

    // A worker may change its own national id; the old one is then free.
    let mut moved = worker(1);
    moved.national_id = national_id(901);
    let (_, created) = upsert(&mut c, moved).await.unwrap();
    assert!(!created);
    let mut newcomer = worker(3);
    newcomer.national_id = first_national_id;
    create(&mut c, newcomer)
        .await
        .expect("freed national id can be reused");
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_malformed_ids() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();

    let e = get(&mut c, "w-nobody").await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");
    let e = delete(&mut c, "w-nobody").await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");

    for bad in ["", "a b", "w/1", &"w".repeat(65)] {
        let e = get(&mut c, bad).await.unwrap_err();
        assert_invalid(&e, "id", &format!("get {bad:?}"));
        let e = delete(&mut c, bad).await.unwrap_err();
        assert_invalid(&e, "id", &format!("delete {bad:?}"));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_the_worker_and_its_index_entries() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let w = worker(1);
    create(&mut c, w.clone()).await.unwrap();
    create(&mut c, worker(5)).await.unwrap();

    delete(&mut c, &w.id).await.expect("delete");
    assert_eq!(get(&mut c, &w.id).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        delete(&mut c, &w.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(all_ids(&mut c).await, vec!["431202/w-000005".to_string()]);
    let (by_site, _) = list_all(
        &mut c,
        pb::ListWorkersRequest {
            site_id: w.site_id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert!(by_site.is_empty(), "deleted worker still listed by site");
    let e = c
        .get_household(pb::GetHouseholdRequest {
            household_id: w.household_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // The national id is free again, and the id can be created anew.
    let mut other = worker(9);
    other.national_id = w.national_id.clone();
    create(&mut c, other)
        .await
        .expect("national id freed by delete");
    let mut again = w.clone();
    again.national_id = national_id(902);
    create(&mut c, again).await.expect("id freed by delete");
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------

const COUNTIES: [&str; 2] = ["431202", "431221"];
const STATUSES: [i32; 3] = [1, 2, 3];

/// 250 workers across 2 counties, 3 statuses, 7 sites and 125 households,
/// written in a scrambled order; returns them by id.
async fn populate(c: &mut WorkersClient<Channel>) -> BTreeMap<String, pb::Worker> {
    let mut model = BTreeMap::new();
    for i in 0..250u32 {
        let n = (i * 37) % 250; // scrambled: ids are not written in order
        let mut w = worker(n);
        w.county_code = COUNTIES[(n % 2) as usize].into();
        w.employment_status = STATUSES[(n % 3) as usize];
        let stored = create(c, w.clone()).await.expect("create");
        // Keyed by the whole id the server lists in order.
        model.insert(stored.id.clone(), stored);
    }
    model
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_walk_every_worker_once_in_id_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let model = populate(&mut c).await;

    let mut request = pb::ListWorkersRequest {
        page_size: 100,
        ..Default::default()
    };
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    loop {
        let page = c.list_workers(request.clone()).await.unwrap().into_inner();
        sizes.push(page.workers.len());
        seen.extend(page.workers);
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(sizes, vec![100, 100, 50]);
    let expected: Vec<pb::Worker> = model.values().cloned().collect();
    assert_eq!(seen, expected, "pages differ from what was written");

    // 0 means 100; larger sizes are capped at 1000 (here: all in one page).
    let page = c
        .list_workers(pb::ListWorkersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.workers.len(), 100);
    assert!(!page.next_page_token.is_empty());
    let page = c
        .list_workers(pb::ListWorkersRequest {
            page_size: 5000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.workers.len(), 250);
    assert!(page.next_page_token.is_empty());

    // Exactly one full page leaves no token behind.
    let page = c
        .list_workers(pb::ListWorkersRequest {
            page_size: 250,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.workers.len(), 250);
    assert!(page.next_page_token.is_empty(), "token after the last page");

    // Page size 1 still walks everything.
    let (one_by_one, pages) = list_all(
        &mut c,
        pb::ListWorkersRequest {
            page_size: 1,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(one_by_one, expected);
    assert_eq!(pages, 250);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_equal_a_plain_filter_over_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let model = populate(&mut c).await;

    let counties = ["", COUNTIES[0], COUNTIES[1], "431271"];
    let sites = ["", "site-003", "site-none"];
    // Households by whole id: workers 2k and 2k+1 share number hh-k but
    // live in two counties, so each number names two households (a bare
    // one without a county would be ambiguous).
    let households = [
        "",
        "431202/hh-000010",
        "431221/hh-000010",
        "431221/hh-000011",
        "431202/hh-none",
    ];
    let statuses = [0, 1, 2, 3];
    let mut checked = 0;
    let mut non_empty = 0;
    for county in counties {
        for site in sites {
            for household in households {
                for status in statuses {
                    let request = pb::ListWorkersRequest {
                        page_size: 17,
                        page_token: String::new(),
                        county_code: county.into(),
                        site_id: site.into(),
                        household_id: household.into(),
                        employment_status: status,
                    };
                    let want: Vec<pb::Worker> = model
                        .values()
                        .filter(|w| county.is_empty() || w.county_code == county)
                        .filter(|w| site.is_empty() || w.site_id == site)
                        .filter(|w| household.is_empty() || w.household_id == household)
                        .filter(|w| status == 0 || w.employment_status == status)
                        .cloned()
                        .collect();
                    let (got, _) = list_all(&mut c, request.clone()).await;
                    assert_eq!(got, want, "filter {request:?}");
                    checked += 1;
                    non_empty += usize::from(!want.is_empty());
                }
            }
        }
    }
    assert_eq!(checked, 4 * 3 * 5 * 4);
    assert!(
        non_empty > 20,
        "too few filters match anything: {non_empty}"
    );

    // Malformed filters are refused and named.
    let bad: Vec<(&str, pb::ListWorkersRequest)> = vec![
        (
            "county_code",
            pb::ListWorkersRequest {
                county_code: "4312".into(),
                ..Default::default()
            },
        ),
        (
            "county_code",
            pb::ListWorkersRequest {
                county_code: "991202".into(),
                ..Default::default()
            },
        ),
        (
            "site_id",
            pb::ListWorkersRequest {
                site_id: "site 3".into(),
                ..Default::default()
            },
        ),
        (
            "household_id",
            pb::ListWorkersRequest {
                household_id: "hh#1".into(),
                ..Default::default()
            },
        ),
        (
            "employment_status",
            pb::ListWorkersRequest {
                employment_status: 99,
                ..Default::default()
            },
        ),
    ];
    for (field, request) in bad {
        let e = c.list_workers(request).await.unwrap_err();
        assert_invalid(&e, field, field);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_tokens_are_bound_to_their_filters() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    populate(&mut c).await;

    let first = pb::ListWorkersRequest {
        page_size: 10,
        county_code: COUNTIES[0].into(),
        ..Default::default()
    };
    let token = c
        .list_workers(first.clone())
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty());

    // The same filters continue.
    let next = pb::ListWorkersRequest {
        page_token: token.clone(),
        ..first.clone()
    };
    assert_eq!(
        c.list_workers(next)
            .await
            .unwrap()
            .into_inner()
            .workers
            .len(),
        10
    );

    let others = [
        pb::ListWorkersRequest {
            county_code: COUNTIES[1].into(),
            ..first.clone()
        },
        pb::ListWorkersRequest {
            county_code: String::new(),
            ..first.clone()
        },
        pb::ListWorkersRequest {
            employment_status: 1,
            ..first.clone()
        },
        pb::ListWorkersRequest {
            site_id: "site-001".into(),
            ..first.clone()
        },
        pb::ListWorkersRequest {
            household_id: "hh-000001".into(),
            ..first.clone()
        },
    ];
    for other in others {
        let request = pb::ListWorkersRequest {
            page_token: token.clone(),
            ..other
        };
        let e = c.list_workers(request.clone()).await.unwrap_err();
        assert_invalid(&e, "page_token", &format!("{request:?}"));
    }
    // A different page size is not a different filter.
    let resized = pb::ListWorkersRequest {
        page_token: token.clone(),
        page_size: 3,
        ..first.clone()
    };
    assert_eq!(
        c.list_workers(resized)
            .await
            .unwrap()
            .into_inner()
            .workers
            .len(),
        3
    );

    for garbage in [
        "!!!",
        "not-a-token",
        "AAAA",
        "////",
        "e30",
        &"A".repeat(4000),
    ] {
        let request = pb::ListWorkersRequest {
            page_token: garbage.into(),
            ..Default::default()
        };
        let e = c.list_workers(request).await.unwrap_err();
        assert_invalid(&e, "page_token", &format!("token {garbage:?}"));
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Households
// ---------------------------------------------------------------------------

fn member(n: u32, household: &str, status: pb::EmploymentStatus) -> pb::Worker {
    let mut w = worker(n);
    w.household_id = household.into();
    w.employment_status = status as i32;
    w
}

async fn household(
    c: &mut WorkersClient<Channel>,
    id: &str,
) -> Result<pb::GetHouseholdResponse, Status> {
    c.get_household(pb::GetHouseholdRequest {
        household_id: id.into(),
    })
    .await
    .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_employment_households() {
    use pb::EmploymentStatus::{Employed, Seeking, Unavailable};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();

    create(&mut c, member(3, "hh-a", Seeking)).await.unwrap();
    create(&mut c, member(1, "hh-a", Seeking)).await.unwrap();
    create(&mut c, member(2, "hh-a", Unavailable))
        .await
        .unwrap();
    create(&mut c, member(4, "hh-b", Seeking)).await.unwrap();

    let h = household(&mut c, "hh-a").await.unwrap();
    assert_eq!(h.household_id, "431202/hh-a");
    assert_eq!(
        h.worker_ids,
        vec!["431202/w-000001", "431202/w-000002", "431202/w-000003"]
    );
    // The whole id names the same household.
    assert_eq!(household(&mut c, "431202/hh-a").await.unwrap(), h);
    assert_eq!((h.employed, h.seeking), (0, 2));
    assert!(h.zero_employment, "members seek and none works");

    // One member finds work.
    upsert(&mut c, member(3, "hh-a", Employed)).await.unwrap();
    let h = household(&mut c, "hh-a").await.unwrap();
    assert_eq!((h.employed, h.seeking), (1, 1));
    assert!(!h.zero_employment, "a member works");

    // ... and loses it again.
    upsert(&mut c, member(3, "hh-a", Seeking)).await.unwrap();
    assert!(household(&mut c, "hh-a").await.unwrap().zero_employment);

    // A household where nobody seeks work is not zero-employment.
    create(&mut c, member(5, "hh-c", Unavailable))
        .await
        .unwrap();
    let h = household(&mut c, "hh-c").await.unwrap();
    assert_eq!((h.employed, h.seeking), (0, 0));
    assert!(!h.zero_employment);

    // Moving a member to another household needs allow_move ...
    let e = upsert(&mut c, member(4, "hh-a", Employed))
        .await
        .unwrap_err();
    assert_invalid(&e, "worker.household_id", "move without allow_move");
    assert_eq!(
        household(&mut c, "hh-b").await.unwrap().worker_ids,
        vec!["431202/w-000004"]
    );
    // ... and moves it in both.
    upsert_moving(&mut c, member(4, "hh-a", Employed))
        .await
        .unwrap();
    assert_eq!(
        household(&mut c, "hh-b").await.unwrap_err().code(),
        Code::NotFound
    );
    let h = household(&mut c, "hh-a").await.unwrap();
    assert_eq!(
        h.worker_ids,
        vec![
            "431202/w-000001",
            "431202/w-000002",
            "431202/w-000003",
            "431202/w-000004"
        ]
    );
    assert!(!h.zero_employment);

    // Deleting every member removes the household.
    for id in ["w-000001", "w-000002", "w-000003", "w-000004"] {
        delete(&mut c, id).await.unwrap();
    }
    assert_eq!(
        household(&mut c, "hh-a").await.unwrap_err().code(),
        Code::NotFound
    );

    assert_eq!(
        household(&mut c, "hh-unknown").await.unwrap_err().code(),
        Code::NotFound
    );
    for bad in ["", "hh a", &"h".repeat(65)] {
        let e = household(&mut c, bad).await.unwrap_err();
        assert_invalid(&e, "household_id", bad);
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------

/// An expected import error: row, id as sent, field.
type ExpectedError = (u64, String, &'static str);

/// The rows of the mixed import and the errors expected for them, by row.
fn mixed_rows() -> (Vec<Option<pb::Worker>>, Vec<ExpectedError>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    rows.push(Some(worker(1))); // 1 good
    let mut w = worker(2);
    w.name.clear();
    rows.push(Some(w)); // 2 bad name
    errors.push((2, "w-000002".to_string(), "worker.name"));
    rows.push(None); // 3 no worker
    errors.push((3, String::new(), "worker"));
    rows.push(Some(worker(4))); // 4 good
    let mut w = worker(5);
    w.national_id = national_id(1);
    rows.push(Some(w)); // 5 national id of row 1
    errors.push((5, "w-000005".to_string(), "worker.national_id"));
    let mut w = worker(6);
    w.id = "bad id".into();
    rows.push(Some(w)); // 6 bad id
    errors.push((6, "bad id".to_string(), "worker.id"));
    rows.push(Some(worker(7))); // 7 good
    let mut w = worker(1);
    w.name = "王秀英 (row 8)".into();
    rows.push(Some(w)); // 8 good: upsert of row 1
    let mut w = worker(9);
    w.skills = vec![skill("sewing", 3), skill("cooking", 0)];
    rows.push(Some(w)); // 9 bad skill level
    errors.push((9, "w-000009".to_string(), "worker.skills[1].level"));
    let mut w = worker(10);
    w.national_id = national_id(4);
    w.id = "w-000010".into();
    rows.push(Some(w)); // 10 national id of row 4
    errors.push((10, "w-000010".to_string(), "worker.national_id"));
    rows.push(Some(worker(11))); // 11 good
    (rows, errors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_each_bad_row_and_stores_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let (rows, expected) = mixed_rows();

    let reply = import(&mut c, rows).await.expect("import");
    assert_eq!(reply.accepted, 5, "{reply:?}");
    assert_eq!(reply.rejected, 6, "{reply:?}");
    assert_eq!(reply.errors_omitted, 0);
    assert_eq!(reply.errors.len(), expected.len(), "{reply:?}");
    let mut errors = reply.errors.clone();
    errors.sort_by_key(|e| e.row);
    for (e, (row, id, field)) in errors.iter().zip(&expected) {
        assert_eq!(
            (e.row, e.id.as_str(), e.field.as_str()),
            (*row, id.as_str(), *field),
            "{e:?}"
        );
        assert!(!e.reason.is_empty(), "{e:?}");
        assert!(
            !e.reason.contains(&national_id(1)[..12]),
            "reason echoes a national id: {e:?}"
        );
    }

    // Good rows are stored (row 8 replaced row 1), bad ones are not.
    let w1 = get(&mut c, "w-000001").await.unwrap();
    assert_eq!(w1.name, "王秀英 (row 8)");
    assert_eq!(
        strip(get(&mut c, "w-000004").await.unwrap()),
        returned(&worker(4))
    );
    assert_eq!(
        strip(get(&mut c, "w-000007").await.unwrap()),
        returned(&worker(7))
    );
    assert_eq!(
        strip(get(&mut c, "w-000011").await.unwrap()),
        returned(&worker(11))
    );
    for id in ["w-000002", "w-000005", "w-000009", "w-000010"] {
        assert_eq!(
            get(&mut c, id).await.unwrap_err().code(),
            Code::NotFound,
            "{id}"
        );
    }
    assert_eq!(
        all_ids(&mut c).await,
        vec![
            "431202/w-000001",
            "431202/w-000004",
            "431202/w-000007",
            "431202/w-000011"
        ]
    );
    server.store.verify().expect("indexes agree with records");

    // An empty import does nothing.
    let reply = import(&mut c, Vec::new()).await.unwrap();
    assert_eq!(
        (reply.accepted, reply.rejected, reply.errors.len()),
        (0, 0, 0)
    );
    server.stop().await;
}

/// The proto says `errors` come "one entry per rejected row, in row order".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_errors_come_in_row_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let (rows, expected) = mixed_rows();

    let reply = import(&mut c, rows).await.expect("import");
    let got: Vec<u64> = reply.errors.iter().map(|e| e.row).collect();
    let want: Vec<u64> = expected.iter().map(|e| e.0).collect();
    assert_eq!(got, want, "errors are not in row order: {:?}", reply.errors);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_across_many_batches() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();

    // 2,600 rows: every 97th has a blank name, row 1,500 repeats the national
    // id of row 10 (a row in an earlier batch), and the last rows update
    // earlier ones.
    let mut rows = Vec::new();
    let mut bad_rows = Vec::new();
    for r in 1..=2500u32 {
        let mut w = worker(r);
        if r % 97 == 0 {
            w.name = " ".into();
            bad_rows.push((u64::from(r), "worker.name"));
        }
        if r == 1500 {
            w.national_id = national_id(10);
            bad_rows.push((1500, "worker.national_id"));
        }
        rows.push(Some(w));
    }
    for r in 1..=100u32 {
        let mut w = worker(r);
        w.employment_status = pb::EmploymentStatus::Employed as i32;
        rows.push(Some(w));
    }
    let reply = import(&mut c, rows).await.expect("import");
    bad_rows.sort();
    let mut got: Vec<(u64, &str)> = reply
        .errors
        .iter()
        .map(|e| (e.row, e.field.as_str()))
        .collect();
    got.sort();
    assert_eq!(got, bad_rows);
    assert_eq!(reply.rejected, bad_rows.len() as u64);
    assert_eq!(reply.accepted, 2600 - bad_rows.len() as u64);

    let (all, _) = list_all(
        &mut c,
        pb::ListWorkersRequest {
            page_size: 1000,
            ..Default::default()
        },
    )
    .await;
    let stored_ids = 2500 - bad_rows.len() + 1; // row 97 is bad at first, good in the update
    assert_eq!(all.len(), stored_ids);
    assert_eq!(
        get(&mut c, "w-001500").await.unwrap_err().code(),
        Code::NotFound
    );
    let w = get(&mut c, "w-000050").await.unwrap();
    assert_eq!(w.employment_status, pb::EmploymentStatus::Employed as i32);
    let w = get(&mut c, "w-000101").await.unwrap();
    assert_eq!(w.employment_status, pb::EmploymentStatus::Seeking as i32);
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_rows_see_earlier_rows_of_the_same_batch() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();

    let mut moved = worker(1);
    moved.national_id = national_id(901);
    let mut takes_freed = worker(2);
    takes_freed.national_id = national_id(1);
    let mut takes_moved = worker(3);
    takes_moved.national_id = national_id(901);
    let rows = vec![
        Some(worker(1)),   // 1: w-1 with national id 1
        Some(moved),       // 2: w-1 moves to national id 901, freeing 1
        Some(takes_freed), // 3: w-2 takes national id 1
        Some(takes_moved), // 4: w-3 wants 901, which w-1 holds
    ];
    let reply = import(&mut c, rows).await.expect("import");
    assert_eq!((reply.accepted, reply.rejected), (3, 1), "{reply:?}");
    assert_eq!(reply.errors.len(), 1);
    assert_eq!(
        (
            reply.errors[0].row,
            reply.errors[0].id.as_str(),
            reply.errors[0].field.as_str()
        ),
        (4, "w-000003", "worker.national_id")
    );
    // National ids are never returned: read the stored hashes.
    let stored = |id: &str| server.store.worker(id).unwrap().unwrap().national_id;
    assert_eq!(
        stored("431202/w-000001"),
        server.id_key.hash(&national_id(901))
    );
    assert_eq!(
        stored("431202/w-000002"),
        server.id_key.hash(&national_id(1))
    );
    assert_eq!(
        get(&mut c, "w-000003").await.unwrap_err().code(),
        Code::NotFound
    );
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_lists_at_most_ten_thousand_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let mut rows: Vec<Option<pb::Worker>> = vec![None; 10_005];
    rows.push(Some(worker(1)));
    let reply = import(&mut c, rows).await.expect("import");
    assert_eq!(reply.accepted, 1);
    assert_eq!(reply.rejected, 10_005);
    assert_eq!(reply.errors.len(), 10_000);
    assert_eq!(reply.errors_omitted, 5);
    assert_eq!(reply.errors[0].row, 1);
    assert_eq!(reply.errors[9_999].row, 10_000);
    get(&mut c, "w-000001").await.expect("good row stored");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Oversize requests
// ---------------------------------------------------------------------------

/// A worker whose encoding is far above 64 KiB.
fn huge_worker(n: u32) -> pb::Worker {
    let mut w = worker(n);
    w.skills = (0..100)
        .map(|i| pb::Skill {
            code: format!("{i:a>1000}"),
            level: 3,
        })
        .collect();
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_requests_are_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 64 * 1024;
    let server = TestServer::start_with(
        dir.path(),
        Config {
            max_message_bytes: limit,
            ..Config::in_process()
        },
    )
    .await;
    let mut c = server.workers();

    let huge = huge_worker(1);
    let request = pb::UpsertWorkerRequest {
        worker: Some(huge.clone()),
        ..Default::default()
    };
    assert!(request.encoded_len() > limit, "{}", request.encoded_len());
    let e = c.upsert_worker(request).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e}");
    let e = create(&mut c, huge.clone()).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e}");

    // Below the limit the same kind of worker is decoded and then refused
    // for what it says.
    let mut big = worker(1);
    big.skills = (0..40)
        .map(|i| pb::Skill {
            code: format!("{i:a>1000}"),
            level: 3,
        })
        .collect();
    assert!(
        pb::UpsertWorkerRequest {
            worker: Some(big.clone()),
            ..Default::default()
        }
        .encoded_len()
            < limit
    );
    let e = create(&mut c, big).await.unwrap_err();
    assert_invalid(&e, "worker.skills", "big but below the limit");

    // Inside an import.
    let e = import(
        &mut c,
        vec![Some(worker(2)), Some(huge_worker(3)), Some(worker(4))],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e}");
    assert_eq!(
        get(&mut c, "w-000003").await.unwrap_err().code(),
        Code::NotFound
    );

    // The server still answers, on the same channel and on a new one.
    create(&mut c, worker(5))
        .await
        .expect("create after oversize");
    assert_eq!(
        strip(get(&mut c, "w-000005").await.unwrap()),
        returned(&worker(5))
    );
    let reply = import(&mut c, vec![Some(worker(6))])
        .await
        .expect("import after oversize");
    assert_eq!(reply.accepted, 1);
    let mut fresh = crate::common::Clients::new(
        crate::common::Channel::connect(&server.addr.to_string(), Some(&server.admin_token))
            .await
            .unwrap(),
    )
    .workers();
    get(&mut fresh, "w-000006").await.expect("new connection");
    assert_eq!(
        get(&mut c, "w-000001").await.unwrap_err().code(),
        Code::NotFound
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Restart
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut w = server.workers();
    let mut o = server.openings();

    let mut workers = BTreeMap::new();
    for n in 0..30 {
        let stored = create(
            &mut w,
            if n % 3 == 0 {
                rich_worker(n)
            } else {
                worker(n)
            },
        )
        .await
        .unwrap();
        workers.insert(stored.id.clone(), stored);
    }
    let reply = import(&mut w, (30..60).map(|n| Some(worker(n))).collect())
        .await
        .unwrap();
    assert_eq!(reply.accepted, 30);
    delete(&mut w, "w-000005").await.unwrap();
    assert!(workers.remove("431202/w-000005").is_some());
    // Worker 7 (county 431202) shares household number hh-000003 with
    // worker 6 (rich, county 431271): two households, named whole below.
    let (employed, _) = upsert(
        &mut w,
        member(7, "hh-000003", pb::EmploymentStatus::Employed),
    )
    .await
    .unwrap();
    workers.insert(employed.id.clone(), employed);

    let mut openings = BTreeMap::new();
    for n in 0..20 {
        let reply = o
            .create_opening(pb::CreateOpeningRequest {
                opening: Some(opening(n)),
            })
            .await
            .unwrap()
            .into_inner();
        let stored = reply.opening.unwrap();
        openings.insert(stored.id.clone(), stored);
    }
    let closed = o
        .close_opening(pb::CloseOpeningRequest {
            id: "o-000003".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .opening
        .unwrap();
    openings.insert(closed.id.clone(), closed);

    let (listed_before, _) = list_all(&mut w, pb::ListWorkersRequest::default()).await;
    let household_before = household(&mut w, "431202/hh-000003").await.unwrap();
    assert_eq!(household_before.worker_ids, vec!["431202/w-000007"]);
    assert_eq!(household_before.employed, 1);
    server.stop().await;

    let server = TestServer::start(dir.path()).await;
    let mut w = server.workers();
    let mut o = server.openings();
    let (listed_after, _) = list_all(&mut w, pb::ListWorkersRequest::default()).await;
    assert_eq!(listed_after, listed_before);
    assert_eq!(listed_after.len(), 59);
    for (id, want) in &workers {
        assert_eq!(&get(&mut w, id).await.unwrap(), want, "{id}");
    }
    assert_eq!(
        get(&mut w, "w-000005").await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        household(&mut w, "431202/hh-000003").await.unwrap(),
        household_before
    );
    for (id, want) in &openings {
        let got = o
            .get_opening(pb::GetOpeningRequest { id: id.clone() })
            .await
            .unwrap()
            .into_inner()
            .opening
            .unwrap();
        assert_eq!(&got, want, "{id}");
    }
    let closed = o
        .list_openings(pb::ListOpeningsRequest {
            status: pb::OpeningStatus::Closed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.openings.len(), 1);

    // Uniqueness survives too.
    let mut twin = worker(100);
    twin.national_id = national_id(1);
    assert_eq!(
        create(&mut w, twin).await.unwrap_err().code(),
        Code::AlreadyExists
    );
    assert_eq!(
        create(&mut w, worker(1)).await.unwrap_err().code(),
        Code::AlreadyExists
    );
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}
