"""A teacher's own record: what a signed-in teacher reads (status, seniority ranks, return rights, notices, the
"why" of each published round) and the one thing they change, their ranked list of schools.

Every function takes the teacher id of the signed-in user; the web layer never passes another one.  The
preferences deadline is checked in :func:`preferences_closed` only, so the season's phases can decide it too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlmodel import Session, select

from solver import build_instance
from solver.audit import lawful_reason
from solver.instance import CLASS_NAMES, Instance
from solver.policy import Policy
from staffing import pool_settings
from staffing.db_models import (
    OfferRow,
    Placement,
    PlacementRun,
    PoolEntry,
    SchoolRow,
    TeacherPreferenceRow,
    TeacherRow,
    VacancyRow,
)
from staffing.domain import District
from staffing.excessing import notice_dict, notices, school_rules, seniority_order
from staffing.services import NotFound, reorder, set_preferences
from staffing.validation import FieldProblem, Problem, ValidationError

#: A placement kind in plain words, for the teacher reading why they were placed.
KIND_WORDS = {
    "return_right": "your return right to this school, which its model honours",
    "mutual_consent": "mutual consent: you listed the school and its committee ranked you",
    "assigned": "district assignment: the school does not require mutual consent and you listed it (or listed none)",
    "forced": "forced placement: you are must-place and this school accepts forced placements",
}
OCCUPANT_KIND_WORDS = {
    "return_right": "by their return right to this school",
    "mutual_consent": "by mutual consent",
    "assigned": "by district assignment",
    "forced": "as a forced placement of a must-place teacher",
}


def preferences_closed(session: Session, today: date | None = None) -> str | None:
    """Why teachers may no longer change their lists, or None while they may.

    The district's ``preferences_deadline`` setting closes them after that day; when the season module
    (``staffing.season``, another part of the product) is present, any phase after ``preferences`` closes them."""
    deadline = pool_settings.get(session, "preferences_deadline")
    today = today or date.today()
    if deadline is not None and today > deadline:  # type: ignore[operator]
        return f"the preferences deadline ({deadline.isoformat()}) has passed"  # type: ignore[union-attr]
    try:
        from staffing import season  # type: ignore[attr-defined]
    except ImportError:
        return None
    state = season.state(session)
    phase = state.get("phase") if isinstance(state, dict) else getattr(state, "phase", None)
    if phase not in (None, "preferences"):
        return f"the preferences phase has closed (the season is in phase {phase})"
    return None


def set_own_preferences(session: Session, teacher_id: str, school_ids: Sequence[str], actor: str,
                        today: date | None = None) -> list[str]:
    """Replace the teacher's ranked list after every check (deadline, number of wishes, known schools, no
    duplicate); all problems are reported together and nothing is written when there is one."""
    _teacher(session, teacher_id)
    school_ids = [s.strip() for s in school_ids]
    problems: list[FieldProblem] = []
    closed = preferences_closed(session, today)
    if closed:
        problems.append(("preferences", f"your list can no longer be changed: {closed}"))
    most = pool_settings.get(session, "max_wishes")
    if len(school_ids) > most:  # type: ignore[operator]
        problems.append(("preferences", f"{len(school_ids)} schools listed; the district allows at most {most}"))
    seen: set[str] = set()
    for sid in school_ids:
        if sid in seen:
            problems.append(("school_id", f"{sid!r} appears twice in the list"))
        seen.add(sid)
        if session.get(SchoolRow, sid) is None:
            problems.append(("school_id", f"unknown school {sid!r}"))
    if problems:
        raise ValidationError([Problem(f"preferences of {teacher_id}", None, f, m) for f, m in problems])
    set_preferences(session, teacher_id, school_ids, actor)
    return list(school_ids)


def move_own_preference(session: Session, teacher_id: str, school_id: str, action: str, actor: str,
                        today: date | None = None) -> list[str]:
    """One click on the teacher's list: ``add`` a school (to the end), ``remove`` it, move it ``up``/``down``."""
    current = own_preferences(session, teacher_id)
    order = reorder(current, school_id.strip(), action, f"preferences of {teacher_id}")
    if order == current and action == "add":
        raise ValidationError([Problem(f"preferences of {teacher_id}", None, "school_id",
                                       f"{school_id!r} is already on your list")])
    return set_own_preferences(session, teacher_id, order, actor, today) if order != current else current


def own_preferences(session: Session, teacher_id: str) -> list[str]:
    return [p.school_id for p in session.exec(select(TeacherPreferenceRow).where(
        TeacherPreferenceRow.teacher_id == teacher_id).order_by(TeacherPreferenceRow.rank))]


def _teacher(session: Session, teacher_id: str) -> tuple[TeacherRow, PoolEntry]:
    row, entry = session.get(TeacherRow, teacher_id), session.get(PoolEntry, teacher_id)
    if row is None or entry is None:
        raise NotFound(f"teacher {teacher_id!r} does not exist")
    return row, entry


# -- the record ----------------------------------------------------------------------------------------------

def seniority_ranks(session: Session, row: TeacherRow, status: str) -> list[dict[str, object]]:
    """For each of the teacher's certifications: their rank among every teacher of the district holding it
    (most senior first), and for an employed teacher their rank on their school's roster in it."""
    everyone = list(session.exec(select(TeacherRow)))
    roster: list[TeacherRow] = []
    if status == "employed" and row.current_school_id:
        roster = list(session.exec(select(TeacherRow).join(PoolEntry, PoolEntry.teacher_id == TeacherRow.teacher_id)
                                   .where(PoolEntry.status == "employed",
                                          TeacherRow.current_school_id == row.current_school_id)))
    out = []
    for cert in row.certifications.split(";"):
        def holding(rows: list[TeacherRow]) -> list[str]:
            return [t.teacher_id for t in seniority_order([t for t in rows if cert in t.certifications.split(";")])]

        district_list, school_list = holding(everyone), holding(roster)
        out.append({"certification": cert, "district_rank": district_list.index(row.teacher_id) + 1,
                    "district_total": len(district_list),
                    "school_rank": school_list.index(row.teacher_id) + 1 if school_list else None,
                    "school_total": len(school_list) or None})
    return out


def teacher_record(session: Session, teacher_id: str, today: date | None = None) -> dict[str, object]:
    """Everything the teacher's own page shows (and the API returns), about this teacher only."""
    row, entry = _teacher(session, teacher_id)
    schools = {s.school_id: s for s in session.exec(select(SchoolRow).order_by(SchoolRow.school_id))}
    prefs = own_preferences(session, teacher_id)
    honoured = None
    if entry.return_rights and row.former_school_id:
        honoured = school_rules(session, row.former_school_id).honours_return_rights

    def name(sid: str | None) -> str:
        return f"{schools[sid].name} ({sid})" if sid in schools else (sid or "")

    return {
        "teacher_id": row.teacher_id, "name": row.name, "certifications": row.certifications.split(";"),
        "status": entry.status, "seniority_date": row.seniority_date.isoformat(), "tenured": row.tenured,
        "must_place": entry.must_place, "displacement_reason": entry.displacement_reason,
        "current_school": name(row.current_school_id) or None,
        "placed_vacancy_id": entry.placed_vacancy_id,
        "return_rights": ({"school_id": row.former_school_id, "school": name(row.former_school_id),
                           "honoured_by_model": honoured} if entry.return_rights else None),
        "seniority": seniority_ranks(session, row, entry.status),
        "preferences": [{"rank": i + 1, "school_id": sid, "school": name(sid)} for i, sid in enumerate(prefs)],
        "max_wishes": pool_settings.get(session, "max_wishes"),
        "preferences_closed": preferences_closed(session, today),
        "schools": [{"school_id": sid, "school": s.name, "region": s.region, "model": s.model}
                    for sid, s in schools.items() if sid not in prefs],
        "notices": [notice_dict(session, n) for n in notices(session, teacher_id=teacher_id)],
        "explanations": [e.as_dict() for e in explanations(session, teacher_id)],
        "offers": offers(session, teacher_id),
    }


#: A pending offer's answers, by kind: a forced placement is an assignment, which can only be accepted or refused.
OFFER_ANSWERS = {"forced": ("accept", "refuse")}
DEFAULT_OFFER_ANSWERS = ("accept", "decline")


def offers(session: Session, teacher_id: str) -> list[dict[str, object]]:
    """The teacher's offers this season, newest first: school, post, kind, deadline, status, and the answers a
    pending one takes (``staffing.season.respond`` answers the teacher's newest pending offer)."""
    from staffing import season

    season.lapse_due(session)  # an offer past its deadline shows what it became, not "pending"
    rows = season.offers_for_teacher(session, teacher_id)
    newest_pending = max((o.id for o in rows if o.status == "pending"), default=None)
    out = []
    for o in reversed(rows):
        school = session.get(SchoolRow, o.school_id)
        vacancy = session.get(VacancyRow, o.vacancy_id)
        out.append({
            "offer_id": o.id, "run_id": o.run_id, "school_id": o.school_id,
            "school": school.name if school else o.school_id, "vacancy_id": o.vacancy_id,
            "certification": vacancy.certification if vacancy else None, "kind": o.kind,
            "kind_words": KIND_WORDS.get(o.kind, o.kind), "deadline": o.deadline.strftime("%Y-%m-%d %H:%M UTC"),
            "status": o.status, "answered_at": o.answered_at.strftime("%Y-%m-%d %H:%M UTC") if o.answered_at else None,
            "answered_by": o.answered_by,
            "vacated_vacancy_id": o.vacated_vacancy_id,
            "answers": list(OFFER_ANSWERS.get(o.kind, DEFAULT_OFFER_ANSWERS)) if o.id == newest_pending else [],
        })
    return out


def answer_own_offer(session: Session, teacher_id: str, offer_id: int | str, answer: str, actor: str) -> OfferRow:
    """The signed-in teacher answers one of THEIR pending offers.  Another teacher's offer, or one that does not
    exist, is NotFound (its existence is not disclosed); an offer no longer pending is a SeasonError."""
    from staffing import season

    try:
        oid = int(str(offer_id).strip())
    except ValueError:
        raise NotFound(f"offer {offer_id!r} is not one of your offers") from None
    offer = session.get(OfferRow, oid)
    if offer is None or offer.teacher_id != teacher_id:
        raise NotFound(f"offer {oid} is not one of your offers")
    season.lapse_due(session)
    session.refresh(offer)
    pending = [o for o in season.offers_for_teacher(session, teacher_id) if o.status == "pending"]
    if offer.status != "pending" or not pending or pending[-1].id != offer.id:
        raise season.SeasonError(f"your offer of {offer.vacancy_id} is {offer.status} and can no longer be answered")
    answered = season.respond(session, teacher_id, answer, actor)
    assert answered.id == offer.id  # respond answers the newest pending offer, checked above
    return answered


# -- why: one explanation per published round ------------------------------------------------------------------

@dataclass
class Explanation:
    run_id: int
    published_at: str
    outcome: str  # placed | unplaced
    school: str | None  # school id
    school_name: str | None
    vacancy_id: str | None
    kind: str
    rule: str  # the placement kind in plain words, or why unplaced
    recorded_reason: str  # the reason the result recorded
    listed: bool  # did the teacher submit a list for that round
    above: list[dict[str, object]] = field(default_factory=list)  # schools ranked above the outcome

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


@lru_cache(maxsize=2)
def _instance(run_id: int, snapshot_hash: str, snapshot: bytes, policy_json: str) -> Instance:
    """The run's own snapshot and rules (cached: a district's takes seconds to rebuild)."""
    import zlib

    return build_instance(District.from_json(zlib.decompress(snapshot).decode()), Policy.from_json(policy_json))


def explanations(session: Session, teacher_id: str) -> list[Explanation]:
    """Newest published round first: where the teacher was placed and by which rule, or why not; and for each
    school they ranked above that outcome, who was placed there instead and the lawful reason."""
    out = []
    runs = session.exec(select(PlacementRun).where(PlacementRun.published_at.is_not(None))  # type: ignore[union-attr]
                        .order_by(PlacementRun.id.desc())).all()  # type: ignore[union-attr]
    for run in runs:
        mine = session.exec(select(Placement).where(Placement.run_id == run.id,
                                                    Placement.teacher_id == teacher_id)).first()
        if mine is None:
            continue  # not in that round's pool
        inst = _instance(run.id, run.snapshot_hash, run.snapshot, run.policy_json)
        out.append(_explain(session, inst, run, mine))
    return out


def _explain(session: Session, inst: Instance, run: PlacementRun, mine: Placement) -> Explanation:
    district, tid = inst.district, mine.teacher_id
    me = district.teachers[tid]
    listed = inst.has_list(tid)
    placed = mine.vacancy_id is not None
    rule = KIND_WORDS.get(mine.kind, mine.reason) if placed else f"not placed: {mine.reason}"
    school = district.schools.get(mine.school_id or "")
    expl = Explanation(run.id, run.published_at.strftime("%Y-%m-%d %H:%M UTC") if run.published_at else "",
                       "placed" if placed else "unplaced", mine.school_id, school.name if school else None,
                       mine.vacancy_id, mine.kind, rule, mine.reason, listed)
    if not listed:
        return expl
    ranked = sorted(inst.prefs[tid].items(), key=lambda kv: kv[1])
    my_level = inst.level(tid, mine.school_id)
    occupants = {p.vacancy_id: p for p in session.exec(select(Placement).where(
        Placement.run_id == run.id, Placement.vacancy_id.is_not(None)))}  # type: ignore[union-attr]
    for sid, level in ranked:
        if level >= my_level or sid not in district.schools:
            continue
        posts = []
        for v in sorted((v for v in district.vacancies.values() if v.school_id == sid), key=lambda v: v.vacancy_id):
            occ = occupants.get(v.vacancy_id)
            occupant = district.teachers.get(occ.teacher_id) if occ else None
            posts.append({"vacancy_id": v.vacancy_id, "certification": v.certification,
                          "placed": occupant.name + f" ({occupant.teacher_id})" if occupant else None,
                          "placed_by": OCCUPANT_KIND_WORDS.get(occ.kind, occ.kind) if occ else None,
                          "reason": why_not(inst, me, v.vacancy_id, occ.teacher_id if occ else None)})
        expl.above.append({"school_id": sid, "school": district.schools[sid].name, "your_rank": level,
                           "model": district.schools[sid].model, "posts": posts})
    return expl


def why_not(inst: Instance, me, vacancy_id: str, occupant_id: str | None) -> str:
    """The lawful reason this post did not go to ``me``, in plain words."""
    v = inst.district.vacancies[vacancy_id]
    if v.certification not in me.certifications:
        return f"certification: the post is in {v.certification}; you hold {', '.join(me.certifications)}"
    group = inst.vacancy_group.get(vacancy_id)
    if group is None:  # only posts the district fills have a group
        return (f"the school fills its own posts outside the district's placement rounds "
                f"({inst.school_rules(v.school_id).model.replace('_', ' ')})")
    rules = group.rules
    if not inst.kinds(me, group):
        if rules.mutual_consent:
            return f"committee ranking: the committee did not rank you ({rules.model} hires by mutual consent)"
        return "no rule allows placing you here"
    if occupant_id is None:
        return ("left open: the round found no lawful way to give it to you without breaking a rule or leaving a "
                "higher-priority outcome worse (must-place teachers first, then the reserve cost, then preferences)")
    occ = inst.teachers[occupant_id]
    if rules.seniority_order:
        mine, theirs = inst.priority_class(me, v.school_id), inst.priority_class(occ, v.school_id)
        if theirs < mine:
            return (f"seniority class: they are in class ({'abcd'[theirs]}) {CLASS_NAMES[theirs]}, ahead of your "
                    f"class ({'abcd'[mine]}) {CLASS_NAMES[mine]}")
        if theirs == mine and occ.seniority_key < me.seniority_key:
            return (f"seniority: same class, and they are more senior (since {occ.seniority_date.isoformat()}; "
                    f"you since {me.seniority_date.isoformat()})")
        return lawful_reason(inst, me.teacher_id, occupant_id, vacancy_id)
    theirs_rank, mine_rank = group.ranking.get(occupant_id), group.ranking.get(me.teacher_id)
    if theirs_rank is not None and mine_rank is not None:
        return (f"committee ranking: the committee ranked them {theirs_rank} and you {mine_rank} "
                f"({rules.model} hires by mutual consent, not seniority)")
    return f"model exempt from seniority: {rules.model} fills its posts by consent, not seniority"


def record_json(record: dict[str, object]) -> str:
    return json.dumps(record, default=str)
