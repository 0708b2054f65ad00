//! `jobbridge policy`: the policy lists (public-welfare posts, aid
//! workshops, waiting zero-employment households, recommendations owed,
//! counselling visits), from a data directory or a running server.

use std::path::PathBuf;

use super::args::Target;
use super::lang::LangFlag;
use super::{Local, Server, TwoWays};
use crate::api::pb;
use crate::api::pb::report_service_client::ReportServiceClient;
use crate::domain::Lang;

/// Print the policy lists (public-welfare posts, aid workshops, waiting
/// zero-employment households, recommendations owed, counselling
/// visits), from a data directory or a running server.
#[derive(clap::Args, Debug)]
pub struct PolicyCommand {
    #[command(flatten)]
    target: Target,
    /// One county, by code (431202) or name (鹤城区); a service company's token must name one.
    #[arg(long, value_parser = super::args::county_flag)]
    county: Option<String>,
    /// Rows listed per section.
    #[arg(long, default_value_t = 50)]
    max_rows: usize,
    #[command(flatten)]
    lang: LangFlag,
    /// TOML config file with the [policy] table (offline only; a server
    /// uses its own).
    #[arg(long, env = "JOBBRIDGE_CONFIG")]
    config: Option<PathBuf>,
}

impl PolicyCommand {
    /// Prints the lists.
    pub fn run(self) -> anyhow::Result<()> {
        self.target.run(PolicyLists {
            county: self.county,
            max_rows: self.max_rows,
            lang: self.lang.lang(),
            config: self.config,
        })
    }
}

/// What to list.
struct PolicyLists {
    /// One county; `None` for all.
    county: Option<String>,
    /// Rows listed per section.
    max_rows: usize,
    /// Language of what is printed.
    lang: Lang,
    /// The config file with the rules (offline only).
    config: Option<PathBuf>,
}

/// Prints the lists.
fn print(r: &pb::PolicyReport, lang: Lang) {
    let rules = r.rules.clone().unwrap_or_default();
    println!(
        "{} {}",
        lang.pick("政策清单，截至", "policy lists as of"),
        r.as_of_date
    );
    println!(
        "\n{} ({}: {}) — {}",
        lang.pick("公益性岗位", "public-welfare posts"),
        lang.pick("补贴年限", "subsidised years"),
        rules.welfare_max_tenure_years,
        r.welfare_posts_count
    );
    for w in &r.welfare_posts {
        println!(
            "  {} {} {} {} {} -> {} ({} {}) {}",
            w.placement_id,
            w.worker_id,
            w.opening_id,
            w.county_code,
            if w.hire_date.is_empty() {
                "-"
            } else {
                &w.hire_date
            },
            if w.tenure_end_date.is_empty() {
                "-"
            } else {
                &w.tenure_end_date
            },
            w.days_left,
            lang.pick("天", "days"),
            w.ineligible_reason
        );
    }
    println!(
        "\n{} (< {}) — {}, {} {}",
        lang.pick("帮扶车间", "aid workshops"),
        rules.workshop_min_relocated,
        r.workshops_count,
        r.workshops_below_minimum,
        lang.pick("家不足", "below")
    );
    for w in &r.workshops {
        let flag = if w.below_minimum { " *" } else { "" };
        println!(
            "  {} {} {} {}{flag}",
            w.employer_id, w.employer_name, w.region_code, w.relocated_hired
        );
    }
    println!(
        "\n{} (> {} {}) — {}",
        lang.pick(
            "未清零的零就业家庭",
            "zero-employment households not cleared"
        ),
        rules.zero_household_period_days,
        lang.pick("天", "days"),
        r.waiting_households_count
    );
    for h in &r.waiting_households {
        println!(
            "  {} {} {} {} {} {}",
            h.household_id,
            h.county_code,
            h.members,
            h.since_date,
            h.days_waiting,
            lang.pick("天", "days")
        );
    }
    println!(
        "\n{} (< {}) — {}",
        lang.pick(
            "一年内推荐不足的求职者",
            "jobless workers short of recommendations this year"
        ),
        rules.recommendations_per_year,
        r.short_of_recommendations_count
    );
    for s in &r.short_of_recommendations {
        println!("  {} {} {}", s.worker_id, s.county_code, s.recommendations);
    }
    println!(
        "\n{} (>= {} / {} {}) — {}",
        lang.pick(
            "需上门辅导（多次拒绝）",
            "counselling visits (repeated declines)"
        ),
        rules.counselling_declines,
        rules.counselling_period_days,
        lang.pick("天", "days"),
        r.counselling_count
    );
    for c in &r.counselling {
        let reasons: Vec<String> = c
            .declines
            .iter()
            .map(|d| format!("{} {} {}", d.declined_date, d.opening_id, d.reason))
            .collect();
        println!(
            "  {} {}: {}",
            c.worker_id,
            c.county_code,
            reasons.join("; ")
        );
    }
}

impl TwoWays for PolicyLists {
    type Output = ();

    /// The lists by the server's rules.
    async fn remote(self, server: Server<'_>) -> anyhow::Result<()> {
        let mut client = ReportServiceClient::new(server.channel().await?);
        let request = super::lang::request(
            pb::PolicyRequest {
                county_code: self.county.clone().unwrap_or_default(),
                max_rows: self.max_rows as u32,
            },
            self.lang,
        );
        let report = client.policy_lists(request).await?.into_inner();
        print(&report, self.lang);
        Ok(())
    }

    /// The lists by the config file's rules.
    fn local(self, data: Local<'_>) -> anyhow::Result<()> {
        let rules = super::load_config(self.config.as_deref())?.policy;
        let store = data.store()?;
        let now = chrono::Utc::now().timestamp_millis();
        let lists = crate::report::policy::policy_lists(
            &store,
            &rules,
            self.county.as_deref(),
            now,
            self.lang,
        )?;
        print(
            &crate::api::policy_to_pb(lists, self.max_rows, self.lang),
            self.lang,
        );
        Ok(())
    }
}
