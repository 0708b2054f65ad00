//! Re-solves a batch export (`jobbridge batch --export DIR`) with the
//! production solver and prints the time of each solve and the objective,
//! so that the solver can be timed on a big graph without the store, the
//! scoring or the saving around it.
//!
//! ```sh
//! RUST_LOG=jobbridge=debug cargo run --release --example solve_export -- DIR [REPEAT]
//! ```
//!
//! The export lists workers, openings and each worker's edges in the
//! batch's own order, so the problem read back is the one the batch solved
//! (same indices, same tie-breaking).

use std::collections::HashMap;
use std::time::Instant;

use jobbridge::batch::audit::micro_decimal_u64;
use jobbridge::matching::assign::{simplex, Control, Problem};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `RUST_LOG=jobbridge=debug` shows the start, the pivots and each phase.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: solve_export DIR [REPEAT]")?);
    let repeat: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(1);
    let started = Instant::now();
    let p = read(&dir)?;
    println!(
        "read {} workers, {} openings, {} pairs in {:.2} s",
        p.workers(),
        p.openings(),
        p.edges(),
        started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for run in 0..repeat {
        let started = Instant::now();
        let (solution, certificate) = simplex::solve(&p, &Control::default())?;
        let seconds = started.elapsed().as_secs_f64();
        times.push(seconds);
        let objective = solution.check(&p)?;
        let verified = certificate.verify(&p, &solution).is_ok();
        println!(
            "run {}: {seconds:.2} s, households covered {}, total score {}, certificate {}",
            run + 1,
            objective.households_covered,
            micro_decimal_u64(objective.total_score),
            if verified { "verified" } else { "FAILED" }
        );
    }
    times.sort_by(f64::total_cmp);
    println!("median {:.2} s", times[times.len() / 2]);
    Ok(())
}

fn read(dir: &std::path::Path) -> Result<Problem, Box<dyn std::error::Error>> {
    let text = |name: &str| std::fs::read_to_string(dir.join(name));
    let mut opening_index = HashMap::new();
    let mut slots = Vec::new();
    for line in text("openings.csv")?.lines().skip(1) {
        let (id, s) = line.split_once(',').ok_or("openings.csv: two columns")?;
        opening_index.insert(id.to_string(), slots.len() as u32);
        slots.push(s.parse()?);
    }
    let mut worker_index = HashMap::new();
    let mut household_index: HashMap<String, u32> = HashMap::new();
    let (mut household, mut zero_household) = (Vec::new(), Vec::new());
    for line in text("workers.csv")?.lines().skip(1) {
        let mut cols = line.split(',');
        let (id, h, zero) = (cols.next(), cols.next(), cols.next());
        let (Some(id), Some(h), Some(zero)) = (id, h, zero) else {
            return Err("workers.csv: three columns".into());
        };
        worker_index.insert(id.to_string(), household.len());
        let next = household_index.len() as u32;
        let hi = *household_index.entry(h.to_string()).or_insert(next);
        if hi == next {
            zero_household.push(zero == "true");
        }
        household.push(hi);
    }
    let mut rows: Vec<Vec<(u32, u32)>> = vec![Vec::new(); household.len()];
    for line in text("edges.csv")?.lines().skip(1) {
        let mut cols = line.split(',');
        let (Some(w), Some(o), Some(s)) = (cols.next(), cols.next(), cols.next()) else {
            return Err("edges.csv: three columns".into());
        };
        let w = *worker_index.get(w).ok_or("edges.csv: unknown worker")?;
        let o = *opening_index.get(o).ok_or("edges.csv: unknown opening")?;
        let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
        let micro =
            whole.parse::<u32>()? * 1_000_000 + format!("{frac:0<6}")[..6].parse::<u32>()?;
        rows[w].push((o, micro));
    }
    Ok(Problem::from_rows(rows, slots, household, zero_household))
}
