"""Users, password hashing and role checks.

Passwords are hashed with scrypt from the standard library (salted, memory-hard); the session cookie carries
a random token of a server-side session (:mod:`staffing.sessions`), so logout and a password change end it.  Roles: ``hr`` (the whole district), ``principal``
(their own school: selection committee work), ``committee`` (a committee member of one school: reads it and casts
their own ballots), ``union`` (read-only audit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets

from sqlmodel import Session, select

from staffing.db_models import SchoolRow, UserRow, utcnow
from staffing.services import log_change
from staffing.sessions import end_user_sessions
from staffing.settings import Settings, get_settings
from staffing.throttle import forget_failures, record_failure, refused
from staffing.validation import Problem, ValidationError

ROLES = ("hr", "principal", "committee", "union")
SCHOOL_ROLES = ("principal", "committee")
_N, _R, _P = 2**14, 8, 1
USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, base64.b64encode(salt).decode(), base64.b64encode(digest).decode())


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """A hash to check unknown users' passwords against: one scrypt, as for a real user (made once)."""
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY[0]


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    user = session.get(UserRow, username) if username and len(username) <= 200 and "\x00" not in username else None
    if user is None:
        verify_password(password, _dummy_hash())  # the same single scrypt whether or not the user exists
        return None
    return user if verify_password(password, user.password_hash) else None


WRONG = "Unknown user or wrong password."
DEMO_REFUSED = ("Demo accounts cannot sign in on this server (STAFFING_PRODUCTION is on): ask HR for an account "
                "of your own.")


def sign_in(session: Session, username: str, password: str, address: str,
            settings: Settings | None = None) -> tuple[UserRow | None, str | None]:
    """Check a sign-in with throttling: the user, or None and why (the same words for an unknown user and a
    wrong password).  Failures are added to ``session``: the caller must commit it even when refusing."""
    settings = settings or get_settings()
    why = refused(session, username, address, settings)
    if why:
        verify_password(password, _dummy_hash())  # a refusal costs what a check costs
        return None, why
    user = authenticate(session, username, password)
    if user is None:
        record_failure(session, username, address, settings)
        return None, WRONG
    if settings.production and user.demo:
        return None, DEMO_REFUSED
    forget_failures(session, username)
    return user, None


def password_problems(password: str, username: str = "", settings: Settings | None = None) -> list[str]:
    """What is wrong with a new password, in words (empty when it is acceptable)."""
    settings = settings or get_settings()
    problems = []
    if len(password) < settings.min_password_length:
        problems.append(f"must have at least {settings.min_password_length} characters")
    if username and password.lower() == username.lower():
        problems.append("must not be the user name")
    if "\x00" in password:
        problems.append("must not contain a NUL character")
    return problems


def change_password(session: Session, username: str, old: str | None, new: str, actor: str,
                    keep_session: str | None = None) -> None:
    """Set a new password (checking the old one when given) and end the user's other sessions."""
    user = session.get(UserRow, username)
    if user is None:
        raise ValidationError([Problem(f"user {username}", None, "username", "no such user")])
    if old is not None and not verify_password(old, user.password_hash):
        raise ValidationError([Problem(f"user {username}", None, "current password", "is wrong")])
    problems = password_problems(new, username)
    if problems:
        raise ValidationError([Problem(f"user {username}", None, "new password", p) for p in problems])
    user.password_hash, user.password_changed_at, user.demo = hash_password(new), utcnow(), False
    session.add(user)
    ended = end_user_sessions(session, username, keep=keep_session)
    log_change(session, actor, "change_password", "user", username, None, f'{{"sessions_ended": {ended}}}')


def create_user(session: Session, username: str, password: str, role: str, school_id: str | None = None,
                display_name: str = "", actor: str = "admin", demo: bool = False) -> UserRow:
    """Add a sign-in; a demo account's shared password is exempt from the length rule but flagged."""
    problems = []
    if not USERNAME.fullmatch(username or ""):
        problems.append(Problem(f"user {username!r}", None, "username",
                                "use 1-100 letters, digits and . _ - @ (no spaces)"))
    if role not in ROLES:
        problems.append(Problem(f"user {username}", None, "role", f"must be one of {', '.join(ROLES)}"))
    if role in SCHOOL_ROLES and (school_id is None or session.get(SchoolRow, school_id) is None):
        problems.append(Problem(f"user {username}", None, "school_id", f"a {role} user needs an existing school"))
    if not demo:
        problems.extend(Problem(f"user {username}", None, "password", p) for p in password_problems(password, username))
    if session.get(UserRow, username) is not None:
        problems.append(Problem(f"user {username}", None, "username", "already exists"))
    if problems:
        raise ValidationError(problems)
    user = UserRow(username=username, password_hash=hash_password(password), role=role,
                   school_id=school_id if role in SCHOOL_ROLES else None, display_name=display_name or username,
                   demo=demo, password_changed_at=utcnow())
    session.add(user)
    session.flush()
    log_change(session, actor, "add", "user", username, None,
               json.dumps({"role": role, "school_id": school_id, "demo": demo}))
    return user


def create_demo_users(session: Session, password: str = "demo") -> tuple[list[UserRow], list[str]]:
    """One HR user, one union rep, and for every school a principal (``principal.<school_id>``) and a
    committee member (``member.<school_id>``), all flagged ``demo``.  An existing account of the same name is
    never touched: returns the users made and the names skipped."""
    wanted = [("hr", "hr", None, "District HR"), ("union", "union", None, "Union representative")]
    for school in session.exec(select(SchoolRow).order_by(SchoolRow.school_id)):
        wanted.append((f"principal.{school.school_id}", "principal", school.school_id, f"Principal, {school.name}"))
        wanted.append((f"member.{school.school_id}", "committee", school.school_id, f"Committee member, {school.name}"))
    made, skipped = [], []
    for username, role, school_id, name in wanted:
        if session.get(UserRow, username) is not None:
            skipped.append(username)
            continue
        made.append(create_user(session, username, password, role, school_id, display_name=name, actor="demo-users",
                                demo=True))
    return made, skipped
