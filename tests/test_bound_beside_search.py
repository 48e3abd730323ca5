"""The reserve stage's Lagrangian bound computed beside the search (solver.cpsat.BoundBesideSearch)."""

from __future__ import annotations

import threading
import time

import pytest

from solver import cpsat, solve
from solver.cpsat import bound_beside_search
from solver.instance import Instance
from solver.policy import Policy
from staffing.seed import generate
from tests.recorded import flat, migrated

#: a small round restricted like a district so that it gets the quick pricing, as the district does with the
#: settled pricing off
QUICK = Policy(time_limit=5).with_settings(full_model_pairs=0, indifferent_pairs=1, pricing_iterations=0,
                                           settled_pricing_iterations=0)


def test_a_quick_priced_round_proves_its_reserve_gap_and_places_as_without_the_bound():
    d = generate("small", 4)
    exact = solve(d, Policy(time_limit=20))
    assert exact.solve.optimal
    optimum = exact.solve.stages["reserve"].objective
    beside = solve(d, QUICK)
    without = solve(d, QUICK.with_settings(bound_beside_search=0))
    assert beside.assignments == without.assignments  # it changes no placement
    figures = beside.solve.bound_beside_search
    assert without.solve.bound_beside_search is None
    assert figures.iterations == QUICK.settings.bound_beside_search
    row, before = beside.solve.stages["reserve"], without.solve.stages["reserve"]
    # the bound holds for the whole problem, and 100 iterations beat the quick pricing's 4 by far
    assert optimum <= figures.bound == row.lagrangian_bound < before.lagrangian_bound
    assert row.lagrangian_iterations == QUICK.settings.bound_beside_search


def test_it_runs_only_where_the_quick_pricing_does_and_a_core_is_idle():
    small, district = generate("small", 4), generate("district", 7)
    district_quick = Policy().with_settings(settled_pricing_iterations=0)
    assert bound_beside_search(Instance(district, district_quick)) == Policy().settings.bound_beside_search == 100
    assert bound_beside_search(Instance(district, Policy())) == 0  # the settled pricing's iterations bound it
    assert bound_beside_search(Instance(small, QUICK)) == 100
    # the gates below on the small round: a district instance takes seconds to build
    assert bound_beside_search(Instance(small, QUICK.with_settings(interleave_batch=0))) == 0  # both cores search
    assert bound_beside_search(Instance(small, QUICK.with_(search="parallel"))) == 0  # no quick pricing
    assert bound_beside_search(Instance(small, Policy())) == 0  # exact model: the LP bounds it
    assert bound_beside_search(Instance(small, QUICK.with_settings(pricing_iterations=150))) == 0  # full pricing


def test_an_error_in_the_search_stops_the_bound_and_leaves_no_thread(monkeypatch):
    real = cpsat.lagrangian.evaluate
    iterations = []  # of the bound beside the search

    def slow(*args: object, **kwargs: object) -> object:
        if threading.current_thread().name.startswith("bound-beside-search"):
            iterations.append(1)
            time.sleep(0.05)
        return real(*args, **kwargs)

    def broken(*args: object, **kwargs: object) -> None:
        time.sleep(0.2)  # the bound's thread is iterating by now
        raise RuntimeError("search failed")

    monkeypatch.setattr(cpsat.lagrangian, "evaluate", slow)
    monkeypatch.setattr(cpsat.search, "_params", broken)
    t = time.perf_counter()
    with pytest.raises(RuntimeError, match="search failed"):
        solve(generate("small", 4), QUICK.with_settings(bound_beside_search=1_000))
    print(f"the failed search and its bound stopped after {time.perf_counter() - t:.1f} s")  # a figure, not a test
    # stopped about 0.2 s in, after its current iteration; left alone it runs over 100 here before its step vanishes
    assert 0 < len(iterations) < 40
    assert not [th for th in threading.enumerate() if th.name.startswith("bound-beside-search")]


def test_a_run_recorded_before_the_bound_beside_the_search_replays_without_it_and_a_bad_count_is_refused():
    recorded = flat(Policy()).replace('"bound_beside_search": 100, ', "")
    assert "bound_beside_search" not in recorded
    assert migrated(recorded).settings.bound_beside_search == 0
    with pytest.raises(ValueError, match="bound_beside_search must be at least 0, got -1"):
        Policy().with_settings(bound_beside_search=-1)


def test_the_command_line_says_what_the_bound_beside_the_search_cost(capsys):
    from staffing.cli import _print_figures

    figures = solve(generate("small", 4), QUICK).solve
    _print_figures({"placed": 1, "solve": figures.to_dict()})
    out = capsys.readouterr().out
    beside = figures.bound_beside_search
    assert f"bound beside the search: 100 Lagrangian iterations in {beside.seconds:g} s" in out
    assert f"reserve bound {beside.bound:,}; the round waited {beside.waited:g} s" in out
