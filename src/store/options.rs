//! How a [`super::Store`] is opened.

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// sled's page cache, in bytes. sled's own default (1 GiB) let the
    /// resident set grow with no plateau in sight, so jobbridge picks a
    /// smaller one; see [`crate::config::DEFAULT_CACHE_MB`].
    pub cache_bytes: u64,
}

impl StoreOptions {
    /// A cache of `mb` MiB.
    pub fn with_cache_mb(mb: u64) -> Self {
        Self {
            cache_bytes: mb.saturating_mul(1024 * 1024),
        }
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self::with_cache_mb(crate::config::DEFAULT_CACHE_MB)
    }
}
