//! The ledger upload (台账上传): a workers' ledger, xlsx or CSV (UTF-8 or
//! GB18030), checked or imported through the same path as
//! `jobbridge import workers`: read by `ledger::files`, mapped by the
//! column tables, each row judged by `ledger::import`, stored by
//! [`Service::import_all`](crate::service::Service) in the
//! gRPC import's batches, and answered once durable. The rejected rows and
//! the changes come back as the CLI's files (xlsx), kept in memory for the
//! session ([`super::kept`]).

use std::path::Path;
use std::sync::Arc;

use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::coverage::{attachment, XLSX};
use super::kept::{Files, KEPT_FOR};
use super::upload_result::Outcome;
use super::{layout, Act, Console, Officer, Page, Refusal};
use crate::domain::{Lang, Worker};
use crate::ledger::import::{self, Change, ChangeKind, Record as _};
use crate::ledger::{files, Format, Mapping, RowError};
use crate::service::access::Denied;
use crate::service::{ImportOptions, RowChange};

/// The largest upload accepted (the route's body limit).
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;

/// `GET /upload`.
pub async fn form(who: Officer) -> Response {
    let lang = who.lang;
    let body = html! {
        p { (lang.pick(
            "上传劳动力台账（.xlsx，或 UTF-8 / GB18030 编码的 .csv），与命令行 jobbridge import workers 的检查和导入完全相同。",
            "Upload a workers' ledger (.xlsx, or .csv in UTF-8 or GB18030): checked and imported exactly as jobbridge import workers does."
        )) }
        form.upload method="post" action="/upload" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(who.csrf);
            p { label { (lang.pick("台账文件", "Ledger file")) " "
                input type="file" name="ledger" accept=".xlsx,.csv" required;
            } }
            p { label {
                input type="checkbox" name="allow_move" value="1";
                " " (lang.pick("允许把已登记的劳动力迁到台账所写的县区或户（--allow-move）",
                    "Rows may move stored workers to the county or household they give (--allow-move)"))
            } }
            p {
                button type="submit" name="mode" value="check" id="check" { (lang.pick("检查", "Check")) }
                " "
                button type="submit" name="mode" value="import" id="import" { (lang.pick("导入", "Import")) }
            }
            p.muted { (lang.pick("文件不超过 20 MB。", "Files up to 20 MB.")) }
        }
    };
    layout::shell(&who, lang.pick("台账上传", "Ledger upload"), body)
}

/// What the form sent.
#[derive(Default)]
struct Sent {
    csrf: String,
    check_only: bool,
    allow_move: bool,
    file_name: String,
    bytes: Vec<u8>,
}

async fn read_form(mut form: Multipart) -> Result<Sent, MultipartError> {
    let mut sent = Sent {
        check_only: true,
        ..Sent::default()
    };
    while let Some(field) = form.next_field().await? {
        match field.name().unwrap_or("") {
            "csrf" => sent.csrf = field.text().await?,
            "mode" => sent.check_only = field.text().await? != "import",
            "allow_move" => sent.allow_move = !field.text().await?.is_empty(),
            "ledger" => {
                sent.file_name = field.file_name().unwrap_or("").to_string();
                sent.bytes = field.bytes().await?.to_vec();
            }
            _ => {}
        }
    }
    Ok(sent)
}

/// A refusal of the upload itself, before any row is looked at.
fn refuse(who: &Officer, status: StatusCode, reason: &str) -> Response {
    let lang = who.lang;
    layout::refused_in_shell(
        who,
        status,
        lang.pick("无法读取上传的台账", "The upload cannot be read"),
        reason,
        html! { a href="/upload" { (lang.pick("重新上传", "Upload again")) } },
    )
}

/// `POST /upload`.
pub async fn submit(State(console): State<Arc<Console>>, who: Officer, form: Multipart) -> Page {
    let lang = who.lang;
    let sent = match read_form(form).await {
        Ok(sent) => sent,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(refuse(
                &who,
                StatusCode::PAYLOAD_TOO_LARGE,
                lang.pick(
                    "文件太大：台账不能超过 20 MB，请拆分后分批上传。",
                    "the file is too large: a ledger may be up to 20 MB; split it and upload the parts.",
                ),
            ))
        }
        Err(e) => return Err(refuse(&who, StatusCode::BAD_REQUEST, &e.body_text())),
    };
    if let Some(refusal) = who.csrf_refusal(&sent.csrf) {
        return Err(refusal);
    }
    if sent.file_name.is_empty() || sent.bytes.is_empty() {
        return Err(refuse(
            &who,
            StatusCode::BAD_REQUEST,
            lang.pick("请选择一个台账文件。", "choose a ledger file."),
        ));
    }
    let options = ImportOptions {
        check_only: sent.check_only,
        allow_move: sent.allow_move,
    };
    let file_name = sent.file_name.clone();
    let read = tokio::task::spawn_blocking(move || read_rows(&sent.file_name, sent.bytes, lang))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    let rows = read.map_err(|reason| refuse(&who, StatusCode::BAD_REQUEST, &reason))?;
    let records: Vec<Worker> = rows.good.iter().map(|(_, w)| w.clone()).collect();
    let results = console
        .show(
            &who,
            Act::ImportWorkers,
            console.service.import_all(&who.caller, records, options),
        )
        .await?;
    let result = outcome(rows, results, lang);
    let stem = Path::new(&file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("ledger")
        .to_string();
    let written = tokio::task::spawn_blocking(move || {
        let files = files_of(&result, stem, lang);
        (result, files)
    })
    .await;
    let (result, files) = match written {
        Ok(written) => written,
        Err(e) => {
            tracing::error!(error = %e, "console: the task writing an upload's files failed");
            return Err(layout::refused(&who, Refusal::Denied(Denied::Internal)));
        }
    };
    let kept = match files {
        Ok(Some(files)) => Some(console.kept.keep(&who.csrf, files)),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "console: cannot write an upload's files");
            None
        }
    };
    Ok(super::upload_result::render(
        &who,
        &file_name,
        &result,
        options,
        kept.as_deref(),
    ))
}

/// A ledger read and judged row by row.
struct Rows {
    table: crate::ledger::Table,
    mapping: Mapping<Worker>,
    good: Vec<(u64, Worker)>,
    rejected: Vec<RowError>,
    unknown: Vec<String>,
}

/// Reads the upload as the CLI reads a file; a refusal names the problem.
fn read_rows(name: &str, bytes: Vec<u8>, lang: Lang) -> Result<Rows, String> {
    let (table, _format) =
        files::read_bytes(Path::new(name), bytes).map_err(|e| format!("{e:#}"))?;
    let mapping = Mapping::new(Worker::columns(), Worker::NAME, &table.headers, lang)
        .map_err(|m| format!("{name}: {m}"))?;
    let (good, rejected) = import::parse_rows(&table, &mapping, lang);
    let unknown = mapping.unknown.clone();
    Ok(Rows {
        table,
        mapping,
        good,
        rejected,
        unknown,
    })
}

fn outcome(
    rows: Rows,
    results: Vec<Result<RowChange, crate::service::ServiceError>>,
    lang: Lang,
) -> Outcome {
    let Rows {
        table,
        mapping,
        good,
        mut rejected,
        unknown,
    } = rows;
    let mut changes = Vec::new();
    for ((row, worker), result) in good.iter().zip(results) {
        match result {
            Ok(change) => {
                let (kind, fields) = match change {
                    RowChange::Created => (ChangeKind::Created, Vec::new()),
                    RowChange::Updated(f) => (
                        ChangeKind::Updated,
                        f.into_iter().map(String::from).collect(),
                    ),
                    RowChange::Unchanged => (ChangeKind::Unchanged, Vec::new()),
                };
                changes.push(Change {
                    row: *row,
                    id: worker.stored_id(),
                    kind,
                    fields,
                });
            }
            Err(e) => {
                let (field, reason) = e.row_refusal(lang);
                rejected.push(mapping.error(*row, &field, reason));
            }
        }
    }
    rejected.sort_by_key(|e| e.row);
    Outcome {
        table,
        rejected,
        changes,
        unknown,
    }
}

/// The rejected rows and the changes as the CLI writes them (xlsx);
/// `None` when there is neither.
fn files_of(o: &Outcome, stem: String, lang: Lang) -> anyhow::Result<Option<Files>> {
    let rejected = (!o.rejected.is_empty())
        .then(|| {
            files::to_bytes(
                &import::rejected_table(&o.table, &o.rejected, lang),
                Format::Xlsx,
            )
        })
        .transpose()?;
    let changes = (!o.changes.is_empty())
        .then(|| files::to_bytes(&import::changes_table(&o.changes, lang), Format::Xlsx))
        .transpose()?;
    Ok((rejected.is_some() || changes.is_some()).then_some(Files {
        stem,
        rejected,
        changes,
    }))
}

/// `GET /upload/rejected/{name}`.
pub async fn rejected(
    State(console): State<Arc<Console>>,
    who: Officer,
    UrlPath(name): UrlPath<String>,
) -> Response {
    download(&console, &who, &name, "rejected", |f| f.rejected)
}

/// `GET /upload/changes/{name}`.
pub async fn changes(
    State(console): State<Arc<Console>>,
    who: Officer,
    UrlPath(name): UrlPath<String>,
) -> Response {
    download(&console, &who, &name, "changes", |f| f.changes)
}

fn download(
    console: &Console,
    who: &Officer,
    name: &str,
    what: &str,
    pick: impl FnOnce(Files) -> Option<Vec<u8>>,
) -> Response {
    let found = console.kept.get(&who.csrf, name).and_then(|files| {
        let stem = files.stem.clone();
        pick(files).map(|bytes| (stem, bytes))
    });
    match found {
        Some((stem, bytes)) => attachment(bytes, XLSX, &format!("{stem}.{what}.xlsx")),
        None => {
            let lang = who.lang;
            let minutes = KEPT_FOR.as_secs() / 60;
            refuse(
                who,
                StatusCode::NOT_FOUND,
                &match lang {
                    Lang::Zh => format!("文件不存在或已过期（保留 {minutes} 分钟，仅上传它的登录可下载）。"),
                    Lang::En => format!(
                        "no such file, or it expired (kept {minutes} minutes, for the session that uploaded it)."
                    ),
                },
            )
        }
    }
}
