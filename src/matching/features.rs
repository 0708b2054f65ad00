//! Compact, copy-friendly features of workers and openings: what the hot
//! loops read, packed so that a million workers fit in well under 300 bytes
//! each. Strings are interned to dense integers.

use hashbrown::HashMap;

use crate::domain::{
    EmploymentStatus, Gender, LabourCapacity, Mobility, Opening, OpeningStatus, PhysicalDemand,
    Source, Worker,
};

/// Skill entry: interned code in the high bits, level (1-5) in the low 8.
pub(crate) type SkillEntry = u32;

pub(crate) fn skill_entry(code: u16, level: u32) -> SkillEntry {
    (u32::from(code) << 8) | level.min(255)
}

pub(crate) fn skill_code(e: SkillEntry) -> u16 {
    (e >> 8) as u16
}

pub(crate) fn skill_level(e: SkillEntry) -> u32 {
    e & 0xff
}

/// Bit of a source in a source mask.
pub(crate) fn source_bit(s: Source) -> u8 {
    1 << (s.code() - 1)
}

/// A worker as the matcher sees it.
#[derive(Debug, Clone)]
pub(crate) struct WorkerFeat {
    pub lat: f32,
    pub lon: f32,
    pub household: u32,
    pub site: u32,
    /// Numeric county code.
    pub county: u32,
    pub expected_wage: u32,
    pub birth_year: u16,
    pub max_commute_km: u16,
    pub status: EmploymentStatus,
    pub capacity: LabourCapacity,
    pub mobility: Mobility,
    /// Preferred sources as a bit mask (bit `code - 1`).
    pub preferred_sources: u8,
    pub strict_sources: bool,
    pub needs_flexible_hours: bool,
    /// For the older-worker group of public-welfare posts.
    pub gender: Option<Gender>,
    /// The first day (days since 1970-01-01) on which the worker has used
    /// up the subsidised tenure on public-welfare posts; `i32::MAX` while
    /// it cannot run out (`PolicyConfig::welfare_tenure_used_from`).
    pub welfare_used_from: i32,
    /// Effective skills (the higher of skill and certificate per code),
    /// sorted by code.
    pub skills: Box<[SkillEntry]>,
    /// Since when the worker has waited, Unix seconds: registration, or
    /// the return from a job that ended (the caseload's order).
    pub waiting_since_s: i64,
}

/// An opening as the matcher sees it.
#[derive(Debug, Clone)]
pub(crate) struct OpeningFeat {
    pub lat: f32,
    pub lon: f32,
    /// Numeric region code.
    pub region: u32,
    pub wage: u32,
    pub headcount: u32,
    pub filled: u32,
    /// Last working day (days from CE); `i32::MAX` when open-ended.
    pub end_day: i32,
    pub min_age: u8,
    pub max_age: u8,
    pub source: Source,
    pub status: OpeningStatus,
    pub demand: PhysicalDemand,
    pub flexible_hours: bool,
    pub housing: bool,
    pub transport: bool,
    pub reserved: bool,
    /// Required skills with minimum levels, sorted by code.
    pub required: Box<[SkillEntry]>,
    /// Preferred skills with minimum levels, sorted by code.
    pub preferred: Box<[SkillEntry]>,
}

impl OpeningFeat {
    /// Slots not yet taken.
    pub fn free_slots(&self) -> u32 {
        self.headcount.saturating_sub(self.filled)
    }
}

/// Dense ids for strings (skill codes, sites, households).
#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// The number of `name`, if interned.
    pub fn find(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.names
            .iter()
            .map(|n| 2 * (n.len() + 16) + 16)
            .sum::<usize>()
            + self.ids.capacity() * 8
    }
}

/// Numeric value of a six-digit region code (validated upstream).
pub fn region_number(code: &str) -> u32 {
    code.parse().unwrap_or(0)
}

/// Sorted, merged skill entries: for each code the higher level of skill
/// and certificate, since a certificate counts as the skill.
pub(crate) fn worker_skills(w: &Worker, skills: &mut Interner) -> Box<[SkillEntry]> {
    let mut best: Vec<(u16, u32)> = Vec::with_capacity(w.skills.len() + w.certificates.len());
    for s in w.skills.iter().chain(&w.certificates) {
        let code = skills.intern(&s.code) as u16;
        match best.iter_mut().find(|(c, _)| *c == code) {
            Some((_, level)) => *level = (*level).max(s.level),
            None => best.push((code, s.level)),
        }
    }
    best.sort_unstable();
    best.into_iter().map(|(c, l)| skill_entry(c, l)).collect()
}

pub(crate) fn requirement_entries(
    reqs: &[crate::domain::SkillRequirement],
    skills: &mut Interner,
) -> Box<[SkillEntry]> {
    let mut v: Vec<SkillEntry> = reqs
        .iter()
        .map(|r| skill_entry(skills.intern(&r.code) as u16, r.min_level))
        .collect();
    v.sort_unstable();
    v.into_boxed_slice()
}

/// The features of a worker; `household` and `site` are interned by the
/// caller, `welfare_used_from` worked out by it from the worker's
/// public-welfare stints.
pub(crate) fn worker_feat(
    w: &Worker,
    household: u32,
    site: u32,
    welfare_used_from: i32,
    skills: &mut Interner,
) -> WorkerFeat {
    WorkerFeat {
        lat: w.site_location.lat as f32,
        lon: w.site_location.lon as f32,
        household,
        site,
        county: region_number(&w.county_code),
        expected_wage: w.preferences.expected_monthly_wage,
        birth_year: w.birth_year.min(u32::from(u16::MAX)) as u16,
        max_commute_km: w.preferences.max_commute_km.min(u32::from(u16::MAX)) as u16,
        status: w.employment_status,
        capacity: w.labour_capacity,
        mobility: w.preferences.mobility,
        preferred_sources: w
            .preferences
            .preferred_sources
            .iter()
            .fold(0, |m, s| m | source_bit(*s)),
        strict_sources: w.preferences.strict_sources,
        needs_flexible_hours: w.preferences.needs_flexible_hours,
        gender: w.gender,
        welfare_used_from,
        skills: worker_skills(w, skills),
        waiting_since_s: w
            .placement
            .returned_at_ms
            .unwrap_or(w.created_at_ms)
            .max(w.created_at_ms)
            / 1000,
    }
}

/// The features of an opening. `filled` is the number of slots taken.
pub(crate) fn opening_feat(o: &Opening, filled: u32, skills: &mut Interner) -> OpeningFeat {
    use chrono::Datelike as _;
    OpeningFeat {
        lat: o.location.lat as f32,
        lon: o.location.lon as f32,
        region: region_number(&o.region_code),
        wage: o.monthly_wage,
        headcount: o.headcount,
        filled,
        end_day: o.end_date.map_or(i32::MAX, |d| d.num_days_from_ce()),
        min_age: o.min_age.min(255) as u8,
        max_age: o.max_age.min(255) as u8,
        source: o.source,
        status: o.status,
        demand: o.physical_demand,
        flexible_hours: o.flexible_hours,
        housing: o.housing_provided,
        transport: o.transport_provided,
        reserved: o.reserved_for_relocated,
        required: requirement_entries(&o.required_skills, skills),
        preferred: requirement_entries(&o.preferred_skills, skills),
    }
}

/// The worker's level in skill `code`, 0 if they lack it.
pub(crate) fn level_of(skills: &[SkillEntry], code: u16) -> u32 {
    match skills.binary_search_by_key(&code, |e| skill_code(*e)) {
        Ok(i) => skill_level(skills[i]),
        Err(_) => 0,
    }
}

/// Great-circle distance in km (haversine, mean earth radius). Computed from
/// the stored f32 coordinates so every path gets the same number.
pub(crate) fn distance_km(lat1: f32, lon1: f32, lat2: f32, lon2: f32) -> f64 {
    const R: f64 = 6371.0088;
    let (p1, p2) = (f64::from(lat1).to_radians(), f64::from(lat2).to_radians());
    let dp = p2 - p1;
    let dl = (f64::from(lon2) - f64::from(lon1)).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().min(1.0).asin()
}
