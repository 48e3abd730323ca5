"""Recorded runs keep loading: one data migration (0032) rewrites the flat policies recorded before solver settings
were kept apart, giving each field a run lacks the value that reproduces what the engine did then."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from alembic import command
from sqlalchemy import text

from solver.policy import Policy
from solver.settings import PARALLEL, PRESETS, ParallelTuning, SolverSettings
from staffing.db import alembic_config, get_engine, init_db, session_scope
from staffing.runs import run_snapshot, start_run
from staffing.db_models import PlacementRun
from staffing.store import save_district
from tests.recorded import flat, migrated, migration

#: A policy as the first recorded runs stored it (2026-11-26), before any engine field added since.
OLDEST = json.dumps({
    "name": "la_today", "description": "LA today", "objective": "lexicographic",
    "overrides": [{"set": {"mutual_consent": False}, "models": ["*"], "autonomy": [], "except_models": ["la_lis"]}],
    "must_place_weight": 1_000_000, "reserve_weight": 1, "teacher_weight": 1, "committee_weight": 1,
    "time_limit": 30.0, "workers": 2, "seed": 0, "deterministic": True, "full_model_pairs": 10_000,
    "indifferent_pairs": 6, "pricing_share": 0.15, "lp_bound_pairs": 10_000, "bound_seconds": 0.0,
    "linearization_level": 1})


def test_the_oldest_recorded_policy_loads_with_the_engine_it_was_solved_with():
    old = migrated(OLDEST)
    assert old.settings == PRESETS["first_recorded"] and old.settings.changed() == {}
    assert old.settings.portfolio == "full"  # CP-SAT's whole portfolio, before portfolios had names
    assert old.search.reproducible and old.time_limit == 30.0
    assert old.overrides[0].except_models == ("la_lis",) and old.name == "la_today"
    # and what it records now loads back the same
    assert Policy.from_json(old.to_json()) == old
    lean = json.loads(OLDEST) | {"lean_search": True}
    assert migrated(json.dumps(lean)).settings.portfolio == "lean"


def test_a_run_recorded_just_before_the_migration_loads_as_today_s_policy_with_its_preset_named():
    assert migrated(flat(Policy())) == Policy()
    side = Policy(search="parallel", time_limit=12).with_settings("side_by_side", seed=3)
    again = migrated(flat(side))
    assert again == side and again.settings.describe() == "side_by_side (seed=3)"


def test_a_flat_policy_is_refused_with_the_way_to_migrate_it_and_settings_must_match_this_version():
    with pytest.raises(ValueError, match=r"upgrade the database \(`staffing init-db`\)"):
        Policy.from_json(flat(Policy()))
    data = json.loads(Policy().to_json())
    data["settings"].pop("auction_eps")
    with pytest.raises(ValueError, match="missing auction_eps"):
        Policy.from_json(json.dumps(data))


def test_the_migration_knows_every_setting_so_a_new_one_needs_a_migration_of_its_own():
    names = {f.name for f in fields(SolverSettings)} - {"preset", "parallel"}
    assert names == set(migration.ENGINE_FIELDS), (
        "a SolverSettings field added after 0032 needs a migration giving recorded runs the value they replay with")
    assert {f.name for f in fields(ParallelTuning)} == set(migration.PARALLEL.values())


def test_the_database_migration_rewrites_recorded_runs_and_steps_back(db_url, small_district):
    with session_scope(db_url) as s:
        save_district(s, small_district)
        new_id = start_run(s, Policy(time_limit=5, search=PARALLEL), "hr").id
        old_id = start_run(s, Policy(time_limit=5), "hr").id
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0032")
    command.downgrade(cfg, "-1")  # the flat format again, for both runs
    with get_engine(db_url).begin() as c:
        c.execute(text("UPDATE placement_run SET policy_json = :p WHERE id = :i"), {"p": OLDEST, "i": old_id})
        stored = c.execute(text("SELECT policy_json FROM placement_run WHERE id = :i"), {"i": new_id}).scalar()
    assert json.loads(stored)["deterministic"] is False and "settings" not in json.loads(stored)
    init_db(db_url)
    with session_scope(db_url) as s:
        assert run_snapshot(s.get(PlacementRun, new_id))[1] == Policy(time_limit=5, search=PARALLEL)
        assert run_snapshot(s.get(PlacementRun, old_id))[1] == migrated(OLDEST)
