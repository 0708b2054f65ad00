//! README's county day, ledgers in and reports out, with its second
//! county's walk in docs/ledgers.md: run on the server the walk-through
//! leaves behind, as README says ("`TOKEN` as above").

use std::path::Path;

use jobbridge::api::pb;

use super::{assert_fields, assert_quoted, assert_status, run_cli, Output, Readme};
use crate::common::TestServer;

// The example that writes README's sample ledgers, used as it is.
#[allow(dead_code)]
#[path = "../../../examples/sample_ledger.rs"]
mod sample_ledger;

/// Runs README's `cargo run --release --example sample_ledger -- ARGS`
/// in `cwd`.
fn sample(command: &str, cwd: &Path) {
    let args = command
        .split_once("--example sample_ledger -- ")
        .expect("a sample_ledger line")
        .1;
    let mut args: Vec<String> = args.split_whitespace().map(str::to_string).collect();
    args[1] = cwd.join(&args[1]).to_str().unwrap().to_string();
    sample_ledger::write(args.into_iter()).expect("write the sample ledger");
}

/// Households with labour and zero-employment households, in all.
async fn households(server: &TestServer) -> (u64, u64) {
    let report = server
        .reports()
        .coverage(pb::CoverageRequest::default())
        .await
        .unwrap()
        .into_inner();
    let total = report.total.unwrap();
    (
        total.households_with_labour,
        total.zero_employment_households,
    )
}

/// Runs the command of `md` that has `fragment`, which must succeed.
fn cli(
    md: &mut Readme,
    fragment: &str,
    tokens: &[(String, String)],
    server: &TestServer,
    cwd: &Path,
) -> Output {
    let command = md.command(fragment);
    let tokens: Vec<(&str, &str)> = tokens
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = run_cli(&command, cwd, server, &tokens);
    assert_eq!(out.code, 0, "{command}: {}", out.all);
    out
}

pub async fn county_day(server: &TestServer, md: &mut Readme, cwd: &Path) {
    md.section("## A county company's day: ledgers in, reports out");
    let before = households(server).await;
    let mut tokens = vec![("TOKEN".to_string(), server.admin_token.clone())];

    cli(
        md,
        "-- template workers --xlsx --lang zh",
        &tokens,
        server,
        cwd,
    );
    assert!(cwd.join("workers-template.xlsx").exists());
    sample(
        &md.command("--example sample_ledger -- 5000 ledger.xlsx"),
        cwd,
    );
    for fragment in [
        "-- import workers ledger.xlsx --check --lang zh",
        "-- import workers ledger.xlsx --lang zh --server",
        "-- import workers workers-template.xlsx",
        "-- import workers ledger.xlsx --lang zh --server",
    ] {
        let out = cli(md, fragment, &tokens, server, cwd);
        assert_quoted(md.quote(), &out.all);
    }

    several_counties(server, &mut tokens, cwd, before).await;

    let out = cli(
        md,
        "-- export workers --county 溆浦县 --xlsx",
        &tokens,
        server,
        cwd,
    );
    assert_quoted(md.quote(), &out.all);
    for fragment in [
        "-- export placements --county 431224 --csv",
        "-- export checkins --within-days 30",
        "-- report --xlsx report.xlsx --lang zh",
        "-- report --lang zh --server",
    ] {
        cli(md, fragment, &tokens, server, cwd);
    }
}

/// docs/ledgers.md's "Several counties, one number", which goes on from
/// README's imports: two more counties numbering from 1, what each may
/// read and write, and the households the whole day added since `before`.
async fn several_counties(
    server: &TestServer,
    tokens: &mut Vec<(String, String)>,
    cwd: &Path,
    before: (u64, u64),
) {
    let mut md = Readme::open("docs/ledgers.md");
    let md = &mut md;
    md.section("## Several counties, one number");
    for county in ["huitong", "mayang"] {
        let fragment = format!("--example sample_ledger -- 300 {county}.xlsx");
        sample(&md.command(&fragment), cwd);
    }
    for name in ["HUITONG", "MAYANG"] {
        let fragment = format!("{name}=$(cargo run --release -- token create");
        let out = cli(md, &fragment, tokens, server, cwd);
        tokens.push((name.to_string(), out.stdout.trim().to_string()));
    }
    for (file, name) in [("huitong", "HUITONG"), ("mayang", "MAYANG")] {
        let fragment = format!(
            "-- import workers {file}.xlsx --lang zh --server 127.0.0.1:50051 --token \"${name}\""
        );
        let out = cli(md, &fragment, tokens, server, cwd);
        assert_quoted(md.quote(), &out.all);
    }

    let huitong = server.clients_with(Some(&tokens[1].1));
    let get = |id: &str| pb::GetWorkerRequest { id: id.into() };
    md.command(r#"-H "authorization: Bearer $HUITONG" -d '{"id":"w-000001"}'"#);
    let own = huitong
        .workers()
        .get_worker(get("w-000001"))
        .await
        .unwrap()
        .into_inner()
        .worker
        .unwrap();
    let q = |s: &str| format!("\"{s}\"");
    assert_fields(
        md.quote(),
        &[("id", q(&own.id)), ("householdId", q(&own.household_id))],
    );
    md.command(r#"-H "authorization: Bearer $HUITONG" -d '{"id":"431226/w-000001"}'"#);
    let refused = huitong
        .workers()
        .get_worker(get("431226/w-000001"))
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);
    let out = cli(
        md,
        "-- import workers ledger.xlsx --lang zh --server 127.0.0.1:50051 --token \"$HUITONG\"",
        tokens,
        server,
        cwd,
    );
    assert_quoted(md.quote(), &out.all);
    md.command(r#"-H "authorization: Bearer $TOKEN" -d '{"id":"w-000001"}'"#);
    let refused = server
        .workers()
        .get_worker(get("w-000001"))
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);

    // "households with labour rose by 2,801 ..., and so did the
    // zero-employment households"
    let rose: u64 = md
        .between("households with labour rose by ", ' ')
        .replace(',', "")
        .parse()
        .unwrap();
    let after = households(server).await;
    assert_eq!(after.0 - before.0, rose, "households with labour");
    assert_eq!(after.1 - before.1, rose, "zero-employment households");
}
