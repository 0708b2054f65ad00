//! The Batch service over real gRPC: runs of both policies on demo data,
//! audit files checked independently, cancel, one run at a time, other
//! calls answered during a run, and a second run's changes.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use common::{wait_for_run, Channel, TestServer};
use jobbridge::api::pb;
use jobbridge::api::pb::batch_client::BatchClient;
use jobbridge::batch::BatchSettings;
use jobbridge::config::Config;
use tonic::Code;

/// Writes demo data at `scale` into `dir`, and returns it.
fn seed(dir: &Path, scale: f64) -> jobbridge::demo::DemoData {
    let store = jobbridge::store::Store::open(dir).unwrap();
    let year = jobbridge::domain::current_year();
    let data = jobbridge::demo::generate(scale, 3, year, chrono::Utc::now().date_naive());
    let key = jobbridge::store::id_key(None, None, &store).unwrap().0;
    jobbridge::demo::load(&store, &key, &data, year).unwrap();
    data
}

async fn start(dir: &Path, audit: Option<&Path>) -> TestServer {
    let options = Config {
        batch: BatchSettings {
            audit_dir: audit.map(Path::to_path_buf),
            ..BatchSettings::default()
        },
        ..Config::in_process()
    };
    TestServer::start_with(dir, options).await
}

async fn assignments(c: &mut BatchClient<Channel>, id: u64) -> Vec<pb::Assignment> {
    let mut s = c
        .stream_assignments(pb::StreamAssignmentsRequest { run_id: id })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(a) = s.message().await.unwrap() {
        out.push(a);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimal_run_is_stored_explained_and_auditable() {
    let dir = tempfile::tempdir().unwrap();
    let audit = tempfile::tempdir().unwrap();
    seed(dir.path(), 0.04);
    let server = start(dir.path(), Some(audit.path())).await;
    let mut c = server.batch();
    let id = c
        .start_run(pb::StartRunRequest::default())
        .await
        .unwrap()
        .into_inner()
        .run_id;
    let run = wait_for_run(&mut c, id).await;
    assert_eq!(run.status, pb::RunStatus::Succeeded as i32, "{}", run.error);
    assert_eq!(run.policy, pb::Policy::Optimal as i32);
    assert_eq!(run.phase, pb::RunPhase::Done as i32);
    let summary = run.summary.unwrap();
    assert!(summary.workers_assigned > 0);
    let rows = assignments(&mut c, id).await;
    assert_eq!(rows.len() as u64, summary.workers_assigned);
    assert_eq!(
        rows.iter().map(|a| a.score_micro).sum::<u64>(),
        summary.total_score_micro
    );
    let covered: HashSet<&str> = rows
        .iter()
        .filter(|a| a.zero_employment_household)
        .map(|a| a.household_id.as_str())
        .collect();
    assert_eq!(covered.len() as u64, summary.zero_households_covered);
    assert_eq!(
        summary
            .by_county
            .iter()
            .map(|r| r.workers_assigned)
            .sum::<u64>(),
        summary.workers_assigned
    );
    assert_eq!(
        summary
            .by_source
            .iter()
            .map(|r| r.slots_filled)
            .sum::<u64>(),
        summary.workers_assigned
    );
    assert!(rows.windows(2).all(|p| p[0].worker_id < p[1].worker_id));
    for a in &rows {
        let e = a.explanation.as_ref().unwrap();
        let sum: f64 = e.components.iter().map(|c| c.value * c.weight).sum();
        assert!(
            (sum - a.score).abs() <= 1e-6,
            "{} {sum} vs {}",
            a.worker_id,
            a.score
        );
    }

    // The audit files, read back independently.
    let mut stream = c
        .download_audit(pb::DownloadAuditRequest { run_id: id })
        .await
        .unwrap()
        .into_inner();
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    while let Some(chunk) = stream.message().await.unwrap() {
        files.entry(chunk.file).or_default().extend(chunk.data);
    }
    let text = |name: &str| String::from_utf8(files[name].clone()).unwrap();
    let edges = text("edges.csv");
    let mut lines = edges.lines();
    assert_eq!(lines.next(), Some("worker_id,opening_id,score"));
    let mut score: HashMap<(String, String), u64> = HashMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (int, frac) = f[2].split_once('.').unwrap();
        assert_eq!(frac.len(), 6, "six decimals: {line}");
        assert!(!f[2].contains('e'));
        score.insert(
            (f[0].into(), f[1].into()),
            int.parse::<u64>().unwrap() * 1_000_000 + frac.parse::<u64>().unwrap(),
        );
    }
    assert_eq!(score.len() as u64, summary.eligible_pairs);
    let openings = text("openings.csv");
    assert!(openings.starts_with("opening_id,slots\n"));
    let slots: HashMap<String, u64> = openings
        .lines()
        .skip(1)
        .map(|l| {
            let (o, s) = l.split_once(',').unwrap();
            (o.to_string(), s.parse().unwrap())
        })
        .collect();
    assert!(text("workers.csv").starts_with("worker_id,household_id,zero_employment_household\n"));
    let assignment = text("assignment.csv");
    let mut used: HashMap<String, u64> = HashMap::new();
    let mut total = 0;
    for line in assignment.lines().skip(1) {
        let (w, o) = line.split_once(',').unwrap();
        total += score[&(w.to_string(), o.to_string())];
        *used.entry(o.to_string()).or_default() += 1;
    }
    assert_eq!(total, summary.total_score_micro);
    assert!(used.iter().all(|(o, n)| *n <= slots[o]));

    // Not a dry run: every assignment became a PROPOSED placement.
    assert_eq!(run.proposals_created, summary.workers_assigned);
    assert_eq!(run.proposals_skipped, 0);

    // A second run leaves out the workers whose proposals are pending, and
    // the slots those proposals hold: it assigns nobody, and the workers
    // holding proposals are not reported as lost (they hold an offer).
    let id2 = c
        .start_run(pb::StartRunRequest::default())
        .await
        .unwrap()
        .into_inner()
        .run_id;
    assert!(id2 > id);
    let run2 = wait_for_run(&mut c, id2).await;
    let s2 = run2.summary.unwrap();
    assert_eq!(s2.previous_run_id, id);
    assert_eq!((s2.gained, s2.lost, s2.changed), (0, 0, 0));
    assert_eq!(s2.workers_assigned, 0);
    let listed = c
        .list_runs(pb::ListRunsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .runs;
    assert_eq!(
        listed.iter().map(|r| r.run_id).collect::<Vec<_>>(),
        vec![id2, id]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stable_run_and_changes_after_a_hire() {
    let dir = tempfile::tempdir().unwrap();
    let data = seed(dir.path(), 0.03);
    let server = start(dir.path(), None).await;
    let mut c = server.batch();
    let first = c
        .start_run(pb::StartRunRequest {
            policy: pb::Policy::Stable as i32,
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner()
        .run_id;
    let run = wait_for_run(&mut c, first).await;
    assert_eq!(run.status, pb::RunStatus::Succeeded as i32, "{}", run.error);
    assert!(run.dry_run);
    // The first run after a start scores every row.
    let s1 = run.summary.unwrap();
    assert_eq!((s1.rows_kept, s1.rows_scored), (0, s1.workers_considered));
    let rows = assignments(&mut c, first).await;
    // Someone assigned takes a job elsewhere: the next run loses them.
    let gone = rows[0].worker_id.clone();
    let mut workers = server.workers();
    let mut w = workers
        .get_worker(pb::GetWorkerRequest { id: gone.clone() })
        .await
        .unwrap()
        .into_inner()
        .worker
        .unwrap();
    w.employment_status = pb::EmploymentStatus::Employed as i32;
    // National ids are write-only: an update sends the number again.
    let sent = data.workers.iter().find(|d| d.id == gone).unwrap();
    w.national_id = sent.national_id.clone();
    workers
        .upsert_worker(pb::UpsertWorkerRequest {
            worker: Some(w),
            ..Default::default()
        })
        .await
        .unwrap();
    let second = c
        .start_run(pb::StartRunRequest {
            policy: pb::Policy::Stable as i32,
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner()
        .run_id;
    let run2 = wait_for_run(&mut c, second).await;
    // The next keeps the rows nothing changed for: all but the household
    // of the worker now employed (whose "nobody in work" may have changed).
    let s2 = run2.summary.unwrap();
    assert_eq!(s2.rows_kept + s2.rows_scored, s2.workers_considered);
    assert!(
        s2.rows_kept + 4 >= s2.workers_considered && s2.rows_kept > 0,
        "{s2:?}"
    );
    let mut s = c
        .stream_changes(pb::StreamChangesRequest { run_id: second })
        .await
        .unwrap()
        .into_inner();
    let mut changes = Vec::new();
    while let Some(ch) = s.message().await.unwrap() {
        changes.push(ch);
    }
    assert!(changes
        .iter()
        .any(|ch| ch.worker_id == gone && ch.kind == pb::assignment_change::Kind::Lost as i32));
    // No audit directory configured: download is refused, not crashed.
    let err = c
        .download_audit(pb::DownloadAuditRequest { run_id: first })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_at_a_time_cancel_and_queries_during_a_run() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), 0.5);
    let server = start(dir.path(), None).await;
    let mut c = server.batch();
    let id = c
        .start_run(pb::StartRunRequest::default())
        .await
        .unwrap()
        .into_inner()
        .run_id;
    // The run scores for a while in a debug build; meanwhile others are served.
    let mut m = server.matching();
    let mut answered_while_running = 0;
    for i in 0..20 {
        let worker = format!("w-{:07}", i + 1);
        let started = std::time::Instant::now();
        server
            .workers()
            .get_worker(pb::GetWorkerRequest { id: worker.clone() })
            .await
            .unwrap();
        m.match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
            worker_id: worker,
            top_k: 5,
            ..Default::default()
        })
        .await
        .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a query waited for the run"
        );
        // Not `wait_for_run`: this asks once whether the run was still
        // going when the query was answered, and must not wait for its end.
        let run = c
            .get_run(pb::GetRunRequest { run_id: id })
            .await
            .unwrap()
            .into_inner()
            .run
            .unwrap();
        if run.status == pb::RunStatus::Running as i32 {
            answered_while_running += 1;
        }
    }
    assert!(
        answered_while_running > 0,
        "the run ended before any query: make the data larger"
    );
    let busy = c
        .start_run(pb::StartRunRequest::default())
        .await
        .unwrap_err();
    assert_eq!(busy.code(), Code::FailedPrecondition, "{}", busy.message());
    assert!(busy.message().contains(&id.to_string()));
    c.cancel_run(pb::CancelRunRequest { run_id: id })
        .await
        .unwrap();
    let run = wait_for_run(&mut c, id).await;
    assert_eq!(run.status, pb::RunStatus::Cancelled as i32);
    assert!(run.summary.is_none());
    let err = c
        .stream_assignments(pb::StreamAssignmentsRequest { run_id: id })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .cancel_run(pb::CancelRunRequest { run_id: id })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .get_run(pb::GetRunRequest { run_id: 999 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = c
        .get_run(pb::GetRunRequest { run_id: 0 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = c
        .start_run(pb::StartRunRequest {
            policy: 7,
            dry_run: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("policy"));
    server.stop().await;
}

/// Dry runs on unchanged data keep their plan (the third tier), store the
/// prices of contested openings, export them with the anchor, and rank a
/// worker's planned opening first by net value (ties go to it), with the
/// contested reason in both languages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_data_keeps_the_plan_and_contested_openings_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let audit = tempfile::tempdir().unwrap();
    seed(dir.path(), 0.04);
    let server = start(dir.path(), Some(audit.path())).await;
    let mut c = server.batch();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let id = c
            .start_run(pb::StartRunRequest {
                dry_run: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .run_id;
        let run = wait_for_run(&mut c, id).await;
        assert_eq!(run.status, pb::RunStatus::Succeeded as i32, "{}", run.error);
        runs.push((id, run.summary.unwrap()));
    }
    let (first, second) = (&runs[0], &runs[1]);
    assert_eq!(
        (second.1.gained, second.1.lost, second.1.changed),
        (0, 0, 0)
    );
    let plan = |rows: Vec<pb::Assignment>| -> Vec<(String, String)> {
        rows.into_iter()
            .map(|a| (a.worker_id, a.opening_id))
            .collect()
    };
    let plan1 = plan(assignments(&mut c, first.0).await);
    assert_eq!(plan1, plan(assignments(&mut c, second.0).await));
    assert!(
        second.1.contested_openings > 0,
        "a demo county has contested openings"
    );
    assert_eq!(first.1.contested_openings, second.1.contested_openings);

    // The audit folder of run 2: its anchor is run 1's plan, and its
    // prices one row per contested opening, each on a full opening.
    let folder = jobbridge::batch::audit::run_folder(audit.path(), second.0);
    let read = |name: &str| std::fs::read_to_string(folder.join(name)).unwrap();
    let anchor: Vec<(String, String)> = read("anchor.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let (w, o) = l.split_once(',').unwrap();
            (w.to_string(), o.to_string())
        })
        .collect();
    assert_eq!(anchor, plan1);
    let prices_csv = read("prices.csv");
    assert!(prices_csv.starts_with("opening_id,households,price\n"));
    let prices: HashMap<String, (u32, f64)> = prices_csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                (f[1].parse().unwrap(), f[2].parse().unwrap()),
            )
        })
        .collect();
    assert_eq!(prices.len() as u64, second.1.contested_openings);
    let slots: HashMap<String, usize> = read("openings.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let (o, s) = l.split_once(',').unwrap();
            (o.to_string(), s.parse().unwrap())
        })
        .collect();
    let mut seated: HashMap<&str, usize> = HashMap::new();
    for (_, o) in &plan1 {
        *seated.entry(o.as_str()).or_default() += 1;
    }
    for o in prices.keys() {
        assert_eq!(
            seated.get(o.as_str()).copied().unwrap_or(0),
            slots[o],
            "{o} priced but not full"
        );
    }

    // Workers seated on a contested opening: it tops their net ranking (up
    // to ties), and says why it is contested.
    let mut checked = 0;
    for (w, o) in plan1
        .iter()
        .filter(|(_, o)| prices.contains_key(o))
        .take(12)
    {
        for (lang, words) in [("en", "highly contested"), ("zh-CN", "高竞争岗位")] {
            let mut request = tonic::Request::new(pb::MatchOpeningsForWorkerRequest {
                worker_id: w.clone(),
                top_k: 100,
                ..Default::default()
            });
            request
                .metadata_mut()
                .insert("accept-language", lang.parse().unwrap());
            let matches = server
                .matching()
                .match_openings_for_worker(request)
                .await
                .unwrap()
                .into_inner()
                .matches;
            let net = |m: &pb::OpeningMatch| {
                m.explanation
                    .as_ref()
                    .and_then(|e| e.contest.as_ref())
                    .map_or(m.score, |c| c.net_score)
            };
            let best = matches.iter().map(net).fold(f64::MIN, f64::max);
            let mine = matches
                .iter()
                .find(|m| &m.opening_id == o)
                .unwrap_or_else(|| panic!("{w}: planned {o} not among the top 100"));
            assert!(
                net(mine) >= best - 1e-6,
                "{w}: {o} nets {} < {best}",
                net(mine)
            );
            // Ties go to the planned opening: it comes first.
            assert_eq!(&matches[0].opening_id, o, "{w}");
            let contest = mine.explanation.as_ref().unwrap().contest.as_ref().unwrap();
            assert!(contest.reason.contains(words), "{}", contest.reason);
            assert_eq!(contest.run_id, second.0);
            // Ranked by score alone, nothing is priced.
            let plain = server
                .matching()
                .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
                    worker_id: w.clone(),
                    top_k: 5,
                    ranking: pb::Ranking::Score as i32,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .matches;
            assert!(plain
                .iter()
                .all(|m| m.explanation.as_ref().unwrap().contest.is_none()));
            assert!(plain.windows(2).all(|p| p[0].score >= p[1].score));
        }
        checked += 1;
    }
    assert!(checked > 0);
    // Any seated worker: the planned opening comes first.
    for (w, o) in plan1.iter().step_by(plan1.len() / 40 + 1) {
        let top = server
            .matching()
            .match_openings_for_worker(pb::MatchOpeningsForWorkerRequest {
                worker_id: w.clone(),
                top_k: 3,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .matches;
        assert_eq!(&top[0].opening_id, o, "{w}");
    }
    server.stop().await;
}
