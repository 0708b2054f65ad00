//! A job opening and the rules every stored opening satisfies.

use chrono::NaiveDate;

use super::error::{Reason, Validated, ValidationError};
use super::kinds::{OpeningStatus, PhysicalDemand, Source};
use super::rules::{self, MAX_MONTHLY_WAGE, MAX_OPENING_SKILLS};
use super::worker::{field, push_changed, validate_skill_list, MAX_WORKING_AGE, MIN_WORKING_AGE};
use super::{GeoPoint, SkillRequirement};

/// Age range used when an opening gives none (both bounds 0).
pub const DEFAULT_AGE_RANGE: (u32, u32) = (16, 60);
/// Largest headcount of one opening.
pub const MAX_HEADCOUNT: u32 = 100_000;

/// A job opening.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    /// Caller-assigned id.
    pub id: String,
    /// Where the jobs come from.
    pub source: Source,
    /// Employer id.
    pub employer_id: String,
    /// Employer display name.
    pub employer_name: String,
    /// Job title.
    pub title: String,
    /// Occupation code, if given.
    pub occupation_code: Option<String>,
    /// Region code where the work is.
    pub region_code: String,
    /// Workplace location.
    pub location: GeoPoint,
    /// Skills every hire must have.
    pub required_skills: Vec<SkillRequirement>,
    /// Skills that raise the score.
    pub preferred_skills: Vec<SkillRequirement>,
    /// Youngest acceptable age.
    pub min_age: u32,
    /// Oldest acceptable age.
    pub max_age: u32,
    /// Physical demand.
    pub physical_demand: PhysicalDemand,
    /// Monthly wage, CNY.
    pub monthly_wage: u32,
    /// People to hire.
    pub headcount: u32,
    /// Flexible hours offered.
    pub flexible_hours: bool,
    /// Housing provided.
    pub housing_provided: bool,
    /// Transport provided.
    pub transport_provided: bool,
    /// Reserved for relocated workers.
    pub reserved_for_relocated: bool,
    /// First day of work.
    pub start_date: NaiveDate,
    /// Last day of work, for temporary jobs.
    pub end_date: Option<NaiveDate>,
    /// Open or closed.
    pub status: OpeningStatus,
    /// Slots taken by accepted or hired placements; set by the server only.
    pub filled: u32,
    /// Creation time, Unix milliseconds; set by the store.
    pub created_at_ms: i64,
    /// Last write time, Unix milliseconds; set by the store.
    pub updated_at_ms: i64,
}

impl Opening {
    /// The fields a client writes that differ between this opening and
    /// `stored`, by their API names; empty when a write of it would change
    /// nothing.
    pub fn changed_fields(&self, stored: &Opening) -> Vec<&'static str> {
        let mut changed = Vec::new();
        push_changed! { changed, self, stored, "", [
            id, source, employer_id, employer_name, title, occupation_code, region_code, location,
            required_skills, preferred_skills, min_age, max_age, physical_demand, monthly_wage,
            headcount, flexible_hours, housing_provided, transport_provided,
            reserved_for_relocated, start_date, end_date, status,
        ] }
        changed
    }

    /// Checks every rule; the error names the first bad field as
    /// `opening.<path>`.
    pub fn validate(&self) -> Validated<()> {
        self.validate_fields().map_err(|e| e.within("opening"))
    }

    fn validate_fields(&self) -> Validated<()> {
        field("id", rules::check_id(&self.id))?;
        field("employer_id", rules::check_id(&self.employer_id))?;
        field("employer_name", rules::check_text(&self.employer_name, 128))?;
        field("title", rules::check_text(&self.title, 128))?;
        if let Some(code) = &self.occupation_code {
            if code.is_empty()
                || code.len() > 16
                || !code.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            {
                return Err(ValidationError::new(
                    "occupation_code",
                    Reason::new(
                        "必须是 1 至 16 个数字或 '-'",
                        "must be 1 to 16 characters of digits and '-'",
                    ),
                ));
            }
        }
        field("region_code", rules::check_region_code(&self.region_code))?;
        self.location.validate().map_err(|e| e.within("location"))?;
        validate_requirements("required_skills", &self.required_skills)?;
        validate_requirements("preferred_skills", &self.preferred_skills)?;
        let (lo, hi) = (MIN_WORKING_AGE as u32, MAX_WORKING_AGE as u32);
        if !(lo..=hi).contains(&self.min_age) {
            return Err(ValidationError::new(
                "min_age",
                Reason::new(
                    format!("必须是 {lo} 至 {hi}，实际为 {}", self.min_age),
                    format!("must be {lo} to {hi}, got {}", self.min_age),
                ),
            ));
        }
        if !(self.min_age..=hi).contains(&self.max_age) {
            return Err(ValidationError::new(
                "max_age",
                Reason::new(
                    format!(
                        "必须在最小年龄（{}）至 {hi} 之间，实际为 {}",
                        self.min_age, self.max_age
                    ),
                    format!(
                        "must be min_age ({}) to {hi}, got {}",
                        self.min_age, self.max_age
                    ),
                ),
            ));
        }
        if !(1..=MAX_MONTHLY_WAGE).contains(&self.monthly_wage) {
            return Err(ValidationError::new(
                "monthly_wage",
                Reason::new(
                    format!(
                        "每月必须是 1 至 {MAX_MONTHLY_WAGE} 元，实际为 {}",
                        self.monthly_wage
                    ),
                    format!(
                        "must be 1 to {MAX_MONTHLY_WAGE} CNY a month, got {}",
                        self.monthly_wage
                    ),
                ),
            ));
        }
        if !(1..=MAX_HEADCOUNT).contains(&self.headcount) {
            return Err(ValidationError::new(
                "headcount",
                Reason::new(
                    format!("必须是 1 至 {MAX_HEADCOUNT}，实际为 {}", self.headcount),
                    format!("must be 1 to {MAX_HEADCOUNT}, got {}", self.headcount),
                ),
            ));
        }
        if let Some(end) = self.end_date {
            if end < self.start_date {
                return Err(ValidationError::new(
                    "end_date",
                    Reason::new(
                        format!("不能早于开始日期 {}", self.start_date),
                        format!("must not be before start_date {}", self.start_date),
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn validate_requirements(name: &str, skills: &[SkillRequirement]) -> Validated<()> {
    validate_skill_list(name, skills, MAX_OPENING_SKILLS, |s| {
        (&s.code, "min_level", s.min_level)
    })
}
