"""In a real headless Chromium: an htmx form's 4xx answer is visible on the page, the teacher picker works by
name, and the README's screenshots of each role's main page (``README_SCREENSHOTS=docs/screenshots`` writes
them there; by default they go to the test's temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_e2e_browser import CHROMIUM, browser, database, server, sign_in  # noqa: F401 - fixtures shared with that module

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")


@pytest.fixture
def readme_shots(tmp_path) -> Path:
    folder = Path(os.environ.get("README_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_an_htmx_form_that_gets_a_4xx_shows_the_message(browser, server):  # noqa: F811
    page = sign_in(browser, server, "p1")
    page.goto(f"{server}/schools/S0001/vacancies/V00001")
    form = page.locator("#interviews form")
    form.locator("input[name=teacher_id]").fill("Nobody At All")
    form.locator("input[name=held_on]").fill("2026-04-01")
    with page.expect_response(lambda r: r.url.endswith("/interviews")) as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status == 422
    alert = page.locator("#interviews [role=alert]")
    alert.wait_for(timeout=10_000)
    assert "Nobody At All" in alert.inner_text()
    # an answer that is not a panel (here a 403 page) goes to the page's flash area instead of vanishing
    page.evaluate("""htmx.ajax('POST', '/schools/S0002/vacancies/V00002/interviews',
                     {target: '#interviews', swap: 'outerHTML', values: {teacher_id: 'T00001'}})""")
    page.wait_for_selector("#flash:not([hidden])", timeout=10_000)
    assert "your own school" in page.locator("#flash").inner_text()
    page.close()


def test_a_principal_logs_an_interview_by_typing_a_name(browser, server):  # noqa: F811
    page = sign_in(browser, server, "p1")
    page.goto(f"{server}/schools/S0001/vacancies/V00001")
    option = page.locator("#interviews datalist option").first.get_attribute("value")  # "Name (ID)"
    name = option.rsplit(" (", 1)[0]
    form = page.locator("#interviews form")
    form.locator("input[name=teacher_id]").fill(option)
    form.locator("input[name=held_on]").fill("2026-04-02")
    form.locator("button[type=submit]").click()
    from playwright.sync_api import expect  # not wait_for_function: the CSP forbids evaluating strings as script

    expect(page.locator("#interviews table")).to_contain_text(name)
    assert page.locator("#interviews [role=alert]").count() == 0
    page.close()


def test_screenshots_of_each_roles_main_page(browser, server, readme_shots):  # noqa: F811
    hr = sign_in(browser, server, "hr")
    hr.screenshot(path=str(readme_shots / "hr-pool.png"))
    hr.goto(f"{server}/hr/runs")
    hr.fill("input[name=time_limit]", "3")
    hr.click("button:has-text('Run placement')")
    hr.wait_for_selector("text=Decisions for HR", timeout=60_000)
    hr.screenshot(path=str(readme_shots / "hr-run.png"))
    assert "Must-place teachers still unplaced" in hr.content()
    hr.close()
    principal = sign_in(browser, server, "p1")
    principal.goto(f"{server}/schools/S0001/vacancies/V00001")
    principal.screenshot(path=str(readme_shots / "principal-vacancy.png"))
    principal.close()
    union = sign_in(browser, server, "union")
    union.screenshot(path=str(readme_shots / "union-audit.png"))
    assert "Seniority audit" in union.content()
    union.close()
