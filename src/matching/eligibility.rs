//! The hard rules: a pair that breaks any of them is never proposed. Each
//! rule has a stable reason code, so that a case officer can be told why.

use std::fmt;

use super::features::{
    distance_km, level_of, skill_code, skill_level, source_bit, OpeningFeat, WorkerFeat,
};
use crate::domain::policy::WelfareBar;
use crate::domain::{
    EmploymentStatus, LabourCapacity, Lang, Mobility, OpeningStatus, PhysicalDemand, Source,
};

/// Why a worker and an opening cannot be matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The opening is closed.
    OpeningClosed,
    /// Every slot of the opening is taken.
    NoFreeSlots,
    /// The opening's end date has passed.
    OpeningEnded,
    /// The worker is employed or unavailable.
    WorkerNotSeeking,
    /// The worker's age is outside the opening's range.
    AgeOutOfRange,
    /// A required skill is missing or below the minimum level.
    SkillNotMet,
    /// Partial labour capacity, and the work is not light.
    TooHeavy,
    /// Near-home worker, opening beyond their commute limit.
    TooFar,
    /// The worker accepts only preferred sources, and this is not one.
    SourceNotPreferred,
    /// Public-welfare post, and the worker is at or over the `[policy]`
    /// hire age (`welfare_max_hire_age`).
    WelfareHireAge,
    /// Public-welfare post, and the worker is in none of the `[policy]`
    /// groups eligible for one (`welfare_groups`, older-worker ages).
    WelfareGroup,
    /// Public-welfare post, and the worker has already used up the
    /// subsidised tenure on such posts (`welfare_max_tenure_years`).
    WelfareTenure,
    /// The worker declined this opening before: the pair is never
    /// proposed again.
    DeclinedBefore,
}

impl Reason {
    /// Every reason, in code order.
    pub const ALL: [Reason; 13] = [
        Reason::OpeningClosed,
        Reason::NoFreeSlots,
        Reason::OpeningEnded,
        Reason::WorkerNotSeeking,
        Reason::AgeOutOfRange,
        Reason::SkillNotMet,
        Reason::TooHeavy,
        Reason::TooFar,
        Reason::SourceNotPreferred,
        Reason::WelfareHireAge,
        Reason::WelfareGroup,
        Reason::WelfareTenure,
        Reason::DeclinedBefore,
    ];

    /// Stable upper-case code, as in the API.
    pub fn code(self) -> &'static str {
        match self {
            Reason::OpeningClosed => "OPENING_CLOSED",
            Reason::NoFreeSlots => "NO_FREE_SLOTS",
            Reason::OpeningEnded => "OPENING_ENDED",
            Reason::WorkerNotSeeking => "WORKER_NOT_SEEKING",
            Reason::AgeOutOfRange => "AGE_OUT_OF_RANGE",
            Reason::SkillNotMet => "SKILL_NOT_MET",
            Reason::TooHeavy => "TOO_HEAVY_FOR_PARTIAL_CAPACITY",
            Reason::TooFar => "BEYOND_COMMUTE_LIMIT",
            Reason::SourceNotPreferred => "SOURCE_NOT_PREFERRED",
            Reason::WelfareHireAge => "WELFARE_HIRE_AGE_REACHED",
            Reason::WelfareGroup => "NOT_IN_WELFARE_GROUP",
            Reason::WelfareTenure => "WELFARE_TENURE_USED_UP",
            Reason::DeclinedBefore => "DECLINED_BEFORE",
        }
    }

    /// The reason for a `[policy]` bar on public-welfare posts.
    pub fn of_welfare_bar(bar: WelfareBar) -> Reason {
        match bar {
            WelfareBar::HireAge => Reason::WelfareHireAge,
            WelfareBar::NoGroup => Reason::WelfareGroup,
            WelfareBar::TenureUsedUp => Reason::WelfareTenure,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The day and year rules are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchContext {
    /// Calendar year, for ages.
    pub year: i32,
    /// Today, days from CE, for end dates.
    pub today: i32,
    /// The language of the explanations' words.
    pub lang: Lang,
}

impl MatchContext {
    /// Today in China (UTC+8).
    pub fn now() -> Self {
        Self::on((chrono::Utc::now() + chrono::Duration::hours(8)).date_naive())
    }

    /// The day `day` (benches and tests fix it), explained in English.
    pub fn on(day: chrono::NaiveDate) -> Self {
        use chrono::Datelike as _;
        Self {
            year: day.year(),
            today: day.num_days_from_ce(),
            lang: Lang::En,
        }
    }

    /// The same day, explained in `lang`.
    pub fn in_lang(self, lang: Lang) -> Self {
        Self { lang, ..self }
    }
}

/// True when every rule holds. The hot path: no allocation, stops at the
/// first broken rule. `distance` is the pair's great-circle km.
/// `welfare_ok`: no `[policy]` rule bars the worker from public-welfare
/// posts ([`super::MatchIndex`] works it out once per worker and query).
/// Declined pairs are the caller's to leave out (they are a fact of the
/// pair, kept by id, not of the features).
#[inline]
pub(crate) fn eligible(
    w: &WorkerFeat,
    o: &OpeningFeat,
    distance: f64,
    ctx: &MatchContext,
    welfare_ok: bool,
) -> bool {
    opening_available(o, ctx) && worker_available(w) && worker_fits(w, o, distance, ctx, welfare_ok)
}

/// The `[policy]` rules of public-welfare posts, for a worker they do or
/// do not bar (`welfare_ok`).
#[inline]
pub(crate) fn welfare_fits(o: &OpeningFeat, welfare_ok: bool) -> bool {
    welfare_ok || o.source != Source::PublicWelfare
}

/// Rules that depend on the opening alone.
#[inline]
pub(crate) fn opening_available(o: &OpeningFeat, ctx: &MatchContext) -> bool {
    o.status == OpeningStatus::Open && o.filled < o.headcount && o.end_day >= ctx.today
}

/// Rules that depend on the worker alone.
#[inline]
pub(crate) fn worker_available(w: &WorkerFeat) -> bool {
    w.status == EmploymentStatus::Seeking
}

/// Rules that depend on both.
#[inline]
pub(crate) fn worker_fits(
    w: &WorkerFeat,
    o: &OpeningFeat,
    distance: f64,
    ctx: &MatchContext,
    welfare_ok: bool,
) -> bool {
    fits_before_distance(w, o, ctx, welfare_ok)
        && !(w.mobility == Mobility::NearHome && distance > f64::from(w.max_commute_km))
}

/// The pair rules that need no distance: checked before computing it.
#[inline]
pub(crate) fn fits_before_distance(
    w: &WorkerFeat,
    o: &OpeningFeat,
    ctx: &MatchContext,
    welfare_ok: bool,
) -> bool {
    let age = ctx.year - i32::from(w.birth_year);
    welfare_fits(o, welfare_ok)
        && age >= i32::from(o.min_age)
        && age <= i32::from(o.max_age)
        && !(w.capacity == LabourCapacity::Partial && o.demand != PhysicalDemand::Light)
        && !(w.strict_sources && w.preferred_sources & source_bit(o.source) == 0)
        && skills_met(w, o)
}

#[inline]
fn skills_met(w: &WorkerFeat, o: &OpeningFeat) -> bool {
    o.required
        .iter()
        .all(|r| level_of(&w.skills, skill_code(*r)) >= skill_level(*r))
}

/// Every broken rule with a short explanation, in reason order; empty when
/// the pair is eligible. `skill_name` turns an interned code into text.
pub(crate) fn violations(
    w: &WorkerFeat,
    o: &OpeningFeat,
    ctx: &MatchContext,
    skill_name: impl Fn(u16) -> String,
) -> Vec<(Reason, String)> {
    let zh = ctx.lang == Lang::Zh;
    let say = |zh_text: String, en_text: String| if zh { zh_text } else { en_text };
    let mut out = Vec::new();
    if o.status != OpeningStatus::Open {
        out.push((
            Reason::OpeningClosed,
            say("岗位已关闭".into(), "the opening is closed".into()),
        ));
    }
    if o.filled >= o.headcount {
        out.push((
            Reason::NoFreeSlots,
            say(
                format!("{} 个名额已满", o.headcount),
                format!("all {} slots are filled", o.headcount),
            ),
        ));
    }
    if o.end_day < ctx.today {
        out.push((
            Reason::OpeningEnded,
            say(
                "岗位结束日期已过".into(),
                "the opening's end date has passed".into(),
            ),
        ));
    }
    if w.status != EmploymentStatus::Seeking {
        out.push((
            Reason::WorkerNotSeeking,
            say(
                format!("劳动力状态为“{}”，不在求职", w.status.text(Lang::Zh)),
                format!("worker is {}, not seeking work", w.status),
            ),
        ));
    }
    let age = ctx.year - i32::from(w.birth_year);
    if age < i32::from(o.min_age) || age > i32::from(o.max_age) {
        out.push((
            Reason::AgeOutOfRange,
            say(
                format!("年龄 {age} 岁，不在 {}-{} 岁之间", o.min_age, o.max_age),
                format!("age {age} outside {}-{}", o.min_age, o.max_age),
            ),
        ));
    }
    for r in o.required.iter() {
        let have = level_of(&w.skills, skill_code(*r));
        if have < skill_level(*r) {
            let name = skill_name(skill_code(*r));
            let need = skill_level(*r);
            let text = if have == 0 {
                say(
                    format!("需要{name} {need} 级，本人没有该技能"),
                    format!("{name} level {need} required, worker has none"),
                )
            } else {
                say(
                    format!("{name} {have} 级，低于要求的 {need} 级"),
                    format!("{name} level {have} < {need} required"),
                )
            };
            out.push((Reason::SkillNotMet, text));
        }
    }
    if w.capacity == LabourCapacity::Partial && o.demand != PhysicalDemand::Light {
        out.push((
            Reason::TooHeavy,
            say(
                format!("半劳动力，岗位体力要求为“{}”", o.demand.text(Lang::Zh)),
                format!("partial labour capacity, work is {}", o.demand),
            ),
        ));
    }
    let d = distance_km(w.lat, w.lon, o.lat, o.lon);
    if w.mobility == Mobility::NearHome && d > f64::from(w.max_commute_km) {
        out.push((
            Reason::TooFar,
            say(
                format!("相距 {d:.1} 公里，本人通勤最远 {} 公里", w.max_commute_km),
                format!(
                    "{d:.1} km away, worker commutes at most {} km",
                    w.max_commute_km
                ),
            ),
        ));
    }
    if w.strict_sources && w.preferred_sources & source_bit(o.source) == 0 {
        out.push((
            Reason::SourceNotPreferred,
            say(
                format!(
                    "本人只接受意向岗位类型，{}不在其中",
                    o.source.text(Lang::Zh)
                ),
                format!("worker accepts only preferred sources, not {}", o.source),
            ),
        ));
    }
    out
}
