//! The language of a request's words: the `accept-language` metadata
//! ([`Lang::from_accept_language`]), English when it names none we write.
//!
//! [`AcceptLanguage`] reads it once per request and runs the request's handler
//! inside a task-local scope, so that [`current`] answers anywhere in the
//! handler's task: the one mapping of errors to `Status` (`status.rs`) and
//! the handlers that write reasons read it there instead of every handler
//! passing a language through every conversion. Work moved to another task
//! (`spawn_blocking`, rayon) does not see it: text for people is made back
//! in the handler's task.

use std::future::Future;

use super::layer::{BoxFuture, GrpcRequest, Inner, Middleware, Reply};
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

/// Sets [`current`] for every request from its `accept-language` (a tower
/// layer through [`Wrap`](super::layer::Wrap)).
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptLanguage;

impl Middleware for AcceptLanguage {
    fn call<S: Inner>(&self, mut inner: S, request: GrpcRequest) -> BoxFuture<Reply, S::Error> {
        let lang = from_header(request.headers().get("accept-language"));
        let future = inner.call(request);
        Box::pin(LANG.scope(lang, future))
    }
}
