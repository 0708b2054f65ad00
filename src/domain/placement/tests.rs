//! Dates, retention and the check-in schedule.

use super::*;

fn day(s: &str) -> i32 {
    day_number(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

/// A placement hired on `date`.
fn hired_on(date: &str) -> Placement {
    let mut p = Placement {
        hire_day: Some(day(date)),
        ..Default::default()
    };
    p.set_status(PlacementStatus::Hired);
    p
}

#[test]
fn months_after_clamps_to_month_end() {
    assert_eq!(months_after(day("2026-01-31"), 1), day("2026-02-28"));
    assert_eq!(months_after(day("2026-03-15"), 3), day("2026-06-15"));
    assert_eq!(months_after(day("2026-08-31"), 6), day("2027-02-28"));
    assert_eq!(day_date(day("2026-11-29")).to_string(), "2026-11-29");
}

#[test]
fn retention_counts_the_mark_day_as_retained() {
    let mut p = hired_on("2026-01-10");
    assert_eq!(p.retained(3, day("2026-04-09")), None);
    assert_eq!(p.retained(3, day("2026-04-10")), Some(true));
    p.separation_day = Some(day("2026-04-10"));
    assert_eq!(p.retained(3, day("2026-05-01")), Some(true));
    p.separation_day = Some(day("2026-04-09"));
    assert_eq!(p.retained(3, day("2026-05-01")), Some(false));
}

#[test]
fn owed_check_ins_skip_recorded_ones() {
    let mut p = hired_on("2026-01-10");
    p.check_ins.push(CheckIn {
        month: 1,
        ..Default::default()
    });
    assert_eq!(
        p.check_ins_owed(),
        vec![(3, day("2026-04-10")), (6, day("2026-07-10"))]
    );
    p.set_status(PlacementStatus::Separated);
    assert!(p.check_ins_owed().is_empty());
}

#[test]
fn check_in_months_are_one_three_six() {
    for m in CHECK_IN_MONTHS {
        assert_eq!(check_in_month(m), Ok(()));
    }
    let e = check_in_month(2).unwrap_err();
    assert_eq!(
        e.to_string(),
        "month: must be 1, 3 or 6 (months after hire), got 2"
    );
}
