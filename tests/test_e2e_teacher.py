"""In a real headless Chromium: a teacher signs in, reorders their list of schools with htmx clicks and reads
why the published round placed them where it did; a principal excesses at their school from the roster."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn

from tests.test_e2e_browser import CHROMIUM, browser, free_port, shots  # noqa: F401 - fixtures
from tests.test_web_teachers import build_teacher_template
from tests.web_support import password_of
from web.app import create_app

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db, _, run_id = build_teacher_template(tmp_path_factory.mktemp("e2e-teacher"))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(f"sqlite:///{db}"), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the web server did not start"
    yield f"http://127.0.0.1:{port}", run_id
    srv.should_exit = True
    thread.join(timeout=10)


def sign_in(browser, base: str, user: str, password: str):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def schools_in_order(page) -> list[str]:
    return [b.get_attribute("name").removeprefix("up-") for b in page.locator("#preferences button[name^=up-]").all()]


def test_a_teacher_reorders_their_list_and_reads_why(browser, server, shots):  # noqa: F811
    base, run_id = server
    page = sign_in(browser, base, "t.T00001", password_of("t.T00001"))
    assert page.url.endswith("/me")
    before = schools_in_order(page)
    assert len(before) >= 2
    page.click(f"#preferences button[name='up-{before[-1]}']")
    # a locator assertion, not wait_for_function: the page's CSP forbids evaluating strings as script
    from playwright.sync_api import expect

    expect(page.locator(f"#preferences tr:last-child button[name='up-{before[-1]}']")).to_have_count(0)
    after = schools_in_order(page)
    assert after == before[:-2] + [before[-1], before[-2]]
    page.reload()
    assert schools_in_order(page) == after  # saved, not only redrawn
    explanation = page.locator(f"#round-{run_id}").inner_text()
    assert "Placed at" in explanation or "Not placed" in explanation
    assert "Recorded reason" in explanation
    assert page.locator("#offers").count() == 1
    page.screenshot(path=str(shots / "teacher-page.png"), full_page=True)
    page.goto(f"{base}/hr")
    assert "Not allowed" in page.content()
    page.close()


def test_a_principal_excesses_from_the_roster_and_the_union_sees_the_decision(browser, server, shots):  # noqa: F811
    base, _ = server
    page = sign_in(browser, base, "p2", password_of("p2"))
    page.goto(f"{base}/schools/S0002/roster")
    page.screenshot(path=str(shots / "principal-roster.png"), full_page=True)
    page.click("button[name='excess-ART']")
    page.wait_for_load_state("networkidle")
    assert "/excessing" in page.url and "reverse seniority in ART" in page.content()
    page.close()
    union = sign_in(browser, base, "union", password_of("union"))
    union.goto(f"{base}/excessing")
    assert "reverse seniority in ART" in union.content() and "leaves" in union.content()
    union.screenshot(path=str(shots / "union-excessing.png"), full_page=True)
    union.close()
