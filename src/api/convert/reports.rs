//! The coverage report on the wire.

use super::common::source;
use super::source_to_pb;
use crate::api::pb;
use crate::report::book::Period;
use crate::report::{Coverage, CoverageFilter, Row, SlotsRow};

/// The counts a coverage row carries the same on the wire and in the
/// domain (the shares are derived from them).
macro_rules! coverage_row {
    ($ty:ty, $r:ident $(, $($extra:tt)*)?) => {
        copy_fields!($ty, $r, [
            county_code, workers_registered, workers_want_work, workers_seeking,
            workers_placed, workers_in_work, workers_in_work_placed, households_with_labour,
            zero_employment_households, proposals, accepted, declined, hires, separations,
            retention_3m_due, retention_3m_retained, retention_6m_due, retention_6m_retained,
            returnees, returnees_reproposed, returnees_waiting, returnee_wait_median_days,
            returnee_wait_mean_days, returnee_waiting_max_days,
            seeking_under_three_recommendations,
        ] $(, $($extra)*)?)
    };
}

fn row_to_pb(r: Row) -> pb::CoverageRow {
    coverage_row!(
        pb::CoverageRow,
        r,
        retention_3m_share: r.retention_3m_share(),
        retention_6m_share: r.retention_6m_share(),
    )
}

/// A report on the wire.
pub(crate) fn coverage_to_pb(c: Coverage, f: &CoverageFilter) -> pb::CoverageReport {
    let period = Period::of(f);
    pb::CoverageReport {
        from_date: period.from_date,
        to_date: period.to_date,
        as_of_date: period.as_of_date,
        total: Some(row_to_pb(c.total)),
        counties: c.counties.into_iter().map(row_to_pb).collect(),
        slots: c
            .slots
            .into_iter()
            .map(|s| pb::SlotsRow {
                source: source_to_pb(s.source).into(),
                openings_open: s.openings_open,
                slots_open: s.slots_open,
                slots_filled: s.slots_filled,
            })
            .collect(),
    }
}

fn row_from_pb(r: pb::CoverageRow) -> Row {
    // The shares are derived from the counts (Row computes them).
    coverage_row!(Row, r)
}

/// A report from the wire (what a client received), with its period; a
/// slots row of a source this build does not know is left out.
pub(crate) fn coverage_from_pb(r: pb::CoverageReport) -> (Coverage, Period) {
    let period = Period {
        from_date: r.from_date,
        to_date: r.to_date,
        as_of_date: r.as_of_date,
    };
    let coverage = Coverage {
        total: row_from_pb(r.total.unwrap_or_default()),
        counties: r.counties.into_iter().map(row_from_pb).collect(),
        slots: r
            .slots
            .into_iter()
            .filter_map(|s| {
                let source = pb::Source::try_from(s.source).ok().and_then(source)?;
                Some(SlotsRow {
                    source,
                    openings_open: s.openings_open,
                    slots_open: s.slots_open,
                    slots_filled: s.slots_filled,
                })
            })
            .collect(),
    };
    (coverage, period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Source;

    /// `jobbridge report` against a server writes its workbook from the
    /// reply: the reply must give back the report the server computed.
    #[test]
    fn a_report_comes_back_from_the_wire_as_it_was() {
        let row = |county: &str, n: u64| Row {
            county_code: county.into(),
            workers_registered: n,
            workers_seeking: n / 2,
            retention_3m_due: 3,
            retention_3m_retained: 2,
            returnee_wait_median_days: 4.5,
            ..Row::default()
        };
        let coverage = Coverage {
            total: row("", 30),
            counties: vec![row("431224", 10), row("431202", 20)],
            slots: Source::ALL
                .iter()
                .map(|&source| SlotsRow {
                    source,
                    openings_open: 1,
                    slots_open: 2,
                    slots_filled: 3,
                })
                .collect(),
        };
        let filter = CoverageFilter {
            county_code: None,
            site_id: None,
            source: None,
            from_day: Some(20_000),
            to_day: 20_400,
            today: 20_426,
            now_ms: 0,
        };
        let (back, period) = coverage_from_pb(coverage_to_pb(coverage.clone(), &filter));
        assert_eq!(back, coverage);
        assert_eq!(period, Period::of(&filter));
        assert_eq!(period.from_date, "2024-10-04");
    }
}
