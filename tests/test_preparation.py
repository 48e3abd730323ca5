"""The round's preparation, computed on arrays for speed, against its definitions written out one pair at a time.

Why: the components, the kept pairs and the Lagrangian's seat rows decide what the model contains and what the
bound relaxes.  They were loops over a district's 500,000 pairs (seconds of every round) and are now array
arithmetic; these plain loops are the rules as first written, so any drift in the fast code shows here.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.cpsat import components, model_pairs
from solver.instance import UNLISTED, Instance
from solver.lagrangian import SeatRows
from solver.matching import proposal_order, teacher_order_key, teacher_proposing
from solver.policy import Policy
from tests.test_properties import districts

POLICY = Policy(time_limit=5)


def components_by_search(inst: Instance) -> list[tuple[list[str], list[int]]]:
    """Connected components by a plain graph search from each unvisited teacher."""
    seen: set[tuple[str, object]] = set()
    out = []
    for tid in sorted(inst.edges_by_teacher):
        if ("t", tid) in seen:
            continue
        teachers, groups, stack = [], [], [("t", tid)]
        seen.add(("t", tid))
        while stack:
            kind, key = stack.pop()
            (teachers if kind == "t" else groups).append(key)
            nxt = ([("g", e.group) for e in inst.edges_by_teacher[key]] if kind == "t"
                   else [("t", e.teacher_id) for e in inst.edges_by_group[key]])
            for node in nxt:
                if node not in seen:
                    seen.add(node)
                    stack.append(node)
        out.append((sorted(teachers), sorted(groups)))
    return sorted(out, key=lambda c: (-len(c[0]) - len(c[1]), c[0][:1]))


def kept_pairs_one_by_one(inst: Instance, start: dict[str, int], keep_best: int) -> set[tuple[str, int]]:
    """``model_pairs``' rule as its docstring states it: the start's pairs, every pair the teacher asked for or
    holding a return right, and the ``keep_best`` indifferent pairs where the teacher stands highest among the
    group's indifferent candidates per post (ties to the lower group)."""
    def indifferent(tid: str, level: int) -> bool:
        return not inst.has_list(tid) or level >= UNLISTED

    keep = set(start.items())
    standing = {}
    for g, candidates in inst.candidate_levels.items():
        ahead = 0
        for tid, level in candidates:
            standing[(tid, g)] = ahead
            ahead += indifferent(tid, level)
    for tid, es in inst.edges_by_teacher.items():
        choices = []
        for e in es:
            if not indifferent(tid, e.level) or "return_right" in e.kinds:
                keep.add((tid, e.group))
            else:
                choices.append((standing[(tid, e.group)] / inst.groups[e.group].capacity, e.group))
        keep.update((tid, g) for _, g in sorted(choices)[:keep_best])
    return keep


def seat_rows_one_by_one(inst: Instance) -> list[tuple[int, ...]]:
    """The seat rows as the Lagrangian defines them, in order: for each seniority-order group and each of its
    candidates in priority order, one row per seat k with "ahead", and for the first q candidates one row at the
    last seat without it (the group cannot be full before them)."""
    index, rows = inst.teacher_index, []
    for g, candidates in inst.candidate_levels.items():
        group = inst.groups[g]
        if not group.rules.seniority_order:
            continue
        q = group.capacity
        for i, (tid, level) in enumerate(candidates):
            rows.extend((index[tid], level, g, i, k, 1) for k in range(q))
            if i < q:
                rows.append((index[tid], level, g, i, q - 1, 0))
    return rows


@settings(max_examples=80, deadline=None)
@given(districts(), st.integers(0, 2))
def test_components_kept_pairs_and_seat_rows_are_their_definitions(d, keep_best):
    inst = Instance(d, POLICY.with_settings(full_model_pairs=0, indifferent_pairs=keep_best))
    if not inst.edges:
        return
    assert components(inst) == components_by_search(inst)
    start = teacher_proposing(inst)
    assert model_pairs(inst, start) == kept_pairs_one_by_one(inst, start, keep_best)
    rows = SeatRows(inst)
    written = np.array(seat_rows_one_by_one(inst), np.int64).reshape(-1, 6)
    got = np.column_stack([rows.teacher, rows.row_level, rows.group, rows.row_position, rows.seat, rows.has_ahead])
    assert np.array_equal(got, written)


@settings(max_examples=80, deadline=None)
@given(districts())
def test_each_pairs_priority_is_its_place_in_the_groups_candidates(d):
    inst = Instance(d, POLICY)
    by_group: dict[int, list[str]] = defaultdict(list)
    for e in inst.edges:
        by_group[e.group].append(e.teacher_id)
    for g, tids in by_group.items():
        assert inst.candidates[g] == sorted(tids, key=lambda tid: inst.priority(tid, inst.groups[g]))
    for i, e in enumerate(inst.edges):
        assert inst.pair_priority[i] == inst.candidates[e.group].index(e.teacher_id)
        assert inst.priority_rank[(e.teacher_id, e.group)] == inst.pair_priority[i]


@settings(max_examples=80, deadline=None)
@given(districts(), st.randoms(use_true_random=False))
def test_each_teachers_proposals_follow_the_teacher_order_key(d, rnd):
    """Deferred acceptance's proposal order, with and without a guide (any teacher -> any group, allowed or not)."""
    inst = Instance(d, POLICY)
    guide = {tid: rnd.randrange(len(inst.groups)) for tid in inst.teachers if inst.groups and rnd.random() < 0.5}
    for g in (None, guide):
        assert proposal_order(inst, g) == {
            tid: [e.group for e in sorted(es, key=lambda e: teacher_order_key(inst, e, g))]
            for tid, es in inst.edges_by_teacher.items()}
