"""Server-side sign-in sessions: a random token in the cookie, its SHA-256 in ``user_session``.

Why server-side: a signed cookie alone cannot be revoked, so logout and a password change could not end a
session (a copied cookie kept working for 14 days).  A session ends after ``session_idle_minutes`` without a
request and ``session_max_hours`` after sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlmodel import Session

from staffing.db_models import UserRow, UserSession, utcnow
from staffing.settings import Settings

#: last_seen_at is written at most this often per session, so reading pages does not turn into a write each time
TOUCH_EVERY = timedelta(seconds=60)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """Databases may hand times back without their zone: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def open_session(session: Session, username: str, address: str = "") -> str:
    """Start a session for ``username``; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=_key(token), username=username, address=address[:100]))
    session.flush()
    return token


def resolve(session: Session, token: str | None, settings: Settings) -> UserRow | None:
    """The user of a live session, or None (unknown, ended or expired: an expired one is deleted)."""
    if not token or len(token) > 200:
        return None
    row = session.get(UserSession, _key(token))
    if row is None:
        return None
    now = utcnow()
    idle = now - _aware(row.last_seen_at) > timedelta(minutes=settings.session_idle_minutes)
    old = now - _aware(row.created_at) > timedelta(hours=settings.session_max_hours)
    user = session.get(UserRow, row.username)
    if idle or old or user is None or (settings.production and user.demo):
        session.delete(row)
        return None
    if now - _aware(row.last_seen_at) > TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return user


def purge_expired(session: Session, settings: Settings) -> int:
    """Delete sessions past their absolute or idle expiry (done at each sign-in, so the table stays small)."""
    now = utcnow()
    result = session.execute(delete(UserSession).where(
        (UserSession.created_at < now - timedelta(hours=settings.session_max_hours))
        | (UserSession.last_seen_at < now - timedelta(minutes=settings.session_idle_minutes))))
    return result.rowcount or 0


def end_session(session: Session, token: str | None) -> None:
    if token and len(token) <= 200:
        session.execute(delete(UserSession).where(UserSession.id == _key(token)))


def end_user_sessions(session: Session, username: str, keep: str | None = None) -> int:
    """End every session of ``username`` (except the one with token ``keep``); returns how many ended."""
    query = delete(UserSession).where(UserSession.username == username)
    if keep:
        query = query.where(UserSession.id != _key(keep))
    return session.execute(query).rowcount or 0
