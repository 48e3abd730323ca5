"""The placement instance: a district snapshot read through the rules of RULES.md.

Everything the solver, the baselines, the checker and the audit need to *ask* about a district lives here,
written once: who consents to what, which kinds make a (teacher, vacancy) pair allowed, the priority order
of a vacancy, how a teacher ranks a school.  Identical posts (same school, certification and committee
ranking) are grouped so the solver decides "how many teachers of this posting" rather than one boolean per
post, which is what makes a 6,000-vacancy district tractable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from staffing.domain import District, Teacher
from staffing.rules import ModelRules
from solver.policy import Policy

#: Kinds of placement, in the order the result reports the first that holds (RULES.md).
KINDS: tuple[str, ...] = ("return_right", "mutual_consent", "assigned", "forced", "outside_hire")
#: A teacher's level for a school: smaller is better.  Listed schools have their rank; a teacher without a
#: list ranks every school 0; a school missing from a submitted list ranks below every listed one.
UNLISTED = 10**6
UNPLACED = 10**7
#: Priority classes of RULES.md R-SENIORITY: (a) return rights to the school, (b) must-place or displaced,
#: (c) voluntary transfer, (d) new hire.
#: A placement at the level the solver works on: teacher id -> posting group index.
GroupPlacement = dict[str, int]
CLASS_NAMES = ("return rights to this school", "must-place or displaced", "voluntary transfer", "new hire",
               "outside candidate")


@dataclass(frozen=True)
class Group:
    """Identical posts: same school, certification and committee ranking."""

    index: int
    school_id: str
    certification: str
    vacancy_ids: tuple[str, ...]
    ranking: dict[str, int] = field(hash=False, compare=False)
    rules: ModelRules = field(hash=False, compare=False)
    #: teachers the snapshot excludes from every post of the group (the season's declined offers)
    excluded: frozenset[str] = field(default=frozenset(), hash=False, compare=False)
    #: R-INTERVIEW: the committee interviewed fewer displaced applicants than the model's minimum asks, so only
    #: displaced candidates (and return rights) may fill these posts this round
    interview_short: bool = False

    @property
    def capacity(self) -> int:
        return len(self.vacancy_ids)

    def committee_top_choice(self, teacher_id: str) -> bool:
        """Among the best ``capacity`` candidates of the committee's list: who the committee would pick."""
        return self.ranking.get(teacher_id, UNLISTED) <= self.capacity


@dataclass(frozen=True)
class Edge:
    """An allowed (teacher, group) pair and what a placement there would be."""

    teacher_id: str
    group: int
    kinds: tuple[str, ...]
    level: int  # the teacher's level for the group's school
    teacher_score: int  # 0-10, the teacher's satisfaction with the school
    committee_score: int  # 0-10, the committee's satisfaction with the teacher

    @property
    def kind(self) -> str:
        return self.kinds[0]


@dataclass(frozen=True)
class ReturnRow:
    """R-RETURN for one return-right holder and one posting group at the former school ``s``: the holder is at
    ``s`` or a school ranked strictly above it (``reach``: those pairs' indices), or every post of the group
    is held by one of ``senior`` (more senior return-rights teachers to ``s`` with a pair there)."""

    teacher_id: str
    group: int
    reach: tuple[int, ...]
    senior: tuple[str, ...]


def pair_features_of_teacher(t: Teacher) -> tuple[int, int]:
    """The teacher's part of a pair's objective features: must-place, and reserve salary ($k) if a district
    employee (paid while unplaced; RULES.md)."""
    return int(t.must_place), (t.salary // 1000 if t.is_district_employee else 0)


def stage_coefficients(policy: Policy, stage: str) -> np.ndarray:
    """A stage objective (RULES.md's order: must-place, reserve, welfare; or the weighted sum of all three) as
    weights on the four columns of :attr:`Instance.pair_features`."""
    p = policy
    return np.array({"must_place": (1, 0, 0, 0), "reserve": (0, 1, 0, 0),
                     "welfare": (0, 0, p.teacher_weight, p.committee_weight),
                     "weighted": (p.must_place_weight, p.reserve_weight, p.teacher_weight, p.committee_weight),
                     }[stage], np.int64)


def pool_class(teacher: Teacher) -> int:
    """R-SENIORITY's priority class wherever the teacher holds no return right: (b) must-place or displaced,
    (c) voluntary transfer, (d) new hire."""
    if teacher.must_place or teacher.status == "displaced":
        return 1
    if teacher.is_outside_candidate:
        return 4
    return 2 if teacher.status == "voluntary_transfer" else 3


def teacher_score(level: int, has_list: bool) -> int:
    """Satisfaction 0-10: rank 1 is 10, each rank lower 2 less (min 2); no list 5; unlisted 0."""
    if not has_list:
        return 5
    if level >= UNLISTED:
        return 0
    return max(2, 12 - 2 * level)


def committee_score(rank: int | None) -> int:
    """Satisfaction 0-10: the committee's first choice is 10, then one less per rank (min 1); unranked 0."""
    return 0 if rank is None else max(1, 11 - rank)


class Instance:
    """A district under a policy, with every question RULES.md asks answerable in O(1)."""

    def __init__(self, district: District, policy: Policy | None = None):
        self.district = district
        self.policy = policy or Policy()
        self.rules: dict[str, ModelRules] = self.policy.apply(district.models)
        #: every school's effective rules (model row, city rules, waivers, then the policy): read through
        #: :meth:`school_rules` only
        self._school_rules: dict[str, ModelRules] = {sid: self.policy.school_rules(district, sid)
                                                     for sid in district.schools}
        self.teachers: dict[str, Teacher] = district.teachers
        self.prefs: dict[str, dict[str, int]] = defaultdict(dict)
        for p in district.preferences:
            self.prefs[p.teacher_id][p.school_id] = p.rank
        self.prefs = dict(self.prefs)
        self.groups: list[Group] = self._group_posts()
        self.edges: list[Edge] = self._edges()
        self.edges_by_teacher: dict[str, list[Edge]] = defaultdict(list)
        self.edges_by_group: dict[int, list[Edge]] = defaultdict(list)
        self._position: dict[tuple[str, int], int] = {}
        self._stage_values: dict[str, np.ndarray] = {}
        for i, e in enumerate(self.edges):
            self.edges_by_teacher[e.teacher_id].append(e)
            self.edges_by_group[e.group].append(e)
            self._position[(e.teacher_id, e.group)] = i

    # -- the terms of RULES.md ---------------------------------------------------------------------------------
    def school_rules(self, school_id: str) -> ModelRules:
        return self._school_rules[school_id]

    def zone_of(self, teacher: Teacher) -> str:
        """The zone a displaced teacher belongs to (their former school's zone; Springfield, report L703): they
        may be placed only at that zone's schools.  Empty: no such bond."""
        s = teacher.former_school_id
        if teacher.status != "displaced" or not s or s not in self._school_rules:
            return ""
        return self._school_rules[s].zone

    def has_list(self, teacher_id: str) -> bool:
        return teacher_id in self.prefs

    def level(self, teacher_id: str, school_id: str | None) -> int:
        """How the teacher ranks a school (smaller is better); ``None`` means unplaced, the worst."""
        if school_id is None:
            return UNPLACED
        prefs = self.prefs.get(teacher_id)
        if prefs is None:
            return 0
        return prefs.get(school_id, UNLISTED)

    def consents(self, teacher_id: str, school_id: str) -> bool:
        return self.level(teacher_id, school_id) < UNLISTED

    def kinds(self, teacher: Teacher, group: Group) -> tuple[str, ...]:
        """Every kind under which the teacher may be placed in the group's posts (empty: not allowed)."""
        if group.certification not in teacher.certifications or teacher.teacher_id in group.excluded:
            return ()
        rules, s, tid = group.rules, group.school_id, teacher.teacher_id
        if rules.outside_district or self.zone_of(teacher) not in ("", rules.zone):
            return ()
        consents = self.consents(tid, s)
        # R-INTERVIEW: without the displaced interviews the model asks for, only displaced candidates by consent
        interviewed = not group.interview_short or teacher.status == "displaced"
        if teacher.is_outside_candidate:
            ok = rules.may_hire_outside_pool and tid in group.ranking and interviewed
            return ("outside_hire",) if ok else ()
        found = []
        if teacher.return_rights and teacher.former_school_id == s and rules.honours_return_rights and consents:
            found.append("return_right")
        if consents and tid in group.ranking and interviewed:
            found.append("mutual_consent")
        if not rules.mutual_consent and consents:
            found.append("assigned")
        if teacher.must_place and rules.accepts_must_place:
            found.append("forced")
        return tuple(found)

    def priority_class(self, teacher: Teacher, school_id: str) -> int:
        if teacher.return_rights and teacher.former_school_id == school_id:
            return 0
        return pool_class(teacher)

    def priority(self, teacher_id: str, group: Group) -> tuple:
        """Sort key of a group's candidates, best first.

        Seniority-order models use RULES.md's class-then-seniority order.  Other models choose by consent:
        return-rights holders first where honoured, and among them by seniority whatever the committee thinks
        (R-RETURN); then the committee's ranking, then seniority.  This is how the baselines and the warm
        start order candidates there.
        """
        t = self.teachers[teacher_id]
        if group.rules.seniority_order:
            return (self.priority_class(t, group.school_id), t.seniority_date, t.teacher_id)
        if t.return_rights and t.former_school_id == group.school_id and group.rules.honours_return_rights:
            return (0, 0, t.seniority_date, t.teacher_id)
        return (1, group.ranking.get(teacher_id, UNLISTED), t.seniority_date, t.teacher_id)

    def holds_return_right(self, teacher: Teacher) -> bool:
        """Does R-RETURN protect this teacher (right to a school that honours it, and the teacher consents)?"""
        s = teacher.former_school_id
        return bool(teacher.return_rights and s and s in self.district.schools
                    and self.school_rules(s).honours_return_rights and not self.school_rules(s).outside_district
                    and self.consents(teacher.teacher_id, s))

    def return_right_honoured(self, teacher: Teacher, school_id: str | None) -> bool:
        """Is a teacher placed at ``school_id`` (None: unplaced) at their former school or one they rank
        strictly above it -- what R-RETURN asks for?"""
        s = teacher.former_school_id
        return school_id is not None and (school_id == s or
                                          self.level(teacher.teacher_id, school_id) < self.level(teacher.teacher_id, s))

    # -- construction ------------------------------------------------------------------------------------------
    def _group_posts(self) -> list[Group]:
        ranking_of: dict[str, dict[str, int]] = defaultdict(dict)
        for r in self.district.rankings:
            ranking_of[r.vacancy_id][r.teacher_id] = r.rank
        excluded_from: dict[str, set[str]] = defaultdict(set)
        for tid, vid in self.district.excluded_pairs:
            excluded_from[vid].add(tid)
        short = self.interview_short_vacancies
        buckets: dict[tuple, list[str]] = defaultdict(list)
        for v in self.district.vacancies.values():
            if self.school_rules(v.school_id).outside_district:
                continue  # not the district's to fill (independent charter)
            # posts that exclude different teachers are not identical: they go in different groups
            key = (v.school_id, v.certification, tuple(sorted(ranking_of.get(v.vacancy_id, {}).items())),
                   tuple(sorted(excluded_from.get(v.vacancy_id, ()))), v.vacancy_id in short)
            buckets[key].append(v.vacancy_id)
        groups = []
        for i, (key, vids) in enumerate(sorted(buckets.items())):
            school_id, cert, ranking, excluded, is_short = key
            groups.append(Group(i, school_id, cert, tuple(sorted(vids)), dict(ranking), self.school_rules(school_id),
                                frozenset(excluded), is_short))
        return groups

    @cached_property
    def interview_shortfalls(self) -> dict[str, tuple[int, int]]:
        """R-INTERVIEW: vacancy -> (displaced interviews required, held) where fewer were held than
        min(k, displaced applicants certified for it), k the model's ``min_pool_interviews``.  An applicant is a
        displaced pool teacher who holds the certification and consents to the school."""
        displaced = [t for t in self.teachers.values() if t.status == "displaced"]
        no_list: dict[str, int] = defaultdict(int)
        listed: dict[tuple[str, str], int] = defaultdict(int)
        for t in displaced:
            prefs = self.prefs.get(t.teacher_id)
            for c in t.certifications:
                if prefs is None:
                    no_list[c] += 1
                else:
                    for s in prefs:
                        listed[(s, c)] += 1
        seen: dict[str, set[str]] = defaultdict(set)
        for i in self.district.interviews:
            t = self.teachers.get(i.teacher_id)
            if t is not None and t.status == "displaced":
                seen[i.vacancy_id].add(i.teacher_id)
        out = {}
        for v in self.district.vacancies.values():
            k = self.school_rules(v.school_id).min_pool_interviews
            if not k:
                continue
            need = min(k, no_list[v.certification] + listed[(v.school_id, v.certification)])
            held = len(seen.get(v.vacancy_id, ()))
            if held < need:
                out[v.vacancy_id] = (need, held)
        return out

    @property
    def interview_short_vacancies(self) -> set[str]:
        return set(self.interview_shortfalls)

    def _edges(self) -> list[Edge]:
        """Allowed pairs, teacher by teacher among the groups :meth:`_candidate_groups` names."""
        edges = []
        for t in self.teachers.values():
            for g in self._candidate_groups(t):
                if (e := self._pair(t, g)) is not None:
                    edges.append(e)
        return edges

    def _candidate_groups(self, t: Teacher) -> list[Group]:
        """The groups that may allow the teacher, in a fixed order.  A listed teacher who is not must-place can
        only go to listed schools (every kind but ``forced`` needs the teacher's consent), so only those groups
        are scanned for them."""
        prefs = self.prefs.get(t.teacher_id)
        out: list[Group] = []
        for cert in t.certifications:
            if prefs is None or t.must_place:
                out += self.groups_by_cert.get(cert, [])
            else:
                out += [g for s in prefs for g in self.groups_by_school_cert.get((s, cert), [])]
        return out

    def _pair(self, t: Teacher, g: Group) -> Edge | None:
        """The pair (teacher, group) if a rule allows it."""
        kinds = self.kinds(t, g)
        if not kinds:
            return None
        level = self.level(t.teacher_id, g.school_id)
        return Edge(t.teacher_id, g.index, kinds, level, teacher_score(level, self.has_list(t.teacher_id)),
                    committee_score(g.ranking.get(t.teacher_id)))

    @cached_property
    def vacancy_group(self) -> dict[str, Group]:
        return {vid: g for g in self.groups for vid in g.vacancy_ids}

    def _index(self, key) -> dict:
        out: dict = defaultdict(list)
        for g in self.groups:
            out[key(g)].append(g)
        return out

    @cached_property
    def groups_by_cert(self) -> dict[str, list[Group]]:
        return self._index(lambda g: g.certification)

    @cached_property
    def posts_by_certification(self) -> dict[str, int]:
        """Open posts of each certification (the district's to fill)."""
        return {c: sum(g.capacity for g in gs) for c, gs in self.groups_by_cert.items()}

    @cached_property
    def groups_by_school(self) -> dict[str, list[Group]]:
        return self._index(lambda g: g.school_id)

    @cached_property
    def groups_by_school_cert(self) -> dict[tuple[str, str], list[Group]]:
        return self._index(lambda g: (g.school_id, g.certification))

    @cached_property
    def teacher_index(self) -> dict[str, int]:
        """Teachers with at least one allowed pair, numbered (for array-based algorithms)."""
        return {tid: i for i, tid in enumerate(sorted(self.edges_by_teacher))}

    @cached_property
    def edge_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(teacher number, group index) of every pair, aligned with ``edges``."""
        index = self.teacher_index
        return (np.fromiter((index[e.teacher_id] for e in self.edges), np.int64, len(self.edges)),
                np.fromiter((e.group for e in self.edges), np.int64, len(self.edges)))

    @cached_property
    def group_capacity(self) -> np.ndarray:
        """Posts of each posting group, by group index (for array-based algorithms)."""
        return np.array([g.capacity for g in self.groups], np.int64)

    @cached_property
    def pair_level(self) -> np.ndarray:
        """Each pair's level (how the teacher ranks the school), aligned with ``edges``."""
        return np.fromiter((e.level for e in self.edges), np.int64, len(self.edges))

    @cached_property
    def pair_at_former_school(self) -> np.ndarray:
        """Per pair (aligned with ``edges``): the group's school is the teacher's former school."""
        school = {s: i for i, s in enumerate(self.district.schools)}
        former = np.array([school.get(self.teachers[tid].former_school_id, -1) for tid in self.teacher_index],
                          np.int64)
        at = np.array([school[g.school_id] for g in self.groups], np.int64)
        t_of, g_of = self.edge_arrays
        return former[t_of] == at[g_of]

    @cached_property
    def priority_order(self) -> dict[int, list[int]]:
        """Each group's allowed pairs (indices into ``edges``), best priority first: the one sort every
        priority question below reads (a priority ends with the teacher id, so there are no ties).

        :meth:`priority`'s order, computed for all pairs in one sort (calling it 500,000 times took a second
        of every district round): a priority is (class or committee rank, seniority), and teachers are numbered
        by (seniority date, id) once.  ``tests/test_preparation.py`` checks it against :meth:`priority`."""
        t_of, g_of = self.edge_arrays
        teachers = [self.teachers[tid] for tid in self.teacher_index]
        by_seniority = sorted(range(len(teachers)), key=lambda i: (teachers[i].seniority_date, teachers[i].teacher_id))
        senior = np.empty(len(teachers), np.int64)
        senior[by_seniority] = np.arange(len(teachers))
        cls = np.array([pool_class(t) for t in teachers], np.int64)
        seniority = np.array([g.rules.seniority_order for g in self.groups], bool)[g_of]
        honours = np.array([g.rules.honours_return_rights for g in self.groups], bool)[g_of]
        returning = self.pair_at_former_school & np.array([bool(t.return_rights) for t in teachers], bool)[t_of]
        committee = np.full(len(self.edges), UNLISTED, np.int64)
        for g in self.groups:
            for tid, rank in g.ranking.items():
                if (i := self._position.get((tid, g.index))) is not None:
                    committee[i] = rank
        first = np.where(seniority, np.where(returning, 0, cls[t_of]), np.where(returning & honours, 0, 1))
        second = np.where(seniority | (returning & honours), 0, committee)
        order = np.lexsort((senior[t_of], second, first, g_of))
        bounds = np.searchsorted(g_of[order], np.arange(len(self.groups) + 1))
        return {g: order[bounds[g]:bounds[g + 1]].tolist() for g in self.edges_by_group}

    @cached_property
    def candidates(self) -> dict[int, list[str]]:
        """Each group's allowed teachers, best priority first."""
        edges = self.edges
        return {g: [edges[i].teacher_id for i in pairs] for g, pairs in self.priority_order.items()}

    @cached_property
    def candidate_levels(self) -> dict[int, list[tuple[str, int]]]:
        """Each group's candidates in priority order with how they rank the group's school."""
        edges = self.edges
        return {g: [(edges[i].teacher_id, edges[i].level) for i in pairs] for g, pairs in self.priority_order.items()}

    @cached_property
    def pair_priority(self) -> np.ndarray:
        """Each pair's position in its group's priority order (0 is best), aligned with ``edges``."""
        out = np.zeros(len(self.edges), np.int64)
        for pairs in self.priority_order.values():
            out[pairs] = np.arange(len(pairs))
        return out

    @cached_property
    def priority_rank(self) -> dict[tuple[str, int], int]:
        """(teacher, group) -> position in the group's priority order (0 is best)."""
        return {(e.teacher_id, e.group): r for e, r in zip(self.edges, self.pair_priority.tolist())}

    @cached_property
    def return_rows(self) -> list[ReturnRow]:
        """R-RETURN as rows: one :class:`ReturnRow` per holder (:meth:`holds_return_right`) and posting group at
        the former school.  The CP-SAT model and both bounds with seniority read them here, so all three hold
        the same rule."""
        holders: dict[str, list[str]] = defaultdict(list)
        for t in self.teachers.values():
            if t.return_rights and t.former_school_id:
                holders[t.former_school_id].append(t.teacher_id)
        rows = []
        for tid, es in self.edges_by_teacher.items():
            t = self.teachers[tid]
            if not self.holds_return_right(t):
                continue
            s = t.former_school_id
            home = [e for e in es if self.groups[e.group].school_id == s]
            if not home:
                continue
            reach = tuple(self.position(tid, e.group) for e in es  # type: ignore[misc]
                          if e.level < home[0].level or self.groups[e.group].school_id == s)
            senior = [o for o in holders[s] if self.teachers[o].seniority_key < t.seniority_key]
            rows.extend(ReturnRow(tid, e.group, reach,
                                  tuple(o for o in senior if self.position(o, e.group) is not None)) for e in home)
        return rows

    def stage_values(self, stage: str) -> np.ndarray:
        """What every pair (aligned with ``edges``) adds to a stage objective: the one definition the model's
        objectives, the stage values and every bound read.  Computed once per stage."""
        if stage not in self._stage_values:
            self._stage_values[stage] = self.pair_features @ stage_coefficients(self.policy, stage)
        return self._stage_values[stage]

    @cached_property
    def pair_features(self) -> np.ndarray:
        """What the objectives count, per pair (rows aligned with ``edges``): must-place teacher (0/1), salary
        in $k of a district employee (the reserve cost avoided by placing them), teacher score, committee
        score.  One 4-column array, so a stage's value of every pair is one matrix product."""
        teacher = np.array([pair_features_of_teacher(self.teachers[tid]) for tid in self.teacher_index],
                           np.int64).reshape(-1, 2)
        t_of, _ = self.edge_arrays
        scores = np.fromiter((s for e in self.edges for s in (e.teacher_score, e.committee_score)), np.int64,
                             2 * len(self.edges)).reshape(-1, 2)
        return np.hstack([teacher[t_of], scores])

    def allowed_groups(self, teacher_id: str) -> np.ndarray:
        """The posting groups the teacher may be placed in, by index."""
        return np.fromiter((e.group for e in self.edges_by_teacher.get(teacher_id, ())), np.int64)

    def may_be_placed(self, teacher_id: str) -> bool:
        """Does any rule allow the teacher some post?"""
        return teacher_id in self.edges_by_teacher

    def value_of(self, placement: GroupPlacement, stage: str) -> int:
        """A stage objective evaluated at a placement."""
        values = self.stage_values(stage)
        return sum(int(values[i]) for tid, g in placement.items() if (i := self.position(tid, g)) is not None)

    @cached_property
    def group_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(capacity, seniority order, school number) of each posting group, by group index."""
        school = {s: i for i, s in enumerate(sorted(self.district.schools))}
        return (self.group_capacity, np.array([g.rules.seniority_order for g in self.groups], bool),
                np.array([school[g.school_id] for g in self.groups], np.int64))

    def position(self, teacher_id: str, group: int | None) -> int | None:
        """Where the pair is in ``edges`` (and in every per-pair array), or None if it is not allowed."""
        return self._position.get((teacher_id, group))  # type: ignore[arg-type]

    def edge(self, teacher_id: str, group: int | None) -> Edge | None:
        i = self.position(teacher_id, group)
        return None if i is None else self.edges[i]
