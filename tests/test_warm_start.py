"""The guided warm start: deferred acceptance whose open ties follow a guide, and never a rule."""

from __future__ import annotations

from solver import matching, solve
from solver.checker import check
from solver.instance import Instance
from solver.policy import Policy
from solver.result import to_result
from tests.builders import district, teacher
from tests.recorded import flat, migrated

POLICY = Policy(time_limit=5)


def group_of(inst: Instance, school: str) -> int:
    (g,) = [i for i, group in enumerate(inst.groups) if group.school_id == school]
    return g


def placed_at(inst: Instance, placement: dict[str, int]) -> dict[str, str]:
    return {tid: inst.groups[g].school_id for tid, g in placement.items()}


def test_a_teacher_without_a_list_goes_where_the_guide_says_among_equally_ranked_schools():
    d = district({"S1": "traditional", "S2": "traditional"}, [teacher("T")],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")})
    inst = Instance(d, POLICY)
    assert placed_at(inst, matching.teacher_proposing(inst)) == {"T": "S1"}  # group order decides
    assert placed_at(inst, matching.teacher_proposing(inst, {"T": group_of(inst, "S2")})) == {"T": "S2"}


def test_a_listed_order_is_never_overridden_by_the_guide():
    d = district({"S1": "traditional", "S2": "traditional"}, [teacher("T")],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")}, prefs={"T": ["S1", "S2"]})
    inst = Instance(d, POLICY)
    assert placed_at(inst, matching.teacher_proposing(inst, {"T": group_of(inst, "S2")})) == {"T": "S1"}


def test_a_school_without_seniority_order_holds_the_guide_s_candidate_before_the_committee_s_first():
    d = district({"P": "boston_pilot"}, [teacher("A"), teacher("B")], {"V1": ("P", "MATH")},
                 prefs={"A": ["P"], "B": ["P"]}, rankings={"V1": ["A", "B"]})
    inst = Instance(d, POLICY)
    assert placed_at(inst, matching.teacher_proposing(inst)) == {"A": "P"}
    guided = matching.teacher_proposing(inst, {"B": group_of(inst, "P")})
    assert placed_at(inst, guided) == {"B": "P"}
    assert check(d, to_result(inst, guided, "teacher_da").assignments, POLICY) == []


def test_the_guide_never_passes_over_a_return_right_or_a_more_senior_candidate():
    # la_pilot: no seniority order but honours return rights; traditional: seniority order
    d = district({"P": "la_pilot", "T": "traditional"},
                 [teacher("RR", since="2018-01-01", return_to="P"), teacher("B"),
                  teacher("SEN", "SCI", since="2001-01-01"), teacher("JUN", "SCI", since="2019-01-01")],
                 {"V1": ("P", "MATH"), "V2": ("T", "SCI")},
                 prefs={"RR": ["P"], "B": ["P"], "SEN": ["T"], "JUN": ["T"]}, rankings={"V1": ["B", "RR"]})
    inst = Instance(d, POLICY)
    guided = matching.teacher_proposing(inst, {"B": group_of(inst, "P"), "JUN": group_of(inst, "T")})
    assert placed_at(inst, guided) == {"RR": "P", "SEN": "T"}
    assert check(d, to_result(inst, guided, "teacher_da").assignments, POLICY) == []


def test_a_priced_round_reports_both_warm_starts_and_searches_from_the_better(small_district):
    result = solve(small_district, Policy(time_limit=10).with_settings(full_model_pairs=0))
    starts = result.solve.warm_starts
    assert starts is not None and set(starts.candidates) == {"deferred_acceptance", "guided"}
    assert starts.candidates[starts.used] == max(starts.candidates.values())
    assert result.solve.stages["must_place"].objective >= starts.candidates[starts.used][0]
    assert check(small_district, result.assignments, Policy(time_limit=10).with_settings(full_model_pairs=0)) == []


def test_a_run_recorded_before_the_guided_start_replays_from_deferred_acceptance_alone():
    recorded = flat(Policy()).replace('"guided_start": true, ', "")
    assert "guided_start" not in recorded
    assert migrated(recorded).settings.guided_start is False
    assert Policy.from_json(Policy().to_json()).settings.guided_start is True
