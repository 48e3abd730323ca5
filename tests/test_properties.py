"""Properties on random small districts: the checker never finds a violation in the solver's answer, and
removing a rule never makes the lexicographic objective worse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from solver import matching, solve
from solver.checker import check
from solver.instance import Instance
from solver.policy import Policy, RuleOverride
from solver.result import to_result
from staffing.rules import BUILTIN_RULES
from tests.builders import district, teacher

MODELS = sorted(BUILTIN_RULES)
CERTS = ["MATH", "SCI"]


@st.composite
def districts(draw):
    n_schools = draw(st.integers(1, 4))
    schools = {f"S{i}": draw(st.sampled_from(MODELS)) for i in range(n_schools)}
    sids = list(schools)
    teachers = []
    for i in range(draw(st.integers(1, 7))):
        certs = draw(st.sets(st.sampled_from(CERTS), min_size=1))
        rr = draw(st.one_of(st.none(), st.sampled_from(sids)))
        teachers.append(teacher(f"T{i}", certs=";".join(sorted(certs)), since=f"20{draw(st.integers(0, 24)):02d}-01-01",
                                status=draw(st.sampled_from(["displaced", "new_hire", "voluntary_transfer"])),
                                must_place=draw(st.booleans()), return_to=rr, salary=draw(st.integers(40, 90)) * 1000))
    vacancies = {f"V{j}": (draw(st.sampled_from(sids)), draw(st.sampled_from(CERTS))) for j in range(draw(st.integers(1, 6)))}
    tids = [t.teacher_id for t in teachers]
    prefs = {tid: draw(st.lists(st.sampled_from(sids), unique=True, max_size=3)) for tid in tids
             if draw(st.booleans())}
    rankings = {vid: draw(st.lists(st.sampled_from(tids), unique=True, max_size=4)) for vid in vacancies}
    return district(schools, teachers, vacancies, prefs, rankings)


POLICY = Policy(time_limit=5)


@settings(max_examples=60, deadline=None)
@given(districts())
def test_checker_finds_no_violation_in_cpsat_or_deferred_acceptance(d):
    for method in ("cpsat", "teacher_da", "school_da"):
        result = solve(d, POLICY, method=method)
        assert check(d, result.assignments, POLICY) == [], method


@settings(max_examples=60, deadline=None)
@given(districts(), st.data())
def test_checker_finds_no_violation_in_deferred_acceptance_whatever_its_guide(d, data):
    """The guide (the solver's second warm start follows a relaxation that ignores seniority) only breaks ties
    the rules leave open, so any guide gives a lawful answer."""
    inst = Instance(d, POLICY)
    guide = {tid: g for tid, es in sorted(inst.edges_by_teacher.items())
             if (g := data.draw(st.sampled_from([None, *(e.group for e in es)]))) is not None}
    placement = matching.teacher_proposing(inst, guide)
    assert check(d, to_result(inst, placement, "teacher_da").assignments, POLICY) == []


def objective(result) -> tuple[int, ...]:
    stages = result.solve.stages
    return tuple(stages[s].objective for s in ("must_place", "reserve", "welfare"))


@settings(max_examples=40, deadline=None)
@given(districts())
def test_removing_the_seniority_rule_never_lowers_the_objective(d):
    strict = solve(d, POLICY)
    relaxed_policy = POLICY.with_(overrides=(RuleOverride({"seniority_order": False}, models=("*",)),))
    relaxed = solve(d, relaxed_policy)
    assert strict.solve.optimal and relaxed.solve.optimal
    assert objective(relaxed) >= objective(strict)
    assert check(d, relaxed.assignments, relaxed_policy) == []


@settings(max_examples=30, deadline=None)
@given(districts())
def test_cpsat_places_at_least_as_many_must_place_teachers_as_deferred_acceptance(d):
    best = solve(d, POLICY)
    da = solve(d, POLICY, method="teacher_da")
    count = lambda r: sum(1 for a in r.placed if d.teachers[a.teacher_id].must_place)  # noqa: E731
    assert count(best) >= count(da)


@settings(max_examples=40, deadline=None)
@given(districts())
def test_leaving_out_the_clauses_of_teachers_who_must_be_placed_changes_no_optimum(d):
    """Above ``full_model_pairs`` a settled must-place stage that places every must-place teacher lets the model
    drop their seniority clauses that "placed" already satisfies.  Forced onto that path (threshold 0, every
    pair kept) the answer must stay lawful and reach the exact model's optimum on every stage: a dropped
    clause that mattered would show up as a violation, a wrong "must be placed" as a lower optimum."""
    exact = solve(d, POLICY)
    simplified_policy = POLICY.with_settings(full_model_pairs=0, indifferent_pairs=10**6)
    simplified = solve(d, simplified_policy)
    assert check(d, simplified.assignments, simplified_policy) == []
    if exact.solve.optimal and simplified.solve.optimal:
        assert objective(simplified) == objective(exact)
