//! Command-line work behind the binary's subcommands that is more than a
//! call into the library: the batch and report commands, offline or against
//! a server.

pub mod args;
mod backup;
mod batch;
mod channel;
pub mod exit;
mod export;
pub mod lang;
pub mod ledger;
mod policy;
mod report;
mod review;
mod runs;
pub mod token;
mod whatif;

use std::path::Path;

use anyhow::Context as _;
use rustls::pki_types::{pem::PemObject as _, CertificateDer};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

pub use backup::{BackupCommand, RestoreCommand};
pub use batch::{batch_offline, batch_remote, BatchArgs};
pub use channel::TokenChannel;
pub use export::{export, ExportArgs, ExportCommand, ExportKind};
pub use policy::{policy_offline, policy_remote, PolicyArgs};
pub use report::{render, report_offline, report_remote, ReportArgs};
pub use review::{review_offline, review_remote, ReviewArgs};
pub use runs::{list_offline as list_runs_offline, list_remote as list_runs_remote};
pub use whatif::WhatIfCommand;

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

/// The service on a data directory, opened as `serve` and `batch` open it
/// (the national id key found the same way), for the offline commands.
pub(crate) fn open_service(
    data_dir: &Path,
) -> anyhow::Result<std::sync::Arc<crate::service::Service>> {
    let store = std::sync::Arc::new(
        crate::store::Store::open(data_dir)
            .with_context(|| format!("cannot open {}", data_dir.display()))?,
    );
    let env = std::env::var(crate::config::ID_KEY_ENV).ok();
    let (id_key, _) =
        crate::store::id_key(None, env.as_deref(), &store).map_err(anyhow::Error::msg)?;
    Ok(crate::service::Service::open(
        store,
        id_key,
        crate::matching::MatchConfig::default()
            .normalised()
            .map_err(anyhow::Error::msg)?,
        crate::batch::BatchSettings::default(),
    )?)
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
