"""End-to-end in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright): sign in as each
role, rank candidates with htmx clicks, run a placement and watch its progress, read the audit.

Screenshots of the main pages go to $E2E_SCREENSHOTS (default: the test's temporary folder).  Each test asks
for what it needs through fixtures (a recorded run for the audit), so any order, or any one alone, passes.
Without Chromium or Playwright the tests skip locally and fail under CI=true (:func:`tests.conftest.missing_leg`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from solver.policy import Policy
from staffing.db import session_scope
from staffing.runs import run_placement
from tests.conftest import missing_leg
from tests.web_support import build_template, password_of
from web.app import create_app

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` served by uvicorn on a free local port for the length of the block; yields its base URL."""
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the web server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory.mktemp("e2e"))


@pytest.fixture(scope="module")
def recorded_run(database) -> int:
    """A finished placement run, for the pages that read one (the audit), whatever ran before."""
    with session_scope(f"sqlite:///{database}") as s:
        return run_placement(s, Policy(time_limit=5), "hr", method="teacher_da").run.id


@pytest.fixture(scope="module")
def server(database):
    with serving(create_app(f"sqlite:///{database}")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        missing_leg(f"browser leg: no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    try:
        from playwright import sync_api as playwright
    except ImportError as exc:
        missing_leg(f"browser leg: Playwright cannot be imported ({exc}); bash scripts/setup.sh test installs it")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("E2E_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(browser, server: str, user: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password_of(user))
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def test_principal_ranks_candidates_with_clicks(browser, server, shots):
    page = sign_in(browser, server, "p1")
    assert page.url.endswith("/schools/S0001")
    page.screenshot(path=str(shots / "principal-school.png"), full_page=True)
    page.click("a[href='/schools/S0001/vacancies/V00001']")
    first = page.locator("button[name^=add-]").first
    teacher = first.get_attribute("name").removeprefix("add-")
    first.click()
    page.wait_for_selector(f"#ranking button[name='up-{teacher}']")  # htmx swapped the new ranking in
    last = page.locator("#ranking tr").last.inner_text()
    assert teacher in last
    page.click(f"#ranking button[name='up-{teacher}']")
    # a locator assertion, not wait_for_function: the page's CSP forbids evaluating strings as script
    from playwright.sync_api import expect

    expect(page.locator("#ranking tr").last).not_to_contain_text(teacher)
    page.screenshot(path=str(shots / "principal-ranking.png"), full_page=True)
    page.goto(f"{server}/schools/S0002")
    assert "Not allowed" in page.content()
    page.close()


def test_principal_ranks_and_votes_with_javascript_off(browser, server):
    """The same buttons are plain forms: each click posts, and the page comes back with the change in it."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "p1")
    page.fill("input[name=password]", password_of("p1"))
    page.click("button[type=submit]")
    page.goto(f"{server}/schools/S0001/vacancies/V00001")
    first = page.locator("button[name^=add-]").last  # the other test ranks the first: either order works
    teacher = first.get_attribute("name").removeprefix("add-")
    first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/vacancies/V00001#ranking")
    assert page.locator(f"#ranking button[name='up-{teacher}']").count() == 1
    vote = page.locator("button[name^=vote-]").first
    voted = vote.get_attribute("name").removeprefix("vote-")
    vote.click()
    page.wait_for_load_state()
    assert page.url.endswith("/vacancies/V00001#ballots")
    assert page.locator(f"#ballots button[name='ballot-up-{voted}']").count() == 1
    context.close()


def test_hr_runs_a_placement_and_sees_progress_then_the_result(browser, server, shots):
    page = sign_in(browser, server, "hr")
    assert page.url.endswith("/hr")
    page.screenshot(path=str(shots / "hr-pool.png"), full_page=True)
    page.goto(f"{server}/hr/runs")
    page.fill("input[name=time_limit]", "3")
    page.click("button:has-text('Run placement')")
    page.wait_for_selector("text=rule violations", timeout=60_000)
    assert "Placement run #" in page.content()
    page.screenshot(path=str(shots / "hr-run.png"), full_page=True)
    page.on("dialog", lambda dialog: dialog.accept())  # "Publish run #n?"
    page.check("input[name=confirm]")
    page.click("form.publish button[type=submit]")
    page.wait_for_selector("text=Published", timeout=20_000)
    page.close()


def test_union_reads_the_audit_and_cannot_reach_hr_pages(browser, server, recorded_run, shots):
    page = sign_in(browser, server, "union")
    assert page.url.endswith("/audit")
    assert f"#{recorded_run}" in page.content()
    assert "violation(s)" in page.content() and "lawful reason" in page.content()
    page.screenshot(path=str(shots / "union-audit.png"), full_page=False)
    page.goto(f"{server}/hr/runs")
    assert "Not allowed" in page.content()
    page.close()


def test_committee_member_casts_a_ballot_with_clicks(browser, server, shots):
    page = sign_in(browser, server, "c4a")
    assert page.url.endswith("/schools/S0004")
    page.goto(f"{server}/schools/S0004/vacancies/V00004")
    vote = page.locator("button[name^=vote-]").first
    teacher = vote.get_attribute("name").removeprefix("vote-")
    vote.click()
    page.wait_for_selector(f"#ballots button[name='ballot-remove-{teacher}']")  # htmx swapped the ballot in
    assert "c4a (you)" in page.locator("#ballots").inner_text()
    assert page.locator("button[name^=add-]").count() == 0  # a member votes; only the principal edits the list
    page.screenshot(path=str(shots / "committee-ballot.png"), full_page=True)
    page.close()


@pytest.fixture(scope="module")
def report_server(tmp_path_factory):
    """A server whose trade-off report folder holds a small report (two scenarios, two draws)."""
    from staffing.analysis import run_tradeoffs, write_report

    folder = tmp_path_factory.mktemp("e2e-report")
    db = build_template(folder)
    report = run_tradeoffs("small", seed=11, draws=2, scenarios=("district_rules", "all_mutual_consent"),
                           time_limit=1)
    write_report(report, folder / "reports" / "current")
    with serving(create_app(f"sqlite:///{db}", report_dir=folder / "reports")) as base:
        yield base


def test_the_interactive_tradeoff_report_draws_its_charts_under_the_csp(browser, report_server, shots):
    """The report's Vega charts draw from local scripts under script-src 'self' (no inline script, no eval)."""
    from playwright.sync_api import expect

    page = sign_in(browser, report_server, "hr")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{report_server}/hr/tradeoffs")  # the HR page draws the same charts
    expect(page.locator("#chart-paired svg").first).to_be_visible(timeout=20_000)
    page.goto(f"{report_server}/hr/tradeoffs/files/report.html")
    expect(page.locator("#chart-paired svg").first).to_be_visible(timeout=20_000)
    expect(page.locator("#chart-heat svg").first).to_be_visible(timeout=20_000)
    page.screenshot(path=str(shots / "hr-tradeoff-report.png"), full_page=True)
    assert problems == [], problems
    page.close()
