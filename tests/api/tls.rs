//! TLS: the server's certificate and key, clients that do and do not trust
//! it, and `serve`'s refusal of plaintext on non-loopback addresses.
//!
//! A throw-away CA and a server certificate for `localhost` and 127.0.0.1
//! are made with rcgen at test time; nothing is read from the machine.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::common::TestServer;
use jobbridge::api::pb;
use jobbridge::config::{Config, TlsFiles};
use jobbridge::server::tls::{TlsError, TlsIdentity};

/// How long the binary may take to start serving or to exit.
const DEADLINE: Duration = Duration::from_secs(30);

/// A CA, and a server certificate it signed, all PEM.
struct Pki {
    ca: String,
    cert: String,
    key: String,
}

impl Pki {
    fn new() -> Pki {
        Pki::with_ca_name("jobbridge test CA")
    }

    /// A CA of the same name as another is another CA all the same, but
    /// the client then reports a bad signature instead of an unknown issuer.
    fn with_ca_name(ca_name: &str) -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        Pki {
            ca: ca.pem(),
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// Writes cert.pem and key.pem into `dir`.
    fn write(&self, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, &self.cert).unwrap();
        std::fs::write(&key, &self.key).unwrap();
        (cert, key)
    }
}

/// A TLS endpoint for `addr` that trusts `ca_pem`; `domain` overrides the
/// name checked against the certificate (default: the IP address).
fn tls_endpoint(addr: SocketAddr, ca_pem: &str, domain: Option<&str>) -> Endpoint {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem));
    if let Some(domain) = domain {
        tls = tls.domain_name(domain);
    }
    endpoint(&format!("https://{addr}"))
        .tls_config(tls)
        .expect("client TLS config")
}

fn endpoint(uri: &str) -> Endpoint {
    Endpoint::from_shared(uri.to_owned())
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
}

/// Connects through `endpoint` and asks the health service about Workers;
/// any failure, in connecting or in the call, as text with its causes.
async fn health(endpoint: Endpoint) -> Result<i32, String> {
    let channel = endpoint.connect().await.map_err(|e| chain(&e))?;
    let request = HealthCheckRequest {
        service: "jobbridge.v1.Workers".into(),
    };
    HealthClient::new(channel)
        .check(request)
        .await
        .map(|r| r.into_inner().status)
        .map_err(|s| chain(&s))
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn start_tls(dir: &Path, pki: &Pki) -> TestServer {
    // server::open_and_run reads and checks the files when it starts.
    let pki_dir = dir.join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    let (cert, key) = pki.write(&pki_dir);
    let options = Config {
        tls: Some(TlsFiles { cert, key }),
        ..Config::in_process()
    };
    TestServer::start_connecting(dir, options, |addr| {
        tls_endpoint(addr, &pki.ca, Some("localhost"))
    })
    .await
}

#[tokio::test]
async fn a_client_that_trusts_the_ca_gets_replies_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let server = start_tls(dir.path(), &pki).await;

    let status = server
        .workers()
        .get_worker(pb::GetWorkerRequest {
            id: "w-000404".into(),
        })
        .await
        .expect_err("no such worker");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let mut workers = server.workers();
    workers
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(crate::common::worker(1)),
            ..Default::default()
        })
        .await
        .expect("upsert over TLS");
    let got = workers
        .get_worker(pb::GetWorkerRequest {
            id: "w-000001".into(),
        })
        .await
        .expect("get over TLS")
        .into_inner();
    assert_eq!(got.worker.unwrap().id, "431202/w-000001");

    // The certificate's IP address entry works as well as its DNS name.
    let by_ip = health(tls_endpoint(server.addr, &pki.ca, None)).await;
    assert_eq!(by_ip, Ok(ServingStatus::Serving as i32));
    server.stop().await;
}

#[tokio::test]
async fn a_plaintext_client_is_refused_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let server = start_tls(dir.path(), &pki).await;

    let plain = health(endpoint(&format!("http://{}", server.addr))).await;
    assert!(plain.is_err(), "plaintext call succeeded: {plain:?}");

    // A failed handshake costs that connection only.
    let tls = health(tls_endpoint(server.addr, &pki.ca, Some("localhost"))).await;
    assert_eq!(tls, Ok(ServingStatus::Serving as i32));
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let server = start_tls(dir.path(), &pki).await;

    let other_ca = Pki::with_ca_name("another test CA").ca;
    let untrusted = health(tls_endpoint(server.addr, &other_ca, Some("localhost"))).await;
    let message = untrusted.expect_err("a client trusting another CA connected");
    assert!(
        message.contains("UnknownIssuer"),
        "not a certificate error: {message}"
    );
    let wrong_name = health(tls_endpoint(server.addr, &pki.ca, Some("example.org"))).await;
    let message = wrong_name.expect_err("the certificate is not for example.org");
    assert!(
        message.contains("not valid for name"),
        "not a name error: {message}"
    );
    server.stop().await;
}

#[test]
fn bad_certificate_and_key_files_are_named_with_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let (cert, key) = pki.write(dir.path());
    assert!(TlsIdentity::load(&cert, &key).is_ok());

    let missing = dir.path().join("missing.pem");
    let e = TlsIdentity::load(&missing, &key).unwrap_err();
    assert!(
        matches!(
            e,
            TlsError::Read {
                what: "certificate",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("missing.pem"), "{e}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let e = TlsIdentity::load(&garbage, &key).unwrap_err();
    assert!(e.to_string().contains("garbage.pem"), "{e}");
    assert!(e.to_string().contains("no certificate found"), "{e}");
    let e = TlsIdentity::load(&cert, &garbage).unwrap_err();
    assert!(e.to_string().contains("garbage.pem"), "{e}");
    assert!(e.to_string().contains("no private key found"), "{e}");

    let e = TlsIdentity::load(&key, &cert).unwrap_err();
    assert!(e.to_string().contains("swapped"), "{e}");

    let broken = dir.path().join("broken.pem");
    std::fs::write(&broken, "-----BEGIN PRIVATE KEY-----\n!!!!\n").unwrap();
    let e = TlsIdentity::load(&cert, &broken).unwrap_err();
    assert!(matches!(e, TlsError::Key { .. }), "{e:?}");
    assert!(e.to_string().contains("broken.pem"), "{e}");

    let other_key = dir.path().join("other-key.pem");
    std::fs::write(&other_key, Pki::new().key).unwrap();
    let e = TlsIdentity::load(&cert, &other_key).unwrap_err();
    assert!(matches!(e, TlsError::Mismatch { .. }), "{e:?}");
    assert!(
        e.to_string().contains("other-key.pem") && e.to_string().contains("cert.pem"),
        "{e}"
    );
}

/// `jobbridge serve` with `args`, stdin closed, logs captured.
fn serve(args: &[&str], data_dir: &Path) -> Command {
    let mut command = Command::new(crate::common::binary());
    command
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--no-schedule")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("JOBBRIDGE_LISTEN")
        .env_remove("JOBBRIDGE_TLS_CERT")
        .env_remove("JOBBRIDGE_TLS_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Runs a `serve` that is expected to exit at once, with a deadline.
fn run_to_exit(mut command: Command) -> Output {
    let child = command.spawn().expect("spawn jobbridge serve");
    let (done, exited) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    exited
        .recv_timeout(DEADLINE)
        .expect("serve exited within the deadline")
        .expect("serve output")
}

#[test]
fn serve_refuses_plaintext_on_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run_to_exit(serve(&["--listen", "0.0.0.0:0"], &data));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started: {stderr}");
    for flag in ["--tls-cert", "--tls-key", "--insecure"] {
        assert!(stderr.contains(flag), "{flag} not named: {stderr}");
    }
    assert!(!data.exists(), "the data directory was created");
}

#[test]
fn serve_needs_both_tls_flags_and_readable_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run_to_exit(serve(&["--tls-cert", "cert.pem"], &data));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started: {stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");

    let mut command = serve(&[], &data);
    command.env("JOBBRIDGE_TLS_KEY", "key.pem");
    let out = run_to_exit(command);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started: {stderr}");
    assert!(stderr.contains("--tls-cert"), "{stderr}");

    let missing = dir.path().join("missing-cert.pem");
    let args = [
        "--tls-cert",
        missing.to_str().unwrap(),
        "--tls-key",
        "key.pem",
    ];
    let out = run_to_exit(serve(&args, &data));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started: {stderr}");
    assert!(stderr.contains("missing-cert.pem"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!data.exists(), "the data directory was created");
}

/// A running `jobbridge serve`; dropping it kills it.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command.spawn().expect("spawn jobbridge serve");
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for the "serving gRPC" line and returns the address it names.
    fn serving_addr(&mut self) -> SocketAddr {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|e| {
                panic!(
                    "no \"serving gRPC\" line ({e}); log:\n{}",
                    self.log.join("\n")
                )
            });
            self.log.push(line.clone());
            if line.contains("serving gRPC") {
                let addr = line
                    .split_whitespace()
                    .find_map(|field| field.strip_prefix("addr="))
                    .unwrap_or_else(|| panic!("no addr in {line:?}"));
                return addr.parse().expect("listen address");
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn insecure_lets_serve_start_plaintext_on_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Running::start(serve(
        &["--listen", "0.0.0.0:0", "--insecure"],
        &dir.path().join("data"),
    ));
    let addr = server.serving_addr();
    assert!(
        server
            .log
            .iter()
            .any(|l| l.contains("WARN") && l.contains("--insecure")),
        "no warning:\n{}",
        server.log.join("\n")
    );
    // Talk to it through loopback only.
    let local = SocketAddr::from(([127, 0, 0, 1], addr.port()));
    let reply = health(endpoint(&format!("http://{local}"))).await;
    assert_eq!(reply, Ok(ServingStatus::Serving as i32));
}

#[tokio::test]
async fn serve_with_tls_flags_serves_tls() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let (cert, key) = pki.write(dir.path());
    let mut command = serve(&["--listen", "127.0.0.1:0"], &dir.path().join("data"));
    command
        .env("JOBBRIDGE_TLS_CERT", &cert)
        .env("JOBBRIDGE_TLS_KEY", &key);
    let mut server = Running::start(command);
    let addr = server.serving_addr();
    assert!(
        server.log.iter().any(|l| l.contains("tls=true")),
        "{}",
        server.log.join("\n")
    );
    let reply = health(tls_endpoint(addr, &pki.ca, Some("localhost"))).await;
    assert_eq!(reply, Ok(ServingStatus::Serving as i32));
    let plain = health(endpoint(&format!("http://{addr}"))).await;
    assert!(plain.is_err(), "plaintext call succeeded: {plain:?}");
}

/// Runs `jobbridge report --server ADDR` with `extra` args, off the runtime.
async fn report_through(addr: String, extra: Vec<String>) -> Output {
    let mut command = Command::new(crate::common::binary());
    command
        .args(["report", "--server", &addr])
        .args(extra)
        .env_remove("JOBBRIDGE_TLS_CA")
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run jobbridge report")
}

#[tokio::test]
async fn report_reaches_a_tls_server_with_tls_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let server = start_tls(dir.path(), &pki).await;
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca).unwrap();
    let with_ca = vec![
        "--tls-ca".to_owned(),
        ca.display().to_string(),
        "--token".to_owned(),
        server.admin_token.clone(),
    ];

    let out = report_through(server.addr.to_string(), with_ca.clone()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());

    let out = report_through(format!("https://{}", server.addr), vec![]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "connected without a CA");
    assert!(stderr.contains("--tls-ca"), "{stderr}");

    let out = report_through(format!("http://{}", server.addr), with_ca).await;
    assert!(!out.status.success(), "--tls-ca with http:// accepted");
    server.stop().await;
}
