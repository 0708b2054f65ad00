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

wire_enum!(source, source_to: Source <-> pb::Source {
    AidWorkshop, PublicWelfare, LabourCooperation, WorkRelief, IndustrialPark, Enterprise,
});
wire_enum!(labour_capacity, labour_capacity_to: LabourCapacity <-> pb::LabourCapacity {
    Full, Partial,
});
wire_enum!(physical_demand, physical_demand_to: PhysicalDemand <-> pb::PhysicalDemand {
    Light, Normal, Heavy,
});
wire_enum!(employment_status, employment_status_to: EmploymentStatus <-> pb::EmploymentStatus {
    Seeking, Employed, Unavailable, Placed,
});
wire_enum!(gender, gender_to: Gender <-> pb::Gender { Female, Male });
wire_enum!(education, education_to: Education <-> pb::Education {
    None, Primary, JuniorSecondary, SeniorSecondary, Vocational, Tertiary,
});
wire_enum!(mobility, mobility_to: Mobility <-> pb::Mobility { NearHome, WillingToMigrate });
wire_enum!(opening_status, opening_status_to: OpeningStatus <-> pb::OpeningStatus { Open, Closed });

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

/// An optional text field of a request (a list filter, a county, a
/// label): empty for "not given", otherwise checked by `check` (a rule of
/// `domain::rules`), the field named on failure.
pub(crate) fn optional(
    value: &str,
    field: &str,
    check: impl FnOnce(&str) -> Result<(), Reason>,
) -> Validated<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    check(value).map_err(|r| ValidationError::new(field, r))?;
    Ok(Some(value.to_string()))
}

/// An optional county code of a request: `None` when empty.
pub(crate) fn county_of(value: &str) -> Validated<Option<String>> {
    optional(value, "county_code", rules::check_county_code)
}

/// The actor a request names: 1-64 printable characters, or "unknown".
pub(crate) fn actor(value: &str) -> Validated<String> {
    let actor = optional(value, "actor", |a| rules::check_text(a, 64))?;
    Ok(actor.unwrap_or_else(|| "unknown".into()))
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
