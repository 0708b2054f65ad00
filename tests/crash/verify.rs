//! Reading everything back after a restart and judging it against what the
//! clients know.

use std::collections::HashMap;

use crate::common::{Channel, Clients};
use jobbridge::api::pb;

use crate::clients::{Client, Ledger, Record};

/// What a verification found.
#[derive(Debug, Default)]
#[allow(dead_code)] // Read through Debug.
pub struct Summary {
    workers: usize,
    openings: usize,
    /// Cut-off writes that were found stored.
    unsure_kept: usize,
    /// Never-acknowledged records that were found absent.
    unsure_lost: usize,
}

/// Reads everything back and checks it against the clients' ledgers; then
/// takes what was found as the acknowledged state (it is on disk now).
pub async fn verify(channel: Channel, clients: &mut [Client]) -> Summary {
    let workers = list_workers(channel.clone()).await;
    let openings = list_openings(channel.clone()).await;
    let mut summary = Summary {
        workers: workers.len(),
        openings: openings.len(),
        ..Summary::default()
    };
    let mut problems = Vec::new();
    for client in clients.iter_mut() {
        settle(&mut client.workers, &workers, &mut summary, &mut problems);
        settle(&mut client.openings, &openings, &mut summary, &mut problems);
    }
    // Nothing may appear that no client wrote.
    for id in workers.keys() {
        if !clients.iter().any(|c| c.workers.contains_key(id)) {
            problems.push(format!("worker {id} was never written"));
        }
    }
    for id in openings.keys() {
        if !clients.iter().any(|c| c.openings.contains_key(id)) {
            problems.push(format!("opening {id} was never written"));
        }
    }
    problems.extend(point_reads(channel, &workers, &openings).await);
    problems.truncate(20);
    assert!(problems.is_empty(), "after restart: {problems:#?}");
    summary
}

fn settle<T: Record>(
    ledger: &mut Ledger<T>,
    stored: &HashMap<String, T>,
    summary: &mut Summary,
    problems: &mut Vec<String>,
) {
    ledger.retain(|id, known| match stored.get(id) {
        Some(found) => {
            if known.acked.as_ref() != Some(found) {
                if known.unsure.contains(found) {
                    summary.unsure_kept += 1;
                } else {
                    problems.push(format!(
                        "{id}: stored {found:?}, acknowledged {:?}",
                        known.acked
                    ));
                }
            }
            known.acked = Some(found.clone());
            known.unsure.clear();
            true
        }
        None => {
            if known.acked.is_some() {
                problems.push(format!("{id}: acknowledged but missing"));
            } else {
                summary.unsure_lost += 1;
            }
            false
        }
    });
}

/// Every stored worker by id, timestamps cleared (asserted set).
pub async fn list_workers(channel: Channel) -> HashMap<String, pb::Worker> {
    let mut client = Clients::new(channel).workers();
    let (mut all, mut page_token) = (HashMap::new(), String::new());
    loop {
        let request = pb::ListWorkersRequest {
            page_size: 1000,
            page_token,
            ..Default::default()
        };
        let page = client
            .list_workers(request)
            .await
            .expect("list")
            .into_inner();
        for mut w in page.workers {
            assert!(w.clear_times(), "worker {} lacks timestamps", w.id);
            all.insert(w.id.clone(), w);
        }
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

/// Every stored opening by id, timestamps cleared (asserted set).
pub async fn list_openings(channel: Channel) -> HashMap<String, pb::Opening> {
    let mut client = Clients::new(channel).openings();
    let (mut all, mut page_token) = (HashMap::new(), String::new());
    loop {
        let request = pb::ListOpeningsRequest {
            page_size: 1000,
            page_token,
            ..Default::default()
        };
        let page = client
            .list_openings(request)
            .await
            .expect("list")
            .into_inner();
        for mut o in page.openings {
            assert!(o.clear_times(), "opening {} lacks timestamps", o.id);
            all.insert(o.id.clone(), o);
        }
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

/// Gets a sample of records one by one: they must equal the listed ones.
async fn point_reads(
    channel: Channel,
    workers: &HashMap<String, pb::Worker>,
    openings: &HashMap<String, pb::Opening>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut client = Clients::new(channel.clone()).workers();
    for (id, listed) in workers.iter().take(100) {
        let request = pb::GetWorkerRequest { id: id.clone() };
        let mut got = client.get_worker(request).await.expect("get").into_inner();
        if !got.worker.as_mut().is_some_and(Record::clear_times)
            || got.worker.as_ref() != Some(listed)
        {
            problems.push(format!("GetWorker({id}) differs from the listing"));
        }
    }
    let mut client = Clients::new(channel).openings();
    for (id, listed) in openings.iter().take(100) {
        let request = pb::GetOpeningRequest { id: id.clone() };
        let mut got = client.get_opening(request).await.expect("get").into_inner();
        if !got.opening.as_mut().is_some_and(Record::clear_times)
            || got.opening.as_ref() != Some(listed)
        {
            problems.push(format!("GetOpening({id}) differs from the listing"));
        }
    }
    problems
}
