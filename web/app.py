"""The FastAPI application: pages (Jinja2 + htmx) and a JSON API over the same read models and services."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from staffing.db import database_url
from staffing.services import NotFound, StaleVersion
from staffing.validation import ValidationError
from web.deps import NotSignedIn
from web.templating import HERE, templates


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(url: str | None = None, report_dir: str | Path | None = None) -> FastAPI:
    from web import api, pages

    app = FastAPI(title="Teacher staffing and placement", version="0.1.0",
                  description="Hiring pool, placement rounds and seniority audit. Sign in with POST /api/login.")
    app.state.database_url = url or database_url()
    app.state.report_dir = Path(report_dir or os.environ.get("STAFFING_REPORT_DIR", "reports"))
    secret = os.environ.get("STAFFING_SECRET_KEY") or secrets.token_urlsafe(32)
    app.add_middleware(SessionMiddleware, secret_key=secret, same_site="lax", https_only=False,
                       session_cookie="staffing_session")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "sign in first (POST /api/login)"}, status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError) -> Response:
        return JSONResponse({"detail": [str(p) for p in exc.problems]}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return await _error(request, 404, str(exc))

    @app.exception_handler(StaleVersion)
    async def stale(request: Request, exc: StaleVersion) -> Response:
        return await _error(request, 409, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return await http_exception_handler(request, exc)
        return await _error(request, exc.status_code, str(exc.detail))

    return app


async def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": message,
                                                              "user": None}, status_code=status)
