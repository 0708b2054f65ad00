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
