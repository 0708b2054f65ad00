//! Tokens and the audit log (admin only: the access layer's permission
//! table refuses everyone else before these run).

use std::sync::Arc;

use super::{Result, Service};
use crate::domain::access::{Caller, Role, Scope};
use crate::store::{AuditEntry, TokenRecord};

impl Service {
    /// Creates a token with `role` and `scope` (checked against the role);
    /// answers its record and the secret, shown once.
    pub async fn create_token(
        self: &Arc<Self>,
        admin: &Caller,
        role: Role,
        scope: Scope,
        label: String,
    ) -> Result<(TokenRecord, String)> {
        scope.validate(role)?;
        let by = admin.token_id.clone();
        self.settled(self.blocking(move |s| Ok(s.store().create_token(role, &scope, &label, &by)?)))
            .await
    }

    /// Every token, revoked ones too (hashes are never returned).
    pub async fn tokens(self: &Arc<Self>) -> Result<Vec<TokenRecord>> {
        self.blocking(|s| Ok(s.store().tokens()?)).await
    }

    /// Revokes a token at once.
    pub async fn revoke_token(self: &Arc<Self>, id: &str) -> Result<TokenRecord> {
        let owned = id.to_string();
        self.settled(self.blocking(move |s| Ok(s.store().revoke_token(&owned)?)))
            .await
    }

    /// Audit log entries newest first, before `before_seq` (0 for the
    /// newest), of one token or all; at most `limit`.
    pub async fn audit_log(
        self: &Arc<Self>,
        before_seq: u64,
        token_id: Option<String>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        self.blocking(move |s| {
            Ok(s.store()
                .audit_log(before_seq, token_id.as_deref(), limit)?)
        })
        .await
    }
}
