//! `jobbridge token`: create, list and revoke API tokens on a data
//! directory (the server must not be running on it; a running server
//! offers the same through `AdminService`).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::domain::access::{Role, Scope};
use crate::store::{Store, TokenRecord};

fn open(data_dir: &Path) -> anyhow::Result<Store> {
    Store::open(data_dir).with_context(|| {
        format!(
            "cannot open data directory {} (is a server running on it? use AdminService then)",
            data_dir.display()
        )
    })
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
            anyhow::ensure!(
                values.len() == 1,
                "a recruiter token needs exactly one --scope: the employer id"
            );
            Scope {
                counties: Vec::new(),
                employer_id: values.into_iter().next(),
            }
        }
        Role::Admin | Role::Reader => {
            anyhow::ensure!(
                values.is_empty(),
                "a {} token takes no --scope",
                role.label()
            );
            Scope::default()
        }
    };
    scope
        .validate(role)
        .map_err(|e| anyhow::anyhow!("--scope: {}: {}", e.field, e.reason))?;
    Ok(scope)
}

/// Creates a token and returns it (the caller prints it; it is not kept).
pub fn create(data_dir: &Path, role: Role, scope: &Scope, label: &str) -> anyhow::Result<String> {
    let store = open(data_dir)?;
    let (_, token) = store.create_token(role, scope, label, "cli")?;
    store.flush_blocking()?;
    Ok(token)
}

fn describe(t: &TokenRecord) -> String {
    let scope = match (&t.employer_id, t.counties.is_empty()) {
        (Some(e), _) => format!("employer {e}"),
        (None, false) => format!("counties {}", t.counties.join(",")),
        (None, true) => "-".into(),
    };
    let created = chrono::DateTime::from_timestamp_millis(t.created_at_ms)
        .map_or_else(String::new, |d| d.format("%Y-%m-%d %H:%M").to_string());
    let state = if t.revoked_at_ms == 0 {
        "valid"
    } else {
        "revoked"
    };
    format!(
        "{:<21} {:<16} {:<8} {:<16} {:<28} {}",
        t.id,
        t.role().label(),
        state,
        created,
        scope,
        t.label
    )
}

/// Every token as a table (never the secrets: they are not stored).
pub fn list(data_dir: &Path) -> anyhow::Result<String> {
    let store = open(data_dir)?;
    let mut out = format!(
        "{:<21} {:<16} {:<8} {:<16} {:<28} label\n",
        "token_id", "role", "state", "created (UTC)", "scope"
    );
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
