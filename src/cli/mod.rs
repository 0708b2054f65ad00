//! Command-line work behind the binary's subcommands that is more than a
//! call into the library: the batch and report commands, offline or against
//! a server.

mod batch;
mod channel;
mod report;
pub mod token;

pub use batch::{batch_offline, batch_remote, BatchArgs};
pub use channel::TokenChannel;
pub use report::{render, report_offline, report_remote, ReportArgs};
