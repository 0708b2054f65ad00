//! jobbridge: a gRPC service that matches workers relocated out of mountain
//! villages with jobs, households where nobody works first.
//!
//! # Layout
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`domain`] | workers, openings, households and their validation rules; the national id hash; no I/O |
//! | [`store`] | sled storage: tables, secondary indexes, group commit |
//! | [`api`] | the gRPC services: generated code, conversions, thin handlers |
//! | [`server`] | assembles services, health, reflection, limits and TLS; `run(listener, ..)` |
//! | [`demo`] | the deterministic Huaihua-shaped demo data set |
//! | [`config`] | run-time settings: one `Config` whose `Default` holds every documented default |
//! | [`launch`] | what `jobbridge serve` starts, in order: checks, store, id key, demo, pool, signals, flush |
//!
//! Dependencies point one way: `launch -> server -> api -> domain, store`;
//! `store -> domain`. [`config`] is read by all and imports no layer above
//! the domain but the plain settings types of `matching` and `batch`.

#![warn(missing_docs)]
// Solvers and index code walk parallel arrays by index; iterator chains
// over several of them read worse than the loops.
#![allow(clippy::needless_range_loop)]

pub mod api;
pub mod batch;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod launch;
pub mod matching;
pub mod report;
pub mod server;
pub mod store;
