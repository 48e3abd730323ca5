"""The CP-SAT model of one component: variables, the rules' constraints, the stage objectives, hints.

Variables: one boolean per kept (teacher, posting group) pair.  Constraints, per RULES.md:

* a teacher takes at most one post, a group at most its number of posts;
* R-SENIORITY as a *cut-off* encoding that stays linear in the number of pairs: for a group at a
  seniority-order school, candidates are sorted by priority; candidate i is either placed at a school they
  rank at least as high ("reached" ``A[t, level]``, a running sum over the teacher's own levels), or the
  group is full with candidates ahead of i (``F[g, i]`` ⇒ prefix count ``C[g, i]`` ≥ capacity);
* R-RETURN: a return-rights teacher is placed at the former school or a school ranked strictly above it, or
  every post there in their certification is held by a more senior return-rights teacher.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict

from ortools.sat.python import cp_model

from solver.cpsat.stages import stage_value
from solver.instance import Edge, GroupPlacement, Instance, ReturnRow


def must_be_placed(inst: Instance, start: GroupPlacement, settled: list[str]) -> frozenset[str]:
    """The teachers every later stage must place: all must-place teachers with a pair, when the settled
    must-place stage's optimum places every one of them (its floor then says exactly that)."""
    if "must_place" not in settled:
        return frozenset()
    must = frozenset(tid for tid in inst.edges_by_teacher if inst.teachers[tid].must_place)
    return must if stage_value(inst, start, "must_place") == len(must) else frozenset()


class ComponentModel:
    """The CP-SAT model of one component, with the stage objectives as linear expressions."""

    def __init__(self, inst: Instance, teachers: list[str], groups: list[int], keep: set[tuple[str, int]],
                 placed: frozenset[str] = frozenset()):
        """``placed``: teachers every answer must place (an earlier stage proved it); their seniority clauses at
        schools they rank no higher than their worst kept pair hold already, so they are left out."""
        self.inst = inst
        self.placed = placed
        self.model = cp_model.CpModel()
        m = self.model
        all_edges = [e for tid in teachers for e in inst.edges_by_teacher[tid]]
        self.edges: list[Edge] = [e for e in all_edges if (e.teacher_id, e.group) in keep]
        self.y = {(e.teacher_id, e.group): m.new_bool_var(f"y_{e.teacher_id}_{e.group}") for e in self.edges}
        by_teacher: dict[str, list[Edge]] = defaultdict(list)
        by_group: dict[int, list[Edge]] = defaultdict(list)
        for e in self.edges:
            by_teacher[e.teacher_id].append(e)
            by_group[e.group].append(e)
        for tid, es in by_teacher.items():
            (m.add_exactly_one if tid in placed else m.add_at_most_one)(self.y[(tid, e.group)] for e in es)
        for g, es in by_group.items():
            if len(es) > inst.groups[g].capacity:
                m.add(sum(self.y[(e.teacher_id, g)] for e in es) <= inst.groups[g].capacity)

        # reached[t] = [(level, var)]: placed at a school the teacher ranks at `level` or better
        self.reached: dict[str, list[tuple[int, cp_model.IntVar]]] = {}
        self.reach_levels: dict[str, list[int]] = {}
        for tid, es in by_teacher.items():
            levels = sorted({e.level for e in es})
            self.reach_levels[tid] = levels
            running: list = []
            self.reached[tid] = []
            for level in levels:
                running += [self.y[(tid, e.group)] for e in es if e.level == level]
                var = m.new_bool_var(f"reach_{tid}_{level}")
                m.add(var == sum(running))
                self.reached[tid].append((level, var))

        self.seniority: dict[int, list[tuple[int, cp_model.IntVar, cp_model.IntVar]]] = {}
        self._seniority(sorted(groups))
        self.rr_blocked: dict[str, cp_model.IntVar] = {}
        self._return_rights(by_teacher)


    def reach(self, tid: str, level: int) -> cp_model.IntVar | None:
        """The literal "placed at level or better", or None when no kept pair can make it true."""
        levels = self.reached.get(tid)
        if not levels:
            return None
        i = bisect_right(self.reach_levels[tid], level)  # the last kept level <= level
        return levels[i - 1][1] if i else None

    def _seniority(self, groups: list[int]) -> None:
        """R-SENIORITY, cut-off encoding, one clause per eligible pair.

        Walking a group's candidates in priority order, ``count`` is how many candidates ahead hold one of its
        posts; the clause of candidate i is "i reached this school's level or better, or the group is full
        with candidates ahead".  Candidates without a kept pair cannot change the count, so they share the
        current segment's ``full`` literal: the encoding stays linear in the number of pairs.
        """
        m, inst = self.model, self.inst
        for g in groups:
            group = inst.groups[g]
            if not group.rules.seniority_order:
                continue
            cap = group.capacity
            ahead: list = []  # kept pairs of candidates already passed
            segment: tuple[cp_model.IntVar, cp_model.IntVar] | None = None
            cuts: list[tuple[int, cp_model.IntVar, cp_model.IntVar]] = []
            for i, (tid, level) in enumerate(inst.candidate_levels[g]):
                reach = self.reach(tid, level)
                if not (tid in self.placed and reach is self.reached[tid][-1][1]):  # else "reached" is "placed"
                    if len(ahead) < cap and not cuts:
                        full = None  # fewer than `cap` candidates ahead could hold a post: never full
                    else:
                        if segment is None:
                            count = m.new_int_var(0, cap, f"ahead_{g}_{i}")
                            m.add(count == sum(ahead))
                            full = m.new_bool_var(f"full_{g}_{i}")
                            m.add(count >= cap).only_enforce_if(full)
                            segment = (count, full)
                            cuts.append((i, count, full))
                        full = segment[1]
                    literals = [x for x in (reach, full) if x is not None]
                    if not literals:
                        m.add_bool_or([])  # cannot be satisfied: the instance has no rule-abiding answer here
                    else:
                        m.add_bool_or(literals)
                if (tid, g) in self.y:
                    ahead = ([segment[0]] if segment is not None else ahead) + [self.y[(tid, g)]]
                    segment = None
            self.seniority[g] = cuts

    def _return_rights(self, by_teacher: dict[str, list[Edge]]) -> None:
        """R-RETURN (:attr:`Instance.return_rows`): home school or better, unless more senior return-rights
        holders fill every matching post.  Pairs left out of the model are 0, so they drop out of the rows."""
        m, inst = self.model, self.inst
        rows_of: dict[str, list[ReturnRow]] = defaultdict(list)
        for row in inst.return_rows:
            rows_of[row.teacher_id].append(row)
        for tid in by_teacher:
            rows = rows_of.get(tid)
            if not rows:
                continue
            good = [v for p in rows[0].reach if (v := self.y.get((tid, inst.edges[p].group))) is not None]
            blocked = m.new_bool_var(f"rr_blocked_{tid}")
            for row in rows:
                holders = [self.y[(o, row.group)] for o in row.senior if (o, row.group) in self.y]
                capacity = inst.groups[row.group].capacity
                if len(holders) < capacity:
                    m.add(blocked == 0)
                else:
                    m.add(sum(holders) >= capacity).only_enforce_if(blocked)
            m.add_bool_or(good + [blocked])
            self.rr_blocked[tid] = blocked

    # -- hints and read-out -------------------------------------------------------------------------------------
    def set_hint(self, placement: GroupPlacement) -> None:
        """A complete hint from a placement: the pair variables and every auxiliary variable they imply.

        Written into the model's proto in bulk: one call per variable costs seconds on a district."""
        inst = self.inst
        pairs: list[tuple[cp_model.IntVar, int]] = [(var, int(placement.get(tid) == g))
                                                    for (tid, g), var in self.y.items()]
        for tid, levels in self.reached.items():
            g = placement.get(tid)
            mine = inst.edge(tid, g).level if (tid, g) in self.y else None  # type: ignore[union-attr]
            pairs += [(var, int(mine is not None and mine <= level)) for level, var in levels]
        holders: dict[int, list[str]] = defaultdict(list)
        for tid, g in placement.items():
            holders[g].append(tid)
        rank = inst.priority_rank
        for g, cuts in self.seniority.items():
            cap = inst.groups[g].capacity
            held = sorted(rank[(tid, g)] for tid in holders[g])
            for i, count, full in cuts:
                ahead = bisect_left(held, i)
                pairs += [(count, ahead), (full, int(ahead >= cap))]
        for tid, var in self.rr_blocked.items():
            g = placement.get(tid)
            school = inst.groups[g].school_id if g is not None else None
            pairs.append((var, int(not inst.return_right_honoured(inst.teachers[tid], school))))
        self.model.clear_hints()
        hint = self.model.proto.solution_hint
        hint.vars.extend(var.index for var, _ in pairs)
        hint.values.extend(value for _, value in pairs)

    def objective(self, stage: str) -> cp_model.LinearExpr:
        """A stage objective: each kept pair weighted by :meth:`Instance.stage_values`, as ``stage_value`` counts it."""
        values = self.inst.stage_values(stage)
        terms = [(self.y[(e.teacher_id, e.group)], int(values[self.inst.position(e.teacher_id, e.group)]))
                 for e in self.edges]
        terms = [(var, value) for var, value in terms if value]
        return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])

    def read(self, solver: cp_model.CpSolver) -> GroupPlacement:
        return {tid: g for (tid, g), var in self.y.items() if solver.boolean_value(var)}
