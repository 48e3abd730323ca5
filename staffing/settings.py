"""Operational settings, read from ``STAFFING_*`` environment variables in one place.

Why one object: security knobs (HTTPS, production mode, session expiry, sign-in throttling, import limits)
must be checked once, with a clear message for a bad value, instead of being parsed ad hoc wherever used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


class SettingsError(ValueError):
    """A ``STAFFING_*`` environment variable has a value that cannot be used."""


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: expected true or false")


def _number(name: str, default: float, low: float, high: float, whole: bool = True) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a {'whole ' if whole else ''}number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r}: must be between {low:g} and {high:g}")
    return value


@dataclass(frozen=True)
class Settings:
    #: signs the session cookie; without it a random key is made at start-up (sessions end on restart)
    secret_key: str = ""
    #: served over HTTPS (behind a TLS proxy): the cookie gets ``Secure`` and responses get HSTS
    https: bool = False
    #: production: demo accounts (``staffing demo-users``) cannot sign in, and a secret key is required
    production: bool = False
    #: a session ends after this many minutes without a request ...
    session_idle_minutes: int = 30
    #: ... and this many hours after sign-in, whatever happens
    session_max_hours: int = 12
    min_password_length: int = 10
    #: failed sign-ins for one account within the window before it is refused for the rest of the window
    signin_max_failures: int = 10
    #: failed sign-ins from one network address within the window (all accounts together)
    signin_max_failures_per_address: int = 100
    signin_window_minutes: int = 15
    #: extra origins (``https://staffing.district.org``) whose form posts are accepted, comma-separated
    trusted_origins: tuple[str, ...] = ()
    #: biggest bundle file and most data rows per file an import reads
    max_file_mb: int = 200
    max_rows: int = 2_000_000
    #: seconds a SQLite writer waits for another one before giving up with "busy"
    busy_seconds: int = 30
    #: seconds a command waits for another command writing the same database (import, place) before exit 2
    command_wait_seconds: int = 0

    @classmethod
    def from_env(cls) -> Settings:
        """Read every setting; raise :class:`SettingsError` naming the variable for a bad value."""
        env = os.environ
        settings = cls(
            secret_key=env.get("STAFFING_SECRET_KEY", ""),
            https=_flag("STAFFING_HTTPS", False),
            production=_flag("STAFFING_PRODUCTION", False),
            session_idle_minutes=int(_number("STAFFING_SESSION_IDLE_MINUTES", 30, 1, 7 * 24 * 60)),
            session_max_hours=int(_number("STAFFING_SESSION_MAX_HOURS", 12, 1, 24 * 30)),
            min_password_length=int(_number("STAFFING_MIN_PASSWORD_LENGTH", 10, 8, 128)),
            signin_max_failures=int(_number("STAFFING_SIGNIN_MAX_FAILURES", 10, 1, 10_000)),
            signin_max_failures_per_address=int(_number("STAFFING_SIGNIN_MAX_FAILURES_PER_ADDRESS", 100, 1, 1_000_000)),
            signin_window_minutes=int(_number("STAFFING_SIGNIN_WINDOW_MINUTES", 15, 1, 24 * 60)),
            trusted_origins=tuple(o.strip().rstrip("/") for o in env.get("STAFFING_TRUSTED_ORIGINS", "").split(",")
                                  if o.strip()),
            max_file_mb=int(_number("STAFFING_MAX_FILE_MB", 200, 1, 100_000)),
            max_rows=int(_number("STAFFING_MAX_ROWS", 2_000_000, 1, 1_000_000_000)),
            busy_seconds=int(_number("STAFFING_BUSY_SECONDS", 30, 1, 3600)),
            command_wait_seconds=int(_number("STAFFING_COMMAND_WAIT_SECONDS", 0, 0, 24 * 3600)),
        )
        if settings.production and len(settings.secret_key) < 32:
            raise SettingsError("STAFFING_PRODUCTION is on: set STAFFING_SECRET_KEY to a random string of at least "
                                "32 characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
        return settings

    def describe(self) -> dict[str, object]:
        """The settings without the secret, for logs and ``--help`` texts."""
        return {f.name: ("(set)" if f.name == "secret_key" and self.secret_key else getattr(self, f.name))
                for f in fields(self)}


def get_settings() -> Settings:
    """The settings from the environment as it is now (cheap; tests change the environment between calls)."""
    return Settings.from_env()
