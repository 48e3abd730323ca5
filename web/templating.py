"""The pages' Jinja templates, in a module of their own so that the app and the page routes both import it
and not each other."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from staffing.runs import search_mode, seconds_since_start, waiting_for_solver
from web.security import csrf_field, csrf_value

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["fromjson"] = lambda text: json.loads(text or "{}")
# a count as a reader takes it in: 37,880 (anything not an integer is shown as it is)
templates.env.filters["count"] = lambda n: f"{n:,}" if isinstance(n, int) and not isinstance(n, bool) else n
templates.env.globals["waiting_for_solver"] = waiting_for_solver
templates.env.globals["seconds_since_start"] = seconds_since_start
templates.env.globals["search_mode"] = search_mode
templates.env.globals["csrf_field"] = csrf_field
templates.env.globals["csrf_token"] = csrf_value


def render(request: Request, name: str, user: object | None, status: int = 200, **context) -> HTMLResponse:
    """A page: the template with the signed-in user (None on the sign-in page) and the handler's context."""
    return templates.TemplateResponse(request, name, {"user": user, **context}, status_code=status)


def is_htmx(request: Request) -> bool:
    """An htmx request (it wants a panel to swap in), as opposed to a plain form's (it wants a page)."""
    return request.headers.get("hx-request") == "true"
