//! The demo data set: a deterministic, Huaihua-shaped population of
//! relocated workers and the openings of every source, sized by the city's
//! published figures (see `shared/domain.md`) and scalable for benchmarks.
//!
//! Every record goes through the same domain validation as an API write.

use std::collections::HashSet;

use chrono::NaiveDate;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::{
    rules::national_id_check_char, Education, EmploymentStatus, Gender, GeoPoint, IdKey,
    LabourCapacity, Mobility, Opening, OpeningStatus, PhysicalDemand, Preferences, Skill,
    SkillRequirement, Source, ValidationError, Worker,
};
use crate::store::{Store, StoreError};

/// Huaihua's 13 counties and districts: code, name, centre.
pub const COUNTIES: [(&str, &str, f64, f64); 13] = [
    ("431202", "Hecheng", 27.55, 109.98),
    ("431221", "Zhongfang", 27.44, 109.94),
    ("431222", "Yuanling", 28.45, 110.39),
    ("431223", "Chenxi", 28.00, 110.18),
    ("431224", "Xupu", 27.91, 110.59),
    ("431225", "Huitong", 26.89, 109.72),
    ("431226", "Mayang", 27.86, 109.80),
    ("431227", "Xinhuang", 27.36, 109.17),
    ("431228", "Zhijiang", 27.44, 109.68),
    ("431229", "Jingzhou", 26.58, 109.70),
    ("431230", "Tongdao", 26.16, 109.78),
    ("431281", "Hongjiang City", 27.21, 109.84),
    ("431271", "Hongjiang District", 27.11, 110.00),
];

/// Labour-cooperation destinations: code, name, location.
pub(crate) const DESTINATIONS: [(&str, &str, f64, f64); 8] = [
    ("440300", "Shenzhen", 22.54, 114.06),
    ("441900", "Dongguan", 23.02, 113.75),
    ("330200", "Ningbo", 29.87, 121.55),
    ("430100", "Changsha", 28.23, 112.94),
    ("440100", "Guangzhou", 23.13, 113.26),
    ("440600", "Foshan", 23.02, 113.12),
    ("320500", "Suzhou", 31.30, 120.58),
    ("350200", "Xiamen", 24.48, 118.09),
];

/// Base figures at scale 1 (Huaihua, 2023 report).
const SITES: f64 = 330.0;
const HOUSEHOLDS: f64 = 25_797.0;
const WORKERS: f64 = 49_874.0;
const WORKSHOPS: f64 = 223.0;
const WELFARE_POSTS: f64 = 1_887.0;
const LABOUR_COOPERATION: f64 = 120.0;
const WORK_RELIEF: f64 = 86.0;
const PARK_OPENINGS: f64 = 288.0;
const ENTERPRISES: f64 = 691.0;
/// Share of households where nobody works (zero-employment).
const ZERO_EMPLOYMENT_SHARE: f64 = 0.10;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "向", "舒", "滕", "粟", "蒲",
    "龙", "石", "姚", "谭", "田", "彭", "瞿", "米",
];
const GIVEN: &[&str] = &[
    "小明", "秀英", "建国", "桂兰", "志强", "春梅", "德华", "玉兰", "海军", "丽娟", "永福", "金花",
    "世军", "翠平", "光辉", "红霞", "长青", "美玲", "勇", "芳", "杰", "燕", "斌", "霞",
];
const SKILLS: &[&str] = &[
    "sewing",
    "housekeeping",
    "elderly_care",
    "electronics_assembly",
    "cooking",
    "driving_c1",
    "masonry",
    "carpentry",
    "electrics",
    "greenhouse_farming",
    "fruit_farming",
    "tea_processing",
    "forestry",
    "ecommerce",
    "livestream_selling",
    "security_guard",
    "handicraft",
    "food_processing",
];

/// A generated data set.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// Workers, valid.
    pub workers: Vec<Worker>,
    /// Openings, valid.
    pub openings: Vec<Opening>,
}

struct Site {
    id: String,
    county: usize,
    at: GeoPoint,
}

/// Generates the data set for `scale` (1.0 = Huaihua) and `seed`. The same
/// inputs give the same data. `year` fixes ages; `today` start dates.
pub fn generate(scale: f64, seed: u64, year: i32, today: NaiveDate) -> DemoData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = |base: f64| ((base * scale).round() as usize).max(1);
    let sites: Vec<Site> = (0..n(SITES))
        .map(|i| {
            let county = i % COUNTIES.len();
            let (code, _, lat, lon) = COUNTIES[county];
            Site {
                id: format!("site-{code}-{:03}", i / COUNTIES.len() + 1),
                county,
                at: jitter(&mut rng, lat, lon, 0.25),
            }
        })
        .collect();
    let workers = workers(&mut rng, &sites, n(HOUSEHOLDS), n(WORKERS), year);
    let mut openings = Vec::new();
    openings_near_sites(
        &mut rng,
        &sites,
        &mut openings,
        n(WORKSHOPS),
        n(WELFARE_POSTS),
        today,
    );
    openings_elsewhere(
        &mut rng,
        &sites,
        &mut openings,
        [
            n(LABOUR_COOPERATION),
            n(WORK_RELIEF),
            n(PARK_OPENINGS),
            n(ENTERPRISES),
        ],
        today,
    );
    DemoData { workers, openings }
}

fn jitter(rng: &mut ChaCha8Rng, lat: f64, lon: f64, spread: f64) -> GeoPoint {
    let r = |rng: &mut ChaCha8Rng| (rng.random::<f64>() - 0.5) * 2.0 * spread;
    // Six decimals (about 0.1 m): what a GPS reading gives.
    let round = |x: f64| (x * 1e6).round() / 1e6;
    GeoPoint {
        lat: round(lat + r(rng)),
        lon: round(lon + r(rng)),
    }
}

fn workers(
    rng: &mut ChaCha8Rng,
    sites: &[Site],
    households: usize,
    total: usize,
    year: i32,
) -> Vec<Worker> {
    let mut out = Vec::with_capacity(total);
    let mut national_ids = HashSet::with_capacity(total);
    // Every household gets one labourer, the rest are spread at random.
    let mut members = vec![1usize; households];
    for _ in households..total.max(households) {
        members[rng.random_range(0..households)] += 1;
    }
    for (h, &count) in members.iter().enumerate() {
        let site = &sites[rng.random_range(0..sites.len())];
        let household_id = format!("hh-{:07}", h + 1);
        let zero = rng.random_bool(ZERO_EMPLOYMENT_SHARE);
        let surname = *SURNAMES.choose(rng).expect("non-empty");
        for m in 0..count {
            let id = format!("w-{:07}", out.len() + 1);
            let status = if zero {
                if rng.random_bool(0.92) {
                    EmploymentStatus::Seeking
                } else {
                    EmploymentStatus::Unavailable
                }
            } else if m == 0 || rng.random_bool(0.55) {
                EmploymentStatus::Employed
            } else if rng.random_bool(0.9) {
                EmploymentStatus::Seeking
            } else {
                EmploymentStatus::Unavailable
            };
            let mut w = worker(
                rng,
                &mut national_ids,
                id,
                household_id.clone(),
                surname,
                site,
                status,
                year,
            );
            // Numbered across the demo, stored as its county's (see
            // `domain::scoped`).
            w.scope_ids();
            out.push(w);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn worker(
    rng: &mut ChaCha8Rng,
    national_ids: &mut HashSet<String>,
    id: String,
    household_id: String,
    surname: &str,
    site: &Site,
    status: EmploymentStatus,
    year: i32,
) -> Worker {
    let age = rng.random_range(18..=62);
    let birth_year = (year - age) as u32;
    let gender = if rng.random_bool(0.5) {
        Gender::Female
    } else {
        Gender::Male
    };
    let county = COUNTIES[site.county].0;
    let national_id = loop {
        let month = rng.random_range(1..=12);
        let day = rng.random_range(1..=28);
        let seq = rng.random_range(0..500) * 2 + u32::from(gender == Gender::Male);
        let first17 = format!("{county}{birth_year:04}{month:02}{day:02}{seq:03}");
        let nid = format!("{first17}{}", national_id_check_char(first17.as_bytes()));
        if national_ids.insert(nid.clone()) {
            break nid;
        }
    };
    let partial = rng.random_bool(if age > 50 { 0.30 } else { 0.06 });
    let mut skill_codes: Vec<&str> = SKILLS.to_vec();
    skill_codes.shuffle(rng);
    let skills = skill_codes[..rng.random_range(0..=3)]
        .iter()
        .map(|c| Skill {
            code: (*c).to_string(),
            level: rng.random_range(1..=4),
        })
        .collect();
    let certificates = if rng.random_bool(0.2) {
        vec![Skill {
            code: skill_codes[3].to_string(),
            level: rng.random_range(1..=3),
        }]
    } else {
        Vec::new()
    };
    let migrate = age < 45 && !partial && rng.random_bool(0.55);
    let preferred_sources: Vec<Source> = if rng.random_bool(0.3) {
        let mut s = Source::ALL.to_vec();
        s.shuffle(rng);
        s.truncate(rng.random_range(1..=2));
        s
    } else {
        Vec::new()
    };
    let strict_sources = !preferred_sources.is_empty() && rng.random_bool(0.15);
    Worker {
        id,
        household_id,
        name: format!("{surname}{}", GIVEN.choose(rng).expect("non-empty")),
        national_id,
        gender: Some(gender),
        birth_year,
        phone: rng.random_bool(0.88).then(|| {
            format!(
                "1{}{:09}",
                rng.random_range(3..=9),
                rng.random_range(0..1_000_000_000u32)
            )
        }),
        county_code: county.to_string(),
        site_id: site.id.clone(),
        site_location: site.at,
        labour_capacity: if partial {
            LabourCapacity::Partial
        } else {
            LabourCapacity::Full
        },
        skills,
        certificates,
        education: Some(*Education::ALL[1..5].choose(rng).expect("non-empty")),
        preferences: Preferences {
            mobility: if migrate {
                Mobility::WillingToMigrate
            } else {
                Mobility::NearHome
            },
            max_commute_km: *[5, 10, 15, 20, 30, 50].choose(rng).expect("non-empty"),
            expected_monthly_wage: if partial {
                rng.random_range(8..=25) * 100
            } else {
                rng.random_range(20..=55) * 100
            },
            preferred_sources,
            strict_sources,
            needs_flexible_hours: gender == Gender::Female && rng.random_bool(0.3),
        },
        employment_status: status,
        service_company_id: Some(format!("esc-{county}")),
        consent_to_share: rng.random_bool(0.4),
        placement: Default::default(),
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

/// Fields every generated opening shares; the caller sets the rest.
fn base_opening(
    id: String,
    source: Source,
    region: &str,
    at: GeoPoint,
    today: NaiveDate,
) -> Opening {
    Opening {
        id,
        source,
        employer_id: String::new(),
        employer_name: String::new(),
        title: String::new(),
        occupation_code: None,
        region_code: region.to_string(),
        location: at,
        required_skills: Vec::new(),
        preferred_skills: Vec::new(),
        min_age: 18,
        max_age: 60,
        physical_demand: PhysicalDemand::Normal,
        monthly_wage: 3000,
        headcount: 1,
        flexible_hours: false,
        housing_provided: false,
        transport_provided: false,
        reserved_for_relocated: false,
        start_date: today,
        end_date: None,
        status: OpeningStatus::Open,
        filled: 0,
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

fn req(code: &str, min_level: u32) -> SkillRequirement {
    SkillRequirement {
        code: code.to_string(),
        min_level,
    }
}

fn openings_near_sites(
    rng: &mut ChaCha8Rng,
    sites: &[Site],
    out: &mut Vec<Opening>,
    workshops: usize,
    posts: usize,
    today: NaiveDate,
) {
    const WORKSHOP_JOBS: [(&str, &str); 5] = [
        ("Sewing machinist", "sewing"),
        ("Shoe and bag maker", "handicraft"),
        ("Electronics assembler", "electronics_assembly"),
        ("Handicraft weaver", "handicraft"),
        ("Food processing worker", "food_processing"),
    ];
    for i in 0..workshops {
        let site = &sites[i % sites.len()];
        let county = COUNTIES[site.county].0;
        // Each workshop posts two openings: a skilled line and a helper line.
        for line in 0..2 {
            let (title, skill) = *WORKSHOP_JOBS.choose(rng).expect("non-empty");
            let mut o = base_opening(
                format!("ws-{:04}-{}", i + 1, line + 1),
                Source::AidWorkshop,
                county,
                jitter(rng, site.at.lat, site.at.lon, 0.01),
                today,
            );
            o.employer_id = format!("workshop-{:04}", i + 1);
            o.employer_name = format!("{} aid workshop {}", COUNTIES[site.county].1, i + 1);
            o.title = title.to_string();
            if line == 0 {
                o.required_skills = vec![req(skill, rng.random_range(1..=2))];
            } else {
                o.preferred_skills = vec![req(skill, 1)];
            }
            o.physical_demand = PhysicalDemand::Light;
            o.monthly_wage = rng.random_range(20..=35) * 100;
            o.headcount = rng.random_range(10..=40);
            o.flexible_hours = rng.random_bool(0.7);
            o.reserved_for_relocated = true;
            o.max_age = 65;
            out.push(o);
        }
    }
    const POSTS: [&str; 5] = [
        "Site cleaner",
        "Road and facility upkeep",
        "Forest ranger",
        "River ranger",
        "Site security",
    ];
    for i in 0..posts {
        let site = &sites[rng.random_range(0..sites.len())];
        let county = COUNTIES[site.county].0;
        let mut o = base_opening(
            format!("pw-{:05}", i + 1),
            Source::PublicWelfare,
            county,
            jitter(rng, site.at.lat, site.at.lon, 0.03),
            today,
        );
        o.employer_id = format!("gov-{county}");
        o.employer_name = format!("{} County public-welfare posts", COUNTIES[site.county].1);
        o.title = (*POSTS.choose(rng).expect("non-empty")).to_string();
        o.physical_demand = PhysicalDemand::Light;
        o.monthly_wage = rng.random_range(5..=15) * 100;
        o.reserved_for_relocated = true;
        o.flexible_hours = true;
        o.max_age = 70;
        o.end_date = Some(today + chrono::Duration::days(365));
        out.push(o);
    }
}

fn openings_elsewhere(
    rng: &mut ChaCha8Rng,
    sites: &[Site],
    out: &mut Vec<Opening>,
    counts: [usize; 4],
    today: NaiveDate,
) {
    let [cooperation, relief, parks, enterprises] = counts;
    const FACTORY: [(&str, Option<&str>); 5] = [
        ("Factory line worker", None),
        ("Electronics assembler", Some("electronics_assembly")),
        ("Construction worker", Some("masonry")),
        ("Logistics warehouse worker", None),
        ("Housekeeper", Some("housekeeping")),
    ];
    for i in 0..cooperation {
        let (code, city, lat, lon) = DESTINATIONS[i % DESTINATIONS.len()];
        let (title, skill) = *FACTORY.choose(rng).expect("non-empty");
        let mut o = base_opening(
            format!("lc-{:04}", i + 1),
            Source::LabourCooperation,
            code,
            jitter(rng, lat, lon, 0.2),
            today,
        );
        o.employer_id = format!("labour-co-{:03}", i % 40 + 1);
        o.employer_name = format!("{city} labour cooperation partner {}", i % 40 + 1);
        o.title = title.to_string();
        if let Some(skill) = skill {
            o.preferred_skills = vec![req(skill, 1)];
        }
        o.physical_demand = if rng.random_bool(0.3) {
            PhysicalDemand::Heavy
        } else {
            PhysicalDemand::Normal
        };
        o.monthly_wage = rng.random_range(40..=65) * 100;
        o.headcount = rng.random_range(50..=250);
        o.housing_provided = rng.random_bool(0.8);
        o.transport_provided = rng.random_bool(0.7);
        o.max_age = 50;
        out.push(o);
    }
    for i in 0..relief {
        let site = &sites[rng.random_range(0..sites.len())];
        let county = COUNTIES[site.county].0;
        let mut o = base_opening(
            format!("wr-{:04}", i + 1),
            Source::WorkRelief,
            county,
            jitter(rng, site.at.lat, site.at.lon, 0.08),
            today,
        );
        o.employer_id = format!("relief-{:03}", i / 2 + 1);
        o.employer_name = format!(
            "{} work-relief project {}",
            COUNTIES[site.county].1,
            i / 2 + 1
        );
        o.title = if i % 2 == 0 {
            "Road builder"
        } else {
            "Irrigation works labourer"
        }
        .to_string();
        if i % 4 == 0 {
            o.required_skills = vec![req("masonry", 1)];
        }
        o.physical_demand = PhysicalDemand::Heavy;
        o.monthly_wage = rng.random_range(25..=40) * 100;
        o.headcount = rng.random_range(10..=70);
        o.end_date = Some(today + chrono::Duration::days(rng.random_range(90..=240)));
        out.push(o);
    }
    const PARK_JOBS: [(&str, &str); 4] = [
        ("Tea processing worker", "tea_processing"),
        ("Fruit sorting and packing", "fruit_farming"),
        ("Greenhouse strawberry grower", "greenhouse_farming"),
        ("Warehouse worker", "driving_c1"),
    ];
    for i in 0..parks {
        let site = &sites[rng.random_range(0..sites.len())];
        let county = COUNTIES[site.county].0;
        let (title, skill) = *PARK_JOBS.choose(rng).expect("non-empty");
        let mut o = base_opening(
            format!("ip-{:04}", i + 1),
            Source::IndustrialPark,
            county,
            jitter(rng, site.at.lat, site.at.lon, 0.1),
            today,
        );
        o.employer_id = format!("park-{:03}", i / 10 + 1);
        o.employer_name = format!(
            "{} follow-up industrial park {}",
            COUNTIES[site.county].1,
            i / 10 + 1
        );
        o.title = title.to_string();
        o.preferred_skills = vec![req(skill, rng.random_range(1..=3))];
        o.monthly_wage = rng.random_range(25..=45) * 100;
        o.headcount = rng.random_range(5..=45);
        o.transport_provided = rng.random_bool(0.4);
        out.push(o);
    }
    const FARM_JOBS: [(&str, &str); 4] = [
        ("Tea garden worker", "tea_processing"),
        ("Orchard worker", "fruit_farming"),
        ("Greenhouse worker", "greenhouse_farming"),
        ("Cooperative e-commerce seller", "ecommerce"),
    ];
    for i in 0..enterprises {
        let site = &sites[rng.random_range(0..sites.len())];
        let county = COUNTIES[site.county].0;
        for line in 0..2 {
            let (title, skill) = *FARM_JOBS.choose(rng).expect("non-empty");
            let mut o = base_opening(
                format!("ent-{:04}-{}", i + 1, line + 1),
                Source::Enterprise,
                county,
                jitter(rng, site.at.lat, site.at.lon, 0.15),
                today,
            );
            o.employer_id = format!("coop-{:04}", i + 1);
            o.employer_name = format!("{} cooperative {}", COUNTIES[site.county].1, i + 1);
            o.title = title.to_string();
            if skill == "ecommerce" {
                o.required_skills = vec![req(skill, 2)];
            } else {
                o.preferred_skills = vec![req(skill, 1)];
            }
            o.physical_demand = if rng.random_bool(0.5) {
                PhysicalDemand::Light
            } else {
                PhysicalDemand::Normal
            };
            o.monthly_wage = rng.random_range(20..=40) * 100;
            o.headcount = rng.random_range(3..=15);
            o.flexible_hours = rng.random_bool(0.4);
            o.max_age = 65;
            if rng.random_bool(0.05) {
                o.status = OpeningStatus::Closed;
            }
            out.push(o);
        }
    }
}

/// What [`load`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSummary {
    /// Workers stored.
    pub workers: usize,
    /// Openings stored.
    pub openings: usize,
}

/// Why a load failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A generated record broke a rule: a bug in the generator.
    #[error("generated record is invalid: {0}")]
    Invalid(#[from] ValidationError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates and writes `data` into `store` in batches, then flushes. Like
/// the API, it binds `key` to the store ([`Store::bind_id_key`]) and stores
/// national ids only as their keyed hashes.
pub fn load(
    store: &Store,
    key: &IdKey,
    data: &DemoData,
    year: i32,
) -> Result<LoadSummary, LoadError> {
    for w in &data.workers {
        w.validate(year)?;
    }
    for o in &data.openings {
        o.validate()?;
    }
    store.bind_id_key(key)?;
    for chunk in data.workers.chunks(1000) {
        let hashed: Vec<Worker> = chunk
            .iter()
            .map(|w| Worker {
                national_id: key.hash(&w.national_id),
                ..w.clone()
            })
            .collect();
        for result in store.put_workers(&hashed)? {
            result?;
        }
    }
    for chunk in data.openings.chunks(1000) {
        for result in store.put_openings(chunk)? {
            result?;
        }
    }
    store.flush_blocking()?;
    Ok(LoadSummary {
        workers: data.workers.len(),
        openings: data.openings.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Household;
    use std::collections::HashMap;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a = generate(0.02, 7, 2026, today());
        let b = generate(0.02, 7, 2026, today());
        assert_eq!(a.workers, b.workers);
        assert_eq!(a.openings, b.openings);
        let c = generate(0.02, 8, 2026, today());
        assert_ne!(a.workers, c.workers);
    }

    #[test]
    fn huaihua_shape_at_scale_one() {
        let d = generate(1.0, 1, 2026, today());
        assert_eq!(d.workers.len(), 49_874);
        for w in &d.workers {
            w.validate(2026).unwrap();
        }
        for o in &d.openings {
            o.validate().unwrap();
        }
        let mut households: HashMap<&str, Household> = HashMap::new();
        for w in &d.workers {
            let h = households
                .entry(&w.household_id)
                .or_insert_with(|| Household {
                    id: w.household_id.clone(),
                    worker_ids: vec![],
                    employed: 0,
                    seeking: 0,
                    placed: 0,
                });
            match w.employment_status {
                EmploymentStatus::Employed => h.employed += 1,
                EmploymentStatus::Seeking => h.seeking += 1,
                EmploymentStatus::Placed => h.placed += 1,
                EmploymentStatus::Unavailable => {}
            }
        }
        assert_eq!(households.len(), 25_797);
        let zero = households.values().filter(|h| h.zero_employment()).count();
        assert!(
            (1500..4000).contains(&zero),
            "zero-employment households: {zero}"
        );
        let counties: HashSet<&str> = d.workers.iter().map(|w| w.county_code.as_str()).collect();
        assert_eq!(counties.len(), 13);
        let sites: HashSet<&str> = d.workers.iter().map(|w| w.site_id.as_str()).collect();
        assert_eq!(sites.len(), 330);
        let count = |s: Source| d.openings.iter().filter(|o| o.source == s).count();
        assert_eq!(count(Source::PublicWelfare), 1_887);
        assert_eq!(count(Source::AidWorkshop), 446);
        let slots: u64 = d.openings.iter().map(|o| u64::from(o.headcount)).sum();
        assert!((40_000..70_000).contains(&slots), "slots: {slots}");
    }
}
