"""Placement solver: a pure function from a district snapshot and a policy to an explained result.

No database access happens here; :mod:`staffing` builds the snapshot and records the run.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from staffing.domain import District
from solver import cpsat, matching, sparse_round
from solver.cpsat import WALL_CLOCK_FACTOR, gap, stage_value  # noqa: F401 - the solver's public figures
from solver.instance import Instance
from solver.policy import Policy
from solver.progress import Progress, silent
from solver.result import Result, to_result
from solver.solve_figures import SolveFigures

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
        if isinstance(inst, sparse_round.ListedInstance):  # a state: no CP-SAT round over listed pairs
            placement, figures = _solve_sparse(inst, method, t0, progress)
        elif method == "cpsat":
            progress("warm start", "teacher-proposing deferred acceptance")
            start = matching.teacher_proposing(inst)
            placement, figures = cpsat.solve(inst, start, started=t0, progress=progress)
        else:
            progress("baseline", method)
            placement, figures = BASELINES[method](inst), SolveFigures(solver=method)
        figures.method = method
        figures.build_time = round(build, 3)
        figures.total_time = round(time.perf_counter() - t0, 3)
        progress("explaining placements", f"{len(inst.teachers):,} teachers")
        return to_result(inst, placement, method, figures)


def _solve_sparse(inst: sparse_round.ListedInstance, method: str, t0: float,
                  progress: Progress) -> tuple[dict[str, int], SolveFigures]:
    """A pool too large for the dense instance: the sparse round, or the one baseline that runs on it."""
    if method == "cpsat":
        return sparse_round.solve(inst, t0, progress)
    if method == "teacher_da":
        progress("baseline", method)
        return sparse_round.teacher_proposing(inst), SolveFigures(solver=method)
    raise ValueError(f"the {method} baseline needs every teacher-post pair listed, and this pool is too large "
                     f"for that (more than {DENSE_PAIRS_LIMIT:,} pairs): use cpsat or teacher_da")


#: The most indifferent pairs (:func:`indifferent_pairs`) the dense instance and its CP-SAT round are built for;
#: above it a round runs on the sparse instance (:mod:`solver.sparse_round`).
DENSE_PAIRS_LIMIT = 8_000_000


def indifferent_pairs(district: District, policy: Policy | None = None) -> int:
    """An upper estimate, in O(teachers + posts), of the pairs the dense instance would list for teachers who may
    take any post of a certification: must-place teachers at schools accepting forced placements, teachers
    without a list at schools not requiring mutual consent (:mod:`solver.sparse`).  Posts, not posting groups,
    are counted, so it is never below the dense instance's count of those pairs."""
    policy = policy or Policy()
    rules = {sid: policy.school_rules(district, sid) for sid in district.schools}  # city rules and waivers too
    posts: dict[tuple[str, bool, bool], int] = {}
    for v in district.vacancies.values():
        r = rules[v.school_id]
        if r.outside_district:
            continue
        for forced in (False, True):
            for assigned in (False, True):
                if (forced and r.accepts_must_place) or (assigned and not r.mutual_consent):
                    key = (v.certification, forced, assigned)
                    posts[key] = posts.get(key, 0) + 1
    listed = {p.teacher_id for p in district.preferences}
    return sum(posts.get((c, t.must_place, t.teacher_id not in listed), 0)
               for t in district.teachers.values() for c in t.certifications)


def build_instance(district: District, policy: Policy | None = None, progress: Progress = silent) -> Instance:
    """The solver's view of a snapshot, told to ``progress`` first: on a district it takes seconds.  A pool whose
    indifferent pairs would pass :data:`DENSE_PAIRS_LIMIT` gets the listed instance, whose rounds run on the
    sparse instance."""
    progress("building the instance", f"{len(district.teachers):,} teachers, {len(district.vacancies):,} vacancies")
    if indifferent_pairs(district, policy) > DENSE_PAIRS_LIMIT:
        return sparse_round.ListedInstance(district, policy)
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
