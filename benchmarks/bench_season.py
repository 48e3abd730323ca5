"""How long does a re-solve after a round's answers take on the 1,000-school district (target: <= 10 s wall)?

    .venv/bin/python benchmarks/bench_season.py --seed 7 --first-limit 30 --time-limit 6
    .venv/bin/python benchmarks/bench_season.py --database /tmp/season.db --repeat 3   # keep the answered
                                                                                    # round, re-solve 3 times

Protocol: generate ``staffing seed --size district`` into a fresh SQLite database; solve and publish a first
round (``--parallel``, ``--first-limit`` seconds); answer it as a district would (``--decline`` of the offers
declined, the rest accepted, which opens the vacancy chains of voluntary transfers); then time the second
round end to end as ``staffing place --parallel --time-limit T`` runs it: the snapshot of what is still open,
the solve, the independent check, the audit and recording the run, step by step.  With ``--database`` the
answered first round is kept in that file and reused on the next call, so the re-solve alone can be measured
again (a re-solve records its run but publishes nothing: the state stays the same).  Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="district")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--first-limit", type=float, default=30.0, help="the first round's time limit (s)")
    parser.add_argument("--time-limit", type=float, default=6.0, help="the re-solve's time limit (s)")
    parser.add_argument("--decline", type=float, default=0.1, help="share of the offers declined")
    parser.add_argument("--database", help="SQLite file keeping the answered first round between calls")
    parser.add_argument("--repeat", type=int, default=1, help="re-solves to time")
    args = parser.parse_args()

    from staffing.db import get_engine

    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.database or Path(folder) / "season.db")
        url = f"sqlite:///{path}"
        if not (args.database and path.exists()):
            prepare(url, args)
        for _ in range(args.repeat):
            resolve(url, args.time_limit)
        get_engine(url).dispose()


def prepare(url: str, args: argparse.Namespace) -> None:
    """A district with its first round published and answered."""
    from staffing import season
    from staffing.db import init_db, session_scope
    from staffing.seed import generate
    from staffing.store import save_district

    init_db(url)
    t0 = time.perf_counter()
    district = generate(args.size, args.seed)
    with session_scope(url) as s:
        save_district(s, district)
    print(f"{args.size} seed {args.seed}: {len(district.schools)} schools, {len(district.teachers)} teachers, "
          f"{len(district.vacancies)} vacancies; imported in {time.perf_counter() - t0:.1f} s")
    first, wall = timed_round(url, args.first_limit)
    print(f"round 1: {first.figures['placed']} placed, {first.figures['rule_violations']} violations, "
          f"{wall:.1f} s wall")
    t0 = time.perf_counter()
    rng = random.Random(args.seed)
    with session_scope(url) as s:
        _, offers = season.publish(s, first.run.id, "bench")
    print(f"published in {time.perf_counter() - t0:.1f} s: {len(offers)} offers")
    t0 = time.perf_counter()
    with session_scope(url) as s:
        answers = {o.teacher_id: "decline" if rng.random() < args.decline and o.kind != "forced" else "accept"
                   for o in offers}
        for tid, answer in answers.items():
            season.respond(s, tid, answer, "bench")
        state = season.state(s)
    declined = sum(a == "decline" for a in answers.values())
    print(f"answered in {time.perf_counter() - t0:.1f} s: {declined} declined, {len(offers) - declined} accepted; "
          f"now {state.open_posts} open posts, {sum(state.pool_by_status.values())} teachers in the pool")


def timed_round(url: str, limit: float):
    from solver.policy import scenario
    from staffing.db import session_scope
    from staffing.runs import run_placement

    policy = scenario("district_rules").with_(time_limit=limit, search="parallel")
    started = time.perf_counter()
    with session_scope(url) as s:
        outcome = run_placement(s, policy, "bench")
    return outcome, time.perf_counter() - started


def resolve(url: str, limit: float) -> None:
    """The re-solve as `staffing place --parallel` runs it, with the wall time of each step."""
    from solver.policy import scenario
    from staffing.db import session_scope
    from staffing.runs import evaluate, run_snapshot, start_run, store_result

    policy = scenario("district_rules").with_(time_limit=limit, search="parallel")
    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    with session_scope(url) as s:
        run = start_run(s, policy, "bench")
        steps["snapshot"] = time.perf_counter() - t0
        district, policy = run_snapshot(run)
        t = time.perf_counter()
        _, result, figures, _, _ = evaluate(district, policy)
        steps["solve, check, audit"] = time.perf_counter() - t
        t = time.perf_counter()
        store_result(s, run.id, result, figures)
    steps["record"] = time.perf_counter() - t
    wall = time.perf_counter() - t0
    print(f"re-solve (--parallel --time-limit {limit:g}): {wall:.1f} s wall end to end ("
          + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
          + f"; solver {result.solve.wall_time} s): {figures['teachers']} teachers x {figures['vacancies']} "
          f"vacancies, {figures['placed']} placed, {figures['rule_violations']} violations")


if __name__ == "__main__":
    main()
