"""The CP-SAT placement model.

Variables: one boolean per allowed (teacher, posting group) pair.  Constraints, per RULES.md:

* a teacher takes at most one post, a group at most its number of posts;
* R-SENIORITY as a *cut-off* encoding that stays linear in the number of pairs: for a group at a
  seniority-order school, candidates are sorted by priority; candidate i is either placed at a school they
  rank at least as high ("reached" ``A[t, level]``, a running sum over the teacher's own levels), or the
  group is full with candidates ahead of i (``F[g, i]`` ⇒ prefix count ``C[g, i]`` ≥ capacity);
* R-RETURN: a return-rights teacher is placed at the former school or a school ranked strictly above it, or
  every post there in their certification is held by a more senior return-rights teacher.

The objective is lexicographic (RULES.md): must-place placed, then salary of placed district employees (the
reserve cost avoided), then welfare of both sides; each stage is solved, its value fixed, and the next
stage starts from that solution.  The instance is split into independent components (teachers and groups
that share no pair never interact) and each gets a share of the time limit.  Teacher-proposing deferred
acceptance is a feasible solution of every stage and is given as the hint, so a time limit never leaves a
component without an answer; the proven bound and gap are reported, never hidden.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit
from ortools.sat.python import cp_model

from solver import bounds, lagrangian, matching
from solver.instance import UNLISTED, Edge, GroupPlacement, Instance, ReturnRow
from solver.policy import PORTFOLIOS, Policy
from solver.progress import Progress, silent

STAGES = ("must_place", "reserve", "welfare")


@dataclass
class StageReport:
    objective: int = 0
    bound: int = 0
    optimal_components: int = 0
    components: int = 0
    seconds: float = 0.0
    #: CP-SAT's own measure of the work done; in deterministic mode the same snapshot and policy must give the
    #: same figure, so a replay that differs shows here whether the searches themselves went another way
    deterministic_seconds: float = 0.0
    #: components whose deterministic search the wall-clock cap may have ended (see :func:`cut_by_wall_clock`)
    cut_by_wall_clock: int = 0

    @property
    def gap(self) -> float:
        return gap(self.bound, self.objective)


def gap(bound: int, value: int) -> float:
    """How far ``value`` falls short of ``bound``, as a share of the bound (every gap the solver reports)."""
    return abs(bound - value) / max(1, abs(bound))


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
    district's 500,000 pairs took 0.85 s in Python."""
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
    """The pairs that get a decision variable.

    Every pair the teacher asked for (a school on their list) is kept.  "Indifferent" pairs -- any school for
    a teacher without a list, an unlisted school for a must-place teacher -- are where a district explodes
    (a must-place teacher may be forced into hundreds of schools), so below ``policy.full_model_pairs`` all
    are kept (exact model) and above it each teacher keeps the warm-start pair, the pairs of the stage
    relaxations' optimal assignments (``relaxed``: where the whole problem's optimum would go if seniority
    did not bind; on the district they lift the reserve stage by 0.3 % for 5 % more variables) and the
    ``policy.indifferent_pairs`` groups where they stand highest in priority among the group's indifferent
    candidates, relative to the posts there.  Candidates who listed the school are not counted: they compete
    for its posts only as one choice among theirs, while an indifferent one can be sent anywhere.  Measured on
    the district (seed 7, four solver seeds): the same reserve stage as counting every candidate ahead
    (249,836 against 249,901 on average, within the runs' spread) and 2.3 % more welfare (60,101 against
    58,754; every run above every run of the old rule).
    Every eligible pair still gets its R-SENIORITY clause, so a restricted model's answer obeys the rules
    exactly; only its optimality is relative to the kept pairs, and the reported bound says so.
    """
    if len(inst.edges) <= inst.policy.full_model_pairs:
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
    chosen[choices[rank < inst.policy.indifferent_pairs]] = True
    keep.update((edges[i].teacher_id, edges[i].group) for i in np.nonzero(chosen)[0].tolist())
    return keep


def indifferent(inst: Instance) -> np.ndarray:
    """Per pair (aligned with ``edges``): one the teacher did not ask for -- no list at all, or a school missing
    from the list (a forced placement of a must-place teacher)."""
    no_list = np.fromiter((not inst.has_list(tid) for tid in inst.teacher_index), bool, len(inst.teacher_index))
    return no_list[inst.edge_arrays[0]] | (inst.pair_level >= UNLISTED)


class ComponentModel:
    """The CP-SAT model of one component, with the stage objectives as linear expressions."""

    def __init__(self, inst: Instance, teachers: list[str], groups: list[int], keep: set[tuple[str, int]],
                 placed: frozenset[str] = frozenset()):
        """``placed``: teachers every answer must place (an earlier stage proved it), so their seniority
        clauses at schools they rank no higher than their worst kept pair are satisfied and left out -- on a
        district with every must-place teacher placed that is more than half of the clauses, and CP-SAT's
        presolve of each stage no longer spends seconds finding it out."""
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


#: Components with less than this share of the pairs are not reported one by one (:mod:`solver.progress`): they
#: are solved in moments, and a small round of many components would otherwise say five things about each.
PROGRESS_COMPONENT_SHARE = 0.1


def stage_step(stage: str) -> str:
    """How progress names a stage's search: ``"must-place stage"``."""
    return f"{stage.replace('_', '-')} stage"


class _Found(cp_model.CpSolverSolutionCallback):
    """Tells ``progress`` of each better placement a search finds.

    Measured on the district's welfare stage (seed 7): the same answer, deterministic time (14.527 s) and wall time
    (77.0 s) with this callback as without it: it only reads the placement CP-SAT found."""

    def __init__(self, progress: Progress, step: str, within: str):
        super().__init__()
        self.progress, self.step, self.within = progress, step, within

    def on_solution_callback(self) -> None:
        self.progress(self.step, f"best {round(self.objective_value):,} so far{self.within}, bound on the pairs kept "
                                 f"{round(self.best_objective_bound):,}")


def _params(inst: Instance, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = inst.policy
    if p.deterministic or p.portfolio_in_parallel:
        solver.parameters.ignore_subsolvers.extend(PORTFOLIOS[p.portfolio])
        solver.parameters.lns_initial_deterministic_limit = p.lns_task_seconds
    solver.parameters.random_seed = p.seed
    solver.parameters.num_workers = max(1, p.workers)
    solver.parameters.linearization_level = p.linearization_level
    # CP-SAT 9.15's symmetry detection aborts the whole process on some of these models ("Check failed:
    # context_->VarToConstraints(var).empty()" in presolve; the must-place stage of generated round mid, seed
    # 3) -- an abort no caller can catch.  Levels 2 and 1 both crash there, 0 does not, and finds the same
    # optimum in 2 s.
    solver.parameters.symmetry_level = 0
    if p.deterministic:
        # deterministic time and interleaved workers: the same snapshot and policy give the same answer,
        # which is what makes a recorded run replayable
        solver.parameters.interleave_search = True
        solver.parameters.interleave_batch_size = p.interleave_batch
        solver.parameters.max_deterministic_time = max(seconds, 0.05)
        # a wall-clock cap only against a pathological search; a deterministic second costs one to four wall
        # seconds on an idle machine and several times that on a busy one, so the cap must stay far above that
        # or it would decide where the search stops (see WALL_CLOCK_FACTOR)
        solver.parameters.max_time_in_seconds = wall_clock_cap(seconds)
    else:
        solver.parameters.max_time_in_seconds = max(seconds, 0.05)
        solver.parameters.max_presolve_iterations = p.parallel_presolve_iterations
    return solver


#: A deterministic search's wall-clock cap, in multiples of its deterministic budget.  Measured (benchmarks/JOURNAL.md) on
#: a 100-school round (budget 1 s a stage, about 3 wall seconds each on an idle machine) with three solves
#: sharing the 2 cores: at 10x the cap ended searches in four runs of five (their deterministic time varied,
#: 0.84-1.68 s a stage against 1.70 uncut) and two of them placed teachers differently; at 100x all five gave
#: the same placements and the same deterministic time.
WALL_CLOCK_FACTOR = 100.0


def wall_clock_cap(seconds: float) -> float:
    """The wall-clock cap of a deterministic search with a budget of ``seconds`` of deterministic time (at least
    10 s: a tiny budget's search is mostly loading and presolve, whose wall time a busy machine stretches)."""
    return max(WALL_CLOCK_FACTOR * seconds, 10.0)


def cut_by_wall_clock(solver: cp_model.CpSolver, wall_seconds: float) -> bool:
    """Whether the wall-clock cap may have ended a deterministic search, rather than its deterministic budget.

    Why it matters: such an answer depends on how loaded the machine was, not only on the snapshot and the
    policy, so a replay may place teachers differently.  CP-SAT reports no stop reason, and the deterministic
    time cannot tell: the interleaved search runs in batches and checks its budget between them, so the cap can
    cut the last batch short after the budget was passed (measured: 1.61-1.68 deterministic seconds against
    1.70 uncut, budget 1.0).  So a search not proven optimal counts as cut when it ran for half the cap or
    more -- 50 wall seconds per deterministic second, never seen but under a cap-sized load; the margin also
    covers OR-Tools stopping a timed search early by its longest gap between two checks of the clock.
    ``wall_seconds`` is the caller's own measure of the ``solve`` call."""
    p, r = solver.parameters, solver.response_proto
    return (p.interleave_search and r.status not in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
            and wall_seconds >= 0.5 * p.max_time_in_seconds)


def solve(inst: Instance, start: GroupPlacement, started: float | None = None,
          progress: Progress = silent) -> tuple[GroupPlacement, dict[str, object]]:
    """Optimise over the rules from the feasible ``start``; return the placement and honest solve figures.

    The time limit counts from ``started`` (the caller's start, so building the instance and the warm start are
    inside it) and covers the bounds and model building, not only CP-SAT's search.  ``progress`` hears each step
    (:mod:`solver.progress`); it changes nothing in the round.
    """
    t0 = started or time.perf_counter()
    stages = STAGES if inst.policy.objective == "lexicographic" else ("weighted",)
    # bounds valid for the whole problem (capacity and consent only, all pairs), needed only when the model
    # keeps a subset of the pairs; computed first so that they are inside the time limit, and their optimal
    # assignments tell the model which pairs to keep
    restricted_model = len(inst.edges) > inst.policy.full_model_pairs
    if restricted_model:
        progress("relaxation bounds", f"capacity and consent only, {len(inst.edges):,} pairs")
    relaxed = ({s: matching.relaxation(inst, inst.stage_values(s)) for s in stages if s != "weighted"}
               if restricted_model else {})
    relaxation = {s: bound for s, (bound, _) in relaxed.items()}
    rows = None
    priced = None
    pricing = "none"
    if restricted_model and stages == STAGES:
        full, settled = pricing_iterations(inst), settled_pricing_iterations(inst)
        # the full pricing keeps the pairs of its last assignments, the settled and quick ones those of their last
        iterations, assignments, patience, pricing = (
            (full, PRICED_ASSIGNMENTS, 10, "full") if full else
            (settled, 1, BESIDE_PATIENCE, "settled") if settled else
            (quick_pricing_iterations(inst), 1, 10, "quick"))
        if iterations:
            rows = lagrangian.SeatRows(inst)
            # a deterministic round's iterations are a fixed count (a replay repeats them); a wall-clock round's
            # stop after PARALLEL_PRICING_CAP of its limit, so that on a slow machine its searches keep the rest
            until = math.inf if inst.policy.deterministic else PARALLEL_PRICING_CAP * inst.policy.time_limit
            priced = price_pairs(inst, start, iterations, rows, assignments, patience,
                                 lambda k, bound: progress("pricing pairs", f"Lagrangian iteration {k} of "
                                                                            f"{iterations}, reserve bound {bound:,}"),
                                 time_limit=until)
    floor = stage_value(inst, start, "must_place")  # the must-place floor the pricing's bound holds for
    first, starts = start, None
    if priced and inst.policy.guided_start:
        progress("warm start", "deferred acceptance guided by the pricing")
        start, starts = guided_start(inst, start, priced)
    # both starts' pairs: the one not taken still shows where rule-abiding answers put teachers
    keep = model_pairs(inst, start, [e for _, edges in relaxed.values() for e in edges]
                       + [e for tid, g in first.items() if (e := inst.edge(tid, g)) is not None])
    kept_unpriced = len(keep)
    if priced:
        keep.update((inst.edges[i].teacher_id, inst.edges[i].group) for i in priced.pairs)
    restricted = len(keep) < len(inst.edges)
    # stages the warm start already solves (its value meets the whole problem's relaxation bound, so no search
    # can do better): skipped, which on a district saves the ~5 s CP-SAT spends presolving for the proof.  Only a
    # leading run of stages qualifies, because a searched stage changes the placement the next one starts from.
    settled: list[str] = []
    for stage in stages:
        if stage not in relaxation or stage_value(inst, start, stage) != relaxation[stage]:
            break
        settled.append(stage)
    placed = must_be_placed(inst, start, settled)
    comps = components(inst)
    # keep a slice of the limit for what follows the search: the LP bounds where they are computed, and
    # explaining every placement and non-placement
    limit = inst.policy.time_limit
    with_lp = inst.policy.objective == "lexicographic" and len(inst.edges) <= inst.policy.lp_bound_pairs
    after_search = min(2.0, 0.1 * limit) + (min(5.0, 0.15 * limit) if with_lp else 0.0)
    deadline = t0 + limit - after_search
    # the pricing's share of the limit at nominal speed (not as measured), so the search's deterministic budget
    # stays a pure function of the instance and the policy; the settled pricing takes the quick pricing's place
    # and its charge, so the search keeps its budget
    charged = (inst.policy.quick_pricing_iterations if pricing == "settled" and inst.policy.deterministic
               else priced.iterations if priced else 0)
    nominal_pricing = nominal_seconds(inst, charged)
    searched = max(1, len(stages) - len(settled))
    reports = {s: StageReport() for s in stages}
    placement: GroupPlacement = {}
    sizes = {"components": len(comps), "pairs": len(inst.edges), "pairs_in_model": len(keep),
             "groups": len(inst.groups), "variables": 0, "constraints": 0, "largest_component_pairs": 0}
    remaining = max(1, len(inst.edges))
    # the start taken: the guided one may place more must-place teachers (a higher floor, a tighter bound)
    beside_floor = stage_value(inst, start, "must_place")
    beside_iterations = bound_beside_search(inst) if rows is not None else 0
    beside = (BoundBesideSearch(inst, rows, beside_floor, stage_value(inst, start, "reserve"), beside_iterations)
              if beside_iterations else None)
    try:
        for c, (teachers, groups) in enumerate(comps, 1):
            pairs = sum(len(inst.edges_by_teacher[t]) for t in teachers)
            within = f" (component {c} of {len(comps)})" if len(comps) > 1 else ""
            told = progress if pairs >= PROGRESS_COMPONENT_SHARE * len(inst.edges) else silent
            told("building the model", f"{len(keep):,} of {len(inst.edges):,} pairs{within}")
            comp = ComponentModel(inst, teachers, groups, keep, placed)
            sizes["variables"] += len(comp.model.proto.variables)
            sizes["constraints"] += len(comp.model.proto.constraints)
            sizes["largest_component_pairs"] = max(sizes["largest_component_pairs"], pairs)
            share = max(0.0, deadline - time.perf_counter()) * pairs / remaining
            remaining -= pairs
            # deterministic mode: each searched stage's work budget is a pure function of the policy and the
            # instance (never of how long the preparation took on this machine), so a replay gets the same budget
            # and the same answer; the price is wall time beyond the limit on large rounds.  What a stage leaves
            # (a search proven optimal early) goes to the next: deterministic time is as reproducible as the rest.
            work = (limit - after_search - nominal_pricing) * pairs / max(1, len(inst.edges)) / searched
            unused = 0.0
            current = {tid: start[tid] for tid in teachers if tid in start}
            for k, stage in enumerate(stages):
                expr = comp.objective(stage)
                report = reports[stage]
                report.components += 1
                if stage in settled:  # proven optimal by the relaxation bound: nothing to search
                    told(stage_step(stage), f"the warm start is proven optimal{within}")
                    value = bound = stage_value(inst, current, stage)
                    report.optimal_components += 1
                else:
                    comp.set_hint(current)
                    comp.model.maximize(expr)
                    budget = work + unused
                    seconds = budget if inst.policy.deterministic else share * parallel_stage_share(inst.policy, stages, k)
                    solver = _params(inst, seconds)
                    step = stage_step(stage)
                    told(step, f"searching{within}, up to {seconds:.3g} "
                                   f"{'deterministic ' if inst.policy.deterministic else ''}seconds")
                    t_stage = time.perf_counter()
                    status = solver.solve(comp.model, None if told is silent else _Found(told, step, within))
                    spent = time.perf_counter() - t_stage
                    share -= spent
                    used = solver.response_proto.deterministic_time
                    unused = max(0.0, budget - used)
                    report.seconds += spent
                    report.deterministic_seconds += used
                    report.cut_by_wall_clock += cut_by_wall_clock(solver, spent)
                    solved = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
                    if solved:
                        current = comp.read(solver)
                        report.optimal_components += status == cp_model.OPTIMAL
                    value = stage_value(inst, current, stage)
                    # the solver's bound holds for the kept pairs only; without a solve it is the trivial bound
                    bound = int(round(solver.best_objective_bound)) if solved else trivial_bound(inst, teachers, stage)
                report.objective += value
                report.bound += max(bound, value)
                if stage != "weighted":
                    comp.model.add(expr >= value)  # later stages keep this stage's value (lexicographic)
            placement.update(current)
        beside_bound, waited = beside.result() if beside else (None, 0.0)
    finally:
        if beside:
            beside.close()  # after an error in the search: stops the iterations and joins the thread
    if with_lp:
        progress("LP bounds with seniority", f"{len(inst.edges):,} pairs")
    lp_bounds = _seniority_lp_bounds(inst, reports, t0) if with_lp else {}
    wall_time = time.perf_counter() - t0
    # outside the limit and the wall time on purpose: it changes no placement, it only proves more about it
    lagrange = (_lagrangian_bounds(inst, reports, settled, rows, progress)
                if stages == STAGES and not with_lp and inst.policy.bound_seconds > 0 else {})
    # the pricing's iterations, and those beside the search, bound the reserve stage too, for every answer
    # placing at least as many must-place teachers as the warm start they used (their floor)
    for found, at_least in ((priced, floor), (beside_bound, beside_floor)):
        if (found and reports["must_place"].objective >= at_least
                and found.bound < getattr(lagrange.get("reserve"), "bound", found.bound + 1)):
            lagrange["reserve"] = found
    stage_stats: dict[str, dict[str, object]] = {}
    for name, r in reports.items():
        row: dict[str, object] = {"objective": r.objective, "model_bound": r.bound, "gap": round(r.gap, 6),
                                  "optimal_components": r.optimal_components, "components": r.components,
                                  "seconds": round(r.seconds, 2),
                                  "deterministic_seconds": round(r.deterministic_seconds, 3)}
        if inst.policy.deterministic:
            row["cut_by_wall_clock"] = r.cut_by_wall_clock
        if name in relaxation:
            relax = relaxation[name]
            row["relaxation_bound"] = relax
            row["relaxation_gap"] = round(gap(relax, r.objective), 6)
        if name in lp_bounds:
            lp = lp_bounds[name]
            row["lp_bound"] = lp
            row["lp_gap"] = None if lp is None else round(gap(lp, r.objective), 6)
        if name in lagrange:
            bound = lagrange[name]
            row["lagrangian_bound"] = bound.bound
            row["lagrangian_gap"] = round(gap(bound.bound, r.objective), 6)
            row["lagrangian_iterations"] = bound.iterations
            row["lagrangian_seconds"] = round(bound.seconds, 2)
        stage_stats[name] = row
    stats: dict[str, object] = {
        "solver": "cp-sat", "time_limit": inst.policy.time_limit, "restricted_pairs": restricted,
        "wall_time": round(wall_time, 3), **sizes, "stages": stage_stats,
        "settled_by_relaxation": settled,
        "warm_starts": starts,
        "pricing": ({"kind": pricing, "iterations": priced.iterations, "seconds": round(priced.seconds, 2),
                     "pairs_added": len(keep) - kept_unpriced, "charged_iterations": charged}
                    if priced else None),
        "bound_beside_search": ({"iterations": beside_bound.iterations, "bound": beside_bound.bound,
                                 "seconds": round(beside_bound.seconds, 2), "waited": round(waited, 2)}
                                if beside_bound else None),
        "optimal": not restricted and all(r.optimal_components == r.components for r in reports.values()),
        # a deterministic run's answer is a function of its snapshot and policy unless the wall clock cut a search
        # -- or, unseen here, with tasks side by side (interleave_batch 0) the task a search's last batch stopped
        # early differed (benchmarks/JOURNAL.md, "CP-SAT's last batch")
        "reproducible": inst.policy.deterministic and not any(r.cut_by_wall_clock for r in reports.values()),
    }
    return placement, stats


def _seniority_lp_bounds(inst: Instance, reports: dict[str, StageReport], t0: float) -> dict[str, int | None]:
    """Each lexicographic stage's LP bound with seniority (:mod:`solver.bounds`), earlier stages held at the
    values found, as the CP-SAT stages hold them; ``None`` where the LP did not finish in the time left.

    The LP is rebuilt for each stage on purpose: one GLOP model re-solved with a new objective and floor row
    measured about 3x slower on a 100-school round (9.2 s against 3.1 s), incrementality off or not."""
    out: dict[str, int | None] = {}
    floors: list[tuple[bounds.Weight, int]] = []
    for stage in STAGES:
        weight = inst.stage_values(stage)
        left = t0 + inst.policy.time_limit - time.perf_counter()
        out[stage] = bounds.seniority_lp_bound(inst, weight, floors, time_limit=max(3.0, left))
        floors.append((weight, reports[stage].objective))
    return out


def _lagrangian_bounds(inst: Instance, reports: dict[str, StageReport], settled: list[str],
                       rows: lagrangian.SeatRows | None = None,
                       progress: Progress = silent) -> dict[str, lagrangian.LagrangianBound]:
    """Each searched stage's Lagrangian bound with seniority (:mod:`solver.lagrangian`), earlier stages held at
    the values found, ``policy.bound_seconds`` shared between them.  Settled stages are proven already."""
    searched = [s for s in STAGES if s not in settled]
    if not searched:
        return {}
    rows = rows or lagrangian.SeatRows(inst)
    out: dict[str, lagrangian.LagrangianBound] = {}
    floors: list[tuple[bounds.Weight, int]] = [(inst.stage_values(s), reports[s].objective) for s in settled]
    for stage in searched:
        weight = inst.stage_values(stage)
        step = f"proving the {stage_step(stage)}'s gap"
        out[stage] = lagrangian.lagrangian_bound(
            inst, weight, floors, target=reports[stage].objective, time_limit=inst.policy.bound_seconds / len(searched),
            rows=rows, auction_eps=inst.policy.auction_eps,
            on_iteration=lambda k, bound, step=step: progress(step, f"Lagrangian iteration {k}, bound {bound:,}"))
        floors.append((weight, reports[stage].objective))
    return out


#: Arcs of the Lagrangian's flow an iteration processes per second on the reference machine (2 cores; the
#: district's 710k arcs take about 0.9 s).  A nominal speed, not a measured one, so whether pairs are priced
#: is a pure function of the instance and the policy and a replay prices the same pairs.
ARCS_PER_SECOND = 800_000
#: What an iteration by auction (``policy.auction_eps``) costs against an exact flow's :data:`ARCS_PER_SECOND`,
#: averaged over the pricing (one iteration in ten is still a flow): the district's 100 iterations took 17-24 s
#: by auction, against 89 s at nominal speed by flows.
AUCTION_COST = 0.2
#: The longest a parallel round's pricing runs, as a share of its wall-clock limit, however many iterations are
#: left (at least one runs).  It is chosen to take at most 65 % (``policy.parallel_pricing_share``) at nominal
#: speed, and took 17-25 s of the district's 60 s (18.5-31 s on a slower night, when it sometimes cut
#: the pricing short; 9-10.5 s of 30 s with one exact flow; benchmarks/JOURNAL.md); on a machine twice as slow this keeps
#: the searches from getting nothing.
PARALLEL_PRICING_CAP = 0.5
#: How many of the last relaxed assignments give their pairs to the model (20 of 150 measured best).
PRICED_ASSIGNMENTS = 20


def pricing_iterations(inst: Instance) -> int:
    """``policy.pricing_iterations`` if they fit in ``policy.pricing_share`` of the time limit at nominal
    speed, else 0.

    All or nothing, because the priced pairs pay only when the search has time for the larger model.  Measured
    on a generated 300-school round (deterministic): with 120 s the reserve stage rose from 75,048 to 75,568
    (0.15 % from its bound) and welfare from 17,945 to 18,060; with 30 s the larger model was searched less
    well (74,554 against 75,048, welfare 15,805 against 17,617), and fewer iterations (15-50) chose pairs that
    helped less.  So pricing starts where 150 iterations fit in 15 % of the limit: 150 schools (`city`) at the
    default 30 s, 200 from about 40 s, 300 from about 90 s, the district from about 15 minutes."""
    p = inst.policy
    return p.pricing_iterations if nominal_seconds(inst, p.pricing_iterations) <= p.pricing_share * p.time_limit else 0


def quick_pricing_iterations(inst: Instance) -> int:
    """``policy.quick_pricing_iterations`` where the full pricing does not fit the limit but these do (same share,
    same nominal speed), else 0: the pairs of the last relaxed assignment join the model.

    Why: on the district the search on the kept pairs levels off at 249,875 (its own bound is within 0.03 %)
    and more time does not help (249,667 after 15 minutes), while the best placement known (252,059) needs only
    296 more pairs; with those the 30 s round finds and proves it.  The full pricing's +9,641 pairs contain
    them but defeat a short search (236,815).  One assignment's pairs are a few hundred: few enough for the
    usual search, and where the multipliers put teachers.  Measured (benchmarks/JOURNAL.md) on the district (seed 7,
    deterministic, reserve stage from the warm start, 11.8 deterministic seconds, lean search), the pairs of
    the assignment of iteration 2, 3, 4, 5 or 6 (+700 each): 250,603, 250,915, 251,175, 250,915, 250,863; the
    last 2 of 5 (+1,350): 250,835.  Tried and replaced: a *polish* that searched again from the kept pairs'
    answer with the pairs of the last 5 of 10 iterations held back until then -- 251,175 / 59,214 with 60 s
    where this gives 251,227 / 61,464, and 75,256 and 75,765 on `mid` rounds in 30 s where this gives 75,308
    and 75,782.  On the district 4 iterations fit in 15 % of the default 30 s.

    Deterministic searches only: the parallel mode's wall-clock limit buys far less search (on the district
    with 60 s its reserve stage got 8.4 deterministic seconds in all); added pairs were measured there only for
    the polish, which cost welfare without a clear gain."""
    p = inst.policy
    return p.quick_pricing_iterations if quick_pricing_fits(inst) and not p.settled_pricing_iterations else 0


def quick_pricing_fits(inst: Instance) -> bool:
    """Where the quick pricing (or the settled pricing in its place) runs: deterministic rounds whose full
    pricing does not fit the limit and whose quick pricing does."""
    p = inst.policy
    fits = nominal_seconds(inst, p.quick_pricing_iterations) <= p.pricing_share * p.time_limit
    return p.deterministic and fits and not pricing_iterations(inst)


def settled_pricing_iterations(inst: Instance) -> int:
    """``policy.settled_pricing_iterations`` where the quick pricing would run, and in a parallel round whose full
    pricing does not fit where they fit ``policy.parallel_pricing_share`` of its limit; else 0.

    Why: the pairs a district's 30 s round lacks are found by the Lagrangian once its multipliers have settled,
    not after the quick pricing's 4 iterations.  The pairs of the relaxed assignment of the 100th iteration
    (step halved after :data:`BESIDE_PATIENCE` stalls, the bound beside the search's setting) took the reserve
    stage of six generated districts (seeds 7-12; benchmarks/JOURNAL.md) to 251,903, 252,046, 250,825, 251,190,
    258,120 and 248,773 -- 0.13-0.33 % from their bounds, against 0.36-0.83 % with the quick pricing's pairs, the
    same search budget and about a minute more wall time (by exact flows; by auction, ``policy.auction_eps``, the
    iterations take about 23 s, and the six districts came to 0.10-0.29 %).  The pairs of the 20th iteration
    (step halved after 10 stalls) helped far less, +203 on average: it is the settled multipliers that matter.
    They take the quick pricing's place and its charge to the deterministic budget (4 iterations at nominal
    speed), so the search keeps the budget it had; the rest is not charged, because at nominal speed 100
    iterations are 89 s and would leave the search nothing.  Like the bound beside the search they are a fixed
    count, so a replay repeats them.  Their bound is reported as the round's proven reserve bound.

    A parallel round had only CP-SAT's own bound on its pairs to show (4 % from the flow relaxation on the
    district).  With the settled pricing inside its wall-clock limit it proves its reserve gap.  With CP-SAT's
    default portfolio, at 60 s the district's reserve stage came within 0.41-1.94 % of that bound (seeds 7-12),
    against 1.27-2.04 % without the pricing (seeds 7, 8, 10, 12); with the lean portfolio as well
    (``policy.portfolio_in_parallel``), within 0.22-0.49 % in 12 of 13 runs, and at 45 s within 0.36 % and
    0.62 % (seeds 7 and 8) against 1.04 % and 1.12 % without the pricing."""
    p = inst.policy
    if quick_pricing_fits(inst):
        return p.settled_pricing_iterations
    if p.deterministic or pricing_iterations(inst):
        return 0
    # a parallel round: the iterations come out of its wall-clock limit, so they run only where they leave the
    # searches enough of it (see policy.parallel_pricing_share)
    nominal = nominal_seconds(inst, p.settled_pricing_iterations) * (AUCTION_COST if p.auction_eps else 1.0)
    return p.settled_pricing_iterations if nominal <= p.parallel_pricing_share * p.time_limit else 0


def nominal_seconds(inst: Instance, iterations: int) -> float:
    """What ``iterations`` Lagrangian iterations cost at :data:`ARCS_PER_SECOND`."""
    return iterations * lagrangian.arc_count(inst) / ARCS_PER_SECOND


def price_pairs(inst: Instance, start: GroupPlacement, iterations: int, rows: lagrangian.SeatRows,
                keep_last: int, patience: int = 10, on_iteration: Callable[[int, int], None] | None = None,
                time_limit: float = math.inf) -> lagrangian.LagrangianBound:
    """Which left-out pairs the reserve stage needs, priced by Lagrangian relaxation of the rules.

    The restricted model keeps the pairs teachers asked for and a few "indifferent" ones per teacher; the
    reserve stage's best answers move teachers without a list and must-place teachers to schools no cheap
    rule predicts.  The relaxed assignments of the reserve stage's Lagrangian (:mod:`solver.lagrangian`:
    capacity and consent exact, seniority and return rights priced by multipliers) put teachers where a
    rule-abiding optimum would, once the multipliers have settled: the pairs of the last ``keep_last`` of them
    join the model (:data:`PRICED_ASSIGNMENTS` for the full pricing).  Measured on a generated 300-school round
    (51k pairs), reserve stage in 20 s: 74,944 without them, 75,412 with the pairs of 150 iterations (+1,962
    pairs), against 75,152 for the exact model after 900 s and an LP bound of 75,656.  The iterations also bound
    the reserve stage (the must-place floor is the warm start's, never above the final one, so the bound stays
    valid)."""
    floor = [(inst.stage_values("must_place"), stage_value(inst, start, "must_place"))]
    return lagrangian.lagrangian_bound(inst, inst.stage_values("reserve"), floor,
                                       target=stage_value(inst, start, "reserve"), time_limit=time_limit,
                                       max_iterations=iterations, rows=rows, keep_last=keep_last,
                                       patience=patience, on_iteration=on_iteration,
                                       auction_eps=inst.policy.auction_eps, exact_every=exact_every(inst.policy))


def parallel_stage_share(policy: Policy, stages: tuple[str, ...], k: int) -> float:
    """The share of a parallel round's search time still left that its ``k``-th stage gets: an equal share,
    except the reserve stage, which gets ``policy.parallel_reserve_share`` of it when welfare follows.

    Why: the stages are lexicographic, so the reserve stage's value decides more of the round than welfare's,
    and on the district it is the one still climbing when its half ends (30 s rounds, seeds 8, 10, 11: 0.53 %,
    1.51 %, 0.51 % from the bound with half, 0.44 %, 0.85 %, 0.47 % with two thirds; welfare 0.7-2.2 % lower).
    A search that ends early leaves its time to the next stage."""
    if stages[k] == "reserve" and k + 1 < len(stages):
        return policy.parallel_reserve_share
    return 1 / (len(stages) - k)


def exact_every(policy: Policy) -> int:
    """How often the pricing's relaxed assignment is an exact flow rather than an auction's
    (:func:`solver.lagrangian.lagrangian_bound`): a parallel round spends less of its wall clock on flows."""
    return lagrangian.EXACT_EVERY if policy.deterministic else policy.parallel_exact_every


def bound_beside_search(inst: Instance) -> int:
    """Iterations of :class:`BoundBesideSearch` for this round: ``policy.bound_beside_search`` where the quick
    pricing runs (a full pricing's own iterations bound the reserve stage already) and the search runs one task
    at a time, so a core is idle; else 0."""
    p = inst.policy
    return p.bound_beside_search if quick_pricing_iterations(inst) and p.interleave_batch == 1 else 0


#: Iterations without a better bound before :class:`BoundBesideSearch` halves its step (the Lagrangian's
#: default is 10, for runs of many minutes).  With 100 iterations a shorter patience ends lower: on the district
#: (seed 10) 252,174 with 5 against 252,657 with 10 and 252,245 with 3 -- what 10 reaches after about 200.
BESIDE_PATIENCE = 5


class BoundBesideSearch:
    """The reserve stage's Lagrangian bound, computed in a thread while CP-SAT searches.

    Why: a deterministic search runs CP-SAT's tasks one at a time (``policy.interleave_batch``), so one of the
    two cores idles through the round's longest part, and the quick pricing's 4 iterations prove nothing (on the
    district they stop at the flow relaxation, 4 % above the answer).  CP-SAT releases Python's lock while it
    searches, so the iterations run on the idle core: the round reports a gap proven by itself, not only by a
    ``bound_seconds`` run afterwards.  A fixed number of iterations, not "until the search ends", so the figure
    is the same in a replay; it changes no placement.  The bound holds for every answer placing at least the
    warm start's must-place count (``floor``); Polyak's step aims at the warm start's reserve value.  The price:
    on the district the search takes 14-38 % more wall time beside it.  A forked process instead of this thread
    measured cheaper in isolation (+5 % against +14 %) but not in a whole round (benchmarks/JOURNAL.md, "The round
    proves its own gap"), so the simpler thread stays.  ``policy.bound_beside_search`` 0 turns it off."""

    def __init__(self, inst: Instance, rows: lagrangian.SeatRows, floor: int, target: int, iterations: int):
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bound-beside-search")
        self._future = self._pool.submit(
            lagrangian.lagrangian_bound, inst, inst.stage_values("reserve"),
            [(inst.stage_values("must_place"), floor)], target=target, time_limit=math.inf,
            max_iterations=iterations, rows=rows, stop=self._stop, patience=BESIDE_PATIENCE,
            auction_eps=inst.policy.auction_eps)

    def result(self) -> tuple[lagrangian.LagrangianBound, float]:
        """The bound, and the seconds the round waited for it after its search."""
        t = time.perf_counter()
        bound = self._future.result()
        return bound, time.perf_counter() - t

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)


def guided_start(inst: Instance, start: GroupPlacement, priced: lagrangian.LagrangianBound
                 ) -> tuple[GroupPlacement, dict[str, object]]:
    """The better start, lexicographically over the stages: ``start`` or deferred acceptance guided by the
    pricing's last relaxed assignment (:func:`solver.matching.teacher_proposing`); and both starts' stage
    values with the one taken, for the run's figures.

    Why: the rules leave deferred acceptance free where a teacher ranks schools equally (a teacher without a
    list ranks them all equally) and where a school has no seniority order, and there plain deferred acceptance
    decides by group number and committee rank, blind to the reserve cost.  The relaxed assignment, once its
    multipliers price seniority, puts teachers where the reserve stage wants them; following it wherever the
    rules allow keeps every rule and places whom it would.  Measured on the district from 4 iterations: seed 8
    starts at 852 must-place / 244,964 against 842 / 233,899 (so its must-place stage is settled), seed 10 at
    867 / 242,430 against 867 / 233,651.  Both starts obey the rules, so the better one is kept."""
    guide = {inst.edges[i].teacher_id: inst.edges[i].group for i in priced.assignment}
    guided = matching.teacher_proposing(inst, guide)
    values = {name: [stage_value(inst, p, s) for s in STAGES]
              for name, p in (("deferred_acceptance", start), ("guided", guided))}
    used = "guided" if values["guided"] > values["deferred_acceptance"] else "deferred_acceptance"
    return (guided if used == "guided" else start), {**values, "used": used}


def must_be_placed(inst: Instance, start: GroupPlacement, settled: list[str]) -> frozenset[str]:
    """The teachers every later stage must place: all must-place teachers with a pair, when the settled
    must-place stage's optimum places every one of them (its floor then says exactly that)."""
    if "must_place" not in settled:
        return frozenset()
    must = frozenset(tid for tid in inst.edges_by_teacher if inst.teachers[tid].must_place)
    return must if stage_value(inst, start, "must_place") == len(must) else frozenset()


def trivial_bound(inst: Instance, teachers: list[str], stage: str) -> int:
    """Each teacher takes at most one post: the sum of their best pair values bounds any stage."""
    values = inst.stage_values(stage)
    return sum(max((int(values[inst.position(t, e.group)]) for e in inst.edges_by_teacher[t]), default=0)
               for t in teachers)


def stage_value(inst: Instance, placement: GroupPlacement, stage: str) -> int:
    """A stage objective evaluated at a placement."""
    values = inst.stage_values(stage)
    return sum(int(values[i]) for tid, g in placement.items() if (i := inst.position(tid, g)) is not None)
