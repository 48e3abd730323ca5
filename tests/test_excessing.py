"""Excessing and dismissal to the pool on hand-made rosters (RULES.md, *Excessing and dismissal*): who goes for
each kind of model, the flags they take into the pool, refusals that change nothing, and the return right an
excessed teacher takes into the next round."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import func
from sqlmodel import select

from solver.policy import Policy
from staffing import pool_settings
from staffing.db import session_scope
from staffing.db_models import AuditLog, ExcessDecision, ExcessNotice, PoolEntry, TeacherRow, VacancyRow
from staffing.excessing import decisions, dismiss, excess, roster
from staffing.runs import run_placement
from staffing.store import load_district, save_district
from staffing.validation import ValidationError
from tests.builders import district, teacher


def staff(tid: str, school: str, since: str, certs: str = "MATH", tenured: bool = False):
    return replace(teacher(tid, certs, since, status="employed"), current_school_id=school, tenured=tenured)


#: S1 traditional (seniority, return rights), S2 boston_pilot (principal dismisses to the pool, no return rights),
#: S3 la_lis (mutual consent but seniority order, return rights, no dismissal).
SCHOOLS = {"S1": "traditional", "S2": "boston_pilot", "S3": "la_lis"}


def make(db_url, rosters, pool=(), vacancies=None, prefs=None):
    d = district(SCHOOLS, list(rosters) + list(pool), vacancies or {"V1": ("S1", "ELEM")}, prefs=prefs)
    with session_scope(db_url) as s:
        save_district(s, d)


def state(db_url) -> tuple:
    """Everything excessing may change: the whole district, notices, decisions, vacancies and the audit trail."""
    with session_scope(db_url) as s:
        return (load_district(s, open_only=False).to_json(),
                s.exec(select(func.count()).select_from(ExcessNotice)).one(),
                s.exec(select(func.count()).select_from(ExcessDecision)).one(),
                s.exec(select(func.count()).select_from(AuditLog)).one())


def pool_entry(db_url, tid):
    with session_scope(db_url) as s:
        e, t = s.get(PoolEntry, tid), s.get(TeacherRow, tid)
        return e.status, e.must_place, e.return_rights, e.displacement_reason, t.current_school_id, t.former_school_id


@pytest.mark.parametrize("school", ["S1", "S3"])
def test_seniority_models_excess_the_least_senior_with_ties_to_the_larger_id(db_url, school):
    make(db_url, [staff("A", school, "2001-01-01"), staff("B", school, "2015-06-01"), staff("C", school, "2015-06-01"),
                  staff("D", school, "2010-01-01"), staff("E", school, "2020-01-01", certs="SCI")])
    with session_scope(db_url) as s:
        assert [e.teacher_id for e in roster(s, school, "MATH")["MATH"]] == ["A", "D", "B", "C"]
        out = excess(s, school, "MATH", 2, actor="hr")
        assert [n.teacher_id for n in out.notices] == ["C", "B"]  # same date: the larger id goes first
        assert [e.teacher_id for e in roster(s, school)["MATH"]] == ["A", "D"]
        assert "reverse seniority" in out.decision.rule
    for tid in ("B", "C"):
        assert pool_entry(db_url, tid)[:1] == ("displaced",)
    assert pool_entry(db_url, "A")[0] == pool_entry(db_url, "E")[0] == "employed"


def test_one_more_post_cut_takes_the_next_least_senior(db_url):
    make(db_url, [staff("A", "S1", "2001-01-01"), staff("B", "S1", "2015-06-01"), staff("D", "S1", "2010-01-01")])
    with session_scope(db_url) as s:
        assert [n.teacher_id for n in excess(s, "S1", "MATH", 1, actor="hr").notices] == ["B"]
        assert [n.teacher_id for n in excess(s, "S1", "MATH", 1, actor="hr").notices] == ["D"]


def test_a_dismissing_model_sends_whom_the_principal_names_whatever_their_seniority(db_url):
    make(db_url, [staff("A", "S2", "2001-01-01"), staff("B", "S2", "2015-06-01"), staff("D", "S2", "2010-01-01")])
    with session_scope(db_url) as s:
        out = excess(s, "S2", "MATH", 1, teachers=["A"], actor="principal.S2")
        assert [n.teacher_id for n in out.notices] == ["A"] and "principal's choice" in out.decision.rule
        [d] = decisions(s)
        assert d["leaving"] == ["A"] and d["follows_reverse_seniority"] is False
        assert [e["teacher_id"] for e in d["seniority_list"]] == ["A", "D", "B"]
    assert pool_entry(db_url, "A") == ("displaced", False, False, "excessed", None, "S2")


def test_flags_follow_tenure_the_district_setting_and_the_model(db_url):
    make(db_url, [staff("A", "S1", "2001-01-01", tenured=True), staff("B", "S1", "2002-01-01", tenured=True),
                  staff("C", "S1", "2003-01-01"), staff("P", "S2", "2001-01-01", tenured=True),
                  staff("Q", "S2", "2002-01-01")])
    with session_scope(db_url) as s:
        excess(s, "S1", "MATH", 1, actor="hr")  # C: untenured
        excess(s, "S1", "MATH", 1, actor="hr")  # B: tenured
        dismiss(s, "S2", "P", "not a fit with the school's design", actor="principal.S2")
        pool_settings.set_value(s, "tenured_must_place", "false", "hr")
        excess(s, "S1", "MATH", 1, actor="hr")  # A: tenured, but the setting is now off
    assert pool_entry(db_url, "C") == ("displaced", False, True, "excessed", None, "S1")
    assert pool_entry(db_url, "B") == ("displaced", True, True, "excessed", None, "S1")
    assert pool_entry(db_url, "P") == ("displaced", True, False, "dismissed_to_pool", None, "S2")
    assert pool_entry(db_url, "A")[1:3] == (False, True)


def test_dismissal_records_the_reason_and_opens_the_post(db_url):
    make(db_url, [staff("P", "S2", "2001-01-01", certs="MATH;SCI")])
    with session_scope(db_url) as s:
        out = dismiss(s, "S2", "P", "did not meet the elect-to-work agreement", actor="principal.S2")
        [notice] = out.notices
        assert notice.reason == "did not meet the elect-to-work agreement" and "dismissal" in notice.rule
        opened = s.exec(select(VacancyRow).where(VacancyRow.school_id == "S2")).all()
        assert [(v.certification, v.status) for v in opened] == [("MATH", "open")]
        actions = {(a.action, a.entity) for a in s.exec(select(AuditLog))}
        assert {("dismiss", "excess_decision"), ("update", "pool_entry"), ("add", "vacancy")} <= actions


def test_bad_input_is_refused_with_the_reason_and_changes_nothing(db_url):
    make(db_url, [staff("A", "S1", "2001-01-01"), staff("B", "S1", "2015-06-01"), staff("X", "S2", "2001-01-01"),
                  staff("Y", "S2", "2002-01-01")], pool=[teacher("T9", "MATH")])
    before = state(db_url)
    cases = [
        (lambda s: excess(s, "S1", "MATH", 3, actor="hr"), "has 2 employed teacher(s) certified in MATH"),
        (lambda s: excess(s, "S1", "SCI", 1, actor="hr"), "has 0 employed teacher(s) certified in SCI"),
        (lambda s: excess(s, "S1", "MATH", 0, actor="hr"), "1 or more"),
        (lambda s: excess(s, "S1", "MATH", 1, teachers=["A"], actor="hr"), "decided by the rule, not named"),
        (lambda s: excess(s, "S2", "MATH", 1, actor="hr"), "lets the principal choose"),
        (lambda s: excess(s, "S2", "MATH", 1, teachers=["A"], actor="hr"), "'A' is not an employed teacher"),
        (lambda s: excess(s, "S2", "MATH", 1, teachers=["T9"], actor="hr"), "'T9' is not an employed teacher"),
        (lambda s: excess(s, "S2", "MATH", 1, teachers=["X", "X"], actor="hr"), "named twice"),
        (lambda s: excess(s, "S2", "MATH", 1, teachers=["X", "Y"], actor="hr"), "name exactly 1"),
        (lambda s: dismiss(s, "S1", "A", "poor fit", actor="hr"), "traditional may not dismiss a teacher to the pool"),
        (lambda s: dismiss(s, "S2", "A", "poor fit", actor="hr"), "not an employed teacher on the roster of S2"),
        (lambda s: dismiss(s, "S2", "X", "  ", actor="hr"), "needs a reason"),
    ]
    for call, message in cases:
        with pytest.raises(ValidationError) as caught, session_scope(db_url) as s:
            call(s)
        assert message in str(caught.value), (message, str(caught.value))
        assert state(db_url) == before, message


def test_the_solvers_snapshot_holds_no_employed_teacher(db_url):
    make(db_url, [staff("A", "S1", "2001-01-01")], pool=[teacher("T1", "ELEM")], prefs={"A": ["S1"], "T1": ["S1"]})
    with session_scope(db_url) as s:
        d = load_district(s)
        assert set(d.teachers) == {"T1"} and {p.teacher_id for p in d.preferences} == {"T1"}
        assert set(load_district(s, open_only=False).teachers) == {"A", "T1"}


def test_an_excessed_teacher_returns_to_their_school_in_the_next_round(db_url):
    """The least senior MATH teacher of S1 (traditional) is excessed; in the next round S1 posts a MATH vacancy
    that a far more senior displaced teacher also wants: the return right (class a) wins it."""
    make(db_url, [staff("A", "S1", "2001-01-01"), staff("B", "S1", "2019-01-01")],
         pool=[teacher("SENIOR", "MATH", "1995-01-01")],
         vacancies={"V1": ("S1", "MATH")}, prefs={"SENIOR": ["S1"]})
    with session_scope(db_url) as s:
        [notice] = excess(s, "S1", "MATH", 1, actor="hr").notices
        assert notice.teacher_id == "B" and notice.return_rights
    with session_scope(db_url) as s:
        outcome = run_placement(s, Policy(time_limit=5), actor="hr")
        placed = {a.teacher_id: a for a in outcome.result.placed}
        assert not outcome.violations
        assert placed["B"].vacancy_id == "V1" and placed["B"].kind == "return_right"
        assert "SENIOR" not in placed and "A" not in {a.teacher_id for a in outcome.result.assignments}


def test_without_the_excessing_the_senior_teacher_gets_the_post(db_url):
    """The control for the test above: the same round without the return right gives the post by seniority."""
    make(db_url, [staff("A", "S1", "2001-01-01"), replace(teacher("B", "MATH", "2019-01-01"))],
         pool=[teacher("SENIOR", "MATH", "1995-01-01")], vacancies={"V1": ("S1", "MATH")}, prefs={"SENIOR": ["S1"]})
    with session_scope(db_url) as s:
        placed = {a.teacher_id: a for a in run_placement(s, Policy(time_limit=5), actor="hr").result.placed}
        assert placed["SENIOR"].vacancy_id == "V1"


def test_decisions_keep_the_seniority_list_they_were_taken_against(db_url):
    make(db_url, [staff("A", "S1", "2001-01-01"), staff("B", "S1", "2015-06-01"), staff("D", "S1", "2010-01-01")])
    with session_scope(db_url) as s:
        excess(s, "S1", "MATH", 1, actor="hr")
        [d] = decisions(s, "S1")
        assert d["follows_reverse_seniority"] is True and d["leaving"] == ["B"]
        assert [(e["rank"], e["teacher_id"], e["leaves"]) for e in d["seniority_list"]] == \
            [(1, "A", False), (2, "D", False), (3, "B", True)]
        stored = json.loads(s.exec(select(ExcessDecision)).one().seniority_list)
        assert len(stored) == 3


def test_the_command_line_excesses_writes_notices_and_refuses_with_exit_code_2(tmp_path):
    import csv

    from typer.testing import CliRunner

    from staffing.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"STAFFING_DATABASE_URL": url}
    from staffing.db import init_db

    init_db(url)
    make(url, [staff("A", "S1", "2001-01-01", tenured=True), staff("B", "S1", "2015-06-01", tenured=True),
               staff("X", "S2", "2001-01-01")])
    runner = CliRunner()
    before = state(url)
    for args, message in ((["excess", "NOPE", "MATH", "1"], "school 'NOPE' does not exist"),
                          (["excess", "S1", "MATH", "3"], "cannot cut 3 post(s)"),
                          (["excess", "S1", "MATH", "1", "--teachers", "A"], "not named"),
                          (["dismiss", "S1", "A", "--reason", "fit"], "may not dismiss"),
                          (["pool-settings", "--set", "max_wishes=none"], "expected a whole number")):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert state(url) == before
    out = tmp_path / "notices.csv"
    result = runner.invoke(app, ["excess", "S1", "MATH", "1", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "B to the pool as displaced (must-place, return rights)" in result.output
    [row] = list(csv.DictReader(out.open()))
    assert row["teacher_id"] == "B" and row["school_id"] == "S1" and "reverse seniority" in row["rule"]
    result = runner.invoke(app, ["dismiss", "S2", "X", "--reason", "fit with the school's design"], env=env)
    assert result.exit_code == 0 and "X to the pool" in result.output
