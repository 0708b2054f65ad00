//! The one place where a command parts between a running server and a
//! data directory. A command that works both ways implements [`TwoWays`]:
//! what it asks a [`Server`] and what it does on a [`Local`] directory;
//! [`Target::run`] picks the way from the flags, and nothing else in the
//! CLI looks at `--server`.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use super::args::Target;
use super::TokenChannel;
use crate::batch::BatchSettings;
use crate::config::FileConfig;
use crate::domain::access::{Caller, Role, Scope};
use crate::service::Service;
use crate::store::Store;

/// A command that runs through a server or on a data directory.
pub trait TwoWays: Sized {
    /// What the command answers, either way.
    type Output;

    /// Through a running server.
    fn remote(self, server: Server<'_>) -> impl Future<Output = anyhow::Result<Self::Output>>;

    /// On a data directory no server runs on.
    fn local(self, data: Local<'_>) -> anyhow::Result<Self::Output>;
}

impl Target {
    /// Runs `command` through `--server` if one is given, else on
    /// `--data-dir`.
    pub fn run<C: TwoWays>(&self, command: C) -> anyhow::Result<C::Output> {
        match &self.server {
            Some(addr) => super::runtime()?.block_on(command.remote(Server {
                addr,
                tls_ca: self.tls_ca.as_deref(),
                token: self.token.as_deref(),
            })),
            None => command.local(Local {
                dir: &self.data_dir,
            }),
        }
    }

    /// Whether there are stored records to compare with: a server, or a
    /// data directory that exists.
    pub fn has_data(&self) -> bool {
        self.server.is_some() || self.data_dir.exists()
    }
}

/// A running server, as `--server`, `--tls-ca` and `--token` name it.
#[derive(Clone, Copy, Debug)]
pub struct Server<'a> {
    addr: &'a str,
    tls_ca: Option<&'a Path>,
    token: Option<&'a str>,
}

impl Server<'_> {
    /// A channel to the server that sends the token (if any) with every
    /// call.
    pub async fn channel(&self) -> anyhow::Result<TokenChannel> {
        TokenChannel::new(super::connect(self.addr, self.tls_ca).await?, self.token)
    }

    /// As [`Server::channel`], for the admin's calls: refused before
    /// connecting when no token is given.
    pub async fn admin_channel(&self) -> anyhow::Result<TokenChannel> {
        self.token
            .context("--server needs --token (an admin token) or JOBBRIDGE_TOKEN")?;
        self.channel().await
    }
}

/// A data directory, opened the way `serve` opens it.
#[derive(Clone, Copy, Debug)]
pub struct Local<'a> {
    dir: &'a Path,
}

impl Local<'_> {
    /// The directory.
    pub fn dir(&self) -> &Path {
        self.dir
    }

    /// The store; a directory a running server holds says so
    /// ([`crate::store::StoreError::InUse`], exit 69).
    pub fn store(&self) -> anyhow::Result<Store> {
        Store::open(self.dir)
            .with_context(|| format!("cannot open data directory {}", self.dir.display()))
    }

    /// The service a server would run on the directory (the same write
    /// path, the same match index), under `config`'s match weights and
    /// `[policy]` rules, with the store's national id key found as `serve`
    /// finds it (`JOBBRIDGE_ID_KEY`, else the directory's key file).
    pub fn service(
        &self,
        config: FileConfig,
        settings: BatchSettings,
    ) -> anyhow::Result<Arc<Service>> {
        config.policy.check().map_err(anyhow::Error::msg)?;
        let matching = config.matching.normalised().map_err(anyhow::Error::msg)?;
        let store = Arc::new(self.store()?);
        let env = std::env::var(crate::config::ID_KEY_ENV).ok();
        let (id_key, _) =
            crate::store::id_key(None, env.as_deref(), &store).map_err(anyhow::Error::msg)?;
        Ok(Service::open_with_policy(
            store,
            id_key,
            matching,
            settings,
            config.policy,
            None,
        )?)
    }
}

/// Who works on a data directory: its operator, with an admin's rights
/// (who can read the directory can read everything in it).
pub fn operator() -> Caller {
    Caller {
        token_id: "cli".into(),
        role: Role::Admin,
        scope: Scope::default(),
    }
}
