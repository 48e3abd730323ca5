"""Restricted models with and without the pairs priced by the Lagrangian, and the exact model, side by side.

    .venv/bin/python benchmarks/bench_pricing.py --size mid --seeds 1 2 --time-limit 120 [--exact]
    .venv/bin/python benchmarks/bench_pricing.py --size city --seeds 1 2 3 --time-limit 30 --exact

Deterministic rounds (replayable, so the figures reproduce on any machine), one per seed and variant:
``restricted`` (pricing off), ``priced`` (the pairs of the reserve stage's last Lagrangian assignments added,
``solver.cpsat.price_pairs``) and, with ``--exact``, the exact model with every pair.  Prints each stage's
value, whether it is proven optimal on the pairs the model keeps, and the reserve stage's gap to the
Lagrangian bound the pricing computes (valid for the whole problem).  Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

from solver import solve
from solver.policy import scenario
from staffing.seed import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="mid")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--exact", action="store_true", help="also the exact model (every pair a variable)")
    args = parser.parse_args()
    base = scenario("district_rules").with_(time_limit=args.time_limit)
    # priced first: its iterations give the reserve bound every variant is measured against (the must-place
    # floor it uses is the warm start's, the same for all, and no variant places fewer)
    variants = {"priced": base, "restricted": base.with_settings(pricing_iterations=0)}
    if args.exact:
        variants["exact"] = base.with_settings(full_model_pairs=10**9)
    print(f"{'seed':>4} {'variant':>10} {'wall s':>6} {'pairs':>7} {'iters':>5} {'must':>5} "
          f"{'reserve':>8} {'proven':>6} {'welfare':>8} {'proven':>6} {'reserve bound':>13} {'gap':>6}")
    for seed in args.seeds:
        district = generate(args.size, seed)
        bound = None
        for name, policy in variants.items():
            t0 = time.perf_counter()
            figures = solve(district, policy).solve
            wall = time.perf_counter() - t0
            stages = figures.stages
            if stages["reserve"].lagrangian_bound is not None:
                bound = stages["reserve"].lagrangian_bound
            proven = {s: row.proven_optimal_components for s, row in stages.items()}
            iterations = figures.pricing.iterations if figures.pricing else 0
            reserve = stages["reserve"].objective
            gap = f"{(bound - reserve) / bound:.2%}" if bound else "n/a"
            print(f"{seed:>4} {name:>10} {wall:>6.0f} {figures.sizes.pairs_in_model:>7} {iterations:>5} "
                  f"{stages['must_place'].objective:>5} {reserve:>8} {proven['reserve']!s:>6} "
                  f"{stages['welfare'].objective:>8} {proven['welfare']!s:>6} {bound!s:>13} {gap:>6}", flush=True)


if __name__ == "__main__":
    main()
