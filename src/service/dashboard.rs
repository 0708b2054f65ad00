//! The county head's dashboard: the coverage figures a county follows day
//! to day, per county and in total, answered from memory in milliseconds
//! where the coverage report scans the store (tens of seconds at national
//! scale).
//!
//! # Where the figures come from
//!
//! - Workers, households and slots: the match index's census
//!   ([`crate::matching::Census`]), which the index keeps on every upsert
//!   and removal. Every write of a worker or opening (single or combined
//!   puts, imports, deletes, closes, the worker and opening a placement
//!   step changes) reaches the index through the write path
//!   (`service::write`), which publishes the store's last word whatever
//!   the order of concurrent writers; the census therefore always counts
//!   exactly the records indexed. It is read from the published snapshot
//!   (an `Arc`, dropped at once): no lock, no wait for writers.
//! - Hires, separations and retention: the hire tally (`service::hires`),
//!   placements by county and days, refreshed from the store after every
//!   placement step. Retention for any "today" is computed from it.
//!
//! Both are built by the one scan of the store the service makes at open
//! for the match index. The rules that turn these classes into figures
//! are those of the coverage report's scan (`report::figures`), so the
//! dashboard equals `report::coverage` with a county filter, no source or
//! site, no `from` date and `to` = today, for every figure it fills. It
//! leaves at 0 what it does not keep: placements through a job
//! (`workers_in_work_placed`), the three-recommendations figure, the
//! proposal, acceptance and decline counts, and the returnees' waits;
//! the coverage report has them.
//!
//! A county appears once it has a worker, a household with labour or a
//! hire (the report also lists a county whose only records are
//! proposals, with zeros in these figures).
//!
//! # The trend
//!
//! One row per county per China day is kept in the store
//! ([`Service::snapshot_dashboard`]); a task started with the server
//! writes today's rows at start-up if they are missing and after each
//! China midnight ([`Service::dashboard_snapshots`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{scope, Result, Service, ServiceError};
use crate::domain::access::{Caller, Role};
use crate::domain::placement::{china_day, china_today};
use crate::domain::{rules, Source, ValidationError};
use crate::report::{figures, Row, SlotsRow};
use crate::store::DayFigures;

/// Most days a trend may ask for (ten years).
pub const MAX_TREND_DAYS: u32 = 3660;

/// The dashboard's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// The China day (days since 1970-01-01) retention was measured on.
    pub day: i32,
    /// One row per county, by code (see the module doc for the figures
    /// filled).
    pub counties: Vec<Row>,
    /// The counties together (`county_code` empty).
    pub total: Row,
    /// Slots per source, in source order, of the openings whose region is
    /// one of the counties (every opening when the dashboard covers all).
    pub slots: Vec<SlotsRow>,
}

/// Which counties a dashboard covers: all, or these.
pub type Counties = Option<BTreeSet<String>>;

impl Service {
    /// The dashboard of one county, or of all the caller may read: a
    /// service company names one of its counties or gets all of its
    /// own, admins and readers may read any or all, recruiters none.
    pub async fn dashboard(
        self: &Arc<Self>,
        caller: &Caller,
        county: Option<String>,
    ) -> Result<Dashboard> {
        let counties = dashboard_counties(caller, county)?;
        let today = china_today();
        self.blocking(move |s| Ok(s.dashboard_on(&counties, today)))
            .await
    }

    /// The dashboard of `counties` with retention measured on `today`,
    /// without a scope check (for the snapshots, tests and benches). Reads
    /// memory only: the index's published snapshot, and a copy of the hire
    /// tally taken under its mutex.
    pub fn dashboard_on(&self, counties: &Counties, today: i32) -> Dashboard {
        let census = self.matcher().read().census().clone();
        let mut rows: BTreeMap<u32, Row> = BTreeMap::new();
        let selected = |county: u32| {
            counties
                .as_ref()
                .is_none_or(|set| set.contains(&code(county)))
        };
        let mut rows_of = |county: u32, f: &mut dyn FnMut(&mut Row)| {
            if selected(county) {
                f(rows.entry(county).or_insert_with(|| Row {
                    county_code: code(county),
                    ..Row::default()
                }));
            }
        };
        for (&(county, status), &n) in &census.workers {
            if n > 0 {
                rows_of(county, &mut |r| figures::add_workers(r, status, n as u64));
            }
        }
        for (&(county, employed), &n) in &census.households {
            if n > 0 {
                rows_of(county, &mut |r| {
                    figures::add_households(r, true, employed, n as u64)
                });
            }
        }
        for (class, n) in self.writer.hires().classes() {
            rows_of(class.county, &mut |r| {
                figures::add_hires(r, class.days, |day| day <= today, today, n);
            });
        }
        let mut slots: Vec<SlotsRow> = Source::ALL
            .iter()
            .map(|&source| SlotsRow::empty(source))
            .collect();
        for (&(region, source, status), sums) in &census.openings {
            if !selected(region) {
                continue;
            }
            if let Some(s) = slots.iter_mut().find(|s| s.source == source) {
                let n = |v: i64| u64::try_from(v).unwrap_or(0);
                figures::add_openings(s, status, n(sums.openings), n(sums.free), n(sums.filled));
            }
        }
        let mut total = Row::default();
        for r in rows.values() {
            total.add(r);
        }
        Dashboard {
            day: today,
            counties: rows.into_values().collect(),
            total,
            slots,
        }
    }
}

/// A numeric county code as the six digits it was parsed from.
fn code(county: u32) -> String {
    format!("{county:06}")
}

/// The counties `caller` reads on a dashboard or trend of `county`.
fn dashboard_counties(caller: &Caller, county: Option<String>) -> Result<Counties> {
    if caller.role == Role::Recruiter {
        return Err(ServiceError::Forbidden(format!(
            "token {} is a recruiter's: the dashboard is for counties",
            caller.token_id
        )));
    }
    match county {
        Some(c) => {
            rules::check_region_code(&c).map_err(|reason| {
                ServiceError::Invalid(ValidationError::new("county_code", reason))
            })?;
            scope::county_filter(caller, Some(&c), "county_code")?;
            Ok(Some(BTreeSet::from([c])))
        }
        None if caller.role == Role::ServiceCompany => {
            Ok(Some(caller.scope.counties.iter().cloned().collect()))
        }
        None => Ok(None),
    }
}

impl Service {
    /// The daily rows of the last `days` China days up to today (at most
    /// [`MAX_TREND_DAYS`]), one per day that has any, oldest first: of one
    /// county, or summed over the counties the caller reads (as
    /// [`Service::dashboard`] decides them). Days before the first
    /// snapshot, or when the server was down all day, are missing.
    pub async fn dashboard_trend(
        self: &Arc<Self>,
        caller: &Caller,
        county: Option<String>,
        days: u32,
    ) -> Result<Vec<(i32, Row)>> {
        let counties = dashboard_counties(caller, county)?;
        let today = china_today();
        let from = today - days.clamp(1, MAX_TREND_DAYS) as i32 + 1;
        self.blocking(move |s| s.trend_between(&counties, from, today))
            .await
    }

    /// The daily rows of `counties` from day `from` to `to`, summed per
    /// day. Blocking: reads the store.
    pub fn trend_between(
        &self,
        counties: &Counties,
        from: i32,
        to: i32,
    ) -> Result<Vec<(i32, Row)>> {
        let single = counties
            .as_ref()
            .filter(|set| set.len() == 1)
            .and_then(|set| set.first().cloned());
        let stored = self.store().dashboard_days(single.as_deref(), from, to)?;
        let mut days: BTreeMap<i32, Row> = BTreeMap::new();
        for (day, f) in stored {
            if counties
                .as_ref()
                .is_some_and(|set| !set.contains(&f.county_code))
            {
                continue;
            }
            let sum = days.entry(day).or_insert_with(|| Row {
                county_code: single.clone().unwrap_or_default(),
                ..Row::default()
            });
            sum.add(&row_of(&f));
        }
        Ok(days.into_iter().collect())
    }

    /// Writes today's dashboard rows, one per county, replacing any
    /// written earlier today, and waits until they are durable. Answers
    /// the day written.
    pub async fn snapshot_dashboard(self: &Arc<Self>) -> Result<i32> {
        let day = china_today();
        self.snapshot_on(day, false).await?;
        Ok(day)
    }

    /// Writes the rows of `day` (figures as of now, retention on `day`)
    /// unless `only_missing` and every county has its row already.
    /// Answers whether it wrote.
    pub async fn snapshot_on(self: &Arc<Self>, day: i32, only_missing: bool) -> Result<bool> {
        let wrote = self
            .blocking(move |s| {
                let d = s.dashboard_on(&None, day);
                if only_missing {
                    let mut missing = false;
                    for r in &d.counties {
                        missing |= !s.store().has_dashboard_day(&r.county_code, day)?;
                    }
                    if !missing {
                        return Ok(false);
                    }
                }
                let rows: Vec<DayFigures> = d.counties.iter().map(figures_of).collect();
                s.store().put_dashboard_day(day, &rows)?;
                Ok(true)
            })
            .await?;
        if wrote {
            self.sync().await?;
        }
        Ok(wrote)
    }

    /// The daily snapshot task the server runs: today's rows at start-up
    /// if missing, then each day's rows just after China midnight. A
    /// failure is logged and tried again at the next turn.
    pub async fn dashboard_snapshots(self: Arc<Self>) {
        loop {
            let day = china_today();
            match self.snapshot_on(day, true).await {
                Ok(true) => tracing::info!(day, "dashboard: daily figures written"),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, day, "dashboard: cannot write the daily figures")
                }
            }
            tokio::time::sleep(until_next_day()).await;
        }
    }
}

/// Time until one second after the next China midnight (at most a day).
fn until_next_day() -> std::time::Duration {
    let now = chrono::Utc::now().timestamp_millis();
    let next = (i64::from(china_day(now)) + 1) * 86_400_000 - 8 * 3_600_000 + 1_000;
    std::time::Duration::from_millis(u64::try_from(next - now).unwrap_or(1_000).max(1_000))
}

/// The figures a day keeps, named once for both directions, so that none
/// is stored without being read back or the other way round.
macro_rules! day_figures {
    ($($figure:ident),* $(,)?) => {
        /// The stored form of a dashboard row.
        fn figures_of(r: &Row) -> DayFigures {
            DayFigures {
                county_code: r.county_code.clone(),
                $($figure: r.$figure,)*
            }
        }

        /// A stored daily row as a dashboard row.
        fn row_of(f: &DayFigures) -> Row {
            Row {
                county_code: f.county_code.clone(),
                $($figure: f.$figure,)*
                ..Row::default()
            }
        }
    };
}

day_figures!(
    workers_registered,
    workers_want_work,
    workers_seeking,
    workers_placed,
    workers_in_work,
    households_with_labour,
    zero_employment_households,
    hires,
    separations,
    retention_3m_due,
    retention_3m_retained,
    retention_6m_due,
    retention_6m_retained,
);
