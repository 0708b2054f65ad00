//! The audit log: one entry per authenticated call, written without a
//! sled write on the request path.
//!
//! A call's entry is queued in memory before the call runs, and its
//! outcome (status code, what it touched) after. The committer writes the
//! queue with one sled batch per tree right before each group flush, so an
//! entry reaches disk in the same flush as the writes of its call (it was
//! queued before them), and a read-only load still gets its entries written
//! within [`IDLE_WRITE`]. Reading or pruning the log writes the queue first,
//! so a listing sees every call made before it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use prost::Message;

use super::{Store, StoreError};

/// Longest an entry waits in memory when no write asks for a flush.
pub(crate) const IDLE_WRITE: Duration = Duration::from_millis(250);

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
    /// The role as its stable code (compact form; `role` is then empty).
    #[prost(uint32, tag = "8")]
    pub role_code: u32,
}

/// The package every audited method is in; stored without it.
const METHOD_PREFIX: &str = "/jobbridge.v1.";

/// The stored form of an entry: compact, because every read of personal
/// data writes one. The role becomes its one-byte code and the method
/// loses the package prefix every method shares (`Workers/GetWorker`),
/// which halves a typical entry. The outcome is stored apart.
fn compact(entry: &AuditEntry) -> Vec<u8> {
    let mut stored = AuditEntry {
        seq: entry.seq,
        at_ms: entry.at_ms,
        token_id: entry.token_id.clone(),
        method: entry
            .method
            .strip_prefix(METHOD_PREFIX)
            .unwrap_or(&entry.method)
            .to_string(),
        target: entry.target.clone(),
        code: entry.code,
        ..AuditEntry::default()
    };
    match crate::domain::access::Role::from_label(&entry.role) {
        Some(role) => stored.role_code = role.code(),
        None => stored.role = entry.role.clone(),
    }
    stored.encode_to_vec()
}

/// An entry as read back: the full method and role label again (entries
/// written before the compact form read as they were).
fn expand(value: &[u8]) -> Result<AuditEntry, StoreError> {
    let mut entry = AuditEntry::decode(value)
        .map_err(|e| StoreError::corruption(format!("audit entry: {e}")))?;
    if !entry.method.starts_with('/') {
        entry.method = format!("{METHOD_PREFIX}{}", entry.method);
    }
    if entry.role.is_empty() {
        if let Some(role) = crate::domain::access::Role::from_code(entry.role_code) {
            entry.role = role.label().to_string();
        }
    }
    entry.role_code = 0;
    Ok(entry)
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

/// Entries and outcomes not yet written to sled.
#[derive(Default)]
struct Queue {
    entries: Vec<(u64, Vec<u8>)>,
    outcomes: Vec<(u64, Vec<u8>)>,
}

/// The audit trees, the next sequence number and the queue.
pub(crate) struct AuditLog {
    entries: sled::Tree,
    outcomes: sled::Tree,
    next_seq: AtomicU64,
    queue: Mutex<Queue>,
}

impl AuditLog {
    /// Opens the trees; sequence numbers continue after the last entry.
    pub(crate) fn open(db: &sled::Db) -> Result<Self, StoreError> {
        let entries = db.open_tree("audit")?;
        let outcomes = db.open_tree("audit_outcomes")?;
        let last = match entries.last()? {
            Some((k, _)) => u64::from_be_bytes(
                k.as_ref()
                    .try_into()
                    .map_err(|_| StoreError::corruption("audit key is not 8 bytes"))?,
            ),
            None => 0,
        };
        Ok(Self {
            entries,
            outcomes,
            next_seq: AtomicU64::new(last + 1),
            queue: Mutex::new(Queue::default()),
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether anything waits to be written.
    pub(crate) fn has_queued(&self) -> bool {
        let q = self.queue();
        !q.entries.is_empty() || !q.outcomes.is_empty()
    }

    /// Writes everything queued: one batch per tree. Called by the
    /// committer before each flush, and before reads of the log.
    pub(crate) fn write_queued(&self) -> Result<(), StoreError> {
        let Queue { entries, outcomes } = std::mem::take(&mut *self.queue());
        if !entries.is_empty() {
            let mut batch = sled::Batch::default();
            for (seq, value) in entries {
                batch.insert(&seq.to_be_bytes(), value);
            }
            self.entries.apply_batch(batch)?;
        }
        if !outcomes.is_empty() {
            let mut batch = sled::Batch::default();
            for (seq, value) in outcomes {
                batch.insert(&seq.to_be_bytes(), value);
            }
            self.outcomes.apply_batch(batch)?;
        }
        Ok(())
    }

    /// An entry as stored, completed with its outcome if there is one.
    fn entry(&self, key: &[u8], value: &[u8]) -> Result<AuditEntry, StoreError> {
        let mut entry = expand(value)?;
        if let Some(v) = self.outcomes.get(key)? {
            let outcome = AuditOutcome::decode(&v[..])
                .map_err(|e| StoreError::corruption(format!("audit outcome: {e}")))?;
            entry.target = outcome.target;
            entry.code = outcome.code;
        }
        Ok(entry)
    }
}

impl Store {
    /// Appends an entry to the audit log; returns its sequence number. The
    /// entry is written with the next group flush (see the module doc).
    pub fn audit(&self, mut entry: AuditEntry) -> Result<u64, StoreError> {
        let log = &self.audit_log;
        entry.seq = log.next_seq.fetch_add(1, Ordering::Relaxed);
        let value = compact(&entry);
        log.queue().entries.push((entry.seq, value));
        Ok(entry.seq)
    }

    /// Completes an audit entry with what the reply said: queued beside
    /// the entry, never a read-modify-write of it.
    pub fn audit_outcome(&self, seq: u64, target: &str, code: i32) -> Result<(), StoreError> {
        let value = AuditOutcome {
            target: target.to_string(),
            code,
        }
        .encode_to_vec();
        self.audit_log.queue().outcomes.push((seq, value));
        Ok(())
    }

    /// Audit entries with sequence numbers below `before` (all if 0),
    /// newest first, optionally of one token.
    pub fn audit_log(
        &self,
        before: u64,
        token_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let log = &self.audit_log;
        log.write_queued()?;
        let end = if before == 0 { u64::MAX } else { before };
        let mut out = Vec::new();
        for r in log.entries.range(..end.to_be_bytes()).rev() {
            let (k, v) = r?;
            let entry = log.entry(&k, &v)?;
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
        let log = &self.audit_log;
        log.write_queued()?;
        let mut removed = 0;
        loop {
            let mut batch = sled::Batch::default();
            let mut outcomes = sled::Batch::default();
            let mut n = 0;
            let mut done = true;
            for r in log.entries.iter() {
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
            log.entries.apply_batch(batch)?;
            log.outcomes.apply_batch(outcomes)?;
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

    #[test]
    fn queued_entries_reach_disk_with_the_next_flush_and_numbers_continue() {
        let dir = tempfile::tempdir().unwrap();
        let first = {
            let store = Store::open(dir.path()).unwrap();
            let seq = store
                .audit(AuditEntry {
                    at_ms: 1,
                    token_id: "t".into(),
                    method: "/m".into(),
                    code: -1,
                    ..Default::default()
                })
                .unwrap();
            store.audit_outcome(seq, "worker w-1", 0).unwrap();
            // A flush writes the queue first.
            store.flush_blocking().unwrap();
            assert!(!store.audit_log.has_queued());
            seq
        };
        let store = Store::open(dir.path()).unwrap();
        let all = store.audit_log(0, None, 10).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].seq, all[0].code, all[0].target.as_str()),
            (first, 0, "worker w-1")
        );
        let next = store.audit(AuditEntry::default()).unwrap();
        assert_eq!(next, first + 1, "sequence numbers continue after a restart");
    }

    #[test]
    fn stored_entries_are_compact_and_read_back_whole() {
        let entry = AuditEntry {
            seq: 7,
            at_ms: 1_764_000_000_000,
            token_id: "tok_1f0c2b7a9d4e6f81".into(),
            role: "service_company".into(),
            method: "/jobbridge.v1.Workers/GetWorker".into(),
            // As the access layer queues it: the outcome comes apart.
            target: String::new(),
            code: -1,
            role_code: 0,
        };
        let stored = compact(&entry);
        assert!(
            stored.len() * 4 < entry.encode_to_vec().len() * 3,
            "{} bytes stored, {} in full",
            stored.len(),
            entry.encode_to_vec().len()
        );
        assert_eq!(expand(&stored).unwrap(), entry);
        // An entry of the older, full form reads as it was.
        assert_eq!(expand(&entry.encode_to_vec()).unwrap(), entry);
    }
}
