//! Handlers of `AdminService`: tokens and the audit log (admin only; the
//! access layer refuses other roles before these run).

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{audited, caller};
use super::convert::timestamp;
use super::{blocking, pb, status};
use crate::domain::access::{Role, Scope};
use crate::domain::{rules, ValidationError};
use crate::store::{Store, StoreError, TokenRecord};

/// The `jobbridge.v1.AdminService` service.
#[derive(Clone)]
pub struct AdminService {
    store: Arc<Store>,
}

impl AdminService {
    /// A service over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }
}

fn role_to_pb(r: Role) -> pb::Role {
    match r {
        Role::Admin => pb::Role::Admin,
        Role::ServiceCompany => pb::Role::ServiceCompany,
        Role::Recruiter => pb::Role::Recruiter,
        Role::Reader => pb::Role::Reader,
    }
}

fn role_from_pb(raw: i32) -> Result<Role, ValidationError> {
    match pb::Role::try_from(raw) {
        Ok(pb::Role::Admin) => Ok(Role::Admin),
        Ok(pb::Role::ServiceCompany) => Ok(Role::ServiceCompany),
        Ok(pb::Role::Recruiter) => Ok(Role::Recruiter),
        Ok(pb::Role::Reader) => Ok(Role::Reader),
        Ok(pb::Role::Unspecified) => Err(ValidationError::new("role", "is required")),
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

#[tonic::async_trait]
impl pb::admin_service_server::AdminService for AdminService {
    #[instrument(skip_all)]
    async fn create_token(
        &self,
        request: Request<pb::CreateTokenRequest>,
    ) -> Result<Response<pb::CreateTokenResponse>, Status> {
        let admin = caller(&request)?;
        let r = request.into_inner();
        let role = role_from_pb(r.role).map_err(status::from_validation)?;
        let scope = Scope {
            counties: r.counties,
            employer_id: (!r.employer_id.is_empty()).then_some(r.employer_id),
        };
        scope.validate(role).map_err(status::from_validation)?;
        if !r.label.is_empty() {
            rules::check_text(&r.label, 128)
                .map_err(|e| status::from_validation(ValidationError::new("label", e)))?;
        }
        let store = self.store.clone();
        let (record, token) =
            blocking(move || store.create_token(role, &scope, &r.label, &admin.token_id)).await?;
        self.store.sync().await.map_err(status::from_store)?;
        let target = format!("token {}", record.id);
        Ok(audited(
            Response::new(pb::CreateTokenResponse {
                info: Some(token_info(record)),
                token,
            }),
            target,
        ))
    }

    #[instrument(skip_all)]
    async fn list_tokens(
        &self,
        _request: Request<pb::ListTokensRequest>,
    ) -> Result<Response<pb::ListTokensResponse>, Status> {
        let store = self.store.clone();
        let tokens = blocking(move || store.tokens()).await?;
        Ok(Response::new(pb::ListTokensResponse {
            tokens: tokens.into_iter().map(token_info).collect(),
        }))
    }

    #[instrument(skip_all, fields(token_id = %request.get_ref().token_id))]
    async fn revoke_token(
        &self,
        request: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::TokenInfo>, Status> {
        let id = request.into_inner().token_id;
        if id.is_empty() {
            return Err(status::from_validation(ValidationError::new(
                "token_id",
                "is required",
            )));
        }
        let store = self.store.clone();
        let target = format!("token {id}");
        let record = blocking(move || store.revoke_token(&id)).await?;
        self.store.sync().await.map_err(status::from_store)?;
        Ok(audited(Response::new(token_info(record)), target))
    }

    #[instrument(skip_all)]
    async fn list_audit_log(
        &self,
        request: Request<pb::ListAuditLogRequest>,
    ) -> Result<Response<pb::ListAuditLogResponse>, Status> {
        let r = request.into_inner();
        let limit = super::page_token::page_size(r.page_size);
        let token = (!r.token_id.is_empty()).then_some(r.token_id);
        let store = self.store.clone();
        let entries = blocking(move || {
            let entries = store.audit_log(r.before_seq, token.as_deref(), limit + 1)?;
            Ok::<_, StoreError>(entries)
        })
        .await?;
        let more = entries.len() > limit;
        let entries: Vec<_> = entries.into_iter().take(limit).collect();
        let next_before_seq = if more {
            entries.last().map_or(0, |e| e.seq)
        } else {
            0
        };
        Ok(Response::new(pb::ListAuditLogResponse {
            entries: entries
                .into_iter()
                .map(|e| pb::AuditEntry {
                    seq: e.seq,
                    at: timestamp(e.at_ms),
                    token_id: e.token_id,
                    role: e.role,
                    method: e.method,
                    target: e.target,
                    code: e.code,
                })
                .collect(),
            next_before_seq,
        }))
    }
}
