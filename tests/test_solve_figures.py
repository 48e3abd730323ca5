"""The typed solve figures (``solver.solve_figures``): built by every producer, read by attribute, stored as JSON
and read back -- also the JSON of runs recorded before the figures were typed, whose pages must still render."""

from __future__ import annotations

import json

import pytest

from solver import solve
from solver.policy import Policy
from solver.solve_figures import FIGURES, SolveFigures, StageFigures, WarmStarts, describe, describe_gap
from staffing.db import session_scope
from staffing.db_models import PlacementRun
from staffing.seed import generate
from tests.test_web import db_url, template  # noqa: F401 - the web tests' database fixtures
from tests.web_support import client_for

#: ``figures_json["solve"]`` of a run recorded before the figures were typed (the small generated district, seed
#: 3, a restricted model): sizes beside the other figures, warm starts flat, keys absent where not computed, no
#: ``method``; plus a key no version wrote, which must be ignored.
RECORDED_BEFORE = {
    "solver": "cp-sat", "time_limit": 3, "restricted_pairs": True, "wall_time": 3.614, "components": 7,
    "pairs": 321, "pairs_in_model": 283, "groups": 80, "variables": 690, "constraints": 670,
    "largest_component_pairs": 211,
    "stages": {
        "must_place": {"objective": 20, "model_bound": 20, "gap": 0.0, "optimal_components": 7, "components": 7,
                       "seconds": 0.0, "deterministic_seconds": 0.0, "cut_by_wall_clock": 0,
                       "relaxation_bound": 20, "relaxation_gap": 0.0, "lp_bound": 20, "lp_gap": 0.0},
        "reserve": {"objective": 3997, "model_bound": 3997, "gap": 0.0, "optimal_components": 7, "components": 7,
                    "seconds": 0.01, "deterministic_seconds": 0.001, "cut_by_wall_clock": 0,
                    "relaxation_bound": 4257, "relaxation_gap": 0.061076, "lp_bound": 3997, "lp_gap": 0.0,
                    "lagrangian_bound": 3997, "lagrangian_gap": 0.0, "lagrangian_iterations": 150,
                    "lagrangian_seconds": 3.21},
        "welfare": {"objective": 1042, "model_bound": 1042, "gap": 0.0, "optimal_components": 7, "components": 7,
                    "seconds": 0.11, "deterministic_seconds": 0.102, "cut_by_wall_clock": 0,
                    "relaxation_bound": 1182, "relaxation_gap": 0.118443, "lp_bound": 1042, "lp_gap": 0.0}},
    "settled_by_relaxation": ["must_place"],
    "warm_starts": {"deferred_acceptance": [19, 3364, 961], "guided": [20, 3997, 961], "used": "guided"},
    "pricing": {"kind": "full", "iterations": 150, "seconds": 3.21, "pairs_added": 10, "charged_iterations": 150},
    "bound_beside_search": None, "optimal": False, "reproducible": True, "build_time": 0.002, "total_time": 3.614,
    "a_figure_no_version_wrote": 1,
}


def test_a_run_recorded_before_is_read_with_every_figure_and_none_where_it_had_none():
    solve = SolveFigures.from_dict(json.loads(json.dumps(RECORDED_BEFORE)))
    assert (solve.solver, solve.method, solve.restricted_pairs, solve.optimal) == ("cp-sat", None, True, False)
    assert (solve.sizes.pairs, solve.sizes.pairs_in_model, solve.sizes.explicit_pairs) == (321, 283, None)
    reserve = solve.stages["reserve"]
    assert (reserve.objective, reserve.relaxation_bound, reserve.lagrangian_iterations) == (3997, 4257, 150)
    assert solve.stages["welfare"].lagrangian_bound is None
    assert solve.warm_starts == WarmStarts("guided", {"deferred_acceptance": [19, 3364, 961],
                                                      "guided": [20, 3997, 961]})
    assert solve.pricing is not None and solve.pricing.pairs_added == 10 and solve.bound_beside_search is None
    # what it says is what it said: the reserve stage proven by the LP bound, the first named on a tie
    assert [describe_gap(p) for p in solve.proven_gaps()][1] == (
        "reserve 3,997: proven optimal (LP bound with seniority 3,997)")
    # and it reads back the same once written in today's shape
    assert SolveFigures.from_dict(json.loads(json.dumps(solve.to_dict()))) == solve


def test_anything_but_figures_reads_as_none_rather_than_failing():
    for junk in (None, {}, [], "x", {"stages": "x", "sizes": 3, "warm_starts": [1], "pricing": 2}):
        solve = SolveFigures.from_dict(junk)
        assert solve.stages == {} and solve.pricing is None and solve.warm_starts is None
        assert describe(solve) == [] and solve.proven_gaps() == []


def test_a_cp_sat_round_and_a_baseline_round_trip_through_json():
    d = generate("small", 3)
    policy = Policy(time_limit=3).with_settings(full_model_pairs=0, indifferent_pairs=1)
    result = solve(d, policy)
    figures = result.solve
    assert set(figures.stages) == {"must_place", "reserve", "welfare"} and figures.method == "cpsat"
    assert figures.pricing is not None and figures.warm_starts is not None and figures.sizes.pairs_in_model
    assert SolveFigures.from_dict(json.loads(json.dumps(figures.to_dict()))) == figures
    # a restricted model: CP-SAT's bound is not a whole-problem proof, so another bound proves each stage
    assert figures.restricted_pairs and all(p.proven_by != FIGURES["model_bound"].label
                                            for p in figures.proven_gaps())
    baseline = solve(d, policy, method="teacher_da").solve
    assert (baseline.solver, baseline.stages, baseline.optimal) == ("teacher_da", {}, None)
    assert baseline.total_time is not None and describe(baseline) == []


def test_a_sparse_round_s_figures_fit_objective_and_relaxation_bound_only():
    """The shape of a state-size round on the sparse instance: per stage an objective and a relaxation bound,
    sparse sizes, three deferred-acceptance candidates."""
    solve = SolveFigures(solver="sparse", stages={
        "must_place": StageFigures(objective=900, relaxation_bound=900, relaxation_gap=0.0),
        "reserve": StageFigures(objective=40_000, relaxation_bound=41_000, relaxation_gap=0.02439)})
    solve.sizes.explicit_pairs, solve.sizes.classes, solve.sizes.dense_pairs = 250_000, 1_200, 37_300_000
    solve.warm_starts = WarmStarts.from_dict({"deferred_acceptance": [890, 39_000, 5], "guided_reserve":
                                              [900, 40_000, 4], "guided_welfare": [899, 39_990, 6],
                                              "used": "guided_reserve"})
    lines = describe(solve)
    assert lines[0] == ("solver sparse: on the sparse instance (250,000 listed pairs, 1,200 classes of interchangeable "
                        "teachers, 37,300,000 pairs the dense instance would list)")
    assert lines[1].startswith("warm start: guided reserve (must-place/reserve/welfare: deferred acceptance "
                               "890/39,000/5, guided reserve 900/40,000/4")
    assert lines[3] == ("reserve    objective 40,000, flow relaxation without seniority 41,000 (gap 2.44%)")
    assert [p.bound for p in solve.proven_gaps()] == [900, 41_000]
    assert SolveFigures.from_dict(json.loads(json.dumps(solve.to_dict()))) == solve
    # as the first recorded sparse rounds wrote them: the warm starts under "candidates"
    first = solve.to_dict()
    del first["warm_starts"]
    first["candidates"] = {**solve.warm_starts.candidates, "used": "guided_reserve"}
    assert SolveFigures.from_dict(first) == solve


def test_one_table_names_and_writes_every_figure():
    assert FIGURES["gap"].format(0.004412) == "0.44%"
    assert FIGURES["objective"].format(251331) == "251,331"
    assert FIGURES["wall_time"].format(3.5) == "3.5 s"
    assert FIGURES["optimal"].format(False) == "no"
    assert FIGURES["lp_bound"].format(None) == "not computed"


# --- an old run's page ------------------------------------------------------------------------------------------


def test_a_run_recorded_before_the_figures_were_typed_still_renders(template, tmp_path, db_url):
    hr = client_for(template, tmp_path, "hr", None if db_url.startswith("sqlite") else db_url)
    hr.post("/hr/runs", data={"scenario": "district_rules", "time_limit": "3", "method": "cpsat"})
    with session_scope(db_url) as s:  # as a run recorded by the version before wrote it
        run = s.get(PlacementRun, 1)
        figures = json.loads(run.figures_json)
        figures["solve"] = RECORDED_BEFORE
        run.figures_json = json.dumps(figures)
        s.add(run)
    page = hr.get("/hr/runs/1")
    assert page.status_code == 200
    assert "solver cp-sat: wall time 3.614 s, 283 of 321 allowed pairs in the model, not proven optimal" in page.text
    assert ("reserve    objective 3,997, CP-SAT&#39;s bound 3,997 (gap 0.00%), flow relaxation without seniority "
            "4,257 (gap 6.11%), LP bound with seniority 3,997 (gap 0.00%), Lagrangian bound with seniority 3,997 "
            "(gap 0.00%, 150 iterations in 3.21 s)") in page.text
    assert "<li>welfare 1,042: proven optimal (LP bound with seniority 1,042)</li>" in page.text
    # the API gives the recorded figures in today's shape
    solve = hr.get("/api/runs/1").json()["figures"]["solve"]
    assert solve["sizes"]["pairs_in_model"] == 283 and solve["warm_starts"]["used"] == "guided"
    assert "a_figure_no_version_wrote" not in solve
