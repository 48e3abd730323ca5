"""Names for ids: what a person reads instead of ``T00043``/``S0019``/``ELEM``, and the reverse lookup for
pickers and filters (a name, ``Name (ID)`` or the id itself all select the same record)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlmodel import Session, select

from staffing.db_models import CertificationRow, SchoolModelRule, SchoolRow, TeacherRow

_TRAILING_ID = re.compile(r"[(\[·]\s*([A-Za-z0-9_.-]+)\s*[)\]]?\s*$")


def model_name(model: str) -> str:
    """``boston_pilot`` -> ``Boston Pilot``, ``la_lis`` -> ``LA LIS``: school models have codes only, so their
    name is the code spelled out (short or vowel-less words read as acronyms)."""
    def word(w: str) -> str:
        return w.upper() if len(w) <= 3 or not any(c in "aeiouy" for c in w[1:].lower()) else w.capitalize()
    return " ".join(word(w) for w in model.replace("_", " ").split()) or model


@dataclass
class Names:
    teachers: dict[str, str] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)
    certifications: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, teachers: bool = True) -> "Names":
        return cls(
            teachers=dict(session.exec(select(TeacherRow.teacher_id, TeacherRow.name)).all()) if teachers else {},
            schools=dict(session.exec(select(SchoolRow.school_id, SchoolRow.name)).all()),
            certifications=dict(session.exec(select(CertificationRow.code, CertificationRow.name)).all()),
            models={m: model_name(m) for m in session.exec(select(SchoolModelRule.model)).all()})

    def teacher(self, teacher_id: str | None) -> str:
        return self.teachers.get(teacher_id or "", "")

    def school(self, school_id: str | None) -> str:
        return self.schools.get(school_id or "", "")

    def certification(self, code: str | None) -> str:
        return self.certifications.get(code or "", code or "")

    def certification_list(self, codes: str) -> str:
        """``ELEM;SPED`` -> ``Elementary; Special education``."""
        return "; ".join(self.certification(c) for c in codes.split(";") if c)

    def model(self, model: str | None) -> str:
        return self.models.get(model or "", model_name(model or ""))

    def spell(self, text: str | None) -> str:
        return spell(text, self)

    def resolve_teacher(self, text: str) -> str:
        return resolve(text, self.teachers)

    def resolve_school(self, text: str) -> str:
        return resolve(text, self.schools)

    def resolve_certification(self, text: str) -> str:
        return resolve(text, self.certifications)


def resolve(text: str, names: dict[str, str]) -> str:
    """The id a person meant by ``text``: the id itself, ``Name (ID)``/``Name · ID`` as a picker fills in, or a
    name that belongs to exactly one record (case-insensitive).  Anything else comes back unchanged, so the
    service that validates it can say what is wrong."""
    text = (text or "").strip()
    if not text or text in names:
        return text
    match = _TRAILING_ID.search(text)
    if match and match.group(1) in names:
        return match.group(1)
    upper = text.upper()
    if upper in names:
        return upper
    wanted = text.casefold()
    hits = [key for key, name in names.items() if name.casefold() == wanted]
    return hits[0] if len(hits) == 1 else text


def label(name: str, key: str) -> str:
    """What a picker offers and fills in: ``Name (ID)``."""
    return f"{name} ({key})" if name and name != key else key


_TOKEN = re.compile(r"[A-Za-z0-9_.-]+")


def spell(text: str | None, names: Names) -> str:
    """A solver or audit sentence with each school and teacher id preceded by its name (``S0008`` ->
    ``Harbor Middle (S0008)``) and school model codes spelled out (``boston_pilot`` -> ``Boston pilot``)."""
    if not text:
        return ""

    def one(match: re.Match) -> str:
        token = match.group(0)
        name = names.schools.get(token) or names.teachers.get(token)
        if name:
            return f"{name} ({token})"
        return names.models.get(token, token)  # a school model's code reads as its name

    return _TOKEN.sub(one, text)
