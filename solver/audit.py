"""The seniority audit a union representative reads: for every placement, who was passed over and why.

A row names a placement (the occupant and the rule that put them there) and one *more senior* teacher who
wanted that school (listed it, or submitted no list) but ended up unplaced or at a school they rank lower,
with the lawful reason.  A row whose reason is ``VIOLATION`` means the rules were broken; a checked result
never has one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from staffing.domain import District, Teacher
from solver.instance import CLASS_NAMES, Instance
from solver.result import Result
from staffing.rules import zone_name

AUDIT_COLUMNS = ("vacancy_id", "school_id", "model", "occupant_id", "occupant_seniority_date", "kind",
                 "passed_over_id", "passed_over_seniority_date", "passed_over_status", "passed_over_outcome",
                 "lawful_reason")


@dataclass(frozen=True)
class AuditRow:
    vacancy_id: str
    school_id: str
    model: str
    occupant_id: str
    occupant_seniority_date: str
    kind: str
    passed_over_id: str
    passed_over_seniority_date: str
    passed_over_status: str
    passed_over_outcome: str
    lawful_reason: str


def lawful_reason(inst: Instance, passed_id: str, occupant_id: str, vacancy_id: str) -> str:
    """Why a more senior teacher who wanted this school did not get this post."""
    v = inst.district.vacancies[vacancy_id]
    t = inst.teachers[passed_id]
    group = inst.vacancy_group[vacancy_id]
    rules = group.rules
    if v.certification not in t.certifications:
        return f"certification: the post needs {v.certification}, the teacher holds {';'.join(t.certifications)}"
    if not inst.kinds(t, group):
        if (zone := inst.zone_of(t)) and zone != rules.zone:
            return f"zone: {passed_id} belongs to {zone_name(zone)} and may be placed only at its schools"
        if group.interview_short and passed_id in group.ranking and t.status != "displaced":
            return ("R-INTERVIEW: the committee has not interviewed the displaced applicants its model requires, "
                    "so only displaced candidates may take this post")
        if rules.mutual_consent:
            return f"not ranked by the committee ({rules.model} hires by mutual consent)"
        return "not allowed at this school"
    if not rules.seniority_order:
        return f"model exempt from seniority: {rules.model} fills posts by consent, not seniority"
    mine, theirs = inst.priority_class(inst.teachers[occupant_id], v.school_id), inst.priority_class(t, v.school_id)
    if mine < theirs:
        return f"occupant has a higher priority class ({CLASS_NAMES[mine]} before {CLASS_NAMES[theirs]})"
    return "VIOLATION: a more senior teacher with priority was passed over"


def seniority_audit(district: District, result: Result, inst: Instance | None = None) -> list[AuditRow]:
    """Every (placement, more senior teacher who wanted the school and did worse) pair, most senior first."""
    inst = inst or Instance(district)
    placed = {a.teacher_id: a for a in result.placed}
    teachers = district.teachers
    wanting: dict[str, list[Teacher]] = defaultdict(list)  # school -> teachers who listed it
    for p in district.preferences:
        wanting[p.school_id].append(teachers[p.teacher_id])
    # a teacher without a list wants every school where they could teach the subject, and ranks them alike:
    # only an unplaced one can be passed over
    no_list: dict[str, list[Teacher]] = defaultdict(list)
    for t in teachers.values():
        if not inst.has_list(t.teacher_id) and t.teacher_id not in placed:
            for c in t.certifications:
                no_list[c].append(t)
    for group in (*wanting.values(), *no_list.values()):
        group.sort(key=lambda t: t.seniority_key)
    rows: list[AuditRow] = []
    for a in result.placed:
        occupant = teachers[a.teacher_id]
        s, v = a.school_id, district.vacancies[a.vacancy_id]  # type: ignore[index]
        for candidates in (wanting.get(s, []), no_list.get(v.certification, [])):
            for t in candidates:
                if t.seniority_key >= occupant.seniority_key:
                    break  # the rest are less senior
                tid = t.teacher_id
                where = placed.get(tid)
                where_school = where.school_id if where else None
                if inst.level(tid, where_school) <= inst.level(tid, s):
                    continue  # got this school or one they rank at least as high: not passed over
                rows.append(AuditRow(
                    v.vacancy_id, s, inst.school_rules(s).model, occupant.teacher_id,  # type: ignore[arg-type]
                    occupant.seniority_date.isoformat(), a.kind, tid, t.seniority_date.isoformat(), t.status,
                    f"placed at {where_school}" if where_school else "unplaced",
                    lawful_reason(inst, tid, occupant.teacher_id, v.vacancy_id)))
    return rows


def audit_rows(rows: list[AuditRow]) -> list[dict[str, str]]:
    return [asdict(r) for r in rows]
