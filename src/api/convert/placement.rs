//! Placement records -> `pb::Placement` and friends.

use super::common::{source_to, timestamp};
use crate::api::pb;
use crate::domain::placement::{
    day_date, CheckIn, DeclineReason, Placement, PlacementEvent, PlacementStatus, SeparationReason,
};
use crate::domain::Source;
use crate::domain::ValidationError;

fn date(day: Option<i32>) -> String {
    day.map(|d| day_date(d).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn when(ms: i64) -> Option<prost_types::Timestamp> {
    (ms != 0).then(|| timestamp(ms)).flatten()
}

pub(crate) fn status_to_pb(s: PlacementStatus) -> pb::PlacementStatus {
    match s {
        PlacementStatus::Unspecified => pb::PlacementStatus::Unspecified,
        PlacementStatus::Proposed => pb::PlacementStatus::Proposed,
        PlacementStatus::Accepted => pb::PlacementStatus::Accepted,
        PlacementStatus::Declined => pb::PlacementStatus::Declined,
        PlacementStatus::Hired => pb::PlacementStatus::Hired,
        PlacementStatus::Separated => pb::PlacementStatus::Separated,
    }
}

/// A wire status filter: `None` for UNSPECIFIED, an error for an unknown
/// number.
pub(crate) fn status_from_pb(value: i32) -> Result<Option<PlacementStatus>, String> {
    match pb::PlacementStatus::try_from(value) {
        Ok(pb::PlacementStatus::Unspecified) => Ok(None),
        Ok(_) => PlacementStatus::try_from(value)
            .map(Some)
            .map_err(|_| format!("unknown placement status {value}")),
        Err(_) => Err(format!("unknown placement status {value}")),
    }
}

/// A wire separation reason; UNSPECIFIED and unknown numbers are refused.
pub(crate) fn separation_reason_from_pb(value: i32) -> Result<SeparationReason, String> {
    match SeparationReason::try_from(value) {
        Ok(SeparationReason::Unspecified) => Err("is required".into()),
        Ok(r) => Ok(r),
        Err(_) => Err(format!("unknown separation reason {value}")),
    }
}

/// A wire decline reason; UNSPECIFIED and unknown numbers are refused,
/// naming `reason_code` and the codes allowed.
pub(crate) fn decline_reason_from_pb(value: i32) -> Result<DeclineReason, ValidationError> {
    let allowed = || {
        DeclineReason::ALL
            .iter()
            .map(|r| r.code().to_uppercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match DeclineReason::try_from(value) {
        Ok(DeclineReason::Unspecified) => Err(ValidationError::new(
            "reason_code",
            format!("is required: one of {}", allowed()),
        )),
        Ok(r) => Ok(r),
        Err(_) => Err(ValidationError::new(
            "reason_code",
            format!("unknown decline reason {value}; one of {}", allowed()),
        )),
    }
}

fn check_in_to(c: CheckIn) -> pb::CheckIn {
    pb::CheckIn {
        month: c.month,
        date: date(Some(c.day)),
        still_employed: c.still_employed,
        note: c.note,
        actor: c.actor,
        recorded_at: when(c.recorded_at_ms),
    }
}

impl From<Placement> for pb::Placement {
    fn from(p: Placement) -> Self {
        let source = Source::from_stored(p.source).map_or(pb::Source::Unspecified, source_to);
        pb::Placement {
            status: status_to_pb(p.state()).into(),
            source: source.into(),
            score: p.score_micro as f64 / 1e6,
            proposed_at: when(p.proposed_at_ms),
            accepted_at: when(p.accepted_at_ms),
            declined_at: when(p.declined_at_ms),
            hire_date: date(p.hire_day),
            separation_date: date(p.separation_day),
            separation_reason: p.separation_reason,
            updated_at: when(p.updated_at_ms),
            check_ins: p.check_ins.into_iter().map(check_in_to).collect(),
            id: p.id,
            worker_id: p.worker_id,
            opening_id: p.opening_id,
            county_code: p.county_code,
            site_id: p.site_id,
            household_id: p.household_id,
            employer_id: p.employer_id,
            run_id: p.run_id,
            zero_household: p.zero_household,
            decline_reason: p.decline_reason,
            decline_reason_code: p.decline_code,
            separation_note: p.separation_note,
        }
    }
}

impl From<PlacementEvent> for pb::PlacementEvent {
    fn from(e: PlacementEvent) -> Self {
        let status = |v: i32| {
            status_to_pb(PlacementStatus::try_from(v).unwrap_or(PlacementStatus::Unspecified))
        };
        pb::PlacementEvent {
            seq: e.seq,
            at: when(e.at_ms),
            from_status: status(e.from).into(),
            to_status: status(e.to).into(),
            actor: e.actor,
            action: e.action,
            note: e.note,
        }
    }
}
