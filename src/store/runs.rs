//! Batch runs: the run records, their assignments and their changes against
//! the previous run. Keys start with the run id (big-endian), so a run's
//! rows are one contiguous range and runs list newest first by reverse scan.

use prost::Message;

use super::records::decode;
use super::{Store, StoreError};
use crate::domain::run::{Assignment, Change, OpeningPrice, Run, RunPhase, RunStatus};

/// Rows written per sled batch when saving a run's results.
const ROWS_PER_BATCH: usize = 4096;

fn run_key(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

fn row_key(id: u64, worker_id: &str) -> Vec<u8> {
    let mut k = id.to_be_bytes().to_vec();
    k.extend_from_slice(worker_id.as_bytes());
    k
}

impl Store {
    /// A new run id: 1, 2, 3, ... (the counter is stored, so ids are
    /// never reused, even after runs are pruned).
    pub fn next_run_id(&self) -> Result<u64, StoreError> {
        let _entered = self.disk.gate().enter()?;
        let meta = self.db.open_tree(super::META_TREE)?;
        let next = meta.update_and_fetch(b"next_run_id", |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        let bytes = next.ok_or_else(|| StoreError::corruption("run counter missing"))?;
        let bytes: [u8; 8] = bytes
            .as_ref()
            .try_into()
            .map_err(|_| StoreError::corruption("run counter is not 8 bytes"))?;
        Ok(u64::from_be_bytes(bytes))
    }

    /// Writes a run record.
    pub fn put_run(&self, run: &Run) -> Result<(), StoreError> {
        let _entered = self.disk.gate().enter()?;
        self.runs.insert(run_key(run.id), run.encode_to_vec())?;
        Ok(())
    }

    /// Reads a run record.
    pub fn run(&self, id: u64) -> Result<Option<Run>, StoreError> {
        self.runs
            .get(run_key(id))?
            .map(|v| decode(&v, "run"))
            .transpose()
    }

    /// Runs with ids below `before` (all if 0), newest first.
    pub fn list_runs(&self, before: u64, limit: usize) -> Result<Vec<Run>, StoreError> {
        let end = if before == 0 { u64::MAX } else { before };
        self.runs
            .range(..run_key(end))
            .rev()
            .take(limit)
            .map(|r| decode(&r?.1, "run"))
            .collect()
    }

    /// The newest succeeded run with an id below `before`.
    pub fn last_succeeded_run(&self, before: u64) -> Result<Option<Run>, StoreError> {
        for r in self.runs.range(..run_key(before)).rev() {
            let run: Run = decode(&r?.1, "run")?;
            if run.status() == RunStatus::Succeeded {
                return Ok(Some(run));
            }
        }
        Ok(None)
    }

    /// The newest run with an id below `before` whose assignments were
    /// proposed (at once, or applied in whole or in part).
    pub fn last_applied_run(&self, before: u64) -> Result<Option<Run>, StoreError> {
        for r in self.runs.range(..run_key(before)).rev() {
            let run: Run = decode(&r?.1, "run")?;
            if run.applied() {
                return Ok(Some(run));
            }
        }
        Ok(None)
    }

    /// Stores a run's assignments (in batches; call before marking the run
    /// succeeded, so a crash leaves no half-applied run).
    pub fn put_assignments(&self, id: u64, rows: &[Assignment]) -> Result<(), StoreError> {
        self.put_rows(&self.run_assignments, id, rows, |a| &a.worker_id)
    }

    /// Stores a run's changes against the previous run.
    pub fn put_changes(&self, id: u64, rows: &[Change]) -> Result<(), StoreError> {
        self.put_rows(&self.run_changes, id, rows, |c| &c.worker_id)
    }

    /// Stores a run's opening prices (contested openings only).
    pub fn put_prices(&self, id: u64, rows: &[OpeningPrice]) -> Result<(), StoreError> {
        self.put_rows(&self.run_prices, id, rows, |p| &p.opening_id)
    }

    /// A run's opening prices in opening id order.
    pub fn prices(&self, id: u64) -> impl Iterator<Item = Result<OpeningPrice, StoreError>> + '_ {
        self.run_prices
            .scan_prefix(run_key(id))
            .map(|r| decode(&r?.1, "opening price"))
    }

    /// A run's assignments in worker id order.
    pub fn assignments(
        &self,
        id: u64,
    ) -> impl Iterator<Item = Result<Assignment, StoreError>> + '_ {
        self.run_assignments
            .scan_prefix(run_key(id))
            .map(|r| decode(&r?.1, "assignment"))
    }

    /// One worker's assignment in a run, if any.
    pub fn assignment(&self, id: u64, worker_id: &str) -> Result<Option<Assignment>, StoreError> {
        self.run_assignments
            .get(row_key(id, worker_id))?
            .map(|v| decode(&v, "assignment"))
            .transpose()
    }

    /// A run's changes in worker id order.
    pub fn changes(&self, id: u64) -> impl Iterator<Item = Result<Change, StoreError>> + '_ {
        self.run_changes
            .scan_prefix(run_key(id))
            .map(|r| decode(&r?.1, "change"))
    }

    /// Stores rows of run `id` in `tree`, each under its `key`, in batches.
    fn put_rows<M: Message>(
        &self,
        tree: &sled::Tree,
        id: u64,
        rows: &[M],
        key: impl Fn(&M) -> &str,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_BATCH) {
            let mut batch = sled::Batch::default();
            for row in chunk {
                batch.insert(row_key(id, key(row)), row.encode_to_vec());
            }
            let _entered = self.disk.gate().enter()?;
            tree.apply_batch(batch)?;
        }
        Ok(())
    }

    /// Runs left RUNNING while creating their proposals, oldest first.
    pub fn runs_proposing(&self) -> Result<Vec<Run>, StoreError> {
        let mut found = Vec::new();
        for r in self.runs.iter() {
            let run: Run = decode(&r?.1, "run")?;
            if run.status() == RunStatus::Running && run.proposing {
                found.push(run);
            }
        }
        Ok(found)
    }

    /// Removes a run's result rows (not the record).
    pub fn delete_run_rows(&self, id: u64) -> Result<(), StoreError> {
        for tree in [&self.run_assignments, &self.run_changes, &self.run_prices] {
            let keys: Vec<sled::IVec> = tree
                .scan_prefix(run_key(id))
                .keys()
                .collect::<Result<_, _>>()?;
            for chunk in keys.chunks(ROWS_PER_BATCH) {
                let mut batch = sled::Batch::default();
                for k in chunk {
                    batch.remove(k);
                }
                // Removing frees space: allowed on a full disk.
                let _entered = self.disk.gate().enter_anyway();
                tree.apply_batch(batch)?;
            }
        }
        Ok(())
    }

    /// Removes a run entirely.
    pub fn delete_run(&self, id: u64) -> Result<(), StoreError> {
        self.delete_run_rows(id)?;
        let _entered = self.disk.gate().enter_anyway();
        self.runs.remove(run_key(id))?;
        Ok(())
    }

    /// Marks runs left RUNNING by a stopped server as FAILED and removes
    /// their partial rows, except runs that were creating their proposals
    /// (those are finished by the caller). Returns the failed ids.
    pub fn fail_interrupted_runs(&self, now_ms: i64) -> Result<Vec<u64>, StoreError> {
        let mut failed = Vec::new();
        for r in self.runs.iter() {
            let mut run: Run = decode(&r?.1, "run")?;
            if run.status() == RunStatus::Running && !run.proposing {
                self.delete_run_rows(run.id)?;
                run.set_status(RunStatus::Failed);
                run.set_phase(RunPhase::Done);
                run.error =
                    "interrupted: the server stopped during the run; nothing of it was applied"
                        .into();
                run.finished_at_ms = now_ms;
                self.put_run(&run)?;
                failed.push(run.id);
            }
        }
        Ok(failed)
    }
}
