//! `jobbridge batch list`: the batch runs, newest first, on a data
//! directory or through a server. An admin sees each run whole; a service
//! company's token sees its counties' part of each (the server's
//! `Batch.ListRuns`), enough to find the run id to diff and apply.

use super::{Local, Server, TwoWays};
use crate::api::pb;
use crate::api::pb::batch_client::BatchClient;
use crate::batch::status_label;
use crate::domain::run::Run;
use crate::domain::Lang;

/// One run's line, and for a company's view one line per county row.
/// `counties` is the company's counties (empty: the run whole).
pub(super) fn print_run(run: &Run, counties: &[String], lang: Lang) {
    let s = run.summary.clone().unwrap_or_default();
    let state = if run.staged() {
        lang.pick("待审核", "staged")
    } else if run.applied() {
        lang.pick("已应用", "applied")
    } else if run.dry_run {
        lang.pick("未应用", "not applied")
    } else {
        lang.pick("已推荐", "proposed")
    };
    let started = chrono::DateTime::from_timestamp_millis(run.started_at_ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    print!(
        "{} {:<5} {:<10} {:<8} {} {started}",
        lang.pick("运行", "run"),
        run.id,
        status_label(run.status()),
        run.trigger,
        super::lang::pad(state, 9),
    );
    if counties.is_empty() {
        println!(
            "  {} {} / {}",
            lang.pick("已分配", "assigned"),
            s.workers_assigned,
            s.workers_considered
        );
    } else {
        println!();
    }
    for row in s.by_county.iter().filter(|_| !counties.is_empty()) {
        println!(
            "  {} {}: {} {}, {} {}, {} {}",
            lang.pick("县区", "county"),
            row.key,
            lang.pick("可匹配", "eligible"),
            row.workers_eligible,
            lang.pick("已分配", "assigned"),
            row.workers_assigned,
            lang.pick("零就业家庭覆盖", "zero-employment households covered"),
            row.zero_households_covered,
        );
    }
}

/// The newest `limit` runs, listed in `lang`.
pub(super) struct ListRuns {
    pub(super) limit: usize,
    pub(super) lang: Lang,
}

impl TwoWays for ListRuns {
    type Output = ();

    /// Through a server, with an admin's token or a service company's.
    async fn remote(self, server: Server<'_>) -> anyhow::Result<()> {
        let reply = BatchClient::new(server.channel().await?)
            .list_runs(pb::ListRunsRequest {
                page_size: self.limit.clamp(1, 100) as u32,
                before_run_id: 0,
            })
            .await
            .map_err(|s| anyhow::Error::new(super::exit::Remote(s)))?
            .into_inner();
        for run in &reply.runs {
            print_run(&crate::api::run_from_pb(run), &run.counties, self.lang);
        }
        Ok(())
    }

    fn local(self, data: Local<'_>) -> anyhow::Result<()> {
        for run in data.store()?.list_runs(0, self.limit)? {
            print_run(&run, &[], self.lang);
        }
        Ok(())
    }
}
