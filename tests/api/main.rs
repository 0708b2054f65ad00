//! The API, CLI and operating tests against the real server on 127.0.0.1,
//! in one test binary (one link instead of one per file). The crash,
//! restart, liveness and batch tests stay binaries of their own: they kill
//! processes or load the machine, and run alone.

#[path = "../common/mod.rs"]
mod common;

mod console_api;
mod health_reflection;
mod ledger;
mod matching_api;
mod national_id;
mod openings_api;
mod operating;
mod permissions_api;
mod pii_scan;
mod placements_api;
mod readme;
mod report_api;
mod review_api;
mod scoped_ids;
mod tls;
mod token_cli;
mod update_api;
mod whatif_api;
mod workers_api;
