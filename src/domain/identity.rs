//! The national id number as jobbridge keeps it: a keyed hash.
//!
//! A resident id number is what a leak would hurt most, and the service never
//! needs it back: it only has to tell whether two registrations are the same
//! person. So the store keeps `hmac-sha256:` + the lowercase hex HMAC-SHA256
//! of the upper-cased number (an `x` check character is the same person as
//! `X`). A plain hash would not do: the numbers have so little entropy
//! (region, birth date, sequence) that every one of them can be hashed and
//! looked up in minutes; without the key, the stored values say nothing.
//!
//! The key comes from configuration, never from the repository or the data
//! it protects; the store remembers its [`IdKey::fingerprint`] so that a
//! start with another key is refused instead of silently letting the same
//! person register twice.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Prefix of a stored national id: the value after it is the lowercase hex
/// HMAC-SHA256 of the upper-cased number.
pub const HASH_PREFIX: &str = "hmac-sha256:";

/// Fewest key bytes accepted: the length of SHA-256's output, below which
/// the key would be the weakest part.
pub const MIN_KEY_BYTES: usize = 32;

/// Most key bytes accepted; longer keys add nothing (HMAC hashes them down).
pub const MAX_KEY_BYTES: usize = 1024;

/// What [`IdKey::fingerprint`] authenticates. It has lower-case letters, so
/// it is never an upper-cased national id: a fingerprint never equals a
/// stored hash.
const FINGERPRINT_LABEL: &[u8] = b"jobbridge national id key fingerprint v1";

/// Why a key was refused. The messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdKeyError {
    /// The key is shorter than [`MIN_KEY_BYTES`] or longer than
    /// [`MAX_KEY_BYTES`].
    #[error(
        "the key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes (twice as many hex digits), \
         got {0} bytes"
    )]
    Length(usize),
    /// The text is not an even number of hex digits.
    #[error("the key must be written as hex digits (0-9, a-f), an even number of them")]
    NotHex,
}

/// The secret key of the national id hash. Cloning copies the key; `Debug`
/// shows only the start of the fingerprint.
#[derive(Clone)]
pub struct IdKey {
    key: Box<[u8]>,
}

impl IdKey {
    /// A key of `bytes`, [`MIN_KEY_BYTES`] to [`MAX_KEY_BYTES`] long.
    ///
    /// ```
    /// use jobbridge::domain::identity::IdKey;
    /// assert!(IdKey::new(vec![7; 32]).is_ok());
    /// assert!(IdKey::new(vec![7; 16]).is_err());
    /// ```
    pub fn new(bytes: Vec<u8>) -> Result<Self, IdKeyError> {
        if !(MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&bytes.len()) {
            return Err(IdKeyError::Length(bytes.len()));
        }
        Ok(Self {
            key: bytes.into_boxed_slice(),
        })
    }

    /// A key written as hex digits (either case); surrounding whitespace,
    /// such as a key file's final newline, is ignored.
    pub fn from_hex(text: &str) -> Result<Self, IdKeyError> {
        Self::new(decode_hex(text.trim()).ok_or(IdKeyError::NotHex)?)
    }

    /// The stored form of `national_id`: [`HASH_PREFIX`] and the hex
    /// HMAC-SHA256 of the upper-cased number.
    ///
    /// ```
    /// use jobbridge::domain::identity::{is_hashed, IdKey};
    /// let key = IdKey::new(vec![7; 32]).unwrap();
    /// let stored = key.hash("11010519491231002x");
    /// assert!(is_hashed(&stored));
    /// assert_eq!(stored, key.hash("11010519491231002X"));
    /// assert!(!stored.contains("110105"));
    /// ```
    pub fn hash(&self, national_id: &str) -> String {
        let upper = national_id.to_ascii_uppercase();
        format!("{HASH_PREFIX}{}", self.mac_hex(upper.as_bytes()))
    }

    /// Names the key without revealing it: the hex HMAC of a fixed label.
    /// The store keeps it to refuse a start with a different key.
    pub fn fingerprint(&self) -> String {
        self.mac_hex(FINGERPRINT_LABEL)
    }

    /// A key for another purpose, derived from this one under `label`
    /// (HMAC-SHA256 of the label): the page tokens' signing key, for
    /// instance. Distinct labels give unrelated keys, and none reveals
    /// this key.
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    fn mac_hex(&self, message: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(message);
        hex(&mac.finalize().into_bytes())
    }
}

impl fmt::Debug for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdKey")
            .field("fingerprint", &short_fingerprint(&self.fingerprint()))
            .finish_non_exhaustive()
    }
}

/// Whether a stored national id is already a keyed hash (an older data
/// directory may still hold clear numbers until a key is bound to it).
pub fn is_hashed(national_id: &str) -> bool {
    national_id.starts_with(HASH_PREFIX)
}

/// The first 16 hex digits of a fingerprint: enough for people to tell keys
/// apart in logs and error messages.
pub fn short_fingerprint(fingerprint: &str) -> &str {
    fingerprint.get(..16).unwrap_or(fingerprint)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test case 6: a 131-byte key, longer than SHA-256's block.
        let key = IdKey::new(vec![0xaa; 131]).unwrap();
        assert_eq!(
            key.mac_hex(b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn hash_is_the_prefixed_mac_of_the_upper_cased_number() {
        let key = IdKey::new((0..32).collect()).unwrap();
        let stored = key.hash("11010519491231002x");
        assert_eq!(
            stored,
            format!("{HASH_PREFIX}{}", key.mac_hex(b"11010519491231002X"))
        );
        assert_eq!(stored.len(), HASH_PREFIX.len() + 64);
        assert!(is_hashed(&stored));
        assert!(!is_hashed("11010519491231002X"));
        let other = IdKey::new((1..33).collect()).unwrap();
        assert_ne!(other.hash("11010519491231002X"), stored);
        assert_ne!(key.hash("110105194912310037"), stored);
    }

    #[test]
    fn fingerprint_tells_keys_apart_and_is_no_stored_hash() {
        let a = IdKey::new(vec![1; 32]).unwrap();
        let b = IdKey::new(vec![2; 32]).unwrap();
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
        assert!(!is_hashed(&a.fingerprint()));
    }

    #[test]
    fn hex_keys_round_trip_and_bad_ones_are_refused() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(40).collect();
        let text = hex(&bytes);
        let from_lower = IdKey::from_hex(&format!("  {text}\n")).unwrap();
        let from_upper = IdKey::from_hex(&text.to_ascii_uppercase()).unwrap();
        assert_eq!(&*from_lower.key, &bytes[..]);
        assert_eq!(from_lower.fingerprint(), from_upper.fingerprint());
        assert_eq!(
            IdKey::from_hex(&"ab".repeat(31)).unwrap_err(),
            IdKeyError::Length(31)
        );
        assert_eq!(
            IdKey::from_hex(&"ab".repeat(1025)).unwrap_err(),
            IdKeyError::Length(1025)
        );
        assert_eq!(
            IdKey::from_hex(&"a".repeat(65)).unwrap_err(),
            IdKeyError::NotHex
        );
        assert_eq!(
            IdKey::from_hex(&format!("{}zz", "ab".repeat(32))).unwrap_err(),
            IdKeyError::NotHex
        );
        assert_eq!(IdKey::from_hex("").unwrap_err(), IdKeyError::Length(0));
    }

    #[test]
    fn debug_and_errors_show_no_key_material() {
        let key = IdKey::new(vec![0x5a; 32]).unwrap();
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.contains(&hex(&[0x5a; 4])), "{shown}");
        assert!(shown.contains(short_fingerprint(&key.fingerprint())));
        let secret = format!("{}zz", "5a".repeat(32));
        let error = IdKey::from_hex(&secret).unwrap_err().to_string();
        assert!(!error.contains("5a5a"), "{error}");
    }
}
