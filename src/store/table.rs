//! A table: one sled tree of records by id, and secondary indexes kept in
//! memory.
//!
//! For workers and openings the records are the only thing on disk. Their
//! indexes are derived from them: built by one scan when the store opens,
//! and changed by every write after its sled transaction commits. A write
//! holds its tables' write locks from before the transaction until its
//! index changes are applied, so writes of one table reach its indexes in
//! the order they committed, and a unique check inside a transaction sees
//! every earlier write. Such an index can never disagree with the records
//! after a crash, because it is not on disk: each secondary index in sled
//! cost as much as the record itself (six tree inserts per worker instead
//! of one).
//!
//! A table whose records only ever grow ([`Entity::INDEXES_ON_DISK`]: the
//! placements, one per proposal, kept for ever as history) keeps its
//! indexes in sled trees instead, written in the same transaction as the
//! records, so that the server's memory does not grow with its history.
//! They are built from the records once, when a directory first gets them,
//! and a marker in the `meta` tree records that they are complete.
//!
//! Readers never take a write lock: a listing reads the index in short
//! chunks under its read lock, then gets each record from sled, and checks
//! the record against its filter (a listing running beside a write may see
//! the index a moment before or after the record).
//!
//! Index keys are `value 0x00 id` with an empty value (many records per
//! value), or `value` -> `id` for unique indexes. Ids and indexed values never
//! contain `0x00` (the domain's id and code alphabets exclude it), so keys
//! sort by value, then id.

pub use crate::domain::query::PutMode;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use sled::transaction::{abort, ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::{Transactional, Tree};

use super::StoreError;

/// One index entry a record needs.
pub(crate) enum IndexKey {
    /// Many records per value: key `value 0x00 id` in tree `tree`.
    Multi { tree: usize, value: Vec<u8> },
    /// At most one record per value: key `value` -> id in tree `tree`.
    Unique {
        tree: usize,
        value: Vec<u8>,
        field: &'static str,
    },
}

impl IndexKey {
    /// An entry of the multi index `tree` for `value`.
    pub(crate) fn multi(tree: usize, value: impl AsRef<[u8]>) -> Self {
        IndexKey::Multi {
            tree,
            value: value.as_ref().to_vec(),
        }
    }
}

/// A record type the store keeps in a [`Table`].
pub(crate) trait Entity: Sized {
    /// Kind name for errors, e.g. `worker`.
    const KIND: &'static str;
    /// Names of the index trees, in tree order after the primary tree.
    const INDEXES: &'static [&'static str];
    /// Caller-assigned id.
    fn id(&self) -> &str;
    /// Encodes the record.
    fn encode(&self) -> Vec<u8>;
    /// Decodes a record.
    fn decode(bytes: &[u8]) -> Result<Self, StoreError>;
    /// Whether the indexes live in sled trees (`{KIND}s_by_{name}`) rather
    /// than in memory: for tables that grow without bound.
    const INDEXES_ON_DISK: bool = false;
    /// Every index entry this record needs (tree numbers start at 1).
    fn index_keys(&self) -> Vec<IndexKey>;
    /// Sets the server-owned timestamps.
    fn set_times(&mut self, created_at_ms: i64, updated_at_ms: i64);
    /// Creation time, to keep across upserts.
    fn created_at_ms(&self) -> i64;
    /// Copies the server-owned fields of the stored record `old` (if any)
    /// into a client's write, or refuses the write. Called for client
    /// writes only, not for the store's own updates.
    fn carry(&mut self, old: Option<&Self>) -> Result<(), StoreError> {
        let _ = old;
        Ok(())
    }
}

/// Key prefix for all entries of `value` in a multi index.
pub(crate) fn multi_prefix(value: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(value.len() + 1);
    k.extend_from_slice(value);
    k.push(0);
    k
}

fn multi_key(value: &[u8], id: &str) -> Vec<u8> {
    let mut k = multi_prefix(value);
    k.extend_from_slice(id.as_bytes());
    k
}

/// Errors raised inside a transaction closure.
pub(crate) type TxError = ConflictableTransactionError<StoreError>;

pub(crate) fn tx_err(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Backend(e),
    }
}

type Key = Box<[u8]>;
/// One secondary index: key -> value as described in the module doc.
type Index = BTreeMap<Key, Key>;
/// A change to index `.0`: insert `.1` -> `Some(value)`, or remove `.1`.
type Change = (usize, Key, Option<Key>);

/// Index keys read per lock of a listing.
const LIST_CHUNK: usize = 256;

/// A primary tree and its indexes.
pub(crate) struct Table {
    records: Tree,
    kind: &'static str,
    names: &'static [&'static str],
    /// Index `i` is tree number `i + 1` of [`IndexKey`]; empty when the
    /// indexes are on disk.
    indexes: RwLock<Vec<Index>>,
    /// The index trees, when [`Entity::INDEXES_ON_DISK`]; else empty.
    disk: Vec<Tree>,
    /// Held by a write from before its transaction until its index changes
    /// are applied.
    writing: Mutex<()>,
    /// Transactions committed on this table since it was opened, counted
    /// under `writing` (see [`Table::commits`]).
    commits: AtomicU64,
    /// The store's disk: its gate admits every transaction.
    backing: Arc<super::Disk>,
}

impl Table {
    /// Opens (or creates) the record tree of entity `E` in `disk`, drops the
    /// index trees of earlier formats, and builds the indexes from the
    /// records. Blocking: reads every record.
    pub(crate) fn open<E: Entity>(disk: &Arc<super::Disk>) -> Result<Self, StoreError> {
        let db = disk.db();
        let records = db.open_tree(format!("{}s", E::KIND))?;
        if E::INDEXES_ON_DISK {
            return Self::open_on_disk::<E>(disk, records);
        }
        let names = db.tree_names();
        for name in E::INDEXES {
            let old = format!("{}s_by_{name}", E::KIND);
            if names.iter().any(|n| n.as_ref() == old.as_bytes()) {
                db.drop_tree(old.as_bytes())?;
            }
        }
        let mut indexes = vec![Index::new(); E::INDEXES.len()];
        for entry in records.iter() {
            let (_, bytes) = entry?;
            let item = E::decode(&bytes)?;
            for (tree, key, value) in entries(&item.index_keys(), item.id()) {
                indexes[tree - 1].insert(key, value);
            }
        }
        Ok(Table {
            backing: disk.clone(),
            records,
            kind: E::KIND,
            names: E::INDEXES,
            indexes: RwLock::new(indexes),
            disk: Vec::new(),
            writing: Mutex::new(()),
            commits: AtomicU64::new(0),
        })
    }

    /// Opens a table whose indexes are sled trees. Unless the marker says
    /// they are complete (they were built, then kept in step by every
    /// transaction), they are cleared and built from the records, flushed,
    /// and only then marked.
    fn open_on_disk<E: Entity>(
        backing: &Arc<super::Disk>,
        records: Tree,
    ) -> Result<Self, StoreError> {
        let db = backing.db();
        let disk = E::INDEXES
            .iter()
            .map(|name| db.open_tree(format!("{}s_by_{name}", E::KIND)))
            .collect::<Result<Vec<_>, _>>()?;
        let meta = db.open_tree(super::META_TREE)?;
        let marker = built_marker(E::KIND);
        if meta.get(marker.as_bytes())?.is_none() {
            for tree in &disk {
                tree.clear()?;
            }
            let mut batches = vec![sled::Batch::default(); disk.len()];
            for entry in records.iter() {
                let (_, bytes) = entry?;
                let item = E::decode(&bytes)?;
                for (tree, key, value) in entries(&item.index_keys(), item.id()) {
                    batches[tree - 1].insert(&key[..], &value[..]);
                }
            }
            for (tree, batch) in disk.iter().zip(batches) {
                tree.apply_batch(batch)?;
            }
            backing.flush()?;
            meta.insert(marker.as_bytes(), &[1u8][..])?;
            backing.flush()?;
        }
        Ok(Table {
            backing: backing.clone(),
            records,
            kind: E::KIND,
            names: E::INDEXES,
            indexes: RwLock::new(Vec::new()),
            disk,
            writing: Mutex::new(()),
            commits: AtomicU64::new(0),
        })
    }

    fn read_indexes(&self) -> std::sync::RwLockReadGuard<'_, Vec<Index>> {
        self.indexes.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Transactions committed on this table since it was opened. A writer
    /// that read `n` before its own transaction and reads `n + 1` after it
    /// knows that no other write to the table committed in between, so its
    /// records are still what the table holds.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies a committed transaction's index changes, in order.
    fn apply(&self, changes: Vec<Change>) {
        // On disk the transaction itself wrote them.
        if changes.is_empty() || !self.disk.is_empty() {
            return;
        }
        let mut indexes = self.indexes.write().unwrap_or_else(PoisonError::into_inner);
        for (tree, key, value) in changes {
            let index = &mut indexes[tree - 1];
            match value {
                Some(value) => {
                    index.insert(key, value);
                }
                None => {
                    index.remove(&key);
                }
            }
        }
    }

    /// Reads one record.
    pub(crate) fn get<E: Entity>(&self, id: &str) -> Result<Option<E>, StoreError> {
        self.records
            .get(id.as_bytes())?
            .map(|v| E::decode(&v))
            .transpose()
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Runs `f` as one transaction over this table alone.
    pub(crate) fn transaction<R>(
        &self,
        f: impl Fn(&TxTable<'_>) -> Result<R, TxError>,
    ) -> Result<R, StoreError> {
        transaction(&[self], &[], |t, _| f(&t[0]))
    }

    /// Writes one record and its index entries atomically. Returns the
    /// stored record (timestamps set) and whether it was new.
    pub(crate) fn put<E: Entity + Clone>(
        &self,
        item: E,
        mode: PutMode,
        now_ms: i64,
    ) -> Result<(E, bool), StoreError> {
        let mut results = self.put_many(std::slice::from_ref(&item), mode, now_ms)?;
        results.pop().expect("one result per item")
    }

    /// Writes many records in one transaction. Each record succeeds or fails
    /// on its own (taken id, duplicate unique value); the failures are
    /// returned in place and nothing of a failed record is written.
    /// Later records see earlier ones of the same batch.
    #[allow(clippy::type_complexity)]
    pub(crate) fn put_many<E: Entity + Clone>(
        &self,
        items: &[E],
        mode: PutMode,
        now_ms: i64,
    ) -> Result<Vec<Result<(E, bool), StoreError>>, StoreError> {
        self.put_each(items.len(), |i| (&items[i], mode), now_ms)
    }

    /// As [`Table::put_many`], with a mode per record: record `i` and its
    /// mode are `item(i)`.
    #[allow(clippy::type_complexity)]
    pub(crate) fn put_each<'a, E: Entity + Clone + 'a>(
        &self,
        count: usize,
        item: impl Fn(usize) -> (&'a E, PutMode),
        now_ms: i64,
    ) -> Result<Vec<Result<(E, bool), StoreError>>, StoreError> {
        self.transaction(|t| {
            (0..count)
                .map(|i| {
                    let (e, mode) = item(i);
                    put_in(t, e.clone(), mode, now_ms, true)
                })
                .collect::<Result<Vec<_>, _>>()
        })
    }

    /// Reads, changes and writes one record atomically. `change` gets the
    /// current record and returns the new one, or `None` to leave it as it
    /// is; its error aborts the update. `NotFound` if absent.
    pub(crate) fn update<E: Entity + Clone>(
        &self,
        id: &str,
        now_ms: i64,
        change: impl Fn(&E) -> Result<Option<E>, StoreError>,
    ) -> Result<E, StoreError> {
        self.transaction(|t| {
            let Some(old) = get_in::<E>(t, id)? else {
                return abort(StoreError::not_found(E::KIND, id));
            };
            let Some(new) = change(&old).map_err(ConflictableTransactionError::Abort)? else {
                return Ok(old);
            };
            match put_in(t, new, PutMode::Upsert, now_ms, false)? {
                Ok((stored, _)) => Ok(stored),
                Err(e) => abort(e),
            }
        })
    }

    /// Removes a record and its index entries; `NotFound` if absent. `check`
    /// sees the record first and may refuse the delete.
    pub(crate) fn delete<E: Entity>(
        &self,
        id: &str,
        check: impl Fn(&E) -> Result<(), StoreError>,
    ) -> Result<E, StoreError> {
        self.transaction(|t| {
            let Some(old) = get_in::<E>(t, id)? else {
                return abort(StoreError::not_found(E::KIND, id));
            };
            check(&old).map_err(ConflictableTransactionError::Abort)?;
            delete_in::<E>(t, id)?;
            Ok(old)
        })
    }

    /// Record ids in id order after `after`, from the primary tree or from
    /// the multi index `tree` restricted to `value`.
    pub(crate) fn ids_after(
        &self,
        index: Option<(usize, &[u8])>,
        after: Option<&str>,
    ) -> Box<dyn Iterator<Item = Result<String, StoreError>> + '_> {
        let Some((tree, value)) = index else {
            let start = match after {
                // The smallest key after `after` itself.
                Some(after) => Bound::Excluded(after.as_bytes().to_vec()),
                None => Bound::Unbounded,
            };
            return Box::new(
                self.records
                    .range::<Vec<u8>, _>((start, Bound::Unbounded))
                    .map(|r| {
                        let (k, _) = r?;
                        id_string(&k)
                    }),
            );
        };
        let prefix = multi_prefix(value);
        let start = match after {
            Some(after) => Bound::Excluded(multi_key(value, after).into_boxed_slice()),
            None => Bound::Included(prefix.clone().into_boxed_slice()),
        };
        if let Some(index) = self.disk.get(tree - 1) {
            let from = prefix.len();
            let start = start.map(|k| k.into_vec());
            return Box::new(
                index
                    .range::<Vec<u8>, _>((start, Bound::Unbounded))
                    .keys()
                    .take_while(move |k| k.as_ref().map_or(true, |k| k.starts_with(&prefix)))
                    .map(move |k| id_string(&k?[from..])),
            );
        }
        Box::new(IndexIds {
            table: self,
            tree,
            prefix,
            start,
            buffered: VecDeque::new(),
            done: false,
        })
    }

    /// The id that in-memory unique index `tree` gives `value`, if any.
    pub(crate) fn unique_id(
        &self,
        tree: usize,
        value: &[u8],
    ) -> Result<Option<String>, StoreError> {
        let indexes = self.indexes.read().unwrap_or_else(PoisonError::into_inner);
        indexes
            .get(tree - 1)
            .and_then(|index| index.get(value))
            .map(|id| id_string(id))
            .transpose()
    }

    /// The distinct values of in-memory multi index `tree`, in order (one
    /// skip per value, not one step per record).
    pub(crate) fn values(&self, tree: usize) -> Vec<Vec<u8>> {
        let indexes = self.indexes.read().unwrap_or_else(PoisonError::into_inner);
        let Some(index) = indexes.get(tree - 1) else {
            return Vec::new();
        };
        let mut values = Vec::new();
        let mut from: Bound<Key> = Bound::Unbounded;
        while let Some((key, _)) = index.range((from, Bound::Unbounded)).next() {
            let value = key.split(|&b| b == 0).next().unwrap_or(key).to_vec();
            // Every key of `value` is `value 0x00 id`: the next value's
            // keys come at or after `value 0x01`.
            let mut next = value.clone();
            next.push(1);
            from = Bound::Included(next.into_boxed_slice());
            values.push(value);
        }
        values
    }

    /// The distinct parts of the ids before `separator` (ids without it
    /// are left out), in order: one seek per part, not one step per
    /// record.
    pub(crate) fn id_prefixes(&self, separator: u8) -> Result<Vec<String>, StoreError> {
        let mut prefixes = Vec::new();
        let mut from: Vec<u8> = Vec::new();
        while let Some(entry) = self.records.range(from.as_slice()..).keys().next() {
            let key = entry?;
            match key.iter().position(|&b| b == separator) {
                Some(at) => {
                    prefixes.push(id_string(&key[..at])?);
                    // Past every key of this prefix: `prefix` and the byte
                    // after the separator.
                    from = key[..at].to_vec();
                    from.push(separator + 1);
                }
                None => {
                    // A bare id: step just past it.
                    from = key.to_vec();
                    from.push(0);
                }
            }
        }
        Ok(prefixes)
    }

    /// Every record, in id order.
    pub(crate) fn scan<E: Entity>(&self) -> impl Iterator<Item = Result<E, StoreError>> + '_ {
        self.records.iter().map(|r| E::decode(&r?.1))
    }

    /// Checks that the indexes hold exactly the entries the records need.
    /// For tests and `jobbridge check`; reads everything, and holds the
    /// table's write lock meanwhile.
    pub(crate) fn verify<E: Entity>(&self) -> Result<(), StoreError> {
        let _writes = self.lock_writes();
        let mut expected: Vec<BTreeSet<(Key, Key)>> = vec![BTreeSet::new(); self.names.len()];
        for entry in self.records.iter() {
            let (k, v) = entry?;
            let item = E::decode(&v)?;
            if item.id().as_bytes() != &k[..] {
                return Err(StoreError::corruption(format!(
                    "{} key {:?} holds id {:?}",
                    self.kind,
                    k,
                    item.id()
                )));
            }
            for (tree, key, value) in entries(&item.index_keys(), item.id()) {
                expected[tree - 1].insert((key, value));
            }
        }
        let indexes = self.read_indexes();
        for i in 0..self.names.len() {
            let actual: BTreeSet<(Key, Key)> = match self.disk.get(i) {
                Some(tree) => tree
                    .iter()
                    .map(|r| r.map(|(k, v)| (Key::from(&k[..]), Key::from(&v[..]))))
                    .collect::<Result<_, _>>()?,
                None => indexes[i]
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            if actual != expected[i] {
                return Err(StoreError::corruption(format!(
                    "index {}s_by_{} disagrees with records: {} entries, {} expected",
                    self.kind,
                    self.names[i],
                    actual.len(),
                    expected[i].len()
                )));
            }
        }
        Ok(())
    }
}

/// The `meta` key that marks the on-disk index trees of `kind` complete.
pub(crate) fn built_marker(kind: &str) -> String {
    format!("indexes_built/{kind}")
}

fn id_string(key: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(key.to_vec()).map_err(|_| StoreError::corruption("record key is not UTF-8"))
}

/// The index entries of a record with these keys: (tree, key, value).
fn entries(keys: &[IndexKey], id: &str) -> Vec<(usize, Key, Key)> {
    keys.iter()
        .map(|key| match key {
            IndexKey::Multi { tree, value } => (
                *tree,
                multi_key(value, id).into_boxed_slice(),
                Key::default(),
            ),
            IndexKey::Unique { tree, value, .. } => (
                *tree,
                value.clone().into_boxed_slice(),
                id.as_bytes().into(),
            ),
        })
        .collect()
}

/// The ids under one value of a multi index, read in chunks so that no
/// lock is held between chunks.
struct IndexIds<'a> {
    table: &'a Table,
    tree: usize,
    prefix: Vec<u8>,
    start: Bound<Key>,
    buffered: VecDeque<Key>,
    done: bool,
}

impl Iterator for IndexIds<'_> {
    type Item = Result<String, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffered.is_empty() && !self.done {
            let indexes = self.table.read_indexes();
            let chunk = indexes[self.tree - 1]
                .range::<Key, _>((self.start.clone(), Bound::Unbounded))
                .map(|(k, _)| k)
                .take_while(|k| k.starts_with(&self.prefix))
                .take(LIST_CHUNK)
                .cloned();
            self.buffered.extend(chunk);
            drop(indexes);
            match self.buffered.back() {
                Some(last) if self.buffered.len() == LIST_CHUNK => {
                    self.start = Bound::Excluded(last.clone());
                }
                _ => self.done = true,
            }
        }
        let key = self.buffered.pop_front()?;
        Some(id_string(&key[self.prefix.len()..]))
    }
}

/// One table's part of a transaction: its record tree, and the index
/// changes the transaction will make once it commits (or its index trees,
/// for a table whose indexes are on disk).
pub(crate) struct TxTable<'a> {
    records: &'a TransactionalTree,
    /// The index trees when on disk, else empty.
    disk: &'a [TransactionalTree],
    table: &'a Table,
    changes: RefCell<Vec<Change>>,
    /// Unique-index entries as this transaction left them so far, per index.
    unique: RefCell<HashMap<(usize, Key), Option<Key>>>,
}

impl<'a> TxTable<'a> {
    fn new(
        table: &'a Table,
        records: &'a TransactionalTree,
        disk: &'a [TransactionalTree],
    ) -> Self {
        Self {
            records,
            disk,
            table,
            changes: RefCell::new(Vec::new()),
            unique: RefCell::new(HashMap::new()),
        }
    }

    /// The owner of a unique-index value, as this transaction sees it.
    fn unique_owner(&self, tree: usize, value: &[u8]) -> Result<Option<Key>, TxError> {
        if let Some(index) = self.disk.get(tree - 1) {
            // The transaction sees its own writes to the tree.
            return Ok(index.get(value)?.map(|v| Key::from(&v[..])));
        }
        if let Some(seen) = self.unique.borrow().get(&(tree, value.into())) {
            return Ok(seen.clone());
        }
        Ok(self.table.read_indexes()[tree - 1].get(value).cloned())
    }

    fn set_unique(&self, tree: usize, value: &[u8], owner: Option<Key>) -> Result<(), TxError> {
        if self.disk.is_empty() {
            self.unique
                .borrow_mut()
                .insert((tree, value.into()), owner.clone());
        }
        self.change(tree, value.into(), owner)
    }

    /// Records a change to index `tree`; on disk it is also written into
    /// the transaction's index tree.
    fn change(&self, tree: usize, key: Key, value: Option<Key>) -> Result<(), TxError> {
        if let Some(index) = self.disk.get(tree - 1) {
            match &value {
                Some(value) => index.insert(&key[..], &value[..])?,
                None => index.remove(&key[..])?,
            };
        }
        self.changes.borrow_mut().push((tree, key, value));
        Ok(())
    }
}

/// Runs `f` as one sled transaction over the record trees of `tables` and
/// the plain trees `others`, then applies the index changes it made. The
/// tables' write locks are taken in one fixed order (by address), so two
/// transactions over the same tables never wait for each other in a circle.
pub(crate) fn transaction<R>(
    tables: &[&Table],
    others: &[&Tree],
    f: impl Fn(&[TxTable<'_>], &[TransactionalTree]) -> Result<R, TxError>,
) -> Result<R, StoreError> {
    // The gate first, then the tables' locks: a write that is refused
    // (full disk) or waits (a backup) holds no table.
    let _entered = tables
        .first()
        .expect("a transaction over at least one table")
        .backing
        .gate()
        .enter()?;
    let mut order: Vec<&Table> = tables.to_vec();
    order.sort_by_key(|t| *t as *const Table as usize);
    order.dedup_by_key(|t| *t as *const Table as usize);
    let _writes: Vec<MutexGuard<'_, ()>> = order.iter().map(|t| t.lock_writes()).collect();
    // Each table's record tree, then its index trees if on disk; then `others`.
    let trees: Vec<Tree> = tables
        .iter()
        .flat_map(|t| std::iter::once(&t.records).chain(&t.disk).cloned())
        .chain(others.iter().map(|t| (*t).clone()))
        .collect();
    let own: usize = tables.iter().map(|t| 1 + t.disk.len()).sum();
    // The changes of the attempt that committed: sled runs `f` again when
    // a commit conflicts, so each attempt that returns Ok replaces them.
    let committed: RefCell<Vec<Vec<Change>>> = RefCell::new(Vec::new());
    let result = trees[..]
        .transaction(|t| {
            let mut at = 0;
            let parts: Vec<TxTable<'_>> = tables
                .iter()
                .map(|table| {
                    let part = TxTable::new(table, &t[at], &t[at + 1..at + 1 + table.disk.len()]);
                    at += 1 + table.disk.len();
                    part
                })
                .collect();
            let result = f(&parts, &t[own..])?;
            *committed.borrow_mut() = parts.into_iter().map(|p| p.changes.into_inner()).collect();
            Ok(result)
        })
        .map_err(tx_err)?;
    for (table, changes) in tables.iter().zip(committed.into_inner()) {
        table.apply(changes);
    }
    for table in &order {
        table.commits.fetch_add(1, Ordering::SeqCst);
    }
    Ok(result)
}

/// One record's put inside a transaction (`t` may be the table's part of
/// a larger transaction). The inner `Err` is a per-record refusal; the
/// outer one aborts or retries the transaction. `client` writes keep the
/// stored record's server-owned fields ([`Entity::carry`]).
pub(crate) fn put_in<E: Entity>(
    t: &TxTable<'_>,
    mut item: E,
    mode: PutMode,
    now_ms: i64,
    client: bool,
) -> Result<Result<(E, bool), StoreError>, TxError> {
    let id = item.id().to_string();
    let old = get_in::<E>(t, &id)?;
    if old.is_some() && mode == PutMode::Create {
        return Ok(Err(StoreError::AlreadyExists { kind: E::KIND, id }));
    }
    if client {
        if let Err(e) = item.carry(old.as_ref()) {
            return Ok(Err(e));
        }
    }
    let new_keys = item.index_keys();
    for key in &new_keys {
        if let IndexKey::Unique { tree, value, field } = key {
            if let Some(owner) = t.unique_owner(*tree, value)? {
                if &owner[..] != id.as_bytes() {
                    return Ok(Err(StoreError::Duplicate {
                        kind: E::KIND,
                        field,
                    }));
                }
            }
        }
    }
    let old_keys = old.as_ref().map(E::index_keys).unwrap_or_default();
    for key in &old_keys {
        // An entry the new record keeps is left alone.
        if !new_keys.iter().any(|k| same_entry(k, key)) {
            remove_index(t, key, &id)?;
        }
    }
    for key in &new_keys {
        if !old_keys.iter().any(|k| same_entry(k, key)) {
            match key {
                IndexKey::Multi { tree, value } => {
                    t.change(
                        *tree,
                        multi_key(value, &id).into_boxed_slice(),
                        Some(Key::default()),
                    )?;
                }
                IndexKey::Unique { tree, value, .. } => {
                    t.set_unique(*tree, value, Some(id.as_bytes().into()))?;
                }
            }
        }
    }
    let created = old.as_ref().map_or(now_ms, E::created_at_ms);
    item.set_times(created, now_ms);
    t.records.insert(id.as_bytes(), item.encode())?;
    Ok(Ok((item, old.is_none())))
}

fn same_entry(a: &IndexKey, b: &IndexKey) -> bool {
    match (a, b) {
        (
            IndexKey::Multi {
                tree: t1,
                value: v1,
            },
            IndexKey::Multi {
                tree: t2,
                value: v2,
            },
        )
        | (
            IndexKey::Unique {
                tree: t1,
                value: v1,
                ..
            },
            IndexKey::Unique {
                tree: t2,
                value: v2,
                ..
            },
        ) => t1 == t2 && v1 == v2,
        _ => false,
    }
}

/// Reads one record inside a transaction.
pub(crate) fn get_in<E: Entity>(t: &TxTable<'_>, id: &str) -> Result<Option<E>, TxError> {
    match t.records.get(id.as_bytes())? {
        Some(bytes) => Ok(Some(
            E::decode(&bytes).map_err(ConflictableTransactionError::Abort)?,
        )),
        None => Ok(None),
    }
}

/// Removes a record and its index entries inside a transaction; the
/// removed record, or `None` if absent.
pub(crate) fn delete_in<E: Entity>(t: &TxTable<'_>, id: &str) -> Result<Option<E>, TxError> {
    let Some(old) = get_in::<E>(t, id)? else {
        return Ok(None);
    };
    for key in old.index_keys() {
        remove_index(t, &key, id)?;
    }
    t.records.remove(id.as_bytes())?;
    Ok(Some(old))
}

fn remove_index(t: &TxTable<'_>, key: &IndexKey, id: &str) -> Result<(), TxError> {
    match key {
        IndexKey::Multi { tree, value } => {
            t.change(*tree, multi_key(value, id).into_boxed_slice(), None)
        }
        IndexKey::Unique { tree, value, .. } => {
            // Only remove the entry if it is still ours.
            if t.unique_owner(*tree, value)?
                .is_some_and(|owner| &owner[..] == id.as_bytes())
            {
                t.set_unique(*tree, value, None)?;
            }
            Ok(())
        }
    }
}
