//! Soak: the mix of the liveness test (`tests/common/load.rs`) from many
//! clients against a running `serve --demo` server, for minutes, watching
//! throughput, errors, latency and the server's memory.
//!
//! ```text
//! cargo run --release -- serve --demo --data-dir /tmp/soak-data --listen 127.0.0.1:50071
//! cargo bench --bench soak -- --server 127.0.0.1:50071 --token "$TOKEN" --secs 600
//! ```
//!
//! Options: `--server ADDR` (127.0.0.1:50051), `--token T` (or
//! `JOBBRIDGE_TOKEN`; an admin token), `--clients N` (32), `--secs S`
//! (600), `--interval S` (10), `--pid PID` (the server, for memory; else
//! the one process named `jobbridge` running `serve`), `--shared-token`.
//!
//! Each client calls with a token of its own, as separate operators would:
//! the tool creates one admin token per client with the given token
//! (`CreateToken`, labelled "soak client N") and revokes them at the end.
//! So the server's per-token rate limit (2,000 calls/s by default) applies
//! to each client, and the default `serve --demo` can be soaked as it is.
//! With `--shared-token` every client uses the given token, and the server
//! needs `--rate-limit 0` or it refuses the calls above the limit.
//!
//! Every interval prints calls/s, errors by code, p50/p99 latency and the
//! server's VmRSS and VmHWM; the end prints totals and whether RSS levelled
//! off (the largest RSS of the last third of the run against the second).
//! Exit status 1 after a hang (a call over 10 s, DEADLINE_EXCEEDED,
//! UNAVAILABLE, CANCELLED, INTERNAL or UNKNOWN; the run stops at the end of
//! that interval), 2 after other unexpected codes or a bad set-up.
//!
//! Upserts must send each worker's national id, which the server never
//! returns, so the tool regenerates the demo workers (scale 1, seed 1, this
//! year: what `serve --demo` wrote) and checks a sample against the server.
//! Without `--bench` (`cargo test --benches`) it only prints its usage.

mod fixtures;
#[path = "../tests/common/load.rs"]
mod load;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jobbridge::api::pb;
use jobbridge::cli::TokenChannel as Channel;
use load::{Mix, Pool, Recorder, CALL_DEADLINE};
use pb::admin_service_client::AdminServiceClient as AdminClient;
use pb::openings_client::OpeningsClient;
use pb::workers_client::WorkersClient;

const USAGE: &str =
    "cargo bench --bench soak -- [--server ADDR] [--token T | env JOBBRIDGE_TOKEN] \
                     [--clients N] [--secs S] [--interval S] [--pid PID] [--shared-token]";
/// Workers compared with the server before the run.
const SAMPLE: usize = 20;

struct Args {
    server: String,
    token: String,
    clients: usize,
    secs: u64,
    interval: u64,
    pid: Option<u32>,
    shared_token: bool,
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    // Like criterion: cargo bench passes --bench; cargo test does not.
    if !raw.iter().any(|a| a == "--bench") {
        eprintln!("soak: needs a running server; usage: {USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse(&raw) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("soak: {e}\nusage: {USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let code = runtime.block_on(soak(args));
    // Clients stuck on a hung server are not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

fn parse(raw: &[String]) -> Result<Args, String> {
    let mut args = Args {
        server: "127.0.0.1:50051".into(),
        token: std::env::var("JOBBRIDGE_TOKEN").unwrap_or_default(),
        clients: 32,
        secs: 600,
        interval: 10,
        pid: None,
        shared_token: false,
    };
    let mut it = raw.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number"))
        };
        match flag.as_str() {
            "--bench" => {}
            "--server" => args.server = value()?.clone(),
            "--token" => args.token = value()?.clone(),
            "--clients" => args.clients = number(value()?)?.max(1) as usize,
            "--secs" => args.secs = number(value()?)?,
            "--interval" => args.interval = number(value()?)?.max(1),
            "--pid" => args.pid = Some(number(value()?)? as u32),
            "--shared-token" => args.shared_token = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.token.is_empty() {
        return Err("no token: pass --token or set JOBBRIDGE_TOKEN".into());
    }
    Ok(args)
}

async fn soak(args: Args) -> ExitCode {
    let pid = args.pid.or_else(find_server);
    match pid {
        Some(pid) => eprintln!("soak: server pid {pid}"),
        None => eprintln!("soak: server pid unknown (pass --pid): no memory figures"),
    }
    let pool = match pool(&args).await {
        Ok(pool) => Arc::new(pool),
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "soak: {} clients for {} s against {}: {} workers, {} openings",
        args.clients,
        args.secs,
        args.server,
        pool.workers.len(),
        pool.openings.len()
    );

    let recorder = Arc::new(Recorder::default());
    let started = Instant::now();
    let until = started + Duration::from_secs(args.secs);
    let tokens = match client_tokens(&args).await {
        Ok(tokens) => tokens,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    let mut clients = Vec::new();
    for (i, (_, token)) in tokens.iter().enumerate() {
        let channel = match Channel::connect(&args.server, Some(token)).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("soak: {e:#}");
                return ExitCode::from(2);
            }
        };
        let mix = Mix::new(channel, pool.clone(), recorder.clone());
        clients.push(tokio::spawn(mix.run(1000 + i as u64, until)));
    }

    let mut rss = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(args.interval));
    ticker.tick().await;
    let mut last = (Instant::now(), 0u64);
    loop {
        ticker.tick().await;
        let c = recorder.take_interval();
        let now = Instant::now();
        let rate = (c.calls - last.1) as f64 / (now - last.0).as_secs_f64();
        last = (now, c.calls);
        let q = |p: f64| fixtures::quantile(&c.interval_ms, p);
        let memory = pid.and_then(memory);
        if let Some((vm_rss, _)) = memory {
            rss.push((started.elapsed(), vm_rss));
        }
        eprintln!(
            "{:>6.0} s  {rate:>7.0} calls/s  p50 {:>7.2} ms  p99 {:>8.2} ms  {}  errors: {}",
            started.elapsed().as_secs_f64(),
            q(0.5),
            q(0.99),
            memory.map_or("rss ?".into(), |(r, h)| format!(
                "rss {:.0} MiB (hwm {:.0} MiB)",
                r as f64 / 1024.0,
                h as f64 / 1024.0
            )),
            errors(&c.interval_errors),
        );
        if Instant::now() >= until || recorder.stopped() {
            break;
        }
    }
    recorder.stop();
    let joined = tokio::time::timeout(CALL_DEADLINE + Duration::from_secs(2), async {
        for client in clients {
            let _ = client.await;
        }
    })
    .await;
    revoke(&args, &tokens).await;
    let totals = recorder.counts();
    eprintln!(
        "soak: totals over {:.0} s: {}",
        started.elapsed().as_secs_f64(),
        totals.summary()
    );
    if joined.is_err() {
        eprintln!("soak: some clients were still waiting on the server at the end");
    }
    levelled(&rss);
    if totals.fatal > 0 || totals.slowest > CALL_DEADLINE {
        eprintln!("soak: FAILED: the server hung or failed");
        ExitCode::from(1)
    } else if totals.unexpected > 0 {
        eprintln!("soak: FAILED: unexpected status codes");
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Each client's token: `(token id, token)`, the token id empty for the
/// shared one (not revoked).
async fn client_tokens(args: &Args) -> Result<Vec<(String, String)>, String> {
    if args.shared_token {
        return Ok(vec![(String::new(), args.token.clone()); args.clients]);
    }
    let channel = Channel::connect(&args.server, Some(&args.token))
        .await
        .map_err(|e| format!("{e:#}"))?;
    let mut admin = AdminClient::new(channel);
    let mut tokens = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let created = admin
            .create_token(pb::CreateTokenRequest {
                role: pb::Role::Admin as i32,
                label: format!("soak client {i}"),
                ..Default::default()
            })
            .await
            .map_err(|s| format!("CreateToken: {}", s.message()))?
            .into_inner();
        let id = created.info.map(|i| i.token_id).unwrap_or_default();
        tokens.push((id, created.token));
    }
    Ok(tokens)
}

/// Revokes the tokens [`client_tokens`] created.
async fn revoke(args: &Args, tokens: &[(String, String)]) {
    let Ok(channel) = Channel::connect(&args.server, Some(&args.token)).await else {
        eprintln!("soak: cannot connect to revoke the client tokens");
        return;
    };
    let mut admin = AdminClient::new(channel);
    for (id, _) in tokens.iter().filter(|(id, _)| !id.is_empty()) {
        let request = pb::RevokeTokenRequest {
            token_id: id.clone(),
        };
        if let Err(s) = admin.revoke_token(request).await {
            eprintln!("soak: RevokeToken {id}: {}", s.message());
        }
    }
}

/// The demo workers with their national ids, checked against the server,
/// and the server's openings.
async fn pool(args: &Args) -> Result<Pool, String> {
    let channel = Channel::connect(&args.server, Some(&args.token))
        .await
        .map_err(|e| format!("{e:#}"))?;
    let year = jobbridge::domain::current_year();
    let today = chrono::Utc::now().date_naive();
    let mut data = jobbridge::demo::generate(1.0, 1, year, today);
    data.openings.clear();
    let mut pool = Pool::from_demo(&data);
    let mut workers = WorkersClient::new(channel.clone());
    let step = pool.workers.len() / SAMPLE;
    for mine in pool.workers.iter().step_by(step.max(1)).take(SAMPLE) {
        let id = mine.id.clone();
        let theirs = workers
            .get_worker(pb::GetWorkerRequest { id: id.clone() })
            .await
            .map_err(|s| format!("GetWorker {id}: {}", s.message()))?
            .into_inner()
            .worker
            .unwrap_or_default();
        let same = |w: &pb::Worker| (w.name.clone(), w.household_id.clone(), w.birth_year);
        if same(&theirs) != same(mine) {
            return Err(format!(
                "worker {id} differs from the demo data this tool generates \
                 (scale 1, seed 1, year {year}): is this a `serve --demo` server?"
            ));
        }
    }
    let mut openings = OpeningsClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
    let mut page_token = String::new();
    loop {
        let reply = openings
            .list_openings(pb::ListOpeningsRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            })
            .await
            .map_err(|s| format!("ListOpenings: {}", s.message()))?
            .into_inner();
        pool.openings
            .extend(reply.openings.into_iter().map(|o| o.id));
        if reply.next_page_token.is_empty() {
            break;
        }
        page_token = reply.next_page_token;
    }
    if pool.openings.is_empty() {
        return Err("the server lists no openings".into());
    }
    Ok(pool)
}

/// Compares the largest RSS of the last third of the run with that of the
/// second third.
fn levelled(rss: &[(Duration, u64)]) {
    // Fewer samples than this say nothing about a trend.
    const MIN_SAMPLES: usize = 6;
    let Some(&(end, _)) = rss.last().filter(|_| rss.len() >= MIN_SAMPLES) else {
        eprintln!("soak: too few memory samples to tell whether RSS levelled off");
        return;
    };
    let third = end / 3;
    let max_in = |from: Duration, to: Duration| {
        rss.iter()
            .filter(|(t, _)| *t > from && *t <= to)
            .map(|&(_, r)| r)
            .max()
    };
    match (max_in(third, 2 * third), max_in(2 * third, end)) {
        (Some(second), Some(last)) => {
            let growth = (last as f64 / second as f64 - 1.0) * 100.0;
            let verdict = if growth <= 5.0 {
                "levelled off"
            } else {
                "still growing"
            };
            eprintln!(
                "soak: max RSS second third {:.1} MiB, last third {:.1} MiB ({growth:+.1}%): {verdict}",
                second as f64 / 1024.0,
                last as f64 / 1024.0
            );
        }
        _ => eprintln!("soak: too few memory samples to tell whether RSS levelled off"),
    }
}

/// `VmRSS` and `VmHWM` of `pid`, in KiB.
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The pid of the only process named `jobbridge` running `serve`.
fn find_server() -> Option<u32> {
    let found: Vec<u32> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let dir = Path::new("/proc").join(pid.to_string());
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            comm.trim() == "jobbridge" && cmdline.split(|&b| b == 0).any(|a| a == b"serve")
        })
        .collect();
    match found.as_slice() {
        [pid] => Some(*pid),
        [] => None,
        many => {
            eprintln!("soak: several jobbridge servers {many:?}: pass --pid");
            None
        }
    }
}

fn errors(by_code: &std::collections::BTreeMap<String, u64>) -> String {
    if by_code.is_empty() {
        return "none".into();
    }
    by_code
        .iter()
        .map(|(code, n)| format!("{code} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
