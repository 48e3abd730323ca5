"""Which pairs get a decision variable: the whole problem's relaxations, the kept pairs, the components."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from numba import njit

from solver import matching
from solver.instance import UNLISTED, Edge, GroupPlacement, Instance
from solver.progress import Progress

#: Per stage, the whole problem's relaxation bound (capacity and consent only) and its optimal assignment.
Relaxations = dict[str, tuple[int, list[Edge]]]


def restricted(inst: Instance) -> bool:
    """Whether the model keeps a subset of the pairs (above ``policy.full_model_pairs``)."""
    return len(inst.edges) > inst.policy.engine.full_model_pairs


def relaxations(inst: Instance, stages: tuple[str, ...], progress: Progress) -> Relaxations:
    """Bounds valid for the whole problem, needed only when the model keeps a subset of the pairs; computed first
    so that they are inside the time limit, and their optimal assignments tell the model which pairs to keep."""
    if not restricted(inst):
        return {}
    progress("relaxation bounds", f"capacity and consent only, {len(inst.edges):,} pairs")
    return {s: matching.relaxation(inst, inst.stage_values(s)) for s in stages if s != "weighted"}


def kept_pairs(inst: Instance, start: GroupPlacement, first: GroupPlacement, relaxed: Relaxations,
               priced: Iterable[int] = ()) -> tuple[set[tuple[str, int]], int]:
    """The model's pairs (:func:`model_pairs`) and how many of them the pricing added.  Both starts' pairs are
    kept: the one not taken still shows where rule-abiding answers put teachers."""
    keep = model_pairs(inst, start, [e for _, edges in relaxed.values() for e in edges]
                       + [e for tid, g in first.items() if (e := inst.edge(tid, g)) is not None])
    unpriced = len(keep)
    keep.update((inst.edges[i].teacher_id, inst.edges[i].group) for i in priced)
    return keep, len(keep) - unpriced


def components(inst: Instance) -> list[tuple[list[str], list[int]]]:
    """Connected components of the teacher-group pair graph, largest first (teachers and groups sorted)."""
    t_of, g_of = inst.edge_arrays
    tids = list(inst.teacher_index)  # sorted, numbered as in ``edge_arrays``
    root = _roots(len(tids) + len(inst.groups), t_of, len(tids) + g_of)
    members: dict[int, tuple[list[str], list[int]]] = defaultdict(lambda: ([], []))
    for t, tid in enumerate(tids):
        members[int(root[t])][0].append(tid)
    for g in sorted(inst.edges_by_group):
        members[int(root[len(tids) + g])][1].append(g)
    return sorted(members.values(), key=lambda c: (-len(c[0]) - len(c[1]), c[0][:1]))


@njit(cache=True)
def _roots(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled; via components
    """Union-find over nodes ``0..n-1`` joined by the edges ``a[k]-b[k]``: each node's root.  Compiled: a
    district has hundreds of thousands of pairs."""
    parent = np.arange(n)
    for k in range(len(a)):
        x, y = a[k], b[k]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x != y:
            parent[x] = y
    for i in range(n):
        r = i
        while parent[r] != r:
            r = parent[r]
        parent[i] = r
    return parent


def model_pairs(inst: Instance, start: GroupPlacement, relaxed: Iterable[Edge] = ()) -> set[tuple[str, int]]:
    """The pairs that get a variable: all up to ``policy.full_model_pairs``; above, the pairs teachers asked for,
    the starts' and relaxations' pairs (``relaxed``), and each teacher's ``policy.indifferent_pairs`` unasked groups
    where they stand highest per post.  Seniority clauses cover every eligible pair, so answers stay lawful."""
    if len(inst.edges) <= inst.policy.engine.full_model_pairs:
        return {(e.teacher_id, e.group) for e in inst.edges}
    keep: set[tuple[str, int]] = {(tid, g) for tid, g in start.items()}
    keep.update((e.teacher_id, e.group) for e in relaxed)
    edges = inst.edges
    t_of, g_of = inst.edge_arrays
    unasked = indifferent(inst)
    # indifferent candidates ahead of each pair in its group's priority order: a running count along the
    # pairs sorted by (group, priority), less the count where the group starts
    order = np.lexsort((inst.pair_priority, g_of))
    ahead = np.cumsum(unasked[order]) - unasked[order]
    first = np.searchsorted(g_of[order], g_of[order], "left")
    standing = np.empty(len(edges), np.int64)
    standing[order] = ahead - ahead[first]
    return_right = np.fromiter(("return_right" in e.kinds for e in edges), bool, len(edges))
    chosen = ~unasked | return_right
    # each teacher's other pairs: the ``policy.indifferent_pairs`` best by (standing per post, group)
    choices = np.nonzero(~chosen)[0]
    ratio = standing[choices] / inst.group_capacity[g_of[choices]]
    choices = choices[np.lexsort((g_of[choices], ratio, t_of[choices]))]
    teacher = t_of[choices]
    rank = np.arange(len(choices)) - np.searchsorted(teacher, teacher, "left")
    chosen[choices[rank < inst.policy.engine.indifferent_pairs]] = True
    keep.update((edges[i].teacher_id, edges[i].group) for i in np.nonzero(chosen)[0].tolist())
    return keep


def indifferent(inst: Instance) -> np.ndarray:
    """Per pair (aligned with ``edges``): one the teacher did not ask for -- no list at all, or a school missing
    from the list (a forced placement of a must-place teacher)."""
    no_list = np.fromiter((not inst.has_list(tid) for tid in inst.teacher_index), bool, len(inst.teacher_index))
    return no_list[inst.edge_arrays[0]] | (inst.pair_level >= UNLISTED)

