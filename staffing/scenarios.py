"""Scenario sets of the trade-off analysis: rule-table changes (a :class:`solver.policy.Policy`) plus the
policy levers of :class:`staffing.measures.Levers`, one set for a mixed district and one per city.

A city's set starts from that city's rules as they stand (the baseline every difference is taken against),
prices each of its models' autonomy alone, goes to both ends (all traditional, mutual consent everywhere)
and tries the levers the source report and practice discuss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from solver.policy import SCENARIOS, Policy, RuleOverride, traditional_except
from staffing.measures import CITY_ECONOMICS, Levers
from staffing.rules import BUILTIN_RULES
from staffing.seed import CITIES

BASELINE = "district_rules"


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str  # short, for charts
    description: str
    policy: Policy
    levers: Levers = field(default_factory=Levers)

    @property
    def solve_key(self) -> tuple[str, bool]:
        """Scenarios with the same key share one solve: their levers change only costs."""
        return (self.policy.with_(name="", description="").to_json(), self.levers.forced_at_deadline)


def model_label(model: str) -> str:
    words = {"la": "LA", "lis": "LIS", "esbmm": "ESBMM", "izone": "iZone"}
    return " ".join(words.get(w, w.capitalize()) for w in model.split("_"))


def _levers(city: str | None) -> list[Scenario]:
    base = SCENARIOS[BASELINE]
    limit = CITY_ECONOMICS.get(city, CITY_ECONOMICS[None]).reserve_months
    out = [
        Scenario("forced_at_deadline", "Forced only at deadline",
                 "Today's rules, but no forced placement in the hiring round: schools hire first, and must-place "
                 "teachers still unplaced are forced onto the posts left at a deadline a month into the year.",
                 base.with_(name="forced_at_deadline"), Levers(forced_at_deadline=True)),
        Scenario("reserve_subsidy_50", "50% reserve subsidy",
                 "Today's rules; the central budget pays half of a reserve hire's first-year salary (New York's "
                 "incentive). Same placements: who pays changes.", base.with_(name="reserve_subsidy_50"),
                 Levers(reserve_subsidy=0.5)),
        Scenario("reserve_outside_average", "Reserve hire at average salary",
                 "Today's rules; a school budgeting on actual salaries is charged the district average for a "
                 "teacher hired from the reserve, the centre pays the rest. Same placements.",
                 base.with_(name="reserve_outside_average"), Levers(reserve_outside_average=True)),
    ]
    if limit is None:
        out.append(Scenario("pool_limit_10m", "Reserve pay limited to 10 months",
                            "Today's rules; an unplaced teacher leaves the payroll after 10 months (as Chicago). "
                            "Same placements.", base.with_(name="pool_limit_10m"), Levers(pool_time_limit=10.0)))
    else:
        out.append(Scenario("no_pool_limit", "No limit on reserve pay",
                            f"Today's rules; unplaced teachers stay paid beyond the city's {limit:g} months (as New "
                            "York's reserve). Same placements.", base.with_(name="no_pool_limit"),
                            Levers(pool_time_limit=math.inf)))
    return out


def _interview_scenario(models: list[str]) -> Scenario:
    base = SCENARIOS[BASELINE]
    if any(BUILTIN_RULES[m].min_pool_interviews for m in models):
        return Scenario("interviews_off", "No interview minimum",
                        "Today's rules without the minimum of pool applicants interviewed.",
                        base.with_(name="interviews_off", overrides=(RuleOverride({"min_pool_interviews": 0},
                                                                                  models=("*",)),)))
    return Scenario("interviews_on", "Interview 2 from the pool",
                    "Today's rules, and every autonomous school must interview two pool applicants (Boston, L511-513).",
                    base.with_(name="interviews_on", overrides=(RuleOverride({"min_pool_interviews": 2},
                                                                             autonomy=("mid", "high", "highest")),)))


def _from_policy(name: str, label: str) -> Scenario:
    p = SCENARIOS[name]
    return Scenario(name, label, p.description, p)


def scenario_set(city: str | None = None) -> list[Scenario]:
    """The scenarios for one city (a key of :data:`staffing.seed.CITIES`) or, with None, a mixed district."""
    if city is not None and city not in CITIES:
        raise ValueError(f"unknown city {city!r}: choose {', '.join(CITIES)}")
    if city is None:
        models = [m for m in BUILTIN_RULES if m != "traditional"]
        core = [_from_policy(BASELINE, "Today's rules"), _from_policy("all_traditional", "All traditional"),
                _from_policy("la_today", "LA models only"), _from_policy("lis_exempt", "LIS only"),
                _from_policy("innovation_no_seniority", "Innovation schools only"),
                _from_policy("pilots_no_forced", "No forced placement at autonomous schools"),
                _from_policy("all_mutual_consent", "Mutual consent everywhere")]
        return core + [_interview_scenario(models)] + _levers(None)
    models = [m for m in BUILTIN_RULES if BUILTIN_RULES[m].city == city]
    core = [Scenario(BASELINE, f"{CITIES[city]} today", f"{CITIES[city]}'s rule table as it stands.",
                     SCENARIOS[BASELINE]),
            _from_policy("all_traditional", "All traditional")]
    if len(models) > 1:
        core += [Scenario(f"only_{m}", f"Only {model_label(m)}",
                          f"Only {model_label(m)} schools keep their autonomy; every other school traditional.",
                          Policy(f"only_{m}", f"Only {m} autonomous", (traditional_except(m),)))
                 for m in models]
    core.append(_from_policy("all_mutual_consent", "Mutual consent everywhere"))
    return core + [_interview_scenario(models)] + _levers(city)

