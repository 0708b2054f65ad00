//! `import`, `template`: a ledger file into the service, through a running
//! server (the streaming `ImportWorkers` / `ImportOpenings`) or offline on
//! a data directory (through the same [`Service`] the server uses), and the
//! rejected rows back in the file's own format with the reason.
//!
//! Every row is read and validated by `ledger::import` (the domain's
//! rules, as the API applies them; the console's upload does the same)
//! before anything is sent, so a ledger's mistakes are found without a
//! server and `--check` stores nothing; the server (or the offline
//! service) then applies what only it can check: national ids registered
//! to another worker, and the caller's counties.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use super::args::Target;
use super::exit::Refused;
use super::lang::request as streaming;
use super::{Local, Server, TwoWays};
use crate::api::pb;
use crate::domain::{Lang, Opening, Validated, Worker};
use crate::ledger::columns::{self, Mapping, RowError};
use crate::ledger::import::{self, Change, ChangeKind};
use crate::ledger::{files, openings, workers, Format, Kind, Table};
use crate::service::{Import, ImportOptions, Imported, RowChange, ServiceError};

/// What `import` is asked to do.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    /// Workers or openings.
    pub kind: Kind,
    /// The ledger, .csv or .xlsx.
    pub file: PathBuf,
    /// Store nothing: report what each row would do.
    pub check: bool,
    /// Rows may move stored workers to another county or household.
    pub allow_move: bool,
    /// Where the rejected rows go (default: `<file>.rejected.<ext>`).
    pub rejected: Option<PathBuf>,
    /// Language of reasons and messages.
    pub lang: Lang,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Data rows read.
    pub rows: usize,
    /// Rows stored (or, with `--check`, that would be).
    pub accepted: usize,
    /// Accepted rows that create a record.
    pub created: usize,
    /// Accepted rows that change a stored record: (row, whole id, fields).
    pub updated: Vec<(u64, String, Vec<String>)>,
    /// Accepted rows equal to the stored record (nothing written).
    pub unchanged: usize,
    /// Whether the rows were compared with stored records (`--check`
    /// without a server or a data directory only validates them).
    pub compared: bool,
    /// Refused rows, in row order.
    pub rejected: Vec<RowError>,
    /// The file of rejected rows, if any was written.
    pub rejected_file: Option<PathBuf>,
    /// The file saying what each accepted row did, if rows were compared
    /// with stored records.
    pub changes_file: Option<PathBuf>,
}

/// A record kind a ledger holds, as the CLI sends and stores it.
trait Record: import::Record + Imported + Send + Sync + 'static {
    type Pb: Clone + Send + 'static;
    /// The import rpc's request of one row.
    type Request: Send + 'static;
    fn to_pb(self) -> Self::Pb;
    /// The API's conversion and validation.
    fn from_pb(pb: Self::Pb) -> Validated<Self>;
    /// The request that sends `row` to the import rpc.
    fn request(row: Self::Pb, options: ImportOptions) -> Self::Request;
    /// Calls the import rpc with the rows' requests.
    async fn import(
        channel: super::TokenChannel,
        requests: tonic::Request<Requests<Self::Request>>,
    ) -> Result<Reply, tonic::Status>;
}

/// The stream of an import rpc's requests.
type Requests<T> = std::pin::Pin<Box<dyn tokio_stream::Stream<Item = T> + Send>>;

/// Streams rows to the server's import, counting each on `bar` as it is
/// sent.
async fn stream_rows<R: Record>(
    channel: super::TokenChannel,
    rows: Vec<R::Pb>,
    bar: ProgressBar,
    lang: Lang,
    options: ImportOptions,
) -> Result<Reply, tonic::Status> {
    use tokio_stream::StreamExt as _;
    let requests: Requests<R::Request> = Box::pin(tokio_stream::iter(rows).map(move |row| {
        bar.inc(1);
        R::request(row, options)
    }));
    R::import(channel, streaming(requests, lang)).await
}

/// A server's reply to an import, either kind.
struct Reply {
    errors: Vec<pb::RowError>,
    errors_omitted: u64,
    changes: Vec<pb::RowChange>,
    changes_omitted: u64,
    created: u64,
    updated: u64,
    unchanged: u64,
}

macro_rules! reply {
    ($r:expr) => {{
        let r = $r;
        Reply {
            errors: r.errors,
            errors_omitted: r.errors_omitted,
            changes: r.changes,
            changes_omitted: r.changes_omitted,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
        }
    }};
}

impl Record for Worker {
    type Pb = pb::Worker;
    type Request = pb::ImportWorkersRequest;
    fn to_pb(self) -> pb::Worker {
        let national_id = self.national_id.clone();
        // The wire form leaves the id number out (it is never sent back);
        // an import sends it.
        pb::Worker {
            national_id,
            ..self.into()
        }
    }
    fn from_pb(pb: pb::Worker) -> Validated<Self> {
        crate::api::worker_from_pb(pb)
    }
    fn request(worker: pb::Worker, options: ImportOptions) -> Self::Request {
        pb::ImportWorkersRequest {
            worker: Some(worker),
            check_only: options.check_only,
            allow_move: options.allow_move,
        }
    }
    async fn import(
        channel: super::TokenChannel,
        requests: tonic::Request<Requests<Self::Request>>,
    ) -> Result<Reply, tonic::Status> {
        let r = pb::workers_client::WorkersClient::new(channel)
            .import_workers(requests)
            .await?
            .into_inner();
        Ok(reply!(r))
    }
}

impl Record for Opening {
    type Pb = pb::Opening;
    type Request = pb::ImportOpeningsRequest;
    fn to_pb(self) -> pb::Opening {
        self.into()
    }
    fn from_pb(pb: pb::Opening) -> Validated<Self> {
        crate::api::opening_from_pb(pb)
    }
    fn request(opening: pb::Opening, options: ImportOptions) -> Self::Request {
        pb::ImportOpeningsRequest {
            opening: Some(opening),
            check_only: options.check_only,
        }
    }
    async fn import(
        channel: super::TokenChannel,
        requests: tonic::Request<Requests<Self::Request>>,
    ) -> Result<Reply, tonic::Status> {
        let r = pb::openings_client::OpeningsClient::new(channel)
            .import_openings(requests)
            .await?
            .into_inner();
        Ok(reply!(r))
    }
}

/// Imports a ledger into `target` (a data directory or a server) and
/// writes its rejected rows; prints a summary.
pub fn import(target: &Target, args: &ImportArgs) -> anyhow::Result<ImportOutcome> {
    let outcome = match args.kind {
        Kind::Workers => import_kind::<Worker>(target, args)?,
        Kind::Openings => import_kind::<Opening>(target, args)?,
    };
    print_summary(&outcome, args);
    Ok(outcome)
}

/// A ledger file read, with its columns mapped to `R`'s. A file that is
/// no ledger of `R` (not .csv or .xlsx, unreadable, without the columns
/// `R` needs) is refused input (exit 65).
pub(super) fn read_ledger<R: import::Record + 'static>(
    path: &Path,
    lang: Lang,
) -> anyhow::Result<(Table, Format, Mapping<R>)> {
    let (table, format) = files::read(path).map_err(Refused)?;
    let mapping = Mapping::new(R::columns(), R::NAME, &table.headers, lang)
        .map_err(|m| Refused(anyhow::anyhow!("{}: {m}", path.display())))?;
    Ok((table, format, mapping))
}

fn import_kind<R: Record>(target: &Target, args: &ImportArgs) -> anyhow::Result<ImportOutcome> {
    let lang = args.lang;
    let (table, format, mapping) = read_ledger::<R>(&args.file, lang)?;
    if !mapping.unknown.is_empty() {
        eprintln!(
            "{}{}",
            lang.pick(
                "以下列不属于台账，已忽略：",
                "columns ignored (not ledger columns): "
            ),
            mapping.unknown.join(lang.pick("、", ", "))
        );
    }
    let (good, mut rejected) = import::parse_rows(&table, &mapping, lang);
    let options = ImportOptions {
        check_only: args.check,
        allow_move: args.allow_move,
    };
    // A check with nothing to compare against only validates.
    let compared = !args.check || target.has_data();
    let mut stored = Stored {
        accepted: good.len(),
        ..Stored::default()
    };
    if compared {
        stored = target.run(Rows {
            rows: &good,
            lang,
            options,
        })?;
        for (index, field, reason) in std::mem::take(&mut stored.refused) {
            rejected.push(mapping.error(good[index].0, &field, reason));
        }
    }
    rejected.sort_by_key(|e| e.row);
    let rejected_file = if rejected.is_empty() {
        None
    } else {
        let path = args
            .rejected
            .clone()
            .unwrap_or_else(|| rejected_path(&args.file));
        files::write(
            &path,
            &import::rejected_table(&table, &rejected, lang),
            format,
        )?;
        Some(path)
    };
    let changes_file = if stored.rows.is_empty() {
        None
    } else {
        let path = changes_path(&args.file);
        let changes: Vec<Change> = stored
            .rows
            .iter()
            .map(|(index, c)| change_of(good[*index].0, c))
            .collect();
        files::write(&path, &import::changes_table(&changes, lang), format)?;
        Some(path)
    };
    Ok(ImportOutcome {
        rows: table.rows.len(),
        accepted: stored.accepted,
        created: stored.created,
        updated: stored
            .rows
            .into_iter()
            .filter(|(_, c)| c.kind() == pb::row_change::Kind::Updated)
            .map(|(index, c)| (good[index].0, c.id, c.fields))
            .collect(),
        unchanged: stored.unchanged,
        compared,
        rejected,
        rejected_file,
        changes_file,
    })
}

/// `ledger.xlsx` -> `ledger.changes.xlsx`, beside it.
pub fn changes_path(file: &Path) -> PathBuf {
    beside(file, "changes")
}

/// A progress bar on a terminal (hidden otherwise).
fn bar(len: usize, lang: Lang) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {per_sec}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(lang.pick("导入", "importing"));
    bar
}

/// Refusals of stored rows: (index into the rows, field, reason).
type StoreRefusals = Vec<(usize, String, String)>;

/// What the service or the server did with the rows (indexes are into
/// the rows sent).
#[derive(Default)]
struct Stored {
    accepted: usize,
    refused: StoreRefusals,
    created: usize,
    unchanged: usize,
    /// What each accepted row did (as far as the server listed them),
    /// with the row's index.
    rows: Vec<(usize, pb::RowChange)>,
}

impl Stored {
    /// Counts the answers of the next rows, whose stored ids are in `ids`
    /// (by row index).
    fn answer(
        &mut self,
        ids: &[String],
        results: Vec<Result<RowChange, ServiceError>>,
        lang: Lang,
    ) {
        for result in results {
            let index = self.accepted + self.refused.len();
            match result {
                Ok(change) => self.change(index, ids[index].clone(), change),
                Err(e) => {
                    let (field, reason) = e.row_refusal(lang);
                    self.refused.push((index, field, reason));
                }
            }
        }
    }

    fn change(&mut self, index: usize, id: String, change: RowChange) {
        self.accepted += 1;
        match change {
            RowChange::Created => self.created += 1,
            RowChange::Unchanged => self.unchanged += 1,
            RowChange::Updated(_) => {}
        }
        let row = index as u64 + 1;
        self.rows
            .push((index, crate::api::row_change_to_pb(row, id, change)));
    }
}

/// A row's change as the file of changes lists it.
fn change_of(row: u64, c: &pb::RowChange) -> Change {
    let kind = match c.kind() {
        pb::row_change::Kind::Created => ChangeKind::Created,
        pb::row_change::Kind::Updated => ChangeKind::Updated,
        pb::row_change::Kind::Unchanged | pb::row_change::Kind::Unspecified => {
            ChangeKind::Unchanged
        }
    };
    Change {
        row,
        id: c.id.clone(),
        kind,
        fields: c.fields.clone(),
    }
}

/// The rows of a ledger that passed its checks, to be stored (or, with
/// `--check`, compared with what is stored).
struct Rows<'a, R> {
    rows: &'a [(u64, R)],
    lang: Lang,
    options: ImportOptions,
}

impl<R: Record> TwoWays for Rows<'_, R> {
    type Output = Stored;

    async fn remote(self, server: Server<'_>) -> anyhow::Result<Stored> {
        send(server, self.rows, self.lang, self.options).await
    }

    fn local(self, data: Local<'_>) -> anyhow::Result<Stored> {
        store_offline(data, self.rows, self.lang, self.options)
    }
}

/// Stores the rows offline: the service the server uses and its import
/// pipeline, as an admin.
fn store_offline<R: Record>(
    data: Local<'_>,
    rows: &[(u64, R)],
    lang: Lang,
    options: ImportOptions,
) -> anyhow::Result<Stored> {
    let service = data.service(Default::default(), Default::default())?;
    let bar = bar(rows.len(), lang);
    let mut stored = Stored::default();
    let mut ids = Vec::with_capacity(rows.len());
    super::runtime()?.block_on(async {
        let mut import = Import::new(service.clone(), super::operator(), options);
        for (_, row) in rows {
            // The API's conversion and validation, as a server applies them.
            let record = R::from_pb(row.clone().to_pb()).map_err(|e| anyhow::anyhow!("{e}"))?;
            ids.push(R::stored_id(&record));
            stored.answer(&ids, import.push(record).await?, lang);
            bar.inc(1);
        }
        stored.answer(&ids, import.finish().await?, lang);
        anyhow::Ok(())
    })?;
    super::close_service(service);
    bar.finish_and_clear();
    Ok(stored)
}

/// Streams the rows to a server; the reply's row numbers are positions in
/// the stream.
async fn send<R: Record>(
    server: Server<'_>,
    rows: &[(u64, R)],
    lang: Lang,
    options: ImportOptions,
) -> anyhow::Result<Stored> {
    let channel = server.channel().await?;
    let bar = bar(rows.len(), lang);
    let pbs: Vec<R::Pb> = rows.iter().map(|(_, r)| r.clone().to_pb()).collect();
    let reply = stream_rows::<R>(channel, pbs, bar.clone(), lang, options)
        .await
        .map_err(|s| status_error(s, lang))?;
    bar.finish_and_clear();
    let omitted = reply.errors_omitted;
    if omitted > 0 {
        eprintln!(
            "{}",
            match lang {
                Lang::Zh => format!("另有 {omitted} 行被拒绝，服务器未列出原因"),
                Lang::En =>
                    format!("{omitted} more rows were rejected; the server did not list them"),
            }
        );
    }
    if reply.changes_omitted > 0 {
        eprintln!(
            "{}",
            match lang {
                Lang::Zh => format!("另有 {} 行的改动服务器未列出", reply.changes_omitted),
                Lang::En => format!(
                    "the server did not list what {} more rows change",
                    reply.changes_omitted
                ),
            }
        );
    }
    let index = |row: u64| {
        usize::try_from(row)
            .ok()?
            .checked_sub(1)
            .filter(|&i| i < rows.len())
    };
    let refused = reply
        .errors
        .into_iter()
        .filter_map(|e| Some((index(e.row)?, e.field, e.reason)))
        .collect();
    let rows = reply
        .changes
        .into_iter()
        .filter_map(|c| Some((index(c.row)?, c)))
        .collect();
    Ok(Stored {
        accepted: (reply.created + reply.updated + reply.unchanged) as usize,
        refused,
        created: reply.created as usize,
        unchanged: reply.unchanged as usize,
        rows,
    })
}

/// The server's refusal of the whole import, kept whole so that it exits
/// as every command exits on it ([`super::exit`]).
fn status_error(s: tonic::Status, lang: Lang) -> anyhow::Error {
    anyhow::Error::new(super::exit::Remote(s))
        .context(lang.pick("服务器拒绝了导入", "the server refused the import"))
}

/// `ledger.xlsx` -> `ledger.rejected.xlsx`, beside it.
pub fn rejected_path(file: &Path) -> PathBuf {
    beside(file, "rejected")
}

/// `ledger.xlsx` -> `ledger.<what>.xlsx`, beside it, in its format.
fn beside(file: &Path, what: &str) -> PathBuf {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("ledger");
    let ext = file.extension().and_then(|s| s.to_str()).unwrap_or("csv");
    file.with_file_name(format!("{stem}.{what}.{ext}"))
}

fn print_summary(o: &ImportOutcome, args: &ImportArgs) {
    let lang = args.lang;
    let file = args.file.display();
    let rejected = o.rejected.len();
    if !o.compared {
        match lang {
            Lang::Zh => println!(
                "{file}：共 {} 行，检查通过 {} 行，拒绝 {rejected} 行（没有可比对的数据，未判断新增或更新）",
                o.rows, o.accepted
            ),
            Lang::En => println!(
                "{file}: {} rows, {} pass the checks, {rejected} rejected (no data to compare with: \
                 new or changed not told)",
                o.rows, o.accepted
            ),
        }
    } else {
        let (created, updated, unchanged) = (o.created, o.updated.len(), o.unchanged);
        match (args.check, lang) {
            (true, Lang::Zh) => println!(
                "{file}：共 {} 行，检查通过（未保存）：将新增 {created} 行，将更新 {updated} 行，\
                 不变 {unchanged} 行；拒绝 {rejected} 行",
                o.rows
            ),
            (true, Lang::En) => println!(
                "{file}: {} rows, checked only (nothing stored): {created} would be new, \
                 {updated} would change a stored record, {unchanged} unchanged; {rejected} rejected",
                o.rows
            ),
            (false, Lang::Zh) => println!(
                "{file}：共 {} 行，已导入：新增 {created} 行，更新 {updated} 行，不变 {unchanged} 行\
                 （未写入）；拒绝 {rejected} 行",
                o.rows
            ),
            (false, Lang::En) => println!(
                "{file}: {} rows imported: {created} new, {updated} changed, {unchanged} unchanged \
                 (not written); {rejected} rejected",
                o.rows
            ),
        }
    }
    for (row, id, fields) in o.updated.iter().take(5) {
        match lang {
            Lang::Zh => println!("  第 {row} 行 {id} 更新：{}", fields.join("、")),
            Lang::En => println!("  row {row} {id} changes: {}", fields.join(", ")),
        }
    }
    if o.updated.len() > 5 {
        println!("  ...");
    }
    for e in o.rejected.iter().take(5) {
        println!("  {}", e.text(lang));
    }
    if rejected > 5 {
        println!("  ...");
    }
    if let Some(path) = &o.rejected_file {
        match lang {
            Lang::Zh => println!("被拒绝的行及原因已写入 {}", path.display()),
            Lang::En => println!("rejected rows and reasons written to {}", path.display()),
        }
    }
    if let Some(path) = &o.changes_file {
        match lang {
            Lang::Zh => println!(
                "每行的结果（新增、更新及改动的字段、不变）已写入 {}",
                path.display()
            ),
            Lang::En => println!(
                "what each row does (new, changed with the fields, unchanged) written to {}",
                path.display()
            ),
        }
    }
}

/// `template`: an empty ledger with the headers, an example row and (in
/// xlsx) drop-down lists, a sheet explaining every column and a sheet of
/// valid values (`ledger::template`).
pub fn template(kind: Kind, out: &Path, lang: Lang) -> anyhow::Result<()> {
    match Format::for_path(out)? {
        Format::Csv(encoding) => {
            let table = match kind {
                Kind::Workers => columns::template(workers::COLUMNS, lang),
                Kind::Openings => columns::template(openings::COLUMNS, lang),
            };
            files::write(out, &table, Format::Csv(encoding))
        }
        Format::Xlsx => crate::ledger::template::workbook(kind, lang)?
            .save(out)
            .with_context(|| format!("cannot write {}", out.display())),
    }
}

/// Import a workers' or openings' ledger (.csv or .xlsx, Chinese or
/// English headers); rejected rows come back in a file of the same format.
#[derive(clap::Args, Debug)]
pub struct ImportCommand {
    /// What the ledger holds.
    #[arg(value_enum)]
    pub kind: Kind,
    /// The ledger: .csv (UTF-8, UTF-8 with BOM or GB18030) or .xlsx.
    pub file: PathBuf,
    /// Where the data is.
    #[command(flatten)]
    pub target: Target,
    /// Store nothing: validate every row, write the rejected ones, and
    /// say which rows would be new, which would change a stored record
    /// (and which fields) and which are unchanged.
    #[arg(long)]
    pub check: bool,
    /// Rows may move stored workers to another county or household
    /// (without it such rows are rejected).
    #[arg(long)]
    pub allow_move: bool,
    /// The file of rejected rows (default: FILE.rejected.csv / .xlsx beside it).
    #[arg(long)]
    pub rejected: Option<PathBuf>,
    /// The language.
    #[command(flatten)]
    pub lang: super::lang::LangFlag,
}

impl ImportCommand {
    /// Runs the import; an error when no row could be stored.
    pub fn run(self) -> anyhow::Result<()> {
        let args = ImportArgs {
            kind: self.kind,
            file: self.file,
            check: self.check,
            allow_move: self.allow_move,
            rejected: self.rejected,
            lang: self.lang.lang(),
        };
        import(&self.target, &args)?;
        Ok(())
    }
}

/// Write an empty ledger with its headers and an example row.
#[derive(clap::Args, Debug)]
pub struct TemplateCommand {
    /// Which ledger.
    #[arg(value_enum)]
    pub kind: Kind,
    /// Write xlsx (with a sheet explaining the columns) instead of CSV.
    #[arg(long)]
    pub xlsx: bool,
    /// The file (default: workers-template.csv / .xlsx).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The language.
    #[command(flatten)]
    pub lang: super::lang::LangFlag,
}

impl TemplateCommand {
    /// Writes the template.
    pub fn run(self) -> anyhow::Result<()> {
        let name = match self.kind {
            Kind::Workers => "workers",
            Kind::Openings => "openings",
        };
        let out = self.out.unwrap_or_else(|| {
            PathBuf::from(format!(
                "{name}-template.{}",
                if self.xlsx { "xlsx" } else { "csv" }
            ))
        });
        let lang = self.lang.lang();
        template(self.kind, &out, lang)?;
        println!("{}", out.display());
        Ok(())
    }
}
