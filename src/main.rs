//! The `jobbridge` binary: parses the command line, sets up logging and
//! dispatches to the command's type in [`jobbridge::cli`] (`serve` is
//! [`jobbridge::launch::serve`]); errors exit by [`jobbridge::cli::exit`]'s
//! table.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use jobbridge::cli::{self, exit};
use jobbridge::config::LogFormat;
use jobbridge::launch::flags::ServeArgs;

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
    Batch(cli::BatchCommand),
    /// What the nightly optimum would do differently after some changes
    /// (openings added, resized or closed; workers added or removed), on a
    /// data directory or through a server; nothing is stored.
    Whatif(cli::WhatIfCommand),
    /// Write the deterministic Huaihua-shaped demo data set into a data directory.
    DemoData(cli::DemoDataCommand),
    /// Print the policy lists (public-welfare posts, aid workshops, waiting
    /// zero-employment households, recommendations owed, counselling
    /// visits), from a data directory or a running server.
    Policy(cli::PolicyCommand),
    /// Print the coverage report, from a data directory or a running server.
    Report(cli::ReportCommand),
    /// Create, list and revoke API tokens, on a data directory or
    /// through a running server (--server ADDR --token ADMIN).
    Token(cli::TokenCommand),
    /// Import a workers' or openings' ledger (.csv or .xlsx, Chinese or
    /// English headers); rejected rows come back in a file of the same format.
    Import(cli::ledger::ImportCommand),
    /// Export workers, openings, placements or due check-ins as CSV or xlsx.
    Export(cli::ExportCommand),
    /// Write a consistent, compressed and checksummed backup of the whole
    /// store to one file, from a running server (--server ADDR --token
    /// ADMIN; it goes on serving) or a stopped data directory.
    Backup(cli::BackupCommand),
    /// Restore a backup file into a new (or empty) data directory, and
    /// check the result as `check` does; a cut or damaged file is refused.
    Restore(cli::RestoreCommand),
    /// Write an empty ledger with its headers and an example row.
    Template(cli::ledger::TemplateCommand),
    /// Check that every index agrees with the records (reads everything),
    /// and that the national id key, if one is found, is the store's.
    Check(cli::CheckCommand),
    /// Print a shell completion script (e.g. `jobbridge completions bash`).
    Completions(cli::CompletionsCommand),
    /// Print the manual page (roff), e.g. `jobbridge man | man -l -`;
    /// with --out-dir, write every page (jobbridge.1 and one per
    /// subcommand, which the main page's SEE ALSO names) into a directory.
    Man(cli::ManCommand),
}

/// Parses, runs, and exits with the code of [`exit`]'s table.
fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let format = std::env::var("JOBBRIDGE_LOG_FORMAT").ok();
    let result = match cli.command {
        Command::Serve(args) => {
            let serve = matches.subcommand_matches("serve").expect("serve matched");
            args.into_config(serve)
                .map_err(anyhow::Error::from)
                .and_then(|config| {
                    init_logging(config.log_format);
                    Ok(jobbridge::launch::serve(config)?)
                })
        }
        command => {
            init_logging(format.and_then(|f| f.parse().ok()).unwrap_or_default());
            run(command)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(exit::report(&e)),
    }
}

/// Runs every command but `serve`.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => unreachable!("served by main"),
        Command::Batch(c) => c.run(),
        Command::Whatif(c) => c.run(),
        Command::DemoData(c) => c.run(),
        Command::Policy(c) => c.run(),
        Command::Report(c) => c.run(),
        Command::Token(c) => c.run(),
        Command::Import(c) => c.run(),
        Command::Export(c) => c.run(),
        Command::Backup(c) => c.run(),
        Command::Restore(c) => c.run(),
        Command::Template(c) => c.run(),
        Command::Check(c) => c.run(),
        Command::Completions(c) => c.run(Cli::command()),
        Command::Man(c) => c.run(Cli::command()),
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
