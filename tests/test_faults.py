"""Faults on SQLite: a command-line run while web users write, two commands at once, and kill -9 in the middle
of an import and of a run.  Afterwards the state must be consistent and the app must start."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from staffing.cli import app as cli
from staffing.db import get_engine, session_scope
from staffing.db_models import PlacementRun, PoolEntry, RankingRow, SchoolRow, TeacherRow, UserRow
from staffing.locks import command_lock
from tests.conftest import ROOT
from tests.web_support import build_template, client_for, password_of
from web.auth import create_user
from web.runner import tradeoff_state


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("faulttemplate"))


@pytest.fixture
def db(template, tmp_path) -> str:
    path = tmp_path / "web.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def staffing(url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "STAFFING_DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "staffing.cli", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, seconds: float = 60, every: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def running_run(url: str) -> PlacementRun | None:
    with session_scope(url) as s:
        return s.exec(select(PlacementRun).where(PlacementRun.status == "running")).first()


def counts(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        return {t.__tablename__: s.exec(select(func.count()).select_from(t)).one()
                for t in (SchoolRow, TeacherRow, PoolEntry, UserRow)}


def app_starts(url: str) -> None:
    get_engine(url).dispose()
    client = client_for(None, Path("."), "hr", url)  # signs in: reads and writes the database
    assert client.get("/hr/runs").status_code == 200


def test_web_writes_succeed_while_the_command_line_solves(db, tmp_path):
    p1 = client_for(None, tmp_path, "p1", db)  # signed in before the solve starts
    place = staffing(db, "place", "--time-limit", "10", "--quiet", "--out", str(tmp_path / "p.csv"))
    writes, during, slowest = 0, 0, 0.0
    try:
        assert wait_for(lambda: running_run(db) is not None or place.poll() is not None), "the run never started"
        # click add and remove on one candidate for as long as the solve runs
        while place.poll() is None and writes < 200:
            was_running = running_run(db) is not None
            started = time.monotonic()
            action = "add" if writes % 2 == 0 else "remove"
            r = p1.post("/schools/S0001/vacancies/V00001/ranking", data={"teacher_id": "T00100", "action": action})
            assert r.status_code == 200, r.text
            slowest = max(slowest, time.monotonic() - started)
            writes += 1
            during += was_running and running_run(db) is not None  # wholly inside the solve
        out, err = place.communicate(timeout=300)
    finally:
        if place.poll() is None:
            place.kill()
    assert during >= 1, "no write fell inside the solve: the test proved nothing"
    assert slowest < 5, f"a write waited {slowest:.1f} s for the solve"  # not blocked by a solve-long lock
    assert place.returncode == 0, err
    assert "Traceback" not in err
    with session_scope(db) as s:
        ranked = [r.teacher_id for r in s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001"))]
        assert ("T00100" in ranked) == (writes % 2 == 1)  # every click was recorded
        assert s.exec(select(PlacementRun)).one().status == "done"


def test_a_second_command_waits_or_stops_with_a_clear_message(db, monkeypatch):
    monkeypatch.setenv("STAFFING_DATABASE_URL", db)
    seed = str(ROOT / "seed_data" / "small")
    with command_lock(db, "import"):
        result = CliRunner().invoke(cli, ["import", "--replace", seed])
    assert result.exit_code == 2 and "is writing to this database" in result.output
    assert "Traceback" not in result.output
    # with a wait, the second one runs once the first has finished
    monkeypatch.setenv("STAFFING_COMMAND_WAIT_SECONDS", "30")
    held = threading.Event()

    def first() -> None:
        with command_lock(db, "import"):
            held.set()
            time.sleep(1.5)

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(10)
    result = CliRunner().invoke(cli, ["import", "--replace", seed])
    thread.join()
    assert result.exit_code == 0, result.output


def test_kill_9_in_the_middle_of_an_import_leaves_the_old_district(db, tmp_path):
    bundle = tmp_path / "mid"
    assert CliRunner().invoke(cli, ["seed", "--size", "mid", "--out", str(bundle)]).exit_code == 0
    before = counts(db)
    get_engine(db).dispose()
    importing = staffing(db, "import", "--replace", str(bundle))

    def writing() -> bool:
        """Whether the import holds SQLite's write lock: its transaction is open and not committed."""
        probe = sqlite3.connect(db.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()

    caught = wait_for(lambda: importing.poll() is not None or writing(), seconds=120, every=0.005)
    importing.send_signal(signal.SIGKILL)
    importing.wait(30)
    assert caught and importing.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    now = counts(db)
    # one transaction: the old district whole (the kill came before the commit, as it nearly always does) or,
    # if the commit slipped in between the probe and the kill, the new one whole; never a mixture
    assert now == before or (now["school"] == 300 and now["teacher"] == now["pool_entry"] == 1500
                             and now["app_user"] == before["app_user"]), now
    app_starts(db)
    again = staffing(db, "import", "--replace", str(bundle))  # the lock died with the process
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    after = counts(db)
    assert after["school"] == 300 and after["teacher"] == after["pool_entry"] and after["app_user"] == before["app_user"]


def test_kill_9_during_a_run_marks_it_failed_with_why(tmp_path):
    # a region-size district: its round outlasts the kill below whatever the machine's speed (the small one may not)
    db = f"sqlite:///{tmp_path / 'region.db'}"
    for args in (["seed", "--size", "region", "--seed", "1", "--out", str(tmp_path / "region")],
                 ["import", str(tmp_path / "region"), "--database-url", db]):
        assert CliRunner().invoke(cli, args).exit_code == 0
    with session_scope(db) as s:
        create_user(s, "hr", password_of("hr"), "hr")  # for app_starts' sign-in
    place = staffing(db, "place", "--time-limit", "60", "--quiet", "--out", str(tmp_path / "p.csv"))
    try:
        assert wait_for(lambda: running_run(db) is not None or place.poll() is not None)
        time.sleep(1)
        assert place.poll() is None
    finally:
        place.send_signal(signal.SIGKILL)
        place.wait(30)
    run_id = running_run(db).id
    listing = CliRunner().invoke(cli, ["runs", "--database-url", db])
    assert listing.exit_code == 0 and f"failed: the process solving this run ended" in listing.output
    with session_scope(db) as s:
        run = s.get(PlacementRun, run_id)
        assert run.status == "failed" and "killed" in json.loads(run.figures_json)["error"]
    app_starts(db)


def test_a_trade_off_analysis_whose_server_died_is_not_running_for_ever(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    from staffing.runs import this_process

    (tmp_path / "running").write_text(json.dumps({"process": this_process(gone.pid), "actor": "hr"}))
    state = tradeoff_state(tmp_path)
    assert not state["running"] and "interrupted" in state["error"]
    assert not (tmp_path / "running").exists()
    (tmp_path / "running").write_text(json.dumps({"process": this_process(), "actor": "hr"}))  # alive: running
    assert tradeoff_state(tmp_path)["running"]


def test_the_command_lock_on_each_backend(db_url):
    """A second holder is refused while the first holds the lock, and gets it once released."""
    from staffing.locks import CommandBusy

    with command_lock(db_url, "import"):
        with pytest.raises(CommandBusy, match="is writing to this database"):
            with command_lock(db_url, "place", wait_seconds=0.3):
                pass
    with command_lock(db_url, "place"):
        pass


def test_a_web_write_on_a_locked_sqlite_database_is_a_clear_503(db, tmp_path, monkeypatch):
    """Another program holding SQLite's write lock past the busy timeout: a message and Retry-After, not a 500."""
    import sqlite3

    monkeypatch.setenv("STAFFING_BUSY_SECONDS", "1")
    p1 = client_for(None, tmp_path, "p1", db)
    holder = sqlite3.connect(db.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        r = p1.post("/schools/S0001/vacancies/V00001/ranking", data={"teacher_id": "T00100", "action": "add"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.status_code == 503 and "busy" in r.text and r.headers["retry-after"] == "5"
    ok = p1.post("/schools/S0001/vacancies/V00001/ranking", data={"teacher_id": "T00100", "action": "add"})
    assert ok.status_code == 200


def _orphan_target(path: str) -> None:
    """A stand-in solver child: it watches its parent, then works for a long time."""
    from web.runner import watch_parent

    watch_parent(lambda: Path(path).write_text("orphaned"), every=0.2)
    time.sleep(120)


def test_a_solver_child_ends_itself_when_its_server_is_killed(tmp_path):
    note = tmp_path / "note"
    parent = subprocess.Popen(
        [sys.executable, "-c", "import multiprocessing as mp, sys, tests.test_faults as t\n"
         "child = mp.get_context('spawn').Process(target=t._orphan_target, args=(sys.argv[1],))\n"
         "child.start(); print(child.pid, flush=True); child.join()", str(note)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait(30)

    def child_gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        # a zombie until reaped by init counts as gone
        return Path(f"/proc/{child}/stat").exists() and Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"

    assert wait_for(child_gone, seconds=30, every=0.1), "the orphaned child kept running"
    assert note.read_text() == "orphaned"
