"""A signed-in teacher's own page and API: their record, their list of schools, and why each round placed them
where it did.  Every route reads the teacher id from the sign-in, never from the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from staffing import season
from staffing.teacher_portal import move_own_preference, set_own_preferences, teacher_record
from staffing.validation import ValidationError
from web.deps import User, db, own_teacher
from web.names import Names

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/me", tags=["teacher"])


def _render(request: Request, name: str, user: User, status: int = 200, **context) -> HTMLResponse:
    from web.templating import templates

    return templates.TemplateResponse(request, name, {"user": user, **context}, status_code=status)


def _page(request: Request, user: User, session: Session, template: str = "teacher.html", status: int = 200,
          message: str | None = None, offer_error: str | None = None) -> HTMLResponse:
    return _render(request, template, user, status=status, me=teacher_record(session, user.teacher_id), error=None,
                   names=Names.load(session, False), message=message, offer_error=offer_error)


@pages.get("/me")
def my_page(request: Request, user: User = Depends(own_teacher), session: Session = Depends(db)) -> HTMLResponse:
    return _page(request, user, session)


@pages.post("/me/offer")
def answer_my_offer(request: Request, answer: Annotated[str, Form()] = "", user: User = Depends(own_teacher),
                    session: Session = Depends(db)) -> HTMLResponse:
    """The teacher answers their own pending offer (accept, decline, or refuse a forced placement); answers with
    the offers panel htmx swaps in, a refusal of the answer as an inline message (422) that changes nothing."""
    try:
        offer = season.respond(session, user.teacher_id or "", answer, user.username)
    except ValueError as exc:  # SeasonError: no pending offer, a forced placement declined, a bad answer
        session.rollback()
        return _page(request, user, session, "_offers.html", 422, offer_error=str(exc))
    school = Names.load(session, False).school(offer.school_id) or offer.school_id
    return _page(request, user, session, "_offers.html",
                 message=f"Your answer is recorded: the offer at {school} is {offer.status}.")


@pages.post("/me/preferences")
def my_preferences(request: Request, school_id: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "",
                   user: User = Depends(own_teacher), session: Session = Depends(db)) -> HTMLResponse:
    """One click on the teacher's list (add, remove, up, down); answers with the list panel htmx swaps in."""
    error = None
    try:
        move_own_preference(session, user.teacher_id, school_id, action, user.username)
    except ValidationError as exc:
        session.rollback()
        error = "; ".join(p.message for p in exc.problems)
    return _render(request, "_preferences.html", user, status=200 if error is None else 422,
                   me=teacher_record(session, user.teacher_id), error=error, names=Names.load(session, False))


class PreferencesBody(BaseModel):
    school_ids: list[str] = Field(description="schools, most wanted first; empty: every school acceptable")


@api.get("/record")
def my_record(user: User = Depends(own_teacher), session: Session = Depends(db)) -> dict:
    return teacher_record(session, user.teacher_id)


@api.put("/preferences")
def put_my_preferences(body: PreferencesBody, user: User = Depends(own_teacher),
                       session: Session = Depends(db)) -> dict:
    return {"school_ids": set_own_preferences(session, user.teacher_id, body.school_ids, user.username)}
