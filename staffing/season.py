"""The staffing season (RULES.md, *The season*): rounds that continue on what is still open.

Publishing a lawful, current round turns its placements into offers; a pending or accepted offer holds its
teacher and post, a declined or lapsed one frees the post and is never offered again; a voluntary transfer
who accepts elsewhere vacates their post (vacancy chain).  The season decides what goes into each round's
snapshot and policy (:func:`prepare_round`); the solver stays a pure function of them.  Every event is
written to the audit trail.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlmodel import Session, select

from solver.checker import check
from solver.policy import Policy, RuleOverride
from staffing.db_models import (
    AuditLog,
    InterviewRow,
    OfferRow,
    PlacementRun,
    PoolEntry,
    PoolStatusChange,
    RankingRow,
    SeasonRow,
    TeacherPreferenceRow,
    TeacherRow,
    VacancyRow,
    utcnow,
)
from staffing.domain import Vacancy
from staffing.services import NotFound, add_vacancy, log_change

#: The season's phases, in the only order they may go (RULES.md).
PHASES: tuple[str, ...] = ("preferences", "interviews", "mutual_consent", "forced_placement", "closed")
OFFER_STATUSES: tuple[str, ...] = ("pending", "accepted", "declined", "lapsed", "refused")
#: What a pending offer becomes at its deadline (a district setting); a forced one is always accepted.
UNANSWERED: tuple[str, ...] = ("lapsed", "accepted")
#: When kind ``forced`` is allowed: every round (today's behaviour), or only in the forced-placement phase.
FORCED_PLACEMENT: tuple[str, ...] = ("any_round", "final_phase")
ANSWERS: tuple[str, ...] = ("accept", "decline", "refuse")
#: Pool statuses whose teachers hold a post they leave when they accept another (vacancy chain).
HOLDS_A_POST: tuple[str, ...] = ("voluntary_transfer", "employed")


class SeasonError(ValueError):
    """A season action that is refused: the message says why; nothing was changed."""


class StaleRun(SeasonError):
    """The data changed since the run's snapshot: publishing it would place teachers on stale data."""


class UnlawfulRun(SeasonError):
    """The independent checker finds rule violations in the run."""


def _aware(moment: datetime) -> datetime:
    """A database may hand back a time without its zone: it is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- settings and phases ---------------------------------------------------------------------------------------

def settings(session: Session) -> SeasonRow:
    """The season's settings row; its defaults until HR first changes something (saved then), so reading the
    season writes nothing."""
    return session.get(SeasonRow, 1) or SeasonRow(id=1)


def configure(session: Session, actor: str, response_days: int | None = None, unanswered: str | None = None,
              forced_placement: str | None = None) -> SeasonRow:
    """Change the district's season settings (audited); a bad value changes nothing."""
    row = settings(session)
    problems = []
    if response_days is not None and not 1 <= response_days <= 365:
        problems.append(f"response days must be between 1 and 365, got {response_days}")
    if unanswered is not None and unanswered not in UNANSWERED:
        problems.append(f"an unanswered offer becomes one of {', '.join(UNANSWERED)}, not {unanswered!r}")
    if forced_placement is not None and forced_placement not in FORCED_PLACEMENT:
        problems.append(f"forced placement must be one of {', '.join(FORCED_PLACEMENT)}, not {forced_placement!r}")
    if problems:
        raise SeasonError("; ".join(problems))
    before = _settings_json(row)
    if response_days is not None:
        row.response_days = response_days
    if unanswered is not None:
        row.unanswered = unanswered
    if forced_placement is not None:
        row.forced_placement = forced_placement
    row.version += 1
    session.add(row)
    session.flush()
    log_change(session, actor, "configure", "season", "1", before, _settings_json(row))
    return row


def _settings_json(row: SeasonRow) -> str:
    return json.dumps({"phase": row.phase, "response_days": row.response_days, "unanswered": row.unanswered,
                       "forced_placement": row.forced_placement}, sort_keys=True)


def advance_phase(session: Session, to: str | None, actor: str) -> SeasonRow:
    """Move the season to phase ``to`` (None: the next one); a season never goes back."""
    row = settings(session)
    at = PHASES.index(row.phase)
    if to is None:
        if row.phase == "closed":
            raise SeasonError("the season is closed: there is no phase after it")
        to = PHASES[at + 1]
    if to not in PHASES:
        raise SeasonError(f"unknown phase {to!r}: the phases are {' -> '.join(PHASES)}")
    if PHASES.index(to) <= at:
        raise SeasonError(f"the season is in phase {row.phase}; it cannot go back or stay ({to} is not after it): "
                          f"the phases are {' -> '.join(PHASES)}")
    before = _settings_json(row)
    row.phase, row.version = to, row.version + 1
    session.add(row)
    session.flush()
    log_change(session, actor, "advance", "season", "1", before, _settings_json(row))
    return row


def forced_allowed(row: SeasonRow) -> bool:
    return row.forced_placement == "any_round" or row.phase == "forced_placement"


def prepare_round(session: Session, policy: Policy, actor: str, now: datetime | None = None) -> Policy:
    """Before a round's snapshot is taken: lapse what is due, refuse a closed season, and keep kind ``forced``
    out of the round's rules unless this phase allows it (by a rule override the run records)."""
    lapse_due(session, now)
    row = settings(session)
    if row.phase == "closed":
        raise SeasonError("the season is closed: no more placement rounds")
    if forced_allowed(row):
        return policy
    no_forced = RuleOverride({"accepts_must_place": False}, models=("*",))
    return policy.with_(overrides=(*policy.overrides, no_forced),
                        description=f"{policy.description} Season phase {row.phase}: no forced placement before the "
                                    "forced-placement phase (forced_placement = final_phase).")


# -- publishing ------------------------------------------------------------------------------------------------

def publish(session: Session, run_id: int, actor: str, now: datetime | None = None) -> tuple[PlacementRun, list[OfferRow]]:
    """Publish a round: only a finished run with 0 checker violations whose snapshot is still current; its
    placements become pending offers with the season's response deadline."""
    from staffing.runs import PoolChanged, get_run, publish_run, run_snapshot, stored_result
    from staffing.store import load_district

    now = now or utcnow()
    lapse_due(session, now)
    row = settings(session)
    run = get_run(session, run_id)
    if row.phase == "closed":
        raise SeasonError("the season is closed: nothing more can be published")
    if run.status != "done":
        raise SeasonError(f"run {run_id} is {run.status}; only a finished run can be published")
    if run.published_at is not None:
        raise SeasonError(f"run {run_id} was already published by {run.published_by} on "
                          f"{_aware(run.published_at):%Y-%m-%d %H:%M} UTC; run a new round for what is still open")
    district, policy = run_snapshot(run)
    violations = check(district, stored_result(session, run).assignments, policy)
    if violations:
        first = violations[0]
        raise UnlawfulRun(f"run {run_id} breaks the rules {len(violations)} time(s) (e.g. {first.rule} "
                          f"{first.teacher_id}: {first.detail}); only a run with 0 violations can be published")
    if load_district(session).snapshot_hash() != run.snapshot_hash:
        raise StaleRun(f"run {run_id} is stale: the pool, the vacancies, the rankings or the offers changed since "
                       "it was made; run a new round")
    try:
        run, newly = publish_run(session, run_id, actor)
    except PoolChanged as exc:
        raise StaleRun(str(exc)) from None
    if not newly:
        raise SeasonError(f"run {run_id} was already published by {run.published_by}")
    deadline = now + timedelta(days=row.response_days)
    offers = [OfferRow(run_id=run_id, teacher_id=a.teacher_id, vacancy_id=a.vacancy_id, school_id=a.school_id,
                       kind=a.kind, status="pending", created_at=now, deadline=deadline)
              for a in stored_result(session, run).assignments if a.vacancy_id]
    session.add_all(offers)
    session.flush()
    log_change(session, actor, "offer", "placement_run", str(run_id), None,
               json.dumps({"offers": len(offers), "deadline": deadline.isoformat(), "phase": row.phase}))
    return run, offers


# -- answers ---------------------------------------------------------------------------------------------------

def offers_for_teacher(session: Session, teacher_id: str) -> list[OfferRow]:
    """Every offer a teacher has had this season, oldest first."""
    return list(session.exec(select(OfferRow).where(OfferRow.teacher_id == teacher_id).order_by(OfferRow.id)))


def respond(session: Session, teacher_id: str, answer: str, actor: str, now: datetime | None = None) -> OfferRow:
    """Answer a teacher's pending offer: ``accept`` or ``decline``.  A forced placement cannot be declined: the
    answer ``refuse`` records that the teacher refuses it, and they leave the pool."""
    now = now or utcnow()
    if answer not in ANSWERS:
        raise SeasonError(f"the answer must be one of {', '.join(ANSWERS)}, got {answer!r}")
    if session.get(TeacherRow, teacher_id) is None:
        raise NotFound(f"teacher {teacher_id!r} does not exist")
    lapse_due(session, now)
    offers = offers_for_teacher(session, teacher_id)
    pending = [o for o in offers if o.status == "pending"]
    if not pending:
        last = (f"; their last offer ({offers[-1].vacancy_id}, run {offers[-1].run_id}) is {offers[-1].status}"
                if offers else "")
        raise SeasonError(f"teacher {teacher_id} has no pending offer to answer{last}")
    offer = pending[-1]
    if offer.kind == "forced" and answer == "decline":
        raise SeasonError(f"{teacher_id}'s placement at {offer.vacancy_id} is a forced placement: an assignment, "
                          "which cannot be declined; answer 'refuse' to record that the teacher refuses it and "
                          "leaves the pool")
    if offer.kind != "forced" and answer == "refuse":
        raise SeasonError(f"'refuse' is for forced placements; {teacher_id}'s offer at {offer.vacancy_id} is "
                          f"{offer.kind}: answer 'decline'")
    if answer == "accept":
        _accept(session, offer, actor, now)
    else:
        _release(session, offer, "declined" if answer == "decline" else "refused", actor, now)
    return offer


def _answered(session: Session, offer: OfferRow, status: str, actor: str, now: datetime) -> None:
    before = json.dumps({"status": offer.status})
    offer.status, offer.answered_at, offer.answered_by = status, now, actor
    session.add(offer)
    session.flush()
    log_change(session, actor, status, "offer", str(offer.id), before,
               json.dumps({"status": status, "teacher_id": offer.teacher_id, "vacancy_id": offer.vacancy_id,
                           "run_id": offer.run_id, "kind": offer.kind, "vacated": offer.vacated_vacancy_id}))


def _accept(session: Session, offer: OfferRow, actor: str, now: datetime) -> None:
    """Accept: the offer keeps its teacher and post; a teacher who held a post elsewhere vacates it."""
    teacher = session.get(TeacherRow, offer.teacher_id)
    entry = session.get(PoolEntry, offer.teacher_id)
    if teacher is not None and entry is not None and entry.status in HOLDS_A_POST and teacher.current_school_id \
            and teacher.current_school_id != offer.school_id:
        vid = _chain_id(session, teacher.teacher_id)
        cert = sorted(teacher.certifications.split(";"))[0]
        add_vacancy(session, Vacancy(vid, teacher.current_school_id, cert), actor)
        offer.vacated_vacancy_id = vid
    session.add(PoolStatusChange(teacher_id=offer.teacher_id, changed_by=actor, to_status=entry.status if entry else "",
                                 note=f"accepted {offer.vacancy_id} ({offer.kind}, run {offer.run_id})"))
    _answered(session, offer, "accepted", actor, now)


def _chain_id(session: Session, teacher_id: str) -> str:
    """A new vacancy's id for the post a teacher vacates: ``VC-<teacher>`` (``-2``, ``-3`` if taken)."""
    base, n = f"VC-{teacher_id}", 1
    vid = base
    while session.get(VacancyRow, vid) is not None:
        n += 1
        vid = f"{base}-{n}"
    return vid


def _release(session: Session, offer: OfferRow, status: str, actor: str, now: datetime) -> None:
    """Declined, lapsed or refused: the post reopens; the teacher returns to the pool (refused: leaves it)."""
    session.execute(update(VacancyRow).where(VacancyRow.vacancy_id == offer.vacancy_id)
                    .values(status="open", version=VacancyRow.version + 1))
    entry = session.get(PoolEntry, offer.teacher_id)
    if entry is not None and entry.placed_vacancy_id == offer.vacancy_id:
        entry.placed_vacancy_id, entry.version = None, entry.version + 1
        session.add(entry)
    note = (f"refused the forced placement at {offer.vacancy_id} (run {offer.run_id}): left the pool"
            if status == "refused" else f"{status} {offer.vacancy_id} (run {offer.run_id}): back in the pool")
    session.add(PoolStatusChange(teacher_id=offer.teacher_id, changed_by=actor,
                                 from_status=entry.status if entry else None,
                                 to_status=entry.status if entry else status, note=note))
    _answered(session, offer, status, actor, now)


def lapse_due(session: Session, now: datetime | None = None, actor: str = "deadline") -> list[OfferRow]:
    """Settle every pending offer whose deadline has passed: a forced one is accepted (an assignment), any
    other becomes what the district's setting says (lapsed, freeing the post, or accepted)."""
    now = _aware(now or utcnow())
    row = settings(session)
    due = list(session.exec(select(OfferRow).where(OfferRow.status == "pending", OfferRow.deadline <= now)
                            .order_by(OfferRow.id)))
    for offer in due:
        if offer.kind == "forced" or row.unanswered == "accepted":
            _accept(session, offer, actor, now)
        else:
            _release(session, offer, "lapsed", actor, now)
    return due


# -- what the season looks like --------------------------------------------------------------------------------

@dataclass
class SeasonState:
    phase: str
    response_days: int
    unanswered: str
    forced_placement: str
    forced_allowed: bool
    rounds: list[dict] = field(default_factory=list)  # published runs: id, published_at/by, offers
    offers_by_status: dict[str, int] = field(default_factory=dict)
    open_posts: int = 0
    pool_by_status: dict[str, int] = field(default_factory=dict)
    must_place_unplaced: list[str] = field(default_factory=list)
    left_pool: list[str] = field(default_factory=list)
    pending: list[OfferRow] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {k: v for k, v in vars(self).items() if k != "pending"}
        out["pending"] = [o.model_dump(mode="json") for o in self.pending]
        return out


def state(session: Session) -> SeasonState:
    """The season at a glance: phase, rounds, offers by status, open posts, the pool by status and the
    must-place teachers still unplaced.  Reads only (call :func:`lapse_due` first to settle deadlines)."""
    from staffing.store import left_pool

    row = settings(session)
    offers = list(session.exec(select(OfferRow).order_by(OfferRow.id)))
    per_run = Counter(o.run_id for o in offers)
    rounds = [{"run_id": r.id, "published_at": r.published_at, "published_by": r.published_by,
               "scenario": r.scenario, "offers": per_run.get(r.id, 0)}  # type: ignore[arg-type]
              for r in session.exec(select(PlacementRun).where(PlacementRun.published_at.is_not(None))  # type: ignore[union-attr]
                                    .order_by(PlacementRun.id))]
    gone = left_pool(session)
    P = PoolEntry  # plain tuples: a state's pool is tens of thousands of rows
    pool = [(tid, status, must_place) for tid, status, must_place, placed in session.execute(
        select(P.teacher_id, P.status, P.must_place, P.placed_vacancy_id).order_by(P.teacher_id))
        if placed is None and tid not in gone]
    open_posts = len(list(session.exec(select(VacancyRow.vacancy_id).where(VacancyRow.status == "open"))))
    return SeasonState(
        phase=row.phase, response_days=row.response_days, unanswered=row.unanswered,
        forced_placement=row.forced_placement, forced_allowed=forced_allowed(row), rounds=rounds,
        offers_by_status={s: n for s in OFFER_STATUSES if (n := sum(o.status == s for o in offers))},
        open_posts=open_posts,
        pool_by_status=dict(sorted(Counter(status for _, status, _ in pool).items())),
        must_place_unplaced=[tid for tid, _, must_place in pool if must_place],
        left_pool=sorted(gone), pending=[o for o in offers if o.status == "pending"])


# -- run labels ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunLabel:
    """How a run stands in the season: ``draft`` (current, publishable if lawful), ``published``, ``stale`` (the
    data changed since it was made), ``superseded`` (made before the latest publication), or the run's own
    ``running``/``failed``."""

    status: str
    lawful: bool | None  # None until the run has finished

    @property
    def text(self) -> str:
        lawful = "" if self.lawful is None else (" · lawful" if self.lawful else " · breaks rules")
        return self.status + lawful


#: The pool's snapshot hash as last computed, per database, with the fingerprint it was computed at.
_CURRENT_HASH: dict[str, tuple[tuple, str]] = {}


def current_snapshot_hash(session: Session) -> str:
    """The hash of the pool as a round would see it now, for labels (a draft whose snapshot differs is stale).

    Loading and hashing a state's pool takes tens of seconds, so it is recomputed only when the data may have
    changed: a new audit-trail entry (every change writes one) or a row count that moved.  Publishing compares
    the full hash itself, never this one."""
    from sqlalchemy import func

    from staffing.store import load_district

    fingerprint = (session.exec(select(func.max(AuditLog.id))).one(),
                   *(session.exec(select(func.count()).select_from(table)).one()
                     for table in (TeacherRow, PoolEntry, VacancyRow, OfferRow, RankingRow, TeacherPreferenceRow,
                                   InterviewRow)))
    key = str(session.get_bind().url)
    if key not in _CURRENT_HASH or _CURRENT_HASH[key][0] != fingerprint:
        _CURRENT_HASH[key] = (fingerprint, load_district(session).snapshot_hash())
    return _CURRENT_HASH[key][1]


def run_labels(session: Session, runs: list[PlacementRun]) -> dict[int, RunLabel]:
    """Every run's label, against the data as it is now (one snapshot taken for all)."""
    current = current_snapshot_hash(session) if any(r.status == "done" and not r.published_at for r in runs) else ""
    latest = max((r.id for r in session.exec(select(PlacementRun).where(PlacementRun.published_at.is_not(None)))  # type: ignore[union-attr]
                  if r.id is not None), default=0)
    out = {}
    for r in runs:
        figures = json.loads(r.figures_json or "{}")
        lawful = None if r.status != "done" else figures.get("rule_violations", 1) == 0
        if r.status != "done":
            status = r.status
        elif r.published_at:
            status = "published"
        elif (r.id or 0) < latest:
            status = "superseded"
        elif r.snapshot_hash != current:
            status = "stale"
        else:
            status = "draft"
        out[r.id] = RunLabel(status, lawful)  # type: ignore[index]
    return out


def latest_published(session: Session) -> PlacementRun | None:
    return session.exec(select(PlacementRun).where(PlacementRun.published_at.is_not(None))  # type: ignore[union-attr]
                        .order_by(PlacementRun.id.desc())).first()  # type: ignore[union-attr]
