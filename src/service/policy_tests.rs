//! One set of rules, at the service, on random data: `ExplainMatch`,
//! ranking in both directions, `Propose` and a batch run agree with one
//! another and with a plain reference that recomputes the `[policy]` rules
//! (the domain's predicate on facts recounted from the store's records)
//! and the declines for every pair; and the batch never proposes a pair
//! that the policy lists then flag.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use proptest::prelude::*;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Service, ServiceError};
use crate::batch::BatchSettings;
use crate::domain::placement::{china_today, DeclineReason, SeparationReason};
use crate::domain::policy::{PolicyConfig, WelfareFacts, WelfareStint, WELFARE_GROUPS};
use crate::domain::run::Policy;
use crate::domain::{current_year, EmploymentStatus, Gender, IdKey, Lang, Source, Worker};
use crate::matching::{MatchConfig, OpeningsQuery, Reason, WorkersQuery};
use crate::store::{Action, Store};
use crate::testing::admin;

/// The reasons this part of the rules adds; the others are the base rules.
const POLICY_REASONS: [Reason; 4] = [
    Reason::WelfareHireAge,
    Reason::WelfareGroup,
    Reason::WelfareTenure,
    Reason::DeclinedBefore,
];

/// `[policy]` rules that bite on the demo data.
fn random_policy(rng: &mut ChaCha8Rng) -> PolicyConfig {
    let mut groups: Vec<String> = WELFARE_GROUPS.iter().map(|g| g.to_string()).collect();
    groups.retain(|_| rng.random_bool(0.6));
    PolicyConfig {
        welfare_groups: groups,
        welfare_max_hire_age: rng.random_range(55..=62),
        older_worker_women_from: rng.random_range(40..=50),
        older_worker_men_from: rng.random_range(45..=55),
        welfare_max_tenure_years: rng.random_range(1..=2),
        ..PolicyConfig::default()
    }
}

/// A small demo county with older workers and genders mixed in, under
/// random rules.
fn service(dir: &std::path::Path, rng: &mut ChaCha8Rng) -> Arc<Service> {
    let store = Arc::new(Store::open(dir).unwrap());
    let key = IdKey::from_hex(&"5e".repeat(32)).unwrap();
    let year = current_year();
    let seed = rng.random();
    let mut data = crate::demo::generate(0.004, seed, year, chrono::Utc::now().date_naive());
    for w in &mut data.workers {
        if rng.random_bool(0.35) {
            w.birth_year = (year - rng.random_range(44..=64)) as u32;
        }
        w.gender = *[None, Some(Gender::Female), Some(Gender::Male)]
            .choose(rng)
            .unwrap();
    }
    crate::demo::load(&store, &key, &data, year).unwrap();
    let config = MatchConfig::default().normalised().unwrap();
    let policy = random_policy(rng);
    Service::open_with_policy(store, key, config, BatchSettings::default(), policy, None).unwrap()
}

/// Declines and public-welfare stints (hired today, separated up to 900
/// days on: long enough to use up a short tenure), made through the write
/// path without the eligibility check, as history would have made them.
fn history(service: &Service, rng: &mut ChaCha8Rng) {
    let store = service.store();
    let seeking: Vec<Worker> = store
        .workers()
        .map(Result::unwrap)
        .filter(|w| w.employment_status == EmploymentStatus::Seeking)
        .collect();
    let openings: Vec<_> = store.openings().map(Result::unwrap).collect();
    let welfare: Vec<_> = openings
        .iter()
        .filter(|o| o.source == Source::PublicWelfare)
        .collect();
    let w = &service.writer;
    let today = china_today();
    let propose = |worker: &Worker, opening: &str| {
        let p = crate::testing::proposal(&worker.id, opening);
        w.propose(&p, "test").ok().map(|c| c.placement.id)
    };
    for _ in 0..8 {
        let (Some(worker), Some(post)) = (seeking.choose(rng), welfare.choose(rng)) else {
            break;
        };
        let Some(id) = propose(worker, &post.id) else {
            continue;
        };
        let last = today + rng.random_range(100..900);
        for step in [
            Action::Accept,
            Action::Hire { day: today },
            Action::Separate {
                day: last,
                reason: SeparationReason::ContractEnded,
                note: String::new(),
            },
        ] {
            w.placement_step(&id, &step, "test").unwrap();
        }
    }
    for _ in 0..12 {
        let (Some(worker), Some(opening)) = (seeking.choose(rng), openings.choose(rng)) else {
            break;
        };
        if let Some(id) = propose(worker, &opening.id) {
            let decline = Action::Decline {
                code: DeclineReason::Pay,
                reason: String::new(),
            };
            w.placement_step(&id, &decline, "test").unwrap();
        }
    }
}

/// The plain reference for the `[policy]` part: per pair, the reasons the
/// domain's predicate and the declines give, from the store's records.
struct Reference {
    policy: PolicyConfig,
    year: i32,
    today: i32,
    workers: HashMap<String, Worker>,
    households: HashMap<String, (u32, u32)>,
    stints: HashMap<String, Vec<WelfareStint>>,
    declined: HashSet<(String, String)>,
    sources: HashMap<String, Source>,
}

impl Reference {
    fn read(service: &Service) -> Self {
        let store = service.store();
        let workers: HashMap<String, Worker> = store
            .workers()
            .map(|w| w.map(|w| (w.id.clone(), w)))
            .collect::<Result<_, _>>()
            .unwrap();
        let mut households: HashMap<String, (u32, u32)> = HashMap::new();
        for w in workers.values() {
            let h = households.entry(w.household_id.clone()).or_default();
            match w.employment_status {
                EmploymentStatus::Employed => h.0 += 1,
                EmploymentStatus::Seeking | EmploymentStatus::Placed => h.1 += 1,
                EmploymentStatus::Unavailable => {}
            }
        }
        let mut stints: HashMap<String, Vec<WelfareStint>> = HashMap::new();
        for p in store.placements() {
            let p = p.unwrap();
            if let Some(s) = WelfareStint::of(&p) {
                stints.entry(p.worker_id).or_default().push(s);
            }
        }
        let declined = store
            .declines()
            .map(|d| d.map(|d| (d.worker_id, d.opening_id)))
            .collect::<Result<_, _>>()
            .unwrap();
        let sources = store
            .openings()
            .map(|o| o.map(|o| (o.id, o.source)))
            .collect::<Result<_, _>>()
            .unwrap();
        Reference {
            policy: service.policy().clone(),
            year: current_year(),
            today: china_today(),
            workers,
            households,
            stints,
            declined,
            sources,
        }
    }

    fn reasons(&self, worker_id: &str, opening_id: &str) -> Vec<Reason> {
        let w = &self.workers[worker_id];
        let mut out = Vec::new();
        if self.sources[opening_id] == Source::PublicWelfare {
            let (employed, seeking) = self.households[&w.household_id];
            let stints = self.stints.get(worker_id).map_or(&[][..], Vec::as_slice);
            let facts = WelfareFacts {
                age: w.age_in(self.year),
                gender: w.gender,
                zero_household: seeking > 0 && employed == 0,
                tenure_used_up: self.policy.welfare_tenure_used_up(stints, self.today),
            };
            out.extend(
                self.policy
                    .welfare_bars(&facts)
                    .iter()
                    .map(Reason::of_welfare_bar),
            );
        }
        if self
            .declined
            .contains(&(worker_id.to_string(), opening_id.to_string()))
        {
            out.push(Reason::DeclinedBefore);
        }
        out
    }
}

/// Checks every pair and returns the eligible ones.
fn agree(service: &Arc<Service>, rt: &tokio::runtime::Runtime) -> HashSet<(String, String)> {
    let reference = Reference::read(service);
    let caller = admin();
    let mut worker_ids: Vec<&String> = reference.workers.keys().collect();
    worker_ids.sort();
    let mut opening_ids: Vec<&String> = reference.sources.keys().collect();
    opening_ids.sort();
    let mut eligible = HashSet::new();
    // Pairs ineligible by the policy part alone, for `Propose`.
    let mut policy_only = Vec::new();
    for &w in &worker_ids {
        for &o in &opening_ids {
            let e = rt
                .block_on(service.explain_match(&caller, w, o, Lang::En))
                .unwrap();
            let got: Vec<Reason> = e
                .violations
                .iter()
                .map(|v| v.0)
                .filter(|r| POLICY_REASONS.contains(r))
                .collect();
            let want = reference.reasons(w, o);
            assert_eq!(got, want, "ExplainMatch {w} {o}: {:?}", e.violations);
            let base_ok = e.violations.len() == got.len();
            assert_eq!(e.eligible, base_ok && want.is_empty(), "{w} {o}");
            if e.eligible {
                eligible.insert((w.clone(), o.clone()));
            } else if base_ok {
                policy_only.push((w.clone(), o.clone(), want));
            }
        }
    }
    // Ranking lists exactly the eligible pairs, in both directions.
    for &w in &worker_ids {
        let q = OpeningsQuery {
            top_k: 1000,
            ..Default::default()
        };
        let listed: HashSet<String> = rt
            .block_on(service.match_openings(&caller, w, q, Lang::En))
            .unwrap()
            .into_iter()
            .map(|m| m.ranked.id)
            .collect();
        let want: HashSet<String> = opening_ids
            .iter()
            .filter(|o| eligible.contains(&(w.to_string(), o.to_string())))
            .map(|o| o.to_string())
            .collect();
        assert_eq!(listed, want, "MatchOpeningsForWorker {w}");
    }
    for &o in &opening_ids {
        let q = WorkersQuery {
            top_k: 1000,
            ..Default::default()
        };
        let listed: HashSet<String> = rt
            .block_on(service.match_workers(&caller, o, q, Lang::En))
            .unwrap()
            .into_iter()
            .map(|m| m.ranked.id)
            .collect();
        let want: HashSet<String> = worker_ids
            .iter()
            .filter(|w| eligible.contains(&(w.to_string(), o.to_string())))
            .map(|w| w.to_string())
            .collect();
        assert_eq!(listed, want, "MatchWorkersForOpening {o}");
    }
    // Propose refuses what the policy part bars, naming each reason (a
    // refusal writes nothing, so every such pair can be tried).
    for (w, o, want) in &policy_only {
        let err = rt
            .block_on(service.propose(&caller, w, o, 0, "test".into(), crate::domain::Lang::En))
            .unwrap_err();
        let ServiceError::Precondition(message) = &err else {
            panic!("Propose {w} {o}: {err:?}");
        };
        for r in want {
            assert!(message.contains(r.code()), "Propose {w} {o}: {message}");
        }
    }
    eligible
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_batch_ranking_propose_and_explain_agree_with_the_policy(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path(), &mut rng);
        history(&service, &mut rng);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let eligible = agree(&service, &rt);
        // Propose accepts an eligible pair (a few, by hand).
        let mut pairs: Vec<&(String, String)> = eligible.iter().collect();
        pairs.sort();
        let mut busy = HashSet::new();
        for (w, o) in pairs.into_iter().take(40) {
            if busy.len() == 3 || !busy.insert(w.clone()) {
                continue;
            }
            rt.block_on(service.propose(&admin(), w, o, 0, "test".into(), crate::domain::Lang::En))
                .unwrap_or_else(|e| panic!("Propose {w} {o}: {e}"));
        }
        // The batch proposes eligible pairs only, and the policy lists
        // flag none of them (nor anything else: the history's posts all
        // ended).
        let run = service.run_now(Policy::Optimal, false, "test", |_, _| {}).unwrap();
        prop_assert!(run.proposals_created > 0, "seed {}: the run proposed nothing", seed);
        for a in service.store().assignments(run.id) {
            let a = a.unwrap();
            prop_assert!(
                eligible.contains(&(a.worker_id.clone(), a.opening_id.clone())),
                "the run assigned {} to {}", a.worker_id, a.opening_id
            );
        }
        let now = chrono::Utc::now().timestamp_millis();
        let lists = crate::report::policy::policy_lists(
            service.store(), service.policy(), None, now, Lang::En,
        ).unwrap();
        let flagged: Vec<_> = lists
            .welfare_posts
            .iter()
            .filter(|p| p.ineligible_reason.is_some())
            .collect();
        prop_assert!(flagged.is_empty(), "flagged: {:?}", flagged);
    }
}
