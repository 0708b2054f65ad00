//! Assembles the gRPC server: jobbridge's services, health, reflection and
//! limits. [`run`] takes a bound listener and a shutdown future, so tests
//! run the real server on `127.0.0.1:0`. With [`Config::tls`] set it serves
//! over TLS ([`tls`]).

pub mod drain;
pub mod metrics;
pub mod observe;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::api::auth::Access;
use crate::api::layer::Wrap;
use crate::api::pb::admin_service_server::AdminServiceServer;
use crate::api::pb::batch_server::BatchServer;
use crate::api::pb::matching_server::MatchingServer;
use crate::api::pb::openings_server::OpeningsServer;
use crate::api::pb::placement_service_server::PlacementServiceServer;
use crate::api::pb::report_service_server::ReportServiceServer;
use crate::api::pb::workers_server::WorkersServer;
use crate::api::{
    pb, remap_oversize, AdminService, BatchService, MatchingService, OpeningService,
    PlacementService, ReportService, WorkerService,
};
use crate::config::Config;
use crate::domain::identity::short_fingerprint;
use crate::service::{Service, ServiceError};
use crate::store::Store;
use tls::{TlsError, TlsIdentity};

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The service could not start: the match index could not be built
    /// from the store, or finishing an interrupted run failed.
    #[error("cannot start the service: {0}")]
    Service(#[from] ServiceError),
    /// The national id key could not be read, or is not the store's key.
    #[error("{0}")]
    IdKey(String),
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The TLS certificate or key file cannot be used.
    #[error(transparent)]
    TlsFiles(#[from] TlsError),
    /// tonic refused the TLS configuration (the files passed
    /// [`TlsIdentity`]'s checks, so this is not expected).
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
    /// The console's address cannot be bound.
    #[error("cannot listen for the console on {addr}")]
    ConsoleListen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The metrics address cannot be bound.
    #[error("cannot listen for metrics on {addr}")]
    MetricsListen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What [`run`] serves, made once at start-up: the service (the store with
/// its national id key bound, the match index built), the TLS identity if
/// any, and the settings.
pub struct Ready {
    service: Arc<Service>,
    tls: Option<TlsIdentity>,
    options: Config,
}

impl Ready {
    /// Loads the TLS files of `options.tls` (if set), then as
    /// [`Ready::with_tls`]. Blocking: reads the whole store.
    pub fn open(store: Arc<Store>, options: Config) -> Result<Self, ServeError> {
        let tls = match &options.tls {
            Some(files) => Some(TlsIdentity::load(&files.cert, &files.key)?),
            None => None,
        };
        Self::with_tls(store, tls, options)
    }

    /// Binds the national id key to `store` (`options.id_key`, else found
    /// as [`crate::store::id_key`] finds it; refused if the store was
    /// written with another key) before anything else, so that a wrong
    /// key stops the start with its own error; then builds the service
    /// and its match index. `tls` is the identity loaded from
    /// `options.tls`. Blocking: reads the whole store.
    pub fn with_tls(
        store: Arc<Store>,
        tls: Option<TlsIdentity>,
        options: Config,
    ) -> Result<Self, ServeError> {
        let config = options
            .matching
            .clone()
            .normalised()
            .map_err(ServeError::Config)?;
        let id_key = match &options.id_key {
            Some(key) => key.clone(),
            None => {
                crate::store::id_key(options.id_key_file.as_deref(), None, &store)
                    .map_err(ServeError::IdKey)?
                    .0
            }
        };
        let bound = store
            .bind_id_key(&id_key)
            .map_err(|e| ServeError::IdKey(e.to_string()))?;
        tracing::info!(
            fingerprint = short_fingerprint(&id_key.fingerprint()),
            recorded = bound.recorded,
            hashed = bound.hashed,
            "national id key bound"
        );
        let started = std::time::Instant::now();
        let service = Service::open_with_policy(
            store,
            id_key,
            config,
            options.batch.clone(),
            options.policy.clone(),
            options.rate_limit,
        )?;
        {
            let index = service.matcher().read();
            tracing::info!(
                workers = index.worker_count(),
                openings = index.opening_count(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "match index built"
            );
        }
        Ok(Self {
            service,
            tls,
            options,
        })
    }

    /// The service.
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.options
    }
}

/// [`Ready::open`] on a blocking thread, then [`run`]: a server over a
/// bare store and a [`Config`], as tests and benches start one (`jobbridge
/// serve` starts through [`crate::launch`], which loads the TLS files and
/// finds the key once, before the store opens).
pub async fn open_and_run(
    listener: TcpListener,
    store: Arc<Store>,
    options: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let ready = tokio::task::spawn_blocking(move || Ready::open(store, options))
        .await
        .expect("service start-up does not panic")?;
    run(listener, ready, shutdown).await
}

/// Serves `ready` on `listener` until `shutdown` completes, finishes
/// in-flight calls and returns. When `shutdown` completes, health turns
/// NOT_SERVING for every service, new connections are refused, and calls
/// still open after `options.shutdown_grace` are cut with UNAVAILABLE
/// ([`drain`]). With `options.metrics_listen` set, Prometheus metrics are
/// served there ([`metrics`]). `config.data_dir`, `listen`, `demo`,
/// `cache_mb` and `rank_threads` are the launcher's, not read here. The
/// caller owns the store and flushes it afterwards (dropping the last
/// `Arc<Store>` does).
pub async fn run(
    listener: TcpListener,
    ready: Ready,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let Ready {
        service,
        tls,
        options,
    } = ready;
    let nightly = options
        .schedule
        .map(|s| tokio::spawn(service.clone().nightly(s)));
    let backups = options
        .backup
        .clone()
        .map(|plan| tokio::spawn(service.clone().scheduled_backups(plan)));
    // The dashboard's daily rows: today's now if missing, then each day.
    let snapshots = tokio::spawn(service.clone().dashboard_snapshots());
    let limit = options.max_message_bytes;
    let workers =
        WorkersServer::new(WorkerService::new(service.clone())).max_decoding_message_size(limit);
    let openings =
        OpeningsServer::new(OpeningService::new(service.clone())).max_decoding_message_size(limit);
    let matching =
        MatchingServer::new(MatchingService::new(service.clone())).max_decoding_message_size(limit);
    let batch_service =
        BatchServer::new(BatchService::new(service.clone())).max_decoding_message_size(limit);
    let placements = PlacementServiceServer::new(PlacementService::new(service.clone()))
        .max_decoding_message_size(limit);
    let reports = ReportServiceServer::new(ReportService::new(service.clone()))
        .max_decoding_message_size(limit);
    let admin = AdminServiceServer::new(AdminService::new(service.clone()))
        .max_decoding_message_size(limit);
    let pruning = tokio::spawn(prune_audit(
        service.store().clone(),
        options.audit_retention,
    ));

    let (health_reporter, health) = tonic_health::server::health_reporter();
    for name in SERVICES {
        health_reporter
            .set_service_status(name, ServingStatus::Serving)
            .await;
    }
    let disk_watch = tokio::spawn(watch_disk(service.store().clone(), health_reporter.clone()));
    let metrics = match options.metrics_listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::MetricsListen { addr, source })?;
            Some(tokio::spawn(metrics::serve(listener, service.clone())))
        }
        None => None,
    };

    let console = match options.console_listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::ConsoleListen { addr, source })?;
            let bound = listener.local_addr().unwrap_or(addr);
            let secure = tls.is_some();
            let console = crate::console::Console::new(service.clone(), secure);
            let scheme = if secure { "https" } else { "http" };
            tracing::info!(addr = %bound, tls = secure, "serving the console");
            if options.demo {
                println!("Console: {scheme}://{bound}/  (sign in with the admin token above)");
            }
            Some(match &tls {
                Some(identity) => {
                    let config = identity
                        .http_config()
                        .map_err(|e| ServeError::Tls(e.to_string()))?;
                    tokio::spawn(crate::console::serve_tls(
                        listener,
                        console,
                        config,
                        tls::HANDSHAKE_TIMEOUT,
                    ))
                }
                None => tokio::spawn(crate::console::serve(listener, console)),
            })
        }
        None => None,
    };

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("embedded descriptor sets are valid");
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .expect("embedded descriptor sets are valid");

    let mut builder = Server::builder();
    if let Some(identity) = &tls {
        // tonic wraps every accepted stream, the TcpIncoming below included,
        // in its TLS acceptor; handshakes run beside the accept loop.
        builder = builder
            .tls_config(identity.server_config())
            .map_err(|e| ServeError::Tls(error_chain(&e)))?;
    }
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, tls = tls.is_some(), "serving gRPC");
    }
    let (cut, drain) = drain::Drain::new();
    let (began, shutdown_began) = tokio::sync::oneshot::channel::<()>();
    let reporter = health_reporter.clone();
    let shutdown = async move {
        shutdown.await;
        // Health first, so that a balancer stops sending before anything
        // is refused; then tonic stops accepting and waits for open calls.
        for name in SERVICES.into_iter().chain([WRITES_HEALTH]) {
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        tracing::info!("shutting down: health NOT_SERVING, finishing in-flight calls");
        let _ = began.send(());
    };
    let grace = options.shutdown_grace;
    let serve = builder
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(Wrap(observe::Observe))
        .layer(Wrap(drain))
        .layer(tower::util::MapResponseLayer::new(remap_oversize))
        .layer(Wrap(Access::new(service.clone())))
        .layer(Wrap(crate::api::lang::AcceptLanguage))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(workers)
        .add_service(openings)
        .add_service(matching)
        .add_service(batch_service)
        .add_service(placements)
        .add_service(reports)
        .add_service(admin)
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        );
    let deadline = async move {
        if shutdown_began.await.is_err() {
            return std::future::pending().await;
        }
        tokio::time::sleep(grace).await;
        tracing::warn!(
            grace_ms = grace.as_millis() as u64,
            "grace period over: cutting the calls still open with UNAVAILABLE"
        );
        cut.expire();
        // The cut calls end at once; connections that still do not close
        // (a client that stopped reading) are dropped a moment later.
        tokio::time::sleep(CLOSE_AFTER_CUT).await;
    };
    tokio::select! {
        result = serve => result?,
        () = deadline => tracing::warn!("connections still open after the cut: dropped"),
    }
    if let Some(task) = metrics {
        task.abort();
    }
    if let Some(task) = console {
        task.abort();
    }
    if let Some(task) = nightly {
        task.abort();
    }
    // A backup being written goes on to its end on its blocking thread;
    // one cut by the process's exit leaves only a `.partial` file.
    if let Some(task) = backups {
        task.abort();
    }
    pruning.abort();
    snapshots.abort();
    disk_watch.abort();
    // A run in progress is left to be marked failed at the next start; its
    // rows are never applied half-way.
    if let Some(id) = service.active_run() {
        tracing::warn!(
            run_id = id,
            "stopping during a run: it will be marked failed at the next start"
        );
    }
    Ok(())
}

/// The services health reports on: the whole server (`""`) and each
/// service by name.
const SERVICES: [&str; 8] = [
    "",
    WorkersServer::<WorkerService>::NAME,
    OpeningsServer::<OpeningService>::NAME,
    MatchingServer::<MatchingService>::NAME,
    BatchServer::<BatchService>::NAME,
    PlacementServiceServer::<PlacementService>::NAME,
    ReportServiceServer::<ReportService>::NAME,
    AdminServiceServer::<AdminService>::NAME,
];

/// How long connections may take to close once the grace period's cut
/// has answered their calls.
const CLOSE_AFTER_CUT: Duration = Duration::from_secs(1);

/// Removes old audit log entries now and then once a day.
/// The health entry that says whether writes are accepted: `NOT_SERVING`
/// while the data directory's disk is below its reserve (reads, and the
/// server's own entry `""`, stay `SERVING`).
pub const WRITES_HEALTH: &str = "jobbridge.store.writes";

/// How often the free space is read when no write reads it.
const DISK_WATCH: Duration = Duration::from_secs(1);

/// Keeps [`WRITES_HEALTH`] and the disk gauges in step with the free space.
async fn watch_disk(store: Arc<Store>, health: tonic_health::server::HealthReporter) {
    let mut last = None;
    loop {
        let s = store.clone();
        if let Ok(space) = tokio::task::spawn_blocking(move || s.disk_space()).await {
            if last != Some(space.writable) {
                let status = if space.writable {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                health.set_service_status(WRITES_HEALTH, status).await;
                last = Some(space.writable);
            }
        }
        tokio::time::sleep(DISK_WATCH).await;
    }
}

async fn prune_audit(store: Arc<Store>, keep: Duration) {
    loop {
        let cutoff = chrono::Utc::now().timestamp_millis()
            - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.prune_audit(cutoff)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(removed = n, "old audit log entries removed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot prune the audit log"),
            Err(e) => tracing::warn!(error = %e, "audit pruning task failed"),
        }
        tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    }
}

/// `e` and its sources, joined: tonic's transport error says only
/// "transport error" and keeps the cause in its source.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
