//! The end of a shutdown's grace period, as a tower layer: once it has
//! passed, every call still running is answered UNAVAILABLE, and every
//! reply still streaming ends with UNAVAILABLE in its trailers.
//!
//! tonic's graceful shutdown stops accepting and then waits for every open
//! call, for ever: one client holding an import stream open kept the
//! process alive as long as it liked. [`Drain`] bounds that wait. Health
//! says NOT_SERVING before the grace starts (`server::run`), so a load
//! balancer has moved traffic away by the time anything is cut.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::watch;
use tonic::Status;

use crate::api::layer::{BoxFuture, GrpcRequest, Inner, Middleware, Reply};

/// The message of a call cut at the end of the grace period.
pub const CUT_MESSAGE: &str =
    "the server is shutting down: call cut at the end of its grace period; retry on another server";

/// Fires once the grace period is over; a tower layer through
/// [`crate::api::layer::Wrap`]. Cheap to clone.
#[derive(Clone)]
pub struct Drain {
    expired: watch::Receiver<bool>,
}

/// Ends the grace period of every [`Drain`] made from it.
pub struct DrainTrigger(watch::Sender<bool>);

impl DrainTrigger {
    /// Cuts every call still open.
    pub fn expire(&self) {
        let _ = self.0.send(true);
    }
}

impl Drain {
    /// A drain and the trigger that ends its grace period.
    pub fn new() -> (DrainTrigger, Drain) {
        let (tx, rx) = watch::channel(false);
        (DrainTrigger(tx), Drain { expired: rx })
    }

    /// Completes when the grace period is over (never if the trigger is
    /// dropped without firing).
    fn expired(&self) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let mut rx = self.expired.clone();
        Box::pin(async move {
            if rx.wait_for(|&expired| expired).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

impl Middleware for Drain {
    fn call<S: Inner>(&self, mut inner: S, request: GrpcRequest) -> BoxFuture<Reply, S::Error> {
        let drain = self.clone();
        Box::pin(async move {
            // A handler still reading a client stream (an import) is cut
            // here: dropping its future stops it between two records.
            let response = tokio::select! {
                response = inner.call(request) => response?,
                () = drain.expired() => return Ok(Status::unavailable(CUT_MESSAGE).into_http()),
            };
            let (parts, body) = response.into_parts();
            let body = DrainBody {
                inner: body,
                expired: Some(drain.expired()),
            };
            Ok(http::Response::from_parts(
                parts,
                tonic::body::Body::new(body),
            ))
        })
    }
}

/// A reply body that ends with UNAVAILABLE trailers once the grace period
/// is over.
struct DrainBody {
    inner: tonic::body::Body,
    /// `None` once the cut trailers are sent.
    expired: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

/// `grpc-status` and `grpc-message` of UNAVAILABLE, as trailers.
fn cut_trailers() -> http::HeaderMap {
    let reply = Status::unavailable(CUT_MESSAGE).into_http::<tonic::body::Body>();
    let mut trailers = http::HeaderMap::new();
    for name in ["grpc-status", "grpc-message"] {
        if let Some(value) = reply.headers().get(name) {
            trailers.insert(name, value.clone());
        }
    }
    trailers
}

impl Body for DrainBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let Some(expired) = self.expired.as_mut() else {
            return Poll::Ready(None);
        };
        // Checked first: a stream that always has data ready is cut too.
        if expired.as_mut().poll(cx).is_ready() {
            self.expired = None;
            return Poll::Ready(Some(Ok(Frame::trailers(cut_trailers()))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.expired.is_none() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
