//! `pb::Opening` <-> `Opening`.

use super::common::*;
use crate::api::pb;
use crate::domain::{rules, Opening, OpeningStatus, Validated, ValidationError, DEFAULT_AGE_RANGE};

/// Converts and validates an opening from the wire. Errors name the field as
/// `opening.<path>`.
pub(crate) fn opening_from_pb(o: pb::Opening) -> Validated<Opening> {
    let opening = Opening::try_from(o).map_err(|e| e.within("opening"))?;
    opening.validate()?;
    Ok(opening)
}

/// The fields of an opening the wire carries as the domain keeps them;
/// both directions copy them through this one list.
macro_rules! opening_fields {
    ($ty:ty, $o:ident, $($extra:tt)*) => {
        copy_fields!($ty, $o, [
            id, employer_id, employer_name, title, region_code, monthly_wage, headcount,
            flexible_hours, housing_provided, transport_provided, reserved_for_relocated,
        ], $($extra)*)
    };
}

impl TryFrom<pb::Opening> for Opening {
    type Error = ValidationError;

    fn try_from(o: pb::Opening) -> Validated<Opening> {
        let (min_age, max_age) = match (o.min_age, o.max_age) {
            (0, 0) => DEFAULT_AGE_RANGE,
            range => range,
        };
        // Checked in proto field order, so the first bad field is named.
        let source = required_enum(o.source, "source", source)?;
        let location = point(o.location, "location")?;
        let physical_demand = required_enum(o.physical_demand, "physical_demand", physical_demand)?;
        let start_date =
            rules::parse_date(&o.start_date).map_err(|r| ValidationError::new("start_date", r))?;
        let end_date = non_empty(o.end_date)
            .map(|d| rules::parse_date(&d).map_err(|r| ValidationError::new("end_date", r)))
            .transpose()?;
        Ok(opening_fields!(
            Opening,
            o,
            source,
            location,
            physical_demand,
            status: enum_value(o.status, "status", opening_status)?.unwrap_or(OpeningStatus::Open),
            occupation_code: non_empty(o.occupation_code),
            required_skills: requirements(o.required_skills),
            preferred_skills: requirements(o.preferred_skills),
            min_age,
            max_age,
            start_date,
            end_date,
            filled: 0,
            created_at_ms: 0,
            updated_at_ms: 0,
        ))
    }
}

impl From<Opening> for pb::Opening {
    fn from(o: Opening) -> Self {
        opening_fields!(
            pb::Opening,
            o,
            source: source_to(o.source).into(),
            occupation_code: o.occupation_code.unwrap_or_default(),
            location: Some(point_to(o.location)),
            required_skills: requirements_to(o.required_skills),
            preferred_skills: requirements_to(o.preferred_skills),
            min_age: o.min_age,
            max_age: o.max_age,
            physical_demand: physical_demand_to(o.physical_demand).into(),
            start_date: o.start_date.format("%Y-%m-%d").to_string(),
            end_date: o
                .end_date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            status: opening_status_to(o.status).into(),
            created_at: timestamp(o.created_at_ms),
            updated_at: timestamp(o.updated_at_ms),
            filled: o.filled,
        )
    }
}
