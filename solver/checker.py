"""Independent checker: re-verifies any placement against RULES.md, post by post.

It deliberately does not reuse the solver's :mod:`solver.instance` (no posting groups, no cached pair
lists): it re-derives consent, kinds and priorities from the district snapshot and the rule table, so a bug
in the solver's encoding cannot hide behind the same bug here.  Tests and every recorded run use it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from staffing.domain import OUTSIDE, District, Teacher
from staffing.rules import ModelRules
from solver.policy import Policy
from solver.result import Assignment

INF = float("inf")


@dataclass(frozen=True)
class Violation:
    rule: str  # STRUCTURE | CERTIFICATION | OUTSIDE-POOL | KIND | R-INTERVIEW | R-RETURN | R-SENIORITY
    teacher_id: str
    vacancy_id: str | None
    detail: str


class _Rules:
    """RULES.md's terms, re-derived from the snapshot."""

    def __init__(self, district: District, policy: Policy | None):
        self.d = district
        policy = policy or Policy()
        self.rules_of: dict[str, ModelRules] = {sid: policy.school_rules(district, sid) for sid in district.schools}
        self.lists: dict[str, dict[str, int]] = defaultdict(dict)
        for p in district.preferences:
            self.lists[p.teacher_id][p.school_id] = p.rank
        self.ranked: set[tuple[str, str]] = {(r.vacancy_id, r.teacher_id) for r in district.rankings}
        self.excluded: set[tuple[str, str]] = {(vid, tid) for tid, vid in district.excluded_pairs}
        self.interviewed: dict[str, set[str]] = defaultdict(set)
        for i in district.interviews:
            self.interviewed[i.vacancy_id].add(i.teacher_id)
        self._short: dict[str, bool] = {}

    def model(self, school_id: str) -> ModelRules:
        return self.rules_of[school_id]

    def interview_short(self, vacancy_id: str) -> bool:
        """R-INTERVIEW: fewer displaced applicants interviewed for the post than min(k, displaced applicants
        certified for it who consent to the school)."""
        if vacancy_id not in self._short:
            v = self.d.vacancies[vacancy_id]
            k = self.model(v.school_id).min_pool_interviews
            short = False
            if k:
                applicants = sum(1 for t in self._displaced_by_cert().get(v.certification, ())
                                 if self.consents(t.teacher_id, v.school_id))
                held = sum(1 for tid in self.interviewed.get(vacancy_id, ())
                           if tid in self.d.teachers and self.d.teachers[tid].status == "displaced")
                short = held < min(k, applicants)
            self._short[vacancy_id] = short
        return self._short[vacancy_id]

    def _displaced_by_cert(self) -> dict[str, list[Teacher]]:
        if not hasattr(self, "_displaced"):
            self._displaced: dict[str, list[Teacher]] = defaultdict(list)
            for t in self.d.teachers.values():
                if t.status == "displaced":
                    for c in t.certifications:
                        self._displaced[c].append(t)
        return self._displaced

    def zone_ok(self, t: Teacher, school_id: str) -> bool:
        """A displaced teacher from a zone school (Springfield) may be placed only inside that zone."""
        s = t.former_school_id
        zone = self.model(s).zone if t.status == "displaced" and s in self.rules_of else ""
        return not zone or self.model(school_id).zone == zone

    def pref(self, tid: str, school_id: str | None) -> float:
        """Smaller is better; no list ranks all schools 0; unlisted ranks below listed; unplaced is worst."""
        if school_id is None:
            return INF
        if tid not in self.lists:
            return 0
        return self.lists[tid].get(school_id, 10**6)

    def consents(self, tid: str, school_id: str) -> bool:
        return tid not in self.lists or school_id in self.lists[tid]

    def allowed_kinds(self, t: Teacher, vacancy_id: str, interviews: bool = True) -> set[str]:
        """Kinds that allow the placement; ``interviews=False`` ignores R-INTERVIEW (to name it when it bites)."""
        v = self.d.vacancies[vacancy_id]
        if v.certification not in t.certifications or (vacancy_id, t.teacher_id) in self.excluded:
            return set()
        m, s, tid = self.model(v.school_id), v.school_id, t.teacher_id
        if m.outside_district or not self.zone_ok(t, s):
            return set()
        # R-INTERVIEW binds consent placements of candidates who are not displaced
        blocked = interviews and t.status != "displaced" and self.interview_short(vacancy_id)
        if t.status == OUTSIDE:
            ok = m.may_hire_outside_pool and (vacancy_id, tid) in self.ranked and not blocked
            return {"outside_hire"} if ok else set()
        kinds = set()
        if t.return_rights and t.former_school_id == s and m.honours_return_rights and self.consents(tid, s):
            kinds.add("return_right")
        if self.consents(tid, s) and (vacancy_id, tid) in self.ranked and not blocked:
            kinds.add("mutual_consent")
        if t.must_place and m.accepts_must_place:
            kinds.add("forced")
        if not m.mutual_consent and self.consents(tid, s):
            kinds.add("assigned")
        return kinds

    def priority(self, t: Teacher, school_id: str | None) -> tuple:
        """Priority for a post at ``school_id`` (None: a school the teacher holds no return right to)."""
        if t.return_rights and school_id is not None and t.former_school_id == school_id:
            cls = 0
        elif t.must_place or t.status == "displaced":
            cls = 1
        elif t.status == "voluntary_transfer":
            cls = 2
        elif t.status == OUTSIDE:
            cls = 4
        else:
            cls = 3
        return (cls, t.seniority_date, t.teacher_id)


def _held_by_senior_holder(district: District, occupant_id: str | None, t: Teacher) -> bool:
    """Is the post held by a more senior teacher with a return right to the same school (R-RETURN's exception)?"""
    if occupant_id is None:
        return False
    o = district.teachers[occupant_id]
    return o.return_rights and o.former_school_id == t.former_school_id and \
        (o.seniority_date, o.teacher_id) < (t.seniority_date, t.teacher_id)


def check(district: District, assignments: list[Assignment], policy: Policy | None = None) -> list[Violation]:
    """Every way ``assignments`` breaks RULES.md's hard rules; empty means the result is lawful."""
    r = _Rules(district, policy)
    out: list[Violation] = []
    post_of: dict[str, str] = {}
    occupant: dict[str, str] = {}
    for a in assignments:
        if a.teacher_id not in district.teachers:
            out.append(Violation("STRUCTURE", a.teacher_id, a.vacancy_id, "unknown teacher"))
            continue
        if a.teacher_id in post_of:
            out.append(Violation("STRUCTURE", a.teacher_id, a.vacancy_id, "teacher placed twice"))
        if a.vacancy_id is None:
            continue
        if a.vacancy_id not in district.vacancies:
            out.append(Violation("STRUCTURE", a.teacher_id, a.vacancy_id, "unknown vacancy"))
            continue
        if a.vacancy_id in occupant:
            out.append(Violation("STRUCTURE", a.teacher_id, a.vacancy_id,
                                 f"vacancy already holds {occupant[a.vacancy_id]}"))
        post_of[a.teacher_id] = a.vacancy_id
        occupant[a.vacancy_id] = a.teacher_id
        t, v = district.teachers[a.teacher_id], district.vacancies[a.vacancy_id]
        if a.school_id != v.school_id:
            out.append(Violation("STRUCTURE", t.teacher_id, v.vacancy_id, "school does not match the vacancy"))
        if v.certification not in t.certifications:
            out.append(Violation("CERTIFICATION", t.teacher_id, v.vacancy_id,
                                 f"vacancy needs {v.certification}, teacher holds {';'.join(t.certifications)}"))
            continue
        if r.model(v.school_id).outside_district:
            out.append(Violation("OUTSIDE-POOL", t.teacher_id, v.vacancy_id,
                                 f"{v.school_id} is outside the district pool: the district does not fill its posts"))
            continue
        kinds = r.allowed_kinds(t, v.vacancy_id)
        if a.kind not in kinds and a.kind in r.allowed_kinds(t, v.vacancy_id, interviews=False):
            out.append(Violation("R-INTERVIEW", t.teacher_id, v.vacancy_id,
                                 f"{t.teacher_id} is not displaced and the committee interviewed fewer displaced "
                                 f"applicants than {r.model(v.school_id).model}'s minimum asks"))
        elif not kinds:
            out.append(Violation("KIND", t.teacher_id, v.vacancy_id, "no kind of RULES.md allows this placement"))
        elif a.kind not in kinds:
            out.append(Violation("KIND", t.teacher_id, v.vacancy_id,
                                 f"recorded kind {a.kind!r} does not hold (allowed: {', '.join(sorted(kinds))})"))

    school_of = {tid: district.vacancies[vid].school_id for tid, vid in post_of.items()}
    by_school_cert: dict[tuple[str, str], list[str]] = defaultdict(list)
    for v in district.vacancies.values():
        by_school_cert[(v.school_id, v.certification)].append(v.vacancy_id)

    # R-RETURN
    for t in district.teachers.values():
        s = t.former_school_id
        if not (t.return_rights and s and s in district.schools and r.model(s).honours_return_rights
                and not r.model(s).outside_district and r.consents(t.teacher_id, s)):
            continue
        mine = school_of.get(t.teacher_id)
        if mine == s or r.pref(t.teacher_id, mine) < r.pref(t.teacher_id, s):
            continue
        seats = [vid for c in t.certifications for vid in by_school_cert.get((s, c), [])
                 if (vid, t.teacher_id) not in r.excluded]  # a post they declined is not theirs to claim
        if seats and not all(_held_by_senior_holder(district, occupant.get(vid), t) for vid in seats):
            out.append(Violation("R-RETURN", t.teacher_id, None,
                                 f"holds a return right to {s}, is {'unplaced' if mine is None else 'at ' + mine}, "
                                 f"and a post there is not held by a more senior return-rights teacher"))

    # R-SENIORITY: no justified envy at seniority-order schools.  Who can envy a post v at s: a teacher who listed
    # s (placed lower or unplaced), one the committee of v ranked, or an unplaced must-place or listless teacher --
    # anyone else is placed where they rank s no better, or may not be placed at v at all (every kind needs the
    # teacher's consent, a ranking or a must-place flag).  So only those are examined, and of the unplaced ones,
    # at an occupied post, only those of higher priority than the occupant (a prefix in (class, seniority) order,
    # plus return-rights holders to s, whose class is higher there): the same violations, in the same order,
    # without examining every teacher of the certification at every post.
    position = {tid: i for i, tid in enumerate(district.teachers)}
    listers: dict[str, list[Teacher]] = defaultdict(list)
    for tid, schools in r.lists.items():
        if tid in district.teachers:
            for s in schools:
                listers[s].append(district.teachers[tid])
    unplaced: dict[str, list[Teacher]] = defaultdict(list)  # by certification, in (class, seniority) order
    for t in sorted(district.teachers.values(), key=lambda t: r.priority(t, None)):
        if t.teacher_id not in post_of and (t.must_place or t.teacher_id not in r.lists):
            for c in t.certifications:
                unplaced[c].append(t)
    unplaced_keys = {c: [r.priority(t, None) for t in ts] for c, ts in unplaced.items()}
    ranked_at: dict[str, list[Teacher]] = defaultdict(list)
    for vid, tid in r.ranked:
        if tid in district.teachers:
            ranked_at[vid].append(district.teachers[tid])
    returning: dict[str, list[Teacher]] = defaultdict(list)
    for t in district.teachers.values():
        if t.return_rights and t.former_school_id:
            returning[t.former_school_id].append(t)
    for v in district.vacancies.values():
        s = v.school_id
        if not r.model(s).seniority_order:
            continue
        occ = occupant.get(v.vacancy_id)
        occ_prio = r.priority(district.teachers[occ], s) if occ else None
        pool = unplaced.get(v.certification, [])
        ahead = pool if occ_prio is None else pool[:bisect_left(unplaced_keys.get(v.certification, []), occ_prio)]
        others = [t for t in listers.get(s, []) + ranked_at.get(v.vacancy_id, []) + returning.get(s, [])
                  if v.certification in t.certifications]
        seen: set[str] = set()
        for t in sorted([*ahead, *others], key=lambda t: position[t.teacher_id]):
            if t.teacher_id == occ or t.teacher_id in seen:
                continue
            seen.add(t.teacher_id)
            if occ_prio is not None and r.priority(t, s) >= occ_prio:
                continue
            if r.pref(t.teacher_id, school_of.get(t.teacher_id)) <= r.pref(t.teacher_id, s):
                continue  # placed at this school or one they rank at least as high
            if not r.allowed_kinds(t, v.vacancy_id):
                continue
            held = f"held by lower-priority {occ}" if occ else "left empty"
            out.append(Violation("R-SENIORITY", t.teacher_id, v.vacancy_id,
                                 f"{held} while {t.teacher_id} has priority there and is "
                                 f"{'unplaced' if t.teacher_id not in school_of else 'at a school they rank lower'}"))
    return out
