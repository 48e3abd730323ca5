"""Placement runs started from the web: recorded at once, solved after the response, polled by the page."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import BackgroundTasks, HTTPException
from fastapi.responses import FileResponse

from solver.policy import scenario
from solver.settings import SEARCH_MODES, SearchMode
from solver.progress import Throttled, describe
from staffing.db import session_scope
from staffing.runs import (
    claim_run,
    fail_run,
    get_run,
    note_progress,
    process_gone,
    solve_run,
    start_run,
    store_result,
    this_process,
)

log = logging.getLogger(__name__)
MAX_TIME_LIMIT = 300.0
#: The Lagrangian bound stops on its own on a 1,000-school district within about 10 minutes of work.
MAX_BOUND_SECONDS = 900.0
#: Seconds between two progress notes of the same step in the database (the run page polls every second).
PROGRESS_INTERVAL = 1.0


def _solver_slots() -> int:
    """How many runs this server solves at once (``STAFFING_SOLVER_SLOTS``, default 1).

    Why a limit: a district run takes both cores and 1.3-2.4 GB.  Two at once would each take twice as long,
    could hit the deterministic search's wall-clock cap (and then not replay), and could run the machine out of
    memory; queued, each run gets the machine to itself and the page says it is waiting."""
    raw = os.environ.get("STAFFING_SOLVER_SLOTS", "1")
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    log.warning("STAFFING_SOLVER_SLOTS=%r is not a positive whole number; solving one run at a time", raw)
    return 1


SOLVER_SLOTS = threading.BoundedSemaphore(_solver_slots())


#: How a run's search may spend its time limit, as the runs page offers it (the CLI's ``place --parallel``).
SEARCHES = SEARCH_MODES


def parse_request(name: str, time_limit: str | float, method: str, bound_seconds: str | float = 0.0,
                  search: str = "deterministic"):
    """Validate a run request; ValueError says what is wrong in words a form can show.

    ``search``: "deterministic" (the default: the same pool and policy give the same placements, so the run
    replays, but a district round takes several times its limit in wall time) or "parallel" (both cores against
    the wall clock: the round ends within its limit, and a replay may differ)."""
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
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
    return policy.with_(time_limit=seconds, search=SearchMode(search)).with_settings(bound_seconds=proof), method


def start_in_background(url: str, background: BackgroundTasks, name: str, time_limit: str | float, method: str,
                        actor: str, bound_seconds: str | float = 0.0, search: str = "deterministic") -> int:
    policy, method = parse_request(name, time_limit, method, bound_seconds, search)
    with session_scope(url) as session:  # committed before the solve starts, so the page can poll it
        run = start_run(session, policy, actor, method)
        # this server owns the run until its solver process starts: if the server stops first, the run shows
        # as interrupted rather than running for ever
        run.solver_process = this_process()
        run_id = run.id
    background.add_task(solve_recorded_run, url, run_id)  # type: ignore[arg-type]
    return run_id  # type: ignore[return-value]


def in_child_process(target: Callable[..., None], args: tuple, name: str,
                     started: Callable[[int], None] | None = None) -> str | None:
    """Run ``target(*args)`` in a fresh process, once a solver slot is free, and wait for it; None when it
    ended normally, else what went wrong, in words ("stopped unexpectedly (signal SIGABRT)").

    Why a process: the solver is native code, and an abort inside OR-Tools (one such CP-SAT presolve crash was
    found and avoided, see ``solver.cpsat.search._params``) cannot be caught; in the server's own process it would take
    every user's session down.  ``target`` must be importable, as the child starts afresh (spawn: forking a
    threaded server is unsafe).  ``started`` gets the child's process id as soon as it runs."""
    child = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name)
    with SOLVER_SLOTS:  # queued until a slot is free
        try:
            child.start()
        except OSError as exc:  # no process to be had (memory, process limits)
            log.exception("%s: could not start its process", name)
            return f"could not be started ({exc})"
        if started:
            started(child.pid)  # type: ignore[arg-type]
        child.join()
    if child.exitcode:
        log.error("%s: its process ended with %s", name, _exit(child.exitcode))
        return f"stopped unexpectedly ({_exit(child.exitcode)})"
    return None


def _exit(code: int) -> str:
    """A child's exit code in words: negative codes are the signal that ended it."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def solve_recorded_run(url: str, run_id: int, target: Callable[[str, int], None] | None = None) -> None:
    """Solve a started run in a child process (:func:`in_child_process`) and wait for it.

    The child records the result in one transaction or not at all; if it dies, the run fails with a message
    saying so.  Until the child starts, the run stays claimed by this server.  ``target`` replaces the
    child's work in tests."""
    def claim(pid: int) -> None:
        with session_scope(url) as session:
            claim_run(session, run_id, this_process(pid))

    problem = in_child_process(target or solve_and_store, (url, run_id), f"placement run {run_id}", claim)
    if problem:
        with session_scope(url) as session:
            fail_run(session, run_id, f"the solver process {problem} before it recorded a result; nothing was "
                                      "placed: start the run again, and report the run number if it happens again")


class ProgressNotes:
    """A progress listener (:mod:`solver.progress`) that writes the run's ``progress`` for its page, each note in a
    short transaction of its own.

    A note that cannot be written (the database briefly locked or unreachable) is logged and skipped: progress is
    for the person waiting, and must never fail the solve it describes."""

    def __init__(self, url: str, run_id: int):
        self.url, self.run_id = url, run_id

    def __call__(self, step: str, detail: str = "") -> None:
        try:
            with session_scope(self.url) as session:
                note_progress(session, self.run_id, describe(step, detail))
        except Exception:  # progress must never fail the solve: see the class docstring
            log.warning("placement run %s: could not record its progress", self.run_id, exc_info=True)


def watch_parent(on_orphaned: Callable[[], None], every: float = 1.0) -> None:
    """In a child process: when the server that started it dies (the child is re-parented), call
    ``on_orphaned`` and end the child, so no solver keeps running outside the server's one-at-a-time limit."""
    server = multiprocessing.parent_process()
    if server is None:  # not a child (a test calling the work directly)
        return
    parent = server.pid  # the server's, even if it died before this child got this far

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                try:
                    on_orphaned()
                finally:
                    os._exit(3)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def solve_and_store(url: str, run_id: int) -> None:
    """The child's work: read the run, solve with no transaction open (a long solve must not hold locks), store
    the result; a Python error fails the run with its message."""
    def orphaned() -> None:
        with session_scope(url) as session:
            fail_run(session, run_id, "the web server that started this run stopped while it was solving; nothing "
                                      "was placed: start the run again")

    watch_parent(orphaned)
    try:
        with session_scope(url) as session:
            run = get_run(session, run_id)
        result, figures = solve_run(run, Throttled(ProgressNotes(url, run_id), PROGRESS_INTERVAL))
        with session_scope(url) as session:
            store_result(session, run_id, result, figures)
    except Exception as exc:  # a failed solve must show on the page, not vanish in a log
        log.exception("placement run %s failed", run_id)
        with session_scope(url) as session:
            fail_run(session, run_id, f"{type(exc).__name__}: {exc}")


# -- trade-off report on the current pool -----------------------------------------------------------------------
REPORT_FILE = re.compile(r"^[a-z_]+\.(png|svg|csv|html|js)$")
#: Draws of the live pool the HR page's analysis solves (draw 0 the whole pool, the others 90 % subsamples).
TRADEOFF_DRAWS_ENV = "STAFFING_TRADEOFF_DRAWS"


def tradeoff_state(report_dir: Path) -> dict[str, object]:
    current = report_dir / "current"
    body = current / "report_body.html"
    running = (report_dir / "running").exists()
    if running and _marker_process_gone(report_dir / "running"):
        (report_dir / "error.txt").write_text("the analysis was interrupted: the server process running it ended "
                                              "(killed, crashed or restarted); no report was written, start it again")
        (report_dir / "running").unlink(missing_ok=True)
        (report_dir / "progress.txt").unlink(missing_ok=True)
        running = False
    error = (report_dir / "error.txt").read_text() if (report_dir / "error.txt").exists() else None
    step = report_dir / "progress.txt"
    return {"running": running, "ready": body.exists(), "body": body.read_text() if body.exists() else None,
            "error": error, "progress": step.read_text() if running and step.exists() else None}


def start_tradeoffs(url: str, report_dir: Path, background: BackgroundTasks, actor: str) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    marker = report_dir / "running"
    if marker.exists():
        return  # one analysis at a time; the page is already polling it
    # names this server's process, so an analysis it can no longer finish is seen as interrupted, not running
    marker.write_text(json.dumps({"process": this_process(), "actor": actor}))
    background.add_task(tradeoffs_in_child, url, report_dir)


def _marker_process_gone(marker: Path) -> bool:
    try:
        process = json.loads(marker.read_text()).get("process")
    except (OSError, ValueError, AttributeError):  # a marker from before processes were recorded, or half-written
        return False
    return process_gone(process)


def tradeoffs_in_child(url: str, report_dir: Path, target: Callable[[str, Path], None] | None = None) -> None:
    """The analysis solves many rounds: in a child process too (:func:`in_child_process`), so a native crash
    shows on the page as the analysis's error instead of ending the server."""
    problem = in_child_process(target or compute_tradeoffs, (url, report_dir), "trade-off analysis")
    if problem:
        (report_dir / "error.txt").write_text(f"the analysis process {problem}; no report was written")
        (report_dir / "running").unlink(missing_ok=True)


def compute_tradeoffs(url: str, report_dir: Path) -> None:
    """Write the report to a fresh folder and swap it in, so readers never see a half-written report."""
    from staffing.analysis import current_district_report
    from staffing.store import load_district

    fresh, current = report_dir / "next", report_dir / "current"
    step = report_dir / "progress.txt"

    def orphaned() -> None:
        (report_dir / "error.txt").write_text("the web server that started the analysis stopped; no report was "
                                              "written, start it again")
        (report_dir / "running").unlink(missing_ok=True)
        step.unlink(missing_ok=True)

    watch_parent(orphaned)
    try:
        (report_dir / "error.txt").unlink(missing_ok=True)
        with session_scope(url) as session:
            district = load_district(session)
        if not district.vacancies:
            raise ValueError("there are no open vacancies in the pool")
        shutil.rmtree(fresh, ignore_errors=True)
        draws = int(os.environ.get(TRADEOFF_DRAWS_ENV, "5"))
        current_district_report(district, fresh, draws=max(1, draws), asset_prefix="/hr/tradeoffs/files/",
                                progress=lambda what, detail: _replace(step, describe(what, detail)))
        shutil.rmtree(current, ignore_errors=True)
        fresh.rename(current)
    except Exception as exc:  # shown on the page
        log.exception("trade-off analysis failed")
        (report_dir / "error.txt").write_text(f"{type(exc).__name__}: {exc}")
    finally:
        step.unlink(missing_ok=True)
        (report_dir / "running").unlink(missing_ok=True)


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole (a new file renamed over the old), so the polling page never reads half."""
    part = path.with_suffix(".part")
    part.write_text(text)
    part.replace(path)


def report_file(report_dir: Path, name: str) -> FileResponse:
    path = report_dir / "current" / name
    if not REPORT_FILE.match(name) or not path.is_file():
        raise HTTPException(404, f"no report file {name!r}")
    return FileResponse(path)
