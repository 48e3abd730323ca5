"""A brute-force oracle for the solver: on tiny random districts every assignment is enumerated, the lawful ones
are kept by the tests' own reading of RULES.md (:mod:`tests.rules_reading`), and the best (must-place,
reserve, welfare) -- lexicographic -- must equal the solver's exactly.

The scoring of a placement is the solver's own (:func:`staffing.runs.stage_objectives` over
:meth:`solver.instance.Instance.stage_values`): the objective is the product's definition, what is checked here
is that the solver finds its optimum over exactly the lawful assignments.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import solve
from solver.instance import Instance
from solver.policy import Policy
from solver.result import Assignment
from staffing.domain import Interview
from staffing.rules import CITIES
from staffing.runs import stage_objectives
from tests import rules_reading
from tests.builders import district, outside, teacher
from tests.test_properties import CERTS, MODELS

STAGES = ["must_place", "reserve", "welfare"]
POLICY = Policy(time_limit=10)


@st.composite
def tiny_districts(draw):
    """At most 6 teachers (and maybe an outside candidate) and 6 posts, on up to 3 schools of any built-in model in
    any city, with some interviews (R-INTERVIEW)."""
    schools = {f"S{i}": draw(st.sampled_from(MODELS)) for i in range(draw(st.integers(1, 3)))}
    sids = list(schools)
    teachers = []
    for i in range(draw(st.integers(1, 6))):
        certs = draw(st.sets(st.sampled_from(CERTS), min_size=1))
        teachers.append(teacher(f"T{i}", certs=";".join(sorted(certs)), since=f"20{draw(st.integers(0, 9)):02d}-01-01",
                                status=draw(st.sampled_from(["displaced", "new_hire", "voluntary_transfer"])),
                                must_place=draw(st.booleans()),
                                return_to=draw(st.one_of(st.none(), st.sampled_from(sids))),
                                salary=draw(st.integers(40, 90)) * 1000))
    vacancies = {f"V{j}": (draw(st.sampled_from(sids)), draw(st.sampled_from(CERTS)))
                 for j in range(draw(st.integers(1, 6)))}
    tids = [t.teacher_id for t in teachers]
    prefs = {tid: draw(st.lists(st.sampled_from(sids), unique=True, max_size=3)) for tid in tids if draw(st.booleans())}
    if draw(st.booleans()):  # an outside candidate, whom only a committee's ranking can bring in
        teachers.append(outside("X", certs=draw(st.sampled_from(CERTS))))
    candidates = [t.teacher_id for t in teachers]
    rankings = {vid: draw(st.lists(st.sampled_from(candidates), unique=True, max_size=4)) for vid in vacancies}
    d = district({sid: (model, draw(st.sampled_from(CITIES))) for sid, model in schools.items()}, teachers, vacancies,
                 {t: p for t, p in prefs.items() if p}, rankings)
    interviews = draw(st.lists(st.tuples(st.sampled_from(sorted(vacancies)), st.sampled_from(candidates)), unique=True,
                               max_size=4))
    return replace(d, interviews=[Interview(vid, tid, date(2026, 5, 1)) for vid, tid in interviews])


def lawful_assignments(d):
    """Every one-to-one assignment of teachers to posts over allowed pairs that breaks no hard rule."""
    tids = sorted(d.teachers)
    options = {tid: [None] + [vid for vid in sorted(d.vacancies) if rules_reading.kinds(d, d.teachers[tid], vid)]
               for tid in tids}

    def extend(i: int, placed: dict[str, str], taken: set[str]):
        if i == len(tids):
            if not rules_reading.violations(d, placed):
                yield dict(placed)
            return
        tid = tids[i]
        for vid in options[tid]:
            if vid is None:
                yield from extend(i + 1, placed, taken)
            elif vid not in taken:
                placed[tid] = vid
                taken.add(vid)
                yield from extend(i + 1, placed, taken)
                del placed[tid]
                taken.discard(vid)

    return list(extend(0, {}, set()))


def values(inst: Instance, placed: dict[str, str]) -> tuple[int, ...]:
    assignments = [Assignment(tid, vid, inst.district.vacancies[vid].school_id, "", "") for tid, vid in placed.items()]
    scored = stage_objectives(inst, assignments, STAGES)
    return tuple(scored[s] for s in STAGES)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_districts())
def test_solver_reaches_the_best_lawful_assignment_found_by_enumeration(d):
    inst = Instance(d, POLICY)
    lawful = lawful_assignments(d)
    assert lawful, "RULES.md: a stable outcome always exists, so some assignment is lawful"
    best = max(values(inst, placed) for placed in lawful)
    result = solve(d, POLICY, instance=inst)
    solver_placed = {a.teacher_id: a.vacancy_id for a in result.assignments if a.vacancy_id}
    assert not rules_reading.violations(d, solver_placed)
    assert values(inst, solver_placed) == best


def test_the_oracle_orders_must_place_before_reserve_on_a_case_worked_out_by_hand():
    """At a mutual-consent school that accepts forced placements (la_pilot, no seniority order) the seat may go
    to the must-place teacher (forced), to the better-paid ranked one (mutual consent) or to nobody: the best is
    the must-place teacher, though the other would save more reserve cost, and the solver says so too."""
    d = district({"S": "la_pilot"}, [teacher("M", must_place=True, salary=40_000), teacher("R", salary=90_000)],
                 {"V": ("S", "MATH")}, prefs={"M": ["S"], "R": ["S"]}, rankings={"V": ["R"]})
    inst = Instance(d, POLICY)
    lawful = lawful_assignments(d)
    assert sorted(tuple(p.items()) for p in lawful) == [(), (("M", "V"),), (("R", "V"),)]
    best = max(values(inst, p) for p in lawful)
    assert best[:2] == (1, 40) and values(inst, {"R": "V"})[:2] == (0, 90)
    placed = {a.teacher_id: a.vacancy_id for a in solve(d, POLICY, instance=inst).assignments if a.vacancy_id}
    assert placed == {"M": "V"}
