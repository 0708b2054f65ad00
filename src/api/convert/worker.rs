//! `pb::Worker` <-> `Worker`.

use super::common::*;
use crate::api::pb;
use crate::domain::{current_year, Preferences, Validated, ValidationError, Worker};

/// Converts and validates a worker from the wire. Errors name the field as
/// `worker.<path>`.
pub(crate) fn worker_from_pb(w: pb::Worker) -> Validated<Worker> {
    // Identity first, so that the error names the first bad field.
    Worker::validate_identity(&w.id, &w.household_id, &w.name, &w.national_id)
        .map_err(|e| e.within("worker"))?;
    let worker = Worker::try_from(w).map_err(|e| e.within("worker"))?;
    worker.validate(current_year())?;
    Ok(worker)
}

impl TryFrom<pb::Worker> for Worker {
    type Error = ValidationError;

    /// Checks presence and enum values; field paths are relative to the
    /// worker.
    fn try_from(w: pb::Worker) -> Validated<Worker> {
        let prefs = w
            .preferences
            .ok_or_else(|| ValidationError::required("preferences"))?;
        let preferences = Preferences {
            mobility: required_enum(prefs.mobility, "preferences.mobility", mobility)?,
            max_commute_km: prefs.max_commute_km,
            expected_monthly_wage: prefs.expected_monthly_wage,
            preferred_sources: prefs
                .preferred_sources
                .iter()
                .enumerate()
                .map(|(i, &s)| {
                    required_enum(s, &format!("preferences.preferred_sources[{i}]"), source)
                })
                .collect::<Validated<_>>()?,
            strict_sources: prefs.strict_sources,
            needs_flexible_hours: prefs.needs_flexible_hours,
        };
        Ok(Worker {
            gender: enum_value(w.gender, "gender", gender)?,
            site_location: point(w.site_location, "site_location")?,
            labour_capacity: required_enum(w.labour_capacity, "labour_capacity", labour_capacity)?,
            education: enum_value(w.education, "education", education)?,
            employment_status: required_enum(
                w.employment_status,
                "employment_status",
                employment_status,
            )?,
            preferences,
            id: w.id,
            household_id: w.household_id,
            name: w.name,
            national_id: w.national_id,
            birth_year: w.birth_year,
            phone: non_empty(w.phone),
            county_code: w.county_code,
            site_id: w.site_id,
            skills: skills(w.skills),
            certificates: skills(w.certificates),
            service_company_id: non_empty(w.service_company_id),
            consent_to_share: w.consent_to_share,
            placement: Default::default(),
            created_at_ms: 0,
            updated_at_ms: 0,
        })
    }
}

impl From<Worker> for pb::Worker {
    fn from(w: Worker) -> Self {
        let p = w.preferences;
        pb::Worker {
            id: w.id,
            household_id: w.household_id,
            name: w.name,
            // Write-only: the store keeps a keyed hash, and neither it nor
            // the number is ever sent back.
            national_id: String::new(),
            gender: w.gender.map_or(pb::Gender::Unspecified, gender_to).into(),
            birth_year: w.birth_year,
            phone: w.phone.unwrap_or_default(),
            county_code: w.county_code,
            site_id: w.site_id,
            site_location: Some(point_to(w.site_location)),
            labour_capacity: labour_capacity_to(w.labour_capacity).into(),
            skills: skills_to(w.skills),
            certificates: skills_to(w.certificates),
            education: w
                .education
                .map_or(pb::Education::Unspecified, education_to)
                .into(),
            preferences: Some(pb::WorkerPreferences {
                mobility: mobility_to(p.mobility).into(),
                max_commute_km: p.max_commute_km,
                expected_monthly_wage: p.expected_monthly_wage,
                preferred_sources: p
                    .preferred_sources
                    .into_iter()
                    .map(|s| source_to(s).into())
                    .collect(),
                strict_sources: p.strict_sources,
                needs_flexible_hours: p.needs_flexible_hours,
            }),
            employment_status: employment_status_to(w.employment_status).into(),
            service_company_id: w.service_company_id.unwrap_or_default(),
            consent_to_share: w.consent_to_share,
            created_at: timestamp(w.created_at_ms),
            updated_at: timestamp(w.updated_at_ms),
            active_placement_id: w.placement.active_id.unwrap_or_default(),
            recommendations: w.placement.recommendations,
            returned_at: w.placement.returned_at_ms.and_then(timestamp),
        }
    }
}
