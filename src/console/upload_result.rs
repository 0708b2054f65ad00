//! The result page of a ledger upload: the counts, the first rejected and
//! changed rows, and the links to the files.

use axum::response::Response;
use maud::{html, Markup};

use super::layout;
use super::Officer;
use crate::ledger::import::{Change, ChangeKind};
use crate::ledger::RowError;
use crate::service::ImportOptions;

/// Rows of each list the page shows (the files have all).
const SHOWN: usize = 20;

/// What the upload did (built by [`super::upload`]).
pub struct Outcome {
    /// The ledger as read (its data rows are the rows counted).
    pub(super) table: crate::ledger::Table,
    /// Refused rows, in row order.
    pub rejected: Vec<RowError>,
    /// What each accepted row did, in row order: the page counts the
    /// rows created, updated and unchanged from these.
    pub changes: Vec<Change>,
    /// Columns the ledger does not know (ignored).
    pub unknown: Vec<String>,
}

impl Outcome {
    /// The accepted rows that do `kind` (or would).
    fn rows_that(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }
}

/// The page.
pub fn render(
    who: &Officer,
    file_name: &str,
    o: &Outcome,
    options: ImportOptions,
    kept: Option<&str>,
) -> Response {
    let lang = who.lang;
    let title = if options.check_only {
        lang.pick("台账检查结果（未保存）", "Ledger checked (nothing stored)")
    } else {
        lang.pick("台账导入结果", "Ledger imported")
    };
    let (created, updated) = if options.check_only {
        (
            lang.pick("将新增", "would be new"),
            lang.pick("将更新", "would change"),
        )
    } else {
        (lang.pick("新增", "new"), lang.pick("更新", "changed"))
    };
    let updates: Vec<&Change> = o
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Updated)
        .take(SHOWN)
        .collect();
    let body = html! {
        p { (file_name) " · " (lang.pick("共", "rows: ")) (o.table.rows.len()) (lang.pick(" 行", "")) }
        @if !o.unknown.is_empty() {
            p.muted { (lang.pick("以下列不属于台账，已忽略：", "columns ignored (not ledger columns): "))
                (o.unknown.join(lang.pick("、", ", "))) }
        }
        div.cards id="counts" {
            (count("created", created, o.rows_that(ChangeKind::Created)))
            (count("updated", updated, o.rows_that(ChangeKind::Updated)))
            (count("unchanged", lang.pick("不变", "unchanged"), o.rows_that(ChangeKind::Unchanged)))
            (count("rejected", lang.pick("拒绝", "rejected"), o.rejected.len()))
        }
        @if let Some(name) = kept {
            p.download {
                @if !o.rejected.is_empty() {
                    a id="rejected-file" href=(format!("/upload/rejected/{name}")) {
                        (lang.pick("下载被拒绝的行及原因（xlsx）", "Download the rejected rows with reasons (xlsx)"))
                    }
                    " "
                }
                @if !o.changes.is_empty() {
                    a id="changes-file" href=(format!("/upload/changes/{name}")) {
                        (lang.pick("下载每行的结果（xlsx）", "Download what each row does (xlsx)"))
                    }
                }
            }
            p.muted { (lang.pick("文件保留 30 分钟，仅本次登录可下载。", "The files are kept for 30 minutes, for this session only.")) }
        }
        @if !o.rejected.is_empty() {
            h2 { (lang.pick("被拒绝的行", "Rejected rows")) }
            table id="rejected" {
                thead { tr {
                    th.num { (lang.pick("行号", "Row")) }
                    th { (lang.pick("列", "Column")) }
                    th { (lang.pick("字段", "Field")) }
                    th { (lang.pick("原因", "Reason")) }
                } }
                tbody { @for e in o.rejected.iter().take(SHOWN) {
                    tr data-row=(e.row) {
                        td.num { (e.row) }
                        td { (e.column) }
                        td { (e.field) }
                        td.text { (e.reason) }
                    }
                } }
            }
        }
        @if !updates.is_empty() {
            h2 { (lang.pick("会改动已登记记录的行", "Rows that change a stored record")) }
            table id="changed" {
                thead { tr {
                    th.num { (lang.pick("行号", "Row")) }
                    th { (lang.pick("编号", "Id")) }
                    th { (lang.pick("改动的字段", "Fields changed")) }
                } }
                tbody { @for c in updates {
                    tr data-row=(c.row) {
                        td.num { (c.row) }
                        td { (c.id) }
                        td { (c.fields.join(lang.pick("、", ", "))) }
                    }
                } }
            }
        }
        p { a href="/upload" { (lang.pick("再上传一个", "Upload another")) } }
    };
    layout::shell(who, title, body)
}

/// A count of rows, drawn as the dashboard's figures are.
fn count(id: &str, label: &str, rows: usize) -> Markup {
    layout::figure(id, label, rows as u64, None)
}
