//! The console and the gRPC API against the real server on 127.0.0.1: the
//! same callers are allowed and refused the same actions, and each action
//! leaves the same audit entry (method, status code, target, role) through
//! either face.

use std::io::{Read, Write};
use std::net::TcpStream;

use jobbridge::api::pb;
use jobbridge::config::Config;
use jobbridge::domain::access::{Role, Scope};
use tonic::Code;

use crate::common::{worker, TestServer};

/// A free loopback port for the console (bound, read and released).
fn free_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// One HTTP/1.1 request; answers the status, the head and the body.
fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// Signs in to the console with `token`; answers the session cookie.
fn sign_in(addr: std::net::SocketAddr, token: &str) -> String {
    let (_, head, _) = http(addr, "GET", "/signin", "", "");
    let pre = set_cookie(&head, "jb_pre").unwrap();
    let form = serde_urlencoded::to_string([("token", token), ("pre", &pre)]).unwrap();
    let (status, head, _) = http(addr, "POST", "/signin", &format!("jb_pre={pre}"), &form);
    assert_eq!(status, 303);
    format!("jb_session={}", set_cookie(&head, "jb_session").unwrap())
}

fn token_id(token: &str) -> String {
    token.split('.').nth(1).unwrap().to_string()
}

/// The audit entries of `token` newest first: (seq, (method, code, target)).
async fn audit_of(server: &TestServer, token: &str) -> Vec<(u64, (String, i32, String))> {
    server.store.flush_blocking().unwrap();
    server
        .admin()
        .list_audit_log(pb::ListAuditLogRequest {
            page_size: 100,
            token_id: token_id(token),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries
        .into_iter()
        .map(|e| (e.seq, (e.method, e.code, e.target)))
        .collect()
}

// Multi-threaded: the test's HTTP client blocks its thread while the
// console answers on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_grpc_refuse_and_audit_alike() {
    let dir = tempfile::tempdir().unwrap();
    let console = free_port();
    let server = TestServer::start_with(
        dir.path(),
        Config {
            console_listen: Some(console),
            ..Config::in_process()
        },
    )
    .await;
    // One worker in 431202, one in 431224.
    let mut ours = worker(1);
    ours.county_code = "431202".into();
    let mut theirs = worker(2);
    theirs.county_code = "431224".into();
    theirs.household_id = "hh-000009".into();
    for w in [ours, theirs] {
        server
            .workers()
            .create_worker(pb::CreateWorkerRequest { worker: Some(w) })
            .await
            .unwrap();
    }
    let company = |c: &str| Scope {
        counties: vec![c.into()],
        employer_id: None,
    };
    // Each case: a caller, what it asks through gRPC and through the
    // console, and the code both must end in.
    let cases: Vec<(&str, String, &str, Code)> = vec![
        (
            "company reads its own worker",
            server.token(Role::ServiceCompany, company("431202")),
            "own",
            Code::Ok,
        ),
        (
            "company reads another county's worker",
            server.token(Role::ServiceCompany, company("431202")),
            "other",
            Code::NotFound,
        ),
        (
            "recruiter lists workers",
            server.token(
                Role::Recruiter,
                Scope {
                    counties: vec![],
                    employer_id: Some("gov-431202".into()),
                },
            ),
            "list",
            Code::PermissionDenied,
        ),
        (
            "reader reads coverage",
            server.token(Role::Reader, Scope::default()),
            "coverage",
            Code::Ok,
        ),
        (
            "reader lists workers",
            server.token(Role::Reader, Scope::default()),
            "list",
            Code::PermissionDenied,
        ),
    ];
    for (what, token, ask, code) in cases {
        let clients = server.clients_with(Some(&token));
        // Through gRPC.
        let got = match ask {
            "own" | "other" => {
                let id = if ask == "own" {
                    "431202/w-000001"
                } else {
                    "431224/w-000002"
                };
                clients
                    .workers()
                    .get_worker(pb::GetWorkerRequest { id: id.into() })
                    .await
                    .map(|_| ())
            }
            "list" => clients
                .workers()
                .list_workers(pb::ListWorkersRequest {
                    county_code: "431202".into(),
                    ..Default::default()
                })
                .await
                .map(|_| ()),
            _ => clients
                .reports()
                .coverage(pb::CoverageRequest::default())
                .await
                .map(|_| ()),
        };
        let grpc_code = got.err().map_or(Code::Ok, |s| s.code());
        assert_eq!(grpc_code, code, "{what} over gRPC");
        let grpc_entry = audit_of(&server, &token).await.remove(0);
        // Through the console.
        let session = sign_in(console, &token);
        let path = match ask {
            "own" => "/workers/431202/w-000001",
            "other" => "/workers/431224/w-000002",
            "list" => "/caseload?county=431202",
            _ => "/dashboard",
        };
        let (status, _, body) = http(console, "GET", path, &session, "");
        let expected_http = match code {
            Code::Ok => 200,
            Code::NotFound => 404,
            Code::PermissionDenied => 403,
            _ => unreachable!(),
        };
        assert_eq!(status, expected_http, "{what} in the console: {body}");
        // The console's first action on that page is the one asked for
        // (a worker's page reads more after it): the oldest entry after
        // the gRPC call's.
        let first = audit_of(&server, &token)
            .await
            .into_iter()
            .rfind(|(seq, _)| *seq > grpc_entry.0)
            .expect("the console's action is audited");
        assert_eq!(
            first.1, grpc_entry.1,
            "{what}: the same entry through both faces"
        );
        assert_eq!(first.1 .1, code as i32, "{what}");
    }
    server.stop().await;
}
