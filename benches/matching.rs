//! Benches of the match engine at production scale.
//!
//! ```text
//! cargo bench --bench matching                       # all, 2.5 min idle
//! cargo bench --bench matching -- rank/1M_workers    # one group
//! ```
//!
//! - `rank/100k_openings/top20`: worker -> 20 best of 101,016 openings,
//!   rotating over seeking workers in population order (about two thirds
//!   near-home, one third willing to migrate); `/near_home` and `/migrant`
//!   split the two, since a migrant's query scans every opening.
//! - `rank/1M_workers/top50`: opening -> 50 best of 1,000,000 workers,
//!   rotating over open openings, on the global rayon pool; `/threads1` and
//!   `/threads2` on pools of that size, for the parallel speed-up.
//! - `index/build/1M_workers`: not criterion but a measurement printed to
//!   stderr: open a sled store of 1M workers and 101k openings, read it all,
//!   build the index, as the server does at start-up, with the index's
//!   `heap_bytes()` and the RSS growth per worker. Each run is a fresh
//!   process, so that sled starts cold and RSS is not muddied by earlier
//!   benches.
//!
//! All data is generated once, outside the timed closures. On an idle
//! 2-core machine the whole run takes about 2.5 minutes, half of it writing
//! the sled store for `index/build`.

mod fixtures;
mod procfs;

use std::cell::OnceCell;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, SamplingMode};
use fixtures::QueryIds;
use jobbridge::demo::DemoData;
use jobbridge::domain::{Opening, Worker};
use jobbridge::matching::{MatchConfig, MatchContext, MatchIndex, OpeningsQuery, WorkersQuery};
use jobbridge::store::Store;

/// The server binary's allocator (see src/main.rs), so that time and
/// memory figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const YEAR: i32 = 2026;
/// Set in the child process of `index/build`: the store to build from.
const BUILD_CHILD_ENV: &str = "JOBBRIDGE_BENCH_BUILD_DIR";
/// Fresh-process runs of `index/build`.
const BUILD_RUNS: usize = 3;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(YEAR, 3, 2).expect("valid date")
}

fn context() -> MatchContext {
    MatchContext::on(today())
}

/// The engine fixture: the index over the whole data set and the ids to
/// query it with.
struct Engine {
    data: DemoData,
    index: MatchIndex,
    ids: QueryIds,
}

impl Engine {
    fn new(smoke: bool) -> Engine {
        let data = fixtures::dataset(YEAR, today(), smoke);
        let ids = QueryIds::pick(&data, 1024, 1024);
        let started = Instant::now();
        let mut index = MatchIndex::new(MatchConfig::default().normalised().expect("valid"));
        for w in &data.workers {
            index.upsert_worker(w);
        }
        for o in &data.openings {
            index.upsert_opening(o, 0);
        }
        eprintln!(
            "index: {} workers, {} openings, built in memory in {:.1} s; query ids: {} near-home, {} migrants, {} seeking, {} openings",
            index.worker_count(),
            index.opening_count(),
            started.elapsed().as_secs_f64(),
            ids.near_home.len(),
            ids.migrants.len(),
            ids.seeking.len(),
            ids.openings.len(),
        );
        Engine { data, index, ids }
    }
}

/// Ranks for each id in turn, one per iteration.
fn rotate<'a, T>(
    ids: &'a [String],
    mut f: impl FnMut(&'a str) -> T + 'a,
) -> impl FnMut() -> T + 'a {
    let mut i = 0;
    move || {
        let id = &ids[i % ids.len()];
        i += 1;
        f(id)
    }
}

/// Which of the query ids a bench rotates through.
type PickIds = fn(&QueryIds) -> &[String];

fn rank_openings(c: &mut Criterion, engine: &OnceCell<Engine>, smoke: bool) {
    let ctx = context();
    let query = OpeningsQuery {
        top_k: 20,
        ..Default::default()
    };
    let mut group = c.benchmark_group("rank");
    group
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(4));
    let cases: [(&str, PickIds); 3] = [
        ("100k_openings/top20", |ids| &ids.seeking),
        ("100k_openings/top20/near_home", |ids| &ids.near_home),
        ("100k_openings/top20/migrant", |ids| &ids.migrants),
    ];
    for (name, ids) in cases {
        group.bench_function(name, |b| {
            let e = engine.get_or_init(|| Engine::new(smoke));
            let mut next = rotate(ids(&e.ids), |id| {
                e.index
                    .rank_openings(id, &query, &ctx)
                    .expect("known worker")
            });
            b.iter(|| black_box(next()));
        });
    }
    group.finish();
}

fn rank_workers(c: &mut Criterion, engine: &OnceCell<Engine>, smoke: bool, cpu_check: bool) {
    let ctx = context();
    let query = WorkersQuery {
        top_k: 50,
        ..Default::default()
    };
    let pools: Vec<(String, Option<rayon::ThreadPool>)> = [None, Some(1), Some(2)]
        .into_iter()
        .map(|threads| match threads {
            None => ("1M_workers/top50".to_string(), None),
            Some(n) => (
                format!("1M_workers/top50/threads{n}"),
                Some(
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(n)
                        .build()
                        .expect("thread pool"),
                ),
            ),
        })
        .collect();
    let mut group = c.benchmark_group("rank");
    // Tens of ms per query: flat sampling keeps the run short.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    for (name, pool) in &pools {
        group.bench_function(name.as_str(), |b| {
            let e = engine.get_or_init(|| Engine::new(smoke));
            let mut next = rotate(&e.ids.openings, |id| {
                let rank = || {
                    e.index
                        .rank_workers(id, &query, &ctx)
                        .expect("known opening")
                };
                match pool {
                    Some(pool) => pool.install(rank),
                    None => rank(),
                }
            });
            b.iter(|| black_box(next()));
        });
    }
    group.finish();
    if let (Some(e), true) = (engine.get(), cpu_check) {
        for (name, pool) in &pools {
            if let Some(pool) = pool {
                cpu_per_query(name, pool, e, &query, &ctx);
            }
        }
    }
}

/// Wall and CPU time (summed over the process's threads) per query on
/// `pool`. On a shared machine, where other jobs take cores away, the wall
/// time understates the speed-up; the CPU time does not depend on them, and
/// with cores free the wall time of `n` threads approaches CPU / `n`.
fn cpu_per_query(
    name: &str,
    pool: &rayon::ThreadPool,
    e: &Engine,
    query: &WorkersQuery,
    ctx: &MatchContext,
) {
    const QUERIES: usize = 60;
    let ids = e.ids.openings.iter().cycle().take(QUERIES);
    let (cpu0, wall0) = (procfs::cpu_ns(), Instant::now());
    for id in ids {
        black_box(pool.install(|| e.index.rank_workers(id, query, ctx)));
    }
    let wall = wall0.elapsed().as_secs_f64() * 1e3 / QUERIES as f64;
    let cpu = (procfs::cpu_ns() - cpu0) as f64 / 1e6 / QUERIES as f64;
    eprintln!(
        "rank/{name}: {QUERIES} queries, wall {wall:.1} ms/query, CPU {cpu:.1} ms/query over {} thread(s); runnable tasks now: {}",
        pool.current_num_threads(),
        procfs::runnable()
    );
}

fn main() {
    if let Ok(dir) = std::env::var(BUILD_CHILD_ENV) {
        build_child(Path::new(&dir));
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // As criterion decides: without --bench (cargo test --benches) or with
    // --test, run every bench once on small data.
    let smoke = !has("--bench") || has("--test");
    let mut c = Criterion::default().configure_from_args();
    let engine = OnceCell::new();
    rank_openings(&mut c, &engine, smoke);
    let cpu_check = !smoke && wanted("rank/1M_workers/top50/threads", &args);
    rank_workers(&mut c, &engine, smoke, cpu_check);
    if wanted("index/build/1M_workers", &args) && !has("--list") {
        let data = match engine.into_inner() {
            Some(e) => e.data,
            None => fixtures::dataset(YEAR, today(), smoke),
        };
        index_build(&data);
    }
    c.final_summary();
}

/// Whether criterion's filter (the first positional argument, a regex)
/// selects `id`; a filter with regex syntax is taken to select it.
fn wanted(id: &str, args: &[String]) -> bool {
    const WITH_VALUE: &[&str] = &[
        "-c",
        "--color",
        "-s",
        "--save-baseline",
        "-b",
        "--baseline",
        "--baseline-lenient",
        "--format",
        "--profile-time",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--plotting-backend",
        "--output-format",
    ];
    let mut rest = args.iter().skip(1);
    while let Some(a) = rest.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            rest.next();
        } else if !a.starts_with('-') {
            let regex = a.contains(|c| "\\^$.*+?()[]{}|".contains(c));
            return regex || id.contains(a.as_str());
        }
    }
    true
}

/// `index/build/1M_workers`: loads `data` into a temporary store, then
/// builds the index from it in fresh processes and prints the figures.
fn index_build(data: &DemoData) {
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    {
        let store = Store::open(dir.path()).expect("open store");
        let key = jobbridge::store::id_key(None, None, &store)
            .expect("id key")
            .0;
        jobbridge::demo::load(&store, &key, data, YEAR).expect("load");
    }
    eprintln!(
        "index/build/1M_workers: store of {} workers, {} openings written in {:.1} s ({} MB on disk)",
        data.workers.len(),
        data.openings.len(),
        started.elapsed().as_secs_f64(),
        dir_bytes(dir.path()) / 1_000_000
    );
    let exe = std::env::current_exe().expect("own path");
    let mut totals = Vec::new();
    for run in 1..=BUILD_RUNS {
        let out = Command::new(&exe)
            .env(BUILD_CHILD_ENV, dir.path())
            .output()
            .expect("run child");
        assert!(out.status.success(), "child failed: {out:?}");
        let line = String::from_utf8_lossy(&out.stdout);
        let field = |key: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {key} in {line:?}"))
        };
        let workers = field("workers");
        let total = field("open_s") + field("read_s") + field("build_s");
        totals.push(total);
        eprintln!(
            "index/build/1M_workers run {run}: total {total:.2} s = open {:.2} s + read and decode {:.2} s + build {:.2} s; \
             heap_bytes {:.0} B/worker; RSS growth in build {:.0} B/worker; RSS after read {:.0} MB (decoded records and sled cache), after build {:.0} MB",
            field("open_s"),
            field("read_s"),
            field("build_s"),
            field("heap_bytes") / workers,
            (field("rss_built") - field("rss_read")) / workers,
            field("rss_read") / 1e6,
            field("rss_built") / 1e6,
        );
    }
    totals.sort_by(f64::total_cmp);
    eprintln!(
        "index/build/1M_workers: median {:.2} s over {BUILD_RUNS} runs (min {:.2}, max {:.2})",
        fixtures::quantile(&totals, 0.5),
        totals[0],
        totals[totals.len() - 1]
    );
}

/// The child of `index/build`: open, read, build, print one line of
/// `key=value` figures.
fn build_child(dir: &Path) {
    let started = Instant::now();
    let store = Store::open(dir).expect("open store");
    let open_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let workers: Vec<Worker> = store.workers().map(|w| w.expect("worker")).collect();
    let openings: Vec<Opening> = store.openings().map(|o| o.expect("opening")).collect();
    let read_s = started.elapsed().as_secs_f64();
    let rss_read = procfs::rss_bytes();
    // By reference, so that no record is freed during the build and the
    // RSS growth is the index alone.
    let started = Instant::now();
    let mut index = MatchIndex::new(MatchConfig::default().normalised().expect("valid"));
    for w in &workers {
        index.upsert_worker(w);
    }
    for o in &openings {
        index.upsert_opening(o, 0);
    }
    let build_s = started.elapsed().as_secs_f64();
    let rss_built = procfs::rss_bytes();
    println!(
        "open_s={open_s} read_s={read_s} build_s={build_s} workers={} openings={} heap_bytes={} rss_read={rss_read} rss_built={rss_built}",
        index.worker_count(),
        index.opening_count(),
        index.heap_bytes(),
    );
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
