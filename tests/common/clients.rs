//! One client per service, over the admin's channel or another token's, and
//! the wait for a batch run to end: what every integration test otherwise
//! builds for itself.

use std::time::{Duration, Instant};

use jobbridge::api::pb;
use jobbridge::api::pb::admin_service_client::AdminServiceClient;
use jobbridge::api::pb::batch_client::BatchClient;
use jobbridge::api::pb::matching_client::MatchingClient;
use jobbridge::api::pb::openings_client::OpeningsClient;
use jobbridge::api::pb::placement_service_client::PlacementServiceClient;
use jobbridge::api::pb::report_service_client::ReportServiceClient;
use jobbridge::api::pb::workers_client::WorkersClient;

use super::{Channel, TestServer};

/// Largest reply a client decodes. tonic's default (4 MiB) is smaller than
/// a page of demo data can be; the server's own limit is what tests check.
const MAX_REPLY_BYTES: usize = 64 * 1024 * 1024;

/// How long [`wait_for_run`] waits: a debug build on two shared cores can
/// take a while over demo data, and a hung run should still fail the test.
const RUN_DEADLINE: Duration = Duration::from_secs(120);
/// How often [`wait_for_run`] asks.
const RUN_POLL: Duration = Duration::from_millis(15);

/// A client of each service over one channel, that is one caller.
#[derive(Clone)]
pub struct Clients {
    channel: Channel,
}

impl Clients {
    /// Clients that call through `channel` (and send its token).
    pub fn new(channel: Channel) -> Clients {
        Clients { channel }
    }

    pub fn workers(&self) -> WorkersClient<Channel> {
        WorkersClient::new(self.channel.clone()).max_decoding_message_size(MAX_REPLY_BYTES)
    }

    pub fn openings(&self) -> OpeningsClient<Channel> {
        OpeningsClient::new(self.channel.clone()).max_decoding_message_size(MAX_REPLY_BYTES)
    }

    pub fn matching(&self) -> MatchingClient<Channel> {
        MatchingClient::new(self.channel.clone()).max_decoding_message_size(MAX_REPLY_BYTES)
    }

    pub fn batch(&self) -> BatchClient<Channel> {
        BatchClient::new(self.channel.clone()).max_decoding_message_size(MAX_REPLY_BYTES)
    }

    pub fn placements(&self) -> PlacementServiceClient<Channel> {
        PlacementServiceClient::new(self.channel.clone()).max_decoding_message_size(MAX_REPLY_BYTES)
    }

    pub fn reports(&self) -> ReportServiceClient<Channel> {
        ReportServiceClient::new(self.channel.clone()).max_decoding_message_size(MAX_REPLY_BYTES)
    }

    pub fn admin(&self) -> AdminServiceClient<Channel> {
        AdminServiceClient::new(self.channel.clone()).max_decoding_message_size(MAX_REPLY_BYTES)
    }
}

/// The admin's clients, as `server.workers()` and so on; another caller's
/// through [`TestServer::clients_with`].
impl TestServer {
    /// Clients over the admin-token channel.
    pub fn clients(&self) -> Clients {
        Clients::new(self.channel.clone())
    }

    /// Clients over a channel sending `token` (or none).
    pub fn clients_with(&self, token: Option<&str>) -> Clients {
        Clients::new(self.channel_with(token))
    }

    pub fn workers(&self) -> WorkersClient<Channel> {
        self.clients().workers()
    }

    pub fn openings(&self) -> OpeningsClient<Channel> {
        self.clients().openings()
    }

    pub fn matching(&self) -> MatchingClient<Channel> {
        self.clients().matching()
    }

    pub fn batch(&self) -> BatchClient<Channel> {
        self.clients().batch()
    }

    pub fn placements(&self) -> PlacementServiceClient<Channel> {
        self.clients().placements()
    }

    pub fn reports(&self) -> ReportServiceClient<Channel> {
        self.clients().reports()
    }

    pub fn admin(&self) -> AdminServiceClient<Channel> {
        self.clients().admin()
    }
}

/// Polls `Batch/GetRun` until run `run_id` is no longer RUNNING and returns
/// it, asserting on every poll that its progress is within [0, 1]. Panics
/// if the run is still going after [`RUN_DEADLINE`].
pub async fn wait_for_run(client: &mut BatchClient<Channel>, run_id: u64) -> pb::Run {
    let deadline = Instant::now() + RUN_DEADLINE;
    loop {
        let run = client
            .get_run(pb::GetRunRequest { run_id })
            .await
            .unwrap_or_else(|e| panic!("GetRun {run_id}: {e}"))
            .into_inner()
            .run
            .unwrap_or_else(|| panic!("GetRun {run_id}: reply without a run"));
        assert!(
            (0.0..=1.0).contains(&run.progress),
            "run {run_id}: progress {} outside [0, 1]",
            run.progress
        );
        if run.status != pb::RunStatus::Running as i32 {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} still RUNNING after {RUN_DEADLINE:?} (phase {}, progress {})",
            run.phase,
            run.progress
        );
        tokio::time::sleep(RUN_POLL).await;
    }
}
