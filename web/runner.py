"""Placement runs started from the web: recorded at once, solved after the response, polled by the page."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from fastapi import BackgroundTasks, HTTPException
from fastapi.responses import FileResponse

from solver.policy import scenario
from staffing.db import session_scope
from staffing.runs import fail_run, get_run, solve_run, start_run, store_result

log = logging.getLogger(__name__)
MAX_TIME_LIMIT = 300.0
#: The Lagrangian bound stops on its own on a 1,000-school district within about 10 minutes of work.
MAX_BOUND_SECONDS = 900.0


def parse_request(name: str, time_limit: str | float, method: str, bound_seconds: str | float = 0.0):
    """Validate a run request; ValueError says what is wrong in words a form can show."""
    try:
        policy = scenario(name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    try:
        seconds = float(time_limit)
    except (TypeError, ValueError):
        raise ValueError(f"time limit must be a number of seconds, got {time_limit!r}") from None
    if not 0 < seconds <= MAX_TIME_LIMIT:
        raise ValueError(f"time limit must be between 0 and {MAX_TIME_LIMIT:.0f} seconds")
    try:
        proof = float(bound_seconds or 0)
    except (TypeError, ValueError):
        raise ValueError(f"seconds to prove the gap must be a number, got {bound_seconds!r}") from None
    if not 0 <= proof <= MAX_BOUND_SECONDS:
        raise ValueError(f"seconds to prove the gap must be between 0 (off) and {MAX_BOUND_SECONDS:.0f}")
    return policy.with_(time_limit=seconds, bound_seconds=proof), method


def start_in_background(url: str, background: BackgroundTasks, name: str, time_limit: str | float, method: str,
                        actor: str, bound_seconds: str | float = 0.0) -> int:
    policy, method = parse_request(name, time_limit, method, bound_seconds)
    with session_scope(url) as session:  # committed before the solve starts, so the page can poll it
        run = start_run(session, policy, actor, method)
        run_id = run.id
    background.add_task(solve_recorded_run, url, run_id)  # type: ignore[arg-type]
    return run_id  # type: ignore[return-value]


def solve_recorded_run(url: str, run_id: int) -> None:
    """Read the run, solve with no transaction open (a long solve must not hold locks), store the result."""
    try:
        with session_scope(url) as session:
            run = get_run(session, run_id)
        result, figures = solve_run(run)
        with session_scope(url) as session:
            store_result(session, run_id, result, figures)
    except Exception as exc:  # a failed solve must show on the page, not vanish in a log
        log.exception("placement run %s failed", run_id)
        with session_scope(url) as session:
            fail_run(session, run_id, f"{type(exc).__name__}: {exc}")


# -- trade-off report on the current pool -----------------------------------------------------------------------
REPORT_FILE = re.compile(r"^[a-z_]+\.(png|svg|csv|html)$")


def tradeoff_state(report_dir: Path) -> dict[str, object]:
    current = report_dir / "current"
    summary = current / "scenario_summary.csv"
    table = None
    if summary.exists():
        import pandas as pd

        frame = pd.read_csv(summary, index_col=0)
        keep = [c for c in frame.columns if c.endswith("(mean)") and c.split(" ")[0] in (
            "placed", "unplaced", "reserve_cost", "must_place_placed", "forced", "committee_top_share_autonomous",
            "teacher_satisfaction", "seniority_overrides")]
        table = frame[keep].round(3)
    error = (report_dir / "error.txt").read_text() if (report_dir / "error.txt").exists() else None
    return {"running": (report_dir / "running").exists(), "ready": summary.exists(), "table": table, "error": error}


def start_tradeoffs(url: str, report_dir: Path, background: BackgroundTasks, actor: str) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    marker = report_dir / "running"
    if marker.exists():
        return  # one analysis at a time; the page is already polling it
    marker.write_text(actor)
    background.add_task(compute_tradeoffs, url, report_dir)


def compute_tradeoffs(url: str, report_dir: Path) -> None:
    """Write the report to a fresh folder and swap it in, so readers never see a half-written report."""
    from staffing.analysis import current_district_report
    from staffing.store import load_district

    fresh, current = report_dir / "next", report_dir / "current"
    try:
        (report_dir / "error.txt").unlink(missing_ok=True)
        with session_scope(url) as session:
            district = load_district(session)
        if not district.vacancies:
            raise ValueError("there are no open vacancies in the pool")
        shutil.rmtree(fresh, ignore_errors=True)
        current_district_report(district, fresh)
        shutil.rmtree(current, ignore_errors=True)
        fresh.rename(current)
    except Exception as exc:  # shown on the page
        log.exception("trade-off analysis failed")
        (report_dir / "error.txt").write_text(f"{type(exc).__name__}: {exc}")
    finally:
        (report_dir / "running").unlink(missing_ok=True)


def report_file(report_dir: Path, name: str) -> FileResponse:
    path = report_dir / "current" / name
    if not REPORT_FILE.match(name) or not path.is_file():
        raise HTTPException(404, f"no report file {name!r}")
    return FileResponse(path)
