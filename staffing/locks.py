"""One writing command at a time per database: a second ``import`` or ``place`` waits its turn (up to
``STAFFING_COMMAND_WAIT_SECONDS``) or stops with a clear message, instead of dying mid-way on "database is
locked".

SQLite: an exclusive ``flock`` on ``<database file>.lock`` (released by the OS if the holder is killed).
PostgreSQL: a session-level advisory lock on a connection of its own (released when that connection ends).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


class CommandBusy(ValueError):
    """Another command is writing the same database."""


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


@contextmanager
def command_lock(url: str, command: str, wait_seconds: float = 0) -> Iterator[None]:
    """Hold the database's command lock for the block; :class:`CommandBusy` if another holds it past the wait."""
    deadline = time.monotonic() + wait_seconds
    path = _sqlite_file(url)
    if path is not None:
        lock = path.with_name(path.name + ".lock")
        with open(lock, "a+") as fh:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        fh.seek(0)
                        holder = fh.read().strip() or "another command"
                        raise CommandBusy(_busy(command, holder, wait_seconds)) from None
                    time.sleep(0.2)
            fh.seek(0)
            fh.truncate()
            fh.write(f"`staffing {command}` (process {os.getpid()})")
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    if make_url(url).drivername.startswith("postgresql"):
        from sqlalchemy import text

        from staffing.db import get_engine

        with get_engine(url).connect() as conn:
            while not conn.execute(text("SELECT pg_try_advisory_lock(hashtext('staffing.command'))")).scalar():
                conn.rollback()
                if time.monotonic() >= deadline:
                    raise CommandBusy(_busy(command, "another command", wait_seconds))
                time.sleep(0.2)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext('staffing.command'))"))
                conn.commit()
        return
    yield


def _busy(command: str, holder: str, waited: float) -> str:
    return (f"{holder} is writing to this database{f' (waited {waited:g} s)' if waited else ''}; `staffing "
            f"{command}` changed nothing: run it again when that one has finished, or set "
            "STAFFING_COMMAND_WAIT_SECONDS to wait for it")
