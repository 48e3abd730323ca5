"""Trade-off sweep benchmark: wall time of scenarios x draws and the solver gap each time limit leaves.

    .venv/bin/python benchmarks/bench_tradeoffs.py --size region --draws 20 --time-limit 2
    .venv/bin/python benchmarks/bench_tradeoffs.py --size region --draws 2 --time-limit 0.5 --time-limit 5 \
        --scenario district_rules --scenario all_traditional --scenario all_mutual_consent

Prints figures, asserts nothing; the protocol and the current figures are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import time

from staffing.analysis import run_tradeoffs
from staffing.sweep import default_processes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="region")
    parser.add_argument("--city", default=None)
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, action="append")
    parser.add_argument("--scenario", action="append")
    parser.add_argument("--processes", type=int, default=default_processes())
    args = parser.parse_args()
    for limit in args.time_limit or [2.0]:
        load = os.getloadavg()[0]
        start = time.perf_counter()
        report = run_tradeoffs(args.size, args.seed, args.draws, args.scenario, limit, city=args.city,
                               processes=args.processes, bar=True)
        wall = time.perf_counter() - start
        gaps = report.gaps()
        print(f"size {args.size}, {args.draws} draws, {report.totals['scenario'].nunique()} scenarios, "
              f"time limit {limit:g} s, {args.processes} processes: {wall:,.0f} s wall "
              f"(load average {load:.1f} at the start, {os.cpu_count()} cores)")
        print(f"  solver gap: mean {100 * gaps['mean_gap'].mean():.2f}%, worst {100 * gaps['max_gap'].max():.2f}%, "
              f"proven optimal on {int(gaps['optimal_draws'].sum())} of {len(report.totals)} scenario draws")
        print(gaps.round(4).to_string())


if __name__ == "__main__":
    main()
