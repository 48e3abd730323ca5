"""The trade-off engine: effects whose direction is known, measures checked on hand-made rounds, the paired
intervals, the sweep on a Dask cluster, and a report that works offline."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from solver import solve
from solver.instance import Instance
from solver.policy import Policy, RuleOverride, scenario
from solver.result import Assignment
from staffing.analysis import TradeoffReport, measure, pareto_front, run_tradeoffs, t975, write_report
from staffing.measures import CITY_ECONOMICS, Levers, measure_round, paid_months
from staffing.scenarios import scenario_set
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
    assert {r["model"]: r["without_consent"] for r in base_rows} == {"la_pilot": 1, "boston_innovation": 0}
    _, protected = measure(d, scenario("pilots_no_forced").with_(time_limit=5))
    assert protected["forced"] == 0 and protected["must_place_placed"] == 0 < base["must_place_placed"]


def test_but_mutual_consent_can_place_more_must_place_teachers_than_seniority():
    """Why the analysis measures instead of assuming: a traditional school's committee ranks only the junior
    must-place teacher; under district rules the senior displaced teacher takes the post by seniority, under
    mutual consent the committee's choice does."""
    d = district({"T": "traditional"}, [teacher("SENIOR", since="2001-01-01"), teacher("MP", since="2020-01-01", must_place=True)],
                 {"V": ("T", "MATH")}, rankings={"V": ["MP"]})
    assert solve(d, FAST).by_teacher["SENIOR"].vacancy_id == "V"
    boston = scenario("all_mutual_consent").with_(time_limit=5)
    assert solve(d, boston).by_teacher["MP"].vacancy_id == "V"


def test_calibrated_pool_mutual_consent_places_fewer_must_place_teachers_than_the_district_rules():
    """The trade-off the analysis exists for, over draws with its 95 % interval: committees that rank by a
    noisy view of rating pass over the pool's low-rated must-place teachers once nobody forces them."""
    report = run_tradeoffs("small", seed=7, draws=6, scenarios=("district_rules", "all_mutual_consent"),
                           time_limit=1)
    row = report.paired(["must_place_placed"]).iloc[0]
    assert row["n"] == 6 and row["difference"] < 0 and row["high"] < 0 and not row["crosses_zero"]
    assert set(report.totals["rule_violations"]) == {0}


def test_an_unranked_assignment_counts_as_without_consent_and_a_ranked_one_does_not():
    d = district({"T": "traditional"}, [teacher("MP", must_place=True), teacher("PICK", status="new_hire")],
                 {"V1": ("T", "MATH"), "V2": ("T", "MATH")}, rankings={"V1": ["PICK"], "V2": ["PICK"]})
    inst = Instance(d, FAST)
    placements = [Assignment("MP", "V1", "T", "assigned", "district assignment"),
                  Assignment("PICK", "V2", "T", "assigned", "committee's choice")]
    rows, totals = measure_round(d, inst, placements, [])
    assert totals["without_consent"] == 1 and totals["forced"] == 0 and rows[0]["without_consent"] == 1
    forced = [Assignment("MP", "V1", "T", "forced", "must place"), placements[1]]
    assert measure_round(d, inst, forced, [])[1]["without_consent"] == 1
    # and the solver's own round: the must-place teacher the committee never listed is placed anyway
    _, solved = measure(d, FAST)
    assert solved["must_place_placed"] == 1 and solved["without_consent"] == 1


def test_certification_mismatches_are_not_seniority_overrides_but_passing_over_seniority_is():
    senior_elem = teacher("SENIOR", certs="ELEM", since="2000-01-01")
    junior = teacher("JUNIOR", since="2020-01-01")
    wrong_subject = district({"T": "traditional"}, [senior_elem, junior], {"V": ("T", "MATH")},
                             prefs={"SENIOR": ["T"], "JUNIOR": ["T"]})
    _, totals = measure(wrong_subject, FAST)
    assert totals["placed"] == 1 and totals["seniority_overrides"] == 0
    senior_math = teacher("SENIOR", since="2000-01-01")
    passed_over = district({"P": "boston_pilot"}, [senior_math, junior], {"V": ("P", "MATH")},
                           prefs={"SENIOR": ["P"], "JUNIOR": ["P"]}, rankings={"V": ["JUNIOR"]})
    _, totals = measure(passed_over, FAST)
    assert totals["seniority_overrides"] == 1


def test_return_rights_are_counted_over_the_same_holders_in_every_scenario():
    holder = teacher("RR", return_to="P")
    d = district({"P": "boston_pilot", "T": "traditional"}, [holder, teacher("X")],
                 {"VP": ("P", "MATH"), "VT": ("T", "MATH")}, prefs={"RR": ["P", "T"]}, rankings={"VP": ["X"]})
    _, pilot = measure(d, FAST)  # a pilot school does not honour return rights
    _, traditional = measure(d, scenario("all_traditional").with_(time_limit=5))
    assert pilot["return_rights_total"] == traditional["return_rights_total"] == 1
    assert pilot["return_rights_honoured"] == 0 < traditional["return_rights_honoured"]


def test_reserve_pay_follows_each_citys_time_limit_and_who_is_paid_at_all():
    displaced, new_hire = teacher("D"), teacher("N", status="new_hire")
    transfer = teacher("VT", status="voluntary_transfer")
    assert paid_months(displaced, CITY_ECONOMICS["denver"], Levers(), 24) == 12
    assert paid_months(displaced, CITY_ECONOMICS["boston"], Levers(), 24) == 24
    assert paid_months(displaced, CITY_ECONOMICS["boston"], Levers(pool_time_limit=10), 24) == 10
    assert paid_months(new_hire, CITY_ECONOMICS["los_angeles"], Levers(), 24) == 24
    assert paid_months(new_hire, CITY_ECONOMICS["boston"], Levers(), 24) == 0
    assert paid_months(transfer, CITY_ECONOMICS["los_angeles"], Levers(), 24) == 0
    d = district({"T": "traditional"}, [displaced, new_hire], {"V": ("T", "ART")})
    inst = Instance(d, FAST)
    unplaced = [Assignment("D", None, None, "unplaced", ""), Assignment("N", None, None, "unplaced", "")]
    _, la = measure_round(d, inst, unplaced, [], city="los_angeles")
    _, denver = measure_round(d, inst, unplaced, [], city="denver")
    assert la["reserve_cost"] == 2 * 60_000 * 24 / 12 and denver["reserve_cost"] == 60_000 == denver["central_cost"]


def test_a_reserve_subsidy_moves_half_a_reserve_hires_salary_from_the_school_to_the_centre():
    d = district({"T": "traditional"}, [teacher("D", salary=80_000)], {"V": ("T", "MATH")})
    inst = Instance(d, FAST)
    hire = [Assignment("D", "V", "T", "assigned", "")]
    _, plain = measure_round(d, inst, hire, [])
    _, subsidised = measure_round(d, inst, hire, [], levers=Levers(reserve_subsidy=0.5))
    assert plain["school_cost"] == 80_000 and subsidised["school_cost"] == 40_000 == subsidised["central_cost"]


def test_paired_intervals_are_students_t_on_the_differences():
    totals = pd.DataFrame([{"draw": d, "scenario": s, "must_place_placed": v}
                           for d, (a, b, c) in enumerate([(10, 11, 12), (10, 12, 12), (10, 13, 12)])
                           for s, v in zip(("district_rules", "spread", "steady"), (a, b, c))])
    paired = TradeoffReport(pd.DataFrame(), totals).paired(["must_place_placed"]).set_index("scenario")
    half = t975(2) * 1.0 / math.sqrt(3)
    assert paired.loc["spread", "difference"] == 2 and paired.loc["spread", "low"] == pytest.approx(2 - half)
    assert paired.loc["spread", "crosses_zero"] and not paired.loc["steady", "crosses_zero"]
    assert paired.loc["steady", "low"] == paired.loc["steady", "high"] == 2


def test_every_city_has_its_own_scenario_set_with_the_levers():
    for city in ("boston", "los_angeles", "memphis", "denver", "springfield"):
        names = [s.name for s in scenario_set(city)]
        assert names[0] == "district_rules" and "all_mutual_consent" in names and "forced_at_deadline" in names
        assert "reserve_subsidy_50" in names and ("pool_limit_10m" in names) != ("no_pool_limit" in names)
    assert "only_boston_pilot" in [s.name for s in scenario_set("boston")]
    with pytest.raises(ValueError, match="unknown city"):
        scenario_set("paris")


def test_pareto_front_keeps_only_undominated_scenarios():
    points = [("cheap_low", 1.0, 0.2), ("dear_high", 3.0, 0.9), ("dominated", 3.5, 0.5), ("mid", 2.0, 0.6)]
    assert pareto_front(points) == {"cheap_low", "dear_high", "mid"}


SWEEP = dict(size="small", seed=11, draws=2, scenarios=("district_rules", "all_mutual_consent", "forced_at_deadline",
                                                        "reserve_subsidy_50"), time_limit=0.5, city="boston")


def test_the_sweep_gives_the_same_numbers_serially_on_a_process_pool_and_on_a_dask_cluster():
    from dask.distributed import LocalCluster

    serial = run_tradeoffs(**SWEEP)
    pooled = run_tradeoffs(**SWEEP, processes=2)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = run_tradeoffs(**SWEEP, cluster=cluster)
    pd.testing.assert_frame_equal(serial.totals, pooled.totals)
    pd.testing.assert_frame_equal(serial.totals, on_dask.totals)
    pd.testing.assert_frame_equal(serial.by_model, on_dask.by_model)
    assert len(serial.totals) == 8 and set(serial.totals["rule_violations"]) == {0}


def test_the_report_reads_in_sentences_and_needs_no_network(tmp_path):
    heard: list[str] = []
    report = run_tradeoffs(**{**SWEEP, "draws": 3}, progress=lambda step, detail: heard.append(detail))
    assert heard[-1].startswith("9 of 9 solves")
    page = write_report(report, tmp_path / "report")
    folder = tmp_path / "report"
    for name in ("scenario_totals.csv", "by_model.csv", "paired_differences.csv", "solver_gaps.csv",
                 "heat_map.png", "heat_map.svg", "paired_differences.png", "paired_differences.svg",
                 "vega_bundle.js", "report_charts.js", "report_body.html"):
        assert (folder / name).stat().st_size > 0, name
    text = page.read_text()
    assert re.search(r"https?://", text) is None and re.search(r'(src|href)="//', text) is None
    assert re.findall(r'<script src="([^"]+)"', text) == ["vega_bundle.js", "report_charts.js"]
    assert "Findings" in text and "Boston today" in text and "synthetic" in text and "95% interval" in text
    assert 'class="vl-spec"' in text and "Mutual consent everywhere" in text


def test_draws_of_a_live_pool_are_seeded_subsamples_with_committee_lists_renumbered(small_district):
    from staffing.analysis import subsample

    a, b = subsample(small_district, 3), subsample(small_district, 3)
    assert a.snapshot_hash() == b.snapshot_hash() != subsample(small_district, 4).snapshot_hash()
    assert len(a.teachers) == round(0.9 * len(small_district.teachers))
    assert len(a.vacancies) == round(0.9 * len(small_district.vacancies))
    ranks: dict[str, list[int]] = {}
    for r in a.rankings:
        assert r.teacher_id in a.teachers and r.vacancy_id in a.vacancies
        ranks.setdefault(r.vacancy_id, []).append(r.rank)
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in ranks.values())
