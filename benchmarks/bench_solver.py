"""Solver benchmark on a generated district: model size, wall time, gaps, and the baselines side by side.

    .venv/bin/python benchmarks/bench_solver.py --size district --time-limit 30 [--bound-seconds 600] [--parallel] [--progress]

Prints figures; asserts nothing (targets live here, not in unit tests).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from solver import METHODS, solve
from solver.audit import seniority_audit
from solver.checker import check
from solver.figures import compute
from solver.instance import Instance
from solver.policy import scenario
from solver.progress import describe as describe_step
from solver.solve_figures import describe, describe_gap
from staffing.runs import reserve_cost_floor
from staffing.seed import generate


class Timeline:
    """Where a round's wall time goes, from the steps it reports (:mod:`solver.progress`): seconds per step, a
    step that comes back (one per component) adding up.  ``show`` also prints each step as it starts."""

    def __init__(self, show: bool = False):
        self.show = show
        self.t0 = self.at = time.perf_counter()
        self.step: str | None = None
        self.seconds: dict[str, float] = {}

    def __call__(self, step: str, detail: str = "") -> None:
        if step != self.step:
            self.end()
            self.step = step
            if self.show:
                print(f"      [{self.at - self.t0:6.1f} s] {describe_step(step, detail)}", flush=True)

    def end(self) -> None:
        now = time.perf_counter()
        if self.step is not None:
            self.seconds[self.step] = self.seconds.get(self.step, 0.0) + now - self.at
        self.at = now

    def summary(self) -> str:
        self.end()
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.seconds.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="district")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--scenario", default="district_rules")
    parser.add_argument("--parallel", action="store_true",
                        help="2 parallel workers with a wall-clock limit instead of the default deterministic "
                             "(replayable) search, whose limit counts CP-SAT's deterministic seconds")
    parser.add_argument("--bound-seconds", type=float, default=0.0,
                        help="after the search, seconds spent on the Lagrangian bound with seniority (the "
                             "cpsat row's seconds then include them; the model's wall_time does not)")
    parser.add_argument("--progress", action="store_true", help="print each step of the cpsat round as it starts")
    args = parser.parse_args()

    t0 = time.perf_counter()
    district = generate(args.size, args.seed)
    policy = scenario(args.scenario).with_(
        time_limit=args.time_limit, search="parallel" if args.parallel else "deterministic").with_settings(
        bound_seconds=args.bound_seconds)
    print(f"district {args.size} seed {args.seed}: {len(district.schools)} schools, {len(district.teachers)} "
          f"teachers, {len(district.vacancies)} vacancies, {len(district.rankings)} rankings "
          f"(generated in {time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    inst = Instance(district, policy)
    print(f"instance: {len(inst.groups)} posting groups, {len(inst.edges)} allowed pairs "
          f"(built in {time.perf_counter() - t0:.1f} s)")

    header = ("method", "seconds", "placed", "must_place", "return_rt", "reserve_cost", "teacher_sat",
              "committee_top", "blocking", "violations")
    mode = ("parallel: 2 workers, wall-clock limit" if args.parallel
            else f"deterministic: CP-SAT's deterministic seconds, portfolio {policy.settings.portfolio}")
    print(f"time limit {args.time_limit:g} s ({mode})")
    print(" ".join(f"{h:>13}" for h in header))
    for method in METHODS:
        t0 = time.perf_counter()
        timeline = Timeline(args.progress)
        result = solve(district, policy, method=method, instance=inst, progress=timeline)
        seconds = time.perf_counter() - t0
        violations = check(district, result.assignments, policy)
        figures = compute(inst, result, seniority_audit(district, result, inst))
        row = (method, f"{seconds:.1f}", figures["placed"], f"{figures['must_place_placed']}/{figures['must_place_total']}",
               f"{figures['return_rights_honoured']}/{figures['return_rights_total']}", figures["reserve_cost"],
               figures["teacher_satisfaction"], figures["committee_top_share"], figures["blocking_pairs"],
               len(violations))
        print(" ".join(f"{x!s:>13}" for x in row))
        if method == "cpsat":
            figures_of_solve = result.solve
            sizes = figures_of_solve.sizes
            model = {"pairs": sizes.pairs, "pairs_in_model": sizes.pairs_in_model, "groups": sizes.groups,
                     "components": sizes.components, "variables": sizes.variables, "constraints": sizes.constraints,
                     "wall_time": figures_of_solve.wall_time, "optimal": figures_of_solve.optimal}
            print("    cp-sat model:", json.dumps(model))
            for line in describe(figures_of_solve):
                print(f"    {line}")
            for proven in figures_of_solve.proven_gaps():
                print(f"    {describe_gap(proven)}")
            if (floor := reserve_cost_floor(inst, figures_of_solve)) is not None:
                print(f"    reserve cost ${figures['reserve_cost']:,}; no lawful placement leaves less than ${floor:,}")
            print(f"    where the wall time went: {timeline.summary()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
