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

/// A stored token (never the secret).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TokenRecord {
    /// Public id, `tok_` and 16 hex digits.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Role code.
    #[prost(uint32, tag = "2")]
    pub role: u32,
    /// County codes (service companies).
    #[prost(string, repeated, tag = "3")]
    pub counties: Vec<String>,
    /// Employer (recruiters).
    #[prost(string, optional, tag = "4")]
    pub employer_id: Option<String>,
    /// Free text: who or what the token is for.
    #[prost(string, tag = "5")]
    pub label: String,
    /// SHA-256 of the secret.
    #[prost(bytes = "vec", tag = "6")]
    pub secret_sha256: Vec<u8>,
    /// Unix ms.
    #[prost(int64, tag = "7")]
    pub created_at_ms: i64,
    /// Unix ms; 0 while valid.
    #[prost(int64, tag = "8")]
    pub revoked_at_ms: i64,
    /// Who created it: a token id, or `cli` / `demo`.
    #[prost(string, tag = "9")]
    pub created_by: String,
}

impl TokenRecord {
    /// The role (admin for an unknown stored code would be wrong: reader,
    /// the least, is used instead).
    pub fn role(&self) -> Role {
        Role::from_code(self.role).unwrap_or(Role::Reader)
    }

    /// The caller this token makes.
    pub fn caller(&self) -> Caller {
        Caller {
            token_id: self.id.clone(),
            role: self.role(),
            scope: Scope {
                counties: self.counties.clone(),
                employer_id: self.employer_id.clone(),
            },
        }
    }
}

/// One audited call.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct AuditEntry {
    /// Sequence number, increasing.
    #[prost(uint64, tag = "1")]
    pub seq: u64,
    /// When the call arrived, Unix ms.
    #[prost(int64, tag = "2")]
    pub at_ms: i64,
    /// The caller's token id.
    #[prost(string, tag = "3")]
    pub token_id: String,
    /// The caller's role.
    #[prost(string, tag = "4")]
    pub role: String,
    /// The RPC, e.g. `/jobbridge.v1.Workers/GetWorker`.
    #[prost(string, tag = "5")]
    pub method: String,
    /// What it touched, when the handler says (e.g. `worker w-1`).
    #[prost(string, tag = "6")]
    pub target: String,
    /// gRPC status code of the reply (for a stream: 0 once it started);
    /// -1 while the call runs or if the server stopped during it.
    #[prost(int32, tag = "7")]
    pub code: i32,
}

/// What a reply said about an audited call, stored beside its entry
/// (`audit_outcomes`, same key) so that completing an entry is one small
/// insert, not a read-modify-write of the entry.
#[derive(Clone, PartialEq, Eq, prost::Message)]
struct AuditOutcome {
    #[prost(string, tag = "1")]
    target: String,
    #[prost(int32, tag = "2")]
    code: i32,
}

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
            role: role.code(),
            counties: scope.counties.clone(),
            employer_id: scope.employer_id.clone(),
            label: label.to_string(),
            secret_sha256: Sha256::digest(secret).to_vec(),
            created_at_ms: super::now_ms(),
            revoked_at_ms: 0,
            created_by: created_by.to_string(),
        };
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
            self.tokens.insert(id.as_bytes(), record.encode_to_vec())?;
        }
        Ok(record)
    }

    /// Appends an entry to the audit log; returns its sequence number.
    pub fn audit(&self, mut entry: AuditEntry) -> Result<u64, StoreError> {
        entry.seq = self.db.generate_id()? + 1;
        self.audit
            .insert(entry.seq.to_be_bytes(), entry.encode_to_vec())?;
        Ok(entry.seq)
    }

    /// Completes an audit entry with what the reply said: one insert
    /// beside the entry, no read. The entry itself was written before the
    /// call ran, so it is durable with the call's own writes; the outcome
    /// goes with the next group commit.
    pub fn audit_outcome(&self, seq: u64, target: &str, code: i32) -> Result<(), StoreError> {
        let outcome = AuditOutcome {
            target: target.to_string(),
            code,
        };
        self.audit_outcomes
            .insert(seq.to_be_bytes(), outcome.encode_to_vec())?;
        Ok(())
    }

    /// An entry as stored, completed with its outcome if there is one.
    fn audit_entry(&self, key: &[u8], value: &[u8]) -> Result<AuditEntry, StoreError> {
        let mut entry = AuditEntry::decode(value)
            .map_err(|e| StoreError::corruption(format!("audit entry: {e}")))?;
        if let Some(v) = self.audit_outcomes.get(key)? {
            let outcome = AuditOutcome::decode(&v[..])
                .map_err(|e| StoreError::corruption(format!("audit outcome: {e}")))?;
            entry.target = outcome.target;
            entry.code = outcome.code;
        }
        Ok(entry)
    }

    /// Audit entries with sequence numbers below `before` (all if 0),
    /// newest first, optionally of one token.
    pub fn audit_log(
        &self,
        before: u64,
        token_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let end = if before == 0 { u64::MAX } else { before };
        let mut out = Vec::new();
        for r in self.audit.range(..end.to_be_bytes()).rev() {
            let (k, v) = r?;
            let entry = self.audit_entry(&k, &v)?;
            if token_id.is_some_and(|t| t != entry.token_id) {
                continue;
            }
            out.push(entry);
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// Removes audit entries older than `before_ms`; returns how many.
    pub fn prune_audit(&self, before_ms: i64) -> Result<usize, StoreError> {
        let mut removed = 0;
        loop {
            let mut batch = sled::Batch::default();
            let mut outcomes = sled::Batch::default();
            let mut n = 0;
            let mut done = true;
            for r in self.audit.iter() {
                let (k, v) = r?;
                let entry = AuditEntry::decode(&v[..])
                    .map_err(|e| StoreError::corruption(format!("audit entry: {e}")))?;
                if entry.at_ms >= before_ms {
                    break;
                }
                outcomes.remove(k.clone());
                batch.remove(k);
                n += 1;
                if n == 4096 {
                    done = false;
                    break;
                }
            }
            self.audit.apply_batch(batch)?;
            self.audit_outcomes.apply_batch(outcomes)?;
            removed += n;
            if done {
                return Ok(removed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_authenticate_until_revoked_and_only_hashes_are_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
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

    #[test]
    fn audit_reads_newest_first_and_prunes_old_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (i, token) in ["a", "b", "a"].iter().enumerate() {
            let seq = store
                .audit(AuditEntry {
                    at_ms: 1000 * (i as i64 + 1),
                    token_id: token.to_string(),
                    method: "/m".into(),
                    code: -1,
                    ..Default::default()
                })
                .unwrap();
            store.audit_outcome(seq, "worker w", 0).unwrap();
        }
        let all = store.audit_log(0, None, 10).unwrap();
        assert_eq!(
            all.iter().map(|e| e.at_ms).collect::<Vec<_>>(),
            [3000, 2000, 1000]
        );
        assert!(all.iter().all(|e| e.code == 0 && e.target == "worker w"));
        let a = store.audit_log(0, Some("a"), 10).unwrap();
        assert_eq!(a.len(), 2);
        let older = store.audit_log(all[0].seq, None, 1).unwrap();
        assert_eq!(older[0].at_ms, 2000);
        assert_eq!(store.prune_audit(2500).unwrap(), 2);
        assert_eq!(store.audit_log(0, None, 10).unwrap().len(), 1);
    }
}
