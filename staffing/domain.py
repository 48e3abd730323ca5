"""Pure, database-free records of a district: what a bundle holds and what the solver reads.

A :class:`District` is the *snapshot* of RULES.md: the solver, checker, audit and analysis take one and
never touch the database.  The persistence layer (:mod:`staffing.db_models`) converts to and from it, and so
do the bundle reader and writer, so the three ways a district travels (CSV, database, solver input) share
one vocabulary.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from functools import lru_cache
from datetime import date
from typing import Literal

from staffing.rules import ModelRules, school_rules


@lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))

Status = Literal["displaced", "new_hire", "voluntary_transfer", "employed", "outside_candidate"]
#: Statuses of teachers in the hiring pool.
POOL_STATUSES: tuple[str, ...] = ("displaced", "new_hire", "voluntary_transfer")
#: Every status a district teacher record may have: ``employed`` holds a post at ``current_school_id`` (a roster).
STATUSES: tuple[str, ...] = POOL_STATUSES + ("employed",)
#: The status of an outside candidate (``outside_candidates.csv``; docs/rules.md): never a pool teacher.
OUTSIDE = "outside_candidate"
#: Why a displaced teacher is in the pool (descriptive; the rules only read ``status`` and the flags).
DISPLACEMENT_REASONS: tuple[str, ...] = ("excessed", "position_cut", "dismissed_to_pool", "returning_from_leave")
ROLES: tuple[str, ...] = ("principal", "union_chair", "teacher", "parent", "student", "classified")

#: Built-in certification catalogue: code -> (name, shortage area?).  A bundle may bring its own
#: ``certifications.csv`` instead.
BUILTIN_CERTIFICATIONS: dict[str, tuple[str, bool]] = {
    "SPED": ("Special education", True),
    "MATH": ("Mathematics", True),
    "SCI": ("Science", True),
    "ESL": ("English as a second language", True),
    "ELEM": ("Elementary (multiple subjects)", False),
    "ENG": ("English language arts", False),
    "SS": ("Social studies", False),
    "PE": ("Physical education", False),
    "ART": ("Visual arts", False),
    "MUS": ("Music", False),
    "WL": ("World languages", False),
    "CTE": ("Career and technical education", False),
}


@dataclass(frozen=True)
class Certification:
    code: str
    name: str
    shortage: bool


@dataclass(frozen=True)
class School:
    """A school; ``city`` selects city-wide rules, ``waivers`` the conditional autonomies it was granted
    (:func:`staffing.rules.school_rules`)."""

    school_id: str
    name: str
    region: str
    model: str
    city: str = "other"
    waivers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Teacher:
    """A teacher: in the pool, or ``employed`` on a school's roster.  ``certifications`` is a sorted tuple so
    equal teachers compare and hash equal."""

    teacher_id: str
    name: str
    certifications: tuple[str, ...]
    seniority_date: date
    salary: int
    status: Status
    must_place: bool = False
    return_rights: bool = False
    former_school_id: str | None = None
    current_school_id: str | None = None
    displacement_reason: str | None = None
    tenured: bool = False
    rating: int | None = None

    @property
    def is_outside_candidate(self) -> bool:
        """Not in the district pool: a candidate from outside whom a school that may hire outside ranked."""
        return self.status == OUTSIDE

    @property
    def in_pool(self) -> bool:
        """Seeking a post this round (not ``employed`` on a roster)."""
        return self.status != "employed"

    @property
    def is_district_employee(self) -> bool:
        """Paid by the district while unplaced (RULES.md: status displaced or new_hire)."""
        return self.status in ("displaced", "new_hire")

    @property
    def seniority_key(self) -> tuple[date, str]:
        """Smaller is more senior: earlier date, then smaller id (RULES.md)."""
        return (self.seniority_date, self.teacher_id)


@dataclass(frozen=True)
class Vacancy:
    vacancy_id: str
    school_id: str
    certification: str
    fte: float = 1.0


@dataclass(frozen=True)
class Preference:
    teacher_id: str
    school_id: str
    rank: int


@dataclass(frozen=True)
class Ranking:
    vacancy_id: str
    teacher_id: str
    rank: int


@dataclass(frozen=True)
class Interview:
    vacancy_id: str
    teacher_id: str
    date: date


@dataclass(frozen=True)
class CommitteeMember:
    school_id: str
    member: str
    role: str


@dataclass
class District:
    """Everything a placement round needs, keyed by id."""

    models: dict[str, ModelRules]
    schools: dict[str, School]
    teachers: dict[str, Teacher]
    vacancies: dict[str, Vacancy]
    preferences: list[Preference] = field(default_factory=list)
    rankings: list[Ranking] = field(default_factory=list)
    interviews: list[Interview] = field(default_factory=list)
    committees: list[CommitteeMember] = field(default_factory=list)
    certifications: dict[str, Certification] = field(default_factory=dict)
    #: (teacher_id, vacancy_id) pairs that may not be placed: the season's declined and lapsed offers, never
    #: offered again (RULES.md, the season)
    excluded_pairs: list[tuple[str, str]] = field(default_factory=list)

    # -- serialisation: a run stores its snapshot so that it can be replayed ---------------------------------
    def to_json(self) -> str:
        """A canonical JSON text (sorted keys and rows) so equal districts give equal hashes."""

        def rows(items: object) -> list[dict[str, object]]:
            # a shallow asdict (the records hold no nested records): the same JSON, without deep copies
            out = [{name: getattr(x, name) for name in _field_names(type(x))} for x in items]  # type: ignore[attr-defined]
            return sorted(out, key=lambda d: json.dumps(d, sort_keys=True, default=str))

        data = {
            "models": rows(self.models.values()),
            "schools": rows(self.schools.values()),
            "teachers": rows(self.teachers.values()),
            "vacancies": rows(self.vacancies.values()),
            "preferences": rows(self.preferences),
            "rankings": rows(self.rankings),
            "interviews": rows(self.interviews),
            "committees": rows(self.committees),
            "certifications": rows(self.certifications.values()),
        }
        if self.excluded_pairs:  # only when there are some: snapshots recorded before keep their hash
            data["excluded_pairs"] = sorted([t, v] for t, v in self.excluded_pairs)
        return json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))

    def rules_of(self, school_id: str) -> ModelRules:
        """The school's effective rules under the district's table (no policy overrides)."""
        s = self.schools[school_id]
        return school_rules(self.models, s.model, s.city, s.waivers)

    def pool(self) -> "District":
        """The solver's snapshot: this district without its ``employed`` teachers (rosters) and their rows."""
        if all(t.in_pool for t in self.teachers.values()):
            return self
        teachers = {tid: t for tid, t in self.teachers.items() if t.in_pool}
        return District(
            models=self.models, schools=self.schools, teachers=teachers, vacancies=self.vacancies,
            preferences=[p for p in self.preferences if p.teacher_id in teachers],
            rankings=[r for r in self.rankings if r.teacher_id in teachers],
            interviews=[i for i in self.interviews if i.teacher_id in teachers],
            committees=self.committees, certifications=self.certifications,
            excluded_pairs=self.excluded_pairs)

    def snapshot_hash(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> "District":
        data = json.loads(text)
        teachers = {}
        for t in data["teachers"]:
            t = dict(t)
            t["certifications"] = tuple(t["certifications"])
            t["seniority_date"] = date.fromisoformat(t["seniority_date"])
            teachers[t["teacher_id"]] = Teacher(**t)
        return cls(
            models={m["model"]: ModelRules.from_dict(m) for m in data["models"]},
            schools={s["school_id"]: School(**{**s, "waivers": tuple(s.get("waivers", ()))}) for s in data["schools"]},
            teachers=teachers,
            vacancies={v["vacancy_id"]: Vacancy(**v) for v in data["vacancies"]},
            preferences=[Preference(**p) for p in data["preferences"]],
            rankings=[Ranking(**r) for r in data["rankings"]],
            interviews=[Interview(v["vacancy_id"], v["teacher_id"], date.fromisoformat(v["date"]))
                        for v in data["interviews"]],
            committees=[CommitteeMember(**c) for c in data["committees"]],
            certifications={c["code"]: Certification(**c) for c in data["certifications"]},
            excluded_pairs=[(t, v) for t, v in data.get("excluded_pairs", [])],
        )


def builtin_certifications() -> dict[str, Certification]:
    return {code: Certification(code, name, shortage) for code, (name, shortage) in BUILTIN_CERTIFICATIONS.items()}
