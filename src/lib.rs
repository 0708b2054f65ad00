//! jobbridge: a gRPC service that matches workers relocated out of mountain
//! villages with jobs, households where nobody works first.
//!
//! # Layout
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`api`] | the gRPC face: generated code (`pb`), conversions (`convert/`), one thin handler file per service, the gRPC middleware in one tower layer shape (`api::layer`: the access rules through the service, the request language) and the one mapping of errors to `Status` |
//! | [`console`] | the browser face: sign-in sessions, CSRF, and pages for case officers, county heads and recruiters, each action admitted and audited through the service as the RPC it equals |
//! | [`service`] | the application layer: owns the store, the match index, the write path that keeps them in step, the batch, the access rules of every face (`service::access`: tokens, permission table, rate limit, audit log) and every scope check; the handlers, the CLI, the nightly schedule and the tests call it |
//! | [`matching`] | eligibility, scores, ranking on rayon over an index shared as immutable snapshots, batch input and the assignment solvers |
//! | [`batch`] | runs: phases, progress, cancel, persistence, summary, audit export, the schedule's clock |
//! | [`store`] | sled: tables (records on disk; the workers' and openings' indexes in memory, the placements' on disk), group commit, runs, placements (applies the domain's rules in one transaction), tokens, the audit log, and backups and restores (`store::backup`) |
//! | [`report`] | the coverage report and the policy lists (`report::policy`), computed from the store; the rule of each figure (`report::figures`), shared with the dashboard (`service::dashboard`) |
//! | [`domain`] | workers, openings, households, placements and their rules (transitions, declines, validation, the national id hash, the `[policy]` rules); no I/O |
//! | [`server`] | assembles services, health, reflection, limits and TLS; the drain at shutdown, the request log and the metrics endpoint; `run(listener, ready, shutdown)` serves a service built once (`server::Ready`) |
//! | [`cli`] | every subcommand but `serve`, one type each with a `run()`; one `Target` (a server or a data directory) carries out each command both ways; one table maps errors to exit codes |
//! | [`ledger`] | ledgers (台账) as files: CSV (UTF-8 or GB18030) and xlsx read and written, and the column tables that map Chinese or English headers to the API's records; typed xlsx cells (numbers, money, dates) and the template's valid values and drop-down lists |
//! | [`demo`] | the deterministic Huaihua-shaped demo data set |
//! | [`config`] | run-time settings: one `Config` whose `Default` holds every documented default |
//! | [`telemetry`] | the names of the Prometheus metrics every layer records (the endpoint is `server::metrics`) |
//! | [`launch`] | what `jobbridge serve` starts, in order: checks, TLS identity, store, id key, demo, pool, the service, signals, flush |
//!
//! Dependencies point one way:
//!
//! ```text
//! main -> launch -> server -> api, console -> service -> store, matching, batch, report -> domain
//! ```
//!
//! (`batch` uses `matching` and `store`; `report` reads the `store`.)
//! [`config`] is read by all and imports no layer above the domain but the
//! plain settings types of `matching` and `batch`.

#![warn(missing_docs)]
// Solvers and index code walk parallel arrays by index; iterator chains
// over several of them read worse than the loops.
#![allow(clippy::needless_range_loop)]

pub mod api;
pub mod batch;
pub mod cli;
pub mod config;
pub mod console;
pub mod demo;
pub mod domain;
pub mod launch;
pub mod ledger;
pub mod matching;
pub mod report;
pub mod server;
pub mod service;
pub mod store;
pub mod telemetry;
#[cfg(test)]
mod testing;
