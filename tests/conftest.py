from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from staffing.db import get_engine, init_db
from staffing.seed import generate

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
#: A PostgreSQL database the suite may wipe; .ci/run starts a throw-away server and sets it.
POSTGRES_URL = os.environ.get("STAFFING_TEST_POSTGRES_URL", "")
#: CI sets CI=true: there a leg that cannot run (no PostgreSQL, no Chromium) fails the run instead of skipping.
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_leg(reason: str) -> None:
    """A test leg whose server or browser is missing: skipped locally with the true reason, a failure under
    CI=true (a green CI without its PostgreSQL or browser legs would claim what it did not test)."""
    if IN_CI:
        pytest.fail(f"{reason} -- and CI=true, so the missing leg fails the run instead of being skipped",
                    pytrace=False)
    pytest.skip(reason)


#: Kept for tests written before :func:`postgres_problem`; prefer ``missing_leg(postgres_problem())``.
NO_POSTGRES = ("PostgreSQL leg: no server configured (set STAFFING_TEST_POSTGRES_URL, e.g. via "
               "`eval \"$(bash scripts/postgres.sh start)\"`; .ci/run does this)")


@functools.lru_cache(maxsize=1)
def postgres_problem() -> str | None:
    """Why the PostgreSQL leg cannot run (None: it can): not configured, or configured and unreachable."""
    if not POSTGRES_URL:
        return NO_POSTGRES
    try:
        with get_engine(POSTGRES_URL).connect():
            return None
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the reason the leg cannot run
        where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"PostgreSQL leg: the server configured at {where} cannot be reached ({type(exc).__name__}: {first})"


def postgres_reachable() -> bool:
    return postgres_problem() is None


def pytest_report_header(config) -> list[str]:
    return [f"PostgreSQL leg: {postgres_problem() or 'reachable'}; CI={'true' if IN_CI else 'false'} "
            f"({'missing legs fail' if IN_CI else 'missing legs skip'})"]


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
    if request.param == "postgresql" and (problem := postgres_problem()):
        missing_leg(problem)
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
