"""A second, brute-force reading of RULES.md's hard rules, written for the tests from the contract's text.

It shares no code with :mod:`solver.checker` or :mod:`solver.instance`: the checker's property test and the
solver's oracle compare against it, so one bug in the product's reading cannot hide behind itself.  Slow on
purpose (every question re-scans the district); only tiny districts go through it.
"""

from __future__ import annotations

from staffing.domain import District, Teacher


def school_list(d: District, tid: str) -> list[str] | None:
    """The teacher's ranked schools, first = most wanted; None when no list was submitted."""
    rows = sorted((p.rank, p.school_id) for p in d.preferences if p.teacher_id == tid)
    return [s for _, s in rows] if rows else None


def consents(d: District, tid: str, school_id: str) -> bool:
    """Teacher's consent: the school is on their list, or they submitted none."""
    listed = school_list(d, tid)
    return listed is None or school_id in listed


def ranks_strictly_above(d: District, tid: str, a: str | None, b: str | None) -> bool:
    """Does the teacher rank school ``a`` strictly above school ``b`` (None: unplaced, below every school)?
    Without a list every school is equal; an unlisted school is below every listed one, unlisted ones tie."""
    if a is None:
        return False
    if b is None:
        return True
    listed = school_list(d, tid)
    if listed is None:
        return False
    if a in listed and b in listed:
        return listed.index(a) < listed.index(b)
    return a in listed and b not in listed


def kinds(d: District, t: Teacher, vacancy_id: str) -> set[str]:
    """Every kind of RULES.md under which t may take the vacancy (empty: not allowed, certification included)."""
    v = d.vacancies[vacancy_id]
    m = d.models[d.schools[v.school_id].model]
    if v.certification not in t.certifications:
        return set()
    found = set()
    wants = consents(d, t.teacher_id, v.school_id)
    if wants and t.return_rights and t.former_school_id == v.school_id and m.honours_return_rights:
        found.add("return_right")
    if wants and any(r.vacancy_id == vacancy_id and r.teacher_id == t.teacher_id for r in d.rankings):
        found.add("mutual_consent")
    if t.must_place and m.accepts_must_place:
        found.add("forced")
    if wants and not m.mutual_consent:
        found.add("assigned")
    return found


def priority(t: Teacher, school_id: str) -> tuple:
    """R-SENIORITY's order for a post at ``school_id``: smaller is higher priority."""
    if t.return_rights and t.former_school_id == school_id:
        cls = "a"
    elif t.must_place or t.status == "displaced":
        cls = "b"
    elif t.status == "voluntary_transfer":
        cls = "c"
    else:
        cls = "d"
    return (cls, t.seniority_date.isoformat(), t.teacher_id)


def more_senior(a: Teacher, b: Teacher) -> bool:
    return (a.seniority_date, a.teacher_id) < (b.seniority_date, b.teacher_id)


def violations(d: District, placed: dict[str, str], recorded_kind: dict[str, str] | None = None) -> set[tuple]:
    """Every broken hard rule of ``placed`` (teacher -> vacancy, one teacher per vacancy assumed), as
    ``(rule, teacher_id, vacancy_id or None)``: CERTIFICATION and KIND per placement (KIND also when a
    ``recorded_kind`` does not hold), R-RETURN per holder, R-SENIORITY per (envious teacher, post)."""
    out: set[tuple] = set()
    occupant = {vid: tid for tid, vid in placed.items()}
    school = {tid: d.vacancies[vid].school_id for tid, vid in placed.items()}
    for tid, vid in placed.items():
        t, v = d.teachers[tid], d.vacancies[vid]
        if v.certification not in t.certifications:
            out.add(("CERTIFICATION", tid, vid))
            continue
        allowed = kinds(d, t, vid)
        if not allowed or (recorded_kind is not None and recorded_kind[tid] not in allowed):
            out.add(("KIND", tid, vid))

    for t in d.teachers.values():  # R-RETURN
        s = t.former_school_id
        if not (t.return_rights and s in d.schools and d.models[d.schools[s].model].honours_return_rights
                and consents(d, t.teacher_id, s)):
            continue
        mine = school.get(t.teacher_id)
        if mine == s or ranks_strictly_above(d, t.teacher_id, mine, s):
            continue
        seats = [v for v in d.vacancies.values() if v.school_id == s and v.certification in t.certifications]
        excused = all(occupant.get(v.vacancy_id) is not None
                      and d.teachers[occupant[v.vacancy_id]].return_rights
                      and d.teachers[occupant[v.vacancy_id]].former_school_id == s
                      and more_senior(d.teachers[occupant[v.vacancy_id]], t) for v in seats)
        if seats and not excused:
            out.add(("R-RETURN", t.teacher_id, None))

    for v in d.vacancies.values():  # R-SENIORITY
        s = v.school_id
        if not d.models[d.schools[s].model].seniority_order:
            continue
        occ = occupant.get(v.vacancy_id)
        for t in d.teachers.values():
            if t.teacher_id == occ or not kinds(d, t, v.vacancy_id):
                continue
            outranks = occ is None or priority(t, s) < priority(d.teachers[occ], s)
            worse_off = ranks_strictly_above(d, t.teacher_id, s, school.get(t.teacher_id))
            if outranks and worse_off:
                out.add(("R-SENIORITY", t.teacher_id, v.vacancy_id))
    return out
