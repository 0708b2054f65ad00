//! Who may call what, for every face: a token's authentication, the
//! permission table, rate limits and the audit log. The [`Service`] owns
//! them, and the gRPC layer (`api::auth`) and the console (`console`) both
//! admit callers through it ([`Service::authenticate`], [`Service::admit`],
//! [`Service::audit`]), so that an action is allowed, refused and audited
//! by one rule whichever face it comes through: a console action names the
//! RPC it equals and is checked and audited as that RPC.
//!
//! The finer scope (a service company's counties, a recruiter's employer)
//! is checked by the service next to the reads it needs (`scope`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::Service;
use crate::config::RateLimit;
use crate::domain::access::{Caller, Role};
use crate::store::AuditEntry;

use Role::{Admin, Reader, Recruiter, ServiceCompany};

const ADMIN: &[Role] = &[Admin];
const COMPANY: &[Role] = &[Admin, ServiceCompany];
const COMPANY_OR_RECRUITER: &[Role] = &[Admin, ServiceCompany, Recruiter];
const REPORTS: &[Role] = &[Admin, ServiceCompany, Reader];

/// Which roles may call each RPC. The finer scope is checked by the
/// service ([`super::scope`]); the permission table of docs/api.md says the
/// same in words.
pub const PERMISSIONS: &[(&str, &[Role])] = &[
    ("/jobbridge.v1.Workers/CreateWorker", COMPANY),
    ("/jobbridge.v1.Workers/UpsertWorker", COMPANY),
    ("/jobbridge.v1.Workers/UpdateWorker", COMPANY),
    ("/jobbridge.v1.Workers/GetWorker", COMPANY),
    ("/jobbridge.v1.Workers/DeleteWorker", COMPANY),
    ("/jobbridge.v1.Workers/ListWorkers", COMPANY),
    ("/jobbridge.v1.Workers/ImportWorkers", COMPANY),
    ("/jobbridge.v1.Workers/GetHousehold", COMPANY),
    ("/jobbridge.v1.Openings/CreateOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/UpsertOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/UpdateOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/GetOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/CloseOpening", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Openings/ListOpenings", COMPANY_OR_RECRUITER),
    (
        "/jobbridge.v1.Openings/ImportOpenings",
        COMPANY_OR_RECRUITER,
    ),
    ("/jobbridge.v1.Matching/MatchOpeningsForWorker", COMPANY),
    (
        "/jobbridge.v1.Matching/MatchWorkersForOpening",
        COMPANY_OR_RECRUITER,
    ),
    ("/jobbridge.v1.Matching/ExplainMatch", COMPANY_OR_RECRUITER),
    ("/jobbridge.v1.Batch/StartRun", ADMIN),
    // A service company reads its counties' part (`service::scope::run_view`).
    ("/jobbridge.v1.Batch/GetRun", COMPANY),
    ("/jobbridge.v1.Batch/ListRuns", COMPANY),
    ("/jobbridge.v1.Batch/CancelRun", ADMIN),
    ("/jobbridge.v1.Batch/ApplyRun", COMPANY),
    ("/jobbridge.v1.Batch/DiffRun", COMPANY),
    // Every county's rows: a service company reads its own through DiffRun.
    ("/jobbridge.v1.Batch/StreamAssignments", ADMIN),
    ("/jobbridge.v1.Batch/StreamChanges", ADMIN),
    ("/jobbridge.v1.Batch/DownloadAudit", ADMIN),
    // A service company changes its counties' records and reads the answer
    // over its counties' workers (`service::whatif`).
    ("/jobbridge.v1.Batch/WhatIf", COMPANY),
    ("/jobbridge.v1.PlacementService/Propose", COMPANY),
    ("/jobbridge.v1.PlacementService/Accept", COMPANY),
    ("/jobbridge.v1.PlacementService/Decline", COMPANY),
    ("/jobbridge.v1.PlacementService/RecordHire", COMPANY),
    ("/jobbridge.v1.PlacementService/RecordSeparation", COMPANY),
    ("/jobbridge.v1.PlacementService/RecordCheckIn", COMPANY),
    ("/jobbridge.v1.PlacementService/Get", COMPANY),
    ("/jobbridge.v1.PlacementService/List", COMPANY),
    ("/jobbridge.v1.PlacementService/GetHistory", COMPANY),
    ("/jobbridge.v1.PlacementService/ListDueCheckIns", COMPANY),
    ("/jobbridge.v1.ReportService/Coverage", REPORTS),
    ("/jobbridge.v1.ReportService/PolicyLists", REPORTS),
    ("/jobbridge.v1.AdminService/CreateToken", ADMIN),
    ("/jobbridge.v1.AdminService/ListTokens", ADMIN),
    ("/jobbridge.v1.AdminService/RevokeToken", ADMIN),
    ("/jobbridge.v1.AdminService/ListAuditLog", ADMIN),
    ("/jobbridge.v1.AdminService/Backup", ADMIN),
];

/// The roles allowed to call `method`; `None` for a method not in the
/// table.
pub fn roles_for(method: &str) -> Option<&'static [Role]> {
    PERMISSIONS
        .iter()
        .find(|(p, _)| *p == method)
        .map(|(_, roles)| *roles)
}

/// Why a caller is not let in. Messages name the rule, never a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No token, or one that is unknown or revoked.
    Unauthenticated(String),
    /// The token's role may not call the method (audited).
    PermissionDenied(String),
    /// The token calls too often.
    RateLimited(String),
    /// The token store could not be read (logged here).
    Internal,
}

struct Buckets {
    limit: RateLimit,
    tokens: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    fn take(&self, token_id: &str) -> bool {
        let now = Instant::now();
        let mut all = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() > 100_000 {
            // Forget full buckets of tokens not seen lately.
            all.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 60);
        }
        let (level, at) = all
            .entry(token_id.to_string())
            .or_insert((self.limit.burst, now));
        let refill = now.duration_since(*at).as_secs_f64() * self.limit.per_second;
        *level = (*level + refill).min(self.limit.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The per-token rate limits (none when `[rate_limit]` is off): the
/// service's, from its start, as the tokens and the audit log are its
/// store's.
pub(super) struct RateLimits(Option<Buckets>);

impl RateLimits {
    /// Limits each token to `rate` (`None`: no limit).
    pub(super) fn new(rate: Option<RateLimit>) -> Self {
        Self(rate.map(|limit| Buckets {
            limit,
            tokens: Mutex::new(HashMap::new()),
        }))
    }

    /// Takes one call from the token's bucket, or says why not.
    fn take(&self, token_id: &str) -> Result<(), Denied> {
        match &self.0 {
            Some(b) if !b.take(token_id) => {
                metrics::counter!(crate::telemetry::RATE_LIMITED).increment(1);
                Err(Denied::RateLimited(format!(
                    "rate limit: token {token_id} may make {} calls per second (burst {})",
                    b.limit.per_second, b.limit.burst
                )))
            }
            _ => Ok(()),
        }
    }
}

/// An admitted call being audited: its entry's sequence number, to which
/// [`Service::audit`] adds the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audited(u64);

impl Service {
    /// The caller holding the secret `token`: unknown and revoked tokens
    /// are refused. Blocking (a store read).
    pub fn authenticate(&self, token: &str) -> Result<Caller, Denied> {
        self.store()
            .authenticate(token)
            .map_err(|e| {
                tracing::error!(error = %e, "token lookup failed");
                Denied::Internal
            })?
            .ok_or_else(|| Denied::Unauthenticated("invalid or revoked token".into()))
    }

    /// Whether the token `token_id` is still valid (not revoked): a
    /// console session re-checks it on every request. Blocking.
    pub fn still_valid(&self, token_id: &str) -> Result<bool, Denied> {
        match self.store().token(token_id) {
            Ok(record) => Ok(record.is_some_and(|r| r.revoked_at_ms == 0)),
            Err(e) => {
                tracing::error!(error = %e, "token lookup failed");
                Err(Denied::Internal)
            }
        }
    }

    /// Lets `caller` call `method` or not, by the token's rate and the
    /// permission table, and queues the call for the audit log before it
    /// runs (so that it is flushed with the writes it makes). A refusal
    /// by role is audited as PERMISSION_DENIED; a method outside the table
    /// is let through to be answered by its own rules (health and the
    /// like are never passed here). Blocking (an audit write).
    pub fn admit(&self, caller: &Caller, method: &str) -> Result<Option<Audited>, Denied> {
        self.rate_limits.take(&caller.token_id)?;
        if let Some(roles) = roles_for(method) {
            if !roles.contains(&caller.role) {
                self.audit_call(caller, method, PERMISSION_DENIED);
                return Err(Denied::PermissionDenied(format!(
                    "a {} token may not call {method}",
                    caller.role.label()
                )));
            }
        }
        Ok(self.audit_call(caller, method, RUNNING).map(Audited))
    }

    /// Adds the outcome of an admitted call to its audit entry: what it
    /// touched (`worker 431202/w-1`, or empty; see [`target`]) and its
    /// gRPC status code (0 for OK). Blocking.
    pub fn audit(&self, call: Audited, target: &str, code: i32) {
        if let Err(e) = self.store().audit_outcome(call.0, target, code) {
            tracing::error!(error = %e, "cannot complete the audit log");
        }
    }

    /// Queues the audit entry of a call by `caller` to `method`.
    fn audit_call(&self, caller: &Caller, method: &str, code: i32) -> Option<u64> {
        let entry = AuditEntry {
            at_ms: chrono::Utc::now().timestamp_millis(),
            token_id: caller.token_id.clone(),
            role: caller.role.label().to_string(),
            method: method.to_string(),
            code,
            ..AuditEntry::default()
        };
        match self.store().audit(entry) {
            Ok(seq) => Some(seq),
            Err(e) => {
                tracing::error!(error = %e, "cannot write the audit log");
                None
            }
        }
    }
}

/// What an audited call touched, as every face writes it in the audit log
/// (`worker 431202/w-0000001`); a call that failed touched nothing.
pub mod target {
    use crate::domain::placement::Placement;

    /// A worker, by whole id.
    pub fn worker(id: &str) -> String {
        format!("worker {id}")
    }

    /// A household, by whole id.
    pub fn household(id: &str) -> String {
        format!("household {id}")
    }

    /// An opening.
    pub fn opening(id: &str) -> String {
        format!("opening {id}")
    }

    /// A placement and its worker.
    pub fn placement(p: &Placement) -> String {
        format!("placement {} (worker {})", p.id, p.worker_id)
    }

    /// A what-if of `changes` changes (nothing was written).
    pub fn what_if(changes: usize) -> String {
        format!("what-if ({changes} changes, nothing stored)")
    }

    /// A run applied for one county or all.
    pub fn run_applied(id: u64, county: Option<&str>) -> String {
        format!("run {id} ({})", county.unwrap_or("all counties"))
    }
}

/// The audit code of a call still running (or cut by a stop).
const RUNNING: i32 = -1;
/// gRPC's PERMISSION_DENIED, the code of a refusal by role.
const PERMISSION_DENIED: i32 = 7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refuse_beyond_the_burst() {
        let b = Buckets {
            limit: RateLimit {
                per_second: 0.001,
                burst: 3.0,
            },
            tokens: Mutex::new(HashMap::new()),
        };
        assert!((0..3).all(|_| b.take("a")));
        assert!(!b.take("a"));
        assert!(b.take("b"));
    }
}
