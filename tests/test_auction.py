"""The forward auction (solver.auction) behind the Lagrangian's relaxed assignments: a lawful assignment within
``eps`` per teacher of the flow's maximum, and a Lagrangian bound with it that is still a bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import solve
from solver.auction import Auction
from solver.bounds import seniority_lp_bound
from solver.cpsat import STAGES
from solver.instance import Instance
from solver.lagrangian import SeatRows, lagrangian_bound
from solver.matching import max_weight_assignment
from solver.policy import Policy
from staffing.seed import generate
from tests.test_properties import districts


@st.composite
def networks(draw):
    """Random teacher -> node networks with node capacities and integer weights, ties on purpose."""
    n_teachers, n_nodes = draw(st.integers(1, 12)), draw(st.integers(1, 8))
    capacity = np.array(draw(st.lists(st.integers(1, 3), min_size=n_nodes, max_size=n_nodes)), np.int64)
    pairs = sorted(draw(st.sets(st.tuples(st.integers(0, n_teachers - 1), st.integers(0, n_nodes - 1)), max_size=40)))
    weights = np.array(draw(st.lists(st.integers(-5, 30), min_size=len(pairs), max_size=len(pairs))), np.int64)
    teacher = np.array([t for t, _ in pairs], np.int64)
    node = np.array([j for _, j in pairs], np.int64)
    return n_teachers, teacher, node, capacity, weights


@settings(max_examples=300, deadline=None)
@given(networks(), st.integers(1, 5))
def test_the_auction_assigns_lawfully_and_within_eps_per_teacher_of_the_maximum(network, eps):
    n_teachers, teacher, node, capacity, weights = network
    chosen, ceiling = Auction(n_teachers, teacher, node, capacity).assign(weights, eps)
    assert len(set(teacher[chosen].tolist())) == len(chosen)  # a teacher takes at most one seat
    assert (np.bincount(node[chosen], minlength=len(capacity)) <= capacity).all()
    best = weights[max_weight_assignment(n_teachers, teacher, node, capacity, weights)].sum()
    assert best - n_teachers * eps <= weights[chosen].sum() <= best
    # the prices' dual value is a ceiling on the maximum, and within eps a placed teacher of the assignment
    assert best <= ceiling <= weights[chosen].sum() + len(chosen) * eps
    assert (weights[chosen] > 0).all()  # nobody is placed where they are worth nothing: unplaced is worth 0


def test_with_eps_one_below_the_weights_resolution_the_auction_finds_the_maximum():
    """Weights in multiples of n + 1 and eps = 1: within n of the maximum is the maximum."""
    rng = np.random.default_rng(3)
    n_teachers, n_nodes = 40, 30
    teacher = np.repeat(np.arange(n_teachers), 8)
    node = rng.integers(0, n_nodes, len(teacher))
    keep = np.unique(teacher * n_nodes + node, return_index=True)[1]
    teacher, node = teacher[keep], node[keep]
    capacity = rng.integers(1, 3, n_nodes)
    weights = rng.integers(0, 20, len(teacher)) * (n_teachers + 1)
    chosen, _ = Auction(n_teachers, teacher, node, capacity).assign(weights, 1)
    assert weights[chosen].sum() == weights[max_weight_assignment(n_teachers, teacher, node, capacity, weights)].sum()


@settings(max_examples=40, deadline=None)
@given(districts(), st.sampled_from([10, 0]))
def test_a_lagrangian_bound_steered_by_auctions_is_still_a_bound(d, exact_every):
    """Only proven ceilings count as the bound -- the exact flows' values, and with ``exact_every`` 0 the
    auctions' dual values: either way it is never below the LP with seniority (which a value read from an
    auction's assignment could be)."""
    policy = Policy(time_limit=5)
    result = solve(d, policy)
    inst = Instance(d, policy)
    rows = SeatRows(inst)
    floors: list = []
    for stage in STAGES:
        weight, found = inst.stage_values(stage), result.solve.stages[stage].objective
        lp = seniority_lp_bound(inst, weight, floors)
        bound = lagrangian_bound(inst, weight, floors, target=found, time_limit=5, max_iterations=60, rows=rows,
                                 auction_eps=500, exact_every=exact_every)
        assert lp is not None and found <= lp <= bound.bound, stage
        floors.append((weight, found))


def test_on_a_generated_round_auctions_steer_the_bound_about_as_well_as_flows():
    """The same 100 iterations of the reserve stage's pricing, by flows and by auctions (within 0.1 a teacher):
    the bounds differ by little, and the auction's last assignment is an exact flow's, whose pairs the model
    gets."""
    d = generate("mid", 1)
    policy = Policy(time_limit=30)
    inst = Instance(d, policy)
    rows = SeatRows(inst)
    floors = [(inst.stage_values("must_place"), 260)]
    flows = lagrangian_bound(inst, inst.stage_values("reserve"), floors, target=73_000, time_limit=600,
                             max_iterations=100, rows=rows, patience=5, keep_last=1)
    auctions = lagrangian_bound(inst, inst.stage_values("reserve"), floors, target=73_000, time_limit=600,
                                max_iterations=100, rows=rows, patience=5, keep_last=1, auction_eps=100)
    assert auctions.iterations == flows.iterations == 100
    assert auctions.bound == pytest.approx(flows.bound, rel=0.002)
    assert 73_179 <= auctions.bound  # the best placement known for this round (30 s deterministic round)
