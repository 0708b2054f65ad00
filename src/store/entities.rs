//! How workers and openings are laid out in tables: their codecs and the
//! index entries each needs.

use prost::Message;

use crate::domain::{Opening, Worker};

use super::records::{OpeningRecord, WorkerRecord};
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
        let record = WorkerRecord::decode(bytes)
            .map_err(|e| StoreError::corruption(format!("worker record: {e}")))?;
        Worker::try_from(record)
    }

    fn index_keys(&self) -> Vec<IndexKey> {
        use worker_index::*;
        vec![
            IndexKey::Multi {
                tree: COUNTY,
                value: self.county_code.as_bytes().to_vec(),
            },
            IndexKey::Multi {
                tree: SITE,
                value: self.site_id.as_bytes().to_vec(),
            },
            IndexKey::Multi {
                tree: HOUSEHOLD,
                value: self.household_id.as_bytes().to_vec(),
            },
            IndexKey::Multi {
                tree: STATUS,
                value: vec![self.employment_status.code()],
            },
            IndexKey::Unique {
                tree: NATIONAL_ID,
                // Upper-case X so that "...x" and "...X" are one person.
                value: self.national_id.to_ascii_uppercase().into_bytes(),
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
        let record = OpeningRecord::decode(bytes)
            .map_err(|e| StoreError::corruption(format!("opening record: {e}")))?;
        Opening::try_from(record)
    }

    fn index_keys(&self) -> Vec<IndexKey> {
        use opening_index::*;
        vec![
            IndexKey::Multi {
                tree: REGION,
                value: self.region_code.as_bytes().to_vec(),
            },
            IndexKey::Multi {
                tree: SOURCE,
                value: vec![self.source.code()],
            },
            IndexKey::Multi {
                tree: STATUS,
                value: vec![self.status.code()],
            },
            IndexKey::Multi {
                tree: EMPLOYER,
                value: self.employer_id.as_bytes().to_vec(),
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
}
