//! Starting what `jobbridge serve` starts, as a library: checking the
//! address and TLS files, opening the store, finding the national id key,
//! the demo bootstrap, the ranking pool, signals and the final flush.
//!
//! Called `launch`, not `app`: it holds no application logic (that is the
//! api and store layers'), only the order in which a process brings them
//! up and takes them down. `main.rs` parses flags into a [`Config`] and
//! calls [`serve`]; a test or another binary builds the `Config` itself and
//! calls [`serve`], or [`Launch::open`] and [`Launch::run`] on a listener of
//! its own. The launcher loads the TLS identity and finds the national id
//! key once, and builds the service ([`crate::server::Ready`]); below it,
//! [`crate::server::run`] serves what it is handed on one listener and
//! knows nothing of processes, signals, files or stdout.

mod admin_token;
mod backup_flags;
pub mod flags;
pub mod id_key;
mod ops_flags;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::{check_listen, Config, Exposure};
use crate::demo::{LoadError, LoadSummary};
use crate::domain::access::{Role, Scope};
use crate::domain::IdKey;
use crate::server::tls::{TlsError, TlsIdentity};
use crate::server::{Ready, ServeError};
use crate::store::{Store, StoreError, StoreOptions};

/// Why `serve` could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// A setting is invalid (a flag, the config file, the listen address).
    #[error("{0}")]
    Config(String),
    /// A TLS file cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The data directory cannot be opened.
    #[error("cannot open data directory {}", dir.display())]
    Open {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The national id key cannot be found, read or generated.
    #[error("{0}")]
    IdKey(String),
    /// Writing the demo data failed.
    #[error(transparent)]
    Demo(#[from] LoadError),
    /// The store failed (tokens, flush).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// rayon's pool could not start (or was started before).
    #[error("cannot start the ranking pool")]
    RankPool(#[source] rayon::ThreadPoolBuildError),
    /// The tokio runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Everything `jobbridge serve` does: [`Launch::open`], the ranking pool,
/// a runtime, the listener, [`Launch::run`] until SIGINT or SIGTERM.
pub fn serve(config: Config) -> Result<(), LaunchError> {
    let launch = Launch::open(config)?;
    // Ranking runs on rayon's pool; tokio's workers only wait for it.
    rayon::ThreadPoolBuilder::new()
        .num_threads(launch.config.rank_threads)
        .thread_name(|i| format!("jobbridge-rank-{i}"))
        .build_global()
        .map_err(LaunchError::RankPool)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(LaunchError::Runtime)?;
    runtime.block_on(async {
        let addr = launch.config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| LaunchError::Listen { addr, source })?;
        launch.run(listener, shutdown_signal()).await
    })
}

/// An open store, the TLS identity and the settings to serve it with,
/// checked and complete: the national id key is resolved and the audit
/// directory set.
pub struct Launch {
    store: Arc<Store>,
    tls: Option<TlsIdentity>,
    config: Config,
}

impl Launch {
    /// Checks the listen address and TLS files before anything else, so a
    /// refused start changes nothing; then opens the data directory, finds
    /// (or generates) the national id key, runs the demo bootstrap if
    /// `config.demo`, and warns if no token could call the server.
    pub fn open(mut config: Config) -> Result<Self, LaunchError> {
        let exposure = check_listen(config.listen, config.tls.is_some(), config.insecure)
            .map_err(LaunchError::Config)?;
        if exposure == Exposure::InsecurePlaintext {
            tracing::warn!(
                listen = %config.listen,
                "--insecure: serving plaintext gRPC on a non-loopback address; \
                 anyone on the network path can read and alter the traffic"
            );
        }
        if let Some(console) = config.console_listen {
            // The console carries tokens and personal data as gRPC does:
            // the same rule for plaintext off loopback.
            check_listen(console, config.tls.is_some(), config.insecure)
                .map_err(|e| LaunchError::Config(format!("--console-listen: {e}")))?;
        }
        // Loaded before the store opens, so that a bad file changes
        // nothing; kept for the server.
        let tls = match &config.tls {
            Some(files) => {
                let identity = TlsIdentity::load(&files.cert, &files.key)?;
                tracing::info!(
                    certificates = identity.certificates(),
                    "TLS certificate and key loaded"
                );
                Some(identity)
            }
            None => None,
        };
        let store = open_store(
            &config.data_dir,
            StoreOptions {
                min_free_bytes: config.min_free_disk_mb.saturating_mul(1024 * 1024),
                ..StoreOptions::with_cache_mb(config.cache_mb)
            },
        )?;
        let key = match config.id_key.take() {
            Some(key) => key,
            None => id_key::resolve(config.id_key_file.as_deref(), &store)?,
        };
        config.id_key = Some(key.clone());
        if config.batch.audit_dir.is_none() {
            config.batch.audit_dir = Some(config.data_dir.join("audit"));
        }
        if config.demo {
            demo_bootstrap(&store, &key, config.listen)?;
        }
        if let Some(path) = &config.admin_token_file {
            admin_token::bootstrap(&store, path)?;
        }
        if store.tokens()?.iter().all(|t| t.revoked_at_ms != 0) {
            tracing::warn!(
                "no valid token: every call but health and reflection will be refused; start \
                 with --admin-token-file PATH to have one written, or stop the server and run \
                 `jobbridge token create --data-dir {} --role admin`",
                config.data_dir.display()
            );
        }
        if let Err(e) = store.record_pid() {
            tracing::warn!(error = %e, "cannot record the pid in the data directory");
        }
        Ok(Self {
            store: Arc::new(store),
            tls,
            config,
        })
    }

    /// The open store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The settings, with the key and audit directory filled in.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Builds the service (binding the national id key, building the match
    /// index: [`Ready::with_tls`]), serves it on `listener` until
    /// `shutdown` completes, then flushes what background work may have
    /// left (in-flight calls are done by then).
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), LaunchError> {
        let Self { store, tls, config } = self;
        let for_service = store.clone();
        let ready = tokio::task::spawn_blocking(move || Ready::with_tls(for_service, tls, config))
            .await
            .expect("service start-up does not panic");
        let served = match ready {
            Ok(ready) => crate::server::run(listener, ready, shutdown).await,
            Err(e) => Err(e),
        };
        // Last, after every call has ended or been cut: the flush.
        let flushed = tokio::task::spawn_blocking(move || {
            let flushed = store.flush_blocking();
            store.forget_pid();
            flushed
        })
        .await
        .expect("flushing does not panic");
        served?;
        flushed?;
        tracing::info!("stopped; store flushed");
        Ok(())
    }
}

/// Opens `dir`, naming it in the error.
pub fn open_store(dir: &Path, options: StoreOptions) -> Result<Store, LaunchError> {
    Store::open_with(dir, options).map_err(|source| LaunchError::Open {
        dir: dir.to_path_buf(),
        source,
    })
}

/// Writes the demo data set (`scale` 1.0 is Huaihua) into `store`, hashing
/// national ids with `key`; the same `seed` gives the same data.
pub fn write_demo(
    store: &Store,
    key: &IdKey,
    scale: f64,
    seed: u64,
) -> Result<LoadSummary, LoadError> {
    let started = std::time::Instant::now();
    let year = crate::domain::current_year();
    let today = chrono::Utc::now().date_naive();
    let data = crate::demo::generate(scale, seed, year, today);
    let summary = crate::demo::load(store, key, &data, year)?;
    tracing::info!(
        workers = summary.workers,
        openings = summary.openings,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo data written"
    );
    Ok(summary)
}

/// `--demo`: fills an empty data directory with the demo data and an admin
/// token, printed once on stdout (only its hash is stored). A directory
/// with data is left as it is, so a restart with `--demo` changes nothing.
/// Both the demo loader and the server bind the key to the store before
/// they write: a wrong key stops either.
fn demo_bootstrap(store: &Store, key: &IdKey, listen: SocketAddr) -> Result<(), LaunchError> {
    if store.worker_count() != 0 || store.opening_count() != 0 {
        tracing::info!("data directory is not empty: --demo leaves it as it is");
        return Ok(());
    }
    write_demo(store, key, 1.0, 1)?;
    let (_, token) = store.create_token(Role::Admin, &Scope::default(), "demo admin", "demo")?;
    store.flush_blocking()?;
    println!(
        "Demo admin token (shown once, only its hash is stored):\n\n  {token}\n\n\
         Try:\n  grpcurl -plaintext -H \"authorization: Bearer {token}\" {listen} list\n"
    );
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight calls");
}
