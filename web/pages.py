"""HTML pages.  Handlers only parse the request, call a read model or a service, and render."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from solver.audit import AUDIT_COLUMNS
from solver.policy import SCENARIOS
from sqlalchemy import func

from staffing import season
from staffing.db_models import UserRow
from staffing.domain import STATUSES, Interview, Teacher, Vacancy
from staffing.runs import get_run, search_mode
from staffing.services import (
    NotFound,
    add_teacher,
    add_vacancy,
    adopt_committee_decision,
    move_in_ballot,
    move_in_ranking,
    record_interview,
)
from staffing.validation import ValidationError, parse_date, parse_float, parse_int
from web import views
from web.templating import is_htmx, render
from web.auth import change_password, sign_in
from web.deps import (
    DB,
    User,
    begin_session,
    current_user,
    db,
    finish_session,
    role,
    school_access,
    school_reader,
    school_voter,
)
from web.listing import Column, csv_response, listing, wants_csv
from web.names import Names, label, spell
from web.review import (
    compare_figures,
    must_place_unplaced,
    placed_differently,
    return_rights_ledger,
    review,
    unfilled_vacancies,
    violations_by_rule,
)
from web.security import client_address
from web.runner import report_file, start_in_background, start_tradeoffs, tradeoff_state

router = APIRouter(include_in_schema=False)
HR = Depends(role("hr"))
READERS = Depends(role("hr", "union"))


def login_page(request: Request, session: Session, next: str, error: str | None, status: int = 200) -> HTMLResponse:
    """The sign-in form, warning when the server has demo accounts (shared, published passwords)."""
    demo = session.exec(select(func.count()).select_from(UserRow).where(UserRow.demo)).one()
    return render(request, "login.html", None, status=status, next=next, error=error, demo_users=demo,
                  production=request.app.state.settings.production)


@router.get("/login")
def login_form(request: Request, next: str = "/", session: Session = DB) -> HTMLResponse:
    return login_page(request, session, next, None)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/", session: Session = DB) -> Response:
    user, why = sign_in(session, username.strip(), password, client_address(request), request.app.state.settings)
    if user is None:  # returned, not raised, so the failure counted for throttling is committed
        return login_page(request, session, next, why, status=429 if why.startswith("Too many") else 401)
    begin_session(request, session, user.username)
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, session: Session = DB) -> Response:
    finish_session(request, session)
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password")
def password_form(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    return render(request, "password.html", user, error=None, message=None)


@router.post("/account/password")
def password_change(request: Request, current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
                    confirm: Annotated[str, Form()] = "", user: User = Depends(current_user),
                    session: Session = DB) -> HTMLResponse:
    """Change one's own password; every other session of the account ends (a stolen cookie stops working)."""
    if new != confirm:
        return render(request, "password.html", user, status=422, error="The two new passwords differ.", message=None)
    try:
        change_password(session, user.username, current, new, user.username, keep_session=request.session.get("sid"))
        session.commit()  # the other sessions are ended before the answer says so
    except ValidationError as exc:
        session.rollback()
        return render(request, "password.html", user, status=422, message=None,
                      error="; ".join(f"{p.field} {p.message}" for p in exc.problems))
    return render(request, "password.html", user, error=None,
                  message="Password changed. Your sessions on other browsers and devices were ended.")


@router.get("/")
def home(user: User = Depends(current_user)) -> Response:
    target = {"hr": "/hr", "union": "/audit", "teacher": "/me"}.get(user.role,
                                                                     f"/schools/{user.school_id}")  # principal, committee
    return RedirectResponse(target, status_code=303)


# -- HR ------------------------------------------------------------------------------------------------------

POOL_COLUMNS = (Column("name", "Teacher"), Column("teacher_id", "Id"), Column("certification_names", "Certifications"),
                Column("seniority_date", "Seniority date"), Column("status", "Status"), Column("flags", "Flags"),
                Column("former_school", "Former school"), Column("region", "Region"), Column("salary", "Salary ($)"),
                Column("days_in_pool", "Days in pool"))
POOL_CSV = POOL_COLUMNS + (Column("certifications", "certification codes"), Column("former_school_id", "former school id"),
                           Column("must_place", "must-place"), Column("return_rights", "return rights"))
FLAGS = {"must_place": "must-place", "return_rights": "return rights"}


def _contains(text: str, *fields: str | None) -> bool:
    wanted = text.strip().casefold()
    return not wanted or any(wanted in (f or "").casefold() for f in fields)


@router.get("/hr")
def hr_dashboard(request: Request, status: str = "", certification: str = "", region: str = "", flag: str = "",
                 q: str = "", user: User = HR, session: Session = DB) -> Response:
    names = Names.load(session)
    certification = names.resolve_certification(certification)
    everyone = views.all_pool(session)
    chosen = [r for r in views.filter_pool(everyone, status, certification, region)
              if (not flag or getattr(r, flag, False)) and _contains(q, r.name, r.teacher_id)]
    rows = [{**asdict(r), "former_school": names.school(r.former_school_id),
             "certification_names": names.certification_list(r.certifications),
             "flags": ", ".join(label for key, label in FLAGS.items() if getattr(r, key))} for r in chosen]
    if wants_csv(request, "pool"):
        return csv_response(rows, POOL_CSV, "pool.csv")
    filtered = bool(status or certification or region or flag or q)
    page = listing(request, "pool", rows, POOL_COLUMNS, default_sort="name", filtered=filtered)
    summary = views.pool_summary(everyone)
    return render(request, "hr_dashboard.html", user, page=page, summary=views.pool_summary(chosen),
                  all_summary=summary, names=names,
                  filters={"status": status, "certification": certification, "region": region, "flag": flag, "q": q},
                  statuses=sorted({r.status for r in everyone} | {"displaced", "new_hire", "voluntary_transfer"}),
                  regions=sorted({r.region for r in everyone if r.region}),
                  certifications=sorted(names.certifications.items(), key=lambda kv: kv[1]),
                  open_vacancies=sum(1 for v in views.vacancies(session) if v["status"] == "open"),
                  runs=(recent := views.runs(session)[:5]), labels=season.run_labels(session, recent),
                  season=season.state(session))


VACANCY_COLUMNS = (Column("vacancy_id", "Vacancy"), Column("school", "School"), Column("model_name", "School model"),
                   Column("region", "Region"), Column("certification_name", "Certification"), Column("fte", "FTE"),
                   Column("status", "Status"))
VACANCY_CSV = VACANCY_COLUMNS + (Column("school_id", "school id"), Column("model", "model code"),
                                 Column("certification", "certification code"))
COMMITTEE_COLUMNS = (Column("school", "School"), Column("model_name", "School model"), Column("rule", "Decides by"),
                     Column("members", "Members", sortable=False))


@router.get("/hr/vacancies")
def hr_vacancies(request: Request, certification: str = "", model: str = "", school: str = "", status: str = "",
                 user: User = HR, session: Session = DB) -> Response:
    names = Names.load(session, teachers=False)
    certification, school_id = names.resolve_certification(certification), names.resolve_school(school)
    rows = [{**v, "model_name": names.model(v["model"]), "certification_name": names.certification(v["certification"])}
            for v in views.vacancies(session, school_id=school_id, certification=certification, model=model)
            if not status or v["status"] == status]
    committees = [{**c, "model_name": names.model(c["model"]), "rule": RULE_NAMES.get(c["rule"], c["rule"]),
                   "members": "; ".join(c["members"])} for c in views.committees(session)
                  if not school_id or c["school_id"] == school_id]
    if wants_csv(request, "vacancies"):
        return csv_response(rows, VACANCY_CSV, "vacancies.csv")
    if wants_csv(request, "committees"):
        return csv_response(committees, COMMITTEE_COLUMNS + (Column("school_id", "school id"),), "committees.csv")
    filtered = bool(certification or model or school or status)
    return render(request, "hr_vacancies.html", user, page=listing(request, "vacancies", rows, VACANCY_COLUMNS,
                                                                   default_sort="vacancy_id", filtered=filtered),
                  committees=listing(request, "committees", committees, COMMITTEE_COLUMNS, default_sort="school",
                                     prefix="c_", filtered=bool(school)),
                  filters={"certification": certification, "model": model, "school": school, "status": status},
                  certifications=sorted(names.certifications.items(), key=lambda kv: kv[1]),
                  models=sorted(names.models.items()), schools=sorted(names.schools.items(), key=lambda kv: kv[1]))


RUN_COLUMNS = (Column("id", "Run"), Column("created_at", "When"), Column("created_by", "By"), Column("scenario", "Scenario"),
               Column("solver", "Solver"), Column("search", "Search"), Column("status", "Status"), Column("placed", "Placed"),
               Column("must_place", "Must-place placed"), Column("violations", "Rule violations"),
               Column("published_by", "Published by"))


def _run_rows(session: Session) -> list[dict]:
    """Every run with its figures and its season label (draft, published, stale, superseded; lawful or not)."""
    out = []
    runs = views.runs(session)
    labels = season.run_labels(session, runs)
    for r in runs:
        f = json.loads(r.figures_json or "{}")
        out.append({"id": r.id, "created_at": r.created_at.strftime("%Y-%m-%d %H:%M"), "created_by": r.created_by,
                    "scenario": r.scenario, "solver": r.solver_version, "search": search_mode(r), "status": labels[r.id].text,  # type: ignore[index]
                    "label": labels[r.id].status,  # type: ignore[index]
                    "placed": f.get("placed"), "must_place": (f"{f['must_place_placed']}/{f['must_place_total']}"
                                                              if "must_place_total" in f else ""),
                    "violations": f.get("rule_violations"), "published_by": r.published_by or ""})
    return out


def _runs_page(request: Request, user: User, session: Session, status: int = 200, error: str | None = None) -> Response:
    rows = _run_rows(session)
    if wants_csv(request, "runs"):
        return csv_response(rows, RUN_COLUMNS, "runs.csv")
    return render(request, "hr_runs.html", user, status=status, page=listing(request, "runs", rows, RUN_COLUMNS,
                                                                             default_sort="id", default_desc=True),
                  scenarios=SCENARIOS, error=error)


@router.get("/hr/runs")
def hr_runs(request: Request, user: User = HR, session: Session = DB) -> Response:
    return _runs_page(request, user, session)


@router.post("/hr/runs")
def hr_start_run(request: Request, background: BackgroundTasks, scenario: Annotated[str, Form()] = "district_rules",
                 time_limit: Annotated[str, Form()] = "10", method: Annotated[str, Form()] = "cpsat",
                 bound_seconds: Annotated[str, Form()] = "0", search: Annotated[str, Form()] = "deterministic",
                 user: User = HR, session: Session = DB) -> Response:
    try:
        run_id = start_in_background(request.app.state.database_url, background, scenario, time_limit, method,
                                     user.username, bound_seconds, search)
    except ValueError as exc:
        return _runs_page(request, user, session, status=422, error=str(exc))
    return RedirectResponse(f"/hr/runs/{run_id}", status_code=303)


PLACEMENT_COLUMNS = (Column("teacher", "Teacher"), Column("teacher_id", "Id"), Column("school", "School"),
                     Column("vacancy_id", "Vacancy"), Column("kind", "Kind"), Column("reason", "Why", sortable=False))
PLACEMENT_CSV = PLACEMENT_COLUMNS + (Column("school_id", "school id"),)
MUST_PLACE_COLUMNS = (Column("teacher", "Teacher"), Column("teacher_id", "Id"), Column("certifications", "Certifications"),
                      Column("seniority_date", "Seniority date"), Column("salary", "Salary ($)"),
                      Column("why", "Why unplaced", sortable=False))
UNFILLED_COLUMNS = (Column("school", "School"), Column("school_id", "School id"), Column("vacancy_id", "Vacancy"),
                    Column("certification", "Certification"), Column("model", "School model"),
                    Column("why", "Why open", sortable=False))
VIOLATION_COLUMNS = (Column("rule", "Rule"), Column("teacher", "Teacher"), Column("vacancy_id", "Vacancy"),
                     Column("detail", "What is wrong", sortable=False), Column("teacher_id", "teacher id", sortable=False))
KINDS = ("return_right", "mutual_consent", "assigned", "forced", "unplaced")


def _placement_rows(session: Session, run_id: int, names: Names, school_id: str = "", kind: str = "",
                    teacher: str = "") -> list[dict]:
    return [{"teacher": names.teacher(p.teacher_id), "teacher_id": p.teacher_id, "school": names.school(p.school_id),
             "school_id": p.school_id or "", "vacancy_id": p.vacancy_id or "", "kind": p.kind,
             "reason": spell(p.reason, names)}
            for p in views.placements(session, run_id, school_id, kind)
            if _contains(teacher, p.teacher_id, names.teacher(p.teacher_id))]


def _run_page(request: Request, run_id: int, user: User, session: Session, message: str | None = None,
              school: str = "", kind: str = "", teacher: str = "", status: int = 200) -> Response:
    """The run page, leading with its decisions; its season label (draft, published, stale, superseded; lawful
    or not) says whether it may be published."""
    run = get_run(session, run_id)
    names = Names.load(session)
    context: dict = {"run": run, "figures": views.run_figures(run), "names": names, "message": message,
                     "label": season.run_labels(session, [run])[run.id],  # type: ignore[index]
                     "settings": season.settings(session),
                     "filters": {"school": school, "kind": kind, "teacher": teacher}, "kinds": KINDS}
    if run.status == "done":
        school_id = names.resolve_school(school)
        rows = _placement_rows(session, run_id, names, school_id, kind, teacher)
        r = review(session, run)
        # the run was checked and audited when it was recorded, on this snapshot: its figures say whether the
        # check and the audit need running again to list what they found (on a state each takes tens of seconds)
        recorded = json.loads(run.figures_json or "{}")
        found = [] if recorded.get("rule_violations") == 0 else r.violations
        audit_violations = recorded.get("audit_violations")
        if audit_violations is None:
            audit_violations = sum(1 for a in r.audit if a.lawful_reason.startswith("VIOLATION"))
        must = [{**m, "certifications": names.certification_list(m["certifications"]), "why": spell(m["why"], names)}
                for m in must_place_unplaced(r)]
        every_open = [{**u, "model": names.model(u["model"]), "certification": names.certification(u["certification"])}
                      for u in unfilled_vacancies(r)]
        cause = request.query_params.get("u_cause", "")
        unfilled = [u for u in every_open if not cause or u["cause"] == cause]
        violations = [{"rule": v.rule, "teacher_id": v.teacher_id, "teacher": names.teacher(v.teacher_id),
                       "vacancy_id": v.vacancy_id or "", "detail": spell(v.detail, names)} for v in found]
        for name, data, columns in (("placements", rows, PLACEMENT_CSV), ("violations", violations, VIOLATION_COLUMNS), ("must_place", must, MUST_PLACE_COLUMNS),
                                    ("unfilled", unfilled, UNFILLED_COLUMNS)):
            if wants_csv(request, name):
                return csv_response(data, columns, f"run-{run_id}-{name}.csv")
        context.update(
            page=listing(request, "placements", rows, PLACEMENT_COLUMNS, default_sort="teacher",
                         filtered=bool(school or kind or teacher)),
            must=listing(request, "must_place", must, MUST_PLACE_COLUMNS, default_sort="seniority_date", prefix="m_"),
            unfilled=listing(request, "unfilled", unfilled, UNFILLED_COLUMNS, default_sort="school", prefix="u_",
                             filtered=bool(cause)),
            open_causes=Counter(u["cause"] for u in every_open).most_common(), open_cause=cause,
            by_rule=violations_by_rule(found),
            audit_violations=audit_violations,
            empty_posts=sum(1 for v in found if v.rule == "R-SENIORITY" and v.detail.startswith("left empty")),
            violations=listing(request, "violations", violations, VIOLATION_COLUMNS, default_sort="rule", prefix="v_"),
            schools=sorted(names.schools.items(), key=lambda kv: kv[1]))
    return render(request, "hr_run.html", user, status=status, **context)


@router.get("/hr/runs/{run_id}")
def hr_run(request: Request, run_id: int, school: str = "", school_id: str = "", kind: str = "", teacher: str = "",
           user: User = HR, session: Session = DB) -> Response:
    return _run_page(request, run_id, user, session, school=school or school_id, kind=kind, teacher=teacher)


@router.get("/hr/runs/{run_id}/status")
def hr_run_status(request: Request, run_id: int, user: User = HR, session: Session = DB) -> Response:
    """Polled by htmx while a run is solving; tells the page to reload once it is finished."""
    run = get_run(session, run_id)
    if run.status == "running":
        return render(request, "_run_progress.html", user, run=run)
    return Response(status_code=200, headers={"HX-Refresh": "true"})


@router.post("/hr/runs/{run_id}/publish")
def hr_publish(request: Request, run_id: int, confirm: Annotated[str, Form()] = "", user: User = HR,
               session: Session = DB) -> Response:
    """Publish after HR confirmed; a refusal (stale, unlawful, already published) is an inline message."""
    if confirm != "yes":
        return _run_page(request, run_id, user, session, "Not published: tick the box to confirm that these "
                        "placements become offers to the teachers.", status=422)
    try:
        run, offers = season.publish(session, run_id, user.username)
    except season.UnlawfulRun as exc:
        session.rollback()
        return _run_page(request, run_id, user, session, f"Not published: {exc}", status=422)
    except ValueError as exc:
        session.rollback()
        return _run_page(request, run_id, user, session, f"Not published: {exc}", status=409)
    return _run_page(request, run_id, user, session, f"Published: {len(offers)} offer(s) sent, to be answered by "
                    f"{offers[0].deadline:%Y-%m-%d}." if offers else "Published: this round placed no one.")


MOVED_COLUMNS = (Column("teacher", "Teacher"), Column("teacher_id", "Id"), Column("a_school", "Run A: school"),
                 Column("a_kind", "Run A: kind"), Column("b_school", "Run B: school"), Column("b_kind", "Run B: kind"))
MOVED_CSV = MOVED_COLUMNS + (Column("a_school_id", "a school id"), Column("a_vacancy_id", "a vacancy"),
                             Column("b_school_id", "b school id"), Column("b_vacancy_id", "b vacancy"))


# -- the season ---------------------------------------------------------------------------------------------

OFFER_COLUMNS = (Column("teacher", "Teacher"), Column("teacher_id", "Id"), Column("school", "School"),
                 Column("vacancy_id", "Vacancy"), Column("certification", "Subject"), Column("kind", "Kind"),
                 Column("run_id", "Round"), Column("deadline", "Answer by (UTC)"))
OFFER_CSV = OFFER_COLUMNS + (Column("school_id", "school id"), Column("status", "status"))


def season_page(request: Request, user: User, session: Session, message: str | None = None,
                error: str | None = None, status: int = 200, answer_for: str = "") -> Response:
    """The season at a glance; pending offers paged with names (all of them as CSV), pickers by name."""
    season.lapse_due(session)
    state = season.state(session)
    names = Names.load(session)
    subject = {v["vacancy_id"]: v["certification"] for v in views.vacancies(session)}
    offers = [{"teacher": names.teacher(o.teacher_id), "teacher_id": o.teacher_id, "school": names.school(o.school_id),
               "school_id": o.school_id, "vacancy_id": o.vacancy_id,
               "certification": names.certification(subject.get(o.vacancy_id)), "kind": o.kind, "run_id": o.run_id,
               "deadline": o.deadline.strftime("%Y-%m-%d %H:%M"), "status": o.status} for o in state.pending]
    if wants_csv(request, "offers"):
        return csv_response(offers, OFFER_CSV, "pending-offers.csv")
    by_name = lambda ids: sorted(((i, names.teacher(i)) for i in ids), key=lambda kv: (kv[1], kv[0]))  # noqa: E731
    return render(request, "hr_season.html", user, status=status, state=state, names=names,
                  phases=season.PHASES, message=message, error=error, statuses=STATUSES,
                  page=listing(request, "offers", offers, OFFER_COLUMNS, default_sort="deadline"),
                  answerable=by_name({o.teacher_id for o in state.pending}),
                  answer_for=label(names.teacher(answer_for), answer_for)
                  if answer_for in {o.teacher_id for o in state.pending} else "",
                  must_place=by_name(state.must_place_unplaced), left_pool=by_name(state.left_pool),
                  schools=sorted(names.schools.items(), key=lambda kv: kv[1]),
                  certifications=sorted(names.certifications.items(), key=lambda kv: kv[1]))


def season_action(request: Request, user: User, session: Session, action: Callable[[], str]) -> Response:
    """Run one HR season action; a refusal or bad input is an inline message (422, 404 or 409) and writes
    nothing."""
    try:
        message = action()
    except ValidationError as exc:
        session.rollback()
        return season_page(request, user, session, error="; ".join(str(p) for p in exc.problems), status=422)
    except NotFound as exc:
        session.rollback()
        return season_page(request, user, session, error=str(exc), status=404)
    except ValueError as exc:
        session.rollback()
        return season_page(request, user, session, error=str(exc), status=409 if isinstance(exc, season.SeasonError)
                           else 422)
    return season_page(request, user, session, message=message)


@router.get("/hr/season")
def hr_season(request: Request, teacher: str = "", user: User = HR, session: Session = DB) -> Response:
    """``?teacher=`` fills the answer-on-their-behalf picker (the link on a teacher's page)."""
    return season_page(request, user, session, answer_for=teacher)


@router.post("/hr/season/advance")
def hr_season_advance(request: Request, to: Annotated[str, Form()] = "", user: User = HR,
                      session: Session = DB) -> HTMLResponse:
    return season_action(request, user, session,
                         lambda: f"The season is now in phase {season.advance_phase(session, to or None, user.username).phase}.")


@router.post("/hr/season/settings")
def hr_season_settings(request: Request, response_days: Annotated[str, Form()] = "",
                       unanswered: Annotated[str, Form()] = "", forced_placement: Annotated[str, Form()] = "",
                       user: User = HR, session: Session = DB) -> HTMLResponse:
    def change() -> str:
        days = parse_int(response_days) if response_days.strip() else None
        season.configure(session, user.username, days, unanswered or None, forced_placement or None)
        return "Season settings saved."
    return season_action(request, user, session, change)


@router.post("/hr/season/respond")
def hr_season_respond(request: Request, teacher_id: Annotated[str, Form()] = "", answer: Annotated[str, Form()] = "",
                      user: User = HR, session: Session = DB) -> HTMLResponse:
    """HR answers an offer on the teacher's behalf (recorded as HR's answer in the audit trail)."""
    def answer_it() -> str:
        names = Names.load(session)
        offer = season.respond(session, names.resolve_teacher(teacher_id), answer, user.username)
        chain = f" Their former post is now open vacancy {offer.vacated_vacancy_id}." if offer.vacated_vacancy_id else ""
        return (f"{label(names.teacher(offer.teacher_id), offer.teacher_id)}: offer of {offer.vacancy_id} at "
                f"{label(names.school(offer.school_id), offer.school_id)} {offer.status}.{chain}")
    return season_action(request, user, session, answer_it)


@router.post("/hr/season/vacancies")
def hr_season_add_vacancy(request: Request, vacancy_id: Annotated[str, Form()] = "",
                          school_id: Annotated[str, Form()] = "", certification: Annotated[str, Form()] = "",
                          fte: Annotated[str, Form()] = "1.0", user: User = HR,
                          session: Session = DB) -> HTMLResponse:
    def add() -> str:
        names = Names.load(session, teachers=False)
        add_vacancy(session, Vacancy(vacancy_id.strip(), names.resolve_school(school_id),
                                     names.resolve_certification(certification), parse_float(fte)), user.username)
        return f"Vacancy {vacancy_id.strip()} added: open for the next round."
    return season_action(request, user, session, add)


@router.post("/hr/season/teachers")
def hr_season_add_teacher(request: Request, teacher_id: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                          certifications: Annotated[str, Form()] = "", seniority_date: Annotated[str, Form()] = "",
                          salary: Annotated[str, Form()] = "", status: Annotated[str, Form()] = "",
                          must_place: Annotated[str, Form()] = "", return_rights: Annotated[str, Form()] = "",
                          former_school_id: Annotated[str, Form()] = "", current_school_id: Annotated[str, Form()] = "",
                          user: User = HR, session: Session = DB) -> HTMLResponse:
    """Register a teacher in the pool (the same checks as the bundle importer)."""
    def add() -> str:
        names = Names.load(session, teachers=False)
        certs = tuple(sorted(names.resolve_certification(c) for c in certifications.replace(",", ";").split(";")
                             if c.strip()))
        add_teacher(session, Teacher(teacher_id.strip(), name.strip(), certs, parse_date(seniority_date),
                                     parse_int(salary), status, bool(must_place), bool(return_rights),  # type: ignore[arg-type]
                                     names.resolve_school(former_school_id) or None,
                                     names.resolve_school(current_school_id) or None),
                    user.username)
        return f"Teacher {teacher_id.strip()} registered in the pool."
    return season_action(request, user, session, add)


@router.get("/hr/compare")
def hr_compare(request: Request, a: int | None = None, b: int | None = None, user: User = HR,
               session: Session = DB) -> Response:
    """Two different runs side by side; by default the two newest finished runs (B the newer)."""
    done = [r for r in views.runs(session) if r.status == "done"]
    if a is None and b is None and len(done) >= 2:
        a, b = done[1].id, done[0].id
    context: dict = {"runs": done, "a": a, "b": b, "rows": [], "page": None, "error": None,
                     "labels": season.run_labels(session, done)}
    if a is not None and b is not None:
        if a == b:
            context["error"] = "Choose two different runs: a run compared with itself shows no difference."
        else:
            run_a, run_b = get_run(session, a), get_run(session, b)
            names = Names.load(session)
            moved = [{**m, "teacher": names.teacher(m["teacher_id"]), "a_school": names.school(m["a_school_id"]),
                      "b_school": names.school(m["b_school_id"])} for m in placed_differently(session, run_a, run_b)]
            if wants_csv(request, "moved"):
                return csv_response(moved, MOVED_CSV, f"compare-{a}-{b}.csv")
            context.update(rows=compare_figures(run_a, run_b), run_a=run_a, run_b=run_b,
                           page=listing(request, "moved", moved, MOVED_COLUMNS, default_sort="teacher"))
    return render(request, "hr_compare.html", user, **context)


@router.get("/hr/teachers/{teacher_id}")
def hr_teacher(request: Request, teacher_id: str, user: User = HR, session: Session = DB) -> HTMLResponse:
    names = Names.load(session, teachers=False)
    return render(request, "hr_teacher.html", user, names=names, **views.teacher(session, teacher_id))


@router.get("/hr/teachers")
def hr_find_teacher(request: Request, q: str = "", user: User = HR, session: Session = DB) -> Response:
    """The teacher picker's target: a name or id that names one teacher opens their page."""
    names = Names.load(session)
    teacher_id = names.resolve_teacher(q)
    if teacher_id in names.teachers:
        return RedirectResponse(f"/hr/teachers/{teacher_id}", status_code=303)
    return RedirectResponse(f"/hr?q={quote(q)}", status_code=303)


@router.get("/hr/tradeoffs")
def hr_tradeoffs(request: Request, user: User = HR) -> HTMLResponse:
    return render(request, "hr_tradeoffs.html", user, **tradeoff_state(request.app.state.report_dir))


@router.post("/hr/tradeoffs")
def hr_run_tradeoffs(request: Request, background: BackgroundTasks, user: User = HR) -> Response:
    start_tradeoffs(request.app.state.database_url, request.app.state.report_dir, background, user.username)
    return RedirectResponse("/hr/tradeoffs", status_code=303)


@router.get("/hr/tradeoffs/status")
def hr_tradeoffs_status(request: Request, user: User = HR) -> Response:
    state = tradeoff_state(request.app.state.report_dir)
    if state["running"]:
        return render(request, "_tradeoffs_progress.html", user, progress=state["progress"])
    return Response(status_code=200, headers={"HX-Refresh": "true"})


@router.get("/hr/tradeoffs/files/{name}")
def hr_tradeoff_file(request: Request, name: str, user: User = HR) -> Response:
    return report_file(request.app.state.report_dir, name)


# -- principals and selection committees -----------------------------------------------------------------------

RULE_NAMES = {"principal": "the principal, advised by the committee", "consensus": "consensus of the committee",
              "district": "district staffing rules (committee advises)"}
CANDIDATE_COLUMNS = (Column("name", "Teacher"), Column("teacher_id", "Id"), Column("applied", "Applied (their rank)"),
                     Column("seniority_date", "Seniority date"), Column("status", "Status"),
                     Column("flags", "Flags", sortable=False))


SCHOOL_PLACEMENT_COLUMNS = (Column("teacher", "Teacher"), Column("vacancy_id", "Vacancy"),
                            Column("certification", "Subject"), Column("kind", "Kind"), Column("status", "Offer"),
                            Column("run_id", "Round"), Column("reason", "Why this teacher is here", sortable=False),
                            Column("teacher_id", "teacher id"))


@router.get("/schools/{school_id}")
def school_page(request: Request, school_id: str, user: User = Depends(school_reader),
                session: Session = DB) -> Response:
    names = Names.load(session)
    data = views.school(session, school_id)
    subject = {v["vacancy_id"]: names.certification(v["certification"]) for v in data["vacancies"]}
    # the offers of published rounds only: a draft run is HR's working copy until published
    rows = [{**p, "teacher": names.teacher(p["teacher_id"]), "certification": subject.get(p["vacancy_id"] or "", ""),
             "reason": spell(p["reason"], names)} for p in data["placements"]]
    if wants_csv(request, "placements"):
        return csv_response(rows, SCHOOL_PLACEMENT_COLUMNS, f"placements-{school_id}.csv")
    return render(request, "school.html", user, names=names, rule_names=RULE_NAMES,
                  page=listing(request, "placements", rows, SCHOOL_PLACEMENT_COLUMNS, default_sort="teacher"), **data)


def _vacancy_context(session: Session, school_id: str, vacancy_id: str) -> dict:
    data = views.vacancy(session, school_id, vacancy_id)
    voters = dict(session.exec(select(UserRow.username, UserRow.display_name)).all())
    return {**data, "names": Names.load(session), "voters": voters, "rule_names": RULE_NAMES}


@router.get("/schools/{school_id}/vacancies/{vacancy_id}")
def vacancy_page(request: Request, school_id: str, vacancy_id: str, user: User = Depends(school_reader),
                 session: Session = DB) -> Response:
    return _vacancy_page(request, user, session, school_id, vacancy_id)


def _vacancy_page(request: Request, user: User, session: Session, school_id: str, vacancy_id: str,
                  errors: dict[str, str] | None = None, status: int = 200) -> Response:
    """The vacancy's page; ``errors`` shows a refused plain form's reason in its panel (by template name)."""
    context = _vacancy_context(session, school_id, vacancy_id)
    applicants = context["applicants"]
    rows = [{"name": c.name, "teacher_id": c.teacher_id, "applied": applicants.get(c.teacher_id),
             "seniority_date": c.seniority_date, "status": c.status, "must_place": c.must_place,
             "return_here": c.return_rights and c.former_school_id == school_id,
             "flags": "; ".join(f for f, on in (("must-place", c.must_place),
                                                ("return right here", c.return_rights and c.former_school_id == school_id)) if on)}
            for c in context["candidates"]]
    if wants_csv(request, "candidates"):
        return csv_response(rows, CANDIDATE_COLUMNS, f"candidates-{vacancy_id}.csv")
    return render(request, "vacancy.html", user, school_id=school_id, error=None, errors=errors or {},
                  page=listing(request, "candidates", rows, CANDIDATE_COLUMNS), status=status, **context)


#: the page anchor of each panel a committee edit answers with (where a plain form's redirect lands)
PANEL_ANCHORS = {"_ranking.html": "ranking", "_interviews.html": "interviews", "_ballots.html": "ballots"}


def vacancy_partial(request: Request, user: User, session: Session, school_id: str, vacancy_id: str,
                    template: str, change: Callable[[], object]) -> Response:
    """Apply one committee edit; htmx gets the panel to swap in, a plain form (no JavaScript) is sent back to
    the vacancy's page.  Bad input is a message in the panel (422) and writes nothing."""
    views.vacancy(session, school_id, vacancy_id)  # 404 unless the vacancy is at this school
    error = None
    try:
        change()
    except ValidationError as exc:
        session.rollback()
        error = "; ".join(p.message for p in exc.problems)
    except ValueError as exc:  # a date that does not parse, or a committee rule that cannot decide yet
        session.rollback()
        error = str(exc)
    if not is_htmx(request):
        if error is None:
            return RedirectResponse(f"/schools/{school_id}/vacancies/{vacancy_id}#{PANEL_ANCHORS[template]}",
                                    status_code=303)
        return _vacancy_page(request, user, session, school_id, vacancy_id, {template: error}, status=422)
    return render(request, template, user, school_id=school_id, error=error,
                  **_vacancy_context(session, school_id, vacancy_id), status=200 if error is None else 422)


def _teacher(session: Session, text: str) -> str:
    """The teacher id a picker's text names (``Name (ID)``, a unique name or the id itself)."""
    return Names.load(session).resolve_teacher(text)


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/ranking")
def rank(request: Request, school_id: str, vacancy_id: str, teacher_id: Annotated[str, Form()] = "",
         action: Annotated[str, Form()] = "", user: User = Depends(school_access),
         session: Session = DB) -> Response:
    """One click on the committee's ranking (add, remove, up, down)."""
    tid = _teacher(session, teacher_id)
    return vacancy_partial(request, user, session, school_id, vacancy_id, "_ranking.html",
                           lambda: move_in_ranking(session, vacancy_id, tid, action, user.username))


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/interviews")
def interview(request: Request, school_id: str, vacancy_id: str, teacher_id: Annotated[str, Form()] = "",
              held_on: Annotated[str, Form()] = "", user: User = Depends(school_access),
              session: Session = DB) -> Response:
    when = held_on or date.today().isoformat()
    tid = _teacher(session, teacher_id)
    return vacancy_partial(request, user, session, school_id, vacancy_id, "_interviews.html",
                           lambda: record_interview(session, Interview(vacancy_id, tid, parse_date(when)),
                                                    user.username))


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/ballot")
def vote(request: Request, school_id: str, vacancy_id: str, teacher_id: Annotated[str, Form()] = "",
         action: Annotated[str, Form()] = "", user: User = Depends(school_voter),
         session: Session = DB) -> Response:
    """One click on the signed-in member's own ballot."""
    tid = _teacher(session, teacher_id)
    return vacancy_partial(request, user, session, school_id, vacancy_id, "_ballots.html",
                           lambda: move_in_ballot(session, vacancy_id, user.username, tid, action))


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/adopt")
def adopt(request: Request, school_id: str, vacancy_id: str, user: User = Depends(school_access),
          session: Session = DB) -> Response:
    """Make the committee's ranking what its rule decides from the ballots."""
    return vacancy_partial(request, user, session, school_id, vacancy_id, "_ranking.html",
                           lambda: adopt_committee_decision(session, vacancy_id, user.username))


# -- union representatives (read-only) ------------------------------------------------------------------------

AUDIT_VIEW_COLUMNS = (
    Column("school", "Post (school, subject, model)"), Column("occupant", "Placed teacher"),
    Column("passed_over", "Passed over (more senior)"), Column("passed_over_seniority_date", "Their seniority"),
    Column("passed_over_outcome", "Outcome"), Column("lawful_reason", "Lawful reason"))
AUDIT_CSV = tuple(Column(k, k) for k in AUDIT_COLUMNS) + (
    Column("school", "school"), Column("occupant", "occupant"), Column("passed_over", "passed over"),
    Column("certification", "certification"))
REASONS = (("VIOLATION", "violations only"), ("not ranked", "not ranked by a mutual-consent committee"),
           ("model exempt", "school model exempt from seniority"),
           ("occupant has a higher", "occupant had a higher priority class"),
           ("not allowed", "not allowed at this school"),
           ("certification", "lacks the post's certification (hidden unless chosen)"))


def _done_run(session: Session, run: int | None):
    done = [r for r in views.runs(session) if r.status == "done"]
    # opens on the latest published round: a draft is HR's working copy, not the district's decision
    record = get_run(session, run) if run else (season.latest_published(session) or (done[0] if done else None))
    return done, record


def _audit_rows(session: Session, record, names: Names, school: str, certification: str, reason: str,
                teacher: str, noise: bool) -> tuple[list[dict], int]:
    """The run's seniority audit rows with names; rows where the passed-over teacher lacks the post's
    certification are left out unless asked for (they could never have been placed there).  Returns the rows
    and how many were left out as certification noise."""
    r = review(session, record)
    school_id, cert = names.resolve_school(school), names.resolve_certification(certification)
    teacher_id = names.resolve_teacher(teacher)
    rows, hidden = [], 0
    for a in r.audit:
        post = r.district.vacancies[a.vacancy_id].certification
        if a.lawful_reason.startswith("certification") and not noise and not reason.startswith("certification"):
            hidden += 1
            continue
        if (school_id and a.school_id != school_id) or (cert and post != cert) \
                or (reason and not a.lawful_reason.lower().startswith(reason.lower())) \
                or (teacher_id and not _names_teacher(teacher_id, names, a.passed_over_id, a.occupant_id)):
            continue
        rows.append({**asdict(a), "school": names.school(a.school_id), "model_name": names.model(a.model),
                     "certification": post, "occupant": names.teacher(a.occupant_id),
                     "passed_over": names.teacher(a.passed_over_id),
                     "passed_over_outcome": spell(a.passed_over_outcome, names),
                     "lawful_reason": spell(a.lawful_reason, names)})
    return rows, hidden


def _names_teacher(wanted: str, names: Names, *teacher_ids: str) -> bool:
    """Does ``wanted`` (an id, or part of a name) name one of these teachers?"""
    if wanted in names.teachers:
        return wanted in teacher_ids
    return any(_contains(wanted, names.teacher(t)) for t in teacher_ids)


@router.get("/audit")
def audit_page(request: Request, run: int | None = None, school: str = "", school_id: str = "", certification: str = "",
               reason: str = "", teacher: str = "", teacher_id: str = "", noise: bool = False, user: User = READERS,
               session: Session = DB) -> Response:
    done, record = _done_run(session, run)
    names = Names.load(session)
    school, teacher = school or school_id, teacher or teacher_id
    context: dict = {"runs": done, "run": record, "names": names, "reasons": REASONS,
                     "labels": season.run_labels(session, done),
                     "filters": {"school": school, "certification": certification, "reason": reason,
                                 "teacher": teacher, "noise": noise},
                     "schools": sorted(names.schools.items(), key=lambda kv: kv[1]),
                     "certifications": sorted(names.certifications.items(), key=lambda kv: kv[1])}
    if record is not None:
        rows, hidden = _audit_rows(session, record, names, school, certification, reason, teacher, noise)
        if wants_csv(request, "audit"):
            return csv_response(rows, AUDIT_CSV, f"audit-run-{record.id}.csv")
        r = review(session, record)
        context.update(page=listing(request, "audit", rows, AUDIT_VIEW_COLUMNS, default_sort="school",
                                    filtered=bool(school or certification or reason or teacher)),
                       hidden=hidden, violations=sum(1 for x in rows if x["lawful_reason"].startswith("VIOLATION")),
                       all_violations=sum(1 for a in r.audit if a.lawful_reason.startswith("VIOLATION")),
                       by_rule=violations_by_rule(r.violations), figures=views.run_figures(record))
    return render(request, "audit.html", user, **context)


@router.get("/audit/{run_id}.csv")
def audit_csv(request: Request, run_id: int, school_id: str = "", reason: str = "", teacher_id: str = "",
              certification: str = "", noise: bool = True, user: User = READERS,
              session: Session = DB) -> Response:
    """The whole audit of a run (with the certification rows unless ``noise=false``), names included."""
    names = Names.load(session)
    rows, _ = _audit_rows(session, get_run(session, run_id), names, school_id, certification, reason, teacher_id, noise)
    return csv_response(rows, AUDIT_CSV, f"audit-run-{run_id}.csv")


SENIORITY_COLUMNS = (Column("position", "#"), Column("name", "Teacher"), Column("teacher_id", "Id"),
                     Column("seniority_date", "Seniority date"), Column("status", "Status"), Column("flags", "Flags"),
                     Column("outcome", "Outcome in the run"))


@router.get("/audit/seniority")
def seniority_list(request: Request, certification: str = "", run: int | None = None, user: User = READERS,
                   session: Session = DB) -> Response:
    """Pool teachers holding one certification, most senior first, with where the chosen run put them."""
    names = Names.load(session)
    done, record = _done_run(session, run)
    certs = sorted(names.certifications.items(), key=lambda kv: kv[1])
    code = names.resolve_certification(certification) or (certs[0][0] if certs else "")
    outcome = {p.teacher_id: p for p in views.placements(session, record.id)} if record else {}
    teachers = views.seniority(session, code)
    rows = []
    for position, t in enumerate(teachers, start=1):
        p = outcome.get(t["teacher_id"])
        where = ("placed at " + label(names.school(p.school_id), p.school_id or "")) if p and p.school_id else \
            ("unplaced" if p else "not in the run")
        rows.append({**t, "position": position, "outcome": where})
    if wants_csv(request, "seniority"):
        return csv_response(rows, SENIORITY_COLUMNS + (Column("certifications", "certifications"),),
                            f"seniority-{code}.csv")
    return render(request, "seniority.html", user, page=listing(request, "seniority", rows, SENIORITY_COLUMNS,
                                                                default_sort="position"),
                  certifications=certs, code=code, names=names, runs=done, run=record,
                  labels=season.run_labels(session, done))


LEDGER_COLUMNS = (Column("teacher", "Holder"), Column("teacher_id", "Id"), Column("former_school", "Former school"),
                  Column("status", "Honoured?"), Column("placed_school", "Placed at"), Column("why", "Why", sortable=False))
LEDGER_CSV = LEDGER_COLUMNS + (Column("former_school_id", "former school id"), Column("placed_school_id", "placed school id"),
                               Column("certifications", "certifications"), Column("counted", "counted in the run's figure"))


@router.get("/audit/return-rights")
def return_rights(request: Request, run: int | None = None, status: str = "", user: User = READERS,
                  session: Session = DB) -> Response:
    """Every return-right holder in a run: honoured (where), not honoured (why) or not applicable (why)."""
    names = Names.load(session)
    done, record = _done_run(session, run)
    context: dict = {"runs": done, "run": record, "names": names, "chosen": status,
                     "labels": season.run_labels(session, done)}
    if record is not None:
        every = [{**x, "why": spell(x["why"], names)} for x in return_rights_ledger(review(session, record))]
        rows = [x for x in every if not status or x["status"] == status]
        if wants_csv(request, "ledger"):
            return csv_response(rows, LEDGER_CSV, f"return-rights-run-{record.id}.csv")
        context.update(page=listing(request, "ledger", rows, LEDGER_COLUMNS, default_sort="teacher", filtered=bool(status)),
                       holders=len(every), counted=sum(1 for x in every if x["counted"]),
                       honoured=sum(1 for x in every if x["status"] == "honoured"), figures=views.run_figures(record))
    return render(request, "return_rights.html", user, **context)
