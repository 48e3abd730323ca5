"""Users, password hashing and role checks.

Passwords are hashed with scrypt from the standard library (salted, memory-hard); the session cookie carries
a random token of a server-side session (:mod:`staffing.sessions`), so logout and a password change end it.  Roles: ``hr`` (the whole district), ``principal``
(their own school: selection committee work), ``committee`` (a committee member of one school: reads it and casts
their own ballots), ``union`` (read-only audit), ``teacher`` (one teacher record: reads it and changes their own
list of schools).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets

from sqlmodel import Session, select

from staffing.db_models import PoolEntry, SchoolRow, TeacherRow, UserRow, utcnow
from staffing.services import log_change
from staffing.sessions import end_user_sessions
from staffing.settings import Settings, get_settings
from staffing.throttle import forget_failures, record_failure, refused
from staffing.validation import Problem, ValidationError

ROLES = ("hr", "principal", "committee", "union", "teacher")
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
                display_name: str = "", actor: str = "admin", demo: bool = False,
                teacher_id: str | None = None) -> UserRow:
    """Add a sign-in; a demo account's shared password is exempt from the length rule but flagged."""
    problems = []
    if not USERNAME.fullmatch(username or ""):
        problems.append(Problem(f"user {username!r}", None, "username",
                                "use 1-100 letters, digits and . _ - @ (no spaces)"))
    if role == "teacher" and (teacher_id is None or session.get(TeacherRow, teacher_id) is None):
        problems.append(Problem(f"user {username}", None, "teacher_id", "a teacher user needs an existing teacher id"))
    if role != "teacher" and teacher_id is not None:
        problems.append(Problem(f"user {username}", None, "teacher_id", "only a teacher user is tied to a teacher"))
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
                   demo=demo, password_changed_at=utcnow(), teacher_id=teacher_id if role == "teacher" else None)
    session.add(user)
    session.flush()
    log_change(session, actor, "add", "user", username, None,
               json.dumps({"role": role, "school_id": school_id, "teacher_id": user.teacher_id, "demo": demo}))
    return user


def create_demo_users(session: Session, password: str = "demo") -> tuple[list[UserRow], list[str]]:
    """One HR user, one union rep, and for every school a principal (``principal.<school_id>``) and a
    committee member (``member.<school_id>``), and sign-ins ``teacher.<teacher_id>`` for a few teachers (the first
    pool teachers by id of each status, and the first employed ones), all flagged ``demo``.  An existing account of
    the same name is never touched: returns the users made and the names skipped."""
    wanted = [("hr", "hr", None, None, "District HR"), ("union", "union", None, None, "Union representative")]
    for school in session.exec(select(SchoolRow).order_by(SchoolRow.school_id)):
        wanted.append((f"principal.{school.school_id}", "principal", school.school_id, None, f"Principal, {school.name}"))
        wanted.append((f"member.{school.school_id}", "committee", school.school_id, None,
                       f"Committee member, {school.name}"))
    for teacher in demo_teachers(session):
        wanted.append((f"teacher.{teacher.teacher_id}", "teacher", None, teacher.teacher_id, teacher.name))
    made, skipped = [], []
    for username, role, school_id, teacher_id, name in wanted:
        if session.get(UserRow, username) is not None:
            skipped.append(username)
            continue
        made.append(create_user(session, username, password, role, school_id, display_name=name, actor="demo-users",
                                demo=True, teacher_id=teacher_id))
    return made, skipped


def demo_teachers(session: Session, per_status: int = 2) -> list[TeacherRow]:
    """A few teachers to sign in as in a demo: the first ``per_status`` of each status, by id."""
    out: list[TeacherRow] = []
    for status in ("displaced", "new_hire", "voluntary_transfer", "employed"):
        out += session.exec(select(TeacherRow).join(PoolEntry, PoolEntry.teacher_id == TeacherRow.teacher_id)
                            .where(PoolEntry.status == status).order_by(TeacherRow.teacher_id).limit(per_status)).all()
    return out
