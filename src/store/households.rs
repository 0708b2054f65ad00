//! Households that are not wholly in one county: the upgrade to scoped ids
//! lists the ones it split (see `scoped_ids`), and `verify` refuses any
//! left in a directory of the current format.
//!
//! A household is counted by a scan of the workers, each member adding one
//! to its county. Only the counties are kept, never who the members are:
//! the listing goes into logs and `jobbridge check`'s output, which must
//! name the household and the counties, not the people.

use std::collections::{BTreeMap, HashMap};

use super::{Store, StoreError};
use crate::domain::scoped;

/// Households named in a failed check's message; the rest are counted.
const NAMED_IN_ERROR: usize = 20;

/// The members a household has in one county.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct CountyMembers {
    /// The county code.
    #[prost(string, tag = "1")]
    pub county_code: String,
    /// How many of the household's members are registered there.
    #[prost(uint32, tag = "2")]
    pub members: u32,
}

/// A household whose members are not all in the county that its id names
/// (or, for an id that names none, not all in one county).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SpanningHousehold {
    /// The household id as stored.
    #[prost(string, tag = "1")]
    pub household_id: String,
    /// Its members per county, by county code.
    #[prost(message, repeated, tag = "2")]
    pub counties: Vec<CountyMembers>,
}

impl std::fmt::Display for SpanningHousehold {
    /// `hh-1: 431224 (2), 431227 (1)`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.household_id)?;
        for (i, c) in self.counties.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{} ({})", c.county_code, c.members)?;
        }
        Ok(())
    }
}

/// Members per county of one household: most households live in one
/// county, so that case takes no map (the census of a national directory,
/// millions of households, stays small).
enum Members {
    One(u32, u32),
    Many(BTreeMap<u32, u32>),
}

/// Members per county of every household, counties numbered in the order
/// first seen.
#[derive(Default)]
pub(super) struct Census {
    counties: Vec<String>,
    numbers: HashMap<String, u32>,
    households: HashMap<Box<str>, Members>,
}

impl Census {
    /// Counts one member of `household` in `county`.
    pub(super) fn add(&mut self, household: &str, county: &str) {
        let c = match self.numbers.get(county) {
            Some(&c) => c,
            None => {
                let c = self.counties.len() as u32;
                self.counties.push(county.to_string());
                self.numbers.insert(county.to_string(), c);
                c
            }
        };
        match self.households.get_mut(household) {
            None => {
                self.households.insert(household.into(), Members::One(c, 1));
            }
            Some(Members::One(first, n)) if *first == c => *n += 1,
            Some(members @ Members::One(..)) => {
                let Members::One(first, n) = *members else {
                    unreachable!("matched One")
                };
                *members = Members::Many(BTreeMap::from([(first, n), (c, 1)]));
            }
            Some(Members::Many(map)) => *map.entry(c).or_default() += 1,
        }
    }

    /// The households with members in more than one county, or in a
    /// county other than the one their id names; by household id.
    pub(super) fn spanning(&self) -> Vec<SpanningHousehold> {
        let mut found: Vec<SpanningHousehold> = self
            .households
            .iter()
            .filter_map(|(id, members)| {
                let counts: Vec<(u32, u32)> = match members {
                    Members::One(c, n) => vec![(*c, *n)],
                    Members::Many(map) => map.iter().map(|(c, n)| (*c, *n)).collect(),
                };
                let named = scoped::county(id);
                let in_its_county = match (named, &counts[..]) {
                    (_, [_, _, ..]) => false,
                    (Some(named), [(c, _)]) => self.counties[*c as usize] == named,
                    (None, _) | (_, []) => true,
                };
                if in_its_county {
                    return None;
                }
                let mut counties: Vec<CountyMembers> = counts
                    .into_iter()
                    .map(|(c, members)| CountyMembers {
                        county_code: self.counties[c as usize].clone(),
                        members,
                    })
                    .collect();
                counties.sort_by(|a, b| a.county_code.cmp(&b.county_code));
                Some(SpanningHousehold {
                    household_id: id.to_string(),
                    counties,
                })
            })
            .collect();
        found.sort_by(|a, b| a.household_id.cmp(&b.household_id));
        found
    }
}

impl Store {
    /// The households not wholly in their county: members in more than
    /// one county, or in a county other than the one the household id
    /// names (`431224/hh-1` with a member in 431227). Reads every worker.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = jobbridge::store::Store::open(dir.path()).unwrap();
    /// assert!(store.spanning_households().unwrap().is_empty());
    /// ```
    pub fn spanning_households(&self) -> Result<Vec<SpanningHousehold>, StoreError> {
        let mut census = Census::default();
        for w in self.workers() {
            let w = w?;
            census.add(&w.household_id, &w.county_code);
        }
        Ok(census.spanning())
    }

    /// Fails naming the households (and their counties, not their members)
    /// that [`Store::spanning_households`] finds: a household lives in one
    /// county.
    pub(super) fn verify_households(&self) -> Result<(), StoreError> {
        let spanning = self.spanning_households()?;
        if spanning.is_empty() {
            return Ok(());
        }
        let named: Vec<String> = spanning
            .iter()
            .take(NAMED_IN_ERROR)
            .map(ToString::to_string)
            .collect();
        let more = spanning.len().saturating_sub(NAMED_IN_ERROR);
        let more = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        Err(StoreError::corruption(format!(
            "{} households are not wholly in the county their id names (members per \
             county): {}{more}",
            spanning.len(),
            named.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_census_finds_households_across_counties_or_outside_their_own() {
        let mut census = Census::default();
        for (h, c) in [
            ("hh-1", "431224"),
            ("hh-1", "431227"),
            ("hh-1", "431224"),
            ("hh-2", "431224"),
            ("431224/hh-3", "431224"),
            ("431224/hh-4", "431227"),
        ] {
            census.add(h, c);
        }
        let found: Vec<String> = census.spanning().iter().map(|s| s.to_string()).collect();
        assert_eq!(
            found,
            ["431224/hh-4: 431227 (1)", "hh-1: 431224 (2), 431227 (1)"]
        );
    }
}
