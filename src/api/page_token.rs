//! Opaque page tokens: the last id served and a fingerprint of the filters,
//! so that a token cannot silently be reused with other filters, signed
//! with an HMAC under a server key so that a token re-encoded with another
//! cursor (or made up) is refused rather than served.
//!
//! The key is derived from the national id key ([`PageKey::of`]), which
//! the server already keeps secret and stable across restarts: tokens
//! stay valid over a restart, and a store moved to a server with another
//! key refuses its old tokens, as it should.

use std::future::Future;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use prost::Message;
use sha2::Sha256;

use crate::domain::query::Page;
use crate::domain::ValidationError;
use crate::service::Service;

/// Bytes of the HMAC kept in a token: 128 bits, far beyond guessing.
const TAG_BYTES: usize = 16;
/// The label the page key is derived under.
const KEY_LABEL: &[u8] = b"jobbridge page token key v1";

/// The key page tokens are signed with.
pub(crate) struct PageKey([u8; 32]);

impl PageKey {
    /// The key of the server `service` runs.
    pub(crate) fn of(service: &Service) -> Self {
        Self(service.derived_key(KEY_LABEL))
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length")
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct PageToken {
    #[prost(string, tag = "1")]
    after: String,
    #[prost(fixed64, tag = "2")]
    filter: u64,
}

/// Default page size when the request says 0.
pub(crate) const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest page served; larger requests are capped.
pub(crate) const MAX_PAGE_SIZE: u32 = 1000;

/// The effective page size for a requested one.
pub(crate) fn page_size(requested: u32) -> usize {
    capped(requested, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// How many records to answer a request for `requested`: `default` when
/// it says 0, larger requests capped at `max`.
pub(crate) fn capped(requested: u32, default: u32, max: u32) -> usize {
    match requested {
        0 => default as usize,
        n => n.min(max) as usize,
    }
}

/// FNV-1a over the filter's canonical text: stable across restarts and
/// builds, unlike std's hasher.
pub(crate) fn fingerprint(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// One listing request's paging: the cursor its token names and the page
/// size it asks for, bound to the fingerprint of its filters. Every list
/// handler pages through this, so that a token is checked and issued the
/// same way everywhere.
pub(crate) struct Pager {
    key: PageKey,
    filter: u64,
    /// The id to continue after; `None` for the first page.
    after: Option<String>,
    /// How many records the page holds at most.
    limit: usize,
}

impl Pager {
    /// Reads `token` and `page_size` of a request whose filters, as the
    /// service applies them, read `filter` in canonical text.
    pub(crate) fn new(
        service: &Service,
        filter: &[&str],
        token: &str,
        requested_size: u32,
    ) -> Result<Self, tonic::Status> {
        let key = PageKey::of(service);
        let filter = fingerprint(filter);
        let after = decode(&key, token, filter)?;
        Ok(Self {
            key,
            filter,
            after,
            limit: page_size(requested_size),
        })
    }

    /// The page on the wire that `list` reads (given the id to continue
    /// after and the most records to return): its records and the token
    /// of the next page (empty on the last).
    pub(crate) async fn page<T, U, F>(
        self,
        list: impl FnOnce(Option<String>, usize) -> F,
    ) -> Result<(Vec<U>, String), tonic::Status>
    where
        U: From<T>,
        F: Future<Output = crate::service::Result<Page<T>>>,
    {
        let page = list(self.after, self.limit).await?;
        let next = page
            .next_after
            .map(|a| encode(&self.key, &a, self.filter))
            .unwrap_or_default();
        Ok((page.items.into_iter().map(U::from).collect(), next))
    }
}

/// Encodes the token for the page after `after`: the message, then its
/// HMAC's first [`TAG_BYTES`].
pub(crate) fn encode(key: &PageKey, after: &str, filter: u64) -> String {
    let mut bytes = PageToken {
        after: after.to_string(),
        filter,
    }
    .encode_to_vec();
    let mut mac = key.mac();
    mac.update(&bytes);
    bytes.extend_from_slice(&mac.finalize().into_bytes()[..TAG_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a token; `None` for the empty (first page) token. A token
/// whose HMAC does not verify is refused before anything in it is read.
pub(crate) fn decode(
    key: &PageKey,
    token: &str,
    filter: u64,
) -> Result<Option<String>, ValidationError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = |reason: &str| ValidationError::new("page_token", reason);
    let not_ours = || bad("is not a token this server issued (forged, altered or truncated)");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| not_ours())?;
    if bytes.len() < TAG_BYTES {
        return Err(not_ours());
    }
    let (message, tag) = bytes.split_at(bytes.len() - TAG_BYTES);
    let mut mac = key.mac();
    mac.update(message);
    // Constant time: the comparison tells nothing of the right tag.
    mac.verify_truncated_left(tag).map_err(|_| not_ours())?;
    let token = PageToken::decode(message).map_err(|_| not_ours())?;
    if token.filter != filter {
        return Err(bad("was issued for different filters"));
    }
    crate::domain::scoped::check_scoped_id(&token.after)
        .map_err(|_| bad("is not a token this server issued"))?;
    Ok(Some(token.after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PageKey {
        PageKey([byte; 32])
    }

    #[test]
    fn round_trip_and_filter_binding() {
        let k = key(1);
        let f = fingerprint(&["431202", ""]);
        let t = encode(&k, "w-17", f);
        assert_eq!(decode(&k, &t, f).unwrap().as_deref(), Some("w-17"));
        assert!(decode(&k, &t, fingerprint(&["431221", ""])).is_err());
        assert!(decode(&k, "!!!", f).is_err());
        assert!(decode(&k, "", f).unwrap().is_none());
        assert_ne!(fingerprint(&["a", "b"]), fingerprint(&["ab", ""]));
    }

    #[test]
    fn forged_and_altered_tokens_are_refused() {
        let k = key(1);
        let f = fingerprint(&["431202"]);
        let t = encode(&k, "w-17", f);
        // Another server's key.
        assert!(decode(&key(2), &t, f).is_err());
        // The old, unsigned form re-encoded with another cursor.
        let unsigned = URL_SAFE_NO_PAD.encode(
            PageToken {
                after: "w-99".into(),
                filter: f,
            }
            .encode_to_vec(),
        );
        assert!(decode(&k, &unsigned, f).is_err());
        // Every single-bit change of the token's bytes.
        let bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut altered = bytes.clone();
            altered[i / 8] ^= 1 << (i % 8);
            let e = decode(&k, &URL_SAFE_NO_PAD.encode(&altered), f).unwrap_err();
            assert_eq!(e.field, "page_token");
        }
        // Truncated.
        assert!(decode(&k, &URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1]), f).is_err());
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0), 100);
        assert_eq!(page_size(7), 7);
        assert_eq!(page_size(5000), 1000);
    }
}
