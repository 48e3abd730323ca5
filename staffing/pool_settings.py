"""District settings of rosters, excessing and teachers' own lists, stored in ``pool_setting`` (key -> text).

Each setting has a default, a parser and a one-line meaning; an unknown key or a bad value is refused with a
clear message and nothing written.  Changes are in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from staffing.db_models import PoolSetting
from staffing.services import log_change
from staffing.validation import Problem, ValidationError, parse_bool, parse_date, parse_int


@dataclass(frozen=True)
class Setting:
    default: str
    parse: Callable[[str], object]
    meaning: str


def _positive(text: str) -> int:
    value = parse_int(text)
    if value < 1:
        raise ValueError(f"must be 1 or more, got {value}")
    return value


def _optional_date(text: str) -> date | None:
    return parse_date(text) if text.strip() else None


SETTINGS: dict[str, Setting] = {
    "tenured_must_place": Setting("true", parse_bool, "an excessed or dismissed tenured teacher is must-place"),
    "max_wishes": Setting("10", _positive, "the most schools a teacher may list"),
    "preferences_deadline": Setting("", _optional_date,
                                    "last day (YYYY-MM-DD) teachers may change their list; empty: no deadline"),
}


def get(session: Session, key: str) -> object:
    """The parsed value of a setting (its default when never set)."""
    if key not in SETTINGS:
        raise KeyError(f"unknown setting {key!r}: choose {', '.join(SETTINGS)}")
    row = session.get(PoolSetting, key)
    return SETTINGS[key].parse(row.value if row is not None else SETTINGS[key].default)


def all_settings(session: Session) -> dict[str, object]:
    return {key: get(session, key) for key in SETTINGS}


def set_value(session: Session, key: str, value: str, actor: str) -> object:
    """Change one setting after checking the value; returns the parsed value."""
    if key not in SETTINGS:
        raise ValidationError([Problem("settings", None, key, f"unknown setting: choose {', '.join(SETTINGS)}")])
    try:
        parsed = SETTINGS[key].parse(value)
    except ValueError as exc:
        raise ValidationError([Problem("settings", None, key, str(exc))]) from None
    row = session.get(PoolSetting, key)
    before = row.value if row is not None else None
    if row is None:
        row = PoolSetting(key=key, value=value.strip())
    row.value = value.strip()
    session.add(row)
    session.flush()
    log_change(session, actor, "update", "pool_setting", key, before, row.value)
    return parsed


def stored(session: Session) -> dict[str, str]:
    return {r.key: r.value for r in session.exec(select(PoolSetting))}
