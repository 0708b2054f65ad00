//! The `jobbridge` binary: parses the command line, sets up logging and
//! calls into the library (`serve` is [`jobbridge::launch::serve`]).

use std::path::{Path, PathBuf};

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use jobbridge::cli::args::{DataDir, PolicyArg, RoleArg, Target};
use jobbridge::cli::{
    batch_offline, batch_remote, list_runs_offline, list_runs_remote, policy_offline,
    policy_remote, report_offline, report_remote, review_offline, review_remote, BatchArgs,
    PolicyArgs, ReportArgs, ReviewArgs,
};
use jobbridge::cli::{exit, token};
use jobbridge::config::FileConfig;
use jobbridge::config::LogFormat;
use jobbridge::domain::access::Role;
use jobbridge::domain::Lang;
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
    /// Run one batch assignment now, on a data directory or through a
    /// server; `batch diff` / `batch apply` review and apply a staged run.
    #[command(args_conflicts_with_subcommands = true)]
    Batch {
        #[command(subcommand)]
        review: Option<ReviewAction>,
        #[command(flatten)]
        target: Target,
        /// optimal: exact; stable: deferred acceptance.
        #[arg(long, value_enum, default_value_t = PolicyArg::Optimal)]
        policy: PolicyArg,
        /// Store the results but propose nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the audit files here (edges, openings, workers, assignment, anchor, prices).
        #[arg(long)]
        export: Option<PathBuf>,
        /// Each worker's best N eligible openings are the run's candidates.
        #[arg(long, default_value_t = default_candidates_per_worker(),
              value_parser = clap::value_parser!(u32).range(1..=10_000))]
        candidates_per_worker: u32,
        /// TOML config file with match weights and the [policy] rules
        /// (offline only; a server applies its own).
        #[arg(long, env = "JOBBRIDGE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// What the nightly optimum would do differently after some changes
    /// (openings added, resized or closed; workers added or removed), on a
    /// data directory or through a server; nothing is stored.
    Whatif(jobbridge::cli::WhatIfCommand),
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
    /// Print the policy lists (public-welfare posts, aid workshops, waiting
    /// zero-employment households, recommendations owed, counselling
    /// visits), from a data directory or a running server.
    Policy {
        #[command(flatten)]
        target: Target,
        /// One county, by code (431202) or name (鹤城区); a service company's token must name one.
        #[arg(long, value_parser = jobbridge::cli::args::county_flag)]
        county: Option<String>,
        /// Rows listed per section.
        #[arg(long, default_value_t = 50)]
        max_rows: usize,
        /// zh or en (default: from the locale).
        #[arg(long, value_parser = ["zh", "en"])]
        lang: Option<String>,
        /// TOML config file with the [policy] table (offline only; a server
        /// uses its own).
        #[arg(long, env = "JOBBRIDGE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print the coverage report, from a data directory or a running server.
    Report {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        args: ReportArgs,
    },
    /// Create, list and revoke API tokens, on a data directory or
    /// through a running server (--server ADDR --token ADMIN).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Import a workers' or openings' ledger (.csv or .xlsx, Chinese or
    /// English headers); rejected rows come back in a file of the same format.
    Import(jobbridge::cli::ledger::ImportCommand),
    /// Export workers, openings, placements or due check-ins as CSV or xlsx.
    Export(jobbridge::cli::ExportCommand),
    /// Write a consistent, compressed and checksummed backup of the whole
    /// store to one file, from a running server (--server ADDR --token
    /// ADMIN; it goes on serving) or a stopped data directory.
    Backup(jobbridge::cli::BackupCommand),
    /// Restore a backup file into a new (or empty) data directory, and
    /// check the result as `check` does; a cut or damaged file is refused.
    Restore(jobbridge::cli::RestoreCommand),
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
    /// Print a shell completion script (e.g. `jobbridge completions bash`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `jobbridge man | man -l -`;
    /// with --out-dir, write every page (jobbridge.1 and one per
    /// subcommand, which the main page's SEE ALSO names) into a directory.
    Man {
        /// Write jobbridge.1 and jobbridge-<command>.1 here (e.g.
        /// /usr/local/share/man/man1) instead of printing the main page.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ReviewAction {
    /// The runs, newest first: an admin sees each whole, a service
    /// company's token its counties' part of each.
    List {
        #[command(flatten)]
        target: Target,
        /// Runs listed (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// zh or en (default: from the locale).
        #[arg(long, value_parser = ["zh", "en"])]
        lang: Option<String>,
    },
    /// A run's summary and its diff against the last applied run.
    Diff {
        #[command(flatten)]
        review: ReviewFlags,
    },
    /// Shows the diff, asks, then turns the staged run's still-valid
    /// assignments into proposals (stale ones are refused with the reason).
    Apply {
        #[command(flatten)]
        review: ReviewFlags,
        /// Apply without asking.
        #[arg(long)]
        yes: bool,
        /// Who applies it, for the placements' history.
        #[arg(long, default_value = "cli")]
        actor: String,
    },
}

#[derive(clap::Args)]
struct ReviewFlags {
    #[command(flatten)]
    target: Target,
    /// The run id.
    run_id: u64,
    /// One county's part, by code (431202) or name (鹤城区); a service company's token must name one.
    #[arg(long, value_parser = jobbridge::cli::args::county_flag)]
    county: Option<String>,
    /// Diff lines listed (the counts cover all).
    #[arg(long, default_value_t = 20)]
    show: usize,
    /// zh or en (default: from the locale).
    #[arg(long, value_parser = ["zh", "en"])]
    lang: Option<String>,
    /// TOML config file with match weights and the [policy] rules that
    /// applying checks eligibility under (offline only; a server applies
    /// its own).
    #[arg(long, env = "JOBBRIDGE_CONFIG")]
    config: Option<PathBuf>,
}

/// `--lang`, else the locale, else English.
fn lang(flag: Option<&str>) -> Lang {
    match flag {
        Some("zh") => Lang::Zh,
        Some(_) => Lang::En,
        None => ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .and_then(|v| Lang::from_locale(&v))
            .unwrap_or_default(),
    }
}

fn review(flags: ReviewFlags, yes: bool, actor: String, apply: bool) -> anyhow::Result<()> {
    let config = load_config(flags.config.as_deref())?;
    let args = ReviewArgs {
        run_id: flags.run_id,
        county: flags.county,
        yes,
        actor,
        show: flags.show,
        lang: lang(flags.lang.as_deref()),
    };
    let target = flags.target;
    match &target.server {
        Some(addr) => runtime()?.block_on(review_remote(
            addr,
            target.tls_ca.as_deref(),
            target.token.as_deref(),
            &args,
            apply,
        )),
        None => review_offline(
            &target.data_dir,
            &args,
            apply,
            config.matching,
            config.policy,
        ),
    }
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token and print it alone on standard output (it is shown
    /// once: only its hash is stored).
    Create {
        #[command(flatten)]
        target: Target,
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
        target: Target,
    },
    /// Revoke a token; its next call is refused.
    Revoke {
        #[command(flatten)]
        target: Target,
        /// The token id (tok_...).
        token_id: String,
    },
}

/// Parses, runs, and exits with the code of [`exit`]'s table: 2 for
/// usage, 65 for refused input, 69 for an unavailable server or data
/// directory, 70 for the rest.
fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The message and its causes, never a backtrace: people read
            // this (RUST_BACKTRACE is for the developers' panics).
            eprintln!("Error: {}", exit::describe(e.as_ref()));
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {}", exit::describe(cause));
            }
            ExitCode::from(exit::code_for(&e))
        }
    }
}

/// Logs to standard error as `format`, at RUST_LOG's levels (default
/// info); colour codes only when standard error is a terminal, so a file
/// or journald gets plain text.
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal as _;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    if let Command::Serve(args) = cli.command {
        let serve = matches.subcommand_matches("serve").expect("serve matched");
        let config = args.into_config(serve)?;
        init_logging(config.log_format);
        return Ok(jobbridge::launch::serve(config)?);
    }
    let format = std::env::var("JOBBRIDGE_LOG_FORMAT")
        .ok()
        .and_then(|f| f.parse().ok())
        .unwrap_or_default();
    init_logging(format);
    match cli.command {
        Command::Serve(_) => unreachable!("served above"),
        Command::Batch {
            review: Some(action),
            ..
        } => match action {
            ReviewAction::List {
                target,
                limit,
                lang: language,
            } => {
                let language = lang(language.as_deref());
                match &target.server {
                    Some(addr) => runtime()?.block_on(list_runs_remote(
                        addr,
                        target.tls_ca.as_deref(),
                        target.token.as_deref(),
                        limit,
                        language,
                    )),
                    None => list_runs_offline(&target.data_dir, limit, language),
                }
            }
            ReviewAction::Diff { review: flags } => review(flags, false, String::new(), false),
            ReviewAction::Apply {
                review: flags,
                yes,
                actor,
            } => review(flags, yes, actor, true),
        },
        Command::Batch {
            review: None,
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
                None => {
                    let config = load_config(config.as_deref())?;
                    batch_offline(&target.data_dir, &args, config.matching, config.policy)
                }
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
        Command::Policy {
            target,
            county,
            max_rows,
            lang: language,
            config,
        } => {
            let args = PolicyArgs {
                county,
                max_rows,
                lang: lang(language.as_deref()),
            };
            match &target.server {
                Some(addr) => runtime()?.block_on(policy_remote(
                    addr,
                    target.tls_ca.as_deref(),
                    target.token.as_deref(),
                    &args,
                )),
                None => {
                    let rules = match config.as_deref() {
                        Some(path) => FileConfig::load(path).map_err(anyhow::Error::msg)?.policy,
                        None => FileConfig::default().policy,
                    };
                    policy_offline(&target.data_dir, &args, &rules)
                }
            }
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
                target,
                role,
                scope,
                label,
            } => {
                let role = Role::from(role);
                let scope = token::scope_for(role, &scope)?;
                let token = match &target.server {
                    Some(addr) => runtime()?.block_on(token::create_remote(
                        addr,
                        target.tls_ca.as_deref(),
                        target.token.as_deref(),
                        role,
                        &scope,
                        &label,
                    ))?,
                    None => token::create(&target.data_dir, role, &scope, &label)?,
                };
                println!("{token}");
                Ok(())
            }
            TokenAction::List { target } => {
                let table = match &target.server {
                    Some(addr) => runtime()?.block_on(token::list_remote(
                        addr,
                        target.tls_ca.as_deref(),
                        target.token.as_deref(),
                    ))?,
                    None => token::list(&target.data_dir)?,
                };
                print!("{table}");
                Ok(())
            }
            TokenAction::Revoke { target, token_id } => {
                let line = match &target.server {
                    Some(addr) => runtime()?.block_on(token::revoke_remote(
                        addr,
                        target.tls_ca.as_deref(),
                        target.token.as_deref(),
                        &token_id,
                    ))?,
                    None => token::revoke(&target.data_dir, &token_id)?,
                };
                println!("{line}");
                Ok(())
            }
        },
        Command::Whatif(command) => command.run(),
        Command::Import(command) => command.run(),
        Command::Export(command) => command.run(),
        Command::Backup(command) => command.run(),
        Command::Restore(command) => command.run(),
        Command::Template(command) => command.run(),
        Command::Check { dir, id_key } => check(&dir.data_dir, &id_key),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "jobbridge", &mut script);
            print_all(&script)
        }
        Command::Man { out_dir: None } => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            print_all(&page)
        }
        Command::Man { out_dir: Some(dir) } => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
            println!("manual pages written to {}", dir.display());
            Ok(())
        }
    }
}

/// Writes `bytes` to standard output; a reader that stops early (`| head`)
/// is not an error.
fn print_all(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// `check`: the store's own consistency (a household across counties
/// fails it), then the key against the store's. What an upgrade to scoped
/// ids split is printed first, as information.
fn check(data_dir: &Path, id_key: &IdKeyArgs) -> anyhow::Result<()> {
    let store = open_store(data_dir, StoreOptions::default())?;
    if let Some(report) = store.id_upgrade_report()? {
        print_id_upgrade(&report);
    }
    store
        .verify()
        .context("check failed (indexes, placements, declines or households)")?;
    let key = match id_key.find(data_dir)? {
        Some(key) if store.check_id_key(&key)? => "the national id key is the store's",
        Some(_) => "no national id key bound yet (the next `serve` binds it)",
        None => "national id key not checked (none given)",
    };
    println!(
        "ok: {} workers, {} openings, {} placements; indexes, slots and statuses agree; \
         every household is in one county; {key}",
        store.worker_count(),
        store.opening_count(),
        store.placement_count()
    );
    Ok(())
}

/// The report of the upgrade to scoped ids, as `info:` lines.
fn print_id_upgrade(report: &jobbridge::store::IdUpgradeReport) {
    let when = chrono::DateTime::from_timestamp_millis(report.finished_at_ms)
        .map_or_else(|| "?".to_string(), |t| t.to_rfc3339());
    println!(
        "info: upgraded from format {} to scoped ids at {when}: {} workers, {} placements, \
         {} run assignments, {} run changes, {} declines rewritten{}",
        report.from_format,
        report.workers,
        report.placements,
        report.run_assignments,
        report.run_changes,
        report.declines,
        match report.unresolved_changes {
            0 => String::new(),
            n => format!(" ({n} run changes of deleted workers left as they were)"),
        }
    );
    let split = &report.split_households;
    if !split.is_empty() {
        println!(
            "info: the upgrade split {} households that spanned counties into one per \
             county (old id: members per county):",
            split.len()
        );
        for h in split {
            println!("info:   {h}");
        }
    }
}

/// The config file of `--config` (match weights, `[policy]` rules), or the
/// built-in defaults.
fn load_config(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    match path {
        Some(path) => FileConfig::load(path).map_err(anyhow::Error::msg),
        None => Ok(FileConfig::default()),
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
