"""The school-model rule table: the one place where staffing rules per school model live.

Every other module (solver, checker, audit, analysis, web) reads a :class:`ModelRules` row; none of them
tests a model *name*.  A school's rules are its model's row, then its city's city-wide rules, then the waivers it holds
(:func:`school_rules`); ``docs/rules.md`` gives every row with the report line it comes from.  A district may
override a model's row with a ``models.csv``, and a policy scenario may override single rule columns (see
:mod:`solver.policy`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Literal

Autonomy = Literal["low", "mid", "high", "highest"]
CommitteeRule = Literal["principal", "consensus", "district"]
BudgetBasis = Literal["actual", "average"]

#: Columns of ``models.csv`` in the order FORMATS.md gives them.
RULE_COLUMNS: tuple[str, ...] = (
    "mutual_consent",
    "accepts_must_place",
    "honours_return_rights",
    "seniority_order",
    "can_dismiss_to_pool",
    "min_pool_interviews",
    "may_hire_outside_pool",
)


@dataclass(frozen=True)
class ModelRules:
    """One row of the rule table.

    The seven rule columns are the contract of RULES.md.  ``autonomy``, ``committee_rule``, ``city`` and
    ``summary`` are descriptive: they label figures and tell a principal how their committee decides, but
    never change what the solver may do.
    """

    model: str
    mutual_consent: bool
    accepts_must_place: bool
    honours_return_rights: bool
    seniority_order: bool
    can_dismiss_to_pool: bool
    min_pool_interviews: int
    may_hire_outside_pool: bool
    autonomy: Autonomy = "low"
    committee_rule: CommitteeRule = "district"
    city: str = ""
    summary: str = ""
    #: budgets on the teachers' actual salaries or on the district's average salary (Figures 12-15, 22)
    budget_basis: BudgetBasis = "average"
    #: outside the district pool (independent charter): its posts are never filled by the district, in any
    #: scenario; not a rule column, so a policy override cannot change it
    outside_district: bool = False
    #: a zone whose schools keep the displaced teachers they dismiss: such a teacher may only be placed inside it
    zone: str = ""
    #: roles the committee roster must include before it may decide (empty: no requirement)
    committee_roles: tuple[str, ...] = ()
    #: on a school's effective row: the waivers it holds
    waivers: tuple[str, ...] = ()

    def with_rules(self, **changes: bool | int) -> "ModelRules":
        """A copy with some rule columns changed (used by policy scenarios)."""
        unknown = set(changes) - set(RULE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown rule column(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "ModelRules":
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        for key in ("committee_roles", "waivers"):
            if isinstance(values.get(key), (list, str)):
                v = values[key]
                values[key] = tuple(v.split(";") if v else ()) if isinstance(v, str) else tuple(v)
        return cls(**values)  # type: ignore[arg-type]


def _row(model: str, mc: int, mp: int, rr: int, sen: int, dis: int, interviews: int, outside: int,
         autonomy: Autonomy, committee: CommitteeRule, city: str, budget: BudgetBasis, summary: str,
         **extra: object) -> ModelRules:
    return ModelRules(model, bool(mc), bool(mp), bool(rr), bool(sen), bool(dis), interviews, bool(outside),
                      autonomy, committee, city, summary, budget_basis=budget, **extra)  # type: ignore[arg-type]


# fmt: off
#: The model default rows: what a school of the model does without city-wide rules and without any waiver.
#: Columns: mutual_consent, accepts_must_place, honours_return_rights, seniority_order, can_dismiss_to_pool,
#: min_pool_interviews, may_hire_outside_pool.  docs/rules.md gives each row's source line in the report.
BUILTIN_RULES: dict[str, ModelRules] = {r.model: r for r in (
    #     model                   MC MP RR SEN DIS INT OUT autonomy   committee    city           budget
    _row("traditional",           0, 1, 1, 1,  0,  0,  0, "low",     "district",  "any",         "average",
         "Seniority-based transfers and excessing; may receive forced placements; hires only from the district pool."),
    _row("boston_pilot",          1, 0, 0, 0,  1,  2,  1, "high",    "principal", "boston",      "actual",
         "Mutual consent; hires its own teachers, including ones not yet hired by the district; dismisses to the pool "
         "for performance or fit (elect-to-work agreement); budgets on actual salaries."),
    _row("boston_innovation",     1, 0, 0, 1,  0,  2,  0, "high",    "principal", "boston",      "actual",
         "With CBA waivers in its innovation plan: hires regardless of seniority or district employment, dismisses "
         "to the pool for performance, opts out of seniority in layoffs; budgets on actual salaries."),
    _row("horace_mann_charter",   1, 0, 0, 1,  0,  2,  0, "high",    "principal", "boston",      "actual",
         "With CBA waivers: hires regardless of seniority and dismisses to the district pool; staff keep accruing "
         "seniority; budgets on actual salaries."),
    _row("boston_turnaround",     1, 0, 0, 1,  0,  2,  0, "mid",     "principal", "boston",      "average",
         "If in its turnaround plan: hires regardless of seniority, dismisses to the pool, opts out of seniority in "
         "layoffs; budgets on the district's average salary."),
    _row("la_pilot",              1, 1, 1, 0,  1,  0,  0, "mid",     "principal", "los_angeles", "average",
         "Committee selection (the principal, or the committee by consensus) but in practice still receives "
         "must-place teachers; may dismiss a teacher who does not meet the elect-to-work agreement."),
    _row("la_lis",                1, 0, 1, 0,  0,  0,  0, "low",     "district",  "los_angeles", "average",
         "Local initiative school: mutual consent hiring; exempt from district priority placements but not from "
         "return rights; with staff-selection autonomy, its own committee as a pilot's; no extra dismissal power."),
    _row("la_esbmm",              1, 1, 1, 1,  0,  0,  0, "low",     "consensus", "los_angeles", "average",
         "Consensus committee (principal, UTLA chair, teachers, parents, students, classified staff) within "
         "district staffing rules.",
         committee_roles=("principal", "union_chair", "teacher", "parent", "classified")),
    _row("la_partner",            0, 1, 1, 1,  0,  0,  0, "low",     "district",  "los_angeles", "average",
         "Network partner: district hiring process, sometimes forced placements; no extra dismissal power."),
    _row("la_affiliated_charter", 0, 1, 1, 1,  0,  0,  0, "low",     "district",  "los_angeles", "average",
         "Staff assigned by district policy and the CBA unless the approved charter has a selection process."),
    _row("memphis_izone",         1, 0, 0, 0,  1,  0,  0, "mid",     "principal", "memphis",     "average",
         "Hires at school level; all teachers reapply at takeover; dismisses a 'bad fit' to the district pool."),
    _row("denver_innovation",     1, 0, 0, 0,  0,  0,  0, "high",    "principal", "denver",      "actual",
         "Hires at school level; may waive the CBA with a 60% teacher vote, and tenure for new teachers; budgets on "
         "actual salaries."),
    _row("springfield_empowerment", 1, 0, 0, 0, 0, 0,  0, "high",    "principal", "springfield", "average",
         "Empowerment zone: the teachers a zone school dismisses stay the zone's (never forced on a school, never "
         "sent outside the zone, paid by the zone while unplaced); only restarted schools may dismiss.",
         zone="springfield_empowerment_zone"),
    _row("independent_charter",   1, 0, 0, 0,  0,  0,  1, "highest", "principal", "any",         "actual",
         "Own employees, outside the district pool: the district neither fills its posts nor places teachers there.",
         outside_district=True),
)}

#: City-wide rules: (city, model) -> the columns that differ from the model's row in that city; model ``*`` is
#: every district-run model of the city.  They never apply to schools outside the district (charters).
CITY_RULES: dict[tuple[str, str], dict[str, object]] = {
    # All BPS schools: mutual consent, the district cannot force a teacher on a principal; two pool interviews.
    ("boston", "*"): {"mutual_consent": True, "accepts_must_place": False, "honours_return_rights": False,
                      "min_pool_interviews": 2, "committee_rule": "principal"},
    # Tennessee: personnel decisions based on tenure or seniority are prohibited.
    ("memphis", "*"): {"seniority_order": False},
    # Colorado SB 10-191: placements by mutual consent, not seniority, no forced placement.
    ("denver", "*"): {"mutual_consent": True, "accepts_must_place": False, "honours_return_rights": False,
                      "seniority_order": False, "committee_rule": "principal"},
}

#: What a city's rules say, appended to the summary of a school they apply to.
CITY_SUMMARIES: dict[str, str] = {
    "boston": "In Boston every district school hires by mutual consent, takes no forced placement and must "
              "interview two displaced applicants from the pool.",
    "memphis": "In Memphis no personnel decision may rest on tenure or seniority.",
    "denver": "In Denver placements are by mutual consent, not seniority, and never forced.",
}

#: Conditional autonomies: model -> waiver name -> the columns the waiver switches.  A school holds a waiver
#: when its ``waivers`` lists it; waivers apply in the order written here.
WAIVERS: dict[str, dict[str, dict[str, object]]] = {
    "horace_mann_charter": {"cba_waivers": {"seniority_order": False, "can_dismiss_to_pool": True}},
    "boston_innovation": {"cba_waivers": {"seniority_order": False, "can_dismiss_to_pool": True,
                                          "may_hire_outside_pool": True}},
    "boston_turnaround": {"turnaround_plan": {"seniority_order": False, "can_dismiss_to_pool": True}},
    "la_pilot": {"consensus_committee": {"committee_rule": "consensus"}},
    "la_lis": {"staff_selection": {"committee_rule": "principal"},
               "consensus_committee": {"committee_rule": "consensus"}},
    "la_affiliated_charter": {"approved_selection_process": {"mutual_consent": True, "seniority_order": False,
                                                             "committee_rule": "principal"}},
    "denver_innovation": {"cba_waiver": {"can_dismiss_to_pool": True, "may_hire_outside_pool": True},
                          "tenure_waiver": {}},
    "springfield_empowerment": {"restart": {"can_dismiss_to_pool": True, "may_hire_outside_pool": True}},
}
# fmt: on

#: Cities a school may name (FORMATS.md); ``other`` has no city-wide rules.
CITIES: tuple[str, ...] = ("boston", "los_angeles", "memphis", "denver", "springfield", "other")


def school_rules(models: Mapping[str, ModelRules], model: str, city: str = "other",
                 waivers: Iterable[str] = ()) -> ModelRules:
    """The effective rules of one school: its model's row, the city-wide rules of its city, then its waivers.

    This is the one resolution every reader uses (solver instance, checker, audit, services, web)."""
    base = models[model]
    changes: dict[str, object] = {}
    if not base.outside_district:
        changes.update(CITY_RULES.get((city, "*"), {}))
        changes.update(CITY_RULES.get((city, model), {}))
        if city in CITY_SUMMARIES:
            changes["summary"] = f"{base.summary} {CITY_SUMMARIES[city]}".strip()
    held = set(waivers)
    for name, delta in WAIVERS.get(model, {}).items():
        if name in held:
            changes.update(delta)
    return replace(base, city=city, waivers=tuple(sorted(held)), **changes)  # type: ignore[arg-type]


def check_waivers(model: str, waivers: Iterable[str]) -> list[str]:
    """Problems with a school's waivers: each must be a conditional autonomy of its model."""
    known = WAIVERS.get(model, {})
    bad = [w for w in waivers if w not in known]
    if not bad:
        return []
    allowed = ", ".join(known) if known else "none"
    return [f"waiver {w!r} is not a conditional autonomy of {model} (known: {allowed})" for w in bad]


def committee_composition_problems(rules: ModelRules, roles: Iterable[str]) -> list[str]:
    """The roles a model's committee must have (``committee_roles``) that the roster lacks."""
    have = set(roles)
    return [r for r in rules.committee_roles if r not in have]


#: Autonomy ordered from least to most, for sorting figures.
AUTONOMY_ORDER: dict[str, int] = {"low": 0, "mid": 1, "high": 2, "highest": 3}


def merge_rule_rows(overrides: dict[str, ModelRules]) -> dict[str, ModelRules]:
    """The built-in table with a district's ``models.csv`` rows laid over it.

    A district row replaces the seven rule columns of a built-in model and keeps its description; a row for a
    model the table does not know adds that model.
    """
    merged = dict(BUILTIN_RULES)
    for name, row in overrides.items():
        base = merged.get(name)
        if base is None:
            merged[name] = row
        else:
            merged[name] = base.with_rules(**{c: getattr(row, c) for c in RULE_COLUMNS})
    return merged


def zone_name(zone: str) -> str:
    """A zone's key as a reader sees it: ``springfield_empowerment_zone`` -> "the Springfield empowerment zone"."""
    return "the " + zone.replace("_", " ").capitalize()
