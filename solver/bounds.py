"""Upper bounds that know about seniority: the LP relaxation of the stability inequalities, over all pairs.

Why this exists: the capacity-and-consent relaxation (:func:`solver.matching.relaxation_bound`) ignores
R-SENIORITY, and CP-SAT's own bound on these models is weaker still (the seniority rule reaches it as
clauses, which its default LP leaves out; written as inequalities, its presolve turns them into clauses).
On instances small enough to solve to proven optimality the flow relaxation sits 1.4-6.7 % above the
optimum of the reserve stage, so a gap reported against it says little.  The LP below adds, for every
candidate ``t`` of a group ``g`` at a seniority-order school, the Baiou-Balinski stability inequality
``q·reach(t, level) + ahead(g, t) ≥ q`` (reach: placed at a school ``t`` ranks at least as high; ahead: posts
of ``g`` held by candidates of higher priority; ``q``: the capacity), and ``reach = 1`` for the first ``q``
candidates.  Every rule-abiding placement satisfies it, so its optimum bounds every stage; it is solved by
GLOP (OR-Tools' simplex), with prefix-sum columns so that its size stays linear in the number of pairs.  On a
whole district (a million rows) the simplex takes many minutes, so :func:`solver.cpsat.solve` computes it
only up to ``policy.lp_bound_pairs`` pairs (about 100 schools, where it takes 1-2 s a stage; 5-9 s at 200).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np
from ortools.linear_solver import pywraplp

from solver.instance import Instance

#: A value for every pair, aligned with ``Instance.edges`` (:meth:`solver.instance.Instance.stage_values`).
Weight = np.ndarray


def seniority_lp_bound(inst: Instance, weight: Weight, floors: Sequence[tuple[Weight, int]] = (),
                       time_limit: float = 60.0) -> int | None:
    """Largest ``Σ weight`` over the LP of capacity, consent and R-SENIORITY, with ``Σ w ≥ floor`` for every
    ``(w, floor)`` in ``floors`` (the values earlier lexicographic stages fixed).

    Returns an integer bound (the LP optimum rounded down after a safety margin for the simplex's tolerance),
    or ``None`` when the LP was not solved to optimality within ``time_limit`` seconds.
    """
    lp = pywraplp.Solver.CreateSolver("GLOP")
    lp.SetTimeLimit(int(time_limit * 1000))
    x = [lp.NumVar(0.0, 1.0, "") for _ in inst.edges]
    column = {(e.teacher_id, e.group): x[i] for i, e in enumerate(inst.edges)}
    for tid, es in inst.edges_by_teacher.items():
        lp.Add(lp.Sum([column[(tid, e.group)] for e in es]) <= 1)
    for g, es in inst.edges_by_group.items():
        if len(es) > inst.groups[g].capacity:
            lp.Add(lp.Sum([column[(e.teacher_id, g)] for e in es]) <= inst.groups[g].capacity)

    # reach(t, level) as a running sum over the teacher's own levels, one column per distinct level
    reach: dict[str, tuple[list[int], list[pywraplp.Variable]]] = {}
    for tid, es in inst.edges_by_teacher.items():
        levels = sorted({e.level for e in es})
        columns: list[pywraplp.Variable] = []
        for level in levels:
            r = lp.NumVar(0.0, 1.0, "")
            previous = [columns[-1]] if columns else []
            lp.Add(r == lp.Sum(previous + [column[(tid, e.group)] for e in es if e.level == level]))
            columns.append(r)
        reach[tid] = (levels, columns)

    for g, candidates in inst.candidate_levels.items():
        group = inst.groups[g]
        if not group.rules.seniority_order:
            continue
        q = group.capacity
        ahead = None  # prefix count of posts held by candidates already passed
        for i, (tid, level) in enumerate(candidates):
            levels, columns = reach[tid]
            k = bisect_right(levels, level)
            r = columns[k - 1] if k else None
            if i < q:  # fewer than q candidates ahead: the group cannot be full, the candidate must reach
                lp.Add(r >= 1 if r is not None else lp.Sum([]) >= 1)
            else:
                lp.Add(q * r + ahead >= q if r is not None else ahead >= q)
            nxt = lp.NumVar(0.0, q, "")
            lp.Add(nxt == (ahead + column[(tid, g)] if ahead is not None else column[(tid, g)]))
            ahead = nxt

    for w, floor in floors:
        lp.Add(lp.Sum([int(w[i]) * x[i] for i in np.flatnonzero(w)]) >= floor)
    objective = lp.Objective()
    for i in np.flatnonzero(weight):
        objective.SetCoefficient(x[i], int(weight[i]))
    objective.SetMaximization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    value = objective.Value()
    # the simplex works to a tolerance: round down only past a margin, so the bound is never cut below the
    # true optimum by floating-point noise
    return math.floor(value + 1e-6 * max(1.0, abs(value)))
