//! A table: one sled tree of records by id, plus secondary-index trees that
//! change in the same transaction as the record, so they never disagree.
//!
//! Index keys are `value 0x00 id` with an empty value (many records per
//! value), or `value` -> `id` for unique indexes. Ids and indexed values never
//! contain `0x00` (the domain's id and code alphabets exclude it), so keys
//! sort by value, then id.

use std::collections::BTreeSet;

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

/// How a put treats an existing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    /// Fail with `AlreadyExists` if the id is taken.
    Create,
    /// Replace any existing record.
    Upsert,
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

/// A primary tree and its index trees.
pub(crate) struct Table {
    trees: Vec<Tree>,
}

impl Table {
    /// Opens (or creates) the trees of entity `E` in `db`.
    pub(crate) fn open<E: Entity>(db: &sled::Db) -> Result<Self, StoreError> {
        let mut trees = vec![db.open_tree(format!("{}s", E::KIND))?];
        for name in E::INDEXES {
            trees.push(db.open_tree(format!("{}s_by_{name}", E::KIND))?);
        }
        Ok(Table { trees })
    }

    /// The primary tree and the index trees, in order (to join them into a
    /// transaction with other tables).
    pub(crate) fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Reads one record.
    pub(crate) fn get<E: Entity>(&self, id: &str) -> Result<Option<E>, StoreError> {
        self.trees[0]
            .get(id.as_bytes())?
            .map(|v| E::decode(&v))
            .transpose()
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        self.trees[0].len()
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
        self.trees[..]
            .transaction(|t| {
                (0..count)
                    .map(|i| {
                        let (e, mode) = item(i);
                        put_in(t, e.clone(), mode, now_ms, true)
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(tx_err)
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
        self.trees[..]
            .transaction(|t| {
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
            .map_err(tx_err)
    }

    /// Removes a record and its index entries; `NotFound` if absent. `check`
    /// sees the record first and may refuse the delete.
    pub(crate) fn delete<E: Entity>(
        &self,
        id: &str,
        check: impl Fn(&E) -> Result<(), StoreError>,
    ) -> Result<E, StoreError> {
        self.trees[..]
            .transaction(|t| {
                let Some(old) = get_in::<E>(t, id)? else {
                    return abort(StoreError::not_found(E::KIND, id));
                };
                check(&old).map_err(ConflictableTransactionError::Abort)?;
                delete_in::<E>(t, id)?;
                Ok(old)
            })
            .map_err(tx_err)
    }

    /// Record ids in id order after `after`, from the primary tree or from
    /// the multi index `tree` restricted to `value`.
    pub(crate) fn ids_after(
        &self,
        index: Option<(usize, &[u8])>,
        after: Option<&str>,
    ) -> impl Iterator<Item = Result<String, StoreError>> + '_ {
        let (tree, prefix) = match index {
            Some((tree, value)) => (&self.trees[tree], multi_prefix(value)),
            None => (&self.trees[0], Vec::new()),
        };
        let mut start = prefix.clone();
        if let Some(after) = after {
            start.extend_from_slice(after.as_bytes());
            // The smallest key after `after` itself.
            start.push(0);
        }
        let plen = prefix.len();
        tree.range(start..)
            .take_while(move |r| r.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
            .map(move |r| {
                let (k, _) = r?;
                String::from_utf8(k[plen..].to_vec())
                    .map_err(|_| StoreError::corruption("index key is not UTF-8"))
            })
    }

    /// Every record, in id order.
    pub(crate) fn scan<E: Entity>(&self) -> impl Iterator<Item = Result<E, StoreError>> + '_ {
        self.trees[0].iter().map(|r| E::decode(&r?.1))
    }

    /// Checks that the index trees hold exactly the entries the records
    /// need. For tests and `jobbridge check`; reads everything.
    pub(crate) fn verify<E: Entity>(&self) -> Result<(), StoreError> {
        let mut expected: Vec<BTreeSet<(Vec<u8>, Vec<u8>)>> =
            vec![BTreeSet::new(); self.trees.len()];
        for (k, v) in self.trees[0].iter().collect::<Result<Vec<_>, _>>()? {
            let item = E::decode(&v)?;
            if item.id().as_bytes() != &k[..] {
                return Err(StoreError::corruption(format!(
                    "{} key {:?} holds id {:?}",
                    E::KIND,
                    k,
                    item.id()
                )));
            }
            for key in item.index_keys() {
                match key {
                    IndexKey::Multi { tree, value } => {
                        expected[tree].insert((multi_key(&value, item.id()), Vec::new()));
                    }
                    IndexKey::Unique { tree, value, .. } => {
                        expected[tree].insert((value, item.id().as_bytes().to_vec()));
                    }
                }
            }
        }
        for (i, tree) in self.trees.iter().enumerate().skip(1) {
            let actual: BTreeSet<(Vec<u8>, Vec<u8>)> = tree
                .iter()
                .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect::<Result<_, _>>()?;
            if actual != expected[i] {
                return Err(StoreError::corruption(format!(
                    "index {}s_by_{} disagrees with records: {} entries, {} expected",
                    E::KIND,
                    E::INDEXES[i - 1],
                    actual.len(),
                    expected[i].len()
                )));
            }
        }
        Ok(())
    }
}

/// One record's put inside a transaction of the table's trees (`t` may be
/// the table's part of a larger transaction). The inner `Err` is a
/// per-record refusal; the outer one aborts or retries the transaction.
/// `client` writes keep the stored record's server-owned fields
/// ([`Entity::carry`]).
pub(crate) fn put_in<E: Entity>(
    t: &[TransactionalTree],
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
            if let Some(owner) = t[*tree].get(value)? {
                if owner != id.as_bytes() {
                    return Ok(Err(StoreError::Duplicate {
                        kind: E::KIND,
                        field,
                    }));
                }
            }
        }
    }
    if let Some(old) = &old {
        for key in old.index_keys() {
            remove_index(t, &key, &id)?;
        }
    }
    for key in &new_keys {
        match key {
            IndexKey::Multi { tree, value } => {
                t[*tree].insert(multi_key(value, &id), &[][..])?;
            }
            IndexKey::Unique { tree, value, .. } => {
                t[*tree].insert(value.as_slice(), id.as_bytes())?;
            }
        }
    }
    let created = old.as_ref().map_or(now_ms, E::created_at_ms);
    item.set_times(created, now_ms);
    t[0].insert(id.as_bytes(), item.encode())?;
    Ok(Ok((item, old.is_none())))
}

/// Reads one record inside a transaction of the table's trees.
pub(crate) fn get_in<E: Entity>(t: &[TransactionalTree], id: &str) -> Result<Option<E>, TxError> {
    match t[0].get(id.as_bytes())? {
        Some(bytes) => Ok(Some(
            E::decode(&bytes).map_err(ConflictableTransactionError::Abort)?,
        )),
        None => Ok(None),
    }
}

/// Removes a record and its index entries inside a transaction of the
/// table's trees; the removed record, or `None` if absent.
pub(crate) fn delete_in<E: Entity>(
    t: &[TransactionalTree],
    id: &str,
) -> Result<Option<E>, TxError> {
    let Some(old) = get_in::<E>(t, id)? else {
        return Ok(None);
    };
    for key in old.index_keys() {
        remove_index(t, &key, id)?;
    }
    t[0].remove(id.as_bytes())?;
    Ok(Some(old))
}

fn remove_index(t: &[TransactionalTree], key: &IndexKey, id: &str) -> Result<(), TxError> {
    match key {
        IndexKey::Multi { tree, value } => {
            t[*tree].remove(multi_key(value, id))?;
        }
        IndexKey::Unique { tree, value, .. } => {
            // Only remove the entry if it is still ours.
            if t[*tree]
                .get(value)?
                .is_some_and(|owner| owner == id.as_bytes())
            {
                t[*tree].remove(value.as_slice())?;
            }
        }
    }
    Ok(())
}
