//! The commands that work on a data directory only: `check` (the store's
//! own consistency and the national id key) and `demo-data`.

use anyhow::Context as _;

use super::args::DataDir;
use crate::launch::flags::IdKeyArgs;
use crate::launch::{open_store, write_demo};
use crate::store::{IdUpgradeReport, StoreOptions};

/// Check that every index agrees with the records (reads everything),
/// and that the national id key, if one is found, is the store's.
#[derive(clap::Args, Debug)]
pub struct CheckCommand {
    #[command(flatten)]
    dir: DataDir,
    #[command(flatten)]
    id_key: IdKeyArgs,
}

impl CheckCommand {
    /// The store's own consistency (a household across counties fails
    /// it), then the key against the store's. What an upgrade to scoped
    /// ids split is printed first, as information.
    pub fn run(self) -> anyhow::Result<()> {
        let data_dir = &self.dir.data_dir;
        let store = open_store(data_dir, StoreOptions::default())?;
        if let Some(report) = store.id_upgrade_report()? {
            print_id_upgrade(&report);
        }
        store
            .verify()
            .context("check failed (indexes, placements, declines or households)")?;
        let key = match self.id_key.find(data_dir)? {
            Some(key) if store.check_id_key(&key)? => "the national id key is the store's",
            Some(_) => "no national id key bound yet (the next `serve` binds it)",
            None => "national id key not checked (none given)",
        };
        println!(
            "ok: {} workers, {} openings, {} placements; indexes, slots and statuses agree; \
             every household is in one county; {key}",
            store.worker_count(),
            store.opening_count(),
            store.placement_count()
        );
        Ok(())
    }
}

/// The report of the upgrade to scoped ids, as `info:` lines.
fn print_id_upgrade(report: &IdUpgradeReport) {
    let when = chrono::DateTime::from_timestamp_millis(report.finished_at_ms)
        .map_or_else(|| "?".to_string(), |t| t.to_rfc3339());
    println!(
        "info: upgraded from format {} to scoped ids at {when}: {} workers, {} placements, \
         {} run assignments, {} run changes, {} declines rewritten{}",
        report.from_format,
        report.workers,
        report.placements,
        report.run_assignments,
        report.run_changes,
        report.declines,
        match report.unresolved_changes {
            0 => String::new(),
            n => format!(" ({n} run changes of deleted workers left as they were)"),
        }
    );
    let split = &report.split_households;
    if !split.is_empty() {
        println!(
            "info: the upgrade split {} households that spanned counties into one per \
             county (old id: members per county):",
            split.len()
        );
        for h in split {
            println!("info:   {h}");
        }
    }
}

/// Write the deterministic Huaihua-shaped demo data set into a data directory.
#[derive(clap::Args, Debug)]
pub struct DemoDataCommand {
    #[command(flatten)]
    dir: DataDir,
    /// Size factor: 1.0 is Huaihua (about 50,000 workers), 10 is ten times that.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Random seed; the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    id_key: IdKeyArgs,
}

impl DemoDataCommand {
    /// Writes the demo data set.
    pub fn run(self) -> anyhow::Result<()> {
        let scale = self.scale;
        anyhow::ensure!(
            scale.is_finite() && scale > 0.0 && scale <= 1000.0,
            "--scale must be in (0, 1000]"
        );
        let store = open_store(&self.dir.data_dir, StoreOptions::default())?;
        let key = self.id_key.key(&store)?;
        write_demo(&store, &key, scale, self.seed)?;
        Ok(())
    }
}
