//! The `jobbridge` binary: parses the command line, sets up logging and
//! calls into the library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use jobbridge::api::auth::RateLimit;
use jobbridge::batch::schedule::Schedule;
use jobbridge::batch::BatchSettings;
use jobbridge::cli::token;
use jobbridge::cli::{
    batch_offline, batch_remote, report_offline, report_remote, BatchArgs, ReportArgs,
};
use jobbridge::config::{
    check_listen, find_id_key, id_key, Config, Exposure, FileConfig, IdKeySource, DEFAULT_DATA_DIR,
    DEFAULT_LISTEN, ID_KEY_ENV,
};
use jobbridge::domain::access::{Role, Scope};
use jobbridge::domain::identity::short_fingerprint;
use jobbridge::domain::run::Policy;
use jobbridge::domain::IdKey;
use jobbridge::server::tls::TlsIdentity;
use jobbridge::server::{ServerOptions, DEFAULT_MAX_MESSAGE_BYTES};
use jobbridge::store::Store;

/// mimalloc: the import path is allocation-heavy (sled transactions), and
/// it measured about 1.7x faster there than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "jobbridge",
    version,
    about = "gRPC job matching for relocated workers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Batch settings of `serve`.
#[derive(clap::Args, Debug)]
struct BatchFlags {
    /// Local time of the nightly run, HH:MM.
    #[arg(long, env = "JOBBRIDGE_BATCH_AT", default_value = "02:00")]
    batch_at: String,
    /// Time zone of --batch-at (IANA name).
    #[arg(
        long,
        env = "JOBBRIDGE_BATCH_TIMEZONE",
        default_value = "Asia/Shanghai"
    )]
    batch_timezone: String,
    /// Do not run the nightly batch.
    #[arg(long)]
    no_schedule: bool,
    /// Each worker's best N eligible openings are a run's candidates.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    candidates_per_worker: u32,
    /// Runs kept; older ones and their audit files are deleted.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    keep_runs: u32,
    /// Where runs' audit files go (default: DATA_DIR/audit).
    #[arg(long, env = "JOBBRIDGE_AUDIT_DIR")]
    audit_dir: Option<PathBuf>,
}

/// Transport security of `serve`.
#[derive(clap::Args, Debug)]
struct TlsFlags {
    /// Serve TLS with this PEM certificate chain (server certificate first).
    #[arg(long, env = "JOBBRIDGE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "JOBBRIDGE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plaintext even when --listen is not a loopback address (e.g.
    /// behind a proxy that terminates TLS).
    #[arg(long, conflicts_with = "tls_cert")]
    insecure: bool,
}

/// Where the national id key comes from.
#[derive(clap::Args, Debug)]
struct IdKeyFlags {
    /// File holding the national id key as hex (at least 32 bytes). Without
    /// it the key comes from the JOBBRIDGE_ID_KEY environment variable, else
    /// from DATA_DIR/id.key, generated on the first start.
    #[arg(long, value_name = "PATH")]
    id_key_file: Option<PathBuf>,
}

impl IdKeyFlags {
    /// The key of `store`, generating DATA_DIR/id.key if no source is
    /// given and the store has no key yet.
    fn key(&self, store: &Store) -> anyhow::Result<IdKey> {
        let env = id_key_env()?;
        let (key, source) = id_key(self.id_key_file.as_deref(), env.as_deref(), store)
            .map_err(anyhow::Error::msg)?;
        log_key_source(&key, &source);
        Ok(key)
    }

    /// The key if a source is given or DATA_DIR/id.key exists.
    fn find(&self, data_dir: &Path) -> anyhow::Result<Option<IdKey>> {
        let env = id_key_env()?;
        let found = find_id_key(self.id_key_file.as_deref(), env.as_deref(), data_dir)
            .map_err(anyhow::Error::msg)?;
        Ok(found.map(|(key, source)| {
            log_key_source(&key, &source);
            key
        }))
    }
}

/// JOBBRIDGE_ID_KEY, read here rather than through clap: a key must not be a
/// command-line argument, where every user of the machine can see it.
fn id_key_env() -> anyhow::Result<Option<String>> {
    match std::env::var(ID_KEY_ENV) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("{ID_KEY_ENV} is not hex"),
    }
}

fn log_key_source(key: &IdKey, source: &IdKeySource) {
    let from = match source {
        IdKeySource::File(path) => path.display().to_string(),
        IdKeySource::Env => ID_KEY_ENV.to_string(),
        IdKeySource::DataDir { path, .. } => path.display().to_string(),
    };
    tracing::info!(
        from,
        fingerprint = short_fingerprint(&key.fingerprint()),
        "national id key"
    );
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "JOBBRIDGE_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// sled data directory (created if missing).
        #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Largest request message in bytes; larger ones get RESOURCE_EXHAUSTED.
        #[arg(long, env = "JOBBRIDGE_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
        max_message_bytes: usize,
        /// Fill an empty data directory with the Huaihua demo data first.
        #[arg(long)]
        demo: bool,
        /// TOML config file with match weights (see jobbridge.example.toml).
        #[arg(long, env = "JOBBRIDGE_CONFIG")]
        config: Option<PathBuf>,
        /// Threads that rank matches (rayon); 0 means one per core.
        #[arg(long, env = "JOBBRIDGE_RANK_THREADS", default_value_t = 0)]
        rank_threads: usize,
        /// Calls per second allowed to each token (0: no limit); a token
        /// over it gets RESOURCE_EXHAUSTED while others are served.
        #[arg(long, env = "JOBBRIDGE_RATE_LIMIT", default_value_t = 2000.0)]
        rate_limit: f64,
        /// Calls a token may make at once after a quiet spell (default:
        /// twice --rate-limit).
        #[arg(long, env = "JOBBRIDGE_RATE_BURST")]
        rate_burst: Option<f64>,
        /// Days the audit log keeps its entries.
        #[arg(long, env = "JOBBRIDGE_AUDIT_RETENTION_DAYS", default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..))]
        audit_retention_days: u32,
        #[command(flatten)]
        batch: BatchFlags,
        #[command(flatten)]
        tls: TlsFlags,
        #[command(flatten)]
        id_key: IdKeyFlags,
    },
    /// Run one batch assignment now, on a data directory or through a server.
    Batch {
        /// sled data directory (the server must not be running on it).
        #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR, conflicts_with = "server")]
        data_dir: PathBuf,
        /// Address of a running server, e.g. 127.0.0.1:50051.
        #[arg(long)]
        server: Option<String>,
        /// Admin token for --server.
        #[arg(long, env = "JOBBRIDGE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// With --server: PEM certificate of the CA that signed a TLS server's
        /// certificate (connects with https).
        #[arg(long, env = "JOBBRIDGE_TLS_CA")]
        tls_ca: Option<PathBuf>,
        /// optimal (exact; the default) or stable (deferred acceptance).
        #[arg(long, default_value = "optimal", value_parser = ["optimal", "stable"])]
        policy: String,
        /// Store the results but propose nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write edges.csv, openings.csv, workers.csv and assignment.csv here.
        #[arg(long)]
        export: Option<PathBuf>,
        /// Each worker's best N eligible openings are the run's candidates.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        candidates_per_worker: u32,
        /// TOML config file with match weights.
        #[arg(long, env = "JOBBRIDGE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Write the deterministic Huaihua-shaped demo data set into a data directory.
    DemoData {
        /// sled data directory (created if missing).
        #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Size factor: 1.0 is Huaihua (about 50,000 workers), 10 is ten times that.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Random seed; the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        id_key: IdKeyFlags,
    },
    /// Print the coverage report, from a data directory or a running server.
    Report {
        /// sled data directory (the server must not be running on it).
        #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR, conflicts_with = "server")]
        data_dir: PathBuf,
        /// Address of a running server, e.g. 127.0.0.1:50051.
        #[arg(long)]
        server: Option<String>,
        /// Token for --server (admin, reader, or a service company with --county).
        #[arg(long, env = "JOBBRIDGE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// With --server: PEM certificate of the CA that signed a TLS server's
        /// certificate (connects with https).
        #[arg(long, env = "JOBBRIDGE_TLS_CA")]
        tls_ca: Option<PathBuf>,
        /// Only this county (six-digit code).
        #[arg(long)]
        county: Option<String>,
        /// Only this resettlement site.
        #[arg(long)]
        site: Option<String>,
        /// Only this source: aid_workshop, public_welfare, labour_cooperation,
        /// work_relief, industrial_park or enterprise.
        #[arg(long)]
        source: Option<String>,
        /// First day of the placement figures, YYYY-MM-DD (default: from the start).
        #[arg(long)]
        from: Option<String>,
        /// Last day of the placement figures, YYYY-MM-DD (default: today).
        #[arg(long)]
        to: Option<String>,
        /// Print CSV (one row per county and a total row) instead of a table.
        #[arg(long)]
        csv: bool,
        /// With --csv: print the slots per source instead.
        #[arg(long, requires = "csv")]
        slots: bool,
    },
    /// Create, list and revoke API tokens on a data directory.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Check that every index agrees with the records (reads everything),
    /// and that the national id key, if one is found, is the store's.
    Check {
        /// sled data directory.
        #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        #[command(flatten)]
        id_key: IdKeyFlags,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token and print it alone on standard output (it is shown
    /// once: only its hash is stored).
    Create {
        /// sled data directory (the server must not be running on it).
        #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// admin, service_company, recruiter or reader.
        #[arg(long, value_parser = ["admin", "service_company", "recruiter", "reader"])]
        role: String,
        /// service_company: county codes (repeat or comma-separate);
        /// recruiter: the employer id.
        #[arg(long)]
        scope: Vec<String>,
        /// Who or what the token is for.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (ids, roles, scopes; never secrets).
    List {
        /// sled data directory.
        #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Revoke a token; its next call is refused.
    Revoke {
        /// sled data directory.
        #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// The token id (tok_...).
        token_id: String,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            listen,
            data_dir,
            max_message_bytes,
            demo,
            config,
            rank_threads,
            rate_limit,
            rate_burst,
            audit_retention_days,
            batch,
            tls,
            id_key,
        } => {
            anyhow::ensure!(
                rate_limit.is_finite() && rate_limit >= 0.0,
                "--rate-limit must be a number >= 0"
            );
            let rate_limit = (rate_limit > 0.0).then(|| RateLimit {
                per_second: rate_limit,
                burst: rate_burst.unwrap_or(rate_limit * 2.0).max(1.0),
            });
            let identity = match (&tls.tls_cert, &tls.tls_key) {
                (Some(cert), Some(key)) => Some(TlsIdentity::load(cert, key)?),
                _ => None,
            };
            let file = load_config(config.as_deref())?;
            let schedule = if batch.no_schedule {
                None
            } else {
                Some(
                    Schedule::parse(&batch.batch_at, &batch.batch_timezone)
                        .map_err(anyhow::Error::msg)?,
                )
            };
            let settings = BatchSettings {
                candidates_per_worker: batch.candidates_per_worker as usize,
                keep_runs: batch.keep_runs as usize,
                audit_dir: Some(batch.audit_dir.unwrap_or_else(|| data_dir.join("audit"))),
            };
            // Before the data directory is opened: a refused address
            // changes nothing.
            let exposure = check_listen(listen, identity.is_some(), tls.insecure)
                .map_err(anyhow::Error::msg)?;
            if exposure == Exposure::InsecurePlaintext {
                tracing::warn!(
                    %listen,
                    "--insecure: serving plaintext gRPC on a non-loopback address; \
                     anyone on the network path can read and alter the traffic"
                );
            }
            let store = open(&data_dir)?;
            let id_key = id_key.key(&store)?;
            serve(
                store,
                Config {
                    listen,
                    data_dir,
                    max_message_bytes,
                    demo,
                    matching: file.matching,
                    rank_threads,
                    batch: settings,
                    schedule,
                    rate_limit,
                    audit_retention: std::time::Duration::from_secs(
                        u64::from(audit_retention_days) * 24 * 3600,
                    ),
                    tls: identity,
                    insecure: tls.insecure,
                    id_key,
                },
            )
        }
        Command::Batch {
            data_dir,
            server,
            token,
            tls_ca,
            policy,
            dry_run,
            export,
            candidates_per_worker,
            config,
        } => {
            let args = BatchArgs {
                policy: if policy == "stable" {
                    Policy::Stable
                } else {
                    Policy::Optimal
                },
                dry_run,
                export,
                candidates_per_worker: candidates_per_worker as usize,
            };
            match server {
                Some(addr) => tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?
                    .block_on(batch_remote(
                        &addr,
                        tls_ca.as_deref(),
                        token.as_deref(),
                        &args,
                    )),
                None => batch_offline(&data_dir, &args, load_config(config.as_deref())?.matching),
            }
        }
        Command::DemoData {
            data_dir,
            scale,
            seed,
            id_key,
        } => {
            anyhow::ensure!(
                scale.is_finite() && scale > 0.0 && scale <= 1000.0,
                "--scale must be in (0, 1000]"
            );
            let store = open(&data_dir)?;
            let key = id_key.key(&store)?;
            demo_data(&store, &key, scale, seed)
        }
        Command::Report {
            data_dir,
            server,
            token,
            tls_ca,
            county,
            site,
            source,
            from,
            to,
            csv,
            slots,
        } => {
            let args = ReportArgs {
                county,
                site,
                source,
                from,
                to,
                csv,
                slots,
            };
            match server {
                Some(addr) => tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?
                    .block_on(report_remote(
                        &addr,
                        tls_ca.as_deref(),
                        token.as_deref(),
                        &args,
                    )),
                None => report_offline(&data_dir, &args),
            }
        }
        Command::Token { action } => match action {
            TokenAction::Create {
                data_dir,
                role,
                scope,
                label,
            } => {
                let role = Role::from_label(&role).context("unknown role")?;
                let scope = token::scope_for(role, &scope)?;
                println!("{}", token::create(&data_dir, role, &scope, &label)?);
                Ok(())
            }
            TokenAction::List { data_dir } => {
                print!("{}", token::list(&data_dir)?);
                Ok(())
            }
            TokenAction::Revoke { data_dir, token_id } => {
                println!("{}", token::revoke(&data_dir, &token_id)?);
                Ok(())
            }
        },
        Command::Check { data_dir, id_key } => {
            let store = open(&data_dir)?;
            store.verify().context("index check failed")?;
            let key = match id_key.find(&data_dir)? {
                Some(key) if store.check_id_key(&key)? => "the national id key is the store's",
                Some(_) => "no national id key bound yet (the next `serve` binds it)",
                None => "national id key not checked (none given)",
            };
            println!(
                "ok: {} workers, {} openings, {} placements; indexes, slots and statuses agree; {key}",
                store.worker_count(),
                store.opening_count(),
                store.placement_count()
            );
            Ok(())
        }
    }
}

fn load_config(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    match path {
        Some(path) => FileConfig::load(path).map_err(anyhow::Error::msg),
        None => Ok(FileConfig::default()),
    }
}

fn open(dir: &Path) -> anyhow::Result<Store> {
    Store::open(dir).with_context(|| format!("cannot open data directory {}", dir.display()))
}

fn demo_data(store: &Store, key: &IdKey, scale: f64, seed: u64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let year = jobbridge::domain::current_year();
    let today = chrono::Utc::now().date_naive();
    let data = jobbridge::demo::generate(scale, seed, year, today);
    let summary = jobbridge::demo::load(store, key, &data, year)?;
    tracing::info!(
        workers = summary.workers,
        openings = summary.openings,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo data written"
    );
    Ok(())
}

fn serve(store: Store, config: Config) -> anyhow::Result<()> {
    if let Some(tls) = &config.tls {
        tracing::info!(
            certificates = tls.certificates(),
            "TLS certificate and key loaded"
        );
    }
    let store = Arc::new(store);
    // Both the demo loader and the server bind the key to the store before
    // they write: a wrong key stops either.
    if config.demo {
        if store.worker_count() == 0 && store.opening_count() == 0 {
            demo_data(&store, &config.id_key, 1.0, 1)?;
            let (_, token) =
                store.create_token(Role::Admin, &Scope::default(), "demo admin", "demo")?;
            store.flush_blocking()?;
            println!(
                "Demo admin token (shown once, only its hash is stored):\n\n  {token}\n\n\
                 Try:\n  grpcurl -plaintext -H \"authorization: Bearer {token}\" {} list\n",
                config.listen
            );
        } else {
            tracing::info!("data directory is not empty: --demo leaves it as it is");
        }
    }
    if store.tokens()?.iter().all(|t| t.revoked_at_ms != 0) {
        tracing::warn!(
            "no valid token: every call but health will be refused; stop the server and run \
             `jobbridge token create --data-dir {} --role admin`",
            config.data_dir.display()
        );
    }
    // Ranking runs on rayon's pool; tokio's workers only wait for it.
    rayon::ThreadPoolBuilder::new()
        .num_threads(config.rank_threads)
        .thread_name(|i| format!("jobbridge-rank-{i}"))
        .build_global()
        .context("cannot start the ranking pool")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let options = ServerOptions {
            max_message_bytes: config.max_message_bytes,
            matching: config.matching.clone(),
            batch: config.batch.clone(),
            schedule: config.schedule,
            rate_limit: config.rate_limit,
            audit_retention: config.audit_retention,
            tls: config.tls.clone(),
            id_key: Some(config.id_key.clone()),
        };
        jobbridge::server::run(listener, store.clone(), options, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    // In-flight calls are done; flush what background work may have left.
    store.flush_blocking()?;
    tracing::info!("stopped; store flushed");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
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
