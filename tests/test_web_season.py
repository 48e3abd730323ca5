"""The season's pages and API: HR-only access, inline refusals that change nothing, publish with
confirmation, principals seeing only published placements."""

from __future__ import annotations

import pytest
from sqlmodel import select

from staffing.db import session_scope
from staffing.db_models import AuditLog, OfferRow, Placement
from tests.web_support import build_template, client_for


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("seasontemplate"))


@pytest.fixture
def as_(template, tmp_path):
    return lambda user=None: client_for(template, tmp_path, user)


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'web.db'}"


def test_only_hr_reaches_the_season(as_):
    for user in ("union", "p1", "c1"):
        client = as_(user)
        assert client.get("/hr/season").status_code == 403
        assert client.get("/api/season").status_code == 403
        assert client.post("/api/teachers/T00001/answer", json={"answer": "accept"}).status_code == 403
        assert client.post("/api/season/advance", json={}).status_code == 403
    assert as_().get("/api/season").status_code == 401


def test_season_page_refuses_bad_input_inline_and_changes_nothing(as_, url):
    hr = as_("hr")
    page = hr.get("/hr/season")
    assert page.status_code == 200 and "phase preferences" in page.text
    # the must-place teachers still unplaced: the first 20 by name, the rest behind the pool's must-place filter
    n = int(page.text.split('id="must-place-unplaced">')[1].split("<")[0])
    listed = page.text.split("Must-place still unplaced:")[1].split("</p>")[0]
    assert n > 0 and listed.count('href="/hr/teachers/') == min(n, 20)
    assert ('more (<a href="/hr?flag=must_place">' in listed) == (n > 20)
    assert "now in phase interviews" in hr.post("/hr/season/advance", data={"to": "interviews"}).text
    back = hr.post("/hr/season/advance", data={"to": "preferences"})
    assert back.status_code == 409 and "cannot go back" in back.text
    none = hr.post("/hr/season/respond", data={"teacher_id": "T00001", "answer": "accept"})
    assert none.status_code == 409 and "no pending offer" in none.text
    ghost = hr.post("/hr/season/respond", data={"teacher_id": "GHOST", "answer": "accept"})
    assert ghost.status_code == 404 and "does not exist" in ghost.text
    bad = hr.post("/hr/season/vacancies", data={"vacancy_id": "VX", "school_id": "S0001", "certification": "NOPE"})
    assert bad.status_code == 422 and "NOPE" in bad.text
    days = hr.post("/hr/season/settings", data={"response_days": "many"})
    assert days.status_code == 422
    teacher = hr.post("/hr/season/teachers", data={"teacher_id": "TNEW", "name": "New", "certifications": "MATH",
                                                   "seniority_date": "someday", "salary": "60000",
                                                   "status": "new_hire"})
    assert teacher.status_code == 422 and "YYYY-MM-DD" in teacher.text
    ok = hr.post("/hr/season/vacancies", data={"vacancy_id": "VX", "school_id": "S0001", "certification": "MATH"})
    assert ok.status_code == 200 and "Vacancy VX added" in ok.text
    ok = hr.post("/hr/season/teachers", data={"teacher_id": "TNEW", "name": "New", "certifications": "MATH",
                                              "seniority_date": "2020-09-01", "salary": "60000", "status": "new_hire"})
    assert ok.status_code == 200 and "TNEW registered" in ok.text
    assert any(v["vacancy_id"] == "VX" for v in hr.get("/api/vacancies").json())
    assert hr.get("/api/season").json()["phase"] == "interviews"
    with session_scope(url) as s:
        actions = [(a.action, a.entity) for a in s.exec(select(AuditLog).where(AuditLog.actor == "hr"))]
    assert ("advance", "season") in actions and ("add", "vacancy") in actions and ("add", "teacher") in actions


def test_publish_needs_confirmation_and_principals_see_only_published_placements(as_, url):
    hr, p2, union = as_("hr"), as_("p2"), as_("union")  # S0002: S0001 is a charter outside the pool
    assert hr.post("/api/runs", json={"scenario": "district_rules", "time_limit": 3}).status_code == 202
    with session_scope(url) as s:
        ours = [p.teacher_id for p in s.exec(select(Placement).where(Placement.school_id == "S0002"))]
    assert ours
    assert "draft · lawful" in hr.get("/hr/runs").text
    page = p2.get("/schools/S0002").text
    assert "nothing published yet" in page and not any(t in page for t in ours)
    assert "draft" in union.get("/audit").text  # no published run yet: the newest, labelled as a draft
    unconfirmed = hr.post("/hr/runs/1/publish")
    assert unconfirmed.status_code == 422 and "tick the box" in unconfirmed.text
    done = hr.post("/hr/runs/1/publish", data={"confirm": "yes"})
    assert done.status_code == 200 and "Published:" in done.text
    again = hr.post("/hr/runs/1/publish", data={"confirm": "yes"})
    assert again.status_code == 409 and "already published" in again.text
    page = p2.get("/schools/S0002").text
    assert all(t in page for t in ours) and "pending" in page
    # HR answers through the API on a teacher's behalf; the answer shows on the principal's page
    answered = hr.post(f"/api/teachers/{ours[0]}/answer", json={"answer": "decline"})
    assert answered.status_code == 200 and answered.json()["status"] == "declined"
    assert hr.post(f"/api/teachers/{ours[0]}/answer", json={"answer": "accept"}).status_code == 409
    assert hr.get(f"/api/teachers/{ours[0]}/offers").json()[0]["answered_by"] == "hr"
    assert "declined" in p2.get("/schools/S0002").text
    # a second round; the first is listed published, the audit opens on the latest published run
    hr.post("/api/runs", json={"scenario": "district_rules", "time_limit": 3})
    labels = {r["id"]: (r["label"], r["lawful"]) for r in hr.get("/api/runs").json()}
    assert labels == {1: ("published", True), 2: ("draft", True)}
    assert "Run #1:" in union.get("/audit").text  # opens on the published round, not the newer draft
    with session_scope(url) as s:
        assert len(list(s.exec(select(OfferRow)))) > 0


def test_season_page_names_twenty_must_place_teachers_and_links_the_rest(as_, url):
    hr = as_("hr")
    page = hr.get("/hr/season")
    n = int(page.text.split('id="must-place-unplaced">')[1].split("<")[0])
    for i in range(max(0, 21 - n)):  # registered must-place teachers join the unplaced until there are 21 or more
        added = hr.post("/hr/season/teachers", data={"teacher_id": f"TMP{i}", "name": f"Must {i}",
                                                     "certifications": "MATH", "seniority_date": "2001-01-01",
                                                     "salary": "60000", "status": "displaced", "must_place": "1"})
        assert added.status_code == 200, added.text
    page = hr.get("/hr/season")
    n = int(page.text.split('id="must-place-unplaced">')[1].split("<")[0])
    listed = page.text.split("Must-place still unplaced:")[1].split("</p>")[0]
    assert n > 20 and listed.count('href="/hr/teachers/') == 20
    assert f'and {n - 20} more (<a href="/hr?flag=must_place">all of them in the pool</a>)' in listed
