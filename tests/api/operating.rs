//! `jobbridge serve` run as an operator runs it: a child process with one
//! config file, a first admin token written to a file, JSON logs, a
//! Prometheus endpoint, tokens made on the live server, and a SIGTERM that
//! drains (health NOT_SERVING, open streams cut with UNAVAILABLE after the
//! grace period, the process gone soon after, acknowledged writes kept).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jobbridge::api::pb;
use jobbridge::api::pb::workers_client::WorkersClient;
use tonic::transport::Endpoint;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// How long a started server may take to write its token and serve.
const START_DEADLINE: Duration = Duration::from_secs(30);

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A `jobbridge serve` child; killed if dropped while running.
struct Served {
    child: Child,
    addr: SocketAddr,
    token: String,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve --config FILE` with `settings` as the file's text (the
/// listen address, data directory and admin token file are added), and
/// waits until the admin token file is written and health says SERVING.
async fn serve(dir: &Path, settings: &str, extra: &[&str]) -> Served {
    let addr = free_addr();
    let token_file = dir.join("admin.token");
    let config = dir.join("jobbridge.toml");
    let data = dir.join("data");
    std::fs::write(
        &config,
        format!(
            "listen = \"{addr}\"\ndata_dir = {data:?}\nadmin_token_file = {token_file:?}\n{settings}"
        ),
    )
    .unwrap();
    let log = dir.join("serve.log");
    let child = Command::new(crate::common::binary())
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .args(extra)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn jobbridge serve");
    let mut served = Served {
        child,
        addr,
        token: String::new(),
        log,
    };
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            panic!("serve exited with {status}: {}", served.log_text());
        }
        if let Ok(token) = std::fs::read_to_string(&token_file) {
            if serving(addr).await {
                served.token = token.trim().to_string();
                return served;
            }
        }
        assert!(
            Instant::now() < deadline,
            "not serving: {}",
            served.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Served {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn channel(&self, token: Option<&str>) -> crate::common::Channel {
        let raw = endpoint(self.addr).connect().await.expect("connect");
        crate::common::Channel::new(raw, token).unwrap()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the exit, up to `limit`; the time it took.
    fn wait_exit(&mut self, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit {status}: {}", self.log_text());
                return started.elapsed();
            }
            assert!(
                started.elapsed() < limit,
                "still running {limit:?} after SIGTERM: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint::from_shared(format!("http://{addr}")).unwrap()
}

async fn serving(addr: SocketAddr) -> bool {
    let Ok(channel) = endpoint(addr).connect().await else {
        return false;
    };
    matches!(
        HealthClient::new(channel)
            .check(HealthCheckRequest { service: String::new() })
            .await,
        Ok(r) if r.get_ref().status == ServingStatus::Serving as i32
    )
}

fn jobbridge(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(crate::common::binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_logs_are_json_and_tokens_are_made_live() {
    let dir = tempfile::tempdir().unwrap();
    let grace = Duration::from_secs(1);
    let mut server = serve(
        dir.path(),
        "log_format = \"json\"\nshutdown_grace_secs = 1.0\n[batch]\nschedule = false\n",
        &[],
    )
    .await;

    // The first admin token: readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Tokens on the live server, through AdminService.
    let addr = server.addr.to_string();
    let (code, made, err) = jobbridge(&[
        "token",
        "create",
        "--server",
        &addr,
        "--token",
        &server.token,
        "--role",
        "reader",
        "--label",
        "dashboards",
    ]);
    assert_eq!(code, 0, "{err}");
    let reader = made.trim().to_string();
    assert!(reader.starts_with("jb.tok_"), "{reader}");
    let reader_id = reader.split('.').nth(1).unwrap().to_string();
    let (code, list, err) =
        jobbridge(&["token", "list", "--server", &addr, "--token", &server.token]);
    assert_eq!(code, 0, "{err}");
    assert!(
        list.lines()
            .any(|l| l.starts_with(&reader_id) && l.contains("dashboards")),
        "{list}"
    );
    let (code, line, err) = jobbridge(&[
        "token",
        "revoke",
        "--server",
        &addr,
        "--token",
        &server.token,
        &reader_id,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(line.contains("revoked"), "{line}");
    // A refused call is a data error (65); no server is 69.
    let (code, _, err) = jobbridge(&["token", "list", "--server", &addr, "--token", &reader]);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("Unauthenticated"), "{err}");
    let nobody = free_addr().to_string();
    let (code, _, err) = jobbridge(&["token", "list", "--server", &nobody, "--token", "x"]);
    assert_eq!(code, 69, "{err}");
    // The data directory is the running server's: said so, exit 69.
    let data = dir.path().join("data");
    let (code, _, err) = jobbridge(&["token", "list", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(code, 69, "{err}");
    assert!(err.contains("in use by a running server"), "{err}");
    assert!(err.contains(&format!("pid {}", server.child.id())), "{err}");

    // An acknowledged write, a health watcher and an import left open.
    let channel = server.channel(Some(&server.token)).await;
    let mut workers = WorkersClient::new(channel.clone());
    let acked = crate::common::worker(1);
    workers
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(acked.clone()),
        })
        .await
        .expect("create");
    let mut watch = HealthClient::new(server.channel(None).await)
        .watch(HealthCheckRequest {
            service: "jobbridge.v1.Workers".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);
    let (rows, rx) = tokio::sync::mpsc::channel(4);
    rows.send(pb::ImportWorkersRequest {
        worker: Some(crate::common::worker(2)),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut importer = WorkersClient::new(channel.clone());
    let import = tokio::spawn(async move {
        importer
            .import_workers(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    // The import reaches the server before the signal: a call made after
    // it would be refused at the door, not cut.
    workers
        .get_worker(pb::GetWorkerRequest {
            id: acked.id.clone(),
        })
        .await
        .unwrap();

    // Taken before the signal goes: the server's grace cannot start earlier.
    let signalled = Instant::now();
    server.terminate();
    let next = watch
        .message()
        .await
        .expect("watch goes on")
        .expect("a status");
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    let cut = import.await.unwrap().expect_err("the open import is cut");
    assert_eq!(cut.code(), Code::Unavailable, "{cut:?}");
    assert!(
        signalled.elapsed() >= grace,
        "cut before the grace period after {:?}: {cut:?}",
        signalled.elapsed()
    );
    drop(rows);
    server.wait_exit((grace + Duration::from_secs(2)).saturating_sub(signalled.elapsed()));

    // Acknowledged before the signal: still there.
    let store = crate::common::reopen(&data);
    assert!(store
        .worker(&crate::common::whole_id(&acked.id, &acked.county_code))
        .unwrap()
        .is_some());
    drop(store);

    // JSON lines, one request line per call with method, code, latency
    // and token id; no colour codes and no personal field.
    let log = server.log_text();
    assert!(!log.contains('\u{1b}'), "ANSI codes in a file");
    assert!(!log.contains(&acked.name) && !log.contains(&acked.phone));
    let mut requests = Vec::new();
    for line in log.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if value["message"] == "request" {
            requests.push(value);
        }
    }
    let created = requests
        .iter()
        .find(|r| r["method"] == "/jobbridge.v1.Workers/CreateWorker")
        .expect("a line for CreateWorker");
    assert_eq!(created["code"], "OK");
    assert!(created["latency_ms"].as_f64().unwrap() >= 0.0);
    let admin_id = server.token.split('.').nth(1).unwrap();
    assert_eq!(created["token_id"], admin_id);
    let refused = requests
        .iter()
        .find(|r| r["code"] == "UNAUTHENTICATED")
        .expect("a line for the revoked token's call");
    assert_eq!(refused["method"], "/jobbridge.v1.AdminService/ListTokens");
    let import_line = requests
        .iter()
        .find(|r| r["method"] == "/jobbridge.v1.Workers/ImportWorkers")
        .expect("a line for the import");
    assert_eq!(import_line["code"], "UNAVAILABLE");
}

/// The value of the sample `name{labels}` in a Prometheus text page.
fn sample(page: &str, name_and_labels: &str) -> Option<f64> {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

async fn scrape(addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_known_sequence_of_calls_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = free_addr();
    // A burst of 6 calls per token, refilled far slower than the test runs.
    let server = serve(
        dir.path(),
        &format!(
            "metrics_listen = \"{metrics}\"\n[rate_limit]\nper_second = 0.0001\nburst = 6.0\n\
             [batch]\nschedule = false\n"
        ),
        &[],
    )
    .await;
    let mut admin = WorkersClient::new(server.channel(Some(&server.token)).await);
    for n in 0..3 {
        admin
            .create_worker(pb::CreateWorkerRequest {
                worker: Some(crate::common::worker(n)),
            })
            .await
            .unwrap();
    }
    let e = admin
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(crate::common::worker(0)),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let get = |id: &str| pb::GetWorkerRequest { id: id.into() };
    admin.get_worker(get("w-000001")).await.unwrap();
    let e = admin.get_worker(get("w-none")).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    // The burst is spent: two refusals.
    for _ in 0..2 {
        let e = admin.get_worker(get("w-000001")).await.unwrap_err();
        assert_eq!(e.code(), Code::ResourceExhausted);
    }
    let mut anonymous = WorkersClient::new(server.channel(None).await);
    let e = anonymous.get_worker(get("w-000001")).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);

    // A call's count is recorded when its reply's last frame leaves the
    // server, which can be a moment after the client has read it: scrape
    // until the last call shows (at most 2 s), then compare exactly.
    let deadline = Instant::now() + Duration::from_secs(2);
    let last_call = "jobbridge_grpc_requests_total{service=\"jobbridge.v1.Workers\",method=\"GetWorker\",code=\"UNAUTHENTICATED\"}";
    let mut page = scrape(metrics).await;
    while sample(&page, last_call).is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = scrape(metrics).await;
    }
    let requests = |method: &str, code: &str| {
        sample(
            &page,
            &format!(
                "jobbridge_grpc_requests_total{{service=\"jobbridge.v1.Workers\",method=\"{method}\",code=\"{code}\"}}"
            ),
        )
    };
    assert_eq!(requests("CreateWorker", "OK"), Some(3.0), "{page}");
    assert_eq!(requests("CreateWorker", "ALREADY_EXISTS"), Some(1.0));
    assert_eq!(requests("GetWorker", "OK"), Some(1.0));
    assert_eq!(requests("GetWorker", "NOT_FOUND"), Some(1.0));
    assert_eq!(requests("GetWorker", "RESOURCE_EXHAUSTED"), Some(2.0));
    assert_eq!(requests("GetWorker", "UNAUTHENTICATED"), Some(1.0));
    assert_eq!(sample(&page, "jobbridge_rate_limited_total"), Some(2.0));
    let latency = |method: &str| {
        sample(
            &page,
            &format!(
                "jobbridge_grpc_request_duration_seconds_count{{service=\"jobbridge.v1.Workers\",method=\"{method}\"}}"
            ),
        )
    };
    assert_eq!(latency("CreateWorker"), Some(4.0));
    assert_eq!(latency("GetWorker"), Some(5.0));
    assert_eq!(
        sample(&page, "jobbridge_index_records{kind=\"worker\"}"),
        Some(3.0)
    );
    assert!(sample(&page, "jobbridge_store_size_bytes").unwrap() > 0.0);
    // Every acknowledged write went through a group-commit flush.
    assert!(sample(&page, "jobbridge_commit_batch_size_sum").unwrap() >= 3.0);
    assert!(sample(&page, "jobbridge_commit_flush_duration_seconds_count").unwrap() >= 1.0);
    drop(server);
}

/// A what-if whose caller goes away is given up: its deadline passes, the
/// server drops the call, the work stops at its next check (counted in
/// `jobbridge_what_ifs_abandoned_total`) and the next what-if has the turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_what_if_whose_caller_goes_away_is_given_up() {
    let dir = tempfile::tempdir().unwrap();
    let opening_id = {
        let store = jobbridge::store::Store::open(&dir.path().join("data")).unwrap();
        let year = jobbridge::domain::current_year();
        let today = chrono::Utc::now().date_naive();
        // A tenth of the demo: the first what-if after a start scores every
        // candidate, far longer than the deadline below.
        let data = jobbridge::demo::generate(0.1, 7, year, today);
        let key = jobbridge::store::id_key(None, None, &store).unwrap().0;
        jobbridge::demo::load(&store, &key, &data, year).unwrap();
        let id = data.openings[0].id.clone();
        store.flush_blocking().unwrap();
        id
    };
    let metrics = free_addr();
    let server = serve(
        dir.path(),
        &format!("metrics_listen = \"{metrics}\"\n[batch]\nschedule = false\n"),
        &[],
    )
    .await;
    let mut batch = pb::batch_client::BatchClient::new(server.channel(Some(&server.token)).await);
    let close = || pb::WhatIfRequest {
        changes: vec![pb::WhatIfChange {
            change: Some(pb::what_if_change::Change::CloseOpeningId(
                opening_id.clone(),
            )),
        }],
        limit: 1,
    };
    let mut hurried = tonic::Request::new(close());
    hurried.set_timeout(Duration::from_millis(100));
    let e = batch.what_if(hurried).await.unwrap_err();
    assert!(
        matches!(e.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{e:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = scrape(metrics).await;
        if sample(&page, "jobbridge_what_ifs_abandoned_total") == Some(1.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the what-if was not given up:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let answer = batch.what_if(close()).await.unwrap().into_inner();
    assert!(answer.before.is_some() && answer.after.is_some());
    let page = scrape(metrics).await;
    assert_eq!(
        sample(&page, "jobbridge_what_ifs_abandoned_total"),
        Some(1.0)
    );
}

#[test]
fn completions_and_man_page_are_generated() {
    let (code, script, err) = jobbridge(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    assert!(script.contains("_jobbridge") && script.contains("serve"));
    let (code, page, err) = jobbridge(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH jobbridge"), "{page}");
    // Usage errors exit 2.
    let (code, _, _) = jobbridge(&["serve", "--no-such-flag"]);
    assert_eq!(code, 2);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "listen_on = \"127.0.0.1:1\"\n").unwrap();
    let (code, _, err) = jobbridge(&["serve", "--config", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("listen_on"), "{err}");
    // A wrong --scope is a usage error too, and nothing is opened.
    let data = dir.path().join("data");
    let (code, _, err) = jobbridge(&[
        "token",
        "create",
        "--data-dir",
        data.to_str().unwrap(),
        "--role",
        "recruiter",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exactly one --scope"), "{err}");
    // A completion script read only in part is not an error.
    let mut child = Command::new(crate::common::binary())
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_example_config_serves() {
    // The example file as shipped is accepted by `serve` itself (parsed and
    // checked; `--listen` on a taken port makes it stop right after).
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/jobbridge.example.toml");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = jobbridge(&[
        "serve",
        "--config",
        example,
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--listen",
        &taken.local_addr().unwrap().to_string(),
    ]);
    assert_eq!(code, 69, "{err}");
    assert!(err.contains("cannot listen"), "{err}");
}

/// The exit-code table (README, `cli/exit.rs`) as a
/// script sees it, each class provoked through both targets where it
/// applies: every command refused by a server exits 65, and finding no
/// server, or its data directory held by a running server, 69; a usage
/// error is 2 either way; a refused ledger file and a run or token that
/// is not there are 65 either way; an unknown county name is a usage error
/// (2) while a known one is read as its code; a taken metrics port is 69
/// and a wrong national id key stops `serve` with 65 (which systemd's
/// `RestartPreventExitStatus=2 65` does not restart). 70 (a bug or a
/// broken store) is not provoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_follow_the_table_whatever_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path(), "[batch]\nschedule = false\n", &[]).await;
    let addr = server.addr.to_string();
    let token = server.token.clone();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let held = path("data");
    let (code, _, err) = jobbridge(&["template", "workers", "--out", &path("w.csv")]);
    assert_eq!(code, 0, "{err}");
    let (ledger, out) = (path("w.csv"), path("out"));
    let commands: &[&[&str]] = &[
        &["report"],
        &["export", "workers", "--out", &out],
        &["policy"],
        &["batch", "--dry-run"],
        &["batch", "list"],
        &["batch", "diff", "1"],
        &["whatif", "--close", "o-1"],
        &["token", "list"],
        &["import", "workers", &ledger],
        &["backup", "--out", &out],
    ];
    let nobody = free_addr().to_string();
    for command in commands {
        let with = |target: &[&str]| {
            let mut args = command.to_vec();
            args.extend(target);
            jobbridge(&args)
        };
        let bogus = "jb.tok_0000000000000000.nothing";
        let (code, _, err) = with(&["--server", &addr, "--token", bogus]);
        assert_eq!(code, 65, "{command:?}: {err}");
        assert!(err.contains("Unauthenticated"), "{command:?}: {err}");
        let (code, _, err) = with(&["--server", &nobody, "--token", bogus]);
        assert_eq!(code, 69, "{command:?} without a server: {err}");
        let (code, _, err) = with(&["--data-dir", &held]);
        assert_eq!(code, 69, "{command:?} on the server's directory: {err}");
        assert!(err.contains("in use by a running server"), "{err}");
    }

    // The same command through the server and on a data directory of its
    // own: done (0), a usage error (2), refused input (65).
    let offline = path("offline");
    let both: [&[&str]; 2] = [
        &["--server", &addr, "--token", &token],
        &["--data-dir", &offline],
    ];
    let notes = path("notes.txt");
    std::fs::write(&notes, "not a ledger\n").unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["report"], 0, ""),
        (
            &["token", "create", "--role", "recruiter"],
            2,
            "exactly one --scope",
        ),
        (&["policy", "--county", "Nowhere"], 2, "unknown region name"),
        (&["import", "workers", &notes], 65, ".csv or .xlsx"),
        (&["batch", "diff", "999"], 65, "999"),
        (
            &["token", "revoke", "tok_0000000000000000"],
            65,
            "tok_0000000000000000",
        ),
    ];
    for (command, expected, said) in cases {
        for target in both {
            let mut args = command.to_vec();
            args.extend(target);
            let (code, _, err) = jobbridge(&args);
            assert_eq!(code, *expected, "{args:?}: {err}");
            assert!(err.contains(said), "{args:?}: {err}");
        }
    }
    // The config file is read on a data directory only: a wrong one is a
    // usage error, as it is for `serve`.
    let bad = path("bad.toml");
    std::fs::write(&bad, "[policy]\nno_such_rule = 1\n").unwrap();
    let (code, _, err) = jobbridge(&["policy", "--config", &bad, "--data-dir", &offline]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no_such_rule"), "{err}");

    let policy = |county: &str| {
        jobbridge(&[
            "policy", "--server", &addr, "--token", &token, "--county", county,
        ])
    };
    let (code, _, err) = policy("鹤城区");
    assert_eq!(code, 0, "{err}");

    // A taken metrics port, on another data directory.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = dir.path().join("other");
    let metrics = taken.local_addr().unwrap().to_string();
    let listen = free_addr().to_string();
    let (code, _, err) = jobbridge(&[
        "serve",
        "--data-dir",
        other.to_str().unwrap(),
        "--listen",
        &listen,
        "--metrics-listen",
        &metrics,
    ]);
    assert_eq!(code, 69, "{err}");
    drop(taken);

    // The first server's directory with another national id key.
    server.terminate();
    server.wait_exit(Duration::from_secs(20));
    let out = Command::new(crate::common::binary())
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--listen", &free_addr().to_string()])
        .env("JOBBRIDGE_ID_KEY", "ab".repeat(32))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert!(err.contains("national id key"), "{err}");
}
