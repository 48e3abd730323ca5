"""Baselines and warm start: deferred acceptance both ways, and a pure max-welfare assignment.

All three work on posting groups and return ``{teacher_id: group_index}``.  Teacher-proposing deferred
acceptance with RULES.md's priorities is stable, so it satisfies R-RETURN and R-SENIORITY: the CP-SAT model
starts from it as a hint, and it proves a feasible answer always exists.
"""

from __future__ import annotations

import heapq
from collections import defaultdict

import numpy as np
from ortools.graph.python import min_cost_flow

from solver.instance import Edge, GroupPlacement, Instance


def teacher_order_key(inst: Instance, e: Edge, guide: GroupPlacement | None = None) -> tuple:
    """A teacher's strict order over groups: their level for the school, then their former school first
    (so a return right is used before an equally ranked school, as R-RETURN demands), then the group
    ``guide`` names for the teacher, then group index."""
    t = inst.teachers[e.teacher_id]
    school = inst.groups[e.group].school_id
    guided = 0 if guide is not None and guide.get(e.teacher_id) == e.group else 1
    return (e.level, 0 if school == t.former_school_id else 1, guided, e.group)


def proposal_order(inst: Instance, guide: GroupPlacement | None = None) -> dict[str, list[int]]:
    """Each teacher's groups in :func:`teacher_order_key`'s order, for every teacher in one sort of the pairs
    (sorting with the key, a call per pair, took half a second of each deferred acceptance on a district).
    ``tests/test_preparation.py`` checks it against the key."""
    t_of, g_of = inst.edge_arrays
    unguided = np.ones(len(inst.edges), np.int64)
    if guide:
        unguided[[p for tid, g in guide.items() if (p := inst.position(tid, g)) is not None]] = 0
    order = np.lexsort((g_of, unguided, ~inst.pair_at_former_school, inst.pair_level, t_of))
    bounds = np.searchsorted(t_of[order], np.arange(len(inst.teacher_index) + 1))
    groups = g_of[order]
    return {tid: groups[bounds[i]:bounds[i + 1]].tolist() for i, tid in enumerate(inst.teacher_index)}


def teacher_proposing(inst: Instance, guide: GroupPlacement | None = None) -> GroupPlacement:
    """Teacher-proposing deferred acceptance with RULES.md's priorities.

    ``guide`` (a placement the rules need not allow, such as a relaxation's assignment) breaks the ties the
    rules leave open, so the answer obeys the rules whatever it says: among schools a teacher ranks equally
    (every school, for a teacher without a list) they propose to the guide's group first, and a group whose
    model has no seniority order holds the guide's teachers ahead of others, after return-rights holders
    (R-RETURN ranks those first everywhere).  Seniority-order groups keep their priority order exactly."""
    proposals = proposal_order(inst, guide)
    nxt = dict.fromkeys(proposals, 0)
    rank = inst.priority_rank
    behind = len(inst.teacher_index)  # added to the rank of a candidate the guide sends elsewhere

    def holds(tid: str, g: int) -> int:
        """The rank a group holds a candidate by (lower is better)."""
        r = rank[(tid, g)]
        group = inst.groups[g]
        if guide is None or group.rules.seniority_order or guide.get(tid) == g or inst.priority(tid, group)[0] == 0:
            return r
        return r + behind

    held: dict[int, list[tuple[int, str]]] = defaultdict(list)  # heap of (-rank held by): worst on top
    free = sorted(proposals, reverse=True)
    placement: GroupPlacement = {}
    while free:
        tid = free.pop()
        options = proposals[tid]
        while nxt[tid] < len(options):
            g = options[nxt[tid]]
            nxt[tid] += 1
            heap, mine = held[g], -holds(tid, g)
            if len(heap) < inst.groups[g].capacity:
                heapq.heappush(heap, (mine, tid))
                placement[tid] = g
                break
            if mine > heap[0][0]:  # better priority than the worst candidate held
                _, worst = heapq.heapreplace(heap, (mine, tid))
                placement[tid] = g
                del placement[worst]
                free.append(worst)
                break
    return placement


def school_proposing(inst: Instance) -> GroupPlacement:
    candidates = inst.candidates
    order = {(e.teacher_id, e.group): teacher_order_key(inst, e) for e in inst.edges}
    nxt = dict.fromkeys(candidates, 0)
    filled: dict[int, int] = defaultdict(int)
    placement: GroupPlacement = {}
    active = sorted(candidates, reverse=True)
    while active:
        g = active.pop()
        cap, options = inst.groups[g].capacity, candidates[g]
        while filled[g] < cap and nxt[g] < len(options):
            tid = options[nxt[g]]
            nxt[g] += 1
            current = placement.get(tid)
            if current is None or order[(tid, g)] < order[(tid, current)]:
                if current is not None:
                    filled[current] -= 1
                    active.append(current)
                placement[tid] = g
                filled[g] += 1
    return placement


def max_weight_pairs(inst: Instance, weights: np.ndarray) -> np.ndarray:
    """Indices (into ``inst.edges``) of a max-weight assignment under capacity and the allowed pairs only."""
    t_of, g_of = inst.edge_arrays
    return max_weight_assignment(len(inst.teacher_index), t_of, g_of, inst.group_capacity, weights)


def max_weight_assignment(n_teachers: int, arc_teacher: np.ndarray, arc_node: np.ndarray,
                          node_capacity: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Indices of the arcs (teacher number -> post node, integer weight) of a max-weight assignment: each
    teacher on at most one arc, each node on at most its capacity.  Solved as a min-cost flow whose arcs are
    added as arrays, so a 500,000-pair district builds in well under a second.  Nodes are posting groups for
    :func:`max_weight_pairs` and single seats for the Lagrangian bound (:mod:`solver.lagrangian`)."""
    n_a, n_n = len(arc_teacher), len(node_capacity)
    base, sink = 1 + n_teachers, 1 + n_teachers + n_n
    top = int(weights.max(initial=0)) + 1
    teachers = np.arange(1, n_teachers + 1)
    nodes = np.arange(base, base + n_n)
    tails = np.concatenate([np.zeros(n_teachers, np.int64), teachers, 1 + arc_teacher, nodes])
    heads = np.concatenate([teachers, np.full(n_teachers, sink), base + arc_node, np.full(n_n, sink)])
    capacities = np.concatenate([np.ones(2 * n_teachers + n_a, np.int64), node_capacity.astype(np.int64)])
    costs = np.concatenate([np.zeros(n_teachers, np.int64), np.full(n_teachers, top), top - weights,
                            np.zeros(n_n, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    flow.set_node_supply(0, n_teachers)
    flow.set_node_supply(sink, -n_teachers)
    if flow.solve() != flow.OPTIMAL:  # pragma: no cover - the network always has a feasible flow
        raise RuntimeError("max-weight flow did not solve")
    return np.nonzero(flow.flows(arcs[2 * n_teachers: 2 * n_teachers + n_a]))[0]


def _placement(inst: Instance, chosen: np.ndarray) -> GroupPlacement:
    return {inst.edges[i].teacher_id: inst.edges[i].group for i in chosen}


def max_welfare(inst: Instance) -> GroupPlacement:
    """Largest total satisfaction of both sides under consent and capacity only (no seniority, no return
    rights, no must-place priority): what a district would do if only preferences counted."""
    return _placement(inst, max_weight_pairs(inst, inst.stage_values("welfare")))


def relaxation(inst: Instance, weights: np.ndarray) -> tuple[int, list[Edge]]:
    """An upper bound for any objective that sums ``weights`` (one per pair) over placed pairs -- drop every
    rule but capacity and consent, and solve that exactly -- and the pairs of the assignment that attains it."""
    chosen = max_weight_pairs(inst, weights)
    return int(weights[chosen].sum()), [inst.edges[i] for i in chosen]


def relaxation_bound(inst: Instance, weights: np.ndarray) -> int:
    """The bound of :func:`relaxation` alone."""
    return relaxation(inst, weights)[0]
