//! `jobbridge batch diff RUN_ID` and `jobbridge batch apply RUN_ID`:
//! reviewing a staged run (its summary and its diff against the last
//! applied run) and applying it, whole or one county, on a data directory
//! or through a running server.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use anyhow::{bail, Context as _};

use super::args::Target;
use super::lang::{pad, request, LangFlag};
use super::{operator, Local, Server, TwoWays};
use crate::api::pb;
use crate::api::pb::batch_client::BatchClient;
use crate::batch::BatchSettings;
use crate::config::FileConfig;
use crate::domain::run::{DiffClass, Run, RunDiff};
use crate::domain::Lang;
use crate::service::Applied;

/// `jobbridge batch list|diff|apply`.
#[derive(clap::Subcommand, Debug)]
pub enum ReviewAction {
    /// The runs, newest first: an admin sees each whole, a service
    /// company's token its counties' part of each.
    List {
        #[command(flatten)]
        target: Target,
        /// Runs listed (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        lang: LangFlag,
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

/// The flags `diff` and `apply` share.
#[derive(clap::Args, Debug)]
pub struct ReviewFlags {
    #[command(flatten)]
    target: Target,
    /// The run id.
    run_id: u64,
    /// One county's part, by code (431202) or name (鹤城区); a service company's token must name one.
    #[arg(long, value_parser = super::args::county_flag)]
    county: Option<String>,
    /// Diff lines listed (the counts cover all).
    #[arg(long, default_value_t = 20)]
    show: usize,
    #[command(flatten)]
    lang: LangFlag,
    /// TOML config file with match weights and the [policy] rules that
    /// applying checks eligibility under (offline only; a server applies
    /// its own).
    #[arg(long, env = "JOBBRIDGE_CONFIG")]
    config: Option<PathBuf>,
}

impl ReviewAction {
    /// Lists, shows or applies.
    pub fn run(self) -> anyhow::Result<()> {
        let (flags, yes, actor, apply) = match self {
            ReviewAction::List {
                target,
                limit,
                lang,
            } => {
                return target.run(super::runs::ListRuns {
                    limit,
                    lang: lang.lang(),
                })
            }
            ReviewAction::Diff { review } => (review, false, String::new(), false),
            ReviewAction::Apply { review, yes, actor } => (review, yes, actor, true),
        };
        let config = super::load_config(flags.config.as_deref())?;
        flags.target.run(Review {
            args: ReviewArgs {
                run_id: flags.run_id,
                county: flags.county,
                yes,
                actor,
                show: flags.show,
                lang: flags.lang.lang(),
            },
            apply,
            config,
        })
    }
}

/// What to review or apply.
#[derive(Debug, Clone)]
struct ReviewArgs {
    /// The run.
    run_id: u64,
    /// One county's part; `None` for all.
    county: Option<String>,
    /// Apply without asking.
    yes: bool,
    /// Who applies it, for the placements' history.
    actor: String,
    /// Entries listed (the counts cover all).
    show: usize,
    /// Language of what is printed.
    lang: Lang,
}

/// A review, and with `apply` the run applied after it.
struct Review {
    args: ReviewArgs,
    apply: bool,
    /// Match weights and `[policy]` rules (offline: applying checks each
    /// assignment's eligibility under them, as the server would).
    config: FileConfig,
}

/// One staged run's summary, refused-row and diff lines, as printed.
fn print_run(run: &Run, lang: Lang) {
    let s = run.summary.clone().unwrap_or_default();
    let state = if run.staged() {
        lang.pick("待审核", "staged")
    } else if run.applied() {
        lang.pick("已应用", "applied")
    } else {
        lang.pick("未应用", "not applied")
    };
    println!(
        "{} {} ({state}, {}): {} {}, {} {}; {} {} / {}",
        lang.pick("运行", "run"),
        run.id,
        run.trigger,
        s.workers_assigned,
        lang.pick("人已分配", "workers assigned"),
        s.workers_considered,
        lang.pick("人参与", "considered"),
        lang.pick("零就业家庭覆盖", "zero-employment households covered"),
        s.zero_households_covered,
        s.zero_households,
    );
    if !run.applied_counties.is_empty() {
        println!(
            "  {} {}",
            lang.pick("已应用：", "applied:"),
            run.applied_counties.join(", ")
        );
    }
}

fn print_diff(d: &RunDiff, show: usize, lang: Lang) {
    match d.previous_run_id {
        0 => println!(
            "{}",
            lang.pick("  对比：无已应用的运行", "  against: no applied run")
        ),
        p => println!(
            "  {} {p}",
            lang.pick("对比已应用运行", "against applied run")
        ),
    }
    for class in DiffClass::ALL {
        println!("  {} {:>8}", pad(class.text(lang), 28), d.count(class));
    }
    println!(
        "  {} {:>8}",
        pad(lang.pick("合计", "workers in all"), 28),
        d.workers()
    );
    for e in d.entries.iter().take(show) {
        println!(
            "    {} {} {} -> {} [{}]",
            e.worker_id,
            e.county_code,
            e.previous_opening_id.as_deref().unwrap_or("-"),
            e.opening_id.as_deref().unwrap_or("-"),
            e.class.text(lang)
        );
    }
    if d.entries.len() > show {
        println!(
            "    ... {} {}",
            d.entries.len() - show,
            lang.pick(
                "行未列出（--show N 列出更多）",
                "more (--show N lists more)"
            )
        );
    }
}

fn print_applied(proposed: u64, refused: &[(String, String, String, String)], lang: Lang) {
    println!(
        "{} {proposed}, {} {}",
        lang.pick("已推荐", "proposed"),
        lang.pick("拒绝", "refused"),
        refused.len()
    );
    for (w, o, code, reason) in refused {
        println!("  {w} -> {o}: {code} ({reason})");
    }
}

/// Asks before applying unless `--yes`; refuses without a terminal.
fn confirm(args: &ReviewArgs) -> anyhow::Result<bool> {
    if args.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "{}",
            args.lang.pick(
                "不在终端中：确认请加 --yes",
                "not on a terminal: give --yes to apply without asking"
            )
        );
    }
    print!(
        "{}",
        args.lang
            .pick("应用这些推荐？[y/N] ", "Apply these proposals? [y/N] ")
    );
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "是"))
}

impl TwoWays for Review {
    type Output = ();

    async fn remote(self, server: Server<'_>) -> anyhow::Result<()> {
        remote(server, &self.args, self.apply).await
    }

    fn local(self, data: Local<'_>) -> anyhow::Result<()> {
        let service = data.service(self.config, BatchSettings::default())?;
        let args = &self.args;
        super::runtime()?.block_on(async {
            let (run, _) = service.run(&operator(), args.run_id).await?;
            print_run(&run, args.lang);
            let diff = service
                .diff_run(&operator(), args.run_id, args.county.clone())
                .await?;
            print_diff(&diff, args.show, args.lang);
            if !self.apply || !confirm(args)? {
                return Ok(());
            }
            let Applied {
                proposed, refused, ..
            } = service
                .apply_run(
                    &operator(),
                    args.run_id,
                    args.county.clone(),
                    args.actor.clone(),
                    args.lang,
                )
                .await?;
            let rows: Vec<_> = refused
                .into_iter()
                .map(|r| {
                    let text = r.reason.text(args.lang);
                    (r.worker_id, r.opening_id, r.reason.code().to_string(), text)
                })
                .collect();
            print_applied(proposed, &rows, args.lang);
            anyhow::Ok(())
        })
    }
}

/// A refusal as the server words it.
fn status_error(s: tonic::Status) -> anyhow::Error {
    anyhow::Error::new(super::exit::Remote(s))
}

/// The review through a server, with a token an admin's or a service
/// company's (with `--county`).
async fn remote(server: Server<'_>, args: &ReviewArgs, apply: bool) -> anyhow::Result<()> {
    let mut client = BatchClient::new(server.channel().await?);
    let lang = args.lang;
    // A service company reads its counties' part of the run (servers
    // before issue 28 refused it the run, and only the diff was shown).
    match client
        .get_run(request(
            pb::GetRunRequest {
                run_id: args.run_id,
            },
            lang,
        ))
        .await
    {
        Ok(r) => {
            let run = r.into_inner().run.context("empty reply")?;
            match run.counties.is_empty() {
                true => print_run(&crate::api::run_from_pb(&run), lang),
                false => {
                    super::runs::print_run(&crate::api::run_from_pb(&run), &run.counties, lang)
                }
            }
        }
        Err(s) if s.code() == tonic::Code::PermissionDenied => {
            println!("{} {}", lang.pick("运行", "run"), args.run_id)
        }
        Err(s) => return Err(status_error(s)),
    }
    let diff = client
        .diff_run(request(
            pb::DiffRunRequest {
                run_id: args.run_id,
                county_code: args.county.clone().unwrap_or_default(),
                counts_only: args.show == 0,
            },
            lang,
        ))
        .await
        .map_err(status_error)?
        .into_inner();
    print_diff(&crate::api::diff_from_pb(diff), args.show, lang);
    if !apply || !confirm(args)? {
        return Ok(());
    }
    let reply = client
        .apply_run(request(
            pb::ApplyRunRequest {
                run_id: args.run_id,
                county_code: args.county.clone().unwrap_or_default(),
                actor: args.actor.clone(),
            },
            lang,
        ))
        .await
        .map_err(status_error)?
        .into_inner();
    let rows: Vec<_> = reply
        .refused
        .into_iter()
        .map(|r| (r.worker_id, r.opening_id, r.reason_code, r.reason))
        .collect();
    print_applied(reply.proposed, &rows, lang);
    Ok(())
}
