//! API tokens and the audit log.
//!
//! A token is `jb.<id>.<secret>`. Only the SHA-256 of the secret is stored
//! (the secret is 32 random bytes, so a plain hash is as strong as a slow
//! one), keyed by id; the token itself is shown once, when created.
//!
//! The audit log is one record per call, keyed by a big-endian sequence
//! number, so it reads newest first by a reverse scan.

use base64::Engine as _;
use prost::Message;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::{Store, StoreError};
use crate::domain::access::{Caller, Role, Scope};

pub use crate::domain::access::TokenRecord;

/// A token's parts, or `None` if it is not shaped like one.
fn parse(token: &str) -> Option<(&str, Vec<u8>)> {
    let rest = token.strip_prefix("jb.")?;
    let (id, secret) = rest.split_once('.')?;
    if !id.starts_with("tok_") || id.len() != 20 {
        return None;
    }
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(secret)
        .ok()?;
    (secret.len() == 32).then_some((id, secret))
}

/// Constant-time comparison of two digests.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Store {
    /// Creates a token; returns its record and the token itself (shown
    /// once: only its hash is kept).
    pub fn create_token(
        &self,
        role: Role,
        scope: &Scope,
        label: &str,
        created_by: &str,
    ) -> Result<(TokenRecord, String), StoreError> {
        let mut rng = rand::rng();
        let mut id = [0u8; 8];
        rng.fill_bytes(&mut id);
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let id = format!(
            "tok_{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let record = TokenRecord {
            id: id.clone(),
            role: role.code().into(),
            counties: scope.counties.clone(),
            employer_id: scope.employer_id.clone(),
            label: label.to_string(),
            secret_sha256: Sha256::digest(secret).to_vec(),
            created_at_ms: super::now_ms(),
            revoked_at_ms: 0,
            created_by: created_by.to_string(),
        };
        let _entered = self.disk.gate().enter()?;
        let inserted = self.tokens.compare_and_swap(
            id.as_bytes(),
            None::<&[u8]>,
            Some(record.encode_to_vec()),
        )?;
        if inserted.is_err() {
            // 64 random bits collided: astronomically unlikely; refuse
            // rather than overwrite.
            return Err(StoreError::AlreadyExists { kind: "token", id });
        }
        let token = format!(
            "jb.{id}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
        );
        Ok((record, token))
    }

    /// The caller a presented token stands for, or `None` if it is not a
    /// valid, unrevoked token.
    pub fn authenticate(&self, token: &str) -> Result<Option<Caller>, StoreError> {
        let Some((id, secret)) = parse(token) else {
            return Ok(None);
        };
        let Some(record) = self.token(id)? else {
            return Ok(None);
        };
        if record.revoked_at_ms != 0 || !same(&Sha256::digest(&secret), &record.secret_sha256) {
            return Ok(None);
        }
        Ok(Some(record.caller()))
    }

    /// Reads one token record.
    pub fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.tokens
            .get(id.as_bytes())?
            .map(|v| {
                TokenRecord::decode(&v[..])
                    .map_err(|e| StoreError::corruption(format!("token record: {e}")))
            })
            .transpose()
    }

    /// Every token, by id.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.tokens
            .iter()
            .map(|r| {
                let (_, v) = r?;
                TokenRecord::decode(&v[..])
                    .map_err(|e| StoreError::corruption(format!("token record: {e}")))
            })
            .collect()
    }

    /// Revokes a token; the next call with it is refused. Revoking a
    /// revoked token changes nothing. `NotFound` if absent.
    pub fn revoke_token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        let mut record = self
            .token(id)?
            .ok_or_else(|| StoreError::not_found("token", id))?;
        if record.revoked_at_ms == 0 {
            record.revoked_at_ms = super::now_ms();
            // A revocation must go through, even on a full disk.
            let _entered = self.disk.gate().enter_anyway();
            self.tokens.insert(id.as_bytes(), record.encode_to_vec())?;
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::temp_store;

    #[test]
    fn tokens_authenticate_until_revoked_and_only_hashes_are_stored() {
        let (_dir, store) = temp_store();
        let scope = Scope {
            counties: vec!["431202".into()],
            employer_id: None,
        };
        let (record, token) = store
            .create_token(Role::ServiceCompany, &scope, "hecheng", "cli")
            .unwrap();
        let caller = store.authenticate(&token).unwrap().unwrap();
        assert_eq!(caller.role, Role::ServiceCompany);
        assert_eq!(caller.token_id, record.id);
        assert_eq!(caller.scope, scope);
        // A wrong secret, a mangled token, an unknown id: no caller.
        let mut wrong = token.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == 'A' { 'B' } else { 'A' });
        assert!(store.authenticate(&wrong).unwrap().is_none());
        assert!(store
            .authenticate("jb.tok_0000000000000000.xx")
            .unwrap()
            .is_none());
        assert!(store.authenticate("Bearer").unwrap().is_none());
        assert!(store.authenticate("").unwrap().is_none());
        // The secret is nowhere in the stored record.
        let secret = token.rsplit('.').next().unwrap();
        let stored = store.tokens.get(record.id.as_bytes()).unwrap().unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(secret)
            .unwrap();
        assert!(!stored.windows(raw.len()).any(|w| w == &raw[..]));
        assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()));
        store.revoke_token(&record.id).unwrap();
        assert!(store.authenticate(&token).unwrap().is_none());
        assert_eq!(store.tokens().unwrap().len(), 1);
    }
}
