//! The door every write of the store goes through: refused while the disk
//! is (nearly) full, held shut while a backup copies the trees.
//!
//! **Full disk.** sled 0.34 has no way back from a failed write: its first
//! I/O error is kept as a global error and every later call returns it
//! until the process restarts. So the store must never let sled run the
//! disk full. A write first checks the free space of the data directory's
//! file system (`statvfs`, at most every [`RECHECK`], and after every
//! flush); below the reserve ([`StoreOptions::min_free_bytes`]) it is
//! refused with [`StoreError::DiskFull`] before anything of it is applied,
//! and it is accepted again as soon as the space is back. The audit log
//! is written down to half the reserve, so that the calls answered while
//! the disk fills are still recorded; below that its entries stay queued
//! in memory until space is freed.
//!
//! **Backups.** Every write enters the gate as a reader for as long as it
//! changes trees; a backup takes it as the writer while it copies them
//! ([`Gate::pause`]), so the copy holds whole transactions only. std's
//! `RwLock` lets no new reader in while a writer waits, so a backup waits
//! only for the writes already inside. A writer never enters twice on one
//! thread (that could wait behind a waiting backup forever): the gate is
//! taken once, at the lowest level that writes.
//!
//! [`StoreOptions::min_free_bytes`]: super::StoreOptions::min_free_bytes

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use super::StoreError;

/// How long a free-space reading is trusted before a write reads it again.
const RECHECK: Duration = Duration::from_millis(100);

/// The free space of the data directory's disk, as last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// Bytes free for this process (`f_bavail`).
    pub free_bytes: u64,
    /// Bytes kept free: writes are refused below this.
    pub reserve_bytes: u64,
    /// Whether writes are accepted (`free_bytes >= reserve_bytes`).
    pub writable: bool,
}

/// See the module doc.
pub(crate) struct Gate {
    pause: RwLock<()>,
    dir: PathBuf,
    reserve: u64,
    free: AtomicU64,
    writable: AtomicBool,
    /// When `free` was read, in ms since `epoch` (-1: never).
    read_at_ms: AtomicI64,
    epoch: Instant,
    /// Whether the warning about a file system without a size was logged.
    unsized_told: AtomicBool,
    /// Stands in for `statvfs` in tests.
    #[cfg(test)]
    fake_free: std::sync::Mutex<Option<u64>>,
}

/// Inside the gate: writes may change trees until it is dropped.
pub(crate) type Entered<'a> = RwLockReadGuard<'a, ()>;

impl Gate {
    /// A gate for the store in `dir` that keeps `reserve` bytes free.
    pub(crate) fn new(dir: &Path, reserve: u64) -> Self {
        let gate = Gate {
            pause: RwLock::new(()),
            dir: dir.to_path_buf(),
            reserve,
            free: AtomicU64::new(u64::MAX),
            writable: AtomicBool::new(true),
            read_at_ms: AtomicI64::new(-1),
            epoch: Instant::now(),
            unsized_told: AtomicBool::new(false),
            #[cfg(test)]
            fake_free: std::sync::Mutex::new(None),
        };
        gate.recheck();
        gate
    }

    /// Enters for a write: refused with [`StoreError::DiskFull`] while the
    /// disk is below the reserve.
    pub(crate) fn enter(&self) -> Result<Entered<'_>, StoreError> {
        self.check(self.reserve)?;
        Ok(self.enter_anyway())
    }

    /// Enters for the audit log, which may go on down to half the reserve.
    pub(crate) fn enter_audit(&self) -> Result<Entered<'_>, StoreError> {
        self.check(self.reserve / 2)?;
        Ok(self.enter_anyway())
    }

    /// Enters whatever the disk holds: for writes that must not be refused
    /// (the upgrade at open), and that write little.
    pub(crate) fn enter_anyway(&self) -> Entered<'_> {
        self.pause.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shuts the gate: no write is inside until the guard is dropped.
    pub(crate) fn pause(&self) -> RwLockWriteGuard<'_, ()> {
        self.pause.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The free space, read again now.
    pub(crate) fn space(&self) -> DiskSpace {
        self.recheck();
        self.last_space()
    }

    fn last_space(&self) -> DiskSpace {
        DiskSpace {
            free_bytes: self.free.load(Ordering::Relaxed),
            reserve_bytes: self.reserve,
            writable: self.writable.load(Ordering::Relaxed),
        }
    }

    fn check(&self, floor: u64) -> Result<(), StoreError> {
        let now = self.epoch.elapsed().as_millis() as i64;
        let at = self.read_at_ms.load(Ordering::Relaxed);
        if at < 0 || now - at >= RECHECK.as_millis() as i64 {
            self.recheck();
        }
        let free = self.free.load(Ordering::Relaxed);
        if free >= floor {
            return Ok(());
        }
        metrics::counter!(crate::telemetry::DISK_FULL_REFUSALS).increment(1);
        Err(StoreError::DiskFull {
            dir: self.dir.clone(),
            free_bytes: free,
            reserve_bytes: self.reserve,
        })
    }

    /// Reads the free space now (after a flush, and when the last reading
    /// is older than [`RECHECK`]). A failed `statvfs` keeps the last
    /// reading: the flush that follows will say what is wrong.
    pub(crate) fn recheck(&self) {
        let now = self.epoch.elapsed().as_millis() as i64;
        self.read_at_ms.store(now, Ordering::Relaxed);
        let Some(free) = self.read_free() else {
            return;
        };
        self.free.store(free, Ordering::Relaxed);
        let writable = free >= self.reserve;
        let was = self.writable.swap(writable, Ordering::Relaxed);
        if was != writable {
            if writable {
                tracing::warn!(dir = %self.dir.display(), free, "disk has room again: writes accepted");
            } else {
                tracing::error!(
                    dir = %self.dir.display(),
                    free,
                    reserve = self.reserve,
                    "disk is full: writes refused until space is freed"
                );
            }
        }
        metrics::gauge!(crate::telemetry::DISK_FREE_BYTES).set(free as f64);
        metrics::gauge!(crate::telemetry::STORE_WRITABLE).set(if writable { 1.0 } else { 0.0 });
    }

    fn read_free(&self) -> Option<u64> {
        #[cfg(test)]
        if let Some(free) = *self.fake_free.lock().unwrap() {
            return Some(free);
        }
        match rustix::fs::statvfs(&self.dir) {
            // A file system that reports no size at all (some FUSE file
            // systems, LazyFS among them) says nothing about its space:
            // the gate cannot watch it, and does not refuse for it.
            Ok(s) if s.f_blocks == 0 => {
                if !self.unsized_told.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        dir = %self.dir.display(),
                        "the data directory's file system reports no size: free space is not watched"
                    );
                }
                None
            }
            Ok(s) => Some(s.f_bavail.saturating_mul(s.f_frsize)),
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot read the disk's free space");
                None
            }
        }
    }

    /// Pretends the disk has `free` bytes (`None`: the real figure).
    #[cfg(test)]
    pub(crate) fn fake_free(&self, free: Option<u64>) {
        *self.fake_free.lock().unwrap() = free;
        self.recheck();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn writes_are_refused_below_the_reserve_and_accepted_again_above_it() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(dir.path(), 1000);
        gate.fake_free(Some(999));
        let refused = gate.enter().unwrap_err();
        assert!(
            matches!(
                refused,
                StoreError::DiskFull {
                    free_bytes: 999,
                    reserve_bytes: 1000,
                    ..
                }
            ),
            "{refused:?}"
        );
        assert!(!gate.space().writable);
        // The audit log may still go on, down to half the reserve.
        drop(gate.enter_audit().unwrap());
        gate.fake_free(Some(499));
        assert!(gate.enter_audit().is_err());
        gate.fake_free(Some(1000));
        drop(gate.enter().unwrap());
        assert!(gate.space().writable);
    }

    #[test]
    fn a_real_disk_reads_as_writable_with_no_reserve() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(dir.path(), 0);
        let space = gate.space();
        assert!(space.writable && space.free_bytes > 0, "{space:?}");
    }

    #[test]
    fn a_pause_waits_for_the_writes_inside_and_keeps_new_ones_out() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Arc::new(Gate::new(dir.path(), 0));
        let inside = gate.enter().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let released = Arc::new(AtomicBool::new(false));
        let pauser = {
            let (gate, released) = (gate.clone(), released.clone());
            std::thread::spawn(move || {
                let _paused = gate.pause();
                tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(50));
                released.store(true, Ordering::SeqCst);
            })
        };
        // The pause cannot start while a write is inside.
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        drop(inside);
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        // A write that comes during the pause waits for its end.
        drop(gate.enter().unwrap());
        assert!(released.load(Ordering::SeqCst), "entered during the pause");
        pauser.join().unwrap();
    }
}
