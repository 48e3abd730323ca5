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

    # outside candidates are not pool teachers: they count only as outside hires
    unplaced = [d.teachers[a.teacher_id] for a in result.assignments
                if a.vacancy_id is None and not d.teachers[a.teacher_id].is_outside_candidate]
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
    # independent charters' posts are not the district's to fill
    total_vacancies = sum(1 for v in d.vacancies.values() if not inst.school_rules(v.school_id).outside_district)
    outside_candidates = sum(1 for t in d.teachers.values() if t.is_outside_candidate)
    return {
        "teachers": len(d.teachers) - outside_candidates,
        "outside_district_vacancies": len(d.vacancies) - total_vacancies,
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
        **outside_hire_figures(inst, result),
        **school_cost_figures(inst, result),
        "zone_reserve_cost": zone_reserve_cost(inst, unplaced),
    }


def outside_hire_figures(inst: Instance, result: Result) -> dict[str, object]:
    """Outside hires and what they cost the district: for each, an unplaced district employee (paid while
    unplaced) who holds the post's certification and consents to the school, each counted once, most
    senior first -- the pool teacher the post could have taken off the reserve."""
    d = inst.district
    hires = [a for a in result.placed if a.kind == "outside_hire"]
    placed = {a.teacher_id for a in result.placed}
    idle = sorted((t for t in d.teachers.values() if t.is_district_employee and t.teacher_id not in placed),
                  key=lambda t: t.seniority_key)
    left: list[str] = []
    taken: set[str] = set()
    for a in hires:
        cert = d.vacancies[a.vacancy_id].certification  # type: ignore[index]
        for t in idle:
            if t.teacher_id not in taken and cert in t.certifications and inst.consents(t.teacher_id, a.school_id):
                taken.add(t.teacher_id)
                left.append(t.teacher_id)
                break
    return {"outside_candidates": sum(1 for t in d.teachers.values() if t.is_outside_candidate),
            "outside_hires": len(hires),
            "outside_hires_leaving_pool_teacher_unplaced": len(left),
            "outside_hire_district_cost": sum(d.teachers[tid].salary for tid in left)}


def school_cost_figures(inst: Instance, result: Result) -> dict[str, object]:
    """What schools' budgets bear for this round's hires, by the model's budget basis (Figures 12-15, 22):
    ``actual`` is the teacher's salary, ``average`` the district's average salary of its own teachers."""
    d = inst.district
    own = [t.salary for t in d.teachers.values() if not t.is_outside_candidate]
    average = round(sum(own) / len(own)) if own else 0
    by_model: dict[str, dict[str, object]] = {}
    for a in result.placed:
        rules = inst.school_rules(a.school_id)  # type: ignore[arg-type]
        actual = d.teachers[a.teacher_id].salary
        cost = actual if rules.budget_basis == "actual" else average
        row = by_model.setdefault(rules.model, {"basis": rules.budget_basis, "hires": 0, "cost": 0,
                                                "actual_salaries": 0})
        row["hires"] += 1  # type: ignore[operator]
        row["cost"] += cost  # type: ignore[operator]
        row["actual_salaries"] += actual  # type: ignore[operator]
    return {"average_salary": average,
            "school_hire_cost": sum(r["cost"] for r in by_model.values()),  # type: ignore[misc]
            "school_hire_cost_by_model": dict(sorted(by_model.items()))}


def zone_reserve_cost(inst: Instance, unplaced: list) -> dict[str, int]:
    """Salary of unplaced teachers a zone must keep paying (Springfield: it keeps the teachers it dismissed)."""
    out: dict[str, int] = defaultdict(int)
    for t in unplaced:
        if zone := inst.zone_of(t):
            out[zone] += t.salary
    return dict(sorted(out.items()))


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
    """(vacancy, required, interviewed) where R-INTERVIEW's minimum of displaced interviews was not met: those
    posts may take only displaced candidates (and return rights) this round."""
    return [(vid, need, held) for vid, (need, held) in sorted(inst.interview_shortfalls.items())]
