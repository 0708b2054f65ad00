//! The `jobbridge.v1.Openings` service through the generated client, against
//! the real server on 127.0.0.1:0 with a temporary data directory.

use std::collections::BTreeMap;

use crate::common::Channel;
use crate::common::{assert_invalid, now_ms, opening, ts_ms, TestServer};
use jobbridge::api::pb;
use jobbridge::api::pb::openings_client::OpeningsClient;
use jobbridge::config::Config;
use prost::Message as _;
use tonic::{Code, Status};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The opening without its server-set timestamps.
fn strip(mut o: pb::Opening) -> pb::Opening {
    o.created_at = None;
    o.updated_at = None;
    o
}

async fn create(c: &mut OpeningsClient<Channel>, o: pb::Opening) -> Result<pb::Opening, Status> {
    c.create_opening(pb::CreateOpeningRequest { opening: Some(o) })
        .await
        .map(|r| r.into_inner().opening.expect("opening in reply"))
}

async fn upsert(
    c: &mut OpeningsClient<Channel>,
    o: pb::Opening,
) -> Result<(pb::Opening, bool), Status> {
    c.upsert_opening(pb::UpsertOpeningRequest { opening: Some(o) })
        .await
        .map(|r| {
            let r = r.into_inner();
            (r.opening.expect("opening in reply"), r.created)
        })
}

async fn get(c: &mut OpeningsClient<Channel>, id: &str) -> Result<pb::Opening, Status> {
    c.get_opening(pb::GetOpeningRequest { id: id.into() })
        .await
        .map(|r| r.into_inner().opening.expect("opening in reply"))
}

async fn close(c: &mut OpeningsClient<Channel>, id: &str) -> Result<pb::Opening, Status> {
    c.close_opening(pb::CloseOpeningRequest { id: id.into() })
        .await
        .map(|r| r.into_inner().opening.expect("opening in reply"))
}

async fn import(
    c: &mut OpeningsClient<Channel>,
    rows: Vec<Option<pb::Opening>>,
) -> Result<pb::ImportOpeningsResponse, Status> {
    let rows: Vec<pb::ImportOpeningsRequest> = rows
        .into_iter()
        .map(|opening| pb::ImportOpeningsRequest {
            opening,
            ..Default::default()
        })
        .collect();
    c.import_openings(tokio_stream::iter(rows))
        .await
        .map(|r| r.into_inner())
}

/// Walks every page of a listing; returns the openings and the page count.
async fn list_all(
    c: &mut OpeningsClient<Channel>,
    mut request: pb::ListOpeningsRequest,
) -> (Vec<pb::Opening>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let page = c
            .list_openings(request.clone())
            .await
            .unwrap_or_else(|e| panic!("list {request:?}: {e}"))
            .into_inner();
        pages += 1;
        out.extend(page.openings);
        if page.next_page_token.is_empty() {
            return (out, pages);
        }
        assert!(pages < 10_000, "listing does not end");
        request.page_token = page.next_page_token;
    }
}

async fn all_ids(c: &mut OpeningsClient<Channel>) -> Vec<String> {
    let (openings, _) = list_all(c, pb::ListOpeningsRequest::default()).await;
    openings.into_iter().map(|o| o.id).collect()
}

fn req(code: &str, min_level: u32) -> pb::SkillRequirement {
    pb::SkillRequirement {
        code: code.into(),
        min_level,
    }
}

/// An opening that sets every field to a non-default value.
fn rich_opening(n: u32) -> pb::Opening {
    let mut o = opening(n);
    o.source = pb::Source::LabourCooperation as i32;
    o.employer_id = "dg-electronics:01".into();
    o.employer_name = "东莞电子厂 Dongguan Electronics".into();
    o.title = "Assembly line operator 流水线操作工".into();
    o.occupation_code = "6-25-04".into();
    o.region_code = "441900".into();
    o.location = Some(pb::GeoPoint {
        lat: 23.020_673_1,
        lon: 113.751_799_2,
    });
    o.required_skills = vec![req("electronics-assembly", 1), req("soldering", 2)];
    o.preferred_skills = vec![
        req("forklift", 3),
        req("quality_check", 5),
        req("sewing", 4),
    ];
    o.min_age = 18;
    o.max_age = 45;
    o.physical_demand = pb::PhysicalDemand::Heavy as i32;
    o.monthly_wage = 100_000;
    o.headcount = 100_000;
    o.flexible_hours = false;
    o.housing_provided = true;
    o.transport_provided = true;
    o.reserved_for_relocated = false;
    o.start_date = "2024-02-29".into();
    o.end_date = "2100-12-31".into();
    o.status = pb::OpeningStatus::Closed as i32;
    o
}

// ---------------------------------------------------------------------------
// Round trip
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();

    for sent in [opening(1), rich_opening(2)] {
        let before = now_ms();
        let created = create(&mut c, sent.clone()).await.expect("create");
        let after = now_ms();
        assert_eq!(strip(created.clone()), sent, "create reply differs");
        let created_at = ts_ms(&created.created_at);
        assert!(
            (before - 5..=after + 5).contains(&created_at),
            "created_at {created_at} not within {before}..{after}"
        );
        assert_eq!(created.created_at, created.updated_at);
        assert_eq!(get(&mut c, &sent.id).await.unwrap(), created);
    }

    // Every source and physical demand.
    for source in 1..=6 {
        for demand in 1..=3 {
            let mut o = opening(100 + source as u32 * 10 + demand as u32);
            o.source = source;
            o.physical_demand = demand;
            let created = create(&mut c, o.clone()).await.expect("create");
            assert_eq!(strip(created), o);
            assert_eq!(strip(get(&mut c, &o.id).await.unwrap()), o);
        }
    }

    // Upsert of an existing id: created=false, created_at kept.
    let first = get(&mut c, "o-000001").await.unwrap();
    let mut changed = rich_opening(1);
    changed.id = "o-000001".into();
    // Timestamps have millisecond resolution; make sure the clock moves.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (upserted, was_created) = upsert(&mut c, changed.clone()).await.unwrap();
    assert!(!was_created);
    assert_eq!(strip(upserted.clone()), changed);
    assert_eq!(upserted.created_at, first.created_at, "created_at changed");
    assert!(ts_ms(&upserted.updated_at) > ts_ms(&first.updated_at));
    assert_eq!(get(&mut c, "o-000001").await.unwrap(), upserted);

    let (fresh, was_created) = upsert(&mut c, opening(3)).await.unwrap();
    assert!(was_created);
    assert_eq!(fresh.created_at, fresh.updated_at);

    // Timestamps the client sends are ignored.
    let mut o = opening(4);
    o.created_at = Some(prost_types::Timestamp {
        seconds: 1,
        nanos: 0,
    });
    o.updated_at = o.created_at;
    let stored = create(&mut c, o).await.unwrap();
    assert!(ts_ms(&stored.created_at) > 1_000_000_000_000);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_and_boundary_values() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();

    // Both ages 0: stored as 16 to 60.
    let mut o = opening(1);
    o.min_age = 0;
    o.max_age = 0;
    let stored = create(&mut c, o).await.unwrap();
    assert_eq!((stored.min_age, stored.max_age), (16, 60));
    let read = get(&mut c, "o-000001").await.unwrap();
    assert_eq!((read.min_age, read.max_age), (16, 60));

    // Status UNSPECIFIED: stored as OPEN.
    let mut o = opening(2);
    o.status = pb::OpeningStatus::Unspecified as i32;
    let stored = create(&mut c, o).await.unwrap();
    assert_eq!(stored.status, pb::OpeningStatus::Open as i32);
    assert_eq!(
        get(&mut c, "o-000002").await.unwrap().status,
        pb::OpeningStatus::Open as i32
    );
    let (open, _) = list_all(
        &mut c,
        pb::ListOpeningsRequest {
            status: pb::OpeningStatus::Open as i32,
            ..Default::default()
        },
    )
    .await;
    assert!(open.iter().any(|o| o.id == "o-000002"));

    type Edit = fn(&mut pb::Opening);
    let cases: Vec<(&str, Edit)> = vec![
        ("no occupation code", |o| o.occupation_code.clear()),
        ("occupation code of 16", |o| {
            o.occupation_code = "1234567890-12345".into()
        }),
        ("open-ended", |o| o.end_date.clear()),
        ("one-day job", |o| o.end_date = o.start_date.clone()),
        ("city-level region", |o| o.region_code = "440300".into()),
        ("province-level region", |o| o.region_code = "430000".into()),
        ("statistics-only district", |o| {
            o.region_code = "431271".into()
        }),
        ("ages 16 to 75", |o| {
            o.min_age = 16;
            o.max_age = 75
        }),
        ("one age", |o| {
            o.min_age = 40;
            o.max_age = 40
        }),
        ("wage 1", |o| o.monthly_wage = 1),
        ("wage 100000", |o| o.monthly_wage = 100_000),
        ("headcount 1", |o| o.headcount = 1),
        ("headcount 100000", |o| o.headcount = 100_000),
        ("no skills", |o| {
            o.required_skills.clear();
            o.preferred_skills.clear()
        }),
        ("16 required and 16 preferred", |o| {
            o.required_skills = (0..16).map(|i| req(&format!("r{i}"), 1 + i % 5)).collect();
            o.preferred_skills = (0..16).map(|i| req(&format!("p{i}"), 5)).collect();
        }),
        ("a skill both required and preferred", |o| {
            o.preferred_skills = o.required_skills.clone()
        }),
        ("names of 128 characters", |o| {
            o.employer_name = "厂".repeat(128);
            o.title = "t".repeat(128)
        }),
        ("id of 64", |o| o.id = "o".repeat(64)),
        ("employer id of 64", |o| o.employer_id = "e".repeat(64)),
        ("created closed", |o| {
            o.status = pb::OpeningStatus::Closed as i32
        }),
        ("start in 2000, end in 2100", |o| {
            o.start_date = "2000-01-01".into();
            o.end_date = "2100-12-31".into()
        }),
    ];
    for (i, (label, edit)) in cases.iter().enumerate() {
        let mut o = opening(100 + i as u32);
        edit(&mut o);
        let created = create(&mut c, o.clone())
            .await
            .unwrap_or_else(|e| panic!("{label}: refused: {e}"));
        assert_eq!(strip(created), o, "{label}");
        assert_eq!(strip(get(&mut c, &o.id).await.unwrap()), o, "{label}");
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

type Mutate = Box<dyn Fn(&mut pb::Opening)>;

fn case(field: &'static str, f: impl Fn(&mut pb::Opening) + 'static) -> (&'static str, Mutate) {
    (field, Box::new(f))
}

fn point(lat: f64, lon: f64) -> Option<pb::GeoPoint> {
    Some(pb::GeoPoint { lat, lon })
}

fn validation_cases() -> Vec<(&'static str, Mutate)> {
    vec![
        case("opening.id", |o| o.id.clear()),
        case("opening.id", |o| o.id = "o".repeat(65)),
        case("opening.id", |o| o.id = "o 1".into()),
        case("opening.source", |o| o.source = 0),
        case("opening.source", |o| o.source = 99),
        case("opening.source", |o| o.source = -1),
        case("opening.employer_id", |o| o.employer_id.clear()),
        case("opening.employer_id", |o| {
            o.employer_id = "workshop 1".into()
        }),
        case("opening.employer_id", |o| o.employer_id = "e".repeat(65)),
        case("opening.employer_name", |o| o.employer_name.clear()),
        case("opening.employer_name", |o| o.employer_name = "  ".into()),
        case("opening.employer_name", |o| {
            o.employer_name = "厂".repeat(129)
        }),
        case("opening.employer_name", |o| {
            o.employer_name = "a\u{1b}b".into()
        }),
        case("opening.title", |o| o.title.clear()),
        case("opening.title", |o| o.title = "t".repeat(129)),
        case("opening.title", |o| o.title = "Sewing\nmachinist".into()),
        case("opening.occupation_code", |o| {
            o.occupation_code = "abc".into()
        }),
        case("opening.occupation_code", |o| {
            o.occupation_code = "6.05.01".into()
        }),
        case("opening.occupation_code", |o| {
            o.occupation_code = "1".repeat(17)
        }),
        case("opening.region_code", |o| o.region_code.clear()),
        case("opening.region_code", |o| o.region_code = "4312".into()),
        case("opening.region_code", |o| o.region_code = "4312020".into()),
        case("opening.region_code", |o| o.region_code = "43120x".into()),
        case("opening.region_code", |o| o.region_code = "991202".into()),
        case("opening.location", |o| o.location = None),
        case("opening.location.lat", |o| o.location = point(0.0, 0.0)),
        case("opening.location.lat", |o| {
            o.location = point(f64::NAN, 110.0)
        }),
        case("opening.location.lat", |o| o.location = point(60.0, 110.0)),
        case("opening.location.lon", |o| o.location = point(27.5, 200.0)),
        case("opening.location.lon", |o| {
            o.location = point(27.5, f64::NAN)
        }),
        case("opening.required_skills[0].code", |o| {
            o.required_skills = vec![req("Sewing", 2)]
        }),
        case("opening.required_skills[0].code", |o| {
            o.required_skills = vec![req("", 2)]
        }),
        case("opening.required_skills[1].code", |o| {
            o.required_skills = vec![req("sewing", 2), req("sewing", 3)]
        }),
        case("opening.required_skills[0].min_level", |o| {
            o.required_skills = vec![req("sewing", 0)]
        }),
        case("opening.required_skills[1].min_level", |o| {
            o.required_skills = vec![req("sewing", 2), req("ironing", 6)]
        }),
        case("opening.required_skills", |o| {
            o.required_skills = (0..17).map(|i| req(&format!("r{i}"), 1)).collect()
        }),
        case("opening.preferred_skills[0].code", |o| {
            o.preferred_skills = vec![req("hand craft", 1)]
        }),
        case("opening.preferred_skills[1].code", |o| {
            o.preferred_skills = vec![req("handicraft", 1), req("handicraft", 1)]
        }),
        case("opening.preferred_skills[0].min_level", |o| {
            o.preferred_skills = vec![req("handicraft", 0)]
        }),
        case("opening.preferred_skills[1].min_level", |o| {
            o.preferred_skills = vec![req("handicraft", 1), req("sewing", 6)]
        }),
        case("opening.preferred_skills", |o| {
            o.preferred_skills = (0..17).map(|i| req(&format!("p{i}"), 1)).collect()
        }),
        case("opening.min_age", |o| o.min_age = 15),
        case("opening.min_age", |o| {
            o.min_age = 0;
            o.max_age = 50
        }),
        case("opening.min_age", |o| {
            o.min_age = 76;
            o.max_age = 76
        }),
        case("opening.max_age", |o| {
            o.min_age = 30;
            o.max_age = 20
        }),
        case("opening.max_age", |o| o.max_age = 76),
        case("opening.max_age", |o| o.max_age = 0),
        case("opening.physical_demand", |o| o.physical_demand = 0),
        case("opening.physical_demand", |o| o.physical_demand = 99),
        case("opening.monthly_wage", |o| o.monthly_wage = 0),
        case("opening.monthly_wage", |o| o.monthly_wage = 100_001),
        case("opening.headcount", |o| o.headcount = 0),
        case("opening.headcount", |o| o.headcount = 100_001),
        case("opening.start_date", |o| o.start_date = "2026-13-01".into()),
        case("opening.start_date", |o| o.start_date.clear()),
        case("opening.start_date", |o| o.start_date = "2026-02-30".into()),
        case("opening.start_date", |o| o.start_date = "2026-2-01".into()),
        case("opening.start_date", |o| o.start_date = "2026/12/01".into()),
        case("opening.start_date", |o| {
            o.start_date = "2026-12-01T08:00".into()
        }),
        case("opening.start_date", |o| o.start_date = "1999-12-31".into()),
        case("opening.start_date", |o| o.start_date = "2101-01-01".into()),
        case("opening.end_date", |o| o.end_date = "2026-11-30".into()),
        case("opening.end_date", |o| o.end_date = "2027-13-01".into()),
        case("opening.end_date", |o| o.end_date = "soon".into()),
        case("opening.status", |o| o.status = 99),
        case("opening.status", |o| o.status = -1),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_validation_error_names_its_field_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();
    let base = opening(7);
    assert_eq!(
        base.start_date, "2026-12-01",
        "cases assume this start date"
    );

    for (i, (field, mutate)) in validation_cases().into_iter().enumerate() {
        let mut o = base.clone();
        mutate(&mut o);
        assert_ne!(o, base, "case {i} ({field}) does not change the opening");
        let context = format!("case {i} ({field})");

        let e = create(&mut c, o.clone()).await.expect_err(&context);
        assert_invalid(&e, field, &format!("{context}, create"));
        let e = upsert(&mut c, o.clone()).await.expect_err(&context);
        assert_invalid(&e, field, &format!("{context}, upsert"));

        let e = get(&mut c, &base.id).await.expect_err(&context);
        assert_eq!(e.code(), Code::NotFound, "{context}: {e}");
        assert!(
            all_ids(&mut c).await.is_empty(),
            "{context}: something was stored"
        );
    }

    let e = c
        .create_opening(pb::CreateOpeningRequest { opening: None })
        .await
        .unwrap_err();
    assert_invalid(&e, "opening", "create without opening");
    let e = c
        .upsert_opening(pb::UpsertOpeningRequest { opening: None })
        .await
        .unwrap_err();
    assert_invalid(&e, "opening", "upsert without opening");

    assert_eq!(server.store.opening_count(), 0);
    server.store.verify().expect("indexes agree with records");
    create(&mut c, base).await.expect("base opening is valid");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upsert_leaves_the_stored_opening_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();
    let stored = create(&mut c, opening(7)).await.unwrap();
    for (i, (field, mutate)) in validation_cases().into_iter().enumerate() {
        let mut o = opening(7);
        mutate(&mut o);
        if o.id != stored.id {
            continue;
        }
        let e = upsert(&mut c, o).await.expect_err(field);
        assert_invalid(&e, field, &format!("case {i}"));
        assert_eq!(
            get(&mut c, &stored.id).await.unwrap(),
            stored,
            "case {i} ({field})"
        );
    }
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Conflicts, missing records, close
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_and_missing_ids() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();
    let first = create(&mut c, opening(1)).await.unwrap();

    let mut again = opening(1);
    again.title = "Ironing".into();
    let e = create(&mut c, again).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e}");
    assert!(e.message().contains("o-000001"), "{}", e.message());
    assert_eq!(get(&mut c, "o-000001").await.unwrap(), first);

    assert_eq!(
        get(&mut c, "o-nothing").await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        close(&mut c, "o-nothing").await.unwrap_err().code(),
        Code::NotFound
    );
    for bad in ["", "o 1", "o/1", &"o".repeat(65)] {
        let e = get(&mut c, bad).await.unwrap_err();
        assert_invalid(&e, "id", &format!("get {bad:?}"));
        let e = close(&mut c, bad).await.unwrap_err();
        assert_invalid(&e, "id", &format!("close {bad:?}"));
    }
    assert_eq!(all_ids(&mut c).await, vec!["o-000001"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_opening_is_idempotent_and_moves_the_status_index() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();
    let created = create(&mut c, opening(1)).await.unwrap();
    create(&mut c, opening(2)).await.unwrap();

    let closed = close(&mut c, "o-000001").await.expect("close");
    assert_eq!(closed.status, pb::OpeningStatus::Closed as i32);
    let mut expected = strip(created.clone());
    expected.status = pb::OpeningStatus::Closed as i32;
    assert_eq!(
        strip(closed.clone()),
        expected,
        "close changed other fields"
    );
    assert_eq!(closed.created_at, created.created_at);
    assert!(ts_ms(&closed.updated_at) >= ts_ms(&created.updated_at));
    assert_eq!(get(&mut c, "o-000001").await.unwrap(), closed);

    // Closing again changes nothing, not even updated_at.
    let again = close(&mut c, "o-000001").await.expect("close again");
    assert_eq!(again, closed);
    assert_eq!(get(&mut c, "o-000001").await.unwrap(), closed);

    let by_status = |status: pb::OpeningStatus| pb::ListOpeningsRequest {
        status: status as i32,
        ..Default::default()
    };
    let (open, _) = list_all(&mut c, by_status(pb::OpeningStatus::Open)).await;
    assert_eq!(
        open.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["o-000002"]
    );
    let (shut, _) = list_all(&mut c, by_status(pb::OpeningStatus::Closed)).await;
    assert_eq!(shut, vec![closed]);

    // An upsert may reopen it.
    let (reopened, _) = upsert(&mut c, opening(1)).await.unwrap();
    assert_eq!(reopened.status, pb::OpeningStatus::Open as i32);
    assert_eq!(reopened.created_at, created.created_at);
    let (shut, _) = list_all(&mut c, by_status(pb::OpeningStatus::Closed)).await;
    assert!(shut.is_empty());
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------

const REGIONS: [&str; 3] = ["431202", "440300", "431221"];

/// 120 openings across 3 regions, 6 sources, 2 statuses and 5 employers,
/// written in a scrambled order; returns them by id.
async fn populate(c: &mut OpeningsClient<Channel>) -> BTreeMap<String, pb::Opening> {
    let mut model = BTreeMap::new();
    for i in 0..120u32 {
        let n = (i * 49) % 120;
        let mut o = opening(n);
        o.region_code = REGIONS[(n % 3) as usize].into();
        o.source = 1 + (n % 6) as i32;
        o.status = if n % 4 == 0 {
            pb::OpeningStatus::Closed as i32
        } else {
            pb::OpeningStatus::Open as i32
        };
        let stored = create(c, o).await.expect("create");
        model.insert(stored.id.clone(), stored);
    }
    assert_eq!(model.len(), 120);
    model
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_walk_every_opening_once_in_id_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();
    let model = populate(&mut c).await;
    let expected: Vec<pb::Opening> = model.values().cloned().collect();

    let mut request = pb::ListOpeningsRequest {
        page_size: 50,
        ..Default::default()
    };
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    loop {
        let page = c.list_openings(request.clone()).await.unwrap().into_inner();
        sizes.push(page.openings.len());
        seen.extend(page.openings);
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(sizes, vec![50, 50, 20]);
    assert_eq!(seen, expected);

    let page = c
        .list_openings(pb::ListOpeningsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.openings.len(), 100, "page size 0 means 100");
    let page = c
        .list_openings(pb::ListOpeningsRequest {
            page_size: 1_000_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.openings, expected);
    assert!(page.next_page_token.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_equal_a_plain_filter_over_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();
    let model = populate(&mut c).await;

    let regions = ["", REGIONS[0], REGIONS[1], REGIONS[2], "110000"];
    let sources = [0, 1, 3, 6];
    let statuses = [0, 1, 2];
    let employers = ["", "workshop-002", "workshop-none"];
    let mut non_empty = 0;
    for region in regions {
        for source in sources {
            for status in statuses {
                for employer in employers {
                    let request = pb::ListOpeningsRequest {
                        page_size: 7,
                        page_token: String::new(),
                        region_code: region.into(),
                        source,
                        status,
                        employer_id: employer.into(),
                    };
                    let want: Vec<pb::Opening> = model
                        .values()
                        .filter(|o| region.is_empty() || o.region_code == region)
                        .filter(|o| source == 0 || o.source == source)
                        .filter(|o| status == 0 || o.status == status)
                        .filter(|o| employer.is_empty() || o.employer_id == employer)
                        .cloned()
                        .collect();
                    let (got, _) = list_all(&mut c, request.clone()).await;
                    assert_eq!(got, want, "filter {request:?}");
                    non_empty += usize::from(!want.is_empty());
                }
            }
        }
    }
    assert!(
        non_empty > 20,
        "too few filters match anything: {non_empty}"
    );

    let bad: Vec<(&str, pb::ListOpeningsRequest)> = vec![
        (
            "region_code",
            pb::ListOpeningsRequest {
                region_code: "4312".into(),
                ..Default::default()
            },
        ),
        (
            "source",
            pb::ListOpeningsRequest {
                source: 99,
                ..Default::default()
            },
        ),
        (
            "status",
            pb::ListOpeningsRequest {
                status: 99,
                ..Default::default()
            },
        ),
        (
            "employer_id",
            pb::ListOpeningsRequest {
                employer_id: "workshop 2".into(),
                ..Default::default()
            },
        ),
    ];
    for (field, request) in bad {
        let e = c.list_openings(request).await.unwrap_err();
        assert_invalid(&e, field, field);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_tokens_are_bound_to_their_filters() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();
    populate(&mut c).await;

    let first = pb::ListOpeningsRequest {
        page_size: 5,
        region_code: REGIONS[0].into(),
        ..Default::default()
    };
    let token = c
        .list_openings(first.clone())
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty());
    let next = pb::ListOpeningsRequest {
        page_token: token.clone(),
        ..first.clone()
    };
    assert_eq!(
        c.list_openings(next)
            .await
            .unwrap()
            .into_inner()
            .openings
            .len(),
        5
    );

    let others = [
        pb::ListOpeningsRequest {
            region_code: REGIONS[1].into(),
            ..first.clone()
        },
        pb::ListOpeningsRequest {
            region_code: String::new(),
            ..first.clone()
        },
        pb::ListOpeningsRequest {
            source: 1,
            ..first.clone()
        },
        pb::ListOpeningsRequest {
            status: 1,
            ..first.clone()
        },
        pb::ListOpeningsRequest {
            employer_id: "workshop-001".into(),
            ..first.clone()
        },
    ];
    for other in others {
        let request = pb::ListOpeningsRequest {
            page_token: token.clone(),
            ..other
        };
        let e = c.list_openings(request.clone()).await.unwrap_err();
        assert_invalid(&e, "page_token", &format!("{request:?}"));
    }
    for garbage in ["!!!", "AAAA", "%%", "////"] {
        let e = c
            .list_openings(pb::ListOpeningsRequest {
                page_token: garbage.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_invalid(&e, "page_token", garbage);
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_each_bad_row_and_stores_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();

    let mut rows = Vec::new();
    let mut expected: Vec<(u64, String, &str)> = Vec::new();
    rows.push(Some(opening(1))); // 1 good
    let mut o = opening(2);
    o.title.clear();
    rows.push(Some(o)); // 2 bad title
    expected.push((2, "o-000002".into(), "opening.title"));
    rows.push(None); // 3 no opening
    expected.push((3, String::new(), "opening"));
    rows.push(Some(rich_opening(4))); // 4 good, closed
    let mut o = opening(5);
    o.start_date = "2026-13-01".into();
    rows.push(Some(o)); // 5 bad start date
    expected.push((5, "o-000005".into(), "opening.start_date"));
    let mut o = opening(1);
    o.title = "Ironing (row 6)".into();
    rows.push(Some(o)); // 6 good: replaces row 1
    let mut o = opening(7);
    o.status = 99;
    rows.push(Some(o)); // 7 bad status
    expected.push((7, "o-000007".into(), "opening.status"));
    let mut o = opening(8);
    o.id = "o 8".into();
    rows.push(Some(o)); // 8 bad id
    expected.push((8, "o 8".into(), "opening.id"));
    let mut o = opening(9);
    o.required_skills = vec![req("sewing", 2), req("cutting", 0)];
    rows.push(Some(o)); // 9 bad skill level
    expected.push((9, "o-000009".into(), "opening.required_skills[1].min_level"));
    rows.push(Some(opening(10))); // 10 good

    let reply = import(&mut c, rows).await.expect("import");
    assert_eq!(reply.accepted, 4, "{reply:?}");
    assert_eq!(reply.rejected, 6, "{reply:?}");
    assert_eq!(reply.errors_omitted, 0);
    let got: Vec<(u64, String, &str)> = reply
        .errors
        .iter()
        .map(|e| (e.row, e.id.clone(), e.field.as_str()))
        .collect();
    assert_eq!(got, expected);
    assert!(reply.errors.iter().all(|e| !e.reason.is_empty()));

    assert_eq!(
        get(&mut c, "o-000001").await.unwrap().title,
        "Ironing (row 6)"
    );
    assert_eq!(
        strip(get(&mut c, "o-000004").await.unwrap()),
        rich_opening(4)
    );
    assert_eq!(strip(get(&mut c, "o-000010").await.unwrap()), opening(10));
    for id in ["o-000002", "o-000005", "o-000007", "o-000009"] {
        assert_eq!(
            get(&mut c, id).await.unwrap_err().code(),
            Code::NotFound,
            "{id}"
        );
    }
    assert_eq!(
        all_ids(&mut c).await,
        vec!["o-000001", "o-000004", "o-000010"]
    );

    // A bigger import crosses several store batches.
    let rows: Vec<Option<pb::Opening>> = (100..2600)
        .map(|n| {
            let mut o = opening(n);
            if n % 500 == 0 {
                o.headcount = 0;
            }
            Some(o)
        })
        .collect();
    let reply = import(&mut c, rows).await.expect("big import");
    assert_eq!((reply.accepted, reply.rejected), (2495, 5));
    let rows: Vec<u64> = reply.errors.iter().map(|e| e.row).collect();
    assert_eq!(rows, vec![401, 901, 1401, 1901, 2401]);
    assert!(reply.errors.iter().all(|e| e.field == "opening.headcount"));
    assert_eq!(server.store.opening_count(), 3 + 2495);
    server.store.verify().expect("indexes agree with records");
    server.stop().await;
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
    let mut c = server.openings();
    let mut huge = opening(1);
    huge.title = "t".repeat(100 * 1024);
    let request = pb::CreateOpeningRequest {
        opening: Some(huge.clone()),
    };
    assert!(request.encoded_len() > limit);
    let e = c.create_opening(request).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e}");
    let e = import(&mut c, vec![Some(opening(2)), Some(huge)])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e}");

    create(&mut c, opening(3))
        .await
        .expect("server answers afterwards");
    assert_eq!(
        get(&mut c, "o-000001").await.unwrap_err().code(),
        Code::NotFound
    );
    server.stop().await;
}
