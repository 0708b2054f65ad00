//! Matching against plain references: ranked output equals the brute-force
//! reference exactly on random data, in both directions, with filters and
//! after incremental updates; each eligibility rule alone excludes a pair;
//! explanation components times weights sum to the score.

use chrono::NaiveDate;
use proptest::prelude::*;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::domain::policy::{PolicyConfig, WelfareStint, WELFARE_GROUPS};
use crate::domain::rules::national_id_check_char;
use crate::domain::{
    EmploymentStatus, Gender, GeoPoint, LabourCapacity, Mobility, OpeningStatus, PhysicalDemand,
    Preferences, Skill, SkillRequirement, Source,
};
use crate::domain::{Opening, Worker};

const YEAR: i32 = 2026;

pub(super) fn ctx() -> MatchContext {
    use chrono::Datelike as _;
    MatchContext {
        year: YEAR,
        today: NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .num_days_from_ce(),
        lang: crate::domain::Lang::En,
    }
}

const SKILLS: [&str; 4] = ["sewing", "masonry", "cooking", "tea_processing"];
const COUNTIES: [&str; 3] = ["431202", "431221", "431271"];

fn nid(n: u64) -> String {
    let first17 = format!("{:017}", 43_120_219_800_000_000u64 + n);
    format!("{first17}{}", national_id_check_char(first17.as_bytes()))
}

/// A point in a small area (about 60 x 60 km) with probability `near`,
/// else far away, so that commute limits bite both ways.
fn random_point(rng: &mut ChaCha8Rng, near: f64) -> GeoPoint {
    if rng.random_bool(near) {
        GeoPoint {
            lat: 27.3 + rng.random::<f64>() * 0.5,
            lon: 109.7 + rng.random::<f64>() * 0.5,
        }
    } else {
        GeoPoint {
            lat: 22.0 + rng.random::<f64>() * 10.0,
            lon: 105.0 + rng.random::<f64>() * 15.0,
        }
    }
}

pub(super) fn random_worker(rng: &mut ChaCha8Rng, n: usize) -> Worker {
    let skills = |rng: &mut ChaCha8Rng| -> Vec<Skill> {
        let mut codes = SKILLS.to_vec();
        codes.retain(|_| rng.random_bool(0.4));
        codes
            .into_iter()
            .map(|c| Skill {
                code: c.into(),
                level: rng.random_range(1..=5),
            })
            .collect()
    };
    let mut preferred: Vec<Source> = Source::ALL
        .iter()
        .copied()
        .filter(|_| rng.random_bool(0.2))
        .collect();
    preferred.dedup();
    let strict = !preferred.is_empty() && rng.random_bool(0.3);
    Worker {
        // Deliberately not zero-padded, so id order differs from number order.
        id: format!("w{n}"),
        household_id: format!("h{}", rng.random_range(0..(n / 2 + 1))),
        name: "测试".into(),
        national_id: nid(n as u64),
        // From the number, so that the random stream stays as it was.
        gender: [None, Some(Gender::Female), Some(Gender::Male)][n % 3],
        birth_year: rng.random_range(1955..=2008),
        phone: None,
        county_code: (*COUNTIES.choose(rng).unwrap()).into(),
        site_id: format!("s{}", rng.random_range(0..5)),
        site_location: random_point(rng, 0.9),
        labour_capacity: if rng.random_bool(0.25) {
            LabourCapacity::Partial
        } else {
            LabourCapacity::Full
        },
        skills: skills(rng),
        certificates: skills(rng),
        education: None,
        preferences: Preferences {
            mobility: if rng.random_bool(0.4) {
                Mobility::WillingToMigrate
            } else {
                Mobility::NearHome
            },
            max_commute_km: *[1, 5, 10, 20, 40, 150, 600].choose(rng).unwrap(),
            expected_monthly_wage: rng.random_range(0..=60) * 100,
            preferred_sources: preferred,
            strict_sources: strict,
            needs_flexible_hours: rng.random_bool(0.3),
        },
        employment_status: *[
            EmploymentStatus::Seeking,
            EmploymentStatus::Seeking,
            EmploymentStatus::Employed,
            EmploymentStatus::Unavailable,
        ]
        .choose(rng)
        .unwrap(),
        service_company_id: None,
        consent_to_share: false,
        placement: Default::default(),
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

pub(super) fn random_opening(rng: &mut ChaCha8Rng, n: usize) -> (Opening, u32) {
    let reqs = |rng: &mut ChaCha8Rng, p: f64| -> Vec<SkillRequirement> {
        let mut codes = SKILLS.to_vec();
        codes.retain(|_| rng.random_bool(p));
        codes
            .into_iter()
            .map(|c| SkillRequirement {
                code: c.into(),
                min_level: rng.random_range(1..=4),
            })
            .collect()
    };
    let min_age = rng.random_range(16..=40);
    let headcount = rng.random_range(1..=5);
    let o = Opening {
        id: format!("o{n}"),
        source: *Source::ALL.choose(rng).unwrap(),
        employer_id: format!("e{}", n % 4),
        employer_name: "employer".into(),
        title: "job".into(),
        occupation_code: None,
        region_code: (*COUNTIES.choose(rng).unwrap()).into(),
        location: random_point(rng, 0.85),
        required_skills: reqs(rng, 0.2),
        preferred_skills: reqs(rng, 0.3),
        min_age,
        max_age: rng.random_range(min_age..=75),
        physical_demand: *[
            PhysicalDemand::Light,
            PhysicalDemand::Normal,
            PhysicalDemand::Heavy,
        ]
        .choose(rng)
        .unwrap(),
        monthly_wage: rng.random_range(5..=65) * 100,
        headcount,
        flexible_hours: rng.random_bool(0.5),
        housing_provided: rng.random_bool(0.5),
        transport_provided: rng.random_bool(0.5),
        reserved_for_relocated: rng.random_bool(0.5),
        start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        end_date: if rng.random_bool(0.1) {
            NaiveDate::from_ymd_opt(2026, 6, 1)
        } else {
            None
        },
        status: if rng.random_bool(0.1) {
            OpeningStatus::Closed
        } else {
            OpeningStatus::Open
        },
        filled: 0,
        created_at_ms: 0,
        updated_at_ms: 0,
    };
    let filled = if rng.random_bool(0.1) { headcount } else { 0 };
    (o, filled)
}

/// `[policy]` rules that bite: some groups left out, hire ages around the
/// workers' ages, short tenures.
pub(super) fn random_policy(rng: &mut ChaCha8Rng) -> PolicyConfig {
    let mut groups: Vec<String> = WELFARE_GROUPS.iter().map(|g| g.to_string()).collect();
    groups.retain(|_| rng.random_bool(0.5));
    PolicyConfig {
        welfare_groups: groups,
        welfare_max_hire_age: rng.random_range(40..=70),
        older_worker_women_from: rng.random_range(35..=55),
        older_worker_men_from: rng.random_range(40..=60),
        welfare_max_tenure_years: rng.random_range(1..=3),
        ..PolicyConfig::default()
    }
}

/// Public-welfare stints for some workers, around [`ctx`]'s day: ended
/// ones, running ones, and some long enough to use up a tenure.
pub(super) fn random_stints(rng: &mut ChaCha8Rng) -> Vec<WelfareStint> {
    let today = ctx().today - 719_163;
    (0..rng.random_range(1..=3))
        .map(|_| {
            let hire = today - rng.random_range(0..2000);
            let last = rng
                .random_bool(0.7)
                .then(|| (hire + rng.random_range(0..1200)).min(today));
            WelfareStint {
                hire_day: hire,
                last_day: last,
            }
        })
        .collect()
}

/// Declines and stints for random workers, as index operations.
pub(super) fn random_facts(
    rng: &mut ChaCha8Rng,
    ws: &[Worker],
    os: &[(Opening, u32)],
) -> Vec<IndexOp> {
    let mut ops = Vec::new();
    if ws.is_empty() {
        return ops;
    }
    for _ in 0..ws.len() / 4 {
        let w = ws.choose(rng).unwrap();
        ops.push(IndexOp::WelfareStints {
            worker_id: w.id.clone(),
            stints: random_stints(rng),
        });
    }
    if !os.is_empty() {
        for _ in 0..ws.len() / 2 {
            ops.push(IndexOp::Declined {
                worker_id: ws.choose(rng).unwrap().id.clone(),
                opening_id: os.choose(rng).unwrap().0.id.clone(),
            });
        }
    }
    ops
}

fn apply(index: &mut MatchIndex, op: &IndexOp) {
    op.apply(index);
}

/// Prices on about a third of the openings, as a run would leave them:
/// mostly points, now and then a household; some openings have gained
/// free slots since (their price no longer applies).
fn random_prices(rng: &mut ChaCha8Rng, os: &[(Opening, u32)]) -> IndexOp {
    let chosen: Vec<&(Opening, u32)> = os.iter().filter(|_| rng.random_bool(0.35)).collect();
    let prices = chosen
        .into_iter()
        .map(|(o, filled)| {
            let free = o.headcount.saturating_sub(*filled);
            let households = u32::from(rng.random_bool(0.1));
            crate::domain::run::OpeningPrice {
                opening_id: o.id.clone(),
                households,
                points_micro: if households > 0 {
                    rng.random_range(-300_000..300_000)
                } else {
                    rng.random_range(1..400_000)
                },
                free_slots: if rng.random_bool(0.2) {
                    free.saturating_sub(1)
                } else {
                    free
                },
                household_weight: 5_000_000_000,
            }
        })
        .collect();
    IndexOp::Prices { run_id: 7, prices }
}

fn random_index(
    seed: u64,
    workers: usize,
    openings: usize,
) -> (MatchIndex, Vec<Worker>, Vec<(Opening, u32)>) {
    let (index, ws, os, _) = random_world(seed, workers, openings);
    (index, ws, os)
}

/// A random index under random `[policy]` rules, with declines and
/// public-welfare stints (half of them given before the workers are
/// indexed, half after), and those facts.
#[allow(clippy::type_complexity)]
fn random_world(
    seed: u64,
    workers: usize,
    openings: usize,
) -> (MatchIndex, Vec<Worker>, Vec<(Opening, u32)>, Vec<IndexOp>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ws: Vec<Worker> = (0..workers).map(|n| random_worker(&mut rng, n)).collect();
    let os: Vec<(Opening, u32)> = (0..openings).map(|n| random_opening(&mut rng, n)).collect();
    for w in &ws {
        w.validate(YEAR).unwrap();
    }
    for (o, _) in &os {
        o.validate().unwrap();
    }
    let policy = random_policy(&mut rng);
    let facts = random_facts(&mut rng, &ws, &os);
    let (before, after) = facts.split_at(facts.len() / 2);
    let mut index = MatchIndex::with_policy(MatchConfig::default().normalised().unwrap(), policy);
    for op in before {
        apply(&mut index, op);
    }
    for w in &ws {
        index.upsert_worker(w);
    }
    for (o, f) in &os {
        index.upsert_opening(o, *f);
    }
    for op in after {
        apply(&mut index, op);
    }
    let prices = random_prices(&mut rng, &os);
    apply(&mut index, &prices);
    (index, ws, os, facts)
}

/// `ExplainMatch` against the plain reference, pair by pair: a pair is
/// eligible exactly when ranking (the brute-force reference) lists it; its
/// `[policy]` reasons are exactly the bars of the domain's predicate on
/// facts recomputed from the records (age, gender, a household recount,
/// the last stints given); DECLINED_BEFORE exactly for declined pairs.
fn check_explanations(index: &MatchIndex, ws: &[Worker], os: &[(Opening, u32)], facts: &[IndexOp]) {
    use std::collections::{HashMap, HashSet};
    let mut declined = HashSet::new();
    let mut stints: HashMap<&str, &[WelfareStint]> = HashMap::new();
    for op in facts {
        match op {
            IndexOp::Declined {
                worker_id,
                opening_id,
            } => {
                declined.insert((worker_id.as_str(), opening_id.as_str()));
            }
            IndexOp::WelfareStints {
                worker_id,
                stints: s,
            } => {
                stints.insert(worker_id, s);
            }
            _ => {}
        }
    }
    let mut houses: HashMap<&str, (u32, u32)> = HashMap::new();
    for w in ws {
        let h = houses.entry(&w.household_id).or_default();
        match w.employment_status {
            EmploymentStatus::Employed => h.0 += 1,
            EmploymentStatus::Seeking | EmploymentStatus::Placed => h.1 += 1,
            EmploymentStatus::Unavailable => {}
        }
    }
    let policy = index.policy();
    let today_1970 = ctx().today - 719_163;
    let welfare_reasons = [
        Reason::WelfareHireAge,
        Reason::WelfareGroup,
        Reason::WelfareTenure,
    ];
    for w in ws {
        let q = OpeningsQuery {
            top_k: 1000,
            ..Default::default()
        };
        let listed: HashSet<String> = index
            .reference_openings(&w.id, &q, &ctx())
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let (employed, seeking) = houses[w.household_id.as_str()];
        let facts = crate::domain::policy::WelfareFacts {
            age: YEAR - w.birth_year as i32,
            gender: w.gender,
            zero_household: seeking > 0 && employed == 0,
            tenure_used_up: policy.welfare_tenure_used_up(
                stints.get(w.id.as_str()).copied().unwrap_or(&[]),
                today_1970,
            ),
        };
        let bars: Vec<Reason> = policy
            .welfare_bars(&facts)
            .iter()
            .map(Reason::of_welfare_bar)
            .collect();
        for (o, _) in os {
            let e = index.explain_pair(&w.id, &o.id, &ctx()).unwrap();
            let what = format!("worker {} opening {}", w.id, o.id);
            assert_eq!(
                e.eligible,
                listed.contains(&o.id),
                "{what}: {:?}",
                e.violations
            );
            assert_eq!(e.eligible, e.violations.is_empty(), "{what}");
            let got: Vec<Reason> = e
                .violations
                .iter()
                .map(|v| v.0)
                .filter(|r| welfare_reasons.contains(r))
                .collect();
            let want = if o.source == Source::PublicWelfare {
                bars.clone()
            } else {
                Vec::new()
            };
            assert_eq!(got, want, "{what}: {facts:?}");
            let is_declined = e.violations.iter().any(|v| v.0 == Reason::DeclinedBefore);
            assert_eq!(
                is_declined,
                declined.contains(&(w.id.as_str(), o.id.as_str())),
                "{what}"
            );
        }
    }
}

fn ids(r: &[Ranked]) -> Vec<(String, u32)> {
    r.iter().map(|r| (r.id.clone(), r.score_micro)).collect()
}

fn random_openings_query(rng: &mut ChaCha8Rng) -> OpeningsQuery {
    OpeningsQuery {
        top_k: *[1, 3, 10, 1000].choose(rng).unwrap(),
        sources: if rng.random_bool(0.3) {
            vec![*Source::ALL.choose(rng).unwrap()]
        } else {
            vec![]
        },
        counties: if rng.random_bool(0.3) {
            vec![region_number(COUNTIES.choose(rng).unwrap())]
        } else {
            vec![]
        },
        max_distance_km: rng.random_bool(0.3).then(|| rng.random_range(1.0..80.0)),
        min_wage: if rng.random_bool(0.3) {
            rng.random_range(0..5000)
        } else {
            0
        },
        min_score_micro: if rng.random_bool(0.3) {
            rng.random_range(0..700_000)
        } else {
            0
        },
        ranking: if rng.random_bool(0.5) {
            Ranking::Net
        } else {
            Ranking::Score
        },
        // Set per worker by the caller of this.
        planned: None,
    }
}

fn random_workers_query(rng: &mut ChaCha8Rng) -> WorkersQuery {
    WorkersQuery {
        top_k: *[1, 3, 10, 1000].choose(rng).unwrap(),
        counties: if rng.random_bool(0.3) {
            vec![region_number(COUNTIES.choose(rng).unwrap())]
        } else {
            vec![]
        },
        max_distance_km: rng.random_bool(0.3).then(|| rng.random_range(1.0..80.0)),
        min_score_micro: if rng.random_bool(0.3) {
            rng.random_range(0..700_000)
        } else {
            0
        },
    }
}

fn check_all(index: &MatchIndex, ws: &[Worker], os: &[(Opening, u32)], rng: &mut ChaCha8Rng) {
    for w in ws.iter().take(60) {
        let mut q = random_openings_query(rng);
        if rng.random_bool(0.5) {
            q.planned = os.choose(rng).map(|(o, _)| o.id.clone());
        }
        let got = index.rank_openings(&w.id, &q, &ctx()).unwrap();
        assert_eq!(
            ids(&got),
            index.reference_openings(&w.id, &q, &ctx()),
            "worker {} query {q:?}",
            w.id
        );
    }
    for (o, _) in os.iter().take(40) {
        let q = random_workers_query(rng);
        let got = index.rank_workers(&o.id, &q, &ctx()).unwrap();
        assert_eq!(
            ids(&got),
            index.reference_workers(&o.id, &q, &ctx()),
            "opening {} query {q:?}",
            o.id
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Small and large candidate sets (the parallel path starts at 4096).
    #[test]
    fn ranking_equals_reference(seed in any::<u64>(), big in any::<bool>()) {
        let (workers, openings) = if big { (6000, 5000) } else { (300, 120) };
        let (index, ws, os) = random_index(seed, workers, openings);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        check_all(&index, &ws, &os, &mut rng);
    }

    /// `ExplainMatch`, ranking and the `[policy]` predicates agree on
    /// every pair.
    #[test]
    fn explanations_agree_with_ranking_and_the_policy(seed in any::<u64>()) {
        let (index, ws, os, facts) = random_world(seed, 120, 80);
        check_explanations(&index, &ws, &os, &facts);
    }

    /// Updates applied one by one keep the index equal to the reference.
    #[test]
    fn ranking_equals_reference_after_updates(seed in any::<u64>()) {
        let (mut index, mut ws, mut os) = random_index(seed, 300, 100);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xfeed);
        for step in 0..200 {
            match rng.random_range(0..5) {
                0 | 1 => {
                    let i = rng.random_range(0..ws.len());
                    let mut w = random_worker(&mut rng, i);
                    w.id = ws[i].id.clone();
                    index.upsert_worker(&w);
                    ws[i] = w;
                }
                2 => {
                    let i = rng.random_range(0..ws.len());
                    index.remove_worker(&ws[i].id);
                    let w = random_worker(&mut rng, 1000 + step);
                    index.upsert_worker(&w);
                    ws[i] = w;
                }
                3 => {
                    let i = rng.random_range(0..os.len());
                    let (mut o, f) = random_opening(&mut rng, i);
                    o.id = os[i].0.id.clone();
                    index.upsert_opening(&o, f);
                    os[i] = (o, f);
                }
                _ => {
                    for op in random_facts(&mut rng, &ws[..4], &os) {
                        apply(&mut index, &op);
                    }
                }
            }
        }
        check_all(&index, &ws, &os, &mut rng);
    }
}

/// A worker and an opening that match, for the rule tests.
pub(super) fn eligible_pair() -> (Worker, Opening) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut w = random_worker(&mut rng, 1);
    w.birth_year = 1990;
    w.employment_status = EmploymentStatus::Seeking;
    w.labour_capacity = LabourCapacity::Full;
    w.site_location = GeoPoint {
        lat: 27.55,
        lon: 109.98,
    };
    w.skills = vec![Skill {
        code: "sewing".into(),
        level: 3,
    }];
    w.certificates = vec![Skill {
        code: "cooking".into(),
        level: 2,
    }];
    w.preferences = Preferences {
        mobility: Mobility::NearHome,
        max_commute_km: 20,
        expected_monthly_wage: 3000,
        preferred_sources: vec![Source::AidWorkshop],
        strict_sources: false,
        needs_flexible_hours: false,
    };
    let (mut o, _) = random_opening(&mut rng, 1);
    o.source = Source::AidWorkshop;
    o.location = GeoPoint {
        lat: 27.58,
        lon: 109.98,
    };
    o.required_skills = vec![SkillRequirement {
        code: "sewing".into(),
        min_level: 2,
    }];
    o.preferred_skills = vec![];
    o.min_age = 18;
    o.max_age = 55;
    o.physical_demand = PhysicalDemand::Normal;
    o.headcount = 2;
    o.status = OpeningStatus::Open;
    o.end_date = None;
    (w, o)
}

fn explain_one(w: &Worker, o: &Opening, filled: u32) -> PairExplanation {
    let mut index = MatchIndex::new(MatchConfig::default().normalised().unwrap());
    index.upsert_worker(w);
    index.upsert_opening(o, filled);
    let e = index.explain_pair(&w.id, &o.id, &ctx()).unwrap();
    // Ranking agrees with the explanation on eligibility.
    let ranked = index
        .rank_openings(
            &w.id,
            &OpeningsQuery {
                top_k: 10,
                ..Default::default()
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(ranked.len() == 1, e.eligible);
    e
}

fn only_reason(w: &Worker, o: &Opening, filled: u32, reason: Reason) {
    let e = explain_one(w, o, filled);
    assert!(!e.eligible);
    let reasons: Vec<Reason> = e.violations.iter().map(|v| v.0).collect();
    assert_eq!(reasons, vec![reason], "{:?}", e.violations);
}

#[test]
fn the_base_pair_is_eligible() {
    let (w, o) = eligible_pair();
    let e = explain_one(&w, &o, 0);
    assert!(e.eligible, "{:?}", e.violations);
}

#[test]
fn each_rule_alone_excludes_the_pair() {
    let (w, o) = eligible_pair();
    let with_o = |f: &dyn Fn(&mut Opening)| {
        let mut o = o.clone();
        f(&mut o);
        o
    };
    let with_w = |f: &dyn Fn(&mut Worker)| {
        let mut w = w.clone();
        f(&mut w);
        w
    };
    only_reason(
        &w,
        &with_o(&|o| o.status = OpeningStatus::Closed),
        0,
        Reason::OpeningClosed,
    );
    only_reason(&w, &o, 2, Reason::NoFreeSlots);
    only_reason(
        &w,
        &with_o(&|o| o.end_date = NaiveDate::from_ymd_opt(2026, 11, 28)),
        0,
        Reason::OpeningEnded,
    );
    only_reason(
        &with_w(&|w| w.employment_status = EmploymentStatus::Employed),
        &o,
        0,
        Reason::WorkerNotSeeking,
    );
    only_reason(
        &with_w(&|w| w.employment_status = EmploymentStatus::Unavailable),
        &o,
        0,
        Reason::WorkerNotSeeking,
    );
    only_reason(
        &with_w(&|w| w.birth_year = 1970),
        &o,
        0,
        Reason::AgeOutOfRange,
    );
    only_reason(
        &with_w(&|w| w.birth_year = 2009),
        &o,
        0,
        Reason::AgeOutOfRange,
    );
    only_reason(
        &with_w(&|w| w.skills[0].level = 1),
        &o,
        0,
        Reason::SkillNotMet,
    );
    only_reason(&with_w(&|w| w.skills.clear()), &o, 0, Reason::SkillNotMet);
    only_reason(
        &with_w(&|w| w.labour_capacity = LabourCapacity::Partial),
        &o,
        0,
        Reason::TooHeavy,
    );
    only_reason(
        &with_w(&|w| w.preferences.max_commute_km = 2),
        &o,
        0,
        Reason::TooFar,
    );
    only_reason(
        &with_w(&|w| {
            w.preferences.preferred_sources = vec![Source::PublicWelfare];
            w.preferences.strict_sources = true;
        }),
        &o,
        0,
        Reason::SourceNotPreferred,
    );
}

#[test]
fn boundaries_are_inclusive_and_certificates_count() {
    let (mut w, mut o) = eligible_pair();
    // Exactly the minimum age and the maximum age.
    w.birth_year = (YEAR - 18) as u32;
    assert!(explain_one(&w, &o, 0).eligible);
    w.birth_year = (YEAR - 55) as u32;
    assert!(explain_one(&w, &o, 0).eligible);
    // A certificate at the required level counts as the skill.
    w.birth_year = 1990;
    o.required_skills = vec![SkillRequirement {
        code: "cooking".into(),
        min_level: 2,
    }];
    assert!(explain_one(&w, &o, 0).eligible);
    // Light work is fine for partial capacity.
    w.labour_capacity = LabourCapacity::Partial;
    o.physical_demand = PhysicalDemand::Light;
    assert!(explain_one(&w, &o, 0).eligible);
    // A willing migrant takes an opening 1,000 km away.
    w.preferences.mobility = Mobility::WillingToMigrate;
    o.location = GeoPoint {
        lat: 22.54,
        lon: 114.06,
    };
    assert!(explain_one(&w, &o, 0).eligible);
    // Ending today is still open.
    o.end_date = NaiveDate::from_ymd_opt(2026, 11, 29);
    assert!(explain_one(&w, &o, 0).eligible);
}

#[test]
fn components_times_weights_sum_to_the_score() {
    let (index, ws, os) = random_index(99, 200, 80);
    let mut checked = 0;
    for w in &ws {
        for (o, _) in &os {
            let e = index.explain_pair(&w.id, &o.id, &ctx()).unwrap();
            let sum: f64 = e.components.iter().map(|c| c.value * c.weight).sum();
            assert!(
                (sum - f64::from(e.score_micro) / 1e6).abs() <= 0.5e-6 + 1e-12,
                "{sum} vs {}",
                e.score_micro
            );
            for c in &e.components {
                assert!((0.0..=1.0).contains(&c.value), "{} = {}", c.name, c.value);
                assert!(!c.reason.is_empty());
            }
            let weights: f64 = e.components.iter().map(|c| c.weight).sum();
            assert!((weights - 1.0).abs() < 1e-12);
            checked += 1;
        }
    }
    assert_eq!(checked, 200 * 80);
}

#[test]
fn explanations_read_like_reasons() {
    let (w, o) = eligible_pair();
    let e = explain_one(&w, &o, 0);
    let reason = |name: &str| {
        e.components
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .reason
            .clone()
    };
    assert!(
        reason("skill").contains("sewing level 3 >= 2 required"),
        "{}",
        reason("skill")
    );
    assert!(
        reason("commute").contains("3.3 km from"),
        "{}",
        reason("commute")
    );
    assert!(reason("pay").contains("CNY a month"));
    let (mut w2, o2) = eligible_pair();
    w2.preferences.max_commute_km = 2;
    let e2 = explain_one(&w2, &o2, 0);
    assert!(
        e2.violations[0].1.contains("3.3 km away"),
        "{:?}",
        e2.violations
    );
}

#[test]
fn zero_employment_household_raises_priority_until_someone_works() {
    let (w, o) = eligible_pair();
    let mut index = MatchIndex::new(MatchConfig::default().normalised().unwrap());
    index.upsert_worker(&w);
    index.upsert_opening(&o, 0);
    let before = index.explain_pair(&w.id, &o.id, &ctx()).unwrap();
    let mut sibling = w.clone();
    sibling.id = "sibling".into();
    sibling.national_id = nid(777);
    sibling.employment_status = EmploymentStatus::Employed;
    index.upsert_worker(&sibling);
    let after = index.explain_pair(&w.id, &o.id, &ctx()).unwrap();
    assert!(before.score_micro > after.score_micro);
    let priority = |e: &PairExplanation| {
        e.components
            .iter()
            .find(|c| c.name == "priority")
            .unwrap()
            .value
    };
    assert_eq!(priority(&before), 0.6);
    assert_eq!(priority(&after), 0.0);
    index.remove_worker("sibling");
    assert_eq!(index.explain_pair(&w.id, &o.id, &ctx()).unwrap(), before);
}

#[test]
fn ties_break_by_id_in_byte_order() {
    let (w, o) = eligible_pair();
    let mut index = MatchIndex::new(MatchConfig::default().normalised().unwrap());
    index.upsert_opening(&o, 0);
    // Identical workers in different households (no shared priority).
    for id in ["w10", "w9", "W1", "w1", "a"] {
        let mut x = w.clone();
        x.id = id.into();
        x.household_id = format!("h-{id}");
        index.upsert_worker(&x);
    }
    let got = index
        .rank_workers(
            &o.id,
            &WorkersQuery {
                top_k: 10,
                ..Default::default()
            },
            &ctx(),
        )
        .unwrap();
    let order: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(order, vec!["W1", "a", "w1", "w10", "w9"]);
    assert!(got.windows(2).all(|p| p[0].score_micro == p[1].score_micro));
}
