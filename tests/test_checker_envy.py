"""The checker's R-SENIORITY examines only who can envy a post; it must find exactly what examining every teacher
of the certification at every post finds (RULES.md read literally, below)."""

from __future__ import annotations

import pytest

from solver import solve
from solver.checker import _Rules, check
from solver.policy import SCENARIOS, Policy
from staffing.seed import generate


def every_envy(district, assignments, policy) -> list[tuple[str, str]]:
    """(teacher, vacancy) of every R-SENIORITY violation, teacher by post, in the checker's order."""
    r = _Rules(district, policy)
    occupant = {a.vacancy_id: a.teacher_id for a in assignments if a.vacancy_id}
    school_of = {a.teacher_id: a.school_id for a in assignments if a.vacancy_id}
    out = []
    for v in district.vacancies.values():
        s = v.school_id
        if not r.model(s).seniority_order:
            continue
        occ = occupant.get(v.vacancy_id)
        occ_prio = r.priority(district.teachers[occ], s) if occ else None
        for t in district.teachers.values():
            if v.certification not in t.certifications or t.teacher_id == occ:
                continue
            if occ_prio is not None and r.priority(t, s) >= occ_prio:
                continue
            if r.pref(t.teacher_id, school_of.get(t.teacher_id)) <= r.pref(t.teacher_id, s):
                continue
            if r.allowed_kinds(t, v.vacancy_id):
                out.append((t.teacher_id, v.vacancy_id))
    return out


@pytest.mark.parametrize("size,scenario,method", [("region", "district_rules", "max_welfare"),
                                                  ("city", "all_traditional", "max_welfare"),
                                                  ("region", "la_today", "school_da")])
def test_the_checker_finds_every_envy_a_full_scan_finds(size, scenario, method):
    d, policy = generate(size, 2), SCENARIOS[scenario]
    result = solve(d, policy.with_(time_limit=2), method=method)
    # leave some posts empty too: every third placement undone
    rows = [a for i, a in enumerate(result.assignments) if a.vacancy_id is None or i % 3]
    found = [(v.teacher_id, v.vacancy_id) for v in check(d, rows, policy) if v.rule == "R-SENIORITY"]
    assert found == every_envy(d, rows, policy)
    assert found or method == "school_da"  # a rule-breaking answer shows some
