//! The coverage report for people: every figure with its name in Chinese
//! and English, grouped as a county head reads them, and the xlsx workbook
//! with one sheet per group, counties by name and a totals row. Below both
//! faces: `jobbridge report --xlsx` and the console's download write the
//! same bytes from the same [`Coverage`].

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::{Coverage, CoverageFilter, Row};
use crate::domain::placement::day_date;
use crate::domain::{regions, Lang, Source};

/// A figure's value as it is printed and stored in a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count.
    Count(u64),
    /// A share in [0, 1].
    Share(f64),
    /// A number of days.
    Days(f64),
}

impl Value {
    /// The value as text.
    pub fn text(self) -> String {
        match self {
            Value::Count(n) => n.to_string(),
            Value::Share(s) => format!("{s:.3}"),
            Value::Days(d) => format!("{d:.1}"),
        }
    }

    fn number(self) -> f64 {
        match self {
            Value::Count(n) => n as f64,
            Value::Share(v) | Value::Days(v) => v,
        }
    }
}

/// One figure of a coverage row.
pub struct Figure {
    /// The proto field name (the CSV header).
    pub key: &'static str,
    /// Chinese name.
    pub zh: &'static str,
    /// English name.
    pub en: &'static str,
    /// Reads it from a row.
    pub value: fn(&Row) -> Value,
}

/// A group of figures: one sheet of the workbook.
pub struct Group {
    /// Chinese name (the sheet's name in Chinese).
    pub zh: &'static str,
    /// English name.
    pub en: &'static str,
    /// Its figures, in print order.
    pub figures: &'static [Figure],
}

impl Figure {
    /// The figure `key`, named `zh` / `en`, read by `value`.
    const fn new(
        key: &'static str,
        zh: &'static str,
        en: &'static str,
        value: fn(&Row) -> Value,
    ) -> Figure {
        Figure { key, zh, en, value }
    }
}

/// The figure of the row's count `$key`.
macro_rules! count {
    ($key:ident, $zh:literal, $en:literal) => {
        Figure::new(stringify!($key), $zh, $en, |r| Value::Count(r.$key))
    };
}
/// The figure of the row's share `$key()`.
macro_rules! share {
    ($key:ident, $zh:literal, $en:literal) => {
        Figure::new(stringify!($key), $zh, $en, |r| Value::Share(r.$key()))
    };
}
/// The figure of the row's number of days `$key`.
macro_rules! days {
    ($key:ident, $zh:literal, $en:literal) => {
        Figure::new(stringify!($key), $zh, $en, |r| Value::Days(r.$key))
    };
}

/// Every figure of a coverage row, in groups (a test checks that each
/// field of the row appears once).
pub static GROUPS: &[Group] = &[
    Group {
        zh: "劳动力",
        en: "Workers",
        figures: &[
            count!(workers_registered, "登记劳动力", "workers registered"),
            count!(workers_want_work, "有就业意愿", "want work"),
            count!(workers_seeking, "求职中", "seeking work"),
            count!(workers_placed, "已录用待上岗", "placed, not started"),
            count!(workers_in_work, "已就业", "in work"),
            count!(
                workers_in_work_placed,
                "经本服务就业",
                "in work through placements"
            ),
        ],
    },
    Group {
        zh: "搬迁户",
        en: "Households",
        figures: &[
            count!(
                households_with_labour,
                "有劳动力的户",
                "households with labour"
            ),
            count!(
                zero_employment_households,
                "零就业家庭",
                "zero-employment households"
            ),
        ],
    },
    Group {
        zh: "推荐与上岗",
        en: "Placements",
        figures: &[
            count!(proposals, "推荐岗位次数", "proposals"),
            count!(accepted, "接受", "accepted"),
            count!(declined, "拒绝", "declined"),
            count!(hires, "上岗", "hires"),
            count!(separations, "离岗", "separations"),
        ],
    },
    Group {
        zh: "稳岗",
        en: "Retention",
        figures: &[
            count!(retention_3m_due, "满3个月应回访", "3-month check due"),
            count!(retention_3m_retained, "3个月仍在岗", "in work at 3 months"),
            share!(retention_3m_share, "3个月稳岗率", "3-month retention"),
            count!(retention_6m_due, "满6个月应回访", "6-month check due"),
            count!(retention_6m_retained, "6个月仍在岗", "in work at 6 months"),
            share!(retention_6m_share, "6个月稳岗率", "6-month retention"),
        ],
    },
    Group {
        zh: "返乡再就业",
        en: "Returnees",
        figures: &[
            count!(returnees, "离岗返回人数", "returnees"),
            count!(returnees_reproposed, "已再次推荐", "proposed again"),
            count!(returnees_waiting, "等待推荐", "waiting"),
            days!(
                returnee_wait_median_days,
                "等待天数中位数",
                "median wait, days"
            ),
            days!(returnee_wait_mean_days, "平均等待天数", "mean wait, days"),
            days!(
                returnee_waiting_max_days,
                "最长等待天数",
                "longest wait, days"
            ),
        ],
    },
    Group {
        zh: "服务频次",
        en: "Service cadence",
        figures: &[count!(
            seeking_under_three_recommendations,
            "求职者推荐不足3次",
            "seeking, under three recommendations"
        )],
    },
];

/// A county's name for a report (the code when no table names it); the
/// total row's.
pub fn county_name(code: &str, lang: Lang) -> String {
    if code.is_empty() {
        lang.pick("合计", "total").to_string()
    } else {
        regions::name(code, lang)
    }
}

/// The name of a source in a slots row.
pub fn source_name(source: Source, lang: Lang) -> String {
    source.text(lang).to_string()
}

/// The days a report covers, as dates (`YYYY-MM-DD`; `from_date` empty
/// when unbounded): what its heading says and the wire carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Period {
    /// First day of the placement figures; empty for from the start.
    pub from_date: String,
    /// Last day of the placement figures.
    pub to_date: String,
    /// The day retention is measured on.
    pub as_of_date: String,
}

impl Period {
    /// The period `filter` selects.
    pub fn of(filter: &CoverageFilter) -> Period {
        let date = |d: i32| day_date(d).format("%Y-%m-%d").to_string();
        Period {
            from_date: filter.from_day.map(date).unwrap_or_default(),
            to_date: date(filter.to_day),
            as_of_date: date(filter.today),
        }
    }
}

/// The heading line of a report.
pub fn heading(report: &Period, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!(
            "就业帮扶覆盖情况，截至 {}（安置数据 {} 至 {}）",
            report.as_of_date,
            if report.from_date.is_empty() {
                "起始"
            } else {
                &report.from_date
            },
            report.to_date
        ),
        Lang::En => format!(
            "Coverage as of {} (placements {} to {})",
            report.as_of_date,
            if report.from_date.is_empty() {
                "from the start"
            } else {
                &report.from_date
            },
            report.to_date
        ),
    }
}

/// The workbook's bytes: a cover sheet, one sheet per figure group
/// (counties down by name, figures across, a totals row) and the slots
/// per source.
pub fn workbook(report: &Coverage, period: &Period, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let share = Format::new().set_num_format("0.0%");
    let days = Format::new().set_num_format("0.0");
    let total = &report.total;

    let cover = book.add_worksheet();
    cover.set_name(lang.pick("说明", "About"))?;
    cover.write_string_with_format(0, 0, heading(period, lang), &bold)?;
    let counties: Vec<String> = report
        .counties
        .iter()
        .map(|r| county_name(&r.county_code, lang))
        .collect();
    cover.write_string(2, 0, lang.pick("县区", "counties"))?;
    cover.write_string(2, 1, counties.join(lang.pick("、", ", ")))?;
    cover.write_string(
        3,
        0,
        lang.pick(
            "每个工作表是一组指标，最后一行为合计",
            "each sheet is one group of figures; the last row is the total",
        ),
    )?;
    cover.set_column_width(0, 16)?;

    for group in GROUPS {
        let sheet = book.add_worksheet();
        sheet.set_name(lang.pick(group.zh, group.en))?;
        header(
            sheet,
            lang.pick("县区", "county"),
            group.figures.iter().map(|f| lang.pick(f.zh, f.en)),
            &bold,
        )?;
        let rows = report.counties.iter().chain(std::iter::once(total));
        for (r, row) in rows.enumerate() {
            let r = r as u32 + 1;
            let is_total = row.county_code.is_empty();
            let name = county_name(&row.county_code, lang);
            if is_total {
                sheet.write_string_with_format(r, 0, name, &bold)?;
            } else {
                sheet.write_string(r, 0, name)?;
            }
            for (c, f) in group.figures.iter().enumerate() {
                let v = (f.value)(row);
                let c = c as u16 + 1;
                match v {
                    Value::Count(_) => sheet.write_number(r, c, v.number())?,
                    Value::Share(_) => sheet.write_number_with_format(r, c, v.number(), &share)?,
                    Value::Days(_) => sheet.write_number_with_format(r, c, v.number(), &days)?,
                };
            }
        }
        sheet.set_freeze_panes(1, 1)?;
    }

    let sheet = book.add_worksheet();
    sheet.set_name(lang.pick("岗位名额", "Slots"))?;
    let heads = [
        lang.pick("在招岗位数", "openings open"),
        lang.pick("空余名额", "slots open"),
        lang.pick("已占名额", "slots filled"),
    ];
    header(
        sheet,
        lang.pick("岗位类型", "source"),
        heads.into_iter(),
        &bold,
    )?;
    let mut sums = [0u64; 3];
    for (r, s) in report.slots.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, source_name(s.source, lang))?;
        for (c, v) in [s.openings_open, s.slots_open, s.slots_filled]
            .into_iter()
            .enumerate()
        {
            sums[c] += v;
            sheet.write_number(r, c as u16 + 1, v as f64)?;
        }
    }
    let r = report.slots.len() as u32 + 1;
    sheet.write_string_with_format(r, 0, lang.pick("合计", "total"), &bold)?;
    for (c, v) in sums.into_iter().enumerate() {
        sheet.write_number_with_format(r, c as u16 + 1, v as f64, &bold)?;
    }
    book.save_to_buffer()
}

fn header<'a>(
    sheet: &mut Worksheet,
    first: &str,
    rest: impl Iterator<Item = &'a str>,
    bold: &Format,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(0, 0, first, bold)?;
    sheet.set_column_width(0, 14)?;
    for (c, h) in rest.enumerate() {
        sheet.write_string_with_format(0, c as u16 + 1, h, bold)?;
        sheet.set_column_width(
            c as u16 + 1,
            (h.chars().count() as f64 * 1.8).clamp(10.0, 40.0),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_is_named_once_and_reads_its_own_field() {
        let mut keys = std::collections::HashSet::new();
        for g in GROUPS {
            for f in g.figures {
                assert!(keys.insert(f.key), "{} twice", f.key);
                assert_ne!(f.zh, f.en);
            }
        }
        // CoverageRow: county_code plus 26 figures.
        assert_eq!(keys.len(), 26);
        let row = Row {
            workers_seeking: 7,
            retention_3m_due: 2,
            retention_3m_retained: 1,
            ..Default::default()
        };
        let find = |key: &str| {
            GROUPS
                .iter()
                .flat_map(|g| g.figures.iter())
                .find(|f| f.key == key)
                .map(|f| (f.value)(&row))
        };
        assert_eq!(find("workers_seeking"), Some(Value::Count(7)));
        assert_eq!(find("retention_3m_share"), Some(Value::Share(0.5)));
    }
}
