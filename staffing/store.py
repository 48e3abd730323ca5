"""Move a whole :class:`District` into and out of the database.

``save_district`` is the import path: one transaction that replaces the district's rows, so a failing import
leaves the previous district untouched.  ``load_district`` builds the solver's snapshot from the database.
Placement runs and the audit log are history and survive a re-import.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert
from sqlmodel import Session, select

from staffing.db_models import (
    BallotRow,
    CertificationRow,
    ExcessDecision,
    ExcessNotice,
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
from staffing.domain import (
    Certification,
    CommitteeMember,
    District,
    Interview,
    Preference,
    Ranking,
    School,
    Teacher,
    Vacancy,
)
from staffing.rules import ModelRules

#: Child tables first, so deletes respect foreign keys.
DISTRICT_TABLES = (BallotRow, UserRow, ExcessNotice, ExcessDecision, TeacherPreferenceRow, RankingRow, InterviewRow, CommitteeMemberRow, PoolStatusChange,
                   PoolEntry, VacancyRow, TeacherRow, SchoolRow, CertificationRow, SchoolModelRule)


class DistrictExists(Exception):
    """The database already holds a district and the caller did not ask to replace it."""


def has_district(session: Session) -> bool:
    return bool(session.exec(select(func.count()).select_from(SchoolRow)).one())


def _bulk(session: Session, table: type, rows: list[dict[str, object]]) -> None:
    """Core inserts in chunks: ORM objects are far too slow for a 5,000-teacher district."""
    for start in range(0, len(rows), 5000):
        chunk = rows[start:start + 5000]
        if chunk:
            session.execute(insert(table), chunk)


def save_district(session: Session, district: District, replace: bool = False, actor: str = "import") -> None:
    """Write ``district`` inside the caller's transaction, replacing what is there only if ``replace``."""
    if has_district(session):
        if not replace:
            raise DistrictExists("the database already holds a district; pass --replace to overwrite it")
        for table in DISTRICT_TABLES:
            session.execute(delete(table))
    _bulk(session, SchoolModelRule, [m.as_dict() for m in district.models.values()])
    _bulk(session, CertificationRow, [{"code": c.code, "name": c.name, "shortage": c.shortage}
                                      for c in district.certifications.values()])
    _bulk(session, SchoolRow, [vars(s) for s in district.schools.values()])
    teachers = list(district.teachers.values())
    _bulk(session, TeacherRow, [
        {"teacher_id": t.teacher_id, "name": t.name, "certifications": ";".join(t.certifications),
         "seniority_date": t.seniority_date, "salary": t.salary, "current_school_id": t.current_school_id,
         "former_school_id": t.former_school_id, "tenured": t.tenured, "rating": t.rating} for t in teachers])
    _bulk(session, PoolEntry, [
        {"teacher_id": t.teacher_id, "status": t.status, "must_place": t.must_place,
         "return_rights": t.return_rights, "displacement_reason": t.displacement_reason} for t in teachers])
    _bulk(session, PoolStatusChange, [
        {"teacher_id": t.teacher_id, "changed_by": actor, "from_status": None, "to_status": t.status,
         "must_place": t.must_place, "return_rights": t.return_rights, "note": "imported"} for t in teachers])
    _bulk(session, VacancyRow, [vars(v) for v in district.vacancies.values()])
    _bulk(session, TeacherPreferenceRow, [vars(p) for p in district.preferences])
    _bulk(session, RankingRow, [vars(r) for r in district.rankings])
    _bulk(session, InterviewRow, [{"vacancy_id": i.vacancy_id, "teacher_id": i.teacher_id, "held_on": i.date}
                                  for i in district.interviews])
    _bulk(session, CommitteeMemberRow, [vars(c) for c in district.committees])


def load_district(session: Session, open_only: bool = True) -> District:
    """The current district as a pure snapshot; a placement round (``open_only``) sees only open vacancies and
    the teachers in the pool (not ``employed`` ones on a roster, nor those a published run placed)."""
    models = {r.model: ModelRules.from_dict(r.model_dump()) for r in session.exec(select(SchoolModelRule))}
    certs = {r.code: Certification(r.code, r.name, r.shortage) for r in session.exec(select(CertificationRow))}
    schools = {r.school_id: School(r.school_id, r.name, r.region, r.model) for r in session.exec(select(SchoolRow))}
    teachers = {}
    for row, pool in session.exec(select(TeacherRow, PoolEntry).join(
            PoolEntry, PoolEntry.teacher_id == TeacherRow.teacher_id)):
        if open_only and (pool.placed_vacancy_id is not None or pool.status == "employed"):
            continue  # placed by a published run, or holding a post on a roster: not in this round's pool
        teachers[row.teacher_id] = Teacher(
            teacher_id=row.teacher_id, name=row.name, certifications=tuple(sorted(row.certifications.split(";"))),
            seniority_date=row.seniority_date, salary=row.salary, status=pool.status,  # type: ignore[arg-type]
            must_place=pool.must_place, return_rights=pool.return_rights, former_school_id=row.former_school_id,
            current_school_id=row.current_school_id, displacement_reason=pool.displacement_reason,
            tenured=row.tenured, rating=row.rating)
    vacancies = {r.vacancy_id: Vacancy(r.vacancy_id, r.school_id, r.certification, r.fte)
                 for r in session.exec(select(VacancyRow)) if r.status == "open" or not open_only}
    return District(
        models=models, schools=schools, teachers=teachers, vacancies=vacancies,
        preferences=[Preference(r.teacher_id, r.school_id, r.rank) for r in session.exec(select(TeacherPreferenceRow))
                     if r.teacher_id in teachers],
        rankings=[Ranking(r.vacancy_id, r.teacher_id, r.rank) for r in session.exec(select(RankingRow))
                  if r.vacancy_id in vacancies and r.teacher_id in teachers],
        interviews=[Interview(r.vacancy_id, r.teacher_id, r.held_on) for r in session.exec(select(InterviewRow))
                    if r.vacancy_id in vacancies and r.teacher_id in teachers],
        committees=[CommitteeMember(r.school_id, r.member, r.role) for r in session.exec(select(CommitteeMemberRow))],
        certifications=certs,
    )
