//! Assembles the gRPC server: jobbridge's services, health, reflection and
//! limits. [`run`] takes a bound listener and a shutdown future, so tests
//! run the real server on `127.0.0.1:0`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;

use crate::api::pb::openings_server::OpeningsServer;
use crate::api::pb::workers_server::WorkersServer;
use crate::api::{pb, remap_oversize, OpeningService, WorkerService};
use crate::store::Store;

/// Largest request message accepted, in bytes, unless configured. A bulk
/// import sends one record per message, so 4 MiB (gRPC's usual default) is
/// far above any valid record; larger requests get `RESOURCE_EXHAUSTED`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Limits and tuning of the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest request message, bytes.
    pub max_message_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

/// Serves on `listener` until `shutdown` completes, then finishes in-flight
/// calls and returns. The caller owns the store and flushes it afterwards
/// (dropping the last `Arc<Store>` does).
pub async fn run(
    listener: TcpListener,
    store: Arc<Store>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let limit = options.max_message_bytes;
    let workers =
        WorkersServer::new(WorkerService::new(store.clone())).max_decoding_message_size(limit);
    let openings =
        OpeningsServer::new(OpeningService::new(store.clone())).max_decoding_message_size(limit);

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<WorkersServer<WorkerService>>()
        .await;
    health_reporter
        .set_serving::<OpeningsServer<OpeningService>>()
        .await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("embedded descriptor sets are valid");
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .expect("embedded descriptor sets are valid");

    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving gRPC");
    }
    Server::builder()
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(tower::util::MapResponseLayer::new(remap_oversize))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(workers)
        .add_service(openings)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}
