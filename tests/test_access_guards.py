"""Access guards per route: every write route of the app (pages and JSON API, read from ``app.routes`` so a new
route without an entry here fails) is called as each role with every mismatch, and must be refused AND leave
every table of the database exactly as it was.  A positive control per route shows the same request, made by
someone allowed, does change the database -- so a refusal here is the guard's doing, not a bad payload's."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from solver.policy import Policy
from staffing.db import get_engine, session_scope
from staffing.runs import run_placement
from staffing.services import set_ballot
from tests.db_dump import dump
from tests.web_support import build_template, client_for
from web.app import create_app

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: The victim: a vacancy of S0001, whose principal (p1) has cast a ballot, so that adopting would change the
#: committee's ranking; p2 and c4a are principal and committee member of other schools.
OWN_SCHOOL, VICTIM_VACANCY = "S0001", "V00001"


@dataclass(frozen=True)
class Route:
    """How to call one write route: a body, who may (the positive control) and who may not."""

    body: dict = field(default_factory=dict)
    json: bool = False
    #: (user, school id, vacancy id) of a call that must succeed and change the database; None: no control.
    allowed: tuple[str, str, str] | None = None
    #: (user or None for signed out, school id, vacancy id) of calls that must be refused and change nothing.
    refused: tuple[tuple[str | None, str, str], ...] = ()
    why_public: str = ""


def school_route_cases(roles_refused: tuple[str, ...]) -> tuple[tuple[str | None, str, str], ...]:
    """Every mismatch on a school's vacancy: another school's user with their own school id and the victim's
    vacancy, and with the victim's school id; a user of the right school with an unknown vacancy or another
    school's; the roles that may not at all; signed out."""
    cases: list[tuple[str | None, str, str]] = [
        ("p2", "S0002", VICTIM_VACANCY),  # own school id + another school's vacancy
        ("p2", OWN_SCHOOL, VICTIM_VACANCY),  # another school's id
        ("c4a", "S0004", VICTIM_VACANCY),
        ("c4a", OWN_SCHOOL, VICTIM_VACANCY),
        ("p1", OWN_SCHOOL, "V00002"),  # own school id + a vacancy of S0002
        ("p1", OWN_SCHOOL, "V99999"),  # a vacancy that does not exist
        ("hr", "S0002", VICTIM_VACANCY),  # HR may act anywhere, but not on a vacancy through the wrong school
        (None, OWN_SCHOOL, VICTIM_VACANCY),
    ]
    cases += [(user, OWN_SCHOOL, VICTIM_VACANCY) for user in roles_refused]
    return tuple(cases)


HR_ONLY_REFUSED = tuple((user, "", "") for user in ("union", "p1", "c1", None))
RANK = {"teacher_id": "T00100", "action": "add"}
#: a roster at S0002 (traditional: it excesses MATH by reverse seniority): another school's principal, a committee
#: member, the union and signed out may not touch it
ROSTER_REFUSED = (("p1", "S0002", ""), ("c1", "S0002", ""), ("c4a", "S0002", ""), ("union", "S0002", ""),
                  (None, "S0002", ""))
NOT_A_TEACHER = tuple((user, "", "") for user in ("hr", "union", "p1", "c1", None))
NEW_PASSWORD = "a-new-password-long-enough"
NEW_VACANCY = {"vacancy_id": "VGUARD1", "school_id": "S0002", "certification": "MATH", "fte": "1.0"}
NEW_TEACHER = {"teacher_id": "TGUARD1", "name": "Guard Teacher", "seniority_date": "2015-08-01", "status": "displaced"}
SCHOOL = "/schools/{school_id}/vacancies/{vacancy_id}"
API_SCHOOL = "/api" + SCHOOL

ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/login"): Route(why_public="signing in: public by design, writes nothing"),
    ("POST", "/logout"): Route(why_public="signing out: clears the caller's own session only"),
    ("POST", "/api/login"): Route(why_public="signing in: public by design, writes nothing"),
    ("POST", "/hr/runs"): Route({"scenario": "district_rules", "time_limit": "5", "method": "teacher_da"},
                                allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/api/runs"): Route({"time_limit": 5, "method": "teacher_da"}, json=True, allowed=("hr", "", ""),
                                 refused=HR_ONLY_REFUSED),
    ("POST", "/hr/runs/{run_id}/publish"): Route({"confirm": "yes"}, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/api/runs/{run_id}/publish"): Route(allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    # the analysis writes report files, not the database: its refusal is checked on the report folder too
    ("POST", "/hr/tradeoffs"): Route(refused=HR_ONLY_REFUSED),
    ("POST", SCHOOL + "/ranking"): Route(RANK, allowed=("p1", OWN_SCHOOL, VICTIM_VACANCY),
                                         refused=school_route_cases(("c1", "union"))),
    ("POST", SCHOOL + "/interviews"): Route({"teacher_id": "T00002", "held_on": "2026-04-10"},
                                            allowed=("p1", OWN_SCHOOL, VICTIM_VACANCY),
                                            refused=school_route_cases(("c1", "union"))),
    ("POST", SCHOOL + "/ballot"): Route(RANK, allowed=("c1", OWN_SCHOOL, VICTIM_VACANCY),
                                        refused=school_route_cases(("hr", "union"))),
    ("POST", SCHOOL + "/adopt"): Route(allowed=("p1", OWN_SCHOOL, VICTIM_VACANCY),
                                       refused=school_route_cases(("c1", "union"))),
    ("PUT", API_SCHOOL + "/ranking"): Route({"teacher_ids": ["T00100"]}, json=True,
                                            allowed=("p1", OWN_SCHOOL, VICTIM_VACANCY),
                                            refused=school_route_cases(("c1", "union"))),
    ("PUT", API_SCHOOL + "/ballot"): Route({"teacher_ids": ["T00100"]}, json=True,
                                           allowed=("c1", OWN_SCHOOL, VICTIM_VACANCY),
                                           refused=school_route_cases(("hr", "union"))),
    ("POST", API_SCHOOL + "/adopt"): Route(allowed=("p1", OWN_SCHOOL, VICTIM_VACANCY),
                                           refused=school_route_cases(("c1", "union"))),
    # signing in and out, one's own password
    ("POST", "/api/logout"): Route(why_public="signing out: ends the caller's own session only"),
    ("POST", "/account/password"): Route({"current": "wrong-but-long-enough", "new": NEW_PASSWORD,
                                          "confirm": NEW_PASSWORD}, refused=((None, "", ""),)),
    # the season: HR only
    ("POST", "/hr/season/advance"): Route({"to": "interviews"}, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/api/season/advance"): Route({"to": "interviews"}, json=True, allowed=("hr", "", ""),
                                           refused=HR_ONLY_REFUSED),
    ("POST", "/hr/season/settings"): Route({"response_days": "9"}, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("PUT", "/api/season/settings"): Route({"response_days": 9}, json=True, allowed=("hr", "", ""),
                                           refused=HR_ONLY_REFUSED),
    ("POST", "/hr/season/vacancies"): Route(NEW_VACANCY, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/api/vacancies"): Route(NEW_VACANCY, json=True, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/hr/season/teachers"): Route({**NEW_TEACHER, "certifications": "MATH", "salary": "61000"},
                                           allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/api/teachers"): Route({**NEW_TEACHER, "certifications": ["MATH"], "salary": 61000}, json=True,
                                     allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    # answering an offer for a teacher (no round is published here: refusals only; tests/test_season*.py answer)
    ("POST", "/hr/season/respond"): Route({"teacher_id": "T00002", "answer": "accept"}, refused=HR_ONLY_REFUSED),
    ("POST", "/api/teachers/{teacher_id}/answer"): Route({"answer": "accept"}, json=True, refused=HR_ONLY_REFUSED),
    ("PUT", "/api/settings/pool/{key}"): Route({"value": "7"}, json=True, allowed=("hr", "", ""),
                                               refused=HR_ONLY_REFUSED),
    # a school's roster: HR, or the principal of that school
    ("POST", "/schools/{school_id}/excess"): Route({"certification": "MATH", "n": "1"}, allowed=("hr", "S0002", ""),
                                                   refused=ROSTER_REFUSED),
    ("POST", "/api/schools/{school_id}/excess"): Route({"certification": "MATH", "n": 1}, json=True,
                                                       allowed=("p2", "S0002", ""), refused=ROSTER_REFUSED),
    ("POST", "/schools/{school_id}/dismiss"): Route({"teacher_id": "T00106", "reason": "budget"},
                                                    refused=ROSTER_REFUSED),
    ("POST", "/api/schools/{school_id}/dismiss"): Route({"teacher_id": "T00106", "reason": "budget"}, json=True,
                                                        refused=ROSTER_REFUSED),
    # a teacher's own record: the teacher id comes from the sign-in, so only other roles can be refused here
    ("POST", "/me/preferences"): Route({"school_id": "S0002", "action": "add"}, refused=NOT_A_TEACHER),
    ("PUT", "/api/me/preferences"): Route({"school_ids": ["S0002"]}, json=True, refused=NOT_A_TEACHER),
    ("POST", "/me/offer"): Route({"answer": "accept"}, refused=NOT_A_TEACHER),
}


def flat_routes(routes) -> list:
    """Routes with a path and methods, through included routers (FastAPI >= 0.16x keeps them nested)."""
    out = []
    for route in routes:
        if getattr(route, "methods", None) is not None:
            out.append(route)
        elif (nested := getattr(route, "effective_candidates", None)) is not None:
            out += flat_routes(nested() if callable(nested) else nested)
    return out


def write_routes() -> set[tuple[str, str]]:
    app = create_app("sqlite://")
    return {(method, route.path) for route in flat_routes(app.routes) for method in route.methods
            if method in WRITE_METHODS}


def test_every_write_route_has_an_entry_in_the_guard_table():
    """A route added without saying who may call it fails here until it gets an entry (and its cases)."""
    routes = write_routes()
    assert routes, "no write route found: the app's routes were not read"
    assert routes - set(ROUTES) == set(), "write routes without an access-guard entry"
    assert set(ROUTES) - routes == set(), "guard entries for routes that no longer exist"
    for key, route in ROUTES.items():
        assert route.why_public or route.refused, f"{key}: neither public nor any refused case"


@pytest.fixture(scope="module")
def guarded_template(tmp_path_factory) -> Path:
    """The web tests' seeded database, plus a finished lawful run (to publish) and a ballot of S0001's principal
    (so adopting at V00001 would change its ranking)."""
    folder = tmp_path_factory.mktemp("guards")
    path = build_template(folder)
    url = f"sqlite:///{path}"
    with session_scope(url) as s:
        outcome = run_placement(s, Policy(time_limit=5), "hr", method="teacher_da")
        assert outcome.violations == []
        set_ballot(s, VICTIM_VACANCY, "p1", ["T00002"], "p1")
    get_engine(url).dispose()
    return path


def call(client, method: str, path: str, route: Route, school_id: str, vacancy_id: str):
    url = path.format(school_id=school_id, vacancy_id=vacancy_id, run_id=1, teacher_id="T00002", key="max_wishes")
    if route.json:
        return client.request(method, url, json=route.body, follow_redirects=False)
    return client.request(method, url, data=route.body, follow_redirects=False)


def refusal_cases():
    for (method, path), route in ROUTES.items():
        for user, school_id, vacancy_id in route.refused:
            yield pytest.param(method, path, user, school_id, vacancy_id,
                               id=f"{method} {path} as {user or 'anonymous'} on {school_id or '-'}/{vacancy_id or '-'}")


@pytest.mark.parametrize("method,path,user,school_id,vacancy_id", list(refusal_cases()))
def test_a_mismatched_caller_is_refused_and_the_database_is_unchanged(guarded_template, tmp_path, method, path, user,
                                                                      school_id, vacancy_id):
    client = client_for(guarded_template, tmp_path, user)
    client.app.state.report_dir = tmp_path / "reports"
    url = f"sqlite:///{tmp_path / 'web.db'}"
    before = dump(url)
    r = call(client, method, path, ROUTES[(method, path)], school_id, vacancy_id)
    if user is None:
        assert (r.status_code == 303 and r.headers["location"].startswith("/login")) if not path.startswith("/api") \
            else r.status_code == 401, (r.status_code, r.text[:200])
    else:
        assert r.status_code in (403, 404), (r.status_code, r.text[:200])
    assert dump(url) == before
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


@pytest.mark.parametrize("method,path", [pytest.param(m, p, id=f"{m} {p}") for (m, p), r in ROUTES.items()
                                         if r.allowed])
def test_the_same_request_by_someone_allowed_changes_the_database(guarded_template, tmp_path, method, path):
    route = ROUTES[(method, path)]
    user, school_id, vacancy_id = route.allowed  # type: ignore[misc]
    client = client_for(guarded_template, tmp_path, user)
    url = f"sqlite:///{tmp_path / 'web.db'}"
    before = dump(url)
    r = call(client, method, path, route, school_id, vacancy_id)
    assert r.status_code in (200, 201, 202, 303), (r.status_code, r.text[:300])
    after = dump(url)
    assert after != before
    assert len(after["audit_log"]) > len(before["audit_log"])  # and the change is in the audit trail
