"""``staffing import DIR --update``: bring the district in line with a bundle without ending the season.

Rows the bundle adds are added, rows it changes are changed, and rows it leaves out are removed, all in the
caller's transaction; runs, offers, accounts and the audit trail stay.  Removing (or moving) a teacher or post
that an offer or a published run refers to is refused with the reason, and so is removing a school, model or
certification (that is a new district: ``import --replace``).  Posts the season opened itself (vacancy chains)
are not in any bundle and are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import delete, insert
from sqlmodel import Session, select

from staffing.db_models import (
    BallotRow,
    CertificationRow,
    CommitteeMemberRow,
    InterviewRow,
    OfferRow,
    Placement,
    PlacementRun,
    PoolEntry,
    PoolStatusChange,
    RankingRow,
    SchoolModelRule,
    SchoolRow,
    TeacherPreferenceRow,
    TeacherRow,
    VacancyRow,
)
from staffing.domain import District, Teacher
from staffing.season import SeasonError
from staffing.services import log_change
from staffing.store import load_district


@dataclass
class UpdateSummary:
    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)  # season-made posts the bundle does not know

    def text(self) -> str:
        def part(label: str, counts: dict[str, int]) -> str:
            return f"{label} " + (", ".join(f"{n} {k}" for k, n in counts.items() if n) or "nothing")
        out = "; ".join((part("added", self.added), part("changed", self.changed), part("removed", self.removed)))
        return out + (f"; kept {len(self.kept)} post(s) the season opened" if self.kept else "")


def _referenced(session: Session) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Teachers and posts an offer or a published run refers to (id -> why), and the season's own posts."""
    teachers: dict[str, str] = {}
    vacancies: dict[str, str] = {}
    made: set[str] = set()
    for o in session.exec(select(OfferRow)):
        teachers.setdefault(o.teacher_id, f"offer {o.id} (run {o.run_id}, {o.status})")
        vacancies.setdefault(o.vacancy_id, f"offer {o.id} (run {o.run_id}, {o.status})")
        if o.vacated_vacancy_id:
            made.add(o.vacated_vacancy_id)
    for p, run in session.exec(select(Placement, PlacementRun).join(PlacementRun, PlacementRun.id == Placement.run_id)
                               .where(PlacementRun.published_at.is_not(None))):  # type: ignore[union-attr]
        teachers.setdefault(p.teacher_id, f"published run {run.id}")
        if p.vacancy_id:
            vacancies.setdefault(p.vacancy_id, f"published run {run.id}")
    return teachers, vacancies, made


def _teacher_row(t: Teacher) -> dict:
    return {"teacher_id": t.teacher_id, "name": t.name, "certifications": ";".join(t.certifications),
            "seniority_date": t.seniority_date, "salary": t.salary, "current_school_id": t.current_school_id,
            "former_school_id": t.former_school_id}


def update_district(session: Session, new: District, actor: str = "import") -> UpdateSummary:
    """Apply ``new`` (a validated bundle) as an update; raises :class:`SeasonError` listing every refused
    removal or move before writing anything."""
    old = load_district(session, open_only=False)
    if not old.schools:
        raise SeasonError("the database holds no district yet: import it without --update first")
    used_teachers, used_posts, made = _referenced(session)
    problems = []
    for label, before, after in (("school", old.schools, new.schools), ("school model", old.models, new.models),
                                 ("certification", old.certifications, new.certifications)):
        gone = sorted(set(before) - set(after))
        if gone:
            problems.append(f"the bundle leaves out {label}(s) {', '.join(gone[:5])}: --update does not remove "
                            "them (a different district is `import --replace`)")
    gone_teachers = sorted(set(old.teachers) - set(new.teachers))
    gone_posts = sorted(set(old.vacancies) - set(new.vacancies) - made)
    problems += [f"teacher {t} is left out of the bundle but {used_teachers[t]} refers to them"
                 for t in gone_teachers if t in used_teachers]
    problems += [f"vacancy {v} is left out of the bundle but {used_posts[v]} refers to it"
                 for v in gone_posts if v in used_posts]
    for vid, v in new.vacancies.items():
        was = old.vacancies.get(vid)
        if was and vid in used_posts and (was.school_id, was.certification) != (v.school_id, v.certification):
            problems.append(f"vacancy {vid} would move to {v.school_id}/{v.certification}, but {used_posts[vid]} "
                            "refers to it")
    if problems:
        raise SeasonError(f"{len(problems)} problem(s); nothing was changed: " + "; ".join(problems))

    summary = UpdateSummary(kept=sorted((made & set(old.vacancies)) - set(new.vacancies)))
    for table, key, before, after in ((SchoolModelRule, "models", old.models, new.models),
                                      (CertificationRow, "certifications", old.certifications, new.certifications),
                                      (SchoolRow, "schools", old.schools, new.schools)):
        summary.added[key] = summary.changed[key] = 0
        for k, value in after.items():
            row = value.as_dict() if key == "models" else vars(value)
            if k not in before:
                session.execute(insert(table), [row])
                summary.added[key] += 1
            elif before[k] != value:
                session.merge(table(**row))
                summary.changed[key] += 1
    session.flush()

    summary.added["teachers"] = summary.changed["teachers"] = 0
    for tid, t in new.teachers.items():
        was = old.teachers.get(tid)
        if was is None:
            session.execute(insert(TeacherRow), [_teacher_row(t)])
            session.add(PoolEntry(teacher_id=tid, status=t.status, must_place=t.must_place,
                                  return_rights=t.return_rights, displacement_reason=t.displacement_reason))
            session.add(PoolStatusChange(teacher_id=tid, changed_by=actor, to_status=t.status, must_place=t.must_place,
                                         return_rights=t.return_rights, note="added by import --update"))
            summary.added["teachers"] += 1
        elif was != t:
            row = session.get(TeacherRow, tid)
            for k, value in _teacher_row(t).items():
                setattr(row, k, value)
            row.version += 1  # type: ignore[union-attr]
            entry = session.get(PoolEntry, tid)
            pool = (t.status, t.must_place, t.return_rights, t.displacement_reason)
            if entry and (entry.status, entry.must_place, entry.return_rights, entry.displacement_reason) != pool:
                session.add(PoolStatusChange(teacher_id=tid, changed_by=actor, from_status=entry.status,
                                             to_status=t.status, must_place=t.must_place,
                                             return_rights=t.return_rights, note="changed by import --update"))
                entry.status, entry.must_place, entry.return_rights, entry.displacement_reason = pool
                entry.version += 1
            summary.changed["teachers"] += 1
    session.flush()

    summary.added["vacancies"] = summary.changed["vacancies"] = 0
    for vid, v in new.vacancies.items():
        was = old.vacancies.get(vid)
        if was is None:
            session.execute(insert(VacancyRow), [vars(v)])
            summary.added["vacancies"] += 1
        elif was != v:
            row = session.get(VacancyRow, vid)
            row.school_id, row.certification, row.fte = v.school_id, v.certification, v.fte  # type: ignore[union-attr]
            row.version += 1  # type: ignore[union-attr]
            summary.changed["vacancies"] += 1
    session.flush()

    # lists the bundle holds whole: replaced, except what belongs to the posts the season opened
    kept = set(summary.kept)
    session.execute(delete(TeacherPreferenceRow))
    session.execute(delete(CommitteeMemberRow))
    session.execute(delete(RankingRow).where(RankingRow.vacancy_id.not_in(kept)))  # type: ignore[attr-defined]
    session.execute(delete(InterviewRow).where(InterviewRow.vacancy_id.not_in(kept)))  # type: ignore[attr-defined]
    for table, rows in ((TeacherPreferenceRow, [vars(p) for p in new.preferences]),
                        (RankingRow, [vars(r) for r in new.rankings]),
                        (InterviewRow, [{"vacancy_id": i.vacancy_id, "teacher_id": i.teacher_id, "held_on": i.date}
                                        for i in new.interviews]),
                        (CommitteeMemberRow, [vars(c) for c in new.committees])):
        for start in range(0, len(rows), 5000):
            session.execute(insert(table), rows[start:start + 5000])
    changed_lists = {name: int(sorted(map(repr, getattr(old, name))) != sorted(map(repr, getattr(new, name))))
                     for name in ("preferences", "rankings", "interviews", "committees")}
    summary.changed.update({k: v for k, v in changed_lists.items() if v})

    for tid in gone_teachers:
        for table, column in ((BallotRow, BallotRow.teacher_id), (RankingRow, RankingRow.teacher_id),
                              (InterviewRow, InterviewRow.teacher_id), (PoolStatusChange, PoolStatusChange.teacher_id),
                              (PoolEntry, PoolEntry.teacher_id), (TeacherRow, TeacherRow.teacher_id)):
            session.execute(delete(table).where(column == tid))
    for vid in gone_posts:
        for table, column in ((BallotRow, BallotRow.vacancy_id), (RankingRow, RankingRow.vacancy_id),
                              (InterviewRow, InterviewRow.vacancy_id), (VacancyRow, VacancyRow.vacancy_id)):
            session.execute(delete(table).where(column == vid))
    summary.removed = {"teachers": len(gone_teachers), "vacancies": len(gone_posts)}
    session.flush()
    log_change(session, actor, "update", "district", "import --update", None,
               json.dumps({"added": summary.added, "changed": summary.changed, "removed": summary.removed,
                           "kept": summary.kept}, sort_keys=True))
    return summary
