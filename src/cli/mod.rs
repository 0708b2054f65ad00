//! The binary's subcommands, one type each with a `run()`: `main.rs` only
//! parses and dispatches. A command that works through a server or on a
//! data directory implements [`TwoWays`], and [`Target::run`](args::Target)
//! is the one place that picks the way; [`exit`] is the one table of exit
//! codes.

pub mod args;
mod backup;
mod batch;
mod channel;
mod check;
mod docs;
pub mod exit;
mod export;
pub mod lang;
pub mod ledger;
mod policy;
mod report;
mod review;
mod runs;
mod target;
pub mod token;
mod whatif;

use std::path::Path;

use anyhow::Context as _;
use rustls::pki_types::{pem::PemObject as _, CertificateDer};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::launch::flags::ServeArgs;

pub use backup::{BackupCommand, RestoreCommand};
pub use batch::BatchCommand;
pub use channel::TokenChannel;
pub use check::{CheckCommand, DemoDataCommand};
pub use docs::{CompletionsCommand, ManCommand};
pub use export::{export, ExportArgs, ExportCommand, ExportKind};
pub use policy::PolicyCommand;
pub use report::{render, ReportArgs, ReportCommand};
pub use target::{operator, Local, Server, TwoWays};
pub use token::TokenCommand;
pub use whatif::WhatIfCommand;

/// The subcommands, as `main.rs` dispatches them. Each one's help is its
/// type's doc comment (a doc comment here would replace it).
#[allow(missing_docs)]
#[derive(clap::Subcommand)]
pub enum Command {
    /// Serve the gRPC API until SIGINT or SIGTERM.
    Serve(ServeArgs),
    Batch(BatchCommand),
    Whatif(WhatIfCommand),
    DemoData(DemoDataCommand),
    Policy(PolicyCommand),
    Report(ReportCommand),
    Token(TokenCommand),
    Import(ledger::ImportCommand),
    Export(ExportCommand),
    Backup(BackupCommand),
    Restore(RestoreCommand),
    Template(ledger::TemplateCommand),
    Check(CheckCommand),
    Completions(CompletionsCommand),
    Man(ManCommand),
}

/// Connects the remote subcommands to a server. Without a scheme `addr`
/// gets `https://` when `tls_ca` is given, else `http://`. `tls_ca` is the
/// PEM certificate of the CA that signed the server's certificate: no
/// system roots are built in, so a TLS server always needs it.
pub async fn connect(addr: &str, tls_ca: Option<&Path>) -> anyhow::Result<Channel> {
    let uri = match (addr.contains("://"), tls_ca) {
        (true, _) => addr.to_owned(),
        (false, Some(_)) => format!("https://{addr}"),
        (false, None) => format!("http://{addr}"),
    };
    let https = uri.starts_with("https://");
    let mut endpoint =
        Endpoint::from_shared(uri.clone()).with_context(|| format!("invalid address {addr}"))?;
    match tls_ca {
        Some(path) => {
            anyhow::ensure!(https, "--tls-ca is for TLS servers, but {uri} is plaintext");
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read TLS CA certificate {}", path.display()))?;
            anyhow::ensure!(
                CertificateDer::pem_slice_iter(&pem).any(|c| c.is_ok()),
                "TLS CA certificate {}: no certificate found",
                path.display()
            );
            let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
            endpoint = endpoint.tls_config(tls).context("cannot set up TLS")?;
        }
        None => anyhow::ensure!(
            !https,
            "{uri} is a TLS address: give --tls-ca with the CA certificate that signed the server's"
        ),
    }
    endpoint
        .connect()
        .await
        .with_context(|| format!("cannot connect to {uri}"))
}

/// The config file of `--config` (match weights, `[policy]` rules), or the
/// built-in defaults; a file that cannot be read or is wrong is a usage
/// error (exit 2), as it is for `serve`.
pub(crate) fn load_config(path: Option<&Path>) -> anyhow::Result<crate::config::FileConfig> {
    match path {
        Some(path) => {
            crate::config::FileConfig::load(path).map_err(|e| anyhow::Error::new(exit::Usage(e)))
        }
        None => Ok(crate::config::FileConfig::default()),
    }
}

/// A runtime for the commands that talk to a server or wait on the service.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Drops `service` and waits until its store is closed (flushed, and the
/// data directory's lock released): the write path's thread lets go of
/// the store a moment after the service is gone.
pub(crate) fn close_service(service: std::sync::Arc<crate::service::Service>) {
    let mut store = service.store().clone();
    drop(service);
    loop {
        match std::sync::Arc::try_unwrap(store) {
            Ok(s) => return drop(s),
            Err(s) => {
                store = s;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
}
