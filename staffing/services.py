"""Service layer: every change to the hiring pool goes through here.

Each function validates with the same rules as the bundle importer (:mod:`staffing.validation`), raises
:class:`ValidationError` naming the record and field, writes an :class:`AuditLog` row with before/after, and
runs inside the caller's transaction (use :func:`staffing.db.session_scope`), so a failure writes nothing.
Updates take the ``version`` the caller read; a stale version raises :class:`StaleVersion` instead of
silently overwriting someone else's change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, SQLModel, select

from staffing.db_models import (
    BallotRow,
    CertificationRow,
    CommitteeMemberRow,
    InterviewRow,
    PoolEntry,
    PoolStatusChange,
    RankingRow,
    SchoolModelRule,
    SchoolRow,
    TeacherPreferenceRow,
    TeacherRow,
    UserRow,
    VacancyRow,
)
from staffing.audit_trail import log_change  # re-exported: the services' callers record through it too
from staffing.committee import NoDecision, committee_ranking
from staffing.domain import STATUSES, CommitteeMember, Interview, Preference, Ranking, Teacher, Vacancy
from staffing.rules import ModelRules, committee_composition_problems, school_rules
from staffing.store import school_of_row
from staffing.validation import (
    FieldProblem,
    Problem,
    ValidationError,
    check_committee_member,
    check_interview,
    check_preference,
    check_ranking,
    check_teacher,
    check_vacancy,
)


class StaleVersion(Exception):
    """The record changed since the caller read it: reload and retry rather than overwrite."""


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class _Ids:
    """A container view of one table's primary keys, so the validation rules can ask ``x in ids``."""

    session: Session
    table: type[SQLModel]

    def __contains__(self, key: object) -> bool:
        return key is not None and self.session.get(self.table, key) is not None


@dataclass(frozen=True)
class _InPool:
    """The teachers a committee may rank or interview: pool entries that are not ``employed`` on a roster."""

    session: Session

    def __contains__(self, key: object) -> bool:
        entry = None if key is None else self.session.get(PoolEntry, key)
        return entry is not None and entry.status != "employed"


def _fail(where: str, problems: list[FieldProblem]) -> None:
    if problems:
        raise ValidationError([Problem(where, None, fld, msg) for fld, msg in problems])


def _dump(row: SQLModel | None) -> str | None:
    return None if row is None else json.dumps(row.model_dump(), default=str, sort_keys=True)



def _bump(row: Any, expected_version: int | None, what: str) -> None:
    if expected_version is not None and row.version != expected_version:
        raise StaleVersion(f"{what} was changed by someone else (version {row.version}, you had "
                           f"{expected_version}); reload and try again")
    row.version += 1


# -- teachers and the pool -----------------------------------------------------------------------------------

def add_teacher(session: Session, teacher: Teacher, actor: str, today: date | None = None) -> None:
    where = f"teacher {teacher.teacher_id}"
    problems = check_teacher(teacher, _Ids(session, SchoolRow), _Ids(session, CertificationRow),
                             today or date.today())
    if session.get(TeacherRow, teacher.teacher_id) is not None:
        problems.append(("teacher_id", f"duplicate id {teacher.teacher_id!r}: a teacher with this id exists"))
    _fail(where, problems)
    row = TeacherRow(teacher_id=teacher.teacher_id, name=teacher.name, certifications=";".join(teacher.certifications),
                     seniority_date=teacher.seniority_date, salary=teacher.salary,
                     current_school_id=teacher.current_school_id, former_school_id=teacher.former_school_id)
    entry = PoolEntry(teacher_id=teacher.teacher_id, status=teacher.status, must_place=teacher.must_place,
                      return_rights=teacher.return_rights, displacement_reason=teacher.displacement_reason)
    session.add(row)
    session.flush()  # the teacher row first: the pool entry and its history refer to it
    session.add(entry)
    session.add(PoolStatusChange(teacher_id=teacher.teacher_id, changed_by=actor, to_status=teacher.status,
                                 must_place=teacher.must_place, return_rights=teacher.return_rights,
                                 note="added to pool"))
    session.flush()
    log_change(session, actor, "add", "teacher", teacher.teacher_id, None, _dump(row))


def update_teacher(session: Session, teacher_id: str, actor: str, expected_version: int | None = None,
                   today: date | None = None, **changes: Any) -> TeacherRow:
    """Change a teacher's record (name, certifications, seniority date, salary, schools)."""
    row = session.get(TeacherRow, teacher_id)
    entry = session.get(PoolEntry, teacher_id)
    if row is None or entry is None:
        raise NotFound(f"teacher {teacher_id!r} does not exist")
    allowed = {"name", "certifications", "seniority_date", "salary", "current_school_id", "former_school_id"}
    unknown = set(changes) - allowed
    _fail(f"teacher {teacher_id}", [(f, "cannot be changed here") for f in sorted(unknown)])
    before = _dump(row)
    current = {"name": row.name, "certifications": tuple(row.certifications.split(";")),
               "seniority_date": row.seniority_date, "salary": row.salary,
               "current_school_id": row.current_school_id, "former_school_id": row.former_school_id}
    current.update(changes)
    current["certifications"] = tuple(sorted(current["certifications"]))
    candidate = Teacher(teacher_id=teacher_id, status=entry.status, must_place=entry.must_place,  # type: ignore[arg-type]
                        return_rights=entry.return_rights, **current)
    _fail(f"teacher {teacher_id}", check_teacher(candidate, _Ids(session, SchoolRow),
                                                 _Ids(session, CertificationRow), today or date.today()))
    _bump(row, expected_version, f"teacher {teacher_id}")
    for key, value in current.items():
        setattr(row, key, ";".join(value) if key == "certifications" else value)
    session.add(row)
    session.flush()
    log_change(session, actor, "update", "teacher", teacher_id, before, _dump(row))
    return row


def set_pool_status(session: Session, teacher_id: str, actor: str, status: str, must_place: bool,
                    return_rights: bool, displacement_reason: str | None = None, note: str = "",
                    expected_version: int | None = None) -> PoolEntry:
    """Move a teacher to another pool status; the change is appended to the status history."""
    entry = session.get(PoolEntry, teacher_id)
    teacher = session.get(TeacherRow, teacher_id)
    if entry is None or teacher is None:
        raise NotFound(f"teacher {teacher_id!r} is not in the pool")
    problems: list[FieldProblem] = []
    if status not in STATUSES:
        problems.append(("status", f"must be one of {', '.join(STATUSES)}, got {status!r}"))
    if return_rights and not teacher.former_school_id:
        problems.append(("return_rights", "the teacher has no former school to return to"))
    _fail(f"pool entry {teacher_id}", problems)
    before = _dump(entry)
    _bump(entry, expected_version, f"pool entry {teacher_id}")
    session.add(PoolStatusChange(teacher_id=teacher_id, changed_by=actor, from_status=entry.status,
                                 to_status=status, must_place=must_place, return_rights=return_rights, note=note))
    entry.status, entry.must_place, entry.return_rights = status, must_place, return_rights
    entry.displacement_reason = displacement_reason
    session.add(entry)
    session.flush()
    log_change(session, actor, "update", "pool_entry", teacher_id, before, _dump(entry))
    return entry


def set_preferences(session: Session, teacher_id: str, school_ids: Sequence[str], actor: str) -> None:
    """Replace a teacher's ranked list of schools (first = most wanted; empty = every school acceptable)."""
    problems: list[FieldProblem] = []
    teachers, schools = _Ids(session, TeacherRow), _Ids(session, SchoolRow)
    if len(set(school_ids)) != len(school_ids):
        problems.append(("school_id", "a school appears twice in the list"))
    for rank, sid in enumerate(school_ids, start=1):
        problems += check_preference(Preference(teacher_id, sid, rank), teachers, schools)
    _fail(f"preferences of {teacher_id}", problems)
    _replace_ranked(session, TeacherPreferenceRow, "teacher_id", teacher_id, "school_id", school_ids, actor,
                    "preferences")


def _replace_ranked(session: Session, row_type: type, owner_field: str, owner: str, item_field: str,
                    items: Sequence[str], actor: str, entity: str) -> None:
    """Replace an owner's ranked list (rank = position, 1 first) and log it before and after: a teacher's
    preferences and a committee's ranking are both such lists, and both must be replaced whole, never merged."""
    owner_column = getattr(row_type, owner_field)
    before = [getattr(r, item_field) for r in session.exec(
        select(row_type).where(owner_column == owner).order_by(row_type.rank))]  # type: ignore[attr-defined]
    session.execute(delete(row_type).where(owner_column == owner))
    for rank, item in enumerate(items, start=1):
        session.add(row_type(**{owner_field: owner, item_field: item, "rank": rank}))
    session.flush()
    log_change(session, actor, "replace", entity, owner, json.dumps(before), json.dumps(list(items)))


# -- vacancies, committees, interviews, rankings ----------------------------------------------------------

def add_vacancy(session: Session, vacancy: Vacancy, actor: str) -> None:
    problems = check_vacancy(vacancy, _Ids(session, SchoolRow), _Ids(session, CertificationRow))
    if session.get(VacancyRow, vacancy.vacancy_id) is not None:
        problems.append(("vacancy_id", f"duplicate id {vacancy.vacancy_id!r}: a vacancy with this id exists"))
    _fail(f"vacancy {vacancy.vacancy_id}", problems)
    row = VacancyRow(vacancy_id=vacancy.vacancy_id, school_id=vacancy.school_id,
                     certification=vacancy.certification, fte=vacancy.fte)
    session.add(row)
    session.flush()
    log_change(session, actor, "add", "vacancy", vacancy.vacancy_id, None, _dump(row))


def set_vacancy_status(session: Session, vacancy_id: str, status: str, actor: str,
                       expected_version: int | None = None) -> VacancyRow:
    row = session.get(VacancyRow, vacancy_id)
    if row is None:
        raise NotFound(f"vacancy {vacancy_id!r} does not exist")
    _fail(f"vacancy {vacancy_id}", [] if status in ("open", "filled", "cancelled")
          else [("status", f"must be open, filled or cancelled, got {status!r}")])
    before = _dump(row)
    _bump(row, expected_version, f"vacancy {vacancy_id}")
    row.status = status
    session.add(row)
    session.flush()
    log_change(session, actor, "update", "vacancy", vacancy_id, before, _dump(row))
    return row


def add_committee_member(session: Session, member: CommitteeMember, actor: str) -> None:
    _fail(f"committee of {member.school_id}", check_committee_member(member, _Ids(session, SchoolRow)))
    row = CommitteeMemberRow(school_id=member.school_id, member=member.member, role=member.role)
    session.add(row)
    session.flush()
    log_change(session, actor, "add", "committee_member", str(row.id), None, _dump(row))


def record_interview(session: Session, interview: Interview, actor: str, today: date | None = None) -> None:
    problems = check_interview(interview, _Ids(session, VacancyRow), _InPool(session), today or date.today())
    _fail(f"interview for {interview.vacancy_id}", problems)
    row = InterviewRow(vacancy_id=interview.vacancy_id, teacher_id=interview.teacher_id, held_on=interview.date)
    session.add(row)
    session.flush()
    log_change(session, actor, "add", "interview", str(row.id), None, _dump(row))


def _check_candidates(session: Session, vacancy_id: str, teacher_ids: Sequence[str], where: str, on: str) -> None:
    """A ranked list of candidates (the committee's or a member's ballot): each once, each a pool teacher."""
    problems: list[FieldProblem] = []
    vacancies, pool = _Ids(session, VacancyRow), _InPool(session)
    if len(set(teacher_ids)) != len(teacher_ids):
        problems.append(("teacher_id", f"a candidate appears twice {on}"))
    for rank, tid in enumerate(teacher_ids, start=1):
        problems += check_ranking(Ranking(vacancy_id, tid, rank), vacancies, pool)
    _fail(where, problems)


def lock_vacancy(session: Session, vacancy_id: str) -> VacancyRow:
    """Lock a vacancy row for the rest of the transaction: edits of its ranking happen one after another."""
    row = session.exec(select(VacancyRow).where(VacancyRow.vacancy_id == vacancy_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"vacancy {vacancy_id!r} does not exist")
    return row


def school_rules_in_db(session: Session, school_id: str) -> ModelRules:
    """A school's effective rules (model row, city rules, waivers) as the database holds them."""
    school = session.get(SchoolRow, school_id)
    if school is None:
        raise NotFound(f"school {school_id!r} does not exist")
    models = {r.model: ModelRules.from_dict(r.model_dump()) for r in session.exec(select(SchoolModelRule))}
    s = school_of_row(school)
    return school_rules(models, s.model, s.city, s.waivers)


def set_rankings(session: Session, vacancy_id: str, teacher_ids: Sequence[str], actor: str,
                 expected_version: int | None = None, decided: bool = False) -> int:
    """Replace the committee's ranking for a vacancy: the order given is the rank; unlisted = not acceptable.

    The vacancy row is locked and its version bumped, so two committee members saving at once are applied one
    after the other, and a save based on a stale screen (``expected_version``) is refused.  Returns the new
    version.  At a consensus school the ranking is only ever the committee's decision (``decided``, from
    :func:`adopt_committee_decision`): nobody, the principal included, may edit it directly.
    """
    _check_candidates(session, vacancy_id, teacher_ids, f"ranking of {vacancy_id}", "in the ranking")
    if not decided:
        vacancy_row = session.get(VacancyRow, vacancy_id)
        rules = school_rules_in_db(session, vacancy_row.school_id)  # type: ignore[union-attr]
        if rules.committee_rule == "consensus":
            _fail(f"ranking of {vacancy_id}", [("ranking", f"{rules.model} selects by consensus: the ranking is "
                                                           "the committee's decision from its members' ballots, "
                                                           "not edited directly")])
    vacancy = lock_vacancy(session, vacancy_id)
    _bump(vacancy, expected_version, f"the ranking of {vacancy_id}")
    session.add(vacancy)
    _replace_ranked(session, RankingRow, "vacancy_id", vacancy_id, "teacher_id", teacher_ids, actor, "ranking")
    return vacancy.version


def reorder(order: Sequence[str], teacher_id: str, action: str, where: str) -> list[str]:
    """One click on a ranking screen: ``add`` (to the end), ``remove``, ``up`` or ``down``."""
    new = list(order)
    if action not in ("add", "remove", "up", "down"):
        _fail(where, [("action", f"must be add, remove, up or down, got {action!r}")])
    if action == "add" and teacher_id not in new:
        new.append(teacher_id)
    elif action == "remove" and teacher_id in new:
        new.remove(teacher_id)
    elif action in ("up", "down") and teacher_id in new:
        i = new.index(teacher_id)
        j = i - 1 if action == "up" else i + 1
        if 0 <= j < len(new):
            new[i], new[j] = new[j], new[i]
    return new


def move_in_ranking(session: Session, vacancy_id: str, teacher_id: str, action: str, actor: str) -> list[str]:
    """One click on the committee's ranking.

    The click is applied to the ranking as it is *now* (read under the vacancy's lock), so two members
    clicking at once both take effect instead of one overwriting the other.
    """
    lock_vacancy(session, vacancy_id)
    current = [r.teacher_id for r in session.exec(
        select(RankingRow).where(RankingRow.vacancy_id == vacancy_id).order_by(RankingRow.rank))]
    order = reorder(current, teacher_id, action, f"ranking of {vacancy_id}")
    if order != current:
        set_rankings(session, vacancy_id, order, actor)
    return order


# -- committee members' ballots -------------------------------------------------------------------------------

def ballots(session: Session, vacancy_id: str) -> dict[str, list[str]]:
    """Every ballot cast for a vacancy: voter -> candidates, best first."""
    out: dict[str, list[str]] = {}
    for row in session.exec(select(BallotRow).where(BallotRow.vacancy_id == vacancy_id)
                            .order_by(BallotRow.voter, BallotRow.rank)):
        out.setdefault(row.voter, []).append(row.teacher_id)
    return out


def set_ballot(session: Session, vacancy_id: str, voter: str, teacher_ids: Sequence[str], actor: str) -> None:
    """Replace one member's ballot; the same checks as the committee's ranking."""
    _check_candidates(session, vacancy_id, teacher_ids, f"ballot of {voter} for {vacancy_id}", "on the ballot")
    lock_vacancy(session, vacancy_id)
    before = ballots(session, vacancy_id).get(voter, [])
    session.execute(delete(BallotRow).where(BallotRow.vacancy_id == vacancy_id, BallotRow.voter == voter))
    for rank, tid in enumerate(teacher_ids, start=1):
        session.add(BallotRow(vacancy_id=vacancy_id, voter=voter, teacher_id=tid, rank=rank))
    session.flush()
    log_change(session, actor, "replace", "ballot", f"{vacancy_id}/{voter}", json.dumps(before),
               json.dumps(list(teacher_ids)))


def move_in_ballot(session: Session, vacancy_id: str, voter: str, teacher_id: str, action: str) -> list[str]:
    """One click on a member's own ballot, applied under the vacancy's lock like the committee's ranking."""
    lock_vacancy(session, vacancy_id)
    current = ballots(session, vacancy_id).get(voter, [])
    order = reorder(current, teacher_id, action, f"ballot of {voter} for {vacancy_id}")
    if order != current:
        set_ballot(session, vacancy_id, voter, order, actor=voter)
    return order


def committee_decision(session: Session, vacancy_id: str) -> tuple[str, list[str]]:
    """(rule, ranking) the committee's rule gives from the ballots cast; raises NoDecision if it cannot."""
    vacancy = session.get(VacancyRow, vacancy_id)
    if vacancy is None:
        raise NotFound(f"vacancy {vacancy_id!r} does not exist")
    rules = school_rules_in_db(session, vacancy.school_id)
    roster = session.exec(select(CommitteeMemberRow).where(CommitteeMemberRow.school_id == vacancy.school_id)).all()
    missing = committee_composition_problems(rules, [m.role for m in roster])
    if missing:
        raise NoDecision(f"the committee of {vacancy.school_id} lacks {', '.join(missing)}: a {rules.model} "
                         f"committee must include {', '.join(rules.committee_roles)}")
    principals = {u.username for u in session.exec(select(UserRow).where(
        UserRow.school_id == vacancy.school_id, UserRow.role == "principal"))}
    return rules.committee_rule, committee_ranking(rules.committee_rule, ballots(session, vacancy_id), principals,
                                                   roster=len(roster))


def adopt_committee_decision(session: Session, vacancy_id: str, actor: str) -> list[str]:
    """Make the committee's ranking what its rule decides from the members' ballots (audited like any edit)."""
    _, ranking = committee_decision(session, vacancy_id)
    set_rankings(session, vacancy_id, ranking, actor, decided=True)
    return ranking
