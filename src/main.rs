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

// The subcommands; each one's help is its type's doc comment.
#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API until SIGINT or SIGTERM.
    Serve(ServeArgs),
    Batch(cli::BatchCommand),
    Whatif(cli::WhatIfCommand),
    DemoData(cli::DemoDataCommand),
    Policy(cli::PolicyCommand),
    Report(cli::ReportCommand),
    Token(cli::TokenCommand),
    Import(cli::ledger::ImportCommand),
    Export(cli::ExportCommand),
    Backup(cli::BackupCommand),
    Restore(cli::RestoreCommand),
    Template(cli::ledger::TemplateCommand),
    Check(cli::CheckCommand),
    Completions(cli::CompletionsCommand),
    Man(cli::ManCommand),
}

/// Parses, runs, and exits with the code of [`exit`]'s table.
fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match run(cli.command, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(exit::report(&e)),
    }
}

/// Sets up logging (as `serve`'s settings say, else as
/// `JOBBRIDGE_LOG_FORMAT` does) and runs the command.
fn run(command: Command, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    if let Command::Serve(args) = command {
        let config = args.into_config(matches.subcommand_matches("serve").expect("matched"))?;
        init_logging(config.log_format);
        return Ok(jobbridge::launch::serve(config)?);
    }
    let format = std::env::var("JOBBRIDGE_LOG_FORMAT").ok();
    init_logging(format.and_then(|f| f.parse().ok()).unwrap_or_default());
    match command {
        Command::Serve(_) => unreachable!("served above"),
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
