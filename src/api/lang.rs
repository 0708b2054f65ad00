//! The language of a request's words: the `accept-language` metadata
//! ([`Lang::from_accept_language`]), English when it names none we write.
//!
//! [`LangLayer`] reads it once per request and runs the request's handler
//! inside a task-local scope, so that [`current`] answers anywhere in the
//! handler's task: the one mapping of errors to `Status` (`status.rs`) and
//! the handlers that write reasons read it there instead of every handler
//! passing a language through every conversion. Work moved to another task
//! (`spawn_blocking`, rayon) does not see it: text for people is made back
//! in the handler's task.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::domain::Lang;

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being handled (English outside a request).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// The language of an `accept-language` header value, if any.
pub fn from_header(value: Option<&http::HeaderValue>) -> Lang {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

/// Runs `f` as if handling a request in `lang` (for tests and callers
/// outside the server).
pub async fn scope<F: Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// Sets [`current`] for every request from its `accept-language`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LangLayer;

impl<S> tower::Layer<S> for LangLayer {
    type Service = LangService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LangService { inner }
    }
}

/// The service of [`LangLayer`].
#[derive(Clone, Debug)]
pub struct LangService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for LangService<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let lang = from_header(request.headers().get("accept-language"));
        let future = self.inner.call(request);
        Box::pin(LANG.scope(lang, future))
    }
}
