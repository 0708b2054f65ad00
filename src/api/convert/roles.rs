//! Roles and tokens on the wire.

use super::timestamp;
use crate::api::pb;
use crate::domain::access::Role;
use crate::domain::access::TokenRecord;
use crate::domain::ValidationError;

wire_enum!(role, role_to: Role <-> pb::Role { Admin, ServiceCompany, Recruiter, Reader });

/// A role on the wire.
pub(crate) fn role_to_pb(r: Role) -> pb::Role {
    role_to(r)
}

/// A role from the wire; UNSPECIFIED and unknown numbers are refused.
pub(crate) fn role_from_pb(raw: i32) -> Result<Role, ValidationError> {
    match pb::Role::try_from(raw) {
        Ok(wire) => role(wire).ok_or_else(|| ValidationError::new("role", "is required")),
        Err(_) => Err(ValidationError::new("role", format!("unknown role {raw}"))),
    }
}

/// A token record on the wire (never the secret or its hash).
pub(crate) fn token_info(t: TokenRecord) -> pb::TokenInfo {
    pb::TokenInfo {
        role: role_to_pb(t.role()).into(),
        token_id: t.id,
        counties: t.counties,
        employer_id: t.employer_id.unwrap_or_default(),
        label: t.label,
        created_at: timestamp(t.created_at_ms),
        revoked_at: (t.revoked_at_ms != 0)
            .then(|| timestamp(t.revoked_at_ms))
            .flatten(),
        created_by: t.created_by,
    }
}
