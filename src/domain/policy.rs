//! Policy rules as data: who may hold a public-welfare post and for how
//! long, when an aid workshop is recognised, how long a zero-employment
//! household may wait, how many recommendations a jobless worker is owed
//! and when repeated declines call for a counselling visit. The rules vary
//! by province and county, so they are one table ([`PolicyConfig`], the
//! `[policy]` section of the TOML config) whose [`Default`] holds every
//! documented default; the functions here apply it and do no I/O.

use super::{Gender, Lang, Worker};

/// Groups eligible for public-welfare posts (公益性岗位).
pub const WELFARE_GROUPS: [&str; 5] = [
    "relocated",
    "out_of_poverty",
    "zero_employment_household",
    "disabled",
    "older_worker",
];

/// The `[policy]` table. Defaults from the public provincial and
/// municipal rules (see the domain notes); every field may be set in the
/// config file.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Groups whose members may hold a public-welfare post, codes of
    /// [`WELFARE_GROUPS`]. Default: all five. The worker record says who
    /// is relocated (everyone registered), who is in a zero-employment
    /// household and who is an older worker; `out_of_poverty` and
    /// `disabled` are not recorded, so they make nobody eligible.
    pub welfare_groups: Vec<String>,
    /// New hires on a public-welfare post are younger than this. Default 60.
    pub welfare_max_hire_age: u32,
    /// Women count as older workers from this age. Default 45.
    pub older_worker_women_from: u32,
    /// Men count as older workers from this age. Default 50.
    pub older_worker_men_from: u32,
    /// Years a public-welfare post is subsidised. Default 3.
    pub welfare_max_tenure_years: u32,
    /// Placements whose tenure ends within this many days are listed.
    /// Default 90.
    pub welfare_tenure_notice_days: u32,
    /// An aid workshop is recognised while it employs at least this many
    /// relocated workers. Default 5.
    pub workshop_min_relocated: u32,
    /// Days a zero-employment household may wait to be cleared (动态清零),
    /// usually a quarter. Default 90.
    pub zero_household_period_days: u32,
    /// Recommendations (proposals) each jobless worker is owed a year
    /// (Hunan's "311"). Default 3.
    pub recommendations_per_year: u32,
    /// Declines within the counselling period that list a worker for a
    /// counselling visit. Default 3.
    pub counselling_declines: u32,
    /// The counselling period, days. Default 90.
    pub counselling_period_days: u32,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            welfare_groups: WELFARE_GROUPS.iter().map(|g| g.to_string()).collect(),
            welfare_max_hire_age: 60,
            older_worker_women_from: 45,
            older_worker_men_from: 50,
            welfare_max_tenure_years: 3,
            welfare_tenure_notice_days: 90,
            workshop_min_relocated: 5,
            zero_household_period_days: 90,
            recommendations_per_year: 3,
            counselling_declines: 3,
            counselling_period_days: 90,
        }
    }
}

impl PolicyConfig {
    /// Refuses unknown groups and zero periods; the error names the key.
    pub fn check(&self) -> Result<(), String> {
        for g in &self.welfare_groups {
            if !WELFARE_GROUPS.contains(&g.as_str()) {
                return Err(format!(
                    "policy.welfare_groups: unknown group {g:?}; known: {}",
                    WELFARE_GROUPS.join(", ")
                ));
            }
        }
        for (key, v) in [
            ("welfare_max_tenure_years", self.welfare_max_tenure_years),
            (
                "zero_household_period_days",
                self.zero_household_period_days,
            ),
            ("counselling_period_days", self.counselling_period_days),
            ("counselling_declines", self.counselling_declines),
        ] {
            if v == 0 {
                return Err(format!("policy.{key}: must be at least 1"));
            }
        }
        Ok(())
    }

    /// Whether the worker counts as an older worker at `age`.
    pub fn older_worker(&self, gender: Option<Gender>, age: u32) -> bool {
        match gender {
            Some(Gender::Female) => age >= self.older_worker_women_from,
            Some(Gender::Male) => age >= self.older_worker_men_from,
            // Unknown gender: the lower threshold would admit men too early.
            None => age >= self.older_worker_men_from,
        }
    }

    /// The eligible groups `w` is in (of those this table enables), and
    /// why it is not eligible if it is in none or too old to be hired.
    /// `zero_household`: nobody in its household works. `age` this year.
    pub fn welfare_eligibility(
        &self,
        w: &Worker,
        zero_household: bool,
        age: u32,
        lang: Lang,
    ) -> (Vec<&'static str>, Option<String>) {
        let member = |g: &str| match g {
            // Every registered worker was relocated.
            "relocated" => true,
            "zero_employment_household" => zero_household,
            "older_worker" => self.older_worker(w.gender, age),
            // Not recorded on the worker.
            _ => false,
        };
        let groups: Vec<&'static str> = WELFARE_GROUPS
            .iter()
            .copied()
            .filter(|g| self.welfare_groups.iter().any(|x| x == g) && member(g))
            .collect();
        let why = if age >= self.welfare_max_hire_age {
            Some(match lang {
                Lang::Zh => format!(
                    "年龄 {age} 岁，新聘公益性岗位须未满 {} 岁",
                    self.welfare_max_hire_age
                ),
                Lang::En => format!(
                    "aged {age}; new public-welfare hires must be under {}",
                    self.welfare_max_hire_age
                ),
            })
        } else if groups.is_empty() {
            Some(
                lang.pick(
                    "不属于任何可安置公益性岗位的群体",
                    "in none of the groups eligible for public-welfare posts",
                )
                .to_string(),
            )
        } else {
            None
        };
        (groups, why)
    }

    /// The day (days since 1970-01-01) a public-welfare post hired on
    /// `hire_day` reaches its maximum subsidised tenure.
    pub fn tenure_end(&self, hire_day: i32) -> i32 {
        super::placement::months_after(hire_day, self.welfare_max_tenure_years * 12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::placement::{day_number, months_after};

    #[test]
    fn tenure_ends_three_years_after_the_hire() {
        let p = PolicyConfig::default();
        let hire = day_number(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(p.tenure_end(hire), months_after(hire, 36));
        assert_eq!(
            crate::domain::placement::day_date(p.tenure_end(hire)).to_string(),
            "2027-02-28"
        );
    }

    #[test]
    fn unknown_groups_and_zero_periods_are_refused() {
        let mut p = PolicyConfig::default();
        assert_eq!(p.check(), Ok(()));
        p.welfare_groups.push("pensioner".into());
        assert!(p.check().unwrap_err().contains("pensioner"));
        let p = PolicyConfig {
            welfare_max_tenure_years: 0,
            ..PolicyConfig::default()
        };
        assert!(p.check().unwrap_err().contains("welfare_max_tenure_years"));
    }

    #[test]
    fn older_workers_by_gender() {
        let p = PolicyConfig::default();
        assert!(p.older_worker(Some(Gender::Female), 45));
        assert!(!p.older_worker(Some(Gender::Male), 45));
        assert!(p.older_worker(Some(Gender::Male), 50));
    }
}
