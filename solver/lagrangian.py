"""A bound with seniority that scales to a whole district: Lagrangian relaxation of the stability inequalities.

Why this exists: the LP with seniority (:mod:`solver.bounds`) is the bound that tells a weak answer from a weak
bound, but on a district it is over a million rows and no simplex we have finishes it in a quarter of an hour.
Its rows have a shape that a subgradient method handles well.  The LP gives every seniority-order group of
capacity ``q`` its ``q`` seats, filled in priority order, and writes for every candidate ``t`` and seat ``k``

    reach(t, k) + ahead(t, k) ≥ 1

(``reach``: t placed at a school it ranks at least as high, counting at this group only seats ``≤ k``;
``ahead``: seat ``k`` held by a candidate of higher priority), ``reach(t) ≥ 1`` for the first ``q``
candidates, and R-RETURN's rows (:attr:`solver.instance.Instance.return_rows`).  Relax every such row (and every
earlier stage's floor ``Σ w ≥ F``) with a multiplier ``μ ≥ 0`` and what is left is a max-weight assignment of
teachers to seats under consent -- a flow solved in about a second on a district.  For *every* ``μ ≥ 0``

    L(μ) = max over assignments of Σ (value + bonus_μ) − Σ μ·b − Σ ν·F     (b: a row's right-hand side)

is an upper bound on every rule-abiding placement (it relaxes the LP, and the assignment polytope is
integral, so its minimum over ``μ`` is the LP optimum).  The bonuses of the seat rows are prefix sums: an arc
of teacher ``t`` to seat ``j`` of a group at level ``l`` earns ``μ`` from each of t's rows at a level ``≥ l``
except those of this group at seats before ``j``, and ``μ`` from each row of seat ``j`` behind t in priority;
the few R-RETURN rows are a sparse matrix.  A deflected subgradient step (Polyak's rule towards the value the
solver found) moves ``μ``; the bound reported is the smallest ``L`` seen, so stopping early only weakens it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from solver.auction import Auction, runs
from solver.bounds import Weight
from solver.instance import Instance
from solver.matching import max_weight_assignment
from solver.settings import REPRODUCIBLE_EXACT_EVERY

#: weights are scaled to integers for the flow and rounded *up*, so the inner maximum is never underestimated
_SCALE = 1000.0
#: a level above every real one: "not placed" never reaches
_NOWHERE = 1 << 20
#: With relaxed assignments by auction (``auction_eps``), every this many iterations (and the first and the
#: last) is an exact flow, whose value is a proven bound (deterministic rounds; parallel ones: the settings'
#: ``parallel.exact_every``).
EXACT_EVERY = REPRODUCIBLE_EXACT_EVERY


@dataclass(frozen=True)
class LagrangianBound:
    bound: int
    iterations: int
    seconds: float
    #: indices (into ``Instance.edges``) of the pairs the last ``keep_last`` relaxed assignments use: where the
    #: multipliers say a rule-abiding optimum is likely to put teachers (what the solver prices pairs with)
    pairs: frozenset[int] = frozenset()
    #: indices of the pairs of the last relaxed assignment (one per teacher placed there), with ``keep_last``:
    #: the guide of the solver's second warm start (:func:`solver.matching.teacher_proposing`)
    assignment: tuple[int, ...] = ()


def _runs(sorted_key: np.ndarray, lo_key: np.ndarray, hi_key: np.ndarray, side: str = "left"
          ) -> tuple[np.ndarray, np.ndarray]:
    """Where the rows with ``lo_key <= key <= hi_key`` (``side="right"``: ``lo_key < key``) start and end."""
    return np.searchsorted(sorted_key, lo_key, side), np.searchsorted(sorted_key, hi_key, "right")


def seats_per_group(inst: Instance) -> np.ndarray:
    """Seats of each posting group: a seniority-order group of capacity q is q nodes of capacity 1 (filled in
    priority order), any other group one node."""
    return np.array([g.capacity if g.rules.seniority_order else 1 for g in inst.groups], np.int64)


def arc_count(inst: Instance) -> int:
    """Arcs of the flow each iteration solves (one per pair and seat of its group), known before building
    :class:`SeatRows`: what an iteration costs."""
    return int(seats_per_group(inst)[inst.edge_arrays[1]].sum())


@njit(cache=True, nogil=True)
def _prefix(values: np.ndarray, order: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """0 followed by the running sums of ``values[order]``, added one by one as ``np.cumsum`` adds them."""
    out = np.empty(len(order) + 1)
    out[0] = total = 0.0
    for i in range(len(order)):
        total += values[order[i]]
        out[i + 1] = total
    return out


@njit(cache=True, nogil=True)
def _bonus(mu: np.ndarray, n_seat_rows: int, by_level: np.ndarray, by_seat: np.ndarray, by_node: np.ndarray,
           has_ahead: np.ndarray, level_lo: np.ndarray, level_hi: np.ndarray, own_lo: np.ndarray,
           arc_seat: np.ndarray, node_lo: np.ndarray, node_hi: np.ndarray, rr_row: np.ndarray,
           rr_arc: np.ndarray, rr_coef: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """:meth:`SeatRows.bonus` in one pass (the iterations' second largest cost after the assignments)."""
    seat_mu = mu[:n_seat_rows]
    reach = _prefix(seat_mu, by_level)
    own = _prefix(seat_mu, by_seat)
    ahead = _prefix(has_ahead * seat_mu, by_node)
    out = np.zeros(len(arc_seat))
    for r in range(len(rr_arc)):  # R-RETURN rows, summed per arc in their order
        out[rr_arc[r]] += mu[n_seat_rows + rr_row[r]] * rr_coef[r]
    for a in range(len(arc_seat)):
        first = own_lo[a]
        out[a] = (reach[level_hi[a]] - reach[level_lo[a]] - (own[first + arc_seat[a]] - own[first])
                  + ahead[node_hi[a]] - ahead[node_lo[a]] + out[a])
    return out


@njit(cache=True, nogil=True)
def _slack(chosen: np.ndarray, n_teachers: int, n_nodes: int, arc_teacher: np.ndarray, arc_level: np.ndarray,
           arc_group: np.ndarray, arc_seat: np.ndarray, arc_node: np.ndarray, arc_position: np.ndarray,
           teacher: np.ndarray, group: np.ndarray, seat: np.ndarray, row_level: np.ndarray, row_node: np.ndarray,
           row_position: np.ndarray, has_ahead: np.ndarray, rr_row: np.ndarray, rr_arc: np.ndarray,
           rr_coef: np.ndarray, rr_rhs: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """:meth:`SeatRows.slack` in one pass."""
    placed_level = np.full(n_teachers, _NOWHERE, np.int64)
    placed_group = np.full(n_teachers, -1, np.int64)
    placed_seat = np.zeros(n_teachers, np.int64)
    holder = np.full(n_nodes, _NOWHERE, np.int64)  # seniority seats hold one teacher
    on = np.zeros(len(arc_teacher))
    for c in chosen:
        t = arc_teacher[c]
        placed_level[t], placed_group[t], placed_seat[t] = arc_level[c], arc_group[c], arc_seat[c]
        holder[arc_node[c]] = arc_position[c]
        on[c] = 1.0
    n_rows = len(teacher)
    out = np.empty(n_rows + len(rr_rhs))
    for r in range(n_rows):
        t = teacher[r]
        if placed_group[t] == group[r]:
            reach = placed_seat[t] <= seat[r]
        else:
            reach = placed_level[t] <= row_level[r]
        ahead = has_ahead[r] * (holder[row_node[r]] < row_position[r])
        out[r] = reach + ahead - 1
    returns = np.zeros(len(rr_rhs))
    for r in range(len(rr_arc)):
        returns[rr_row[r]] += rr_coef[r] * on[rr_arc[r]]
    out[n_rows:] = returns - rr_rhs
    return out


class SeatRows:
    """The seat rows of an instance (:mod:`solver.bounds` writes the same rows in its LP), the seats the flow
    assigns teachers to, and the index arithmetic that turns multipliers into arc bonuses.

    Built once per instance (a few seconds on a district) and shared by every stage's bound."""

    def __init__(self, inst: Instance):
        self.inst = inst
        t_of, g_of = inst.edge_arrays
        level = inst.pair_level
        position = inst.pair_priority
        seniority = np.array([g.rules.seniority_order for g in inst.groups], bool)
        capacity = inst.group_capacity
        seats = seats_per_group(inst)
        first_node = np.concatenate([[0], np.cumsum(seats)[:-1]]).astype(np.int64)
        self.node_capacity = np.repeat(np.where(seniority, 1, capacity), seats)
        self.group_seats = seats
        # arcs: one per pair and seat of its group
        per_pair = seats[g_of]
        first_arc = np.cumsum(per_pair) - per_pair
        self.arc_pair, self.arc_seat = runs(per_pair)
        self.arc_teacher, self.arc_group = t_of[self.arc_pair], g_of[self.arc_pair]
        self.arc_node = first_node[self.arc_group] + self.arc_seat
        self.arc_level, self.arc_position = level[self.arc_pair], position[self.arc_pair]

        # the rows: each candidate of a seniority-order group (groups in ``priority_order``'s order, candidates
        # in priority order) has one row per seat k (ahead = 1), and the first q candidates one more at the last
        # seat without "ahead" (fewer than q candidates ahead: the group cannot be full, the candidate must reach)
        order = [pairs for g, pairs in inst.priority_order.items() if seniority[g]]
        pair = np.fromiter((i for pairs in order for i in pairs), np.int64)
        q = capacity[g_of[pair]]
        extra = position[pair] < q
        self.has_ahead = np.ones(int((q + extra).sum()), np.int64)
        row_pair, self.seat = runs(q + extra)
        last = self.seat == q[row_pair]  # the row past the seats: the must-reach row
        self.seat = np.where(last, self.seat - 1, self.seat)
        self.has_ahead[last] = 0
        row_pair = pair[row_pair]
        self.teacher, self.row_level, self.group = t_of[row_pair], level[row_pair], g_of[row_pair]
        self.row_position = position[row_pair]
        self.row_node = first_node[self.group] + self.seat
        width = int(seats.max(initial=1)) + 1
        # an arc earns the rows of its teacher at a level >= its own: a run in (teacher, level) order ...
        key = self.teacher * _NOWHERE + self.row_level
        self.by_level = np.argsort(key, kind="stable")
        self.level_lo, self.level_hi = _runs(key[self.by_level], self.arc_teacher * _NOWHERE + self.arc_level,
                                             self.arc_teacher * _NOWHERE + _NOWHERE - 1)
        # ... less its rows at this group for seats before its own: the first `seat` rows of a run in
        # (teacher, group, seat, must-reach last) order
        key = ((self.teacher * len(inst.groups) + self.group) * width + self.seat) * 2 + 1 - self.has_ahead
        self.by_seat = np.argsort(key, kind="stable")
        self.own_lo = np.searchsorted(key[self.by_seat],
                                      (self.arc_teacher * len(inst.groups) + self.arc_group) * width * 2, "left")
        # and the rows of its seat behind it in priority: a run in (seat node, position) order
        key = self.row_node * _NOWHERE + self.row_position
        self.by_node = np.argsort(key, kind="stable")
        self.node_lo, self.node_hi = _runs(key[self.by_node], self.arc_node * _NOWHERE + self.arc_position,
                                           self.arc_node * _NOWHERE + _NOWHERE - 1, "right")
        self._return_rows(first_arc, per_pair)
        self._auction: Auction | None = None  # laid out on the first relaxed assignment by auction

    def _return_rows(self, first_arc: np.ndarray, per_pair: np.ndarray) -> None:
        """R-RETURN rows (:attr:`solver.instance.Instance.return_rows`), after the seat rows, as sparse (row, arc,
        coefficient) triples with their right-hand sides: a few thousand short rows, unlike the seat rows."""
        rows: list[int] = []
        arcs: list[int] = []
        coefs: list[int] = []
        rhs: list[int] = []
        for row in self.inst.return_rows:
            seats = int(self.group_seats[row.group])
            cap = 1 if self.inst.groups[row.group].rules.seniority_order else self.inst.groups[row.group].capacity
            reach_arcs = [a for p in row.reach for a in range(first_arc[p], first_arc[p] + per_pair[p])]
            senior = [first_arc[self.inst.position(tid, row.group)] for tid in row.senior]  # type: ignore[index]
            for k in range(seats):  # one row per seat of a seniority-order group, else one for the group
                rows += [len(rhs)] * (len(reach_arcs) + len(senior))
                arcs += reach_arcs + [a + k for a in senior]
                coefs += [cap] * len(reach_arcs) + [1] * len(senior)
                rhs.append(cap)
        self.rr_row, self.rr_arc = np.array(rows, np.int64), np.array(arcs, np.int64)
        self.rr_coef, self.rr_rhs = np.array(coefs, np.float64), np.array(rhs, np.float64)
        self.rhs = np.concatenate([np.ones(len(self.teacher)), self.rr_rhs])

    def __len__(self) -> int:
        return len(self.rhs)

    def bonus(self, mu: np.ndarray) -> np.ndarray:
        """What each arc earns from the relaxed rows at multipliers ``mu``."""
        return _bonus(np.ascontiguousarray(mu, np.float64), len(self.teacher), self.by_level, self.by_seat,
                      self.by_node, self.has_ahead, self.level_lo, self.level_hi, self.own_lo, self.arc_seat,
                      self.node_lo, self.node_hi, self.rr_row, self.rr_arc, self.rr_coef)

    def slack(self, chosen: np.ndarray) -> np.ndarray:
        """Left-hand side minus right-hand side of every row at the assignment ``chosen`` (arc indices):
        negative = violated."""
        return _slack(np.ascontiguousarray(chosen, np.int64), len(self.inst.teacher_index), len(self.node_capacity),
                      self.arc_teacher, self.arc_level, self.arc_group, self.arc_seat, self.arc_node,
                      self.arc_position, self.teacher, self.group, self.seat, self.row_level, self.row_node,
                      self.row_position, self.has_ahead, self.rr_row, self.rr_arc, self.rr_coef, self.rr_rhs)

    def assign(self, weights: np.ndarray, eps: int = 0) -> tuple[np.ndarray, int]:
        """A max-weight assignment of teachers to seats (the chosen arcs) and a ceiling on the maximum weight:
        exact (a min-cost flow; the ceiling is its weight), or with ``eps`` ≥ 1 within ``eps`` per teacher of
        the maximum (an auction, :mod:`solver.auction`; the ceiling is its prices' dual value)."""
        if eps:
            if self._auction is None:
                self._auction = Auction(len(self.inst.teacher_index), self.arc_teacher, self.arc_node,
                                        self.node_capacity)
            return self._auction.assign(weights, eps)
        chosen = max_weight_assignment(len(self.inst.teacher_index), self.arc_teacher, self.arc_node,
                                       self.node_capacity, weights)
        return chosen, int(weights[chosen].sum())

    def in_priority_order(self, chosen: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The same assignment with each group's teachers reseated in priority order wherever that weighs as
        much (so it is still a maximum: no other arc changes).

        Why: seats of a group are alike until multipliers tell them apart, so the flow seats a group's
        teachers in any order, and every "less senior teacher in an earlier seat" is a violated row.  Those
        rows steered the subgradient: on a 100-school round the bound never left the flow relaxation."""
        group = self.arc_group[chosen]
        order = np.lexsort((self.arc_position[chosen], group))
        chosen, group = chosen[order], group[order]
        seat = np.arange(len(chosen)) - np.searchsorted(group, group, "left")
        seated = np.where(self.group_seats[group] > 1, chosen - self.arc_seat[chosen] + seat, chosen)
        n = len(self.inst.groups)
        as_heavy = np.bincount(group, weights[seated], n) >= np.bincount(group, weights[chosen], n)
        return np.where(as_heavy[group], seated, chosen)


def evaluate(rows: SeatRows, value: np.ndarray, mu: np.ndarray, floor_w: Sequence[np.ndarray] = (),
             floor_v: np.ndarray | None = None, nu: np.ndarray | None = None,
             eps: int = 0) -> tuple[float, float, np.ndarray]:
    """``L(μ, ν)`` for pair values ``value`` and floors ``Σ floor_w ≥ floor_v`` as an assignment reaches it, a
    proven ceiling on it, and the assignment's arcs (seated in priority order where that changes nothing, for
    the subgradient).

    The ceiling is never below the true ``L`` (weights are rounded up for the flow), so it is an upper bound
    for any ``μ, ν ≥ 0``: that is what the tests check against the LP with random multipliers.  With ``eps`` = 0
    the assignment is an exact flow's and the two values are equal.  With ``eps`` ≥ 1 it is an auction's: the
    first value lies below ``L`` by at most ``eps`` thousandths of a weight unit per teacher, and the ceiling,
    from the auction's prices, above it by as much."""
    nu = np.zeros(len(floor_w)) if nu is None else nu
    floor_v = np.zeros(len(floor_w)) if floor_v is None else floor_v
    w = value + sum((n * fw for n, fw in zip(nu, floor_w)), np.zeros(len(value)))
    scaled = np.ceil((w[rows.arc_pair] + rows.bonus(mu)) * _SCALE).astype(np.int64)
    chosen, ceiling = rows.assign(scaled, eps)
    constant = float(mu @ rows.rhs) + float(nu @ floor_v)
    reached = scaled[chosen].sum() / _SCALE - constant
    return reached, ceiling / _SCALE - constant, rows.in_priority_order(chosen, scaled)


def _moving_norm(direction: np.ndarray, at: np.ndarray) -> float:
    """Squared norm of the part of ``direction`` that moves multipliers ``at`` (none held at 0 by projection)."""
    return float((direction[(at > 0) | (direction < 0)] ** 2).sum())


def lagrangian_bound(inst: Instance, weight: Weight, floors: Sequence[tuple[Weight, int]] = (), *,
                     target: int, time_limit: float, max_iterations: int = 1000,
                     rows: SeatRows | None = None, patience: int = 10,
                     deflection: float = 0.8, keep_last: int = 0,
                     stop: threading.Event | None = None,
                     on_iteration: Callable[[int, int], None] | None = None,
                     auction_eps: int = 0, exact_every: int = EXACT_EVERY) -> LagrangianBound:
    """Smallest ``L(μ)`` found for ``Σ weight`` under capacity, consent, R-SENIORITY and the ``floors``.

    ``target`` is a value some rule-abiding placement reaches (the solver's answer): it steers Polyak's step
    and ends the search early when the bound meets it (then the answer is proven optimal).  The step shrinks
    by half after ``patience`` iterations without a better bound; ``deflection`` of the previous direction is
    added to the new subgradient, which damps the zigzag between rows that take turns being violated.
    ``time_limit`` (seconds) ends the search after the iteration that passes it; the first iteration always
    runs.  ``keep_last``: also return the pairs of the last that many assignments (:attr:`LagrangianBound.pairs`).
    ``stop``: ends the search after the current iteration once set (a bound computed in another thread,
    :class:`solver.cpsat.BoundBesideSearch`, whose round failed).  ``on_iteration(k, bound)``: told after each
    iteration (progress for a person waiting; it changes nothing).  ``auction_eps`` ≥ 1: the relaxed assignments
    are an auction's, within that many thousandths of a weight unit per teacher of the maximum, except every
    ``exact_every``-th, the first and the last, which are exact flows; the subgradient steers by all of them,
    and the bound reported is the smallest exact one.  ``exact_every`` 0: only the last is an exact flow (its
    assignment gives the pairs), and the bound is the smallest of every iteration's proven ceiling, the
    auctions' dual values among them (each at most ``auction_eps`` per teacher above its ``L``).
    """
    t0 = time.perf_counter()
    rows = rows if rows is not None else SeatRows(inst)
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
    seen = math.inf  # the smallest value seen, exact or not: what the step's halving goes by
    recent: deque[np.ndarray] = deque(maxlen=max(1, keep_last))
    while k == 0 or (k < max_iterations and time.perf_counter() - t0 < time_limit and theta > 1e-4
                     and not (stop is not None and stop.is_set())):  # at least one: a bound needs a value
        k += 1
        exact = not auction_eps or k == max_iterations or bool(exact_every and (k == 1 or k % exact_every == 0))
        reached, ceiling, chosen = evaluate(rows, value, mu, floor_w, floor_v, nu, 0 if exact else auction_eps)
        recent.append(chosen)
        if (exact or not exact_every) and ceiling < best - 1e-9:
            best = ceiling
        if reached < seen - 1e-9:
            seen, stall = reached, 0
        else:
            stall += 1
            if stall >= patience:
                theta, stall = theta / 2, 0
        if on_iteration is not None:
            on_iteration(k, _whole(best))
        if _whole(best) <= target:
            break
        g_mu = rows.slack(chosen)
        pairs = rows.arc_pair[chosen]
        g_nu = np.array([fw[pairs].sum() - f for fw, f in zip(floor_w, floor_v)])
        if _moving_norm(g_mu, mu) + _moving_norm(g_nu, nu) == 0:
            break  # the relaxed assignment is feasible and complementary: L is the LP optimum
        d_mu, d_nu = g_mu + deflection * d_mu, g_nu + deflection * d_nu
        # the rows' subgradient is integral, so a moving one has norm >= 1; a deflected direction that nearly
        # cancels must not turn into a huge step (it overflowed the flow's integer weights on small rounds)
        norm = max(1.0, _moving_norm(d_mu, mu) + _moving_norm(d_nu, nu))
        step = theta * (reached - target) / norm
        mu = np.maximum(0.0, mu - step * d_mu)
        nu = np.maximum(0.0, nu - step * d_nu)
    kept = keep_last and k
    pairs = frozenset(np.unique(rows.arc_pair[np.concatenate(recent)]).tolist()) if kept else frozenset()
    last = tuple(rows.arc_pair[recent[-1]].tolist()) if kept else ()
    return LagrangianBound(_whole(best), k, time.perf_counter() - t0, pairs, last)


def _whole(bound: float) -> int:
    """Stage values are integers: an upper bound on one rounds down, past a margin for floating-point noise."""
    return math.floor(bound + 1e-6 * max(1.0, abs(bound)))
