"""Server-side lists: sort, paginate and download every row of a filtered list as CSV.

One helper for every table a district reads, so no page caps a list silently: each shows how many rows match,
pages through all of them and offers the whole filtered list (names included) as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from staffing.csvsafe import safe_cell

PER_PAGE = 50
MAX_PER_PAGE = 500


@dataclass(frozen=True)
class Column:
    """A list column: ``key`` in each row, the header a person reads, and whether the list sorts on it."""
    key: str
    label: str
    sortable: bool = True


def _value(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, Mapping) else getattr(row, key, None)


def _sort_key(value: Any) -> tuple:
    # None and "" sort last whatever the direction's sign; numbers before text so mixed columns do not fail
    if value is None or value == "":
        return (2, 0, "")
    if isinstance(value, bool | int | float):
        return (0, value, "")
    return (1, 0, str(value).lower())


@dataclass
class Page:
    """One page of a sorted, filtered list and what a page needs to link to the others."""
    name: str
    rows: list
    total: int
    page: int
    pages: int
    per_page: int
    sort: str
    desc: bool
    columns: Sequence[Column]
    path: str
    params: dict[str, str] = field(default_factory=dict)
    prefix: str = ""
    filtered: bool = False

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    def url(self, **changes: Any) -> str:
        """This list's URL with the filters in force and ``changes`` (page, sort, desc, csv) applied."""
        params = dict(self.params)
        for key, value in changes.items():
            name = key if key == "csv" else self.prefix + key
            if value is None or value == "" or value is False:
                params.pop(name, None)
            else:
                params[name] = "1" if value is True else str(value)
        query = urlencode(params)
        return f"{self.path}?{query}" if query else self.path

    def sort_url(self, key: str) -> str:
        return self.url(sort=key, desc=(key == self.sort and not self.desc), page=None)

    def csv_url(self) -> str:
        return self.url(csv=self.name, page=None)


def listing(request: Request, name: str, rows: Iterable[Any], columns: Sequence[Column], default_sort: str = "",
            default_desc: bool = False, prefix: str = "", per_page: int = PER_PAGE, filtered: bool = False) -> Page:
    """Sort ``rows`` by the request's ``<prefix>sort``/``<prefix>desc`` and cut out page ``<prefix>page``.

    Unknown sort keys fall back to the default; a page past the end shows the last page."""
    q = request.query_params
    keys = {c.key for c in columns if c.sortable}
    sort = q.get(prefix + "sort", "")
    if sort not in keys:
        sort = default_sort if default_sort in keys else ""
    desc = q.get(prefix + "desc", "1" if default_desc and sort == default_sort else "") == "1"
    size = q.get(prefix + "per_page", "")
    per_page = min(MAX_PER_PAGE, int(size)) if size.isdigit() and int(size) > 0 else per_page
    rows = list(rows)
    if sort:
        rows.sort(key=lambda r: _sort_key(_value(r, sort)), reverse=desc)
        if desc:  # keep blanks last in both directions
            blanks = [r for r in rows if _value(r, sort) in (None, "")]
            rows = [r for r in rows if _value(r, sort) not in (None, "")] + blanks
    pages = max(1, -(-len(rows) // per_page))
    raw = q.get(prefix + "page", "1")
    page = min(pages, max(1, int(raw))) if raw.isdigit() else 1
    params = {k: v for k, v in q.items() if k != "csv" and v != ""}
    start = (page - 1) * per_page
    return Page(name, rows[start:start + per_page], len(rows), page, pages, per_page, sort, desc, columns,
                request.url.path, params, prefix, filtered)


def wants_csv(request: Request, name: str) -> bool:
    return request.query_params.get("csv") == name


def csv_response(rows: Iterable[Any], columns: Sequence[Column], filename: str,
                 cell: Callable[[Any, str], Any] = _value) -> Response:
    """Every row (not one page) as CSV, headed by the columns' keys; cells that a spreadsheet would run as a
    formula are prefixed with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow([_safe(cell(row, c.key)) for c in columns])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _safe(value: Any) -> Any:
    """None as an empty cell; text a spreadsheet would run as a formula neutralised (staffing.csvsafe)."""
    return "" if value is None else safe_cell(value)
