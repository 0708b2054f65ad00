//! Matching in both directions and explanations, with what each caller may
//! see. The match index applies every eligibility rule, the `[policy]`
//! rules and declined pairs included, so a ranked pair is one `Propose`
//! accepts and `ExplainMatch` calls eligible. Who may see what: a recruiter asks only about its employer's openings and sees
//! workers' names and phones masked unless they consented to share.
//!
//! Ranking runs on rayon over an immutable snapshot of the index (see
//! `matching::shared`), so it never waits for a writer and a writer never
//! waits for it for long.

use std::sync::Arc;

use super::{scope, Result, Service, ServiceError, StoreRead};
use crate::domain::access::{mask_name, mask_phone, Caller, Role};
use crate::domain::{Lang, Opening};
use crate::matching::{
    MatchContext, OpeningsQuery, PairExplanation, Ranked, Ranking, WorkersQuery,
};
use crate::store::Store;

/// An opening ranked for a worker, with the opening as stored.
#[derive(Debug, Clone)]
pub struct OpeningMatch {
    /// Score, components and reasons.
    pub ranked: Ranked,
    /// The opening.
    pub opening: Opening,
}

/// A worker ranked for an opening, with what the caller may see of them.
#[derive(Debug, Clone)]
pub struct WorkerMatch {
    /// Score, components and reasons.
    pub ranked: Ranked,
    /// Full name, or masked.
    pub name: String,
    /// Mobile number, or masked; empty if none.
    pub phone: String,
    /// Whether name and phone are masked.
    pub masked: bool,
    /// County of registration.
    pub county_code: String,
    /// Resettlement site.
    pub site_id: String,
}

impl Service {
    /// The best openings for a worker. A service company asks only about
    /// workers of its counties.
    pub async fn match_openings(
        self: &Arc<Self>,
        caller: &Caller,
        worker_id: &str,
        query: OpeningsQuery,
        lang: Lang,
    ) -> Result<Vec<OpeningMatch>> {
        let id = self.stored_worker_in_scope(caller, worker_id).await?;
        let me = self.clone();
        let mut query = query;
        ranked(crate::matching::spawn(move || {
            // Ties in net value go to the opening the last exact run gave
            // the worker (see `matching::Ranking::Net`).
            if query.ranking == Ranking::Net {
                // The snapshot is let go before the store is read: held, it
                // keeps the matcher's spare copy busy.
                let run = me.matcher().read().price_run();
                if let Some(run) = run {
                    query.planned = me.store().assignment(run, &id)?.map(|a| a.opening_id);
                }
            }
            let ranked = me
                .matcher()
                .read()
                .rank_openings(&id, &query, &MatchContext::now().in_lang(lang))
                .ok_or_else(|| ServiceError::not_found("worker", id.clone()))?;
            with_stored(
                me.store(),
                ranked,
                "opening",
                Store::opening,
                |m, opening| OpeningMatch { ranked: m, opening },
            )
        }))
        .await
    }

    /// The best workers for an opening. A recruiter asks only about its
    /// employer's openings.
    pub async fn match_workers(
        self: &Arc<Self>,
        caller: &Caller,
        opening_id: &str,
        query: WorkersQuery,
        lang: Lang,
    ) -> Result<Vec<WorkerMatch>> {
        self.opening_in_scope(caller, opening_id).await?;
        let me = self.clone();
        let id = opening_id.to_string();
        let caller = caller.clone();
        ranked(crate::matching::spawn(move || {
            let ranked = me
                .matcher()
                .read()
                .rank_workers(&id, &query, &MatchContext::now().in_lang(lang))
                .ok_or_else(|| ServiceError::not_found("opening", id.clone()))?;
            with_stored(me.store(), ranked, "worker", Store::worker, |m, w| {
                let clear = caller.sees_personal_data(&w.county_code, w.consent_to_share);
                let phone = w.phone.unwrap_or_default();
                WorkerMatch {
                    ranked: m,
                    name: if clear { w.name } else { mask_name(&w.name) },
                    phone: if clear { phone } else { mask_phone(&phone) },
                    masked: !clear,
                    county_code: w.county_code,
                    site_id: w.site_id,
                }
            })
        }))
        .await
    }

    /// Eligibility, score and reasons of one pair. A recruiter asks about
    /// its employer's openings, others about workers they cover.
    pub async fn explain_match(
        self: &Arc<Self>,
        caller: &Caller,
        worker_id: &str,
        opening_id: &str,
        lang: Lang,
    ) -> Result<PairExplanation> {
        if caller.role == Role::Recruiter {
            self.opening_in_scope(caller, opening_id).await?;
        }
        let worker_id = &self.stored_worker_in_scope(caller, worker_id).await?;
        let explained = self.matcher().read().explain_pair(
            worker_id,
            opening_id,
            &MatchContext::now().in_lang(lang),
        );
        match explained {
            Some(e) => Ok(e),
            None => {
                // Name whichever is missing.
                let owned = worker_id.to_string();
                let worker_known = self
                    .blocking(move |s| Ok(s.store().worker(&owned)?.is_some()))
                    .await?;
                Err(if worker_known {
                    ServiceError::not_found("opening", opening_id)
                } else {
                    ServiceError::not_found("worker", worker_id)
                })
            }
        }
    }

    /// A recruiter asks only about its employer's openings.
    async fn opening_in_scope(self: &Arc<Self>, caller: &Caller, id: &str) -> Result<()> {
        if caller.role != Role::Recruiter {
            return Ok(());
        }
        self.check_stored(id, Store::opening, |o| {
            scope::employer(caller, &o.employer_id, &format!("opening {id:?}"))
        })
        .await
    }
}

/// Each ranked record as `matched` makes it from the record stored under
/// its id (a `kind`, as `read` reads it). Written before it was indexed,
/// a record is there unless deleted since.
fn with_stored<T, M>(
    store: &Store,
    ranked: Vec<Ranked>,
    kind: &'static str,
    read: StoreRead<T>,
    mut matched: impl FnMut(Ranked, T) -> M,
) -> Result<Vec<M>> {
    ranked
        .into_iter()
        .map(|m| {
            let record =
                read(store, &m.id)?.ok_or_else(|| ServiceError::not_found(kind, m.id.clone()))?;
            Ok(matched(m, record))
        })
        .collect()
}

/// Awaits ranking work; a panic in it is an internal error.
async fn ranked<T>(rx: tokio::sync::oneshot::Receiver<Result<T>>) -> Result<T> {
    rx.await
        .map_err(|_| ServiceError::Internal("ranking task panicked".into()))?
}
