//! `jobbridge serve` and `jobbridge check` as child processes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tonic::transport::Endpoint;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::common;

/// How long a started server may take to report serving.
const START_DEADLINE: Duration = Duration::from_secs(20);
/// How long a stopped server may take to exit.
pub const STOP_DEADLINE: Duration = Duration::from_secs(15);
/// Interval between readiness and exit polls.
const POLL: Duration = Duration::from_millis(10);

/// `jobbridge serve` as a child process. Dropping it kills it.
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    token: String,
}

/// Creates an admin token with `jobbridge token create` (the server must
/// not be running on `dir`).
pub fn admin_token(dir: &Path) -> String {
    let out = Command::new(common::binary())
        .args([
            "token",
            "create",
            "--role",
            "admin",
            "--label",
            "test",
            "--data-dir",
        ])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run jobbridge token create");
    assert!(
        out.status.success(),
        "token create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).expect("utf-8 token");
    assert_eq!(token.lines().count(), 1, "the token alone: {token:?}");
    token.trim().to_string()
}

impl ServerProcess {
    /// Starts the binary over `dir` on a free port and waits until it
    /// reports serving. Tries another port if the chosen one was taken
    /// between choosing and binding.
    pub async fn start(dir: &Path, log: PathBuf) -> ServerProcess {
        Self::start_with(dir, log, &[]).await
    }

    /// As [`ServerProcess::start`], with more `serve` flags.
    #[allow(dead_code)] // Not every test crate that includes this file uses it.
    pub async fn start_with(dir: &Path, log: PathBuf, flags: &[&str]) -> ServerProcess {
        let token = admin_token(dir);
        for _ in 0..3 {
            let addr = free_addr();
            let child = Command::new(common::binary())
                .arg("serve")
                .arg("--listen")
                .arg(addr.to_string())
                .arg("--data-dir")
                .arg(dir)
                .args(flags)
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("create log file"))
                .spawn()
                .expect("spawn jobbridge serve");
            let mut server = ServerProcess {
                child,
                addr,
                log: log.clone(),
                token: token.clone(),
            };
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(_) if server.log_tail().contains("cannot listen") => continue,
                Err(e) => panic!("server did not start: {e}\n{}", server.log_tail()),
            }
        }
        panic!("no free port found in 3 tries");
    }

    /// Polls the health service until it answers SERVING, the child exits
    /// or the deadline passes.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("exited with {status}"));
            }
            if serving(self.addr).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not serving after {START_DEADLINE:?}"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The address it serves on.
    #[allow(dead_code)] // Not every test crate that includes this file uses it.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A fresh connection, as a separate client process would have.
    pub async fn connect(&self) -> common::Channel {
        let channel = endpoint(self.addr)
            .connect()
            .await
            .expect("connect to server");
        common::Channel::new(channel, Some(&self.token)).unwrap()
    }

    /// SIGKILL (what `Child::kill` sends on unix), then reap.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap killed server");
    }

    /// Sends SIGTERM and asserts that the server exits with success.
    pub async fn expect_clean_exit(&mut self) {
        let status = self.terminate().await;
        assert!(
            status.success(),
            "server exited with {status} after SIGTERM\n{}",
            self.log_tail()
        );
    }

    async fn terminate(&mut self) -> ExitStatus {
        // `unsafe_code` is forbidden crate-wide by Cargo.toml's [lints], tests
        // included, so `libc::kill` cannot be called here: use kill(1).
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill(1)");
        assert!(sent.success(), "kill -TERM failed: {sent}");
        let deadline = Instant::now() + STOP_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server still running {STOP_DEADLINE:?} after SIGTERM\n{}",
                self.log_tail()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let bytes = std::fs::read(&self.log).unwrap_or_default();
        let from = bytes.len().saturating_sub(4000);
        String::from_utf8_lossy(&bytes[from..]).into_owned()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port that was free a moment ago (the child binds it again).
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr")
}

fn endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("valid uri")
        .connect_timeout(Duration::from_secs(1))
}

async fn serving(addr: SocketAddr) -> bool {
    let Ok(channel) = endpoint(addr).connect().await else {
        return false;
    };
    let request = HealthCheckRequest {
        service: "jobbridge.v1.Workers".into(),
    };
    HealthClient::new(channel)
        .check(request)
        .await
        .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
}

/// Runs `jobbridge check` (indexes agree with records) and asserts success.
pub async fn check_indexes(dir: &Path) {
    if let Err(output) = run_check(dir).await {
        panic!("jobbridge check failed ({output})");
    }
}

/// Runs `jobbridge check`; its exit status and output if it failed.
#[allow(dead_code)] // Not every test crate that includes this file uses it.
pub async fn run_check(dir: &Path) -> Result<(), String> {
    let mut command = Command::new(common::binary());
    command.arg("check").arg("--data-dir").arg(dir);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run jobbridge check");
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}
