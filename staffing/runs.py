"""Placement runs: solve on a snapshot of the database, check, audit and record everything in one transaction.

A run stores its compressed snapshot, the policy and the effective rule table, the solver version, the
figures and every placement, so ``staffing replay`` can re-solve the same input and ``staffing audit`` can
explain a run long after the pool has changed.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from sqlalchemy import insert
from sqlmodel import Session, select

from solver import SOLVER_VERSION, solve
from solver.audit import AuditRow, seniority_audit
from solver.checker import Violation, check
from solver.figures import compute
from solver.instance import Instance
from solver.policy import Policy
from solver.result import Assignment, Result
from staffing.db_models import Placement, PlacementRun
from staffing.domain import District
from staffing.services import NotFound, log_change
from staffing.store import load_district


@dataclass
class RunOutcome:
    run: PlacementRun
    result: Result
    figures: dict[str, object]
    violations: list[Violation]
    audit: list[AuditRow]


def evaluate(district: District, policy: Policy, method: str = "cpsat") -> tuple[Instance, Result, dict, list, list]:
    """Solve, check, audit and compute figures: the pure part of a run, also used by the analysis."""
    inst = Instance(district, policy)
    result = solve(district, policy, method=method, instance=inst)
    violations = check(district, result.assignments, policy)
    audit = seniority_audit(district, result, inst)
    figures = compute(inst, result, audit)
    figures["rule_violations"] = len(violations)
    figures["solve"] = result.stats
    return inst, result, figures, violations, audit


def run_placement(session: Session, policy: Policy, actor: str = "cli", method: str = "cpsat") -> RunOutcome:
    """Run a round on the current pool and record it (inside the caller's transaction)."""
    district = load_district(session)
    if not district.vacancies:
        raise ValueError("there are no open vacancies to fill: import a bundle or add vacancies first")
    inst, result, figures, violations, audit = evaluate(district, policy, method)
    snapshot = district.to_json()
    run = PlacementRun(
        created_by=actor, scenario=policy.name, policy_json=policy.to_json(),
        rules_json=json.dumps({k: v.as_dict() for k, v in sorted(inst.rules.items())}, sort_keys=True),
        snapshot_hash=district.snapshot_hash(), snapshot=zlib.compress(snapshot.encode(), 6),
        solver_version=f"{SOLVER_VERSION}/{method}", time_limit=policy.time_limit, status="done",
        figures_json=json.dumps(figures, default=str))
    session.add(run)
    session.flush()
    rows = [{"run_id": run.id, "teacher_id": a.teacher_id, "vacancy_id": a.vacancy_id, "school_id": a.school_id,
             "kind": a.kind, "reason": a.reason} for a in result.assignments]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Placement), rows[start:start + 5000])
    log_change(session, actor, "run", "placement_run", str(run.id), None,
               json.dumps({"scenario": policy.name, "placed": figures["placed"]}))
    return RunOutcome(run, result, figures, violations, audit)


def get_run(session: Session, run_id: int | None = None) -> PlacementRun:
    """A run by id, or the newest when ``run_id`` is None."""
    if run_id is None:
        run = session.exec(select(PlacementRun).order_by(PlacementRun.id.desc())).first()  # type: ignore[union-attr]
        if run is None:
            raise NotFound("no placement run has been recorded yet: run `staffing place` first")
        return run
    run = session.get(PlacementRun, run_id)
    if run is None:
        raise NotFound(f"placement run {run_id} does not exist")
    return run


def run_snapshot(run: PlacementRun) -> tuple[District, Policy]:
    return District.from_json(zlib.decompress(run.snapshot).decode()), Policy.from_json(run.policy_json)


def stored_result(session: Session, run: PlacementRun) -> Result:
    rows = session.exec(select(Placement).where(Placement.run_id == run.id).order_by(Placement.teacher_id)).all()
    return Result(run.solver_version, [Assignment(r.teacher_id, r.vacancy_id, r.school_id, r.kind, r.reason)
                                       for r in rows], json.loads(run.figures_json).get("solve", {}))


def audit_run(session: Session, run: PlacementRun) -> list[AuditRow]:
    """The seniority audit of a recorded run, computed on the run's own snapshot and rules."""
    district, policy = run_snapshot(run)
    return seniority_audit(district, stored_result(session, run), Instance(district, policy))


def replay(session: Session, run: PlacementRun) -> tuple[Result, list[tuple[str, str | None, str | None]]]:
    """Re-solve a run from its stored snapshot and policy; return the new result and every teacher whose
    post differs (teacher, recorded vacancy, replayed vacancy)."""
    district, policy = run_snapshot(run)
    method = run.solver_version.split("/")[-1]
    result = solve(district, policy, method=method)
    before = {a.teacher_id: a.vacancy_id for a in stored_result(session, run).assignments}
    diffs = [(a.teacher_id, before.get(a.teacher_id), a.vacancy_id) for a in result.assignments
             if before.get(a.teacher_id) != a.vacancy_id]
    return result, diffs
