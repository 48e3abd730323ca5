"""Lagrangian pricing of the pairs a restricted model keeps (solver.cpsat.price_pairs)."""

from __future__ import annotations

from solver import solve
from solver.checker import check
from solver.cpsat import ARCS_PER_SECOND, polish_iterations, pricing_iterations, quick_pricing_iterations
from solver.instance import Instance
from solver.lagrangian import arc_count
from solver.policy import Policy
from staffing.seed import generate

POLICY = Policy(time_limit=20)


def reserve(result) -> int:
    return result.stats["stages"]["reserve"]["objective"]


def test_priced_pairs_let_a_restricted_model_reach_the_exact_optimum():
    """Generated round (small, seed 3), restricted to the pairs teachers asked for, the warm start, the
    relaxations' assignments and one "indifferent" pair per teacher.  Every stage is proven optimal on the
    kept pairs either way, so the difference is the pairs alone: without pricing the reserve stage is 4,460,
    with the pairs of the Lagrangian's last assignments it is the exact model's optimum (4,512)."""
    d = generate("small", 3)
    restricted = POLICY.with_(full_model_pairs=0, indifferent_pairs=1)
    exact = solve(d, POLICY)
    assert exact.stats["optimal"]
    without = solve(d, restricted.with_(pricing_iterations=0, polish_iterations=0, quick_pricing_iterations=0))
    priced = solve(d, restricted)
    assert without.stats["pricing"] is None
    pricing = priced.stats["pricing"]
    assert pricing["iterations"] > 0 and pricing["pairs_added"] > 0
    assert priced.stats["pairs_in_model"] == without.stats["pairs_in_model"] + pricing["pairs_added"]
    for result in (without, priced):
        stages = result.stats["stages"]
        assert all(row["optimal_components"] == row["components"] for row in stages.values())
        assert stages["must_place"]["objective"] == exact.stats["stages"]["must_place"]["objective"]
        assert check(d, result.assignments, restricted) == []
    assert reserve(without) < reserve(priced) == reserve(exact)
    # the pricing iterations bound the reserve stage of the whole problem, and the bound holds
    assert reserve(exact) <= priced.stats["stages"]["reserve"]["lagrangian_bound"]


def test_pairs_are_priced_only_where_all_the_iterations_fit_the_time_limit_at_nominal_speed():
    """A pure function of the instance and the policy, so a deterministic replay prices the same pairs; and
    all or nothing, as the priced pairs pay only when there is time to search the larger model."""
    inst = Instance(generate("small", 3), POLICY)
    n = POLICY.pricing_iterations
    assert pricing_iterations(inst) == n
    assert pricing_iterations(Instance(inst.district, POLICY.with_(pricing_iterations=0))) == 0
    needed = n * arc_count(inst) / (ARCS_PER_SECOND * POLICY.pricing_share)  # seconds of limit they need
    assert pricing_iterations(Instance(inst.district, POLICY.with_(time_limit=needed * 1.01))) == n
    assert pricing_iterations(Instance(inst.district, POLICY.with_(time_limit=needed * 0.99))) == 0


def test_a_150_school_round_is_priced_within_the_default_30_s_and_a_300_school_one_is_not():
    """Where the README's 30 s figures come from: `city` rounds price (and reach the 0.5 %), `mid` ones do not."""
    default = Policy()
    assert default.time_limit == 30
    assert pricing_iterations(Instance(generate("city", 1), default)) == default.pricing_iterations
    assert pricing_iterations(Instance(generate("mid", 1), default)) == 0


def test_a_run_recorded_before_pricing_replays_without_it():
    recorded = Policy().to_json().replace('"pricing_iterations": 150, ', "")
    assert '"pricing_iterations"' not in recorded
    assert Policy.from_json(recorded).pricing_iterations == 0
    assert Policy.from_json(Policy().to_json()) == Policy()


def test_a_run_recorded_before_the_polish_replays_with_the_whole_portfolio_and_no_polish():
    recorded = (Policy().to_json().replace('"polish_iterations": 10, ', "").replace('"lean_search": true, ', "")
                .replace('"quick_pricing_iterations": 4, ', ""))
    assert not any(knob in recorded for knob in ("polish_iterations", "lean_search", "quick_pricing"))
    old = Policy.from_json(recorded)
    assert (old.polish_iterations, old.lean_search, old.quick_pricing_iterations) == (0, False, 0)
    assert (Policy().polish_iterations, Policy().lean_search, Policy().quick_pricing_iterations) == (10, True, 4)


RESTRICTED = POLICY.with_(full_model_pairs=0, indifferent_pairs=1, pricing_iterations=0)


def test_the_polish_searches_again_with_the_pairs_of_a_short_pricing():
    """The round of the first test, restricted the same way but without the full pricing.  The search on the
    kept pairs proves 4,460 optimal on them; the polish adds the pairs of the last 5 of 10 Lagrangian
    iterations and, starting from that answer, reaches the exact model's optimum, 4,512."""
    d = generate("small", 3)
    exact = solve(d, POLICY)
    without = solve(d, RESTRICTED.with_(polish_iterations=0, quick_pricing_iterations=0))
    polished = solve(d, RESTRICTED)
    assert without.stats["polish"] is None and polished.stats["pricing"] is None
    polish = polished.stats["polish"]
    assert polish["iterations"] == RESTRICTED.polish_iterations and polish["pairs_added"] > 0
    assert polished.stats["pairs_in_model"] == without.stats["pairs_in_model"] + polish["pairs_added"]
    assert polish["reserve_before"] == reserve(without) < reserve(polished) == reserve(exact)
    for stage in ("must_place", "reserve"):
        assert polished.stats["stages"][stage]["objective"] == exact.stats["stages"][stage]["objective"]
    assert check(d, polished.assignments, RESTRICTED) == []


def test_a_polished_round_is_deterministic():
    """Both searches of the reserve stage have budgets fixed by the snapshot and the policy (the polish also
    gets what the first search left): the same placements and the same work twice."""
    d = generate("small", 3)
    first, second = solve(d, RESTRICTED), solve(d, RESTRICTED)
    assert first.stats["polish"] is not None
    assert first.assignments == second.assignments
    for stage, row in first.stats["stages"].items():
        assert row["deterministic_seconds"] == second.stats["stages"][stage]["deterministic_seconds"]
    assert first.stats["polish"] == {**second.stats["polish"], "seconds": first.stats["polish"]["seconds"]}


def test_the_polish_runs_where_the_full_pricing_does_not_fit_and_its_own_iterations_do():
    inst = Instance(generate("small", 3), POLICY)
    per_iteration = arc_count(inst) / (ARCS_PER_SECOND * POLICY.pricing_share)  # seconds of limit per iteration

    def chosen(limit: float, **knobs: object) -> tuple[int, int]:
        at = Instance(inst.district, POLICY.with_(time_limit=limit, **knobs))
        return pricing_iterations(at), polish_iterations(at)

    full, short = POLICY.pricing_iterations * per_iteration, POLICY.polish_iterations * per_iteration
    assert chosen(full * 1.01) == (POLICY.pricing_iterations, 0)
    assert chosen(full * 0.99) == (0, POLICY.polish_iterations)
    assert chosen(short * 1.01) == (0, POLICY.polish_iterations)
    assert chosen(short * 0.99) == (0, 0)
    assert chosen(full * 0.99, polish_iterations=0) == (0, 0)
    assert chosen(full * 0.99, deterministic=False) == (0, 0)  # the wall clock buys too little search there


def test_a_300_school_round_is_polished_within_30_s_and_the_district_from_60_s():
    """Where the README's figures come from: the district gets the quick pricing at 30 s, the polish at 60 s."""
    default = Policy()
    mid = Instance(generate("mid", 1), default)
    assert (pricing_iterations(mid), polish_iterations(mid), quick_pricing_iterations(mid)) == (0, 10, 0)
    district = generate("district", 7)
    at_30, at_60 = Instance(district, default), Instance(district, default.with_(time_limit=60))
    assert (pricing_iterations(at_30), polish_iterations(at_30), quick_pricing_iterations(at_30)) == (0, 0, 4)
    assert (pricing_iterations(at_60), polish_iterations(at_60), quick_pricing_iterations(at_60)) == (0, 10, 0)


def test_the_quick_pricing_puts_the_pairs_of_its_last_assignment_in_the_model():
    """The same restricted round with neither the full pricing nor the polish: the pairs of the 4th Lagrangian
    assignment join the model, and the reserve stage reaches the exact optimum (4,512 against 4,460)."""
    d = generate("small", 3)
    exact = solve(d, POLICY)
    policy = RESTRICTED.with_(polish_iterations=0)
    without = solve(d, policy.with_(quick_pricing_iterations=0))
    quick = solve(d, policy)
    assert quick.stats["polish"] is None
    pricing = quick.stats["pricing"]
    assert pricing["iterations"] == policy.quick_pricing_iterations and pricing["pairs_added"] > 0
    assert reserve(without) < reserve(quick) == reserve(exact)
    assert check(d, quick.assignments, policy) == []


def test_the_quick_pricing_runs_only_where_nothing_larger_fits():
    inst = Instance(generate("small", 3), POLICY)
    per_iteration = arc_count(inst) / (ARCS_PER_SECOND * POLICY.pricing_share)
    short, quick = POLICY.polish_iterations * per_iteration, POLICY.quick_pricing_iterations * per_iteration

    def at(limit: float, **knobs: object) -> int:
        return quick_pricing_iterations(Instance(inst.district, POLICY.with_(time_limit=limit, **knobs)))

    assert at(short * 1.01) == 0  # the polish fits
    assert at(short * 0.99) == at(quick * 1.01) == POLICY.quick_pricing_iterations
    assert at(quick * 0.99) == 0
    assert at(short * 0.99, deterministic=False) == 0


def test_the_command_line_says_how_many_pairs_were_priced(capsys):
    from staffing.cli import _print_figures

    d = generate("small", 3)
    stats = solve(d, POLICY.with_(full_model_pairs=0, indifferent_pairs=1)).stats
    _print_figures({"placed": 1, "solve": stats})
    out = capsys.readouterr().out
    assert f"pricing: {stats['pricing']['pairs_added']} pairs added by 150 Lagrangian iterations" in out
    assert "reserve    objective" in out and "Lagrangian bound with seniority" in out


def test_the_command_line_says_what_the_polish_did(capsys):
    from staffing.cli import _print_figures

    stats = solve(generate("small", 3), RESTRICTED).stats
    _print_figures({"placed": 1, "solve": stats})
    out = capsys.readouterr().out
    polish = stats["polish"]
    assert (f"polish: {polish['pairs_added']} pairs added by 10 Lagrangian iterations ({polish['seconds']} s); "
            f"reserve stage {polish['reserve_before']} on the kept pairs, {stats['stages']['reserve']['objective']} "
            f"after {polish['deterministic_seconds']} deterministic seconds of polish") in out
