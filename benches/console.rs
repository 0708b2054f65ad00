//! Console page latency against a running server, as a browser sees it:
//! sign in with a token, then load each page kind many times from a few
//! clients at once and report the median, 95th percentile and maximum per
//! page.
//!
//! ```sh
//! cargo run --release -- serve --demo            # prints the token and the console URL
//! cargo bench --bench console -- --console http://127.0.0.1:50052 --token TOKEN \
//!     [--rounds 40] [--clients 4] [--county 431202]
//! ```
//!
//! Plain HTTP/1.1 over a TCP stream (one request per connection, as a
//! browser's first load of a page): the figure includes the connection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Args {
    addr: String,
    token: String,
    rounds: usize,
    clients: usize,
    county: String,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:50052".into(),
        token: String::new(),
        rounds: 40,
        clients: 4,
        county: "431202".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--console" => {
                a.addr = value()
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_string()
            }
            "--token" => a.token = value(),
            "--rounds" => a.rounds = value().parse().expect("--rounds N"),
            "--clients" => a.clients = value().parse().expect("--clients N"),
            "--county" => a.county = value(),
            _ => {}
        }
    }
    a
}

/// One request; answers the status, the headers and the body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("console reachable");
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept-Language: zh-CN\r\n"
    );
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn cookie_from(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

fn attr_values<'a>(body: &'a str, marker: &str) -> Vec<&'a str> {
    body.match_indices(marker)
        .filter_map(|(i, _)| {
            let rest = &body[i + marker.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

fn sign_in(a: &Args) -> String {
    let (_, head, body) = request(&a.addr, "GET", "/signin", "", "");
    let pre = cookie_from(&head, "jb_pre").expect("pre-session cookie");
    assert!(body.contains(&pre));
    let form = format!("token={}&pre={pre}", a.token.replace('+', "%2B"));
    let (status, head, _) = request(&a.addr, "POST", "/signin", &format!("jb_pre={pre}"), &form);
    assert_eq!(status, 303, "sign-in refused: is the token right?");
    format!(
        "jb_session={}",
        cookie_from(&head, "jb_session").expect("session")
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let a = args();
    if a.token.is_empty() {
        eprintln!("usage: cargo bench --bench console -- --console http://ADDR --token TOKEN");
        return;
    }
    let session = sign_in(&a);
    // Ids to visit, read from the pages themselves.
    let (_, _, caseload) = request(
        &a.addr,
        "GET",
        &format!("/caseload?county={}", a.county),
        &session,
        "",
    );
    let workers: Vec<String> = attr_values(&caseload, "data-worker=\"")
        .into_iter()
        .map(str::to_string)
        .collect();
    let (_, _, openings) = request(&a.addr, "GET", "/openings", &session, "");
    let opening_ids: Vec<String> = attr_values(&openings, "data-opening=\"")
        .into_iter()
        .map(str::to_string)
        .collect();
    let (_, _, runs) = request(&a.addr, "GET", "/runs", &session, "");
    let run_ids: Vec<String> = attr_values(&runs, "data-run=\"")
        .into_iter()
        .map(str::to_string)
        .collect();
    let search = workers.first().cloned().unwrap_or_default();
    let mut pages: Vec<(&str, Vec<String>)> = vec![
        ("caseload", vec![format!("/caseload?county={}", a.county)]),
        (
            "caseload, page 20",
            vec![format!("/caseload?county={}&page=20", a.county)],
        ),
        (
            "caseload, status filter",
            vec![format!("/caseload?county={}&status=seeking", a.county)],
        ),
        (
            "caseload, search by id",
            vec![format!(
                "/caseload?county={}&q={}",
                a.county,
                search.replace('/', "%2F")
            )],
        ),
        (
            "worker",
            workers
                .iter()
                .take(20)
                .map(|w| format!("/workers/{w}"))
                .collect(),
        ),
        ("openings", vec!["/openings".into()]),
        (
            "opening + candidates",
            opening_ids
                .iter()
                .take(20)
                .map(|o| format!("/openings/{o}"))
                .collect(),
        ),
        ("runs", vec!["/runs".into()]),
        ("dashboard", vec!["/dashboard".into()]),
        (
            "dashboard, one county",
            vec![format!("/dashboard?county={}", a.county)],
        ),
    ];
    if let Some(run) = run_ids.first() {
        pages.push(("run review", vec![format!("/runs/{run}")]));
    }
    println!(
        "console page latency, {} rounds x {} clients, county {}",
        a.rounds, a.clients, a.county
    );
    println!(
        "{:<26} {:>9} {:>9} {:>9} {:>6}",
        "page", "p50 ms", "p95 ms", "max ms", "n"
    );
    for (name, paths) in &pages {
        if paths.is_empty() {
            continue;
        }
        let mut times: Vec<Duration> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..a.clients)
                .map(|c| {
                    let (a, session, paths) = (&a, &session, paths);
                    s.spawn(move || {
                        let mut t = Vec::new();
                        for r in 0..a.rounds {
                            let path = &paths[(r + c) % paths.len()];
                            let started = Instant::now();
                            let (status, _, _) = request(&a.addr, "GET", path, session, "");
                            t.push(started.elapsed());
                            assert_eq!(status, 200, "{path}");
                        }
                        t
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<26} {:>9.1} {:>9.1} {:>9.1} {:>6}",
            name,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(*times.last().unwrap()),
            times.len()
        );
    }
}
