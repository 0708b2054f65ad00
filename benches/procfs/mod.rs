//! Process figures from `/proc`, for benches that report memory and CPU
//! time besides wall time.

#![allow(dead_code)]

/// Resident set size from `/proc/self/statm`, in bytes.
pub fn rss_bytes() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * page_size() as f64
}

/// The page size, from the auxiliary vector (`AT_PAGESZ`).
fn page_size() -> u64 {
    const AT_PAGESZ: u64 = 6;
    let auxv = std::fs::read("/proc/self/auxv").expect("auxv");
    auxv.chunks_exact(16)
        .map(|kv| {
            let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().expect("8 bytes"));
            (word(&kv[..8]), word(&kv[8..]))
        })
        .find(|(k, _)| *k == AT_PAGESZ)
        .map_or(4096, |(_, v)| v)
}

/// CPU time of every thread of this process so far, in ns (the first field
/// of each `/proc/self/task/*/schedstat`: time on a CPU).
pub fn cpu_ns() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .expect("task dir")
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Runnable tasks on the machine right now (`/proc/loadavg`, 4th field).
pub fn runnable() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        .unwrap_or_default()
}
