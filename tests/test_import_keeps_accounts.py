"""`import --replace` replaces district data only: accounts, their sessions, ballots and pool history of teachers
still in the pool, runs and the audit log survive, and the import is audited.  `demo-users` never overwrites."""

from __future__ import annotations

import csv
import io
import json
import shutil

from sqlmodel import select
from typer.testing import CliRunner

from solver.policy import Policy
from staffing.cli import app
from staffing.db import session_scope
from staffing.db_models import (
    AuditLog,
    BallotRow,
    PlacementRun,
    PoolStatusChange,
    RankingRow,
    TeacherRow,
    UserRow,
    UserSession,
)
from staffing.runs import start_run
from staffing.services import set_ballot
from staffing.sessions import open_session
from tests.conftest import ROOT
from tests.web_support import password_of, seed_web_db
from web.auth import authenticate

SEED = ROOT / "seed_data" / "small"


def without_school(folder, school: str) -> None:
    """A copy of the seed bundle in ``folder`` with one school and everything that refers to it removed."""
    shutil.copytree(SEED, folder)
    gone = {"school": {school}, "vacancy": set(), "teacher": set()}
    for name, keys in (("schools.csv", {"school_id": "school"}),
                       ("vacancies.csv", {"school_id": "school"}),
                       ("teachers.csv", {"former_school_id": "school", "current_school_id": "school"}),
                       ("committees.csv", {"school_id": "school"}),
                       ("preferences.csv", {"school_id": "school", "teacher_id": "teacher"}),
                       ("rankings.csv", {"vacancy_id": "vacancy", "teacher_id": "teacher"}),
                       ("interviews.csv", {"vacancy_id": "vacancy", "teacher_id": "teacher"})):
        rows = list(csv.DictReader(io.StringIO((folder / name).read_text())))
        kept = []
        for row in rows:
            if any(row.get(col) in gone[kind] for col, kind in keys.items()):
                if name == "vacancies.csv":
                    gone["vacancy"].add(row["vacancy_id"])
                if name == "teachers.csv":
                    gone["teacher"].add(row["teacher_id"])
                continue
            kept.append(row)
        with (folder / name).open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(kept)


def test_replace_keeps_accounts_sessions_ballots_and_history(db_url, tmp_path, monkeypatch):
    seed_web_db(db_url)
    with session_scope(db_url) as s:
        teachers_before = len(s.exec(select(TeacherRow)).all())
        open_session(s, "p1")
        run_id = start_run(s, Policy(time_limit=3), "hr").id
        candidate = s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001")).first()
        set_ballot(s, "V00001", "c1", [candidate.teacher_id], "c1")
    bundle = tmp_path / "bundle"
    without_school(bundle, "S0004")
    monkeypatch.setenv("STAFFING_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["import", "--replace", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "9 account(s) kept" in result.output
    assert "4 account(s) kept without a school" in result.output and "p4" in result.output
    with session_scope(db_url) as s:
        users = {u.username: u for u in s.exec(select(UserRow))}
        assert len(users) == 9
        assert users["p1"].school_id == "S0001" and users["c1"].school_id == "S0001"
        assert users["p4"].school_id is None and users["c4a"].school_id is None
        assert authenticate(s, "hr", password_of("hr")) is not None  # passwords untouched
        assert s.exec(select(UserSession)).first() is not None
        assert [b.voter for b in s.exec(select(BallotRow))] == ["c1"]
        assert s.get(PlacementRun, run_id) is not None
        teachers = len(s.exec(select(TeacherRow)).all())
        assert 0 < teachers < teachers_before  # S0004's rows went with it
        # the first import's history of the teachers still in the pool, then the new import's
        assert len(s.exec(select(PoolStatusChange)).all()) == 2 * teachers
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "district", AuditLog.action == "replace")).one()
        after = json.loads(entry.after_json)
        assert after["school"] == 19 and after["app_user"] == 9 and after["accounts_without_school"] == [
            "c4a", "c4b", "c4c", "p4"]
        assert json.loads(entry.before_json)["school"] == 20


def test_demo_users_never_overwrite_an_account(db_url, monkeypatch):
    seed_web_db(db_url)
    monkeypatch.setenv("STAFFING_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["demo-users"])
    assert result.exit_code == 0, result.output
    assert "existing account(s) left as they were: hr, union" in result.output
    with session_scope(db_url) as s:
        assert authenticate(s, "hr", password_of("hr")) is not None
        assert authenticate(s, "hr", "demo") is None
        assert authenticate(s, "principal.S0001", "demo").demo
    monkeypatch.setenv("STAFFING_PRODUCTION", "true")
    monkeypatch.setenv("STAFFING_SECRET_KEY", "k" * 40)
    refused = CliRunner().invoke(app, ["demo-users"])
    assert refused.exit_code == 2 and "STAFFING_PRODUCTION is on" in refused.output


def test_add_user_and_passwd_on_the_command_line(db_url, monkeypatch):
    seed_web_db(db_url)
    monkeypatch.setenv("STAFFING_DATABASE_URL", db_url)
    short = CliRunner().invoke(app, ["add-user", "ana", "--role", "hr", "--password", "short"])
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    bad = CliRunner().invoke(app, ["add-user", "a b", "--role", "hr", "--password", "long-enough-pw"])
    assert bad.exit_code == 2 and "letters, digits" in bad.output
    made = CliRunner().invoke(app, ["add-user", "ana", "--role", "hr", "--password", "long-enough-pw"])
    assert made.exit_code == 0, made.output
    with session_scope(db_url) as s:
        open_session(s, "ana")
    changed = CliRunner().invoke(app, ["passwd", "ana"], input="another-long-pw\nanother-long-pw\n")
    assert changed.exit_code == 0, changed.output
    with session_scope(db_url) as s:
        assert authenticate(s, "ana", "another-long-pw") is not None
        assert s.exec(select(UserSession).where(UserSession.username == "ana")).first() is None
    missing = CliRunner().invoke(app, ["passwd", "nobody", "--password", "another-long-pw"])
    assert missing.exit_code == 2 and "no such user" in missing.output
