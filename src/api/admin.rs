//! Handlers of `AdminService`: tokens, the audit log and backups (admin
//! only; the access layer refuses other roles before these run).

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tracing::instrument;

use super::auth::{audited, unpack};
use super::convert::{optional, role_from_pb, timestamp, token_info};
use super::{pb, status};
use crate::domain::access::Scope;
use crate::domain::{rules, ValidationError};
use crate::service::Service;

/// The `jobbridge.v1.AdminService` service.
#[derive(Clone)]
pub struct AdminService {
    service: Arc<Service>,
}

impl AdminService {
    /// Handlers over `service`.
    pub fn new(service: Arc<Service>) -> Self {
        Self { service }
    }
}

#[tonic::async_trait]
impl pb::admin_service_server::AdminService for AdminService {
    #[instrument(skip_all)]
    async fn create_token(
        &self,
        request: Request<pb::CreateTokenRequest>,
    ) -> Result<Response<pb::CreateTokenResponse>, Status> {
        let (admin, r) = unpack(request)?;
        let role = role_from_pb(r.role)?;
        let scope = Scope {
            counties: r.counties,
            employer_id: (!r.employer_id.is_empty()).then_some(r.employer_id),
        };
        optional(&r.label, "label", |l| rules::check_text(l, 128))?;
        let (record, token) = self
            .service
            .create_token(&admin, role, scope, r.label)
            .await?;
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
        let tokens = self.service.tokens().await?;
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
        let target = format!("token {id}");
        let record = self.service.revoke_token(&id).await?;
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
        let entries = self
            .service
            .audit_log(r.before_seq, token, limit + 1)
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

    type BackupStream = Pin<Box<dyn Stream<Item = Result<pb::BackupChunk, Status>> + Send>>;

    #[instrument(skip_all)]
    async fn backup(
        &self,
        _request: Request<pb::BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        // A few chunks in flight: a slow client slows the compression down
        // (after the copy, so writes do not wait for it), not the memory up.
        let (tx, rx) = mpsc::channel(4);
        let service = self.service.clone();
        tokio::spawn(async move {
            let out = Chunks::new(tx.clone());
            if let Err(e) = service.backup(out).await {
                if tx.is_closed() {
                    tracing::warn!(error = %e, "backup: the client went away");
                } else {
                    let _ = tx.send(Err(status::from_service(e))).await;
                }
            }
        });
        let stream: Self::BackupStream = Box::pin(ReceiverStream::new(rx));
        Ok(audited(Response::new(stream), "backup"))
    }
}

/// Bytes of a backup chunk.
const CHUNK: usize = 1 << 20;

/// The backup file as a stream of [`pb::BackupChunk`]s: written on a
/// blocking thread, sent on as each chunk fills (and the rest at `flush`).
struct Chunks {
    tx: mpsc::Sender<Result<pb::BackupChunk, Status>>,
    buf: Vec<u8>,
}

impl Chunks {
    fn new(tx: mpsc::Sender<Result<pb::BackupChunk, Status>>) -> Self {
        Self {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(pb::BackupChunk { data }))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl std::io::Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = bytes.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&bytes[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
