"""What HR and the union decide from a recorded run: who must still be placed and why, which posts stay open
and why, the rule check, the return-rights ledger, and how two runs differ.

Everything is computed on the run's own snapshot and rules, so the pages agree with the run's figures.  A
done run never changes, so its analysis is kept per process (bounded) instead of rebuilt on every page.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from functools import cached_property
from typing import Any

import numpy as np
from sqlmodel import Session, select

from solver import build_instance
from solver.audit import AuditRow, seniority_audit
from solver.checker import Violation, check
from solver.instance import Instance
from solver.policy import Policy
from solver.result import Result
from staffing.db_models import Placement, PlacementRun
from staffing.domain import District
from staffing.runs import run_snapshot, stored_result
from web.names import model_name

_CACHE: OrderedDict[tuple[int, str], "RunReview"] = OrderedDict()
_CACHE_SIZE = 4


class RunReview:
    """A recorded run read back: its snapshot, instance and placements; the seniority audit and the independent
    rule check are computed when first asked for (on a state each takes tens of seconds)."""

    def __init__(self, district: District, inst: Instance, placements: list[Placement], result: Result,
                 policy: Policy):
        self.district, self.inst, self.placements = district, inst, placements
        self._result, self._policy = result, policy

    @cached_property
    def audit(self) -> list[AuditRow]:
        return seniority_audit(self.district, self._result, self.inst)

    @cached_property
    def violations(self) -> list[Violation]:
        return check(self.district, self._result.assignments, self._policy)

    @property
    def school_of(self) -> dict[str, str | None]:
        return {p.teacher_id: p.school_id for p in self.placements}


def review(session: Session, run: PlacementRun) -> RunReview:
    """The run's snapshot, instance and placements, with its audit and rule check on demand (cached)."""
    key = (run.id or 0, run.snapshot_hash)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    district, policy = run_snapshot(run)
    inst = build_instance(district, policy)
    result = stored_result(session, run)
    placements = list(session.exec(select(Placement).where(Placement.run_id == run.id).order_by(Placement.teacher_id)))
    out = RunReview(district, inst, placements, result, policy)
    if run.status == "done":
        _CACHE[key] = out
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return out


def must_place_unplaced(r: RunReview) -> list[dict[str, Any]]:
    """Must-place teachers the run left unplaced, with the solver's reason."""
    out = []
    for p in r.placements:
        t = r.district.teachers.get(p.teacher_id)
        if p.vacancy_id is None and t is not None and t.must_place:
            out.append({"teacher_id": t.teacher_id, "teacher": t.name, "certifications": ";".join(t.certifications),
                        "seniority_date": t.seniority_date.isoformat(), "salary": t.salary, "why": p.reason})
    return out


def unfilled_vacancies(r: RunReview) -> list[dict[str, Any]]:
    """Open posts the run did not fill, with why: nobody left holds the subject, nobody left may take the post
    under its school's rules, or some could have and the solver's order of objectives left it open."""
    filled = {p.vacancy_id for p in r.placements if p.vacancy_id}
    unplaced = [r.district.teachers[p.teacher_id] for p in r.placements
                if p.vacancy_id is None and p.teacher_id in r.district.teachers]
    certified = Counter(c for t in unplaced for c in set(t.certifications))
    allowed = np.zeros(len(r.inst.groups), np.int64)  # unplaced teachers a rule allows in each posting group
    for t in unplaced:
        allowed[r.inst.allowed_groups(t.teacher_id)] += 1
    out = []
    for v in sorted(r.district.vacancies.values(), key=lambda v: v.vacancy_id):
        if v.vacancy_id in filled:
            continue
        group = r.inst.vacancy_group.get(v.vacancy_id)
        if group is None:
            continue  # outside the district pool (an independent charter's post): the run's figures count these
        rules = group.rules
        subject = r.district.certifications[v.certification].name if v.certification in r.district.certifications \
            else v.certification
        model = model_name(rules.model)
        n, may = certified[v.certification], int(allowed[group.index])
        if not n:
            cause, why = "nobody left holds the subject", f"no teacher left unplaced holds {subject}"
        elif not may:
            if rules.mutual_consent:
                cause = "the committee ranked none of those left"
                why = (f"{n} unplaced teacher(s) hold {subject}, but the committee ranked none of them and "
                       f"{model} schools hire by mutual consent")
            else:
                cause = "none of those left listed the school"
                why = f"{n} unplaced teacher(s) hold {subject}, but none listed this school"
                why += ("" if rules.accepts_must_place else f", and {model} schools receive no forced placements")
        else:
            cause = "a higher-priority objective came first"
            why = (f"{may} unplaced teacher(s) could lawfully have taken it, but placing them here would "
                   "have cost a higher-priority objective (must-place, return rights or seniority) elsewhere")
        school = r.district.schools.get(v.school_id)
        out.append({"vacancy_id": v.vacancy_id, "school_id": v.school_id, "school": school.name if school else "",
                    "model": rules.model, "certification": v.certification, "fte": v.fte, "cause": cause,
                    "why": why})
    return out


def violations_by_rule(violations: list[Violation]) -> dict[str, int]:
    """How many violations of each rule, by rule."""
    return dict(sorted(Counter(v.rule for v in violations).items()))


def return_rights_ledger(r: RunReview) -> list[dict[str, Any]]:
    """Every teacher with a return right in the run's snapshot: whether the right could bite (the rule
    protects it and the former school posts a vacancy in one of their subjects), and whether it was honoured
    (placed at the former school or one they rank above it) or why not."""
    school_of = r.school_of
    reasons = {p.teacher_id: p.reason for p in r.placements}
    out = []
    for t in sorted(r.district.teachers.values(), key=lambda t: t.teacher_id):
        if not t.return_rights:
            continue
        former = t.former_school_id
        where = school_of.get(t.teacher_id)
        posts = [g for g in r.inst.groups_by_school.get(former or "", []) if g.certification in t.certifications]
        if not former or former not in r.district.schools:
            counts, status, why = False, "does not apply", "no former school on record"
        elif not r.inst.school_rules(former).honours_return_rights:
            counts, status, why = False, "does not apply", \
                f"{model_name(r.inst.school_rules(former).model)} schools do not honour return rights"
        elif not r.inst.consents(t.teacher_id, former):
            counts, status, why = False, "does not apply", "the teacher did not list their former school"
        elif not posts:
            counts, status, why = False, "does not apply", "the former school posts no vacancy in their subjects"
        elif r.inst.return_right_honoured(t, where):
            counts, status = True, "honoured"
            why = "placed at the former school" if where == former else "placed at a school they rank above it"
        else:
            counts, status = True, "not honoured"
            why = reasons.get(t.teacher_id, "") if where is None else "placed at a school they rank below it"
        out.append({"teacher_id": t.teacher_id, "teacher": t.name, "certifications": ";".join(t.certifications),
                    "former_school_id": former or "", "former_school": r.district.schools[former].name
                    if former in r.district.schools else "", "counted": counts, "status": status,
                    "placed_school_id": where or "", "placed_school": r.district.schools[where].name if where else "",
                    "why": why})
    return out


#: (figure, what a person reads, unit) in the order the compare page shows them.
COMPARED = (("placed", "teachers placed", "teachers"), ("unplaced", "teachers unplaced", "teachers"),
            ("must_place_placed", "must-place teachers placed", "teachers"),
            ("return_rights_honoured", "return rights honoured", "teachers"),
            ("reserve_cost", "reserve cost (salary of paid unplaced teachers)", "$"),
            ("reserve_cost_floor", "lowest lawful reserve cost", "$"),
            ("reserve_teachers", "paid teachers left unplaced", "teachers"),
            ("teacher_satisfaction", "teacher satisfaction", "%"),
            ("committee_top_share", "posts filled by a committee's top choices", "%"),
            ("blocking_pairs", "blocking pairs at committee schools", "pairs"),
            ("seniority_overrides", "posts where a more senior teacher was passed over", "posts"),
            ("interview_shortfalls", "vacancies short of the interview minimum", "vacancies"),
            ("rule_violations", "rule violations (independent checker)", "violations"))


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "$":
        return f"${value:,.0f}"
    if unit == "%":
        return f"{100 * value:.1f} %"
    return f"{value:,} {unit}"


def _diff(x: Any, y: Any, unit: str) -> str:
    if not isinstance(x, int | float) or not isinstance(y, int | float):
        return "—"
    d = y - x
    if unit == "$":
        return f"{'+' if d > 0 else '−' if d < 0 else '±'}${abs(d):,.0f}"
    sign = "+" if d > 0 else "−" if d < 0 else "±"
    if unit == "%":
        return f"{sign}{abs(100 * d):.1f} percentage points"
    return f"{sign}{abs(d):,} {unit}"


def compare_figures(a: PlacementRun, b: PlacementRun) -> list[dict[str, str]]:
    """Every compared figure of run A and run B with the difference B − A, all with units."""
    fa, fb = json.loads(a.figures_json or "{}"), json.loads(b.figures_json or "{}")
    return [{"figure": label, "key": key, "a": _fmt(fa.get(key), unit), "b": _fmt(fb.get(key), unit),
             "difference": _diff(fa.get(key), fb.get(key), unit)} for key, label, unit in COMPARED]


def placed_differently(session: Session, a: PlacementRun, b: PlacementRun) -> list[dict[str, Any]]:
    """Teachers whose outcome differs between the runs (post, or placed/unplaced)."""
    def outcomes(run: PlacementRun) -> dict[str, Placement]:
        return {p.teacher_id: p for p in session.exec(select(Placement).where(Placement.run_id == run.id))}
    pa, pb = outcomes(a), outcomes(b)
    out = []
    for tid in sorted(set(pa) | set(pb)):
        x, y = pa.get(tid), pb.get(tid)
        if x is not None and y is not None and x.vacancy_id == y.vacancy_id:
            continue
        out.append({"teacher_id": tid, "a_vacancy_id": x.vacancy_id if x else "", "a_school_id": (x.school_id or "") if x else "",
                    "a_kind": x.kind if x else "not in run", "b_vacancy_id": y.vacancy_id if y else "",
                    "b_school_id": (y.school_id or "") if y else "", "b_kind": y.kind if y else "not in run"})
    return out
