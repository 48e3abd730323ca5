"""HTML pages.  Handlers only parse the request, call a read model or a service, and render."""

from __future__ import annotations

import csv
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
from staffing.domain import Interview
from staffing.runs import PoolChanged, get_run, publish_run
from staffing.services import adopt_committee_decision, move_in_ballot, move_in_ranking, record_interview
from staffing.validation import ValidationError, parse_date
from web import views
from web.templating import templates
from web.auth import authenticate
from web.deps import User, current_user, db, role, school_access, school_reader, school_voter
from web.runner import report_file, start_in_background, start_tradeoffs, tradeoff_state

router = APIRouter(include_in_schema=False)
HR = Depends(role("hr"))
READERS = Depends(role("hr", "union"))


def render(request: Request, name: str, user: User | None, status: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": user, **context}, status_code=status)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", None, next=next, error=None)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/", session: Session = Depends(db)) -> Response:
    user = authenticate(session, username.strip(), password)
    if user is None:
        return render(request, "login.html", None, status=401, next=next, error="Unknown user or wrong password.")
    request.session["user"] = user.username
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(user: User = Depends(current_user)) -> Response:
    target = {"hr": "/hr", "union": "/audit"}.get(user.role, f"/schools/{user.school_id}")  # principal, committee
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
                  vacancies=views.vacancies(session), runs=views.runs(session)[:5])


@router.get("/hr/vacancies")
def hr_vacancies(request: Request, certification: str = "", model: str = "", user: User = HR,
                 session: Session = Depends(db)) -> HTMLResponse:
    return render(request, "hr_vacancies.html", user, rows=views.vacancies(session, certification=certification, model=model),
                  filters={"certification": certification, "model": model}, committees=views.committees(session))


@router.get("/hr/runs")
def hr_runs(request: Request, user: User = HR, session: Session = Depends(db)) -> HTMLResponse:
    return render(request, "hr_runs.html", user, runs=views.runs(session), scenarios=SCENARIOS, error=None)


@router.post("/hr/runs")
def hr_start_run(request: Request, background: BackgroundTasks, scenario: Annotated[str, Form()] = "district_rules",
                 time_limit: Annotated[str, Form()] = "10", method: Annotated[str, Form()] = "cpsat",
                 bound_seconds: Annotated[str, Form()] = "0", search: Annotated[str, Form()] = "deterministic",
                 user: User = HR, session: Session = Depends(db)) -> Response:
    try:
        run_id = start_in_background(request.app.state.database_url, background, scenario, time_limit, method,
                                     user.username, bound_seconds, search)
    except ValueError as exc:
        return render(request, "hr_runs.html", user, status=422, runs=views.runs(session), scenarios=SCENARIOS,
                      error=str(exc))
    return RedirectResponse(f"/hr/runs/{run_id}", status_code=303)


@router.get("/hr/runs/{run_id}")
def hr_run(request: Request, run_id: int, school_id: str = "", kind: str = "", user: User = HR,
           session: Session = Depends(db)) -> HTMLResponse:
    run = get_run(session, run_id)
    return render(request, "hr_run.html", user, run=run, figures=views.run_figures(run),
                  placements=views.placements(session, run_id, school_id, kind) if run.status == "done" else [],
                  filters={"school_id": school_id, "kind": kind}, message=None)


@router.get("/hr/runs/{run_id}/status")
def hr_run_status(request: Request, run_id: int, user: User = HR, session: Session = Depends(db)) -> Response:
    """Polled by htmx while a run is solving; tells the page to reload once it is finished."""
    run = get_run(session, run_id)
    if run.status == "running":
        return render(request, "_run_progress.html", user, run=run)
    return Response(status_code=200, headers={"HX-Refresh": "true"})


@router.post("/hr/runs/{run_id}/publish")
def hr_publish(request: Request, run_id: int, user: User = HR, session: Session = Depends(db)) -> HTMLResponse:
    try:
        run, newly = publish_run(session, run_id, user.username)
        message = "Published." if newly else f"Already published by {run.published_by}."
    except (PoolChanged, ValueError) as exc:
        run, message = get_run(session, run_id), f"Not published: {exc}"
    return render(request, "hr_run.html", user, run=run, figures=views.run_figures(run),
                  placements=views.placements(session, run_id), filters={}, message=message)


@router.get("/hr/compare")
def hr_compare(request: Request, a: int | None = None, b: int | None = None, user: User = HR,
               session: Session = Depends(db)) -> HTMLResponse:
    all_runs = [r for r in views.runs(session) if r.status == "done"]
    rows = views.compare(get_run(session, a), get_run(session, b)) if a and b else []
    return render(request, "hr_compare.html", user, runs=all_runs, rows=rows, a=a, b=b)


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
    record = get_run(session, run) if run else (done[0] if done else None)
    rows = views.audit(session, record, school_id, reason, teacher_id) if record else []
    violations = sum(1 for r in rows if r.lawful_reason.startswith("VIOLATION"))
    return render(request, "audit.html", user, runs=done, run=record, rows=rows[:1000], total=len(rows),
                  violations=violations,
                  filters={"school_id": school_id, "reason": reason, "teacher_id": teacher_id},
                  placements=views.placements(session, record.id) if record else [])


@router.get("/audit/{run_id}.csv")
def audit_csv(run_id: int, school_id: str = "", reason: str = "", teacher_id: str = "", user: User = READERS,
              session: Session = Depends(db)) -> Response:
    rows = views.audit(session, get_run(session, run_id), school_id, reason, teacher_id)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(AUDIT_COLUMNS))
    writer.writeheader()
    writer.writerows(asdict(r) for r in rows)
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="audit-run-{run_id}.csv"'})
