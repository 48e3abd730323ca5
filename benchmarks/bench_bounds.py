"""How far above the true optimum are the bounds the solver reports?  Measured where the optimum is known.

    .venv/bin/python benchmarks/bench_bounds.py --size region --seeds 1 2 3 --time-limit 60 --lagrangian-seconds 20

On generated rounds small enough for CP-SAT to prove each stage optimal (the exact model, every pair kept),
prints the optimum of every lexicographic stage beside the capacity-and-consent relaxation bound (what the
district-scale runs report), the LP bound with seniority (solver/bounds.py) and the Lagrangian bound with
seniority (solver/lagrangian.py, what ``--bound-seconds`` reports where the LP is too big), and how far above
the optimum each lies.  This is what tells whether a gap reported on a whole district is a weak bound or a weak
answer.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

from solver import solve
from solver.cpsat import STAGES
from solver.instance import Instance
from solver.lagrangian import SeatRows, lagrangian_bound
from solver.matching import relaxation_bound
from solver.policy import scenario
from staffing.seed import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="region")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--lagrangian-seconds", type=float, default=20.0, help="per stage")
    args = parser.parse_args()
    policy = scenario("district_rules").with_(time_limit=args.time_limit).with_settings(
        full_model_pairs=10**9, lp_bound_pairs=10**9)
    print(f"{'seed':>4} {'pairs':>6} {'secs':>5} {'stage':>10} {'proven':>6} {'optimum':>8} {'relaxation':>10} "
          f"{'above':>7} {'LP+seniority':>12} {'above':>7} {'Lagrangian':>10} {'above':>7} {'iters':>5}")
    for seed in args.seeds:
        district = generate(args.size, seed)
        inst = Instance(district, policy)
        t0 = time.perf_counter()
        stages = solve(district, policy, instance=inst).solve.stages
        seconds = time.perf_counter() - t0
        rows, floors = SeatRows(inst), []
        for stage in STAGES:
            row = stages[stage]
            best, lp = row.objective, row.lp_bound
            relax = relaxation_bound(inst, inst.stage_values(stage))
            proven = row.proven_optimal_components
            lp_above = f"{(lp - best) / max(1, best):.2%}" if lp is not None else "n/a"
            lag = lagrangian_bound(inst, inst.stage_values(stage), floors, target=best,
                                   time_limit=args.lagrangian_seconds, rows=rows)
            floors.append((inst.stage_values(stage), best))
            print(f"{seed:>4} {len(inst.edges):>6} {seconds:>5.0f} {stage:>10} {proven!s:>6} {best:>8} {relax:>10} "
                  f"{(relax - best) / max(1, best):>7.2%} {lp!s:>12} {lp_above:>7} {lag.bound:>10} "
                  f"{(lag.bound - best) / max(1, best):>7.2%} {lag.iterations:>5}")


if __name__ == "__main__":
    main()
