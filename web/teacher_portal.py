"""A signed-in teacher's own page and API: their record, their list of schools, and why each round placed them
where it did.  Every route reads the teacher id from the sign-in, never from the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from staffing import season
from staffing.services import NotFound
from staffing.teacher_portal import answer_own_offer, move_own_preference, offers, set_own_preferences, teacher_record
from staffing.validation import ValidationError
from web.deps import DB, User, own_teacher
from web.names import Names
from web.templating import is_htmx, render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/me", tags=["teacher"])


@pages.get("/me")
def my_page(request: Request, user: User = Depends(own_teacher), session: Session = DB) -> HTMLResponse:
    """The teacher's page; after a plain form's answer it shows that answer's message once (post/redirect/get)."""
    flash = request.session.pop(FLASH, None) or {}
    return _page(request, "teacher.html", user, session, **flash)


def _page(request: Request, template: str, user: User, session: Session, status: int = 200,
          **context) -> HTMLResponse:
    """``template`` (the page or one of its panels) with the teacher's record and the names of what it lists."""
    context.setdefault("error", None)
    return render(request, template, user, status=status, me=teacher_record(session, user.teacher_id),
                  names=Names.load(session, teachers=False), unanswered=season.settings(session).unanswered,
                  **context)


#: the session key holding the message a plain (no-JavaScript) form's redirect shows on /me, once
FLASH = "me_flash"


def _answer_words(offer) -> str:
    chain = f" Your former post is now open as vacancy {offer.vacated_vacancy_id}." if offer.vacated_vacancy_id else ""
    if offer.status == "refused":
        return f"You refused the forced placement at {offer.vacancy_id}: you have left the district pool."
    return f"Your offer of post {offer.vacancy_id} is now {offer.status}.{chain}"


@pages.post("/me/offers/answer")
def my_offer_answer(request: Request, offer_id: Annotated[str, Form()] = "", answer: Annotated[str, Form()] = "",
                    user: User = Depends(own_teacher), session: Session = DB) -> Response:
    """Accept, decline or refuse one of the teacher's own pending offers.  htmx gets the offers section (and
    the record, out of band) with the outcome; a plain form is sent back to /me with it.  A refusal (another
    teacher's offer, no longer pending, a wrong answer) is a message that changes nothing, on a 404/409 page."""
    try:
        offer = answer_own_offer(session, user.teacher_id, offer_id, answer, user.username)
    except (NotFound, season.SeasonError) as exc:
        session.rollback()
        status = 404 if isinstance(exc, NotFound) else 409
        return _page(request, "_offers.html" if is_htmx(request) else "teacher.html", user, session, status=status,
                     offer_error=str(exc), oob=is_htmx(request))
    if not is_htmx(request):
        request.session[FLASH] = {"offer_message": _answer_words(offer)}
        return RedirectResponse("/me#offers", status_code=303)
    return _page(request, "_offers.html", user, session, offer_message=_answer_words(offer), oob=True)


@pages.post("/me/preferences")
def my_preferences(request: Request, school_id: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "",
                   user: User = Depends(own_teacher), session: Session = DB) -> Response:
    """One click on the teacher's list (add, remove, up, down): htmx gets the list panel to swap in, a plain
    form is sent back to /me (or shown the page with the reason, 422, when the change is refused)."""
    error = None
    try:
        move_own_preference(session, user.teacher_id, school_id, action, user.username)
    except ValidationError as exc:
        session.rollback()
        error = "; ".join(p.message for p in exc.problems)
    if not is_htmx(request):
        if error is None:
            return RedirectResponse("/me#preferences", status_code=303)
        return _page(request, "teacher.html", user, session, status=422, error=error)
    return _page(request, "_preferences.html", user, session, status=200 if error is None else 422, error=error)


class PreferencesBody(BaseModel):
    school_ids: list[str] = Field(description="schools, most wanted first; empty: every school acceptable")


@api.get("/record")
def my_record(user: User = Depends(own_teacher), session: Session = DB) -> dict:
    return teacher_record(session, user.teacher_id)


@api.put("/preferences")
def put_my_preferences(body: PreferencesBody, user: User = Depends(own_teacher),
                       session: Session = DB) -> dict:
    return {"school_ids": set_own_preferences(session, user.teacher_id, body.school_ids, user.username)}


class AnswerBody(BaseModel):
    offer_id: int = Field(description="one of your own pending offers (GET /api/me/offers)")
    answer: str = Field(description="accept or decline; for a forced placement accept or refuse (refusing "
                                    "leaves the pool)")


@api.get("/offers")
def my_offers(user: User = Depends(own_teacher), session: Session = DB) -> list[dict]:
    """The teacher's own offers, newest first; ``answers`` lists what the pending one may be answered."""
    return offers(session, user.teacher_id)


@api.post("/offers/answer")
def answer_my_offer(body: AnswerBody, user: User = Depends(own_teacher), session: Session = DB) -> dict:
    try:
        offer = answer_own_offer(session, user.teacher_id, body.offer_id, body.answer, user.username)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except season.SeasonError as exc:
        raise HTTPException(409, str(exc)) from None
    return {**offer.model_dump(mode="json"), "message": _answer_words(offer)}
