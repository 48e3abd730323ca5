"""An explained placement: every teacher gets a post with the rule that justifies it, or the reason why not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from solver.instance import CLASS_NAMES, UNLISTED, Group, GroupPlacement, Instance
from solver.solve_figures import SolveFigures
from staffing.rules import zone_name


@dataclass(frozen=True)
class Assignment:
    teacher_id: str
    vacancy_id: str | None
    school_id: str | None
    kind: str  # return_right | mutual_consent | assigned | forced | unplaced
    reason: str


@dataclass
class Result:
    """Every teacher's post (or none) with its kind and reason, and the round's figures
    (:class:`~solver.solve_figures.SolveFigures`: per stage objective, bounds and gaps; timings; sizes)."""
    method: str
    assignments: list[Assignment]
    solve: SolveFigures = field(default_factory=SolveFigures)

    @property
    def by_teacher(self) -> dict[str, Assignment]:
        return {a.teacher_id: a for a in self.assignments}

    @property
    def placed(self) -> list[Assignment]:
        return [a for a in self.assignments if a.vacancy_id is not None]

    def as_rows(self) -> list[dict[str, object]]:
        return [asdict(a) for a in self.assignments]


def _choice(inst: Instance, teacher_id: str, school_id: str) -> str:
    if not inst.has_list(teacher_id):
        return "no list submitted (every school acceptable)"
    level = inst.level(teacher_id, school_id)
    return "school not on their list" if level >= UNLISTED else f"#{level} on their list"


def explain_placement(inst: Instance, teacher_id: str, group: Group) -> tuple[str, str]:
    """(kind, reason) for placing the teacher in one of the group's posts."""
    edge = inst.edge(teacher_id, group.index)
    if edge is None:  # a baseline may break the rules; the checker reports it, the row says so
        return "unallowed", "no rule allows this placement"
    t, rules, s = inst.teachers[teacher_id], group.rules, group.school_id
    committee = (f"committee rank {group.ranking[teacher_id]} of {len(group.ranking)}"
                 if teacher_id in group.ranking else "not ranked by the committee")
    kind = edge.kind
    if kind == "return_right":
        reason = f"return right to former school {s} ({rules.model} honours return rights); {_choice(inst, teacher_id, s)}"
    elif kind == "mutual_consent":
        reason = f"mutual consent: {_choice(inst, teacher_id, s)}, {committee}"
    elif kind == "outside_hire":
        reason = (f"outside hire: a candidate not in the district pool whom the committee ranked "
                  f"({committee}; {rules.model} may hire outside the pool)")
    elif kind == "assigned":
        reason = (f"district assignment ({rules.model} does not require mutual consent): "
                  f"{_choice(inst, teacher_id, s)}, {committee}")
    else:
        why = "the teacher did not list the school" if not inst.consents(teacher_id, s) else committee
        reason = f"forced placement of a must-place teacher ({rules.model} accepts forced placements): {why}"
    if rules.seniority_order:
        cls = inst.priority_class(t, s)
        reason += (f"; seniority order: class ({'abcd'[cls]}) {CLASS_NAMES[cls]}, "
                   f"seniority date {t.seniority_date.isoformat()}")
    return kind, reason


def explain_unplaced(inst: Instance, teacher_id: str, placement: GroupPlacement) -> str:
    """Why the teacher has no post, in the terms a teacher or union rep can check."""
    t = inst.teachers[teacher_id]
    if t.is_outside_candidate:
        return "outside candidate not hired: no post of a school that may hire outside the pool went to them"
    posts = sum(inst.posts_by_certification.get(c, 0) for c in t.certifications)
    keep = f"; keeps current post at {t.current_school_id}" if t.status == "voluntary_transfer" and t.current_school_id else ""
    if not posts:
        return f"no open vacancy in their certification ({';'.join(t.certifications)}){keep}"
    allowed = inst.allowed_groups(teacher_id)
    if not len(allowed):
        prefs = inst.prefs.get(teacher_id)  # the groups in their certification at schools they consent to
        consented = ([g for c in t.certifications for g in inst.groups_by_cert.get(c, [])] if prefs is None else
                     [g for s in prefs for c in t.certifications for g in inst.groups_by_school_cert.get((s, c), [])])
        unlisted = posts - sum(g.capacity for g in consented)
        unranked = sum(g.capacity for g in consented if g.rules.mutual_consent and teacher_id not in g.ranking)
        parts = []
        if unlisted:
            parts.append(f"{unlisted} are at schools they did not list")
        if unranked:
            parts.append(f"{unranked} are at mutual-consent schools whose committee did not rank them")
        held = sum(g.capacity for g in consented if g.interview_short and teacher_id in g.ranking)
        if held and t.status != "displaced":
            parts.append(f"{held} are held for displaced candidates: the committee has not interviewed the "
                         f"displaced applicants its model requires (R-INTERVIEW)")
        zone = inst.zone_of(t)
        if zone:
            parts.append(f"they belong to {zone_name(zone)} and may be placed only at its schools")
        text = f"no post they may take: of {posts} posts in their certification, " + " and ".join(parts)
        if t.must_place:  # where they may go at all: their zone's schools, if they are bound to one
            exempt = sorted({g.rules.model for c in t.certifications for g in inst.groups_by_cert.get(c, [])
                             if not g.rules.accepts_must_place and (not zone or g.rules.zone == zone)})
            where = "of the zone's schools" if zone else ""
            text += f"; none {where + ' ' if where else ''}can receive a forced placement (models exempt: {', '.join(exempt)})"
        return text + keep
    capacity, seniority, school = inst.group_arrays
    by_seniority = int(capacity[allowed][seniority[allowed]].sum())
    lost = {"by committee choice or return rights": int(capacity[allowed].sum()) - by_seniority,
            "by seniority priority": by_seniority}
    schools = len(np.unique(school[allowed]))
    detail = ", ".join(f"{n} {why}" for why, n in sorted(lost.items()) if n)
    text = f"every post they may take ({sum(lost.values())} at {schools} schools) went to another teacher: {detail}"
    if t.must_place:
        text += "; no arrangement within the rules places more must-place teachers"
    return text + keep


def to_result(inst: Instance, placement: GroupPlacement, method: str, solve: SolveFigures | None = None) -> Result:
    """Turn a group placement into post-level assignments with reasons.

    Within a group the posts are identical, so teachers take them in priority order (best first) and posts in
    id order: deterministic, and the most senior occupant gets the first-listed post.
    """
    members: dict[int, list[str]] = {}
    for tid, g in placement.items():
        members.setdefault(g, []).append(tid)
    assignments: dict[str, Assignment] = {}
    for g, tids in members.items():
        group = inst.groups[g]
        ordered = sorted(tids, key=lambda tid: inst.priority(tid, group))
        for tid, vid in zip(ordered, group.vacancy_ids):
            kind, reason = explain_placement(inst, tid, group)
            assignments[tid] = Assignment(tid, vid, group.school_id, kind, reason)
        for tid in ordered[group.capacity:]:  # only a rule-breaking baseline can over-fill a group
            assignments[tid] = Assignment(tid, None, None, "unplaced", "over capacity")
    for tid in inst.teachers:
        if tid not in assignments:
            assignments[tid] = Assignment(tid, None, None, "unplaced", explain_unplaced(inst, tid, placement))
    return Result(method, [assignments[tid] for tid in sorted(assignments)], solve or SolveFigures())
