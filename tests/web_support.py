"""A seeded database with demo users for the web tests: built once, copied per test."""

from __future__ import annotations

import os
import re
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


def password_of(user: str) -> str:
    """The test users' passwords: long enough for the minimum length rule."""
    return f"pw-{user}-correct-horse"


def csrf_of(client: TestClient) -> str:
    """The CSRF token of the client's session, as a browser finds it in the page (<meta name="csrf-token">)."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/login").text)
    assert match, "no CSRF token in the sign-in page"
    return match.group(1)


def seed_web_db(url: str) -> None:
    """The shipped seed district and one user per role in a migrated database."""
    with session_scope(url) as s:
        save_district(s, read_bundle(ROOT / "seed_data" / "small"))
        for name, (role, school) in USERS.items():
            create_user(s, name, password_of(name), role, school)


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
        r = client.post("/login", data={"username": user, "password": password_of(user), "csrf_token": csrf_of(client)},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
    # the token of the signed-in session, sent as htmx sends it from <body hx-headers>: every POST/PUT carries it
    client.headers["X-CSRF-Token"] = csrf_of(client)
    return client


def abort_solver(url: str, run_id: int) -> None:
    """Stands in for a native crash of the solver (an abort in OR-Tools): the child process dies on SIGABRT."""
    os.abort()
