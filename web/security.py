"""Request-level defences: CSRF tokens with an Origin/Referer check, input that cannot reach the database
(NUL characters, oversized values), and security headers on every response.

CSRF: every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's token, in the
``X-CSRF-Token`` header (htmx sends it from ``hx-headers`` on <body>; API clients get it from ``/api/login``)
or in a ``csrf_token`` form field (``{{ csrf_field() }}`` in every form).  A request whose Origin (or,
without one, Referer) is another site is refused as well: SameSite cookies do not stop a page on another port
of the same host, which is the same *site*.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from jinja2 import pass_context
from markupsafe import Markup, escape

from staffing.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "x-csrf-token"
FIELD = "csrf_token"
#: JSON sign-in needs no token (a cross-site page cannot send a JSON body without CORS, which is off) but
#: still gets the Origin check
TOKEN_EXEMPT = frozenset({"/api/login"})
#: longest path parameter or form value accepted (ids are short; free text is a few hundred characters)
MAX_VALUE = 10_000


class CsrfRefused(Exception):
    """A state-changing request without this session's token, or from another origin."""


class BadInput(Exception):
    """A request value no handler should see (NUL character, absurd length): answered 422."""


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use (stored in the signed session cookie)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


@pass_context
def csrf_field(context) -> Markup:
    """``{{ csrf_field() }}``: the hidden form field carrying the token."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(csrf_token(context["request"]))}">')


@pass_context
def csrf_value(context) -> str:
    return csrf_token(context["request"])


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(request: Request, settings: Settings) -> set[str]:
    host = request.headers.get("host", "").lower()
    schemes = {request.url.scheme, "https"} if settings.https else {request.url.scheme}
    return {f"{scheme}://{host}" for scheme in schemes} | {o.lower() for o in settings.trusted_origins}


async def protect(request: Request) -> None:
    """App-wide dependency: refuse forged and malformed requests before any handler runs."""
    for name, value in request.path_params.items():
        _check_value(f"path {name}", str(value))
    for name, value in request.query_params.multi_items():
        _check_value(f"query {name}", value)
    if request.method in SAFE_METHODS:
        return
    settings: Settings = request.app.state.settings
    origin = request.headers.get("origin")
    source = origin if origin and origin != "null" else request.headers.get("referer")
    if origin == "null" or (source and _origin_of(source) not in allowed_origins(request, settings)):
        raise CsrfRefused("this request came from another site and was refused")
    form = None
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # FastAPI has already parsed and cached it for Form parameters
        for name, value in form.multi_items():
            if isinstance(value, str):
                _check_value(f"form field {name}", value)
    if request.url.path in TOKEN_EXEMPT:
        return
    sent = request.headers.get(HEADER) or (form.get(FIELD) if form is not None else None)
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused("this form is out of date or did not come from this site (missing or wrong CSRF token): "
                          "reload the page and try again")


def _check_value(where: str, value: str) -> None:
    if "\x00" in value:
        raise BadInput(f"{where} contains a NUL character")
    if len(value) > MAX_VALUE:
        raise BadInput(f"{where} is longer than {MAX_VALUE:,} characters")


#: One policy for every response, /docs included: Swagger UI is served from this server with its start-up in
#: a file (web/static/docs.js), so it needs no CDN and no inline script; React sets style attributes, hence
#: 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                           "object-src 'none'; base-uri 'self'")


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response (pure ASGI, so background tasks
    and streaming are untouched)."""

    def __init__(self, app, https: bool = False):
        self.app, self.https = app, https

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = {b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
                         b"x-frame-options": b"DENY", b"x-content-type-options": b"nosniff",
                         b"referrer-policy": b"same-origin", b"cross-origin-opener-policy": b"same-origin"}
                if not path.startswith("/static/"):
                    extra[b"cache-control"] = b"no-store"  # personnel data stays out of shared caches
                if self.https:
                    extra[b"strict-transport-security"] = b"max-age=31536000"
                headers.extend((k, v) for k, v in extra.items() if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def client_address(request: Request) -> str:
    """The network address sign-in throttling counts (the proxy's own when behind one: see docs/security.md)."""
    return request.client.host if request.client else "unknown"
