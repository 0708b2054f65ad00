//! `jobbridge report`: the coverage report as a table or CSV, computed on a
//! data directory (the server must not be running on it) or asked of a
//! running server. Both print the same figures: the offline path builds
//! the same reply the server sends.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::args::{SourceArg, Target};
use super::lang::{pad, pad_right, LangFlag};
use super::{Local, Server, TwoWays};
use crate::api::pb;
use crate::api::pb::report_service_client::ReportServiceClient;
use crate::domain::Source;
use crate::report::book::{county_name, heading, source_name, workbook, Period, GROUPS};
use crate::report::{self, Coverage, CoverageFilter, Row};
use unicode_width::UnicodeWidthStr as _;

/// Print the coverage report, from a data directory or a running server.
#[derive(clap::Args, Debug)]
pub struct ReportCommand {
    /// Where the data is.
    #[command(flatten)]
    pub target: Target,
    /// What to report.
    #[command(flatten)]
    pub args: ReportArgs,
}

impl ReportCommand {
    /// Prints the report (and writes the workbook if asked).
    pub fn run(self) -> anyhow::Result<()> {
        self.target.run(&self.args)
    }
}

/// What to report: the flags of `jobbridge report` past where the data is.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportArgs {
    /// Only this county, by code (431224) or name (溆浦县).
    #[arg(long, value_parser = super::args::county_flag)]
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
    /// Also write an xlsx workbook here: one sheet per figure group,
    /// counties by name, a totals row.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// The language of names and headings.
    #[command(flatten)]
    pub lang: LangFlag,
}

impl TwoWays for &ReportArgs {
    type Output = ();

    /// Asks the server for the report and prints it.
    async fn remote(self, server: Server<'_>) -> anyhow::Result<()> {
        let args = self;
        let mut client = ReportServiceClient::new(server.channel().await?);
        let request = pb::CoverageRequest {
            county_code: county_code(args)?,
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
            .coverage(super::lang::request(request, args.lang.lang()))
            .await
            .map_err(|s| anyhow::Error::new(super::exit::Remote(s)))?
            .into_inner();
        let (coverage, period) = crate::api::coverage_from_pb(report);
        emit(&coverage, &period, args)
    }

    /// Computes the report on the data directory (the same reply the
    /// server builds) and prints it.
    fn local(self, data: Local<'_>) -> anyhow::Result<()> {
        let args = self;
        let store = data.store()?;
        let county = county_code(args)?;
        let filter = CoverageFilter::parse(
            &county,
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
            anyhow::Error::new(super::exit::Usage(format!(
                "{flag}: {}",
                e.reason.to_string().replace("to_date", "--to")
            )))
        })?;
        let coverage = report::coverage(&store, &filter)?;
        emit(&coverage, &Period::of(&filter), args)
    }
}

/// `--county` as a code: a region's name is looked up, digits are left
/// for the report's validation, and an unknown name is refused.
fn county_code(args: &ReportArgs) -> anyhow::Result<String> {
    let county = args.county.as_deref().unwrap_or("");
    crate::domain::regions::code_or_name(county)
        .map_err(|r| anyhow::anyhow!("--county {county:?}: {}", r.text(args.lang.lang())))
}

/// Prints the report and writes the workbook if asked.
fn emit(report: &Coverage, period: &Period, args: &ReportArgs) -> anyhow::Result<()> {
    print!("{}", render(report, period, args));
    if let Some(path) = &args.xlsx {
        let lang = args.lang.lang();
        let bytes = workbook(report, period, lang)?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "{}{}",
            lang.pick("报表已写入 ", "workbook written to "),
            path.display()
        );
    }
    Ok(())
}

/// The figures of a row: (CSV name, value), in print order.
fn figures(r: &Row) -> Vec<(&'static str, String)> {
    GROUPS
        .iter()
        .flat_map(|g| g.figures.iter())
        .map(|f| (f.key, (f.value)(r).text()))
        .collect()
}

fn source_label(source: Source) -> &'static str {
    match crate::api::source_to_pb(source) {
        pb::Source::Unspecified => "unspecified",
        pb::Source::AidWorkshop => "aid_workshop",
        pb::Source::PublicWelfare => "public_welfare",
        pb::Source::LabourCooperation => "labour_cooperation",
        pb::Source::WorkRelief => "work_relief",
        pb::Source::IndustrialPark => "industrial_park",
        pb::Source::Enterprise => "enterprise",
    }
}

/// The report as text: a table (figures down, counties across) or CSV.
pub fn render(report: &Coverage, period: &Period, args: &ReportArgs) -> String {
    let total = report.total.clone();
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
    let lang = args.lang.lang();
    let _ = writeln!(out, "{}\n", heading(period, lang));
    let rows: Vec<&Row> = report
        .counties
        .iter()
        .chain(std::iter::once(&total))
        .collect();
    let names: Vec<String> = rows
        .iter()
        .map(|r| county_name(&r.county_code, lang))
        .collect();
    let name_width = names.iter().map(|n| n.width()).max().unwrap_or(8) + 2;
    // One small table per group: counties down, the group's figures across.
    for group in GROUPS {
        let widths: Vec<usize> = group
            .figures
            .iter()
            .map(|f| lang.pick(f.zh, f.en).width().max(6))
            .collect();
        let _ = write!(out, "{}", pad(lang.pick(group.zh, group.en), name_width));
        for (f, w) in group.figures.iter().zip(&widths) {
            let _ = write!(out, "  {}", pad_right(lang.pick(f.zh, f.en), *w));
        }
        out.push('\n');
        for (row, name) in rows.iter().zip(&names) {
            let _ = write!(out, "{}", pad(name, name_width));
            for (f, w) in group.figures.iter().zip(&widths) {
                let _ = write!(out, "  {}", pad_right(&(f.value)(row).text(), *w));
            }
            out.push('\n');
        }
        out.push('\n');
    }
    let heads = [
        lang.pick("岗位类型", "source"),
        lang.pick("在招岗位数", "openings open"),
        lang.pick("空余名额", "slots open"),
        lang.pick("已占名额", "slots filled"),
    ];
    let _ = writeln!(
        out,
        "{} {} {} {}",
        pad(heads[0], 26),
        pad_right(heads[1], 14),
        pad_right(heads[2], 12),
        pad_right(heads[3], 12)
    );
    for s in &report.slots {
        let _ = writeln!(
            out,
            "{} {} {} {}",
            pad(&source_name(s.source, lang), 26),
            pad_right(&s.openings_open.to_string(), 14),
            pad_right(&s.slots_open.to_string(), 12),
            pad_right(&s.slots_filled.to_string(), 12)
        );
    }
    out
}
