"""The policy HR chooses and named scenarios (engine tuning: :mod:`solver.settings`).

A scenario is data, not code: a list of rule-column overrides (for every model, or for the models of one
autonomy level, or for named models) plus the objective weights.  ``staffing place --scenario NAME`` and the
trade-off analysis both read this table.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Literal

from solver.settings import DETERMINISTIC, PRESETS, Engine, SearchMode, SolverSettings, preset
from staffing.rules import ModelRules

if TYPE_CHECKING:
    from staffing.domain import District


@dataclass(frozen=True)
class RuleOverride:
    """Set some rule columns on the models matched by ``models`` (names) or ``autonomy`` (levels).

    ``models=("*",)`` matches every model.
    """

    set: dict[str, bool | int]
    models: tuple[str, ...] = ()
    autonomy: tuple[str, ...] = ()
    except_models: tuple[str, ...] = ()

    def matches(self, rules: ModelRules) -> bool:
        if rules.model in self.except_models:
            return False
        return "*" in self.models or rules.model in self.models or rules.autonomy in self.autonomy


@dataclass(frozen=True)
class Policy:
    """What HR chooses for a placement round besides the district: the scenario (its name, description and rule
    overrides), the objective and its weights, the time limit and the search mode.  It carries the engine's
    :class:`solver.settings.SolverSettings` so that a recorded run stores both; the engine reads them resolved for
    the mode, :attr:`engine`."""

    name: str = "district_rules"
    description: str = "The district's rule table as it stands."
    overrides: tuple[RuleOverride, ...] = ()
    #: "lexicographic" solves must-place, then reserve cost, then welfare in stages; "weighted" solves one
    #: weighted sum with the weights below.
    objective: Literal["lexicographic", "weighted"] = "lexicographic"
    must_place_weight: int = 1_000_000
    reserve_weight: int = 1  # per 1,000 of salary of a placed district employee
    teacher_weight: int = 1  # per point of teacher satisfaction (0-10)
    committee_weight: int = 1  # per point of committee satisfaction (0-10)
    time_limit: float = 30.0
    #: deterministic (replayable) or parallel (both cores against the wall clock); a name is accepted too
    search: SearchMode = DETERMINISTIC
    settings: SolverSettings = field(default_factory=lambda: PRESETS["default"])

    def __post_init__(self) -> None:
        """Values out of range are refused here, once, for every caller (command line, web form, JSON API, a
        recorded run): a policy that exists can be solved."""
        if isinstance(self.search, str):
            object.__setattr__(self, "search", SearchMode.parse(self.search))
        problems = [message for ok, message in (
            (isinstance(self.time_limit, (int, float)) and 0 < self.time_limit < math.inf,
             f"time_limit must be a positive, finite number of seconds, got {self.time_limit}"),
            (self.objective in ("lexicographic", "weighted"),
             f"objective must be lexicographic or weighted, got {self.objective!r}"),
            (isinstance(self.settings, SolverSettings), f"settings must be SolverSettings, got {self.settings!r}"),
        ) if not ok]
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def engine(self) -> Engine:
        """The solver settings resolved for this policy's search mode: all the engine reads of them."""
        return self.settings.for_mode(self.search)

    def apply(self, models: dict[str, ModelRules]) -> dict[str, ModelRules]:
        """The effective rule table under this policy."""
        out = dict(models)
        for override in self.overrides:
            for name, rules in out.items():
                if override.matches(rules):
                    out[name] = rules.with_rules(**override.set)
        return out

    def apply_row(self, rules: ModelRules) -> ModelRules:
        """One effective row (a school's, after city rules and waivers) under this policy's overrides.  A school
        outside the district (independent charter) is not the district's to regulate: no scenario touches it."""
        if rules.outside_district:
            return rules
        for override in self.overrides:
            if override.matches(rules):
                rules = rules.with_rules(**override.set)
        return rules

    def school_rules(self, district: "District", school_id: str) -> ModelRules:
        """A school's rules in a round under this policy: :func:`staffing.rules.school_rules`, then the
        scenario's overrides (which change rule columns only: a charter stays outside the pool)."""
        return self.apply_row(district.rules_of(school_id))

    def with_(self, **changes: object) -> "Policy":
        """This policy with some of HR's choices changed (engine tuning: :meth:`with_settings`)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            settings = {f.name for f in fields(SolverSettings)}
            hint = " (solver settings: use with_settings)" if unknown <= settings else ""
            raise ValueError(f"unknown policy field(s): {', '.join(sorted(unknown))}{hint}")
        return replace(self, **changes)  # type: ignore[arg-type]

    def with_settings(self, settings: SolverSettings | str | None = None, **knobs: object) -> "Policy":
        """This policy with other solver settings: a preset (by name) or these settings, then ``knobs`` changed."""
        base = preset(settings) if isinstance(settings, str) else settings or self.settings
        return replace(self, settings=base.with_(**knobs) if knobs else base)

    def to_json(self) -> str:
        data = asdict(self)
        data["search"] = self.search.name
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Policy":
        """A policy as recorded with a run.  Runs recorded before the settings were kept apart are rewritten once by
        the database migration 0032 (which every command applies), not here."""
        data = json.loads(text)
        if not isinstance(data, dict) or "settings" not in data or "search" not in data:
            raise ValueError("this policy was recorded in the format before solver settings were kept apart from "
                             "the policy: upgrade the database (`staffing init-db`) to migrate recorded runs")
        hr = {f.name for f in fields(cls)}
        if unknown := set(data) - hr:
            raise ValueError(f"recorded policy has unknown field(s): {', '.join(sorted(unknown))}")
        data["overrides"] = tuple(RuleOverride(set=o["set"], models=tuple(o["models"]),
                                               autonomy=tuple(o["autonomy"]),
                                               except_models=tuple(o.get("except_models", ())))
                                  for o in data.get("overrides", ()))
        data["settings"] = SolverSettings.from_dict(data["settings"])
        return cls(**data)


_ALL = ("*",)
_LA = ("la_pilot", "la_lis", "la_esbmm", "la_partner", "la_affiliated_charter")
_INNOVATION = ("boston_innovation", "denver_innovation", "horace_mann_charter", "boston_turnaround")
#: The traditional row's rules: the baseline against which a scenario prices one model's autonomy.
TRADITIONAL = {"mutual_consent": False, "accepts_must_place": True, "honours_return_rights": True,
               "seniority_order": True, "can_dismiss_to_pool": False, "min_pool_interviews": 0,
               "may_hire_outside_pool": False}


def traditional_except(*keep: str) -> RuleOverride:
    """Every model follows the traditional rules except the ones named, which keep their own row."""
    return RuleOverride(TRADITIONAL, models=_ALL, except_models=keep)


#: Named scenarios of the seed reports.  Each is the district's table with some columns overridden; the
#: single-lever ones start from "everything traditional" so that each prices one kind of autonomy.
SCENARIOS: dict[str, Policy] = {p.name: p for p in (
    Policy(),
    Policy("all_traditional", "Every school follows the traditional rules: seniority, forced placement, "
                              "district assignment.", (traditional_except(),)),
    Policy("la_today", "LA today: LA models as reported (pilots still receive must-place teachers, LIS exempt "
                       "from priority placement but honouring return rights); every other school traditional.",
           (traditional_except(*_LA),)),
    Policy("lis_exempt", "Only local-initiative schools are autonomous: mutual consent, exempt from priority "
                         "placement, honouring return rights; every other school traditional.",
           (traditional_except("la_lis"),)),
    Policy("innovation_no_seniority", "Only innovation-type schools (Boston and Denver innovation, Horace Mann, "
                                      "turnaround) are autonomous: mutual consent regardless of seniority, no "
                                      "forced placements; every other school traditional.",
           (traditional_except(*_INNOVATION),)),
    Policy("pilots_no_forced", "The district's table, but no mid- or high-autonomy school receives forced "
                               "placements (LA pilots included).",
           (RuleOverride({"accepts_must_place": False}, autonomy=("mid", "high", "highest")),)),
    Policy("all_mutual_consent", "All schools hire by mutual consent and take no forced placements (Boston).",
           (RuleOverride({"mutual_consent": True, "accepts_must_place": False, "min_pool_interviews": 2},
                         models=_ALL),)),
)}


def scenario(name: str) -> Policy:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}: choose one of {', '.join(SCENARIOS)}") from None
