//! The xlsx template: the ledger sheet (headers, an example row, typed
//! columns), the column guide, and a sheet of valid values (skills with
//! their Chinese names and codes, counties and cities with their codes,
//! sources, yes/no) that the ledger's columns offer as drop-down lists
//! (Excel data validation).
//!
//! A drop-down never refuses what the import accepts. Every list is a
//! range of the valid-values sheet (an inline list is limited to 255
//! characters), and none uses Excel's "Stop" style: the import also reads
//! codes, aliases (yes, 1, √) and several skills in one cell
//! (`缝纫:3;电工:2`), so a value not in the list gets a warning the
//! clerk may pass (single-choice columns) or a note (list columns).

use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, Formula, Workbook, Worksheet};

use super::columns::{self, Column};
use super::{files, openings, workers, Kind};
use crate::domain::{regions, words, Lang, Source};

/// Data rows of the ledger sheet the drop-downs cover.
const ROWS: u32 = 10_000;

/// The valid-values sheet's name.
pub fn values_sheet(lang: Lang) -> &'static str {
    lang.pick("可填值", "valid values")
}

/// Which list a column offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    /// Skills; a cell may hold several.
    Skills,
    /// Counties and cities, by name.
    Regions,
    /// One source.
    Source,
    /// Sources; a cell may hold several.
    Sources,
    /// 是 / 否.
    YesNo,
}

impl List {
    /// The list of the column whose field path is `path`, if any.
    fn of(path: &str) -> Option<List> {
        Some(match path {
            "skills" | "certificates" | "required_skills" | "preferred_skills" => List::Skills,
            "county_code" | "region_code" => List::Regions,
            "source" => List::Source,
            "preferences.preferred_sources" => List::Sources,
            "preferences.strict_sources"
            | "preferences.needs_flexible_hours"
            | "consent_to_share"
            | "flexible_hours"
            | "housing_provided"
            | "transport_provided"
            | "reserved_for_relocated" => List::YesNo,
            _ => return None,
        })
    }

    /// Whether a cell may hold several values (then a value not in the
    /// list only gets a note).
    fn several(self) -> bool {
        matches!(self, List::Skills | List::Sources)
    }

    /// The input message shown on the cell: (title, text).
    fn message(self, lang: Lang) -> (&'static str, &'static str) {
        let ((title_zh, title_en), (zh, en)) = match self {
            List::Skills => (
                ("技能", "skills"),
                (
                    "从下拉列表选一个技能，或写多个并注明等级（1-5）：缝纫:3;电工:2。技能名称或代码都可以，全部技能见“可填值”表。",
                    "Pick a skill, or write several with levels 1-5: sewing:3;electrics:2. A Chinese name or a code; the sheet 'valid values' lists all.",
                ),
            ),
            List::Regions => (
                ("县区", "county"),
                (
                    "从下拉列表选县区名称，也可写六位行政区划代码（如 431224）。",
                    "Pick a county or city, or write its six-digit code (e.g. 431224).",
                ),
            ),
            List::Source => (
                ("岗位类型", "source"),
                ("从下拉列表选一种岗位类型。", "Pick one source."),
            ),
            List::Sources => (
                ("意向岗位类型", "preferred sources"),
                (
                    "选一种，或写多种，用分号隔开：帮扶车间;公益岗位。",
                    "Pick one, or write several separated by ';'.",
                ),
            ),
            List::YesNo => (
                ("是 / 否", "yes / no"),
                ("选“是”或“否”；空为否。", "Pick yes or no; empty is no."),
            ),
        };
        (lang.pick(title_zh, title_en), lang.pick(zh, en))
    }
}

/// The valid-values sheet's lists, each a column: (header, values).
fn lists(lang: Lang) -> Vec<(List, &'static str, Vec<String>)> {
    let skills = words::SKILL_NAMES
        .iter()
        .map(|(code, zh)| lang.pick(zh, code).to_string())
        .collect();
    let regions = named_regions()
        .into_iter()
        .map(|r| r.name(lang).to_string())
        .collect();
    let sources: Vec<String> = Source::ALL
        .iter()
        .map(|s| s.text(lang).to_string())
        .collect();
    vec![
        (List::Skills, lang.pick("技能名称", "skill"), skills),
        (
            List::Regions,
            lang.pick("县区名称", "county or city"),
            regions,
        ),
        (List::Source, lang.pick("岗位类型", "source"), sources),
        (
            List::YesNo,
            lang.pick("是/否", "yes/no"),
            vec![
                columns::yes_no_text(true, lang),
                columns::yes_no_text(false, lang),
            ],
        ),
    ]
}

/// Regions a name picks out unambiguously (a name two regions share is
/// read as one of them: only that one is listed), Huaihua's counties
/// first, then the rest in code order.
fn named_regions() -> Vec<regions::Region> {
    let mut all: Vec<regions::Region> = regions::all()
        .into_iter()
        .filter(|r| {
            regions::code_of(r.zh) == Some(r.code) && regions::code_of(r.en) == Some(r.code)
        })
        .collect();
    let huaihua_county = |r: &regions::Region| r.code.starts_with("4312") && r.code != "431200";
    all.sort_by_key(|r| (!huaihua_county(r), r.code));
    all
}

/// Writes the valid-values sheet; returns, for each list, the absolute
/// range of its values.
fn write_values(sheet: &mut Worksheet, lang: Lang) -> anyhow::Result<Vec<(List, String)>> {
    let name = values_sheet(lang);
    let mut ranges = Vec::new();
    let mut col: u16 = 0;
    for (list, header, values) in lists(lang) {
        write_list(sheet, col, header, &values)?;
        let letter = rust_xlsxwriter::utility::column_number_to_name(col);
        ranges.push((
            list,
            format!("'{name}'!${letter}$2:${letter}${}", values.len() + 1),
        ));
        // Skills and regions also show their codes, in the next column.
        let codes: Option<(&str, Vec<String>)> = match list {
            List::Skills => Some((
                lang.pick("技能代码", "Chinese name"),
                words::SKILL_NAMES
                    .iter()
                    .map(|(code, zh)| lang.pick(code, zh).to_string())
                    .collect(),
            )),
            List::Regions => Some((
                lang.pick("代码", "code"),
                named_regions().iter().map(|r| r.code.to_string()).collect(),
            )),
            _ => None,
        };
        if let Some((header, codes)) = codes {
            col += 1;
            write_list(sheet, col, header, &codes)?;
        }
        col += 2;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(ranges)
}

/// Writes column `col` of the valid-values sheet: a bold header, then
/// the values as text.
fn write_list(
    sheet: &mut Worksheet,
    col: u16,
    header: &str,
    values: &[String],
) -> anyhow::Result<()> {
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let text = rust_xlsxwriter::Format::new().set_num_format("@");
    sheet.write_string_with_format(0, col, header, &bold)?;
    sheet.set_column_width(col, 18)?;
    for (i, v) in values.iter().enumerate() {
        sheet.write_string_with_format(i as u32 + 1, col, v, &text)?;
    }
    Ok(())
}

/// The drop-downs of the ledger sheet's columns.
fn add_validations<R>(
    sheet: &mut Worksheet,
    columns: &[Column<R>],
    ranges: &[(List, String)],
    lang: Lang,
) -> anyhow::Result<()> {
    for (c, column) in columns.iter().enumerate() {
        let Some(list) = List::of(column.path) else {
            continue;
        };
        let range = ranges
            .iter()
            .find(|(l, _)| *l == list || (list == List::Sources && *l == List::Source))
            .map(|(_, r)| r.as_str())
            .expect("every list has a range");
        let (title, message) = list.message(lang);
        let (style, error) = if list.several() {
            (
                DataValidationErrorStyle::Information,
                lang.pick(
                    "不在下拉列表中。写多个值或代码也可以，导入时会逐个检查。",
                    "Not in the list. Several values or codes are fine: the import checks each.",
                ),
            )
        } else {
            (
                DataValidationErrorStyle::Warning,
                lang.pick(
                    "不在下拉列表中。代码或别名（如 431224、yes、1）导入时也能识别；确认无误请点“是”。",
                    "Not in the list. Codes and aliases (431224, 是, 1) are read by the import too; choose Yes to keep it.",
                ),
            )
        };
        let validation = DataValidation::new()
            .allow_list_formula(Formula::new(format!("={range}")))
            .ignore_blank(true)
            .set_input_title(title)?
            .set_input_message(message)?
            .set_error_title(lang.pick("请核对", "Please check"))?
            .set_error_message(error)?
            .set_error_style(style);
        sheet.add_data_validation(1, c as u16, ROWS, c as u16, &validation)?;
    }
    Ok(())
}

/// The template workbook of `kind` in `lang`: the ledger sheet with an
/// example row and drop-downs, the column guide, and the valid values.
pub fn workbook(kind: Kind, lang: Lang) -> anyhow::Result<Workbook> {
    match kind {
        Kind::Workers => book_of(workers::COLUMNS, lang),
        Kind::Openings => book_of(openings::COLUMNS, lang),
    }
}

fn book_of<R>(columns: &[Column<R>], lang: Lang) -> anyhow::Result<Workbook> {
    let mut book = Workbook::new();
    let table = columns::template(columns, lang);
    files::add_sheet(&mut book, lang.pick("台账", "ledger"), &table)?;
    files::add_sheet(
        &mut book,
        lang.pick("填写说明", "columns"),
        &columns::guide(columns, lang),
    )?;
    let values = book.add_worksheet();
    values.set_name(values_sheet(lang))?;
    let ranges = write_values(values, lang)?;
    let ledger = book.worksheet_from_index(0)?;
    add_validations(ledger, columns, &ranges, lang)?;
    Ok(book)
}
