"""How long does a re-solve after a round's answers take on the 1,000-school district (target: <= 10 s wall)?

    .venv/bin/python benchmarks/bench_season.py --seed 7 --first-limit 30 --time-limit 6

Protocol: generate ``staffing seed --size district`` into a fresh SQLite database; solve and publish a first
round (``--parallel``, ``--first-limit`` seconds); answer it as a district would (``--decline`` of the offers
declined, the rest accepted, which opens the vacancy chains of voluntary transfers); then time the second
round end to end as ``staffing place --parallel --time-limit T`` runs it: the snapshot of what is still open,
the solve, the independent check, the audit and recording the run.  Prints figures; asserts nothing.
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
    args = parser.parse_args()

    from solver.policy import scenario
    from staffing import season
    from staffing.db import get_engine, init_db, session_scope
    from staffing.runs import run_placement
    from staffing.seed import generate
    from staffing.store import save_district

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'season.db'}"
        init_db(url)
        t0 = time.perf_counter()
        district = generate(args.size, args.seed)
        with session_scope(url) as s:
            save_district(s, district)
        print(f"{args.size} seed {args.seed}: {len(district.schools)} schools, {len(district.teachers)} teachers, "
              f"{len(district.vacancies)} vacancies; imported in {time.perf_counter() - t0:.1f} s")

        def round_(limit: float):
            policy = scenario("district_rules").with_(time_limit=limit, deterministic=False)
            started = time.perf_counter()
            with session_scope(url) as s:
                outcome = run_placement(s, policy, "bench")
            return outcome, time.perf_counter() - started

        first, wall = round_(args.first_limit)
        print(f"round 1: {first.figures['placed']} placed, {first.figures['rule_violations']} violations, "
              f"{wall:.1f} s wall")
        t0 = time.perf_counter()
        rng = random.Random(args.seed)
        with session_scope(url) as s:
            _, offers = season.publish(s, first.run.id, "bench")
            answers = {o.teacher_id: "decline" if rng.random() < args.decline and o.kind != "forced" else "accept"
                       for o in offers}
            for tid, answer in answers.items():
                season.respond(s, tid, answer, "bench")
            state = season.state(s)
        declined = sum(a == "decline" for a in answers.values())
        print(f"published and answered in {time.perf_counter() - t0:.1f} s: {len(offers)} offers, {declined} declined, "
              f"{len(offers) - declined} accepted; now {state.open_posts} open posts, "
              f"{sum(state.pool_by_status.values())} teachers in the pool")

        second, wall = round_(args.time_limit)
        solve = second.figures["solve"]
        print(f"re-solve (round 2, --parallel --time-limit {args.time_limit:g}): {wall:.1f} s wall end to end "
              f"(solver {solve.get('wall_time')} s), {second.figures['teachers']} teachers x "
              f"{second.figures['vacancies']} vacancies, {second.figures['placed']} placed, "
              f"{second.figures['rule_violations']} violations")
        get_engine(url).dispose()


if __name__ == "__main__":
    main()
