"""A second, brute-force reading of RULES.md's hard rules, written for the tests from the contract's text and
docs/rules.md (charters outside the pool, the Springfield zone, outside hires, R-INTERVIEW, declined posts).

It shares no code with :mod:`solver.checker` or :mod:`solver.instance`: the checker's property test and the
solver's oracle compare against it, so one bug in the product's reading cannot hide behind itself.  The only
product code it reads is the rule table's row for each school (:meth:`District.rules_of`: model, city-wide
rules, waivers), which is the data the rules are applied to, not a reading of them.  Slow on purpose (every
question re-scans the district); only tiny districts go through it.
"""

from __future__ import annotations

from staffing.domain import District, Teacher
from staffing.rules import ModelRules


def rules(d: District, school_id: str) -> ModelRules:
    """The school's row of the rule table (its model's row, its city's rules, its waivers)."""
    return d.rules_of(school_id)


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


def declined(d: District, tid: str, vacancy_id: str) -> bool:
    """A post the teacher was offered and declined (or let lapse) this season: not offered to them again."""
    return (tid, vacancy_id) in {(t, v) for t, v in d.excluded_pairs}


def zone_allows(d: District, t: Teacher, school_id: str) -> bool:
    """Springfield (docs/rules.md): a displaced teacher whose former school is a zone school may be placed only
    at a school of that zone."""
    former = t.former_school_id
    if t.status != "displaced" or former not in d.schools or not rules(d, former).zone:
        return True
    return rules(d, school_id).zone == rules(d, former).zone


def interview_short(d: District, vacancy_id: str) -> bool:
    """R-INTERVIEW: the model asks for k displaced interviews and the committee interviewed fewer displaced
    applicants than min(k, displaced applicants certified for the post who consent to its school)."""
    v = d.vacancies[vacancy_id]
    k = rules(d, v.school_id).min_pool_interviews
    if not k:
        return False
    applicants = [t for t in d.teachers.values() if t.status == "displaced" and v.certification in t.certifications
                  and consents(d, t.teacher_id, v.school_id)]
    interviewed = {i.teacher_id for i in d.interviews if i.vacancy_id == vacancy_id
                   and i.teacher_id in d.teachers and d.teachers[i.teacher_id].status == "displaced"}
    return len(interviewed) < min(k, len(applicants))


def kinds(d: District, t: Teacher, vacancy_id: str, interviews: bool = True) -> set[str]:
    """Every kind under which t may take the vacancy (empty: not allowed, certification included);
    ``interviews=False`` reads the rules without R-INTERVIEW."""
    v = d.vacancies[vacancy_id]
    m = rules(d, v.school_id)
    if v.certification not in t.certifications or declined(d, t.teacher_id, vacancy_id):
        return set()
    if m.outside_district or not zone_allows(d, t, v.school_id):
        return set()
    ranked = any(r.vacancy_id == vacancy_id and r.teacher_id == t.teacher_id for r in d.rankings)
    # without the displaced interviews, only displaced candidates may come in by the committee's choice
    interviewed = not interviews or t.status == "displaced" or not interview_short(d, vacancy_id)
    if t.status == "outside_candidate":  # not a pool teacher: only an outside hire the committee ranked
        return {"outside_hire"} if m.may_hire_outside_pool and ranked and interviewed else set()
    found = set()
    wants = consents(d, t.teacher_id, v.school_id)
    if wants and t.return_rights and t.former_school_id == v.school_id and m.honours_return_rights:
        found.add("return_right")
    if wants and ranked and interviewed:
        found.add("mutual_consent")
    if t.must_place and m.accepts_must_place:
        found.add("forced")
    if wants and not m.mutual_consent:
        found.add("assigned")
    return found


def priority(t: Teacher, school_id: str) -> tuple:
    """R-SENIORITY's order for a post at ``school_id``: smaller is higher priority.  Outside candidates are not
    district teachers: they come after every class of RULES.md."""
    if t.return_rights and t.former_school_id == school_id:
        cls = "a"
    elif t.must_place or t.status == "displaced":
        cls = "b"
    elif t.status == "voluntary_transfer":
        cls = "c"
    elif t.status == "outside_candidate":
        cls = "e"
    else:
        cls = "d"
    return (cls, t.seniority_date.isoformat(), t.teacher_id)


def more_senior(a: Teacher, b: Teacher) -> bool:
    return (a.seniority_date, a.teacher_id) < (b.seniority_date, b.teacher_id)


def violations(d: District, placed: dict[str, str], recorded_kind: dict[str, str] | None = None) -> set[tuple]:
    """Every broken hard rule of ``placed`` (teacher -> vacancy, one teacher per vacancy assumed), as
    ``(rule, teacher_id, vacancy_id or None)``: per placement CERTIFICATION, else OUTSIDE-POOL (a charter's
    post), else R-INTERVIEW (the recorded kind, or with none any kind, holds but for R-INTERVIEW), else KIND
    (no kind holds, or the recorded one does not); R-RETURN per holder; R-SENIORITY per (envious teacher, post)."""
    out: set[tuple] = set()
    occupant = {vid: tid for tid, vid in placed.items()}
    school = {tid: d.vacancies[vid].school_id for tid, vid in placed.items()}
    for tid, vid in placed.items():
        t, v = d.teachers[tid], d.vacancies[vid]
        if v.certification not in t.certifications:
            out.add(("CERTIFICATION", tid, vid))
            continue
        if rules(d, v.school_id).outside_district:
            out.add(("OUTSIDE-POOL", tid, vid))
            continue
        allowed, without_interviews = kinds(d, t, vid), kinds(d, t, vid, interviews=False)
        wanted = {recorded_kind[tid]} if recorded_kind is not None else without_interviews
        if wanted & allowed:
            continue
        out.add(("R-INTERVIEW" if wanted & without_interviews else "KIND", tid, vid))

    for t in d.teachers.values():  # R-RETURN
        s = t.former_school_id
        if not (t.return_rights and s in d.schools and rules(d, s).honours_return_rights
                and not rules(d, s).outside_district and consents(d, t.teacher_id, s)):
            continue
        mine = school.get(t.teacher_id)
        if mine == s or ranks_strictly_above(d, t.teacher_id, mine, s):
            continue
        seats = [v for v in d.vacancies.values() if v.school_id == s and v.certification in t.certifications
                 and not declined(d, t.teacher_id, v.vacancy_id)]
        excused = all(occupant.get(v.vacancy_id) is not None
                      and d.teachers[occupant[v.vacancy_id]].return_rights
                      and d.teachers[occupant[v.vacancy_id]].former_school_id == s
                      and more_senior(d.teachers[occupant[v.vacancy_id]], t) for v in seats)
        if seats and not excused:
            out.add(("R-RETURN", t.teacher_id, None))

    for v in d.vacancies.values():  # R-SENIORITY
        s = v.school_id
        if not rules(d, s).seniority_order or rules(d, s).outside_district:
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
