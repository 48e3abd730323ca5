"""Rosters, excessing, notices and the teacher's own page over HTTP (TestClient): every route under the teacher
role shows nothing of another teacher, and each role reaches only what the access rules give it."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from fastapi.routing import APIRoute
from sqlmodel import select

from solver.policy import Policy
from staffing.db import get_engine, init_db, session_scope
from staffing.db_models import (
    AuditLog,
    ExcessNotice,
    OfferRow,
    Placement,
    PoolEntry,
    TeacherPreferenceRow,
    TeacherRow,
    UserRow,
)
from staffing.excessing import excess
from staffing import season
from staffing.runs import run_placement
from tests.web_support import client_for, password_of, seed_web_db
from web.app import create_app
from web.auth import create_user

#: Teachers who sign in: two pool teachers with lists, an employed teacher, and one excessed below.
TEACHERS = ("T00001", "T00003", "T00101")


def build_teacher_template(folder) -> tuple:
    """The web tests' seeded district, an excessing at S0002 (traditional), sign-ins ``t.<teacher id>`` (password
    ``password_of("t.<teacher id>")``) and a round published as offers; returns (database path, excessed teacher, run id)."""
    path = folder / "template.db"
    url = f"sqlite:///{path}"
    init_db(url)
    seed_web_db(url)
    with session_scope(url) as s:
        excessed = excess(s, "S0002", "MATH", 1, actor="hr").notices[0].teacher_id
        for tid in TEACHERS + (excessed,):
            create_user(s, f"t.{tid}", password_of(f"t.{tid}"), "teacher", teacher_id=tid)
    with session_scope(url) as s:
        run = run_placement(s, Policy(time_limit=5), actor="hr").run
        season.publish(s, run.id, "hr")  # as HR publishes: its placements become pending offers
    get_engine(url).dispose()
    return path, excessed, run.id


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_teacher_template(tmp_path_factory.mktemp("teachers"))


@pytest.fixture
def as_(template, tmp_path):
    path, _, _ = template
    db = tmp_path / "web.db"
    shutil.copy(path, db)
    return lambda user=None: client_for(path, tmp_path, user)


def url_of(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'web.db'}"


def private_marks(url: str, tid: str) -> list[str]:
    """What only this teacher's own record shows: their id and name (their notices, list and flags go with it)."""
    with session_scope(url) as s:
        row = s.get(TeacherRow, tid)
        return [tid, row.name]


def api_routes(routes) -> list[APIRoute]:
    """Every endpoint, looking inside included routers (FastAPI keeps them nested)."""
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif getattr(route, "original_router", None) is not None:
            out += api_routes(route.original_router.routes)
    return out


def concrete_paths(app, run_id: int, notice_id: int):
    values = {"school_id": "S0002", "vacancy_id": "V00002", "run_id": str(run_id), "notice_id": str(notice_id),
              "name": "report.html", "key": "max_wishes"}
    routes = api_routes(app.routes)
    assert len(routes) > 40 and any(r.path == "/me" for r in routes)
    for route in routes:
        path = route.path
        for key, value in values.items():
            path = path.replace("{" + key + "}", value)
        path = re.sub(r"\{[^}]+\}", "x", path)  # a route added later: any value, the teacher is refused anyway
        for method in route.methods:
            yield method, route.path, path


OWN = {"/me", "/me/preferences", "/api/me", "/api/me/record", "/api/me/preferences", "/api/notices",
       "/me/offers/answer", "/api/me/offers", "/api/me/offers/answer", "/account/password",
       "/api/notices/{notice_id}", "/notices/{notice_id}", "/", "/login", "/logout", "/api/login"}


def without_explained_occupants(r) -> str:
    """The response with the one place another teacher may appear taken out: who was placed instead at a school
    the teacher ranked higher (the "why" the issue asks for)."""
    if "application/json" in r.headers.get("content-type", ""):
        data = r.json()
        if isinstance(data, dict):
            for e in data.get("explanations", []):
                for school in e["above"]:
                    for post in school["posts"]:
                        post.pop("placed")
        return json.dumps(data)
    return re.sub(r'<section class="explanation".*?</section>', "", r.text, flags=re.S)


def test_every_route_under_the_teacher_role_shows_nothing_of_another_teacher(template, as_, tmp_path):
    _, excessed, run_id = template
    url = url_of(tmp_path)
    as_()  # copies the template
    with session_scope(url) as s:
        notice_id = s.exec(select(ExcessNotice)).first().id
    app = create_app(url)
    checked = 0
    for me in TEACHERS + (excessed,):
        client = as_(f"t.{me}")
        others = [t for t in TEACHERS + (excessed,) if t != me]
        for method, pattern, path in concrete_paths(app, run_id, notice_id):
            if pattern in ("/logout", "/api/logout", "/docs", "/favicon.ico"):  # sign-out ends the test; public, no data
                continue
            body = {"school_ids": []} if method == "PUT" else None
            r = client.request(method, path, json=body, follow_redirects=False) if body is not None else \
                client.request(method, path, follow_redirects=False)
            if pattern not in OWN:
                assert r.status_code in (403, 404, 405, 422), (me, method, path, r.status_code)
                continue
            if r.status_code == 200:
                checked += 1
                text = without_explained_occupants(r)
                for other in others:
                    for mark in private_marks(url, other):
                        assert mark not in text, (me, method, path, other, mark)
            if pattern == "/notices/{notice_id}" or pattern == "/api/notices/{notice_id}":
                assert r.status_code == (200 if me == excessed else 403), (me, path, r.status_code)
    assert checked >= 4 * 4


def test_the_teacher_page_is_their_own_record(template, as_, tmp_path):
    _, excessed, run_id = template
    t = as_(f"t.{excessed}")
    assert t.get("/", follow_redirects=False).headers["location"] == "/me"
    record = t.get("/api/me/record").json()
    assert record["teacher_id"] == excessed and record["status"] == "displaced"
    assert record["return_rights"]["school_id"] == "S0002" and record["return_rights"]["honoured_by_model"]
    assert [n["teacher_id"] for n in record["notices"]] == [excessed]
    assert [e["run_id"] for e in record["explanations"]] == [run_id]
    assert {s["certification"] for s in record["seniority"]} >= {"MATH"}
    page = t.get("/me").text
    assert "Why: the published rounds" in page and f"Round #{run_id}" in page and 'id="offers"' in page
    employed = as_("t.T00101").get("/api/me/record").json()
    assert employed["status"] == "employed" and employed["explanations"] == []
    assert all(s["school_rank"] for s in employed["seniority"])


def test_the_explanation_names_who_got_each_school_ranked_higher_and_the_lawful_reason(template, as_, tmp_path):
    _, _, run_id = template
    url = url_of(tmp_path)
    as_()
    with session_scope(url) as s:
        with_list = {p.teacher_id for p in s.exec(select(TeacherPreferenceRow))}
        mine = {p.teacher_id: p for p in s.exec(select(Placement).where(Placement.run_id == run_id))}
    explained = 0
    for tid in TEACHERS[:2]:
        record = as_(f"t.{tid}").get("/api/me/record").json()
        [e] = record["explanations"]
        assert e["outcome"] == ("placed" if mine[tid].vacancy_id else "unplaced")
        assert e["recorded_reason"] == mine[tid].reason and e["listed"] == (tid in with_list)
        for school in e["above"]:
            assert school["your_rank"] < (min(r["rank"] for r in record["preferences"] if r["school_id"] == e["school"])
                                          if e["school"] in [r["school_id"] for r in record["preferences"]] else 10**9)
            for post in school["posts"]:
                explained += 1
                assert not post["reason"].startswith("VIOLATION")
                assert re.match(r"(certification|committee ranking|seniority|seniority class|left open|model exempt)",
                                post["reason"]), post["reason"]
    assert explained, "the seeded teachers ranked schools above their outcome: something to explain"


def test_a_teacher_edits_only_their_own_list_with_clear_refusals(template, as_, tmp_path):
    url = url_of(tmp_path)
    t = as_("t.T00003")
    start = t.get("/api/me/record").json()["preferences"]
    ids = [p["school_id"] for p in start]
    assert t.post("/me/preferences", data={"school_id": ids[-1], "action": "up"}).status_code == 200
    after = [p["school_id"] for p in t.get("/api/me/record").json()["preferences"]]
    assert after == ids[:-2] + [ids[-1], ids[-2]]
    with session_scope(url) as s:
        others_before = sorted((p.teacher_id, p.school_id, p.rank) for p in s.exec(select(TeacherPreferenceRow))
                               if p.teacher_id != "T00003")
        audit_before = len(s.exec(select(AuditLog)).all())

    def refused(r, message):
        assert r.status_code == 422, r.text
        assert message in (r.text if "text/html" in r.headers["content-type"] else json.dumps(r.json()))
        assert [p["school_id"] for p in t.get("/api/me/record").json()["preferences"]] == after

    refused(t.put("/api/me/preferences", json={"school_ids": ["S0001", "NOPE"]}), "unknown school 'NOPE'")
    refused(t.put("/api/me/preferences", json={"school_ids": ["S0001", "S0001"]}), "appears twice")
    refused(t.post("/me/preferences", data={"school_id": "NOPE", "action": "add"}), "unknown school")
    refused(t.post("/me/preferences", data={"school_id": after[0], "action": "add"}), "already on your list")
    many = [f"S{i:04d}" for i in range(1, 12)]
    refused(t.put("/api/me/preferences", json={"school_ids": many}), "at most 10")
    with session_scope(url) as s:
        from staffing import pool_settings
        pool_settings.set_value(s, "preferences_deadline", "2020-01-01", "hr")
    refused(t.put("/api/me/preferences", json={"school_ids": ["S0001"]}), "deadline (2020-01-01) has passed")
    assert "can no longer be changed" in t.get("/me").text
    with session_scope(url) as s:
        assert sorted((p.teacher_id, p.school_id, p.rank) for p in s.exec(select(TeacherPreferenceRow))
                      if p.teacher_id != "T00003") == others_before
        assert len(s.exec(select(AuditLog)).all()) == audit_before + 1  # only the deadline setting


def test_roster_and_excessing_access_by_role(template, as_, tmp_path):
    _, excessed, _ = template
    hr, union, p1, p2, c1 = (as_(u) for u in ("hr", "union", "p1", "p2", "c1"))
    for client in (hr, union, p2):
        assert client.get("/schools/S0002/roster").status_code == 200
        assert client.get("/api/schools/S0002/roster").status_code == 200
    assert p1.get("/schools/S0002/roster").status_code == 403 and c1.get("/schools/S0001/roster").status_code == 403
    page = union.get("/excessing").text
    assert excessed in page and "reverse seniority" in page and "leaves" in page
    assert union.post("/api/schools/S0002/excess", json={"certification": "ART", "n": 1}).status_code == 403
    assert p1.post("/api/schools/S0002/excess", json={"certification": "ART", "n": 1}).status_code == 403
    assert p1.get("/notices/1").status_code == 403 and p2.get("/notices/1").status_code == 200
    assert union.get("/notices/1").status_code == 200 and hr.get("/api/notices").json()
    assert p1.get("/api/notices").json() == [] and len(p2.get("/api/notices").json()) == 1
    r = p2.post("/schools/S0002/excess", data={"certification": "ART", "n": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/excessing#decision-")
    r = p2.post("/schools/S0002/excess", data={"certification": "ART", "n": "9"})
    assert r.status_code == 422 and "cannot cut 9 post(s)" in r.text
    r = p2.post("/schools/S0002/excess", data={"certification": "ART", "n": "two"})
    assert r.status_code == 422 and "whole number" in r.text
    r = p2.post("/schools/S0002/dismiss", data={"teacher_id": "T00106", "reason": "fit"})
    assert r.status_code == 422 and "traditional may not dismiss" in r.text
    r = hr.post("/api/schools/S0002/excess", json={"certification": "ENG", "n": 1, "teachers": ["T00109"]})
    assert r.status_code == 422 and "not named" in r.text
    assert hr.get("/schools/NOPE/roster").status_code == 404


def test_teacher_users_need_a_teacher_and_list_without_passwords(tmp_path):
    from typer.testing import CliRunner

    from staffing.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    init_db(url)
    seed_web_db(url)
    runner = CliRunner()
    env = {"STAFFING_DATABASE_URL": url}
    bad = runner.invoke(app, ["add-user", "x", "--role", "teacher", "--password", "a-long-secret"], env=env)
    assert bad.exit_code == 2 and "needs an existing teacher id" in bad.output
    bad = runner.invoke(app, ["add-user", "y", "--role", "hr", "--teacher", "T00001", "--password", "a-long-secret"], env=env)
    assert bad.exit_code == 2 and "only a teacher user" in bad.output
    ok = runner.invoke(app, ["add-user", "ana", "--role", "teacher", "--teacher", "T00001", "--password", "a-long-secret"],
                       env=env)
    assert ok.exit_code == 0, ok.output
    listing = runner.invoke(app, ["users"], env=env)
    assert listing.exit_code == 0 and "ana" in listing.output and "T00001" in listing.output
    assert "scrypt" not in listing.output and "a-long-secret" not in listing.output
    with session_scope(url) as s:
        assert s.get(PoolEntry, "T00001") is not None


def test_a_dismissing_school_dismisses_by_api_and_the_post_opens(template, as_, tmp_path):
    url = url_of(tmp_path)
    hr = as_("hr")
    roster = hr.get("/api/schools/S0003/roster").json()["roster"]
    victim = next(iter(roster.values()))[0]["teacher_id"]
    refused = hr.post("/api/schools/S0003/dismiss", json={"teacher_id": victim, "reason": ""})
    assert refused.status_code == 422 and "needs a reason" in refused.text
    r = hr.post("/api/schools/S0003/dismiss", json={"teacher_id": victim, "reason": "elect-to-work agreement"})
    assert r.status_code == 200, r.text
    [notice] = r.json()["notices"]
    assert notice["teacher_id"] == victim and notice["reason"] == "elect-to-work agreement"
    assert any(v["vacancy_id"].startswith("S0003-D") for v in hr.get("/api/vacancies").json())
    with session_scope(url) as s:
        assert s.get(PoolEntry, victim).status == "displaced"
    assert victim not in json.dumps(hr.get("/api/schools/S0003/roster").json())


def test_hr_sets_the_number_of_wishes_and_teachers_are_held_to_it(template, as_, tmp_path):
    hr, union, t = as_("hr"), as_("union"), as_("t.T00003")
    assert hr.get("/api/settings/pool").json()["max_wishes"]["value"] == 10
    assert union.put("/api/settings/pool/max_wishes", json={"value": "1"}).status_code == 403
    assert t.get("/api/settings/pool").status_code == 403
    bad = hr.put("/api/settings/pool/max_wishes", json={"value": "lots"})
    assert bad.status_code == 422 and "whole number" in bad.text
    assert hr.put("/api/settings/pool/nope", json={"value": "1"}).status_code == 422
    assert hr.put("/api/settings/pool/max_wishes", json={"value": "1"}).json() == {"key": "max_wishes", "value": 1}
    r = t.put("/api/me/preferences", json={"school_ids": ["S0001", "S0002"]})
    assert r.status_code == 422 and "at most 1" in r.text
    assert t.put("/api/me/preferences", json={"school_ids": ["S0002"]}).status_code == 200


def pending_offers(url: str) -> list[OfferRow]:
    with session_scope(url) as s:
        return list(s.exec(select(OfferRow).where(OfferRow.status == "pending").order_by(OfferRow.id)))


def test_a_teacher_answers_their_own_offer_and_not_another_teachers(template, as_, tmp_path):
    from tests.db_dump import dump

    url = url_of(tmp_path)
    as_()  # copies the template
    offers = [o for o in pending_offers(url) if o.kind != "forced"]
    mine, other = offers[0], offers[1]
    with session_scope(url) as s:
        for o in (mine, other):
            if s.get(UserRow, f"t.{o.teacher_id}") is None:
                create_user(s, f"t.{o.teacher_id}", password_of(f"t.{o.teacher_id}"), "teacher",
                            teacher_id=o.teacher_id)
    me = as_(f"t.{mine.teacher_id}")
    listed = me.get("/api/me/offers").json()
    assert [o["offer_id"] for o in listed if o["status"] == "pending"] == [mine.id]
    assert listed[0]["answers"] == ["accept", "decline"] and listed[0]["school"] and listed[0]["deadline"]
    page = me.get("/me").text
    assert 'action="/me/offers/answer"' in page and 'value="decline"' in page and "csrf_token" in page

    # another teacher's offer: refused as not theirs, by page and API, and nothing changes
    before = dump(url)
    r = me.post("/me/offers/answer", data={"offer_id": str(other.id), "answer": "decline"})
    assert r.status_code == 404 and "not one of your offers" in r.text
    r = me.post("/api/me/offers/answer", json={"offer_id": other.id, "answer": "accept"})
    assert r.status_code == 404
    r = me.post("/api/me/offers/answer", json={"offer_id": mine.id, "answer": "refuse"})  # not a forced placement
    assert r.status_code == 409 and "'refuse' is for forced placements" in r.text
    assert dump(url) == before

    # their own: accepted, in the audit trail under their name; answering again is refused
    r = me.post("/me/offers/answer", data={"offer_id": str(mine.id), "answer": "accept"})
    assert r.status_code == 200 and f"Your offer of post {mine.vacancy_id} is now accepted" in r.text
    with session_scope(url) as s:
        assert s.get(OfferRow, mine.id).status == "accepted"
        assert s.get(OfferRow, mine.id).answered_by == f"t.{mine.teacher_id}"
        assert s.get(OfferRow, other.id).status == "pending"
        assert s.exec(select(AuditLog).where(AuditLog.entity == "offer", AuditLog.entity_id == str(mine.id),
                                             AuditLog.actor == f"t.{mine.teacher_id}")).first() is not None
    again = me.post("/api/me/offers/answer", json={"offer_id": mine.id, "answer": "decline"})
    assert again.status_code == 409 and "accepted" in again.text


def test_a_forced_placement_is_accepted_or_refused_never_declined(template, as_, tmp_path):
    url = url_of(tmp_path)
    as_()  # copies the template
    offer = pending_offers(url)[0]
    with session_scope(url) as s:  # as a round of the forced-placement phase would have made it
        row = s.get(OfferRow, offer.id)
        row.kind = "forced"
        s.add(row)
        if s.get(UserRow, f"t.{offer.teacher_id}") is None:
            create_user(s, f"t.{offer.teacher_id}", password_of(f"t.{offer.teacher_id}"), "teacher",
                        teacher_id=offer.teacher_id)
    me = as_(f"t.{offer.teacher_id}")
    [listed] = [o for o in me.get("/api/me/offers").json() if o["offer_id"] == offer.id]
    assert listed["answers"] == ["accept", "refuse"]
    page = me.get("/me").text
    assert 'value="refuse"' in page and 'value="decline"' not in page and "leave the district pool" in page
    r = me.post("/me/offers/answer", data={"offer_id": str(offer.id), "answer": "decline"})
    assert r.status_code == 409 and "cannot be declined" in r.text
    r = me.post("/api/me/offers/answer", json={"offer_id": offer.id, "answer": "refuse"})
    assert r.status_code == 200 and r.json()["status"] == "refused" and "left the district pool" in r.json()["message"]


def own_offer_client(as_, tmp_path, kind_not: str = "forced"):
    """A signed-in teacher with a pending offer (not ``kind_not``) of the published round, and that offer."""
    url = url_of(tmp_path)
    as_()  # copies the template
    offer = next(o for o in pending_offers(url) if o.kind != kind_not)
    with session_scope(url) as s:
        if s.get(UserRow, f"t.{offer.teacher_id}") is None:
            create_user(s, f"t.{offer.teacher_id}", password_of(f"t.{offer.teacher_id}"), "teacher",
                        teacher_id=offer.teacher_id)
    return as_(f"t.{offer.teacher_id}"), offer


def answer_rows(url: str, offer_id: int) -> list[AuditLog]:
    with session_scope(url) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.entity == "offer", AuditLog.entity_id == str(offer_id))))


def test_an_offer_answered_by_a_plain_form_redirects_back_with_its_message_once(as_, tmp_path):
    """Without JavaScript: the form posts, the server answers 303 to /me, which shows the outcome one time."""
    me, offer = own_offer_client(as_, tmp_path)
    r = me.post("/me/offers/answer", data={"offer_id": str(offer.id), "answer": "decline"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me#offers"
    page = me.get("/me").text
    assert f"Your offer of post {offer.vacancy_id} is now declined" in page and 'role="status"' in page
    assert f"Your offer of post {offer.vacancy_id}" not in me.get("/me").text  # shown once, not on every visit
    with session_scope(url_of(tmp_path)) as s:
        row = s.get(OfferRow, offer.id)
        assert row.status == "declined" and row.answered_by == f"t.{offer.teacher_id}"
    [audit] = answer_rows(url_of(tmp_path), offer.id)
    assert audit.actor == f"t.{offer.teacher_id}" and audit.action == "declined"
    # answering again by the plain form: the page with the reason (409), not a redirect; nothing more recorded
    again = me.post("/me/offers/answer", data={"offer_id": str(offer.id), "answer": "accept"}, follow_redirects=False)
    assert again.status_code == 409 and "no longer be answered" in again.text and "<html" in again.text
    assert len(answer_rows(url_of(tmp_path), offer.id)) == 1


def test_an_offer_answered_by_htmx_gets_the_offers_section_and_the_record(as_, tmp_path):
    me, offer = own_offer_client(as_, tmp_path)
    htmx = {"HX-Request": "true"}
    r = me.post("/me/offers/answer", data={"offer_id": str(offer.id), "answer": "accept"}, headers=htmx,
                follow_redirects=False)
    assert r.status_code == 200 and "<html" not in r.text
    assert r.text.lstrip().startswith('<section id="offers">')
    assert f"Your offer of post {offer.vacancy_id} is now accepted" in r.text
    assert 'id="my-record" hx-swap-oob="true"' in r.text  # the record's status changes with the answer
    [audit] = answer_rows(url_of(tmp_path), offer.id)
    assert audit.actor == f"t.{offer.teacher_id}" and audit.action == "accepted"
    again = me.post("/me/offers/answer", data={"offer_id": str(offer.id), "answer": "decline"}, headers=htmx)
    assert again.status_code == 409 and 'role="alert"' in again.text and "<html" not in again.text
    assert len(answer_rows(url_of(tmp_path), offer.id)) == 1


def test_the_list_of_schools_works_by_plain_form_and_by_htmx(as_, tmp_path):
    t = as_("t.T00001")
    before = t.get("/api/me/record").json()["preferences"]
    last = before[-1]["school_id"]
    r = t.post("/me/preferences", data={"school_id": last, "action": "up"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me#preferences"
    after = [p["school_id"] for p in t.get("/api/me/record").json()["preferences"]]
    assert after[-2] == last
    page = t.get("/me").text
    assert f'<form class="inline" method="post" action="/me/preferences"' in page  # the buttons are forms
    refused = t.post("/me/preferences", data={"school_id": "NOPE", "action": "add"}, follow_redirects=False)
    assert refused.status_code == 422 and "unknown school" in refused.text and "<html" in refused.text
    partial = t.post("/me/preferences", data={"school_id": last, "action": "down"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and partial.text.startswith('<div id="preferences">')
    assert [p["school_id"] for p in t.get("/api/me/record").json()["preferences"]][-1] == last


def test_hr_reads_a_teachers_offers_on_their_page_linked_to_the_round(as_, tmp_path, template):
    _, _, run_id = template
    me, offer = own_offer_client(as_, tmp_path)
    hr = as_("hr")
    page = hr.get(f"/hr/teachers/{offer.teacher_id}").text
    section = page[page.index('id="offers"'):page.index("Placements across runs")]
    assert f'href="/hr/runs/{run_id}"' in section and f'id="offer-{offer.id}"' in section
    with session_scope(url_of(tmp_path)) as s:
        from staffing.db_models import SchoolRow
        school = s.get(SchoolRow, offer.school_id).name
    assert school in section and offer.vacancy_id in section and "pending" in section
    assert f"{offer.deadline:%Y-%m-%d %H:%M}" in section
    assert f'href="/hr/season?teacher={offer.teacher_id}#respond"' in section  # the season's picker, filled in
    picker = hr.get(f"/hr/season?teacher={offer.teacher_id}").text
    assert re.search(rf'name="teacher_id"[^>]*value="[^"]*\({offer.teacher_id}\)"', picker)
    assert me.post("/me/offers/answer", data={"offer_id": str(offer.id), "answer": "decline"}).status_code == 200
    page = hr.get(f"/hr/teachers/{offer.teacher_id}").text
    section = page[page.index('id="offers"'):page.index("Placements across runs")]
    assert "declined" in section and f"by the teacher (t.{offer.teacher_id})" in section
    trail = page[page.index("Audit trail"):]
    assert "declined" in trail and f"t.{offer.teacher_id}" in trail  # the answer is in their audit trail
    with session_scope(url_of(tmp_path)) as s:  # a teacher no round placed: the empty state says why
        unoffered = next(t.teacher_id for t in s.exec(select(PoolEntry))
                         if not season.offers_for_teacher(s, t.teacher_id))
    assert "No offer yet" in hr.get(f"/hr/teachers/{unoffered}").text


def test_a_teacher_who_listed_a_school_outside_the_district_reads_why_not_there(as_, tmp_path):
    """A school the district does not fill (independent charter: no placement group) above the teacher's outcome:
    the page explains it instead of failing on the missing group."""
    from staffing.db_models import SchoolRow, VacancyRow

    url = url_of(tmp_path)
    as_()
    with session_scope(url) as s:
        outside = {sc.school_id for sc in s.exec(select(SchoolRow)) if sc.model == "independent_charter"}
        certs = {v.certification for v in s.exec(select(VacancyRow)) if v.school_id in outside}
        first = [p.teacher_id for p in s.exec(select(TeacherPreferenceRow).where(TeacherPreferenceRow.rank == 1))
                 if p.school_id in outside]
        listed = [tid for tid in first if set(s.get(TeacherRow, tid).certifications.split(";")) & certs]
        for tid in listed:
            if s.get(UserRow, f"t.{tid}") is None:
                create_user(s, f"t.{tid}", password_of(f"t.{tid}"), "teacher", teacher_id=tid)
    assert listed, "the seed has teachers who put an independent charter first and hold one of its subjects"
    pages = [as_(f"t.{tid}").get("/me") for tid in listed]
    assert [p.status_code for p in pages] == [200] * len(listed)
    assert any("fills its own posts outside the district" in p.text for p in pages)
