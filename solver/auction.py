"""A near-optimal max-weight assignment by Bertsekas' forward auction, for the Lagrangian's many relaxed assignments.

Why: the settled pricing solves 100 max-weight assignments of a district's 5,000 teachers to its 6,000 seats
(710,000 arcs), and OR-Tools' min-cost flow takes 0.6-1.05 s for each: most of the round's first minute and a
half.  A forward auction from zero prices finds an assignment within ``ε`` per teacher of the optimum in about
0.06 s (``ε`` = 0.1 of a weight unit; ``benchmarks/JOURNAL.md``, *The pricing's assignment by auction*).  The
subgradient needs a good assignment, not a proven one; the bound the iterations report still comes from exact
flows (:func:`solver.lagrangian.lagrangian_bound`).

Each teacher bids for the seat that is worth most to them at the current prices (or stays unplaced, worth 0),
raising its price by the margin over their second-best choice plus ``ε``, and displaces the seat's holder, who
bids again.  Prices start at 0 and only seats that were bid for carry a price, and those stay held, so every
seat left free has price 0: with every teacher within ``ε`` of their best choice, the assignment is within
``ε`` per teacher of the maximum (Bertsekas, *Auction algorithms for network flow problems*, 1992).
Deterministic: teachers bid in a fixed order, and ties go to the first arc.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _forward_auction(n: int, m: int, indptr: np.ndarray, seat: np.ndarray, weight: np.ndarray,
                     eps: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled; via Auction.assign
    price = np.zeros(m, np.int64)
    owner = np.full(m, -1, np.int64)
    arc_of = np.full(n, -1, np.int64)  # the arc each teacher holds
    queue = np.arange(n)  # a ring of the teachers without a seat who may still bid
    head, tail, waiting = 0, 0, n
    while waiting:
        i = queue[head]
        head = (head + 1) % n
        waiting -= 1
        best, second, chosen = 0, 0, -1  # "unplaced" is worth 0
        for a in range(indptr[i], indptr[i + 1]):
            value = weight[a] - price[seat[a]]
            if value > best:
                best, second, chosen = value, best, a
            elif value > second:
                second = value
        if chosen < 0:
            continue  # better off unplaced
        j = seat[chosen]
        price[j] += best - second + eps
        holder = owner[j]
        owner[j], arc_of[i] = i, chosen
        if holder >= 0:
            arc_of[holder] = -1
            queue[tail] = holder
            tail = (tail + 1) % n
            waiting += 1
    return arc_of, price


@njit(cache=True, nogil=True)
def _dual(n: int, indptr: np.ndarray, seat: np.ndarray, weight: np.ndarray,
          price: np.ndarray) -> int:  # pragma: no cover - compiled; covered through Auction.assign
    """The assignment LP's dual value at seat prices ``price``: each teacher's best profit (0 unplaced) plus
    every seat's price, an upper bound on every assignment's weight (weak duality)."""
    total = 0
    for i in range(n):
        best = 0
        for a in range(indptr[i], indptr[i + 1]):
            best = max(best, weight[a] - price[seat[a]])
        total += best
    return total + price.sum()


def runs(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each index ``i`` repeated ``counts[i]`` times, and each copy's number within its run: how a network's
    pairs become arcs, one per seat of their group (:class:`solver.lagrangian.SeatRows`), and its arcs unit seats
    here."""
    index = np.repeat(np.arange(len(counts)), counts)
    return index, np.arange(len(index)) - np.repeat(np.cumsum(counts) - counts, counts)


class Auction:
    """The arcs of one flow network (teacher number -> node with a capacity, as
    :func:`solver.matching.max_weight_assignment` takes them), laid out once for the auction: each node of
    capacity ``q`` becomes ``q`` unit seats, and the arcs are grouped by teacher."""

    def __init__(self, n_teachers: int, arc_teacher: np.ndarray, arc_node: np.ndarray, node_capacity: np.ndarray):
        capacity = node_capacity.astype(np.int64)
        first_seat = np.concatenate([[0], np.cumsum(capacity)[:-1]])
        arc, copy = runs(capacity[arc_node])  # the network's arc behind each auction arc, and which unit seat
        seat = first_seat[arc_node[arc]] + copy
        order = np.lexsort((seat, arc_teacher[arc]))
        self.arc, self.seat = arc[order], seat[order]
        self.indptr = np.searchsorted(arc_teacher[self.arc], np.arange(n_teachers + 1)).astype(np.int64)
        self.n_teachers, self.n_seats = n_teachers, int(capacity.sum())

    def assign(self, weights: np.ndarray, eps: int) -> tuple[np.ndarray, int]:
        """Indices of the network's arcs of an assignment within ``eps`` per teacher of the maximum weight
        (``weights``: integers, one per arc; ``eps`` ≥ 1), and a ceiling on that maximum: the dual value of the
        auction's final prices, at most ``eps`` per teacher above the assignment's weight."""
        weight = np.ascontiguousarray(weights[self.arc], dtype=np.int64)
        held, price = _forward_auction(self.n_teachers, self.n_seats, self.indptr, self.seat, weight, eps)
        return np.sort(self.arc[held[held >= 0]]), int(_dual(self.n_teachers, self.indptr, self.seat, weight, price))
