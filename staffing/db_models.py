"""SQLModel tables.  The schema is created and upgraded by Alembic (``staffing/migrations``).

Lists (a teacher's certifications) are stored as ``;``-joined text, as in the bundle, so the schema stays
portable between SQLite and PostgreSQL.  Every mutable district row carries a ``version`` column used for
optimistic concurrency: an update states the version it read and fails if someone changed the row since.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SchoolModelRule(SQLModel, table=True):
    __tablename__ = "school_model_rule"
    model: str = Field(primary_key=True)
    mutual_consent: bool
    accepts_must_place: bool
    honours_return_rights: bool
    seniority_order: bool
    can_dismiss_to_pool: bool
    min_pool_interviews: int
    may_hire_outside_pool: bool
    autonomy: str = "low"
    committee_rule: str = "district"
    city: str = ""
    summary: str = ""
    budget_basis: str = "average"
    outside_district: bool = False
    zone: str = ""
    committee_roles: str = ""  # ";"-joined roles the committee must include


class CertificationRow(SQLModel, table=True):
    __tablename__ = "certification"
    code: str = Field(primary_key=True)
    name: str
    shortage: bool = False


class SchoolRow(SQLModel, table=True):
    __tablename__ = "school"
    school_id: str = Field(primary_key=True)
    name: str
    region: str = Field(index=True)
    model: str = Field(foreign_key="school_model_rule.model", index=True)
    city: str = "other"
    waivers: str = ""  # ";"-joined conditional autonomies the school holds


class TeacherRow(SQLModel, table=True):
    __tablename__ = "teacher"
    teacher_id: str = Field(primary_key=True)
    name: str
    certifications: str  # ";"-joined codes
    seniority_date: date
    salary: int
    current_school_id: str | None = Field(default=None, foreign_key="school.school_id")
    former_school_id: str | None = Field(default=None, foreign_key="school.school_id")
    tenured: bool = False
    rating: int | None = None  # latest evaluation, 1-4
    version: int = 1


class PoolEntry(SQLModel, table=True):
    """A teacher's place in this round's hiring pool: status and the flags RULES.md reads.

    Every teacher has one row; ``employed`` teachers hold a post at their school (a roster) and are not in the
    pool until excessed or dismissed to it."""

    __tablename__ = "pool_entry"
    teacher_id: str = Field(primary_key=True, foreign_key="teacher.teacher_id")
    status: str = Field(index=True)  # displaced | new_hire | voluntary_transfer | employed
    must_place: bool = False
    return_rights: bool = False
    displacement_reason: str | None = None  # excessed | position_cut | dismissed_to_pool | ...
    entered_at: datetime = Field(default_factory=utcnow)
    #: set when a published run placed the teacher: they leave the pool for later rounds
    placed_vacancy_id: str | None = Field(default=None, foreign_key="vacancy.vacancy_id")
    version: int = 1


class PoolStatusChange(SQLModel, table=True):
    """History of a pool entry: append-only."""

    __tablename__ = "pool_status_change"
    id: int | None = Field(default=None, primary_key=True)
    teacher_id: str = Field(foreign_key="teacher.teacher_id", index=True)
    changed_at: datetime = Field(default_factory=utcnow)
    changed_by: str = "system"
    from_status: str | None = None
    to_status: str
    must_place: bool = False
    return_rights: bool = False
    note: str = ""


class VacancyRow(SQLModel, table=True):
    __tablename__ = "vacancy"
    vacancy_id: str = Field(primary_key=True)
    school_id: str = Field(foreign_key="school.school_id", index=True)
    certification: str = Field(foreign_key="certification.code")
    fte: float = 1.0
    status: str = "open"  # open | filled | cancelled
    version: int = 1


class CommitteeMemberRow(SQLModel, table=True):
    __tablename__ = "committee_member"
    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(foreign_key="school.school_id", index=True)
    member: str
    role: str


class InterviewRow(SQLModel, table=True):
    __tablename__ = "interview"
    id: int | None = Field(default=None, primary_key=True)
    vacancy_id: str = Field(foreign_key="vacancy.vacancy_id", index=True)
    teacher_id: str = Field(foreign_key="teacher.teacher_id")
    held_on: date


class RankingRow(SQLModel, table=True):
    """A committee's ranking of a candidate for a vacancy; being listed means acceptable."""

    __tablename__ = "ranking"
    vacancy_id: str = Field(primary_key=True, foreign_key="vacancy.vacancy_id")
    teacher_id: str = Field(primary_key=True, foreign_key="teacher.teacher_id")
    rank: int


class TeacherPreferenceRow(SQLModel, table=True):
    __tablename__ = "teacher_preference"
    teacher_id: str = Field(primary_key=True, foreign_key="teacher.teacher_id")
    school_id: str = Field(primary_key=True, foreign_key="school.school_id")
    rank: int


class PlacementRun(SQLModel, table=True):
    """One placement round: everything needed to audit and replay it."""

    __tablename__ = "placement_run"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = "cli"
    scenario: str = "district_rules"
    policy_json: str = "{}"  # scenario knobs and rule overrides in force
    rules_json: str = "{}"  # the effective rule table
    snapshot_hash: str = ""
    snapshot: bytes = Field(default=b"", sa_column=Column(LargeBinary))  # zlib-compressed District JSON
    solver_version: str = ""
    time_limit: float = 30.0
    status: str = "done"  # running | done | failed
    #: "pid@host" of the process solving a web run while it is running: a run whose process is gone was
    #: interrupted (server restart, crash) and is marked failed instead of being polled for ever
    solver_process: str | None = None
    #: what the solver is doing while the run is running ("reserve stage: best 251,903 so far, ..."), for the run
    #: page; cleared when the run ends
    progress: str | None = None
    figures_json: str = "{}"
    published_at: datetime | None = None
    published_by: str | None = None
    version: int = 1


class Placement(SQLModel, table=True):
    __tablename__ = "placement"
    __table_args__ = (UniqueConstraint("run_id", "teacher_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="placement_run.id", index=True)
    teacher_id: str
    vacancy_id: str | None = None
    school_id: str | None = None
    kind: str  # return_right | mutual_consent | forced | assigned | unplaced
    reason: str


class AuditLog(SQLModel, table=True):
    """Append-only record of every change: who, what, when, before and after."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str
    action: str
    entity: str
    entity_id: str
    before_json: str | None = None
    after_json: str | None = None


class UserRow(SQLModel, table=True):
    """A person who signs in to the web app.  ``school_id`` scopes a principal or committee member."""

    __tablename__ = "app_user"
    username: str = Field(primary_key=True)
    password_hash: str
    role: str  # hr | principal | committee | union | teacher
    school_id: str | None = Field(default=None, foreign_key="school.school_id")
    display_name: str = ""
    #: made by ``staffing demo-users`` with a shared password: flagged on the sign-in page, refused in production
    demo: bool = False
    password_changed_at: datetime | None = None
    #: the teacher record a ``teacher`` user signs in as (they see and change only that record)
    teacher_id: str | None = Field(default=None, foreign_key="teacher.teacher_id")


class UserSession(SQLModel, table=True):
    """A signed-in browser or API client.  The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database cannot be used to sign in.  Deleting the row (logout, password change) ends it."""

    __tablename__ = "user_session"
    id: str = Field(primary_key=True)  # sha256 hex of the cookie's token
    username: str = Field(foreign_key="app_user.username", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    address: str = ""


class SignInFailure(SQLModel, table=True):
    """One failed sign-in, for throttling per account and per network address (kept for the window only)."""

    __tablename__ = "sign_in_failure"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True)
    address: str = Field(index=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class BallotRow(SQLModel, table=True):
    """One committee member's own ranking of a vacancy's candidates; the committee's rule combines them."""

    __tablename__ = "ballot"
    vacancy_id: str = Field(primary_key=True, foreign_key="vacancy.vacancy_id")
    voter: str = Field(primary_key=True)
    teacher_id: str = Field(primary_key=True, foreign_key="teacher.teacher_id")
    rank: int


class OfferRow(SQLModel, table=True):
    """A published placement offered to its teacher (RULES.md, the season): it holds the teacher and the post
    while pending or accepted.  Teacher and vacancy ids carry no foreign key: an offer is history."""

    __tablename__ = "offer"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="placement_run.id", index=True)
    teacher_id: str = Field(index=True)
    vacancy_id: str = Field(index=True)
    school_id: str
    kind: str  # return_right | mutual_consent | assigned | forced
    status: str = Field(default="pending", index=True)  # pending | accepted | declined | lapsed | refused
    created_at: datetime = Field(default_factory=utcnow)
    deadline: datetime
    answered_at: datetime | None = None
    answered_by: str | None = None
    #: the post the teacher left by accepting (vacancy chain): a new open vacancy at their current school
    vacated_vacancy_id: str | None = None


class SeasonRow(SQLModel, table=True):
    """The district's season settings and phase: one row (id 1), created with its defaults on first use."""

    __tablename__ = "season"
    id: int = Field(default=1, primary_key=True)
    phase: str = "preferences"  # preferences | interviews | mutual_consent | forced_placement | closed
    response_days: int = 10
    unanswered: str = "lapsed"  # what a pending offer becomes at its deadline: lapsed | accepted
    forced_placement: str = "any_round"  # any_round | final_phase
    version: int = 1


class ExcessDecision(SQLModel, table=True):
    """One excessing or dismissal action at a school, with the seniority list it was taken against.

    ``seniority_list`` is the JSON list of the roster in that certification at the moment of the decision (most
    senior first), so the union can see whether the order was followed."""

    __tablename__ = "excess_decision"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    actor: str
    school_id: str = Field(foreign_key="school.school_id", index=True)
    certification: str
    kind: str  # excess | dismissal
    posts_cut: int
    model: str
    rule: str  # the rule applied, in words
    seniority_list: str = "[]"


class ExcessNotice(SQLModel, table=True):
    """The notice one teacher receives: excessed or dismissed to the pool, why, under which rule, when."""

    __tablename__ = "excess_notice"
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="excess_decision.id", index=True)
    teacher_id: str = Field(foreign_key="teacher.teacher_id", index=True)
    school_id: str = Field(foreign_key="school.school_id", index=True)
    certification: str
    reason: str
    rule: str
    notice_date: date
    must_place: bool = False
    return_rights: bool = False


class PoolSetting(SQLModel, table=True):
    """District settings of excessing and of the teachers' own lists (key -> text value)."""

    __tablename__ = "pool_setting"
    key: str = Field(primary_key=True)
    value: str
