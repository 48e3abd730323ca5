"""Every filter of the pages, the JSON API and the CSV export narrows honestly: the result is not empty, every
row matches, it is smaller than the unfiltered list, and it is exactly the unfiltered rows that match (nothing
matching is dropped).  An ``all(...)`` over an empty list proves nothing, so each case asserts all four."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest

from solver.policy import Policy
from staffing.db import get_engine, session_scope
from staffing.runs import run_placement
from tests.web_support import build_template, client_for


def narrows(everything: list, filtered: list, matches: Callable[[object], bool]) -> None:
    assert filtered, "the filter returned nothing: pick a value that exists, an empty result proves nothing"
    assert all(matches(r) for r in filtered), [r for r in filtered if not matches(r)][:3]
    assert len(filtered) < len(everything), "the filter removed nothing: it may be ignored"
    assert filtered == [r for r in everything if matches(r)], "rows that match were dropped"


def listed(client, path: str, name: str) -> list[dict[str, str]]:
    """Every row a page lists under its filters: the page shows a count and one page of them, and its CSV
    download (``csv=<list>``, the same server-side filter) holds all of them; the two must agree."""
    html = client.get(path).text
    shown = re.search(rf'id="count-{name}">(?:No |([\d,]+) )', html)
    assert shown, f"no count of the {name} list on {path}"
    sep = "&" if "?" in path else "?"
    rows = list(csv.DictReader(io.StringIO(client.get(f"{path}{sep}csv={name}").text)))
    assert len(rows) == int((shown.group(1) or "0").replace(",", "")), "the page's count and its CSV differ"
    return rows


@pytest.fixture(scope="module")
def hr(tmp_path_factory):
    """HR signed in on the seeded web database with one finished run (#1)."""
    folder = tmp_path_factory.mktemp("filters")
    path = build_template(folder)
    url = f"sqlite:///{path}"
    with session_scope(url) as s:
        assert run_placement(s, Policy(time_limit=5), "hr").violations == []
    get_engine(url).dispose()
    return client_for(path, folder, "hr")


# -- the pool ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,matches", [
    ("status=displaced", lambda t: t["status"] == "displaced"),
    ("status=new_hire", lambda t: t["status"] == "new_hire"),
    ("certification=ELEM", lambda t: "ELEM" in t["certifications"].split(";")),
    ("region=North", lambda t: t["region"] == "North"),
    ("status=voluntary_transfer&certification=ELEM",
     lambda t: t["status"] == "voluntary_transfer" and "ELEM" in t["certifications"].split(";")),
])
def test_pool_filters_of_the_api_narrow_to_exactly_the_matching_teachers(hr, query, matches):
    everyone = hr.get("/api/pool").json()
    filtered = hr.get(f"/api/pool?{query}").json()
    narrows(everyone["teachers"], filtered["teachers"], matches)
    assert filtered["summary"]["teachers"] == len(filtered["teachers"]) < everyone["summary"]["teachers"]


def test_pool_status_filter_of_the_hr_dashboard_lists_only_that_status(hr):
    everyone = listed(hr, "/hr", "pool")
    displaced = listed(hr, "/hr?status=displaced", "pool")
    narrows(everyone, displaced, lambda r: r["status"] == "displaced")
    both = listed(hr, "/hr?status=displaced&certification=ELEM", "pool")
    narrows(displaced, both, lambda r: "ELEM" in r["certifications"].split(";"))


# -- vacancies -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,matches", [
    ("certification=SPED", lambda v: v["certification"] == "SPED"),
    ("model=traditional", lambda v: v["model"] == "traditional"),
    ("certification=ELEM&model=traditional", lambda v: v["certification"] == "ELEM" and v["model"] == "traditional"),
])
def test_vacancy_filters_of_the_api_and_the_page_narrow_to_exactly_the_matching_posts(hr, query, matches):
    narrows(hr.get("/api/vacancies").json(), hr.get(f"/api/vacancies?{query}").json(), matches)
    narrows(listed(hr, "/hr/vacancies", "vacancies"), listed(hr, f"/hr/vacancies?{query}", "vacancies"), matches)


def test_a_schools_vacancy_list_holds_that_schools_posts_only(hr):
    everything = hr.get("/api/vacancies").json()
    narrows(everything, hr.get("/api/schools/S0004/vacancies").json(), lambda v: v["school_id"] == "S0004")


# -- a run's placements ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,matches", [
    ("kind=forced", lambda p: p["kind"] == "forced"),
    ("kind=mutual_consent", lambda p: p["kind"] == "mutual_consent"),
    ("school_id=S0004", lambda p: p["school_id"] == "S0004"),
])
def test_run_page_filters_list_only_matching_placements(hr, query, matches):
    everything = listed(hr, "/hr/runs/1", "placements")
    assert len(everything) == len(hr.get("/api/runs/1").json()["placements"])
    narrows(everything, listed(hr, f"/hr/runs/1?{query}", "placements"), matches)


# -- the seniority audit -----------------------------------------------------------------------------------------

AUDIT_FILTERS = [
    ("reason=certification", lambda r: r["lawful_reason"].startswith("certification")),
    ("reason=model exempt", lambda r: r["lawful_reason"].startswith("model exempt from seniority")),
    ("reason=not ranked", lambda r: r["lawful_reason"].startswith("not ranked")),
    ("reason=occupant has a higher", lambda r: r["lawful_reason"].startswith("occupant has a higher")),
    ("school_id=S0004", lambda r: r["school_id"] == "S0004"),
    ("teacher_id=T00075", lambda r: "T00075" in (r["passed_over_id"], r["occupant_id"])),
    ("school_id=S0004&reason=certification",
     lambda r: r["school_id"] == "S0004" and r["lawful_reason"].startswith("certification")),
]


@pytest.mark.parametrize("query,matches", AUDIT_FILTERS)
def test_audit_filters_of_the_api_narrow_to_exactly_the_matching_rows(hr, query, matches):
    narrows(hr.get("/api/runs/1/audit").json(), hr.get(f"/api/runs/1/audit?{query}").json(), matches)


@pytest.mark.parametrize("query,matches", AUDIT_FILTERS)
def test_audit_csv_export_keeps_exactly_the_filtered_rows(hr, query, matches):
    def rows(q: str) -> list[dict]:
        r = hr.get(f"/audit/1.csv?{q}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        return [{k: v or None for k, v in row.items()} for row in csv.DictReader(io.StringIO(r.text))]

    narrows(rows(""), rows(query), lambda r: matches({**r, "lawful_reason": r["lawful_reason"] or ""}))


@pytest.mark.parametrize("query,matches", AUDIT_FILTERS)
def test_audit_page_counts_and_lists_only_the_filtered_rows(hr, query, matches):
    def page(q: str) -> tuple[int, list[dict]]:
        # noise=true: the page also lists rows about teachers lacking the post's certification (hidden by default)
        rows = listed(hr, f"/audit?run=1&noise=true&{q}", "audit")
        return len(rows), [{k: r[k] for k in ("school_id", "lawful_reason", "occupant_id", "passed_over_id")}
                           for r in rows]

    all_total, everything = page("")
    total, filtered = page(query)
    assert 0 < total == len(filtered) < all_total
    narrows(everything, filtered, matches)


def test_the_school_page_shows_that_schools_vacancies_only(hr):
    own = {v["vacancy_id"] for v in hr.get("/api/schools/S0004/vacancies").json()}
    others = {v["vacancy_id"] for v in hr.get("/api/vacancies").json()} - own
    html = hr.get("/schools/S0004").text
    assert own and all(vid in html for vid in own)
    assert not any(re.search(rf"\b{vid}\b", html) for vid in others)

