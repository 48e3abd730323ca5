"""Access guards per route: every write route of the app (pages and JSON API, read from ``app.routes`` so a new
route without an entry here fails) is called as each role with every mismatch, and must be refused AND leave
every table of the database exactly as it was.  A positive control per route shows the same request, made by
someone allowed, does change the database -- so a refusal here is the guard's doing, not a bad payload's."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from solver.policy import Policy
from staffing import season
from staffing.db import get_engine, session_scope
from staffing.excessing import roster
from staffing.runs import run_placement
from staffing.services import set_ballot
from staffing.teacher_portal import teacher_record
from tests.db_dump import dump
from tests.web_support import build_template, client_for, password_of
from web.app import create_app
from web.auth import create_user

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: The victim: a vacancy of S0001, whose principal (p1) has cast a ballot, so that adopting would change the
#: committee's ranking; p2 and c4a are principal and committee member of other schools.
OWN_SCHOOL, VICTIM_VACANCY = "S0001", "V00001"
#: Two teachers who sign in (t1, t2), each with a pending offer of the first published round; in a case, the
#: names below stand for record ids the template makes (their offers, t2's teacher id, a teacher S0003 may dismiss).
T1_OFFER, T2_OFFER, T2_TEACHER, S0003_TEACHER = "<t1 offer>", "<t2 offer>", "<t2 teacher>", "<S0003 teacher>"
T1_UNLISTED = "<a school t1 has not listed>"


@dataclass(frozen=True)
class Route:
    """How to call one write route: a body, who may (the positive control) and who may not."""

    body: dict = field(default_factory=dict)
    json: bool = False
    #: (user, school id, target) of a call that must succeed and change the database; None: no control.  The
    #: target is the vacancy id of a school's route, or the record a teacher's or HR's route acts on; it fills
    #: ``{vacancy_id}``/``{target}`` in the path and in the body's text values.
    allowed: tuple[str, str, str] | None = None
    #: (user or None for signed out, school id, target) of calls that must be refused and change nothing.
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


HR_ONLY_REFUSED = tuple((user, "", "") for user in ("union", "p1", "c1", "t1", None))
HR_ON_T2_REFUSED = tuple((user, "", T2_TEACHER) for user in ("union", "p1", "c1", "t1", None))
#: A teacher acts only on their own record: another teacher's offer, an offer that does not exist, and every
#: other role (the routes take the teacher from the sign-in, so no teacher id can be sent at all).
OWN_OFFER_REFUSED = (("t1", "", T2_OFFER), ("t2", "", T1_OFFER), ("t1", "", "999999"),
                     *((user, "", T1_OFFER) for user in ("hr", "p1", "c1", "union", None)))
OWN_RECORD_REFUSED = tuple((user, "", "") for user in ("hr", "p1", "c1", "union", None))


def excess_cases(school: str) -> tuple[tuple[str | None, str, str], ...]:
    """Excessing and dismissing at ``school``: a principal of another school, a committee member (at that school
    and at their own), the union, a teacher, signed out; HR may act at any school."""
    others = [p for p in ("p1", "p2") if {"p1": "S0001", "p2": "S0002"}[p] != school]
    return tuple([(p, school, "") for p in others] + [("c1", school, ""), ("c1", "S0001", ""), ("union", school, ""),
                                                       ("t1", school, ""), (None, school, "")])


EXCESS = {"certification": "ART", "n": "1"}
DISMISS = {"teacher_id": S0003_TEACHER, "reason": "elect-to-work agreement"}
NEW_VACANCY = {"vacancy_id": "VG1", "school_id": "S0002", "certification": "MATH"}
NEW_TEACHER = {"teacher_id": "TG1", "name": "Guard Test", "certifications": ["MATH"], "seniority_date": "2020-01-01",
               "salary": 60000, "status": "new_hire"}
RANK = {"teacher_id": "T00100", "action": "add"}
SCHOOL = "/schools/{school_id}/vacancies/{vacancy_id}"
API_SCHOOL = "/api" + SCHOOL

ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/login"): Route(why_public="signing in: public by design, writes nothing"),
    ("POST", "/logout"): Route(why_public="signing out: clears the caller's own session only"),
    ("POST", "/api/login"): Route(why_public="signing in: public by design, writes nothing"),
    ("POST", "/api/logout"): Route(why_public="signing out: clears the caller's own session only"),
    # one's own password: the account is the sign-in's (no user name is sent); signed out is refused
    ("POST", "/account/password"): Route({"current": "pw-hr-correct-horse", "new": "a-new-long-password",
                                          "confirm": "a-new-long-password"}, allowed=("hr", "", ""),
                                         refused=((None, "", ""),)),
    # a teacher's own record: offers and list of schools (the teacher id comes from the sign-in)
    ("POST", "/me/offers/answer"): Route({"offer_id": "{target}", "answer": "accept"}, allowed=("t1", "", T1_OFFER),
                                         refused=OWN_OFFER_REFUSED),
    ("POST", "/api/me/offers/answer"): Route({"offer_id": "{target}", "answer": "accept"}, json=True,
                                             allowed=("t1", "", T1_OFFER), refused=OWN_OFFER_REFUSED),
    ("POST", "/me/preferences"): Route({"school_id": T1_UNLISTED, "action": "add"}, allowed=("t1", "", ""),
                                       refused=OWN_RECORD_REFUSED),
    ("PUT", "/api/me/preferences"): Route({"school_ids": ["S0002"]}, json=True, allowed=("t1", "", ""),
                                          refused=OWN_RECORD_REFUSED),
    # rosters: excessing and dismissal at one's own school (HR anywhere)
    ("POST", "/schools/{school_id}/excess"): Route(EXCESS, allowed=("p2", "S0002", ""), refused=excess_cases("S0002")),
    ("POST", "/api/schools/{school_id}/excess"): Route({"certification": "ART", "n": 1}, json=True,
                                                       allowed=("p2", "S0002", ""), refused=excess_cases("S0002")),
    ("POST", "/schools/{school_id}/dismiss"): Route(DISMISS, allowed=("hr", "S0003", ""),
                                                    refused=excess_cases("S0003")),
    ("POST", "/api/schools/{school_id}/dismiss"): Route(DISMISS, json=True, allowed=("hr", "S0003", ""),
                                                        refused=excess_cases("S0003")),
    ("PUT", "/api/settings/pool/{key}"): Route({"value": "3"}, json=True, allowed=("hr", "", ""),
                                               refused=HR_ONLY_REFUSED),
    # the season: HR only (HR answers on a teacher's behalf, recorded as HR's answer)
    ("POST", "/hr/season/advance"): Route({"to": "interviews"}, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/api/season/advance"): Route({"to": "interviews"}, json=True, allowed=("hr", "", ""),
                                           refused=HR_ONLY_REFUSED),
    ("POST", "/hr/season/settings"): Route({"response_days": "9"}, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("PUT", "/api/season/settings"): Route({"response_days": 9}, json=True, allowed=("hr", "", ""),
                                           refused=HR_ONLY_REFUSED),
    ("POST", "/hr/season/respond"): Route({"teacher_id": "{target}", "answer": "decline"},
                                          allowed=("hr", "", T2_TEACHER), refused=HR_ON_T2_REFUSED),
    ("POST", "/api/teachers/{teacher_id}/answer"): Route({"answer": "decline"}, json=True,
                                                         allowed=("hr", "", T2_TEACHER), refused=HR_ON_T2_REFUSED),
    ("POST", "/hr/season/vacancies"): Route(NEW_VACANCY, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/api/vacancies"): Route(NEW_VACANCY, json=True, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/hr/season/teachers"): Route({**NEW_TEACHER, "certifications": "MATH", "salary": "60000"},
                                           allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
    ("POST", "/api/teachers"): Route(NEW_TEACHER, json=True, allowed=("hr", "", ""), refused=HR_ONLY_REFUSED),
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


@dataclass(frozen=True)
class Guarded:
    path: Path
    run_id: int  # a lawful run of the current state, not published: what the publish routes publish
    ids: dict[str, str]  # T1_OFFER etc. -> the record id the template made


@pytest.fixture(scope="module")
def guarded_template(tmp_path_factory) -> Guarded:
    """The web tests' seeded database, plus: a first round published as offers, all declined (refused if forced)
    but two teachers' (t1, t2, who sign in; their posts are not at the schools the school routes use); a ballot
    of S0001's principal (so adopting at V00001 would change its ranking); and a lawful run of that state."""
    folder = tmp_path_factory.mktemp("guards")
    path = build_template(folder)
    url = f"sqlite:///{path}"
    with session_scope(url) as s:
        first = run_placement(s, Policy(time_limit=5), "hr", method="teacher_da")
        assert first.violations == []
        _, offers = season.publish(s, first.run.id, "hr")
        kept = [o for o in offers if o.school_id not in ("S0001", "S0002", "S0003", "S0004") and o.kind != "forced"][:2]
        assert len(kept) == 2, "the first round offers posts at other schools"
        for o in offers:
            if o.id not in {k.id for k in kept}:
                season.respond(s, o.teacher_id, "refuse" if o.kind == "forced" else "decline", "hr")
        for name, o in zip(("t1", "t2"), kept):
            create_user(s, name, password_of(name), "teacher", teacher_id=o.teacher_id)
        unlisted = teacher_record(s, kept[0].teacher_id)["schools"]
        ids = {T1_OFFER: str(kept[0].id), T2_OFFER: str(kept[1].id), T2_TEACHER: kept[1].teacher_id,
               S0003_TEACHER: next(iter(roster(s, "S0003").values()))[0].teacher_id,
               T1_UNLISTED: unlisted[0]["school_id"]}
        set_ballot(s, VICTIM_VACANCY, "p1", ["T00002"], "p1")
    with session_scope(url) as s:
        second = run_placement(s, Policy(time_limit=5), "hr", method="teacher_da")
        assert second.violations == []
        run_id = second.run.id
    get_engine(url).dispose()
    return Guarded(path, run_id, ids)


def call(client, guarded: Guarded, method: str, path: str, route: Route, school_id: str, target: str):
    """One request: ``{school_id}``, ``{vacancy_id}``/``{target}``/``{teacher_id}`` (the case's target, a
    record name resolved to the template's id) and ``{run_id}`` filled in the path and the body's text."""
    target = guarded.ids.get(target, target)
    values = {"school_id": school_id, "vacancy_id": target, "target": target, "teacher_id": target,
              "run_id": guarded.run_id, "key": "max_wishes"}
    url = path.format(**values)
    body = {k: (guarded.ids.get(v, v).format(**values) if isinstance(v, str) else v) for k, v in route.body.items()}
    if route.json:
        return client.request(method, url, json=body, follow_redirects=False)
    return client.request(method, url, data=body, follow_redirects=False)


def refusal_cases():
    for (method, path), route in ROUTES.items():
        for user, school_id, vacancy_id in route.refused:
            yield pytest.param(method, path, user, school_id, vacancy_id,
                               id=f"{method} {path} as {user or 'anonymous'} on {school_id or '-'}/{vacancy_id or '-'}")


@pytest.mark.parametrize("method,path,user,school_id,vacancy_id", list(refusal_cases()))
def test_a_mismatched_caller_is_refused_and_the_database_is_unchanged(guarded_template, tmp_path, method, path, user,
                                                                      school_id, vacancy_id):
    client = client_for(guarded_template.path, tmp_path, user)
    client.app.state.report_dir = tmp_path / "reports"
    url = f"sqlite:///{tmp_path / 'web.db'}"
    before = dump(url)
    r = call(client, guarded_template, method, path, ROUTES[(method, path)], school_id, vacancy_id)
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
    client = client_for(guarded_template.path, tmp_path, user)
    url = f"sqlite:///{tmp_path / 'web.db'}"
    before = dump(url)
    r = call(client, guarded_template, method, path, route, school_id, vacancy_id)
    assert r.status_code in (200, 201, 202, 303), (r.status_code, r.text[:300])
    after = dump(url)
    assert after != before
    assert len(after["audit_log"]) > len(before["audit_log"])  # and the change is in the audit trail
