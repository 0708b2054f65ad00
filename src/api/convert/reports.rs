//! The coverage report on the wire.

use super::source_to_pb;
use crate::api::pb;
use crate::domain::placement::day_date;
use crate::report::{Coverage, CoverageFilter, Row};

fn row_to_pb(r: Row) -> pb::CoverageRow {
    pb::CoverageRow {
        retention_3m_share: r.retention_3m_share(),
        retention_6m_share: r.retention_6m_share(),
        county_code: r.county_code,
        workers_registered: r.workers_registered,
        workers_want_work: r.workers_want_work,
        workers_seeking: r.workers_seeking,
        workers_placed: r.workers_placed,
        workers_in_work: r.workers_in_work,
        workers_in_work_placed: r.workers_in_work_placed,
        households_with_labour: r.households_with_labour,
        zero_employment_households: r.zero_employment_households,
        proposals: r.proposals,
        accepted: r.accepted,
        declined: r.declined,
        hires: r.hires,
        separations: r.separations,
        retention_3m_due: r.retention_3m_due,
        retention_3m_retained: r.retention_3m_retained,
        retention_6m_due: r.retention_6m_due,
        retention_6m_retained: r.retention_6m_retained,
        returnees: r.returnees,
        returnees_reproposed: r.returnees_reproposed,
        returnees_waiting: r.returnees_waiting,
        returnee_wait_median_days: r.returnee_wait_median_days,
        returnee_wait_mean_days: r.returnee_wait_mean_days,
        returnee_waiting_max_days: r.returnee_waiting_max_days,
        seeking_under_three_recommendations: r.seeking_under_three_recommendations,
    }
}

/// A report on the wire.
pub(crate) fn coverage_to_pb(c: Coverage, f: &CoverageFilter) -> pb::CoverageReport {
    let date = |d: i32| day_date(d).format("%Y-%m-%d").to_string();
    pb::CoverageReport {
        from_date: f.from_day.map(date).unwrap_or_default(),
        to_date: date(f.to_day),
        as_of_date: date(f.today),
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
