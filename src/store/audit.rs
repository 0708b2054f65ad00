//! The audit log: one entry per authenticated call, written without a
//! sled write on the request path, and without one per call at all.
//!
//! A call's entry is queued in memory before the call runs, and its
//! outcome (status code, what it touched) after. The committer writes the
//! queue right before each group flush, so an entry reaches disk in the
//! same flush as the writes of its call (it was queued before them), and a
//! read-only load still gets its entries written within [`IDLE_WRITE`].
//! Reading or pruning the log writes the queue first, so a listing sees
//! every call made before it.
//!
//! # One value per flush
//!
//! sled pays per key: a tree insert and its share of the log and of the
//! epoch garbage. Two inserts a call (entry and outcome) cost more than the
//! worker upsert they describe, so each write of the queue stores one value
//! for all of its entries and one for all of its outcomes:
//!
//! - `audit_chunks`: key = the chunk's first sequence number (8 bytes, big
//!   endian); value = an [`EntryChunk`], entries with consecutive sequence
//!   numbers from `first`. Numbers are handed out under the queue's mutex
//!   and the queue is taken whole, so every chunk's numbers lie above all
//!   earlier chunks': the chunk of `seq` is the one with the greatest key
//!   not above it.
//! - `audit_chunk_outcomes`: key = the key of the chunk whose entries the
//!   outcomes complete, then the first sequence number among them; value =
//!   an [`OutcomeChunk`]. A call's outcome is queued after its entry, often
//!   after the flush that wrote it, so outcomes are filed under their
//!   entries' chunk and a chunk is read with one prefix scan.
//!
//! Directories written before this layout keep their per-call trees
//! (`audit`, `audit_outcomes`): they are read after the chunks (their
//! numbers are all lower) and pruned alike, and nothing new goes to them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use prost::Message;
use sled::Transactional;

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
/// which halves a typical entry. The sequence number is the chunk's to
/// give (see the module doc), and the outcome is stored apart.
fn compact(entry: &AuditEntry) -> Vec<u8> {
    let mut stored = AuditEntry {
        seq: 0,
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
        Some(role) => stored.role_code = role.code().into(),
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
        if let Some(role) = crate::domain::access::Role::from_stored(entry.role_code) {
            entry.role = role.label().to_string();
        }
    }
    entry.role_code = 0;
    Ok(entry)
}

/// What a reply said about an audited call, in the per-call layout
/// (`audit_outcomes`, same key as the entry).
#[derive(Clone, PartialEq, Eq, prost::Message)]
struct AuditOutcome {
    #[prost(string, tag = "1")]
    target: String,
    #[prost(int32, tag = "2")]
    code: i32,
}

/// The entries of one write of the queue.
#[derive(Clone, PartialEq, Eq, prost::Message)]
struct EntryChunk {
    /// Sequence number of `entries[0]`; the others follow one by one.
    /// Not always the key: pruning drops a chunk's oldest entries and
    /// keeps its key, which its outcomes are filed under.
    #[prost(uint64, tag = "1")]
    first: u64,
    /// Compact entries ([`compact`]), without their numbers.
    #[prost(bytes = "vec", repeated, tag = "2")]
    entries: Vec<Vec<u8>>,
}

/// Outcomes of one write of the queue for the entries of one chunk.
#[derive(Clone, PartialEq, Eq, prost::Message)]
struct OutcomeChunk {
    #[prost(message, repeated, tag = "1")]
    rows: Vec<OutcomeRow>,
}

/// What the reply to call `seq` said.
#[derive(Clone, PartialEq, Eq, prost::Message)]
struct OutcomeRow {
    #[prost(uint64, tag = "1")]
    seq: u64,
    #[prost(string, tag = "2")]
    target: String,
    #[prost(int32, tag = "3")]
    code: i32,
}

/// Entries and outcomes not yet written to sled.
#[derive(Default)]
struct Queue {
    /// The number the next entry gets.
    next_seq: u64,
    /// Compact entries numbered up to `next_seq - 1`, oldest first.
    entries: Vec<Vec<u8>>,
    outcomes: Vec<OutcomeRow>,
}

/// The audit trees, the next sequence number and the queue.
pub(crate) struct AuditLog {
    chunks: sled::Tree,
    chunk_outcomes: sled::Tree,
    /// The per-call layout of older directories (see the module doc).
    legacy: sled::Tree,
    legacy_outcomes: sled::Tree,
    queue: Mutex<Queue>,
    /// Held while the queue is written, so that a chunk is on its tree
    /// before outcomes filed under it look for it.
    writing: Mutex<()>,
    /// The store's disk: its gate admits the writes of the queue.
    disk: std::sync::Arc<super::Disk>,
}

fn be(key: &[u8]) -> Result<u64, StoreError> {
    key.get(..8)
        .and_then(|k| k.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::corruption("audit key is shorter than 8 bytes"))
}

fn outcome_key(chunk: u64, first: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&chunk.to_be_bytes());
    key[8..].copy_from_slice(&first.to_be_bytes());
    key
}

fn decode_chunk(value: &[u8]) -> Result<EntryChunk, StoreError> {
    EntryChunk::decode(value).map_err(|e| StoreError::corruption(format!("audit chunk: {e}")))
}

fn decode_outcomes(value: &[u8]) -> Result<OutcomeChunk, StoreError> {
    OutcomeChunk::decode(value).map_err(|e| StoreError::corruption(format!("audit outcomes: {e}")))
}

impl AuditLog {
    /// Opens the trees; sequence numbers continue after the last entry.
    pub(crate) fn open(disk: &std::sync::Arc<super::Disk>) -> Result<Self, StoreError> {
        let db = disk.db();
        let chunks = db.open_tree("audit_chunks")?;
        let chunk_outcomes = db.open_tree("audit_chunk_outcomes")?;
        let legacy = db.open_tree("audit")?;
        let legacy_outcomes = db.open_tree("audit_outcomes")?;
        let last = match chunks.last()? {
            Some((_, v)) => {
                let chunk = decode_chunk(&v)?;
                chunk.first + chunk.entries.len() as u64
            }
            None => 0,
        };
        let last_legacy = match legacy.last()? {
            Some((k, _)) => be(&k)? + 1,
            None => 0,
        };
        Ok(Self {
            chunks,
            chunk_outcomes,
            legacy,
            legacy_outcomes,
            queue: Mutex::new(Queue {
                next_seq: last.max(last_legacy).max(1),
                ..Queue::default()
            }),
            writing: Mutex::new(()),
            disk: disk.clone(),
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

    /// Writes everything queued: at most one chunk of entries, and one
    /// value of outcomes per chunk they complete (usually one). Called by
    /// the committer before each flush, and before reads of the log.
    /// On a full disk nothing is taken from the queue: it is written when
    /// space is freed.
    pub(crate) fn write_queued(&self) -> Result<(), StoreError> {
        if !self.has_queued() {
            return Ok(());
        }
        let _entered = self.disk.gate().enter_audit()?;
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let (first, entries, mut outcomes) = {
            let mut q = self.queue();
            let entries = std::mem::take(&mut q.entries);
            let first = q.next_seq - entries.len() as u64;
            (first, entries, std::mem::take(&mut q.outcomes))
        };
        if !entries.is_empty() {
            let chunk = EntryChunk { first, entries };
            self.chunks
                .insert(first.to_be_bytes(), chunk.encode_to_vec())?;
        }
        if outcomes.is_empty() {
            return Ok(());
        }
        outcomes.sort_by_key(|o| o.seq);
        let mut legacy = sled::Batch::default();
        let mut batch = sled::Batch::default();
        let mut rows = outcomes.into_iter().peekable();
        while let Some(row) = rows.next() {
            let Some((key, _)) = self
                .chunks
                .range(..=row.seq.to_be_bytes())
                .next_back()
                .transpose()?
            else {
                // Completes an entry of the per-call layout.
                let value = AuditOutcome {
                    target: row.target,
                    code: row.code,
                }
                .encode_to_vec();
                legacy.insert(&row.seq.to_be_bytes(), value);
                continue;
            };
            let chunk = be(&key)?;
            let end = match self.chunks.range((chunk + 1).to_be_bytes()..).next() {
                Some(next) => be(&next?.0)?,
                None => u64::MAX,
            };
            let first = row.seq;
            let mut group = OutcomeChunk { rows: vec![row] };
            while let Some(row) = rows.next_if(|r| r.seq < end) {
                group.rows.push(row);
            }
            batch.insert(&outcome_key(chunk, first), group.encode_to_vec());
        }
        self.chunk_outcomes.apply_batch(batch)?;
        self.legacy_outcomes.apply_batch(legacy)?;
        Ok(())
    }

    /// The outcomes filed under chunk `key`, by sequence number.
    fn outcomes_of(&self, key: &[u8]) -> Result<HashMap<u64, OutcomeRow>, StoreError> {
        let mut out = HashMap::new();
        for r in self.chunk_outcomes.scan_prefix(key) {
            let (_, v) = r?;
            for row in decode_outcomes(&v)?.rows {
                out.insert(row.seq, row);
            }
        }
        Ok(out)
    }

    /// An entry of the per-call layout, completed with its outcome.
    fn legacy_entry(&self, key: &[u8], value: &[u8]) -> Result<AuditEntry, StoreError> {
        let mut entry = expand(value)?;
        if let Some(v) = self.legacy_outcomes.get(key)? {
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
    pub fn audit(&self, entry: AuditEntry) -> Result<u64, StoreError> {
        let value = compact(&entry);
        let mut q = self.audit_log.queue();
        let seq = q.next_seq;
        q.next_seq += 1;
        q.entries.push(value);
        Ok(seq)
    }

    /// Completes an audit entry with what the reply said: queued, never a
    /// read-modify-write of the entry. Once per call.
    pub fn audit_outcome(&self, seq: u64, target: &str, code: i32) -> Result<(), StoreError> {
        self.audit_log.queue().outcomes.push(OutcomeRow {
            seq,
            target: target.to_string(),
            code,
        });
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
        match log.write_queued() {
            // The newest entries wait in memory until space is freed; the
            // log on disk is read as it is.
            Ok(()) | Err(StoreError::DiskFull { .. }) => {}
            Err(e) => return Err(e),
        }
        let end = if before == 0 { u64::MAX } else { before };
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for r in log.chunks.range(..end.to_be_bytes()).rev() {
            let (k, v) = r?;
            let chunk = decode_chunk(&v)?;
            let mut outcomes = log.outcomes_of(&k)?;
            for (i, raw) in chunk.entries.iter().enumerate().rev() {
                let seq = chunk.first + i as u64;
                if seq >= end {
                    continue;
                }
                let mut entry = expand(raw)?;
                entry.seq = seq;
                if token_id.is_some_and(|t| t != entry.token_id) {
                    continue;
                }
                if let Some(o) = outcomes.remove(&seq) {
                    entry.target = o.target;
                    entry.code = o.code;
                }
                out.push(entry);
                if out.len() == limit {
                    return Ok(out);
                }
            }
        }
        for r in log.legacy.range(..end.to_be_bytes()).rev() {
            let (k, v) = r?;
            let entry = log.legacy_entry(&k, &v)?;
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

    /// Removes audit entries older than `before_ms` (the oldest entries up
    /// to the first that is not), with their outcomes; returns how many.
    pub fn prune_audit(&self, before_ms: i64) -> Result<usize, StoreError> {
        let log = &self.audit_log;
        log.write_queued()?;
        let _entered = self.disk.gate().enter()?;
        let (removed, done) = self.prune_legacy(before_ms)?;
        if !done {
            return Ok(removed);
        }
        let _writing = log.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut removed = removed;
        for r in log.chunks.iter() {
            let (k, v) = r?;
            let mut chunk = decode_chunk(&v)?;
            let old = chunk
                .entries
                .iter()
                .map(|raw| expand(raw).map(|e| e.at_ms < before_ms))
                .take_while(|old| !matches!(old, Ok(false)))
                .collect::<Result<Vec<bool>, _>>()?
                .len();
            if old == 0 {
                break;
            }
            let whole = old == chunk.entries.len();
            chunk.entries.drain(..old);
            chunk.first += old as u64;
            // The chunk and its outcomes change together.
            let mut groups = Vec::new();
            for r in log.chunk_outcomes.scan_prefix(&k) {
                let (key, value) = r?;
                let mut group = decode_outcomes(&value)?;
                group.rows.retain(|row| !whole && row.seq >= chunk.first);
                groups.push((key, group));
            }
            (&log.chunks, &log.chunk_outcomes)
                .transaction(|(chunks, outcomes)| -> sled::transaction::ConflictableTransactionResult<(), StoreError> {
                    if whole {
                        chunks.remove(&k)?;
                    } else {
                        chunks.insert(&k, chunk.encode_to_vec())?;
                    }
                    for (key, group) in &groups {
                        if group.rows.is_empty() {
                            outcomes.remove(key)?;
                        } else {
                            outcomes.insert(key, group.encode_to_vec())?;
                        }
                    }
                    Ok(())
                })
                .map_err(super::table::tx_err)?;
            removed += old;
            if !whole {
                break;
            }
        }
        Ok(removed)
    }

    /// Prunes the per-call layout; `done` when none of its entries is left
    /// (the chunks, all newer, are next).
    fn prune_legacy(&self, before_ms: i64) -> Result<(usize, bool), StoreError> {
        let log = &self.audit_log;
        let mut removed = 0;
        loop {
            let mut batch = sled::Batch::default();
            let mut outcomes = sled::Batch::default();
            let mut n = 0;
            let mut full = false;
            let mut kept_one = false;
            for r in log.legacy.iter() {
                let (k, v) = r?;
                let entry = AuditEntry::decode(&v[..])
                    .map_err(|e| StoreError::corruption(format!("audit entry: {e}")))?;
                if entry.at_ms >= before_ms {
                    kept_one = true;
                    break;
                }
                outcomes.remove(k.clone());
                batch.remove(k);
                n += 1;
                if n == 4096 {
                    full = true;
                    break;
                }
            }
            log.legacy.apply_batch(batch)?;
            log.legacy_outcomes.apply_batch(outcomes)?;
            removed += n;
            if !full {
                return Ok((removed, !kept_one));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::temp_store;

    #[test]
    fn audit_reads_newest_first_and_prunes_old_entries() {
        let (_dir, store) = temp_store();
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
        // The number is the chunk's to give.
        let numbered = |seq| AuditEntry {
            seq,
            ..entry.clone()
        };
        assert_eq!(expand(&stored).unwrap(), numbered(0));
        // An entry of the older, full form reads as it was.
        assert_eq!(expand(&entry.encode_to_vec()).unwrap(), entry);
    }

    fn entry(at_ms: i64, token: &str) -> AuditEntry {
        AuditEntry {
            at_ms,
            token_id: token.to_string(),
            role: "admin".into(),
            method: "/jobbridge.v1.Workers/GetWorker".into(),
            code: -1,
            ..Default::default()
        }
    }

    #[test]
    fn outcomes_written_after_their_chunk_complete_it() {
        let (dir, store) = temp_store();
        let a = store.audit(entry(1, "t")).unwrap();
        let b = store.audit(entry(2, "t")).unwrap();
        store.audit_log.write_queued().unwrap();
        store.audit_outcome(a, "worker a", 0).unwrap();
        let c = store.audit(entry(3, "u")).unwrap();
        store.audit_log.write_queued().unwrap();
        store.audit_outcome(c, "worker c", 5).unwrap();
        store.audit_outcome(b, "worker b", 7).unwrap();
        store.flush_blocking().unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let all = store.audit_log(0, None, 10).unwrap();
        let got: Vec<_> = all
            .iter()
            .map(|e| (e.seq, e.target.as_str(), e.code))
            .collect();
        assert_eq!(
            got,
            [(c, "worker c", 5), (b, "worker b", 7), (a, "worker a", 0)]
        );
        assert_eq!(all[0].method, "/jobbridge.v1.Workers/GetWorker");
        assert_eq!(all[0].role, "admin");
        let page: Vec<u64> = store
            .audit_log(c, None, 10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(page, [b, a]);
        assert_eq!(store.audit_log(0, Some("u"), 10).unwrap().len(), 1);
        // One value per write of the queue, and per chunk its outcomes
        // complete: two chunks; outcomes a | b, c (b's chunk, c's chunk).
        assert_eq!(store.audit_log.chunks.len(), 2);
        assert_eq!(store.audit_log.chunk_outcomes.len(), 3);
        assert_eq!(store.audit(entry(4, "t")).unwrap(), c + 1);
    }

    #[test]
    fn entries_of_the_per_call_layout_read_after_the_chunks_and_prune_first() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let log = &store.audit_log;
            for seq in 1..=3u64 {
                let mut old = entry(seq as i64, "old");
                old.seq = seq;
                log.legacy
                    .insert(seq.to_be_bytes(), old.encode_to_vec())
                    .unwrap();
            }
            let done = AuditOutcome {
                target: "worker w-2".into(),
                code: 0,
            };
            log.legacy_outcomes
                .insert(2u64.to_be_bytes(), done.encode_to_vec())
                .unwrap();
            store.flush_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let new = store.audit(entry(10, "new")).unwrap();
        assert_eq!(new, 4, "numbers continue after the per-call layout's");
        store.audit_outcome(new, "worker w-9", 0).unwrap();
        let seqs: Vec<(u64, i32)> = store
            .audit_log(0, None, 10)
            .unwrap()
            .iter()
            .map(|e| (e.seq, e.code))
            .collect();
        assert_eq!(seqs, [(4, 0), (3, -1), (2, 0), (1, -1)]);
        assert_eq!(
            store.audit_log(3, None, 10).unwrap()[0].target,
            "worker w-2"
        );
        assert_eq!(store.prune_audit(3).unwrap(), 2);
        assert_eq!(store.prune_audit(11).unwrap(), 2);
        assert!(store.audit_log(0, None, 10).unwrap().is_empty());
        assert!(store.audit_log.legacy_outcomes.is_empty());
        assert!(store.audit_log.chunk_outcomes.is_empty());
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A call arrives (token 0..3), `gap` ms after the last.
        Call { token: u8, gap: i64 },
        /// The `nth` running call (modulo) answers with `code`.
        Answer { nth: usize, code: i32 },
        /// The committer writes the queue.
        Write,
        /// Entries older than the last call's time minus `age` go.
        Prune { age: i64 },
        /// The server restarts (the queue is written first, as on a stop).
        Reopen,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0u8..3, 0i64..3).prop_map(|(token, gap)| Op::Call { token, gap }),
            3 => (0usize..8, 0i32..3).prop_map(|(nth, code)| Op::Answer { nth, code }),
            2 => Just(Op::Write),
            1 => (0i64..6).prop_map(|age| Op::Prune { age }),
            1 => Just(Op::Reopen),
        ]
    }

    /// What the log must hold: (seq, at_ms, token, target, code).
    type Model = Vec<(u64, i64, String, String, i32)>;

    fn check(store: &Store, model: &Model, probe: u64) {
        let want: Vec<_> = model.iter().rev().cloned().collect();
        let got: Vec<_> = store
            .audit_log(0, None, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|e| (e.seq, e.at_ms, e.token_id, e.target, e.code))
            .collect();
        assert_eq!(got, want);
        // A page from a point and one token's entries agree too.
        let before = model
            .get(probe as usize % (model.len() + 1))
            .map_or(0, |e| e.0);
        let page: Vec<u64> = store
            .audit_log(before, Some("1"), 3)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        let want: Vec<u64> = want
            .iter()
            .filter(|e| (before == 0 || e.0 < before) && e.2 == "1")
            .take(3)
            .map(|e| e.0)
            .collect();
        assert_eq!(page, want);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// The log against a plain list: whatever order calls, answers,
        /// writes of the queue, prunes and restarts come in.
        #[test]
        fn the_log_reads_back_as_a_plain_list_would(
            ops in proptest::collection::vec(op(), 1..60),
            probe in 0u64..64,
        ) {
            let (dir, mut store) = temp_store();
            let mut model: Model = Vec::new();
            let mut running: Vec<u64> = Vec::new();
            let mut now = 0i64;
            for op in ops {
                match op {
                    Op::Call { token, gap } => {
                        now += gap;
                        let seq = store.audit(entry(now, &token.to_string())).unwrap();
                        model.push((seq, now, token.to_string(), String::new(), -1));
                        running.push(seq);
                    }
                    Op::Answer { nth, code } => {
                        if running.is_empty() {
                            continue;
                        }
                        let seq = running.remove(nth % running.len());
                        let target = format!("worker w-{seq}");
                        store.audit_outcome(seq, &target, code).unwrap();
                        if let Some(e) = model.iter_mut().find(|e| e.0 == seq) {
                            e.3 = target;
                            e.4 = code;
                        }
                    }
                    Op::Write => store.audit_log.write_queued().unwrap(),
                    Op::Prune { age } => {
                        let cutoff = now - age;
                        let old = model.iter().take_while(|e| e.1 < cutoff).count();
                        assert_eq!(store.prune_audit(cutoff).unwrap(), old);
                        model.drain(..old);
                    }
                    Op::Reopen => {
                        store.flush_blocking().unwrap();
                        drop(store);
                        store = Store::open(dir.path()).unwrap();
                        // Calls running at a stop never get their outcome.
                        running.clear();
                    }
                }
            }
            check(&store, &model, probe);
        }
    }
}
