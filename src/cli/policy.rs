//! `jobbridge policy`: the policy lists (public-welfare posts, aid
//! workshops, waiting zero-employment households, recommendations owed,
//! counselling visits), from a data directory or a running server.

use std::path::Path;

use anyhow::Context as _;

use crate::api::pb;
use crate::api::pb::report_service_client::ReportServiceClient;
use crate::domain::policy::PolicyConfig;
use crate::domain::Lang;
use crate::store::Store;

/// What to list.
#[derive(Debug, Clone)]
pub struct PolicyArgs {
    /// One county; `None` for all.
    pub county: Option<String>,
    /// Rows listed per section.
    pub max_rows: usize,
    /// Language of what is printed.
    pub lang: Lang,
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

/// The lists from a data directory, by `rules`.
pub fn policy_offline(
    data_dir: &Path,
    args: &PolicyArgs,
    rules: &PolicyConfig,
) -> anyhow::Result<()> {
    let store =
        Store::open(data_dir).with_context(|| format!("cannot open {}", data_dir.display()))?;
    let now = chrono::Utc::now().timestamp_millis();
    let lists =
        crate::report::policy::policy_lists(&store, rules, args.county.as_deref(), now, args.lang)?;
    print(
        &crate::api::policy_to_pb(lists, args.max_rows, args.lang),
        args.lang,
    );
    Ok(())
}

/// The lists from a server at `addr`, by its rules.
pub async fn policy_remote(
    addr: &str,
    tls_ca: Option<&Path>,
    token: Option<&str>,
    args: &PolicyArgs,
) -> anyhow::Result<()> {
    let channel = super::TokenChannel::new(super::connect(addr, tls_ca).await?, token)?;
    let mut client = ReportServiceClient::new(channel);
    let mut request = tonic::Request::new(pb::PolicyRequest {
        county_code: args.county.clone().unwrap_or_default(),
        max_rows: args.max_rows as u32,
    });
    let tag = if args.lang == Lang::Zh { "zh-CN" } else { "en" };
    request
        .metadata_mut()
        .insert("accept-language", tag.parse().expect("ascii"));
    let report = client.policy_lists(request).await?.into_inner();
    print(&report, args.lang);
    Ok(())
}
