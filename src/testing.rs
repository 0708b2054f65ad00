//! Fixtures the unit tests share: a plain worker and opening, callers,
//! a store or a service over a temporary directory, and proposals made by
//! hand. Tests change what they need on
//! top; a fixture here is what more than one test module started from.

use std::path::Path;
use std::sync::Arc;

use crate::batch::BatchSettings;
use crate::domain::access::{Caller, Role, Scope};
use crate::domain::placement::DeclineReason;
use crate::domain::{GeoPoint, IdKey, Opening, OpeningStatus, PhysicalDemand, Source, Worker};
use crate::matching::MatchConfig;
use crate::service::Service;
use crate::store::{Action, Proposal, Store};

/// A seeking worker `id` at site `s0` of county 431202, household `h0`,
/// with no skills and no national id.
pub(crate) fn worker(id: &str) -> Worker {
    let mut w = Worker {
        id: id.into(),
        household_id: "h0".into(),
        name: "李桂兰".into(),
        birth_year: 1980,
        county_code: "431202".into(),
        site_id: "s0".into(),
        site_location: GeoPoint {
            lat: 27.5,
            lon: 109.9,
        },
        ..crate::ledger::workers::blank()
    };
    w.preferences.max_commute_km = 10;
    w
}

/// An open public-welfare opening `id` in county 431202 with one slot,
/// light work that any worker's skills meet.
pub(crate) fn opening(id: &str) -> Opening {
    Opening {
        id: id.into(),
        source: Source::PublicWelfare,
        employer_id: "gov-431202".into(),
        employer_name: "Hecheng public-welfare posts".into(),
        title: "Forest ranger".into(),
        region_code: "431202".into(),
        location: GeoPoint {
            lat: 27.5,
            lon: 109.9,
        },
        min_age: 16,
        max_age: 70,
        physical_demand: PhysicalDemand::Light,
        monthly_wage: 900,
        headcount: 1,
        flexible_hours: true,
        reserved_for_relocated: true,
        start_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("valid"),
        ..crate::ledger::openings::blank()
    }
}

/// Opening `o{i}` with `headcount` slots, open or closed.
pub(crate) fn numbered_opening(i: usize, headcount: u32, open: bool) -> Opening {
    let status = if open {
        OpeningStatus::Open
    } else {
        OpeningStatus::Closed
    };
    Opening {
        headcount,
        status,
        ..opening(&format!("o{i}"))
    }
}

/// A caller with `role` over `counties` (a recruiter for employer `e-1`).
pub(crate) fn caller(role: Role, counties: &[&str]) -> Caller {
    Caller {
        token_id: format!("tok_{role:?}"),
        role,
        scope: Scope {
            counties: counties.iter().map(|c| c.to_string()).collect(),
            employer_id: (role == Role::Recruiter).then(|| "e-1".to_string()),
        },
    }
}

/// The administrator.
pub(crate) fn admin() -> Caller {
    caller(Role::Admin, &[])
}

/// A county's service company.
pub(crate) fn company(county: &str) -> Caller {
    Caller {
        token_id: format!("tok_{county}"),
        ..caller(Role::ServiceCompany, &[county])
    }
}

/// The national id key made of the byte `byte` 32 times.
pub(crate) fn id_key(byte: u8) -> IdKey {
    IdKey::from_hex(&format!("{byte:02x}").repeat(32)).expect("64 hex digits")
}

/// A service over `store` with the default match configuration.
pub(crate) fn service(store: Arc<Store>, key: IdKey, batch: BatchSettings) -> Arc<Service> {
    let config = MatchConfig::default().normalised().expect("default config");
    Service::open(store, key, config, batch).expect("service opens")
}

/// A service over a new store in `dir` holding `data`, if any.
pub(crate) fn service_with(
    dir: &Path,
    key: u8,
    data: Option<&crate::demo::DemoData>,
    batch: BatchSettings,
) -> Arc<Service> {
    let store = Arc::new(Store::open(dir).expect("store opens"));
    let key = id_key(key);
    if let Some(data) = data {
        crate::demo::load(&store, &key, data, crate::domain::current_year()).expect("demo loads");
    }
    service(store, key, batch)
}

/// Demo data at `scale` from `seed`, for this year and today.
pub(crate) fn demo(scale: f64, seed: u64) -> crate::demo::DemoData {
    let today = chrono::Utc::now().date_naive();
    crate::demo::generate(scale, seed, crate::domain::current_year(), today)
}

/// A store in a new temporary directory. The directory goes when the
/// returned guard drops, so keep it alive as long as the store.
pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A proposal of `worker_id` for `opening_id` made by hand (no run), with
/// a score of one micro-point.
pub(crate) fn proposal(worker_id: &str, opening_id: &str) -> Proposal {
    Proposal {
        worker_id: worker_id.into(),
        opening_id: opening_id.into(),
        run_id: 0,
        score_micro: 1,
        zero_household: None,
    }
}

/// Proposes `worker_id` for `opening_id` and declines it for `code`,
/// giving `reason`; returns the placement's id.
pub(crate) fn propose_and_decline(
    store: &Store,
    worker_id: &str,
    opening_id: &str,
    code: DeclineReason,
    reason: &str,
) -> String {
    let p = store
        .propose(&proposal(worker_id, opening_id), "test")
        .unwrap();
    let decline = Action::Decline {
        code,
        reason: reason.into(),
    };
    store
        .placement_step(&p.placement.id, &decline, "test")
        .unwrap();
    p.placement.id
}
