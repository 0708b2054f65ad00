//! `jobbridge batch diff RUN_ID` and `jobbridge batch apply RUN_ID`:
//! reviewing a staged run (its summary and its diff against the last
//! applied run) and applying it, whole or one county, on a data directory
//! or through a running server.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context as _};

use crate::api::pb;
use crate::api::pb::batch_client::BatchClient;
use crate::batch::BatchSettings;
use crate::domain::access::{Caller, Role, Scope};
use crate::domain::run::{DiffClass, Run, RunDiff};
use crate::domain::Lang;
use crate::service::{Applied, Service};
use crate::store::Store;

/// What to review or apply.
#[derive(Debug, Clone)]
pub struct ReviewArgs {
    /// The run.
    pub run_id: u64,
    /// One county's part; `None` for all.
    pub county: Option<String>,
    /// Apply without asking.
    pub yes: bool,
    /// Who applies it, for the placements' history.
    pub actor: String,
    /// Entries listed (the counts cover all).
    pub show: usize,
    /// Language of what is printed.
    pub lang: Lang,
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

fn admin() -> Caller {
    Caller {
        token_id: "cli".into(),
        role: Role::Admin,
        scope: Scope::default(),
    }
}

/// Shows the run and its diff, then (with `apply`) applies it, on a data
/// directory (no server may be running on it).
/// `matching` and `policy` are the config file's: applying checks each
/// assignment's eligibility under them, as the server would.
pub fn review_offline(
    data_dir: &Path,
    args: &ReviewArgs,
    apply: bool,
    matching: crate::matching::MatchConfig,
    policy: crate::domain::policy::PolicyConfig,
) -> anyhow::Result<()> {
    policy.check().map_err(anyhow::Error::msg)?;
    let config = matching.normalised().map_err(anyhow::Error::msg)?;
    let store = Arc::new(
        Store::open(data_dir).with_context(|| format!("cannot open {}", data_dir.display()))?,
    );
    let env = std::env::var(crate::config::ID_KEY_ENV).ok();
    let (id_key, _) =
        crate::store::id_key(None, env.as_deref(), &store).map_err(anyhow::Error::msg)?;
    let service =
        Service::open_with_policy(store, id_key, config, BatchSettings::default(), policy)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (run, _) = service.run(&admin(), args.run_id).await?;
        print_run(&run, args.lang);
        let diff = service
            .diff_run(&admin(), args.run_id, args.county.clone())
            .await?;
        print_diff(&diff, args.show, args.lang);
        if !apply || !confirm(args)? {
            return Ok(());
        }
        let Applied {
            proposed, refused, ..
        } = service
            .apply_run(
                &admin(),
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

/// A refusal as the server words it.
fn status_error(s: tonic::Status) -> anyhow::Error {
    anyhow::Error::new(super::exit::Remote(s))
}

fn with_lang<T>(message: T, lang: Lang) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let tag = match lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    };
    request
        .metadata_mut()
        .insert("accept-language", tag.parse().expect("ascii"));
    request
}

/// As [`review_offline`], through a server at `addr` with `token` (an
/// admin's, or a service company's with `--county`).
pub async fn review_remote(
    addr: &str,
    tls_ca: Option<&Path>,
    token: Option<&str>,
    args: &ReviewArgs,
    apply: bool,
) -> anyhow::Result<()> {
    let channel = super::TokenChannel::new(super::connect(addr, tls_ca).await?, token)?;
    let mut client = BatchClient::new(channel);
    let lang = args.lang;
    // A service company reads its counties' part of the run (servers
    // before issue 28 refused it the run, and only the diff was shown).
    match client
        .get_run(with_lang(
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
        .diff_run(with_lang(
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
        .apply_run(with_lang(
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

/// `text` padded with spaces to `width` columns of a terminal, where a
/// Chinese character takes two (`format!("{:<28}")` counts it as one).
pub(super) fn pad(text: &str, width: usize) -> String {
    let used = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_padded_to_the_same_terminal_width() {
        use unicode_width::UnicodeWidthStr;
        for text in ["合计", "workers in all", "已持有推荐", ""] {
            assert_eq!(super::pad(text, 28).width(), 28, "{text:?}");
        }
        assert_eq!(super::pad("合计", 28).chars().count(), 26);
    }
}
