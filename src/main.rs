//! The `jobbridge` binary: parses the command line, sets up logging and
//! calls into the library (`serve` is [`jobbridge::launch::serve`]).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use jobbridge::cli::args::{DataDir, PolicyArg, RoleArg, Target};
use jobbridge::cli::token;
use jobbridge::cli::{
    batch_offline, batch_remote, report_offline, report_remote, BatchArgs, ReportArgs,
};
use jobbridge::config::FileConfig;
use jobbridge::domain::access::Role;
use jobbridge::launch::flags::{default_candidates_per_worker, IdKeyArgs, ServeArgs};
use jobbridge::launch::{open_store, write_demo};
use jobbridge::store::StoreOptions;

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

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Run one batch assignment now, on a data directory or through a server.
    Batch {
        #[command(flatten)]
        target: Target,
        /// optimal: exact; stable: deferred acceptance.
        #[arg(long, value_enum, default_value_t = PolicyArg::Optimal)]
        policy: PolicyArg,
        /// Store the results but propose nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write edges.csv, openings.csv, workers.csv and assignment.csv here.
        #[arg(long)]
        export: Option<PathBuf>,
        /// Each worker's best N eligible openings are the run's candidates.
        #[arg(long, default_value_t = default_candidates_per_worker(),
              value_parser = clap::value_parser!(u32).range(1..=10_000))]
        candidates_per_worker: u32,
        /// TOML config file with match weights.
        #[arg(long, env = "JOBBRIDGE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Write the deterministic Huaihua-shaped demo data set into a data directory.
    DemoData {
        #[command(flatten)]
        dir: DataDir,
        /// Size factor: 1.0 is Huaihua (about 50,000 workers), 10 is ten times that.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Random seed; the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        id_key: IdKeyArgs,
    },
    /// Print the coverage report, from a data directory or a running server.
    Report {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        args: ReportArgs,
    },
    /// Create, list and revoke API tokens on a data directory.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Import a workers' or openings' ledger (.csv or .xlsx, Chinese or
    /// English headers); rejected rows come back in a file of the same format.
    Import(jobbridge::cli::ledger::ImportCommand),
    /// Export workers, openings, placements or due check-ins as CSV or xlsx.
    Export(jobbridge::cli::ExportCommand),
    /// Write an empty ledger with its headers and an example row.
    Template(jobbridge::cli::ledger::TemplateCommand),
    /// Check that every index agrees with the records (reads everything),
    /// and that the national id key, if one is found, is the store's.
    Check {
        #[command(flatten)]
        dir: DataDir,
        #[command(flatten)]
        id_key: IdKeyArgs,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token and print it alone on standard output (it is shown
    /// once: only its hash is stored).
    Create {
        #[command(flatten)]
        dir: DataDir,
        /// The token's role.
        #[arg(long, value_enum)]
        role: RoleArg,
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
        #[command(flatten)]
        dir: DataDir,
    },
    /// Revoke a token; its next call is refused.
    Revoke {
        #[command(flatten)]
        dir: DataDir,
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
        Command::Serve(args) => Ok(jobbridge::launch::serve(args.into_config()?)?),
        Command::Batch {
            target,
            policy,
            dry_run,
            export,
            candidates_per_worker,
            config,
        } => {
            let args = BatchArgs {
                policy: policy.into(),
                dry_run,
                export,
                candidates_per_worker: candidates_per_worker as usize,
            };
            match &target.server {
                Some(addr) => runtime()?.block_on(batch_remote(
                    addr,
                    target.tls_ca.as_deref(),
                    target.token.as_deref(),
                    &args,
                )),
                None => batch_offline(&target.data_dir, &args, load_config(config.as_deref())?),
            }
        }
        Command::DemoData {
            dir,
            scale,
            seed,
            id_key,
        } => {
            anyhow::ensure!(
                scale.is_finite() && scale > 0.0 && scale <= 1000.0,
                "--scale must be in (0, 1000]"
            );
            let store = open_store(&dir.data_dir, StoreOptions::default())?;
            let key = id_key.key(&store)?;
            write_demo(&store, &key, scale, seed)?;
            Ok(())
        }
        Command::Report { target, args } => match &target.server {
            Some(addr) => runtime()?.block_on(report_remote(
                addr,
                target.tls_ca.as_deref(),
                target.token.as_deref(),
                &args,
            )),
            None => report_offline(&target.data_dir, &args),
        },
        Command::Token { action } => match action {
            TokenAction::Create {
                dir,
                role,
                scope,
                label,
            } => {
                let role = Role::from(role);
                let scope = token::scope_for(role, &scope)?;
                println!("{}", token::create(&dir.data_dir, role, &scope, &label)?);
                Ok(())
            }
            TokenAction::List { dir } => {
                print!("{}", token::list(&dir.data_dir)?);
                Ok(())
            }
            TokenAction::Revoke { dir, token_id } => {
                println!("{}", token::revoke(&dir.data_dir, &token_id)?);
                Ok(())
            }
        },
        Command::Import(command) => command.run(),
        Command::Export(command) => command.run(),
        Command::Template(command) => command.run(),
        Command::Check { dir, id_key } => check(&dir.data_dir, &id_key),
    }
}

/// `check`: the store's own consistency, then the key against the store's.
fn check(data_dir: &Path, id_key: &IdKeyArgs) -> anyhow::Result<()> {
    let store = open_store(data_dir, StoreOptions::default())?;
    store.verify().context("index check failed")?;
    let key = match id_key.find(data_dir)? {
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

/// The match weights of `--config`, or the built-in ones.
fn load_config(path: Option<&Path>) -> anyhow::Result<jobbridge::matching::MatchConfig> {
    match path {
        Some(path) => Ok(FileConfig::load(path).map_err(anyhow::Error::msg)?.matching),
        None => Ok(FileConfig::default().matching),
    }
}

/// A runtime for the commands that talk to a server.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
