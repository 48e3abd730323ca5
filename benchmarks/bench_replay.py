"""Does a deterministic round give the same placements in separate processes, on an idle or a busy machine?

    .venv/bin/python benchmarks/bench_replay.py --size region --seed 1 --time-limit 4 --runs 3
    .venv/bin/python benchmarks/bench_replay.py --size region --seed 1 --time-limit 4 --runs 5 --load 4
    .venv/bin/python benchmarks/bench_replay.py ... --cap-factor 10   # the wall-clock cap before 2026-11-27
    .venv/bin/python benchmarks/bench_replay.py ... --side-by-side    # CP-SAT's tasks two at a time

``staffing replay`` rests on this: the same snapshot and policy must give the same placements in another
process, on another day, on a machine doing other work.  Each run solves the generated round in a fresh
process with its own string hashing (``PYTHONHASHSEED``), so any order that hangs on Python's hashing shows;
``--load N`` keeps N busy-looping processes beside the solves, as a loaded server would.  Prints, per run, a
fingerprint of the placements, each stage's objective and deterministic seconds (CP-SAT's measure of the work
done), the wall time, and whether the run counts itself reproducible (no search near its wall-clock cap); then
whether all runs agree.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import time


def solve_once(size: str, seed: int, time_limit: float, cap_factor: float | None,
               side_by_side: bool = False) -> dict[str, object]:
    """One deterministic solve in this process: what a replay must reproduce."""
    from solver import solve
    from solver.cpsat import search
    from solver.policy import scenario
    from staffing.seed import generate

    if cap_factor:
        search.WALL_CLOCK_FACTOR = cap_factor
    started = time.perf_counter()
    policy = scenario("district_rules").with_(time_limit=time_limit).with_settings(
        interleave_batch=0 if side_by_side else 1)
    result = solve(generate(size, seed), policy)
    placements = sorted((a.teacher_id, a.vacancy_id or "") for a in result.assignments)
    return {"placements": hashlib.sha256(json.dumps(placements).encode()).hexdigest()[:12],
            "stages": {name: [row.objective, row.deterministic_seconds] for name, row in result.solve.stages.items()},
            "reproducible": result.solve.reproducible, "wall": round(time.perf_counter() - started, 1)}


def busy() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="region")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--load", type=int, default=0, help="busy-looping processes beside the solves")
    parser.add_argument("--cap-factor", type=float, default=None,
                        help="the wall-clock cap in multiples of the deterministic budget (default: the solver's)")
    parser.add_argument("--side-by-side", action="store_true", help="CP-SAT's tasks two at a time (place --side-by-side)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: solve once, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(solve_once(args.size, args.seed, args.time_limit, args.cap_factor, args.side_by_side)))
        return
    hogs = [multiprocessing.Process(target=busy, daemon=True) for _ in range(args.load)]
    for hog in hogs:
        hog.start()
    try:
        outcomes = []
        for run in range(1, args.runs + 1):
            env = {**os.environ, "PYTHONHASHSEED": str(run)}
            command = [sys.executable, __file__, "--one", "--size", args.size, "--seed", str(args.seed),
                       "--time-limit", str(args.time_limit)]
            if args.cap_factor:
                command += ["--cap-factor", str(args.cap_factor)]
            if args.side_by_side:
                command.append("--side-by-side")
            child = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            outcome = json.loads(child.stdout.splitlines()[-1])
            outcomes.append(outcome)
            stages = ", ".join(f"{name} {value} ({work} det s)" for name, (value, work) in outcome["stages"].items())
            print(f"run {run} (PYTHONHASHSEED={run}, load {args.load}): placements {outcome['placements']}, "
                  f"{stages}, {outcome['wall']} s, reproducible={outcome['reproducible']}", flush=True)
    finally:
        for hog in hogs:
            hog.terminate()
    same = len({(o["placements"], json.dumps(o["stages"])) for o in outcomes}) == 1
    cap = f"cap {args.cap_factor:g}x" if args.cap_factor else "the solver's cap"
    mode = ", tasks side by side" if args.side_by_side else ""
    print(f"{args.size} seed {args.seed}, {args.time_limit:g} s deterministic{mode}, {cap}, {args.runs} processes, load "
          f"{args.load}: {'all the same placements and work' if same else 'THE RUNS DIFFER'}")


if __name__ == "__main__":
    main()
