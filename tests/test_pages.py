"""The pages a district uses daily: names beside ids, every list paged to its end, CSV downloads with names,
the union's audit without certification noise, its seniority list and return-rights ledger agreeing with the run,
compare of two different runs, the HTML error pages, sign-in that returns to the page asked for, offline /docs,
and ``serve`` refusing an empty database."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from staffing.cli import app as cli
from staffing.db import init_db, session_scope
from staffing.db_models import PlacementRun, PoolEntry, RankingRow, SchoolRow, TeacherRow
from staffing.seed import generate
from staffing.store import save_district
from tests.web_support import build_template, client_for, csrf_of, password_of
from web.auth import create_user


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("pagestemplate"))


@pytest.fixture(scope="module")
def with_runs(template, tmp_path_factory):
    """A copy of the seeded database with two finished runs (district rules, then all mutual consent)."""
    folder = tmp_path_factory.mktemp("pagesruns")
    hr = client_for(template, folder, "hr")
    for scenario in ("district_rules", "all_mutual_consent"):
        assert hr.post("/api/runs", json={"scenario": scenario, "time_limit": 5}).status_code == 202
    return folder


@pytest.fixture
def as_(template, with_runs):
    return lambda user=None: client_for(template, with_runs, user)


def names_of(url: str) -> tuple[dict[str, str], dict[str, str]]:
    with session_scope(url) as s:
        return ({t.teacher_id: t.name for t in s.exec(select(TeacherRow))},
                {x.school_id: x.name for x in s.exec(select(SchoolRow))})


def visible_text(page: str) -> str:
    """What a reader sees: no tags, attributes (hx-vals, hrefs, picker values) or scripts."""
    page = re.sub(r"<(script|style|title)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def bare_ids(text: str, names: dict[str, str]) -> list[str]:
    """Ids shown without their name in the 120 characters before them."""
    bare = []
    for match in re.finditer(r"\b[A-Za-z]+\d+\b", text):
        key = match.group(0)
        if key in names and names[key] not in text[max(0, match.start() - 120):match.start()]:
            bare.append(key)
    return bare


DAILY_PAGES = {
    "hr": ["/hr", "/hr?page=2", "/hr/vacancies", "/hr/runs", "/hr/runs/1", "/hr/runs/2", "/hr/compare",
           "/hr/teachers/T00001", "/audit", "/audit/seniority?certification=ELEM", "/audit/return-rights",
           "/schools/S0001", "/schools/S0001/vacancies/V00001"],
    "union": ["/audit?run=2", "/audit/seniority", "/audit/return-rights?run=2"],
    "p1": ["/schools/S0001", "/schools/S0001/vacancies/V00001"],
    "c1": ["/schools/S0001/vacancies/V00001"],
}


@pytest.mark.parametrize("user", list(DAILY_PAGES))
def test_no_page_shows_a_teacher_or_school_id_without_its_name(as_, with_runs, user):
    client = as_(user)
    teachers, schools = names_of(f"sqlite:///{with_runs / 'web.db'}")
    seen = 0
    for url in DAILY_PAGES[user]:
        r = client.get(url)
        assert r.status_code == 200, url
        text = visible_text(r.text)
        assert bare_ids(text, teachers) == [], f"{url} shows teacher ids without names"
        assert bare_ids(text, schools) == [], f"{url} shows school ids without names"
        seen += sum(1 for name in teachers.values() if name in text)
    assert seen > 0  # the pages do name teachers: the check above had something to check


def test_a_known_teacher_is_named_on_hr_pages(as_):
    hr = as_("hr")
    assert "Carla Hughes" in hr.get("/hr?q=T00001").text
    page = hr.get("/hr/teachers/T00001").text
    assert "Carla Hughes" in page and "English as a second language" in page and "Placements across runs" in page


def test_the_run_page_leads_with_decisions_and_folds_the_solver_details(as_):
    page = as_("hr").get("/hr/runs/1").text
    order = [page.index(marker) for marker in ("Decisions for HR", "Must-place teachers still unplaced",
                                                "Vacancies left open", "Rule check", "Placements",
                                                "<details class=\"technical\">")]
    assert order == sorted(order)
    assert "pairs in the model" not in page[:page.index("<details")]
    assert "reserve cost" in page and "$" in page


def test_a_filter_that_matches_nothing_says_so(as_):
    hr = as_("hr")
    assert "No teachers match these filters" in hr.get("/hr?q=Nobody%20Called%20This").text
    assert "No vacancies match these filters" in hr.get("/hr/vacancies?school=No%20Such%20School").text


def test_a_school_typed_by_name_filters_as_its_id_does(as_, with_runs):
    hr = as_("hr")
    _, schools = names_of(f"sqlite:///{with_runs / 'web.db'}")
    by_name = hr.get("/hr/vacancies", params={"school": schools["S0002"], "csv": "vacancies"}).text
    by_id = hr.get("/hr/vacancies", params={"school": "S0002", "csv": "vacancies"}).text
    by_picker = hr.get("/hr/vacancies", params={"school": f"{schools['S0002']} (S0002)", "csv": "vacancies"}).text
    assert by_name == by_id == by_picker and len(by_id.splitlines()) > 1


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_downloads_carry_names_and_every_row(as_, with_runs):
    hr, union = as_("hr"), as_("union")
    teachers, schools = names_of(f"sqlite:///{with_runs / 'web.db'}")
    pool = rows(hr.get("/hr?csv=pool").text)
    assert pool and all(r["name"] == teachers[r["teacher_id"]] for r in pool)
    placements = rows(hr.get("/hr/runs/1?csv=placements").text)
    with session_scope(f"sqlite:///{with_runs / 'web.db'}") as s:  # the run's teachers: the pool, not employed ones
        in_run = json.loads(s.get(PlacementRun, 1).figures_json)["teachers"]
    assert len(placements) == in_run > 50  # every teacher of the run, not one page
    assert all(r["teacher"] == teachers[r["teacher_id"]] for r in placements)
    assert all(r["school"] == schools[r["school_id"]] for r in placements if r["school_id"])
    audit = rows(union.get("/audit?run=1&csv=audit").text)
    assert audit and all(r["passed_over"] == teachers[r["passed_over_id"]] and r["occupant"] == teachers[r["occupant_id"]]
                         for r in audit)
    ledger = rows(union.get("/audit/return-rights?run=1&csv=ledger").text)
    assert ledger and all(r["teacher"] == teachers[r["teacher_id"]] for r in ledger)
    seniority = rows(union.get("/audit/seniority?certification=ELEM&csv=seniority").text)
    assert seniority and all(r["name"] == teachers[r["teacher_id"]] for r in seniority)
    assert [r["seniority_date"] for r in seniority] == sorted(r["seniority_date"] for r in seniority)
    moved = rows(hr.get("/hr/compare?a=1&b=2&csv=moved").text)
    assert all(r["teacher"] == teachers[r["teacher_id"]] for r in moved)


def test_a_formula_in_a_name_is_not_run_by_a_spreadsheet(as_, with_runs):
    with session_scope(f"sqlite:///{with_runs / 'web.db'}") as s:
        t = s.get(TeacherRow, "T00001")
        old, t.name = t.name, "=HYPERLINK(\"x\")"
    try:
        pool = rows(as_("hr").get("/hr?csv=pool").text)
        assert next(r for r in pool if r["teacher_id"] == "T00001")["name"].startswith("'=")
    finally:
        with session_scope(f"sqlite:///{with_runs / 'web.db'}") as s:
            s.get(TeacherRow, "T00001").name = old


def test_the_union_audit_leaves_out_teachers_without_the_posts_certification(as_):
    union = as_("union")
    shown = rows(union.get("/audit?run=1&csv=audit").text)
    everything = rows(union.get("/audit/1.csv").text)
    noise = [r for r in everything if r["lawful_reason"].startswith("certification")]
    assert noise, "the seed district should have certification rows for this test to mean anything"
    assert not any(r["lawful_reason"].startswith("certification") for r in shown)
    assert len(shown) + len(noise) == len(everything)
    page = union.get("/audit?run=1").text
    assert f"{len(noise)} such row(s)" in page
    asked = rows(union.get("/audit?run=1&reason=certification&csv=audit").text)
    assert len(asked) == len(noise)
    by_cert = rows(union.get("/audit?run=1&certification=ELEM&csv=audit").text)
    assert all(r["certification"] == "ELEM" for r in by_cert)


def test_the_return_rights_ledger_agrees_with_the_run_figure(as_):
    hr = as_("hr")
    figures = hr.get("/api/runs/1").json()["figures"]
    ledger = rows(hr.get("/audit/return-rights?run=1&csv=ledger").text)
    counted = [r for r in ledger if r["counted"] == "True"]
    assert len(counted) == figures["return_rights_total"]
    assert sum(1 for r in counted if r["status"] == "honoured") == figures["return_rights_honoured"]
    with session_scope(hr.app.state.database_url) as s:
        holders = s.exec(select(PoolEntry).where(PoolEntry.return_rights == True)).all()  # noqa: E712
    assert len(ledger) == len(holders)  # the dashboard's "hold return rights" and the ledger count the same people


def test_compare_defaults_to_two_different_runs_with_differences_and_units(as_):
    hr = as_("hr")
    page = hr.get("/hr/compare").text
    assert "run A #1" in page and "run B #2" in page and "difference (B − A)" in page
    assert re.search(r"[+−±]\$[\d,]+", page)  # the reserve cost's difference in dollars
    assert "Choose two different runs" in hr.get("/hr/compare?a=1&b=1").text


def test_unknown_pages_get_an_html_page_and_the_api_json(as_):
    hr = as_("hr")
    r = hr.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "Page not found" in r.text
    api = hr.get("/api/no/such")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")
    assert hr.get("/hr/teachers/NOBODY").status_code == 404
    assert hr.get("/static/favicon.svg").status_code == 200


def test_sign_in_returns_to_the_page_asked_for_with_its_query(as_):
    anonymous = as_()
    r = anonymous.get("/hr/runs/1?kind=forced", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fhr%2Fruns%2F1%3Fkind%3Dforced"
    form = anonymous.get(r.headers["location"]).text
    assert 'name="next" value="/hr/runs/1?kind=forced"' in form
    done = anonymous.post("/login", data={"username": "hr", "password": password_of("hr"), "next": "/hr/runs/1?kind=forced",
                                          "csrf_token": csrf_of(anonymous)}, follow_redirects=False)
    assert done.headers["location"] == "/hr/runs/1?kind=forced"


def test_docs_are_served_without_any_external_url(as_):
    client = as_()
    page = client.get("/docs").text
    assert "swagger-ui-bundle.js" in page and not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page)
    for asset in re.findall(r'(?:href|src)="(/[^"]+)"', page):
        assert client.get(asset).status_code == 200, asset


def test_a_picker_sends_name_and_id_and_the_server_takes_it(as_, with_runs):
    p1 = as_("p1")
    teachers, _ = names_of(f"sqlite:///{with_runs / 'web.db'}")
    r = p1.post("/schools/S0001/vacancies/V00001/ranking",
                data={"teacher_id": f"{teachers['T00100']} (T00100)", "action": "add"})
    assert r.status_code == 200
    with session_scope(f"sqlite:///{with_runs / 'web.db'}") as s:
        ranked = [x.teacher_id for x in s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001"))]
    assert "T00100" in ranked
    bad = p1.post("/schools/S0001/vacancies/V00001/interviews", data={"teacher_id": "Nobody At All", "held_on": "2026-04-01"})
    assert bad.status_code == 422 and "Nobody At All" in bad.text and 'role="alert"' in bad.text


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A generated 150-school district (750 teachers) with an HR sign-in."""
    url = f"sqlite:///{tmp_path_factory.mktemp('city') / 'city.db'}"
    init_db(url)
    with session_scope(url) as s:
        save_district(s, generate("city", 3))
        create_user(s, "hr", password_of("hr"), "hr")
    return url


def test_pagination_on_a_city_district_reaches_the_last_teacher(city, tmp_path):
    hr = client_for(None, tmp_path, "hr", url=city)
    with session_scope(city) as s:
        pool = {e.teacher_id for e in s.exec(select(PoolEntry)) if not e.placed_vacancy_id}
    seen: list[str] = []
    url, pages = "/hr?sort=teacher_id", 0
    while url:
        page = hr.get(url).text
        seen += re.findall(r'href="/hr/teachers/([^"]+)"', page)
        following = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = html.unescape(following.group(1)) if following else ""
        pages += 1
    assert pages > 1 and len(seen) == len(pool) and set(seen) == pool
    assert seen[-1] == max(pool)  # the last teacher is on the last page
    assert f"{len(pool):,} teachers" in hr.get("/hr").text
    assert len(rows(hr.get("/hr?csv=pool").text)) == len(pool)


def test_serve_refuses_a_missing_or_empty_database(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["serve", "--database-url", f"sqlite:///{tmp_path / 'none.db'}"])
    assert missing.exit_code == 2 and "no database at" in missing.output and "staffing import" in missing.output
    assert not (tmp_path / "none.db").exists()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    init_db(empty)
    result = runner.invoke(cli, ["serve", "--database-url", empty])
    assert result.exit_code == 2 and "holds no district" in result.output
