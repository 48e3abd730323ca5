"""HTML pages.  Handlers only parse the request, call a read model or a service, and render."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from solver.audit import AUDIT_COLUMNS
from solver.policy import SCENARIOS
from staffing import season
from staffing.csvsafe import write_rows
from staffing.domain import STATUSES, Interview, Teacher, Vacancy
from staffing.runs import get_run
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
from web.templating import templates
from sqlalchemy import func
from sqlmodel import select

from staffing.db_models import UserRow
from web.auth import change_password, sign_in
from web.deps import (
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
from web.security import client_address
from web.runner import report_file, start_in_background, start_tradeoffs, tradeoff_state

router = APIRouter(include_in_schema=False)
HR = Depends(role("hr"))
READERS = Depends(role("hr", "union"))


def render(request: Request, name: str, user: User | None, status: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": user, **context}, status_code=status)


def login_page(request: Request, session: Session, next: str, error: str | None, status: int = 200) -> HTMLResponse:
    """The sign-in form, warning when the server has demo accounts (shared, published passwords)."""
    demo = session.exec(select(func.count()).select_from(UserRow).where(UserRow.demo)).one()
    return render(request, "login.html", None, status=status, next=next, error=error, demo_users=demo,
                  production=request.app.state.settings.production)


@router.get("/login")
def login_form(request: Request, next: str = "/", session: Session = Depends(db)) -> HTMLResponse:
    return login_page(request, session, next, None)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/", session: Session = Depends(db)) -> Response:
    user, why = sign_in(session, username.strip(), password, client_address(request), request.app.state.settings)
    if user is None:  # returned, not raised, so the failure counted for throttling is committed
        return login_page(request, session, next, why, status=429 if why.startswith("Too many") else 401)
    begin_session(request, session, user.username)
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, session: Session = Depends(db)) -> Response:
    finish_session(request, session)
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password")
def password_form(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    return render(request, "password.html", user, error=None, message=None)


@router.post("/account/password")
def password_change(request: Request, current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
                    confirm: Annotated[str, Form()] = "", user: User = Depends(current_user),
                    session: Session = Depends(db)) -> HTMLResponse:
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

@router.get("/hr")
def hr_dashboard(request: Request, status: str = "", certification: str = "", region: str = "",
                 user: User = HR, session: Session = Depends(db)) -> HTMLResponse:
    everyone = views.all_pool(session)
    rows = views.filter_pool(everyone, status, certification, region)
    return render(request, "hr_dashboard.html", user, rows=rows, summary=views.pool_summary(rows),
                  all_summary=views.pool_summary(everyone),
                  filters={"status": status, "certification": certification, "region": region},
                  vacancies=views.vacancies(session), runs=(recent := views.runs(session)[:5]),
                  labels=season.run_labels(session, recent), season=season.state(session))


@router.get("/hr/vacancies")
def hr_vacancies(request: Request, certification: str = "", model: str = "", user: User = HR,
                 session: Session = Depends(db)) -> HTMLResponse:
    return render(request, "hr_vacancies.html", user, rows=views.vacancies(session, certification=certification, model=model),
                  filters={"certification": certification, "model": model}, committees=views.committees(session))


@router.get("/hr/runs")
def hr_runs(request: Request, user: User = HR, session: Session = Depends(db)) -> HTMLResponse:
    runs = views.runs(session)
    return render(request, "hr_runs.html", user, runs=runs, labels=season.run_labels(session, runs),
                  scenarios=SCENARIOS, error=None)


@router.post("/hr/runs")
def hr_start_run(request: Request, background: BackgroundTasks, scenario: Annotated[str, Form()] = "district_rules",
                 time_limit: Annotated[str, Form()] = "10", method: Annotated[str, Form()] = "cpsat",
                 bound_seconds: Annotated[str, Form()] = "0", search: Annotated[str, Form()] = "deterministic",
                 user: User = HR, session: Session = Depends(db)) -> Response:
    try:
        run_id = start_in_background(request.app.state.database_url, background, scenario, time_limit, method,
                                     user.username, bound_seconds, search)
    except ValueError as exc:
        runs = views.runs(session)
        return render(request, "hr_runs.html", user, status=422, runs=runs, labels=season.run_labels(session, runs),
                      scenarios=SCENARIOS, error=str(exc))
    return RedirectResponse(f"/hr/runs/{run_id}", status_code=303)


@router.get("/hr/runs/{run_id}")
def hr_run(request: Request, run_id: int, school_id: str = "", kind: str = "", user: User = HR,
           session: Session = Depends(db)) -> HTMLResponse:
    return run_page(request, user, session, run_id, None, filters={"school_id": school_id, "kind": kind})


def run_page(request: Request, user: User, session: Session, run_id: int, message: str | None, status: int = 200,
             filters: dict | None = None) -> HTMLResponse:
    filters = filters or {}
    run = get_run(session, run_id)
    return render(request, "hr_run.html", user, status=status, run=run, figures=views.run_figures(run),
                  label=season.run_labels(session, [run])[run.id],  # type: ignore[index]
                  settings=season.settings(session),
                  placements=views.placements(session, run_id, filters.get("school_id", ""), filters.get("kind", ""))
                  if run.status == "done" else [], filters=filters, message=message)


@router.get("/hr/runs/{run_id}/status")
def hr_run_status(request: Request, run_id: int, user: User = HR, session: Session = Depends(db)) -> Response:
    """Polled by htmx while a run is solving; tells the page to reload once it is finished."""
    run = get_run(session, run_id)
    if run.status == "running":
        return render(request, "_run_progress.html", user, run=run)
    return Response(status_code=200, headers={"HX-Refresh": "true"})


@router.post("/hr/runs/{run_id}/publish")
def hr_publish(request: Request, run_id: int, confirm: Annotated[str, Form()] = "", user: User = HR,
               session: Session = Depends(db)) -> HTMLResponse:
    """Publish after HR confirmed; a refusal (stale, unlawful, already published) is an inline message."""
    if confirm != "yes":
        return run_page(request, user, session, run_id, "Not published: tick the box to confirm that these "
                        "placements become offers to the teachers.", status=422)
    try:
        run, offers = season.publish(session, run_id, user.username)
    except season.UnlawfulRun as exc:
        session.rollback()
        return run_page(request, user, session, run_id, f"Not published: {exc}", status=422)
    except ValueError as exc:
        session.rollback()
        return run_page(request, user, session, run_id, f"Not published: {exc}", status=409)
    return run_page(request, user, session, run_id, f"Published: {len(offers)} offer(s) sent, to be answered by "
                    f"{offers[0].deadline:%Y-%m-%d}." if offers else "Published: this round placed no one.")


# -- the season ---------------------------------------------------------------------------------------------

def season_page(request: Request, user: User, session: Session, message: str | None = None,
                error: str | None = None, status: int = 200) -> HTMLResponse:
    season.lapse_due(session)
    return render(request, "hr_season.html", user, status=status, state=season.state(session),
                  phases=season.PHASES, message=message, error=error, statuses=STATUSES,
                  schools=views.school_ids(session), certifications=views.certification_codes(session))


def season_action(request: Request, user: User, session: Session, action: Callable[[], str]) -> HTMLResponse:
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
def hr_season(request: Request, user: User = HR, session: Session = Depends(db)) -> HTMLResponse:
    return season_page(request, user, session)


@router.post("/hr/season/advance")
def hr_season_advance(request: Request, to: Annotated[str, Form()] = "", user: User = HR,
                      session: Session = Depends(db)) -> HTMLResponse:
    return season_action(request, user, session,
                         lambda: f"The season is now in phase {season.advance_phase(session, to or None, user.username).phase}.")


@router.post("/hr/season/settings")
def hr_season_settings(request: Request, response_days: Annotated[str, Form()] = "",
                       unanswered: Annotated[str, Form()] = "", forced_placement: Annotated[str, Form()] = "",
                       user: User = HR, session: Session = Depends(db)) -> HTMLResponse:
    def change() -> str:
        days = parse_int(response_days) if response_days.strip() else None
        season.configure(session, user.username, days, unanswered or None, forced_placement or None)
        return "Season settings saved."
    return season_action(request, user, session, change)


@router.post("/hr/season/respond")
def hr_season_respond(request: Request, teacher_id: Annotated[str, Form()] = "", answer: Annotated[str, Form()] = "",
                      user: User = HR, session: Session = Depends(db)) -> HTMLResponse:
    """HR answers an offer on the teacher's behalf (recorded as HR's answer in the audit trail)."""
    def answer_it() -> str:
        offer = season.respond(session, teacher_id.strip(), answer, user.username)
        chain = f" Their former post is now open vacancy {offer.vacated_vacancy_id}." if offer.vacated_vacancy_id else ""
        return f"{offer.teacher_id}: offer of {offer.vacancy_id} {offer.status}.{chain}"
    return season_action(request, user, session, answer_it)


@router.post("/hr/season/vacancies")
def hr_season_add_vacancy(request: Request, vacancy_id: Annotated[str, Form()] = "",
                          school_id: Annotated[str, Form()] = "", certification: Annotated[str, Form()] = "",
                          fte: Annotated[str, Form()] = "1.0", user: User = HR,
                          session: Session = Depends(db)) -> HTMLResponse:
    def add() -> str:
        add_vacancy(session, Vacancy(vacancy_id.strip(), school_id.strip(), certification.strip(),
                                     parse_float(fte)), user.username)
        return f"Vacancy {vacancy_id.strip()} added: open for the next round."
    return season_action(request, user, session, add)


@router.post("/hr/season/teachers")
def hr_season_add_teacher(request: Request, teacher_id: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                          certifications: Annotated[str, Form()] = "", seniority_date: Annotated[str, Form()] = "",
                          salary: Annotated[str, Form()] = "", status: Annotated[str, Form()] = "",
                          must_place: Annotated[str, Form()] = "", return_rights: Annotated[str, Form()] = "",
                          former_school_id: Annotated[str, Form()] = "", current_school_id: Annotated[str, Form()] = "",
                          user: User = HR, session: Session = Depends(db)) -> HTMLResponse:
    """Register a teacher in the pool (the same checks as the bundle importer)."""
    def add() -> str:
        certs = tuple(sorted(c.strip() for c in certifications.replace(",", ";").split(";") if c.strip()))
        add_teacher(session, Teacher(teacher_id.strip(), name.strip(), certs, parse_date(seniority_date),
                                     parse_int(salary), status, bool(must_place), bool(return_rights),  # type: ignore[arg-type]
                                     former_school_id.strip() or None, current_school_id.strip() or None),
                    user.username)
        return f"Teacher {teacher_id.strip()} registered in the pool."
    return season_action(request, user, session, add)


@router.get("/hr/compare")
def hr_compare(request: Request, a: int | None = None, b: int | None = None, user: User = HR,
               session: Session = Depends(db)) -> HTMLResponse:
    all_runs = [r for r in views.runs(session) if r.status == "done"]
    rows = views.compare(get_run(session, a), get_run(session, b)) if a and b else []
    return render(request, "hr_compare.html", user, runs=all_runs, rows=rows, a=a, b=b,
                  labels=season.run_labels(session, all_runs))


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

@router.get("/schools/{school_id}")
def school_page(request: Request, school_id: str, user: User = Depends(school_reader),
                session: Session = Depends(db)) -> HTMLResponse:
    return render(request, "school.html", user, **views.school(session, school_id))


@router.get("/schools/{school_id}/vacancies/{vacancy_id}")
def vacancy_page(request: Request, school_id: str, vacancy_id: str, user: User = Depends(school_reader),
                 session: Session = Depends(db)) -> HTMLResponse:
    return render(request, "vacancy.html", user, school_id=school_id, error=None,
                  **views.vacancy(session, school_id, vacancy_id))


def vacancy_partial(request: Request, user: User, session: Session, school_id: str, vacancy_id: str,
                    template: str, change: Callable[[], object]) -> HTMLResponse:
    """Apply one committee edit and answer with the panel htmx swaps in; bad input is an inline message
    (422) and writes nothing."""
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
    return render(request, template, user, school_id=school_id, error=error,
                  **views.vacancy(session, school_id, vacancy_id), status=200 if error is None else 422)


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/ranking")
def rank(request: Request, school_id: str, vacancy_id: str, teacher_id: Annotated[str, Form()] = "",
         action: Annotated[str, Form()] = "", user: User = Depends(school_access),
         session: Session = Depends(db)) -> HTMLResponse:
    """One click on the committee's ranking (add, remove, up, down)."""
    return vacancy_partial(request, user, session, school_id, vacancy_id, "_ranking.html",
                           lambda: move_in_ranking(session, vacancy_id, teacher_id, action, user.username))


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/interviews")
def interview(request: Request, school_id: str, vacancy_id: str, teacher_id: Annotated[str, Form()] = "",
              held_on: Annotated[str, Form()] = "", user: User = Depends(school_access),
              session: Session = Depends(db)) -> HTMLResponse:
    when = held_on or date.today().isoformat()
    return vacancy_partial(request, user, session, school_id, vacancy_id, "_interviews.html",
                           lambda: record_interview(session, Interview(vacancy_id, teacher_id, parse_date(when)),
                                                    user.username))


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/ballot")
def vote(request: Request, school_id: str, vacancy_id: str, teacher_id: Annotated[str, Form()] = "",
         action: Annotated[str, Form()] = "", user: User = Depends(school_voter),
         session: Session = Depends(db)) -> HTMLResponse:
    """One click on the signed-in member's own ballot."""
    return vacancy_partial(request, user, session, school_id, vacancy_id, "_ballots.html",
                           lambda: move_in_ballot(session, vacancy_id, user.username, teacher_id, action))


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/adopt")
def adopt(request: Request, school_id: str, vacancy_id: str, user: User = Depends(school_access),
          session: Session = Depends(db)) -> HTMLResponse:
    """Make the committee's ranking what its rule decides from the ballots."""
    return vacancy_partial(request, user, session, school_id, vacancy_id, "_ranking.html",
                           lambda: adopt_committee_decision(session, vacancy_id, user.username))


# -- union representatives (read-only) ------------------------------------------------------------------------

@router.get("/audit")
def audit_page(request: Request, run: int | None = None, school_id: str = "", reason: str = "", teacher_id: str = "",
               user: User = READERS, session: Session = Depends(db)) -> HTMLResponse:
    done = [r for r in views.runs(session) if r.status == "done"]
    # opens on the latest published round: a draft is HR's working copy, not the district's decision
    record = get_run(session, run) if run else (season.latest_published(session) or (done[0] if done else None))
    rows = views.audit(session, record, school_id, reason, teacher_id) if record else []
    violations = sum(1 for r in rows if r.lawful_reason.startswith("VIOLATION"))
    return render(request, "audit.html", user, runs=done, labels=season.run_labels(session, done), run=record,
                  rows=rows[:1000], total=len(rows),
                  violations=violations,
                  filters={"school_id": school_id, "reason": reason, "teacher_id": teacher_id},
                  placements=views.placements(session, record.id) if record else [])


@router.get("/audit/{run_id}.csv")
def audit_csv(run_id: int, school_id: str = "", reason: str = "", teacher_id: str = "", user: User = READERS,
              session: Session = Depends(db)) -> Response:
    rows = views.audit(session, get_run(session, run_id), school_id, reason, teacher_id)
    buffer = io.StringIO()
    write_rows(buffer, (asdict(r) for r in rows), AUDIT_COLUMNS)  # formula-like cells neutralised
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="audit-run-{run_id}.csv"'})
