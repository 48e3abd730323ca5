"""The season in a real headless Chromium: HR advances the phase, runs and publishes a round after confirming,
answers offers on teachers' behalf, and runs a second round on what is still open; the principal sees a
school's placements only once they are published."""

from __future__ import annotations

import re

import pytest

from tests.test_e2e_browser import CHROMIUM, browser, database, server, shots, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")


def run_round(page, server: str) -> int:
    page.goto(f"{server}/hr/runs")
    page.fill("input[name=time_limit]", "3")
    page.click("button:has-text('Run placement')")
    page.wait_for_selector("text=rule violations", timeout=60_000)
    return int(re.search(r"/hr/runs/(\d+)", page.url).group(1))


def publish(page) -> None:
    page.check("input[name=confirm]")
    page.click("form.publish button[type=submit]")
    page.wait_for_selector("text=Published:", timeout=20_000)


def test_a_two_round_season_through_the_web_app(browser, server, shots):  # noqa: F811 - fixtures
    hr = sign_in(browser, server, "hr")
    hr.on("dialog", lambda dialog: dialog.accept())  # the confirmations of publishing and advancing
    hr.goto(f"{server}/hr/season")
    hr.select_option("select[name=to]", "mutual_consent")
    hr.click("button:has-text('Advance')")
    hr.wait_for_selector("text=now in phase mutual_consent")

    first = run_round(hr, server)
    assert "draft · lawful" in hr.locator("#run-label").inner_text()
    at_school = hr.request.get(f"{server}/api/runs/{first}").json()["placements"]
    ours = [p for p in at_school if p["school_id"] == "S0002"]  # S0001 is a charter outside the district pool
    assert ours, "the round places someone at S0002"

    principal = sign_in(browser, server, "p2")
    assert "No published round has placed anyone here yet" in principal.content()  # the draft is HR's
    for p in ours:
        assert p["teacher_id"] not in principal.locator("main").inner_text()

    publish(hr)
    hr.screenshot(path=str(shots / "hr-published.png"), full_page=True)
    principal.reload()
    text = principal.locator("main").inner_text()
    assert all(p["teacher_id"] in text for p in ours) and "pending" in text
    principal.screenshot(path=str(shots / "principal-published.png"), full_page=True)

    # HR answers on teachers' behalf: a click declines the first pending offer, the form accepts another
    hr.goto(f"{server}/hr/season")
    declined = hr.locator("table tr:has(button[value=decline]) input[name=teacher_id]").first.get_attribute("value")
    hr.locator("table tr:has(button[value=decline]) button[value=decline]").first.click()
    hr.wait_for_selector(f"text=({declined}): offer of")
    assert hr.locator("#offers-declined").inner_text() == "1"
    # the picker offers the teachers with a pending offer as "Name (ID)"; HR picks one
    accepted = hr.locator("table tr:has(button[value=accept]) input[name=teacher_id]").first.get_attribute("value")
    picked = hr.locator(f"#dl-teacher_id option[value$='({accepted})']").get_attribute("value")
    hr.fill("form[action='/hr/season/respond'] input[name=teacher_id]", picked)
    hr.click("button:has-text('Record answer')")
    hr.wait_for_selector(f"text=({accepted}): offer of")
    assert hr.locator("#offers-accepted").inner_text() == "1"
    hr.fill("form[action='/hr/season/respond'] input[name=teacher_id]", accepted)
    hr.click("button:has-text('Record answer')")
    hr.wait_for_selector("text=no pending offer")  # answered already: an inline message, nothing changed

    # a new vacancy, the forced-placement phase, and a second round on what is still open
    hr.fill("form[action='/hr/season/vacancies'] input[name=vacancy_id]", "VWEB1")
    school = hr.locator("#dl-school_id option").first.get_attribute("value")  # "Name (ID)"
    hr.fill("form[action='/hr/season/vacancies'] input[name=school_id]", school)
    hr.click("button:has-text('Add vacancy')")
    hr.wait_for_selector("text=Vacancy VWEB1 added")
    hr.select_option("select[name=to]", "forced_placement")
    hr.click("button:has-text('Advance')")
    hr.wait_for_selector("text=now in phase forced_placement")
    hr.screenshot(path=str(shots / "hr-season.png"), full_page=True)
    hr.goto(f"{server}/hr/runs/{first}")
    assert "published" in hr.locator("#run-label").inner_text()
    second = run_round(hr, server)
    assert second > first
    publish(hr)
    hr.goto(f"{server}/hr/season")
    assert hr.locator("text=#" + str(second)).count() >= 1  # listed among the published rounds
    hr.close()
    principal.close()
