//! Placements: proposals (by hand or from a batch run) and the steps of
//! their life cycle, through the write path so that the match index sees
//! each change before the reply. The rules of the steps themselves are the
//! domain's; the store applies them in one transaction.

use std::sync::Arc;

use super::workers::{not_found_for, sees};
use super::{scope, Result, Service, ServiceError};
use crate::domain::access::{mask_name, mask_phone, Caller, Role};
use crate::domain::placement::{Placement, PlacementEvent};
use crate::domain::run::RunStatus;
use crate::domain::{scoped, Lang, Worker};
use crate::matching::MatchContext;
use crate::store::{Action, DueCheckIn, Page, PlacementFilter, Proposal, Store};

/// A check-in due, with whom to call: the worker's name and phone as the
/// caller may see them (the masking rules of every other read:
/// [`Caller::sees_personal_data`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DueCall {
    /// The check-in.
    pub due: DueCheckIn,
    /// The worker's name, masked unless the caller may see it; empty if
    /// the worker is gone.
    pub name: String,
    /// The worker's phone, masked likewise; empty if none.
    pub phone: String,
    /// Whether name and phone are masked.
    pub masked: bool,
}

impl DueCall {
    /// `due` with its worker's contact as `caller` may see it.
    pub fn new(caller: &Caller, due: DueCheckIn, worker: Option<Worker>) -> Self {
        let Some(w) = worker else {
            return Self {
                due,
                name: String::new(),
                phone: String::new(),
                masked: false,
            };
        };
        let phone = w.phone.unwrap_or_default();
        let (name, phone, masked) =
            contact(caller, w.name, phone, &w.county_code, w.consent_to_share);
        Self {
            due,
            name,
            phone,
            masked,
        }
    }
}

/// A worker's name and phone as `caller` may see them, and whether they
/// are masked.
fn contact(
    caller: &Caller,
    name: String,
    phone: String,
    county: &str,
    consented: bool,
) -> (String, String, bool) {
    if caller.sees_personal_data(county, consented) {
        (name, phone, false)
    } else {
        (mask_name(&name), mask_phone(&phone), true)
    }
}

impl Service {
    /// Proposes an opening to a worker the caller covers. The pair must be
    /// eligible now; with `run_id`, it must be that succeeded run's
    /// assignment. An ineligible pair is refused with its reasons in
    /// `lang`.
    pub async fn propose(
        self: &Arc<Self>,
        caller: &Caller,
        worker_id: &str,
        opening_id: &str,
        run_id: u64,
        actor: String,
        lang: Lang,
    ) -> Result<Placement> {
        let (caller, worker_id, opening_id) = (
            caller.clone(),
            worker_id.to_string(),
            opening_id.to_string(),
        );
        let changed = self.settled(self.blocking(move |s| {
            let proposal = s.check_proposal(&caller, &worker_id, &opening_id, run_id, lang)?;
            Ok(s.writer.propose(&proposal, &actor)?)
        }));
        Ok(changed.await?.placement)
    }

    /// Takes one step of a placement of the caller's counties.
    pub async fn placement_step(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
        action: Action,
        actor: String,
    ) -> Result<Placement> {
        let changed = self.settled(async {
            self.placement_in_scope(caller, id).await?;
            let owned = id.to_string();
            self.blocking(move |s| Ok(s.writer.placement_step(&owned, &action, &actor)?))
                .await
        });
        Ok(changed.await?.placement)
    }

    /// A placement of the caller's counties.
    pub async fn placement(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<Placement> {
        let owned = id.to_string();
        let p = self
            .blocking(move |s| {
                s.store()
                    .placement(&owned)?
                    .ok_or_else(|| ServiceError::not_found("placement", owned))
            })
            .await?;
        if !sees(caller, &p.county_code) {
            return Err(not_found_for(caller, "placement", id));
        }
        Ok(p)
    }

    /// One page of placements; a service company must name its county. A
    /// worker filter is a whole id or a county's number in the county
    /// filtered on (or, without one, resolved as [`Service::worker`] does).
    pub async fn list_placements(
        self: &Arc<Self>,
        caller: &Caller,
        mut filter: PlacementFilter,
        after: Option<String>,
        limit: usize,
    ) -> Result<Page<Placement>> {
        scope::county_filter(caller, filter.county_code.as_deref(), "county_code")?;
        if let Some(w) = filter.worker_id.take() {
            filter.worker_id = Some(
                match (&filter.county_code, self.find_worker(caller, &w).await) {
                    (_, Ok(worker)) => worker.id,
                    // A worker deleted since keeps its placements.
                    (Some(c), Err(ServiceError::NotFound(_))) => scoped::qualified(&w, c),
                    (None, Err(ServiceError::NotFound(_))) => w,
                    (_, Err(e)) => return Err(e),
                },
            );
        }
        self.blocking(move |s| {
            Ok(s.store()
                .list_placements(&filter, after.as_deref(), limit)?)
        })
        .await
    }

    /// Every step of a placement, oldest first.
    pub async fn placement_history(
        self: &Arc<Self>,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<PlacementEvent>> {
        self.placement_in_scope(caller, id).await?;
        let owned = id.to_string();
        self.blocking(move |s| {
            if s.store().placement(&owned)?.is_none() {
                return Err(ServiceError::not_found("placement", owned));
            }
            Ok(s.store().placement_history(&owned)?)
        })
        .await
    }

    /// Retention check-ins due on or before `until` (a day number), in one
    /// county or all; a service company must name its county.
    pub async fn due_check_ins(
        self: &Arc<Self>,
        caller: &Caller,
        county_code: Option<String>,
        until: i32,
    ) -> Result<Vec<DueCall>> {
        scope::county_filter(caller, county_code.as_deref(), "county_code")?;
        let caller = caller.clone();
        self.blocking(move |s| {
            let store = s.store();
            store
                .check_ins_due(county_code.as_deref(), until)?
                .into_iter()
                .map(|due| {
                    let worker = store.worker(&due.placement.worker_id)?;
                    Ok(DueCall::new(&caller, due, worker))
                })
                .collect()
        })
        .await
    }

    /// Forbidden if placement `id` is of a county outside the caller's; a
    /// missing placement is left to the operation.
    async fn placement_in_scope(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<()> {
        if caller.role == Role::Admin {
            return Ok(());
        }
        self.check_stored(id, Store::placement, |p| {
            if sees(caller, &p.county_code) {
                Ok(())
            } else {
                Err(not_found_for(caller, "placement", id))
            }
        })
        .await
    }

    /// Checks a proposal: the caller's scope over the worker, the match
    /// index (eligibility, score) and, for a batch run's, the run's
    /// assignment.
    fn check_proposal(
        &self,
        caller: &Caller,
        worker_id: &str,
        opening_id: &str,
        run_id: u64,
        lang: Lang,
    ) -> Result<Proposal> {
        let store = self.store();
        let worker = self.find_worker_now(caller, worker_id)?;
        let worker_id = worker.id.as_str();
        if store.opening(opening_id)?.is_none() {
            return Err(ServiceError::not_found("opening", opening_id));
        }
        if run_id != 0 {
            let run = store
                .run(run_id)?
                .ok_or_else(|| ServiceError::not_found("run", run_id.to_string()))?;
            if run.status() != RunStatus::Succeeded {
                return Err(ServiceError::precondition(format!(
                    "run {run_id} did not succeed; only a succeeded run's assignments can be \
                     proposed"
                )));
            }
            match store.assignment(run_id, worker_id)? {
                Some(a) if a.opening_id == opening_id => {}
                Some(a) => {
                    return Err(ServiceError::precondition(format!(
                        "run {run_id} assigned worker {worker_id:?} to opening {:?}, not {opening_id:?}",
                        a.opening_id
                    )))
                }
                None => {
                    return Err(ServiceError::precondition(format!(
                        "run {run_id} assigned worker {worker_id:?} to no opening"
                    )))
                }
            }
        }
        let explanation = self.matcher().read().explain_pair(
            worker_id,
            opening_id,
            &MatchContext {
                lang,
                ..MatchContext::now()
            },
        );
        let Some(x) = explanation else {
            return Err(ServiceError::not_found("worker or opening", worker_id));
        };
        if !x.eligible {
            let reasons: Vec<String> = x
                .violations
                .iter()
                .map(|(r, text)| format!("{}: {text}", r.code()))
                .collect();
            let reasons = reasons.join("; ");
            return Err(ServiceError::precondition(match lang {
                Lang::Zh => format!("劳动力 {worker_id} 不符合岗位 {opening_id} 的条件：{reasons}"),
                Lang::En => format!(
                    "worker {worker_id:?} is not eligible for opening {opening_id:?}: {reasons}"
                ),
            }));
        }
        Ok(Proposal {
            worker_id: worker_id.to_string(),
            opening_id: opening_id.to_string(),
            run_id,
            score_micro: i64::from(x.score_micro),
            zero_household: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Scope;

    fn caller(role: Role, counties: &[&str]) -> Caller {
        Caller {
            token_id: "tok_test".into(),
            role,
            scope: Scope {
                counties: counties.iter().map(|c| c.to_string()).collect(),
                employer_id: None,
            },
        }
    }

    fn due() -> DueCheckIn {
        DueCheckIn {
            placement: Placement::default(),
            month: 1,
            due_day: 0,
        }
    }

    #[test]
    fn whom_to_call_is_masked_as_every_other_read() {
        let company = caller(Role::ServiceCompany, &["431224"]);
        let admin = caller(Role::Admin, &[]);
        let clear = |c: &Caller, county: &str, consent: bool| {
            contact(c, "向春梅".into(), "13907451234".into(), county, consent)
        };
        let shown = ("向春梅".to_string(), "13907451234".to_string(), false);
        let hidden = ("向**".to_string(), "*******1234".to_string(), true);
        assert_eq!(clear(&admin, "431227", false), shown);
        assert_eq!(clear(&company, "431224", false), shown);
        // A worker who moved to another county since the hire.
        assert_eq!(clear(&company, "431227", false), hidden);
        assert_eq!(clear(&company, "431227", true), shown);
        let gone = DueCall::new(&company, due(), None);
        assert_eq!((gone.name.as_str(), gone.phone.as_str()), ("", ""));
        assert!(!gone.masked);
    }
}
