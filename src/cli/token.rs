//! `jobbridge token`: create, list and revoke API tokens on a data
//! directory (the server must not be running on it), or through a running
//! server's `AdminService` (`--server ADDR --token ADMIN`), which needs no
//! stop.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use super::exit::Remote;
use crate::api::pb;
use crate::api::pb::admin_service_client::AdminServiceClient;
use crate::domain::access::{Role, Scope};
use crate::store::{Store, TokenRecord};

fn open(data_dir: &Path) -> anyhow::Result<Store> {
    // A directory held by a server says so itself (StoreError::InUse).
    Store::open(data_dir)
        .with_context(|| format!("cannot open data directory {}", data_dir.display()))
}

/// The scope of a new token of `role` from `--scope` values: county codes
/// for a service company (repeated or comma-separated), the employer id
/// for a recruiter, none otherwise.
pub fn scope_for(role: Role, values: &[String]) -> anyhow::Result<Scope> {
    let values: Vec<String> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    let scope = match role {
        Role::ServiceCompany => Scope {
            counties: values,
            employer_id: None,
        },
        Role::Recruiter => {
            if values.len() != 1 {
                return Err(usage(
                    "a recruiter token needs exactly one --scope: the employer id".into(),
                ));
            }
            Scope {
                counties: Vec::new(),
                employer_id: values.into_iter().next(),
            }
        }
        Role::Admin | Role::Reader => {
            if !values.is_empty() {
                return Err(usage(format!("a {} token takes no --scope", role.label())));
            }
            Scope::default()
        }
    };
    scope
        .validate(role)
        .map_err(|e| usage(format!("--scope: {}: {}", e.field, e.reason)))?;
    Ok(scope)
}

/// A wrong flag value: exit code 2 ([`super::exit`]).
fn usage(message: String) -> anyhow::Error {
    crate::launch::LaunchError::Config(message).into()
}

/// Creates a token and returns it (the caller prints it; it is not kept).
pub fn create(data_dir: &Path, role: Role, scope: &Scope, label: &str) -> anyhow::Result<String> {
    let store = open(data_dir)?;
    let (_, token) = store.create_token(role, scope, label, "cli")?;
    store.flush_blocking()?;
    Ok(token)
}

fn describe(t: &TokenRecord) -> String {
    row(
        &t.id,
        t.role(),
        t.revoked_at_ms == 0,
        t.created_at_ms,
        &t.counties,
        t.employer_id.as_deref(),
        &t.label,
    )
}

/// One line of `token list`, from a record or from the wire.
fn row(
    id: &str,
    role: Role,
    valid: bool,
    created_at_ms: i64,
    counties: &[String],
    employer_id: Option<&str>,
    label: &str,
) -> String {
    let scope = match (employer_id, counties.is_empty()) {
        (Some(e), _) => format!("employer {e}"),
        (None, false) => format!("counties {}", counties.join(",")),
        (None, true) => "-".into(),
    };
    let created = chrono::DateTime::from_timestamp_millis(created_at_ms)
        .map_or_else(String::new, |d| d.format("%Y-%m-%d %H:%M").to_string());
    let state = if valid { "valid" } else { "revoked" };
    format!(
        "{:<21} {:<16} {:<8} {:<16} {:<28} {}",
        id,
        role.label(),
        state,
        created,
        scope,
        label
    )
}

fn header() -> String {
    format!(
        "{:<21} {:<16} {:<8} {:<16} {:<28} label\n",
        "token_id", "role", "state", "created (UTC)", "scope"
    )
}

/// Every token as a table (never the secrets: they are not stored).
pub fn list(data_dir: &Path) -> anyhow::Result<String> {
    let store = open(data_dir)?;
    let mut out = header();
    for t in store.tokens()? {
        let _ = writeln!(out, "{}", describe(&t));
    }
    Ok(out)
}

/// Revokes a token; its next call is refused.
pub fn revoke(data_dir: &Path, token_id: &str) -> anyhow::Result<String> {
    let store = open(data_dir)?;
    let record = store.revoke_token(token_id)?;
    store.flush_blocking()?;
    Ok(describe(&record))
}

/// A running server, reached as an admin.
async fn admin_client(
    server: &str,
    tls_ca: Option<&Path>,
    token: Option<&str>,
) -> anyhow::Result<AdminServiceClient<super::TokenChannel>> {
    let token = token.context("--server needs --token (an admin token) or JOBBRIDGE_TOKEN")?;
    let channel = super::TokenChannel::new(super::connect(server, tls_ca).await?, Some(token))?;
    Ok(AdminServiceClient::new(channel))
}

fn describe_pb(t: &pb::TokenInfo) -> String {
    let millis = |ts: &Option<prost_types::Timestamp>| {
        ts.as_ref()
            .map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
    };
    let role = crate::api::role_from_pb(t.role).map_or(Role::Reader, |r| r);
    row(
        &t.token_id,
        role,
        t.revoked_at.is_none(),
        millis(&t.created_at),
        &t.counties,
        (!t.employer_id.is_empty()).then_some(t.employer_id.as_str()),
        &t.label,
    )
}

/// [`create`] through a running server's `AdminService`.
pub async fn create_remote(
    server: &str,
    tls_ca: Option<&Path>,
    admin: Option<&str>,
    role: Role,
    scope: &Scope,
    label: &str,
) -> anyhow::Result<String> {
    let mut client = admin_client(server, tls_ca, admin).await?;
    let reply = client
        .create_token(pb::CreateTokenRequest {
            role: crate::api::role_to_pb(role).into(),
            counties: scope.counties.clone(),
            employer_id: scope.employer_id.clone().unwrap_or_default(),
            label: label.to_string(),
        })
        .await
        .map_err(Remote)?;
    Ok(reply.into_inner().token)
}

/// [`list`] through a running server's `AdminService`.
pub async fn list_remote(
    server: &str,
    tls_ca: Option<&Path>,
    admin: Option<&str>,
) -> anyhow::Result<String> {
    let mut client = admin_client(server, tls_ca, admin).await?;
    let tokens = client
        .list_tokens(pb::ListTokensRequest {})
        .await
        .map_err(Remote)?
        .into_inner()
        .tokens;
    let mut out = header();
    for t in &tokens {
        let _ = writeln!(out, "{}", describe_pb(t));
    }
    Ok(out)
}

/// [`revoke`] through a running server's `AdminService`.
pub async fn revoke_remote(
    server: &str,
    tls_ca: Option<&Path>,
    admin: Option<&str>,
    token_id: &str,
) -> anyhow::Result<String> {
    let mut client = admin_client(server, tls_ca, admin).await?;
    let info = client
        .revoke_token(pb::RevokeTokenRequest {
            token_id: token_id.to_string(),
        })
        .await
        .map_err(Remote)?
        .into_inner();
    Ok(describe_pb(&info))
}
