//! What type a written cell has. A ledger is read as text (the columns'
//! readers judge it), but an xlsx export or template writes numbers,
//! money and dates as typed cells, so that a clerk can sum wages and sort
//! by date; ids, phone numbers, codes and yes/no stay text (a phone number
//! written as a number loses nothing today, but Excel would show a long
//! id in scientific notation and drop leading zeros).
//!
//! The type of a record column is found by its field path
//! ([`kind_for_path`]) rather than stored in each column of
//! [`super::workers::COLUMNS`] and [`super::openings::COLUMNS`], so that
//! those tables (what a ledger reads) and this one (how an export looks)
//! change apart; a test checks that every path named here is a column's.

/// How a cell is written to an xlsx sheet. CSV files are text whatever
/// the kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// A text cell in a text-formatted ("@") column.
    #[default]
    Text,
    /// A whole number (a count, an age, kilometres).
    Integer,
    /// An amount in CNY, formatted `#,##0`.
    Money,
    /// A decimal number (coordinates), as many digits as it has.
    Decimal,
    /// A date, written as an Excel date formatted `yyyy-mm-dd`.
    Date,
}

impl CellKind {
    /// The Excel number format of a column of this kind.
    pub fn num_format(self) -> &'static str {
        match self {
            CellKind::Text => "@",
            CellKind::Integer => "0",
            CellKind::Money => "#,##0",
            CellKind::Decimal => "General",
            CellKind::Date => "yyyy-mm-dd",
        }
    }
}

/// Record fields written as typed cells, by their path in the workers' and
/// openings' column tables; every other column is text.
const TYPED: &[(&str, CellKind)] = &[
    ("birth_year", CellKind::Integer),
    ("site_location.lat", CellKind::Decimal),
    ("site_location.lon", CellKind::Decimal),
    ("preferences.max_commute_km", CellKind::Integer),
    ("preferences.expected_monthly_wage", CellKind::Money),
    ("location.lat", CellKind::Decimal),
    ("location.lon", CellKind::Decimal),
    ("min_age", CellKind::Integer),
    ("max_age", CellKind::Integer),
    ("monthly_wage", CellKind::Money),
    ("headcount", CellKind::Integer),
    ("start_date", CellKind::Date),
    ("end_date", CellKind::Date),
];

/// The kind of the record column whose field path is `path`.
pub fn kind_for_path(path: &str) -> CellKind {
    TYPED
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(CellKind::Text, |(_, k)| *k)
}

/// The number of a cell of `kind` whose text is `text`, if it reads as
/// one (an empty or odd cell is written as text, as it was read).
pub fn number_of(kind: CellKind, text: &str) -> Option<f64> {
    match kind {
        CellKind::Text | CellKind::Date => None,
        CellKind::Integer | CellKind::Money | CellKind::Decimal => {
            text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
        }
    }
}

/// The date of a cell whose text is `YYYY-MM-DD`.
pub fn date_of(text: &str) -> Option<rust_xlsxwriter::ExcelDateTime> {
    let d = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    rust_xlsxwriter::ExcelDateTime::from_ymd(
        u16::try_from(chrono::Datelike::year(&d)).ok()?,
        chrono::Datelike::month(&d) as u8,
        chrono::Datelike::day(&d) as u8,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_path_is_a_column_of_a_ledger() {
        let paths: Vec<&str> = super::super::workers::COLUMNS
            .iter()
            .map(|c| c.path)
            .chain(super::super::openings::COLUMNS.iter().map(|c| c.path))
            .collect();
        for (path, _) in TYPED {
            assert!(paths.contains(path), "{path} is no column's path");
        }
        for text in [
            "id",
            "phone",
            "national_id",
            "household_id",
            "occupation_code",
        ] {
            assert_eq!(kind_for_path(text), CellKind::Text, "{text}");
        }
    }

    #[test]
    fn odd_cells_stay_text() {
        assert_eq!(number_of(CellKind::Money, "3,000"), None);
        assert_eq!(number_of(CellKind::Money, ""), None);
        assert_eq!(number_of(CellKind::Integer, "30"), Some(30.0));
        assert!(date_of("2026/3/1").is_none());
        assert!(date_of("2026-03-01").is_some());
    }
}
