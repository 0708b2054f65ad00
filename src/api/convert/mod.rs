//! Conversions between wire (`pb::`) and domain types. Incoming conversions
//! check presence and enum values and name the field on failure; the
//! domain's `validate` then checks the values themselves.

/// `$ty { $extra f: $src.f, ... }`: a record built from another that names
/// its fields alike (a domain record and its wire message). A resource
/// keeps its list of such fields in one macro and converts both ways
/// through it, so a field added to one direction cannot be missed in the
/// other.
macro_rules! copy_fields {
    ($ty:ty, $src:ident, [$($f:ident),+ $(,)?] $(, $($extra:tt)*)?) => {{
        type Record = $ty;
        Record { $($($extra)*)? $($f: $src.$f,)+ }
    }};
}

/// The two conversions between a domain enum and its wire enum, whose
/// variants have the same names: `$from` reads the wire (UNSPECIFIED is
/// `None`), `$to` writes it. One list of variants serves both ways.
macro_rules! wire_enum {
    ($from:ident, $to:ident: $domain:ident <-> $wire:ty { $($v:ident),+ $(,)? }) => {
        pub(super) fn $from(p: $wire) -> Option<$domain> {
            type Wire = $wire;
            match p {
                Wire::Unspecified => None,
                $(Wire::$v => Some($domain::$v),)+
            }
        }

        pub(super) fn $to(d: $domain) -> $wire {
            type Wire = $wire;
            match d {
                $($domain::$v => Wire::$v,)+
            }
        }
    };
}

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
    actor, county_of, employment_status_filter, opening_status_filter, optional, required_source,
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
    applied_to_pb, assignment_to_pb, change_to_pb, diff_from_pb, diff_to_pb, run_from_pb, run_to_pb,
};
pub(crate) use whatif::{what_if_changes_from_pb, what_if_from_pb, what_if_to_pb};
pub(crate) use worker::worker_from_pb;
