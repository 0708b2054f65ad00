//! Run-time settings. Every setting has a flag and an environment variable
//! (see `jobbridge serve --help`); these are the defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default listen address: loopback only, so a fresh install is not
/// reachable from the network by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./jobbridge-data";

/// Settings of `jobbridge serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// sled data directory.
    pub data_dir: PathBuf,
    /// Largest request message, bytes.
    pub max_message_bytes: usize,
    /// Fill an empty data directory with demo data before serving.
    pub demo: bool,
}
