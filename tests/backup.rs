//! Backups of the real server while clients write, and restores through
//! the binary: every write answered OK before the backup began is in the
//! restored directory, which passes `jobbridge check`; a cut file and a
//! non-empty directory are refused.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{binary, reopen, worker, TestServer};
use jobbridge::api::pb;
use jobbridge::domain::access::{Role, Scope};

const WRITERS: u32 = 4;
/// Writes each writer makes before the backup.
const WARM_UP: usize = 40;
/// Writes answered while the backup's stream is open.
const DURING: usize = 40;
const DEADLINE: Duration = Duration::from_secs(60);

/// Worker numbers whose create was answered OK, in answer order.
type Acked = Arc<Mutex<Vec<u32>>>;

/// Creates workers through gRPC until `stop`, recording each OK.
async fn write(server_channel: common::Channel, k: u32, stop: Arc<AtomicBool>, acked: Acked) {
    let mut client = common::Clients::new(server_channel).workers();
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let n = 1_000_000 * (k + 1) + i;
        client
            .create_worker(pb::CreateWorkerRequest {
                worker: Some(worker(n)),
            })
            .await
            .unwrap_or_else(|e| panic!("create worker {n}: {e}"));
        acked.lock().unwrap().push(n);
        i += 1;
    }
}

async fn wait_for(acked: &Acked, count: usize) {
    let deadline = Instant::now() + DEADLINE;
    while acked.lock().unwrap().len() < count {
        assert!(
            Instant::now() < deadline,
            "writes stopped: {count} not reached"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs the binary with `args`.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || Command::new(binary()).args(&args).output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_while_clients_write_restores_every_acknowledged_write_and_passes_check() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = TestServer::start(&data).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acked = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|k| {
            tokio::spawn(write(
                server.channel.clone(),
                k,
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    wait_for(&acked, WARM_UP * WRITERS as usize).await;

    // Other roles may not take a backup.
    for role in [Role::Reader, Role::ServiceCompany] {
        let scope = match role {
            Role::ServiceCompany => Scope {
                counties: vec!["431202".into()],
                employer_id: None,
            },
            _ => Scope::default(),
        };
        let token = server.token(role, scope);
        let refused = server
            .clients_with(Some(&token))
            .admin()
            .backup(pb::BackupRequest {})
            .await
            .expect_err("a non-admin took a backup");
        assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{role:?}");
    }

    // Everything answered OK before the backup began.
    let before: Vec<u32> = acked.lock().unwrap().clone();
    let file = root.path().join("grpc.jbbackup");
    let mut stream = server
        .admin()
        .backup(pb::BackupRequest {})
        .await
        .expect("backup")
        .into_inner();
    let mut out = std::fs::File::create(&file).unwrap();
    let mut chunks = 0;
    while let Some(chunk) = stream.message().await.expect("backup stream") {
        if chunks == 0 {
            // The server answers writes while a backup is in progress.
            let now = acked.lock().unwrap().len();
            wait_for(&acked, now + DURING).await;
        }
        assert!(chunk.data.len() <= 1 << 20);
        out.write_all(&chunk.data).unwrap();
        chunks += 1;
    }
    out.sync_all().unwrap();
    drop(out);
    assert!(chunks > 0);

    // A backup through the binary, against the same running server.
    let cli_file = root.path().join("cli.jbbackup");
    let addr = server.addr.to_string();
    let o = run(args(&[
        "backup",
        "--server",
        &addr,
        "--token",
        &server.admin_token,
        "--out",
        path(&cli_file),
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("checked"),
        "{}",
        text(&o)
    );

    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let all: Vec<u32> = acked.lock().unwrap().clone();
    // The audit log has the backup, as the admin's.
    let log = server
        .admin()
        .list_audit_log(pb::ListAuditLogRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        log.entries
            .iter()
            .any(|e| e.method == "/jobbridge.v1.AdminService/Backup"
                && e.target == "backup"
                && e.role == "admin"
                && e.code == 0),
        "no audit entry of the backup"
    );
    server.stop().await;

    // Restore through the binary, then `check` with the server's key.
    let restored = root.path().join("restored");
    let o = run(args(&[
        "restore",
        path(&file),
        "--data-dir",
        path(&restored),
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(said.contains("check passed"), "{said}");
    assert!(said.contains("fingerprint"), "{said}");
    let key = data.join("id.key");
    let o = run(args(&[
        "check",
        "--data-dir",
        path(&restored),
        "--id-key-file",
        path(&key),
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("the national id key is the store's"),
        "{}",
        text(&o)
    );
    {
        let store = reopen(&restored);
        for n in &before {
            let w = worker(*n);
            let id = common::whole_id(&w.id, &w.county_code);
            assert!(
                store.worker(&id).unwrap().is_some(),
                "{id} acknowledged, not restored"
            );
        }
        let count = store.worker_count();
        assert!(
            count >= before.len() && count <= all.len(),
            "{count} workers"
        );
    }

    // The binary's backup of the running server restores too; so does one
    // of the stopped directory, which holds every write answered.
    let o = run(args(&[
        "restore",
        path(&cli_file),
        "--data-dir",
        path(&root.path().join("restored-cli")),
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let offline = root.path().join("offline.jbbackup");
    let o = run(args(&[
        "backup",
        "--data-dir",
        path(&data),
        "--out",
        path(&offline),
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let o = run(args(&[
        "restore",
        path(&offline),
        "--data-dir",
        path(&root.path().join("restored-offline")),
    ]))
    .await;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        reopen(&root.path().join("restored-offline")).worker_count(),
        all.len()
    );

    // Refusals, with the data exit code (65): a directory that holds
    // something, and a file cut short (which leaves no directory).
    let o = run(args(&[
        "restore",
        path(&file),
        "--data-dir",
        path(&restored),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(65), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not empty"),
        "{}",
        text(&o)
    );
    let bytes = std::fs::read(&file).unwrap();
    let cut = root.path().join("cut.jbbackup");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let target = root.path().join("from-cut");
    let o = run(args(&["restore", path(&cut), "--data-dir", path(&target)])).await;
    assert_eq!(o.status.code(), Some(65), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("truncated"),
        "{}",
        text(&o)
    );
    assert!(!target.exists());
}
