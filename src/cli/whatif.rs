//! `jobbridge whatif`: what the nightly optimum would do differently
//! after some changes, on a data directory (the server must not be
//! running on it) or through a running server. Nothing is stored.
//!
//! Added openings and workers come from ledger files (the `import`
//! format: .csv or .xlsx, Chinese or English headers), one record a row.
//! The changes are made in the order: added openings, added workers,
//! resized, closed, removed workers.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::args::Target;
use super::exit::Remote;
use super::lang::pad;
use super::lang::LangFlag;
use super::{operator, Local, Server, TwoWays};
use crate::api::pb;
use crate::api::pb::batch_client::BatchClient;
use crate::batch::audit::micro_decimal_u64;
use crate::batch::whatif::{WhatIfAnswer, DEFAULT_LIMIT};
use crate::batch::BatchSettings;
use crate::domain::{regions, Lang, Opening, Worker};
use crate::ledger::import::{parse_rows, Record};
use crate::service::{WhatIfChange, MAX_LIMIT};

/// What the nightly optimum would do differently after some changes
/// (openings added, resized or closed; workers added or removed), on a
/// data directory or through a server; nothing is stored.
#[derive(clap::Args, Debug)]
pub struct WhatIfCommand {
    /// Where the data is.
    #[command(flatten)]
    pub target: Target,
    /// Openings to add (or replace), from an openings ledger (.csv or
    /// .xlsx); repeatable.
    #[arg(long, value_name = "FILE")]
    pub add_openings: Vec<PathBuf>,
    /// Workers to add (or replace), from a workers ledger; repeatable.
    #[arg(long, value_name = "FILE")]
    pub add_workers: Vec<PathBuf>,
    /// An opening's new headcount, OPENING_ID=HEADCOUNT; repeatable.
    #[arg(long, value_name = "OPENING_ID=HEADCOUNT", value_parser = resize_arg)]
    pub resize: Vec<(String, u32)>,
    /// An opening to close; repeatable.
    #[arg(long, value_name = "OPENING_ID")]
    pub close: Vec<String>,
    /// A worker to remove; repeatable.
    #[arg(long, value_name = "WORKER_ID")]
    pub remove_worker: Vec<String>,
    /// Workers who would move listed at most (the total is always given).
    #[arg(long, default_value_t = DEFAULT_LIMIT as u32,
          value_parser = clap::value_parser!(u32).range(1..=MAX_LIMIT as i64))]
    pub limit: u32,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// TOML config file with match weights and the [policy] rules
    /// (offline only; a server applies its own).
    #[arg(long, env = "JOBBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The language.
    #[command(flatten)]
    pub lang: LangFlag,
}

fn resize_arg(value: &str) -> Result<(String, u32), String> {
    let (id, n) = value
        .split_once('=')
        .ok_or_else(|| "expected OPENING_ID=HEADCOUNT".to_string())?;
    let n = n
        .trim()
        .parse()
        .map_err(|_| format!("headcount {n:?} is not a number"))?;
    Ok((id.trim().to_string(), n))
}

/// The records of a ledger file; refused whole at its first bad row
/// (exit 65).
fn ledger<R: Record + 'static>(path: &Path, lang: Lang) -> anyhow::Result<Vec<R>> {
    let (table, _, mapping) = super::ledger::read_ledger::<R>(path, lang)?;
    let (good, rejected) = parse_rows(&table, &mapping, lang);
    if let Some(e) = rejected.first() {
        let refused = anyhow::anyhow!("{}: {}", path.display(), e.text(lang));
        return Err(super::exit::Refused(refused).into());
    }
    Ok(good.into_iter().map(|(_, r)| r).collect())
}

impl WhatIfCommand {
    /// Asks and prints the answer.
    pub fn run(self) -> anyhow::Result<()> {
        let lang = self.lang.lang();
        let mut changes = Vec::new();
        for path in &self.add_openings {
            let openings: Vec<Opening> = ledger(path, lang)?;
            changes.extend(openings.into_iter().map(WhatIfChange::AddOpening));
        }
        for path in &self.add_workers {
            let workers: Vec<Worker> = ledger(path, lang)?;
            changes.extend(workers.into_iter().map(WhatIfChange::AddWorker));
        }
        changes.extend(
            self.resize
                .iter()
                .map(|(id, n)| WhatIfChange::ResizeOpening {
                    opening_id: id.clone(),
                    headcount: *n,
                }),
        );
        changes.extend(self.close.iter().cloned().map(WhatIfChange::CloseOpening));
        changes.extend(
            self.remove_worker
                .iter()
                .cloned()
                .map(WhatIfChange::RemoveWorker),
        );
        if changes.is_empty() {
            bail!(
                "{}",
                lang.pick(
                    "未给出变更：--add-openings、--add-workers、--resize、--close 或 --remove-worker",
                    "no changes given: --add-openings, --add-workers, --resize, --close or --remove-worker"
                )
            );
        }
        let (answer, counties) = self.target.run(Ask {
            changes,
            limit: self.limit as usize,
            lang,
            config: self.config.as_deref(),
        })?;
        if self.json {
            println!("{}", json(&answer, &counties, lang));
        } else {
            print(&answer, &counties, lang);
        }
        Ok(())
    }
}

/// The question: the changes, the movers listed at most, the language and
/// (offline) the config file. The answer comes with the counties its
/// figures cover (empty: all).
struct Ask<'a> {
    changes: Vec<WhatIfChange>,
    limit: usize,
    lang: Lang,
    config: Option<&'a Path>,
}

impl TwoWays for Ask<'_> {
    type Output = (WhatIfAnswer, Vec<String>);

    async fn remote(self, server: Server<'_>) -> anyhow::Result<Self::Output> {
        remote(server, self.changes, self.limit, self.lang).await
    }

    fn local(self, data: Local<'_>) -> anyhow::Result<Self::Output> {
        let config = super::load_config(self.config)?;
        let service = data.service(config, BatchSettings::default())?;
        let answer = super::runtime()?
            .block_on(service.what_if(&operator(), self.changes, self.limit))
            .map_err(|e| super::exit::in_lang(e, self.lang))?;
        super::close_service(service);
        Ok((answer, Vec::new()))
    }
}

/// Asks a server; answers with the counties the figures cover (empty:
/// all).
async fn remote(
    server: Server<'_>,
    changes: Vec<WhatIfChange>,
    limit: usize,
    lang: Lang,
) -> anyhow::Result<(WhatIfAnswer, Vec<String>)> {
    use pb::what_if_change::Change;
    let mut client = BatchClient::new(server.channel().await?);
    let changes = changes
        .into_iter()
        .map(|c| pb::WhatIfChange {
            change: Some(match c {
                WhatIfChange::AddOpening(o) => Change::AddOpening(o.into()),
                WhatIfChange::AddWorker(w) => Change::AddWorker(w.into()),
                WhatIfChange::ResizeOpening {
                    opening_id,
                    headcount,
                } => Change::ResizeOpening(pb::ResizeOpening {
                    opening_id,
                    headcount,
                }),
                WhatIfChange::CloseOpening(id) => Change::CloseOpeningId(id),
                WhatIfChange::RemoveWorker(id) => Change::RemoveWorkerId(id),
            }),
        })
        .collect();
    let request = super::lang::request(
        pb::WhatIfRequest {
            changes,
            limit: limit as u32,
        },
        lang,
    );
    let reply = client.what_if(request).await.map_err(Remote)?.into_inner();
    let counties = reply.counties.clone();
    Ok((crate::api::what_if_from_pb(reply), counties))
}

fn signed_points(before: u64, after: u64) -> String {
    if after >= before {
        format!("+{}", micro_decimal_u64(after - before))
    } else {
        format!("-{}", micro_decimal_u64(before - after))
    }
}

/// The answer for people.
fn print(a: &WhatIfAnswer, counties: &[String], lang: Lang) {
    if !counties.is_empty() {
        println!(
            "{} {}",
            lang.pick("仅本令牌县区：", "your counties only:"),
            counties.join(", ")
        );
    }
    let row = |label: &str, b: String, a: String| {
        println!("  {} {b:>14} {a:>14}", pad(label, 30));
    };
    row(
        "",
        lang.pick("现在", "now").to_string(),
        lang.pick("变更后", "with changes").to_string(),
    );
    row(
        lang.pick("分配人数", "workers assigned"),
        a.before.hires.to_string(),
        a.after.hires.to_string(),
    );
    row(
        lang.pick("零就业家庭覆盖", "zero-employment households covered"),
        a.before.zero_households_covered.to_string(),
        a.after.zero_households_covered.to_string(),
    );
    row(
        lang.pick("总分", "total score"),
        micro_decimal_u64(a.before.total_score_micro),
        micro_decimal_u64(a.after.total_score_micro),
    );
    println!(
        "  {} {}",
        pad(lang.pick("总分变化", "score change"), 30),
        signed_points(a.before.total_score_micro, a.after.total_score_micro)
    );
    println!(
        "  {} +{} / -{}",
        pad(
            lang.pick(
                "新覆盖 / 不再覆盖的家庭",
                "households newly / no longer covered"
            ),
            30
        ),
        a.newly_covered,
        a.no_longer_covered
    );
    for c in &a.by_county {
        println!(
            "    {} {} +{} / -{}",
            c.county_code,
            pad(&regions::name(&c.county_code, lang), 24),
            c.newly_covered,
            c.no_longer_covered
        );
    }
    println!(
        "  {} {}",
        pad(lang.pick("会变动的劳动力", "workers who would move"), 30),
        a.moves_total
    );
    for m in &a.moves {
        println!(
            "    {} {} {} -> {}",
            m.worker_id,
            m.county_code,
            m.before.as_deref().unwrap_or("-"),
            m.after.as_deref().unwrap_or("-")
        );
    }
    if a.moves_total > a.moves.len() as u64 {
        println!(
            "    ... {} {}",
            a.moves_total - a.moves.len() as u64,
            lang.pick(
                "人未列出（--limit N 列出更多）",
                "more (--limit N lists more)"
            )
        );
    }
    println!(
        "  {} {} ms, {} {} ms ({} {}, {} {})",
        lang.pick("评分", "scoring"),
        a.scoring_ms,
        lang.pick("求解", "solving"),
        a.solving_ms,
        a.rows_kept,
        lang.pick("行沿用", "rows kept"),
        a.rows_scored,
        lang.pick("行重算", "scored")
    );
    if a.baseline_from_last_run {
        println!(
            "  {}",
            lang.pick(
                "现状：上次运行的方案，经其势能证明仍为最优（只求解了变更后的问题）",
                "now: the last run's plan, proved still optimal by its potentials (only the changed problem was solved)"
            )
        );
    }
}

/// The answer as JSON, with county names in `lang`.
fn json(a: &WhatIfAnswer, counties: &[String], lang: Lang) -> String {
    let plan = |p: &crate::batch::whatif::PlanFigures| {
        serde_json::json!({
            "hires": p.hires,
            "zero_households_covered": p.zero_households_covered,
            "total_score_micro": p.total_score_micro,
        })
    };
    let change = a.after.total_score_micro as i64 - a.before.total_score_micro as i64;
    serde_json::json!({
        "counties": counties,
        "before": plan(&a.before),
        "after": plan(&a.after),
        "households_newly_covered": a.newly_covered,
        "households_no_longer_covered": a.no_longer_covered,
        "by_county": a.by_county.iter().map(|c| serde_json::json!({
            "county_code": c.county_code,
            "county_name": regions::name(&c.county_code, lang),
            "newly_covered": c.newly_covered,
            "no_longer_covered": c.no_longer_covered,
        })).collect::<Vec<_>>(),
        "score_change_micro": change,
        "score_change": change as f64 / 1e6,
        "moves": a.moves.iter().map(|m| serde_json::json!({
            "worker_id": m.worker_id,
            "county_code": m.county_code,
            "opening_before": m.before,
            "opening_after": m.after,
        })).collect::<Vec<_>>(),
        "moves_total": a.moves_total,
        "scoring_ms": a.scoring_ms,
        "solving_ms": a.solving_ms,
        "rows_kept": a.rows_kept,
        "rows_scored": a.rows_scored,
        "baseline_from_last_run": a.baseline_from_last_run,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn resize_takes_an_id_and_a_headcount() {
        assert_eq!(super::resize_arg("o-1=50"), Ok(("o-1".into(), 50)));
        assert!(super::resize_arg("o-1").is_err());
        assert!(super::resize_arg("o-1=x").is_err());
    }
}
