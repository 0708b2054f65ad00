//! Conversions between wire (`pb::`) and domain types. Incoming conversions
//! check presence and enum values and name the field on failure; the
//! domain's `validate` then checks the values themselves.

mod common;
mod mask;
mod opening;
mod placement;
mod policy;
mod reports;
mod roles;
mod rows;
mod runs;
mod whatif;
mod worker;

pub(crate) use common::{
    employment_status_filter, opening_status_filter, optional_region_filter, required_source,
    source_filter, source_to_pb, timestamp,
};
pub(crate) use mask::{merge_opening, merge_worker};
pub(crate) use opening::opening_from_pb;
pub(crate) use placement::{decline_reason_from_pb, separation_reason_from_pb, status_from_pb};
pub(crate) use policy::policy_to_pb;
pub(crate) use reports::{coverage_from_pb, coverage_to_pb};
pub(crate) use roles::{role_from_pb, role_to_pb, token_info};
pub(crate) use rows::row_change_to_pb;
pub(crate) use runs::{
    applied_to_pb, assignment_to_pb, diff_from_pb, diff_to_pb, run_from_pb, run_to_pb,
};
pub(crate) use whatif::{what_if_changes_from_pb, what_if_from_pb, what_if_to_pb};
pub(crate) use worker::worker_from_pb;
