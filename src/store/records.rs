//! On-disk record formats: prost messages, so that fields can be added
//! later without rewriting stored data (new fields take their defaults).
//!
//! These are deliberately separate from the wire types in `api`: the API may
//! change shape without a data migration, and the store never sees tonic.
//! Enum fields hold the domain's stable one-byte codes.

use chrono::NaiveDate;

use crate::domain::placement::PlacementStatus;
use crate::domain::{
    Education, EmploymentStatus, Gender, GeoPoint, LabourCapacity, Mobility, Opening,
    OpeningStatus, PhysicalDemand, PlacementLink, Preferences, Skill, SkillRequirement, Source,
    Worker,
};

use super::StoreError;

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SkillRecord {
    #[prost(string, tag = "1")]
    pub code: String,
    #[prost(uint32, tag = "2")]
    pub level: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WorkerRecord {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub household_id: String,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub national_id: String,
    #[prost(uint32, tag = "5")]
    pub gender: u32,
    #[prost(uint32, tag = "6")]
    pub birth_year: u32,
    #[prost(string, optional, tag = "7")]
    pub phone: Option<String>,
    #[prost(string, tag = "8")]
    pub county_code: String,
    #[prost(string, tag = "9")]
    pub site_id: String,
    #[prost(double, tag = "10")]
    pub lat: f64,
    #[prost(double, tag = "11")]
    pub lon: f64,
    #[prost(uint32, tag = "12")]
    pub labour_capacity: u32,
    #[prost(message, repeated, tag = "13")]
    pub skills: Vec<SkillRecord>,
    #[prost(message, repeated, tag = "14")]
    pub certificates: Vec<SkillRecord>,
    #[prost(uint32, tag = "15")]
    pub education: u32,
    #[prost(uint32, tag = "16")]
    pub mobility: u32,
    #[prost(uint32, tag = "17")]
    pub max_commute_km: u32,
    #[prost(uint32, tag = "18")]
    pub expected_monthly_wage: u32,
    #[prost(uint32, repeated, tag = "19")]
    pub preferred_sources: Vec<u32>,
    #[prost(bool, tag = "20")]
    pub strict_sources: bool,
    #[prost(bool, tag = "21")]
    pub needs_flexible_hours: bool,
    #[prost(uint32, tag = "22")]
    pub employment_status: u32,
    #[prost(string, optional, tag = "23")]
    pub service_company_id: Option<String>,
    #[prost(bool, tag = "24")]
    pub consent_to_share: bool,
    #[prost(int64, tag = "25")]
    pub created_at_ms: i64,
    #[prost(int64, tag = "26")]
    pub updated_at_ms: i64,
    #[prost(string, optional, tag = "27")]
    pub active_placement_id: Option<String>,
    #[prost(enumeration = "PlacementStatus", tag = "28")]
    pub active_placement_status: i32,
    #[prost(uint32, tag = "29")]
    pub recommendations: u32,
    #[prost(int64, optional, tag = "30")]
    pub returned_at_ms: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct OpeningRecord {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(uint32, tag = "2")]
    pub source: u32,
    #[prost(string, tag = "3")]
    pub employer_id: String,
    #[prost(string, tag = "4")]
    pub employer_name: String,
    #[prost(string, tag = "5")]
    pub title: String,
    #[prost(string, optional, tag = "6")]
    pub occupation_code: Option<String>,
    #[prost(string, tag = "7")]
    pub region_code: String,
    #[prost(double, tag = "8")]
    pub lat: f64,
    #[prost(double, tag = "9")]
    pub lon: f64,
    #[prost(message, repeated, tag = "10")]
    pub required_skills: Vec<SkillRecord>,
    #[prost(message, repeated, tag = "11")]
    pub preferred_skills: Vec<SkillRecord>,
    #[prost(uint32, tag = "12")]
    pub min_age: u32,
    #[prost(uint32, tag = "13")]
    pub max_age: u32,
    #[prost(uint32, tag = "14")]
    pub physical_demand: u32,
    #[prost(uint32, tag = "15")]
    pub monthly_wage: u32,
    #[prost(uint32, tag = "16")]
    pub headcount: u32,
    #[prost(bool, tag = "17")]
    pub flexible_hours: bool,
    #[prost(bool, tag = "18")]
    pub housing_provided: bool,
    #[prost(bool, tag = "19")]
    pub transport_provided: bool,
    #[prost(bool, tag = "20")]
    pub reserved_for_relocated: bool,
    /// Days since 0001-01-01 (chrono's `num_days_from_ce`).
    #[prost(int32, tag = "21")]
    pub start_day: i32,
    #[prost(int32, optional, tag = "22")]
    pub end_day: Option<i32>,
    #[prost(uint32, tag = "23")]
    pub status: u32,
    #[prost(int64, tag = "24")]
    pub created_at_ms: i64,
    #[prost(int64, tag = "25")]
    pub updated_at_ms: i64,
    #[prost(uint32, tag = "26")]
    pub filled: u32,
}

/// Decodes a stored prost record; a record that does not decode is
/// corruption, named by `what`.
pub(super) fn decode<M: prost::Message + Default>(
    bytes: &[u8],
    what: &str,
) -> Result<M, StoreError> {
    M::decode(bytes).map_err(|e| StoreError::corruption(format!("{what} record: {e}")))
}

fn code<T>(value: u32, decode: fn(u32) -> Option<T>, what: &str) -> Result<T, StoreError> {
    decode(value).ok_or_else(|| StoreError::corruption(format!("unknown {what} code {value}")))
}

fn optional_code<T>(
    value: u32,
    decode: fn(u32) -> Option<T>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    if value == 0 {
        Ok(None)
    } else {
        code(value, decode, what).map(Some)
    }
}

fn day(days: i32) -> Result<NaiveDate, StoreError> {
    NaiveDate::from_num_days_from_ce_opt(days)
        .ok_or_else(|| StoreError::corruption(format!("bad day number {days}")))
}

/// A skill, or an opening's required level of one, is stored as a code
/// and a level.
impl SkillRecord {
    fn of(code: &str, level: u32) -> Self {
        SkillRecord {
            code: code.to_string(),
            level,
        }
    }
}

impl From<&Skill> for SkillRecord {
    fn from(s: &Skill) -> Self {
        SkillRecord::of(&s.code, s.level)
    }
}

impl From<&SkillRequirement> for SkillRecord {
    fn from(s: &SkillRequirement) -> Self {
        SkillRecord::of(&s.code, s.min_level)
    }
}

impl From<SkillRecord> for Skill {
    fn from(s: SkillRecord) -> Self {
        Skill {
            code: s.code,
            level: s.level,
        }
    }
}

impl From<SkillRecord> for SkillRequirement {
    fn from(s: SkillRecord) -> Self {
        SkillRequirement {
            code: s.code,
            min_level: s.level,
        }
    }
}

/// Each item of a list converted: skills to their records and back.
fn each<A, B: From<A>>(items: impl IntoIterator<Item = A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

impl From<&Worker> for WorkerRecord {
    fn from(w: &Worker) -> Self {
        WorkerRecord {
            id: w.id.clone(),
            household_id: w.household_id.clone(),
            name: w.name.clone(),
            national_id: w.national_id.clone(),
            gender: w.gender.map_or(0, |g| g.code().into()),
            birth_year: w.birth_year,
            phone: w.phone.clone(),
            county_code: w.county_code.clone(),
            site_id: w.site_id.clone(),
            lat: w.site_location.lat,
            lon: w.site_location.lon,
            labour_capacity: w.labour_capacity.code().into(),
            skills: each(&w.skills),
            certificates: each(&w.certificates),
            education: w.education.map_or(0, |e| e.code().into()),
            mobility: w.preferences.mobility.code().into(),
            max_commute_km: w.preferences.max_commute_km,
            expected_monthly_wage: w.preferences.expected_monthly_wage,
            preferred_sources: w
                .preferences
                .preferred_sources
                .iter()
                .map(|s| s.code().into())
                .collect(),
            strict_sources: w.preferences.strict_sources,
            needs_flexible_hours: w.preferences.needs_flexible_hours,
            employment_status: w.employment_status.code().into(),
            service_company_id: w.service_company_id.clone(),
            consent_to_share: w.consent_to_share,
            created_at_ms: w.created_at_ms,
            updated_at_ms: w.updated_at_ms,
            active_placement_id: w.placement.active_id.clone(),
            active_placement_status: w.placement.active_status as i32,
            recommendations: w.placement.recommendations,
            returned_at_ms: w.placement.returned_at_ms,
        }
    }
}

impl TryFrom<WorkerRecord> for Worker {
    type Error = StoreError;

    fn try_from(r: WorkerRecord) -> Result<Self, StoreError> {
        let active_status = PlacementStatus::try_from(r.active_placement_status).map_err(|_| {
            StoreError::corruption(format!(
                "unknown placement status {}",
                r.active_placement_status
            ))
        })?;
        Ok(Worker {
            placement: PlacementLink {
                active_id: r.active_placement_id,
                active_status,
                recommendations: r.recommendations,
                returned_at_ms: r.returned_at_ms,
            },
            gender: optional_code(r.gender, Gender::from_stored, "gender")?,
            labour_capacity: code(
                r.labour_capacity,
                LabourCapacity::from_stored,
                "labour capacity",
            )?,
            education: optional_code(r.education, Education::from_stored, "education")?,
            preferences: Preferences {
                mobility: code(r.mobility, Mobility::from_stored, "mobility")?,
                max_commute_km: r.max_commute_km,
                expected_monthly_wage: r.expected_monthly_wage,
                preferred_sources: r
                    .preferred_sources
                    .iter()
                    .map(|&c| code(c, Source::from_stored, "source"))
                    .collect::<Result<_, _>>()?,
                strict_sources: r.strict_sources,
                needs_flexible_hours: r.needs_flexible_hours,
            },
            employment_status: code(
                r.employment_status,
                EmploymentStatus::from_stored,
                "employment status",
            )?,
            id: r.id,
            household_id: r.household_id,
            name: r.name,
            national_id: r.national_id,
            birth_year: r.birth_year,
            phone: r.phone,
            county_code: r.county_code,
            site_id: r.site_id,
            site_location: GeoPoint {
                lat: r.lat,
                lon: r.lon,
            },
            skills: each(r.skills),
            certificates: each(r.certificates),
            service_company_id: r.service_company_id,
            consent_to_share: r.consent_to_share,
            created_at_ms: r.created_at_ms,
            updated_at_ms: r.updated_at_ms,
        })
    }
}

impl From<&Opening> for OpeningRecord {
    fn from(o: &Opening) -> Self {
        use chrono::Datelike as _;
        OpeningRecord {
            id: o.id.clone(),
            source: o.source.code().into(),
            employer_id: o.employer_id.clone(),
            employer_name: o.employer_name.clone(),
            title: o.title.clone(),
            occupation_code: o.occupation_code.clone(),
            region_code: o.region_code.clone(),
            lat: o.location.lat,
            lon: o.location.lon,
            required_skills: each(&o.required_skills),
            preferred_skills: each(&o.preferred_skills),
            min_age: o.min_age,
            max_age: o.max_age,
            physical_demand: o.physical_demand.code().into(),
            monthly_wage: o.monthly_wage,
            headcount: o.headcount,
            flexible_hours: o.flexible_hours,
            housing_provided: o.housing_provided,
            transport_provided: o.transport_provided,
            reserved_for_relocated: o.reserved_for_relocated,
            start_day: o.start_date.num_days_from_ce(),
            end_day: o.end_date.map(|d| d.num_days_from_ce()),
            status: o.status.code().into(),
            created_at_ms: o.created_at_ms,
            updated_at_ms: o.updated_at_ms,
            filled: o.filled,
        }
    }
}

impl TryFrom<OpeningRecord> for Opening {
    type Error = StoreError;

    fn try_from(r: OpeningRecord) -> Result<Self, StoreError> {
        Ok(Opening {
            source: code(r.source, Source::from_stored, "source")?,
            physical_demand: code(
                r.physical_demand,
                PhysicalDemand::from_stored,
                "physical demand",
            )?,
            status: code(r.status, OpeningStatus::from_stored, "opening status")?,
            start_date: day(r.start_day)?,
            end_date: r.end_day.map(day).transpose()?,
            id: r.id,
            employer_id: r.employer_id,
            employer_name: r.employer_name,
            title: r.title,
            occupation_code: r.occupation_code,
            region_code: r.region_code,
            location: GeoPoint {
                lat: r.lat,
                lon: r.lon,
            },
            required_skills: each(r.required_skills),
            preferred_skills: each(r.preferred_skills),
            min_age: r.min_age,
            max_age: r.max_age,
            monthly_wage: r.monthly_wage,
            headcount: r.headcount,
            flexible_hours: r.flexible_hours,
            housing_provided: r.housing_provided,
            transport_provided: r.transport_provided,
            reserved_for_relocated: r.reserved_for_relocated,
            filled: r.filled,
            created_at_ms: r.created_at_ms,
            updated_at_ms: r.updated_at_ms,
        })
    }
}
