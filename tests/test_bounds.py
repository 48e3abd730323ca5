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
    reserve_stage = solve(d, POLICY).solve.stages["reserve"]
    assert (reserve_stage.objective, reserve_stage.lp_bound) == (0, 0)


def assert_reserve_bounds(d, *, relaxation: int, optimum: int) -> None:
    """The flow relaxation is ``relaxation``; the LP, the Lagrangian and the solver's answer are ``optimum``."""
    inst = Instance(d, POLICY)
    reserve = inst.stage_values("reserve")
    assert relaxation_bound(inst, reserve) == relaxation
    assert seniority_lp_bound(inst, reserve) == optimum
    assert lagrangian_bound(inst, reserve, target=optimum, time_limit=5).bound == optimum
    assert solve(d, POLICY).solve.stages["reserve"].objective == optimum


def test_seat_rows_see_that_the_second_post_goes_to_the_transfer_before_the_new_hire():
    """Two MATH posts and one SCI post at a traditional school; D1 and D2 are displaced (D2 also holds SCI),
    then a voluntary transfer (not paid from the reserve), then a new hire, in priority order.  Only D2 can
    take the SCI post, and if it does, the second MATH post is the transfer's, never the new hire's: the
    reserve optimum is 120 ($k), two of the three paid teachers.  The counting row ``2·reach + ahead ≥ 2``
    lets the LP place the new hire halfway (150); the seat rows see that seat 2 is the transfer's unless a
    more senior teacher holds it, and reach the optimum -- and so does the Lagrangian over the seats."""
    d = district({"S": "traditional"},
                 [teacher("D1", since="2001-01-01"), teacher("D2", certs="MATH;SCI", since="2002-01-01"),
                  teacher("VT", status="voluntary_transfer", since="2003-01-01"),
                  teacher("NH", status="new_hire", since="2020-01-01")],
                 {"M1": ("S", "MATH"), "M2": ("S", "MATH"), "S1": ("S", "SCI")})
    assert_reserve_bounds(d, relaxation=180, optimum=120)


def test_return_right_rows_keep_a_holder_without_a_list_at_the_former_school():
    """R holds a return right to H (an LA pilot school: no seniority order, so no seat rows there) and has no
    list, so R-RETURN puts R at H, the one MATH post; P (paid more) wanted only H and is left out.  Capacity,
    consent and the seat rows alone would send R to the traditional school T (R is indifferent) and P to H:
    140 ($k) instead of the optimum 50.  The R-RETURN rows bring the LP and the Lagrangian to 50."""
    d = district({"H": "la_pilot", "T": "traditional"},
                 [teacher("R", return_to="H", salary=50_000), teacher("P", salary=90_000)],
                 {"VH": ("H", "MATH"), "VT": ("T", "MATH")}, prefs={"P": ["H"]}, rankings={"VH": ["P"]})
    assert_reserve_bounds(d, relaxation=140, optimum=50)


@settings(max_examples=40, deadline=None)
@given(districts())
def test_lp_bound_lies_between_the_proven_optimum_and_the_flow_relaxation(d):
    result = solve(d, POLICY)
    assert result.solve.optimal
    inst = Instance(d, POLICY)
    stages = result.solve.stages
    for stage in STAGES:
        lp = stages[stage].lp_bound
        assert lp is not None, stage
        assert stages[stage].objective <= lp <= relaxation_bound(inst, inst.stage_values(stage))
