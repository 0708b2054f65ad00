//! The audit export: CSV files that let anyone re-check a run with
//! independent tools: the problem (edges, openings, workers), the plan
//! (assignment), the plan it was kept close to (anchor: the previous run's
//! assignments the third tier counts against) and the minimal prices of
//! the contested openings (prices: one more slot's gain in households and
//! points, which re-solving with that slot added reproduces). Scores are the solver's integer micro-points written
//! as decimals with exactly six places (`0.731250`), so an exact solver on
//! these files reproduces the objective to the last digit.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::matching::assign::prices::Duals;
use crate::matching::assign::{Problem, Solution};
use crate::matching::BatchInput;

/// The audit folder of run `id` under the audit directory `dir`: the one
/// place that names it (the batch writes it, the API streams it, the CLI
/// copies it).
pub fn run_folder(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("run-{id}"))
}

/// Workers per parallel piece of `edges.csv`.
const EDGE_CHUNK: usize = 2048;

/// The files, in the order they are written.
pub const FILES: [&str; 6] = [
    "edges.csv",
    "openings.csv",
    "workers.csv",
    "assignment.csv",
    "anchor.csv",
    "prices.csv",
];

/// What the exact policy adds to a run's audit files.
pub struct Exact<'a> {
    /// Per worker index: the opening index the plan was kept close to, or
    /// `u32::MAX`.
    pub anchor: &'a [u32],
    /// The minimal prices.
    pub duals: &'a Duals,
}

/// Micro-points shown as a decimal with six places, no exponent.
struct Micro(u64);

impl std::fmt::Display for Micro {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// `micro` as a decimal with six places, no exponent.
pub fn micro_decimal(micro: u32) -> String {
    Micro(micro.into()).to_string()
}

/// As [`micro_decimal`] for totals.
pub fn micro_decimal_u64(micro: u64) -> String {
    Micro(micro).to_string()
}

/// Writes the files into `dir` (created if missing); `anchor.csv` and
/// `prices.csv` hold only their headers for a policy without them.
pub fn write(
    dir: &Path,
    input: &BatchInput,
    solution: &Solution,
    exact: Option<Exact<'_>>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let p: &Problem = &input.problem;
    let mut edges = BufWriter::with_capacity(1 << 20, File::create(dir.join("edges.csv"))?);
    writeln!(edges, "worker_id,opening_id,score")?;
    // Formatted in parallel, a window of worker chunks at a time, and
    // written in order.
    let chunks: Vec<std::ops::Range<usize>> = (0..p.workers())
        .step_by(EDGE_CHUNK)
        .map(|w| w..(w + EDGE_CHUNK).min(p.workers()))
        .collect();
    for window in chunks.chunks(rayon::current_num_threads().max(1) * 4) {
        let texts: Vec<Vec<u8>> = window
            .par_iter()
            .map(|workers| {
                let mut text = Vec::with_capacity(64 * workers.len());
                for w in workers.clone() {
                    for e in p.row(w) {
                        // Writing to a Vec cannot fail.
                        let _ = writeln!(
                            text,
                            "{},{},{}",
                            input.worker_ids[w],
                            input.opening_ids[p.edge_opening[e] as usize],
                            Micro(p.edge_score[e].into())
                        );
                    }
                }
                text
            })
            .collect();
        for text in texts {
            edges.write_all(&text)?;
        }
    }
    edges.into_inner()?.sync_all()?;
    let mut openings = BufWriter::new(File::create(dir.join("openings.csv"))?);
    writeln!(openings, "opening_id,slots")?;
    for (o, id) in input.opening_ids.iter().enumerate() {
        writeln!(openings, "{id},{}", p.slots[o])?;
    }
    openings.into_inner()?.sync_all()?;
    let mut workers = BufWriter::new(File::create(dir.join("workers.csv"))?);
    writeln!(workers, "worker_id,household_id,zero_employment_household")?;
    for (w, id) in input.worker_ids.iter().enumerate() {
        let h = p.household[w] as usize;
        writeln!(
            workers,
            "{id},{},{}",
            input.household_ids[h], p.zero_household[h]
        )?;
    }
    workers.into_inner()?.sync_all()?;
    let mut assignment = BufWriter::new(File::create(dir.join("assignment.csv"))?);
    writeln!(assignment, "worker_id,opening_id")?;
    for (w, id) in input.worker_ids.iter().enumerate() {
        if let Some(o) = solution.opening(p, w) {
            writeln!(assignment, "{id},{}", input.opening_ids[o as usize])?;
        }
    }
    assignment.into_inner()?.sync_all()?;
    let mut anchor = BufWriter::new(File::create(dir.join("anchor.csv"))?);
    writeln!(anchor, "worker_id,opening_id")?;
    let mut prices = BufWriter::new(File::create(dir.join("prices.csv"))?);
    writeln!(prices, "opening_id,households,price")?;
    if let Some(exact) = exact {
        for (w, id) in input.worker_ids.iter().enumerate() {
            if let Some(o) = input.opening_ids.get(exact.anchor[w] as usize) {
                writeln!(anchor, "{id},{o}")?;
            }
        }
        for (o, price) in exact.duals.prices.iter().enumerate() {
            if price.contested() {
                let sign = if price.points < 0 { "-" } else { "" };
                writeln!(
                    prices,
                    "{},{},{sign}{}",
                    input.opening_ids[o],
                    price.households,
                    Micro(price.points.unsigned_abs())
                )?;
            }
        }
    }
    anchor.into_inner()?.sync_all()?;
    prices.into_inner()?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_decimals_no_exponent() {
        assert_eq!(micro_decimal(731_250), "0.731250");
        assert_eq!(micro_decimal(1), "0.000001");
        assert_eq!(micro_decimal(0), "0.000000");
        assert_eq!(micro_decimal(1_000_000), "1.000000");
    }
}
