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

/// What the public-welfare rules read about a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WelfareFacts {
    /// Age this year.
    pub age: i32,
    /// Gender, if given (the older-worker ages differ by gender).
    pub gender: Option<Gender>,
    /// The worker's household has labour and nobody in work.
    pub zero_household: bool,
    /// The worker has already used up the subsidised tenure on
    /// public-welfare posts ([`PolicyConfig::welfare_tenure_used_up`]).
    pub tenure_used_up: bool,
}

/// A rule of `[policy]` that bars a worker from a public-welfare post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WelfareBar {
    /// Aged `welfare_max_hire_age` or more.
    HireAge,
    /// In none of the enabled `welfare_groups`.
    NoGroup,
    /// The subsidised tenure on public-welfare posts is used up.
    TenureUsedUp,
}

impl WelfareBar {
    /// Every bar, in order.
    pub const ALL: [WelfareBar; 3] = [
        WelfareBar::HireAge,
        WelfareBar::NoGroup,
        WelfareBar::TenureUsedUp,
    ];

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of [`WelfareBar`]s: one byte, so that the matcher can keep it per
/// worker and test it per pair for nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WelfareBars(u8);

impl WelfareBars {
    /// No bar: the worker may be hired onto a public-welfare post.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `bar` is in the set.
    pub fn contains(self, bar: WelfareBar) -> bool {
        self.0 & bar.bit() != 0
    }

    /// Adds `bar`.
    pub fn insert(&mut self, bar: WelfareBar) {
        self.0 |= bar.bit();
    }

    /// The bars in the set, in [`WelfareBar`] order.
    pub fn iter(self) -> impl Iterator<Item = WelfareBar> {
        WelfareBar::ALL
            .into_iter()
            .filter(move |b| self.contains(*b))
    }
}

/// One hire on a public-welfare post: the days the subsidised tenure
/// counts ([`PolicyConfig::welfare_tenure_used_from`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WelfareStint {
    /// First day of work, days since 1970-01-01.
    pub hire_day: i32,
    /// Last day of work; `None` while the worker is still in the post.
    pub last_day: Option<i32>,
}

impl WelfareStint {
    /// The stint of placement `p`, if it is a public-welfare placement
    /// that reached the hire (hired now, or separated since).
    pub fn of(p: &super::placement::Placement) -> Option<WelfareStint> {
        if p.source != u32::from(super::Source::PublicWelfare.code()) {
            return None;
        }
        let hire_day = p.hire_day?;
        Some(WelfareStint {
            hire_day,
            last_day: p.separation_day,
        })
    }
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

    /// The eligible groups a worker with `facts` is in, of those this
    /// table enables, in [`WELFARE_GROUPS`] order.
    pub fn welfare_groups_of(&self, facts: &WelfareFacts) -> Vec<&'static str> {
        WELFARE_GROUPS
            .iter()
            .copied()
            .filter(|g| self.group_enabled(g) && self.member(g, facts))
            .collect()
    }

    fn group_enabled(&self, group: &str) -> bool {
        self.welfare_groups.iter().any(|x| x == group)
    }

    fn member(&self, group: &str, facts: &WelfareFacts) -> bool {
        match group {
            // Every registered worker was relocated.
            "relocated" => true,
            "zero_employment_household" => facts.zero_household,
            "older_worker" => self.older_worker(facts.gender, facts.age.max(0) as u32),
            // Not recorded on the worker.
            _ => false,
        }
    }

    /// The hard rules of public-welfare posts: which of them bar a worker
    /// with `facts` from being hired onto one now (empty: none does). The
    /// one definition that ranking, the batch, `Propose`, `ExplainMatch`
    /// and the policy lists all apply.
    ///
    /// - [`WelfareBar::HireAge`]: aged `welfare_max_hire_age` or more;
    /// - [`WelfareBar::NoGroup`]: in none of the enabled `welfare_groups`
    ///   (the older-worker group by `older_worker_women_from` and
    ///   `older_worker_men_from`);
    /// - [`WelfareBar::TenureUsedUp`]: the worker has already used up the
    ///   subsidised tenure on public-welfare posts
    ///   ([`PolicyConfig::welfare_tenure_used_from`]).
    pub fn welfare_bars(&self, facts: &WelfareFacts) -> WelfareBars {
        let mut bars = WelfareBars::default();
        if facts.age >= self.welfare_max_hire_age as i32 {
            bars.insert(WelfareBar::HireAge);
        }
        if !WELFARE_GROUPS
            .iter()
            .any(|g| self.group_enabled(g) && self.member(g, facts))
        {
            bars.insert(WelfareBar::NoGroup);
        }
        if facts.tenure_used_up {
            bars.insert(WelfareBar::TenureUsedUp);
        }
        bars
    }

    /// Why `bar` holds for a worker with `facts`, in `lang`.
    pub fn welfare_bar_text(&self, bar: WelfareBar, facts: &WelfareFacts, lang: Lang) -> String {
        let age = facts.age;
        match bar {
            WelfareBar::HireAge => match lang {
                Lang::Zh => format!(
                    "年龄 {age} 岁，新聘公益性岗位须未满 {} 岁",
                    self.welfare_max_hire_age
                ),
                Lang::En => format!(
                    "aged {age}; new public-welfare hires must be under {}",
                    self.welfare_max_hire_age
                ),
            },
            WelfareBar::NoGroup => lang
                .pick(
                    "不属于任何可安置公益性岗位的群体",
                    "in none of the groups eligible for public-welfare posts",
                )
                .to_string(),
            WelfareBar::TenureUsedUp => match lang {
                Lang::Zh => format!(
                    "已在公益性岗位累计工作满 {} 年补贴期限，不能再次安置",
                    self.welfare_max_tenure_years
                ),
                Lang::En => format!(
                    "has already used up the {}-year subsidised tenure on public-welfare posts",
                    self.welfare_max_tenure_years
                ),
            },
        }
    }

    /// The eligible groups `w` is in (of those this table enables), and
    /// why it may not hold a public-welfare post if any rule of
    /// [`PolicyConfig::welfare_bars`] bars it (the first, in bar order).
    /// `zero_household`: nobody in its household works. `age` this year.
    /// `tenure_used_up`: see [`PolicyConfig::welfare_tenure_used_from`].
    pub fn welfare_eligibility(
        &self,
        w: &Worker,
        zero_household: bool,
        age: u32,
        tenure_used_up: bool,
        lang: Lang,
    ) -> (Vec<&'static str>, Option<String>) {
        let facts = WelfareFacts {
            age: age as i32,
            gender: w.gender,
            zero_household,
            tenure_used_up,
        };
        let why = self
            .welfare_bars(&facts)
            .iter()
            .next()
            .map(|bar| self.welfare_bar_text(bar, &facts, lang));
        (self.welfare_groups_of(&facts), why)
    }

    /// The first day (days since 1970-01-01) on which a worker with these
    /// public-welfare `stints` has used up the subsidised tenure: `None`
    /// while time is left and no stint is running (it cannot run out then),
    /// `i32::MIN` when the ended stints alone used it up.
    ///
    /// The rule, as the provincial rules put it ("the subsidy lasts at most
    /// N years, counted over all posts"): the days on public-welfare posts
    /// add up across stints (a stint covers its hire day up to and
    /// including its last day; a running one up to today), and the
    /// allowance is the length of a continuous tenure from the first hire,
    /// `welfare_max_tenure_years` calendar years ([`PolicyConfig::tenure_end`]).
    /// With one running stint this is exactly that stint's tenure end, the
    /// day the policy lists count down to. Once used up, the worker may not
    /// be hired onto a public-welfare post again.
    pub fn welfare_tenure_used_from(&self, stints: &[WelfareStint]) -> Option<i32> {
        let first = stints.iter().map(|s| s.hire_day).min()?;
        let allowance = i64::from(self.tenure_end(first) - first);
        let mut used: i64 = 0;
        let mut running: Option<i32> = None;
        for s in stints {
            match s.last_day {
                Some(last) => {
                    used += (i64::from(last) - i64::from(s.hire_day) + 1).max(0);
                }
                // Two running stints cannot happen (one active placement
                // per worker); the later hire counts as the running one.
                None => running = Some(running.map_or(s.hire_day, |r| r.max(s.hire_day))),
            }
        }
        let left = allowance - used;
        match running {
            // A post held now: used up `left` days after its hire.
            Some(from) => Some((i64::from(from) + left.max(0)).min(i64::from(i32::MAX)) as i32),
            None if left <= 0 => Some(i32::MIN),
            None => None,
        }
    }

    /// Whether a worker with these `stints` has used up the subsidised
    /// tenure on `today` (days since 1970-01-01).
    pub fn welfare_tenure_used_up(&self, stints: &[WelfareStint], today: i32) -> bool {
        self.welfare_tenure_used_from(stints)
            .is_some_and(|d| today >= d)
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

    fn stint(hire: i32, last: Option<i32>) -> WelfareStint {
        WelfareStint {
            hire_day: hire,
            last_day: last,
        }
    }

    #[test]
    fn one_running_post_is_used_up_at_its_tenure_end() {
        let p = PolicyConfig::default();
        let hire = day_number(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        let stints = [stint(hire, None)];
        assert_eq!(
            p.welfare_tenure_used_from(&stints),
            Some(p.tenure_end(hire))
        );
        assert!(!p.welfare_tenure_used_up(&stints, p.tenure_end(hire) - 1));
        assert!(p.welfare_tenure_used_up(&stints, p.tenure_end(hire)));
        assert_eq!(p.welfare_tenure_used_from(&[]), None);
    }

    #[test]
    fn tenure_adds_up_over_posts() {
        let p = PolicyConfig::default();
        let first = day_number(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
        let allowance = p.tenure_end(first) - first;
        // Two ended posts of 500 days each: time left, and it cannot run
        // out while the worker holds no post.
        let a = stint(first, Some(first + 499));
        let b = stint(first + 700, Some(first + 1199));
        assert_eq!(p.welfare_tenure_used_from(&[a, b]), None);
        // A third, running since day 2000, ends when the 1,000 used days
        // and its own reach the allowance.
        let c = stint(first + 2000, None);
        assert_eq!(
            p.welfare_tenure_used_from(&[a, b, c]),
            Some(first + 2000 + allowance - 1000)
        );
        // Ended posts that reach the allowance: used up for good.
        let long = stint(first, Some(first + allowance - 1));
        assert!(p.welfare_tenure_used_up(&[long], first + allowance));
        assert!(p.welfare_tenure_used_up(&[long], i32::MAX));
        let short = stint(first, Some(first + allowance - 2));
        assert!(!p.welfare_tenure_used_up(&[short], i32::MAX));
    }

    #[test]
    fn the_bars_of_public_welfare_posts() {
        let p = PolicyConfig::default();
        let facts = |age, gender, zero, used| WelfareFacts {
            age,
            gender,
            zero_household: zero,
            tenure_used_up: used,
        };
        assert!(p.welfare_bars(&facts(40, None, false, false)).is_empty());
        let old = p.welfare_bars(&facts(61, Some(Gender::Male), false, false));
        assert_eq!(old.iter().collect::<Vec<_>>(), vec![WelfareBar::HireAge]);
        assert!(p.welfare_bars(&facts(59, None, false, false)).is_empty());
        assert!(!p.welfare_bars(&facts(60, None, false, false)).is_empty());
        let used = p.welfare_bars(&facts(40, None, false, true));
        assert_eq!(
            used.iter().collect::<Vec<_>>(),
            vec![WelfareBar::TenureUsedUp]
        );
        // Only older workers: a man of 49 is in no group, of 50 he is; a
        // woman of 45 is.
        let older = PolicyConfig {
            welfare_groups: vec!["older_worker".into()],
            ..PolicyConfig::default()
        };
        let bars = older.welfare_bars(&facts(49, Some(Gender::Male), true, false));
        assert!(bars.contains(WelfareBar::NoGroup));
        assert!(older
            .welfare_bars(&facts(50, Some(Gender::Male), false, false))
            .is_empty());
        assert!(older
            .welfare_bars(&facts(45, Some(Gender::Female), false, false))
            .is_empty());
        assert_eq!(
            older.welfare_groups_of(&facts(45, Some(Gender::Female), true, false)),
            vec!["older_worker"]
        );
        // Every bar has two texts.
        for bar in WelfareBar::ALL {
            let f = facts(61, None, false, true);
            assert_ne!(
                p.welfare_bar_text(bar, &f, Lang::Zh),
                p.welfare_bar_text(bar, &f, Lang::En)
            );
        }
    }

    #[test]
    fn older_workers_by_gender() {
        let p = PolicyConfig::default();
        assert!(p.older_worker(Some(Gender::Female), 45));
        assert!(!p.older_worker(Some(Gender::Male), 45));
        assert!(p.older_worker(Some(Gender::Male), 50));
    }
}
