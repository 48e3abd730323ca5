"""The Lagrangian bound with seniority (solver/lagrangian.py): valid (never below the LP with seniority, hence
never below a proven optimum), never above the flow relaxation, as tight as the LP where the LP is cheap,
and reported by the solver when the LP is too big to compute.  The hand case where seniority alone decides is
in test_bounds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import solve
from solver.bounds import seniority_lp_bound
from solver.cpsat import STAGES
from solver.instance import Instance
from solver.lagrangian import SeatRows, evaluate, lagrangian_bound
from solver.matching import relaxation_bound
from solver.policy import Policy
from staffing.seed import generate
from tests.builders import district, teacher
from tests.test_properties import districts

POLICY = Policy(time_limit=5)


@settings(max_examples=60, deadline=None)
@given(districts())
def test_lagrangian_bound_lies_between_the_lp_with_seniority_and_the_flow_relaxation(d):
    """Weak duality: every multiplier vector gives at least the LP optimum, so a bound below it means a pair's
    bonus was computed wrongly; and the first iterate (no multipliers) is the flow relaxation."""
    result = solve(d, POLICY)
    inst = Instance(d, POLICY)
    rows = SeatRows(inst)
    stages = result.solve.stages
    floors = []
    for stage in STAGES:
        weight, found = inst.stage_values(stage), stages[stage].objective
        lp = seniority_lp_bound(inst, weight, floors)
        bound = lagrangian_bound(inst, weight, floors, target=found, time_limit=5, max_iterations=200, rows=rows)
        assert lp is not None
        assert found <= lp <= bound.bound <= relaxation_bound(inst, weight), stage
        floors.append((weight, found))


def test_solver_reports_the_lagrangian_bound_where_the_lp_is_too_big():
    d = district({"A": "traditional", "B": "traditional", "C": "la_pilot"},
                 [teacher("VT", status="voluntary_transfer", since="2001-01-01"),
                  teacher("D1", status="displaced", since="2005-01-01", salary=70_000),
                  teacher("NH", status="new_hire", since="2020-01-01", salary=50_000),
                  teacher("MP", status="displaced", must_place=True, since="2010-01-01", salary=60_000)],
                 {"V1": ("A", "MATH"), "V2": ("B", "MATH"), "V3": ("C", "MATH")},
                 prefs={"VT": ["A"], "NH": ["A", "B"], "D1": ["B", "A"]}, rankings={"V3": ["NH"]})
    policy = POLICY.with_settings(lp_bound_pairs=0, bound_seconds=2.0)
    stages = solve(d, policy).solve.stages
    for stage in STAGES:
        row = stages[stage]
        assert row.lp_bound is None
        if row.lagrangian_bound is not None:
            assert row.objective <= row.lagrangian_bound
            assert row.lagrangian_iterations >= 1
    assert any(stages[s].lagrangian_bound is not None for s in STAGES)
    off = solve(d, POLICY.with_settings(lp_bound_pairs=0)).solve.stages
    assert not any(off[s].lagrangian_bound is not None for s in STAGES)


def test_return_right_rows_of_two_post_groups_are_priced_per_seat_and_per_group():
    """Two return-right holders each to H (LA pilot: no seniority order, one row per group, coefficient 2 on
    the holder's reach) and to S (LIS: seniority order, one row per seat), with two outsiders the committees
    prefer.  Random multipliers never give less than the LP, and the subgradient reaches the LP: wrong
    coefficients or a senior holder priced at the wrong seat break one or the other."""
    d = district({"H": "la_pilot", "S": "la_lis", "T": "traditional"},
                 [teacher("R1", return_to="H", since="2001-01-01", salary=50_000),
                  teacher("R2", return_to="H", since="2002-01-01", salary=55_000),
                  teacher("Q1", return_to="S", since="2001-01-01", salary=60_000),
                  teacher("Q2", return_to="S", since="2002-01-01", salary=65_000),
                  teacher("P", salary=90_000), teacher("P2", salary=95_000)],
                 {"H1": ("H", "MATH"), "H2": ("H", "MATH"), "S1": ("S", "MATH"), "S2": ("S", "MATH"),
                  "T1": ("T", "MATH"), "T2": ("T", "MATH")},
                 prefs={"P": ["H", "S"], "P2": ["S", "H"]},
                 rankings={"H1": ["P", "P2"], "H2": ["P", "P2"], "S1": ["P2", "P"], "S2": ["P2", "P"]})
    inst = Instance(d, POLICY)
    reserve = inst.stage_values("reserve")
    found = solve(d, POLICY).solve.stages["reserve"].objective
    lp = seniority_lp_bound(inst, reserve)
    assert lp is not None and found <= lp < relaxation_bound(inst, reserve)
    rows = SeatRows(inst)
    rng = np.random.default_rng(0)
    for _ in range(300):
        mu = rng.uniform(0, 30, len(rows)) * rng.integers(0, 2, len(rows))
        reached, ceiling, _ = evaluate(rows, reserve.astype(float), mu)
        assert reached == ceiling >= lp - 1e-6  # an exact flow: what it reaches is the ceiling
    assert lp <= lagrangian_bound(inst, reserve, target=found, time_limit=5, rows=rows).bound <= lp + 1


@pytest.mark.parametrize("size, seed", [("small", 3), ("small", 7)])
def test_the_bonuses_and_slacks_are_those_of_the_seat_rows_written_out_one_by_one(size, seed):
    """The compiled prefix-sum arithmetic (``SeatRows.bonus``, ``SeatRows.slack``) against the rows' coefficients
    written out as a matrix from their definition: an arc of teacher t is in t's row at group g, seat k, level l
    when it reaches -- at g, a seat up to k; elsewhere, a school t ranks at least as high (level up to l) -- or
    when it holds that row's seat with higher priority (rows with ``has_ahead``)."""
    inst = Instance(generate(size, seed), POLICY)
    rows = SeatRows(inst)
    n_seat_rows = len(rows.teacher)
    same_teacher = rows.teacher[:, None] == rows.arc_teacher[None, :]
    at_group = rows.group[:, None] == rows.arc_group[None, :]
    reach = np.where(at_group, rows.arc_seat[None, :] <= rows.seat[:, None],
                     rows.arc_level[None, :] <= rows.row_level[:, None]) & same_teacher
    ahead = ((rows.has_ahead[:, None] == 1) & (rows.arc_node[None, :] == rows.row_node[:, None])
             & (rows.arc_position[None, :] < rows.row_position[:, None]))
    matrix = reach.astype(float) + ahead
    returns = np.zeros((len(rows) - n_seat_rows, len(rows.arc_pair)))
    np.add.at(returns, (rows.rr_row, rows.rr_arc), rows.rr_coef)
    matrix = np.vstack([matrix, returns])
    rng = np.random.default_rng(seed)
    for _ in range(5):
        mu = rng.uniform(0, 30, len(rows)) * rng.integers(0, 2, len(rows))
        assert np.allclose(rows.bonus(mu), mu @ matrix)
        chosen, _ = rows.assign(rng.integers(-5, 20, len(rows.arc_pair)))  # an assignment, random weights
        assert np.array_equal(rows.slack(chosen), matrix[:, chosen].sum(axis=1) - rows.rhs)


def test_a_group_is_reseated_in_priority_order_only_where_that_weighs_as_much():
    """The subgradient is read from an assignment whose groups are seated best-priority-first when that costs
    nothing; a reseating that lost weight would make the reported L too small, so it is refused."""
    d = district({"S": "traditional"}, [teacher("D1", since="2001-01-01"), teacher("VT", status="voluntary_transfer")],
                 {"M1": ("S", "MATH"), "M2": ("S", "MATH")})
    rows = SeatRows(Instance(d, POLICY))
    arc = {(rows.inst.edges[p].teacher_id, int(k)): a for a, (p, k) in enumerate(zip(rows.arc_pair, rows.arc_seat))}
    backwards = np.array([arc[("VT", 0)], arc[("D1", 1)]])
    flat = np.ones(len(rows.arc_pair), np.int64)
    assert sorted(rows.in_priority_order(backwards, flat)) == sorted([arc[("D1", 0)], arc[("VT", 1)]])
    tilted = flat.copy()
    tilted[arc[("VT", 0)]] = 2
    assert sorted(rows.in_priority_order(backwards, tilted)) == sorted(backwards)
    # and where nothing is out of order, nothing moves
    assert sorted(rows.in_priority_order(np.array([arc[("D1", 0)]]), flat)) == [arc[("D1", 0)]]


@settings(max_examples=60, deadline=None)
@given(districts(), st.integers(0, 2**32 - 1))
def test_every_multiplier_vector_gives_a_bound_at_least_the_lp(d, seed):
    """The bound is valid at *any* multipliers, not only where the subgradient steps lead: random ones, on
    every stage with the earlier stages' floors, never give less than the LP with seniority."""
    result = solve(d, POLICY)
    inst = Instance(d, POLICY)
    rows = SeatRows(inst)
    rng = np.random.default_rng(seed)
    floors: list = []
    for stage in STAGES:
        weight = inst.stage_values(stage)
        lp = seniority_lp_bound(inst, weight, floors)
        value, floor_w = weight.astype(float), [w.astype(float) for w, _ in floors]
        floor_v = np.array([f for _, f in floors], np.float64)
        for _ in range(5):
            mu = rng.uniform(0, 30, len(rows)) * rng.integers(0, 2, len(rows))
            nu = rng.uniform(0, 30, len(floors))
            assert evaluate(rows, value, mu, floor_w, floor_v, nu)[1] >= lp - 1e-6, stage
            # and the auction's ceiling, from its prices, holds at any multipliers too
            assert evaluate(rows, value, mu, floor_w, floor_v, nu, eps=200)[1] >= lp - 1e-6, stage
        floors.append((weight, result.solve.stages[stage].objective))


def test_on_a_generated_district_the_lagrangian_bound_reaches_the_lp_where_the_flow_relaxation_does_not():
    """Where the exact LP is cheap (20 schools) the subgradient must get to it: the proof that the bonuses are
    not merely valid but the right ones.  The reserve stage of this seed is one where seniority binds."""
    d = generate("small", 7)
    result = solve(d, POLICY)
    inst = Instance(d, POLICY)
    floors = [(inst.stage_values("must_place"), result.solve.stages["must_place"].objective)]
    reserve, found = inst.stage_values("reserve"), result.solve.stages["reserve"].objective
    lp = seniority_lp_bound(inst, reserve, floors)
    assert lp is not None and lp < relaxation_bound(inst, reserve)
    bound = lagrangian_bound(inst, reserve, floors, target=found, time_limit=30)
    assert found <= lp <= bound.bound <= lp * 1.001
