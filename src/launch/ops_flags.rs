//! The operating flags of `serve`: shutdown grace, metrics, log format and
//! the first admin token. Kept apart from `flags.rs` so that each group of
//! settings reads on one screen.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::{LogFormat, DEFAULT_SHUTDOWN_GRACE_SECS};

/// Operating flags of `serve`.
#[derive(clap::Args, Debug)]
pub(super) struct OpsFlags {
    /// Seconds a shutdown (SIGTERM, SIGINT) waits for open calls after
    /// health turns NOT_SERVING; calls still open then get UNAVAILABLE.
    #[arg(long, env = "JOBBRIDGE_SHUTDOWN_GRACE", value_name = "SECONDS",
          default_value_t = DEFAULT_SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace: f64,
    /// Serve Prometheus metrics on this address (GET /metrics); off unless
    /// given. Use a loopback address unless a scraper elsewhere needs it.
    #[arg(long, env = "JOBBRIDGE_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Serve the browser console on this address; by default the gRPC
    /// address with the next port (50051 -> 50052).
    #[arg(long, env = "JOBBRIDGE_CONSOLE_LISTEN", value_name = "ADDR")]
    pub console_listen: Option<SocketAddr>,
    /// Serve no browser console.
    #[arg(long, env = "JOBBRIDGE_NO_CONSOLE", conflicts_with = "console_listen")]
    pub no_console: bool,
    /// Log lines on standard error: text or json (one object per line).
    #[arg(long, env = "JOBBRIDGE_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// If the store has no valid admin token, create one at start and
    /// write it to this file (mode 0600); an existing file is left alone.
    #[arg(long, env = "JOBBRIDGE_ADMIN_TOKEN_FILE", value_name = "PATH")]
    pub admin_token_file: Option<PathBuf>,
}
