"""Committee rules: how members' ballots become the committee's ranking."""

from __future__ import annotations

import pytest

from staffing.committee import NoDecision, committee_ranking


def test_principal_rule_takes_the_principals_ballot_and_members_only_advise():
    ballots = {"member": ["B", "A"], "boss": ["A", "C"]}
    assert committee_ranking("principal", ballots, principals={"boss"}) == ["A", "C"]
    assert committee_ranking("district", ballots, principals={"boss"}) == ["A", "C"]
    with pytest.raises(NoDecision, match="principal has not cast a ballot"):
        committee_ranking("principal", {"member": ["B"]}, principals={"boss"})


def test_consensus_needs_a_majority_and_orders_by_borda_score():
    ballots = {"p": ["A", "B", "C"], "t": ["B", "A"], "u": ["B", "D"]}
    # A: 3+1 = 4 points on 2 ballots; B: 2+2+2 = 6 on 3; C and D: on one ballot each, not a majority of 3
    assert committee_ranking("consensus", ballots, principals={"p"}) == ["B", "A"]


def test_consensus_ties_go_to_the_candidate_on_more_ballots_then_by_id():
    ballots = {"a": ["X", "Y"], "b": ["Y", "X"], "c": ["Z", "W"], "d": ["W", "Z"]}
    # with 4 ballots a majority is 3: nobody qualifies
    assert committee_ranking("consensus", ballots, principals=set()) == []
    assert committee_ranking("consensus", {"a": ["X", "Y"], "b": ["Y", "X"]}, set()) == ["X", "Y"]


def test_consensus_with_no_ballot_cannot_decide_and_unknown_rules_are_refused():
    with pytest.raises(NoDecision):
        committee_ranking("consensus", {}, set())
    with pytest.raises(ValueError, match="unknown committee rule"):
        committee_ranking("coin_toss", {"a": ["X"]}, set())


def test_consensus_counts_a_majority_of_the_full_roster_not_of_the_ballots_cast():
    # one ballot of a seven-member committee decides nothing: no quorum
    with pytest.raises(NoDecision, match="no quorum: 1 of the committee's 7 members have voted, a decision needs 4"):
        committee_ranking("consensus", {"principal": ["A"]}, {"principal"}, roster=7)
    ballots = {"p": ["A", "B"], "t1": ["A", "B"], "t2": ["B", "A"], "t3": ["A"]}
    # quorum reached (4 of 7); A on 4 ballots is a majority of 7, B on 3 is a majority of the ballots but not of 7
    assert committee_ranking("consensus", ballots, {"p"}, roster=7) == ["A"]
    assert committee_ranking("consensus", ballots, {"p"}, roster=5) == ["A", "B"]


def test_esbmm_committee_composition_is_checked():
    from staffing.rules import BUILTIN_RULES, committee_composition_problems

    esbmm = BUILTIN_RULES["la_esbmm"]
    assert committee_composition_problems(esbmm, ["principal", "teacher"]) == ["union_chair", "parent", "classified"]
    assert committee_composition_problems(esbmm, ["principal", "union_chair", "teacher", "parent", "classified"]) == []
    assert committee_composition_problems(BUILTIN_RULES["la_pilot"], ["principal"]) == []
