"""The trade-off engine: effects whose direction is known, and a reproducible report."""

from __future__ import annotations

from solver import solve
from solver.policy import Policy, RuleOverride, scenario
from staffing.analysis import measure, pareto_front, run_tradeoffs, write_report
from tests.builders import district, teacher

FAST = Policy(time_limit=5)


def forced_at(d, policy, model: str) -> int:
    rows, _ = measure(d, policy)
    return sum(r["forced"] for r in rows if r["model"] == model)


def test_exempting_a_model_from_forced_placement_never_increases_its_forced_placements(small_district):
    for model in ("traditional", "la_partner", "la_pilot"):
        exempt = FAST.with_(name=f"{model}_exempt",
                            overrides=(RuleOverride({"accepts_must_place": False}, models=(model,)),))
        assert forced_at(small_district, exempt, model) == 0 <= forced_at(small_district, FAST, model)


def test_forced_placements_land_where_the_district_still_may_force():
    d = district({"P": "la_pilot", "I": "boston_innovation"}, [teacher("MP", must_place=True)],
                 {"VP": ("P", "MATH"), "VI": ("I", "MATH")}, prefs={"MP": ["I"]})
    base_rows, base = measure(d, FAST)
    assert {r["model"]: r["forced"] for r in base_rows} == {"la_pilot": 1, "boston_innovation": 0}
    _, protected = measure(d, scenario("pilots_no_forced").with_(time_limit=5))
    assert protected["forced"] == 0 and protected["must_place_placed"] == 0 < base["must_place_placed"]


def test_making_every_school_mutual_consent_usually_costs_must_place_placements(small_district):
    _, base = measure(small_district, FAST)
    _, boston = measure(small_district, scenario("all_mutual_consent").with_(time_limit=5))
    assert boston["must_place_placed"] <= base["must_place_placed"]
    assert boston["forced"] == 0


def test_but_mutual_consent_can_place_more_must_place_teachers_than_seniority():
    """Why the analysis measures instead of assuming: a traditional school's committee ranks only the junior
    must-place teacher; under district rules the senior displaced teacher takes the post by seniority, under
    mutual consent the committee's choice does."""
    d = district({"T": "traditional"}, [teacher("SENIOR", since="2001-01-01"), teacher("MP", since="2020-01-01", must_place=True)],
                 {"V": ("T", "MATH")}, rankings={"V": ["MP"]})
    assert solve(d, FAST).by_teacher["SENIOR"].vacancy_id == "V"
    boston = scenario("all_mutual_consent").with_(time_limit=5)
    assert solve(d, boston).by_teacher["MP"].vacancy_id == "V"


def test_pareto_front_keeps_only_undominated_scenarios():
    points = [("cheap_low", 1.0, 0.2), ("dear_high", 3.0, 0.9), ("dominated", 3.5, 0.5), ("mid", 2.0, 0.6)]
    assert pareto_front(points) == {"cheap_low", "dear_high", "mid"}


def test_report_is_reproducible_and_complete(tmp_path):
    scenarios = ("district_rules", "all_traditional", "all_mutual_consent")
    first = run_tradeoffs("small", seed=11, draws=2, scenarios=scenarios, time_limit=3)
    heard: list[str] = []
    again = run_tradeoffs("small", seed=11, draws=2, scenarios=scenarios, time_limit=3,
                          progress=lambda step, detail: heard.append(f"{step}: {detail}"))
    assert first.totals.equals(again.totals)
    assert heard == [f"solving scenarios: {name} ({i} of 3), draw {draw} of 2"
                     for draw in (1, 2) for i, name in enumerate(scenarios, 1)]
    assert list(first.summary().index) == list(scenarios)
    assert set(first.totals["rule_violations"]) == {0}
    page = write_report(first, tmp_path / "report")
    for name in ("scenario_totals.csv", "by_model.csv", "scenario_summary.csv", "paired_differences.csv",
                 "solver_gaps.csv", "paired_differences.png", "paired_differences.svg", "heat_map.png", "heat_map.svg",
                 "vega_bundle.js", "report_charts.js"):
        assert (tmp_path / "report" / name).stat().st_size > 0, name
    text = page.read_text()
    labels = first.labels()
    assert "heat_map.png" in text and labels["all_mutual_consent"] in text and "2 draws" in text
    assert 'src="vega_bundle.js"' in text and 'src="report_charts.js"' in text  # local scripts: works offline
    assert "http://" not in text and "https://" not in text
