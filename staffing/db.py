"""Database engine and sessions.

The URL comes from ``STAFFING_DATABASE_URL`` (any SQLAlchemy URL, e.g.
``postgresql+psycopg://user:pw@127.0.0.1/staffing``); without it an embedded SQLite file ``staffing.db`` in
the working folder is used.  The schema is owned by Alembic: :func:`init_db` upgrades to the newest revision.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

T = TypeVar("T")

DEFAULT_URL = "sqlite:///staffing.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url() -> str:
    return os.environ.get("STAFFING_DATABASE_URL", DEFAULT_URL)


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        from staffing.settings import get_settings

        busy_ms = get_settings().busy_seconds * 1000  # a writer waits this long for another before "busy"
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return cfg


def init_db(url: str | None = None) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back on any exception (nothing half-written)."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_busy(exc: BaseException) -> bool:
    """Whether an error is SQLite's "database is locked"/"busy" (another writer held it past the busy timeout)."""
    from sqlalchemy.exc import OperationalError

    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, OperationalError) and ("locked" in text or "busy" in text)


def retrying(url: str | None, work: Callable[[Session], T], attempts: int = 3,
             say: Callable[[str], None] | None = None) -> T:
    """Run ``work(session)`` in a transaction; when SQLite is busy past its timeout, say so and try again (the
    transaction was rolled back whole, so a retry is safe).  The last busy error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(url) as session:
                return work(session)
        except Exception as exc:
            if not is_busy(exc) or attempt == attempts:
                raise
            message = f"database busy (another program is writing), retrying ({attempt} of {attempts - 1})"
            (say or (lambda m: print(m, file=sys.stderr)))(message)
            time.sleep(attempt)
    raise AssertionError("unreachable")


def is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def use_snapshot_isolation(session) -> None:
    """Make the rest of this transaction read one consistent snapshot (PostgreSQL REPEATABLE READ).

    A placement run reads teachers, vacancies, preferences and rankings in separate statements; under READ
    COMMITTED a principal's commit between two of them would give the run a snapshot that never existed.
    SQLite already reads a single snapshot per transaction.  Must be the transaction's first statement.
    """
    if is_postgres(session) and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def serialize(session, name: str) -> None:
    """Hold a transaction-scoped lock named ``name`` (PostgreSQL advisory lock; SQLite serializes writers)."""
    if is_postgres(session):
        from sqlalchemy import text

        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
