"""State-scale benchmark: the sparse instance, deferred acceptance and the stage bounds on `seed --size state`.

    .venv/bin/python benchmarks/bench_state.py [--size state] [--seed 7] [--scenario district_rules] [--bundle DIR]
                                                [--search SECONDS]

Prints, per step, wall and CPU seconds and the process's peak memory so far; then each stage's value of the
placement taken (the best of plain and relaxation-guided deferred acceptance, then improved by the CP-SAT window
search of solver/sparse_search.py within --search deterministic seconds; 0 skips it), its flow-relaxation bound
and the proven gap, and the independent checker's verdict.  Asserts nothing: the targets
(placed with every rule in <= 5 min and <= 4 GB on 2 cores, deferred acceptance <= 2 s) are read off its output
(benchmarks/README.md, "State scale").  The machine's load is printed too: timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from solver.checker import check
from solver.policy import scenario
from solver.sparse_search import improve
from solver.sparse import (STAGES, SparseInstance, assignments, best_deferred_acceptance, deferred_acceptance,
                           relaxation_bound)
from staffing.bundle import read_bundle
from staffing.seed import generate


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Steps:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self, name: str, fn, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*args)
        print(f"  {name:<46} {time.perf_counter() - wall:7.2f} s wall {time.process_time() - cpu:7.2f} s cpu"
              f"   peak {peak_mb():7.0f} MB", flush=True)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="state")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scenario", default="district_rules")
    ap.add_argument("--bundle", help="a bundle folder to read instead of generating --size")
    ap.add_argument("--search", type=float, default=40.0,
                    help="deterministic seconds of CP-SAT window search after deferred acceptance (0: none)")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    step = Steps()
    district = (step(f"read {args.bundle}", read_bundle, args.bundle) if args.bundle
                else step(f"generate --size {args.size}", generate, args.size, args.seed))
    district = district.pool()  # employed teachers (rosters) are never placed: as `staffing import` keeps them out
    print(f"  {len(district.schools):,} schools, {len(district.teachers):,} teachers, {len(district.vacancies):,} posts,"
          f" {len(district.preferences):,} preferences ({len(district.preferences) / len(district.teachers):.2f} a teacher)")
    round_start = time.perf_counter()
    sp = step("sparse instance", SparseInstance, district, scenario(args.scenario))
    z = sp.sizes
    print(f"  {z.groups:,} posting groups; {z.explicit_pairs:,} explicit pairs, {z.classes} classes, {z.memberships:,}"
          f" memberships, {z.class_arcs:,} class arcs: {z.pairs:,} in all, where the dense instance lists"
          f" {z.dense_pairs:,}")
    step("deferred acceptance (compile or cache)", deferred_acceptance, sp)
    step("deferred acceptance", deferred_acceptance, sp)
    placed, starts = step("best of plain and guided deferred acceptance", best_deferred_acceptance, sp)
    bounds = {s: step(f"relaxation bound: {s}", relaxation_bound, sp, s) for s in STAGES}
    taken = placed
    if args.search > 0:
        placed, stats = step(f"window search ({args.search:g} deterministic s)", improve, sp, placed, args.search)
        print(f"  {stats.passes} passes, {stats.windows} windows, {stats.windows_improved} improved,"
              f" {stats.deterministic_seconds:.1f} deterministic s, reproducible: {stats.reproducible}")
        for n, values in enumerate(stats.per_pass, 1):
            print(f"  after pass {n}: (must-place, reserve, welfare) = {list(values)}")
    rows = step("assignments", assignments, sp, placed)
    violations = step("independent checker", check, district, rows, sp.policy)
    print(f"round (instance to checker): {time.perf_counter() - round_start:.1f} s wall, peak {peak_mb():.0f} MB")
    print(f"checker: {len(violations)} violations")
    for name in (n for n in starts if n != "used"):
        print(f"  {name:<20} (must-place, reserve, welfare) = {starts[name]}{'   <- used' if name == starts['used'] else ''}")
    if args.search > 0:
        print(f"  {'window search':<20} (must-place, reserve, welfare) = {list(stats.after)}")
    for s in STAGES:
        value = sp.placement_values(taken, s)
        gap = abs(bounds[s] - value) / max(1, abs(bounds[s]))
        print(f"  {s:<11} deferred acceptance {value:>12,}   proven gap {gap:7.2%}")
    for s in STAGES:
        value = sp.placement_values(placed, s)
        gap = abs(bounds[s] - value) / max(1, abs(bounds[s]))
        print(f"  {s:<11} placed {value:>12,}   relaxation bound {bounds[s]:>12,}   proven gap {gap:7.2%}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
