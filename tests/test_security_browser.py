"""CSRF in a real headless Chromium: a page on another port of the same host (the same *site*, so SameSite=Lax
cookies go along) tries to add a teacher to a principal's ranking and to start an HR run.  Both must fail, and
htmx must keep working under the Content-Security-Policy."""

from __future__ import annotations

import http.server
import re
import threading
import time

import pytest
from sqlmodel import select

from staffing.db import session_scope
from staffing.db_models import PlacementRun, RankingRow
from tests.test_e2e_browser import CHROMIUM, FLAGS, free_port, serving
from tests.web_support import build_template, password_of

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on one port, with its database URL."""
    import uvicorn

    from web.app import create_app

    db = build_template(tmp_path_factory.mktemp("csrf-e2e"))
    url = f"sqlite:///{db}"
    with serving(create_app(url)) as base:
        yield base, url


@pytest.fixture(scope="module")
def attacker(site):
    """An attacker's page on another port of the same host: an auto-submitting form and a fetch()."""
    target = site[0]
    pages = {
        "/form": f"""<form method="post" action="{target}/schools/S0001/vacancies/V00001/ranking">
            <input name="teacher_id" value="T00100"><input name="action" value="add"></form>
            <script>document.forms[0].submit()</script>""",
        "/run": f"""<form method="post" action="{target}/hr/runs"><input name="time_limit" value="1"></form>
            <script>document.forms[0].submit()</script>""",
        "/fetch": f"""<script>fetch("{target}/schools/S0001/vacancies/V00001/ranking", {{method: "POST",
            mode: "no-cors", credentials: "include", headers: {{"Content-Type": "application/x-www-form-urlencoded"}},
            body: "teacher_id=T00099&action=add"}}).then(() => document.title = "sent",
            () => document.title = "sent")</script>""",
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = pages.get(self.path, "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


def sign_in(browser, server: str, user: str):
    """A page in a browser profile of its own (other tabs of the profile share its cookies)."""
    page = browser.new_context().new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password_of(user))
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def ranked(url: str) -> list[str]:
    with session_scope(url) as s:
        return [r.teacher_id for r in s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001"))]


def test_a_forged_cross_origin_post_fails_in_chromium(browser, site, attacker):
    server, url = site
    page = sign_in(browser, server, "p1")
    assert page.url.endswith("/schools/S0001")
    before = ranked(url)
    evil = page.context.new_page()  # the same browser profile: the principal's cookie goes along
    response = evil.goto(f"{attacker}/form")
    evil.wait_for_load_state("networkidle")
    assert evil.url.startswith(server), "the form did not even submit"
    assert "another site" in evil.content() or "CSRF" in evil.content()
    evil.goto(f"{attacker}/fetch")
    evil.wait_for_function("document.title === 'sent'")
    time.sleep(0.5)
    assert ranked(url) == before
    assert response is not None
    page.context.close()


def test_a_forged_post_cannot_start_an_hr_run(browser, site, attacker):
    server, url = site
    page = sign_in(browser, server, "hr")
    evil = page.context.new_page()
    evil.goto(f"{attacker}/run")
    evil.wait_for_load_state("networkidle")
    with session_scope(url) as s:
        assert s.exec(select(PlacementRun)).first() is None
    page.context.close()


def test_htmx_works_under_the_content_security_policy(browser, site):
    server, url = site
    page = sign_in(browser, server, "p1")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if re.search("Content Security Policy", m.text) else None)
    page.goto(f"{server}/schools/S0001/vacancies/V00001")
    first = page.locator("button[name^=add-]").first
    teacher = first.get_attribute("name").removeprefix("add-")
    first.click()
    page.wait_for_selector(f"#ranking button[name='up-{teacher}']")  # the htmx request carried the token
    assert not violations, violations
    page.context.close()


def test_swagger_ui_works_under_the_same_strict_policy(browser, site):
    """/docs gets the pages' policy (scripts from this server only, no inline script, no CDN) and still works:
    the operations render, one opens, and "Try it out" reaches the API (connect-src 'self')."""
    server, _ = site
    page = browser.new_context().new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if re.search("Content Security Policy", m.text) else None)
    page.on("pageerror", lambda e: violations.append(str(e)))
    response = page.goto(f"{server}/docs")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "jsdelivr" not in policy and "unsafe-eval" not in policy
    page.wait_for_selector(".opblock-summary-path[data-path='/api/me']")
    assert page.locator(".opblock").count() > 20
    page.click(".opblock-get:has(.opblock-summary-path[data-path='/api/me']) .opblock-summary-control")
    page.click("button.try-out__btn")
    page.click("button.execute")
    status = page.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert "401" in status.inner_text()  # signed out: the API's own answer, so the request went through
    assert not violations, violations
    page.context.close()
