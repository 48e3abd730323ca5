"""Placement runs started from the web: recorded at once, solved after the response, polled by the page."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks

from solver.policy import scenario
from staffing.db import session_scope
from staffing.runs import fail_run, finish_run, get_run, start_run

log = logging.getLogger(__name__)
MAX_TIME_LIMIT = 300.0


def parse_request(name: str, time_limit: str | float, method: str):
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
    return policy.with_(time_limit=seconds), method


def start_in_background(url: str, background: BackgroundTasks, name: str, time_limit: str | float, method: str,
                        actor: str) -> int:
    policy, method = parse_request(name, time_limit, method)
    with session_scope(url) as session:  # committed before the solve starts, so the page can poll it
        run = start_run(session, policy, actor, method)
        run_id = run.id
    background.add_task(solve_recorded_run, url, run_id)  # type: ignore[arg-type]
    return run_id  # type: ignore[return-value]


def solve_recorded_run(url: str, run_id: int) -> None:
    try:
        with session_scope(url) as session:
            finish_run(session, get_run(session, run_id))
    except Exception as exc:  # a failed solve must show on the page, not vanish in a log
        log.exception("placement run %s failed", run_id)
        with session_scope(url) as session:
            fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
