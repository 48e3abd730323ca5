"""Users, password hashing and role checks.

Passwords are hashed with scrypt from the standard library (salted, memory-hard); a session cookie signed by
Starlette's SessionMiddleware carries only the username.  Roles: ``hr`` (the whole district), ``principal``
(their own school: selection committee work), ``committee`` (a committee member of one school: reads it and casts
their own ballots), ``union`` (read-only audit), ``teacher`` (one teacher record: reads it and changes their own
list of schools).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from sqlmodel import Session, select

from staffing.db_models import PoolEntry, SchoolRow, TeacherRow, UserRow
from staffing.services import log_change
from staffing.validation import Problem, ValidationError

ROLES = ("hr", "principal", "committee", "union", "teacher")
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
                display_name: str = "", actor: str = "admin", teacher_id: str | None = None) -> UserRow:
    problems = []
    if role == "teacher" and (teacher_id is None or session.get(TeacherRow, teacher_id) is None):
        problems.append(Problem(f"user {username}", None, "teacher_id", "a teacher user needs an existing teacher id"))
    if role != "teacher" and teacher_id is not None:
        problems.append(Problem(f"user {username}", None, "teacher_id", "only a teacher user is tied to a teacher"))
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
                   school_id=school_id if role in SCHOOL_ROLES else None, display_name=display_name or username,
                   teacher_id=teacher_id if role == "teacher" else None)
    session.add(user)
    session.flush()
    log_change(session, actor, "add", "user", username, None,
               json.dumps({"role": role, "school_id": school_id, "teacher_id": user.teacher_id}))
    return user


def create_demo_users(session: Session, password: str = "demo") -> list[UserRow]:
    """One HR user, one union rep, and for every school a principal (``principal.<school_id>``) and a
    committee member (``member.<school_id>``), and sign-ins ``teacher.<teacher_id>`` for a few teachers: the
    first pool teachers by id of each status, and the first employed ones."""
    users = [create_user(session, "hr", password, "hr", display_name="District HR"),
             create_user(session, "union", password, "union", display_name="Union representative")]
    for school in session.exec(select(SchoolRow).order_by(SchoolRow.school_id)):
        users.append(create_user(session, f"principal.{school.school_id}", password, "principal", school.school_id,
                                 display_name=f"Principal, {school.name}"))
        users.append(create_user(session, f"member.{school.school_id}", password, "committee", school.school_id,
                                 display_name=f"Committee member, {school.name}"))
    for teacher in demo_teachers(session):
        users.append(create_user(session, f"teacher.{teacher.teacher_id}", password, "teacher",
                                 teacher_id=teacher.teacher_id, display_name=teacher.name))
    return users


def demo_teachers(session: Session, per_status: int = 2) -> list[TeacherRow]:
    """A few teachers to sign in as in a demo: the first ``per_status`` of each status, by id."""
    out: list[TeacherRow] = []
    for status in ("displaced", "new_hire", "voluntary_transfer", "employed"):
        out += session.exec(select(TeacherRow).join(PoolEntry, PoolEntry.teacher_id == TeacherRow.teacher_id)
                            .where(PoolEntry.status == status).order_by(TeacherRow.teacher_id).limit(per_status)).all()
    return out
