"""Rosters, excessing, dismissal to the pool and notices: the pages and their JSON twins.

Access: HR everywhere; a principal excesses, dismisses and reads notices only at their own school; the union
reads every roster, decision and notice; a teacher reads only their own notices.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from staffing import excessing
from staffing.db_models import ExcessNotice, SchoolRow
from staffing.validation import Problem, ValidationError
from web.deps import DB, User, current_user, db, role, roster_reader, school_access
from web.templating import render
from web.listing import Column, csv_response, listing, wants_csv
from web.names import Names

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["excessing"])


def _roster_context(session: Session, school_id: str) -> dict:
    school = session.get(SchoolRow, school_id)
    return {"school": school, "rules": excessing.school_rules(session, school_id), "names": Names.load(session, False),
            "roster": excessing.roster(session, school_id),
            "decisions": excessing.decisions(session, school_id)}


def can_read_notice(user: User, notice: ExcessNotice) -> bool:
    return (user.role in ("hr", "union") or user.role == "principal" and user.school_id == notice.school_id
            or user.role == "teacher" and user.teacher_id == notice.teacher_id)


def _notice_for(session: Session, notice_id: int, user: User) -> ExcessNotice:
    notice = excessing.get_notice(session, notice_id)
    if not can_read_notice(user, notice):
        raise HTTPException(403, "you may only read notices of your own school or your own")
    return notice


def _scope(user: User) -> str | None:
    """The school whose decisions and notices a user lists: none for HR and the union (all), their own for a
    principal; other roles have no list."""
    if user.role in ("hr", "union"):
        return None
    if user.role == "principal":
        return user.school_id
    raise HTTPException(403, f"a {user.role} user may not list excessing decisions")


# -- pages ---------------------------------------------------------------------------------------------------

@pages.get("/schools/{school_id}/roster")
def roster_page(request: Request, school_id: str, user: User = Depends(roster_reader),
                session: Session = DB) -> HTMLResponse:
    return render(request, "roster.html", user, error=None, **_roster_context(session, school_id))


def _act(request: Request, user: User, session: Session, school_id: str, change) -> Response:
    excessing.school_rules(session, school_id)  # 404 for an unknown school before anything else
    try:
        outcome = change()
    except ValidationError as exc:
        session.rollback()
        return render(request, "roster.html", user, status=422, error="; ".join(p.message for p in exc.problems),
                       **_roster_context(session, school_id))
    return RedirectResponse(f"/excessing#decision-{outcome.decision.id}", status_code=303)


@pages.post("/schools/{school_id}/excess")
def excess_form(request: Request, school_id: str, certification: Annotated[str, Form()] = "",
                n: Annotated[str, Form()] = "", teachers: Annotated[list[str] | None, Form()] = None,
                user: User = Depends(school_access), session: Session = DB) -> Response:
    def change():
        try:
            count = int(n.strip())
        except ValueError:
            raise ValidationError([Problem(f"excessing at {school_id}", None, "n",
                                           f"the number of posts must be a whole number, got {n!r}")]) from None
        named = [t for item in teachers or [] for t in item.split(",") if t.strip()]
        return excessing.excess(session, school_id, certification, count, named or None, actor=user.username)
    return _act(request, user, session, school_id, change)


@pages.post("/schools/{school_id}/dismiss")
def dismiss_form(request: Request, school_id: str, teacher_id: Annotated[str, Form()] = "",
                 reason: Annotated[str, Form()] = "", user: User = Depends(school_access),
                 session: Session = DB) -> Response:
    return _act(request, user, session, school_id,
                lambda: excessing.dismiss(session, school_id, teacher_id.strip(), reason, actor=user.username))


@pages.get("/rosters")
def open_roster(school: str = "", user: User = Depends(role("hr", "principal", "union"))) -> Response:
    """The roster picker's target: the chosen school's roster page (a plain GET form, no script)."""
    return RedirectResponse(f"/schools/{quote(school, safe='')}/roster", status_code=303)


@pages.get("/excessing")
def decisions_page(request: Request, user: User = Depends(role("hr", "union", "principal")),
                   session: Session = DB) -> HTMLResponse:
    schools = session.exec(select(SchoolRow).order_by(SchoolRow.school_id)).all() if user.role != "principal" else []
    return render(request, "excessing.html", user, decisions=excessing.decisions(session, _scope(user)),
                   schools=schools, names=Names.load(session, False))


NOTICE_COLUMNS = (Column("notice_id", "Notice"), Column("notice_date", "Date"), Column("name", "Teacher"),
                  Column("teacher_id", "Id"), Column("school", "School"), Column("certification_name", "Certification"),
                  Column("reason", "Reason", sortable=False))
NOTICE_CSV = NOTICE_COLUMNS + (Column("school_id", "school id"), Column("certification", "certification code"))


@pages.get("/notices")
def notices_page(request: Request, user: User = Depends(role("hr", "union", "principal")),
                 session: Session = DB) -> Response:
    """Every notice the user may read, newest first, paged with names; all of them as CSV."""
    names = Names.load(session, False)
    rows = [{**(d := excessing.notice_dict(session, n)), "school": names.school(d["school_id"]),
             "certification_name": names.certification(d["certification"])}
            for n in excessing.notices(session, school_id=_scope(user))]
    if wants_csv(request, "notices"):
        return csv_response(rows, NOTICE_CSV, "notices.csv")
    return render(request, "notices.html", user,
                   page=listing(request, "notices", rows, NOTICE_COLUMNS, default_sort="notice_id", default_desc=True))


@pages.get("/notices/{notice_id}")
def notice_page(request: Request, notice_id: int, user: User = Depends(current_user),
                session: Session = DB) -> HTMLResponse:
    notice = _notice_for(session, notice_id, user)
    school = session.get(SchoolRow, notice.school_id)
    return render(request, "notice.html", user, notice=excessing.notice_dict(session, notice), school=school,
                   names=Names.load(session, False))


# -- JSON API --------------------------------------------------------------------------------------------------

class ExcessBody(BaseModel):
    certification: str
    n: int = Field(description="posts to cut in that certification")
    teachers: list[str] | None = Field(None, description="the teachers the principal names, where the school's "
                                                         "model may dismiss to the pool; otherwise leave out")


class DismissBody(BaseModel):
    teacher_id: str
    reason: str


def _outcome_json(session: Session, outcome: excessing.Outcome) -> dict:
    d = outcome.decision
    return {"decision_id": d.id, "school_id": d.school_id, "kind": d.kind, "rule": d.rule,
            "notices": [excessing.notice_dict(session, n) for n in outcome.notices]}


@api.get("/schools/{school_id}/roster")
def roster_api(school_id: str, user: User = Depends(roster_reader), session: Session = DB) -> dict:
    return {"school_id": school_id, "roster": excessing.roster_json(excessing.roster(session, school_id))}


@api.post("/schools/{school_id}/excess")
def excess_api(school_id: str, body: ExcessBody, user: User = Depends(school_access),
               session: Session = DB) -> dict:
    return _outcome_json(session, excessing.excess(session, school_id, body.certification, body.n, body.teachers,
                                                   actor=user.username))


@api.post("/schools/{school_id}/dismiss")
def dismiss_api(school_id: str, body: DismissBody, user: User = Depends(school_access),
                session: Session = DB) -> dict:
    return _outcome_json(session, excessing.dismiss(session, school_id, body.teacher_id, body.reason,
                                                    actor=user.username))


@api.get("/excessing")
def decisions_api(user: User = Depends(role("hr", "union", "principal")), session: Session = DB) -> list[dict]:
    return excessing.decisions(session, _scope(user))


@api.get("/notices")
def notices_api(user: User = Depends(current_user), session: Session = DB) -> list[dict]:
    if user.role == "teacher":
        rows = excessing.notices(session, teacher_id=user.teacher_id or "")
    else:
        rows = excessing.notices(session, school_id=_scope(user))
    return [excessing.notice_dict(session, n) for n in rows]


@api.get("/notices/{notice_id}")
def notice_api(notice_id: int, user: User = Depends(current_user), session: Session = DB) -> dict:
    return excessing.notice_dict(session, _notice_for(session, notice_id, user))


# -- district settings of excessing and teachers' lists (HR) --------------------------------------------------

class SettingBody(BaseModel):
    value: str = Field(description="the new value as text, e.g. 'false', '8' or a date YYYY-MM-DD (empty: none)")


@api.get("/settings/pool")
def settings_api(user: User = Depends(role("hr")), session: Session = DB) -> dict:
    from staffing import pool_settings

    return {key: {"value": value, "meaning": pool_settings.SETTINGS[key].meaning}
            for key, value in pool_settings.all_settings(session).items()}


@api.put("/settings/pool/{key}")
def put_setting_api(key: str, body: SettingBody, user: User = Depends(role("hr")),
                    session: Session = DB) -> dict:
    from staffing import pool_settings

    return {"key": key, "value": pool_settings.set_value(session, key, body.value, user.username)}
