"""Request dependencies: a database session per request and the signed-in user with their role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from staffing.db import session_scope
from staffing.sessions import end_session, open_session, purge_expired, resolve


@dataclass(frozen=True)
class User:
    username: str
    role: str
    school_id: str | None
    display_name: str
    teacher_id: str | None = None  # the one teacher record a teacher user may read and change


class NotSignedIn(Exception):
    """Raised for pages (redirect to the sign-in page) and APIs (401) alike; the app decides which."""


def db(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.database_url) as session:
        yield session


#: The request's database session, committed when the handler returns and BEFORE the response is sent
#: (FastAPI's default scope commits after sending: a browser following a 303 could read the old state, e.g. be
#: sent back to sign in because its new session was not committed yet).
DB = Depends(db, scope="function")


def current_user(request: Request, session: Session = DB) -> User:
    """The user of this request's server-side session (ended, expired or unknown: not signed in)."""
    row = resolve(session, request.session.get("sid"), request.app.state.settings)
    if row is None:
        session.commit()  # an expired session found here is deleted even though the request is refused
        raise NotSignedIn()
    return User(row.username, row.role, row.school_id, row.display_name, row.teacher_id)


#: a role as the refusal message names it
ROLE_WORDS = {"hr": "HR", "principal": "principal", "committee": "committee member", "union": "union",
              "teacher": "teacher"}


def role(*allowed: str):
    """Dependency: the signed-in user, if their role is one of ``allowed``; 403 otherwise."""

    def check(request: Request, user: User = Depends(current_user)) -> User:
        if user.role not in allowed:
            what = "open this page" if request.method in ("GET", "HEAD") else "make this change"
            words = [ROLE_WORDS.get(r, r) for r in allowed]
            who = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
            raise HTTPException(403, f"a {ROLE_WORDS.get(user.role, user.role)} account may not {what}: "
                                     f"it is for {who} accounts")
        return user

    return check


def _own_school(school_id: str, user: User) -> User:
    if user.role != "hr" and user.school_id != school_id:
        raise HTTPException(403, "you may only see and change your own school")
    return user


def school_access(school_id: str, user: User = Depends(role("hr", "principal"))) -> User:
    """Change a school's committee work: HR anywhere, a principal only at their own school (403 elsewhere)."""
    return _own_school(school_id, user)


def school_reader(school_id: str, user: User = Depends(role("hr", "principal", "committee"))) -> User:
    """Read a school's pages: HR anywhere, its principal and committee members only their own."""
    return _own_school(school_id, user)


def school_voter(school_id: str, user: User = Depends(role("principal", "committee"))) -> User:
    """Cast a ballot: the school's principal and committee members (HR does not vote)."""
    return _own_school(school_id, user)


def begin_session(request: Request, session: Session, username: str) -> str:
    """Sign ``username`` in: a fresh server-side session and a fresh CSRF token (nothing carried over from
    before sign-in, so a planted cookie cannot be promoted).  Returns the new CSRF token."""
    from web.security import client_address, csrf_token

    request.session.clear()
    purge_expired(session, request.app.state.settings)
    request.session["sid"] = open_session(session, username, client_address(request))
    # committed before the response leaves: the browser's next request may arrive before the request's own
    # transaction would otherwise be committed (dependency teardown can run after the response is sent)
    session.commit()
    return csrf_token(request)


def finish_session(request: Request, session: Session) -> None:
    """Sign out: the server-side session ends, so a copy of the cookie is worthless."""
    end_session(session, request.session.get("sid"))
    session.commit()  # ended before the response leaves (see begin_session)
    request.session.clear()


def roster_reader(school_id: str, user: User = Depends(role("hr", "principal", "union"))) -> User:
    """Read a school's roster and seniority lists: HR and the union anywhere, a principal only their own."""
    if user.role == "union":
        return user
    return _own_school(school_id, user)


def own_teacher(user: User = Depends(role("teacher"))) -> User:
    """A teacher user, tied to their one teacher record (a teacher user without one reads nothing)."""
    if not user.teacher_id:
        raise HTTPException(403, "this sign-in is not tied to a teacher record")
    return user
