"""Read models for the pages and the JSON API: one query function per screen, so handlers stay thin and the
HTML page and its JSON twin always show the same numbers."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import Session, select

from solver.audit import AuditRow
from staffing.db_models import (
    CertificationRow,
    CommitteeMemberRow,
    InterviewRow,
    OfferRow,
    Placement,
    PlacementRun,
    PoolEntry,
    RankingRow,
    SchoolRow,
    TeacherPreferenceRow,
    TeacherRow,
    VacancyRow,
)
from solver.solve_figures import SolveFigures, describe, describe_gap
from staffing.runs import audit_run, fail_interrupted_runs, replay_caveat
from staffing.committee import NoDecision
from staffing.rules import WAIVERS, committee_composition_problems
from staffing.season import latest_published
from staffing.store import left_pool
from staffing.services import NotFound, ballots, committee_decision, school_rules_in_db


@dataclass
class PoolRow:
    teacher_id: str
    name: str
    certifications: str
    seniority_date: str
    salary: int
    status: str
    must_place: bool
    return_rights: bool
    former_school_id: str | None
    region: str
    days_in_pool: int


def _days(since: datetime) -> int:
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return max(0, (datetime.now(timezone.utc) - since).days)


def pool(session: Session, status: str = "", certification: str = "", region: str = "") -> list[PoolRow]:
    """Unplaced pool teachers, filtered; region is that of the former (or current) school."""
    return filter_pool(all_pool(session), status, certification, region)


def filter_pool(rows: list[PoolRow], status: str = "", certification: str = "", region: str = "") -> list[PoolRow]:
    return [r for r in rows if (not status or r.status == status) and (not region or r.region == region)
            and (not certification or certification in r.certifications.split(";"))]


def all_pool(session: Session) -> list[PoolRow]:
    """Teachers still in the pool: not holding a pending or accepted offer, not gone."""
    region = dict(session.execute(select(SchoolRow.school_id, SchoolRow.region)).all())
    gone = left_pool(session)
    rows = []
    T, P = TeacherRow, PoolEntry  # plain tuples, not ORM objects: a state's pool is tens of thousands of rows
    for (tid, name, certifications, since, salary, former, current, placed, status, must_place, return_rights,
         entered) in session.execute(
            select(T.teacher_id, T.name, T.certifications, T.seniority_date, T.salary, T.former_school_id,
                   T.current_school_id, P.placed_vacancy_id, P.status, P.must_place, P.return_rights, P.entered_at)
            .join(P, P.teacher_id == T.teacher_id).order_by(T.teacher_id)):
        if placed or status == "employed" or tid in gone:
            continue  # holds an offer, on a school's roster, or refused a forced placement
        rows.append(PoolRow(tid, name, certifications, since.isoformat(), salary, status, must_place, return_rights,
                            former, region.get(former or current or "", ""), _days(entered)))
    return rows


def pool_summary(rows: list[PoolRow]) -> dict[str, object]:
    paid = [r for r in rows if r.status in ("displaced", "new_hire")]
    return {
        "teachers": len(rows),
        "by_status": dict(sorted(Counter(r.status for r in rows).items())),
        "by_certification": dict(sorted(Counter(c for r in rows for c in r.certifications.split(";")).items())),
        "by_region": dict(sorted(Counter(r.region or "(new hire, no school yet)" for r in rows).items())),
        "must_place": sum(r.must_place for r in rows),
        "return_rights": sum(r.return_rights for r in rows),
        "reserve_salary": sum(r.salary for r in paid),
        "reserve_teachers": len(paid),
        "days_in_pool": dict(sorted(Counter(("0-30" if r.days_in_pool <= 30 else "31-90" if r.days_in_pool <= 90
                                             else "90+") for r in rows).items())),
    }


def vacancies(session: Session, school_id: str = "", certification: str = "", model: str = "") -> list[dict]:
    out = []
    for v, s in session.exec(select(VacancyRow, SchoolRow).join(SchoolRow, SchoolRow.school_id == VacancyRow.school_id)
                             .order_by(VacancyRow.vacancy_id)):
        if school_id and v.school_id != school_id or certification and v.certification != certification \
                or model and s.model != model:
            continue
        out.append({"vacancy_id": v.vacancy_id, "school_id": v.school_id, "school": s.name, "model": s.model,
                    "region": s.region, "certification": v.certification, "fte": v.fte, "status": v.status})
    return out


def committees(session: Session) -> list[dict]:
    rows = session.exec(select(CommitteeMemberRow, SchoolRow)
                        .join(SchoolRow, SchoolRow.school_id == CommitteeMemberRow.school_id)
                        .order_by(CommitteeMemberRow.school_id, CommitteeMemberRow.id)).all()
    by_school: dict[str, dict] = {}
    for member, school in rows:
        if school.school_id not in by_school:
            rule = school_rules_in_db(session, school.school_id).committee_rule
        entry = by_school.setdefault(school.school_id, {"school_id": school.school_id, "school": school.name,
                                                        "model": school.model, "rule": rule,
                                                        "members": []})
        entry["members"].append(f"{member.member}")
    return list(by_school.values())


def school(session: Session, school_id: str) -> dict:
    row = session.get(SchoolRow, school_id)
    if row is None:
        raise NotFound(f"school {school_id!r} does not exist")
    rules = school_rules_in_db(session, school_id)  # the model's row, the city's rules and the school's waivers
    members = session.exec(select(CommitteeMemberRow).where(CommitteeMemberRow.school_id == school_id)).all()
    return {"school": row, "rules": rules, "members": members, "vacancies": vacancies(session, school_id=school_id),
            "conditional": WAIVERS.get(row.model, {}),
            "committee_missing": committee_composition_problems(rules, [m.role for m in members]),
            "run": latest_published(session), "placements": published_placements(session, school_id)}


def published_placements(session: Session, school_id: str) -> list[dict]:
    """What a school's principal may see: the offers of published rounds at this school, with their answers
    and why each teacher is there (a draft run's placements are HR's until published)."""
    rows = session.exec(select(OfferRow, Placement).join(
        Placement, (Placement.run_id == OfferRow.run_id) & (Placement.teacher_id == OfferRow.teacher_id))
        .where(OfferRow.school_id == school_id).order_by(OfferRow.vacancy_id, OfferRow.id)).all()
    return [{"vacancy_id": o.vacancy_id, "teacher_id": o.teacher_id, "kind": o.kind, "status": o.status,
             "run_id": o.run_id, "deadline": o.deadline, "reason": p.reason} for o, p in rows]


def vacancy(session: Session, school_id: str, vacancy_id: str) -> dict:
    v = session.get(VacancyRow, vacancy_id)
    if v is None or v.school_id != school_id:
        raise NotFound(f"vacancy {vacancy_id!r} is not at school {school_id!r}")
    rules = school_rules_in_db(session, school_id)
    ranking = [r.teacher_id for r in session.exec(select(RankingRow).where(RankingRow.vacancy_id == vacancy_id)
                                                  .order_by(RankingRow.rank))]
    applicants = {p.teacher_id: p.rank for p in session.exec(select(TeacherPreferenceRow)
                                                             .where(TeacherPreferenceRow.school_id == school_id))}
    candidates = [r for r in pool(session, certification=v.certification)]
    by_id = {c.teacher_id: c for c in candidates}
    interviews = session.exec(select(InterviewRow).where(InterviewRow.vacancy_id == vacancy_id)
                              .order_by(InterviewRow.held_on)).all()
    # R-INTERVIEW counts displaced applicants only
    interviewed = {i.teacher_id for i in interviews if getattr(by_id.get(i.teacher_id), "status", "") == "displaced"}
    need = rules.min_pool_interviews if rules else 0
    cast = ballots(session, vacancy_id)
    try:
        rule, decision, undecided = *committee_decision(session, vacancy_id), None
    except NoDecision as exc:
        rule, decision, undecided = rules.committee_rule if rules else "", [], str(exc)
    return {
        "vacancy": v, "rules": rules,
        "ranking": [by_id.get(tid) or tid for tid in ranking],
        "ballots": cast, "decision": decision, "decision_rule": rule, "undecided": undecided,
        "candidates": sorted((c for c in candidates if c.teacher_id not in ranking),
                             key=lambda c: (c.teacher_id not in applicants, applicants.get(c.teacher_id, 99),
                                            c.seniority_date)),
        "applicants": applicants,
        "interviews": interviews,
        "interviews_needed": need,
        "interviews_met": len(interviewed) >= need,
        "interviewed": len(interviewed),
    }


def school_ids(session: Session) -> list[str]:
    return list(session.exec(select(SchoolRow.school_id).order_by(SchoolRow.school_id)))


def certification_codes(session: Session) -> list[str]:
    return list(session.exec(select(CertificationRow.code).order_by(CertificationRow.code)))


def runs(session: Session) -> list[PlacementRun]:
    fail_interrupted_runs(session)  # a run whose process was killed is listed as failed, with why
    return list(session.exec(select(PlacementRun).order_by(PlacementRun.id.desc())))  # type: ignore[union-attr]


def run_figures(run: PlacementRun) -> dict:
    """A run's recorded figures, with the warning HR must see before relying on a replay of it, the solve
    figures in lines and how close each stage is proven to be to the best lawful value.  The solve figures are
    given in today's shape whatever version recorded them."""
    figures = json.loads(run.figures_json or "{}")
    solve = SolveFigures.from_dict(figures.get("solve"))
    if "solve" in figures:
        figures["solve"] = solve.to_dict()
    figures["replay_warning"] = replay_caveat(run)
    figures["solve_lines"] = describe(solve) if solve.stages else []
    figures["proven_gaps"] = [describe_gap(p) for p in solve.proven_gaps()]
    return figures


def placements(session: Session, run_id: int, school_id: str = "", kind: str = "") -> list[Placement]:
    query = select(Placement).where(Placement.run_id == run_id)
    if school_id:
        query = query.where(Placement.school_id == school_id)
    if kind:
        query = query.where(Placement.kind == kind)
    return list(session.exec(query.order_by(Placement.teacher_id)))


COMPARED = ("placed", "unplaced", "must_place_placed", "return_rights_honoured", "reserve_cost", "reserve_cost_floor",
            "reserve_teachers", "teacher_satisfaction", "committee_top_share", "blocking_pairs", "seniority_overrides",
            "interview_shortfalls", "rule_violations", "forced_by_model")


def compare(a: PlacementRun, b: PlacementRun) -> list[tuple[str, object, object]]:
    fa, fb = run_figures(a), run_figures(b)
    return [(key, fa.get(key), fb.get(key)) for key in COMPARED]


def audit(session: Session, run: PlacementRun, school_id: str = "", reason: str = "",
          teacher_id: str = "") -> list[AuditRow]:
    rows = audit_run(session, run)
    return [r for r in rows if (not school_id or r.school_id == school_id)
            and (not reason or r.lawful_reason.lower().startswith(reason.lower()))
            and (not teacher_id or teacher_id in (r.passed_over_id, r.occupant_id))]


def teacher(session: Session, teacher_id: str) -> dict:
    """Everything HR reads about one teacher: record, pool entry, preferences, rankings received, interviews,
    ballots naming them, their offers this season, placements across runs and the audit-trail rows about them."""
    from staffing.db_models import AuditLog, BallotRow, UserRow
    from staffing.teacher_portal import offers

    row = session.get(TeacherRow, teacher_id)
    if row is None:
        raise NotFound(f"teacher {teacher_id!r} does not exist")
    entry = session.get(PoolEntry, teacher_id)
    prefs = session.exec(select(TeacherPreferenceRow, SchoolRow).join(SchoolRow, SchoolRow.school_id == TeacherPreferenceRow.school_id)
                         .where(TeacherPreferenceRow.teacher_id == teacher_id).order_by(TeacherPreferenceRow.rank)).all()
    rankings = session.exec(select(RankingRow, VacancyRow, SchoolRow)
                            .join(VacancyRow, VacancyRow.vacancy_id == RankingRow.vacancy_id)
                            .join(SchoolRow, SchoolRow.school_id == VacancyRow.school_id)
                            .where(RankingRow.teacher_id == teacher_id).order_by(RankingRow.vacancy_id)).all()
    sizes = Counter(r.vacancy_id for r in session.exec(select(RankingRow).where(
        RankingRow.vacancy_id.in_([r.vacancy_id for r, _, _ in rankings]))))  # type: ignore[attr-defined]
    interviews = session.exec(select(InterviewRow, VacancyRow, SchoolRow)
                              .join(VacancyRow, VacancyRow.vacancy_id == InterviewRow.vacancy_id)
                              .join(SchoolRow, SchoolRow.school_id == VacancyRow.school_id)
                              .where(InterviewRow.teacher_id == teacher_id).order_by(InterviewRow.held_on)).all()
    ballots_ = session.exec(select(BallotRow).where(BallotRow.teacher_id == teacher_id)
                            .order_by(BallotRow.vacancy_id, BallotRow.voter)).all()
    placed = session.exec(select(Placement, PlacementRun).join(PlacementRun, PlacementRun.id == Placement.run_id)
                          .where(Placement.teacher_id == teacher_id).order_by(Placement.run_id.desc())).all()  # type: ignore[union-attr]
    own_offers = offers(session, teacher_id)  # settles what is past its deadline first, as the teacher sees it
    own_accounts = set(session.exec(select(UserRow.username).where(UserRow.teacher_id == teacher_id)).all())
    about = (AuditLog.entity_id == teacher_id) | ((AuditLog.entity == "offer") & AuditLog.entity_id.in_(  # type: ignore[union-attr]
        [str(o["offer_id"]) for o in own_offers]))  # their answers are recorded against the offer
    trail = session.exec(select(AuditLog).where(about).order_by(AuditLog.id.desc())).all()  # type: ignore[union-attr]
    return {"teacher": row, "entry": entry,
            "preferences": [{"rank": p.rank, "school_id": s.school_id, "school": s.name, "model": s.model} for p, s in prefs],
            "rankings": [{"vacancy_id": v.vacancy_id, "school_id": s.school_id, "school": s.name,
                          "certification": v.certification, "rank": r.rank, "of": sizes[v.vacancy_id]}
                         for r, v, s in rankings],
            "interviews": [{"held_on": i.held_on, "vacancy_id": v.vacancy_id, "school_id": s.school_id,
                            "school": s.name} for i, v, s in interviews],
            "ballots": ballots_,
            "placements": [{"run": run, "vacancy_id": p.vacancy_id, "school_id": p.school_id, "kind": p.kind,
                            "reason": p.reason} for p, run in placed],
            "offers": own_offers, "own_accounts": own_accounts, "trail": trail}


def seniority(session: Session, certification: str) -> list[dict]:
    """Every pool teacher (placed or not) holding ``certification``, most senior first (earliest date, then id)."""
    out = []
    for t, entry in session.exec(select(TeacherRow, PoolEntry).join(PoolEntry, PoolEntry.teacher_id == TeacherRow.teacher_id)):
        if certification not in t.certifications.split(";"):
            continue
        flags = [f for f, on in (("must-place", entry.must_place), ("return rights", entry.return_rights)) if on]
        out.append({"teacher_id": t.teacher_id, "name": t.name, "seniority_date": t.seniority_date.isoformat(),
                    "status": entry.status, "flags": ", ".join(flags), "certifications": t.certifications})
    return sorted(out, key=lambda r: (r["seniority_date"], r["teacher_id"]))
