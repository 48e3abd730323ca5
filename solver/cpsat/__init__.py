"""The CP-SAT placement round, step by step.

The objective is lexicographic (RULES.md): must-place placed, then salary of placed district employees (the
reserve cost avoided), then welfare of both sides.  Teacher-proposing deferred acceptance is a feasible
answer of every stage and the search's start, so a time limit never leaves a component without an answer;
the proven bound and gap are reported, never hidden.  The steps live in modules named after them:
:mod:`~solver.cpsat.pairs`, :mod:`~solver.cpsat.pricing`, :mod:`~solver.cpsat.model`,
:mod:`~solver.cpsat.search`, :mod:`~solver.cpsat.report`.
"""

from __future__ import annotations

import time

from solver import lagrangian  # noqa: F401 - tests reach the Lagrangian through this package
from solver.cpsat import pairs, pricing, report, search
from solver.cpsat.model import ComponentModel, must_be_placed  # noqa: F401 - the package's public names
from solver.cpsat.pairs import components, indifferent, model_pairs  # noqa: F401
from solver.cpsat.pricing import (  # noqa: F401
    ARCS_PER_SECOND, AUCTION_COST, BESIDE_PATIENCE, PARALLEL_PRICING_CAP, PRICED_ASSIGNMENTS, BoundBesideSearch,
    bound_beside_search, guided_start, nominal_seconds, price_pairs, pricing_iterations,
    quick_pricing_iterations, settled_pricing_iterations)
from solver.cpsat.search import WALL_CLOCK_FACTOR, cut_by_wall_clock, parallel_stage_share  # noqa: F401
from solver.cpsat.stages import (  # noqa: F401
    STAGES, StageReport, gap, stage_step, stage_value, stages_of, trivial_bound)
from solver.instance import GroupPlacement, Instance
from solver.progress import Progress, silent
from solver.solve_figures import SolveFigures


def solve(inst: Instance, start: GroupPlacement, started: float | None = None,
          progress: Progress = silent) -> tuple[GroupPlacement, SolveFigures]:
    """Optimise over the rules from the feasible ``start``; return the placement and honest solve figures.

    The time limit counts from ``started`` (the caller's start, so building the instance and the warm start are
    inside it) and covers the bounds and model building, not only CP-SAT's search.  ``progress`` hears each step
    (:mod:`solver.progress`); it changes nothing in the round.
    """
    t0 = started or time.perf_counter()
    stages = stages_of(inst.policy)
    relaxed = pairs.relaxations(inst, stages, progress)  # whole-problem bounds, and where their optima go
    priced = pricing.price(inst, start, stages, progress)  # the left-out pairs the reserve stage needs
    first = start  # deferred acceptance; the start guided by the pricing may take its place
    start, starts = pricing.guide(inst, start, priced, progress)
    keep, added = pairs.kept_pairs(inst, start, first, relaxed, priced.pairs)
    settled = search.settled_stages(inst, start, stages, relaxed)  # the start meets their relaxation bound
    plan = search.budget(inst, t0, stages, settled, priced)
    with pricing.bound_beside(inst, start, priced) as beside:
        found = search.search(inst, start, stages, keep, settled, plan, progress)
        proven = beside()
    return found.placement, report.report(inst, t0, stages, relaxed, settled, priced, added, starts, found, proven,
                                          progress)
