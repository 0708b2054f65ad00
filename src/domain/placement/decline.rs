//! Declines: why a worker turned an opening down, and the rule that the
//! same worker-opening pair is never proposed again. Their words are in
//! `domain/words.rs`.

/// Why a worker declined (or backed out of) an opening.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DeclineReason {
    /// Not set (refused on a new decline; read from a placement declined
    /// before reasons were recorded).
    Unspecified = 0,
    /// Too far from home, the children or the site.
    Distance = 1,
    /// The pay is too low.
    Pay = 2,
    /// The hours do not fit.
    Hours = 3,
    /// Caring for children, elderly or sick relatives.
    FamilyCare = 4,
    /// Illness, injury or disability.
    Health = 5,
    /// The worker found other work.
    FoundOtherWork = 6,
    /// Anything else; say what in the note.
    Other = 7,
}

impl DeclineReason {
    /// Every reason a client may give.
    pub const ALL: [DeclineReason; 7] = [
        DeclineReason::Distance,
        DeclineReason::Pay,
        DeclineReason::Hours,
        DeclineReason::FamilyCare,
        DeclineReason::Health,
        DeclineReason::FoundOtherWork,
        DeclineReason::Other,
    ];

    /// Lower-case code, for history notes, reports and CSV.
    pub fn code(self) -> &'static str {
        match self {
            DeclineReason::Unspecified => "unspecified",
            DeclineReason::Distance => "distance",
            DeclineReason::Pay => "pay",
            DeclineReason::Hours => "hours",
            DeclineReason::FamilyCare => "family_care",
            DeclineReason::Health => "health",
            DeclineReason::FoundOtherWork => "found_other_work",
            DeclineReason::Other => "other",
        }
    }
}

/// A worker's earlier decline of an opening, as the store keeps it (one
/// per pair: the first decline; later ones cannot happen, as the pair is
/// never proposed again).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Declined {
    /// The worker.
    #[prost(string, tag = "1")]
    pub worker_id: String,
    /// The opening.
    #[prost(string, tag = "2")]
    pub opening_id: String,
    /// The placement that was declined.
    #[prost(string, tag = "3")]
    pub placement_id: String,
    /// Why.
    #[prost(enumeration = "DeclineReason", tag = "4")]
    pub reason: i32,
    /// The note given with it.
    #[prost(string, tag = "5")]
    pub note: String,
    /// When, Unix ms.
    #[prost(int64, tag = "6")]
    pub at_ms: i64,
    /// The worker's county when proposed.
    #[prost(string, tag = "7")]
    pub county_code: String,
}

impl Declined {
    /// The record a decline of placement `p` leaves.
    pub fn of(p: &super::Placement) -> Self {
        Declined {
            worker_id: p.worker_id.clone(),
            opening_id: p.opening_id.clone(),
            placement_id: p.id.clone(),
            reason: p.decline_code,
            note: p.decline_reason.clone(),
            at_ms: p.declined_at_ms,
            county_code: p.county_code.clone(),
        }
    }
}

/// A worker whose declines in the period reach the counselling threshold:
/// listed for a counselling visit, never dropped from matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounsellingCase {
    /// The worker.
    pub worker_id: String,
    /// The worker's county.
    pub county_code: String,
    /// The declines in the period, oldest first.
    pub declines: Vec<Declined>,
}

/// The workers with at least `threshold` declines at or after `since_ms`,
/// by county then worker id. Pure: the caller reads the declines.
pub fn counselling_cases(
    declines: impl IntoIterator<Item = Declined>,
    since_ms: i64,
    threshold: usize,
) -> Vec<CounsellingCase> {
    let mut by_worker: std::collections::BTreeMap<String, Vec<Declined>> = Default::default();
    for d in declines.into_iter().filter(|d| d.at_ms >= since_ms) {
        by_worker.entry(d.worker_id.clone()).or_default().push(d);
    }
    let mut cases: Vec<CounsellingCase> = by_worker
        .into_iter()
        .filter(|(_, ds)| ds.len() >= threshold.max(1))
        .map(|(worker_id, mut declines)| {
            declines.sort_by_key(|d| d.at_ms);
            let county_code = declines
                .last()
                .map(|d| d.county_code.clone())
                .unwrap_or_default();
            CounsellingCase {
                worker_id,
                county_code,
                declines,
            }
        })
        .collect();
    cases.sort_by(|a, b| (&a.county_code, &a.worker_id).cmp(&(&b.county_code, &b.worker_id)));
    cases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Lang;

    fn d(worker: &str, opening: &str, at_ms: i64) -> Declined {
        Declined {
            worker_id: worker.into(),
            opening_id: opening.into(),
            at_ms,
            county_code: "431202".into(),
            ..Default::default()
        }
    }

    #[test]
    fn three_declines_in_the_period_make_a_case() {
        let all = vec![
            d("w1", "o1", 10),
            d("w1", "o2", 20),
            d("w1", "o3", 30),
            d("w2", "o1", 5),
            d("w2", "o2", 25),
            d("w2", "o3", 26),
        ];
        let cases = counselling_cases(all.clone(), 0, 3);
        assert_eq!(cases.len(), 2);
        // w2's first decline falls before the period.
        let cases = counselling_cases(all, 10, 3);
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].worker_id, "w1");
        assert_eq!(cases[0].declines.len(), 3);
    }

    #[test]
    fn every_reason_has_a_code_and_two_texts() {
        let mut codes: Vec<&str> = DeclineReason::ALL.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), DeclineReason::ALL.len());
        for r in DeclineReason::ALL {
            assert_ne!(r.text(Lang::Zh), r.text(Lang::En));
        }
    }
}
