"""A seeded database with demo users for the web tests: built once, copied per test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from staffing.bundle import read_bundle
from staffing.db import get_engine, init_db, session_scope
from staffing.store import save_district
from tests.conftest import ROOT
from web.app import create_app
from web.auth import create_user

USERS = {"hr": ("hr", None), "union": ("union", None), "p1": ("principal", "S0001"), "p2": ("principal", "S0002"),
         "c1": ("committee", "S0001"), "p4": ("principal", "S0004"), "c4a": ("committee", "S0004"),
         "c4b": ("committee", "S0004"), "c4c": ("committee", "S0004")}


def seed_web_db(url: str) -> None:
    """The shipped seed district and one user per role in a migrated database."""
    with session_scope(url) as s:
        save_district(s, read_bundle(ROOT / "seed_data" / "small"))
        for name, (role, school) in USERS.items():
            create_user(s, name, "pw-" + name, role, school)


def build_template(folder: Path) -> Path:
    path = folder / "template.db"
    url = f"sqlite:///{path}"
    init_db(url)
    seed_web_db(url)
    get_engine(url).dispose()  # closing the last connection checkpoints SQLite's WAL into the file we copy
    return path


def client_for(template: Path, folder: Path, user: str | None = None, url: str | None = None) -> TestClient:
    """A client on ``url`` (already seeded) or on this test's copy of the SQLite template."""
    if url is None:
        db = folder / "web.db"
        if not db.exists():
            shutil.copy(template, db)
        url = f"sqlite:///{db}"
    client = TestClient(create_app(url))
    if user:
        r = client.post("/login", data={"username": user, "password": "pw-" + user}, follow_redirects=False)
        assert r.status_code == 303, r.text
    return client


def abort_solver(url: str, run_id: int) -> None:
    """Stands in for a native crash of the solver (an abort in OR-Tools): the child process dies on SIGABRT."""
    os.abort()
