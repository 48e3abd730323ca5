"""Sign-in throttling: too many failures for one account, or from one network address, within a window and
that account (or address) is refused until the window has passed, whatever password is given.

Failures are rows in ``sign_in_failure`` so every server process sees the same count.  The same rule applies
to unknown user names, so the answer does not tell whether an account exists.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from staffing.db_models import SignInFailure, utcnow
from staffing.settings import Settings

REFUSED = ("Too many failed sign-ins for this account or from this address: sign-in is paused for up to "
           "{minutes} minutes. Try again later, or ask HR to check the account.")


def refused(session: Session, username: str, address: str, settings: Settings) -> str | None:
    """Why a sign-in is refused before its password is even checked, or None."""
    since = utcnow() - timedelta(minutes=settings.signin_window_minutes)
    by_account = session.exec(select(func.count()).select_from(SignInFailure).where(
        SignInFailure.username == username[:200], SignInFailure.at >= since)).one()
    by_address = session.exec(select(func.count()).select_from(SignInFailure).where(
        SignInFailure.address == address[:100], SignInFailure.at >= since)).one()
    if by_account >= settings.signin_max_failures or by_address >= settings.signin_max_failures_per_address:
        return REFUSED.format(minutes=settings.signin_window_minutes)
    return None


def record_failure(session: Session, username: str, address: str, settings: Settings) -> None:
    """Count one failed sign-in (and forget failures older than the window)."""
    session.add(SignInFailure(username=username[:200], address=address[:100]))
    session.execute(delete(SignInFailure).where(
        SignInFailure.at < utcnow() - timedelta(minutes=settings.signin_window_minutes)))


def forget_failures(session: Session, username: str) -> None:
    """A successful sign-in clears the account's failures (not the address's)."""
    session.execute(delete(SignInFailure).where(SignInFailure.username == username[:200]))
