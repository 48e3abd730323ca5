"""Alembic migrations: every downgrade works, and stepping back keeps the recorded runs.

A district that upgrades and finds a problem must be able to go back one revision without losing its
placement runs (they are its audit record), on both backends."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from solver.policy import Policy
from staffing.db import alembic_config, get_engine, init_db, session_scope
from staffing.db_models import PlacementRun
from staffing.runs import start_run
from staffing.store import save_district


def _columns(url: str, table: str) -> set[str]:
    return {c["name"] for c in inspect(get_engine(url)).get_columns(table)}


def test_a_step_back_from_the_newest_revision_keeps_the_runs(db_url, small_district):
    with session_scope(db_url) as s:
        save_district(s, small_district)
        run_id = start_run(s, Policy(time_limit=5), "hr").id
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "-1")  # a step back from the newest revision, whichever it is
    init_db(db_url)
    with session_scope(db_url) as s:
        assert s.get(PlacementRun, run_id).snapshot
    command.downgrade(cfg, "0005")  # and from the revision that added the run's progress
    columns = _columns(db_url, "placement_run")
    assert "progress" not in columns and "solver_process" in columns
    init_db(db_url)
    with session_scope(db_url) as s:
        run = s.get(PlacementRun, run_id)
        assert run.status == "running" and run.snapshot


def test_every_revision_downgrades_to_an_empty_schema_and_upgrades_again(db_url):
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "base")
    assert set(inspect(get_engine(db_url)).get_table_names()) <= {"alembic_version"}
    init_db(db_url)
    assert {"solver_process", "progress"} <= _columns(db_url, "placement_run")
