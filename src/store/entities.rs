//! How workers and openings are laid out in tables: their codecs and the
//! index entries each needs.

use prost::Message;

use crate::domain::identity;
use crate::domain::placement::{self, Placement};
use crate::domain::{Opening, Worker};

use super::records::{decode, OpeningRecord, WorkerRecord};
use super::table::{Entity, IndexKey};
use super::StoreError;

/// Index tree numbers of the worker table (0 is the primary tree).
pub(crate) mod worker_index {
    pub const COUNTY: usize = 1;
    pub const SITE: usize = 2;
    pub const HOUSEHOLD: usize = 3;
    pub const STATUS: usize = 4;
    pub const NATIONAL_ID: usize = 5;
}

/// Index tree numbers of the placement table.
pub(crate) mod placement_index {
    pub const WORKER: usize = 1;
    pub const OPENING: usize = 2;
    pub const COUNTY: usize = 3;
    pub const STATUS: usize = 4;
}

/// Index tree numbers of the opening table.
pub(crate) mod opening_index {
    pub const REGION: usize = 1;
    pub const SOURCE: usize = 2;
    pub const STATUS: usize = 3;
    pub const EMPLOYER: usize = 4;
}

impl Entity for Worker {
    const KIND: &'static str = "worker";
    const INDEXES: &'static [&'static str] =
        &["county", "site", "household", "status", "national_id"];

    fn id(&self) -> &str {
        &self.id
    }

    fn encode(&self) -> Vec<u8> {
        WorkerRecord::from(self).encode_to_vec()
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        Worker::try_from(decode::<WorkerRecord>(bytes, "worker")?)
    }

    fn index_keys(&self) -> Vec<IndexKey> {
        use worker_index::*;
        vec![
            IndexKey::multi(COUNTY, &self.county_code),
            IndexKey::multi(SITE, &self.site_id),
            IndexKey::multi(HOUSEHOLD, &self.household_id),
            IndexKey::multi(STATUS, [self.employment_status.code()]),
            IndexKey::Unique {
                tree: NATIONAL_ID,
                value: national_id_key(&self.national_id),
                field: "worker.national_id",
            },
        ]
    }

    fn set_times(&mut self, created_at_ms: i64, updated_at_ms: i64) {
        self.created_at_ms = created_at_ms;
        self.updated_at_ms = updated_at_ms;
    }

    fn created_at_ms(&self) -> i64 {
        self.created_at_ms
    }

    /// Keeps the placement link (see [`placement::keep_worker_link`]).
    fn carry(&mut self, old: Option<&Self>) -> Result<(), StoreError> {
        Ok(placement::keep_worker_link(self, old)?)
    }
}

/// The unique-index value of a stored national id: the keyed hash as it
/// is, or, in a data directory from before hashing (see
/// [`Store::bind_id_key`](super::Store::bind_id_key)), the clear number with
/// an upper-case X, so that "...x" and "...X" are one person.
pub(super) fn national_id_key(stored: &str) -> Vec<u8> {
    if identity::is_hashed(stored) {
        stored.as_bytes().to_vec()
    } else {
        stored.to_ascii_uppercase().into_bytes()
    }
}

impl Entity for Opening {
    const KIND: &'static str = "opening";
    const INDEXES: &'static [&'static str] = &["region", "source", "status", "employer"];

    fn id(&self) -> &str {
        &self.id
    }

    fn encode(&self) -> Vec<u8> {
        OpeningRecord::from(self).encode_to_vec()
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        Opening::try_from(decode::<OpeningRecord>(bytes, "opening")?)
    }

    fn index_keys(&self) -> Vec<IndexKey> {
        use opening_index::*;
        vec![
            IndexKey::multi(REGION, &self.region_code),
            IndexKey::multi(SOURCE, [self.source.code()]),
            IndexKey::multi(STATUS, [self.status.code()]),
            IndexKey::multi(EMPLOYER, &self.employer_id),
        ]
    }

    fn set_times(&mut self, created_at_ms: i64, updated_at_ms: i64) {
        self.created_at_ms = created_at_ms;
        self.updated_at_ms = updated_at_ms;
    }

    fn created_at_ms(&self) -> i64 {
        self.created_at_ms
    }

    /// Keeps the filled-slot count (see [`placement::keep_opening_slots`]).
    fn carry(&mut self, old: Option<&Self>) -> Result<(), StoreError> {
        Ok(placement::keep_opening_slots(self, old)?)
    }
}

impl Entity for Placement {
    const KIND: &'static str = "placement";
    const INDEXES: &'static [&'static str] = &["worker", "opening", "county", "status"];
    // One placement per proposal, kept as history: the table only grows, so
    // its indexes stay on disk and the server's memory does not grow with it.
    const INDEXES_ON_DISK: bool = true;

    fn id(&self) -> &str {
        &self.id
    }

    fn encode(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        decode(bytes, "placement")
    }

    fn index_keys(&self) -> Vec<IndexKey> {
        use placement_index::*;
        vec![
            IndexKey::multi(WORKER, &self.worker_id),
            IndexKey::multi(OPENING, &self.opening_id),
            IndexKey::multi(COUNTY, &self.county_code),
            IndexKey::multi(STATUS, [self.status as u8]),
        ]
    }

    fn set_times(&mut self, created_at_ms: i64, updated_at_ms: i64) {
        self.proposed_at_ms = created_at_ms;
        self.updated_at_ms = updated_at_ms;
    }

    fn created_at_ms(&self) -> i64 {
        self.proposed_at_ms
    }
}

/// A stable fingerprint of the fields a client writes: what a batch run's
/// assignment was computed from. Never 0 (0 means "changed during the
/// run" in an assignment).
fn fingerprint(bytes: &[u8]) -> u64 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    n.max(1)
}

/// The worker's fingerprint: its record without the placement link and the
/// times, which placements and every write change.
pub fn worker_fingerprint(w: &Worker) -> u64 {
    let mut w = w.clone();
    w.placement = Default::default();
    w.created_at_ms = 0;
    w.updated_at_ms = 0;
    fingerprint(&WorkerRecord::from(&w).encode_to_vec())
}

/// The opening's fingerprint: its record without the filled slots and the
/// times.
pub fn opening_fingerprint(o: &Opening) -> u64 {
    let mut o = o.clone();
    o.filled = 0;
    o.created_at_ms = 0;
    o.updated_at_ms = 0;
    fingerprint(&OpeningRecord::from(&o).encode_to_vec())
}
