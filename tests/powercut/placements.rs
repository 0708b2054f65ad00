//! Placement steps beside the record writers: one client takes workers,
//! one after another, through UpsertWorker, Propose, and then Accept (which
//! takes a slot of the opening) or Decline, one call at a time, and
//! remembers the last step acknowledged for each worker. A placement step
//! is a transaction over the placement, the worker and the opening, so
//! after a cut all three must agree with each other as well as with the
//! acknowledgements.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use jobbridge::api::pb;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tonic::Status;

use crate::clients::Progress;
use crate::common::{self, Channel, Clients};
use crate::verify::{Found, Tally};

/// Worker and opening numbers of this client: above the record writers'
/// (client `i` of nine starts at `(i + 1) * 10^7`).
const FIRST: u32 = 95_000_000;
/// Slots of the opening: more than a run accepts.
const HEADCOUNT: u32 = 50_000;
/// Share of proposals accepted; the others are declined.
const ACCEPT: f64 = 0.75;
const ACTOR: &str = "esc-431202:powercut";
/// What a lost acknowledged step is counted as.
const STEP: &str = "placement step";

/// How far a worker got. A proposal's placement id is empty while the
/// proposal is in flight (the server chooses it).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Upserted,
    Proposed(String),
    Accepted(String),
    Declined(String),
}

impl Stage {
    fn rank(&self) -> u8 {
        match self {
            Stage::Upserted => 1,
            Stage::Proposed(_) => 2,
            Stage::Accepted(_) | Stage::Declined(_) => 3,
        }
    }

    fn done(&self) -> bool {
        self.rank() == 3
    }

    /// Whether `found` is what this step, sent but cut off, leaves.
    fn admits(&self, found: &Stage) -> bool {
        match (self, found) {
            (Stage::Proposed(sent), Stage::Proposed(got)) => sent.is_empty() || sent == got,
            (sent, got) => sent == got,
        }
    }
}

/// One worker's way through the steps.
struct Chain {
    /// The last step answered OK.
    acked: Option<Stage>,
    /// The step sent after it whose call was cut off.
    unsure: Option<Stage>,
}

/// The placement client; its state carries over from cut to cut.
pub struct PlacementClient {
    rng: ChaCha8Rng,
    /// The next worker number to take.
    next: u32,
    /// The opening was acknowledged (or found after a cut).
    opening: bool,
    chains: BTreeMap<u32, Chain>,
    /// The worker being taken through its steps.
    active: Option<u32>,
    /// Steps answered OK, over every cut.
    pub acked: u64,
    /// Failures seen while the server was meant to be up.
    pub problems: Vec<String>,
    /// How the last cut's steps ended.
    pub ended_by: String,
}

/// Whether `id` (a worker's or an opening's) belongs to this client.
pub fn owns(id: &str) -> bool {
    id.split_once('-')
        .and_then(|(_, n)| n.parse::<u32>().ok())
        .is_some_and(|n| n >= FIRST)
}

fn opening_id() -> String {
    common::opening(FIRST).id
}

fn worker_id(n: u32) -> String {
    // Stored and answered whole (`431202/w-…`).
    common::stored_form(&common::worker(n)).id
}

impl PlacementClient {
    pub fn new(rng: &mut ChaCha8Rng) -> PlacementClient {
        PlacementClient {
            rng: ChaCha8Rng::seed_from_u64(rng.random()),
            next: FIRST,
            opening: false,
            chains: BTreeMap::new(),
            active: None,
            acked: 0,
            problems: Vec::new(),
            ended_by: String::new(),
        }
    }

    /// Takes steps until a call fails; returns itself for the next cut.
    pub async fn run(mut self, channel: Channel, progress: Arc<Progress>) -> PlacementClient {
        if let Err(status) = self.steps(channel, &progress).await {
            let (code, message) = (status.code(), status.message());
            self.ended_by = format!("placement client: {code:?} {message}");
            if !progress.stopping.load(Ordering::SeqCst) {
                self.problems.push(format!("placement client: {status:?}"));
            }
        }
        self
    }

    async fn steps(&mut self, channel: Channel, progress: &Progress) -> Result<(), Status> {
        let clients = Clients::new(channel);
        let (mut workers, mut placements) = (clients.workers(), clients.placements());
        if !self.opening {
            let opening = pb::Opening {
                headcount: HEADCOUNT,
                ..common::opening(FIRST)
            };
            let request = pb::UpsertOpeningRequest {
                opening: Some(opening),
            };
            clients.openings().upsert_opening(request).await?;
            self.opening = true;
            self.ack(progress);
        }
        loop {
            let n = self.active_worker();
            let accept = self.rng.random_bool(ACCEPT);
            let chain = &self.chains[&n];
            let next = match &chain.acked {
                None => Stage::Upserted,
                Some(Stage::Upserted) => Stage::Proposed(String::new()),
                Some(Stage::Proposed(id)) if accept => Stage::Accepted(id.clone()),
                Some(Stage::Proposed(id)) => Stage::Declined(id.clone()),
                Some(done) => unreachable!("worker {n} is done: {done:?}"),
            };
            self.chain(n).unsure = Some(next.clone());
            let id = worker_id(n);
            let reply = match &next {
                Stage::Upserted => {
                    let request = pb::UpsertWorkerRequest {
                        worker: Some(common::worker(n)),
                        ..Default::default()
                    };
                    workers.upsert_worker(request).await?;
                    None
                }
                Stage::Proposed(_) => {
                    let request = pb::ProposeRequest {
                        worker_id: id.clone(),
                        opening_id: opening_id(),
                        run_id: 0,
                        actor: ACTOR.into(),
                    };
                    Some(placements.propose(request).await?.into_inner())
                }
                Stage::Accepted(p) => {
                    let request = pb::AcceptRequest {
                        placement_id: p.clone(),
                        actor: ACTOR.into(),
                    };
                    Some(placements.accept(request).await?.into_inner())
                }
                Stage::Declined(p) => {
                    let request = pb::DeclineRequest {
                        placement_id: p.clone(),
                        reason: String::new(),
                        actor: ACTOR.into(),
                        reason_code: pb::DeclineReason::Pay as i32,
                    };
                    Some(placements.decline(request).await?.into_inner())
                }
            };
            let done = match reply {
                None => next,
                Some(p) => {
                    let got = seen(&p);
                    let expected = match &next {
                        Stage::Proposed(_) => Stage::Proposed(p.id.clone()),
                        other => other.clone(),
                    };
                    if got.as_ref() != Some(&expected) || p.worker_id != id {
                        self.problems.push(format!("{id}: {next:?} answered {p:?}"));
                    }
                    expected
                }
            };
            let chain = self.chain(n);
            chain.acked = Some(done);
            chain.unsure = None;
            self.ack(progress);
        }
    }

    fn ack(&mut self, progress: &Progress) {
        self.acked += 1;
        progress.acked.fetch_add(1, Ordering::SeqCst);
        progress.first_ack.notify_one();
    }

    fn chain(&mut self, n: u32) -> &mut Chain {
        self.chains
            .get_mut(&n)
            .expect("a chain of the active worker")
    }

    /// The worker to take a step with: the active one, or a new one once
    /// the active one is done (or was lost).
    fn active_worker(&mut self) -> u32 {
        if let Some(n) = self.active {
            let going = self
                .chains
                .get(&n)
                .is_some_and(|c| !c.acked.as_ref().is_some_and(Stage::done));
            if going {
                return n;
            }
        }
        let n = self.next;
        self.next += 1;
        let fresh = Chain {
            acked: None,
            unsure: None,
        };
        self.chains.insert(n, fresh);
        self.active = Some(n);
        n
    }

    /// Judges every worker's steps against what was found after a restart
    /// (the opening's placements are listed here), and takes the found
    /// state as acknowledged.
    pub async fn verify(&mut self, channel: Channel, found: &Found, tally: &mut Tally) {
        let opening = found.openings.get(&opening_id());
        if opening.is_none() && self.opening {
            tally.lose(
                "opening",
                format!("opening {}: acknowledged but missing", opening_id()),
            );
        }
        self.opening = opening.is_some();

        let mut by_worker = HashMap::<String, Vec<pb::Placement>>::new();
        for p in list_placements(channel).await {
            by_worker.entry(p.worker_id.clone()).or_default().push(p);
        }
        let mut accepted = 0;
        let mut chains = std::mem::take(&mut self.chains);
        chains.retain(|&n, chain| {
            let id = worker_id(n);
            let got = observe(
                &id,
                found.workers.get(&id),
                by_worker.remove(&id).unwrap_or_default(),
                tally,
            );
            if let Some(Stage::Accepted(_)) = got {
                accepted += 1;
            }
            match (&chain.acked, &got) {
                (acked, got) if acked == got => {
                    if chain.unsure.is_some() {
                        tally.unsure_dropped += 1;
                    }
                }
                (_, Some(got)) if chain.unsure.as_ref().is_some_and(|s| s.admits(got)) => {
                    tally.unsure_kept += 1;
                }
                (Some(acked), None) => {
                    tally.lose(
                        STEP,
                        format!("{id}: {acked:?} acknowledged, the worker is missing"),
                    );
                }
                (Some(acked), Some(got)) if got.rank() < acked.rank() => {
                    tally.lose(STEP, format!("{id}: {acked:?} acknowledged, found {got:?}"));
                }
                (acked, got) => tally.broke(format!(
                    "{id}: found {got:?}, acknowledged {acked:?}, cut off {:?}",
                    chain.unsure
                )),
            }
            chain.acked = got.clone();
            chain.unsure = None;
            got.is_some()
        });
        self.chains = chains;
        for (worker, placements) in by_worker {
            tally.broke(format!(
                "{} placements of {worker}, which this client never stepped",
                placements.len()
            ));
        }
        for id in found.workers.keys().filter(|id| owns(id)) {
            let number = jobbridge::domain::scoped::number(id);
            let n = number[2..].parse::<u32>().expect("a number");
            if !self.chains.contains_key(&n) {
                tally.broke(format!("worker {id} was never written"));
            }
        }
        if let Some(o) = opening {
            if o.filled != accepted {
                tally.broke(format!(
                    "opening {}: filled {}, but {accepted} placements are ACCEPTED",
                    o.id, o.filled
                ));
            }
        }
    }
}

/// The stage a placement's status stands for.
fn seen(p: &pb::Placement) -> Option<Stage> {
    let id = p.id.clone();
    match pb::PlacementStatus::try_from(p.status).ok()? {
        pb::PlacementStatus::Proposed => Some(Stage::Proposed(id)),
        pb::PlacementStatus::Accepted => Some(Stage::Accepted(id)),
        pb::PlacementStatus::Declined => Some(Stage::Declined(id)),
        _ => None,
    }
}

/// How far worker `id` got, judging from its record and its placements;
/// counts disagreements between them as broken.
fn observe(
    id: &str,
    worker: Option<&pb::Worker>,
    placements: Vec<pb::Placement>,
    tally: &mut Tally,
) -> Option<Stage> {
    let Some(worker) = worker else {
        if !placements.is_empty() {
            tally.broke(format!("{id} is missing but has placements {placements:?}"));
        }
        return None;
    };
    let stage = match placements.as_slice() {
        [] => Stage::Upserted,
        [p] => match seen(p) {
            Some(stage) => stage,
            None => {
                tally.broke(format!("{id}: placement in a state never asked for: {p:?}"));
                return Some(Stage::Upserted);
            }
        },
        more => {
            tally.broke(format!("{id}: {} placements: {more:?}", more.len()));
            return Some(Stage::Upserted);
        }
    };
    let (active, status) = match &stage {
        Stage::Upserted | Stage::Declined(_) => ("", pb::EmploymentStatus::Seeking),
        Stage::Proposed(p) => (p.as_str(), pb::EmploymentStatus::Seeking),
        Stage::Accepted(p) => (p.as_str(), pb::EmploymentStatus::Placed),
    };
    if worker.active_placement_id != active || worker.employment_status != status as i32 {
        tally.broke(format!(
            "{id} at {stage:?}, but its record has active placement {:?} and status {:?}",
            worker.active_placement_id,
            pb::EmploymentStatus::try_from(worker.employment_status)
        ));
    }
    Some(stage)
}

/// Every placement of the opening.
async fn list_placements(channel: Channel) -> Vec<pb::Placement> {
    let mut client = Clients::new(channel).placements();
    let (mut all, mut page_token) = (Vec::new(), String::new());
    loop {
        let request = pb::ListPlacementsRequest {
            page_size: 1000,
            page_token,
            opening_id: opening_id(),
            ..Default::default()
        };
        let page = client
            .list(request)
            .await
            .expect("list placements")
            .into_inner();
        all.extend(page.placements);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}
