"""The one statement a run's figures allow about each stage: how close it is proven to be to the best lawful
value (``SolveFigures.proven_gaps``), as the command line and the HR run page give it, and the same for the
reserve cost in dollars (``reserve_cost_floor``).  The figures are given as runs recorded them (JSON)."""

from __future__ import annotations

from solver.instance import Instance
from solver.policy import Policy
from solver.solve_figures import SolveFigures, describe_gap
from staffing.runs import evaluate, reserve_cost_floor


def proven_gaps(recorded: dict) -> list:
    return SolveFigures.from_dict(recorded).proven_gaps()

RESTRICTED = {"restricted_pairs": True, "stages": {
    "must_place": {"objective": 850, "model_bound": 850, "gap": 0.0, "relaxation_bound": 850},
    "reserve": {"objective": 251_331, "model_bound": 251_331, "gap": 0.0, "relaxation_bound": 258_928,
                "lagrangian_bound": 252_450},
    "welfare": {"objective": 60_997, "model_bound": 61_543, "gap": 0.008872, "relaxation_bound": 71_519},
}}


def test_a_restricted_model_is_proven_by_whole_problem_bounds_only():
    gaps = {p.stage: p for p in proven_gaps(RESTRICTED)}
    # CP-SAT's bound on the kept pairs is the smallest figure, but it does not hold for the whole problem
    assert gaps["reserve"].bound == 252_450 and gaps["reserve"].proven_by == "Lagrangian bound with seniority"
    assert round(gaps["reserve"].gap, 4) == 0.0044 and gaps["reserve"].kept_pairs_gap == 0.0
    assert gaps["welfare"].bound == 71_519 and gaps["welfare"].kept_pairs_gap == 0.008872
    assert gaps["must_place"].gap == 0.0


def test_an_exact_model_s_own_bound_counts_and_the_tightest_bound_wins():
    solve = {"restricted_pairs": False, "stages": {
        "reserve": {"objective": 4_249, "model_bound": 4_260, "gap": 0.0026, "lp_bound": 4_251},
        "welfare": {"objective": 1_112, "model_bound": 1_112, "gap": 0.0, "lp_bound": 1_112},
    }}
    gaps = {p.stage: p for p in proven_gaps(solve)}
    assert (gaps["reserve"].bound, gaps["reserve"].proven_by) == (4_251, "LP bound with seniority")
    assert (gaps["welfare"].bound, gaps["welfare"].proven_by) == (1_112, "CP-SAT's bound")  # a tie: CP-SAT's proof
    assert gaps["reserve"].kept_pairs_gap is None


def test_a_run_that_does_not_say_its_model_was_exact_never_claims_cp_sat_s_bound():
    solve = {"stages": {"reserve": {"objective": 100, "model_bound": 100, "gap": 0.0},
                        "welfare": {"objective": 50, "model_bound": 52, "gap": 0.04, "relaxation_bound": 60}}}
    assert [(p.stage, p.bound) for p in proven_gaps(solve)] == [("welfare", 60)]
    assert proven_gaps({}) == []


def test_each_stage_in_words():
    lines = [describe_gap(p) for p in proven_gaps(RESTRICTED)]
    assert lines == [
        "must_place 850: proven optimal (flow relaxation without seniority 850)",
        ("reserve 251,331: proven within 0.44% of the best lawful value (Lagrangian bound with seniority 252,450; "
         "the best placement on the pairs the model kept)"),
        ("welfare 60,997: proven within 14.71% of the best lawful value (flow relaxation without seniority 71,519; "
         "within 0.89% of CP-SAT's bound on the pairs the model kept)"),
    ]


def test_the_reserve_cost_floor_is_below_the_solved_round_and_within_the_whole_k_it_rounds(small_district):
    """The small round is proven optimal, so its reserve cost is the least any lawful placement leaves: the floor
    is at most that cost, and at most the hundreds the stage's whole-$k figures leave out below it."""
    inst, _, figures, _, _ = evaluate(small_district, Policy(time_limit=5))
    employees = [t for t in small_district.teachers.values() if t.is_district_employee]
    truncated = sum(t.salary % 1000 for t in employees if t.teacher_id in inst.edges_by_teacher)
    assert 0 < figures["reserve_cost"] - figures["reserve_cost_floor"] <= truncated
    _, _, baseline, _, _ = evaluate(small_district, Policy(time_limit=5), method="teacher_da")
    assert "reserve_cost_floor" not in baseline  # no bound, no floor


def test_a_looser_bound_lowers_the_floor_by_its_salary(small_district):
    inst = Instance(small_district, Policy())
    def floor(bound: int) -> int | None:
        return reserve_cost_floor(inst, SolveFigures.from_dict({"restricted_pairs": True, "stages": {"reserve": {
            "objective": 4_000, "model_bound": 4_000, "gap": 0.0, "relaxation_bound": bound}}}))
    assert floor(4_010) - floor(4_020) == 10_000
    assert reserve_cost_floor(inst, SolveFigures()) is None
