//! The one shape of this server's gRPC middleware: a [`Middleware`] says
//! what it does around a call, and [`Wrap`] makes it a tower layer. The
//! access rules (`auth`), the request language (`lang`), the log line
//! (`server::observe`) and the shutdown's cut (`server::drain`) each write
//! only their own part.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A gRPC request, as tonic's server hands it to the stack.
pub type GrpcRequest = http::Request<tonic::body::Body>;

/// A gRPC reply, as the services of the stack answer.
pub type Reply = http::Response<tonic::body::Body>;

/// The future of a wrapped call.
pub type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// The service a middleware calls: the rest of the stack.
pub trait Inner:
    tower::Service<GrpcRequest, Response = Reply, Future: Send + 'static> + Send + 'static
{
}

impl<S> Inner for S where
    S: tower::Service<GrpcRequest, Response = Reply, Future: Send + 'static> + Send + 'static
{
}

/// What a middleware does around one call: `inner` is the service ready to
/// take it, called at most once.
pub trait Middleware: Clone + Send + 'static {
    /// Answers `request`, through `inner` or not.
    fn call<S: Inner>(&self, inner: S, request: GrpcRequest) -> BoxFuture<Reply, S::Error>;
}

/// The tower layer of a [`Middleware`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Wrap<M>(pub M);

impl<M: Clone, S> tower::Layer<S> for Wrap<M> {
    type Service = Wrapped<M, S>;

    fn layer(&self, inner: S) -> Self::Service {
        Wrapped {
            middleware: self.0.clone(),
            inner,
        }
    }
}

/// The service of [`Wrap`]: `inner` with the middleware around it.
#[derive(Clone, Debug)]
pub struct Wrapped<M, S> {
    middleware: M,
    inner: S,
}

impl<M: Middleware, S: Inner + Clone> tower::Service<GrpcRequest> for Wrapped<M, S> {
    type Response = Reply;
    type Error = S::Error;
    type Future = BoxFuture<Reply, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: GrpcRequest) -> Self::Future {
        // The ready service is the one to call; leave a fresh clone behind.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        self.middleware.call(inner, request)
    }
}
