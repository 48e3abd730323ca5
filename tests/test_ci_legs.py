"""A leg that cannot run (no PostgreSQL server, no Chromium) skips locally with its true reason and fails under
CI=true, so a green CI always ran both legs."""

from __future__ import annotations

import pytest

from tests import conftest


def test_a_missing_leg_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="no server configured"):
        conftest.missing_leg("PostgreSQL leg: no server configured")
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="no server configured.*CI=true"):
        conftest.missing_leg("PostgreSQL leg: no server configured")


def test_the_postgresql_reason_tells_unset_from_unreachable(monkeypatch):
    conftest.postgres_problem.cache_clear()
    monkeypatch.setattr(conftest, "POSTGRES_URL", "")
    assert "no server configured" in conftest.postgres_problem()
    conftest.postgres_problem.cache_clear()
    monkeypatch.setattr(conftest, "POSTGRES_URL", "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/none")
    try:
        reason = conftest.postgres_problem()
        assert "cannot be reached" in reason and "127.0.0.1" in reason and "hunter2" not in reason
    finally:
        conftest.postgres_problem.cache_clear()
