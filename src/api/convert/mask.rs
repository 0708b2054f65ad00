//! Partial updates (AIP-134): the paths of a `google.protobuf.FieldMask`
//! checked against the message's fields, and the stored record with the
//! named fields taken from the request.
//!
//! prost has no reflection, so each message lists its fields once, in the
//! macro calls below; a path not listed is refused by name.

use prost_types::FieldMask;

use super::worker::worker_from_pb;
use crate::api::pb;
use crate::domain::{current_year, Opening, Validated, ValidationError, Worker};

/// Fields of `pb::Worker` the server sets; a mask may not name them.
const WORKER_OUTPUT_ONLY: &[&str] = &[
    "created_at",
    "updated_at",
    "active_placement_id",
    "recommendations",
    "returned_at",
];
/// Fields of `pb::Opening` the server sets.
const OPENING_OUTPUT_ONLY: &[&str] = &["created_at", "updated_at", "filled"];

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Defines, for one message, the writable top-level fields (and the
/// sub-fields of one nested message) a mask may name, how each is copied
/// from the request, and whether the request populates it.
macro_rules! mask_fields {
    ($name:ident, $msg:ty, [$($f:ident),* $(,)?] $(, $sub:ident: $submsg:ty => [$($s:ident),* $(,)?])?) => {
        mod $name {
            use super::*;

            /// `base` (the stored `kind`) with the paths `mask` names
            /// (checked; see [`paths`]) taken from `patch`, and the paths.
            pub(super) fn merged(
                mut base: $msg,
                patch: &$msg,
                mask: Option<&FieldMask>,
                output_only: &[&str],
                kind: &str,
            ) -> Validated<($msg, Vec<String>)> {
                let paths = paths(mask, PATHS, output_only, kind, || populated(patch))?;
                for p in &paths {
                    copy(&mut base, patch, p);
                }
                Ok((base, paths))
            }

            /// Writable top-level paths, and nested ones.
            pub(super) const PATHS: &[&str] = &[
                $(stringify!($f),)*
                $($(concat!(stringify!($sub), ".", stringify!($s)),)*)?
            ];

            /// Copies `path` (one of [`PATHS`]) from `patch` into `base`.
            pub(super) fn copy(base: &mut $msg, patch: &$msg, path: &str) {
                match path {
                    $(stringify!($f) => base.$f = patch.$f.clone(),)*
                    $($(concat!(stringify!($sub), ".", stringify!($s)) => {
                        let from = patch.$sub.clone().unwrap_or_default();
                        base.$sub.get_or_insert_with(<$submsg>::default).$s = from.$s;
                    })*)?
                    other => unreachable!("path {other} was checked"),
                }
            }

            /// The top-level paths `patch` sets to a non-default value
            /// (the implied mask of an empty one).
            pub(super) fn populated(patch: &$msg) -> Vec<String> {
                let mut found = Vec::new();
                $(if !is_default(&patch.$f) {
                    found.push(stringify!($f).to_string());
                })*
                found
            }
        }
    };
}

mask_fields!(worker_fields, pb::Worker, [
    household_id, name, national_id, gender, birth_year, phone, county_code, site_id,
    site_location, labour_capacity, skills, certificates, education, preferences,
    employment_status, service_company_id, consent_to_share,
], preferences: pb::WorkerPreferences => [
    mobility, max_commute_km, expected_monthly_wage, preferred_sources, strict_sources,
    needs_flexible_hours,
]);

mask_fields!(
    opening_fields,
    pb::Opening,
    [
        source,
        employer_id,
        employer_name,
        title,
        occupation_code,
        region_code,
        location,
        required_skills,
        preferred_skills,
        min_age,
        max_age,
        physical_demand,
        monthly_wage,
        headcount,
        flexible_hours,
        housing_provided,
        transport_provided,
        reserved_for_relocated,
        start_date,
        end_date,
        status,
    ]
);

/// The paths to apply: the mask's, checked, or (empty mask) the populated
/// fields, or (`*`) every writable top-level field.
fn paths(
    mask: Option<&FieldMask>,
    writable: &[&str],
    output_only: &[&str],
    kind: &str,
    populated: impl FnOnce() -> Vec<String>,
) -> Validated<Vec<String>> {
    let given = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    if given.is_empty() {
        return Ok(populated());
    }
    if given.iter().any(|p| p == "*") {
        if given.len() > 1 {
            return Err(ValidationError::new(
                "update_mask.paths",
                "\"*\" replaces every field and must be the only path",
            ));
        }
        return Ok(writable
            .iter()
            .filter(|p| !p.contains('.'))
            .map(|p| p.to_string())
            .collect());
    }
    let mut out: Vec<String> = Vec::with_capacity(given.len());
    for (i, path) in given.iter().enumerate() {
        let field = format!("update_mask.paths[{i}]");
        if path == "id" {
            return Err(ValidationError::new(
                field,
                format!("\"id\" names the {kind} to update and cannot change"),
            ));
        }
        if output_only.contains(&path.as_str()) {
            return Err(ValidationError::new(
                field,
                format!("\"{path}\" is output only: the server sets it"),
            ));
        }
        if !writable.contains(&path.as_str()) {
            return Err(ValidationError::new(
                field,
                format!("unknown field \"{path}\" of {kind}"),
            ));
        }
        if !out.contains(path) {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// The stored worker with the fields `mask` names taken from `patch`,
/// checked as a write. The stored national id hash is kept unless the
/// mask (or `*`) names `national_id`, which must then hold a valid number.
pub(crate) fn merge_worker(
    stored: Worker,
    patch: &pb::Worker,
    mask: Option<&FieldMask>,
) -> Validated<Worker> {
    let hash = stored.national_id.clone();
    let (base, paths) =
        worker_fields::merged(stored.into(), patch, mask, WORKER_OUTPUT_ONLY, "Worker")?;
    if paths.iter().any(|p| p == "national_id") {
        return worker_from_pb(base);
    }
    let mut worker = Worker::try_from(base).map_err(|e| e.within("worker"))?;
    worker.national_id = hash;
    worker.validate_keeping_national_id(current_year())?;
    Ok(worker)
}

/// The stored opening with the fields `mask` names taken from `patch`,
/// checked as a write.
pub(crate) fn merge_opening(
    stored: Opening,
    patch: &pb::Opening,
    mask: Option<&FieldMask>,
) -> Validated<Opening> {
    let (base, _) =
        opening_fields::merged(stored.into(), patch, mask, OPENING_OUTPUT_ONLY, "Opening")?;
    super::opening::opening_from_pb(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> FieldMask {
        FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn paths_are_checked_by_name() {
        let w = worker_fields::PATHS;
        let o = WORKER_OUTPUT_ONLY;
        let got = |m: &[&str]| paths(Some(&mask(m)), w, o, "Worker", Vec::new);
        assert_eq!(got(&["phone"]).unwrap(), vec!["phone"]);
        assert_eq!(
            got(&["preferences.max_commute_km"]).unwrap(),
            vec!["preferences.max_commute_km"]
        );
        let e = got(&["phone", "fone"]).unwrap_err();
        assert_eq!(e.field, "update_mask.paths[1]");
        assert!(e.reason.en().contains("fone"), "{}", e.reason);
        assert!(got(&["recommendations"])
            .unwrap_err()
            .reason
            .en()
            .contains("output only"));
        assert!(got(&["id"]).is_err());
        assert!(got(&["*", "phone"]).is_err());
        let all = got(&["*"]).unwrap();
        assert!(all.contains(&"national_id".to_string()));
        assert!(!all.iter().any(|p| p.contains('.')));
        // Empty: the populated fields.
        let patch = pb::Worker {
            phone: "13912345678".into(),
            ..Default::default()
        };
        let implied = paths(None, w, o, "Worker", || worker_fields::populated(&patch)).unwrap();
        assert_eq!(implied, vec!["phone"]);
    }

    #[test]
    fn every_field_of_the_messages_is_listed() {
        // A field added to the proto and not to the lists above would be
        // refused as unknown: the descriptor's names must all be listed.
        let set = crate::api::pb::FILE_DESCRIPTOR_SET;
        let fds = <prost_types::FileDescriptorSet as prost::Message>::decode(set).unwrap();
        for (message, writable, output) in [
            ("Worker", worker_fields::PATHS, WORKER_OUTPUT_ONLY),
            ("Opening", opening_fields::PATHS, OPENING_OUTPUT_ONLY),
        ] {
            let d = fds
                .file
                .iter()
                .flat_map(|f| &f.message_type)
                .find(|m| m.name() == message)
                .unwrap();
            for f in &d.field {
                let name = f.name();
                assert!(
                    name == "id" || writable.contains(&name) || output.contains(&name),
                    "{message}.{name} is not in the mask lists"
                );
            }
        }
    }
}
