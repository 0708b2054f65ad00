//! The names of the metrics every layer records, in one place so that the
//! Prometheus endpoint (`server::metrics`), docs/operating.md's table and the layers
//! agree. Layers record through the `metrics` facade; with no recorder
//! installed (`--metrics-listen` not given) a record costs an atomic load
//! and nothing else.
//!
//! This module sits at the bottom with [`crate::config`]: it imports
//! nothing.

/// Counter: calls answered, by `service`, `method` and gRPC `code`.
pub const REQUESTS: &str = "jobbridge_grpc_requests_total";
/// Histogram: seconds from a call's arrival to its last byte, by
/// `service` and `method`.
pub const REQUEST_SECONDS: &str = "jobbridge_grpc_request_duration_seconds";
/// Counter: calls refused by the per-token rate limit.
pub const RATE_LIMITED: &str = "jobbridge_rate_limited_total";
/// Histogram: writes made durable by one group-commit flush.
pub const COMMIT_BATCH: &str = "jobbridge_commit_batch_size";
/// Histogram: seconds one group-commit flush took.
pub const COMMIT_SECONDS: &str = "jobbridge_commit_flush_duration_seconds";
/// Gauge: records in the match index, by `kind` (`worker`, `opening`).
pub const INDEX_RECORDS: &str = "jobbridge_index_records";
/// Gauge: bytes the store takes on disk.
pub const STORE_BYTES: &str = "jobbridge_store_size_bytes";
/// Histogram: seconds a batch run spent in each `phase`.
pub const RUN_PHASE_SECONDS: &str = "jobbridge_batch_phase_duration_seconds";
/// Counter: batch runs ended, by `outcome` (`succeeded`, `failed`,
/// `cancelled`).
pub const RUNS: &str = "jobbridge_batch_runs_total";
/// Counter: `fdatasync` calls on the store's data file (each makes one
/// group-commit flush durable against a power cut).
pub const STORE_FSYNCS: &str = "jobbridge_store_fsyncs_total";
/// Gauge: free bytes on the disk of the data directory, as last checked.
pub const DISK_FREE_BYTES: &str = "jobbridge_disk_free_bytes";
/// Gauge: 1 while writes are accepted, 0 while they are refused because
/// the disk of the data directory is (nearly) full.
pub const STORE_WRITABLE: &str = "jobbridge_store_writable";
/// Counter: what-ifs given up because their caller went away (cancelled,
/// past its deadline, or disconnected) before the answer.
pub const WHAT_IFS_ABANDONED: &str = "jobbridge_what_ifs_abandoned_total";
/// Counter: writes refused because the disk was (nearly) full.
pub const DISK_FULL_REFUSALS: &str = "jobbridge_disk_full_refusals_total";
/// Gauge: Unix time of the last backup that was written whole.
pub const BACKUP_LAST_SUCCESS: &str = "jobbridge_backup_last_success_timestamp_seconds";
/// Gauge: seconds since the last backup that was written whole (absent
/// until one has been).
pub const BACKUP_AGE_SECONDS: &str = "jobbridge_backup_age_seconds";
