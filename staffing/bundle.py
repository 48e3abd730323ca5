"""Read and write district bundles (FORMATS.md): a folder of CSV files.

Reading validates *every* row before returning and raises :class:`ValidationError` listing every problem with
its file, line and column, so an import either gets a whole, consistent :class:`District` or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from staffing.domain import (
    OUTSIDE,
    Certification,
    CommitteeMember,
    District,
    Interview,
    Preference,
    Ranking,
    School,
    Teacher,
    Vacancy,
    builtin_certifications,
)
from staffing.rules import RULE_COLUMNS, ModelRules, merge_rule_rows
from staffing.settings import Settings, get_settings
from staffing.validation import (
    CappedProblems,
    FieldProblem,
    Problem,
    ValidationError,
    check_committee_member,
    check_interview,
    check_preference,
    check_ranking,
    check_school,
    check_teacher,
    check_text,
    check_vacancy,
    optional_id,
    parse_bool,
    parse_date,
    parse_float,
    parse_id,
    parse_int,
    parse_list,
    parse_optional_bool,
    parse_optional_int,
)



COLUMNS: dict[str, tuple[str, ...]] = {
    "models.csv": ("model",) + RULE_COLUMNS,
    "certifications.csv": ("certification", "name", "shortage"),
    "schools.csv": ("school_id", "name", "region", "model"),
    "teachers.csv": ("teacher_id", "name", "certifications", "seniority_date", "salary", "status", "must_place",
                     "return_rights", "former_school_id", "current_school_id"),
    "vacancies.csv": ("vacancy_id", "school_id", "certification", "fte"),
    "preferences.csv": ("teacher_id", "school_id", "rank"),
    "rankings.csv": ("vacancy_id", "teacher_id", "rank"),
    "interviews.csv": ("vacancy_id", "teacher_id", "date"),
    "committees.csv": ("school_id", "member", "role"),
    "outside_candidates.csv": ("teacher_id", "name", "certifications"),
}
OPTIONAL_FILES = ("models.csv", "certifications.csv", "interviews.csv", "committees.csv", "outside_candidates.csv")
#: Written when present, read when present; not required by FORMATS.md.
EXTRA_TEACHER_COLUMNS = ("displacement_reason", "tenured", "rating")
#: Optional in FORMATS.md: the school's city (default ``other``) and its waivers (``;``-separated).
EXTRA_SCHOOL_COLUMNS = ("city", "waivers")


class _AnyCode:
    """Every non-empty code: the certification catalogue of a bundle without ``certifications.csv``."""

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and bool(code.strip())


class _Row:
    """Typed access to one CSV row that records every problem instead of stopping at the first."""

    def __init__(self, values: dict[str, str]):
        self.values = values
        self.problems: list[FieldProblem] = []

    def get(self, column: str, parse: Callable[[str], Any] = str.strip, default: Any = "") -> Any:
        value = self.values.get(column, "")
        if not isinstance(value, str):  # a short row: pandas fills the missing cells with NaN
            value = ""
        try:
            return parse(check_text(value))
        except ValueError as exc:
            self.problems.append((column, str(exc)))
            return default


def _read_csv(path: Path, limits: Settings) -> pd.DataFrame:
    """One bundle file as text cells, within the size and row limits (a byte-order mark is allowed)."""
    size = path.stat().st_size
    if size > limits.max_file_mb * 1024 * 1024:
        raise ValidationError([Problem(path.name, None, "-", f"file is {size / 2**20:,.0f} MB, more than the limit of "
                                       f"{limits.max_file_mb:,} MB (STAFFING_MAX_FILE_MB)")])
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True,
                            nrows=limits.max_rows + 1)
    except UnicodeDecodeError:
        raise ValidationError([Problem(path.name, 1, "-", "file is not UTF-8 text")]) from None
    except pd.errors.EmptyDataError:
        raise ValidationError([Problem(path.name, 1, "-", "file is empty: a header row is required")]) from None
    except pd.errors.ParserError as exc:
        raise ValidationError([Problem(path.name, 1, "-", f"not a well-formed CSV file: {str(exc)[:200]}")]) from None
    if len(frame) > limits.max_rows:
        raise ValidationError([Problem(path.name, None, "-", f"file has more than {limits.max_rows:,} rows, the limit "
                                       "(STAFFING_MAX_ROWS)")])
    return frame


def read_bundle(folder: Path | str, today: date | None = None, limits: Settings | None = None) -> District:
    """Parse and validate a bundle; raise :class:`ValidationError` with every problem found (the first
    thousand kept, the rest counted).  ``limits``: file size and row limits (default: the environment's)."""
    folder = Path(folder)
    today = today or date.today()
    limits = limits or get_settings()
    problems = CappedProblems()
    if not folder.is_dir():
        raise ValidationError([Problem(str(folder), None, "-", "bundle folder does not exist")])

    frames: dict[str, pd.DataFrame] = {}
    for name, columns in COLUMNS.items():
        path = folder / name
        if not path.exists():
            if name not in OPTIONAL_FILES:
                problems.append(Problem(name, None, "-", "required file is missing"))
            continue
        try:
            frame = _read_csv(path, limits)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        frame.columns = [str(c).strip() for c in frame.columns]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            problems.append(Problem(name, 1, ", ".join(missing), "required column(s) missing from the header"))
            continue
        frames[name] = frame
    if problems:
        raise problems.error()

    def rows(name: str):
        frame = frames.get(name)
        if frame is None:
            return
        for offset, values in enumerate(frame.to_dict("records")):
            yield offset + 2, _Row(values)  # line 1 is the header

    def report(name: str, line: int, found: list[FieldProblem]) -> None:
        problems.extend(Problem(name, line, fld, msg) for fld, msg in found)

    def duplicate(name: str, line: int, column: str, key: object, seen: dict[object, int]) -> bool:
        if key in seen:
            problems.append(Problem(name, line, column, f"duplicate {key!r} (first on line {seen[key]})"))
            return True
        seen[key] = line
        return False

    # models.csv: overrides of the built-in rule table
    overrides: dict[str, ModelRules] = {}
    seen: dict[object, int] = {}
    for line, row in rows("models.csv"):
        model = row.get("model", parse_id)
        flags = {c: row.get(c, parse_bool, False) for c in RULE_COLUMNS if c != "min_pool_interviews"}
        interviews = row.get("min_pool_interviews", parse_int, 0)
        if interviews is not None and interviews < 0:
            row.problems.append(("min_pool_interviews", "must not be negative"))
        if not model:
            row.problems.append(("model", "must not be empty"))
        report("models.csv", line, row.problems)
        if not duplicate("models.csv", line, "model", model, seen) and not row.problems:
            overrides[model] = ModelRules(model=model, min_pool_interviews=interviews, **flags)
    models = merge_rule_rows(overrides)

    # FORMATS.md: codes are free strings; without certifications.csv every code the bundle uses is accepted
    # (named from the built-in catalogue where it knows the code, by the code itself otherwise).
    catalogue_given = "certifications.csv" in frames
    certifications: dict[str, Certification] = {}
    known_codes: Container[str] = certifications if catalogue_given else _AnyCode()
    seen = {}
    for line, row in rows("certifications.csv"):
        cert = Certification(row.get("certification", parse_id), row.get("name"), row.get("shortage", parse_bool, False))
        if not cert.code:
            row.problems.append(("certification", "must not be empty"))
        report("certifications.csv", line, row.problems)
        if not duplicate("certifications.csv", line, "certification", cert.code, seen):
            certifications[cert.code] = cert

    schools: dict[str, School] = {}
    seen = {}
    for line, row in rows("schools.csv"):
        school = School(row.get("school_id", parse_id), row.get("name"), row.get("region"), row.get("model", parse_id),
                        row.get("city") or "other", row.get("waivers", parse_list, ()))
        report("schools.csv", line, row.problems + check_school(school, models))
        if not duplicate("schools.csv", line, "school_id", school.school_id, seen):
            schools[school.school_id] = school

    teachers: dict[str, Teacher] = {}
    seen = {}
    for line, row in rows("teachers.csv"):
        teacher = Teacher(
            teacher_id=row.get("teacher_id", parse_id),
            name=row.get("name"),
            certifications=row.get("certifications", parse_list, ()),
            seniority_date=row.get("seniority_date", parse_date, date.min),
            salary=row.get("salary", parse_int, 0),
            status=row.get("status"),
            must_place=row.get("must_place", parse_bool, False),
            return_rights=row.get("return_rights", parse_bool, False),
            former_school_id=row.get("former_school_id", optional_id),
            current_school_id=row.get("current_school_id", optional_id),
            displacement_reason=row.get("displacement_reason", optional_id),
            tenured=row.get("tenured", parse_optional_bool, False),
            rating=row.get("rating", parse_optional_int, None),
        )
        report("teachers.csv", line, row.problems + check_teacher(teacher, schools, known_codes, today))
        if not duplicate("teachers.csv", line, "teacher_id", teacher.teacher_id, seen):
            teachers[teacher.teacher_id] = teacher

    # outside candidates (docs/rules.md): not pool teachers; rankings and interviews name them by teacher_id
    seen = {}
    pool_ids = set(teachers)
    for line, row in rows("outside_candidates.csv"):
        candidate = Teacher(teacher_id=row.get("teacher_id"), name=row.get("name"),
                            certifications=row.get("certifications", parse_list, ()), seniority_date=date.max,
                            salary=row.get("salary", parse_int, 0) if row.values.get("salary", "").strip() else 0,
                            status=OUTSIDE)  # type: ignore[arg-type]
        found = list(row.problems)
        if not candidate.teacher_id:
            found.append(("teacher_id", "must not be empty"))
        if not candidate.certifications:
            found.append(("certifications", "an outside candidate needs at least one certification"))
        found += [("certifications", f"unknown certification {c!r}") for c in candidate.certifications
                  if c not in known_codes]
        if candidate.salary < 0:
            found.append(("salary", "must not be negative"))
        if candidate.teacher_id in pool_ids:
            found.append(("teacher_id", f"{candidate.teacher_id!r} is already a pool teacher in teachers.csv"))
        report("outside_candidates.csv", line, found)
        if not duplicate("outside_candidates.csv", line, "teacher_id", candidate.teacher_id, seen):
            teachers[candidate.teacher_id] = candidate

    vacancies: dict[str, Vacancy] = {}
    seen = {}
    for line, row in rows("vacancies.csv"):
        vacancy = Vacancy(row.get("vacancy_id", parse_id), row.get("school_id", parse_id), row.get("certification", parse_id),
                          row.get("fte", parse_float, 1.0))
        report("vacancies.csv", line, row.problems + check_vacancy(vacancy, schools, known_codes))
        if not duplicate("vacancies.csv", line, "vacancy_id", vacancy.vacancy_id, seen):
            vacancies[vacancy.vacancy_id] = vacancy

    preferences: list[Preference] = []
    seen = {}
    for line, row in rows("preferences.csv"):
        pref = Preference(row.get("teacher_id", parse_id), row.get("school_id", parse_id), row.get("rank", parse_int, 1))
        report("preferences.csv", line, row.problems + check_preference(pref, teachers, schools))
        if not duplicate("preferences.csv", line, "school_id", (pref.teacher_id, pref.school_id), seen):
            preferences.append(pref)

    rankings: list[Ranking] = []
    seen = {}
    for line, row in rows("rankings.csv"):
        ranking = Ranking(row.get("vacancy_id", parse_id), row.get("teacher_id", parse_id), row.get("rank", parse_int, 1))
        report("rankings.csv", line, row.problems + check_ranking(ranking, vacancies, teachers))
        if not duplicate("rankings.csv", line, "teacher_id", (ranking.vacancy_id, ranking.teacher_id), seen):
            rankings.append(ranking)

    interviews: list[Interview] = []
    for line, row in rows("interviews.csv"):
        interview = Interview(row.get("vacancy_id", parse_id), row.get("teacher_id", parse_id),
                              row.get("date", parse_date, date.min))
        report("interviews.csv", line, row.problems + check_interview(interview, vacancies, teachers, today))
        interviews.append(interview)

    committees: list[CommitteeMember] = []
    for line, row in rows("committees.csv"):
        member = CommitteeMember(row.get("school_id", parse_id), row.get("member"), row.get("role"))
        report("committees.csv", line, row.problems + check_committee_member(member, schools))
        committees.append(member)

    if problems:
        raise problems.error()
    if not catalogue_given:
        builtin = builtin_certifications()
        used = {c for t in teachers.values() for c in t.certifications} | {v.certification for v in vacancies.values()}
        certifications.update(builtin)
        certifications.update({c: Certification(c, c, False) for c in used if c not in builtin})
    return District(models=models, schools=schools, teachers=teachers, vacancies=vacancies,
                    preferences=preferences, rankings=rankings, interviews=interviews, committees=committees,
                    certifications=certifications)


def _fmt(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _frame(records: list[dict[str, object]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame([{c: _fmt(r[c]) for c in columns} for r in records], columns=list(columns))


def write_bundle(district: District, folder: Path | str) -> Path:
    """Write every file of the bundle, rows sorted by id so that equal districts give equal files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    models = [{"model": m.model, **{c: getattr(m, c) for c in RULE_COLUMNS}}
              for m in sorted(district.models.values(), key=lambda m: m.model)]
    pool = [t for t in district.teachers.values() if not t.is_outside_candidate]
    outside = [t for t in district.teachers.values() if t.is_outside_candidate]
    certs = [{"certification": c.code, "name": c.name, "shortage": c.shortage}
             for c in sorted(district.certifications.values(), key=lambda c: c.code)]
    tables: dict[str, list[dict[str, object]]] = {
        "models.csv": models,
        "certifications.csv": certs,
        "schools.csv": [vars(s) for s in sorted(district.schools.values(), key=lambda s: s.school_id)],
        "teachers.csv": [vars(t) for t in sorted(pool, key=lambda t: t.teacher_id)],
        "vacancies.csv": [vars(v) for v in sorted(district.vacancies.values(), key=lambda v: v.vacancy_id)],
        "preferences.csv": [vars(p) for p in sorted(district.preferences, key=lambda p: (p.teacher_id, p.rank))],
        "rankings.csv": [vars(r) for r in sorted(district.rankings, key=lambda r: (r.vacancy_id, r.rank))],
        "interviews.csv": [vars(i) for i in sorted(district.interviews, key=lambda i: (i.vacancy_id, i.teacher_id))],
        "committees.csv": [vars(c) for c in sorted(district.committees, key=lambda c: (c.school_id, c.member))],
    }
    if outside:  # only a district with outside candidates writes the file
        tables["outside_candidates.csv"] = [vars(t) for t in sorted(outside, key=lambda t: t.teacher_id)]
    for name, records in tables.items():
        columns = COLUMNS[name] + {"teachers.csv": EXTRA_TEACHER_COLUMNS, "schools.csv": EXTRA_SCHOOL_COLUMNS,
                                   "outside_candidates.csv": ("salary",)}.get(name, ())
        _frame(records, columns).to_csv(folder / name, index=False)
    return folder
