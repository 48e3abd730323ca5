"""Lagrangian pricing of the pairs a restricted model keeps (solver.cpsat.price_pairs)."""

from __future__ import annotations

import pytest

from solver import solve
from solver.checker import check
from solver.cpsat import (
    ARCS_PER_SECOND,
    AUCTION_COST,
    STAGES,
    parallel_stage_share,
    price_pairs,
    pricing_iterations,
    quick_pricing_iterations,
    settled_pricing_iterations,
)
from solver.cpsat.search import _params
from solver.instance import Instance
from solver.lagrangian import EXACT_EVERY, SeatRows, arc_count
from solver.matching import teacher_proposing
from solver.policy import Policy
from solver.settings import PORTFOLIOS
from staffing.seed import generate
from tests.recorded import flat, migrated

POLICY = Policy(time_limit=20)


def reserve(result) -> int:
    return result.solve.stages["reserve"].objective


def test_priced_pairs_let_a_restricted_model_reach_the_exact_optimum():
    """Generated round (small, seed 13), restricted to the pairs teachers asked for, the warm start, the
    relaxations' assignments and one "indifferent" pair per teacher.  Every stage is proven optimal on the
    kept pairs either way, so the difference is the pairs alone: without pricing the reserve stage is 4,451,
    with the pairs of the Lagrangian's last assignments it is the exact model's optimum (4,503)."""
    d = generate("small", 13)
    restricted = POLICY.with_settings(full_model_pairs=0, indifferent_pairs=1)
    exact = solve(d, POLICY)
    assert exact.solve.optimal
    without = solve(d, restricted.with_settings(pricing_iterations=0, quick_pricing_iterations=0,
                                                settled_pricing_iterations=0))
    priced = solve(d, restricted.with_settings(guided_start=False))  # its start's pairs would join too (test_warm_start)
    assert without.solve.pricing is None
    pricing = priced.solve.pricing
    assert pricing.iterations > 0 and pricing.pairs_added > 0
    assert priced.solve.sizes.pairs_in_model == without.solve.sizes.pairs_in_model + pricing.pairs_added
    for result in (without, priced):
        stages = result.solve.stages
        assert all(row.optimal_components == row.components for row in stages.values())
        assert stages["must_place"].objective == exact.solve.stages["must_place"].objective
        assert check(d, result.assignments, restricted) == []
    assert reserve(without) < reserve(priced) == reserve(exact)
    # the pricing iterations bound the reserve stage of the whole problem, and the bound holds
    assert reserve(exact) <= priced.solve.stages["reserve"].lagrangian_bound


def test_pairs_are_priced_only_where_all_the_iterations_fit_the_time_limit_at_nominal_speed():
    """A pure function of the instance and the policy, so a deterministic replay prices the same pairs; and
    all or nothing, as the priced pairs pay only when there is time to search the larger model."""
    inst = Instance(generate("small", 3), POLICY)
    n = POLICY.settings.pricing_iterations
    assert pricing_iterations(inst) == n
    assert pricing_iterations(Instance(inst.district, POLICY.with_settings(pricing_iterations=0))) == 0
    needed = n * arc_count(inst) / (ARCS_PER_SECOND * POLICY.settings.pricing_share)  # seconds of limit they need
    assert pricing_iterations(Instance(inst.district, POLICY.with_(time_limit=needed * 1.01))) == n
    assert pricing_iterations(Instance(inst.district, POLICY.with_(time_limit=needed * 0.99))) == 0


def test_a_150_school_round_is_priced_within_the_default_30_s_and_a_300_school_one_is_not():
    """Where the README's 30 s figures come from: `city` rounds price (and reach the 0.5 %), `mid` ones do not."""
    default = Policy()
    assert default.time_limit == 30
    assert pricing_iterations(Instance(generate("city", 1), default)) == default.settings.pricing_iterations
    assert pricing_iterations(Instance(generate("mid", 1), default)) == 0


def test_a_run_recorded_before_pricing_replays_without_it():
    recorded = flat(Policy()).replace('"pricing_iterations": 150, ', "")
    assert '"pricing_iterations"' not in recorded
    assert migrated(recorded).settings.pricing_iterations == 0
    assert Policy.from_json(Policy().to_json()) == Policy()


def test_a_run_recorded_before_the_quick_pricing_replays_with_the_whole_portfolio_and_without_it():
    recorded = flat(Policy()).replace('"portfolio": "pseudo_costs_lns", ', "").replace(
        '"quick_pricing_iterations": 4, ', "")
    assert '"portfolio":' not in recorded and "quick_pricing" not in recorded
    old = migrated(recorded)
    assert (old.settings.portfolio, old.settings.quick_pricing_iterations) == ("full", 0)
    assert (Policy().settings.portfolio, Policy().settings.quick_pricing_iterations) == ("pseudo_costs_lns", 4)


def test_a_run_recorded_with_the_lean_search_switch_replays_with_the_portfolio_it_chose():
    """Runs of the morning of 2026-11-27 recorded ``lean_search``; it named what is now the ``lean`` portfolio."""
    today = flat(Policy())
    for switch, portfolio in (("true", "lean"), ("false", "full")):
        recorded = today.replace('"portfolio": "pseudo_costs_lns"', f'"lean_search": {switch}')
        assert migrated(recorded).settings.portfolio == portfolio


def test_a_run_recorded_before_shorter_lns_tasks_replays_with_cp_sat_s_and_a_bad_length_is_refused():
    recorded = flat(Policy()).replace('"lns_task_seconds": 0.01, ', "").replace('"interleave_batch": 1, ', "")
    assert "lns_task_seconds" not in recorded and "interleave_batch" not in recorded
    old = migrated(recorded)
    assert (old.settings.lns_task_seconds, old.settings.interleave_batch) == (0.1, 0)  # CP-SAT's, as solved then
    solver = _params(Instance(generate("small", 3), Policy()), 1.0)
    assert solver.parameters.lns_initial_deterministic_limit == Policy().settings.lns_task_seconds
    with pytest.raises(ValueError, match="lns_task_seconds must be a positive, finite number of seconds, got 0"):
        Policy().with_settings(lns_task_seconds=0)


def test_a_parallel_round_runs_the_deterministic_rounds_portfolio_and_task_length_unless_recorded_before():
    small = generate("small", 3)
    on = _params(Instance(small, Policy(search="parallel")), 1.0).parameters
    assert list(on.ignore_subsolvers) == list(PORTFOLIOS[Policy().settings.portfolio])
    assert on.lns_initial_deterministic_limit == Policy().settings.lns_task_seconds
    assert not on.interleave_search and on.num_workers == 2  # both cores at once, against the wall clock
    cp_sat_s = Policy(search="parallel").with_settings(parallel={"portfolio": False})
    off = _params(Instance(small, cp_sat_s), 1.0).parameters
    assert list(off.ignore_subsolvers) == [] and off.lns_initial_deterministic_limit == 0.1  # CP-SAT's own


def test_a_parallel_round_presolves_once_a_deterministic_one_and_one_recorded_before_as_cp_sat_does():
    small = generate("small", 3)
    assert _params(Instance(small, Policy(search="parallel")), 1.0).parameters.max_presolve_iterations == 1
    assert _params(Instance(small, Policy()), 1.0).parameters.max_presolve_iterations == 3  # CP-SAT's own
    recorded = flat(Policy(search="parallel")).replace('"parallel_presolve_iterations": 1, ', "")
    assert "parallel_presolve_iterations" not in recorded
    old = Instance(small, migrated(recorded))
    assert _params(old, 1.0).parameters.max_presolve_iterations == 3
    with pytest.raises(ValueError, match="parallel.presolve_iterations must be at least 1, got 0"):
        Policy().with_settings(parallel={"presolve_iterations": 0})


def test_an_unknown_portfolio_is_refused_with_the_names_to_choose_from():
    with pytest.raises(ValueError, match="portfolio must be one of full, lean, pseudo_costs_lns, got 'fast'"):
        Policy().with_settings(portfolio="fast")


def test_300_school_rounds_and_the_district_get_the_settled_pricing_within_30_s():
    """Where the README's 30 s figures come from: the settled pricing, or with it off the quick pricing; and in
    parallel rounds, the settled pricing from 30 s on 300 schools and from about 26 s on the district."""
    default = Policy()
    for d in (generate("mid", 1), generate("district", 7)):
        inst = Instance(d, default)
        assert (pricing_iterations(inst), settled_pricing_iterations(inst), quick_pricing_iterations(inst)) == (
            0, default.settings.settled_pricing_iterations, 0)
        quick = Instance(d, default.with_settings(settled_pricing_iterations=0))
        assert (settled_pricing_iterations(quick), quick_pricing_iterations(quick)) == (
            0, default.settings.quick_pricing_iterations)
    parallel = default.with_(search="parallel")
    mid = Instance(generate("mid", 1), parallel)
    assert settled_pricing_iterations(mid) == default.settings.settled_pricing_iterations
    district = generate("district", 7)
    assert settled_pricing_iterations(Instance(district, parallel)) == 100
    assert settled_pricing_iterations(Instance(district, parallel.with_(time_limit=25))) == 0
    assert settled_pricing_iterations(Instance(district, parallel.with_(time_limit=26))) == 100


def test_the_quick_pricing_puts_the_pairs_of_its_last_assignment_in_the_model():
    """The round of the first test, restricted the same way but without the full pricing: the pairs of the 4th
    Lagrangian assignment join the model, and the reserve stage reaches the exact optimum (4,503 against 4,451)."""
    d = generate("small", 13)
    exact = solve(d, POLICY)
    policy = POLICY.with_settings(full_model_pairs=0, indifferent_pairs=1, pricing_iterations=0,
                                  settled_pricing_iterations=0)
    without = solve(d, policy.with_settings(quick_pricing_iterations=0))
    quick = solve(d, policy)
    pricing = quick.solve.pricing
    assert pricing.iterations == policy.settings.quick_pricing_iterations and pricing.pairs_added > 0
    assert reserve(without) < reserve(quick) == reserve(exact)
    assert check(d, quick.assignments, policy) == []


def test_the_quick_pricing_runs_where_the_full_pricing_does_not_fit_and_its_own_iterations_do():
    inst = Instance(generate("small", 3), POLICY)
    s = POLICY.settings
    per_iteration = arc_count(inst) / (ARCS_PER_SECOND * s.pricing_share)  # seconds of limit per iteration
    full, quick = s.pricing_iterations * per_iteration, s.quick_pricing_iterations * per_iteration

    def chosen(limit: float, search: str = "deterministic", **knobs: object) -> tuple[int, int, int]:
        at = Instance(inst.district, POLICY.with_(time_limit=limit, search=search).with_settings(**knobs))
        return pricing_iterations(at), settled_pricing_iterations(at), quick_pricing_iterations(at)

    quick_only = {"settled_pricing_iterations": 0}
    assert chosen(full * 1.01) == (POLICY.settings.pricing_iterations, 0, 0)
    # the settled pricing runs where the quick one would, and in its place
    assert chosen(full * 0.99) == chosen(quick * 1.01) == (0, POLICY.settings.settled_pricing_iterations, 0)
    assert chosen(full * 0.99, **quick_only) == chosen(quick * 1.01, **quick_only) == (
        0, 0, POLICY.settings.quick_pricing_iterations)
    assert chosen(quick * 0.99) == chosen(quick * 0.99, **quick_only) == (0, 0, 0)
    assert chosen(full * 0.99, quick_pricing_iterations=0, **quick_only) == (0, 0, 0)
    # a parallel round runs no quick pricing (its wall clock buys too little search), but the settled pricing where
    # its iterations by auction fit its share of the limit
    parallel = (POLICY.settings.settled_pricing_iterations * AUCTION_COST * arc_count(inst) / ARCS_PER_SECOND
                / POLICY.settings.parallel.pricing_share)
    assert chosen(parallel * 1.01, "parallel") == (0, POLICY.settings.settled_pricing_iterations, 0)
    assert chosen(parallel * 0.99, "parallel") == (0, 0, 0)
    assert chosen(parallel * 1.01, "parallel", auction_eps=0) == (0, 0, 0)  # flows cost five times more
    assert chosen(parallel * 1.01, search="parallel", parallel={"pricing_share": 0.0}) == (0, 0, 0)
    assert chosen(full * 1.01, "parallel") == (POLICY.settings.pricing_iterations, 0, 0)


def test_the_command_line_says_how_many_pairs_were_priced(capsys):
    from staffing.cli import _print_figures

    d = generate("small", 3)
    figures = solve(d, POLICY.with_settings(full_model_pairs=0, indifferent_pairs=1)).solve
    _print_figures({"placed": 1, "solve": figures.to_dict()})
    out = capsys.readouterr().out
    assert f"pricing: {figures.pricing.pairs_added:,} pairs added by 150 Lagrangian iterations" in out
    assert "reserve    objective" in out and "Lagrangian bound with seniority" in out


def test_a_quick_priced_round_is_deterministic():
    """The iterations are counted, not timed, and the search's budget is fixed by the snapshot and the policy:
    the same pairs, placements and work twice."""
    d = generate("small", 3)
    policy = POLICY.with_settings(full_model_pairs=0, indifferent_pairs=1, pricing_iterations=0,
                                  settled_pricing_iterations=0)
    first, second = solve(d, policy), solve(d, policy)
    assert first.solve.pricing.iterations == policy.settings.quick_pricing_iterations
    assert first.assignments == second.assignments
    assert first.solve.pricing.pairs_added == second.solve.pricing.pairs_added
    for stage, row in first.solve.stages.items():
        assert row.deterministic_seconds == second.solve.stages[stage].deterministic_seconds


def test_the_settled_pricing_prices_pairs_and_bounds_the_reserve_stage(capsys):
    """The round of the first test, restricted the same way, with the settled pricing (the default where the
    full pricing does not fit): charged to the search's budget as the quick pricing is, the pairs of their last
    assignment join the model, their bound proves the reserve stage, and the round is deterministic."""
    d = generate("small", 13)
    exact = solve(d, POLICY)
    policy = POLICY.with_settings(full_model_pairs=0, indifferent_pairs=1, pricing_iterations=0)
    settled, again = solve(d, policy), solve(d, policy)
    quick = solve(d, policy.with_settings(settled_pricing_iterations=0))
    pricing = settled.solve.pricing
    assert pricing.kind == "settled" and pricing.pairs_added > 0
    # charged as the quick pricing's iterations are, so the search gets the same budget either way
    charged = (pricing.charged_iterations, quick.solve.pricing.charged_iterations)
    assert charged == (policy.settings.quick_pricing_iterations, policy.settings.quick_pricing_iterations)
    assert settled.solve.bound_beside_search is None  # its iterations bound the stage already
    row = settled.solve.stages["reserve"]
    assert reserve(settled) == reserve(exact) <= row.lagrangian_bound
    # by exact flows every iteration, at least as tight as the quick pricing's 4 iterations and the bound beside;
    # by auctions (the default), only every tenth iteration is an exact flow, and the bound is about as tight
    flows = solve(d, policy.with_settings(auction_eps=0)).solve.stages["reserve"].lagrangian_bound
    assert reserve(exact) <= flows <= quick.solve.stages["reserve"].lagrangian_bound
    assert row.lagrangian_bound == pytest.approx(flows, rel=0.001)
    assert check(d, settled.assignments, policy) == []
    assert settled.assignments == again.assignments
    from staffing.cli import _print_figures

    _print_figures({"placed": 1, "solve": settled.solve.to_dict()})
    assert "4 of them charged to the search's budget" in capsys.readouterr().out
    assert pricing.iterations <= policy.settings.settled_pricing_iterations  # it stops early once it meets its target


def test_a_parallel_round_prices_pairs_inside_its_limit_and_proves_its_reserve_gap():
    """The settled pricing in a wall-clock round: its iterations count against the limit (none is "charged" to a
    deterministic budget there), the pairs of its last assignment join the model, and its bound is the round's
    proven reserve bound, which plain parallel rounds lacked."""
    d = generate("small", 3)
    exact = solve(d, POLICY)
    policy = POLICY.with_(search="parallel", time_limit=10).with_settings(full_model_pairs=0, indifferent_pairs=1,
                                                                          pricing_iterations=0)
    priced, plain = solve(d, policy), solve(d, policy.with_settings(parallel={"pricing_share": 0.0}))
    pricing = priced.solve.pricing
    assert pricing.kind == "settled" and pricing.pairs_added > 0
    assert pricing.charged_iterations == pricing.iterations
    assert reserve(priced) == reserve(exact) <= priced.solve.stages["reserve"].lagrangian_bound
    assert check(d, priced.assignments, policy) == []
    assert plain.solve.pricing is None and plain.solve.stages["reserve"].lagrangian_bound is None


def test_a_pricing_out_of_time_stops_after_its_first_iteration_with_a_valid_bound_and_pairs():
    """What a parallel round's pricing does when its share of the wall clock is gone (``PARALLEL_PRICING_CAP``):
    one iteration, not the 100 it was given, whose bound still holds and whose assignment still prices pairs."""
    d = generate("small", 3)
    inst = Instance(d, POLICY.with_settings(full_model_pairs=0))
    start = teacher_proposing(inst)
    priced = price_pairs(inst, start, 100, SeatRows(inst), 1, time_limit=0.0)
    assert priced.iterations == 1 and priced.pairs and priced.assignment
    assert reserve(solve(d, POLICY)) <= priced.bound


def test_a_parallel_run_recorded_before_parallel_rounds_priced_pairs_replays_without_and_with_cp_sat_s_portfolio():
    recorded = (flat(Policy()).replace('"parallel_pricing_share": 0.65, ', "")
                .replace('"portfolio_in_parallel": true, ', ""))
    old = migrated(recorded)
    assert (old.settings.parallel.pricing_share, old.settings.parallel.portfolio) == (0.0, False)
    assert Policy.from_json(Policy().to_json()).settings.parallel.pricing_share == 0.65
    with pytest.raises(ValueError, match="parallel.pricing_share must be between 0 and 1, got 2"):
        Policy().with_settings(parallel={"pricing_share": 2})


def test_a_parallel_run_recorded_before_auction_duals_bounded_its_pricing_replays_with_flows_and_equal_shares():
    recorded = (flat(Policy()).replace('"parallel_exact_every": 0, ', "")
                .replace('"parallel_reserve_share": 0.67, ', ""))
    old = migrated(recorded)
    assert (old.settings.parallel.exact_every, old.settings.parallel.reserve_share) == (10, 0.5)
    assert old.with_(search="parallel").engine.exact_every == 10
    assert Policy(search="parallel").engine.exact_every == 0
    assert Policy().engine.exact_every == EXACT_EVERY  # deterministic rounds keep their flows, so their replays hold
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="parallel.reserve_share must be between 0 and 1"):
            Policy().with_settings(parallel={"reserve_share": bad})
    with pytest.raises(ValueError, match="parallel.exact_every must be at least 0, got -1"):
        Policy().with_settings(parallel={"exact_every": -1})


def test_a_parallel_round_gives_its_reserve_stage_the_larger_share_when_welfare_follows():
    policy = Policy(search="parallel")
    assert [parallel_stage_share(policy.engine, STAGES, k) for k in range(3)] == [1 / 3, 0.67, 1.0]
    assert parallel_stage_share(policy.with_settings(parallel={"reserve_share": 0.5}).engine, STAGES, 1) == 0.5
    assert parallel_stage_share(policy.engine, ("weighted",), 0) == 1.0
    assert parallel_stage_share(policy.engine, ("must_place", "reserve"), 1) == 1.0  # nothing follows: all of it


def test_a_parallel_pricing_bounded_by_auction_duals_still_bounds_the_round():
    """With one exact flow, the last, the pricing's bound comes from the auctions' prices: never below what the
    rules allow, and the last assignment still prices pairs."""
    d = generate("small", 3)
    inst = Instance(d, POLICY.with_(search="parallel").with_settings(full_model_pairs=0))
    start = teacher_proposing(inst)
    priced = price_pairs(inst, start, 30, SeatRows(inst), 1)
    assert priced.iterations == 30 and priced.pairs and priced.assignment
    assert reserve(solve(d, POLICY)) <= priced.bound


def test_a_run_recorded_before_the_settled_pricing_replays_with_the_quick_pricing():
    recorded = flat(Policy()).replace('"settled_pricing_iterations": 100, ', "")
    assert migrated(recorded).settings.settled_pricing_iterations == 0
    assert Policy.from_json(Policy().to_json()).settings.settled_pricing_iterations == 100
    with pytest.raises(ValueError, match="settled_pricing_iterations must be at least 0, got -1"):
        Policy().with_settings(settled_pricing_iterations=-1)
