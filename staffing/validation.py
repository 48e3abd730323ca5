"""Validation shared by the bundle importer, the service layer and the web forms.

Each ``check_*`` function takes one typed record plus the ids it may refer to and returns the problems it
finds as ``(field, message)`` pairs.  Callers attach the location (file and line for a CSV, record id for a
service call), so one rule is written once and reported the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Container
import re
from dataclasses import dataclass
from datetime import date

from staffing.rules import CITIES, check_waivers
from staffing.domain import (
    ROLES,
    STATUSES,
    CommitteeMember,
    Interview,
    Preference,
    Ranking,
    School,
    Teacher,
    Vacancy,
)

FieldProblem = tuple[str, str]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough to fix it."""

    where: str  # file name or record kind, e.g. "teachers.csv" or "teacher T0001"
    line: int | None  # 1-based line in the file (header is line 1); None outside files
    field: str
    message: str

    def __str__(self) -> str:
        loc = f"{self.where}, line {self.line}" if self.line is not None else self.where
        return f"{loc}, column {self.field}: {self.message}" if self.line is not None else \
            f"{loc}, field {self.field}: {self.message}"


class ValidationError(Exception):
    """Raised with *all* problems found (or the first :data:`MAX_KEPT` and a count of the ``more``); nothing has
    been written when it is raised."""

    def __init__(self, problems: list[Problem], more: int = 0):
        self.problems = problems
        self.more = more
        super().__init__("\n".join(str(p) for p in problems[:100])
                         + (f"\n... and {len(problems) + more - 100} more" if len(problems) + more > 100 else ""))


#: problems kept in memory for one input; past it they are only counted (a 200 MB file of errors must not
#: take gigabytes to report)
MAX_KEPT = 1000


class CappedProblems(list):
    """A list of problems that keeps the first :data:`MAX_KEPT` and counts the rest."""

    def __init__(self, cap: int = MAX_KEPT):
        super().__init__()
        self.cap, self.more = cap, 0

    def append(self, problem: Problem) -> None:  # type: ignore[override]
        if len(self) < self.cap:
            super().append(problem)
        else:
            self.more += 1

    def extend(self, problems) -> None:  # type: ignore[override]
        for problem in problems:
            self.append(problem)

    def error(self) -> ValidationError:
        return ValidationError(list(self), self.more)


#: ids (schools, teachers, vacancies, certifications, models): safe in URLs, HTML attributes, CSV and logs
ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: what a 32-bit integer column holds (PostgreSQL INTEGER): a bigger number is refused, not overflowed
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_WHOLE = re.compile(r"[+-]?[0-9]+")
#: longest free-text cell (names); ids are far shorter
MAX_TEXT = 1000


# -- scalar parsers: raise ValueError with a message meant for a person ------------------------------------

def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "false"):
        return value == "true"
    raise ValueError(f"expected true or false, got {text!r}")


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected a date YYYY-MM-DD, got {_shown(text)}") from None


def _shown(text: str) -> str:
    """A value quoted in a message, cut short: a message must not repeat a megabyte of bad input."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def parse_int(text: str, low: int = INT_MIN, high: int = INT_MAX) -> int:
    """A whole number of ASCII digits within [low, high] (the database column's range by default)."""
    value = text.strip()
    if not _WHOLE.fullmatch(value):
        raise ValueError(f"expected a whole number, got {_shown(text)}")
    number = int(value) if len(value) <= 20 else high + 1  # longer cannot be in range: no giant int parsed
    if not low <= number <= high:
        if len(value) > 20:
            raise ValueError(f"{_shown(value)} is out of range: expected {low} to {high}")
        raise ValueError(f"{number} is out of range: expected {low} to {high}")
    return number


def parse_id(text: str) -> str:
    """An id: letters, digits, '.', '_' and '-', at most 64 characters; empty stays empty (checked later)."""
    value = text.strip()
    if value and not ID_PATTERN.fullmatch(value):
        raise ValueError(f"ids use only letters, digits, '.', '_' and '-' (at most 64 characters), got {_shown(text)}")
    return value


def check_text(text: str) -> str:
    """Free text as stored: no NUL character, at most :data:`MAX_TEXT` characters."""
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    if len(text) > MAX_TEXT:
        raise ValueError(f"is longer than {MAX_TEXT} characters")
    return text


def parse_optional_bool(text: str) -> bool:
    """An optional true/false column: empty means false."""
    return parse_bool(text) if text.strip() else False


def parse_optional_int(text: str) -> int | None:
    """An optional whole-number column: empty means none."""
    return parse_int(text) if text.strip() else None


def parse_float(text: str) -> float:
    try:
        value = float(text.strip()) if len(text) <= 40 else float("nan")
    except ValueError:
        raise ValueError(f"expected a number, got {_shown(text)}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {_shown(text)}")
    return value


def parse_list(text: str) -> tuple[str, ...]:
    """A ";"-separated list of ids."""
    return tuple(sorted({parse_id(part) for part in text.split(";") if part.strip()}))


def optional_id(text: str) -> str | None:
    return parse_id(text) or None


# -- record checks -------------------------------------------------------------------------------------------

def check_school(s: School, models: Container[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not s.school_id:
        problems.append(("school_id", "must not be empty"))
    if s.model not in models:
        problems.append(("model", f"unknown school model {s.model!r}"))
    elif s.waivers:
        problems += [("waivers", message) for message in check_waivers(s.model, s.waivers)]
    if s.city not in CITIES:
        problems.append(("city", f"must be one of {', '.join(CITIES)}, got {s.city!r}"))
    return problems


def check_teacher(t: Teacher, schools: Container[str], certifications: Collection[str],
                  today: date) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not t.teacher_id:
        problems.append(("teacher_id", "must not be empty"))
    if not t.certifications:
        problems.append(("certifications", "a pool teacher needs at least one certification"))
    for cert in t.certifications:
        if cert not in certifications:
            problems.append(("certifications", f"unknown certification {cert!r}"))
    if t.seniority_date > today:
        problems.append(("seniority_date", f"{t.seniority_date.isoformat()} is in the future"))
    if t.salary < 0:
        problems.append(("salary", "must not be negative"))
    if t.status not in STATUSES:
        problems.append(("status", f"must be one of {', '.join(STATUSES)}, got {t.status!r}"))
    if t.return_rights and not t.former_school_id:
        problems.append(("former_school_id", "return_rights is true but no former school is given"))
    if t.status == "employed" and not t.current_school_id:
        problems.append(("current_school_id", "an employed teacher holds a post: give the school (current_school_id)"))
    if t.rating is not None and not 1 <= t.rating <= 4:
        problems.append(("rating", f"must be a whole number from 1 to 4, got {t.rating}"))
    for fld in ("former_school_id", "current_school_id"):
        value = getattr(t, fld)
        if value is not None and value not in schools:
            problems.append((fld, f"unknown school {value!r}"))
    return problems


def check_vacancy(v: Vacancy, schools: Container[str], certifications: Container[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not v.vacancy_id:
        problems.append(("vacancy_id", "must not be empty"))
    if v.school_id not in schools:
        problems.append(("school_id", f"unknown school {v.school_id!r}"))
    if v.certification not in certifications:
        problems.append(("certification", f"unknown certification {v.certification!r}"))
    if not 0 < v.fte <= 1:
        problems.append(("fte", f"must be in (0, 1], got {v.fte}"))
    return problems


def check_preference(p: Preference, teachers: Container[str], schools: Container[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if p.teacher_id not in teachers:
        problems.append(("teacher_id", f"unknown pool teacher {p.teacher_id!r}"))
    if p.school_id not in schools:
        problems.append(("school_id", f"unknown school {p.school_id!r}"))
    if p.rank < 1:
        problems.append(("rank", "must be 1 or more"))
    return problems


def _candidate_for_vacancy(vacancy_id: str, teacher_id: str, vacancies: Container[str],
                           teachers: Container[str]) -> list[FieldProblem]:
    """A committee's record about a candidate (ranking, interview) needs a real vacancy and a pool teacher."""
    problems: list[FieldProblem] = []
    if vacancy_id not in vacancies:
        problems.append(("vacancy_id", f"unknown vacancy {vacancy_id!r}"))
    if teacher_id not in teachers:
        problems.append(("teacher_id", f"{teacher_id!r} is not a teacher in the pool"))
    return problems


def check_ranking(r: Ranking, vacancies: Container[str], teachers: Container[str]) -> list[FieldProblem]:
    problems = _candidate_for_vacancy(r.vacancy_id, r.teacher_id, vacancies, teachers)
    if r.rank < 1:
        problems.append(("rank", "must be 1 or more"))
    return problems


def check_interview(i: Interview, vacancies: Container[str], teachers: Container[str],
                    today: date) -> list[FieldProblem]:
    problems = _candidate_for_vacancy(i.vacancy_id, i.teacher_id, vacancies, teachers)
    if i.date > today:
        problems.append(("date", f"{i.date.isoformat()} is in the future"))
    return problems


def check_committee_member(c: CommitteeMember, schools: Container[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if c.school_id not in schools:
        problems.append(("school_id", f"unknown school {c.school_id!r}"))
    if not c.member.strip():
        problems.append(("member", "must not be empty"))
    if c.role not in ROLES:
        problems.append(("role", f"must be one of {', '.join(ROLES)}, got {c.role!r}"))
    return problems
