from __future__ import annotations

from pathlib import Path

import pytest

from staffing.db import get_engine, init_db
from staffing.seed import generate

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def small_district():
    return generate("small", 7)


@pytest.fixture
def db_url(tmp_path) -> str:
    """A fresh, migrated SQLite database per test."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    init_db(url)
    yield url
    get_engine(url).dispose()
