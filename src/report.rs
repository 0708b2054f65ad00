//! Coverage reports: how many who want work have work, how many households
//! have nobody working, what the placements did, by county. Read straight
//! from the store (one pass over the workers, the placements and the
//! openings the filters select), so a report is always current.

pub mod book;
pub mod figures;
pub mod policy;

use std::collections::{BTreeMap, HashMap};

use crate::domain::placement::{china_day, Placement, PlacementStatus};
use crate::domain::{EmploymentStatus, Source};
use crate::store::{PlacementFilter, Store, StoreError, WorkerFilter};

const DAY_MS: f64 = 86_400_000.0;

/// What a report covers. Days are days since 1970-01-01 (China dates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageFilter {
    /// Workers of this county; openings whose region is this county.
    pub county_code: Option<String>,
    /// Workers (and placements) of this site.
    pub site_id: Option<String>,
    /// Placements and slots of this source.
    pub source: Option<Source>,
    /// First day of the placement figures, inclusive; `None` for no bound.
    pub from_day: Option<i32>,
    /// Last day of the placement figures, inclusive.
    pub to_day: i32,
    /// The day retention is measured on (today).
    pub today: i32,
    /// Now, Unix ms (for returnees still waiting).
    pub now_ms: i64,
}

/// The figures of one county, or of all (`county_code` empty). See
/// `CoverageRow` in `proto/jobbridge/v1/reports.proto` for each.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub county_code: String,
    pub workers_registered: u64,
    pub workers_want_work: u64,
    pub workers_seeking: u64,
    pub workers_placed: u64,
    pub workers_in_work: u64,
    pub workers_in_work_placed: u64,
    pub households_with_labour: u64,
    pub zero_employment_households: u64,
    pub proposals: u64,
    pub accepted: u64,
    pub declined: u64,
    pub hires: u64,
    pub separations: u64,
    pub retention_3m_due: u64,
    pub retention_3m_retained: u64,
    pub retention_6m_due: u64,
    pub retention_6m_retained: u64,
    pub returnees: u64,
    pub returnees_reproposed: u64,
    pub returnees_waiting: u64,
    pub returnee_wait_median_days: f64,
    pub returnee_wait_mean_days: f64,
    pub returnee_waiting_max_days: f64,
    pub seeking_under_three_recommendations: u64,
}

impl Row {
    /// Share of the 3-month cohort still in work; 0 when none is due.
    pub fn retention_3m_share(&self) -> f64 {
        share(self.retention_3m_retained, self.retention_3m_due)
    }

    /// Share of the 6-month cohort still in work; 0 when none is due.
    pub fn retention_6m_share(&self) -> f64 {
        share(self.retention_6m_retained, self.retention_6m_due)
    }

    pub(crate) fn add(&mut self, o: &Row) {
        self.workers_registered += o.workers_registered;
        self.workers_want_work += o.workers_want_work;
        self.workers_seeking += o.workers_seeking;
        self.workers_placed += o.workers_placed;
        self.workers_in_work += o.workers_in_work;
        self.workers_in_work_placed += o.workers_in_work_placed;
        self.households_with_labour += o.households_with_labour;
        self.zero_employment_households += o.zero_employment_households;
        self.proposals += o.proposals;
        self.accepted += o.accepted;
        self.declined += o.declined;
        self.hires += o.hires;
        self.separations += o.separations;
        self.retention_3m_due += o.retention_3m_due;
        self.retention_3m_retained += o.retention_3m_retained;
        self.retention_6m_due += o.retention_6m_due;
        self.retention_6m_retained += o.retention_6m_retained;
        self.seeking_under_three_recommendations += o.seeking_under_three_recommendations;
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Slots of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotsRow {
    /// The source.
    pub source: Source,
    /// Open openings.
    pub openings_open: u64,
    /// Free slots of open openings.
    pub slots_open: u64,
    /// Slots held by accepted or hired placements.
    pub slots_filled: u64,
}

impl SlotsRow {
    /// The row of `source` before any opening is counted.
    pub fn empty(source: Source) -> Self {
        SlotsRow {
            source,
            openings_open: 0,
            slots_open: 0,
            slots_filled: 0,
        }
    }
}

/// A coverage report.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Everything selected.
    pub total: Row,
    /// One row per county, by code.
    pub counties: Vec<Row>,
    /// One row per source, in source order.
    pub slots: Vec<SlotsRow>,
}

/// Waits of returnees: days to the next proposal, and current waits.
#[derive(Default)]
struct Waits {
    done: Vec<f64>,
    waiting: Vec<f64>,
}

impl Waits {
    fn fill(&mut self, row: &mut Row) {
        row.returnees = (self.done.len() + self.waiting.len()) as u64;
        row.returnees_reproposed = self.done.len() as u64;
        row.returnees_waiting = self.waiting.len() as u64;
        self.done.sort_by(f64::total_cmp);
        row.returnee_wait_median_days = median(&self.done);
        row.returnee_wait_mean_days = if self.done.is_empty() {
            0.0
        } else {
            self.done.iter().sum::<f64>() / self.done.len() as f64
        };
        row.returnee_waiting_max_days = self.waiting.iter().copied().fold(0.0, f64::max);
    }

    fn extend(&mut self, o: &Waits) {
        self.done.extend_from_slice(&o.done);
        self.waiting.extend_from_slice(&o.waiting);
    }
}

/// Median of sorted values; 0 for none.
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Computes the report. Blocking: reads what the filters select.
pub fn coverage(store: &Store, f: &CoverageFilter) -> Result<Coverage, StoreError> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    // Workers and households, as they are now.
    let worker_filter = WorkerFilter {
        county_code: f.county_code.clone(),
        site_id: f.site_id.clone(),
        ..WorkerFilter::default()
    };
    // household -> (county, has labour, someone employed)
    let mut households: HashMap<String, (String, bool, bool)> = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_workers(&worker_filter, after.as_deref(), 4096)?;
        for w in &page.items {
            let r = entry(&mut rows, &w.county_code);
            figures::add_workers(r, w.employment_status, 1);
            match w.employment_status {
                EmploymentStatus::Seeking if w.placement.recommendations < 3 => {
                    r.seeking_under_three_recommendations += 1;
                }
                EmploymentStatus::Employed
                    if w.placement.active_status == PlacementStatus::Hired =>
                {
                    r.workers_in_work_placed += 1;
                }
                _ => {}
            }
            let h = households
                .entry(w.household_id.clone())
                .or_insert_with(|| (w.county_code.clone(), false, false));
            h.1 |= figures::wants_work(w.employment_status);
            h.2 |= figures::in_work(w.employment_status);
        }
        match page.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    for (county, labour, employed) in households.values() {
        if *labour {
            figures::add_households(entry(&mut rows, county), true, *employed, 1);
        }
    }

    // Placements in the date range.
    let placements = selected_placements(store, f)?;
    // Every proposal time of each worker, for the returnees' waits (of any
    // source: a returnee's next offer may come from anywhere).
    let mut proposed: HashMap<&str, Vec<i64>> = HashMap::new();
    for p in &placements {
        proposed
            .entry(p.worker_id.as_str())
            .or_default()
            .push(p.proposed_at_ms);
    }
    let in_range = |day: i32| f.from_day.is_none_or(|from| day >= from) && day <= f.to_day;
    let at_in_range = |ms: i64| ms != 0 && in_range(china_day(ms));
    let mut waits: BTreeMap<String, Waits> = BTreeMap::new();
    for p in &placements {
        if f.source.is_some_and(|s| u32::from(s.code()) != p.source) {
            continue;
        }
        let r = entry(&mut rows, &p.county_code);
        if at_in_range(p.proposed_at_ms) {
            r.proposals += 1;
        }
        if at_in_range(p.accepted_at_ms) {
            r.accepted += 1;
        }
        if at_in_range(p.declined_at_ms) {
            r.declined += 1;
        }
        if figures::add_hires(r, figures::HireDays::of(p), in_range, f.today, 1) {
            let next = proposed
                .get(p.worker_id.as_str())
                .and_then(|times| times.iter().filter(|&&t| t > p.separated_at_ms).min());
            let w = waits.entry(p.county_code.clone()).or_default();
            match next {
                Some(t) => w.done.push((t - p.separated_at_ms) as f64 / DAY_MS),
                None => w
                    .waiting
                    .push((f.now_ms - p.separated_at_ms).max(0) as f64 / DAY_MS),
            }
        }
    }

    // Slots.
    let mut slots: Vec<SlotsRow> = Source::ALL
        .iter()
        .filter(|s| f.source.is_none_or(|x| x == **s))
        .map(|&source| SlotsRow::empty(source))
        .collect();
    for o in store.openings() {
        let o = o?;
        if f.county_code.as_ref().is_some_and(|c| c != &o.region_code) {
            continue;
        }
        let Some(s) = slots.iter_mut().find(|s| s.source == o.source) else {
            continue;
        };
        let free = u64::from(o.headcount.saturating_sub(o.filled));
        figures::add_openings(s, o.status, 1, free, u64::from(o.filled));
    }

    let mut total = Row::default();
    let mut all_waits = Waits::default();
    for (county, r) in rows.iter_mut() {
        total.add(r);
        if let Some(w) = waits.get_mut(county) {
            all_waits.extend(w);
            w.fill(r);
        }
    }
    all_waits.fill(&mut total);
    Ok(Coverage {
        total,
        counties: rows.into_values().collect(),
        slots,
    })
}

fn entry<'a>(rows: &'a mut BTreeMap<String, Row>, county: &str) -> &'a mut Row {
    rows.entry(county.to_string()).or_insert_with(|| Row {
        county_code: county.to_string(),
        ..Row::default()
    })
}

/// Placements of the county and site filters (all dates and sources).
fn selected_placements(store: &Store, f: &CoverageFilter) -> Result<Vec<Placement>, StoreError> {
    let filter = PlacementFilter {
        county_code: f.county_code.clone(),
        ..PlacementFilter::default()
    };
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_placements(&filter, after.as_deref(), 4096)?;
        out.extend(
            page.items
                .into_iter()
                .filter(|p| f.site_id.as_ref().is_none_or(|s| s == &p.site_id)),
        );
        match page.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    Ok(out)
}

impl CoverageFilter {
    /// Everything up to `today` (all sites and sources, no first day) for
    /// `county_code`, or for every county; measured now.
    pub fn up_to(county_code: Option<String>, today: i32) -> Self {
        CoverageFilter {
            county_code,
            site_id: None,
            source: None,
            from_day: None,
            to_day: today,
            today,
            now_ms: chrono::Utc::now().timestamp_millis(),
        }
    }

    /// Checks and builds a filter from the request's strings (empty means
    /// no filter; `to` empty means today). Errors name the field.
    pub fn parse(
        county_code: &str,
        site_id: &str,
        source: Option<Source>,
        from_date: &str,
        to_date: &str,
    ) -> crate::domain::Validated<Self> {
        use crate::domain::placement::{china_today, day_number};
        use crate::domain::{rules, ValidationError};
        fn bad(field: &'static str) -> impl Fn(crate::domain::Reason) -> ValidationError {
            move |reason| ValidationError::new(field, reason)
        }
        let county_code = if county_code.is_empty() {
            None
        } else {
            rules::check_region_code(county_code).map_err(bad("county_code"))?;
            Some(county_code.to_string())
        };
        let site_id = if site_id.is_empty() {
            None
        } else {
            rules::check_id(site_id).map_err(bad("site_id"))?;
            Some(site_id.to_string())
        };
        let today = china_today();
        let day = |value: &str, field: &'static str| -> crate::domain::Validated<Option<i32>> {
            if value.is_empty() {
                return Ok(None);
            }
            Ok(Some(day_number(
                rules::parse_date(value).map_err(bad(field))?,
            )))
        };
        let from_day = day(from_date, "from_date")?;
        let to_day = day(to_date, "to_date")?.unwrap_or(today);
        if let Some(from) = from_day {
            if from > to_day {
                return Err(ValidationError::new(
                    "from_date",
                    format!(
                        "{from_date} is after to_date {}",
                        crate::domain::placement::day_date(to_day)
                    ),
                ));
            }
        }
        Ok(CoverageFilter {
            site_id,
            source,
            from_day,
            to_day,
            ..CoverageFilter::up_to(county_code, today)
        })
    }
}
