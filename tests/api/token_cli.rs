//! `jobbridge token create|list|revoke` on a data directory, and a served
//! revocation taking effect on the next call.

use std::path::Path;
use std::process::Command;

use crate::common::{binary, TestServer};
use jobbridge::api::pb;
use tonic::Code;

fn jobbridge(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run jobbridge");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn tokens_are_created_listed_and_revoked_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, token, err) = jobbridge(
        dir.path(),
        &[
            "token",
            "create",
            "--role",
            "service_company",
            "--scope",
            "431202,431221",
            "--label",
            "Hecheng",
        ],
    );
    assert!(ok, "{err}");
    // The token alone on standard output, so scripts can capture it.
    assert_eq!(token.lines().count(), 1);
    let token = token.trim();
    assert!(token.starts_with("jb.tok_"), "{token}");
    let id = token.split('.').nth(1).unwrap();
    let secret = token.split('.').nth(2).unwrap();

    let (ok, list, _) = jobbridge(dir.path(), &["token", "list"]);
    assert!(ok);
    let line = list.lines().find(|l| l.starts_with(id)).expect("listed");
    assert!(
        line.contains("service_company") && line.contains("valid"),
        "{line}"
    );
    assert!(
        line.contains("431202,431221") && line.contains("Hecheng"),
        "{line}"
    );
    assert!(!list.contains(secret), "the secret is never listed");

    // Scopes must fit the role; nothing is created otherwise.
    for bad in [
        vec!["token", "create", "--role", "service_company"],
        vec![
            "token",
            "create",
            "--role",
            "service_company",
            "--scope",
            "12",
        ],
        vec!["token", "create", "--role", "recruiter"],
        vec!["token", "create", "--role", "admin", "--scope", "431202"],
        vec!["token", "create", "--role", "boss"],
    ] {
        let (ok, out, err) = jobbridge(dir.path(), &bad);
        assert!(!ok, "{bad:?} was accepted: {out}");
        assert!(out.is_empty(), "{bad:?} printed {out}");
        assert!(!err.is_empty());
    }
    let (_, list, _) = jobbridge(dir.path(), &["token", "list"]);
    assert_eq!(list.lines().count(), 2, "{list}");

    let (ok, _, err) = jobbridge(dir.path(), &["token", "revoke", id]);
    assert!(ok, "{err}");
    let (_, list, _) = jobbridge(dir.path(), &["token", "list"]);
    assert!(list
        .lines()
        .any(|l| l.starts_with(id) && l.contains("revoked")));
    let (ok, _, err) = jobbridge(dir.path(), &["token", "revoke", "tok_0000000000000000"]);
    assert!(!ok && err.contains("not found"), "{err}");

    // The revoked token no longer opens the store's door.
    let store = crate::common::reopen(dir.path());
    assert!(store.authenticate(token).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_through_the_api_fails_its_next_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut admin = server.admin();
    let created = admin
        .create_token(pb::CreateTokenRequest {
            role: pb::Role::Reader as i32,
            label: "statistics bureau".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let info = created.info.unwrap();
    let mut reports = server.clients_with(Some(&created.token)).reports();
    reports
        .coverage(pb::CoverageRequest::default())
        .await
        .expect("a reader reads reports");
    let listed = admin
        .list_tokens(pb::ListTokensRequest {})
        .await
        .unwrap()
        .into_inner()
        .tokens;
    assert!(listed
        .iter()
        .any(|t| t.token_id == info.token_id && t.revoked_at.is_none()));
    admin
        .revoke_token(pb::RevokeTokenRequest {
            token_id: info.token_id.clone(),
        })
        .await
        .unwrap();
    let e = reports
        .coverage(pb::CoverageRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e}");
    // Scopes are checked when an admin creates a token too.
    let e = admin
        .create_token(pb::CreateTokenRequest {
            role: pb::Role::ServiceCompany as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("counties:"), "{e}");
    server.stop().await;
}
