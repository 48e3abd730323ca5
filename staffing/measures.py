"""Honest measures of one placement round for the trade-off analysis (docs/analysis.md, "Measures").

What a district leader weighs: placements a school did not consent to (forced, return rights and district
assignment of teachers its committee never ranked), must-place teachers placed, what the reserve costs over
the season and who pays it, what hires cost schools under actual or average salary budgeting, seniority
overrides without certification noise, and return rights honoured over a denominator that no scenario moves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from solver.audit import AuditRow
from solver.figures import interview_shortfalls
from solver.instance import Instance
from solver.result import Assignment
from staffing.domain import District, Teacher

#: Models that budget on their teachers' actual salaries (source report L803 Horace Mann, L821 Boston pilot,
#: L840 Boston innovation; L861: turnaround schools must budget on the district average).  Every other model
#: is charged the district's average salary; independent charters pay their own staff.  A rule-table column
#: ``budget_basis`` ("actual" or "average"), where the table has one, takes precedence.
ACTUAL_SALARY_MODELS = frozenset({"horace_mann_charter", "boston_pilot", "boston_innovation", "independent_charter"})
#: The analysis follows a season of this many months from the start of the school year: long enough that a
#: time limit of 10 or 12 months matters ("ineffective teachers remain in the pool year after year", L360).
HORIZON_MONTHS = 24.0


@dataclass(frozen=True)
class CityEconomics:
    """How long a city pays an unplaced teacher and whom (docs/analysis.md gives the sources)."""

    key: str
    label: str
    #: months the district keeps paying an unplaced teacher; None: no limit within the horizon
    reserve_months: float | None
    #: are new hires with no placement paid (LA: "they receive healthcare and pay regardless of whether they've
    #: found a school placement", L195)?  Elsewhere a new hire's offer lapses without a post.
    new_hires_paid: bool
    source: str


CITY_ECONOMICS: dict[str | None, CityEconomics] = {c.key: c for c in (
    CityEconomics("boston", "Boston", None, False,
                  "Excess pool, mutual consent with no forced hiring (L511-513); no time limit in the report"),
    CityEconomics("los_angeles", "Los Angeles", None, True,
                  "The district hires and pays pool teachers whether or not placed (L195)"),
    CityEconomics("memphis", "Memphis", None, False,
                  "Teachers removed for fit are placed at other district schools (L505); no time limit in the report"),
    CityEconomics("denver", "Denver", 12.0, False,
                  "Colorado's mutual-consent law (SB 10-191): unpaid leave after 12 months or two hiring cycles "
                  "(outside the source report)"),
    CityEconomics("springfield", "Springfield", None, False,
                  "Dismissed tenured teachers get ongoing pay, charged to the zone (L703)"),
    CityEconomics(None, "Mixed district", None, False, "No time limit (as New York's Absent Teacher Reserve)"),
)}


@dataclass(frozen=True)
class Levers:
    """Policy levers that change who pays or for how long, on the same placements (committees' lists are
    data, so no behavioural response is modelled), or when forced placement happens."""

    #: no forced placement in the first round; must-place teachers still unplaced are forced at the deadline
    forced_at_deadline: bool = False
    #: months into the school year the deadline falls; a teacher placed then is paid from the reserve till then
    deadline_months: float = 1.0
    #: share of a reserve hire's first-year salary the central budget pays (New York: 0.5)
    reserve_subsidy: float = 0.0
    #: a school is charged the district average, not the actual salary, for a teacher hired from the reserve
    reserve_outside_average: bool = False
    #: overrides the city's time limit on reserve pay (months); None keeps the city's, math.inf removes it
    pool_time_limit: float | None = None


def budget_basis(rules: object) -> str:
    basis = getattr(rules, "budget_basis", None)
    if basis in ("actual", "average"):
        return str(basis)
    return "actual" if getattr(rules, "model", "") in ACTUAL_SALARY_MODELS else "average"


def fixed_return_right_holders(district: District) -> list[Teacher]:
    """Holders whose former school posts their subject again: the same list under every scenario."""
    posts = {(v.school_id, v.certification) for v in district.vacancies.values()}
    return [t for t in district.teachers.values() if t.return_rights and t.former_school_id in district.schools
            and any((t.former_school_id, c) in posts for c in t.certifications)]


def paid_months(teacher: Teacher, economics: CityEconomics, levers: Levers, horizon: float = HORIZON_MONTHS) -> float:
    """Months of the horizon the district pays this teacher while unplaced (0 when it does not pay at all)."""
    if teacher.status == "voluntary_transfer":
        return 0.0  # keeps their current post
    if teacher.status == "new_hire" and not economics.new_hires_paid:
        return 0.0
    limit = levers.pool_time_limit if levers.pool_time_limit is not None else economics.reserve_months
    return min(horizon, limit if limit is not None else math.inf)


def measure_round(district: District, inst: Instance, placements: Iterable[Assignment], audit: list[AuditRow],
                  *, deadline_placed: frozenset[str] = frozenset(), city: str | None = None,
                  levers: Levers = Levers(), horizon: float = HORIZON_MONTHS) -> tuple[list[dict], dict]:
    """Rows per school model and the round's totals (scenario, draw and solver figures are the caller's)."""
    economics = CITY_ECONOMICS.get(city, CITY_ECONOMICS[None])
    assignments = list(placements)
    placed = [a for a in assignments if a.vacancy_id is not None]
    school_of = {a.teacher_id: a.school_id for a in placed}
    occupant = {a.vacancy_id: a for a in placed}
    overridden = {r.vacancy_id for r in audit if not r.lawful_reason.startswith("certification")}
    shortfalls = {v for v, _, _ in interview_shortfalls(inst)}
    salaries = [t.salary for t in district.teachers.values()]
    average_salary = sum(salaries) / len(salaries) if salaries else 0.0
    central = zone = school_total = 0.0
    rows: dict[str, dict] = {}
    for v in district.vacancies.values():
        rules = inst.school_rules(v.school_id)
        row = rows.setdefault(rules.model, {
            "model": rules.model, "autonomy": rules.autonomy, "budget_basis": budget_basis(rules),
            "vacancies": 0, "filled": 0, "without_consent": 0, "forced": 0, "return_right": 0, "ranked_filled": 0,
            "committee_top": 0, "teacher_score": 0, "seniority_overrides": 0, "interview_shortfalls": 0,
            "school_cost": 0.0})
        row["vacancies"] += 1
        row["seniority_overrides"] += v.vacancy_id in overridden
        row["interview_shortfalls"] += v.vacancy_id in shortfalls
        a = occupant.get(v.vacancy_id)
        if a is None:
            continue
        group = inst.vacancy_group[v.vacancy_id]
        edge = inst.edge(a.teacher_id, group.index)
        teacher = district.teachers[a.teacher_id]
        row["filled"] += 1
        # consent: the post's committee put this teacher on its list and the placement was not forced
        consented = a.kind != "forced" and a.teacher_id in group.ranking
        row["without_consent"] += not consented
        row["forced"] += a.kind == "forced"
        row["return_right"] += a.kind == "return_right"
        row["teacher_score"] += edge.teacher_score if edge else 0
        if group.ranking:
            row["ranked_filled"] += 1
            row["committee_top"] += group.committee_top_choice(a.teacher_id)
        # the first year's salary: what the school is charged and what the central budget pays on top
        charge = float(teacher.salary) if row["budget_basis"] == "actual" else average_salary
        from_reserve = teacher.status == "displaced"
        if from_reserve and levers.reserve_outside_average and row["budget_basis"] == "actual":
            central += max(0.0, charge - average_salary)
            charge = min(charge, average_salary)
        if from_reserve and levers.reserve_subsidy:
            central += charge * levers.reserve_subsidy
            charge *= 1 - levers.reserve_subsidy
        row["school_cost"] += charge
        school_total += charge
    reserve_months = reserve_cost = 0.0
    for t in district.teachers.values():
        if t.teacher_id in school_of and t.teacher_id not in deadline_placed:
            continue
        months = paid_months(t, economics, levers, horizon)
        if t.teacher_id in deadline_placed:
            months = min(months, levers.deadline_months)
        cost = t.salary * months / 12
        reserve_months += months
        reserve_cost += cost
        former = district.schools.get(t.former_school_id or "")
        # a zone that dismisses a tenured teacher keeps paying them (Springfield, L703)
        if former is not None and former.model == "springfield_empowerment" and t.displacement_reason == "dismissed_to_pool":
            zone += cost
        else:
            central += cost
    out = []
    for row in rows.values():
        row["fill_rate"] = row["filled"] / row["vacancies"]
        row["without_consent_share"] = row["without_consent"] / row["filled"] if row["filled"] else math.nan
        row["committee_top_share"] = row["committee_top"] / row["ranked_filled"] if row["ranked_filled"] else math.nan
        row["teacher_satisfaction"] = row["teacher_score"] / (10 * row["filled"]) if row["filled"] else math.nan
        row["school_cost_per_post"] = row["school_cost"] / row["filled"] if row["filled"] else math.nan
        out.append(row)
    autonomous = [r for r in out if r["autonomy"] != "low"]
    ranked = sum(r["ranked_filled"] for r in autonomous)
    must_place = [t for t in district.teachers.values() if t.must_place]
    holders = fixed_return_right_holders(district)
    honoured = sum(1 for t in holders if inst.return_right_honoured(t, school_of.get(t.teacher_id)))
    filled = len(placed)
    totals = {
        "placed": filled, "unplaced": len(assignments) - filled,
        "must_place_placed": sum(1 for t in must_place if t.teacher_id in school_of),
        "must_place_total": len(must_place),
        "must_place_share": sum(1 for t in must_place if t.teacher_id in school_of) / len(must_place)
        if must_place else math.nan,
        "without_consent": sum(r["without_consent"] for r in out),
        "without_consent_autonomous": sum(r["without_consent"] for r in autonomous),
        "forced": sum(r["forced"] for r in out),
        "placed_at_deadline": len(deadline_placed & set(school_of)),
        "return_rights_honoured": honoured, "return_rights_total": len(holders),
        "return_rights_share": honoured / len(holders) if holders else math.nan,
        "seniority_overrides": sum(r["seniority_overrides"] for r in out),
        "interview_shortfalls": sum(r["interview_shortfalls"] for r in out),
        "reserve_months": reserve_months, "reserve_cost": reserve_cost,
        "central_cost": central, "zone_cost": zone, "school_cost": school_total,
        "committee_top_share_autonomous": sum(r["committee_top"] for r in autonomous) / ranked if ranked else math.nan,
        "teacher_satisfaction": sum(r["teacher_score"] for r in out) / (10 * filled) if filled else math.nan,
    }
    return out, totals
