"""Recorded runs keep loading: one migration (solver.policy.migrate_policy) of a policy recorded long ago."""

from __future__ import annotations

import json

from solver.policy import RECORDED_BEFORE, Policy

#: A policy as the first recorded runs stored it (2026-11-26), before any engine field added since.
OLDEST = json.dumps({
    "name": "la_today", "description": "LA today", "objective": "lexicographic",
    "overrides": [{"set": {"mutual_consent": False}, "models": ["*"], "autonomy": [], "except_models": ["la_lis"]}],
    "must_place_weight": 1_000_000, "reserve_weight": 1, "teacher_weight": 1, "committee_weight": 1,
    "time_limit": 30.0, "workers": 2, "seed": 0, "deterministic": True, "full_model_pairs": 10_000,
    "indifferent_pairs": 6, "pricing_share": 0.15, "lp_bound_pairs": 10_000, "bound_seconds": 0.0,
    "linearization_level": 1})


def test_the_oldest_recorded_policy_loads_with_the_engine_it_was_solved_with():
    old = Policy.from_json(OLDEST)
    for field, value in RECORDED_BEFORE.items():
        assert getattr(old, field) == value, field
    assert old.portfolio == "full"  # CP-SAT's whole portfolio, before portfolios had names
    assert old.overrides[0].except_models == ("la_lis",) and old.name == "la_today"
    # and what it records now loads back the same
    assert Policy.from_json(old.to_json()) == old


def test_every_field_added_since_has_a_recorded_value_and_todays_policy_round_trips():
    fields = set(json.loads(Policy().to_json()))
    assert set(RECORDED_BEFORE) <= fields
    added = fields - set(json.loads(OLDEST)) - set(RECORDED_BEFORE) - {"portfolio"}
    assert not added, f"a Policy field added since needs the value older runs replay with in RECORDED_BEFORE: {added}"
    assert Policy.from_json(Policy().to_json()) == Policy()
    lean = json.loads(OLDEST) | {"lean_search": True}
    assert Policy.from_json(json.dumps(lean)).portfolio == "lean"
