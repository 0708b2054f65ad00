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
use std::marker::PhantomData;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use prost::Message;
use sha2::Sha256;

use super::pb;
use crate::domain::query::{OpeningFilter, Page, PlacementFilter, WorkerFilter};
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

/// A list request and its reply, as the [`Pager`] reads and fills them.
pub(crate) trait Paged {
    /// The record on the wire.
    type Item;
    /// The reply: a page of records and the next page's token.
    type Reply;
    /// The request's page token (empty for the first page).
    fn page_token(&self) -> &str;
    /// The page size the request asks for (0 for the default).
    fn page_size(&self) -> u32;
    /// The reply holding `items`, then `next_page_token`.
    fn reply(items: Vec<Self::Item>, next_page_token: String) -> Self::Reply;
}

/// Each list request, its reply, and the reply's field of records.
macro_rules! paged {
    ($($request:ident => $reply:ident { $items:ident: $item:ident }),+ $(,)?) => {$(
        impl Paged for pb::$request {
            type Item = pb::$item;
            type Reply = pb::$reply;
            fn page_token(&self) -> &str {
                &self.page_token
            }
            fn page_size(&self) -> u32 {
                self.page_size
            }
            fn reply($items: Vec<pb::$item>, next_page_token: String) -> pb::$reply {
                pb::$reply { $items, next_page_token }
            }
        }
    )+};
}

paged! {
    ListWorkersRequest => ListWorkersResponse { workers: Worker },
    ListOpeningsRequest => ListOpeningsResponse { openings: Opening },
    ListPlacementsRequest => ListPlacementsResponse { placements: Placement },
}

/// A list filter as a token binds to it: its canonical text, one part a
/// field, as the service applies it. The parts are fixed: changing them
/// refuses every token issued before.
pub(crate) trait Filter {
    /// The filter's canonical text, given to [`fingerprint`].
    fn parts(&self) -> Vec<&str>;
}

impl Filter for WorkerFilter {
    fn parts(&self) -> Vec<&str> {
        vec![
            self.county_code.as_deref().unwrap_or(""),
            self.site_id.as_deref().unwrap_or(""),
            self.household_id.as_deref().unwrap_or(""),
            self.employment_status.map_or("", |s| s.label()),
        ]
    }
}

impl Filter for OpeningFilter {
    fn parts(&self) -> Vec<&str> {
        vec![
            self.region_code.as_deref().unwrap_or(""),
            self.source.map_or("", |s| s.label()),
            self.status.map_or("", |s| s.label()),
            self.employer_id.as_deref().unwrap_or(""),
        ]
    }
}

impl Filter for PlacementFilter {
    fn parts(&self) -> Vec<&str> {
        vec![
            "placements",
            self.worker_id.as_deref().unwrap_or(""),
            self.opening_id.as_deref().unwrap_or(""),
            self.county_code.as_deref().unwrap_or(""),
            self.status.map_or("", |s| s.name()),
        ]
    }
}

/// One listing request's paging: the cursor its token names and the page
/// size it asks for, bound to the fingerprint of its filter. Every list
/// handler pages through this, so that a token is checked and issued, and
/// a page read and replied, the same way everywhere.
pub(crate) struct Pager<R> {
    key: PageKey,
    filter: u64,
    /// The id to continue after; `None` for the first page.
    after: Option<String>,
    /// How many records the page holds at most.
    limit: usize,
    request: PhantomData<R>,
}

impl<R: Paged> Pager<R> {
    /// Reads the token and page size of `request`, whose filter, as the
    /// service applies it, is `filter`.
    pub(crate) fn new(
        service: &Service,
        request: &R,
        filter: &impl Filter,
    ) -> Result<Self, tonic::Status> {
        let key = PageKey::of(service);
        let filter = fingerprint(&filter.parts());
        let after = decode(&key, request.page_token(), filter)?;
        Ok(Self {
            key,
            filter,
            after,
            limit: page_size(request.page_size()),
            request: PhantomData,
        })
    }

    /// The reply with the page that `list` reads (given the id to continue
    /// after and the most records to return), and the token of the next
    /// page (empty on the last).
    pub(crate) async fn reply<T, F>(
        self,
        list: impl FnOnce(Option<String>, usize) -> F,
    ) -> Result<tonic::Response<R::Reply>, tonic::Status>
    where
        R::Item: From<T>,
        F: Future<Output = crate::service::Result<Page<T>>>,
    {
        let page = list(self.after, self.limit).await?;
        let next = page
            .next_after
            .map(|a| encode(&self.key, &a, self.filter))
            .unwrap_or_default();
        let items = page.items.into_iter().map(R::Item::from).collect();
        Ok(tonic::Response::new(R::reply(items, next)))
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
