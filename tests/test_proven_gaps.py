"""The one statement a run's figures allow about each stage: how close it is proven to be to the best lawful
value (``staffing.runs.proven_gaps``), as the command line and the HR run page give it."""

from __future__ import annotations

from staffing.runs import describe_gap, proven_gaps

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
