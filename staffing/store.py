"""Move a whole :class:`District` into and out of the database.

``save_district`` is the import path: one transaction that replaces the district's rows, so a failing import
leaves the previous district untouched.  ``load_district`` builds the solver's snapshot from the database.
Placement runs, the audit log and the sign-in accounts are not district data and survive a re-import; so do
ballots and pool-status history wherever their teacher (and vacancy) is still in the new bundle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, select

from staffing.db_models import (
    BallotRow,
    CertificationRow,
    ExcessDecision,
    ExcessNotice,
    CommitteeMemberRow,
    InterviewRow,
    OfferRow,
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
from staffing.audit_trail import log_change

#: Child tables first, so deletes respect foreign keys.  Accounts (app_user) are not district data; a replaced
#: district starts a new season, so its offers go.
DISTRICT_TABLES = (OfferRow, BallotRow, ExcessNotice, ExcessDecision, TeacherPreferenceRow, RankingRow, InterviewRow, CommitteeMemberRow, PoolStatusChange,
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


@dataclass
class ImportNotes:
    """What a replacing import kept and let go, for the audit entry and the person running it."""
    replaced: bool = False
    accounts_kept: int = 0
    #: accounts whose school is not in the new bundle: kept, without a school (they see no school until HR
    #: gives them one)
    accounts_without_school: list[str] = field(default_factory=list)
    ballots_kept: int = 0
    ballots_dropped: int = 0
    history_kept: int = 0
    history_dropped: int = 0

    def lines(self) -> list[str]:
        if not self.replaced:
            return []
        out = [f"{self.accounts_kept} account(s) kept; {self.ballots_kept} ballot row(s) and {self.history_kept} "
               f"pool-status change(s) kept, {self.ballots_dropped} and {self.history_dropped} dropped with their "
               "teacher or vacancy"]
        if self.accounts_without_school:
            shown = ", ".join(self.accounts_without_school[:10])
            out.append(f"note: {len(self.accounts_without_school)} account(s) kept without a school, as their "
                       f"school is not in the new bundle: {shown}" + (" ..." if len(self.accounts_without_school) > 10
                                                                     else ""))
        return out


def _keep(session: Session, table: type, wanted) -> tuple[list[dict[str, object]], int]:
    """The rows of ``table`` that ``wanted(row)`` keeps across the replacement, and how many it drops."""
    kept, dropped = [], 0
    for row in session.exec(select(table)):
        if wanted(row):
            kept.append(row.model_dump())
        else:
            dropped += 1
    return kept, dropped


def save_district(session: Session, district: District, replace: bool = False, actor: str = "import") -> ImportNotes:
    """Write ``district`` inside the caller's transaction, replacing what is there only if ``replace``.

    Accounts are never deleted: one whose school leaves the district keeps its row without a school (noted).
    Every import writes an audit entry."""
    notes = ImportNotes()
    before: dict[str, object] | None = None
    kept_ballots: list[dict[str, object]] = []
    kept_history: list[dict[str, object]] = []
    if has_district(session):
        if not replace:
            raise DistrictExists("the database already holds a district; pass --replace to overwrite it")
        notes.replaced = True
        before = _counts(session)
        teachers, vacancies = set(district.teachers), set(district.vacancies)
        kept_ballots, notes.ballots_dropped = _keep(
            session, BallotRow, lambda b: b.teacher_id in teachers and b.vacancy_id in vacancies)
        kept_history, notes.history_dropped = _keep(session, PoolStatusChange, lambda h: h.teacher_id in teachers)
        users = session.exec(select(UserRow)).all()
        notes.accounts_kept = len(users)
        schools = {u.username: u.school_id for u in users if u.school_id}
        notes.accounts_without_school = sorted(u for u, s in schools.items() if s not in district.schools)
        own_records = {u.username: u.teacher_id for u in users if u.teacher_id}
        notes.accounts_without_school += sorted(u for u, t in own_records.items() if t not in district.teachers)
        # school and teacher rows are replaced below: accounts let go of them first and get them back afterwards
        session.execute(update(UserRow).where(UserRow.school_id.is_not(None)).values(school_id=None))  # type: ignore[union-attr]
        session.execute(update(UserRow).where(UserRow.teacher_id.is_not(None)).values(teacher_id=None))  # type: ignore[union-attr]
        for table in DISTRICT_TABLES:
            session.execute(delete(table))
    _bulk(session, SchoolModelRule, [model_rule_row(m) for m in district.models.values()])
    _bulk(session, CertificationRow, [{"code": c.code, "name": c.name, "shortage": c.shortage}
                                      for c in district.certifications.values()])
    _bulk(session, SchoolRow, [{**vars(s), "waivers": ";".join(s.waivers)} for s in district.schools.values()])
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
    if notes.replaced:
        for username, school_id in schools.items():
            if school_id in district.schools:
                session.execute(update(UserRow).where(UserRow.username == username).values(school_id=school_id))
        for username, teacher_id in own_records.items():
            if teacher_id in district.teachers:
                session.execute(update(UserRow).where(UserRow.username == username).values(teacher_id=teacher_id))
        _bulk(session, BallotRow, kept_ballots)
        kept_history.sort(key=lambda h: h["id"])  # type: ignore[arg-type, return-value]
        _bulk(session, PoolStatusChange, [{k: v for k, v in h.items() if k != "id"} for h in kept_history])
        notes.ballots_kept, notes.history_kept = len(kept_ballots), len(kept_history)
    log_change(session, actor, "replace" if notes.replaced else "import", "district", "district",
               json.dumps(before) if before is not None else None,
               json.dumps({**_counts(session), "accounts_without_school": notes.accounts_without_school}))
    return notes


def _counts(session: Session) -> dict[str, int]:
    return {table.__tablename__: session.exec(select(func.count()).select_from(table)).one()  # type: ignore[attr-defined]
            for table in (SchoolRow, TeacherRow, VacancyRow, RankingRow, BallotRow, UserRow)}


def model_rule_row(rules: ModelRules) -> dict[str, object]:
    """A rule-table row as its database row (lists ``;``-joined; a school's waivers are not a model's)."""
    data = rules.as_dict()
    data.pop("waivers", None)
    data["committee_roles"] = ";".join(rules.committee_roles)
    return data


def school_of_row(r: SchoolRow) -> School:
    return School(r.school_id, r.name, r.region, r.model, r.city or "other",
                  tuple(w for w in (r.waivers or "").split(";") if w))


def load_district(session: Session, open_only: bool = True) -> District:
    """The current district as a pure snapshot.  A placement round (``open_only``) sees only the teachers still
    in the pool (not ``employed`` on a roster, not holding an offer, not gone) and the open vacancies, and only the
    preferences, rankings and interviews of those: a row naming a teacher or post outside the snapshot would be a
    dangling reference.
    Rows are read as plain tuples, not ORM objects, which is several times faster on a district."""
    models = {r.model: ModelRules.from_dict(r.model_dump()) for r in session.exec(select(SchoolModelRule))}
    certs = {r.code: Certification(r.code, r.name, r.shortage) for r in session.exec(select(CertificationRow))}
    schools = {r.school_id: school_of_row(r) for r in session.exec(select(SchoolRow))}
    gone = left_pool(session) if open_only else set()
    teachers = {}
    T, P = TeacherRow, PoolEntry
    for (tid, name, certifications, since, salary, current, former, tenured, rating, status, must_place, return_rights, reason,
         placed) in session.execute(select(
            T.teacher_id, T.name, T.certifications, T.seniority_date, T.salary, T.current_school_id,
            T.former_school_id, T.tenured, T.rating, P.status, P.must_place, P.return_rights, P.displacement_reason, P.placed_vacancy_id)
            .join(P, P.teacher_id == T.teacher_id)):
        if open_only and (placed is not None or status == "employed" or tid in gone):
            continue  # holds an offer of a published run, a post on a roster, or refused a forced placement
        teachers[tid] = Teacher(
            teacher_id=tid, name=name, certifications=tuple(sorted(certifications.split(";"))),
            seniority_date=since, salary=salary, status=status, must_place=must_place, return_rights=return_rights,
            former_school_id=former, current_school_id=current, displacement_reason=reason,
            tenured=tenured, rating=rating)
    V = VacancyRow
    vacancies = {vid: Vacancy(vid, school_id, cert, fte) for vid, school_id, cert, fte, status in session.execute(
        select(V.vacancy_id, V.school_id, V.certification, V.fte, V.status)) if status == "open" or not open_only}
    excluded = sorted(excluded_pairs(session, teachers, vacancies)) if open_only else []
    Pr, R, I, C = TeacherPreferenceRow, RankingRow, InterviewRow, CommitteeMemberRow
    return District(
        models=models, schools=schools, teachers=teachers, vacancies=vacancies,
        preferences=[Preference(t, sid, rank) for t, sid, rank in session.execute(
            select(Pr.teacher_id, Pr.school_id, Pr.rank)) if t in teachers],
        rankings=_ranked(((vid, t, rank) for vid, t, rank in session.execute(
            select(R.vacancy_id, R.teacher_id, R.rank)) if vid in vacancies and t in teachers), open_only),
        interviews=[Interview(vid, t, held) for vid, t, held in session.execute(
            select(I.vacancy_id, I.teacher_id, I.held_on)) if vid in vacancies and t in teachers],
        committees=[CommitteeMember(sid, member, role) for sid, member, role in session.execute(
            select(C.school_id, C.member, C.role))],
        certifications=certs,
        excluded_pairs=excluded,
    )


def _ranked(rows, dense: bool) -> list[Ranking]:
    """A round's rankings; ``dense``: renumbered 1, 2, ... per vacancy in the committee's order, so the first
    candidate still in the pool is the committee's first choice of this round (as a fresh ranking would be)."""
    rows = list(rows)
    if not dense:
        return [Ranking(*r) for r in rows]
    by_vacancy: dict[str, list[tuple[int, str]]] = {}
    for vid, tid, rank in rows:
        by_vacancy.setdefault(vid, []).append((rank, tid))
    return [Ranking(vid, tid, i) for vid, listed in by_vacancy.items()
            for i, (_, tid) in enumerate(sorted(listed), start=1)]


def left_pool(session: Session) -> set[str]:
    """Teachers who refused a forced placement: they left the pool (RULES.md, the season)."""
    return set(session.exec(select(OfferRow.teacher_id).where(OfferRow.status == "refused")))


def excluded_pairs(session: Session, teachers: dict, vacancies: dict) -> set[tuple[str, str]]:
    """(teacher, vacancy) pairs never offered again this season: declined or lapsed offers, among those in the
    snapshot."""
    rows = session.exec(select(OfferRow.teacher_id, OfferRow.vacancy_id)
                        .where(OfferRow.status.in_(("declined", "lapsed", "refused"))))  # type: ignore[attr-defined]
    return {(t, v) for t, v in rows if t in teachers and v in vacancies}
