//! A gRPC channel that sends a bearer token with every call: what the
//! command-line clients (and the tests) use to talk to a server.

use std::task::{Context, Poll};

use anyhow::Context as _;
use tonic::transport::{Channel, Endpoint};

/// A [`Channel`] that adds `authorization: Bearer <token>` to every
/// request. Cheap to clone, like the channel.
#[derive(Clone, Debug)]
pub struct TokenChannel {
    inner: Channel,
    authorization: Option<http::HeaderValue>,
}

impl TokenChannel {
    /// Wraps `channel`; `token` may be `None` (calls then go without one).
    pub fn new(channel: Channel, token: Option<&str>) -> anyhow::Result<Self> {
        let authorization = token
            .map(|t| {
                let mut value = http::HeaderValue::from_str(&format!("Bearer {t}"))
                    .context("the token contains characters a header cannot carry")?;
                value.set_sensitive(true);
                anyhow::Ok(value)
            })
            .transpose()?;
        Ok(Self {
            inner: channel,
            authorization,
        })
    }

    /// Connects to `addr` (`host:port` or a URL) with `token`.
    pub async fn connect(addr: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let url = if addr.contains("://") {
            addr.to_string()
        } else {
            format!("http://{addr}")
        };
        let channel = Endpoint::from_shared(url.clone())
            .with_context(|| format!("bad server address {addr:?}"))?
            .connect()
            .await
            .with_context(|| format!("cannot connect to {url}"))?;
        Self::new(channel, token)
    }

    /// The channel underneath.
    pub fn channel(&self) -> &Channel {
        &self.inner
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for TokenChannel {
    type Response = http::Response<tonic::body::Body>;
    type Error = tonic::transport::Error;
    type Future = <Channel as tower::Service<http::Request<tonic::body::Body>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, mut request: http::Request<tonic::body::Body>) -> Self::Future {
        if let Some(value) = &self.authorization {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value.clone());
        }
        tower::Service::call(&mut self.inner, request)
    }
}
