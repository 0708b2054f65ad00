//! Opaque page tokens: the last id served and a fingerprint of the filters,
//! so that a token cannot silently be reused with other filters.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use prost::Message;

use crate::domain::ValidationError;

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
    match requested {
        0 => DEFAULT_PAGE_SIZE as usize,
        n => n.min(MAX_PAGE_SIZE) as usize,
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

/// Encodes the token for the page after `after`.
pub(crate) fn encode(after: &str, filter: u64) -> String {
    URL_SAFE_NO_PAD.encode(
        PageToken {
            after: after.to_string(),
            filter,
        }
        .encode_to_vec(),
    )
}

/// Decodes a token; `None` for the empty (first page) token.
pub(crate) fn decode(token: &str, filter: u64) -> Result<Option<String>, ValidationError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = |reason: &str| ValidationError::new("page_token", reason);
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad("is not a token this server issued"))?;
    let token = PageToken::decode(bytes.as_slice())
        .map_err(|_| bad("is not a token this server issued"))?;
    if token.filter != filter {
        return Err(bad("was issued for different filters"));
    }
    crate::domain::rules::check_id(&token.after)
        .map_err(|_| bad("is not a token this server issued"))?;
    Ok(Some(token.after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_filter_binding() {
        let f = fingerprint(&["431202", ""]);
        let t = encode("w-17", f);
        assert_eq!(decode(&t, f).unwrap().as_deref(), Some("w-17"));
        assert!(decode(&t, fingerprint(&["431221", ""])).is_err());
        assert!(decode("!!!", f).is_err());
        assert!(decode("", f).unwrap().is_none());
        assert_ne!(fingerprint(&["a", "b"]), fingerprint(&["ab", ""]));
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0), 100);
        assert_eq!(page_size(7), 7);
        assert_eq!(page_size(5000), 1000);
    }
}
