"""Upper bounds that know about seniority: the LP relaxation of the stability inequalities, over all pairs.

Why this exists: the capacity-and-consent relaxation (:func:`solver.matching.relaxation_bound`) ignores
R-SENIORITY, and CP-SAT's own bound on these models is weaker still (the seniority rule reaches it as
clauses, which its default LP leaves out; written as inequalities, its presolve turns them into clauses).
On instances small enough to solve to proven optimality the flow relaxation sits 1.4-6.7 % above the
optimum of the reserve stage, so a gap reported against it says little.

The LP below gives every group of a seniority-order school its ``q`` seats, filled in priority order (the
best candidate placed there in seat 1, ...: every rule-abiding placement can be written so), with
``x(t, g) = Σ_k y(t, g, k)``.  For every candidate ``t`` of the group and every seat ``k`` it adds

    reach(t, k) + ahead(t, k) ≥ 1

where ``reach(t, k)`` is ``t`` placed at a school it ranks at least as high, counting at this group only seats
``≤ k``, and ``ahead(t, k)`` is seat ``k`` held by a candidate of higher priority: if ``t`` did not get seat
``k`` or better, a more senior candidate holds it.  These are the stability rows of the marriage market
in which every school is cloned into its seats (Vande Vate's and Rothblum's polytope, whose vertices are
the stable matchings when preferences are strict).  Summing them over ``k`` gives the counting row
``q·reach(t) + ahead(t) ≥ q`` that this module wrote before; the seat rows are stronger: on generated
100-school rounds they cut the LP's excess over the proven reserve optimum from 0.7-1.3 % to 0-0.47 %.  The
first ``q`` candidates also get ``reach(t) ≥ 1`` (fewer than ``q`` can be ahead of them).

R-RETURN's rows (:attr:`solver.instance.Instance.return_rows`) are added too, per seat at seniority-order
schools and per group elsewhere.  They are not implied by the seat rows: "strictly above" is stricter than
"at least as high" for a holder without a list, and schools without seniority order have no seat rows.  They
took the LP's excess on those rounds to 0-0.26 %.

Every rule-abiding placement satisfies these rows, so the LP optimum bounds every stage; it is solved by GLOP
(OR-Tools' simplex), with prefix-sum columns so that its size stays linear in the number of arcs.  On a whole
district (over a million rows) the simplex takes many minutes, so :func:`solver.cpsat.solve` computes it only
up to ``policy.lp_bound_pairs`` pairs, and :mod:`solver.lagrangian` relaxes the same rows beyond that.
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
    """Largest ``Σ weight`` over the LP of capacity, consent, R-SENIORITY and R-RETURN, with ``Σ w ≥ floor``
    for every ``(w, floor)`` in ``floors`` (the values earlier lexicographic stages fixed).

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

    seats_of: dict[int, dict[str, list[pywraplp.Variable]]] = {}
    for g, candidates in inst.candidate_levels.items():
        group = inst.groups[g]
        if not group.rules.seniority_order:
            continue
        q = group.capacity
        # the seats: y[tid][k], with x(t, g) their sum (one seat: x itself)
        y = seats_of[g] = {tid: [column[(tid, g)]] if q == 1 else [lp.NumVar(0.0, 1.0, "") for _ in range(q)]
                           for tid, _ in candidates}
        if q > 1:
            for tid, seats in y.items():
                lp.Add(column[(tid, g)] == lp.Sum(seats))
            for k in range(q):
                lp.Add(lp.Sum([seats[k] for seats in y.values()]) <= 1)
        ahead: list[pywraplp.Variable | None] = [None] * q  # per seat: held by a candidate already passed
        for i, (tid, level) in enumerate(candidates):
            levels, columns = reach[tid]
            r = columns[bisect_right(levels, level) - 1]  # the candidate's own level is among them
            if i < q:  # fewer than q candidates ahead: the group cannot be full, the candidate must reach
                lp.Add(r >= 1)
            for k in range(q):
                later = [-s for s in y[tid][k + 1:]]
                lp.Add(lp.Sum([r, *later] + ([ahead[k]] if ahead[k] is not None else [])) >= 1)
            for k in range(q):
                if ahead[k] is None:
                    ahead[k] = y[tid][k]
                else:
                    nxt = lp.NumVar(0.0, 1.0, "")
                    lp.Add(nxt == ahead[k] + y[tid][k])
                    ahead[k] = nxt

    for row in inst.return_rows:
        reach_home = lp.Sum([x[i] for i in row.reach])
        q = inst.groups[row.group].capacity
        if row.group in seats_of:  # a seniority-order group: every seat is held by a more senior holder
            for k in range(q):
                lp.Add(reach_home + lp.Sum([seats_of[row.group][tid][k] for tid in row.senior]) >= 1)
        else:
            lp.Add(q * reach_home + lp.Sum([column[(tid, row.group)] for tid in row.senior]) >= q)

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
