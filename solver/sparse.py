"""The sparse instance: a district of any size read through RULES.md without enumerating pairs teacher by post.

The dense :class:`solver.instance.Instance` lists every allowed (teacher, posting group) pair.  Most of them
are *indifferent*: a must-place teacher may be forced into any post of their certification at a school that
accepts forced placements, and a teacher without a list may be assigned to any post of their certification at
a school that does not require mutual consent.  Those pairs grow as teachers x posts (37 million on the
50,000-teacher state), yet they carry nothing distinct: the teacher ranks all those schools the same, no
committee ranked them, and every group orders them by the same priority (class, then seniority).

So this instance keeps

* **explicit pairs** -- the pairs that say something: a school on the teacher's list, a committee that ranked
  the teacher, a return right at the former school -- built with array operations from the snapshot;
* **classes** -- (certification, forced, assigned, zone): the groups a class reaches, once, and each teacher's
  membership of the classes, once.  A teacher in a class may take any post of its groups, at the teacher's
  indifferent level, committee score 0 and their global priority.  Outside candidates are in no class (only
  explicit outside hires), nor is a teacher a snapshot excludes from some post (their pairs are listed).

Its size is explicit pairs + memberships + class arcs, linear in the teachers (``tests/test_sparse.py``).
Deferred acceptance walks explicit proposals first, then each class's groups from a per-teacher rotation, in
one compiled loop: O(preference lists + proposals).  The flow relaxation routes teachers through their class
node, so the stage bounds are solved on that size too.  Which kinds a pair allows is :func:`kind_flags`, the
array form of :meth:`Instance.kinds` (the tests hold the two to the same pairs and kinds).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numba import njit
from ortools.graph.python import min_cost_flow

from staffing.domain import District
from solver.instance import KINDS, UNLISTED, Instance, pair_features_of_teacher, pool_class, stage_coefficients
from solver.policy import Policy
from solver.result import Assignment

STAGES = ("must_place", "reserve", "welfare")


def kind_flags(return_here, consents, ranked, must_place, mutual_consent, accepts_must_place, honours_return_rights,
               outside, interviewed, may_hire_outside, allowed):
    """RULES.md's kinds of a pair, in :data:`KINDS` order, on numpy bool arrays with one entry per pair: the array
    form of :meth:`Instance.kinds`.  ``allowed``: certification held, pair not excluded, zone kept; ``interviewed``:
    R-INTERVIEW (group not short, or a displaced candidate).  ``tests/test_sparse.py`` checks that both instances
    allow the same pairs with the same first kind, so a rule added to one and not the other fails there."""
    pool = allowed & ~outside
    return (pool & return_here & honours_return_rights & consents,
            pool & consents & ranked & interviewed,
            pool & ~mutual_consent & consents,
            pool & must_place & accepts_must_place,
            allowed & outside & may_hire_outside & ranked & interviewed)


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows with ``counts[i]`` items starting at ``starts[i]``: (row of each item, item index)."""
    rows = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return rows, starts[rows] + np.arange(int(counts.sum())) - first[rows]


def _member(codes: np.ndarray, sorted_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which ``codes`` occur in ``sorted_codes``, and where."""
    at = np.searchsorted(sorted_codes, codes)
    at_ok = np.minimum(at, max(len(sorted_codes) - 1, 0))
    found = (at < len(sorted_codes)) & (sorted_codes[at_ok] == codes) if len(sorted_codes) else np.zeros(len(codes), bool)
    return found, at_ok


def _take(values: np.ndarray, found: np.ndarray, at: np.ndarray, default: int | np.ndarray) -> np.ndarray:
    """``values[at]`` where ``found``, else ``default`` (``values`` may be empty)."""
    return np.where(found, values[at] if len(values) else default, default)


@dataclass(frozen=True)
class SparseSizes:
    """What the sparse instance holds, beside what the dense one would enumerate."""

    teachers: int
    groups: int
    explicit_pairs: int
    classes: int
    memberships: int
    class_arcs: int
    dense_pairs: int  # allowed pairs the dense instance lists (explicit + each member x class group, deduplicated)

    @property
    def pairs(self) -> int:
        """What the model, the relaxation and the bounds grow with."""
        return self.explicit_pairs + self.memberships + self.class_arcs


class SparseInstance:
    """A district under a policy as arrays: teachers, posting groups, explicit pairs and classes."""

    # the per-school rules, the zone bond and R-INTERVIEW's shortfalls, shared with the dense instance
    school_rules = Instance.school_rules
    zone_of = Instance.zone_of
    interview_shortfalls = Instance.interview_shortfalls

    def __init__(self, district: District, policy: Policy | None = None):
        self.district = district = district.pool()  # employed teachers are never placed
        self.policy = policy or Policy()
        self.rules = self.policy.apply(district.models)
        self._school_rules = {sid: self.policy.school_rules(district, sid) for sid in district.schools}
        self.teachers = district.teachers
        self.prefs: dict[str, dict[str, int]] = {}
        for p in district.preferences:
            self.prefs.setdefault(p.teacher_id, {})[p.school_id] = p.rank
        self._teachers()
        self._groups()
        # class members excluded from some post: their pairs are listed explicitly instead (declined offers: few)
        could = (self.t_must | ~self.t_has_list) & ~self.t_outside
        self.t_exploded = np.unique(self.x_teacher[could[self.x_teacher]]) if len(self.x_teacher) else \
            np.empty(0, np.int64)
        self.t_in_classes = could.copy()
        self.t_in_classes[self.t_exploded] = False
        self._explicit_pairs()
        self._classes()

    # -- construction ------------------------------------------------------------------------------------------
    def _teachers(self) -> None:
        d = self.district
        self.teacher_ids = sorted(d.teachers)
        self.teacher_number = {tid: i for i, tid in enumerate(self.teacher_ids)}
        ts = [d.teachers[tid] for tid in self.teacher_ids]
        self.school_ids = sorted(d.schools)
        self.school_number = {s: i for i, s in enumerate(self.school_ids)}
        rules = [self.school_rules(s) for s in self.school_ids]
        self.s_mutual = np.array([r.mutual_consent for r in rules], bool)
        self.s_forced = np.array([r.accepts_must_place for r in rules], bool)
        self.s_honours = np.array([r.honours_return_rights for r in rules], bool)
        self.s_seniority = np.array([r.seniority_order for r in rules], bool)
        self.s_outside_hire = np.array([r.may_hire_outside_pool for r in rules], bool)
        zones = sorted({r.zone for r in rules} - {""})
        self.s_zone = np.array([zones.index(r.zone) if r.zone else -1 for r in rules], np.int64)
        self.cert_codes = sorted({v.certification for v in d.vacancies.values()} |
                                 {c for t in ts for c in t.certifications})
        self.cert_number = {c: i for i, c in enumerate(self.cert_codes)}
        n = len(ts)
        self.t_must = np.array([t.must_place for t in ts], bool)
        self.t_return = np.array([bool(t.return_rights) for t in ts], bool)
        self.t_former = np.array([self.school_number.get(t.former_school_id, -1) for t in ts], np.int64)
        self.t_class = np.array([pool_class(t) for t in ts], np.int64)
        self.t_outside = np.array([t.is_outside_candidate for t in ts], bool)
        self.t_displaced = np.array([t.status == "displaced" for t in ts], bool)
        # the zone a displaced teacher from a zone school is bound to (-1: none)
        self.t_zone = np.array([zones.index(z) if (z := self.zone_of(t)) else -1 for t in ts], np.int64)
        features = np.array([pair_features_of_teacher(t) for t in ts], np.int64).reshape(n, 2)
        self.t_features = features  # must-place (0/1), reserve salary in $k
        order = sorted(range(n), key=lambda i: ts[i].seniority_key)
        self.t_senior = np.empty(n, np.int64)
        self.t_senior[order] = np.arange(n)
        counts = np.array([len(t.certifications) for t in ts], np.int64)
        self.tc_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.tc_cert = np.array([self.cert_number[c] for t in ts for c in t.certifications], np.int64)
        listed = {p.teacher_id for p in d.preferences}
        self.t_has_list = np.array([tid in listed for tid in self.teacher_ids], bool)

    def _groups(self) -> None:
        """Posting groups as in the dense instance: same school, certification, committee ranking, excluded
        teachers and interview shortfall, in the same order (sorted by that key), so the group numbers agree; an
        independent charter's posts are not the district's to fill and make none."""
        d = self.district
        ranking_of: dict[str, dict[str, int]] = {}
        for r in d.rankings:
            ranking_of.setdefault(r.vacancy_id, {})[r.teacher_id] = r.rank
        excluded_from: dict[str, set[str]] = {}
        for tid, vid in d.excluded_pairs:
            excluded_from.setdefault(vid, set()).add(tid)
        short = set(self.interview_shortfalls)
        buckets: dict[tuple, list[str]] = {}
        for v in d.vacancies.values():
            if self.school_rules(v.school_id).outside_district:
                continue
            key = (v.school_id, v.certification, tuple(sorted(ranking_of.get(v.vacancy_id, {}).items())),
                   tuple(sorted(excluded_from.get(v.vacancy_id, ()))), v.vacancy_id in short)
            buckets.setdefault(key, []).append(v.vacancy_id)
        keys = sorted(buckets)
        self.group_vacancies = [tuple(sorted(buckets[k])) for k in keys]
        self.g_school = np.array([self.school_number[k[0]] for k in keys], np.int64)
        self.g_cert = np.array([self.cert_number[k[1]] for k in keys], np.int64)
        self.g_capacity = np.array([len(v) for v in self.group_vacancies], np.int64)
        self.g_short = np.array([k[4] for k in keys], bool)
        xg = [g for g, k in enumerate(keys) for tid in k[3] if tid in self.teacher_number]
        xt = [self.teacher_number[tid] for k in keys for tid in k[3] if tid in self.teacher_number]
        self.x_group, self.x_teacher = np.array(xg, np.int64), np.array(xt, np.int64)
        self.g_code = self.g_school * len(self.cert_codes) + self.g_cert  # sorted: groups of a posting are adjacent
        rg, rt, rr = [], [], []
        for g, k in enumerate(keys):
            for tid, rank in k[2]:
                if tid in self.teacher_number:
                    rg.append(g)
                    rt.append(self.teacher_number[tid])
                    rr.append(rank)
        self.r_group, self.r_teacher, self.r_rank = (np.array(x, np.int64) for x in (rg, rt, rr))
        self.max_rank = int(self.r_rank.max(initial=0))

    def _groups_of(self, schools: np.ndarray, certs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For (school, certification) rows: (row, group) of every group posted there."""
        codes = schools * len(self.cert_codes) + certs
        lo = np.searchsorted(self.g_code, codes, "left")
        hi = np.searchsorted(self.g_code, codes, "right")
        return _expand(lo, hi - lo)

    def _explicit_pairs(self) -> None:
        """Pairs on a teacher's list, pairs a committee ranked, and a listless return-rights holder's pairs at the
        former school; each with the kinds :func:`kind_flags` allows, rows without a kind dropped."""
        d, tn, sn = self.district, self.teacher_number, self.school_number
        T, S, G = len(self.teacher_ids), len(self.school_ids), len(self.g_code)
        p_t = np.array([tn[p.teacher_id] for p in d.preferences if p.teacher_id in tn and p.school_id in sn], np.int64)
        p_s = np.array([sn[p.school_id] for p in d.preferences if p.teacher_id in tn and p.school_id in sn], np.int64)
        p_r = np.array([p.rank for p in d.preferences if p.teacher_id in tn and p.school_id in sn], np.int64)
        self.listed_code = np.unique(p_t * S + p_s)
        order = np.argsort(p_t * S + p_s, kind="stable")
        self.listed_rank = p_r[order][np.unique(p_t[order] * S + p_s[order], return_index=True)[1]]
        # (1) listed schools, in each of the teacher's certifications
        row, tc = _expand(self.tc_ptr[p_t], np.diff(self.tc_ptr)[p_t])
        row2, g1 = self._groups_of(p_s[row], self.tc_cert[tc])
        t1 = p_t[row][row2]
        # (2) ranked by a committee, where the teacher holds the certification
        held = np.unique(np.repeat(np.arange(T), np.diff(self.tc_ptr)) * len(self.cert_codes) + self.tc_cert)
        ok, _ = _member(self.r_teacher * len(self.cert_codes) + self.g_cert[self.r_group], held)
        t2, g2 = self.r_teacher[ok], self.r_group[ok]
        # (3) a listless return-rights holder at the former school
        back = np.nonzero(self.t_return & ~self.t_has_list & (self.t_former >= 0))[0]
        row, tc = _expand(self.tc_ptr[back], np.diff(self.tc_ptr)[back])
        row2, g3 = self._groups_of(self.t_former[back][row], self.tc_cert[tc])
        t3 = back[row][row2]
        # (4) every pair of a class member excluded from a post it reaches: listed one by one, outside classes
        t4 = np.repeat(self.t_exploded, np.diff(self.tc_ptr)[self.t_exploded])
        c4 = self.tc_cert[_expand(self.tc_ptr[self.t_exploded], np.diff(self.tc_ptr)[self.t_exploded])[1]]
        by_cert = [np.nonzero(self.g_cert == c)[0] for c in range(len(self.cert_codes))]
        g4 = [by_cert[c] for c in c4.tolist()]
        t4 = np.repeat(t4, [len(g) for g in g4]).astype(np.int64)
        g4 = np.concatenate(g4).astype(np.int64) if g4 else np.empty(0, np.int64)
        code = np.unique(np.concatenate([t1, t2, t3, t4]) * G + np.concatenate([g1, g2, g3, g4]))
        t, g = code // G, code % G
        s = self.g_school[g]
        listed, at = _member(t * S + s, self.listed_code)
        consents = listed | ~self.t_has_list[t]
        ranked, at_r = _member(g * T + t, np.sort(self.r_group * T + self.r_teacher))
        rank_sorted = self.r_rank[np.argsort(self.r_group * T + self.r_teacher, kind="stable")]
        rank = _take(rank_sorted, ranked, at_r, 0)
        excluded, _ = _member(g * T + t, np.sort(self.x_group * T + self.x_teacher))
        zone_ok = (self.t_zone[t] < 0) | (self.t_zone[t] == self.s_zone[s])
        interviewed = ~self.g_short[g] | self.t_displaced[t]
        flags = np.array(kind_flags(self.t_return[t] & (self.t_former[t] == s), consents, ranked, self.t_must[t],
                                    self.s_mutual[s], self.s_forced[s], self.s_honours[s], self.t_outside[t],
                                    interviewed, self.s_outside_hire[s], ~excluded & zone_ok),
                         bool).reshape(len(KINDS), -1)
        keep = flags.any(axis=0)
        self.e_teacher, self.e_group = t[keep], g[keep]
        self.e_kinds = flags[:, keep]  # KINDS x pairs
        self.e_level = _take(self.listed_rank, listed, at, np.where(self.t_has_list[t], UNLISTED, 0))[keep]
        self.e_rank = rank[keep]  # committee rank, 0 where not ranked
        self.e_code = self.e_teacher * G + self.e_group  # sorted

    def _classes(self) -> None:
        """Classes (certification, forced, assigned, zone) and each teacher's memberships: never an outside
        candidate (who takes only explicit outside hires), nor a teacher with an excluded pair (listed explicitly)."""
        T = len(self.teacher_ids)
        teacher = np.repeat(np.arange(T), np.diff(self.tc_ptr))
        forced, assigned = self.t_must[teacher], ~self.t_has_list[teacher]
        member = (forced | assigned) & self.t_in_classes[teacher]
        Z = int(self.s_zone.max(initial=-1)) + 2
        key = ((self.tc_cert * 2 + forced) * 2 + assigned) * Z + self.t_zone[teacher] + 1
        self.class_keys, m_class = np.unique(key[member], return_inverse=True)
        self.m_teacher, self.m_class = teacher[member], m_class.astype(np.int64).reshape(-1)
        s = self.g_school
        groups = []
        for k in self.class_keys.tolist():
            k, zone = divmod(k, Z)
            cert, f, a = k // 4, (k // 2) % 2, k % 2
            reach = (self.g_cert == cert) & ((bool(f) & self.s_forced[s]) | (bool(a) & ~self.s_mutual[s]))
            if zone:
                reach &= self.s_zone[s] == zone - 1
            groups.append(np.nonzero(reach)[0])
        # a class that reaches no group (no such posts, or a scenario's rules close them) is dropped
        reaching = np.array([len(g) > 0 for g in groups], bool)
        renumber = np.cumsum(reaching) - 1
        kept = reaching[self.m_class]
        self.m_teacher, self.m_class = self.m_teacher[kept], renumber[self.m_class[kept]].astype(np.int64)
        self.class_keys = self.class_keys[reaching]
        groups = [g for g, r in zip(groups, reaching) if r]
        self.class_ptr = np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.int64)
        self.class_group = np.concatenate(groups).astype(np.int64) if groups else np.empty(0, np.int64)
        order = np.argsort(self.m_teacher, kind="stable")
        self.m_teacher, self.m_class = self.m_teacher[order], self.m_class[order]
        self.m_ptr = np.searchsorted(self.m_teacher, np.arange(T + 1)).astype(np.int64)

    # -- what the solver reads ---------------------------------------------------------------------------------
    @cached_property
    def sizes(self) -> SparseSizes:
        G = len(self.g_code)
        class_size = np.diff(self.class_ptr)
        # the dense instance's pairs: explicit ones, plus each membership's class groups not already explicit
        # (class memberships of one teacher may overlap only across certifications, which never share a group)
        members = int(class_size[self.m_class].sum())
        # an explicit pair is also a class pair when the teacher's class reaches its group (the same certification)
        t, sch = self.e_teacher, self.g_school[self.e_group]
        reach = (self.t_must[t] & self.s_forced[sch]) | (~self.t_has_list[t] & ~self.s_mutual[sch])
        zone_ok = (self.t_zone[t] < 0) | (self.t_zone[t] == self.s_zone[sch])
        overlap = int((reach & zone_ok & self.t_in_classes[t]).sum())
        return SparseSizes(len(self.teacher_ids), G, len(self.e_code), len(self.class_keys), len(self.m_teacher),
                           len(self.class_group), len(self.e_code) + members - overlap)

    def pair_features(self) -> tuple[np.ndarray, np.ndarray]:
        """Objective features (must-place, reserve $k, teacher score, committee score) of each explicit pair, and
        of each teacher's indifferent (class) pairs."""
        t = self.e_teacher
        has = self.t_has_list[t]
        score = np.where(~has, 5, np.where(self.e_level >= UNLISTED, 0, np.maximum(2, 12 - 2 * self.e_level)))
        committee = np.where(self.e_rank > 0, np.maximum(1, 11 - self.e_rank), 0)
        explicit = np.column_stack([self.t_features[t], score, committee])
        implicit = np.column_stack([self.t_features, np.where(self.t_has_list, 0, 5), np.zeros(len(self.t_must), np.int64)])
        return explicit, implicit

    def stage_values(self, stage: str) -> tuple[np.ndarray, np.ndarray]:
        """A stage objective's value of each explicit pair and of each teacher's class pairs."""
        w = stage_coefficients(self.policy, stage)
        explicit, implicit = self.pair_features()
        return explicit @ w, implicit @ w

    def priority_keys(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """R-SENIORITY's and the consent models' priority as one integer per explicit pair (smaller is first), and
        what the compiled loop needs to compute a class pair's key: :meth:`Instance.priority` as numbers."""
        T, M = len(self.teacher_ids), self.max_rank + 2
        t, g = self.e_teacher, self.e_group
        s = self.g_school[g]
        home = self.t_return[t] & (self.t_former[t] == s)
        seniority = self.s_seniority[s]
        first = np.where(seniority, np.where(home, 0, self.t_class[t]), np.where(home & self.s_honours[s], 0, 1))
        second = np.where(seniority | (home & self.s_honours[s]), 0, np.where(self.e_rank > 0, self.e_rank, M - 1))
        return (first * M + second) * T + self.t_senior[t], {"M": np.int64(M)}

    def placement_values(self, placed: np.ndarray, stage: str) -> int:
        """A stage objective at a placement (group per teacher, -1 unplaced)."""
        explicit, implicit = self.stage_values(stage)
        t = np.nonzero(placed >= 0)[0]
        found, at = _member(t * len(self.g_code) + placed[t], self.e_code)
        return int(_take(explicit, found, at, implicit[t]).sum())

    def kinds_of(self, placed: np.ndarray) -> list[str | None]:
        """The first kind that holds for each teacher's placement (None: unplaced)."""
        out: list[str | None] = [None] * len(placed)
        t = np.nonzero(placed >= 0)[0]
        found, at = _member(t * len(self.g_code) + placed[t], self.e_code)
        first = np.argmax(self.e_kinds[:, at], axis=0) if len(self.e_code) else np.zeros(len(t), np.int64)
        s = self.g_school[placed[t]]
        # a class pair: assigned where a listless teacher may be assigned, else forced
        class_kind = np.where(~self.t_has_list[t] & ~self.s_mutual[s], KINDS.index("assigned"), KINDS.index("forced"))
        for i, k in zip(t.tolist(), np.where(found, first, class_kind).tolist()):
            out[i] = KINDS[k]
        return out


def deferred_acceptance(sp: SparseInstance, guide: np.ndarray | None = None) -> np.ndarray:
    """Teacher-proposing deferred acceptance on the sparse instance: each teacher's group (-1 unplaced).

    Explicit proposals come first in the teacher's order; then the teacher's classes, each walked from a
    rotation of the teacher's number, so teachers indifferent between hundreds of schools do not all queue at
    the same first group.  Any order among schools a teacher ranks equally gives a stable answer, which is what
    R-SENIORITY and R-RETURN ask for.  ``guide`` (group per teacher, -1 none; a relaxation's assignment, which the
    rules need not allow) breaks the ties the rules leave open, as :func:`solver.matching.teacher_proposing`
    does: among equally ranked schools the guide's group is proposed to first, and a group without seniority
    order holds the guide's teachers ahead of others, after return-rights holders."""
    T = len(sp.teacher_ids)
    guide = np.full(T, -1, np.int64) if guide is None else guide.astype(np.int64)
    guided = guide[sp.e_teacher] == sp.e_group
    former = sp.g_school[sp.e_group] == sp.t_former[sp.e_teacher]
    order = np.lexsort((sp.e_group, ~guided, ~former, sp.e_level, sp.e_teacher))
    keys, extra = sp.priority_keys()
    behind = np.int64(4 * int(extra["M"]) * T)  # added where a consent group holds an unguided candidate
    s = sp.g_school[sp.e_group]
    keys = np.where(~sp.s_seniority[s] & ~guided & (keys >= int(extra["M"]) * T), keys + behind, keys)
    e_teacher = sp.e_teacher[order]
    e_ptr = np.searchsorted(e_teacher, np.arange(T + 1)).astype(np.int64)
    heap_ptr = np.concatenate([[0], np.cumsum(sp.g_capacity)]).astype(np.int64)
    # a guide that is a class pair is proposed to first when the teacher reaches their classes
    found, _ = _member(np.arange(T) * len(sp.g_code) + guide, sp.e_code)
    class_guide = np.where((guide >= 0) & ~found, guide, -1)
    return _deferred_acceptance(
        e_ptr, sp.e_group[order].astype(np.int64), keys[order].astype(np.int64), sp.m_ptr, sp.m_class,
        sp.class_ptr, sp.class_group, sp.g_school, sp.s_seniority, sp.s_honours, sp.t_return, sp.t_former,
        sp.t_class, sp.t_senior, np.int64(extra["M"]), sp.g_capacity, heap_ptr, class_guide, guide, behind)


@njit(cache=True)
def _deferred_acceptance(e_ptr, e_group, e_key, m_ptr, m_class, class_ptr, class_group, g_school, s_seniority,
                         s_honours, t_return, t_former, t_class, t_senior, M, capacity, heap_ptr, class_guide,
                         guide, behind):  # pragma: no cover - compiled; tested through deferred_acceptance
    T = len(e_ptr) - 1
    placed = np.full(T, -1, np.int64)
    next_e = e_ptr[:-1].copy()
    next_m = m_ptr[:-1].copy()
    step = np.zeros(T, np.int64)
    heap_key = np.zeros(heap_ptr[-1], np.int64)
    heap_teacher = np.zeros(heap_ptr[-1], np.int64)
    size = np.zeros(len(capacity), np.int64)
    free = np.arange(T - 1, -1, -1)
    top = T
    while top > 0:
        top -= 1
        t = free[top]
        while True:
            if next_e[t] < e_ptr[t + 1]:
                g = e_group[next_e[t]]
                key = e_key[next_e[t]]
                next_e[t] += 1
            elif next_m[t] < m_ptr[t + 1]:
                if class_guide[t] >= 0:  # the guide's class pair first
                    g = class_guide[t]
                    class_guide[t] = -1
                else:
                    c = m_class[next_m[t]]
                    n = class_ptr[c + 1] - class_ptr[c]
                    g = class_group[class_ptr[c] + (t * 7919 + step[t]) % n]
                    step[t] += 1
                    if step[t] >= n:
                        step[t] = 0
                        next_m[t] += 1
                s = g_school[g]
                home = t_return[t] and t_former[t] == s
                if s_seniority[s]:
                    first, second = (0 if home else t_class[t]), 0
                elif home and s_honours[s]:
                    first, second = 0, 0
                else:
                    first, second = 1, M - 1
                key = (first * M + second) * T + t_senior[t]
                if not s_seniority[s] and first > 0 and guide[t] != g:
                    key += behind
            else:
                break
            base, n_held = heap_ptr[g], size[g]
            if n_held < capacity[g]:  # sift up a max-heap of keys: the worst held on top
                i = n_held
                size[g] += 1
                while i > 0 and heap_key[base + (i - 1) // 2] < key:
                    heap_key[base + i] = heap_key[base + (i - 1) // 2]
                    heap_teacher[base + i] = heap_teacher[base + (i - 1) // 2]
                    i = (i - 1) // 2
                heap_key[base + i] = key
                heap_teacher[base + i] = t
                placed[t] = g
                break
            if key < heap_key[base]:  # better than the worst held: it takes that seat
                worst = heap_teacher[base]
                placed[worst] = -1
                free[top] = worst
                top += 1
                i = 0
                while True:  # sift down
                    child = 2 * i + 1
                    if child >= n_held:
                        break
                    if child + 1 < n_held and heap_key[base + child + 1] > heap_key[base + child]:
                        child += 1
                    if heap_key[base + child] <= key:
                        break
                    heap_key[base + i] = heap_key[base + child]
                    heap_teacher[base + i] = heap_teacher[base + child]
                    i = child
                heap_key[base + i] = key
                heap_teacher[base + i] = t
                placed[t] = g
                break
    return placed


def lexicographic_values(sp: SparseInstance, stages: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per-pair values (explicit, class) of ``stages`` weighted so that each stage outweighs all later ones on
    any one teacher's pair: a relaxation of them puts teachers where the lexicographic order wants them."""
    explicit, implicit = np.zeros(len(sp.e_code), np.int64), np.zeros(len(sp.t_must), np.int64)
    for stage in stages:
        e, i = sp.stage_values(stage)
        weight = 1 + int(max(np.abs(e).max(initial=0), np.abs(i).max(initial=0)))
        explicit, implicit = explicit * weight + e, implicit * weight + i
    return explicit, implicit


#: The relaxations whose assignments guide deferred acceptance (:func:`best_deferred_acceptance`).
GUIDES = {"guided_reserve": ("must_place", "reserve"), "guided_welfare": STAGES}


def best_deferred_acceptance(sp: SparseInstance) -> tuple[np.ndarray, dict[str, object]]:
    """The lexicographically best (must-place, reserve, welfare) of plain deferred acceptance and deferred
    acceptance guided by each relaxation of :data:`GUIDES`; every candidate is stable, so whichever is taken
    obeys the rules.  Also each candidate's stage values and the one used."""
    found = {"deferred_acceptance": deferred_acceptance(sp)}
    for name, stages in GUIDES.items():
        found[name] = deferred_acceptance(sp, relaxation(sp, *lexicographic_values(sp, stages))[1])
    values = {name: [sp.placement_values(p, stage) for stage in STAGES] for name, p in found.items()}
    used = max(values, key=lambda name: values[name])
    return found[used], {**values, "used": used}


def relaxation_bound(sp: SparseInstance, stage: str) -> int:
    """An upper bound of a stage objective: its best value under capacity and the allowed pairs only (seniority,
    return rights and earlier stages dropped), as a min-cost flow that routes indifferent pairs through their
    class node -- one arc per membership and per class group, not one per teacher x post."""
    return relaxation(sp, *sp.stage_values(stage))[0]


def relaxation(sp: SparseInstance, explicit: np.ndarray, implicit: np.ndarray) -> tuple[int, np.ndarray]:
    """The best total of per-pair values (``explicit`` per explicit pair, ``implicit`` per teacher's class pairs)
    under capacity and the allowed pairs only, and an assignment that reaches it (group per teacher, -1 none)."""
    T, G, C = len(sp.teacher_ids), len(sp.g_code), len(sp.class_keys)
    src, teach, cls, grp, sink = 0, 1, 1 + T, 1 + T + C, 1 + T + C + G
    # a class node takes one teacher's flow at that teacher's value: the value sits on teacher -> class arcs
    top = int(max(explicit.max(initial=0), implicit.max(initial=0))) + 1
    ts = np.arange(T)
    class_of_arc = np.repeat(np.arange(C), np.diff(sp.class_ptr))
    tails = np.concatenate([np.full(T, src), teach + ts, teach + sp.e_teacher, teach + sp.m_teacher,
                            cls + class_of_arc, grp + np.arange(G)])
    heads = np.concatenate([teach + ts, np.full(T, sink), grp + sp.e_group, cls + sp.m_class,
                            grp + sp.class_group, np.full(G, sink)])
    caps = np.concatenate([np.ones(2 * T + len(sp.e_group) + len(sp.m_teacher), np.int64),
                           np.full(len(sp.class_group), T, np.int64), sp.g_capacity])
    costs = np.concatenate([np.zeros(T, np.int64), np.full(T, top), top - explicit, top - implicit[sp.m_teacher],
                            np.zeros(len(sp.class_group) + G, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int64), heads.astype(np.int64), caps, costs)
    flow.set_node_supply(src, T)
    flow.set_node_supply(sink, -T)
    if flow.solve() != flow.OPTIMAL:  # pragma: no cover - every teacher can stay unplaced
        raise RuntimeError("relaxation flow did not solve")
    f = flow.flows(arcs)
    a = 2 * T
    guide = np.full(T, -1, np.int64)
    on = np.nonzero(f[a:a + len(sp.e_group)])[0]
    guide[sp.e_teacher[on]] = sp.e_group[on]
    a += len(sp.e_group)
    members = np.nonzero(f[a:a + len(sp.m_teacher)])[0]
    a += len(sp.m_teacher)
    # a class's flow to its groups, handed to its members in any order: every member may take any of them
    seats = np.repeat(sp.class_group, f[a:a + len(sp.class_group)])
    seat_class = np.repeat(class_of_arc, f[a:a + len(sp.class_group)])
    by_class = np.argsort(sp.m_class[members], kind="stable")
    guide[sp.m_teacher[members][by_class]] = seats[np.argsort(seat_class, kind="stable")]
    # every teacher's unit costs ``top`` unplaced and ``top - value`` placed
    return top * T - int(flow.optimal_cost()), guide


def assignments(sp: SparseInstance, placed: np.ndarray) -> list[Assignment]:
    """A placement (group per teacher) as one row per teacher with a post: the group's posts in order, the first
    kind that holds.  What the independent checker reads."""
    kinds = sp.kinds_of(placed)
    filled = np.zeros(len(sp.g_code), np.int64)
    out = []
    for t in np.nonzero(placed >= 0)[0].tolist():
        g = int(placed[t])
        vid = sp.group_vacancies[g][filled[g]]
        filled[g] += 1
        out.append(Assignment(sp.teacher_ids[t], vid, sp.school_ids[sp.g_school[g]], kinds[t] or "unplaced", ""))
    return out
