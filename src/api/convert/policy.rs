//! The policy lists on the wire.

use crate::api::pb;
use crate::domain::Lang;
use crate::report::policy::{iso, PolicyLists};

/// The lists, each capped at `max_rows` (the counts cover every row).
pub(crate) fn policy_to_pb(l: PolicyLists, max_rows: usize, lang: Lang) -> pb::PolicyReport {
    let r = &l.rules;
    let rules = pb::PolicyRules {
        welfare_groups: r.welfare_groups.clone(),
        welfare_max_hire_age: r.welfare_max_hire_age,
        older_worker_women_from: r.older_worker_women_from,
        older_worker_men_from: r.older_worker_men_from,
        welfare_max_tenure_years: r.welfare_max_tenure_years,
        welfare_tenure_notice_days: r.welfare_tenure_notice_days,
        workshop_min_relocated: r.workshop_min_relocated,
        zero_household_period_days: r.zero_household_period_days,
        recommendations_per_year: r.recommendations_per_year,
        counselling_declines: r.counselling_declines,
        counselling_period_days: r.counselling_period_days,
    };
    let date = |d: Option<i32>| d.map(iso).unwrap_or_default();
    let workshops_below_minimum = l.workshops.iter().filter(|w| w.below_minimum).count() as u64;
    let (welfare_posts_count, welfare_posts) =
        counted_head(l.welfare_posts, max_rows, |w| pb::WelfarePost {
            placement_id: w.placement_id,
            worker_id: w.worker_id,
            opening_id: w.opening_id,
            county_code: w.county_code,
            hire_date: date(w.hire_day),
            tenure_end_date: date(w.tenure_end_day),
            days_left: w.days_left.unwrap_or(0),
            groups: w.groups.iter().map(|g| g.to_string()).collect(),
            ineligible_reason: w.ineligible_reason.unwrap_or_default(),
        });
    let (workshops_count, workshops) = counted_head(l.workshops, max_rows, |w| pb::Workshop {
        employer_id: w.employer_id,
        employer_name: w.employer_name,
        region_code: w.region_code,
        relocated_hired: w.relocated_hired,
        below_minimum: w.below_minimum,
    });
    let (waiting_households_count, waiting_households) =
        counted_head(l.waiting_households, max_rows, |h| pb::WaitingHousehold {
            household_id: h.household_id,
            county_code: h.county_code,
            members: h.members,
            since_date: iso(h.since_day),
            days_waiting: h.days_waiting,
        });
    let (short_of_recommendations_count, short_of_recommendations) =
        counted_head(l.short_of_recommendations, max_rows, |s| {
            pb::ShortOfRecommendations {
                worker_id: s.worker_id,
                county_code: s.county_code,
                recommendations: s.recommendations,
            }
        });
    let (counselling_count, counselling) =
        counted_head(l.counselling, max_rows, |c| pb::CounsellingCase {
            worker_id: c.worker_id,
            county_code: c.county_code,
            declines: c
                .declines
                .into_iter()
                .map(|d| {
                    let reason = crate::domain::placement::DeclineReason::try_from(d.reason)
                        .unwrap_or(crate::domain::placement::DeclineReason::Unspecified);
                    pb::CounsellingDecline {
                        placement_id: d.placement_id,
                        opening_id: d.opening_id,
                        reason_code: reason.code().to_string(),
                        reason: reason.text(lang).to_string(),
                        note: d.note,
                        declined_date: iso(crate::domain::placement::china_day(d.at_ms)),
                    }
                })
                .collect(),
        });
    pb::PolicyReport {
        as_of_date: iso(l.today),
        rules: Some(rules),
        welfare_posts_count,
        welfare_posts,
        workshops_count,
        workshops_below_minimum,
        workshops,
        waiting_households_count,
        waiting_households,
        short_of_recommendations_count,
        short_of_recommendations,
        counselling_count,
        counselling,
    }
}

/// The count of every row, and the first `max_rows` on the wire.
fn counted_head<T, U>(rows: Vec<T>, max_rows: usize, to_pb: impl FnMut(T) -> U) -> (u64, Vec<U>) {
    let count = rows.len() as u64;
    (count, rows.into_iter().take(max_rows).map(to_pb).collect())
}
