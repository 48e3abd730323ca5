"""The FastAPI application: pages (Jinja2 + htmx) and a JSON API over the same read models and services."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from sqlalchemy.exc import DataError, OperationalError

from staffing.db import database_url
from staffing.services import NotFound, StaleVersion
from staffing.settings import Settings
from staffing.validation import ValidationError
from web.deps import NotSignedIn
from web.security import BadInput, CsrfRefused, SecurityHeaders, protect
from web.templating import HERE, templates

log = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(url: str | None = None, report_dir: str | Path | None = None,
               settings: Settings | None = None) -> FastAPI:
    """The web app; ``settings`` default to the environment's (:class:`staffing.settings.Settings`)."""
    from web import api, excessing, pages, teacher_portal

    settings = settings or Settings.from_env()
    app = FastAPI(title="Teacher staffing and placement", version="0.1.0",
                  description="Hiring pool, placement rounds and seniority audit. Sign in with POST /api/login; "
                              "send the csrf_token it returns as the X-CSRF-Token header on every POST and PUT.",
                  dependencies=[Depends(protect)], docs_url=None, redoc_url=None)
    app.state.database_url = url or database_url()
    app.state.report_dir = Path(report_dir or os.environ.get("STAFFING_REPORT_DIR", "reports"))
    app.state.settings = settings
    secret = settings.secret_key or secrets.token_urlsafe(32)
    # the cookie holds only the server-side session's token and the CSRF token; it lives no longer than a session
    app.add_middleware(SessionMiddleware, secret_key=secret, same_site="lax", https_only=settings.https,
                       session_cookie="staffing_session", max_age=settings.session_max_hours * 3600)
    app.add_middleware(SecurityHeaders, https=settings.https)
    _mount_docs(app)  # before /static, whose mount would otherwise answer /static/swagger/...
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        """Browsers ask for it on pages without an icon link (the standalone trade-off report)."""
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    app.include_router(pages.router)
    app.include_router(api.router)
    for module in (excessing, teacher_portal):
        app.include_router(module.pages)
        app.include_router(module.api)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "sign in first (POST /api/login)"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError) -> Response:
        return JSONResponse({"detail": [str(p) for p in exc.problems]}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return await _error(request, 404, str(exc))

    @app.exception_handler(StaleVersion)
    async def stale(request: Request, exc: StaleVersion) -> Response:
        return await _error(request, 409, str(exc))

    @app.exception_handler(CsrfRefused)
    async def forged(request: Request, exc: CsrfRefused) -> Response:
        if request.url.path == "/login" and not _wants_json(request):  # an expired sign-in form: show a fresh one
            request.session.pop("csrf", None)
            return templates.TemplateResponse(request, "login.html", {"user": None, "next": "/", "demo_users": 0,
                                               "production": settings.production, "error": str(exc)},
                                              status_code=403)
        return await _error(request, 403, str(exc))

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        return await _error(request, 422, str(exc))

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> Response:
        return await _error(request, 404, "no such record (the number is out of range)")

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        return await _error(request, 422, "a value is out of range or not allowed; nothing was changed")

    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: OperationalError) -> Response:
        log.warning("database busy or unreachable on %s %s: %s", request.method, request.url.path, exc.orig)
        response = await _error(request, 503, "the database is busy (another program is writing to it) or "
                                              "unreachable; nothing was changed: try again in a moment")
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return await http_exception_handler(request, exc)
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no page at {request.url.path}."
        elif exc.status_code == 405:
            message = f"{request.url.path} cannot be opened this way ({request.method})."
        return await _error(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await _error(request, 500, "The server could not finish this request.")

    return app


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the assets the swagger-ui-bundle-v2 package ships: no CDN, so it works offline."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "docs.html", {"title": app.title + " · API"})


async def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": message,
                                                              "user": _signed_in(request)}, status_code=status)


def _signed_in(request: Request):
    """The signed-in user for the error page's navigation, or None (never an error of its own)."""
    from staffing.db import session_scope
    from staffing.sessions import resolve
    from web.deps import User

    try:
        token = request.session.get("sid") if "session" in request.scope else None
        if not token:
            return None
        with session_scope(request.app.state.database_url) as session:
            row = resolve(session, token, request.app.state.settings)
            return User(row.username, row.role, row.school_id, row.display_name, row.teacher_id) if row else None
    except Exception:  # the error page must render even when the database is the problem
        return None
