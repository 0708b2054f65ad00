//! Shared test harness: the real server on 127.0.0.1:0 with a temporary data
//! directory, a client of each service on it (`clients.rs`), and builders of
//! valid records.

#![allow(dead_code)]

mod clients;

// Each test binary uses a part of the harness: what one leaves unused is
// not dead (hence `dead_code` above), and neither is an unused re-export.
#[allow(unused_imports)]
pub use clients::{wait_for_run, Clients};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jobbridge::api::pb;
use jobbridge::config::Config;
use jobbridge::domain::rules::national_id_check_char;
use jobbridge::domain::IdKey;
use jobbridge::store::{Store, StoreError};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Endpoint;
use tonic::{Code, Status};

/// A channel that sends a bearer token with each call.
pub type Channel = jobbridge::cli::TokenChannel;
use tonic_types::StatusExt as _;

/// A running in-process server. Call [`TestServer::stop`] to shut it down
/// and join it; the data directory stays until the `TempDir` drops.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Authenticated with `admin_token`.
    pub channel: Channel,
    /// The connection without credentials.
    pub raw: tonic::transport::Channel,
    /// An admin token created for the test.
    pub admin_token: String,
    pub store: Arc<Store>,
    /// The national id key the server hashes with.
    pub id_key: IdKey,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server over the store in `dir`.
    pub async fn start(dir: &Path) -> TestServer {
        Self::start_with(dir, Config::in_process()).await
    }

    /// Starts a server with `options`; without a key in them, the data
    /// directory's own (generated on the first start), as `serve` does.
    pub async fn start_with(dir: &Path, options: Config) -> TestServer {
        Self::start_on(reopen(dir), options).await
    }

    /// Like [`TestServer::start_with`], with the channel connected through
    /// the endpoint that `endpoint` builds for the server's address (a TLS
    /// client, for instance).
    pub async fn start_connecting(
        dir: &Path,
        options: Config,
        endpoint: impl FnOnce(SocketAddr) -> Endpoint,
    ) -> TestServer {
        Self::start_on_connecting(reopen(dir), options, endpoint).await
    }

    /// Starts a server over an open store (no reopening, so no wait for
    /// sled's directory lock).
    pub async fn start_on(store: Store, options: Config) -> TestServer {
        Self::start_on_connecting(store, options, |addr| {
            Endpoint::from_shared(format!("http://{addr}")).unwrap()
        })
        .await
    }

    async fn start_on_connecting(
        store: Store,
        mut options: Config,
        endpoint: impl FnOnce(SocketAddr) -> Endpoint,
    ) -> TestServer {
        let store = Arc::new(store);
        let id_key = match &options.id_key {
            Some(key) => key.clone(),
            None => {
                jobbridge::store::id_key(None, None, &store)
                    .expect("id key")
                    .0
            }
        };
        options.id_key = Some(id_key.clone());
        let (_, admin_token) = store
            .create_token(
                jobbridge::domain::access::Role::Admin,
                &Default::default(),
                "test admin",
                "test",
            )
            .expect("create admin token");
        // Bind before spawning: the port is ready when we connect, no sleeps.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server_store = store.clone();
        let task = tokio::spawn(async move {
            jobbridge::server::open_and_run(listener, server_store, options, async {
                let _ = stopped.await;
            })
            .await
            .expect("server failed");
        });
        let raw = endpoint(addr).connect().await.expect("connect");
        let channel = Channel::new(raw.clone(), Some(&admin_token)).unwrap();
        TestServer {
            addr,
            channel,
            raw,
            admin_token,
            store,
            id_key,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A channel sending `token` (or none).
    pub fn channel_with(&self, token: Option<&str>) -> Channel {
        Channel::new(self.raw.clone(), token).unwrap()
    }

    /// A new token of `role` with `scope`, made directly in the store.
    pub fn token(
        &self,
        role: jobbridge::domain::access::Role,
        scope: jobbridge::domain::access::Scope,
    ) -> String {
        self.store
            .create_token(role, &scope, "test", "test")
            .expect("create token")
            .1
    }

    /// Shuts the server down, joins it and releases the store, so the data
    /// directory can be opened again.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.expect("server task");
        let store = self.store.clone();
        drop(self);
        // Wait until every other holder (server tasks) has released it.
        let mut store = store;
        loop {
            match Arc::try_unwrap(store) {
                Ok(s) => {
                    drop(s);
                    break;
                }
                Err(s) => {
                    store = s;
                    tokio::task::yield_now().await;
                }
            }
        }
    }
}

/// A valid national id number for index `n` (unique per `n`).
pub fn national_id(n: u32) -> String {
    let first17 = format!("{:017}", 43_120_219_850_000_000u64 + u64::from(n));
    format!("{first17}{}", national_id_check_char(first17.as_bytes()))
}

/// A valid worker with every field set.
pub fn worker(n: u32) -> pb::Worker {
    pb::Worker {
        id: format!("w-{n:06}"),
        household_id: format!("hh-{:06}", n / 2),
        name: "王秀英".into(),
        national_id: national_id(n),
        gender: pb::Gender::Female as i32,
        birth_year: 1985,
        phone: "13812345678".into(),
        county_code: "431202".into(),
        site_id: format!("site-{:03}", n % 7),
        site_location: Some(pb::GeoPoint {
            lat: 27.55,
            lon: 109.98,
        }),
        labour_capacity: pb::LabourCapacity::Full as i32,
        skills: vec![pb::Skill {
            code: "sewing".into(),
            level: 3,
        }],
        certificates: vec![pb::Skill {
            code: "housekeeping".into(),
            level: 2,
        }],
        education: pb::Education::JuniorSecondary as i32,
        preferences: Some(pb::WorkerPreferences {
            mobility: pb::Mobility::NearHome as i32,
            max_commute_km: 20,
            expected_monthly_wage: 3000,
            preferred_sources: vec![pb::Source::AidWorkshop as i32],
            strict_sources: false,
            needs_flexible_hours: true,
        }),
        employment_status: pb::EmploymentStatus::Seeking as i32,
        service_company_id: "esc-431202".into(),
        consent_to_share: true,
        created_at: None,
        updated_at: None,
        ..Default::default()
    }
}

/// The worker as the server stores it: its id and household id whole,
/// qualified with its county (`431202/w-000001`, `431202/hh-000000`) unless
/// they carry a county already (docs/api.md, "How ids work").
pub fn stored_form(sent: &pb::Worker) -> pb::Worker {
    pb::Worker {
        id: whole_id(&sent.id, &sent.county_code),
        household_id: whole_id(&sent.household_id, &sent.county_code),
        ..sent.clone()
    }
}

/// `id` qualified with `county` (`431202/w-000001`) unless it carries a
/// county already.
pub fn whole_id(id: &str, county: &str) -> String {
    jobbridge::domain::scoped::qualified(id, county)
}

/// The worker as the server returns it: everything sent, with its ids
/// whole ([`stored_form`]), except the write-only national id (and without
/// the server's timestamps).
pub fn returned(sent: &pb::Worker) -> pb::Worker {
    pb::Worker {
        national_id: String::new(),
        ..stored_form(sent)
    }
}

/// A valid opening with every field set.
pub fn opening(n: u32) -> pb::Opening {
    pb::Opening {
        id: format!("o-{n:06}"),
        source: pb::Source::AidWorkshop as i32,
        employer_id: format!("workshop-{:03}", n % 5),
        employer_name: "Hecheng aid workshop".into(),
        title: "Sewing machinist".into(),
        occupation_code: "6-05-01-01".into(),
        region_code: "431202".into(),
        location: Some(pb::GeoPoint {
            lat: 27.56,
            lon: 109.99,
        }),
        required_skills: vec![pb::SkillRequirement {
            code: "sewing".into(),
            min_level: 2,
        }],
        preferred_skills: vec![pb::SkillRequirement {
            code: "handicraft".into(),
            min_level: 1,
        }],
        min_age: 18,
        max_age: 55,
        physical_demand: pb::PhysicalDemand::Light as i32,
        monthly_wage: 2800,
        headcount: 30,
        flexible_hours: true,
        housing_provided: false,
        transport_provided: true,
        reserved_for_relocated: true,
        start_date: "2026-12-01".into(),
        end_date: "2027-12-01".into(),
        status: pb::OpeningStatus::Open as i32,
        created_at: None,
        updated_at: None,
        ..Default::default()
    }
}

/// Path of the built `jobbridge` binary, for tests that run it as a child.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jobbridge"))
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn ts_ms(ts: &Option<prost_types::Timestamp>) -> i64 {
    let ts = ts.as_ref().expect("timestamp set by the server");
    ts.seconds * 1000 + i64::from(ts.nanos) / 1_000_000
}

/// Asserts an INVALID_ARGUMENT whose message and BadRequest detail name
/// `field`.
pub fn assert_invalid(status: &Status, field: &str, context: &str) {
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{context}: wrong code, message {:?}",
        status.message()
    );
    assert!(
        status.message().starts_with(&format!("{field}: ")),
        "{context}: message {:?} does not start with {field:?}",
        status.message()
    );
    let details = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("{context}: no BadRequest detail"));
    assert_eq!(details.field_violations.len(), 1, "{context}");
    assert_eq!(details.field_violations[0].field, field, "{context}");
}

/// Opens the store in `dir`, waiting (up to 10 s) while a store that was
/// just dropped still holds sled's directory lock: sled releases it from a
/// background thread, a moment after the last handle goes.
pub fn reopen(dir: &Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Store::open(dir) {
            Ok(store) => return store,
            // A process that just ended (or a dropped store's committer)
            // lets go of sled's lock a moment later.
            Err(StoreError::InUse { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("cannot reopen the store: {e}"),
        }
    }
}
