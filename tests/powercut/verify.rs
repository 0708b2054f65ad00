//! Reading the records back after a power cut and counting what was lost.
//!
//! Unlike `crash/verify.rs`, which stops at the first wrong record, this
//! counts: a record whose last acknowledged value is missing or older is
//! one lost acknowledged write; a record or value that nobody sent is
//! broken. Either way the state found is taken as the new acknowledged
//! state, so the next cut is judged on its own.

use std::collections::{BTreeMap, HashMap};

use jobbridge::api::pb;

use crate::clients::{Client, Ledger, Record};
use crate::common::{Channel, Clients};
use crate::crash_verify::{list_openings, list_workers};

/// Problems kept per cut for the report (the counts are complete), and
/// lost writes of one kind among them.
const PROBLEMS_KEPT: usize = 8;
const LOST_KEPT_PER_KIND: u64 = 2;

/// Every record the server lists after a restart, timestamps cleared.
pub struct Found {
    pub workers: HashMap<String, pb::Worker>,
    pub openings: HashMap<String, pb::Opening>,
}

/// What one verification counted.
#[derive(Debug, Default)]
pub struct Tally {
    /// Acknowledged writes (records, placement steps) missing or rolled
    /// back after the cut.
    pub lost: u64,
    /// `lost` by what was lost: "worker", "opening", "placement step".
    pub lost_by_kind: BTreeMap<&'static str, u64>,
    /// Records or values nobody wrote, and disagreements between reads.
    pub broken: u64,
    /// Cut-off writes found stored.
    pub unsure_kept: u64,
    /// Cut-off writes found absent.
    pub unsure_dropped: u64,
    /// The first problems, for the report.
    pub problems: Vec<String>,
}

impl Tally {
    pub fn lose(&mut self, kind: &'static str, problem: String) {
        self.lost += 1;
        let of_kind = self.lost_by_kind.entry(kind).or_default();
        *of_kind += 1;
        if *of_kind <= LOST_KEPT_PER_KIND {
            self.note(format!("lost: {problem}"));
        }
    }

    pub fn broke(&mut self, problem: String) {
        self.broken += 1;
        self.note(format!("broken: {problem}"));
    }

    fn note(&mut self, problem: String) {
        if self.problems.len() < PROBLEMS_KEPT {
            self.problems.push(problem);
        }
    }
}

/// Lists every worker and opening.
pub async fn read_back(channel: Channel) -> Found {
    Found {
        workers: list_workers(channel.clone()).await,
        openings: list_openings(channel).await,
    }
}

/// Judges the record writers' ledgers against what was found, and takes
/// the found state as acknowledged. Ids for which `elsewhere` holds belong
/// to another client and are left to it.
pub fn settle_clients(
    clients: &mut [Client],
    found: &Found,
    tally: &mut Tally,
    elsewhere: impl Fn(&str) -> bool,
) {
    for client in clients.iter_mut() {
        settle("worker", &mut client.workers, &found.workers, tally);
        settle("opening", &mut client.openings, &found.openings, tally);
    }
    for id in found.workers.keys() {
        if !elsewhere(id) && !clients.iter().any(|c| c.workers.contains_key(id)) {
            tally.broke(format!("worker {id} was never written"));
        }
    }
    for id in found.openings.keys() {
        if !elsewhere(id) && !clients.iter().any(|c| c.openings.contains_key(id)) {
            tally.broke(format!("opening {id} was never written"));
        }
    }
}

fn settle<T: Record>(
    what: &'static str,
    ledger: &mut Ledger<T>,
    stored: &HashMap<String, T>,
    tally: &mut Tally,
) {
    ledger.retain(|id, known| match stored.get(id) {
        Some(found) => {
            if known.acked.as_ref() == Some(found) {
                if !known.unsure.is_empty() {
                    tally.unsure_dropped += 1;
                }
            } else if known.unsure.contains(found) {
                tally.unsure_kept += 1;
            } else if known.acked.is_some() {
                // An older value, or one nobody sent: either way the
                // acknowledged one is gone.
                tally.lose(
                    what,
                    format!(
                        "{what} {id}: stored {found:?}, acknowledged {known_acked:?}",
                        known_acked = known.acked
                    ),
                );
            } else {
                tally.broke(format!(
                    "{what} {id}: stored {found:?}, which was never sent"
                ));
            }
            known.acked = Some(found.clone());
            known.unsure.clear();
            true
        }
        None => {
            if known.acked.is_some() {
                tally.lose(what, format!("{what} {id}: acknowledged but missing"));
            } else {
                tally.unsure_dropped += 1;
            }
            false
        }
    });
}

/// Gets a sample of records one by one: they must equal the listed ones
/// (the point reads and the listing use different paths of the store).
pub async fn point_reads(channel: Channel, found: &Found, tally: &mut Tally) {
    let mut client = Clients::new(channel.clone()).workers();
    for (id, listed) in found.workers.iter().take(100) {
        let request = pb::GetWorkerRequest { id: id.clone() };
        let mut got = client.get_worker(request).await.expect("get").into_inner();
        if !got.worker.as_mut().is_some_and(Record::clear_times)
            || got.worker.as_ref() != Some(listed)
        {
            tally.broke(format!("GetWorker({id}) differs from the listing"));
        }
    }
    let mut client = Clients::new(channel).openings();
    for (id, listed) in found.openings.iter().take(100) {
        let request = pb::GetOpeningRequest { id: id.clone() };
        let mut got = client.get_opening(request).await.expect("get").into_inner();
        if !got.opening.as_mut().is_some_and(Record::clear_times)
            || got.opening.as_ref() != Some(listed)
        {
            tally.broke(format!("GetOpening({id}) differs from the listing"));
        }
    }
}
