"""Every row of every table of a database, to assert that a refused request changed nothing."""

from __future__ import annotations

from sqlalchemy import inspect, text

from staffing.db import get_engine


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: two equal dumps mean the database did not change."""
    engine = get_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            out[table] = sorted(tuple(map(repr, row)) for row in rows)
    return out
