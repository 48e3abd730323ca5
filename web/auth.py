"""Users, password hashing and role checks.

Passwords are hashed with scrypt from the standard library (salted, memory-hard); a session cookie signed by
Starlette's SessionMiddleware carries only the username.  Roles: ``hr`` (the whole district), ``principal``
(their own school: selection committee work), ``committee`` (a committee member of one school: reads it and casts
their own ballots), ``union`` (read-only audit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlmodel import Session, select

from staffing.db_models import SchoolRow, UserRow
from staffing.services import log_change
from staffing.validation import Problem, ValidationError

ROLES = ("hr", "principal", "committee", "union")
SCHOOL_ROLES = ("principal", "committee")
_N, _R, _P = 2**14, 8, 1


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


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    user = session.get(UserRow, username)
    if user is None:
        verify_password(password, hash_password("timing-equaliser"))  # same cost whether or not the user exists
        return None
    return user if verify_password(password, user.password_hash) else None


def create_user(session: Session, username: str, password: str, role: str, school_id: str | None = None,
                display_name: str = "", actor: str = "admin") -> UserRow:
    problems = []
    if role not in ROLES:
        problems.append(Problem(f"user {username}", None, "role", f"must be one of {', '.join(ROLES)}"))
    if role in SCHOOL_ROLES and (school_id is None or session.get(SchoolRow, school_id) is None):
        problems.append(Problem(f"user {username}", None, "school_id", f"a {role} user needs an existing school"))
    if len(password) < 4:
        problems.append(Problem(f"user {username}", None, "password", "must have at least 4 characters"))
    if session.get(UserRow, username) is not None:
        problems.append(Problem(f"user {username}", None, "username", "already exists"))
    if problems:
        raise ValidationError(problems)
    user = UserRow(username=username, password_hash=hash_password(password), role=role,
                   school_id=school_id if role in SCHOOL_ROLES else None, display_name=display_name or username)
    session.add(user)
    session.flush()
    log_change(session, actor, "add", "user", username, None, f'{{"role": "{role}", "school_id": "{school_id}"}}')
    return user


def create_demo_users(session: Session, password: str = "demo") -> list[UserRow]:
    """One HR user, one union rep, and for every school a principal (``principal.<school_id>``) and a
    committee member (``member.<school_id>``)."""
    users = [create_user(session, "hr", password, "hr", display_name="District HR"),
             create_user(session, "union", password, "union", display_name="Union representative")]
    for school in session.exec(select(SchoolRow).order_by(SchoolRow.school_id)):
        users.append(create_user(session, f"principal.{school.school_id}", password, "principal", school.school_id,
                                 display_name=f"Principal, {school.name}"))
        users.append(create_user(session, f"member.{school.school_id}", password, "committee", school.school_id,
                                 display_name=f"Committee member, {school.name}"))
    return users
