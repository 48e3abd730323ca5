"""JSON API beside the pages (OpenAPI at /docs): the same read models, services and role checks."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from staffing import season
from staffing.domain import Teacher, Vacancy
from staffing.runs import get_run, search_mode
from staffing.committee import NoDecision
from staffing.services import add_teacher, add_vacancy, adopt_committee_decision, set_ballot, set_rankings
from web import views
from web.auth import sign_in
from web.deps import User, begin_session, current_user, db, finish_session, role, school_access, school_reader, school_voter
from web.security import client_address, csrf_token
from web.runner import MAX_BOUND_SECONDS, start_in_background

router = APIRouter(prefix="/api", tags=["api"])


class Login(BaseModel):
    username: str
    password: str


class RunRequest(BaseModel):
    scenario: str = "district_rules"
    time_limit: float = Field(10.0, gt=0, le=300)
    method: str = "cpsat"
    bound_seconds: float = Field(0.0, ge=0, le=MAX_BOUND_SECONDS, description="seconds after the search spent proving the gap "
                                 "(Lagrangian bound with seniority, rounds above 10,000 pairs); 0 is off")
    search: Literal["deterministic", "parallel"] = Field(
        "deterministic", description="deterministic: the same pool and policy give the same placements (the run "
        "replays), but a district round takes several times its limit in wall time; parallel: both cores against "
        "the wall clock, the round ends within its limit and a replay may differ")


class RankingBody(BaseModel):
    teacher_ids: list[str] = Field(description="candidates in the committee's order; unlisted = not acceptable")
    version: int | None = Field(None, description="the version you read (GET); a stale one gets 409 instead of "
                                                  "overwriting someone else's ranking")


def _run_json(run) -> dict:
    return {"id": run.id, "status": run.status, "scenario": run.scenario, "solver_version": run.solver_version,
            "search": search_mode(run), "created_at": run.created_at, "created_by": run.created_by, "snapshot_hash": run.snapshot_hash,
            "published_at": run.published_at, "published_by": run.published_by, "progress": run.progress,
            "figures": views.run_figures(run)}


@router.post("/login")
def login(body: Login, request: Request, session: Session = Depends(db)):
    """Sign in; send the returned ``csrf_token`` as the ``X-CSRF-Token`` header on every POST and PUT."""
    user, why = sign_in(session, body.username, body.password, client_address(request), request.app.state.settings)
    if user is None:  # returned, not raised, so the failure counted for throttling is committed
        return JSONResponse({"detail": why}, status_code=429 if why.startswith("Too many") else 401)
    token = begin_session(request, session, user.username)
    return {"username": user.username, "role": user.role, "school_id": user.school_id, "csrf_token": token}


@router.post("/logout")
def logout(request: Request, session: Session = Depends(db)) -> dict:
    """End this session (the cookie stops working everywhere it was copied)."""
    finish_session(request, session)
    return {"signed_out": True}


@router.get("/me")
def me(request: Request, user: User = Depends(current_user)) -> dict:
    return {**asdict(user), "csrf_token": csrf_token(request)}


@router.get("/pool")
def pool(status: str = "", certification: str = "", region: str = "", user: User = Depends(role("hr")),
         session: Session = Depends(db)) -> dict:
    rows = views.pool(session, status, certification, region)
    return {"summary": views.pool_summary(rows), "teachers": [asdict(r) for r in rows]}


@router.get("/vacancies")
def vacancies(certification: str = "", model: str = "", user: User = Depends(role("hr")),
              session: Session = Depends(db)) -> list[dict]:
    return views.vacancies(session, certification=certification, model=model)


@router.get("/runs")
def runs(user: User = Depends(role("hr", "union")), session: Session = Depends(db)) -> list[dict]:
    """Every run with its season label (draft, published, stale, superseded) and whether it is lawful."""
    records = views.runs(session)
    labels = season.run_labels(session, records)
    return [{**_run_json(r), "label": labels[r.id].status, "lawful": labels[r.id].lawful} for r in records]


@router.post("/runs", status_code=202)
def start_run(body: RunRequest, request: Request, background: BackgroundTasks,
              user: User = Depends(role("hr"))) -> dict:
    try:
        run_id = start_in_background(request.app.state.database_url, background, body.scenario, body.time_limit,
                                     body.method, user.username, body.bound_seconds, body.search)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": run_id, "status": "running", "poll": f"/api/runs/{run_id}"}


@router.get("/runs/{run_id}")
def run(run_id: int, user: User = Depends(role("hr", "union")), session: Session = Depends(db)) -> dict:
    record = get_run(session, run_id)
    return {**_run_json(record), "placements": [p.model_dump() for p in views.placements(session, run_id)]}


@router.post("/runs/{run_id}/publish")
def publish(run_id: int, user: User = Depends(role("hr")), session: Session = Depends(db)) -> dict:
    """Publish a round: its placements become offers.  422 if the checker finds violations, 409 if the run is
    stale, already published or not finished."""
    try:
        record, offers = season.publish(session, run_id, user.username)
    except season.UnlawfulRun as exc:
        raise HTTPException(422, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return {**_run_json(record), "label": "published", "offers": len(offers),
            "deadline": offers[0].deadline if offers else None}


# -- the season (HR) ------------------------------------------------------------------------------------------

class Answer(BaseModel):
    answer: Literal["accept", "decline", "refuse"] = Field(description="refuse: a forced placement (the teacher "
                                                                       "leaves the pool)")


class PhaseChange(BaseModel):
    to: str | None = Field(None, description="the phase to move to; default the next one (never back)")


class SeasonSettings(BaseModel):
    response_days: int | None = None
    unanswered: Literal["lapsed", "accepted"] | None = None
    forced_placement: Literal["any_round", "final_phase"] | None = None


class NewVacancy(BaseModel):
    vacancy_id: str
    school_id: str
    certification: str
    fte: float = 1.0


class NewTeacher(BaseModel):
    teacher_id: str
    name: str
    certifications: list[str]
    seniority_date: date
    salary: int
    status: str
    must_place: bool = False
    return_rights: bool = False
    former_school_id: str | None = None
    current_school_id: str | None = None


def _season_call(action):
    """A refused season action is 409 with the reason (nothing changed); a bad value 422."""
    try:
        return action()
    except season.SeasonError as exc:
        raise HTTPException(409, str(exc)) from None


@router.get("/season")
def season_state(user: User = Depends(role("hr")), session: Session = Depends(db)) -> dict:
    season.lapse_due(session)
    return season.state(session).as_dict()


@router.post("/season/advance")
def season_advance(body: PhaseChange, user: User = Depends(role("hr")), session: Session = Depends(db)) -> dict:
    row = _season_call(lambda: season.advance_phase(session, body.to, user.username))
    return {"phase": row.phase}


@router.put("/season/settings")
def season_settings(body: SeasonSettings, user: User = Depends(role("hr")), session: Session = Depends(db)) -> dict:
    try:
        row = season.configure(session, user.username, body.response_days, body.unanswered, body.forced_placement)
    except season.SeasonError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"response_days": row.response_days, "unanswered": row.unanswered,
            "forced_placement": row.forced_placement, "phase": row.phase}


@router.get("/teachers/{teacher_id}/offers")
def teacher_offers(teacher_id: str, user: User = Depends(role("hr")), session: Session = Depends(db)) -> list[dict]:
    return [o.model_dump(mode="json") for o in season.offers_for_teacher(session, teacher_id)]


@router.post("/teachers/{teacher_id}/answer")
def answer(teacher_id: str, body: Answer, user: User = Depends(role("hr")), session: Session = Depends(db)) -> dict:
    """HR answers a teacher's pending offer on their behalf."""
    offer = _season_call(lambda: season.respond(session, teacher_id, body.answer, user.username))
    return offer.model_dump(mode="json")


@router.post("/vacancies", status_code=201)
def new_vacancy(body: NewVacancy, user: User = Depends(role("hr")), session: Session = Depends(db)) -> dict:
    add_vacancy(session, Vacancy(body.vacancy_id, body.school_id, body.certification, body.fte), user.username)
    return body.model_dump()


@router.post("/teachers", status_code=201)
def new_teacher(body: NewTeacher, user: User = Depends(role("hr")), session: Session = Depends(db)) -> dict:
    """Register a teacher in the pool."""
    add_teacher(session, Teacher(body.teacher_id, body.name, tuple(sorted(body.certifications)), body.seniority_date,
                                 body.salary, body.status, body.must_place, body.return_rights,  # type: ignore[arg-type]
                                 body.former_school_id, body.current_school_id), user.username)
    return body.model_dump(mode="json")


@router.get("/runs/{run_id}/audit")
def audit(run_id: int, school_id: str = "", reason: str = "", teacher_id: str = "",
          user: User = Depends(role("hr", "union")), session: Session = Depends(db)) -> list[dict]:
    return [asdict(r) for r in views.audit(session, get_run(session, run_id), school_id, reason, teacher_id)]


@router.get("/schools/{school_id}/vacancies")
def school_vacancies(school_id: str, user: User = Depends(school_access), session: Session = Depends(db)) -> list[dict]:
    views.school(session, school_id)
    return views.vacancies(session, school_id=school_id)


@router.get("/schools/{school_id}/vacancies/{vacancy_id}/ranking")
def get_ranking(school_id: str, vacancy_id: str, user: User = Depends(school_access),
                session: Session = Depends(db)) -> dict:
    page = views.vacancy(session, school_id, vacancy_id)
    return {"vacancy_id": vacancy_id, "teacher_ids": [getattr(r, "teacher_id", r) for r in page["ranking"]],
            "version": page["vacancy"].version, "interviewed": page["interviewed"],
            "interviews_needed": page["interviews_needed"]}


@router.put("/schools/{school_id}/vacancies/{vacancy_id}/ranking")
def put_ranking(school_id: str, vacancy_id: str, body: RankingBody, user: User = Depends(school_access),
                session: Session = Depends(db)) -> dict:
    views.vacancy(session, school_id, vacancy_id)
    version = set_rankings(session, vacancy_id, body.teacher_ids, user.username, expected_version=body.version)
    return {"vacancy_id": vacancy_id, "teacher_ids": body.teacher_ids, "version": version}


@router.get("/schools/{school_id}/vacancies/{vacancy_id}/ballots")
def get_ballots(school_id: str, vacancy_id: str, user: User = Depends(school_reader),
                session: Session = Depends(db)) -> dict:
    page = views.vacancy(session, school_id, vacancy_id)
    return {"vacancy_id": vacancy_id, "rule": page["decision_rule"], "ballots": page["ballots"],
            "decision": page["decision"], "undecided": page["undecided"]}


@router.put("/schools/{school_id}/vacancies/{vacancy_id}/ballot")
def put_ballot(school_id: str, vacancy_id: str, body: RankingBody, user: User = Depends(school_voter),
               session: Session = Depends(db)) -> dict:
    """Cast or replace the signed-in member's own ballot."""
    views.vacancy(session, school_id, vacancy_id)
    set_ballot(session, vacancy_id, user.username, body.teacher_ids, user.username)
    return {"vacancy_id": vacancy_id, "voter": user.username, "teacher_ids": body.teacher_ids}


@router.post("/schools/{school_id}/vacancies/{vacancy_id}/adopt")
def adopt(school_id: str, vacancy_id: str, user: User = Depends(school_access), session: Session = Depends(db)) -> dict:
    """Make the committee's ranking what its rule decides from the ballots."""
    views.vacancy(session, school_id, vacancy_id)
    try:
        ranking = adopt_committee_decision(session, vacancy_id, user.username)
    except NoDecision as exc:
        raise HTTPException(409, str(exc)) from None
    return {"vacancy_id": vacancy_id, "teacher_ids": ranking}
