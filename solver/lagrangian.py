"""A bound with seniority that scales to a whole district: Lagrangian relaxation of the stability inequalities.

Why this exists: the LP with seniority (:mod:`solver.bounds`) is the bound that tells a weak answer from a weak
bound, but on a district it is a million rows and no simplex we have finishes it in a quarter of an hour.  Its
rows have a shape that a subgradient method handles well: relax every Baiou-Balinski inequality
``q·reach(t, level) + ahead(g, t) ≥ q`` (and every earlier stage's floor ``Σ w ≥ F``) with a multiplier
``μ ≥ 0``, and what is left is a max-weight assignment under capacity and consent -- the flow the solver
already solves in about half a second.  For *every* ``μ ≥ 0``

    L(μ) = max over assignments of Σ (value + bonus_μ) − Σ μ·q − Σ ν·F

is an upper bound on every rule-abiding placement (it relaxes the LP, and the assignment polytope is
integral, so its minimum over ``μ`` is the LP optimum).  The bonuses are prefix sums: a pair of teacher ``t``
at level ``l`` earns ``q·μ`` from each of t's rows at a level ``≥ l``, and a pair ``(t, g)`` earns ``μ`` from
each row of ``g`` behind t in priority.  A deflected subgradient step (Polyak's rule towards the value the
solver found) moves ``μ``; the bound reported is the smallest ``L`` seen, so stopping early only weakens it.
On 100-school rounds it meets the exact LP's value (within 0.02 %) in 2-8 s, on every stage.

R-RETURN rows at schools without seniority order are not relaxed in (left out, which only loosens the bound):
at seniority-order schools return-rights holders are the first priority class, so their rows are there.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from solver.bounds import Weight
from solver.instance import Instance
from solver.matching import max_weight_pairs

#: weights are scaled to integers for the flow and rounded *up*, so the inner maximum is never underestimated
_SCALE = 1000.0
#: a level above every real one: "not placed" never reaches
_NOWHERE = 1 << 20


@dataclass(frozen=True)
class LagrangianBound:
    bound: int
    iterations: int
    seconds: float


class StabilityRows:
    """The seniority rows of an instance and the index arithmetic that turns multipliers into pair bonuses.

    Built once per instance (about 3 s on a district) and shared by every stage's bound."""

    def __init__(self, inst: Instance):
        self.inst = inst
        edges = inst.edges
        n = len(edges)
        self.t_of, self.g_of = inst.edge_arrays
        self.level = np.fromiter((e.level for e in edges), np.int64, n)
        rank = inst.priority_rank
        self.position = np.fromiter((rank[(e.teacher_id, e.group)] for e in edges), np.int64, n)
        index = inst.teacher_index
        rows: list[tuple[int, int, int, int, int, int]] = []
        for g, candidates in inst.candidate_levels.items():
            group = inst.groups[g]
            if not group.rules.seniority_order:
                continue
            q = group.capacity
            # the first q candidates must reach (fewer than q could be ahead): q·reach ≥ q with no ahead term
            rows.extend((index[tid], level, g, i, q, int(i >= q)) for i, (tid, level) in enumerate(candidates))
        cols = np.array(rows, np.int64).reshape(-1, 6).T
        self.teacher, self.row_level, self.group, self.row_position, self.q, self.counts_ahead = cols
        # a pair gets the rows of its teacher at a level >= its own: a contiguous run in (teacher, level) order
        key = self.teacher * _NOWHERE + self.row_level
        self.by_teacher = np.argsort(key, kind="stable")
        sorted_key = key[self.by_teacher]
        self.t_lo = np.searchsorted(sorted_key, self.t_of * _NOWHERE + self.level, "left")
        self.t_hi = np.searchsorted(sorted_key, self.t_of * _NOWHERE + (_NOWHERE - 1), "right")
        # and the rows of its group behind it in priority: a contiguous run in (group, position) order
        key = self.group * _NOWHERE + self.row_position
        self.by_group = np.argsort(key, kind="stable")
        sorted_key = key[self.by_group]
        self.g_lo = np.searchsorted(sorted_key, self.g_of * _NOWHERE + self.position, "right")
        self.g_hi = np.searchsorted(sorted_key, self.g_of * _NOWHERE + (_NOWHERE - 1), "right")

    def __len__(self) -> int:
        return len(self.q)

    def bonus(self, mu: np.ndarray) -> np.ndarray:
        """What each pair earns from the relaxed rows at multipliers ``mu``."""
        reach = np.concatenate([[0.0], np.cumsum((self.q * mu)[self.by_teacher])])
        ahead = np.concatenate([[0.0], np.cumsum((self.counts_ahead * mu)[self.by_group])])
        return reach[self.t_hi] - reach[self.t_lo] + ahead[self.g_hi] - ahead[self.g_lo]

    def slack(self, chosen: np.ndarray) -> np.ndarray:
        """``q·reach + ahead − q`` of every row at the assignment ``chosen`` (pair indices): negative = violated."""
        placed_level = np.full(len(self.inst.teacher_index), _NOWHERE, np.int64)
        placed_level[self.t_of[chosen]] = self.level[chosen]
        reach = placed_level[self.teacher] <= self.row_level
        held = np.sort(self.g_of[chosen] * _NOWHERE + self.position[chosen])
        ahead = (np.searchsorted(held, self.group * _NOWHERE + self.row_position, "left")
                 - np.searchsorted(held, self.group * _NOWHERE, "left"))
        return self.q * reach + self.counts_ahead * ahead - self.q


def evaluate(rows: StabilityRows, value: np.ndarray, mu: np.ndarray, floor_w: Sequence[np.ndarray] = (),
             floor_v: np.ndarray | None = None, nu: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """``L(μ, ν)`` for pair values ``value`` and floors ``Σ floor_w ≥ floor_v``, and the assignment attaining it.

    Never below the true ``L`` (weights are rounded up for the flow), so it is an upper bound for any ``μ, ν ≥
    0``: that is what the tests check against the LP with random multipliers."""
    nu = np.zeros(len(floor_w)) if nu is None else nu
    floor_v = np.zeros(len(floor_w)) if floor_v is None else floor_v
    w = value + rows.bonus(mu) + sum((n * fw for n, fw in zip(nu, floor_w)), np.zeros(len(value)))
    scaled = np.ceil(w * _SCALE).astype(np.int64)
    chosen = max_weight_pairs(rows.inst, scaled)
    return scaled[chosen].sum() / _SCALE - float((rows.q * mu).sum()) - float(nu @ floor_v), chosen


def _moving_norm(direction: np.ndarray, at: np.ndarray) -> float:
    """Squared norm of the part of ``direction`` that moves multipliers ``at`` (none held at 0 by projection)."""
    return float((direction[(at > 0) | (direction < 0)] ** 2).sum())


def lagrangian_bound(inst: Instance, weight: Weight, floors: Sequence[tuple[Weight, int]] = (), *,
                     target: int, time_limit: float, max_iterations: int = 1000,
                     rows: StabilityRows | None = None, patience: int = 10,
                     deflection: float = 0.8) -> LagrangianBound:
    """Smallest ``L(μ)`` found for ``Σ weight`` under capacity, consent, R-SENIORITY and the ``floors``.

    ``target`` is a value some rule-abiding placement reaches (the solver's answer): it steers Polyak's step
    and ends the search early when the bound meets it (then the answer is proven optimal).  The step shrinks
    by half after ``patience`` iterations without a better bound; ``deflection`` of the previous direction is
    added to the new subgradient, which damps the zigzag between rows that take turns being violated.
    """
    t0 = time.perf_counter()
    rows = rows if rows is not None else StabilityRows(inst)
    value = weight.astype(np.float64)
    # a floor row is written in units of its largest pair value, so that its subgradient is the size of a
    # stability row's (a few placements), not thousands: unscaled, it swamped the step and the welfare stage
    # stalled far above the LP
    raw = [w.astype(np.float64) for w, _ in floors]
    scale = [max(1.0, float(w.max(initial=0))) for w in raw]
    floor_w = [w / k for w, k in zip(raw, scale)]
    floor_v = np.array([f / k for (_, f), k in zip(floors, scale)], np.float64)
    mu, nu = np.zeros(len(rows)), np.zeros(len(floors))
    d_mu, d_nu = np.zeros(len(rows)), np.zeros(len(floors))
    best, theta, stall, k = math.inf, 1.0, 0, 0
    while k < max_iterations and time.perf_counter() - t0 < time_limit and theta > 1e-4:
        k += 1
        bound, chosen = evaluate(rows, value, mu, floor_w, floor_v, nu)
        if bound < best - 1e-9:
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= patience:
                theta, stall = theta / 2, 0
        if math.floor(best + 1e-6 * max(1.0, abs(best))) <= target:
            break
        g_mu = rows.slack(chosen)
        g_nu = np.array([fw[chosen].sum() - f for fw, f in zip(floor_w, floor_v)])
        if _moving_norm(g_mu, mu) + _moving_norm(g_nu, nu) == 0:
            break  # the relaxed assignment is feasible and complementary: L is the LP optimum
        d_mu, d_nu = g_mu + deflection * d_mu, g_nu + deflection * d_nu
        # the rows' subgradient is integral, so a moving one has norm >= 1; a deflected direction that nearly
        # cancels must not turn into a huge step (it overflowed the flow's integer weights on small rounds)
        norm = max(1.0, _moving_norm(d_mu, mu) + _moving_norm(d_nu, nu))
        step = theta * (bound - target) / norm
        mu = np.maximum(0.0, mu - step * d_mu)
        nu = np.maximum(0.0, nu - step * d_nu)
    # stage values are integers: an upper bound on one rounds down, past a margin for floating-point noise
    return LagrangianBound(math.floor(best + 1e-6 * max(1.0, abs(best))), k, time.perf_counter() - t0)
