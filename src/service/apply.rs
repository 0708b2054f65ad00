//! Reviewing and applying a staged run: the diff against the last applied
//! run, and `ApplyRun`, which proposes the staged assignments that are
//! still valid and refuses the stale ones with their reasons.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{scope, Result, Service, ServiceError};
use crate::batch::{status_label, BatchError};
use crate::domain::access::Caller;
use crate::domain::run::{
    check_staged, Assignment, DiffClass, DiffEntry, OpeningNow, Run, RunDiff, RunStatus, Stale,
    WorkerNow, APPLIED_WHOLE,
};
use crate::domain::{EmploymentStatus, Lang, OpeningStatus};
use crate::matching::MatchContext;
use crate::store::{opening_fingerprint, worker_fingerprint, Proposal, StoreError};

/// Proposals made per store transaction while applying.
const PROPOSALS_PER_TX: usize = 256;

/// A staged assignment `ApplyRun` did not propose, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAssignment {
    /// The worker.
    pub worker_id: String,
    /// The opening.
    pub opening_id: String,
    /// The worker's county in the run.
    pub county_code: String,
    /// Why.
    pub reason: Stale,
}

/// What `ApplyRun` did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The run after it.
    pub run: Run,
    /// Assignments now proposed by this run (also those an interrupted
    /// earlier apply had proposed).
    pub proposed: u64,
    /// The refused ones, in worker id order.
    pub refused: Vec<RefusedAssignment>,
}

impl Service {
    /// Proposes the staged assignments of run `id` (one county's, or all)
    /// that are still valid; refuses the whole run if it is not a staged
    /// succeeded run, was applied (for that county) already, or is older
    /// than the configured age. A service company must name one of its
    /// counties. Answers once the proposals are durable.
    pub async fn apply_run(
        self: &Arc<Self>,
        caller: &Caller,
        id: u64,
        county: Option<String>,
        actor: String,
        lang: Lang,
    ) -> Result<Applied> {
        scope::county_filter(caller, county.as_deref(), "county_code")?;
        let applied = self
            .blocking(move |s| s.apply_blocking(id, county.as_deref(), &actor, lang))
            .await?;
        self.sync().await?;
        Ok(applied)
    }

    /// Why run `run` may not be applied (for `county`) now, if it may not.
    fn refuse_whole(&self, run: &Run, county: Option<&str>, lang: Lang) -> Option<String> {
        let id = run.id;
        if run.status() != RunStatus::Succeeded {
            let status = status_label(run.status());
            return Some(match lang {
                Lang::Zh => format!("运行 {id} 的状态为 {status}，只有成功的运行可以应用"),
                Lang::En => format!("run {id} is {status}; only a succeeded run can be applied"),
            });
        }
        if !run.dry_run {
            return Some(match lang {
                Lang::Zh => format!("运行 {id} 运行时已直接推荐，没有待审核的分配"),
                Lang::En => format!(
                    "run {id} proposed its assignments when it ran; nothing of it is staged"
                ),
            });
        }
        if run.applied_to(county) {
            let what = match (
                county,
                run.applied_counties.iter().any(|c| c == APPLIED_WHOLE),
            ) {
                (Some(c), false) => lang.pick("县 ", "for county ").to_string() + c,
                _ => String::new(),
            };
            return Some(match lang {
                Lang::Zh => format!("运行 {id} {what}已应用过"),
                Lang::En => format!("run {id} was already applied {what}")
                    .trim_end()
                    .to_string(),
            });
        }
        if county.is_none() && !run.applied_counties.is_empty() {
            return Some(match lang {
                Lang::Zh => format!(
                    "运行 {id} 已按县应用（{}），请逐县应用其余各县",
                    run.applied_counties.join("、")
                ),
                Lang::En => format!(
                    "run {id} was applied county by county ({}); apply the remaining counties one by one",
                    run.applied_counties.join(", ")
                ),
            });
        }
        let max = i64::from(self.batch_settings().max_staged_age_hours);
        let age_h = (chrono::Utc::now().timestamp_millis() - run.finished_at_ms) / 3_600_000;
        if age_h >= max {
            return Some(match lang {
                Lang::Zh => format!(
                    "运行 {id} 已过去 {age_h} 小时，超过待审核运行的有效期 {max} 小时（--batch-max-age-hours），请重新运行"
                ),
                Lang::En => format!(
                    "run {id} finished {age_h} hours ago, past the {max} hours a staged run stays \
                     valid (--batch-max-age-hours); start a new run"
                ),
            });
        }
        None
    }

    fn apply_blocking(
        &self,
        id: u64,
        county: Option<&str>,
        actor: &str,
        lang: Lang,
    ) -> Result<Applied> {
        // One apply at a time: two would race on the run record.
        let _one = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let store = self.store();
        let mut run = store.run(id)?.ok_or(BatchError::NotFound(id))?;
        if let Some(why) = self.refuse_whole(&run, county, lang) {
            return Err(ServiceError::precondition(why));
        }
        let rows: Vec<Assignment> = store
            .assignments(id)
            .filter(|a| {
                a.as_ref()
                    .map_or(true, |a| county.is_none_or(|c| a.county_code == c))
            })
            .collect::<std::result::Result<_, _>>()?;
        let actor = format!("{actor} (run {id})");
        let (mut proposed, mut refused) = (0u64, Vec::new());
        for chunk in rows.chunks(PROPOSALS_PER_TX) {
            let mut todo = Vec::new();
            for a in chunk {
                if self.proposed_by(id, &a.worker_id)? {
                    proposed += 1;
                    continue;
                }
                match self.check_assignment(a) {
                    Ok(()) => todo.push(a),
                    Err(reason) => refused.push(refused_row(a, reason)),
                }
            }
            let proposals: Vec<Proposal> = todo
                .iter()
                .map(|a| Proposal {
                    worker_id: a.worker_id.clone(),
                    opening_id: a.opening_id.clone(),
                    run_id: id,
                    score_micro: i64::from(a.score_micro),
                    zero_household: Some(a.zero_household),
                })
                .collect();
            for (a, result) in todo
                .iter()
                .zip(self.writer.propose_many(&proposals, &actor)?)
            {
                match result {
                    Ok(_) => proposed += 1,
                    Err(StoreError::NotFound { .. }) => {
                        refused.push(refused_row(a, Stale::WorkerGone))
                    }
                    Err(StoreError::Precondition(why)) => {
                        refused.push(refused_row(a, Stale::Refused(why)))
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        refused.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
        run.applied_counties
            .push(county.unwrap_or(APPLIED_WHOLE).to_string());
        if county.is_some() && self.every_county_applied(&run)? {
            // The last county's part: the run is applied whole now.
            run.applied_counties.push(APPLIED_WHOLE.to_string());
        }
        run.applied_at_ms = chrono::Utc::now().timestamp_millis();
        run.proposals_created += proposed;
        run.proposals_skipped += refused.len() as u64;
        store.put_run(&run)?;
        tracing::info!(
            run_id = id,
            county = county.unwrap_or(APPLIED_WHOLE),
            proposed,
            refused = refused.len(),
            "staged run applied"
        );
        Ok(Applied {
            run,
            proposed,
            refused,
        })
    }

    /// Whether every county with an assignment in `run` was applied.
    fn every_county_applied(&self, run: &Run) -> Result<bool> {
        for a in self.store().assignments(run.id) {
            let a = a?;
            if !run.applied_counties.contains(&a.county_code) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether a staged assignment may still be proposed.
    fn check_assignment(&self, a: &Assignment) -> std::result::Result<(), Stale> {
        let store = self.store();
        let stale = |e: StoreError| Stale::Refused(e.to_string());
        let worker = store.worker(&a.worker_id).map_err(stale)?;
        let opening = store.opening(&a.opening_id).map_err(stale)?;
        let declined = store
            .declined(&a.worker_id, &a.opening_id)
            .map_err(stale)?
            .is_some();
        let worker_now = worker.as_ref().map(|w| WorkerNow {
            fingerprint: worker_fingerprint(w),
            holds_placement: w.placement.active_id.is_some(),
            seeking: w.employment_status == EmploymentStatus::Seeking,
        });
        let opening_now = opening.as_ref().map(|o| OpeningNow {
            fingerprint: opening_fingerprint(o),
            free_slot: o.status == OpeningStatus::Open && o.filled < o.headcount,
        });
        check_staged(a, worker_now.as_ref(), opening_now.as_ref(), declined)?;
        let eligible = self
            .matcher()
            .read()
            .explain_pair(&a.worker_id, &a.opening_id, &MatchContext::now())
            .is_some_and(|x| x.eligible);
        if !eligible {
            return Err(Stale::NotEligible);
        }
        Ok(())
    }

    /// Run `id` against the last applied run before it: every worker of
    /// either, classified (one county's with `county`). A service company
    /// must name one of its counties.
    pub async fn diff_run(
        self: &Arc<Self>,
        caller: &Caller,
        id: u64,
        county: Option<String>,
    ) -> Result<RunDiff> {
        scope::county_filter(caller, county.as_deref(), "county_code")?;
        self.succeeded_run(id).await?;
        self.blocking(move |s| s.diff_blocking(id, county.as_deref()))
            .await
    }

    fn diff_blocking(&self, id: u64, county: Option<&str>) -> Result<RunDiff> {
        let store = self.store();
        let previous = store.last_applied_run(id)?;
        // worker -> (opening before, opening now, county)
        let mut rows: BTreeMap<String, (Option<String>, Option<String>, String)> = BTreeMap::new();
        if let Some(prev) = &previous {
            for a in store.assignments(prev.id) {
                let a = a?;
                rows.insert(a.worker_id, (Some(a.opening_id), None, a.county_code));
            }
        }
        for a in store.assignments(id) {
            let a = a?;
            let row = rows
                .entry(a.worker_id)
                .or_insert((None, None, String::new()));
            row.1 = Some(a.opening_id);
            row.2 = a.county_code;
        }
        let mut diff = RunDiff {
            run_id: id,
            previous_run_id: previous.map_or(0, |r| r.id),
            ..Default::default()
        };
        for (worker_id, (before, now, county_code)) in rows {
            if county.is_some_and(|c| c != county_code) {
                continue;
            }
            let holding = self.holds_placement_not_from(&worker_id, id)?;
            let class = DiffClass::of(before.as_deref(), now.as_deref(), holding);
            let at = DiffClass::ALL
                .iter()
                .position(|c| *c == class)
                .expect("listed");
            diff.counts[at] += 1;
            diff.entries.push(DiffEntry {
                worker_id,
                class,
                previous_opening_id: before,
                opening_id: now,
                county_code,
            });
        }
        Ok(diff)
    }

    /// Whether the worker holds an active placement that run `id` did not
    /// propose (a run's own proposals are what applying it means).
    fn holds_placement_not_from(
        &self,
        worker_id: &str,
        id: u64,
    ) -> std::result::Result<bool, StoreError> {
        let Some(w) = self.store().worker(worker_id)? else {
            return Ok(false);
        };
        let Some(pid) = w.placement.active_id else {
            return Ok(false);
        };
        Ok(self.store().placement(&pid)?.is_none_or(|p| p.run_id != id))
    }
}

fn refused_row(a: &Assignment, reason: Stale) -> RefusedAssignment {
    RefusedAssignment {
        worker_id: a.worker_id.clone(),
        opening_id: a.opening_id.clone(),
        county_code: a.county_code.clone(),
        reason,
    }
}
