//! `completions` and `man`: the command line describing itself, from the
//! binary's clap command.

use std::path::PathBuf;

use anyhow::Context as _;

/// Print a shell completion script (e.g. `jobbridge completions bash`).
#[derive(clap::Args, Debug)]
pub struct CompletionsCommand {
    /// The shell.
    shell: clap_complete::Shell,
}

impl CompletionsCommand {
    /// Prints the completion script for `command`.
    pub fn run(self, mut command: clap::Command) -> anyhow::Result<()> {
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, "jobbridge", &mut script);
        print_all(&script)
    }
}

/// Print the manual page (roff), e.g. `jobbridge man | man -l -`;
/// with --out-dir, write every page (jobbridge.1 and one per
/// subcommand, which the main page's SEE ALSO names) into a directory.
#[derive(clap::Args, Debug)]
pub struct ManCommand {
    /// Write jobbridge.1 and jobbridge-<command>.1 here (e.g.
    /// /usr/local/share/man/man1) instead of printing the main page.
    #[arg(long)]
    out_dir: Option<PathBuf>,
}

impl ManCommand {
    /// Prints the main page of `command`, or writes every page.
    pub fn run(self, command: clap::Command) -> anyhow::Result<()> {
        match self.out_dir {
            None => {
                let mut page = Vec::new();
                clap_mangen::Man::new(command).render(&mut page)?;
                print_all(&page)
            }
            Some(dir) => {
                std::fs::create_dir_all(&dir)?;
                clap_mangen::generate_to(command, &dir).with_context(|| {
                    format!("cannot write the manual pages into {}", dir.display())
                })?;
                println!("manual pages written to {}", dir.display());
                Ok(())
            }
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
