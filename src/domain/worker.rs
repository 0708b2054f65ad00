//! A relocated worker and the rules every stored worker satisfies.

use super::error::{Reason, Validated, ValidationError};
use super::kinds::{Education, EmploymentStatus, Gender, LabourCapacity, Mobility, Source};
use super::rules::{self, MAX_MONTHLY_WAGE, MAX_WORKER_SKILLS};
use super::scoped;
use super::{GeoPoint, Skill};

/// Pushes onto `names` the API name (`prefix` and the field's name) of
/// each listed field that differs between `a` and `b`, in list order. A
/// field's API name is its Rust name, so the two cannot drift apart.
macro_rules! push_changed {
    ($names:ident, $a:expr, $b:expr, $prefix:literal, [$($field:ident),+ $(,)?]) => {
        $(
            if $a.$field != $b.$field {
                $names.push(concat!($prefix, stringify!($field)));
            }
        )+
    };
}
pub(super) use push_changed;

/// Youngest working age.
pub const MIN_WORKING_AGE: i32 = 16;
/// Oldest age registered as labour (older people are not "labour" here).
pub const MAX_WORKING_AGE: i32 = 75;

/// What a worker wants from a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    /// Near-home only or willing to migrate.
    pub mobility: Mobility,
    /// Longest commute from the site, great-circle km.
    pub max_commute_km: u32,
    /// Expected monthly wage in CNY; 0 for none.
    pub expected_monthly_wage: u32,
    /// Preferred sources, unique.
    pub preferred_sources: Vec<Source>,
    /// Only preferred sources are acceptable.
    pub strict_sources: bool,
    /// Needs flexible hours (carer).
    pub needs_flexible_hours: bool,
}

/// A worker's placement state, owned by the server: a client's upsert never
/// changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlacementLink {
    /// The worker's active (proposed, accepted or hired) placement.
    pub active_id: Option<String>,
    /// Its state; `Unspecified` when there is none.
    pub active_status: super::placement::PlacementStatus,
    /// Proposals the worker has received (recommendations).
    pub recommendations: u32,
    /// When the worker last left a job through a separation, Unix ms, if no
    /// proposal has followed yet: flagged for re-matching.
    pub returned_at_ms: Option<i64>,
}

/// A relocated person of working age who wants work.
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    /// Caller-assigned id.
    pub id: String,
    /// Household id.
    pub household_id: String,
    /// Full name.
    pub name: String,
    /// 18-character resident identity number as a client sent it, or, once
    /// the API has taken it, its keyed hash ([`super::identity`]): the only
    /// form the store keeps and nothing ever returns.
    pub national_id: String,
    /// Gender, if given.
    pub gender: Option<Gender>,
    /// Year of birth.
    pub birth_year: u32,
    /// Mobile number, if any.
    pub phone: Option<String>,
    /// County-level region code of the site.
    pub county_code: String,
    /// Resettlement site id.
    pub site_id: String,
    /// Site location.
    pub site_location: GeoPoint,
    /// Full or partial labour capacity.
    pub labour_capacity: LabourCapacity,
    /// Skills, unique codes.
    pub skills: Vec<Skill>,
    /// Training certificates, unique codes.
    pub certificates: Vec<Skill>,
    /// Education, if given.
    pub education: Option<Education>,
    /// Job preferences.
    pub preferences: Preferences,
    /// Employment status.
    pub employment_status: EmploymentStatus,
    /// Registering employment-service company, if given.
    pub service_company_id: Option<String>,
    /// Agreed to share contact details with recruiters.
    pub consent_to_share: bool,
    /// What placements did to this worker; set by the server only.
    pub placement: PlacementLink,
    /// Creation time, Unix milliseconds; set by the store.
    pub created_at_ms: i64,
    /// Last write time, Unix milliseconds; set by the store.
    pub updated_at_ms: i64,
}

impl Worker {
    /// Checks every rule; the error names the first bad field as
    /// `worker.<path>`. `current_year` bounds the age.
    pub fn validate(&self, current_year: i32) -> Validated<()> {
        self.validate_fields(current_year, true)
            .map_err(|e| e.within("worker"))
    }

    /// As [`Worker::validate`], for a partial update that keeps the stored
    /// national id: its keyed hash is no number to check, so every rule but
    /// that one is checked.
    pub fn validate_keeping_national_id(&self, current_year: i32) -> Validated<()> {
        self.validate_fields(current_year, false)
            .map_err(|e| e.within("worker"))
    }

    /// Checks the identifying fields (the first four of the record), so
    /// that a caller converting from another form can report them before
    /// anything else. Paths are relative to the worker.
    pub fn validate_identity(
        id: &str,
        household_id: &str,
        name: &str,
        national_id: &str,
    ) -> Validated<()> {
        field("id", scoped::check_scoped_id(id))?;
        field("household_id", scoped::check_scoped_id(household_id))?;
        field("name", rules::check_text(name, 64))?;
        field("national_id", rules::check_national_id(national_id))
    }

    fn validate_fields(&self, current_year: i32, national_id: bool) -> Validated<()> {
        if national_id {
            Self::validate_identity(&self.id, &self.household_id, &self.name, &self.national_id)?;
        } else {
            field("id", scoped::check_scoped_id(&self.id))?;
            field("household_id", scoped::check_scoped_id(&self.household_id))?;
            field("name", rules::check_text(&self.name, 64))?;
        }
        let age = current_year - self.birth_year as i32;
        if !(MIN_WORKING_AGE..=MAX_WORKING_AGE).contains(&age) {
            return Err(ValidationError::new(
                "birth_year",
                Reason::new(
                    format!(
                        "{current_year} 年须年满 {MIN_WORKING_AGE} 至 {MAX_WORKING_AGE} 岁，出生年份为 {}",
                        self.birth_year
                    ),
                    format!(
                        "worker must be {MIN_WORKING_AGE} to {MAX_WORKING_AGE} years old in {current_year}, got birth year {}",
                        self.birth_year
                    ),
                ),
            ));
        }
        if let Some(phone) = &self.phone {
            field("phone", rules::check_phone(phone))?;
        }
        field("county_code", rules::check_county_code(&self.county_code))?;
        scoped::check_household_county(&self.household_id, &self.county_code)?;
        field("site_id", rules::check_id(&self.site_id))?;
        self.site_location
            .validate()
            .map_err(|e| e.within("site_location"))?;
        validate_skills("skills", &self.skills)?;
        validate_skills("certificates", &self.certificates)?;
        self.preferences
            .validate()
            .map_err(|e| e.within("preferences"))?;
        if let Some(company) = &self.service_company_id {
            field("service_company_id", rules::check_id(company))?;
        }
        Ok(())
    }

    /// Gives the id and the household id their county (see [`scoped`]):
    /// a bare number is qualified with `county_code`. The household must
    /// be in the worker's county ([`Worker::validate`] checks that).
    pub fn scope_ids(&mut self) {
        self.id = scoped::qualified(&self.id, &self.county_code);
        self.household_id = scoped::qualified(&self.household_id, &self.county_code);
    }

    /// The fields a client writes that differ between this record and
    /// `stored`, by their API names; empty when a write of this record
    /// would change nothing. Both national ids must be in the same form
    /// (the store's keyed hash).
    pub fn changed_fields(&self, stored: &Worker) -> Vec<&'static str> {
        let mut changed = Vec::new();
        push_changed! { changed, self, stored, "", [
            id, household_id, name, national_id, gender, birth_year, phone, county_code, site_id,
            site_location, labour_capacity, skills, certificates, education,
        ] }
        let (p, q) = (&self.preferences, &stored.preferences);
        push_changed! { changed, p, q, "preferences.", [
            mobility, max_commute_km, expected_monthly_wage, preferred_sources, strict_sources,
            needs_flexible_hours,
        ] }
        push_changed! { changed, self, stored, "", [
            employment_status, service_company_id, consent_to_share,
        ] }
        changed
    }

    /// The worker's age in `year`.
    pub fn age_in(&self, year: i32) -> i32 {
        year - self.birth_year as i32
    }
}

impl Preferences {
    fn validate(&self) -> Validated<()> {
        if !(1..=1000).contains(&self.max_commute_km) {
            return Err(ValidationError::new(
                "max_commute_km",
                Reason::new(
                    format!("必须是 1 至 1000 公里，实际为 {}", self.max_commute_km),
                    format!("must be 1 to 1000 km, got {}", self.max_commute_km),
                ),
            ));
        }
        if self.expected_monthly_wage > MAX_MONTHLY_WAGE {
            return Err(ValidationError::new(
                "expected_monthly_wage",
                Reason::new(
                    format!(
                        "每月最多 {MAX_MONTHLY_WAGE} 元，实际为 {}",
                        self.expected_monthly_wage
                    ),
                    format!(
                        "must be at most {MAX_MONTHLY_WAGE} CNY a month, got {}",
                        self.expected_monthly_wage
                    ),
                ),
            ));
        }
        for (i, s) in self.preferred_sources.iter().enumerate() {
            if self.preferred_sources[..i].contains(s) {
                return Err(ValidationError::new(
                    format!("preferred_sources[{i}]"),
                    Reason::new(
                        format!("岗位来源重复：{}", s.text(super::Lang::Zh)),
                        format!("duplicate source {s}"),
                    ),
                ));
            }
        }
        if self.strict_sources && self.preferred_sources.is_empty() {
            return Err(ValidationError::new(
                "strict_sources",
                Reason::new(
                    "至少需要一个意向岗位来源",
                    "needs at least one preferred source",
                ),
            ));
        }
        Ok(())
    }
}

/// Validates a worker's skill or certificate list.
fn validate_skills(name: &str, skills: &[Skill]) -> Validated<()> {
    validate_skill_list(name, skills, MAX_WORKER_SKILLS, |s| {
        (&s.code, "level", s.level)
    })
}

/// Validates a list of skills, a worker's or an opening's: at most `max`
/// entries, every code and level valid, no code twice. `entry` gives an
/// item's code, the name of its level field and the level.
pub(crate) fn validate_skill_list<T>(
    name: &str,
    skills: &[T],
    max: usize,
    entry: impl Fn(&T) -> (&String, &'static str, u32),
) -> Validated<()> {
    if skills.len() > max {
        return Err(ValidationError::new(
            name,
            Reason::new(
                format!("最多 {max} 项，实际 {} 项", skills.len()),
                format!("at most {max} entries, got {}", skills.len()),
            ),
        ));
    }
    for (i, s) in skills.iter().enumerate() {
        let (code, level_field, level) = entry(s);
        let path = format!("{name}[{i}]");
        field(&format!("{path}.code"), rules::check_skill_code(code))?;
        field(&format!("{path}.{level_field}"), rules::check_level(level))?;
        if skills[..i].iter().any(|o| entry(o).0 == code) {
            return Err(ValidationError::new(
                format!("{path}.code"),
                duplicate_code(code),
            ));
        }
    }
    Ok(())
}

/// Attaches a field name to a rule's reason.
pub(crate) fn field(name: &str, result: Result<(), Reason>) -> Validated<()> {
    result.map_err(|reason| ValidationError::new(name, reason))
}

/// A skill code given twice.
pub(crate) fn duplicate_code(code: &str) -> Reason {
    Reason::new(
        format!("代码重复：{code:?}"),
        format!("duplicate code {code:?}"),
    )
}
