"""Placement solver: a pure function from a district snapshot and a policy to an explained result.

No database access happens here; :mod:`staffing` builds the snapshot and records the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from staffing.domain import District
from solver import cpsat, matching
from solver.instance import Instance
from solver.policy import Policy
from solver.result import Result, to_result

SOLVER_VERSION = "cpsat-lex-1"

#: The baselines DESIGN.md asks for, beside the CP-SAT model.
BASELINES: dict[str, Callable[[Instance], dict[str, int]]] = {
    "teacher_da": matching.teacher_proposing,
    "school_da": matching.school_proposing,
    "max_welfare": matching.max_welfare,
}
METHODS = ("cpsat", *BASELINES)


def solve(district: District, policy: Policy | None = None, method: str = "cpsat",
          instance: Instance | None = None) -> Result:
    """Place the pool.  ``method`` is ``cpsat`` (the product) or one of the baselines."""
    t0 = time.perf_counter()
    inst = instance or Instance(district, policy)
    build = time.perf_counter() - t0
    if method == "cpsat":
        start = matching.teacher_proposing(inst)
        placement, stats = cpsat.solve(inst, start, started=t0)
    elif method in BASELINES:
        placement, stats = BASELINES[method](inst), {"solver": method}
    else:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    stats["build_time"] = round(build, 3)
    stats["total_time"] = round(time.perf_counter() - t0, 3)
    return to_result(inst, placement, method, stats)
