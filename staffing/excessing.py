"""Rosters, excessing and dismissal to the pool (RULES.md, *Excessing and dismissal*; docs/excessing.md).

A school's roster is its ``employed`` teachers.  When a school loses posts in a certification, the school's model
decides who goes: where the model may dismiss to the pool the principal names them, otherwise the least senior go.
Either way the teachers enter the pool as ``displaced`` with the flags the rules give them, a decision row keeps
the seniority list it was taken against, and each teacher gets a notice.  Bad input raises
:class:`ValidationError` before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date

from sqlmodel import Session, select

from staffing import pool_settings
from staffing.db_models import (
    ExcessDecision,
    ExcessNotice,
    PoolEntry,
    SchoolRow,
    TeacherRow,
    VacancyRow,
)
from staffing.rules import ModelRules
from staffing.services import NotFound, _dump, log_change, set_pool_status
from staffing.validation import FieldProblem, Problem, ValidationError


@dataclass(frozen=True)
class RosterEntry:
    teacher_id: str
    name: str
    certifications: str  # ";"-joined
    seniority_date: str
    tenured: bool
    rating: int | None
    rank: int  # 1 = most senior on this list


@dataclass
class Outcome:
    decision: ExcessDecision
    notices: list[ExcessNotice]


def school_rules(session: Session, school_id: str) -> ModelRules:
    """The rules that govern one school's staffing (its model's row for its city, with its waivers): the one place
    excessing, dismissal and the teacher pages read them."""
    from staffing.services import school_rules_in_db

    return school_rules_in_db(session, school_id)


def _employed(session: Session, school_id: str) -> list[TeacherRow]:
    return list(session.exec(select(TeacherRow).join(PoolEntry, PoolEntry.teacher_id == TeacherRow.teacher_id)
                             .where(PoolEntry.status == "employed", TeacherRow.current_school_id == school_id)))


def _certs(row: TeacherRow) -> set[str]:
    return set(row.certifications.split(";"))


def seniority_order(rows: Sequence[TeacherRow]) -> list[TeacherRow]:
    """Most senior first (RULES.md): earlier seniority date, then smaller teacher id."""
    return sorted(rows, key=lambda r: (r.seniority_date, r.teacher_id))


def roster(session: Session, school_id: str, certification: str | None = None) -> dict[str, list[RosterEntry]]:
    """The school's employed teachers by certification (each list most senior first, ranked); one certification
    only if given.  A teacher certified in two areas appears on both lists."""
    school_rules(session, school_id)  # NotFound for an unknown school
    rows = _employed(session, school_id)
    codes = sorted({c for r in rows for c in _certs(r)}) if certification is None else [certification]
    out: dict[str, list[RosterEntry]] = {}
    for code in codes:
        ordered = seniority_order([r for r in rows if code in _certs(r)])
        out[code] = [RosterEntry(r.teacher_id, r.name, r.certifications, r.seniority_date.isoformat(), r.tenured,
                                 r.rating, i + 1) for i, r in enumerate(ordered)]
    return out


def _problems(where: str, problems: list[FieldProblem]) -> None:
    if problems:
        raise ValidationError([Problem(where, None, f, m) for f, m in problems])


def _to_pool(session: Session, row: TeacherRow, school_id: str, rules: ModelRules, displacement: str,
             note: str, actor: str) -> tuple[bool, bool]:
    """Move one employed teacher into the pool as displaced; returns (must_place, return_rights)."""
    must_place = bool(row.tenured and pool_settings.get(session, "tenured_must_place"))
    return_rights = rules.honours_return_rights
    before = _dump(row)
    row.former_school_id, row.current_school_id = school_id, None
    row.version += 1
    session.add(row)
    session.flush()
    log_change(session, actor, "update", "teacher", row.teacher_id, before, _dump(row))
    set_pool_status(session, row.teacher_id, actor, "displaced", must_place, return_rights,
                    displacement_reason=displacement, note=note)
    return must_place, return_rights


def _flags_rule(rules: ModelRules, school_id: str, must_place: bool) -> str:
    parts = []
    if must_place:
        parts.append("must-place: tenured (district setting)")
    if rules.honours_return_rights:
        parts.append(f"return rights to {school_id} ({rules.model} honours return rights)")
    return "; ".join(parts)


def _decision(session: Session, actor: str, school_id: str, certification: str, kind: str, posts_cut: int,
              rules: ModelRules, rule: str, listed: list[TeacherRow], chosen: set[str]) -> ExcessDecision:
    seniority = [{"rank": i + 1, "teacher_id": r.teacher_id, "name": r.name,
                  "seniority_date": r.seniority_date.isoformat(), "tenured": r.tenured,
                  "leaves": r.teacher_id in chosen} for i, r in enumerate(seniority_order(listed))]
    decision = ExcessDecision(actor=actor, school_id=school_id, certification=certification, kind=kind,
                              posts_cut=posts_cut, model=rules.model, rule=rule, seniority_list=json.dumps(seniority))
    session.add(decision)
    session.flush()
    return decision


def excess(session: Session, school_id: str, certification: str, n: int, teachers: Sequence[str] | None = None,
           actor: str = "system", on: date | None = None) -> Outcome:
    """Cut ``n`` posts in ``certification`` at a school and send the teachers who go to the pool.

    Who goes follows the school's model: named by the principal (``teachers``) where the model may dismiss to the
    pool, otherwise the ``n`` least senior employed teachers certified in it."""
    rules = school_rules(session, school_id)
    where = f"excessing at {school_id}"
    certification = (certification or "").strip()
    named = [t.strip() for t in teachers or () if t.strip()]
    rows = _employed(session, school_id)
    in_cert = [r for r in rows if certification in _certs(r)]
    problems: list[FieldProblem] = []
    if not certification:
        problems.append(("certification", "must not be empty"))
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        problems.append(("n", f"the number of posts to cut must be a whole number of 1 or more, got {n!r}"))
    elif certification and n > len(in_cert):
        problems.append(("n", f"{school_id} has {len(in_cert)} employed teacher(s) certified in {certification}; "
                              f"it cannot cut {n} post(s) there"))
    if rules.can_dismiss_to_pool:
        if not named:
            problems.append(("teachers", f"{rules.model} lets the principal choose who goes: name {n} teacher(s)"))
        elif isinstance(n, int) and len(named) != n:
            problems.append(("teachers", f"{len(named)} teacher(s) named for {n} post(s) cut: name exactly {n}"))
        if len(set(named)) != len(named):
            problems.append(("teachers", "a teacher is named twice"))
        on_roster = {r.teacher_id for r in in_cert}
        for tid in dict.fromkeys(named):
            if tid not in on_roster:
                problems.append(("teachers", f"{tid!r} is not an employed teacher certified in {certification} "
                                             f"on the roster of {school_id}"))
    elif named:
        problems.append(("teachers", f"{rules.model} excesses by reverse seniority (no dismissal to the pool): "
                                     "who goes is decided by the rule, not named"))
    _problems(where, problems)

    if rules.can_dismiss_to_pool:
        by_id = {r.teacher_id: r for r in in_cert}
        chosen = [by_id[t] for t in named]
        rule = f"principal's choice ({rules.model} may dismiss to the district pool)"
    else:
        chosen = seniority_order(in_cert)[::-1][:n]  # least senior first: latest date, then larger id
        rule = (f"reverse seniority in {certification}: the {n} least senior employed teacher(s) go "
                f"(latest seniority date first, ties: larger teacher id first)")
    decision = _decision(session, actor, school_id, certification, "excess", n, rules, rule, in_cert,
                         {r.teacher_id for r in chosen})
    notices = []
    for row in chosen:
        must_place, return_rights = _to_pool(session, row, school_id, rules, "excessed",
                                             f"excessed from {school_id} ({certification})", actor)
        flags = _flags_rule(rules, school_id, must_place)
        notices.append(ExcessNotice(decision_id=decision.id, teacher_id=row.teacher_id, school_id=school_id,
                                    certification=certification,
                                    reason=f"{n} post(s) in {certification} cut at {school_id}",
                                    rule=rule + (f"; {flags}" if flags else ""), notice_date=on or date.today(),
                                    must_place=must_place, return_rights=return_rights))
    session.add_all(notices)
    session.flush()
    log_change(session, actor, "excess", "excess_decision", str(decision.id), None, _dump(decision))
    return Outcome(decision, notices)


def dismiss(session: Session, school_id: str, teacher_id: str, reason: str, actor: str = "system",
            on: date | None = None) -> Outcome:
    """Dismiss one employed teacher to the pool with a recorded reason, where the school's model allows it.

    The post stays and opens as a vacancy (in the teacher's first certification) for the next round; at a model
    without ``can_dismiss_to_pool`` the dismissal is refused with that rule."""
    rules = school_rules(session, school_id)
    where = f"dismissal at {school_id}"
    reason = (reason or "").strip()
    row = session.get(TeacherRow, teacher_id)
    entry = session.get(PoolEntry, teacher_id)
    problems: list[FieldProblem] = []
    if not rules.can_dismiss_to_pool:
        problems.append(("model", f"{rules.model} may not dismiss a teacher to the pool (can_dismiss_to_pool is off): "
                                  "its teachers leave only by excessing in reverse seniority"))
    if row is None or entry is None or entry.status != "employed" or row.current_school_id != school_id:
        problems.append(("teacher_id", f"{teacher_id!r} is not an employed teacher on the roster of {school_id}"))
    if not reason:
        problems.append(("reason", "a dismissal needs a reason (it is recorded on the notice)"))
    _problems(where, problems)
    assert row is not None
    certification = sorted(_certs(row))[0]
    listed = [r for r in _employed(session, school_id) if _certs(r) & _certs(row)]
    rule = f"dismissal to the pool ({rules.model} may dismiss a teacher to the district pool)"
    decision = _decision(session, actor, school_id, row.certifications, "dismissal", 0, rules, rule, listed,
                         {teacher_id})
    must_place, return_rights = _to_pool(session, row, school_id, rules, "dismissed_to_pool",
                                         f"dismissed to the pool by {school_id}: {reason}", actor)
    flags = _flags_rule(rules, school_id, must_place)
    notice = ExcessNotice(decision_id=decision.id, teacher_id=teacher_id, school_id=school_id,
                          certification=row.certifications, reason=reason, rule=rule + (f"; {flags}" if flags else ""),
                          notice_date=on or date.today(), must_place=must_place, return_rights=return_rights)
    session.add(notice)
    vacancy_id = _free_vacancy_id(session, f"{school_id}-D{decision.id}")
    session.add(VacancyRow(vacancy_id=vacancy_id, school_id=school_id, certification=certification))
    session.flush()
    log_change(session, actor, "add", "vacancy", vacancy_id, None,
               json.dumps({"school_id": school_id, "certification": certification, "opened_by": "dismissal"}))
    log_change(session, actor, "dismiss", "excess_decision", str(decision.id), None, _dump(decision))
    return Outcome(decision, [notice])


def _free_vacancy_id(session: Session, base: str) -> str:
    candidate, n = base, 1
    while session.get(VacancyRow, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# -- read models: notices and decisions ---------------------------------------------------------------------

NOTICE_COLUMNS = ("notice_id", "decision_id", "teacher_id", "name", "school_id", "certification", "reason", "rule",
                  "notice_date", "must_place", "return_rights")


def notice_dict(session: Session, notice: ExcessNotice) -> dict[str, object]:
    teacher = session.get(TeacherRow, notice.teacher_id)
    return {"notice_id": notice.id, "decision_id": notice.decision_id, "teacher_id": notice.teacher_id,
            "name": teacher.name if teacher else "", "school_id": notice.school_id,
            "certification": notice.certification, "reason": notice.reason, "rule": notice.rule,
            "notice_date": notice.notice_date.isoformat(), "must_place": notice.must_place,
            "return_rights": notice.return_rights}


def notices(session: Session, school_id: str | None = None, teacher_id: str | None = None) -> list[ExcessNotice]:
    query = select(ExcessNotice).order_by(ExcessNotice.id.desc())  # type: ignore[union-attr]
    if school_id:
        query = query.where(ExcessNotice.school_id == school_id)
    if teacher_id:
        query = query.where(ExcessNotice.teacher_id == teacher_id)
    return list(session.exec(query))


def get_notice(session: Session, notice_id: int) -> ExcessNotice:
    notice = session.get(ExcessNotice, notice_id)
    if notice is None:
        raise NotFound(f"notice {notice_id} does not exist")
    return notice


def decisions(session: Session, school_id: str | None = None) -> list[dict[str, object]]:
    """Every excessing and dismissal decision, newest first, with the seniority list it was taken against and
    whether the order followed it (for the union)."""
    query = select(ExcessDecision).order_by(ExcessDecision.id.desc())  # type: ignore[union-attr]
    if school_id:
        query = query.where(ExcessDecision.school_id == school_id)
    out = []
    for d in session.exec(query):
        listed = json.loads(d.seniority_list)
        leaving = [e["teacher_id"] for e in listed if e["leaves"]]
        expected = [e["teacher_id"] for e in listed[::-1][:d.posts_cut]] if d.kind == "excess" else None
        out.append({"decision_id": d.id, "created_at": d.created_at.strftime("%Y-%m-%d %H:%M UTC"), "actor": d.actor,
                    "school_id": d.school_id, "certification": d.certification, "kind": d.kind,
                    "posts_cut": d.posts_cut, "model": d.model, "rule": d.rule, "seniority_list": listed,
                    "leaving": leaving,
                    "follows_reverse_seniority": None if expected is None else sorted(expected) == sorted(leaving),
                    "notice_ids": [n.id for n in session.exec(select(ExcessNotice).where(
                        ExcessNotice.decision_id == d.id))]})
    return out


def roster_json(entries: dict[str, list[RosterEntry]]) -> dict[str, list[dict[str, object]]]:
    return {cert: [asdict(e) for e in rows] for cert, rows in entries.items()}
