"""CSV exports that are safe to open in a spreadsheet (OWASP "CSV injection").

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel and LibreOffice as
a formula (``=HYPERLINK(...)`` can leak data or run commands), so such a text cell gets a leading ``'``.
Numbers stay numbers: only text is changed.  Bundles (``staffing export``) are data, not reports, and are
written as they are so they re-import unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will not run it: text starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_rows(out: IO[str], rows: Iterable[Mapping[str, Any]], columns: Iterable[str]) -> None:
    """Write a header and ``rows`` (missing keys and None as empty cells), every cell neutralised."""
    columns = list(columns)
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: safe_cell("" if r.get(k) is None else r.get(k)) for k in columns} for r in rows)
