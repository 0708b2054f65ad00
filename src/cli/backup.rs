//! `jobbridge backup` and `jobbridge restore`: a backup file of a running
//! server (through `AdminService.Backup`, as an admin) or of a stopped
//! data directory, and a new data directory from one. What a backup holds
//! and how restore checks it is `store::backup`'s.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use super::args::Target;
use super::exit::Remote;
use super::{Local, Server, TwoWays};
use crate::api::pb;
use crate::api::pb::admin_service_client::AdminServiceClient;
use crate::domain::identity::short_fingerprint;
use crate::store::{restore, PartialFile};

/// Write a consistent, compressed and checksummed backup of the whole
/// store to one file, from a running server (--server ADDR --token
/// ADMIN; it goes on serving) or a stopped data directory.
#[derive(clap::Args, Debug)]
pub struct BackupCommand {
    /// Where the data is: a running server (--server ADDR --token ADMIN),
    /// or a data directory no server runs on.
    #[command(flatten)]
    pub target: Target,
    /// The backup file. It is written as FILE.partial, synced and read
    /// back whole, and only then renamed to FILE (replacing any).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

impl BackupCommand {
    /// Writes the backup and prints what it holds.
    pub fn run(self) -> anyhow::Result<()> {
        let started = Instant::now();
        let (entries, trees, file_bytes, pause) = self.target.run(Backup(&self.out))?;
        let paused = match pause {
            Some(p) => format!("writes waited {:.2} s", p.as_secs_f64()),
            None => "the server logs how long writes waited (pause_ms)".into(),
        };
        println!(
            "backup written to {}: {entries} keys in {trees} trees, {}, checked, in {:.1} s \
             ({paused})",
            self.out.display(),
            mib(file_bytes),
            started.elapsed().as_secs_f64()
        );
        println!(
            "The national id key is not in the backup: keep it apart, a restored directory \
             needs the same key."
        );
        Ok(())
    }
}

/// A backup into this file: what it holds (keys, trees, bytes) and how
/// long writes waited, when this process knows.
struct Backup<'a>(&'a Path);

impl TwoWays for Backup<'_> {
    type Output = (u64, u32, u64, Option<std::time::Duration>);

    async fn remote(self, server: Server<'_>) -> anyhow::Result<Self::Output> {
        let info = remote(server, self.0).await?;
        Ok((info.entries, info.trees, info.file_bytes, None))
    }

    fn local(self, data: Local<'_>) -> anyhow::Result<Self::Output> {
        let s = data.store()?.backup_to_file(self.0)?;
        Ok((s.entries, s.trees, s.file_bytes, Some(s.pause)))
    }
}

/// Streams a running server's backup into `out` (through `OUT.partial`).
async fn remote(server: Server<'_>, out: &Path) -> anyhow::Result<crate::store::BackupInfo> {
    let mut stream = AdminServiceClient::new(server.admin_channel().await?)
        .backup(pb::BackupRequest {})
        .await
        .map_err(Remote)?
        .into_inner();
    let mut file = PartialFile::create(out)?;
    while let Some(chunk) = stream.message().await.map_err(Remote)? {
        file.write_all(&chunk.data)
            .with_context(|| format!("cannot write {}", file.partial_path().display()))?;
    }
    // Synced, read back whole and checked before it takes its name: a
    // stream cut short is refused here, not at the restore.
    Ok(tokio::task::spawn_blocking(move || file.commit()).await??)
}

/// Restore a backup file into a new (or empty) data directory, and
/// check the result as `check` does; a cut or damaged file is refused.
#[derive(clap::Args, Debug)]
pub struct RestoreCommand {
    /// The backup file.
    pub file: PathBuf,
    /// The new data directory: one that does not exist yet, or is empty
    /// (restore never writes into a directory that holds anything).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

impl RestoreCommand {
    /// Restores, checks, and prints what was restored and which national
    /// id key the directory needs.
    pub fn run(self) -> anyhow::Result<()> {
        let s = restore(&self.file, &self.data_dir)
            .with_context(|| format!("nothing restored into {}", self.data_dir.display()))?;
        let taken = chrono::DateTime::from_timestamp_millis(s.created_at_ms)
            .map_or_else(String::new, |t| {
                t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            });
        println!(
            "restored {} ({}, taken {taken}) into {} in {:.1} s: {} keys in {} trees",
            self.file.display(),
            mib(s.file_bytes),
            self.data_dir.display(),
            s.elapsed.as_secs_f64(),
            s.entries,
            s.trees
        );
        println!(
            "check passed: {} workers, {} openings, {} placements; indexes, slots and statuses agree",
            s.workers, s.openings, s.placements
        );
        match &s.id_key_fingerprint {
            Some(fingerprint) => println!(
                "The national id key is not in a backup: serve {} with the key of fingerprint \
                 {}... (--id-key-file, JOBBRIDGE_ID_KEY, or the key file copied to {}/id.key).",
                self.data_dir.display(),
                short_fingerprint(fingerprint),
                self.data_dir.display()
            ),
            None => println!("No national id key is bound yet: the first `serve` binds one."),
        }
        Ok(())
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
