//! The processes the browser test drives: `jobbridge serve --demo` and
//! chromedriver, each killed when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{self, Clients};
use crate::{chromedriver, START_DEADLINE};

/// A `jobbridge serve --demo` child process; killed when dropped.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub console: String,
    pub grpc: SocketAddr,
    pub admin_token: String,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts the server on ports of its choosing and reads the console's
    /// address and the admin token from its stdout, the gRPC address from
    /// its log.
    pub fn start() -> Served {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("serve.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(common::binary())
            .arg("serve")
            .arg("--demo")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0"])
            .arg("--no-schedule")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env_remove("JOBBRIDGE_LISTEN")
            .env_remove("JOBBRIDGE_TLS_CERT")
            .env_remove("JOBBRIDGE_TLS_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn jobbridge serve --demo");
        // Read stdout to its end (the pipe must never fill up).
        let out = Arc::new(Mutex::new(Vec::<String>::new()));
        let stdout = child.stdout.take().unwrap();
        let lines = out.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let printed = out.lock().unwrap().clone();
            let token = printed
                .iter()
                .map(|l| l.trim())
                .find(|l| l.starts_with("jb.") && !l.contains(' '));
            let console = printed
                .iter()
                .find_map(|l| l.strip_prefix("Console: "))
                .and_then(|l| l.split_whitespace().next());
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let grpc = log
                .lines()
                .filter(|l| l.contains("serving gRPC"))
                .find_map(|l| l.split_whitespace().find_map(|f| f.strip_prefix("addr=")));
            if let (Some(token), Some(console), Some(grpc)) = (token, console, grpc) {
                return Served {
                    console: console.trim_end_matches('/').to_string(),
                    grpc: grpc.parse().expect("gRPC address"),
                    admin_token: token.to_string(),
                    child,
                    _dir: dir,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited with {status}; stdout {printed:?}; log:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "serve --demo not up after {START_DEADLINE:?}; stdout {printed:?}; log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The gRPC clients of `token`.
    pub async fn clients(&self, token: &str) -> Clients {
        let raw = tonic::transport::Endpoint::from_shared(format!("http://{}", self.grpc))
            .unwrap()
            .connect()
            .await
            .expect("connect to the gRPC port");
        Clients::new(common::Channel::new(raw, Some(token)).unwrap())
    }

    /// SIGTERM, and the exit (the store flushed).
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver on a free loopback port. Dropped, it ends the browser
/// session first (chromium outlives a killed chromedriver), then itself.
pub struct Driver {
    child: Child,
    port: u16,
    pub url: String,
    pub profile: tempfile::TempDir,
    /// The session opened on it, to end if the test panics.
    pub session: Mutex<Option<String>>,
}

impl Driver {
    pub fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let deadline = Instant::now() + START_DEADLINE;
        // chromedriver is not ours to hand a bound listener to: wait for
        // its port to answer.
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            profile: tempfile::tempdir().unwrap(),
            session: Mutex::new(None),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let session = self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let (Some(id), Ok(mut conn)) = (session, TcpStream::connect(("127.0.0.1", self.port))) {
            // WebDriver's Delete Session, by hand: Drop cannot await.
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                conn,
                "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = std::io::Read::read_to_end(&mut conn, &mut Vec::new());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
