//! A server killed in the middle of a batch run: after a restart the run is
//! FAILED, nothing of it is readable, and the next run works.

mod common;
#[path = "crash/server.rs"]
mod server;

use common::{wait_for_run, Clients};
use jobbridge::api::pb;
use server::ServerProcess;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_interrupted_by_sigkill_is_failed_never_half_applied() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    {
        let store = jobbridge::store::Store::open(dir.path()).unwrap();
        let year = jobbridge::domain::current_year();
        let data = jobbridge::demo::generate(0.3, 9, year, chrono::Utc::now().date_naive());
        let key = jobbridge::store::id_key(None, None, &store).unwrap().0;
        jobbridge::demo::load(&store, &key, &data, year).unwrap();
    }
    let mut first = ServerProcess::start(dir.path(), logs.path().join("first.log")).await;
    let mut c = Clients::new(first.connect().await).batch();
    let id = c
        .start_run(pb::StartRunRequest::default())
        .await
        .unwrap()
        .into_inner()
        .run_id;
    // One look, not `wait_for_run`: the run must still be going when the
    // server is killed.
    let run = c
        .get_run(pb::GetRunRequest { run_id: id })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    assert_eq!(
        run.status,
        pb::RunStatus::Running as i32,
        "the run must still be going when killed"
    );
    first.kill();
    drop(first);

    let mut second = ServerProcess::start(dir.path(), logs.path().join("second.log")).await;
    let mut c = Clients::new(second.connect().await).batch();
    let run = c
        .get_run(pb::GetRunRequest { run_id: id })
        .await
        .unwrap()
        .into_inner()
        .run
        .unwrap();
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(run.error.contains("interrupted"), "{}", run.error);
    assert!(run.summary.is_none());
    let err = c
        .stream_assignments(pb::StreamAssignmentsRequest { run_id: id })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);

    // The next run succeeds and gets a new id.
    let next = c
        .start_run(pb::StartRunRequest::default())
        .await
        .unwrap()
        .into_inner()
        .run_id;
    assert!(next > id);
    let done = wait_for_run(&mut c, next).await;
    assert_eq!(
        done.status,
        pb::RunStatus::Succeeded as i32,
        "{}",
        done.error
    );
    second.expect_clean_exit().await;
    server::check_indexes(dir.path()).await;
}
