//! `jobbridge token`: create, list and revoke API tokens on a data
//! directory (the server must not be running on it), or through a running
//! server's `AdminService` (`--server ADDR --token ADMIN`), which needs no
//! stop.

use std::fmt::Write as _;

use super::args::{RoleArg, Target};
use super::exit::Remote;
use super::{Local, Server, TwoWays};
use crate::api::pb;
use crate::api::pb::admin_service_client::AdminServiceClient;
use crate::domain::access::{Role, Scope};
use crate::store::TokenRecord;

/// Create, list and revoke API tokens, on a data directory or
/// through a running server (--server ADDR --token ADMIN).
#[derive(clap::Args, Debug)]
pub struct TokenCommand {
    #[command(subcommand)]
    action: TokenAction,
}

#[derive(clap::Subcommand, Debug)]
enum TokenAction {
    /// Create a token and print it alone on standard output (it is shown
    /// once: only its hash is stored).
    Create {
        #[command(flatten)]
        target: Target,
        /// The token's role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// service_company: county codes (repeat or comma-separate);
        /// recruiter: the employer id.
        #[arg(long)]
        scope: Vec<String>,
        /// Who or what the token is for.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (ids, roles, scopes; never secrets).
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Revoke a token; its next call is refused.
    Revoke {
        #[command(flatten)]
        target: Target,
        /// The token id (tok_...).
        token_id: String,
    },
}

impl TokenCommand {
    /// Creates, lists or revokes, and prints the token, the table or the
    /// revoked token's line.
    pub fn run(self) -> anyhow::Result<()> {
        let text = match self.action {
            TokenAction::Create {
                target,
                role,
                scope,
                label,
            } => {
                let role = Role::from(role);
                // A wrong scope is refused before anything is opened.
                let scope = scope_for(role, &scope)?;
                target.run(Create { role, scope, label })?
            }
            TokenAction::List { target } => target.run(List)?,
            TokenAction::Revoke { target, token_id } => target.run(Revoke(token_id))?,
        };
        print!("{text}");
        Ok(())
    }
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

/// A running server, reached as an admin.
async fn admin_client(
    server: Server<'_>,
) -> anyhow::Result<AdminServiceClient<super::TokenChannel>> {
    Ok(AdminServiceClient::new(server.admin_channel().await?))
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

/// A new token: printed alone on its line, once (only its hash is kept).
struct Create {
    role: Role,
    scope: Scope,
    label: String,
}

impl TwoWays for Create {
    type Output = String;

    async fn remote(self, server: Server<'_>) -> anyhow::Result<String> {
        let reply = admin_client(server)
            .await?
            .create_token(pb::CreateTokenRequest {
                role: crate::api::role_to_pb(self.role).into(),
                counties: self.scope.counties.clone(),
                employer_id: self.scope.employer_id.clone().unwrap_or_default(),
                label: self.label,
            })
            .await
            .map_err(Remote)?;
        Ok(format!("{}\n", reply.into_inner().token))
    }

    fn local(self, data: Local<'_>) -> anyhow::Result<String> {
        let store = data.store()?;
        let (_, token) = store.create_token(self.role, &self.scope, &self.label, "cli")?;
        store.flush_blocking()?;
        Ok(format!("{token}\n"))
    }
}

/// Every token as a table (never the secrets: they are not stored).
struct List;

impl TwoWays for List {
    type Output = String;

    async fn remote(self, server: Server<'_>) -> anyhow::Result<String> {
        let tokens = admin_client(server)
            .await?
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

    fn local(self, data: Local<'_>) -> anyhow::Result<String> {
        let store = data.store()?;
        let mut out = header();
        for t in store.tokens()? {
            let _ = writeln!(out, "{}", describe(&t));
        }
        Ok(out)
    }
}

/// Revokes the token of this id (its next call is refused); its line.
struct Revoke(String);

impl TwoWays for Revoke {
    type Output = String;

    async fn remote(self, server: Server<'_>) -> anyhow::Result<String> {
        let info = admin_client(server)
            .await?
            .revoke_token(pb::RevokeTokenRequest { token_id: self.0 })
            .await
            .map_err(Remote)?
            .into_inner();
        Ok(format!("{}\n", describe_pb(&info)))
    }

    fn local(self, data: Local<'_>) -> anyhow::Result<String> {
        let store = data.store()?;
        let record = store.revoke_token(&self.0)?;
        store.flush_blocking()?;
        Ok(format!("{}\n", describe(&record)))
    }
}
