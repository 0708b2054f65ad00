//! Batch runs and their results. Plain data, encoded with prost by the
//! store (the derive only describes the layout; nothing here does I/O).

/// How a run assigns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Policy {
    /// Not set.
    Unspecified = 0,
    /// Exact optimum: most zero-employment households, then total score.
    Optimal = 1,
    /// Worker-proposing deferred acceptance.
    Stable = 2,
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum RunStatus {
    /// Not set.
    Unspecified = 0,
    /// Going on.
    Running = 1,
    /// Done; results stored.
    Succeeded = 2,
    /// Stopped by an error or a restart; nothing of it applies.
    Failed = 3,
    /// Stopped on request; nothing of it applies.
    Cancelled = 4,
}

/// The step a run is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum RunPhase {
    /// Not set.
    Unspecified = 0,
    /// Scoring eligible pairs.
    Scoring = 1,
    /// Solving the assignment.
    Solving = 2,
    /// Storing results and audit files.
    Saving = 3,
    /// Finished (whatever the status).
    Done = 4,
}

/// Figures for one county or one source.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SummaryRow {
    /// County code or source label.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Seeking workers with at least one eligible opening.
    #[prost(uint64, tag = "2")]
    pub workers_eligible: u64,
    /// Workers assigned.
    #[prost(uint64, tag = "3")]
    pub workers_assigned: u64,
    /// Zero-employment households with a member assigned.
    #[prost(uint64, tag = "4")]
    pub zero_households_covered: u64,
    /// Slots filled.
    #[prost(uint64, tag = "5")]
    pub slots_filled: u64,
}

/// What a succeeded run found.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct RunSummary {
    /// Seeking workers considered.
    #[prost(uint64, tag = "1")]
    pub workers_considered: u64,
    /// Openings with free slots considered.
    #[prost(uint64, tag = "2")]
    pub openings_considered: u64,
    /// Eligible pairs considered.
    #[prost(uint64, tag = "3")]
    pub eligible_pairs: u64,
    /// Free slots in all.
    #[prost(uint64, tag = "4")]
    pub slots_available: u64,
    /// Workers assigned.
    #[prost(uint64, tag = "5")]
    pub workers_assigned: u64,
    /// Zero-employment households among those considered.
    #[prost(uint64, tag = "6")]
    pub zero_households: u64,
    /// Of them, covered.
    #[prost(uint64, tag = "7")]
    pub zero_households_covered: u64,
    /// Sum of assigned scores, micro-points.
    #[prost(uint64, tag = "8")]
    pub total_score_micro: u64,
    /// Per county.
    #[prost(message, repeated, tag = "9")]
    pub by_county: Vec<SummaryRow>,
    /// Per source.
    #[prost(message, repeated, tag = "10")]
    pub by_source: Vec<SummaryRow>,
    /// Workers assigned now and not before.
    #[prost(uint64, tag = "11")]
    pub gained: u64,
    /// Workers assigned before and not now.
    #[prost(uint64, tag = "12")]
    pub lost: u64,
    /// Workers assigned both times, elsewhere now.
    #[prost(uint64, tag = "13")]
    pub changed: u64,
    /// The run compared against; 0 if none.
    #[prost(uint64, tag = "14")]
    pub previous_run_id: u64,
    /// Milliseconds scoring.
    #[prost(uint64, tag = "15")]
    pub scoring_ms: u64,
    /// Milliseconds in the solver.
    #[prost(uint64, tag = "16")]
    pub solving_ms: u64,
    /// Milliseconds storing results and audit files.
    #[prost(uint64, tag = "17")]
    pub saving_ms: u64,
    /// Candidate rows taken from the last run.
    #[prost(uint64, tag = "18")]
    pub rows_kept: u64,
    /// Candidate rows scored again.
    #[prost(uint64, tag = "19")]
    pub rows_scored: u64,
    /// Openings whose last slot had a price (one more slot would have
    /// added households or score); their prices are stored with the run.
    #[prost(uint64, tag = "20")]
    pub contested_openings: u64,
    /// The last exact run's potentials proved this run's plan optimal: no
    /// change since mattered, and nothing was solved again.
    #[prost(bool, tag = "21")]
    pub proved_by_last_optimum: bool,
}

/// A batch run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Run {
    /// Run id, increasing.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Policy.
    #[prost(enumeration = "Policy", tag = "2")]
    pub policy: i32,
    /// Dry run: results stored, nothing proposed.
    #[prost(bool, tag = "3")]
    pub dry_run: bool,
    /// Status.
    #[prost(enumeration = "RunStatus", tag = "4")]
    pub status: i32,
    /// Phase.
    #[prost(enumeration = "RunPhase", tag = "5")]
    pub phase: i32,
    /// "api", "schedule" or "cli".
    #[prost(string, tag = "6")]
    pub trigger: String,
    /// Start, Unix ms.
    #[prost(int64, tag = "7")]
    pub started_at_ms: i64,
    /// End, Unix ms; 0 while running.
    #[prost(int64, tag = "8")]
    pub finished_at_ms: i64,
    /// Why it failed.
    #[prost(string, tag = "9")]
    pub error: String,
    /// Results, once succeeded.
    #[prost(message, optional, tag = "10")]
    pub summary: Option<RunSummary>,
    /// Candidate openings kept per worker.
    #[prost(uint32, tag = "11")]
    pub candidates_per_worker: u32,
    /// Set (durably) once the results are stored and the run is creating
    /// its proposals: a restart then finishes the proposals instead of
    /// failing the run. Cleared when done.
    #[prost(bool, tag = "12")]
    pub proposing: bool,
    /// Proposals the run created (not dry runs).
    #[prost(uint64, tag = "13")]
    pub proposals_created: u64,
    /// Assignments not proposed because the worker or opening changed
    /// since the scoring (the worker got another placement, the opening
    /// filled up or closed).
    #[prost(uint64, tag = "14")]
    pub proposals_skipped: u64,
    /// Counties a staged run was applied to so far; `["*"]` once applied
    /// whole.
    #[prost(string, repeated, tag = "15")]
    pub applied_counties: Vec<String>,
    /// When it was last applied, Unix ms; 0 if never.
    #[prost(int64, tag = "16")]
    pub applied_at_ms: i64,
}

/// What `applied_counties` holds once a run is applied whole.
pub const APPLIED_WHOLE: &str = "*";

impl Run {
    /// A succeeded dry run not applied whole: its assignments wait for
    /// `ApplyRun`.
    pub fn staged(&self) -> bool {
        self.dry_run
            && self.status() == RunStatus::Succeeded
            && !self.applied_counties.iter().any(|c| c == APPLIED_WHOLE)
    }

    /// Whether any of its assignments were turned into proposals: a run
    /// that proposed at once, or a staged run applied whole or in part.
    pub fn applied(&self) -> bool {
        self.status() == RunStatus::Succeeded
            && (!self.dry_run || !self.applied_counties.is_empty())
    }

    /// Whether `county`'s assignments (all with `None`) were applied.
    pub fn applied_to(&self, county: Option<&str>) -> bool {
        self.applied_counties
            .iter()
            .any(|c| c == APPLIED_WHOLE || Some(c.as_str()) == county)
    }
}

/// One component of a stored explanation.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredComponent {
    /// Component name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value in [0, 1].
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Weight.
    #[prost(double, tag = "3")]
    pub weight: f64,
    /// Reasons.
    #[prost(string, tag = "4")]
    pub reason: String,
}

/// One assignment of a run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Assignment {
    /// Worker.
    #[prost(string, tag = "1")]
    pub worker_id: String,
    /// Opening.
    #[prost(string, tag = "2")]
    pub opening_id: String,
    /// Household.
    #[prost(string, tag = "3")]
    pub household_id: String,
    /// The household had nobody in work.
    #[prost(bool, tag = "4")]
    pub zero_household: bool,
    /// Score, micro-points.
    #[prost(uint32, tag = "5")]
    pub score_micro: u32,
    /// Explanation when scored.
    #[prost(message, repeated, tag = "6")]
    pub components: Vec<StoredComponent>,
    /// Distance, km.
    #[prost(double, tag = "7")]
    pub distance_km: f64,
    /// Worker's county code.
    #[prost(string, tag = "8")]
    pub county_code: String,
    /// Opening's source code.
    #[prost(uint32, tag = "9")]
    pub source: u32,
    /// Fingerprint of the worker's record as the run saw it (the
    /// client-written fields); 0 if it changed during the run.
    #[prost(uint64, tag = "10")]
    pub worker_fingerprint: u64,
    /// Fingerprint of the opening's record as the run saw it; 0 if it
    /// changed during the run.
    #[prost(uint64, tag = "11")]
    pub opening_fingerprint: u64,
}

/// The price of an opening in a run: what one more of its slots would
/// have added to the optimum (`matching::assign::prices`). Stored only
/// for contested openings; every other opening's price is zero.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OpeningPrice {
    /// Opening.
    #[prost(string, tag = "1")]
    pub opening_id: String,
    /// Zero-employment households one more slot would get into work: 0
    /// or 1.
    #[prost(uint32, tag = "2")]
    pub households: u32,
    /// Score one more slot would add, micro-points (negative only when
    /// `households` is 1).
    #[prost(sint64, tag = "3")]
    pub points_micro: i64,
    /// Free slots the run had for the opening.
    #[prost(uint32, tag = "4")]
    pub free_slots: u32,
    /// The run's household weight: a household counts this many
    /// micro-points when prices and scores are compared.
    #[prost(int64, tag = "5")]
    pub household_weight: i64,
}

/// How a worker's assignment changed against the previous run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ChangeKind {
    /// Not set.
    Unspecified = 0,
    /// Newly assigned.
    Gained = 1,
    /// No longer assigned.
    Lost = 2,
    /// Assigned elsewhere.
    Changed = 3,
}

/// One worker's change against the previous run.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Change {
    /// Worker.
    #[prost(string, tag = "1")]
    pub worker_id: String,
    /// Kind.
    #[prost(enumeration = "ChangeKind", tag = "2")]
    pub kind: i32,
    /// Opening in the previous run.
    #[prost(string, tag = "3")]
    pub previous_opening_id: String,
    /// Opening now.
    #[prost(string, tag = "4")]
    pub opening_id: String,
}

/// Why applying a staged assignment was refused: the assignment is stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stale {
    /// The worker was deleted.
    WorkerGone,
    /// The worker holds an active placement now.
    WorkerHoldsPlacement,
    /// The worker declined this opening before.
    DeclinedBefore,
    /// The worker's record changed after the run's snapshot.
    WorkerChanged,
    /// The worker is not seeking work now.
    WorkerNotSeeking,
    /// The opening was deleted.
    OpeningGone,
    /// The opening's record changed after the run's snapshot (closed,
    /// other pay, ...).
    OpeningChanged,
    /// Every slot of the opening is taken now.
    SlotTaken,
    /// The pair breaks a matching rule now.
    NotEligible,
    /// The store refused the proposal (a write raced the check).
    Refused(String),
}

impl Stale {
    /// Stable code, for clients and CSV.
    pub fn code(&self) -> &'static str {
        match self {
            Stale::WorkerGone => "worker_gone",
            Stale::WorkerHoldsPlacement => "worker_holds_placement",
            Stale::DeclinedBefore => "declined_before",
            Stale::WorkerChanged => "worker_changed",
            Stale::WorkerNotSeeking => "worker_not_seeking",
            Stale::OpeningGone => "opening_gone",
            Stale::OpeningChanged => "opening_changed",
            Stale::SlotTaken => "slot_taken",
            Stale::NotEligible => "not_eligible",
            Stale::Refused(_) => "refused",
        }
    }

    /// The reason in words.
    pub fn text(&self, lang: super::Lang) -> String {
        let t = match self {
            Stale::WorkerGone => lang.pick("劳动力已删除", "the worker was deleted"),
            Stale::WorkerHoldsPlacement => lang.pick(
                "劳动力已有推荐或就业（进行中的安置）",
                "the worker already holds an active placement",
            ),
            Stale::DeclinedBefore => lang.pick(
                "劳动力曾拒绝该岗位，不再推荐",
                "the worker declined this opening before; it is not proposed again",
            ),
            Stale::WorkerChanged => lang.pick(
                "运行之后劳动力信息有改动",
                "the worker's record changed after the run",
            ),
            Stale::WorkerNotSeeking => {
                lang.pick("劳动力当前不在求职", "the worker is not seeking work now")
            }
            Stale::OpeningGone => lang.pick("岗位已删除", "the opening was deleted"),
            Stale::OpeningChanged => lang.pick(
                "运行之后岗位信息有改动",
                "the opening's record changed after the run",
            ),
            Stale::SlotTaken => lang.pick("岗位名额已满", "every slot of the opening is taken"),
            Stale::NotEligible => lang.pick(
                "按现行规则该劳动力不符合岗位条件",
                "the pair breaks a matching rule now",
            ),
            Stale::Refused(why) => {
                return format!("{}{why}", lang.pick("推荐被拒绝：", "proposal refused: "))
            }
        };
        t.to_string()
    }
}

/// What the apply check knows about an assignment's worker now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerNow {
    /// Fingerprint of the record now.
    pub fingerprint: u64,
    /// Holds a proposed, accepted or hired placement.
    pub holds_placement: bool,
    /// Seeking work.
    pub seeking: bool,
}

/// What the apply check knows about an assignment's opening now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningNow {
    /// Fingerprint of the record now.
    pub fingerprint: u64,
    /// Open with a slot not taken by an accepted or hired placement.
    pub free_slot: bool,
}

/// Whether staged assignment `a` may still be proposed, given its worker
/// and opening now (`None`: deleted) and whether the pair was declined.
/// The first reason found is given, in the order a case officer would
/// want to know them.
pub fn check_staged(
    a: &Assignment,
    worker: Option<&WorkerNow>,
    opening: Option<&OpeningNow>,
    declined: bool,
) -> Result<(), Stale> {
    let w = worker.ok_or(Stale::WorkerGone)?;
    if w.holds_placement {
        return Err(Stale::WorkerHoldsPlacement);
    }
    if declined {
        return Err(Stale::DeclinedBefore);
    }
    if a.worker_fingerprint == 0 || w.fingerprint != a.worker_fingerprint {
        return Err(Stale::WorkerChanged);
    }
    if !w.seeking {
        return Err(Stale::WorkerNotSeeking);
    }
    let o = opening.ok_or(Stale::OpeningGone)?;
    if a.opening_fingerprint == 0 || o.fingerprint != a.opening_fingerprint {
        return Err(Stale::OpeningChanged);
    }
    if !o.free_slot {
        return Err(Stale::SlotTaken);
    }
    Ok(())
}

/// How a worker stands in a staged run against the last applied run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiffClass {
    /// Assigned now, not in the last applied run.
    New,
    /// Assigned in both, to another opening now.
    ChangedOpening,
    /// Assigned in both, to the same opening.
    Same,
    /// Holds an active placement now: nothing is proposed to them.
    HoldingPlacement,
    /// Assigned in the last applied run, not now.
    NoLongerAssigned,
}

impl DiffClass {
    /// Every class, in report order.
    pub const ALL: [DiffClass; 5] = [
        DiffClass::New,
        DiffClass::ChangedOpening,
        DiffClass::Same,
        DiffClass::HoldingPlacement,
        DiffClass::NoLongerAssigned,
    ];

    /// The class of a worker assigned `before` in the last applied run and
    /// `now` in this one (at least one is set), holding an active placement
    /// or not. A worker who holds a placement is not "no longer assigned":
    /// a run leaves out workers who hold proposals, so that is no loss.
    pub fn of(before: Option<&str>, now: Option<&str>, holding: bool) -> DiffClass {
        match (before, now) {
            _ if holding => DiffClass::HoldingPlacement,
            (Some(b), Some(n)) if b == n => DiffClass::Same,
            (Some(_), Some(_)) => DiffClass::ChangedOpening,
            (None, _) => DiffClass::New,
            (Some(_), None) => DiffClass::NoLongerAssigned,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            DiffClass::New => "new",
            DiffClass::ChangedOpening => "changed_opening",
            DiffClass::Same => "same",
            DiffClass::HoldingPlacement => "holding_placement",
            DiffClass::NoLongerAssigned => "no_longer_assigned",
        }
    }
}

/// One worker's line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffEntry {
    /// The worker.
    pub worker_id: String,
    /// Its class.
    pub class: DiffClass,
    /// Opening in the last applied run.
    pub previous_opening_id: Option<String>,
    /// Opening in this run.
    pub opening_id: Option<String>,
    /// The worker's county (from whichever run assigned it).
    pub county_code: String,
}

/// A staged run against the last applied one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunDiff {
    /// The run.
    pub run_id: u64,
    /// The last applied run before it; 0 if none.
    pub previous_run_id: u64,
    /// Workers per class, in [`DiffClass::ALL`] order.
    pub counts: [u64; 5],
    /// Every worker, by id.
    pub entries: Vec<DiffEntry>,
}

impl RunDiff {
    /// The count of `class`.
    pub fn count(&self, class: DiffClass) -> u64 {
        self.counts[DiffClass::ALL
            .iter()
            .position(|c| *c == class)
            .expect("listed")]
    }

    /// Workers in either run (the counts add up to it).
    pub fn workers(&self) -> u64 {
        self.counts.iter().sum()
    }
}

#[cfg(test)]
mod diff_tests {
    use super::*;

    #[test]
    fn classes_follow_the_runs_and_holding_wins() {
        assert_eq!(DiffClass::of(None, Some("o1"), false), DiffClass::New);
        assert_eq!(
            DiffClass::of(Some("o1"), Some("o1"), false),
            DiffClass::Same
        );
        assert_eq!(
            DiffClass::of(Some("o1"), Some("o2"), false),
            DiffClass::ChangedOpening
        );
        assert_eq!(
            DiffClass::of(Some("o1"), None, false),
            DiffClass::NoLongerAssigned
        );
        // The bug of the issue: a worker proposed by the real run is left
        // out of the next run, and is not "lost".
        assert_eq!(
            DiffClass::of(Some("o1"), None, true),
            DiffClass::HoldingPlacement
        );
    }

    #[test]
    fn a_staged_assignment_is_refused_with_the_first_reason() {
        let a = Assignment {
            worker_fingerprint: 7,
            opening_fingerprint: 9,
            ..Default::default()
        };
        let w = WorkerNow {
            fingerprint: 7,
            holds_placement: false,
            seeking: true,
        };
        let o = OpeningNow {
            fingerprint: 9,
            free_slot: true,
        };
        assert_eq!(check_staged(&a, Some(&w), Some(&o), false), Ok(()));
        assert_eq!(
            check_staged(&a, None, Some(&o), false),
            Err(Stale::WorkerGone)
        );
        assert_eq!(
            check_staged(&a, Some(&w), Some(&o), true),
            Err(Stale::DeclinedBefore)
        );
        let busy = WorkerNow {
            holds_placement: true,
            ..w.clone()
        };
        assert_eq!(
            check_staged(&a, Some(&busy), Some(&o), true),
            Err(Stale::WorkerHoldsPlacement)
        );
        let edited = WorkerNow {
            fingerprint: 8,
            ..w.clone()
        };
        assert_eq!(
            check_staged(&a, Some(&edited), Some(&o), false),
            Err(Stale::WorkerChanged)
        );
        let full = OpeningNow {
            free_slot: false,
            ..o.clone()
        };
        assert_eq!(
            check_staged(&a, Some(&w), Some(&full), false),
            Err(Stale::SlotTaken)
        );
        let changed = OpeningNow {
            fingerprint: 1,
            ..o.clone()
        };
        assert_eq!(
            check_staged(&a, Some(&w), Some(&changed), false),
            Err(Stale::OpeningChanged)
        );
        assert_eq!(
            check_staged(&a, Some(&w), None, false),
            Err(Stale::OpeningGone)
        );
        for s in [
            Stale::WorkerGone,
            Stale::SlotTaken,
            Stale::Refused("x".into()),
        ] {
            assert_ne!(
                s.text(crate::domain::Lang::Zh),
                s.text(crate::domain::Lang::En)
            );
        }
    }
}
