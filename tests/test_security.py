"""The web app under attack: forged requests, stolen cookies, password guessing, hostile ids and CSV cells.

Each test states the attack and checks it fails, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import select

from staffing.db import session_scope
from staffing.db_models import AuditLog, RankingRow, UserRow, UserSession, utcnow
from staffing.settings import Settings, SettingsError
from tests.conftest import fresh_postgres
from tests.web_support import build_template, client_for, csrf_of, password_of, seed_web_db
from web.app import create_app
from web.auth import create_demo_users


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("sectemplate"))


@pytest.fixture
def db_url(backend, tmp_path, template):
    """This test's web database: a copy of the SQLite template, or a fresh seeded PostgreSQL schema."""
    if backend == "postgresql":
        url = fresh_postgres()
        seed_web_db(url)
        return url
    client_for(template, tmp_path)  # copies the template to tmp_path/web.db
    return f"sqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
def as_(db_url, template, tmp_path):
    return lambda user=None: client_for(template, tmp_path, user, db_url)


def app_client(db_url: str, **settings) -> TestClient:
    return TestClient(create_app(db_url, settings=Settings(**settings)))


def sign_in(client: TestClient, user: str, password: str | None = None):
    return client.post("/login", data={"username": user, "password": password or password_of(user),
                                       "csrf_token": csrf_of(client)}, follow_redirects=False)


RANK = "/schools/S0001/vacancies/V00001/ranking"


def ranking(db_url: str) -> list[str]:
    with session_scope(db_url) as s:
        return [r.teacher_id for r in s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001")
                                              .order_by(RankingRow.rank))]


# -- CSRF ---------------------------------------------------------------------------------------------------------

def test_a_post_without_the_token_is_refused_and_changes_nothing(as_, db_url):
    p1 = as_("p1")
    before = ranking(db_url)
    token = p1.headers.pop("X-CSRF-Token")
    forged = p1.post(RANK, data={"teacher_id": "T00100", "action": "add"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    wrong = p1.post(RANK, data={"teacher_id": "T00100", "action": "add", "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    assert p1.post("/hr/runs", data={"time_limit": "1"}).status_code in (403,)
    assert ranking(db_url) == before
    # the same request with the session's token (as the page's form field) goes through
    ok = p1.post(RANK, data={"teacher_id": "T00100", "action": "add", "csrf_token": token})
    assert ok.status_code == 200 and ranking(db_url)[-1] == "T00100"


def test_a_post_from_another_origin_is_refused_even_with_the_token(as_, db_url):
    p1 = as_("p1")
    before = ranking(db_url)
    for header in ({"Origin": "http://127.0.0.1:9999"}, {"Origin": "null"},
                   {"Referer": "http://evil.example/page"}):
        r = p1.post(RANK, data={"teacher_id": "T00100", "action": "add"}, headers=header)
        assert r.status_code == 403 and "another site" in r.text, header
    assert ranking(db_url) == before
    same = p1.post(RANK, data={"teacher_id": "T00100", "action": "add"}, headers={"Origin": "http://testserver"})
    assert same.status_code == 200


def test_the_json_api_needs_the_token_from_sign_in(as_, db_url):
    client = as_()
    signed = client.post("/api/login", json={"username": "p1", "password": password_of("p1")})
    assert signed.status_code == 200
    client.headers.pop("X-CSRF-Token", None)
    body = {"teacher_ids": ["T00100"]}
    assert client.put("/api/schools/S0001/vacancies/V00001/ranking", json=body).status_code == 403
    client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
    assert client.put("/api/schools/S0001/vacancies/V00001/ranking", json=body).status_code == 200
    assert client.get("/api/me").json()["csrf_token"] == signed.json()["csrf_token"]


def test_every_post_form_in_the_templates_carries_the_token():
    from tests.conftest import ROOT

    for path in (ROOT / "web" / "templates").glob("*.html"):
        text = path.read_text()
        for form in re.findall(r"<form[^>]*>", text):
            if 'method="post"' in form or "hx-post" in form:
                start = text.index(form)
                assert "csrf_field()" in text[start:text.index("</form>", start)], f"{path.name}: {form}"
    assert "hx-headers" in (ROOT / "web" / "templates" / "base.html").read_text()


# -- sessions -------------------------------------------------------------------------------------------------

def test_a_cookie_replayed_after_logout_is_refused(as_):
    hr = as_("hr")
    stolen = dict(hr.cookies)
    assert hr.get("/api/pool").status_code == 200
    assert hr.post("/logout", follow_redirects=False).status_code == 303
    thief = as_()
    thief.cookies.clear()
    for name, value in stolen.items():
        thief.cookies.set(name, value)
    assert thief.get("/api/pool").status_code == 401
    assert thief.get("/hr", follow_redirects=False).headers["location"].startswith("/login")


def test_api_logout_ends_the_session(as_):
    client = as_()
    token = client.post("/api/login", json={"username": "hr", "password": password_of("hr")}).json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    assert client.get("/api/pool").status_code == 200
    assert client.post("/api/logout").json() == {"signed_out": True}
    assert client.get("/api/pool").status_code == 401


def test_a_password_change_ends_the_other_sessions(as_, db_url):
    laptop, phone = as_("p1"), as_("p1")
    r = laptop.post("/account/password", data={"current": password_of("p1"), "new": "a-new-long-password",
                                                "confirm": "a-new-long-password"})
    assert r.status_code == 200 and "Password changed" in r.text
    assert phone.get("/api/me").status_code == 401  # the other session ended
    assert laptop.get("/api/me").status_code == 200  # this one goes on
    fresh = as_()
    assert sign_in(fresh, "p1").status_code == 401
    assert sign_in(fresh, "p1", "a-new-long-password").status_code == 303
    with session_scope(db_url) as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "change_password")).first() is not None


def test_a_weak_or_mistyped_new_password_is_refused(as_):
    p1 = as_("p1")
    short = p1.post("/account/password", data={"current": password_of("p1"), "new": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    wrong = p1.post("/account/password", data={"current": "nope", "new": "long-enough-1", "confirm": "long-enough-1"})
    assert wrong.status_code == 422 and "is wrong" in wrong.text
    differ = p1.post("/account/password", data={"current": password_of("p1"), "new": "long-enough-1",
                                                 "confirm": "long-enough-2"})
    assert differ.status_code == 422
    assert sign_in(as_(), "p1").status_code == 303  # unchanged


@pytest.mark.parametrize("column", ["last_seen_at", "created_at"])
def test_idle_and_old_sessions_expire(db_url, column):
    client = app_client(db_url, session_idle_minutes=30, session_max_hours=12)
    assert sign_in(client, "hr").status_code == 303
    assert client.get("/api/me").status_code == 200
    with session_scope(db_url) as s:
        s.execute(update(UserSession).values(**{column: utcnow() - timedelta(hours=13)}))
    assert client.get("/api/me").status_code == 401
    with session_scope(db_url) as s:
        assert s.exec(select(UserSession)).first() is None  # the expired session was deleted


def test_the_cookie_is_secure_over_https_and_headers_are_set(db_url):
    client = app_client(db_url, https=True)
    r = client.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert r.headers["strict-transport-security"].startswith("max-age=")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin" and r.headers["cache-control"] == "no-store"
    plain = app_client(db_url).get("/login")
    assert "secure" not in plain.headers["set-cookie"].lower() and "strict-transport-security" not in plain.headers


# -- sign-in ------------------------------------------------------------------------------------------------------

def test_twenty_wrong_passwords_then_the_right_one_is_refused_for_a_while(db_url):
    client = app_client(db_url, signin_max_failures=10, signin_window_minutes=15)
    for _ in range(20):
        assert sign_in(client, "hr", "wrong-password").status_code in (401, 429)
    refused = sign_in(client, "hr")
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
    assert client.get("/api/pool").status_code == 401
    api = client.post("/api/login", json={"username": "hr", "password": password_of("hr")})
    assert api.status_code == 429
    # another account from another address is not locked out by it
    other = TestClient(create_app(db_url, settings=Settings()), client=("10.0.0.9", 5000))
    assert sign_in(other, "union").status_code == 303
    # once the window has passed, the right password works again
    from staffing.db_models import SignInFailure

    with session_scope(db_url) as s:
        s.execute(update(SignInFailure).values(at=utcnow() - timedelta(minutes=16)))
    assert sign_in(client, "hr").status_code == 303


def test_one_address_guessing_many_accounts_is_throttled(db_url):
    client = app_client(db_url, signin_max_failures=100, signin_max_failures_per_address=5)
    for n in range(5):
        sign_in(client, f"nobody{n}", "wrong-password")
    assert sign_in(client, "hr").status_code == 429


def test_unknown_users_and_wrong_passwords_get_the_same_answer_and_cost(as_, monkeypatch):
    import web.auth as auth

    calls = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda p, h: calls.append(h) or real(p, h))
    monkeypatch.setattr(auth, "hash_password", lambda p, _real=auth.hash_password: calls.append("hash") or _real(p))
    auth._dummy_hash()  # made once, at the first unknown user: not per request
    calls.clear()
    unknown = sign_in(as_(), "no-such-user", "whatever-password")
    cost_unknown = len(calls)
    calls.clear()
    wrong = sign_in(as_(), "hr", "whatever-password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Unknown user or wrong password." in unknown.text and "Unknown user or wrong password." in wrong.text
    assert cost_unknown == len(calls) == 1  # one scrypt each: timing does not tell whether the user exists


def test_demo_accounts_are_flagged_never_overwrite_and_are_refused_in_production(db_url):
    with session_scope(db_url) as s:
        made, skipped = create_demo_users(s, "demo")
    assert "hr" in skipped and "union" in skipped and all(u.demo for u in made)
    with session_scope(db_url) as s:
        assert not s.get(UserRow, "hr").demo  # the real account was left alone
    demo = next(u.username for u in made)
    client = app_client(db_url)
    assert "demo account(s) share a" in client.get("/login").text
    assert sign_in(client, demo, "demo").status_code == 303
    assert sign_in(client, "hr").status_code == 303  # the real password still works
    production = app_client(db_url, production=True, secret_key="s" * 40)
    page = production.get("/login").text
    assert "cannot sign in because it runs in production mode" in page
    refused = sign_in(production, demo, "demo")
    assert refused.status_code == 401 and "Demo accounts cannot sign in" in refused.text
    assert sign_in(production, "hr").status_code == 303


def test_production_needs_a_secret_key(monkeypatch):
    monkeypatch.setenv("STAFFING_PRODUCTION", "true")
    monkeypatch.delenv("STAFFING_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="STAFFING_SECRET_KEY"):
        Settings.from_env()
    monkeypatch.setenv("STAFFING_PRODUCTION", "maybe")
    with pytest.raises(SettingsError, match="true or false"):
        Settings.from_env()


# -- hostile values -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/hr/runs/99999999999999999999999999", "/api/runs/99999999999999999999",
                                  "/api/runs/2147483648", "/hr/runs/-5", "/audit/9223372036854775808.csv",
                                  "/schools/S0001%00/vacancies/V00001", "/schools/S0001/vacancies/V%00",
                                  "/hr?status=%00", "/hr/compare?a=99999999999999999999&b=1"])
def test_huge_ids_and_nul_bytes_in_urls_are_404_or_422(as_, path):
    r = as_("hr").get(path)
    assert r.status_code in (404, 422), (path, r.status_code, r.text[:200])


def test_nul_bytes_in_form_fields_are_refused(as_, db_url):
    before = ranking(db_url)
    r = as_("p1").post(RANK, data={"teacher_id": "T00100\x00", "action": "add"})
    assert r.status_code == 422 and ranking(db_url) == before
    r = as_("p1").put("/api/schools/S0001/vacancies/V00001/ranking", json={"teacher_ids": ["T\x00"]})
    assert r.status_code in (404, 422)


def test_ids_with_quotes_cannot_break_the_ranking_buttons():
    """An id goes into a hidden field's value, autoescaped: quotes cannot end the attribute, so each button's
    form acts on exactly its own id (with or without htmx, which posts the same form)."""
    from html.parser import HTMLParser

    from web.names import Names
    from web.templating import templates

    hostile = """T1" name="action" value="remove"><input name='x' onclick='alert(1)"""
    from types import SimpleNamespace

    html = templates.env.get_template("_ranking.html").render(
        request=SimpleNamespace(session={}), user={"role": "hr"}, school_id="S1", vacancy={"vacancy_id": "V1"}, ranking=[hostile],
        rules={"mutual_consent": False}, error=None, candidates=[], names=Names({}, {}, {}, {}))
    forms: list[dict] = []

    class Forms(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            assert not any(k.startswith("on") for k in attrs), attrs  # no handler smuggled in
            if tag == "form":
                forms.append({"attrs": attrs, "fields": []})
            elif tag == "input" and forms:
                forms[-1]["fields"].append((attrs.get("name"), attrs.get("value")))

    Forms().feed(html)
    moves = [f for f in forms if dict(f["fields"]).get("teacher_id") is not None]
    assert len(moves) == 3
    for form in moves:
        assert form["attrs"]["hx-post"] == form["attrs"]["action"] == "/schools/S1/vacancies/V1/ranking"
        names = [name for name, _ in form["fields"]]
        assert names.count("teacher_id") == 1 and names.count("action") == 1 and "x" not in names
        fields = dict(form["fields"])
        assert fields["teacher_id"] == hostile and fields["action"] in ("up", "down", "remove")


def test_csv_exports_neutralise_formula_cells():
    from staffing.csvsafe import safe_cell, write_rows

    out = io.StringIO()
    cells = ["=HYPERLINK(\"http://x\")", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]
    write_rows(out, [{"v": c, "n": -3} for c in cells], ["v", "n"])
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["v"] for r in rows] == ["'" + c for c in cells[:6]] + ["plain", "a=b"]
    assert {r["n"] for r in rows} == {"-3"}  # numbers are left alone
    assert safe_cell(None) is None


def test_the_audit_csv_from_the_web_is_neutralised(as_, db_url, monkeypatch):
    from web import views

    real = views.audit

    def hostile(*args, **kwargs):
        rows = real(*args, **kwargs)
        from dataclasses import replace

        return [replace(rows[0], lawful_reason="=HYPERLINK(\"http://evil\")")] if rows else rows

    hr = as_("hr")
    started = hr.post("/api/runs", json={"scenario": "district_rules", "time_limit": 3})
    run_id = started.json()["id"]
    monkeypatch.setattr(views, "audit", hostile)
    text = hr.get(f"/audit/{run_id}.csv").text
    assert "=HYPERLINK" not in text.replace("'=HYPERLINK", "")


def test_expired_sessions_are_purged_at_the_next_sign_in(db_url):
    client = app_client(db_url)
    assert sign_in(client, "hr").status_code == 303
    with session_scope(db_url) as s:
        s.execute(update(UserSession).values(created_at=utcnow() - timedelta(days=3)))
    assert sign_in(app_client(db_url), "union").status_code == 303
    with session_scope(db_url) as s:
        assert [row.username for row in s.exec(select(UserSession))] == ["union"]
