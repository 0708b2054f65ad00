//! Command-line work behind the binary's subcommands that is more than a
//! call into the library: the batch command, offline or against a server.

mod batch;

pub use batch::{batch_offline, batch_remote, BatchArgs};
