"""Small hand-built districts for tests whose right answer can be worked out on paper."""

from __future__ import annotations

from datetime import date

from staffing.domain import District, Preference, Ranking, School, Teacher, Vacancy, builtin_certifications
from staffing.rules import BUILTIN_RULES


def teacher(tid: str, certs: str = "MATH", since: str = "2010-01-01", status: str = "displaced",
            must_place: bool = False, return_to: str | None = None, salary: int = 60_000) -> Teacher:
    return Teacher(teacher_id=tid, name=f"Teacher {tid}", certifications=tuple(sorted(certs.split(";"))),
                   seniority_date=date.fromisoformat(since), salary=salary, status=status,  # type: ignore[arg-type]
                   must_place=must_place, return_rights=return_to is not None, former_school_id=return_to)


def district(schools: dict[str, str | tuple[str, str] | tuple[str, str, str]], teachers: list[Teacher], vacancies: dict[str, tuple[str, str]],
             prefs: dict[str, list[str]] | None = None, rankings: dict[str, list[str]] | None = None) -> District:
    """``schools``: id -> model, or (model, city) or (model, city, "waiver;waiver"); ``vacancies``: id -> (school, certification); ``prefs``: teacher -> schools in
    order; ``rankings``: vacancy -> teachers in the committee's order."""
    return District(
        models=dict(BUILTIN_RULES),
        schools={sid: _school(sid, spec) for sid, spec in schools.items()},
        teachers={t.teacher_id: t for t in teachers},
        vacancies={vid: Vacancy(vid, sid, cert) for vid, (sid, cert) in vacancies.items()},
        preferences=[Preference(tid, sid, i + 1) for tid, sids in (prefs or {}).items() for i, sid in enumerate(sids)],
        rankings=[Ranking(vid, tid, i + 1) for vid, tids in (rankings or {}).items() for i, tid in enumerate(tids)],
        certifications=builtin_certifications(),
    )


def _school(sid: str, spec: str | tuple[str, ...]) -> School:
    model, city, waivers = (spec, "other", "") if isinstance(spec, str) else (tuple(spec) + ("", ""))[:3]
    return School(sid, f"School {sid}", "North", model, city or "other",
                  tuple(sorted(w for w in waivers.split(";") if w)))


def outside(tid: str, certs: str = "MATH", salary: int = 50_000) -> Teacher:
    """An outside candidate (``outside_candidates.csv``): not in the pool, least senior of all."""
    return Teacher(teacher_id=tid, name=f"Candidate {tid}", certifications=tuple(sorted(certs.split(";"))),
                   seniority_date=date.max, salary=salary, status="outside_candidate")
