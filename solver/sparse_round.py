"""A placement round for pools too large to list every allowed pair (a state): the sparse instance's round.

:class:`ListedInstance` answers the dense instance's questions -- kinds, priorities, levels, the pairs a
placement used -- for the explanations, figures and seniority audit of a recorded run, listing only the pairs
that say something (a listed school, a committee's ranking, a return right) and deriving a class member's
indifferent pairs when asked.  :func:`solve` places the pool on :class:`solver.sparse.SparseInstance`: the best
of plain and relaxation-guided deferred acceptance (stable, so every rule holds), improved by CP-SAT window by
window (:mod:`solver.sparse_search`), each stage bounded by the flow relaxation, the proven gaps reported.
"""

from __future__ import annotations

import time
from functools import cached_property

import numpy as np

from solver.cpsat.stages import stages_of
from solver.instance import Edge, Group, GroupPlacement, Instance
from solver.progress import Progress, silent
from solver.solve_figures import Sizes, SolveFigures, StageFigures, WarmStarts, WindowSearchFigures, gap
from solver.sparse import SparseInstance, best_deferred_acceptance, deferred_acceptance, relaxation_bound
from solver.sparse_search import improve
from staffing.domain import Teacher


class ListedInstance(Instance):
    """:class:`Instance` without the indifferent pairs in its lists.

    A *class member* (must-place, or without a list; not an outside candidate, not excluded from any post) may
    also take any post of their certification where a rule needs neither their consent nor a committee: those
    pairs are not listed, and :meth:`edge` and :meth:`allowed_groups` derive them.  Group numbers are the dense
    instance's (same key, same order)."""

    def _candidate_groups(self, t: Teacher) -> list[Group]:
        if not self._in_class(t):
            if t.is_outside_candidate:  # an outside hire needs the committee's ranking
                return self._ranked_groups.get(t.teacher_id, [])
            return super()._candidate_groups(t)
        schools = list(self.prefs.get(t.teacher_id, ()))
        if t.former_school_id:
            schools.append(t.former_school_id)
        seen = {g.index: g for s in schools for g in self.groups_by_school.get(s, [])}
        seen.update((g.index, g) for g in self._ranked_groups.get(t.teacher_id, []))
        return [seen[i] for i in sorted(seen)]

    @cached_property
    def _ranked_groups(self) -> dict[str, list[Group]]:
        out: dict[str, list[Group]] = {}
        for g in self.groups:
            for tid in g.ranking:
                out.setdefault(tid, []).append(g)
        return out

    @cached_property
    def _excluded_somewhere(self) -> frozenset[str]:
        return frozenset(tid for g in self.groups for tid in g.excluded)

    def _in_class(self, t: Teacher) -> bool:
        return ((t.must_place or not self.has_list(t.teacher_id)) and not t.is_outside_candidate
                and t.teacher_id not in self._excluded_somewhere)

    def edge(self, teacher_id: str, group: int | None) -> Edge | None:
        found = super().edge(teacher_id, group)
        if found is None and group is not None and self._in_class(t := self.teachers[teacher_id]):
            return self._pair(t, self.groups[group])
        return found

    def _class_groups(self, t: Teacher) -> np.ndarray:
        """The groups a class member may take without consent or a committee: forced placements where the school
        accepts them, district assignments of a teacher without a list where consent is not required."""
        key = (tuple(t.certifications), t.must_place, not self.has_list(t.teacher_id), self.zone_of(t))
        if key not in self._class_cache:
            certs, must, listless, zone = key
            self._class_cache[key] = np.array(
                [g.index for c in certs for g in self.groups_by_cert.get(c, [])
                 if ((must and g.rules.accepts_must_place) or (listless and not g.rules.mutual_consent))
                 and zone in ("", g.rules.zone)], np.int64)
        return self._class_cache[key]

    @cached_property
    def _class_cache(self) -> dict[tuple, np.ndarray]:
        return {}

    def allowed_groups(self, teacher_id: str) -> np.ndarray:
        listed = super().allowed_groups(teacher_id)
        t = self.teachers[teacher_id]
        return np.union1d(listed, self._class_groups(t)) if self._in_class(t) else listed

    def may_be_placed(self, teacher_id: str) -> bool:
        return len(self.allowed_groups(teacher_id)) > 0

    @cached_property
    def sparse(self) -> SparseInstance:
        """The same district and policy as arrays: what the round solves on."""
        return SparseInstance(self.district, self.policy)

    @cached_property
    def _dense_group(self) -> np.ndarray:
        """The dense group index of each sparse group (matched by their posts)."""
        return np.array([self.vacancy_group[vids[0]].index for vids in self.sparse.group_vacancies], np.int64)

    @cached_property
    def _sparse_group(self) -> np.ndarray:
        """The sparse group index of each dense group: the inverse of :attr:`_dense_group`."""
        out = np.empty(len(self.groups), np.int64)
        out[self._dense_group] = np.arange(len(self._dense_group))
        return out

    def _sparse_placed(self, placement: GroupPlacement) -> np.ndarray:
        sp = self.sparse
        placed = np.full(len(sp.teacher_ids), -1, np.int64)
        for tid, g in placement.items():
            placed[sp.teacher_number[tid]] = self._sparse_group[g]
        return placed

    def value_of(self, placement: GroupPlacement, stage: str) -> int:
        return self.sparse.placement_values(self._sparse_placed(placement), stage)

    def placement(self, placed: np.ndarray) -> GroupPlacement:
        """A sparse placement (group per teacher number, -1 unplaced) in dense group numbers."""
        ids, dense = self.sparse.teacher_ids, self._dense_group
        return {ids[t]: int(dense[placed[t]]) for t in np.nonzero(placed >= 0)[0].tolist()}


#: The share of the round's time limit given to the window search, in CP-SAT's deterministic seconds.
SEARCH_SHARE = 2 / 3


def solve(inst: ListedInstance, started: float | None = None,
          progress: Progress = silent) -> tuple[GroupPlacement, SolveFigures]:
    """The round on the sparse instance: the best of plain and guided deferred acceptance, improved by CP-SAT
    window by window (:mod:`solver.sparse_search`), and each stage's gap proven by the flow relaxation."""
    t0 = started or time.perf_counter()
    sp = inst.sparse
    z = sp.sizes
    progress("deferred acceptance", f"{z.pairs:,} pairs and classes where the dense instance would list "
                                    f"{z.dense_pairs:,} pairs")
    placed, starts = best_deferred_acceptance(sp)
    policy = inst.policy
    budget = SEARCH_SHARE * policy.time_limit
    progress("window search", f"CP-SAT on windows of schools, {budget:g} deterministic seconds")
    # a reproducible round is cut by deterministic time only (a window's wall cap aside); a parallel one by the clock
    wall = None if policy.search.reproducible else max(1.0, t0 + policy.time_limit - time.perf_counter())
    placed, searched = improve(sp, placed, budget, progress, wall_limit=wall)
    stages = stages_of(policy)
    progress("bounding each stage", "flow relaxation through the classes")
    bounds = {s: relaxation_bound(sp, s) for s in stages}
    values = {s: sp.placement_values(placed, s) for s in stages}
    return inst.placement(placed), SolveFigures(
        solver="sparse", time_limit=inst.policy.time_limit, wall_time=round(time.perf_counter() - t0, 3),
        restricted_pairs=None,  # no CP-SAT model: only the relaxation's bound holds for the whole problem
        optimal=all(values[s] == bounds[s] for s in stages), reproducible=searched.reproducible,
        sizes=Sizes(explicit_pairs=z.explicit_pairs, classes=z.classes, memberships=z.memberships,
                    class_arcs=z.class_arcs, dense_pairs=z.dense_pairs),
        warm_starts=WarmStarts(starts["used"], {k: v for k, v in starts.items() if k != "used"}),
        window_search=WindowSearchFigures(
            passes=searched.passes, windows=searched.windows, windows_improved=searched.windows_improved,
            deterministic_seconds=round(searched.deterministic_seconds, 3), wall_seconds=round(searched.wall_seconds, 2),
            cut_by_wall_clock=searched.cut_by_wall_clock, before=list(searched.before)),
        stages={s: StageFigures(objective=values[s], relaxation_bound=bounds[s],
                                relaxation_gap=round(gap(bounds[s], values[s]), 6)) for s in stages})


def teacher_proposing(inst: ListedInstance) -> GroupPlacement:
    """Teacher-proposing deferred acceptance (the baseline) on the sparse instance."""
    return inst.placement(deferred_acceptance(inst.sparse))
