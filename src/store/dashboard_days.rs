//! The dashboard's daily figures: one row per county per China day, for
//! the trend chart (`service::dashboard`). Kept in their own tree, keyed
//! `county code, 0, day` (the day as a big-endian number with the sign bit
//! flipped, so keys sort by day), so one county's days are one range scan.
//! A row written again the same day replaces the first.

use prost::Message;

use super::{Store, StoreError};

/// The sled tree of the daily figures.
pub(super) const DASHBOARD_DAYS_TREE: &str = "dashboard_days";

/// One county's dashboard figures on one day.
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct DayFigures {
    #[prost(string, tag = "1")]
    pub county_code: String,
    #[prost(uint64, tag = "2")]
    pub workers_registered: u64,
    #[prost(uint64, tag = "3")]
    pub workers_want_work: u64,
    #[prost(uint64, tag = "4")]
    pub workers_seeking: u64,
    #[prost(uint64, tag = "5")]
    pub workers_placed: u64,
    #[prost(uint64, tag = "6")]
    pub workers_in_work: u64,
    #[prost(uint64, tag = "7")]
    pub households_with_labour: u64,
    #[prost(uint64, tag = "8")]
    pub zero_employment_households: u64,
    #[prost(uint64, tag = "9")]
    pub hires: u64,
    #[prost(uint64, tag = "10")]
    pub separations: u64,
    #[prost(uint64, tag = "11")]
    pub retention_3m_due: u64,
    #[prost(uint64, tag = "12")]
    pub retention_3m_retained: u64,
    #[prost(uint64, tag = "13")]
    pub retention_6m_due: u64,
    #[prost(uint64, tag = "14")]
    pub retention_6m_retained: u64,
}

fn key(county: &str, day: i32) -> Vec<u8> {
    let mut k = Vec::with_capacity(county.len() + 5);
    k.extend_from_slice(county.as_bytes());
    k.push(0);
    k.extend_from_slice(&((day as u32) ^ 0x8000_0000).to_be_bytes());
    k
}

fn day_of(key: &[u8]) -> Result<i32, StoreError> {
    let tail: [u8; 4] = key
        .get(key.len().saturating_sub(4)..)
        .and_then(|t| t.try_into().ok())
        .ok_or_else(|| StoreError::corruption("dashboard day key is too short"))?;
    Ok((u32::from_be_bytes(tail) ^ 0x8000_0000) as i32)
}

impl Store {
    /// Writes the figures of `day` (one row per county), replacing any
    /// written for the same county and day. Not flushed: the caller syncs
    /// ([`Store::sync`]).
    pub fn put_dashboard_day(&self, day: i32, rows: &[DayFigures]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for r in rows {
            batch.insert(key(&r.county_code, day), r.encode_to_vec());
        }
        let _entered = self.disk.gate().enter()?;
        self.dashboard_days.apply_batch(batch)?;
        Ok(())
    }

    /// Whether a row of `county` was written for `day`.
    pub fn has_dashboard_day(&self, county: &str, day: i32) -> Result<bool, StoreError> {
        Ok(self.dashboard_days.contains_key(key(county, day))?)
    }

    /// The rows of days `from..=to`, by day then county: of one county, or
    /// of every county when `county` is `None`.
    pub fn dashboard_days(
        &self,
        county: Option<&str>,
        from: i32,
        to: i32,
    ) -> Result<Vec<(i32, DayFigures)>, StoreError> {
        let mut out = Vec::new();
        let mut push = |k: &[u8], v: &[u8]| -> Result<(), StoreError> {
            let day = day_of(k)?;
            if (from..=to).contains(&day) {
                let row = DayFigures::decode(v).map_err(|e| {
                    StoreError::corruption(format!("bad dashboard day record: {e}"))
                })?;
                out.push((day, row));
            }
            Ok(())
        };
        match county {
            Some(c) => {
                for entry in self.dashboard_days.range(key(c, from)..=key(c, to)) {
                    let (k, v) = entry?;
                    push(&k, &v)?;
                }
            }
            None => {
                for entry in self.dashboard_days.iter() {
                    let (k, v) = entry?;
                    push(&k, &v)?;
                }
            }
        }
        out.sort_by(|a, b| (a.0, &a.1.county_code).cmp(&(b.0, &b.1.county_code)));
        Ok(out)
    }
}
