//! How a [`super::Store`] is opened.

/// sled's page cache, MiB. sled counts what it caches at far less than
/// the memory it takes: under the 32-client soak on the demo data the
/// resident set rose linearly for 10 minutes with 256 MiB (347 to 798 MiB,
/// still climbing) and stayed at about 330 MiB with 32 MiB, with no loss of
/// throughput (`cargo bench --bench soak`, docs/benchmarks.md, "Memory"). The match
/// index is not in it.
pub const DEFAULT_CACHE_MB: u64 = 32;

/// Free space kept on the data directory's disk, MiB. A batch run at
/// scale 80 writes about 1 GiB in chunks that each check the space, and a
/// chunk is a few MiB; 256 MiB leaves room for the writes already admitted
/// and for the audit log, which goes on down to half of it.
pub const DEFAULT_MIN_FREE_MB: u64 = 256;

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// sled's page cache, in bytes. sled's own default (1 GiB) let the
    /// resident set grow with no plateau in sight, so jobbridge picks a
    /// smaller one; see [`DEFAULT_CACHE_MB`].
    pub cache_bytes: u64,
    /// Bytes kept free on the data directory's disk: writes are refused
    /// below it (see `store::gate`), so that sled never meets a full disk.
    pub min_free_bytes: u64,
}

impl StoreOptions {
    /// A cache of `mb` MiB.
    pub fn with_cache_mb(mb: u64) -> Self {
        Self {
            cache_bytes: mb.saturating_mul(1024 * 1024),
            min_free_bytes: DEFAULT_MIN_FREE_MB * 1024 * 1024,
        }
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self::with_cache_mb(DEFAULT_CACHE_MB)
    }
}
