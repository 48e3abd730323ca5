"""The figures reported with every run (RULES.md "Compliance figures" and DESIGN.md's outputs).

Figures are computed from a result and its instance only, so they are the same for the product's CP-SAT
answer and for the baselines, and the trade-off analysis can put them side by side.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from solver.audit import AuditRow
from solver.instance import Instance
from solver.result import Result


def compute(inst: Instance, result: Result, audit: list[AuditRow] | None = None) -> dict[str, object]:
    d = inst.district
    placed = result.placed
    school_of = {a.teacher_id: a.school_id for a in placed}
    models_of_school = {s: inst.school_rules(s).model for s in d.schools}

    must_place = [t for t in d.teachers.values() if t.must_place]
    # return rights that can bite: the holder's former school posts a vacancy in one of their subjects
    holders = [t for t in d.teachers.values() if inst.holds_return_right(t)
               and any(g.certification in t.certifications for g in inst.groups_by_school.get(t.former_school_id, []))]

    unplaced = [d.teachers[a.teacher_id] for a in result.assignments if a.vacancy_id is None]
    teacher_scores = [inst.edge(a.teacher_id, inst.vacancy_group[a.vacancy_id].index) for a in placed]
    scores = [e.teacher_score for e in teacher_scores if e is not None]
    listed_placed = [a for a in placed if inst.has_list(a.teacher_id)]
    top_choice = sum(1 for a in listed_placed if inst.level(a.teacher_id, a.school_id) == 1)

    # committee side: at schools whose committee ranked candidates for the post
    ranked_posts = [g for g in inst.groups if g.ranking]
    filled_ranked = committee_top = 0
    occupants: dict[int, list[str]] = defaultdict(list)
    for a in placed:
        occupants[inst.vacancy_group[a.vacancy_id].index].append(a.teacher_id)
    for g in ranked_posts:
        for tid in occupants.get(g.index, []):
            filled_ranked += 1
            committee_top += g.committee_top_choice(tid)

    blocking = blocking_pairs(inst, result)
    interviews = interview_shortfalls(inst)
    overrides = len({r.vacancy_id for r in audit}) if audit is not None else None
    violations_in_audit = sum(1 for r in audit if r.lawful_reason.startswith("VIOLATION")) if audit else 0
    total_vacancies = len(d.vacancies)
    return {
        "teachers": len(d.teachers),
        "vacancies": total_vacancies,
        "placed": len(placed),
        "vacancies_filled_share": round(len(placed) / max(1, total_vacancies), 4),
        "unplaced": len(unplaced),
        "unplaced_by_status": dict(sorted(Counter(t.status for t in unplaced).items())),
        "placed_by_kind": dict(sorted(Counter(a.kind for a in placed).items())),
        "must_place_total": len(must_place),
        "must_place_placed": sum(1 for t in must_place if t.teacher_id in school_of),
        "return_rights_total": len(holders),
        "return_rights_honoured": sum(1 for t in holders if inst.return_right_honoured(t, school_of.get(t.teacher_id))),
        "forced_by_model": dict(sorted(Counter(models_of_school[a.school_id] for a in placed
                                               if a.kind == "forced").items())),
        "reserve_cost": sum(t.salary for t in unplaced if t.is_district_employee),
        "reserve_teachers": sum(1 for t in unplaced if t.is_district_employee),
        "teacher_satisfaction": round(sum(scores) / (10 * max(1, len(scores))), 4),
        "teacher_top_choice_share": round(top_choice / max(1, len(listed_placed)), 4),
        "committee_top_share": round(committee_top / max(1, filled_ranked), 4),
        "blocking_pairs": blocking,
        "interview_shortfalls": len(interviews),
        "seniority_overrides": overrides,
        "audit_violations": violations_in_audit,
    }


def blocking_pairs(inst: Instance, result: Result) -> int:
    """Pairs (teacher, post) at committee-ranked, non-seniority schools that both would rather have:
    the teacher ranks the school strictly above their outcome and the committee ranked them above the
    occupant (or the post is empty).  Reported as a quality figure, not forbidden (RULES.md)."""
    school_of = {a.teacher_id: a.school_id for a in result.placed}
    occupant = {a.vacancy_id: a.teacher_id for a in result.placed}
    count = 0
    for g in inst.groups:
        if g.rules.seniority_order or not g.ranking:
            continue
        for vid in g.vacancy_ids:
            occ = occupant.get(vid)
            occ_rank = g.ranking.get(occ, 10**6) if occ else 10**7
            for tid, rank in g.ranking.items():
                if rank >= occ_rank or tid == occ or inst.edge(tid, g.index) is None:
                    continue
                if inst.level(tid, g.school_id) < inst.level(tid, school_of.get(tid)):
                    count += 1
    return count


def interview_shortfalls(inst: Instance) -> list[tuple[str, int, int]]:
    """(vacancy, required, interviewed) where the model's minimum of pool interviews was not met."""
    seen: dict[str, set[str]] = defaultdict(set)
    for i in inst.district.interviews:
        if i.teacher_id in inst.teachers:
            seen[i.vacancy_id].add(i.teacher_id)
    out = []
    for v in inst.district.vacancies.values():
        need = inst.school_rules(v.school_id).min_pool_interviews
        if need and len(seen.get(v.vacancy_id, ())) < need:
            out.append((v.vacancy_id, need, len(seen.get(v.vacancy_id, ()))))
    return out
