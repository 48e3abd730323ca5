from __future__ import annotations

import os
from pathlib import Path

import pytest

from staffing.db import get_engine, init_db
from staffing.seed import generate

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
#: A PostgreSQL database the suite may wipe; .ci/run starts a throw-away server and sets it.
POSTGRES_URL = os.environ.get("STAFFING_TEST_POSTGRES_URL", "")
NO_POSTGRES = ("PostgreSQL leg skipped: no server configured (set STAFFING_TEST_POSTGRES_URL, "
               "e.g. via `eval \"$(bash scripts/postgres.sh start)\"`; .ci/run does this)")


def postgres_reachable() -> bool:
    if not POSTGRES_URL:
        return False
    try:
        with get_engine(POSTGRES_URL).connect():
            return True
    except Exception:  # noqa: BLE001 - any failure to connect means: skip this leg
        return False


def fresh_postgres() -> str:
    """Wipe the test database's schema and migrate it from scratch."""
    engine = get_engine(POSTGRES_URL)
    engine.dispose()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    init_db(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def small_district():
    return generate("small", 7)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    if request.param == "postgresql" and not postgres_reachable():
        pytest.skip(NO_POSTGRES)
    return request.param


@pytest.fixture
def db_url(backend, tmp_path) -> str:
    """A fresh, migrated database per test, on each backend."""
    if backend == "postgresql":
        yield fresh_postgres()
        get_engine(POSTGRES_URL).dispose()
        return
    url = f"sqlite:///{tmp_path / 'test.db'}"
    init_db(url)
    yield url
    get_engine(url).dispose()
