//! Columns: how a header is recognised, how a cell is read into a record
//! and written from one, and which API field path a refusal of it names.

use crate::domain::{Lang, Reason};

use super::cells::kind_for_path;
use super::fields::Field;
use super::{Cell, Row, Table};

/// One ledger column of records of type `R`.
pub struct Column<R> {
    /// Chinese header (the template's).
    pub zh: &'static str,
    /// English header; the API field name where there is one.
    pub en: &'static str,
    /// The field path, relative to the record, that the API's refusals of
    /// this column name (`site_location.lat`, `skills`).
    pub path: &'static str,
    /// The column must be present (its cells may still be checked later).
    pub required: bool,
    /// Never written by an export (the national id number).
    pub secret: bool,
    /// The template's example cell.
    pub example: &'static str,
    /// What a cell may hold, for people: (Chinese, English).
    pub note: (&'static str, &'static str),
    /// Reads a cell into the record.
    pub read: fn(&mut R, &Cell) -> Result<(), Reason>,
    /// Writes the record's cell, in a language.
    pub write: fn(&R, Lang) -> String,
}

impl<R> Column<R> {
    /// A column that must be present, headed `zh` / `en`, of `field`.
    pub const fn required(zh: &'static str, en: &'static str, field: Field<R>) -> Self {
        Self {
            required: true,
            ..Self::optional(zh, en, field)
        }
    }

    /// A column that may be left out, headed `zh` / `en`, of `field`.
    pub const fn optional(zh: &'static str, en: &'static str, field: Field<R>) -> Self {
        Self {
            zh,
            en,
            path: field.path,
            required: false,
            secret: false,
            example: "",
            note: ("", ""),
            read: field.read,
            write: field.write,
        }
    }

    /// The column, never written by an export.
    pub const fn secret(self) -> Self {
        Self {
            secret: true,
            ..self
        }
    }

    /// The column with the template's example cell.
    pub const fn example(self, example: &'static str) -> Self {
        Self { example, ..self }
    }

    /// The column with what a cell may hold, for people.
    pub const fn note(self, zh: &'static str, en: &'static str) -> Self {
        Self {
            note: (zh, en),
            ..self
        }
    }

    /// The header in `lang`.
    pub fn header(&self, lang: Lang) -> &'static str {
        lang.pick(self.zh, self.en)
    }

    /// Whether an API field path (relative to the record) is this column's.
    fn owns(&self, path: &str) -> bool {
        let under = |a: &str, b: &str| {
            a == b || a.strip_prefix(b).is_some_and(|r| r.starts_with(['.', '[']))
        };
        under(path, self.path) || under(self.path, path)
    }
}

/// A header as compared: no spaces, asterisks (required marks) or
/// brackets' contents, lower case.
fn normalise(header: &str) -> String {
    let cut = header.find(['(', '（']).unwrap_or(header.len());
    header[..cut]
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A refused row: its number in the file, the column, the field path and
/// the reason in the language asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Row number as a spreadsheet shows it.
    pub row: u64,
    /// The column's header as the file spells it; empty if none applies.
    pub column: String,
    /// API field path, e.g. `worker.national_id`.
    pub field: String,
    /// Why, in the language asked for.
    pub reason: String,
}

impl RowError {
    /// The text of the rejected file's extra column.
    pub fn text(&self, lang: Lang) -> String {
        let place = match (self.column.is_empty(), lang) {
            (true, _) => self.field.clone(),
            (false, Lang::Zh) => format!("{}（{}）", self.column, self.field),
            (false, Lang::En) => format!("{} ({})", self.column, self.field),
        };
        match lang {
            Lang::Zh => format!("第 {} 行，{place}：{}", self.row, self.reason),
            Lang::En => format!("row {}, {place}: {}", self.row, self.reason),
        }
    }
}

/// Which column of a file is which ledger column.
pub struct Mapping<R: 'static> {
    columns: &'static [Column<R>],
    /// For each file column, the ledger column it is, if any.
    by_file: Vec<Option<usize>>,
    headers: Vec<String>,
    /// Headers that name no ledger column (left out of the import).
    pub unknown: Vec<String>,
    /// The record's name in API field paths (`worker`, `opening`).
    record: &'static str,
}

impl<R: 'static> Mapping<R> {
    /// Maps `headers` (Chinese, English or field names); refused when a
    /// required column is missing or a column is named twice, and with a
    /// hint at the file's encoding when no header at all is known.
    pub fn new(
        columns: &'static [Column<R>],
        record: &'static str,
        headers: &[String],
        lang: Lang,
    ) -> Result<Self, String> {
        let mut by_file = Vec::with_capacity(headers.len());
        let mut unknown = Vec::new();
        for h in headers {
            let n = normalise(h);
            let found = columns.iter().position(|c| {
                n == normalise(c.zh) || n == normalise(c.en) || n == normalise(c.path)
            });
            if let Some(i) = found {
                if by_file.contains(&Some(i)) {
                    return Err(match lang {
                        Lang::Zh => format!("列“{h}”重复（{}）", columns[i].zh),
                        Lang::En => format!("column {h:?} appears twice ({})", columns[i].en),
                    });
                }
            } else if !h.is_empty() {
                unknown.push(h.clone());
            }
            by_file.push(found);
        }
        if by_file.iter().all(Option::is_none) {
            if let Some(first) = unknown.first() {
                // Not one header known: the usual cause is a CSV read in
                // the wrong encoding (every Chinese header garbled), not a
                // ledger that lacks its columns.
                return Err(match lang {
                    Lang::Zh => format!(
                        "没有一个列名能识别（第一个读作“{first}”）：文件的编码可能不对。\
                         CSV 台账请另存为 UTF-8 或 GB18030（GBK）编码，或改用 xlsx 文件"
                    ),
                    Lang::En => format!(
                        "none of the column names is known (the first reads {first:?}): the \
                         file's encoding may be wrong; save a CSV ledger as UTF-8 or GB18030 \
                         (GBK), or use an xlsx file"
                    ),
                });
            }
        }
        let missing: Vec<&str> = columns
            .iter()
            .enumerate()
            .filter(|(i, c)| c.required && !by_file.contains(&Some(*i)))
            .map(|(_, c)| c.header(lang))
            .collect();
        if !missing.is_empty() {
            return Err(match lang {
                Lang::Zh => format!("缺少必填列：{}", missing.join("、")),
                Lang::En => format!("required columns missing: {}", missing.join(", ")),
            });
        }
        Ok(Self {
            columns,
            by_file,
            headers: headers.to_vec(),
            unknown,
            record,
        })
    }

    /// Reads `row` into `record` (a blank one); the first bad cell is
    /// refused with the column's field path.
    pub fn read(&self, row: &Row, record: &mut R, lang: Lang) -> Result<(), RowError> {
        let empty = Cell::text("");
        for (i, column) in self.by_file.iter().enumerate() {
            let Some(c) = column else { continue };
            let column = &self.columns[*c];
            let cell = row.cells.get(i).unwrap_or(&empty);
            (column.read)(record, cell).map_err(|reason| RowError {
                row: row.number,
                column: self.headers[i].clone(),
                field: format!("{}.{}", self.record, column.path),
                reason: reason.text(lang).to_string(),
            })?;
        }
        Ok(())
    }

    /// A refusal from the API or the domain (`worker.skills[1].level`) for
    /// row `row`, with the file's header of the column it names.
    pub fn error(&self, row: u64, field: &str, reason: String) -> RowError {
        let relative = field
            .strip_prefix(self.record)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(field);
        let column = self
            .by_file
            .iter()
            .enumerate()
            .find(|(_, c)| c.is_some_and(|c| self.columns[c].owns(relative)))
            .map(|(i, _)| self.headers[i].clone())
            .or_else(|| {
                // A column the file does not have: name it as the template does.
                let c = self.columns.iter().find(|c| c.owns(relative))?;
                Some(c.zh.to_string())
            })
            .unwrap_or_default();
        RowError {
            row,
            column,
            field: field.to_string(),
            reason,
        }
    }
}

/// The template or an export: the headers in `lang` and one row per
/// record (secret columns left out of exports).
pub fn table_of<R>(columns: &[Column<R>], records: &[R], lang: Lang, with_secret: bool) -> Table {
    let shown: Vec<&Column<R>> = columns
        .iter()
        .filter(|c| with_secret || !c.secret)
        .collect();
    let headers = shown.iter().map(|c| c.header(lang).to_string()).collect();
    let rows = records
        .iter()
        .map(|r| shown.iter().map(|c| (c.write)(r, lang)).collect())
        .collect();
    let kinds: Vec<_> = shown.iter().map(|c| kind_for_path(c.path)).collect();
    Table::of_text(headers, rows).typed(&kinds)
}

/// The template: headers in `lang` (required ones marked `*`) and one
/// example row.
pub fn template<R>(columns: &[Column<R>], lang: Lang) -> Table {
    let headers = columns
        .iter()
        .map(|c| {
            let h = c.header(lang);
            if c.required {
                format!("{h}*")
            } else {
                h.to_string()
            }
        })
        .collect();
    let example = columns.iter().map(|c| c.example.to_string()).collect();
    let kinds: Vec<_> = columns.iter().map(|c| kind_for_path(c.path)).collect();
    Table::of_text(headers, vec![example]).typed(&kinds)
}

/// The headers of a table, each given as (Chinese, English), in `lang`.
pub fn headers(lang: Lang, names: &[(&str, &str)]) -> Vec<String> {
    names
        .iter()
        .map(|(zh, en)| lang.pick(zh, en).to_string())
        .collect()
}

/// The column guide: header in both languages, field, required, what a
/// cell may hold.
pub fn guide<R>(columns: &[Column<R>], lang: Lang) -> Table {
    let headers = headers(
        lang,
        &[
            ("中文表头", "Chinese header"),
            ("英文表头", "English header"),
            ("字段", "field"),
            ("必填列", "required"),
            ("填写说明", "what to write"),
        ],
    );
    let rows = columns
        .iter()
        .map(|c| {
            vec![
                c.zh.to_string(),
                c.en.to_string(),
                c.path.to_string(),
                if c.required {
                    lang.pick("是", "yes")
                } else {
                    ""
                }
                .to_string(),
                lang.pick(c.note.0, c.note.1).to_string(),
            ]
        })
        .collect();
    Table::of_text(headers, rows)
}

// ----- cell readers shared by the record tables -----

/// A whole number; empty reads as `empty`.
pub fn number(cell: &Cell, empty: u32) -> Result<u32, Reason> {
    let t = cell.text.trim();
    if t.is_empty() {
        return Ok(empty);
    }
    let t = t.strip_suffix(".0").unwrap_or(t).replace([',', '，'], "");
    t.parse::<u32>().map_err(|_| {
        Reason::new(
            format!("必须是非负整数，实际为 {:?}", cell.text),
            format!("must be a whole number, got {:?}", cell.text),
        )
    })
}

/// A decimal number (coordinates); empty is refused.
pub fn decimal(cell: &Cell) -> Result<f64, Reason> {
    let t = cell.text.trim();
    if t.is_empty() {
        return Err(Reason::required());
    }
    t.parse::<f64>().map_err(|_| {
        Reason::new(
            format!("必须是数字，实际为 {:?}", cell.text),
            format!("must be a number, got {:?}", cell.text),
        )
    })
}

/// Yes or no; empty reads as no.
pub fn yes_no(cell: &Cell) -> Result<bool, Reason> {
    match cell.text.trim().to_lowercase().as_str() {
        "" | "否" | "不" | "无" | "n" | "no" | "false" | "0" | "×" => Ok(false),
        "是" | "有" | "y" | "yes" | "true" | "1" | "√" | "✓" => Ok(true),
        _ => Err(Reason::new(
            format!("请填“是”或“否”，实际为 {:?}", cell.text),
            format!("must be yes or no (是/否), got {:?}", cell.text),
        )),
    }
}

/// "是" or "否" in `lang`.
pub fn yes_no_text(v: bool, lang: Lang) -> String {
    match v {
        true => lang.pick("是", "yes"),
        false => lang.pick("否", "no"),
    }
    .to_string()
}

/// One value of a closed vocabulary, by its Chinese or English name, its
/// label or an alias; `None` for an empty cell.
pub fn choice<E: Copy + 'static>(
    cell: &Cell,
    all: &[E],
    names: fn(E) -> Vec<&'static str>,
) -> Result<Option<E>, Reason> {
    let t = cell.text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let lower = t.to_lowercase().replace(' ', "_");
    for &v in all {
        if names(v)
            .iter()
            .any(|n| *n == t || n.to_lowercase().replace(' ', "_") == lower)
        {
            return Ok(Some(v));
        }
    }
    let zh: Vec<&str> = all.iter().map(|&v| names(v)[0]).collect();
    let en: Vec<&str> = all.iter().map(|&v| names(v)[1]).collect();
    Err(Reason::new(
        format!("无法识别 {t:?}，可填：{}", zh.join("、")),
        format!("{t:?} is not one of: {}", en.join(", ")),
    ))
}

/// Splits a list cell on ; ； , ， 、 and line breaks.
pub fn items(cell: &Cell) -> Vec<&str> {
    cell.text
        .split([';', '；', ',', '，', '、', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Skills as "缝纫:3;电工:2" (name or code, colon, level 1-5).
pub fn skills(cell: &Cell) -> Result<Vec<(String, u32)>, Reason> {
    items(cell)
        .into_iter()
        .map(|item| {
            let (name, level) = match item.split_once([':', '：']) {
                Some((n, l)) => (n.trim(), l.trim()),
                None => (item, "1"),
            };
            let code = crate::domain::words::skill_code(name)
                .map(str::to_string)
                .or_else(|| {
                    crate::domain::rules::check_skill_code(name)
                        .is_ok()
                        .then(|| name.to_string())
                })
                .ok_or_else(|| {
                    Reason::new(
                        format!("未知技能 {name:?}（可填技能名称如“缝纫”，或技能代码如 sewing）"),
                        format!("unknown skill {name:?} (write a name such as 缝纫 or a code such as sewing)"),
                    )
                })?;
            let level = level.parse::<u32>().map_err(|_| {
                Reason::new(
                    format!("技能 {name:?} 的等级必须是 1 至 5 的整数，实际为 {level:?}"),
                    format!("level of {name:?} must be a whole number 1 to 5, got {level:?}"),
                )
            })?;
            Ok((code, level))
        })
        .collect()
}

/// Skills written back: "缝纫:3;电工:2" (Chinese) or "sewing:3;electrics:2".
pub fn skills_text(skills: impl Iterator<Item = (String, u32)>, lang: Lang) -> String {
    skills
        .map(|(code, level)| {
            let name = match lang {
                Lang::Zh => crate::domain::words::skill_zh(&code)
                    .map(str::to_string)
                    .unwrap_or(code),
                Lang::En => code,
            };
            format!("{name}:{level}")
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A region given by code or by name (see [`crate::domain::regions::code_or_name`]).
pub fn region(cell: &Cell) -> Result<String, Reason> {
    crate::domain::regions::code_or_name(&cell.text)
}

/// A date in any of the forms Excel users type, as YYYY-MM-DD; other text
/// is kept for the domain's check to refuse.
pub fn date(cell: &Cell) -> String {
    let t = cell.text.trim();
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"] {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(t, format) {
            return d.format("%Y-%m-%d").to_string();
        }
    }
    t.to_string()
}
