"""Policy knobs and named scenarios.

A scenario is data, not code: a list of rule-column overrides (for every model, or for the models of one
autonomy level, or for named models) plus the objective weights.  ``staffing place --scenario NAME`` and the
trade-off analysis both read this table.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

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


# CP-SAT's LP-heavy full-problem workers and its quick restarts (the ``lean`` portfolio's skips)
_LP_HEAVY = ("max_lp", "reduced_costs", "core", "no_lp", "quick_restart", "quick_restart_no_lp")

#: CP-SAT workers a deterministic (interleaved) search skips, by portfolio name.  A name is never redefined: a
#: recorded run replays with the portfolio it was solved with.  ``full``: CP-SAT's whole portfolio; ``lean``:
#: without the LP-heavy full-problem workers and quick restarts; ``pseudo_costs_lns`` (default): ``lean`` without
#: ``default_lp`` too (benchmarks/JOURNAL.md, "Policy knobs").
PORTFOLIOS: dict[str, tuple[str, ...]] = {"full": (), "lean": _LP_HEAVY, "pseudo_costs_lns": (*_LP_HEAVY, "default_lp")}


@dataclass(frozen=True)
class Policy:
    """Everything besides the district that decides a placement round."""

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
    workers: int = 2
    seed: int = 0
    #: Deterministic search (interleaved workers, deterministic time limit): the same snapshot and policy give
    #: the same placements, so a recorded run can be replayed.  Off, both cores search in parallel.
    deterministic: bool = True
    #: Up to this many allowed pairs the model is exact; above it, see :func:`solver.cpsat.model_pairs` (a model
    #: CP-SAT cannot search in the time does worse than a smaller one).
    full_model_pairs: int = 10_000
    #: Pairs kept per teacher among schools they are indifferent to (no list, or unlisted forced placement).
    indifferent_pairs: int = 6
    #: Above ``full_model_pairs``, this many Lagrangian iterations inside ``time_limit`` choose more pairs for
    #: the model where they fit in ``pricing_share`` of it (:func:`solver.cpsat.pricing_iterations`); 0 is off.
    pricing_iterations: int = 150
    pricing_share: float = 0.15
    #: Where ``pricing_iterations`` do not fit, this many (if they fit in ``pricing_share``) give their last
    #: assignment's pairs to the model (:func:`solver.cpsat.quick_pricing_iterations`; deterministic searches);
    #: 0 is off.
    quick_pricing_iterations: int = 4
    #: Where the quick pricing would run, this many Lagrangian iterations run instead, charged to the search's
    #: deterministic budget as the quick pricing's were (:func:`solver.cpsat.settled_pricing_iterations`): their
    #: last relaxed assignment's pairs join the model and guide the second warm start; their bound is the round's
    #: proven reserve bound.  0 is off.
    settled_pricing_iterations: int = 100
    #: A parallel (wall-clock) round runs the settled pricing too where it takes at most this share of the limit
    #: at nominal speed (:func:`solver.cpsat.settled_pricing_iterations`), so the round proves its reserve gap.
    #: 0 is off, as in parallel runs recorded before.
    parallel_pricing_share: float = 0.65
    #: The Lagrangian's relaxed assignments by auction (:mod:`solver.auction`), each within this many thousandths
    #: of a weight unit per teacher of the maximum, with an exact flow every tenth iteration for the bound; 0 is
    #: an exact flow every iteration.  Auctions are several times faster on the district.
    auction_eps: int = 100
    #: In a parallel round's pricing, every this many iterations is an exact flow (a deterministic round: every
    #: tenth, :data:`solver.lagrangian.EXACT_EVERY`); 0: only the last, and the bound comes from the auctions' dual
    #: values, leaving the wall clock to the search.
    parallel_exact_every: int = 0
    #: The share of a parallel round's search time left that its reserve stage gets when the welfare stage
    #: follows (:func:`solver.cpsat.parallel_stage_share`): the lexicographically weightier stage; the others
    #: share equally.
    parallel_reserve_share: float = 0.67
    #: Where pairs are priced, a second warm start: deferred acceptance guided by the pricing's last relaxed
    #: assignment (:func:`solver.cpsat.guided_start`); the search starts from the better of the two.
    guided_start: bool = True
    #: The CP-SAT workers a deterministic search runs (:data:`PORTFOLIOS`): without the LP-heavy full-problem
    #: ones, which on the district spend whole batches of the budget on LP solves.
    portfolio: str = "pseudo_costs_lns"
    #: A parallel (wall-clock) round runs ``portfolio`` and ``lns_task_seconds`` too, on both cores at once; off,
    #: CP-SAT's default portfolio for two workers, as in parallel runs recorded before.
    portfolio_in_parallel: bool = True
    #: CP-SAT's presolve passes (``max_presolve_iterations``, 3 in CP-SAT) in a parallel round: one leaves the
    #: search more of a short round's time.  Deterministic rounds keep CP-SAT's three, so recorded answers replay.
    parallel_presolve_iterations: int = 1
    #: Tasks per batch of a deterministic search.  1 runs them one at a time, and a replay gives exactly the same
    #: placements.  0 is CP-SAT's default, one per worker side by side (``place --side-by-side``), whose last
    #: batch depends on thread timing.
    interleave_batch: int = 1
    #: Deterministic seconds CP-SAT gives each LNS task at first (``lns_initial_deterministic_limit``, 0.1 in
    #: CP-SAT): shorter tasks mean more neighbourhoods in the same budget.
    lns_task_seconds: float = 0.01
    #: Where the quick pricing ran and the search runs one task at a time (leaving a core idle), this many
    #: Lagrangian iterations of the reserve stage run on that core during the search
    #: (:class:`solver.cpsat.BoundBesideSearch`): the round proves its own gap instead of leaving that to
    #: ``bound_seconds`` afterwards.  They change no placement.  0 is off.
    bound_beside_search: int = 100
    #: Up to this many allowed pairs each stage's gap is also reported against the LP bound with seniority
    #: (:mod:`solver.bounds`); above it that LP takes minutes (a district's is a million rows) and is skipped.
    lp_bound_pairs: int = 10_000
    #: Above ``lp_bound_pairs``, seconds spent after the search tightening the searched stages' bounds by
    #: Lagrangian relaxation of R-SENIORITY (:mod:`solver.lagrangian`); 0 is off.  Outside ``time_limit``: it
    #: changes no placement, only how much is proven about it (a district needs minutes for a useful bound).
    bound_seconds: float = 0.0
    #: CP-SAT's LP relaxation strength (0-2); 2 gives stronger bounds on large rounds at some speed cost.
    linearization_level: int = 1

    def __post_init__(self) -> None:
        """Knobs out of range are refused here, once, for every caller (command line, web form, JSON API, a
        recorded run): a policy that exists can be solved."""
        checks = [
            (0 < self.time_limit < math.inf,
             f"time_limit must be a positive, finite number of seconds, got {self.time_limit}"),
            (0 <= self.bound_seconds < math.inf,
             f"bound_seconds must be 0 (off) or a positive, finite number of seconds, got {self.bound_seconds}"),
            (0 <= self.pricing_share <= 1, f"pricing_share must be between 0 and 1, got {self.pricing_share}"),
            (0 <= self.parallel_pricing_share <= 1,
             f"parallel_pricing_share must be between 0 and 1, got {self.parallel_pricing_share}"),
            (0 < self.parallel_reserve_share < 1,
             f"parallel_reserve_share must be between 0 and 1 (both excluded), got {self.parallel_reserve_share}"),
            (0 < self.lns_task_seconds < math.inf,
             f"lns_task_seconds must be a positive, finite number of seconds, got {self.lns_task_seconds}"),
            (self.objective in ("lexicographic", "weighted"),
             f"objective must be lexicographic or weighted, got {self.objective!r}"),
            (self.portfolio in PORTFOLIOS,
             f"portfolio must be one of {', '.join(PORTFOLIOS)}, got {self.portfolio!r}"),
            *((getattr(self, name) >= low, f"{name} must be at least {low}, got {getattr(self, name)}")
              for name, low in (("workers", 1), ("pricing_iterations", 0), ("quick_pricing_iterations", 0),
                                ("auction_eps", 0), ("parallel_exact_every", 0), ("parallel_presolve_iterations", 1),
                                ("settled_pricing_iterations", 0),
                                ("full_model_pairs", 0), ("interleave_batch", 0), ("bound_beside_search", 0),
                                ("indifferent_pairs", 0), ("lp_bound_pairs", 0), ("linearization_level", 0))),
        ]
        if problems := [message for ok, message in checks if not ok]:
            raise ValueError("; ".join(problems))

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
        data = {**self.__dict__, **changes}
        return Policy(**data)  # type: ignore[arg-type]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Policy":
        """A policy as recorded with a run, however old the run (:func:`migrate_policy`)."""
        data = migrate_policy(json.loads(text))
        data["overrides"] = tuple(RuleOverride(set=o["set"], models=tuple(o["models"]),
                                               autonomy=tuple(o["autonomy"]),
                                               except_models=tuple(o.get("except_models", ())))
                               for o in data["overrides"])
        return cls(**data)


#: Fields added to :class:`Policy` after runs were first recorded, each with the value that reproduces what a run
#: recorded before it did: a recorded run replays with the engine it was solved with, not with today's defaults.
RECORDED_BEFORE: dict[str, object] = {
    "pricing_iterations": 0,  # before Lagrangian pricing chose pairs
    "quick_pricing_iterations": 0,  # before the quick pricing
    "guided_start": False,  # before the guided warm start: deferred acceptance alone
    "lns_task_seconds": 0.1,  # before shorter LNS tasks: CP-SAT's
    "interleave_batch": 0,  # before tasks ran one at a time: CP-SAT's batches
    "bound_beside_search": 0,  # before the bound beside the search
    "settled_pricing_iterations": 0,  # before the settled pricing
    "parallel_pricing_share": 0.0,  # a parallel run before parallel rounds priced pairs
    "portfolio_in_parallel": False,  # ... and before they ran the deterministic rounds' portfolio
    "parallel_presolve_iterations": 3,  # ... and before one presolve pass: CP-SAT's three
    "auction_eps": 0,  # before relaxed assignments by auction: exact flows
    "parallel_exact_every": 10,  # a parallel run before its pricing was bounded by the auctions' duals
    "parallel_reserve_share": 0.5,  # ... and before its reserve stage got two thirds of the search time left
}


def migrate_policy(data: dict[str, object]) -> dict[str, object]:
    """A recorded policy's JSON brought to today's fields: every field it lacks gets the value of
    :data:`RECORDED_BEFORE`, and the older "lean_search" switch becomes the portfolio it chose
    ("lean", else CP-SAT's "full" portfolio for a run recorded before portfolios had names).  The one place that
    knows the history of the recorded format."""
    out = {**RECORDED_BEFORE, **data}
    lean = out.pop("lean_search", False)
    out.setdefault("portfolio", "lean" if lean else "full")
    return out


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
