"""Solver settings apart from the policy: presets, validation, and the one place the search modes differ."""

from __future__ import annotations

import pytest

from solver.lagrangian import EXACT_EVERY
from solver.policy import Policy
from solver.settings import (DETERMINISTIC, PARALLEL, PORTFOLIOS, PRESETS, ParallelTuning, SearchMode,
                             SolverSettings, preset)


def test_every_preset_is_valid_names_itself_and_differs_from_the_default_only_where_it_says():
    for name, settings in PRESETS.items():
        assert settings.preset == name and settings.changed() == {}
        assert SolverSettings.from_dict(settings.to_dict()) == settings
    assert PRESETS["side_by_side"].with_(preset="default").changed() == {"interleave_batch": 0}
    first = PRESETS["first_recorded"].with_(preset="default").changed()
    assert first["portfolio"] == "full" and first["parallel.presolve_iterations"] == 3 and "seed" not in first


def test_the_modes_resolve_the_settings_in_one_place():
    s = PRESETS["default"]
    det, par = s.for_mode(DETERMINISTIC), s.for_mode(PARALLEL)
    assert det.reproducible and not par.reproducible
    assert (det.exact_every, par.exact_every) == (EXACT_EVERY, s.parallel.exact_every)
    assert (det.interleave_batch, par.interleave_batch) == (s.interleave_batch, None)
    assert (det.presolve_iterations, par.presolve_iterations) == (None, s.parallel.presolve_iterations)
    assert (det.reserve_share, par.reserve_share) == (None, s.parallel.reserve_share)
    assert (det.settled_pricing_share, par.settled_pricing_share) == (None, s.parallel.pricing_share)
    assert det.ignore_subsolvers == par.ignore_subsolvers == PORTFOLIOS[s.portfolio]
    cp_sat_s = s.with_(parallel={"portfolio": False}).for_mode(PARALLEL)
    assert cp_sat_s.ignore_subsolvers is None and cp_sat_s.lns_task_seconds is None
    assert s.with_(parallel={"portfolio": False}).for_mode(DETERMINISTIC).ignore_subsolvers == det.ignore_subsolvers


def test_bad_settings_modes_and_misplaced_fields_are_refused_with_their_reason():
    with pytest.raises(ValueError, match="workers must be at least 1, got 0; auction_eps must be at least 0"):
        SolverSettings(workers=0, auction_eps=-1)
    with pytest.raises(ValueError, match="parallel.reserve_share must be between 0 and 1"):
        ParallelTuning(reserve_share=1.0)
    with pytest.raises(ValueError, match="search must be one of deterministic, parallel, got 'fastest'"):
        Policy(search="fastest")
    assert SearchMode.parse("reproducible") == DETERMINISTIC and Policy(search="parallel").search == PARALLEL
    with pytest.raises(ValueError, match=r"unknown policy field\(s\): workers \(solver settings: use with_settings\)"):
        Policy().with_(workers=1)
    with pytest.raises(ValueError, match=r"unknown solver setting\(s\): time_limit"):
        Policy().with_settings(time_limit=3)
    with pytest.raises(ValueError, match="unknown solver settings preset 'fast'"):
        preset("fast")
    with pytest.raises(ValueError, match="settings preset must be one of"):
        SolverSettings(preset="fast")


def test_a_policy_records_its_mode_and_settings_and_loads_back_the_same():
    policy = Policy(time_limit=7, search="parallel").with_settings("first_recorded", seed=4)
    again = Policy.from_json(policy.to_json())
    assert again == policy and again.settings.describe() == "first_recorded (seed=4)"
    assert again.engine == policy.settings.for_mode(PARALLEL)
