"""Real concurrent sessions: committee members ranking at once, a principal editing while HR snapshots a
run, two HR users publishing.  The guarantees are made for PostgreSQL (the production database); the
append-only audit log is checked on both backends."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from solver.policy import Policy
from staffing.bundle import read_bundle
from staffing.db import session_scope
from staffing.db_models import AuditLog, PoolStatusChange, RankingRow, VacancyRow
from staffing.runs import PoolChanged, publish_run, run_placement, run_snapshot, start_run
from staffing.services import log_change, move_in_ranking
from staffing.store import save_district
from tests.conftest import ROOT

FAST = Policy(time_limit=3)


@pytest.fixture
def loaded(db_url):
    with session_scope(db_url) as s:
        save_district(s, read_bundle(ROOT / "seed_data" / "small"))
    return db_url


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("concurrency guarantees are for PostgreSQL; SQLite serializes writers and may answer 'busy'")


def together(*jobs: Callable[[], object]) -> list[object]:
    """Run the jobs in threads released at the same instant; return results (exceptions as values)."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def runner(i: int, job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - returned to the test to assert on
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_committee_members_clicking_at_once_lose_no_update(loaded, postgres_only):
    with session_scope(loaded) as s:
        pool = [r[0] for r in s.execute(text("SELECT teacher_id FROM pool_entry ORDER BY teacher_id LIMIT 6"))]
        s.execute(text("DELETE FROM ranking WHERE vacancy_id = 'V00001'"))

    def click(tid: str):
        def job():
            with session_scope(loaded) as s:
                return move_in_ranking(s, "V00001", tid, "add", actor=f"member-{tid}")
        return job

    results = together(*(click(t) for t in pool))
    assert not [r for r in results if isinstance(r, Exception)], results
    with session_scope(loaded) as s:
        ranking = s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001").order_by(RankingRow.rank)).all()
        version = s.get(VacancyRow, "V00001").version
    assert sorted(r.teacher_id for r in ranking) == sorted(pool)  # every click landed
    assert [r.rank for r in ranking] == list(range(1, len(pool) + 1))
    assert version == 1 + len(pool)


def test_a_run_reads_one_consistent_snapshot_while_a_principal_edits(loaded, postgres_only):
    """The editor changes a vacancy's FTE and its ranking together; every snapshot must see both or neither."""
    stop = threading.Event()
    with session_scope(loaded) as s:
        a, b = [r[0] for r in s.execute(text("SELECT teacher_id FROM pool_entry ORDER BY teacher_id LIMIT 2"))]

    def edit(flip: int) -> None:
        with session_scope(loaded) as s:
            s.execute(update(VacancyRow).where(VacancyRow.vacancy_id == "V00001").values(fte=0.5 if flip else 1.0))
            s.execute(text("DELETE FROM ranking WHERE vacancy_id = 'V00001'"))
            s.execute(text("INSERT INTO ranking (vacancy_id, teacher_id, rank) VALUES ('V00001', :t, 1)"),
                      {"t": a if flip else b})

    def editor():
        flip = 0
        while not stop.is_set():
            flip ^= 1
            edit(flip)

    edit(0)  # the invariant holds before the first snapshot too
    thread = threading.Thread(target=editor)
    thread.start()
    try:
        snapshots = []
        for _ in range(15):
            with session_scope(loaded) as s:
                run = start_run(s, FAST, actor="hr")
                snapshots.append(run_snapshot(run)[0])
    finally:
        stop.set()
        thread.join(30)
    for d in snapshots:
        ranked = [r.teacher_id for r in d.rankings if r.vacancy_id == "V00001"]
        assert ranked == ([a] if d.vacancies["V00001"].fte == 0.5 else [b])


def test_two_hr_users_publishing_the_same_run_publish_it_once(loaded, postgres_only):
    with session_scope(loaded) as s:
        outcome = run_placement(s, FAST, actor="hr")
        run_id, placed = outcome.run.id, len(outcome.result.placed)

    def publish(user: str):
        def job():
            with session_scope(loaded) as s:
                return publish_run(s, run_id, user)[1]
        return job

    results = together(publish("hr-ana"), publish("hr-ben"), publish("hr-cy"))
    assert sorted(results) == [False, False, True], results
    with session_scope(loaded) as s:
        assert len(s.exec(select(VacancyRow).where(VacancyRow.status == "filled")).all()) == placed
        assert len(s.exec(select(PoolStatusChange).where(PoolStatusChange.to_status == "placed")).all()) == placed


def test_two_runs_on_one_snapshot_cannot_both_be_published(loaded, postgres_only):
    with session_scope(loaded) as s:
        first = run_placement(s, FAST, actor="hr").run.id
    with session_scope(loaded) as s:
        second = run_placement(s, FAST.with_(name="all_mutual_consent"), actor="hr").run.id

    def publish(run_id: int):
        def job():
            with session_scope(loaded) as s:
                return publish_run(s, run_id, "hr")[1]
        return job

    results = together(publish(first), publish(second))
    assert sum(r is True for r in results) == 1
    assert sum(isinstance(r, PoolChanged) for r in results) == 1, results


def test_the_audit_log_is_append_only(loaded):
    with session_scope(loaded) as s:
        log_change(s, "hr", "add", "test", "1", None, "{}")
    with pytest.raises(Exception, match="append-only"):
        with session_scope(loaded) as s:
            s.execute(update(AuditLog).values(actor="someone else"))
    with pytest.raises(Exception, match="append-only"):
        with session_scope(loaded) as s:
            s.execute(text("DELETE FROM audit_log"))
    with session_scope(loaded) as s:
        assert [a.actor for a in s.exec(select(AuditLog))] == ["import", "hr"]  # the import's entry, then ours
