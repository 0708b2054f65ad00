//! The score: five named components in [0, 1], weighted, summed. The hot
//! path computes numbers only; [`explain`] turns the same numbers into
//! reasons a worker and a case officer can read.

use super::config::MatchConfig;
use super::features::{level_of, skill_code, skill_level, source_bit, OpeningFeat, WorkerFeat};
use crate::domain::{LabourCapacity, Lang, Mobility, Source};

/// Component values of one pair, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Components {
    pub skill: f64,
    pub commute: f64,
    pub pay: f64,
    pub preference: f64,
    pub priority: f64,
}

/// Scores are compared and stored as integer micro-points (score x 10^6,
/// rounded) so that ranking ties and the batch solver's arithmetic are exact.
pub(crate) fn micro(score: f64) -> u32 {
    (score * 1e6).round().clamp(0.0, 1e6) as u32
}

/// A labour-cooperation opening that provides both housing and transport:
/// the far-away penalty does not apply to the willing migrants it takes.
#[inline]
pub(crate) fn houses_migrants(o: &OpeningFeat) -> bool {
    o.source == Source::LabourCooperation && o.housing && o.transport
}

/// True when the far-away penalty does not apply: a willing migrant on a
/// post that houses migrants (`housed`).
#[inline]
fn migrates_housed(w: &WorkerFeat, housed: bool) -> bool {
    housed && w.mobility == Mobility::WillingToMigrate
}

#[inline]
fn supported_migration(w: &WorkerFeat, o: &OpeningFeat) -> bool {
    migrates_housed(w, houses_migrants(o))
}

/// A partial-capacity worker on a public-welfare post with places
/// reserved for them (`reserved`).
#[inline]
pub(crate) fn partial_on_reserved(w: &WorkerFeat, source: Source, reserved: bool) -> bool {
    w.capacity == LabourCapacity::Partial && source == Source::PublicWelfare && reserved
}

#[inline]
fn partial_on_reserved_post(w: &WorkerFeat, o: &OpeningFeat) -> bool {
    partial_on_reserved(w, o.source, o.reserved)
}

/// Required part: meeting the minimum gives 0.7, each level above it adds
/// 0.15, up to 1. Preferred part: met gives 1, partly met gives half the
/// level ratio. No skills asked at all: 0.5, neutral.
#[inline]
fn skill_fit(w: &WorkerFeat, o: &OpeningFeat) -> f64 {
    let mut parts = 0.0;
    let mut n = 0.0;
    if !o.required.is_empty() {
        let sum: f64 = o
            .required
            .iter()
            .map(|r| {
                let (have, need) = (level_of(&w.skills, skill_code(*r)), skill_level(*r));
                if have < need {
                    0.0
                } else {
                    0.7 + 0.15 * f64::from((have - need).min(2))
                }
            })
            .sum();
        parts += sum / o.required.len() as f64;
        n += 1.0;
    }
    if !o.preferred.is_empty() {
        let sum: f64 = o
            .preferred
            .iter()
            .map(|p| {
                let (have, want) = (level_of(&w.skills, skill_code(*p)), skill_level(*p));
                if have >= want {
                    1.0
                } else {
                    0.5 * f64::from(have) / f64::from(want)
                }
            })
            .sum();
        parts += sum / o.preferred.len() as f64;
        n += 1.0;
    }
    if n == 0.0 {
        0.5
    } else {
        parts / n
    }
}

/// The component values of a pair at `distance` km. `zero_household`: the
/// worker's household has labour and nobody in work.
#[inline]
pub(crate) fn components(
    w: &WorkerFeat,
    o: &OpeningFeat,
    distance: f64,
    zero_household: bool,
    cfg: &MatchConfig,
) -> Components {
    Components {
        skill: skill_fit(w, o),
        commute: commute_part(w, houses_migrants(o), distance, cfg),
        pay: pay_part(w, o.wage, cfg),
        preference: preference_part(w, o.source, o.flexible_hours),
        priority: priority_part(zero_household, partial_on_reserved_post(w, o)),
    }
}

// The parts below take an opening's features one by one, so that a group
// of openings ([`super::pruned`]) bounds its members' scores through the
// same arithmetic: each part is monotone in what it takes (nearer, better
// paid, flexible, reserved), so the group's best values bound every member.

/// 1 for a willing migrant on a post that houses and carries them
/// (`housed`), else decaying with `km`.
#[inline]
pub(crate) fn commute_part(w: &WorkerFeat, housed: bool, km: f64, cfg: &MatchConfig) -> f64 {
    if migrates_housed(w, housed) {
        1.0
    } else {
        (-km / cfg.commute_decay_km).exp()
    }
}

/// The wage against the worker's expectation, capped at 1.
#[inline]
pub(crate) fn pay_part(w: &WorkerFeat, wage: u32, cfg: &MatchConfig) -> f64 {
    if w.expected_wage == 0 {
        1.0
    } else {
        (f64::from(wage) / f64::from(w.expected_wage))
            .min(1.0)
            .powf(cfg.pay_exponent)
    }
}

/// The source the worker prefers (0.5 when they name none), averaged with
/// flexible hours when they need them.
#[inline]
pub(crate) fn preference_part(w: &WorkerFeat, source: Source, flexible: bool) -> f64 {
    let source_part = if w.preferred_sources == 0 {
        0.5
    } else if w.preferred_sources & source_bit(source) != 0 {
        1.0
    } else {
        0.0
    };
    if w.needs_flexible_hours {
        (source_part + if flexible { 1.0 } else { 0.0 }) / 2.0
    } else {
        source_part
    }
}

/// A household with nobody in work, and a partial-capacity worker on a post
/// reserved for them.
#[inline]
pub(crate) fn priority_part(zero_household: bool, partial_on_reserved: bool) -> f64 {
    0.6 * f64::from(u8::from(zero_household)) + 0.4 * f64::from(u8::from(partial_on_reserved))
}

/// The weighted sum, in a fixed order so every path gets the same bits.
#[inline]
pub(crate) fn total(c: &Components, cfg: &MatchConfig) -> f64 {
    cfg.weight_skill * c.skill
        + cfg.weight_commute * c.commute
        + cfg.weight_pay * c.pay
        + cfg.weight_preference * c.preference
        + cfg.weight_priority * c.priority
}

/// One component of an explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentExplanation {
    /// `skill`, `commute`, `pay`, `preference` or `priority`.
    pub name: &'static str,
    /// Value in [0, 1].
    pub value: f64,
    /// Weight (weights sum to 1).
    pub weight: f64,
    /// Short human-readable reasons.
    pub reason: String,
}

/// Reasons for each component, in the order of [`total`].
// The features and the words to name them in (site, skills, language): a
// struct for the last three would only move the same eight names.
#[allow(clippy::too_many_arguments)]
pub(crate) fn explain(
    w: &WorkerFeat,
    o: &OpeningFeat,
    distance: f64,
    zero_household: bool,
    cfg: &MatchConfig,
    site_name: &str,
    skill_name: impl Fn(u16) -> String,
    lang: Lang,
) -> Vec<ComponentExplanation> {
    let zh = lang == Lang::Zh;
    let say = |zh_text: String, en_text: String| if zh { zh_text } else { en_text };
    let c = components(w, o, distance, zero_household, cfg);
    let mut skill_reasons: Vec<String> = Vec::new();
    for r in o.required.iter() {
        let (have, need) = (level_of(&w.skills, skill_code(*r)), skill_level(*r));
        let name = skill_name(skill_code(*r));
        skill_reasons.push(if have >= need {
            say(
                format!("{name} {have} 级，达到要求的 {need} 级"),
                format!("{name} level {have} >= {need} required"),
            )
        } else {
            say(
                format!("{name} {have} 级，低于要求的 {need} 级"),
                format!("{name} level {have} < {need} required"),
            )
        });
    }
    for p in o.preferred.iter() {
        let (have, want) = (level_of(&w.skills, skill_code(*p)), skill_level(*p));
        let name = skill_name(skill_code(*p));
        skill_reasons.push(if have >= want {
            say(
                format!("优先技能{name} {have} 级，达到 {want} 级"),
                format!("preferred {name} level {have} >= {want}"),
            )
        } else if have == 0 {
            say(
                format!("缺少优先技能{name}"),
                format!("lacks preferred {name}"),
            )
        } else {
            say(
                format!("优先技能{name} {have} 级，低于 {want} 级"),
                format!("preferred {name} level {have} < {want}"),
            )
        });
    }
    if skill_reasons.is_empty() {
        skill_reasons.push(say("岗位无技能要求".into(), "no skills asked".into()));
    }
    let commute = if supported_migration(w, o) {
        say(
            format!("距安置点 {site_name} {distance:.1} 公里；劳务协作提供住宿和交通，不计距离"),
            format!("{distance:.1} km from {site_name}; labour cooperation with housing and transport, no distance penalty"),
        )
    } else {
        say(
            format!("距安置点 {site_name} {distance:.1} 公里"),
            format!("{distance:.1} km from {site_name}"),
        )
    };
    let pay = if w.expected_wage == 0 {
        say(
            format!("月薪 {} 元，本人未填期望", o.wage),
            format!("{} CNY a month, no expectation given", o.wage),
        )
    } else if o.wage >= w.expected_wage {
        say(
            format!("月薪 {} 元，不低于期望的 {} 元", o.wage, w.expected_wage),
            format!("{} CNY a month >= {} expected", o.wage, w.expected_wage),
        )
    } else {
        say(
            format!("月薪 {} 元，低于期望的 {} 元", o.wage, w.expected_wage),
            format!("{} CNY a month < {} expected", o.wage, w.expected_wage),
        )
    };
    let source_zh = o.source.text(Lang::Zh);
    let mut prefs = vec![if w.preferred_sources == 0 {
        say("未填意向岗位类型".into(), "no preferred source".into())
    } else if w.preferred_sources & source_bit(o.source) != 0 {
        say(
            format!("{source_zh}是意向岗位类型"),
            format!("{} is a preferred source", o.source),
        )
    } else {
        say(
            format!("{source_zh}不是意向岗位类型"),
            format!("{} is not a preferred source", o.source),
        )
    }];
    if w.needs_flexible_hours {
        prefs.push(
            lang.pick(
                if o.flexible_hours {
                    "需照顾家人，岗位有弹性工时"
                } else {
                    "需照顾家人，岗位无弹性工时"
                },
                if o.flexible_hours {
                    "flexible hours for a carer"
                } else {
                    "no flexible hours for a carer"
                },
            )
            .to_string(),
        );
    }
    let mut priority = Vec::new();
    if zero_household {
        priority.push(lang.pick("零就业家庭", "household with nobody in work"));
    }
    if partial_on_reserved_post(w, o) {
        priority.push(lang.pick(
            "半劳动力，优先安排公益岗位",
            "partial-capacity worker on a reserved public-welfare post",
        ));
    }
    if priority.is_empty() {
        priority.push(lang.pick("无优先", "no priority"));
    }
    vec![
        ComponentExplanation {
            name: "skill",
            value: c.skill,
            weight: cfg.weight_skill,
            reason: skill_reasons.join(lang.pick("；", "; ")),
        },
        ComponentExplanation {
            name: "commute",
            value: c.commute,
            weight: cfg.weight_commute,
            reason: commute,
        },
        ComponentExplanation {
            name: "pay",
            value: c.pay,
            weight: cfg.weight_pay,
            reason: pay,
        },
        ComponentExplanation {
            name: "preference",
            value: c.preference,
            weight: cfg.weight_preference,
            reason: prefs.join(lang.pick("；", "; ")),
        },
        ComponentExplanation {
            name: "priority",
            value: c.priority,
            weight: cfg.weight_priority,
            reason: priority.join(lang.pick("；", "; ")),
        },
    ]
}
