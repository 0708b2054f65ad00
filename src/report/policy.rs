//! The policy lists: what the `[policy]` rules ask a county company to act
//! on, read straight from the store. Public-welfare posts whose subsidised
//! tenure ends soon or whose worker is not eligible, aid workshops below
//! the recognised size, zero-employment households waiting past the
//! period, jobless workers short of recommendations, and workers listed
//! for a counselling visit after repeated declines.

use std::collections::{BTreeMap, HashMap};

use crate::domain::placement::{counselling_cases, day_date, CounsellingCase, PlacementStatus};
use crate::domain::policy::{PolicyConfig, WelfareStint};
#[cfg(test)]
use crate::domain::Worker;
use crate::domain::{current_year, EmploymentStatus, Lang, Source};
use crate::store::{Store, StoreError};

const DAY_MS: i64 = 86_400_000;

/// A public-welfare placement to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WelfarePost {
    /// The placement.
    pub placement_id: String,
    /// The worker.
    pub worker_id: String,
    /// The opening.
    pub opening_id: String,
    /// The worker's county.
    pub county_code: String,
    /// First day of work; `None` before the hire.
    pub hire_day: Option<i32>,
    /// The day the subsidised tenure ends.
    pub tenure_end_day: Option<i32>,
    /// Days from today to the end (negative: past it).
    pub days_left: Option<i64>,
    /// Eligible groups the worker is in.
    pub groups: Vec<&'static str>,
    /// Why the worker is not eligible, if not.
    pub ineligible_reason: Option<String>,
}

/// An employer with aid-workshop openings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workshop {
    /// Employer.
    pub employer_id: String,
    /// Its name.
    pub employer_name: String,
    /// Region of its (first) workshop opening.
    pub region_code: String,
    /// Relocated workers hired there now.
    pub relocated_hired: u32,
    /// Below the recognised size.
    pub below_minimum: bool,
}

/// A zero-employment household waiting past the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingHousehold {
    /// Household.
    pub household_id: String,
    /// County of its members.
    pub county_code: String,
    /// Members who want work.
    pub members: u32,
    /// Waiting since (day number).
    pub since_day: i32,
    /// Days waited.
    pub days_waiting: u32,
}

/// A jobless worker with fewer recommendations than owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortOfRecommendations {
    /// Worker.
    pub worker_id: String,
    /// County.
    pub county_code: String,
    /// Proposals in the last 365 days.
    pub recommendations: u32,
}

/// The lists, each complete (the API caps what it sends).
#[derive(Debug, Clone, Default)]
pub struct PolicyLists {
    /// Today (China), day number.
    pub today: i32,
    /// The rules applied.
    pub rules: PolicyConfig,
    /// Public-welfare posts, by tenure end.
    pub welfare_posts: Vec<WelfarePost>,
    /// Aid-workshop employers, fewest relocated hires first.
    pub workshops: Vec<Workshop>,
    /// Waiting households, longest wait first.
    pub waiting_households: Vec<WaitingHousehold>,
    /// Short of recommendations, fewest first.
    pub short_of_recommendations: Vec<ShortOfRecommendations>,
    /// Counselling cases, by county and worker.
    pub counselling: Vec<CounsellingCase>,
}

/// The policy lists for one county or all, as of `now_ms` (today in
/// China is derived from it), with reasons in `lang`.
pub fn policy_lists(
    store: &Store,
    rules: &PolicyConfig,
    county: Option<&str>,
    now_ms: i64,
    lang: Lang,
) -> Result<PolicyLists, StoreError> {
    let today = crate::domain::placement::china_day(now_ms);
    let in_county = |c: &str| county.is_none_or(|x| x == c);
    let year = current_year();

    // Public-welfare stints of every worker, for the tenure rule.
    let mut stints: HashMap<String, Vec<(String, WelfareStint)>> = HashMap::new();
    for status in [PlacementStatus::Hired, PlacementStatus::Separated] {
        for p in store.placements_in(status) {
            let p = p?;
            if let Some(s) = WelfareStint::of(&p) {
                stints.entry(p.worker_id).or_default().push((p.id, s));
            }
        }
    }

    // Public-welfare placements.
    let mut welfare_posts = Vec::new();
    let welfare = u32::from(Source::PublicWelfare.code());
    for status in [
        PlacementStatus::Proposed,
        PlacementStatus::Accepted,
        PlacementStatus::Hired,
    ] {
        for p in store.placements_in(status) {
            let p = p?;
            if p.source != welfare || !in_county(&p.county_code) {
                continue;
            }
            let Some(w) = store.worker(&p.worker_id)? else {
                continue;
            };
            let age = (year - w.birth_year as i32).max(0) as u32;
            // The tenure the worker had used before this post: the rule
            // is about being hired onto it (this post's own end is the
            // tenure-end column).
            let before: Vec<WelfareStint> = stints
                .get(&p.worker_id)
                .into_iter()
                .flatten()
                .filter(|(id, _)| *id != p.id)
                .map(|(_, s)| *s)
                .collect();
            let used_up = rules.welfare_tenure_used_up(&before, today);
            let (groups, why) = rules.welfare_eligibility(&w, p.zero_household, age, used_up, lang);
            let end = p.hire_day.map(|d| rules.tenure_end(d));
            let days_left = end.map(|e| i64::from(e - today));
            let ending =
                days_left.is_some_and(|d| d <= i64::from(rules.welfare_tenure_notice_days));
            if ending || why.is_some() {
                welfare_posts.push(WelfarePost {
                    placement_id: p.id,
                    worker_id: p.worker_id,
                    opening_id: p.opening_id,
                    county_code: p.county_code,
                    hire_day: p.hire_day,
                    tenure_end_day: end,
                    days_left,
                    groups,
                    ineligible_reason: why,
                });
            }
        }
    }
    welfare_posts.sort_by(|a, b| {
        (a.tenure_end_day.unwrap_or(i32::MAX), &a.placement_id)
            .cmp(&(b.tenure_end_day.unwrap_or(i32::MAX), &b.placement_id))
    });

    // Aid workshops: employers with aid-workshop openings, and the
    // relocated workers hired in them now (every registered worker is
    // relocated).
    let aid = Source::AidWorkshop;
    let mut shops: BTreeMap<String, Workshop> = BTreeMap::new();
    for o in store.openings() {
        let o = o?;
        if o.source != aid || !in_county(&o.region_code) {
            continue;
        }
        shops.entry(o.employer_id.clone()).or_insert(Workshop {
            employer_id: o.employer_id,
            employer_name: o.employer_name,
            region_code: o.region_code,
            relocated_hired: 0,
            below_minimum: false,
        });
    }
    for p in store.placements_in(PlacementStatus::Hired) {
        let p = p?;
        if p.source == u32::from(aid.code()) {
            if let Some(s) = shops.get_mut(&p.employer_id) {
                s.relocated_hired += 1;
            }
        }
    }
    let mut workshops: Vec<Workshop> = shops
        .into_values()
        .map(|mut s| {
            s.below_minimum = s.relocated_hired < rules.workshop_min_relocated;
            s
        })
        .collect();
    workshops.sort_by(|a, b| {
        (a.relocated_hired, &a.employer_id).cmp(&(b.relocated_hired, &b.employer_id))
    });

    // Workers: households and recommendations.
    let since_year = now_ms - 365 * DAY_MS;
    let mut proposals: HashMap<String, u32> = HashMap::new();
    for p in store.placements() {
        let p = p?;
        if p.proposed_at_ms >= since_year && in_county(&p.county_code) {
            *proposals.entry(p.worker_id).or_default() += 1;
        }
    }
    #[derive(Default)]
    struct House {
        county: String,
        members: u32,
        employed: bool,
        first_ms: i64,
        returned_ms: i64,
    }
    let mut houses: BTreeMap<String, House> = BTreeMap::new();
    let mut short_of_recommendations = Vec::new();
    for w in store.workers() {
        let w = w?;
        if !in_county(&w.county_code) {
            continue;
        }
        if w.employment_status == EmploymentStatus::Seeking {
            let n = proposals.get(&w.id).copied().unwrap_or(0);
            if n < rules.recommendations_per_year {
                short_of_recommendations.push(ShortOfRecommendations {
                    worker_id: w.id.clone(),
                    county_code: w.county_code.clone(),
                    recommendations: n,
                });
            }
        }
        let h = houses.entry(w.household_id.clone()).or_insert(House {
            county: w.county_code.clone(),
            first_ms: i64::MAX,
            ..Default::default()
        });
        match w.employment_status {
            EmploymentStatus::Employed => h.employed = true,
            EmploymentStatus::Seeking | EmploymentStatus::Placed => h.members += 1,
            EmploymentStatus::Unavailable => {}
        }
        h.first_ms = h.first_ms.min(w.created_at_ms);
        h.returned_ms = h.returned_ms.max(w.placement.returned_at_ms.unwrap_or(0));
    }
    short_of_recommendations
        .sort_by(|a, b| (a.recommendations, &a.worker_id).cmp(&(b.recommendations, &b.worker_id)));
    let mut waiting_households: Vec<WaitingHousehold> = houses
        .into_iter()
        .filter(|(_, h)| h.members > 0 && !h.employed)
        .filter_map(|(id, h)| {
            let since = h.first_ms.max(h.returned_ms);
            let days = ((now_ms - since).max(0) / DAY_MS) as u32;
            (days > rules.zero_household_period_days).then(|| WaitingHousehold {
                household_id: id,
                county_code: h.county,
                members: h.members,
                since_day: crate::domain::placement::china_day(since),
                days_waiting: days,
            })
        })
        .collect();
    waiting_households
        .sort_by(|a, b| (b.days_waiting, &a.household_id).cmp(&(a.days_waiting, &b.household_id)));

    // Counselling.
    let declines = store
        .declines()
        .filter(|d| d.as_ref().map_or(true, |d| in_county(&d.county_code)))
        .collect::<Result<Vec<_>, _>>()?;
    let counselling = counselling_cases(
        declines,
        now_ms - i64::from(rules.counselling_period_days) * DAY_MS,
        rules.counselling_declines as usize,
    );

    Ok(PolicyLists {
        today,
        rules: rules.clone(),
        welfare_posts,
        workshops,
        waiting_households,
        short_of_recommendations,
        counselling,
    })
}

/// `YYYY-MM-DD` of a day number.
pub fn iso(day: i32) -> String {
    day_date(day).format("%Y-%m-%d").to_string()
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
