//! The `jobbridge` binary: parses the command line, sets up logging and
//! dispatches to the command's type in [`jobbridge::cli`] (`serve` is
//! [`jobbridge::launch::serve`]); errors exit by [`jobbridge::cli::exit`]'s
//! table.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser};
use tracing_subscriber::EnvFilter;

use jobbridge::cli::{exit, Command};
use jobbridge::config::LogFormat;
use jobbridge::launch::flags::ServeArgs;

/// mimalloc: the import path is allocation-heavy (sled transactions), and
/// it measured about 1.7x faster there than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// gRPC job matching for relocated workers
#[derive(Parser)]
#[command(name = "jobbridge", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Parses, sets up logging (as `serve`'s settings say, else as
/// `JOBBRIDGE_LOG_FORMAT` does), runs, and exits with the code of
/// [`exit`]'s table.
fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if !matches!(cli.command, Command::Serve(_)) {
        init_logging(LogFormat::from_env());
    }
    let done = match cli.command {
        Command::Serve(args) => serve(args, &matches),
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
    };
    done.map_or_else(|e| ExitCode::from(exit::report(&e)), |()| ExitCode::SUCCESS)
}

/// Serves as the flags, the config file and the environment say, logging
/// as they say too.
fn serve(args: ServeArgs, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    let config = args.into_config(matches.subcommand_matches("serve").expect("matched"))?;
    init_logging(config.log_format);
    Ok(jobbridge::launch::serve(config)?)
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
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
