"""Placement solver: a pure function from a district snapshot and a policy to an explained result.

No database access happens here; :mod:`staffing` builds the snapshot and records the run.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from staffing.domain import District
from solver import cpsat, matching
from solver.cpsat import WALL_CLOCK_FACTOR, gap, stage_value  # noqa: F401 - the solver's public figures
from solver.instance import Instance
from solver.policy import Policy
from solver.progress import Progress, silent
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
          instance: Instance | None = None, progress: Progress = silent) -> Result:
    """Place the pool.  ``method`` is ``cpsat`` (the product) or one of the baselines; ``progress`` hears what
    the round is doing (:mod:`solver.progress`) and changes nothing in it."""
    if method != "cpsat" and method not in BASELINES:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    with _no_cycle_collection():
        t0 = time.perf_counter()
        inst = instance or build_instance(district, policy, progress)
        build = time.perf_counter() - t0
        if method == "cpsat":
            progress("warm start", "teacher-proposing deferred acceptance")
            start = matching.teacher_proposing(inst)
            placement, stats = cpsat.solve(inst, start, started=t0, progress=progress)
        else:
            progress("baseline", method)
            placement, stats = BASELINES[method](inst), {"solver": method}
        stats["build_time"] = round(build, 3)
        stats["total_time"] = round(time.perf_counter() - t0, 3)
        progress("explaining placements", f"{len(inst.teachers):,} teachers")
        return to_result(inst, placement, method, stats)


def build_instance(district: District, policy: Policy | None = None, progress: Progress = silent) -> Instance:
    """The solver's view of a snapshot, told to ``progress`` first: on a district it takes seconds."""
    progress("building the instance", f"{len(district.teachers):,} teachers, {len(district.vacancies):,} vacancies")
    return Instance(district, policy)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector off while a round is solved.

    Building a district's instance and model allocates millions of small objects, and every few thousand
    allocations the collector walks all of them again: measured on the district, 2-4 s of the 30 s limit went
    there, and varied from run to run.  The solver's data has no reference cycles to collect (reference
    counting frees it), so nothing is lost; the previous setting is restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
