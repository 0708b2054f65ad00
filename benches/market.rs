//! The market simulation on the Huaihua demo data (scale 1, and scale 10
//! by default too): each seeking worker applies to their top k openings
//! ranked by score (plain) or by score minus the opening's minimal price
//! (capacity-aware), openings hire by score up to their free slots, rounds
//! until nothing changes (see `matching::assign::market`). Also
//! capacity-aware with ties going to the opening the optimum chose (which
//! the server knows from the last run), and the nightly optimum itself,
//! the upper bound. Prints a markdown table per scale, and why planned
//! workers' capacity-aware top 1 is not their planned opening.
//!
//! The same data and seeds as `benches/batch.rs`; every figure is
//! deterministic. Timings go to stderr.
//!
//! `cargo bench --bench market` (scales 1 and 10), or
//! `cargo bench --bench market -- --scale 10` (repeat the flag for more).

use std::time::Instant;

use jobbridge::matching::assign::market::{simulate, Outcome, Ranking};
use jobbridge::matching::assign::prices::Duals;
use jobbridge::matching::assign::{prices, simplex, Control, Problem, Solution};
use jobbridge::matching::{InputRequest, MatchConfig, MatchContext, Matcher, Pending};

const SEED: u64 = 1;
const YEAR: i32 = 2026;
/// Candidates scored per worker, as the nightly run does.
const PER_WORKER: usize = 100;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn context() -> MatchContext {
    MatchContext::on(today())
}

/// The `--scale` values given, or 1 and 10.
fn scales() -> Vec<f64> {
    let args: Vec<String> = std::env::args().collect();
    let given: Vec<f64> = args
        .windows(2)
        .filter(|pair| pair[0] == "--scale")
        .map(|pair| pair[1].parse().expect("--scale takes a number"))
        .collect();
    if given.is_empty() {
        vec![1.0, 10.0]
    } else {
        given
    }
}

/// The batch run's problem on the demo data at `scale`.
fn demo_problem(scale: f64) -> Problem {
    let data = jobbridge::demo::generate(scale, SEED, YEAR, today());
    let config = MatchConfig::default().normalised().unwrap();
    let matcher = Matcher::build(
        config,
        data.workers,
        data.openings.into_iter().map(|o| (o, 0)),
    );
    let input = matcher.batch_input(&InputRequest::new(
        &context(),
        PER_WORKER,
        &Pending::default(),
        &Control::default(),
    ));
    input.problem
}

fn row(name: &str, out: &Outcome, optimum: u64) {
    println!(
        "| {name} | {} | {:.1}% | {} | {:.2} | {} | {} |",
        out.hires,
        100.0 * out.hires as f64 / optimum.max(1) as f64,
        out.households_covered,
        out.applications_per_slot,
        out.most_applications_on_one_opening,
        out.rounds
    );
}

/// Why planned workers' capacity-aware top-1 is not their planned
/// opening: counts of (pointed at the plan, tied on net value with a
/// cheaper opening, tied at the same price, strictly better elsewhere).
fn ties(p: &Problem, plan: &Solution, duals: &Duals) -> [usize; 4] {
    let mut counts = [0; 4];
    let net = |e: usize| {
        let o = p.edge_opening[e] as usize;
        (
            i64::from(p.edge_score[e]) - duals.combined(o),
            duals.combined(o),
        )
    };
    for w in 0..p.workers() {
        let Some(planned) = plan.edge[w] else {
            continue;
        };
        let top = Ranking::Net(duals).order(p, w)[0];
        let ((mine, my_price), (best, best_price)) = (net(planned as usize), net(top as usize));
        let class = match () {
            _ if top == planned => 0,
            _ if best > mine => 3,
            _ if best_price < my_price => 1,
            _ => 2,
        };
        counts[class] += 1;
    }
    counts
}

fn run(scale: f64) {
    let started = Instant::now();
    let p = demo_problem(scale);
    eprintln!("scale {scale}: data and scoring {:.1?}", started.elapsed());
    let solving = Instant::now();
    let (plan, certificate) = simplex::solve(&p, &Control::default()).expect("not cancelled");
    let objective = plan.check(&p).expect("a feasible plan");
    eprintln!("scale {scale}: simplex {:.1?}", solving.elapsed());
    let pricing = Instant::now();
    let duals = prices::minimal(&p, &plan, &certificate);
    eprintln!("scale {scale}: minimal prices {:.1?}", pricing.elapsed());

    let slots: u64 = p.slots.iter().map(|&s| u64::from(s)).sum();
    let with_edges = (0..p.workers()).filter(|&w| !p.row(w).is_empty()).count();
    let contested = duals.prices.iter().filter(|x| x.contested()).count();
    let hires = plan.edge.iter().flatten().count() as u64;
    println!();
    println!(
        "### Scale {scale}: demo data of {} (seed {SEED})",
        today().format("%Y-%m-%d")
    );
    println!();
    println!(
        "{} seeking workers ({with_edges} with an eligible opening), {} openings, \
         {slots} free slots, {} scored pairs (best {PER_WORKER} per worker); \
         {contested} openings carry a price.",
        p.workers(),
        p.openings(),
        p.edges()
    );
    println!();
    println!(
        "| ranking | hires | % of optimum's hires | zero-employment households covered \
         | applications per slot | most applications on one opening | rounds |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let simulated = Instant::now();
    for (label, ranking) in [
        ("plain", Ranking::Plain),
        ("capacity-aware", Ranking::Net(&duals)),
        (
            "capacity-aware, ties to the plan",
            Ranking::NetTiesToPlan(&duals, &plan),
        ),
    ] {
        for k in [1, 3, 5] {
            let out = simulate(&p, ranking, k);
            row(&format!("{label}, top {k}"), &out, hires);
        }
    }
    println!(
        "| nightly optimum | {hires} | 100.0% | {} | – | – | – |",
        objective.households_covered
    );
    eprintln!("scale {scale}: nine markets {:.1?}", simulated.elapsed());
    let [home, cheaper, same, better] = ties(&p, &plan, &duals);
    println!();
    println!(
        "Of the {hires} workers the optimum places, {home} have it as their capacity-aware \
         top 1; {cheaper} tie on net value with a cheaper opening, {same} with one at the \
         same price (the index decides), and {better} see a strictly better one."
    );
    eprintln!("scale {scale}: in all {:.1?}", started.elapsed());
}

fn main() {
    println!(
        "## Market simulation, run {} UTC",
        chrono::Utc::now().format("%Y-%m-%d %H:%M")
    );
    for scale in scales() {
        run(scale);
    }
}
