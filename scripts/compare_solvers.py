#!/usr/bin/env python3
"""Re-solve a jobbridge batch export with OR-Tools and LEMON; print times and agreement.

    # one run: jobbridge's batch (dry run, with export), then the anchors on its export
    python3 scripts/compare_solvers.py --data-dir DATA --jobbridge target/release/jobbridge
    # or only re-solve an existing export
    python3 scripts/compare_solvers.py --export DIR

Needs `pip install ortools` (SimpleMinCostFlow, cost-scaling push-relabel) and g++; LEMON's
NetworkSimplex is used when `apt-get install liblemon-dev` has put its headers in place.
The network is the batch's household-first min-cost flow (see
src/matching/assign/optimal.rs), built by scripts/compare_solvers.cpp from the CSV files.
Exits 1 when any solver disagrees with jobbridge on households covered or total score.

`--check-prices N` also checks the run's minimal prices (prices.csv) with OR-Tools: for N
contested openings and N others, it adds one slot and solves again; the gain in households and
score must be the price (zero for an opening that is not contested).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def build_helper(workdir, use_lemon=True):
    """Compile compare_solvers.cpp, with LEMON when its headers exist (and it is wanted)."""
    if shutil.which("g++") is None:
        sys.exit("g++ is needed to read the export (apt-get install g++)")
    exe = os.path.join(workdir, "compare_solvers")
    lemon = use_lemon and os.path.exists("/usr/include/lemon/network_simplex.h")
    cmd = ["g++", "-O2", "-std=c++17", "-o", exe, os.path.join(HERE, "compare_solvers.cpp")]
    if lemon:
        cmd[1:1] = ["-DHAVE_LEMON"]
        cmd += ["-llemon"]
    subprocess.run(cmd, check=True)
    return exe, lemon


def run_jobbridge(binary, data_dir, export, policy):
    """One dry-run batch with export; returns its phase times in seconds."""
    started = time.monotonic()
    out = subprocess.run(
        [binary, "batch", "--data-dir", data_dir, "--dry-run", "--export", export,
         "--policy", policy],
        check=True, capture_output=True, text=True,
    )
    wall = time.monotonic() - started
    text = out.stdout + out.stderr
    m = re.search(r"scoring (\d+) ms, solving (\d+) ms, saving (\d+) ms", text)
    if m is None:
        sys.exit("could not read the batch's phase times from its output:\n" + text)
    scoring, solving, saving = (int(x) / 1000 for x in m.groups())
    return {"wall": wall, "scoring": scoring, "solving": solving, "saving": saving}


def read_graph(graph):
    import numpy as np

    with open(graph, "rb") as f:
        nodes, arcs, households, big = np.fromfile(f, dtype=np.int64, count=4)
        supply = np.fromfile(f, dtype=np.int64, count=nodes)
        tail = np.fromfile(f, dtype=np.int32, count=arcs)
        head = np.fromfile(f, dtype=np.int32, count=arcs)
        cap = np.fromfile(f, dtype=np.int64, count=arcs)
        cost = np.fromfile(f, dtype=np.int64, count=arcs)
    return nodes, households, big, supply, tail, head, cap, cost


def ortools_cost(nodes, supply, tail, head, cap, cost):
    import numpy as np
    from ortools.graph.python import min_cost_flow

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
    flow.set_nodes_supplies(np.arange(nodes, dtype=np.int32), supply)
    if flow.solve() != flow.OPTIMAL:
        sys.exit("OR-Tools found no optimum")
    return flow.optimal_cost()


def check_prices(export, graph, sample):
    """One more slot at sampled openings, solved by OR-Tools: the gain is the price."""
    nodes, _, big, supply, tail, head, cap, cost = read_graph(graph)
    big, sink = int(big), int(nodes) - 1
    with open(os.path.join(export, "workers.csv")) as f:
        n = sum(1 for _ in f) - 1
    with open(os.path.join(export, "openings.csv")) as f:
        openings = [line.split(",")[0] for line in f.read().splitlines()[1:]]
    prices = {}
    with open(os.path.join(export, "prices.csv")) as f:
        for line in f.read().splitlines()[1:]:
            o, households, price = line.split(",")
            sign = -1 if price.startswith("-") else 1
            whole, frac = price.lstrip("-").split(".")
            prices[o] = int(households) * big + sign * (int(whole) * 10**6 + int(frac))
    slot_arc = {int(t) - n: a for a, (t, h) in enumerate(zip(tail, head))
                if h == sink and n <= t < n + len(openings)}
    contested = [o for o in range(len(openings)) if openings[o] in prices and o in slot_arc]
    others = [o for o in range(len(openings)) if openings[o] not in prices and o in slot_arc]
    pick = lambda xs: xs[:: max(1, len(xs) // sample)][:sample]
    base = ortools_cost(nodes, supply, tail, head, cap, cost)
    wrong = 0
    for o in pick(contested) + pick(others):
        more = cap.copy()
        more[slot_arc[o]] += 1
        gain = base - ortools_cost(nodes, supply, tail, head, more, cost)
        want = prices.get(openings[o], 0)
        if gain != want:
            wrong += 1
            print(f"  price of {openings[o]}: OR-Tools gains {gain}, prices.csv says {want}")
    checked = len(pick(contested)) + len(pick(others))
    print(f"  prices: {checked} openings given one more slot and re-solved by OR-Tools "
          f"({len(pick(contested))} of {len(contested)} contested); "
          f"{'all agree' if wrong == 0 else f'{wrong} DISAGREE'}")
    return wrong == 0


def solve_ortools(graph, repeat):
    import numpy as np
    from ortools.graph.python import min_cost_flow

    nodes, households, big, supply, tail, head, cap, cost = read_graph(graph)
    results = []
    for _ in range(repeat):
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
        flow.set_nodes_supplies(np.arange(nodes, dtype=np.int32), supply)
        started, cpu0 = time.monotonic(), time.process_time()
        status = flow.solve()
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu0
        if status != flow.OPTIMAL:
            results.append({"solver": "ortools", "seconds": seconds, "optimal": False,
                            "status": int(status)})
            continue
        c = flow.optimal_cost()
        uncovered = -(-c // int(big))  # ceil: c = big * U - S with 0 <= S < big
        results.append({
            "solver": "ortools-min-cost-flow", "seconds": seconds, "cpu_seconds": cpu,
            "optimal": True,
            "households_covered": int(households) - uncovered,
            "total_score_micro": int(big) * uncovered - c,
        })
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", help="run `jobbridge batch --dry-run --export` here first")
    ap.add_argument("--jobbridge", default="target/release/jobbridge")
    ap.add_argument("--policy", default="optimal")
    ap.add_argument("--export", help="export folder (default: a temporary one)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="batch runs and solves per anchor; medians shown")
    ap.add_argument("--no-ortools", action="store_true")
    ap.add_argument("--check-prices", type=int, default=0, metavar="N",
                    help="re-solve with one more slot at N contested and N other openings")
    ap.add_argument("--no-lemon", action="store_true",
                    help="skip LEMON even where it is installed (it takes ~18 min at scale 80)")
    args = ap.parse_args()
    if not args.data_dir and not args.export:
        ap.error("give --data-dir, --export or both")

    workdir = tempfile.mkdtemp(prefix="jobbridge-compare-")
    export = args.export or os.path.join(workdir, "export")
    rows = []
    if args.data_dir:
        runs = [run_jobbridge(args.jobbridge, args.data_dir, export, args.policy)
                for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append((f"jobbridge batch, median of {len(runs)} (scoring / solving incl. "
                     "certificate check / saving incl. export; process wall)",
                     f"{med['scoring']:.2f} / {med['solving']:.2f} / {med['saving']:.2f} s;"
                     f" {med['wall']:.2f} s (solving runs "
                     f"{', '.join('%.2f' % r['solving'] for r in runs)})"))
    exe, lemon = build_helper(workdir, not args.no_lemon)
    graph = os.path.join(workdir, "graph.bin")
    out = subprocess.run([exe, export, graph, str(args.repeat)], check=True,
                         capture_output=True, text=True).stdout
    results = [json.loads(line) for line in out.splitlines() if line.strip()]
    read = next(r for r in results if r["solver"] == "read")
    own = next(r for r in results if r["solver"] == "jobbridge-export")
    anchors = [r for r in results if r["solver"] == "lemon-network-simplex"]
    if not args.no_ortools:
        anchors += solve_ortools(graph, args.repeat)
    print(f"export {export}: {read['workers']} workers, {read['openings']} openings, "
          f"{read['edges']} pairs; network {read['nodes']} nodes, {read['arcs']} arcs")
    print(f"jobbridge's assignment: {own['households_covered']} households covered, "
          f"total score {own['total_score_micro'] / 1e6:.6f}")
    for label, text in rows:
        print(f"  {label}: {text}")
    agree = True
    for name in sorted({r["solver"] for r in anchors}):
        runs = [r for r in anchors if r["solver"] == name]
        times = [r["seconds"] for r in runs]
        cpus = [r["cpu_seconds"] for r in runs if "cpu_seconds" in r]
        same = all(r.get("optimal") and r["households_covered"] == own["households_covered"]
                   and r["total_score_micro"] == own["total_score_micro"] for r in runs)
        agree &= same
        r = runs[0]
        value = (f"{r['households_covered']} covered, {r['total_score_micro'] / 1e6:.6f}"
                 if r.get("optimal") else f"not optimal: {r}")
        cpu = f", CPU median {statistics.median(cpus):.2f} s" if cpus else ""
        print(f"  {name}: solve median {statistics.median(times):.2f} s{cpu} "
              f"(runs {', '.join(f'{t:.2f}' for t in times)}); {value}; "
              f"{'agrees' if same else 'DISAGREES'}")
    if args.check_prices:
        agree &= check_prices(export, graph, args.check_prices)
    if not lemon and not args.no_lemon:
        print("  (LEMON not installed: apt-get install liblemon-dev)")
    if not args.export:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
