"""Large-neighbourhood search with CP-SAT on the sparse instance: improve a stable placement window by window.

Deferred acceptance gives a lawful answer on a state-size pool in a second, but it breaks the ties the rules
leave open blindly: who of several must-place teachers takes a forced seat, which consent-model school fills a
post.  This module re-solves one *window* at a time -- the posting groups of a run of schools in one region --
with everything outside it fixed:

* **movable**: teachers placed in the window, unplaced teachers with a listed or ranked pair there, and up to
  ``max_class_candidates`` unplaced class members (must-place first, then the highest reserve salary);
* **R-SENIORITY / R-RETURN inside**: for each movable pair (t, g) at a guarded group -- a seniority-order
  school, or t's return right -- ``cap(g) * [t at a school t ranks at least as high] + #(higher-priority movable
  teachers at g) >= cap(g)`` (the linear stability constraint, with prefix counts so it stays linear in size);
* **fixed teachers' envy on the window**: a fixed teacher who may take a guarded window group and prefers it
  strictly to their outcome needs that group full of teachers of higher priority than theirs;
* **movable teachers' envy outside**: a movable teacher who may take an outside guarded group that is open to
  them (a seat free, or held by someone of lower priority) must end at a school they rank at least as high.

The objective is the lexicographic (must-place, reserve, welfare) with exact weights on the window's teachers,
so any solution CP-SAT returns is no worse than the hint (the current placement) on the whole pool.  Every
search runs on deterministic time with one worker, so the same instance, placement and budget give the same
answer (runs are replayed); a wall-clock cap only guards against a pathological search and is reported.
Design and figures: ``docs/sparse_search.md``, ``benchmarks/README.md`` ("State scale").
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.instance import UNLISTED
from solver.progress import Progress, silent
from solver.sparse import STAGES, SparseInstance, _member

#: a level worse than any school: unplaced
UNPLACED_LEVEL = np.int64(4 * UNLISTED)
#: a priority key above any teacher's: a group with a free seat is open to everyone
OPEN = np.iinfo(np.int64).max // 4


@dataclass
class SearchStats:
    """What :func:`improve` did: stage values before and after, windows solved and improved, time spent."""

    before: tuple[int, ...] = ()
    after: tuple[int, ...] = ()
    passes: int = 0
    windows: int = 0  # windows solved, over all passes
    windows_improved: int = 0
    deterministic_seconds: float = 0.0
    wall_seconds: float = 0.0
    cut_by_wall_clock: bool = False  # a window's search hit its wall-clock cap: the answer may not replay
    per_window: list[dict] = field(default_factory=list)
    per_pass: list[tuple[int, ...]] = field(default_factory=list)  # stage values after each pass

    @property
    def reproducible(self) -> bool:
        return not self.cut_by_wall_clock


# -- pair attributes, for any allowed pair (explicit or through a class) ---------------------------------------
class _Pairs:
    """Priority keys, preference levels, stage values and guards of pairs, explicit or class, as arrays."""

    def __init__(self, sp: SparseInstance):
        self.sp = sp
        self.G = len(sp.g_code)
        self.e_key, extra = sp.priority_keys()
        self.M = int(extra["M"])
        self.T = len(sp.teacher_ids)
        self.e_values = [sp.stage_values(s) for s in STAGES]
        # a pair is guarded where R-SENIORITY (seniority-order school) or R-RETURN (a return right) binds
        self.e_guard = sp.s_seniority[sp.g_school[sp.e_group]] | sp.e_kinds[0]

    def locate(self, t: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _member(t * self.G + g, self.sp.e_code)

    def key(self, t: np.ndarray, g: np.ndarray, found: np.ndarray, at: np.ndarray) -> np.ndarray:
        """R-SENIORITY's priority (smaller first) of each pair; a class pair's as deferred acceptance computes it."""
        sp = self.sp
        s = sp.g_school[g]
        home = sp.t_return[t] & (sp.t_former[t] == s)
        first = np.where(sp.s_seniority[s], np.where(home, 0, sp.t_class[t]), np.where(home & sp.s_honours[s], 0, 1))
        second = np.where(sp.s_seniority[s] | (home & sp.s_honours[s]), 0, self.M - 1)
        class_key = (first * self.M + second) * self.T + sp.t_senior[t]
        return np.where(found, self.e_key[at] if len(self.e_key) else 0, class_key)

    def level(self, t: np.ndarray, found: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The teacher's preference level of each pair (smaller is better; equal levels are indifferent)."""
        sp = self.sp
        class_level = np.where(sp.t_has_list[t], UNLISTED, 0)
        return np.where(found, sp.e_level[at] if len(sp.e_level) else 0, class_level)

    def guard(self, g: np.ndarray, found: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Class pairs never carry a return right (a listless holder's former school is explicit)."""
        class_guard = self.sp.s_seniority[self.sp.g_school[g]]
        return np.where(found, self.e_guard[at] if len(self.e_guard) else False, class_guard)

    def values(self, t: np.ndarray, found: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Stage values (pairs x stages)."""
        cols = []
        for explicit, implicit in self.e_values:
            cols.append(np.where(found, explicit[at] if len(explicit) else 0, implicit[t]))
        return np.column_stack(cols).astype(np.int64)


def _occupancy(pairs: _Pairs, placed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each teacher's outcome level, and each group's open threshold: the worst occupant's key when full, else
    :data:`OPEN` (a teacher of key below it who prefers the group and may take it would envy its holder)."""
    sp = pairs.sp
    level = np.full(len(placed), UNPLACED_LEVEL, np.int64)
    t = np.nonzero(placed >= 0)[0]
    g = placed[t]
    found, at = pairs.locate(t, g)
    level[t] = pairs.level(t, found, at)
    keys = pairs.key(t, g, found, at)
    count = np.bincount(g, minlength=pairs.G)
    worst = np.full(pairs.G, -1, np.int64)
    np.maximum.at(worst, g, keys)
    threshold = np.where(count >= sp.g_capacity, worst, OPEN)
    return level, threshold


# -- windows ---------------------------------------------------------------------------------------------------
def windows(sp: SparseInstance, max_posts: int, shift: float = 0.0) -> list[np.ndarray]:
    """Runs of schools, region by region (schools in id order), each with at most about ``max_posts`` posts; as
    arrays of group numbers.  A pool without regions is one region cut into runs.  ``shift`` (0-1) moves the cuts
    by that share of a run, so a later pass joins schools an earlier pass kept apart."""
    region = [getattr(sp.district.schools[s], "region", "") or "" for s in sp.school_ids]
    posts = np.bincount(sp.g_school, weights=sp.g_capacity, minlength=len(sp.school_ids))
    groups_of = np.split(np.argsort(sp.g_school, kind="stable"),
                         np.cumsum(np.bincount(sp.g_school, minlength=len(sp.school_ids)))[:-1])
    out: list[np.ndarray] = []
    by_region: dict[str, list[int]] = {}
    for s, r in enumerate(region):
        by_region.setdefault(r, []).append(s)
    for r in sorted(by_region):
        schools = by_region[r]
        total = posts[schools].sum()
        pieces = max(1, int(np.ceil(total / max_posts)))
        target = total / pieces
        run: list[int] = []
        acc = target * (1.0 - shift) if shift and pieces > 1 else 0.0
        for s in schools:
            run.append(s)
            acc += posts[s]
            if acc >= target:
                out.append(np.concatenate([groups_of[x] for x in run]))
                run, acc = [], 0.0
        if run:
            out.append(np.concatenate([groups_of[x] for x in run]))
    return [w for w in out if len(w)]


# -- one window's model ----------------------------------------------------------------------------------------
@dataclass
class _Window:
    teachers: np.ndarray  # movable teachers
    t: np.ndarray  # pair teacher
    g: np.ndarray  # pair group
    level: np.ndarray
    key: np.ndarray
    guard: np.ndarray
    returning: np.ndarray  # the pair is the teacher's return right (R-RETURN)
    school: np.ndarray
    value: np.ndarray  # combined lexicographic value of each pair
    need: np.ndarray  # per movable teacher: the level they must reach (UNPLACED_LEVEL: none)
    threshold: np.ndarray  # per window group: fixed teachers' best envious key (OPEN: none)
    groups: np.ndarray


def _window(pairs: _Pairs, placed: np.ndarray, groups: np.ndarray, max_class_candidates: int) -> _Window:
    sp = pairs.sp
    T, G = pairs.T, pairs.G
    in_w = np.zeros(G, bool)
    in_w[groups] = True
    outcome, open_at = _occupancy(pairs, placed)
    unplaced = placed < 0
    movable = (placed >= 0) & in_w[np.maximum(placed, 0)]
    e_in = in_w[sp.e_group]
    movable[sp.e_teacher[e_in & unplaced[sp.e_teacher]]] = True
    # classes' groups inside and outside the window
    C = len(sp.class_keys)
    class_of_arc = np.repeat(np.arange(C), np.diff(sp.class_ptr))
    arc_in = in_w[sp.class_group]
    reaches_w = np.bincount(class_of_arc[arc_in], minlength=C) > 0
    # unplaced class members reaching the window: must-place first, then reserve salary, then priority
    cand = np.unique(sp.m_teacher[reaches_w[sp.m_class] & unplaced[sp.m_teacher] & ~movable[sp.m_teacher]])
    if len(cand):
        order = np.lexsort((sp.t_senior[cand], sp.t_class[cand], -sp.t_features[cand, 1], -sp.t_features[cand, 0]))
        movable[cand[order[:max_class_candidates]]] = True
    # the movable teachers' pairs in the window: explicit, then class pairs not already explicit
    e_sel = e_in & movable[sp.e_teacher]
    pt, pg = [sp.e_teacher[e_sel]], [sp.e_group[e_sel]]
    m_sel = movable[sp.m_teacher] & reaches_w[sp.m_class]
    for c in np.unique(sp.m_class[m_sel]).tolist():
        members = sp.m_teacher[m_sel & (sp.m_class == c)]
        cg = sp.class_group[sp.class_ptr[c]:sp.class_ptr[c + 1]]
        cg = cg[in_w[cg]]
        pt.append(np.repeat(members, len(cg)))
        pg.append(np.tile(cg, len(members)))
    t, g = np.concatenate(pt), np.concatenate(pg)
    code = np.unique(t * G + g)
    t, g = code // G, code % G
    found, at = pairs.locate(t, g)
    level, key, guard = pairs.level(t, found, at), pairs.key(t, g, found, at), pairs.guard(g, found, at)
    stage = pairs.values(t, found, at)
    # exact lexicographic weights on the window's teachers: each stage outweighs all later stages' totals
    teachers = np.nonzero(movable)[0]
    value = np.zeros(len(t), np.int64)
    for j in range(stage.shape[1]):
        span = np.zeros(T, np.int64)
        np.maximum.at(span, t, np.abs(stage[:, j]))
        value = value * (1 + int(span.sum())) + stage[:, j]

    # movable teachers' envy outside: explicit pairs out of the window, open to them
    need = np.full(T, UNPLACED_LEVEL, np.int64)
    out = ~e_in & movable[sp.e_teacher] & pairs.e_guard
    if out.any():
        ot, og = sp.e_teacher[out], sp.e_group[out]
        oat = np.nonzero(out)[0]
        envy = pairs.e_key[oat] < open_at[og]
        np.minimum.at(need, ot[envy], sp.e_level[oat][envy])
    # ... and class pairs out of the window (seniority schools; a class pair is never the teacher's return right
    # unless the class reaches their former school, which is checked pair by pair below)
    arc_sen = sp.s_seniority[sp.g_school[sp.class_group]] & ~arc_in
    best_open = np.full(C, -1, np.int64)
    np.maximum.at(best_open, class_of_arc[arc_sen], open_at[sp.class_group[arc_sen]])
    m_mov = movable[sp.m_teacher]
    mt, mc = sp.m_teacher[m_mov], sp.m_class[m_mov]
    plain_key = (sp.t_class[mt] * pairs.M) * T + sp.t_senior[mt]
    envy = plain_key < best_open[mc]
    np.minimum.at(need, mt[envy], np.where(sp.t_has_list[mt[envy]], UNLISTED, 0))
    for tt, c in zip(mt[sp.t_return[mt] & (sp.t_former[mt] >= 0)].tolist(),
                     mc[sp.t_return[mt] & (sp.t_former[mt] >= 0)].tolist()):
        cg = sp.class_group[sp.class_ptr[c]:sp.class_ptr[c + 1]]
        cg = cg[(sp.g_school[cg] == sp.t_former[tt]) & ~in_w[cg] & sp.s_seniority[sp.g_school[cg]]]
        if len(cg) and (open_at[cg] > sp.t_senior[tt]).any():
            need[tt] = min(need[tt], UNLISTED if sp.t_has_list[tt] else 0)

    # fixed teachers' envy on the window: explicit pairs into guarded window groups they prefer to their outcome
    threshold = np.full(G, OPEN, np.int64)
    fixed = ~movable
    into = e_in & fixed[sp.e_teacher] & pairs.e_guard
    # (a return right binds at an equal level too: its holder must be at the school itself or one ranked higher)
    into &= (sp.e_level < outcome[sp.e_teacher]) | (sp.e_kinds[0] & (sp.e_level <= outcome[sp.e_teacher]))
    np.minimum.at(threshold, sp.e_group[into], pairs.e_key[into])
    # ... and unplaced fixed class members (placed ones rank every class school alike)
    f_sel = fixed[sp.m_teacher] & unplaced[sp.m_teacher] & reaches_w[sp.m_class]
    if f_sel.any():
        ft, fc = sp.m_teacher[f_sel], sp.m_class[f_sel]
        best = np.full(C, OPEN, np.int64)
        np.minimum.at(best, fc, (sp.t_class[ft] * pairs.M) * T + sp.t_senior[ft])
        arc_g = sp.class_group[arc_in]
        sen = sp.s_seniority[sp.g_school[arc_g]]
        np.minimum.at(threshold, arc_g[sen], best[class_of_arc[arc_in]][sen])
        for tt, c in zip(ft[sp.t_return[ft]].tolist(), fc[sp.t_return[ft]].tolist()):  # at their former school
            cg = sp.class_group[sp.class_ptr[c]:sp.class_ptr[c + 1]]
            cg = cg[in_w[cg] & (sp.g_school[cg] == sp.t_former[tt]) & sp.s_seniority[sp.g_school[cg]]]
            np.minimum.at(threshold, cg, sp.t_senior[tt])
    returning = np.where(found, sp.e_kinds[0][at] if len(sp.e_code) else False, False)
    return _Window(teachers, t, g, level, key, guard, returning, sp.g_school[g], value, need[teachers],
                   threshold[groups], groups)


def _solve_window(w: _Window, placed: np.ndarray, cap: np.ndarray, budget: float, wall_cap: float, seed: int,
                  linearization: int = 0) -> tuple[np.ndarray | None, dict]:
    """CP-SAT on one window, hinted with the current placement (every variable, so the hint is a solution); the
    movable teachers' new groups (-1 unplaced), or None when nothing better was found."""
    model = cp_model.CpModel()
    n = len(w.t)
    pt, pg, level, school = w.t.tolist(), w.g.tolist(), w.level.tolist(), w.school.tolist()
    guard, returning, key = w.guard.tolist(), w.returning.tolist(), w.key.tolist()
    x = [model.new_bool_var("") for _ in range(n)]
    hint = (placed[w.t] == w.g).tolist()
    for i in range(n):
        model.add_hint(x[i], hint[i])
    by_teacher: dict[int, list[int]] = {}
    for i, tt in enumerate(pt):
        by_teacher.setdefault(tt, []).append(i)
    by_group: dict[int, list[int]] = {}
    for i in np.argsort(w.key, kind="stable").tolist():
        by_group.setdefault(pg[i], []).append(i)
    for idx in by_teacher.values():
        model.add_at_most_one(x[i] for i in idx)
    # a teacher at a school ranked at least as high as level L: the sum of their pairs of level <= L; for R-RETURN
    # (home >= 0), at that school or one ranked strictly higher (a listless holder must be at the school itself)
    at_least: dict[tuple[int, int, int], cp_model.LinearExprT] = {}

    def reached(tt: int, lev: int, home: int = -1):
        if (tt, lev, home) not in at_least:  # one variable per (teacher, level): constraints stay short
            mine = [i for i in by_teacher.get(tt, [])
                    if (level[i] <= lev if home < 0 else (level[i] < lev or school[i] == home))]
            if len(mine) <= 1:
                at_least[(tt, lev, home)] = x[mine[0]] if mine else 0
            else:
                r = model.new_bool_var("")
                model.add(r == cp_model.LinearExpr.sum([x[i] for i in mine]))
                model.add_hint(r, any(hint[i] for i in mine))
                at_least[(tt, lev, home)] = r
        return at_least[(tt, lev, home)]

    for tt, lev in zip(w.teachers.tolist(), w.need.tolist()):
        if lev < UNPLACED_LEVEL:
            model.add(reached(tt, lev) >= 1)
    threshold = dict(zip(w.groups.tolist(), w.threshold.tolist()))
    for g, idx in by_group.items():
        c = int(cap[g])
        if not any(guard[i] for i in idx) and threshold[g] >= OPEN:
            model.add(cp_model.LinearExpr.sum([x[i] for i in idx]) <= c)
            continue
        # prefix[k]: how many of the first k candidates (in priority order) hold a seat at g; the last is <= c
        prefix: list = [0]
        held = 0
        for i in idx:
            v = model.new_int_var(0, c, "")
            model.add(v == prefix[-1] + x[i])
            held += hint[i]
            model.add_hint(v, held)
            prefix.append(v)
        keys = [key[i] for i in idx]
        for k, i in enumerate(idx):
            if guard[i]:
                ahead = bisect_left(keys, keys[k])  # strictly higher priority
                home = school[i] if returning[i] else -1
                model.add(c * reached(pt[i], level[i], home) + prefix[ahead] >= c)
        if threshold[g] < OPEN:
            model.add(prefix[bisect_left(keys, threshold[g])] >= c)
    model.maximize(sum(int(v) * x[i] for i, v in enumerate(w.value.tolist())))
    current = int(w.value[np.array(hint, bool)].sum())
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = max(budget, 0.01)
    solver.parameters.max_time_in_seconds = wall_cap
    solver.parameters.linearization_level = linearization
    solver.parameters.symmetry_level = 0  # see solver/cpsat/search.py: presolve's symmetry detection may abort
    start = time.perf_counter()
    status = solver.solve(model)
    info = {"pairs": n, "teachers": len(w.teachers), "status": solver.status_name(status),
            "deterministic_seconds": solver.deterministic_time, "wall_seconds": time.perf_counter() - start,
            "cut_by_wall_clock": solver.wall_time >= wall_cap * 0.99}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.objective_value <= current:
        return None, info
    chosen = np.array([solver.boolean_value(v) for v in x], bool)
    new = np.full(len(w.teachers), -1, np.int64)
    pos = {tt: k for k, tt in enumerate(w.teachers.tolist())}
    for i in np.nonzero(chosen)[0].tolist():
        new[pos[int(w.t[i])]] = w.g[i]
    info["gain"] = int(solver.objective_value) - current
    return new, info


def stage_values(sp: SparseInstance, placed: np.ndarray) -> tuple[int, ...]:
    return tuple(sp.placement_values(placed, s) for s in STAGES)


def improve(sp: SparseInstance, placed: np.ndarray, time_limit: float, progress: Progress = silent, *,
            max_posts: int = 300, max_class_candidates: int = 30, window_seconds: float = 0.2,
            wall_limit: float | None = None, wall_factor: float = 20.0, seed: int = 0
            ) -> tuple[np.ndarray, SearchStats]:
    """A placement no worse (lexicographically: must-place, reserve, welfare) than ``placed`` that keeps every
    rule ``placed`` keeps, found by re-solving windows of schools with CP-SAT, ``window_seconds`` each, pass after
    pass (each pass's cuts shifted by half a window; the first pass shares the budget out when it is short) until
    ``time_limit`` deterministic seconds are spent or a pass improves nothing.  Deterministic for the same input
    unless the wall clock cuts it -- ``wall_limit`` seconds in all, or a window's cap of ``wall_factor`` times its
    budget (at least 10 s) -- which the stats report."""
    if not (0 < time_limit < math.inf):
        raise ValueError(f"time_limit must be a positive, finite number of deterministic seconds, got {time_limit}")
    if placed.shape != (len(sp.teacher_ids),):
        raise ValueError(f"placed must hold one group (or -1) per teacher: {len(sp.teacher_ids)} values, "
                         f"got shape {placed.shape}")
    start = time.perf_counter()
    placed = placed.astype(np.int64).copy()
    pairs = _Pairs(sp)
    stats = SearchStats(before=stage_values(sp, placed))
    left = float(time_limit)
    for n_pass in range(10**6):
        ws = windows(sp, max_posts, 0.5 if n_pass % 2 else 0.0)
        # the first pass covers every window even on a small budget: each gets its share
        each = min(window_seconds, time_limit / len(ws)) if n_pass == 0 and ws else window_seconds
        improved = 0
        for n, groups in enumerate(ws, 1):
            if left <= 0.01:
                break
            if wall_limit is not None and time.perf_counter() - start > wall_limit:
                stats.cut_by_wall_clock = True
                break
            budget = min(each, left)
            w = _window(pairs, placed, groups, max_class_candidates)
            new, info = _solve_window(w, placed, sp.g_capacity, budget, max(10.0, wall_factor * budget), seed)
            left -= info["deterministic_seconds"]
            stats.windows += 1
            stats.deterministic_seconds += info["deterministic_seconds"]
            stats.cut_by_wall_clock |= info["cut_by_wall_clock"]
            if new is not None:
                placed[w.teachers] = new
                improved += 1
            stats.per_window.append({**info, "pass": n_pass + 1})
            progress("improving windows", f"pass {n_pass + 1}, window {n} of {len(ws)}, "
                                          f"{stats.windows_improved + improved} improved in all")
        stats.windows_improved += improved
        stats.passes = n_pass + 1
        stats.per_pass.append(stage_values(sp, placed))
        if not improved or left <= 0.01 or stats.cut_by_wall_clock:
            break
    stats.after = stage_values(sp, placed)
    stats.wall_seconds = time.perf_counter() - start
    return placed, stats
