//! The national id key a data directory is bound to, and the upgrade of
//! directories written before national ids were hashed.
//!
//! The unique index on `worker.national_id` only finds the same person
//! twice if every stored value was hashed with the same key. So the `meta`
//! tree keeps the key's fingerprint, and a store refuses any other key
//! instead of letting duplicates through unnoticed.

use sled::transaction::abort;

use super::table::{get_in, put_in, PutMode};
use super::{Store, StoreError, FORMAT_KEY, FORMAT_VERSION};
use crate::domain::identity::{self, short_fingerprint, IdKey};
use crate::domain::Worker;

/// `meta` key of the bound key's fingerprint (hex).
const FINGERPRINT_KEY: &[u8] = b"id_key_fingerprint";
/// `meta` key present while clear national ids may still be stored: from
/// binding a key until every record is hashed.
const UPGRADE_KEY: &[u8] = b"id_key_upgrade_pending";
/// Records rewritten per transaction by the upgrade.
const UPGRADE_BATCH: usize = 1000;

/// What [`Store::bind_id_key`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// The store had no key yet: this one's fingerprint is now recorded.
    pub recorded: bool,
    /// Clear national ids (from before hashing) that were hashed now.
    pub hashed: usize,
}

impl Store {
    /// Binds the national id key to the store, or checks that it is the
    /// bound one. The first key bound is recorded by its fingerprint, and
    /// any clear national id left by an older build is hashed with it, each
    /// record together with its index entry. Later calls with the same key
    /// return at once (or finish an upgrade that a crash cut short); another
    /// key gets [`StoreError::IdKeyMismatch`].
    ///
    /// ```
    /// use jobbridge::domain::IdKey;
    /// use jobbridge::store::{Store, StoreError};
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = Store::open(dir.path()).unwrap();
    /// assert!(store.bind_id_key(&IdKey::new(vec![1; 32]).unwrap()).unwrap().recorded);
    /// assert!(!store.bind_id_key(&IdKey::new(vec![1; 32]).unwrap()).unwrap().recorded);
    /// assert!(matches!(
    ///     store.bind_id_key(&IdKey::new(vec![2; 32]).unwrap()),
    ///     Err(StoreError::IdKeyMismatch { .. })
    /// ));
    /// ```
    pub fn bind_id_key(&self, key: &IdKey) -> Result<Bound, StoreError> {
        let recorded = if self.check_id_key(key)? {
            if self.meta.get(UPGRADE_KEY)?.is_none() {
                return Ok(Bound {
                    recorded: false,
                    hashed: 0,
                });
            }
            false
        } else {
            // Recorded, durably, before the first record changes: a restart
            // with another key in the middle of the upgrade is refused too.
            let mut batch = sled::Batch::default();
            batch.insert(FINGERPRINT_KEY, key.fingerprint().as_bytes());
            batch.insert(UPGRADE_KEY, &[][..]);
            self.meta.apply_batch(batch)?;
            self.disk.flush()?;
            true
        };
        let hashed = self.hash_clear_national_ids(key)?;
        // Done: older builds, which would store clear ids beside the hashes,
        // may no longer open the directory.
        let mut batch = sled::Batch::default();
        batch.remove(UPGRADE_KEY);
        batch.insert(FORMAT_KEY, &FORMAT_VERSION.to_be_bytes());
        self.meta.apply_batch(batch)?;
        self.disk.flush()?;
        Ok(Bound { recorded, hashed })
    }

    /// Checks `key` against the bound key without changing anything:
    /// `true` if it is the bound key, `false` if no key is bound yet, and
    /// [`StoreError::IdKeyMismatch`] if another key is bound.
    pub fn check_id_key(&self, key: &IdKey) -> Result<bool, StoreError> {
        let Some(stored) = self.id_key_fingerprint()? else {
            return Ok(false);
        };
        let given = key.fingerprint();
        if stored != given {
            return Err(StoreError::IdKeyMismatch {
                stored: short_fingerprint(&stored).to_string(),
                given: short_fingerprint(&given).to_string(),
            });
        }
        Ok(true)
    }

    /// The bound key's fingerprint ([`IdKey::fingerprint`]), if any.
    pub fn id_key_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.meta
            .get(FINGERPRINT_KEY)?
            .map(|v| {
                String::from_utf8(v.to_vec())
                    .map_err(|_| StoreError::corruption("id key fingerprint is not UTF-8"))
            })
            .transpose()
    }

    /// Hashes every clear national id, [`UPGRADE_BATCH`] records per
    /// transaction; returns how many.
    fn hash_clear_national_ids(&self, key: &IdKey) -> Result<usize, StoreError> {
        let (mut hashed, mut clear) = (0, Vec::new());
        for worker in self.workers() {
            let worker = worker?;
            if !identity::is_hashed(&worker.national_id) {
                clear.push(worker.id);
            }
            if clear.len() == UPGRADE_BATCH {
                hashed += self.hash_national_ids(&clear, key)?;
                clear.clear();
            }
        }
        if !clear.is_empty() {
            hashed += self.hash_national_ids(&clear, key)?;
        }
        if hashed > 0 {
            tracing::info!(
                workers = hashed,
                "clear national ids replaced by keyed hashes"
            );
        }
        Ok(hashed)
    }

    /// Rewrites the workers `ids` with hashed national ids, and moves their
    /// unique-index entries, in one transaction. Timestamps are kept: this
    /// is a change of form, not a write by anyone.
    fn hash_national_ids(&self, ids: &[String], key: &IdKey) -> Result<usize, StoreError> {
        self.workers.transaction(|t| {
            let mut hashed = 0;
            for id in ids {
                let Some(old) = get_in::<Worker>(t, id)? else {
                    continue;
                };
                if identity::is_hashed(&old.national_id) {
                    continue;
                }
                let mut new = old.clone();
                new.national_id = key.hash(&old.national_id);
                if let Err(e) = put_in(t, new, PutMode::Upsert, old.updated_at_ms, false)? {
                    // Clear ids were unique (upper-cased), so their
                    // hashes are too: anything else is damage.
                    return abort(StoreError::corruption(format!(
                        "hashing the national id of worker {id:?}: {e}"
                    )));
                }
                hashed += 1;
            }
            Ok(hashed)
        })
    }

    /// Checks that no clear national id is left in a store bound to a key
    /// (for [`Store::verify`]).
    pub(super) fn verify_national_ids(&self) -> Result<(), StoreError> {
        if self.id_key_fingerprint()?.is_none() || self.meta.get(UPGRADE_KEY)?.is_some() {
            return Ok(());
        }
        for worker in self.workers() {
            let worker = worker?;
            if !identity::is_hashed(&worker.national_id) {
                return Err(StoreError::corruption(format!(
                    "worker {:?} holds a clear national id in a store bound to a key",
                    worker.id
                )));
            }
        }
        Ok(())
    }
}
