"""Baselines and warm start: deferred acceptance both ways, and a pure max-welfare assignment.

All three work on posting groups and return ``{teacher_id: group_index}``.  Teacher-proposing deferred
acceptance with RULES.md's priorities is stable, so it satisfies R-RETURN and R-SENIORITY: the CP-SAT model
starts from it as a hint, and it proves a feasible answer always exists.
"""

from __future__ import annotations

import heapq
from collections import defaultdict

from ortools.graph.python import min_cost_flow

from solver.instance import Edge, GroupPlacement, Instance



def teacher_order_key(inst: Instance, e: Edge) -> tuple:
    """A teacher's strict order over groups: their level for the school, then their former school first
    (so a return right is used before an equally ranked school, as R-RETURN demands), then group index."""
    t = inst.teachers[e.teacher_id]
    school = inst.groups[e.group].school_id
    return (e.level, 0 if school == t.former_school_id else 1, e.group)


def teacher_proposing(inst: Instance) -> GroupPlacement:
    proposals = {tid: sorted(es, key=lambda e: teacher_order_key(inst, e)) for tid, es in inst.edges_by_teacher.items()}
    nxt = dict.fromkeys(proposals, 0)
    rank = inst.priority_rank
    held: dict[int, list[tuple[int, str]]] = defaultdict(list)  # heap of (-priority rank): worst on top
    free = sorted(proposals, reverse=True)
    placement: GroupPlacement = {}
    while free:
        tid = free.pop()
        options = proposals[tid]
        while nxt[tid] < len(options):
            g = options[nxt[tid]].group
            nxt[tid] += 1
            heap, mine = held[g], -rank[(tid, g)]
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


def _max_weight(inst: Instance, weight) -> GroupPlacement:
    """Max-weight assignment under capacity and the allowed pairs only, by min-cost flow."""
    teachers = sorted(inst.edges_by_teacher)
    t_node = {tid: 1 + i for i, tid in enumerate(teachers)}
    g_base = 1 + len(teachers)
    sink = g_base + len(inst.groups)
    values = {(e.teacher_id, e.group): weight(e) for e in inst.edges}
    top = max(values.values(), default=0) + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs: dict[int, tuple[str, int]] = {}
    for tid in teachers:
        flow.add_arc_with_capacity_and_unit_cost(0, t_node[tid], 1, 0)
        flow.add_arc_with_capacity_and_unit_cost(t_node[tid], sink, 1, top)  # stay unplaced
    for (tid, g), value in values.items():
        arc = flow.add_arc_with_capacity_and_unit_cost(t_node[tid], g_base + g, 1, top - value)
        arcs[arc] = (tid, g)
    for g in inst.groups:
        flow.add_arc_with_capacity_and_unit_cost(g_base + g.index, sink, g.capacity, 0)
    flow.set_node_supply(0, len(teachers))
    flow.set_node_supply(sink, -len(teachers))
    if flow.solve() != flow.OPTIMAL:  # pragma: no cover - the network always has a feasible flow
        raise RuntimeError("max-weight flow did not solve")
    return {arcs[a][0]: arcs[a][1] for a in arcs if flow.flow(a) > 0}


def max_welfare(inst: Instance) -> GroupPlacement:
    """Largest total satisfaction of both sides under consent and capacity only (no seniority, no return
    rights, no must-place priority): what a district would do if only preferences counted."""
    p = inst.policy
    return _max_weight(inst, lambda e: p.teacher_weight * e.teacher_score + p.committee_weight * e.committee_score)


def relaxation_bound(inst: Instance, weight) -> int:
    """An upper bound for any objective that sums ``weight`` over placed pairs: drop every rule but
    capacity and consent, and solve that exactly."""
    placement = _max_weight(inst, weight)
    return sum(weight(inst.edge(tid, g)) for tid, g in placement.items())
