"""A recorded round end to end, as a district runs it: `staffing seed`, `import`, then `place`, timed.

    .venv/bin/python benchmarks/bench_place.py [--size state] [--seed 7] [--time-limit 30] [--parallel]
                                               [--bundle DIR] [--keep DIR]

Each command runs in its own process on a fresh SQLite file, so the figures are what a user of `staffing place`
sees: wall seconds and peak memory (the child's maximum resident set) of each step, then the recorded run's
solver, per-stage values and proven gaps, and the checker's verdict, read back from the database.  Asserts
nothing: the targets (a state in <= 5 min and <= 4 GB on 2 cores; a district no worse than before at 30 s) are
read off its output (benchmarks/README.md, "State scale").  The load average is printed: a shared machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAFFING = str(Path(sys.executable).with_name("staffing"))


def step(name: str, *args: str, env: dict[str, str]) -> None:
    """Run one `staffing` command in a child process; print its wall time and the peak memory of children so far."""
    t0 = time.perf_counter()
    done = subprocess.run([STAFFING, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  {name:<44} {wall:7.1f} s wall   peak {peak:7.0f} MB (largest child so far)", flush=True)
    if done.returncode != 0:
        sys.exit(f"{name} failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="state")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--parallel", action="store_true", help="place --parallel (both cores, wall clock)")
    ap.add_argument("--bundle", help="a bundle folder to import instead of generating --size")
    ap.add_argument("--keep", help="folder for the bundle and database (default: a temporary one)")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_place_"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bench.db"
    db.unlink(missing_ok=True)
    env = {**os.environ, "STAFFING_DATABASE_URL": f"sqlite:///{db}"}
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}; working in {work}")
    bundle = args.bundle
    if not bundle:
        bundle = str(work / f"{args.size}-{args.seed}")
        step(f"seed --size {args.size} --seed {args.seed}", "seed", "--size", args.size, "--seed", str(args.seed),
             "--out", bundle, env=env)
    step("import", "import", bundle, env=env)
    place = ["place", "--time-limit", str(args.time_limit), "--out", str(work / "placements.csv"), "--quiet"]
    step("place" + (" --parallel" if args.parallel else ""), *place, *(["--parallel"] if args.parallel else []), env=env)
    report(db)
    print(f"load average after: {os.getloadavg()}")


def report(db: Path) -> None:
    """The recorded run's figures, from the database: each stage's value and its tightest proven gap."""
    import sqlite3

    from solver.solve_figures import SolveFigures, describe_gap

    row = sqlite3.connect(db).execute("select figures_json from placement_run order by id desc limit 1").fetchone()
    figures = json.loads(row[0])
    solve = SolveFigures.from_dict(figures.get("solve"))
    print(f"recorded: solver {solve.solver}, wall time in the solver {solve.wall_time} s, "
          f"{figures.get('placed'):,} placed of {figures.get('teachers'):,} teachers, "
          f"{figures.get('rule_violations')} rule violations (independent checker)")
    for proven in solve.proven_gaps():
        print(f"  {describe_gap(proven)}")


if __name__ == "__main__":
    main()
