"""Placement runs: solve on a snapshot of the database, check, audit and record everything in one transaction.

A run stores its compressed snapshot, the policy and the effective rule table, the solver version, the
figures and every placement, so ``staffing replay`` can re-solve the same input and ``staffing audit`` can
explain a run long after the pool has changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import zlib
from dataclasses import dataclass
from datetime import timezone

from sqlalchemy import insert, update
from sqlmodel import Session, select

from solver import METHODS, SOLVER_VERSION, WALL_CLOCK_FACTOR, build_instance, solve, stage_value
from solver.audit import AuditRow, seniority_audit
from solver.checker import Violation, check
from solver.figures import compute
from solver.instance import Instance
from solver.policy import Policy
from solver.progress import Progress, silent
from solver.result import Assignment, Result
from solver.solve_figures import SolveFigures
from staffing.db_models import Placement, PlacementRun, PoolEntry, PoolStatusChange, VacancyRow, utcnow
from staffing.domain import District
from staffing.services import NotFound, log_change
from staffing.db import retrying, serialize, session_scope, use_snapshot_isolation
from staffing.store import load_district


@dataclass
class RunOutcome:
    run: PlacementRun
    result: Result
    figures: dict[str, object]
    violations: list[Violation]
    audit: list[AuditRow]


def evaluate(district: District, policy: Policy, method: str = "cpsat",
             progress: Progress = silent) -> tuple[Instance, Result, dict, list, list]:
    """Solve, check, audit and compute figures: the pure part of a run, also used by the analysis.  ``progress``
    hears each step (:mod:`solver.progress`)."""
    inst = build_instance(district, policy, progress)
    result = solve(district, policy, method=method, instance=inst, progress=progress)
    progress("checking the rules", "an independent check of every placement")
    violations = check(district, result.assignments, policy)
    progress("seniority audit", "every more senior teacher passed over, and why")
    audit = seniority_audit(district, result, inst)
    figures = compute(inst, result, audit)
    figures["rule_violations"] = len(violations)
    if (floor := reserve_cost_floor(inst, result.solve)) is not None:
        figures["reserve_cost_floor"] = floor
    figures["solve"] = result.solve.to_dict()
    return inst, result, figures, violations, audit


def start_run(session: Session, policy: Policy, actor: str = "cli", method: str = "cpsat") -> PlacementRun:
    """Record a new run on a consistent snapshot of the pool, status ``running``; the solve comes after."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    from staffing.season import prepare_round  # the season decides what the round may do

    use_snapshot_isolation(session)
    policy = prepare_round(session, policy, actor)
    district = load_district(session)
    if not district.vacancies:
        raise ValueError("there are no open vacancies to fill: import a bundle or add vacancies first")
    text = district.to_json()  # once: the hash is District.snapshot_hash() of the same text
    run = PlacementRun(
        created_by=actor, scenario=policy.name, policy_json=policy.to_json(),
        rules_json=json.dumps({k: v.as_dict() for k, v in sorted(policy.apply(district.models).items())},
                              sort_keys=True),
        snapshot_hash=hashlib.sha256(text.encode()).hexdigest(), snapshot=zlib.compress(text.encode(), 6),
        solver_version=f"{SOLVER_VERSION}/{method}", time_limit=policy.time_limit, status="running")
    session.add(run)
    session.flush()
    log_change(session, actor, "start", "placement_run", str(run.id), None,
               json.dumps({"scenario": policy.name, "method": method, "snapshot": run.snapshot_hash,
                           "search": policy.search.name, "settings": policy.settings.describe()}))
    return run


def solve_run(run: PlacementRun, progress: Progress = silent) -> tuple[Result, dict[str, object]]:
    """Solve a started run on its own stored snapshot; touches no database, so no transaction is held open
    while the solver works."""
    district, policy = run_snapshot(run)
    _, result, figures, _, _ = evaluate(district, policy, run.solver_version.split("/")[-1], progress)
    return result, figures


def store_result(session: Session, run_id: int, result: Result, figures: dict[str, object]) -> PlacementRun:
    """Record a run's placements and figures and mark it done, in the caller's transaction."""
    run = get_run(session, run_id)
    if run.status != "running":
        raise ValueError(f"run {run_id} is already {run.status}")
    rows = [{"run_id": run.id, "teacher_id": a.teacher_id, "vacancy_id": a.vacancy_id, "school_id": a.school_id,
             "kind": a.kind, "reason": a.reason} for a in result.assignments]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Placement), rows[start:start + 5000])
    run.figures_json = json.dumps(figures, default=str)
    run.status, run.solver_process, run.progress = "done", None, None
    session.add(run)
    session.flush()
    return run


def run_placement(session: Session, policy: Policy, actor: str = "cli", method: str = "cpsat",
                  progress: Progress = silent) -> RunOutcome:
    """Start, solve and record a run in the caller's transaction: either the whole run is recorded or nothing."""
    run = start_run(session, policy, actor, method)
    district, policy = run_snapshot(run)
    _, result, figures, violations, audit = evaluate(district, policy, method, progress)
    return RunOutcome(store_result(session, run.id, result, figures), result, figures, violations, audit)


def run_placement_outside_transactions(url: str, policy: Policy, actor: str = "cli", method: str = "cpsat",
                                       progress: Progress = silent) -> RunOutcome:
    """Start a run in one short transaction, solve with none open, record the result in another short one.

    Why: a solve takes minutes, and on SQLite an open write transaction locks out every other writer (web
    users' clicks failed with "database is locked").  The run names this process while it solves, so a run
    whose process is killed shows as failed (:func:`fail_interrupted_runs`); an error or Ctrl-C fails it at once."""
    with session_scope(url) as session:
        run = start_run(session, policy, actor, method)
        run.solver_process = this_process()
        run_id = run.id
    try:
        district, snapshot_policy = run_snapshot(run)
        _, result, figures, violations, audit = evaluate(district, snapshot_policy, method, progress)
        stored = retrying(url, lambda session: store_result(session, run_id, result, figures))  # type: ignore[arg-type]
    except BaseException as exc:  # including Ctrl-C: the run must not stay "running"
        why = "interrupted (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        with session_scope(url) as session:
            fail_run(session, run_id, f"the run stopped before it recorded a result: {why}")  # type: ignore[arg-type]
        raise
    return RunOutcome(stored, result, figures, violations, audit)


def fail_interrupted_runs(session: Session) -> int:
    """Mark failed, with why, every running run whose solving process is known to have ended (killed, crashed,
    server restarted); returns how many.  Called wherever runs are listed, so none stays "running" for ever."""
    running = session.exec(select(PlacementRun).where(PlacementRun.status == "running")).all()
    gone = [run for run in running if process_gone(run.solver_process)]
    for run in gone:
        fail_run(session, run.id, f"{INTERRUPTED} (process {run.solver_process})")  # type: ignore[arg-type]
    return len(gone)


def fail_run(session: Session, run_id: int, message: str) -> None:
    """Mark a running run failed with the reason; a finished run is never turned into a failed one."""
    run = session.get(PlacementRun, run_id)
    if run is not None and run.status == "running":
        run.status, run.solver_process, run.progress = "failed", None, None
        run.figures_json = json.dumps({"error": message})
        session.add(run)


def this_process(pid: int | None = None) -> str:
    """How a run names the process solving it: ``pid@host``."""
    return f"{pid or os.getpid()}@{socket.gethostname()}"


def claim_run(session: Session, run_id: int, process: str) -> None:
    """Record which process is solving a running run (a finished run keeps no process)."""
    session.execute(update(PlacementRun).where(PlacementRun.id == run_id, PlacementRun.status == "running")
                    .values(solver_process=process))


def note_progress(session: Session, run_id: int, text: str) -> None:
    """Record what the solver of a running run is doing (a finished run keeps none)."""
    session.execute(update(PlacementRun).where(PlacementRun.id == run_id, PlacementRun.status == "running")
                    .values(progress=text))


def seconds_since_start(run: PlacementRun) -> int:
    """How long ago a run was started, in whole seconds (a database may hand back its time without the zone:
    it is UTC)."""
    started = run.created_at if run.created_at.tzinfo else run.created_at.replace(tzinfo=timezone.utc)
    return max(0, int((utcnow() - started).total_seconds()))


def waiting_for_solver(run: PlacementRun) -> bool:
    """Whether a running run is still held by the server that started it, queued for a solver process (the
    child claims the run when it starts).  Only this server's own runs can be told apart."""
    return run.status == "running" and run.solver_process == this_process()


def process_gone(process: str | None) -> bool:
    """Whether the ``pid@host`` process is known to have ended.  Only a process on this host can be checked;
    one elsewhere, or a run with no process recorded, is not known to be gone."""
    if not process or "@" not in process:
        return False
    pid, host = process.split("@", 1)
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):  # someone else's process, or not a process id: not known to be gone
        pass
    return False


INTERRUPTED = ("the process solving this run ended before it recorded a result (it was killed or crashed, or the "
               "web server was restarted or stopped); nothing was placed: start the run again")


#: the largest id a 32-bit integer column (PostgreSQL's SERIAL) holds
MAX_ID = 2**31 - 1


class PoolChanged(Exception):
    """The pool changed since the run's snapshot: publishing it would place teachers on stale data."""


def publish_run(session: Session, run_id: int, actor: str) -> tuple[PlacementRun, bool]:
    """Publish a run: atomically mark it published, fill its vacancies and take its teachers out of the pool.

    Idempotent and safe under concurrency: the conditional UPDATE succeeds for exactly one caller; any other
    (a second HR user, a double click) sees ``published_at`` already set and gets the same run back with
    ``False``.  A run whose snapshot no longer matches the pool is refused.  Publications are serialized
    (advisory lock on PostgreSQL, the single writer on SQLite), so the snapshot check cannot be raced.
    """
    serialize(session, "staffing.publish")  # one publication at a time: two runs on one snapshot cannot both land
    run = get_run(session, run_id)
    if run.status != "done":
        raise ValueError(f"run {run_id} is {run.status}; only a finished run can be published")
    if run.published_at is not None:
        return run, False
    if load_district(session).snapshot_hash() != run.snapshot_hash:
        raise PoolChanged(f"the pool or the vacancies changed since run {run_id} was made; run a new round")
    claimed = session.execute(
        update(PlacementRun).where(PlacementRun.id == run_id, PlacementRun.published_at.is_(None))  # type: ignore[union-attr]
        .values(published_at=utcnow(), published_by=actor, version=PlacementRun.version + 1))
    if claimed.rowcount != 1:
        session.rollback()
        return get_run(session, run_id), False
    placed = session.exec(select(Placement).where(Placement.run_id == run_id, Placement.vacancy_id.is_not(None))).all()  # type: ignore[union-attr]
    vacancy_ids = [p.vacancy_id for p in placed]
    session.execute(update(VacancyRow).where(VacancyRow.vacancy_id.in_(vacancy_ids))  # type: ignore[union-attr]
                    .values(status="filled", version=VacancyRow.version + 1))
    for p in placed:
        session.execute(update(PoolEntry).where(PoolEntry.teacher_id == p.teacher_id)
                        .values(placed_vacancy_id=p.vacancy_id, version=PoolEntry.version + 1))
        session.add(PoolStatusChange(teacher_id=p.teacher_id, changed_by=actor, from_status=None, to_status="placed",
                                     note=f"placed at {p.vacancy_id} ({p.kind}) by run {run_id}"))
    log_change(session, actor, "publish", "placement_run", str(run_id), None,
               json.dumps({"placed": len(placed)}))
    session.flush()
    session.refresh(run)
    return run, True


def get_run(session: Session, run_id: int | None = None) -> PlacementRun:
    """A run by id, or the newest when ``run_id`` is None."""
    if run_id is None:
        run = session.exec(select(PlacementRun).order_by(PlacementRun.id.desc())).first()  # type: ignore[union-attr]
        if run is None:
            raise NotFound("no placement run has been recorded yet: run `staffing place` first")
        return run
    if not 0 < run_id <= MAX_ID:  # a database integer cannot hold it: no such run (not an overflow error)
        raise NotFound(f"placement run {run_id} does not exist")
    run = session.get(PlacementRun, run_id)
    if run is None:
        raise NotFound(f"placement run {run_id} does not exist")
    if run.status == "running" and process_gone(run.solver_process):
        # found on read, so a page polling an interrupted run shows why instead of waiting for ever
        fail_run(session, run.id, INTERRUPTED)  # type: ignore[arg-type]
    return run


def run_snapshot(run: PlacementRun) -> tuple[District, Policy]:
    return District.from_json(zlib.decompress(run.snapshot).decode()), Policy.from_json(run.policy_json)


def stored_result(session: Session, run: PlacementRun) -> Result:
    rows = session.exec(select(Placement).where(Placement.run_id == run.id).order_by(Placement.teacher_id)).all()
    return Result(run.solver_version, [Assignment(r.teacher_id, r.vacancy_id, r.school_id, r.kind, r.reason)
                                       for r in rows], recorded_figures(run))


def recorded_figures(run: PlacementRun) -> SolveFigures:
    """A run's solve figures as recorded, by this version or an earlier one (none for a failed run)."""
    return SolveFigures.from_dict(json.loads(run.figures_json or "{}").get("solve"))


def audit_run(session: Session, run: PlacementRun) -> list[AuditRow]:
    """The seniority audit of a recorded run, computed on the run's own snapshot and rules."""
    district, policy = run_snapshot(run)
    return seniority_audit(district, stored_result(session, run), build_instance(district, policy))


def wall_clock_cuts(solve: SolveFigures) -> str | None:
    """Why a deterministic run may not replay exactly, or None: the searches the wall-clock cap may have ended."""
    if not (cut := solve.cut_by_wall_clock):
        return None
    return (f"{cut} search(es) ran for half their wall-clock cap ({WALL_CLOCK_FACTOR:g}x the deterministic budget) "
            "or more, so the cap may have decided where they stopped: these placements may depend on how loaded the "
            "machine was and a replay may differ; solve again on a less busy machine for a replayable run")


#: Why a parallel round may not replay exactly (``place --parallel``, or "both cores" on the runs page).
PARALLEL_SEARCH = ("it was solved on both cores against the wall clock (a parallel round): where the time limit "
                   "stopped a search, its placements depend on how fast the machine was, and a replay may differ")


def search_mode(run: PlacementRun) -> str:
    """"parallel" for a CP-SAT round searched on both cores against the wall clock, else "deterministic" (the
    baselines are, whatever their policy says)."""
    parallel = run.solver_version.endswith("/cpsat") and json.loads(run.policy_json).get("search") == "parallel"
    return "parallel" if parallel else "deterministic"


def replay_caveat(run: PlacementRun) -> str | None:
    """Why a recorded run may not replay exactly, or None: a parallel round, or a deterministic one whose
    searches the wall-clock cap may have ended."""
    if search_mode(run) == "parallel":
        return PARALLEL_SEARCH
    return wall_clock_cuts(recorded_figures(run))


def reserve_cost_floor(inst: Instance, solve: SolveFigures) -> int | None:
    """The least salary ($) that any lawful placement leaves unplaced, proven by the reserve stage's
    whole-problem bound (:meth:`SolveFigures.proven_gaps`); None where the run has no such bound.

    Why: the reserve stage maximises the salary placed, in whole $k, and its gap is a share of that; a budget
    office reads the reserve cost instead.  Every district employee's salary, less the most the bound allows to
    be placed, less the hundreds the stage's whole-$k figures leave out for everyone who could be placed, is a
    floor no placement under the rules goes below."""
    reserve = solve.proven_gap("reserve")
    if reserve is None:
        return None
    employees = [t for t in inst.district.teachers.values() if t.is_district_employee]
    truncated = sum(t.salary % 1000 for t in employees if inst.may_be_placed(t.teacher_id))
    return max(0, sum(t.salary for t in employees) - 1000 * reserve.bound - truncated)


@dataclass
class Replay:
    """A re-solve of a recorded run, set against the recorded placements.

    ``objectives`` holds, per solver stage, the rules' objective of the recorded placements and of the
    replayed ones, both evaluated here on the run's snapshot (never copied from the recorded figures, so a
    placement edited after the run shows as what it is).  Equal objectives with different placements mean the
    replay found another placement exactly as good under the rules; ``recorded_violations`` says whether the
    recorded placements still obey them."""
    result: Result
    diffs: list[tuple[str, str | None, str | None]]
    objectives: dict[str, tuple[int, int]]
    recorded_violations: list[Violation]

    @property
    def equally_good(self) -> bool:
        return not self.recorded_violations and all(a == b for a, b in self.objectives.values())


def replay(session: Session, run: PlacementRun, progress: Progress = silent) -> Replay:
    """Re-solve a run from its stored snapshot and policy; list every teacher whose post differs (teacher,
    recorded vacancy, replayed vacancy) and compare the two placements stage by stage."""
    district, policy = run_snapshot(run)
    method = run.solver_version.split("/")[-1]
    # the extra bound proves things about the placements but never changes them: not worth minutes again
    policy = policy.with_settings(bound_seconds=0.0)
    # built once: the solve's, then the stage values' (seconds on a district)
    inst = build_instance(district, policy, progress)
    result = solve(district, policy, method=method, instance=inst, progress=progress)
    recorded = stored_result(session, run).assignments
    before = {a.teacher_id: a.vacancy_id for a in recorded}
    diffs = [(a.teacher_id, before.get(a.teacher_id), a.vacancy_id) for a in result.assignments
             if before.get(a.teacher_id) != a.vacancy_id]
    if not diffs:
        return Replay(result, diffs, {}, [])
    stages = list(result.solve.stages)
    old, new = stage_objectives(inst, recorded, stages), stage_objectives(inst, result.assignments, stages)
    return Replay(result, diffs, {s: (old[s], new[s]) for s in stages}, check(district, recorded, policy))


def stage_objectives(inst: Instance, assignments: list[Assignment], stages: list[str]) -> dict[str, int]:
    """The solver's stage objectives (``must_place``, ``reserve``, ``welfare``) of a placement; a post the
    snapshot does not know (an edited record) counts as no placement."""
    placement = {a.teacher_id: group.index for a in assignments
                 if a.vacancy_id and (group := inst.vacancy_group.get(a.vacancy_id))}
    return {stage: stage_value(inst, placement, stage) for stage in stages}
