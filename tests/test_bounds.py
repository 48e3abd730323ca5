"""The LP bound with seniority (solver/bounds.py): valid (never below a proven optimum), at least as tight as
the capacity-and-consent relaxation, and strictly tighter where seniority decides."""

from __future__ import annotations

from hypothesis import given, settings

from solver import solve
from solver.bounds import seniority_lp_bound
from solver.cpsat import STAGES
from solver.instance import Instance
from solver.lagrangian import lagrangian_bound
from solver.matching import relaxation_bound
from solver.policy import Policy
from tests.builders import district, teacher
from tests.test_properties import districts

POLICY = Policy(time_limit=5)


def test_seniority_bounds_see_that_a_voluntary_transfer_outranks_a_new_hire():
    """One traditional post, wanted by a voluntary transfer (not paid from the reserve) and a new hire (paid
    while unplaced).  Capacity and consent alone would place the new hire; seniority class gives the post to
    the transfer, so the reserve stage's optimum is 0 -- and so are the LP bound and the Lagrangian bound (one
    multiplier step on the transfer's row prices the new hire out of the post)."""
    d = district({"S": "traditional"},
                 [teacher("VT", status="voluntary_transfer", salary=80_000), teacher("NH", status="new_hire", salary=52_000)],
                 {"V1": ("S", "MATH")})
    inst = Instance(d, POLICY)
    reserve = inst.stage_values("reserve")
    assert relaxation_bound(inst, reserve) == 52
    assert seniority_lp_bound(inst, reserve) == 0
    lagrange = lagrangian_bound(inst, reserve, target=0, time_limit=5)
    assert lagrange.bound == 0 and lagrange.iterations < 10
    reserve_stage = solve(d, POLICY).stats["stages"]["reserve"]
    assert (reserve_stage["objective"], reserve_stage["lp_bound"]) == (0, 0)


@settings(max_examples=40, deadline=None)
@given(districts())
def test_lp_bound_lies_between_the_proven_optimum_and_the_flow_relaxation(d):
    result = solve(d, POLICY)
    assert result.stats["optimal"]
    inst = Instance(d, POLICY)
    stages = result.stats["stages"]
    for stage in STAGES:
        lp = stages[stage]["lp_bound"]
        assert lp is not None, stage
        assert stages[stage]["objective"] <= lp <= relaxation_bound(inst, inst.stage_values(stage))
