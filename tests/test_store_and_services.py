"""Persistence: imports are all or nothing, services validate, version, audit-log every change."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from staffing.db import session_scope
from staffing.db_models import AuditLog, PoolStatusChange, RankingRow, TeacherRow
from staffing.domain import CommitteeMember, Interview, Vacancy
from staffing.services import (
    StaleVersion,
    add_committee_member,
    add_teacher,
    add_vacancy,
    record_interview,
    set_pool_status,
    set_preferences,
    set_rankings,
    update_teacher,
)
from staffing.store import DistrictExists, load_district, save_district
from staffing.validation import ValidationError
from tests.builders import teacher


@pytest.fixture
def loaded(db_url, small_district):
    with session_scope(db_url) as s:
        save_district(s, small_district)
    return db_url


def count(url, table) -> int:
    with session_scope(url) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def test_database_round_trip_gives_the_same_district(loaded, small_district):
    with session_scope(loaded) as s:
        assert load_district(s).snapshot_hash() == small_district.snapshot_hash()


def test_second_import_needs_replace_and_failed_import_changes_nothing(loaded, small_district):
    with pytest.raises(DistrictExists):
        with session_scope(loaded) as s:
            save_district(s, small_district)
    before = count(loaded, TeacherRow)
    teachers = dict(small_district.teachers)
    teachers["T00001"] = teacher("T00001", return_to="NO_SUCH_SCHOOL")  # violates the foreign key
    broken = replace(small_district, teachers=teachers)
    with pytest.raises(IntegrityError):
        with session_scope(loaded) as s:
            save_district(s, broken, replace=True)
    assert count(loaded, TeacherRow) == before
    with session_scope(loaded) as s:
        assert s.get(TeacherRow, "T00001").former_school_id != "NO_SUCH_SCHOOL"


def test_add_teacher_validates_every_field_at_once(loaded):
    bad = teacher("T00001", certs="MATH;ASTRO", since="2999-01-01", return_to="S9999")
    with pytest.raises(ValidationError) as exc:
        with session_scope(loaded) as s:
            add_teacher(s, bad, actor="hr")
    text = str(exc.value)
    for expected in ("field certifications: unknown certification 'ASTRO'", "field seniority_date",
                     "field former_school_id: unknown school 'S9999'", "field teacher_id: duplicate id 'T00001'"):
        assert expected in text
    assert text.startswith("teacher T00001")


def test_add_teacher_writes_pool_entry_history_and_audit_log(loaded):
    with session_scope(loaded) as s:
        add_teacher(s, teacher("T90000", certs="SPED", must_place=True), actor="hr-ana")
    with session_scope(loaded) as s:
        history = s.exec(select(PoolStatusChange).where(PoolStatusChange.teacher_id == "T90000")).all()
        log = s.exec(select(AuditLog).where(AuditLog.entity_id == "T90000")).all()
    assert [h.to_status for h in history] == ["displaced"] and history[0].must_place
    assert log[0].actor == "hr-ana" and log[0].action == "add" and json.loads(log[0].after_json)["certifications"] == "SPED"


def test_pool_status_change_is_versioned_and_kept_in_history(loaded):
    with session_scope(loaded) as s:
        entry = set_pool_status(s, "T00002", "hr", status="new_hire", must_place=False, return_rights=False,
                                expected_version=1, note="rehired")
        assert entry.version == 2
    with pytest.raises(StaleVersion, match="changed by someone else"):
        with session_scope(loaded) as s:
            set_pool_status(s, "T00002", "hr", status="displaced", must_place=True, return_rights=False,
                            expected_version=1)
    with session_scope(loaded) as s:
        statuses = [h.to_status for h in s.exec(select(PoolStatusChange).where(
            PoolStatusChange.teacher_id == "T00002").order_by(PoolStatusChange.id))]
    assert statuses[-1] == "new_hire" and len(statuses) == 2


def test_update_teacher_rejects_future_seniority_and_unknown_fields(loaded):
    with pytest.raises(ValidationError, match="seniority_date: .* is in the future"):
        with session_scope(loaded) as s:
            update_teacher(s, "T00003", "hr", seniority_date=date(2999, 1, 1))
    with pytest.raises(ValidationError, match="status: cannot be changed here"):
        with session_scope(loaded) as s:
            update_teacher(s, "T00003", "hr", status="new_hire")
    with session_scope(loaded) as s:
        row = update_teacher(s, "T00003", "hr", expected_version=1, salary=70_000)
        assert row.version == 2


def test_vacancy_at_unknown_school_and_unknown_certification(loaded):
    with pytest.raises(ValidationError) as exc:
        with session_scope(loaded) as s:
            add_vacancy(s, Vacancy("V00001", "S9999", "BASKETWEAVING"), actor="hr")
    text = str(exc.value)
    assert "school_id: unknown school 'S9999'" in text and "unknown certification 'BASKETWEAVING'" in text
    assert "duplicate id 'V00001'" in text


def test_ranking_a_candidate_who_is_not_in_the_pool_writes_nothing(loaded):
    with session_scope(loaded) as s:
        before = [r.teacher_id for r in s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001"))]
    with pytest.raises(ValidationError, match="'NOBODY' is not a teacher in the pool"):
        with session_scope(loaded) as s:
            set_rankings(s, "V00001", ["T00001", "NOBODY"], actor="principal")
    with session_scope(loaded) as s:
        after = [r.teacher_id for r in s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001"))]
    assert after == before


def test_rankings_preferences_interviews_committees_are_saved_and_logged(loaded):
    with session_scope(loaded) as s:
        set_rankings(s, "V00001", ["T00003", "T00001"], actor="p1")
        set_preferences(s, "T00001", ["S0002", "S0001"], actor="t1")
        record_interview(s, Interview("V00001", "T00003", date(2026, 4, 2)), actor="p1")
        add_committee_member(s, CommitteeMember("S0001", "Dana Reyes", "parent"), actor="p1")
    with session_scope(loaded) as s:
        ranks = s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001").order_by(RankingRow.rank)).all()
        assert [r.teacher_id for r in ranks] == ["T00003", "T00001"]
        actions = {(a.entity, a.actor) for a in s.exec(select(AuditLog))}
    assert {("ranking", "p1"), ("preferences", "t1"), ("interview", "p1"), ("committee_member", "p1")} <= actions
    with pytest.raises(ValidationError, match="role: must be one of"):
        with session_scope(loaded) as s:
            add_committee_member(s, CommitteeMember("S0001", "X", "mascot"), actor="p1")
    with pytest.raises(ValidationError, match="appears twice"):
        with session_scope(loaded) as s:
            set_preferences(s, "T00001", ["S0002", "S0002"], actor="t1")


def test_replay_reproduces_a_run_without_proving_its_bound_again(loaded, monkeypatch):
    """A run recorded with ``bound_seconds`` replays to the same placements without the minutes of the extra
    bound: the bound never changes a placement."""
    from solver.cpsat import report
    from solver.policy import Policy
    from staffing.runs import replay, run_placement

    policy = Policy(time_limit=5).with_settings(lp_bound_pairs=0, bound_seconds=2.0)
    with session_scope(loaded) as s:
        outcome = run_placement(s, policy, actor="hr")
        stages = outcome.result.solve.stages
        assert any(stage.lagrangian_bound is not None for stage in stages.values())

    def refuse(*args, **kwargs):
        raise AssertionError("replay proved the bound again")

    monkeypatch.setattr(report, "_lagrangian_bounds", refuse)
    with session_scope(loaded) as s:
        assert replay(s, outcome.run).diffs == []
