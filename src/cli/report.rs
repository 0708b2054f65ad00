//! `jobbridge report`: the coverage report as a table or CSV, computed on a
//! data directory (the server must not be running on it) or asked of a
//! running server. Both print the same figures: the offline path builds
//! the same reply the server sends.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use super::args::SourceArg;
use crate::api::pb;
use crate::api::pb::report_service_client::ReportServiceClient;
use crate::domain::Source;
use crate::report::{self, CoverageFilter};
use crate::store::Store;

/// What to report: the flags of `jobbridge report` past where the data is.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportArgs {
    /// Only this county (six-digit code).
    #[arg(long)]
    pub county: Option<String>,
    /// Only this resettlement site.
    #[arg(long)]
    pub site: Option<String>,
    /// Only this source.
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
    /// First day of the placement figures, YYYY-MM-DD (default: from the start).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the placement figures, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub to: Option<String>,
    /// Print CSV (one row per county and a total row) instead of a table.
    #[arg(long)]
    pub csv: bool,
    /// With --csv: print the slots per source instead.
    #[arg(long, requires = "csv")]
    pub slots: bool,
}

/// Computes the report on a data directory and prints it.
pub fn report_offline(data_dir: &Path, args: &ReportArgs) -> anyhow::Result<()> {
    let store = Store::open(data_dir)
        .with_context(|| format!("cannot open data directory {}", data_dir.display()))?;
    let filter = CoverageFilter::parse(
        args.county.as_deref().unwrap_or(""),
        args.site.as_deref().unwrap_or(""),
        args.source.map(Source::from),
        args.from.as_deref().unwrap_or(""),
        args.to.as_deref().unwrap_or(""),
    )
    .map_err(|e| {
        let flag = match e.field.as_str() {
            "county_code" => "--county",
            "site_id" => "--site",
            "from_date" => "--from",
            "to_date" => "--to",
            _ => "--source",
        };
        anyhow::anyhow!(
            "{flag}: {}",
            e.reason.to_string().replace("to_date", "--to")
        )
    })?;
    let coverage = report::coverage(&store, &filter)?;
    print!(
        "{}",
        render(&crate::api::coverage_to_pb(coverage, &filter), args)
    );
    Ok(())
}

/// Asks a running server for the report and prints it; `addr` and `tls_ca`
/// as in [`super::connect`].
pub async fn report_remote(
    addr: &str,
    tls_ca: Option<&Path>,
    token: Option<&str>,
    args: &ReportArgs,
) -> anyhow::Result<()> {
    let channel = super::TokenChannel::new(super::connect(addr, tls_ca).await?, token)?;
    let mut client = ReportServiceClient::new(channel);
    let request = pb::CoverageRequest {
        county_code: args.county.clone().unwrap_or_default(),
        site_id: args.site.clone().unwrap_or_default(),
        source: args
            .source
            .map(Source::from)
            .map_or(pb::Source::Unspecified, crate::api::source_to_pb)
            .into(),
        from_date: args.from.clone().unwrap_or_default(),
        to_date: args.to.clone().unwrap_or_default(),
    };
    let report = client
        .coverage(request)
        .await
        .map_err(|s| anyhow::anyhow!("{}: {}", s.code(), s.message()))?
        .into_inner();
    print!("{}", render(&report, args));
    Ok(())
}

/// The figures of a row, with their names, in print order.
fn figures(r: &pb::CoverageRow) -> Vec<(&'static str, String)> {
    let n = |v: u64| v.to_string();
    let share = |v: f64| format!("{v:.3}");
    let days = |v: f64| format!("{v:.1}");
    vec![
        ("workers_registered", n(r.workers_registered)),
        ("workers_want_work", n(r.workers_want_work)),
        ("workers_seeking", n(r.workers_seeking)),
        ("workers_placed", n(r.workers_placed)),
        ("workers_in_work", n(r.workers_in_work)),
        ("workers_in_work_placed", n(r.workers_in_work_placed)),
        ("households_with_labour", n(r.households_with_labour)),
        (
            "zero_employment_households",
            n(r.zero_employment_households),
        ),
        ("proposals", n(r.proposals)),
        ("accepted", n(r.accepted)),
        ("declined", n(r.declined)),
        ("hires", n(r.hires)),
        ("separations", n(r.separations)),
        ("retention_3m_due", n(r.retention_3m_due)),
        ("retention_3m_retained", n(r.retention_3m_retained)),
        ("retention_3m_share", share(r.retention_3m_share)),
        ("retention_6m_due", n(r.retention_6m_due)),
        ("retention_6m_retained", n(r.retention_6m_retained)),
        ("retention_6m_share", share(r.retention_6m_share)),
        ("returnees", n(r.returnees)),
        ("returnees_reproposed", n(r.returnees_reproposed)),
        ("returnees_waiting", n(r.returnees_waiting)),
        (
            "returnee_wait_median_days",
            days(r.returnee_wait_median_days),
        ),
        ("returnee_wait_mean_days", days(r.returnee_wait_mean_days)),
        (
            "returnee_waiting_max_days",
            days(r.returnee_waiting_max_days),
        ),
        (
            "seeking_under_three_recommendations",
            n(r.seeking_under_three_recommendations),
        ),
    ]
}

fn source_label(raw: i32) -> &'static str {
    pb::Source::try_from(raw).map_or("unknown", |s| match s {
        pb::Source::Unspecified => "unspecified",
        pb::Source::AidWorkshop => "aid_workshop",
        pb::Source::PublicWelfare => "public_welfare",
        pb::Source::LabourCooperation => "labour_cooperation",
        pb::Source::WorkRelief => "work_relief",
        pb::Source::IndustrialPark => "industrial_park",
        pb::Source::Enterprise => "enterprise",
    })
}

/// The report as text: a table (figures down, counties across) or CSV.
pub fn render(report: &pb::CoverageReport, args: &ReportArgs) -> String {
    let total = report.total.clone().unwrap_or_default();
    let mut out = String::new();
    if args.csv && args.slots {
        out.push_str("source,openings_open,slots_open,slots_filled\n");
        for s in &report.slots {
            let _ = writeln!(
                out,
                "{},{},{},{}",
                source_label(s.source),
                s.openings_open,
                s.slots_open,
                s.slots_filled
            );
        }
        return out;
    }
    if args.csv {
        let names: Vec<&str> = figures(&total).iter().map(|(n, _)| *n).collect();
        let _ = writeln!(out, "county_code,{}", names.join(","));
        for row in report.counties.iter().chain(std::iter::once(&total)) {
            let values: Vec<String> = figures(row).into_iter().map(|(_, v)| v).collect();
            let county = if row.county_code.is_empty() {
                "total"
            } else {
                &row.county_code
            };
            let _ = writeln!(out, "{county},{}", values.join(","));
        }
        return out;
    }
    let _ = writeln!(
        out,
        "Coverage as of {} (placements {} to {})\n",
        report.as_of_date,
        if report.from_date.is_empty() {
            "from the start"
        } else {
            &report.from_date
        },
        report.to_date
    );
    let columns: Vec<(&str, Vec<(&'static str, String)>)> = report
        .counties
        .iter()
        .map(|r| (r.county_code.as_str(), figures(r)))
        .chain(std::iter::once(("total", figures(&total))))
        .collect();
    let label_width = 36;
    let _ = write!(out, "{:label_width$}", "");
    for (name, _) in &columns {
        let _ = write!(out, " {name:>8}");
    }
    out.push('\n');
    for i in 0..columns[0].1.len() {
        let _ = write!(out, "{:label_width$}", columns[0].1[i].0);
        for (_, values) in &columns {
            let _ = write!(out, " {:>8}", values[i].1);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n{:20} {:>13} {:>10} {:>12}",
        "source", "openings_open", "slots_open", "slots_filled"
    );
    for s in &report.slots {
        let _ = writeln!(
            out,
            "{:20} {:>13} {:>10} {:>12}",
            source_label(s.source),
            s.openings_open,
            s.slots_open,
            s.slots_filled
        );
    }
    out
}
