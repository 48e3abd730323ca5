"""In a real headless Chromium: a teacher signs in, reorders their list of schools with htmx clicks and reads
why the published round placed them where it did; a principal excesses at their school from the roster."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn
from sqlmodel import select

from staffing.db import get_engine, session_scope
from staffing.db_models import OfferRow, UserRow
from tests.test_e2e_browser import CHROMIUM, browser, serving, shots  # noqa: F401 - fixtures
from tests.test_web_teachers import build_teacher_template
from tests.web_support import password_of
from web.app import create_app
from web.auth import create_user

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db, _, run_id = build_teacher_template(tmp_path_factory.mktemp("e2e-teacher"))
    with session_scope(f"sqlite:///{db}") as s:  # a sign-in for a teacher the published round offered a post
        offer = s.exec(select(OfferRow).where(OfferRow.status == "pending", OfferRow.kind != "forced")
                       .order_by(OfferRow.id)).first()
        assert offer is not None, "the published round makes offers"
        if s.get(UserRow, f"t.{offer.teacher_id}") is None:
            create_user(s, f"t.{offer.teacher_id}", password_of(f"t.{offer.teacher_id}"), "teacher",
                        teacher_id=offer.teacher_id)
    get_engine(f"sqlite:///{db}").dispose()
    with serving(create_app(f"sqlite:///{db}")) as base:
        yield base, run_id, (offer, f"sqlite:///{db}")


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
    from playwright.sync_api import expect

    base, run_id, _ = server
    page = sign_in(browser, base, "t.T00001", password_of("t.T00001"))
    assert page.url.endswith("/me")
    before = schools_in_order(page)
    assert len(before) >= 2
    page.click(f"#preferences button[name='up-{before[-1]}']")
    # a locator wait, not wait_for_function: the page's CSP (script-src 'self') forbids evaluating strings
    expect(page.locator("#preferences tr").last.locator("button[name^=up-]")).not_to_have_attribute(
        "name", f"up-{before[-1]}")
    after = schools_in_order(page)
    assert after == before[:-2] + [before[-1], before[-2]]
    page.reload()
    assert schools_in_order(page) == after  # saved, not only redrawn
    explanation = page.locator(f"#round-{run_id}").inner_text()
    assert "Placed at" in explanation or "Not placed" in explanation
    assert "Recorded reason" in explanation if "Placed at" in explanation else "in this round:" in explanation
    assert page.locator("#offers").count() == 1
    page.screenshot(path=str(shots / "teacher-page.png"), full_page=True)
    page.goto(f"{base}/hr")
    assert "Not allowed" in page.content()
    page.close()


def test_a_principal_excesses_from_the_roster_and_the_union_sees_the_decision(browser, server, shots):  # noqa: F811
    base, _, _ = server
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


def test_a_teacher_accepts_their_offer_with_a_click(browser, server, shots):  # noqa: F811
    base, _, (offer, url) = server
    user = f"t.{offer.teacher_id}"
    page = sign_in(browser, base, user, password_of(user))
    row = page.locator(f"#offer-{offer.id}")
    assert offer.vacancy_id in row.inner_text() and "pending" in row.inner_text()
    assert "answer it under My offers" in page.locator("#my-record").inner_text()
    assert row.locator("button[value=decline]").count() == 1 and row.locator("button[value=refuse]").count() == 0
    page.screenshot(path=str(shots / "teacher-offer.png"), full_page=True)
    row.locator("button[value=accept]").click()
    page.wait_for_selector(f"text=Your offer of post {offer.vacancy_id} is now accepted")
    row = page.locator(f"#offer-{offer.id}")
    assert "accepted" in row.inner_text() and row.locator("button").count() == 0
    assert "(offer accepted)" in page.locator("#my-record").inner_text()  # swapped out of band with the offers
    assert page.locator("#my-record").count() == 1
    page.reload()  # saved, not only shown
    assert "accepted" in page.locator(f"#offer-{offer.id}").inner_text()
    with session_scope(url) as s:
        row = s.get(OfferRow, offer.id)
        assert row.status == "accepted" and row.answered_by == user
    page.close()


def test_without_javascript_a_teacher_answers_an_offer_and_reorders_their_list(browser, server):  # noqa: F811
    """JavaScript off: the same buttons are plain forms; each posts, comes back to /me and shows the outcome."""
    base, _, (first, url) = server
    with session_scope(url) as s:  # another teacher's pending offer than the htmx test's, so either order works
        offer = s.exec(select(OfferRow).where(OfferRow.status == "pending", OfferRow.kind != "forced",
                                              OfferRow.teacher_id != first.teacher_id).order_by(OfferRow.id)).first()
        user = f"t.{offer.teacher_id}"
        if s.get(UserRow, user) is None:
            create_user(s, user, password_of(user), "teacher", teacher_id=offer.teacher_id)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password_of(user))
    page.click("button[type=submit]")
    assert page.url.endswith("/me")
    page.locator(f"#offer-{offer.id} button[value=decline]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/me#offers")
    assert f"Your offer of post {offer.vacancy_id} is now declined" in page.locator("#offers [role=status]").inner_text()
    assert "declined" in page.locator(f"#offer-{offer.id}").inner_text()
    with session_scope(url) as s:
        row = s.get(OfferRow, offer.id)
        assert row.status == "declined" and row.answered_by == user
    before = schools_in_order(page)
    if len(before) >= 2:
        page.click(f"#preferences button[name='up-{before[-1]}']")
        page.wait_for_load_state()
        assert page.url.endswith("/me#preferences")
        assert schools_in_order(page) == before[:-2] + [before[-1], before[-2]]
    context.close()
