//! The county head's dashboard against its anchor, the coverage report's
//! full scan, on a data directory built by `jobbridge demo-data`:
//!
//! ```text
//! jobbridge demo-data --data-dir DIR --scale 10
//! JOBBRIDGE_BENCH_DATA_DIR=DIR cargo bench --bench dashboard
//! ```
//!
//! Prints the time `Service::open` took (the start-up scan that builds the
//! match index, its census and the hire tally), then times
//! `Service::dashboard` for all counties and for one (criterion), and
//! `report::coverage` for all and for the same county
//! (`JOBBRIDGE_BENCH_SCANS` runs each, 3 by default, the median printed:
//! a scan takes seconds to tens of seconds, too long for criterion's ten
//! samples at national scale). Without a directory it builds a scale-1
//! one in a temporary directory.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

use jobbridge::batch::BatchSettings;
use jobbridge::domain::access::{Caller, Role, Scope};
use jobbridge::domain::placement::china_today;
use jobbridge::domain::{current_year, IdKey};
use jobbridge::matching::MatchConfig;
use jobbridge::report::{coverage, CoverageFilter};
use jobbridge::service::Service;
use jobbridge::store::{find_id_key, Store};

/// The county timed alone (Hecheng District; every scale has it).
const COUNTY: &str = "431202";

fn open() -> (Arc<Service>, Option<tempfile::TempDir>) {
    let (dir, temp) = match std::env::var_os("JOBBRIDGE_BENCH_DATA_DIR") {
        Some(d) => (PathBuf::from(d), None),
        None => {
            let temp = tempfile::tempdir().expect("temporary directory");
            let store = Store::open(temp.path()).expect("store");
            let key = IdKey::from_hex(&"ab".repeat(32)).expect("key");
            let today = chrono::Utc::now().date_naive();
            let data = jobbridge::demo::generate(1.0, 1, current_year(), today);
            jobbridge::demo::load(&store, &key, &data, current_year()).expect("demo data");
            std::fs::write(temp.path().join("id.key"), "ab".repeat(32)).expect("key file");
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let env = std::env::var("JOBBRIDGE_ID_KEY").ok();
    let (key, _) = find_id_key(None, env.as_deref(), &dir)
        .expect("id key")
        .expect("DATA_DIR/id.key or JOBBRIDGE_ID_KEY");
    let store = Arc::new(Store::open(&dir).expect("store"));
    let started = Instant::now();
    let service = Service::open(
        store,
        key,
        MatchConfig::default().normalised().expect("config"),
        BatchSettings::default(),
    )
    .expect("service");
    let workers = service.matcher().read().worker_count();
    println!(
        "dashboard bench: {} workers; Service::open (index, census, hire tally) {:.2} s",
        workers,
        started.elapsed().as_secs_f64()
    );
    (service, temp)
}

fn admin() -> Caller {
    Caller {
        token_id: "bench".into(),
        role: Role::Admin,
        scope: Scope::default(),
    }
}

/// Median of `JOBBRIDGE_BENCH_SCANS` full scans.
fn median_scan(service: &Service, county: Option<&str>) -> Duration {
    let runs: usize = std::env::var("JOBBRIDGE_BENCH_SCANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let today = china_today();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let filter = CoverageFilter::up_to(county.map(str::to_string), today);
            let started = Instant::now();
            let report = coverage(service.store(), &filter).expect("coverage");
            std::hint::black_box(report);
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn dashboard(c: &mut Criterion) {
    let (service, _temp) = open();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let caller = admin();
    // The same figures, to be sure the two timed paths compute one thing.
    let today = china_today();
    let dash = rt
        .block_on(service.dashboard(&caller, None))
        .expect("dashboard");
    let mut group = c.benchmark_group("dashboard");
    group.bench_function("all_counties", |b| {
        b.to_async(&rt)
            .iter(|| async { service.dashboard(&caller, None).await.expect("dashboard") })
    });
    group.bench_function(format!("county_{COUNTY}"), |b| {
        b.to_async(&rt).iter(|| async {
            service
                .dashboard(&caller, Some(COUNTY.to_string()))
                .await
                .expect("dashboard")
        })
    });
    group.finish();
    let all = median_scan(&service, None);
    let one = median_scan(&service, Some(COUNTY));
    println!(
        "coverage scan (anchor): all counties median {:.3} s, county {COUNTY} median {:.3} s \
         (today {today}, {} workers on the dashboard)",
        all.as_secs_f64(),
        one.as_secs_f64(),
        dash.total.workers_registered
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = dashboard
}
criterion_main!(benches);
