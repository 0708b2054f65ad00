//! Shared pieces: enums, points, skills, timestamps, list filters.

use crate::api::pb;
use crate::domain::{
    rules, Education, EmploymentStatus, Gender, GeoPoint, LabourCapacity, Mobility, OpeningStatus,
    PhysicalDemand, Reason, Skill, SkillRequirement, Source, Validated, ValidationError,
};

/// Decodes a wire enum value into a domain value. `Ok(None)` for
/// UNSPECIFIED (0); an error for numbers the API does not define.
pub(super) fn enum_value<P, D>(
    raw: i32,
    field: &str,
    map: fn(P) -> Option<D>,
) -> Validated<Option<D>>
where
    P: TryFrom<i32>,
{
    let wire = P::try_from(raw).map_err(|_| {
        ValidationError::new(
            field,
            Reason::new(
                format!("未知的枚举值 {raw}"),
                format!("unknown enum value {raw}"),
            ),
        )
    })?;
    Ok(map(wire))
}

/// As [`enum_value`], but UNSPECIFIED is refused.
pub(super) fn required_enum<P, D>(raw: i32, field: &str, map: fn(P) -> Option<D>) -> Validated<D>
where
    P: TryFrom<i32>,
{
    enum_value(raw, field, map)?.ok_or_else(|| {
        ValidationError::new(
            field,
            Reason::new(
                "必须填写（不能为 UNSPECIFIED）",
                "must be set (not UNSPECIFIED)",
            ),
        )
    })
}

pub(super) fn source(p: pb::Source) -> Option<Source> {
    match p {
        pb::Source::Unspecified => None,
        pb::Source::AidWorkshop => Some(Source::AidWorkshop),
        pb::Source::PublicWelfare => Some(Source::PublicWelfare),
        pb::Source::LabourCooperation => Some(Source::LabourCooperation),
        pb::Source::WorkRelief => Some(Source::WorkRelief),
        pb::Source::IndustrialPark => Some(Source::IndustrialPark),
        pb::Source::Enterprise => Some(Source::Enterprise),
    }
}

pub(super) fn source_to(s: Source) -> pb::Source {
    match s {
        Source::AidWorkshop => pb::Source::AidWorkshop,
        Source::PublicWelfare => pb::Source::PublicWelfare,
        Source::LabourCooperation => pb::Source::LabourCooperation,
        Source::WorkRelief => pb::Source::WorkRelief,
        Source::IndustrialPark => pb::Source::IndustrialPark,
        Source::Enterprise => pb::Source::Enterprise,
    }
}

pub(super) fn labour_capacity(p: pb::LabourCapacity) -> Option<LabourCapacity> {
    match p {
        pb::LabourCapacity::Unspecified => None,
        pb::LabourCapacity::Full => Some(LabourCapacity::Full),
        pb::LabourCapacity::Partial => Some(LabourCapacity::Partial),
    }
}

pub(super) fn labour_capacity_to(c: LabourCapacity) -> pb::LabourCapacity {
    match c {
        LabourCapacity::Full => pb::LabourCapacity::Full,
        LabourCapacity::Partial => pb::LabourCapacity::Partial,
    }
}

pub(super) fn physical_demand(p: pb::PhysicalDemand) -> Option<PhysicalDemand> {
    match p {
        pb::PhysicalDemand::Unspecified => None,
        pb::PhysicalDemand::Light => Some(PhysicalDemand::Light),
        pb::PhysicalDemand::Normal => Some(PhysicalDemand::Normal),
        pb::PhysicalDemand::Heavy => Some(PhysicalDemand::Heavy),
    }
}

pub(super) fn physical_demand_to(d: PhysicalDemand) -> pb::PhysicalDemand {
    match d {
        PhysicalDemand::Light => pb::PhysicalDemand::Light,
        PhysicalDemand::Normal => pb::PhysicalDemand::Normal,
        PhysicalDemand::Heavy => pb::PhysicalDemand::Heavy,
    }
}

pub(super) fn employment_status(p: pb::EmploymentStatus) -> Option<EmploymentStatus> {
    match p {
        pb::EmploymentStatus::Unspecified => None,
        pb::EmploymentStatus::Seeking => Some(EmploymentStatus::Seeking),
        pb::EmploymentStatus::Employed => Some(EmploymentStatus::Employed),
        pb::EmploymentStatus::Unavailable => Some(EmploymentStatus::Unavailable),
        pb::EmploymentStatus::Placed => Some(EmploymentStatus::Placed),
    }
}

pub(super) fn employment_status_to(s: EmploymentStatus) -> pb::EmploymentStatus {
    match s {
        EmploymentStatus::Seeking => pb::EmploymentStatus::Seeking,
        EmploymentStatus::Employed => pb::EmploymentStatus::Employed,
        EmploymentStatus::Unavailable => pb::EmploymentStatus::Unavailable,
        EmploymentStatus::Placed => pb::EmploymentStatus::Placed,
    }
}

pub(super) fn gender(p: pb::Gender) -> Option<Gender> {
    match p {
        pb::Gender::Unspecified => None,
        pb::Gender::Female => Some(Gender::Female),
        pb::Gender::Male => Some(Gender::Male),
    }
}

pub(super) fn gender_to(g: Option<Gender>) -> pb::Gender {
    match g {
        None => pb::Gender::Unspecified,
        Some(Gender::Female) => pb::Gender::Female,
        Some(Gender::Male) => pb::Gender::Male,
    }
}

pub(super) fn education(p: pb::Education) -> Option<Education> {
    match p {
        pb::Education::Unspecified => None,
        pb::Education::None => Some(Education::None),
        pb::Education::Primary => Some(Education::Primary),
        pb::Education::JuniorSecondary => Some(Education::JuniorSecondary),
        pb::Education::SeniorSecondary => Some(Education::SeniorSecondary),
        pb::Education::Vocational => Some(Education::Vocational),
        pb::Education::Tertiary => Some(Education::Tertiary),
    }
}

pub(super) fn education_to(e: Option<Education>) -> pb::Education {
    match e {
        None => pb::Education::Unspecified,
        Some(Education::None) => pb::Education::None,
        Some(Education::Primary) => pb::Education::Primary,
        Some(Education::JuniorSecondary) => pb::Education::JuniorSecondary,
        Some(Education::SeniorSecondary) => pb::Education::SeniorSecondary,
        Some(Education::Vocational) => pb::Education::Vocational,
        Some(Education::Tertiary) => pb::Education::Tertiary,
    }
}

pub(super) fn mobility(p: pb::Mobility) -> Option<Mobility> {
    match p {
        pb::Mobility::Unspecified => None,
        pb::Mobility::NearHome => Some(Mobility::NearHome),
        pb::Mobility::WillingToMigrate => Some(Mobility::WillingToMigrate),
    }
}

pub(super) fn mobility_to(m: Mobility) -> pb::Mobility {
    match m {
        Mobility::NearHome => pb::Mobility::NearHome,
        Mobility::WillingToMigrate => pb::Mobility::WillingToMigrate,
    }
}

pub(super) fn opening_status(p: pb::OpeningStatus) -> Option<OpeningStatus> {
    match p {
        pb::OpeningStatus::Unspecified => None,
        pb::OpeningStatus::Open => Some(OpeningStatus::Open),
        pb::OpeningStatus::Closed => Some(OpeningStatus::Closed),
    }
}

pub(super) fn opening_status_to(s: OpeningStatus) -> pb::OpeningStatus {
    match s {
        OpeningStatus::Open => pb::OpeningStatus::Open,
        OpeningStatus::Closed => pb::OpeningStatus::Closed,
    }
}

/// A required point; its numbers are checked by the domain.
pub(super) fn point(p: Option<pb::GeoPoint>, field: &str) -> Validated<GeoPoint> {
    let p = p.ok_or_else(|| ValidationError::required(field))?;
    Ok(GeoPoint {
        lat: p.lat,
        lon: p.lon,
    })
}

pub(super) fn point_to(p: GeoPoint) -> pb::GeoPoint {
    pb::GeoPoint {
        lat: p.lat,
        lon: p.lon,
    }
}

pub(super) fn skills(v: Vec<pb::Skill>) -> Vec<Skill> {
    v.into_iter()
        .map(|s| Skill {
            code: s.code,
            level: s.level,
        })
        .collect()
}

pub(super) fn skills_to(v: Vec<Skill>) -> Vec<pb::Skill> {
    v.into_iter()
        .map(|s| pb::Skill {
            code: s.code,
            level: s.level,
        })
        .collect()
}

pub(super) fn requirements(v: Vec<pb::SkillRequirement>) -> Vec<SkillRequirement> {
    v.into_iter()
        .map(|s| SkillRequirement {
            code: s.code,
            min_level: s.min_level,
        })
        .collect()
}

pub(super) fn requirements_to(v: Vec<SkillRequirement>) -> Vec<pb::SkillRequirement> {
    v.into_iter()
        .map(|s| pb::SkillRequirement {
            code: s.code,
            min_level: s.min_level,
        })
        .collect()
}

/// Unix milliseconds as a protobuf timestamp.
pub(crate) fn timestamp(ms: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    })
}

/// Empty strings are "not given".
pub(super) fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A list filter on a region code: empty for any, otherwise a valid code.
pub(crate) fn optional_region_filter(value: String, field: &str) -> Validated<Option<String>> {
    match non_empty(value) {
        None => Ok(None),
        Some(v) => {
            rules::check_region_code(&v).map_err(|r| ValidationError::new(field, r))?;
            Ok(Some(v))
        }
    }
}

/// A list filter on employment status.
pub(crate) fn employment_status_filter(
    raw: i32,
    field: &str,
) -> Validated<Option<EmploymentStatus>> {
    enum_value(raw, field, employment_status)
}

/// A list filter on source.
pub(crate) fn source_filter(raw: i32, field: &str) -> Validated<Option<Source>> {
    enum_value(raw, field, source)
}

/// A list filter on opening status.
pub(crate) fn opening_status_filter(raw: i32, field: &str) -> Validated<Option<OpeningStatus>> {
    enum_value(raw, field, opening_status)
}

/// A source that must be set (e.g. an entry of a filter list).
pub(crate) fn required_source(raw: i32, field: &str) -> Validated<Source> {
    required_enum(raw, field, source)
}

/// The wire value of a source.
pub(crate) fn source_to_pb(s: Source) -> pb::Source {
    source_to(s)
}
