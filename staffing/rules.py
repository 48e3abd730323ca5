"""The school-model rule table: the one place where staffing rules per school model live.

Every other module (solver, checker, audit, analysis, web) reads a :class:`ModelRules` row; none of them
tests a model *name*.  The built-in rows transcribe ``../shared/DESIGN.md`` ("School models and their staffing
rules"); a district may override them with a ``models.csv`` in its bundle, and a policy scenario may
override single columns (see :mod:`solver.policy`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Literal

Autonomy = Literal["low", "mid", "high", "highest"]
CommitteeRule = Literal["principal", "consensus", "district"]

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
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]


def _row(model: str, mc: int, mp: int, rr: int, sen: int, dis: int, interviews: int, outside: int,
         autonomy: Autonomy, committee: CommitteeRule, city: str, summary: str) -> ModelRules:
    return ModelRules(model, bool(mc), bool(mp), bool(rr), bool(sen), bool(dis), interviews, bool(outside),
                      autonomy, committee, city, summary)


# fmt: off
#: The built-in rule table.  Columns: mutual_consent, accepts_must_place, honours_return_rights,
#: seniority_order, can_dismiss_to_pool, min_pool_interviews, may_hire_outside_pool.
BUILTIN_RULES: dict[str, ModelRules] = {r.model: r for r in (
    #     model                   MC MP RR SEN DIS INT OUT autonomy  committee
    _row("traditional",           0, 1, 1, 1,  0,  0,  0, "low",    "district",  "any",
         "Seniority-based transfers and excessing; may receive forced placements; hires only from the district pool."),
    _row("boston_pilot",          1, 0, 0, 0,  1,  2,  1, "high",   "consensus", "Boston",
         "Mutual consent; hires its own teachers, including ones not yet hired by the district; dismisses to the pool "
         "for performance or fit (elect-to-work agreement); must interview two pool applicants."),
    _row("boston_innovation",     1, 0, 0, 0,  1,  2,  1, "high",   "principal", "Boston",
         "Hires regardless of seniority or district employment; dismisses to the pool for performance; opts out of "
         "seniority in layoffs."),
    _row("horace_mann_charter",   1, 0, 0, 0,  1,  2,  1, "high",   "principal", "Boston",
         "With CBA waivers hires regardless of seniority; dismisses to the district pool; staff keep accruing "
         "seniority."),
    _row("boston_turnaround",     1, 0, 0, 0,  1,  2,  0, "mid",    "principal", "Boston",
         "Under a turnaround plan: hires regardless of seniority, dismisses to the pool, opts out of seniority in "
         "layoffs; all teachers reapply."),
    _row("la_pilot",              1, 1, 1, 0,  1,  0,  0, "mid",    "consensus", "Los Angeles",
         "Committee selection (principal or consensus) but in practice still receives must-place teachers; may "
         "dismiss a teacher who does not meet the elect-to-work agreement."),
    _row("la_lis",                1, 0, 1, 1,  0,  0,  0, "low",    "consensus", "Los Angeles",
         "Local initiative school: mutual consent; exempt from district priority placements but not from return "
         "rights; no extra dismissal power."),
    _row("la_esbmm",              1, 1, 1, 1,  0,  0,  0, "low",    "consensus", "Los Angeles",
         "Consensus committee (principal, UTLA chair, teachers, parents, students, classified staff) within "
         "district staffing rules."),
    _row("la_partner",            0, 1, 1, 1,  0,  0,  0, "low",    "district",  "Los Angeles",
         "Network partner: district hiring process, sometimes forced placements; no extra dismissal power."),
    _row("la_affiliated_charter", 0, 1, 1, 1,  0,  0,  0, "low",    "district",  "Los Angeles",
         "Staff assigned by district policy and the CBA unless the approved charter has a selection process."),
    _row("memphis_izone",         1, 0, 0, 0,  1,  0,  0, "mid",    "principal", "Memphis",
         "Hires at school level; all teachers reapply at takeover; dismisses a 'bad fit' to the district pool."),
    _row("denver_innovation",     1, 0, 0, 0,  1,  0,  1, "high",   "principal", "Denver",
         "Hires at school level; may waive the CBA with a 60% teacher vote and tenure for new teachers."),
    _row("springfield_empowerment", 1, 0, 1, 0, 1, 0,  0, "high",   "principal", "Springfield",
         "Empowerment zone: dismissed tenured teachers may not be forced on another school and are paid while "
         "unplaced."),
    _row("independent_charter",   1, 0, 0, 0,  0,  0,  1, "highest", "principal", "any",
         "Own employees, outside the district pool: may hire a pool teacher only by mutual consent."),
)}
# fmt: on

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
