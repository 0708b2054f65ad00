//! The Prometheus endpoint of `--metrics-listen`: `GET /metrics` on a
//! listener of its own, so that the gRPC port never answers plain HTTP and
//! a scraper needs no token. The layers record through the `metrics`
//! facade under the names of [`crate::telemetry`]; this file installs the
//! recorder (once per process), sets the gauges that are read rather than
//! counted (index and store sizes) on each scrape, and renders the text.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::service::Service;
use crate::telemetry as names;

/// Latency buckets, seconds: 100 µs to 30 s.
const SECONDS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0,
];
/// Group-commit batch sizes.
const BATCH_SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The process's recorder, installed on first use: every server in the
/// process records into it (there is one per process in production).
pub fn handle() -> Result<&'static PrometheusHandle, String> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(SECONDS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full(names::COMMIT_BATCH.into()),
                        BATCH_SIZES,
                    )
                })
                .map_err(|e| e.to_string())?;
            let handle = builder.install_recorder().map_err(|e| e.to_string())?;
            describe();
            Ok(handle)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// HELP lines, as the metrics table of docs/operating.md says them.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        names::REQUESTS,
        "gRPC calls answered, by service, method and code"
    );
    describe_histogram!(
        names::REQUEST_SECONDS,
        Unit::Seconds,
        "time from a call's arrival to its last byte"
    );
    describe_counter!(
        names::RATE_LIMITED,
        "calls refused by the per-token rate limit"
    );
    describe_histogram!(
        names::COMMIT_BATCH,
        "writes made durable by one group-commit flush"
    );
    describe_histogram!(
        names::COMMIT_SECONDS,
        Unit::Seconds,
        "time one group-commit flush took"
    );
    describe_gauge!(names::INDEX_RECORDS, "records in the match index, by kind");
    describe_gauge!(
        names::STORE_BYTES,
        Unit::Bytes,
        "bytes the store takes on disk"
    );
    describe_histogram!(
        names::RUN_PHASE_SECONDS,
        Unit::Seconds,
        "time a batch run spent in each phase"
    );
    describe_counter!(names::RUNS, "batch runs ended, by outcome");
    describe_counter!(
        names::STORE_FSYNCS,
        "fdatasync calls on the store's data file, one per durable flush"
    );
    describe_gauge!(
        names::DISK_FREE_BYTES,
        Unit::Bytes,
        "free bytes on the disk of the data directory, as last checked"
    );
    describe_gauge!(
        names::STORE_WRITABLE,
        "1 while writes are accepted, 0 while the disk is too full for them"
    );
    describe_counter!(
        names::WHAT_IFS_ABANDONED,
        "what-ifs given up because their caller went away before the answer"
    );
    describe_counter!(
        names::DISK_FULL_REFUSALS,
        "writes refused because the disk of the data directory was full"
    );
    describe_gauge!(
        names::BACKUP_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of the last backup written whole"
    );
    describe_gauge!(
        names::BACKUP_AGE_SECONDS,
        Unit::Seconds,
        "seconds since the last backup written whole"
    );
}

/// Serves `GET /metrics` on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, service: Arc<Service>) {
    let handle = match handle() {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot install the metrics recorder");
            return;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving Prometheus metrics on /metrics");
    }
    let upkeep = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            handle.run_upkeep();
        }
    });
    let _upkeep = AbortOnDrop(upkeep);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            let answer = hyper::service::service_fn(move |request| {
                let service = service.clone();
                async move { Ok::<_, Infallible>(respond(&request, &service, handle).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), answer)
                .await;
        });
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn respond<B>(
    request: &http::Request<B>,
    service: &Arc<Service>,
    handle: &PrometheusHandle,
) -> http::Response<Full<Bytes>> {
    let reply = |status: http::StatusCode, body: String| {
        let mut r = http::Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        r
    };
    if request.uri().path() != "/metrics" {
        return reply(http::StatusCode::NOT_FOUND, "try /metrics\n".into());
    }
    if request.method() != http::Method::GET {
        return reply(http::StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into());
    }
    {
        let index = service.matcher().read();
        metrics::gauge!(names::INDEX_RECORDS, "kind" => "worker").set(index.worker_count() as f64);
        metrics::gauge!(names::INDEX_RECORDS, "kind" => "opening")
            .set(index.opening_count() as f64);
    }
    let store = service.store().clone();
    if let Ok(Ok(bytes)) = tokio::task::spawn_blocking(move || store.size_on_disk()).await {
        metrics::gauge!(names::STORE_BYTES).set(bytes as f64);
    }
    reply(http::StatusCode::OK, handle.render())
}
