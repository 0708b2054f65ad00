//! `export`: workers, openings, placements or due check-ins as a CSV or
//! xlsx ledger, from a data directory or a running server, with names for
//! counties and labels in the language asked for. National id numbers are
//! never exported (the store keeps only their keyed hash anyway); workers'
//! names are written only by roles that read them in full (the server's
//! permission table keeps others from listing workers at all). Check-ins
//! due carry the worker's name and phone, masked as the server masks them
//! for the caller, so that the officer can call.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::args::Target;
use super::lang::request as with_lang;
use super::{Local, Server, TwoWays};
use crate::api::pb;
use crate::domain::placement::{PlacementStatus, SeparationReason};
use crate::domain::query::Page;
use crate::domain::{regions, Lang, Opening, Source, Worker};
use crate::ledger::columns::{headers, table_of};
use crate::ledger::{files, openings, workers, CellKind, Encoding, Format, Table};

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportKind {
    /// The workers' ledger (without national ids).
    Workers,
    /// The openings' ledger.
    Openings,
    /// Placements, with their status and dates.
    Placements,
    /// Retention check-ins due within `--within-days`.
    Checkins,
}

/// What `export` is asked to do.
#[derive(Debug, Clone)]
pub struct ExportArgs {
    /// What to export.
    pub kind: ExportKind,
    /// One county (code or name), or all the caller may read.
    pub county: Option<String>,
    /// xlsx instead of CSV.
    pub xlsx: bool,
    /// The file; default `<kind>.csv` or `<kind>.xlsx`.
    pub out: Option<PathBuf>,
    /// Check-ins due within this many days.
    pub within_days: u32,
    /// Language of headers and labels.
    pub lang: Lang,
}

/// Writes the export and says where; returns the rows written.
pub fn export(target: &Target, args: &ExportArgs) -> anyhow::Result<usize> {
    let county = match &args.county {
        None => None,
        Some(c) => Some(
            regions::code_or_name(c)
                .map_err(|r| anyhow::anyhow!("--county {c:?}: {}", r.text(args.lang)))?,
        ),
    };
    let lang = args.lang;
    let table = target.run(Rows { args, county })?;
    let name = match args.kind {
        ExportKind::Workers => "workers",
        ExportKind::Openings => "openings",
        ExportKind::Placements => "placements",
        ExportKind::Checkins => "checkins",
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!("{name}.{}", if args.xlsx { "xlsx" } else { "csv" }))
    });
    let format = if args.xlsx {
        Format::Xlsx
    } else {
        Format::Csv(Encoding::Utf8Bom)
    };
    write(&out, &table, format, name)?;
    let rows = table.rows.len();
    match lang {
        Lang::Zh => println!("已导出 {rows} 行到 {}", out.display()),
        Lang::En => println!("{rows} rows written to {}", out.display()),
    }
    Ok(rows)
}

fn write(out: &Path, table: &Table, format: Format, sheet: &str) -> anyhow::Result<()> {
    match format {
        Format::Xlsx => std::fs::write(out, files::xlsx_bytes(table, sheet)?)
            .with_context(|| format!("cannot write {}", out.display())),
        csv => files::write(out, table, csv),
    }
}

/// The rows asked for, `county` being the code `--county` names.
struct Rows<'a> {
    args: &'a ExportArgs,
    county: Option<String>,
}

impl TwoWays for Rows<'_> {
    type Output = Table;

    async fn remote(self, server: Server<'_>) -> anyhow::Result<Table> {
        remote(server, self.args, self.county).await
    }

    fn local(self, data: Local<'_>) -> anyhow::Result<Table> {
        offline(data, self.args, self.county)
    }
}

fn offline(data: Local<'_>, args: &ExportArgs, county: Option<String>) -> anyhow::Result<Table> {
    use crate::store::{OpeningFilter, PlacementFilter, WorkerFilter};
    let store = data.store()?;
    let lang = args.lang;
    let table = match args.kind {
        ExportKind::Workers => {
            let filter = WorkerFilter {
                county_code: county,
                ..Default::default()
            };
            let all = every_stored_page(|after| store.list_workers(&filter, after, STORED_PAGE))?;
            table_of(workers::COLUMNS, &all, lang, false)
        }
        ExportKind::Openings => {
            let filter = OpeningFilter::default();
            let mut all =
                every_stored_page(|after| store.list_openings(&filter, after, STORED_PAGE))?;
            all.retain(|o| county.as_ref().is_none_or(|c| &o.region_code == c));
            table_of(openings::COLUMNS, &all, lang, false)
        }
        ExportKind::Placements => {
            let filter = PlacementFilter {
                county_code: county,
                ..Default::default()
            };
            let all =
                every_stored_page(|after| store.list_placements(&filter, after, STORED_PAGE))?;
            let all: Vec<pb::Placement> = all.into_iter().map(pb::Placement::from).collect();
            placements_table(&all, lang)
        }
        ExportKind::Checkins => {
            use crate::domain::placement::china_today;
            let today = china_today();
            let operator = super::operator();
            let due = store.check_ins_due(county.as_deref(), today + args.within_days as i32)?;
            let rows = due
                .into_iter()
                .map(|d| {
                    let worker = store.worker(&d.placement.worker_id)?;
                    let call = crate::service::DueCall::new(&operator, d, worker);
                    Ok(crate::api::due_to_pb(call, today))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            checkins_table(&rows, lang)
        }
    };
    Ok(table)
}

/// Every item of a listing: `$client.$rpc` asked for page after page of
/// `$request` (its page size and token set here) in `$lang`, until a
/// reply's next page token is empty; `$items` is the reply's field of
/// items.
macro_rules! every_item {
    ($client:ident.$rpc:ident($request:expr, $lang:expr).$items:ident) => {
        every_page(|page_token| {
            let mut client = $client.clone();
            let mut request = $request.clone();
            request.page_size = PAGE;
            request.page_token = page_token;
            async move {
                let r = client.$rpc(with_lang(request, $lang)).await?.into_inner();
                Ok((r.$items, r.next_page_token))
            }
        })
    };
}

async fn remote(
    server: Server<'_>,
    args: &ExportArgs,
    county: Option<String>,
) -> anyhow::Result<Table> {
    let channel = server.channel().await?;
    let lang = args.lang;
    let county = county.unwrap_or_default();
    let table = match args.kind {
        ExportKind::Workers => {
            let client = pb::workers_client::WorkersClient::new(channel);
            let request = pb::ListWorkersRequest {
                county_code: county,
                ..Default::default()
            };
            let all = every_item!(client.list_workers(request, lang).workers).await?;
            table_of(workers::COLUMNS, &from_wire::<_, Worker>(all)?, lang, false)
        }
        ExportKind::Openings => {
            let client = pb::openings_client::OpeningsClient::new(channel);
            let request = pb::ListOpeningsRequest {
                region_code: county,
                ..Default::default()
            };
            let all = every_item!(client.list_openings(request, lang).openings).await?;
            table_of(
                openings::COLUMNS,
                &from_wire::<_, Opening>(all)?,
                lang,
                false,
            )
        }
        ExportKind::Placements => {
            let client = pb::placement_service_client::PlacementServiceClient::new(channel);
            let request = pb::ListPlacementsRequest {
                county_code: county,
                ..Default::default()
            };
            let all = every_item!(client.list(request, lang).placements).await?;
            placements_table(&all, lang)
        }
        ExportKind::Checkins => {
            let mut client = pb::placement_service_client::PlacementServiceClient::new(channel);
            let r = client
                .list_due_check_ins(with_lang(
                    pb::ListDueCheckInsRequest {
                        county_code: county,
                        within_days: args.within_days,
                    },
                    lang,
                ))
                .await
                .map_err(refused)?
                .into_inner();
            checkins_table(&r.check_ins, lang)
        }
    };
    Ok(table)
}

/// Items asked for per page.
const PAGE: u32 = 1000;

/// Every item of a paged list: `page(token)` asks for the page after
/// `token` ("" for the first) and returns its items and the next token
/// ("" after the last).
async fn every_page<T, F, Fut>(mut page: F) -> anyhow::Result<Vec<T>>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = page(token).await.map_err(refused)?;
        all.extend(items);
        if next.is_empty() {
            return Ok(all);
        }
        token = next;
    }
}

/// The domain records of a listing's wire items.
fn from_wire<P, D>(items: Vec<P>) -> anyhow::Result<Vec<D>>
where
    D: TryFrom<P>,
    D::Error: std::fmt::Display,
{
    items
        .into_iter()
        .map(|p| D::try_from(p).map_err(|e| anyhow::anyhow!("{e}")))
        .collect()
}

/// Records read from a data directory per page.
const STORED_PAGE: usize = 1000;

/// Every record of a stored list: `page(after)` lists the page after the
/// id `after` (`None` for the first).
fn every_stored_page<T>(
    mut page: impl FnMut(Option<&str>) -> Result<Page<T>, crate::store::StoreError>,
) -> anyhow::Result<Vec<T>> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = page(after.as_deref())?;
        all.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

/// A refusal by the server, as people read it: "PermissionDenied: ...".
fn refused(s: tonic::Status) -> anyhow::Error {
    anyhow::Error::new(super::exit::Remote(s))
}

fn ms_date(t: &Option<prost_types::Timestamp>) -> String {
    t.as_ref()
        .filter(|t| t.seconds > 0)
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds + 8 * 3600, 0))
        .map_or(String::new(), |d| d.format("%Y-%m-%d").to_string())
}

fn placements_table(all: &[pb::Placement], lang: Lang) -> Table {
    let headers = headers(
        lang,
        &[
            ("编号", "id"),
            ("劳动力编号", "worker_id"),
            ("户编号", "household_id"),
            ("岗位编号", "opening_id"),
            ("用工单位编号", "employer_id"),
            ("岗位类型", "source"),
            ("县区", "county"),
            ("安置点编号", "site_id"),
            ("状态", "status"),
            ("零就业家庭", "zero_employment_household"),
            ("推荐日期", "proposed"),
            ("上岗日期", "hire_date"),
            ("离岗日期", "separation_date"),
            ("离岗原因", "separation_reason"),
            ("拒绝原因", "decline_reason"),
        ],
    );
    let rows = all
        .iter()
        .map(|p| {
            let status = crate::api::status_from_pb(p.status)
                .ok()
                .flatten()
                .unwrap_or(PlacementStatus::Unspecified);
            let source = pb::Source::try_from(p.source)
                .ok()
                .and_then(source_from_pb)
                .map_or(String::new(), |s| s.text(lang).to_string());
            let separation = crate::api::separation_reason_from_pb(p.separation_reason)
                .ok()
                .filter(|r| *r != SeparationReason::Unspecified)
                .map_or(String::new(), |r| r.text(lang).to_string());
            vec![
                p.id.clone(),
                p.worker_id.clone(),
                p.household_id.clone(),
                p.opening_id.clone(),
                p.employer_id.clone(),
                source,
                regions::name(&p.county_code, lang),
                p.site_id.clone(),
                status.text(lang).to_string(),
                crate::ledger::columns::yes_no_text(p.zero_household, lang),
                ms_date(&p.proposed_at),
                p.hire_date.clone(),
                p.separation_date.clone(),
                separation,
                p.decline_reason.clone(),
            ]
        })
        .collect();
    let mut kinds = vec![CellKind::Text; 15];
    kinds[10..13].fill(CellKind::Date);
    Table::of_text(headers, rows).typed(&kinds)
}

fn source_from_pb(s: pb::Source) -> Option<Source> {
    Source::ALL
        .iter()
        .copied()
        .find(|d| crate::api::source_to_pb(*d) == s)
}

fn checkins_table(all: &[pb::DueCheckIn], lang: Lang) -> Table {
    let headers = headers(
        lang,
        &[
            ("安置编号", "placement_id"),
            ("劳动力编号", "worker_id"),
            ("姓名", "name"),
            ("手机号", "phone"),
            ("县区", "county"),
            ("岗位编号", "opening_id"),
            ("回访月数", "month"),
            ("应回访日期", "due_date"),
            ("已逾期", "overdue"),
        ],
    );
    let rows = all
        .iter()
        .map(|c| {
            vec![
                c.placement_id.clone(),
                c.worker_id.clone(),
                c.worker_name.clone(),
                c.worker_phone.clone(),
                regions::name(&c.county_code, lang),
                c.opening_id.clone(),
                c.month.to_string(),
                c.due_date.clone(),
                crate::ledger::columns::yes_no_text(c.overdue, lang),
            ]
        })
        .collect();
    let mut kinds = vec![CellKind::Text; 9];
    kinds[6] = CellKind::Integer;
    kinds[7] = CellKind::Date;
    Table::of_text(headers, rows).typed(&kinds)
}

/// Export workers, openings, placements or due check-ins as CSV or xlsx.
#[derive(clap::Args, Debug)]
pub struct ExportCommand {
    /// What to export.
    #[arg(value_enum)]
    pub kind: ExportKind,
    /// Where the data is.
    #[command(flatten)]
    pub target: Target,
    /// One county, by code (431202) or name (鹤城区).
    #[arg(long, value_parser = super::args::county_flag)]
    pub county: Option<String>,
    /// Write CSV (UTF-8 with BOM, which Excel opens) - the default.
    #[arg(long, conflicts_with = "xlsx")]
    pub csv: bool,
    /// Write an xlsx workbook.
    #[arg(long)]
    pub xlsx: bool,
    /// The file (default: <kind>.csv or <kind>.xlsx).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// checkins: those due within this many days (0-366).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=366))]
    pub within_days: u32,
    /// The language.
    #[command(flatten)]
    pub lang: super::lang::LangFlag,
}

impl ExportCommand {
    /// Writes the export.
    pub fn run(self) -> anyhow::Result<()> {
        let args = ExportArgs {
            kind: self.kind,
            county: self.county,
            xlsx: self.xlsx,
            out: self.out,
            within_days: self.within_days,
            lang: self.lang.lang(),
        };
        export(&self.target, &args)?;
        Ok(())
    }
}
