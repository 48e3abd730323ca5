"""Staffing-autonomy trade-offs by school model: solve every scenario of a set on the same draws of a district,
measure each round honestly (:mod:`staffing.measures`) and compare every scenario with the baseline draw by
draw (paired differences with 95 % t intervals).

Runs are reproducible: draw ``d`` is the calibrated generator's district with seed ``seed + d`` (or, on a given
pool, a seeded 90 % subsample of it), and the solver runs in deterministic mode, so a local process pool, a
Dask cluster and a serial run give the same numbers.  The sweep lives in :mod:`staffing.sweep`, the report
in :mod:`staffing.report`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from solver import build_instance
from solver.audit import seniority_audit
from solver.policy import SCENARIOS, Policy, RuleOverride
from solver.progress import Progress, silent
from solver.result import Result
from staffing.domain import District, Ranking
from staffing.measures import HORIZON_MONTHS, measure_round
from staffing.runs import evaluate
from staffing.scenarios import BASELINE, Scenario, scenario_set
from staffing.seed import RATING_WEIGHT, generate

#: The scenarios of a mixed district, as before city sets existed.
DEFAULT_SCENARIOS = tuple(s.name for s in scenario_set(None))
AUTONOMOUS = ("mid", "high", "highest")
#: Share of a given pool each of its draws keeps (draw 0 is the whole pool).
SUBSAMPLE = 0.9

#: What the report compares, in order: column -> (label, unit, which way is better for whom).
MEASURES: dict[str, tuple[str, str, str]] = {
    "must_place_placed": ("Must-place teachers placed", "teachers", "higher: fewer teachers left in the reserve"),
    "without_consent": ("Placements without the school's consent", "posts", "lower: more hiring autonomy"),
    "without_consent_autonomous": ("Without consent at autonomous schools", "posts", "lower: autonomy kept"),
    "reserve_cost": ("Reserve salary over the season", "$", "lower: cheaper for the district"),
    "central_cost": ("Paid by the central budget", "$", "lower"),
    "school_cost": ("Hires' first-year cost to schools", "$", "lower: cheaper for schools"),
    "unplaced": ("Pool teachers left unplaced", "teachers", "lower"),
    "committee_top_share_autonomous": ("Autonomous posts filled by a committee's top choices", "share", "higher"),
    "teacher_satisfaction": ("Teacher satisfaction with placement", "share of best", "higher"),
    "seniority_overrides": ("Posts where seniority was passed over", "posts", "lower: seniority respected"),
    "return_rights_share": ("Return rights honoured", "share of holders", "higher"),
    "interview_shortfalls": ("Posts short of the interview minimum", "posts", "lower"),
}

# two-sided 95 % quantiles of Student's t by degrees of freedom (no SciPy needed)
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
         20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048,
         29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (the next tabulated df below)."""
    if df < 1:
        return math.nan
    return _T975[max(k for k in _T975 if k <= df)] if df <= 120 else 1.960


@dataclass
class TradeoffReport:
    by_model: pd.DataFrame  # one row per (draw, scenario, model)
    totals: pd.DataFrame  # one row per (draw, scenario)
    scenarios: list[Scenario] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def baseline(self) -> str:
        names = list(self.totals["scenario"].unique())
        return BASELINE if BASELINE in names else names[0]

    def labels(self) -> dict[str, str]:
        known = {s.name: s.label for s in self.scenarios}
        return {n: known.get(n, n.replace("_", " ")) for n in self.totals["scenario"].unique()}

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation over draws of the scenario totals."""
        numeric = self.totals.drop(columns=["draw"]).groupby("scenario", sort=False)
        return numeric.agg(["mean", "std"]).fillna(0.0)

    def model_summary(self) -> pd.DataFrame:
        return (self.by_model.drop(columns=["draw"]).groupby(["scenario", "model", "autonomy"], sort=False)
                .mean(numeric_only=True).reset_index())

    def paired(self, measures: Sequence[str] = tuple(MEASURES)) -> pd.DataFrame:
        """Per scenario and measure: the mean over draws of (scenario - baseline) on the same draw, its 95 %
        t interval, and whether the interval contains zero (no difference shown)."""
        base = self.totals[self.totals["scenario"] == self.baseline].set_index("draw")
        rows = []
        for name in self.totals["scenario"].unique():
            if name == self.baseline:
                continue
            mine = self.totals[self.totals["scenario"] == name].set_index("draw")
            for m in measures:
                diffs = (mine[m] - base[m]).dropna()
                n = len(diffs)
                mean = float(diffs.mean()) if n else math.nan
                half = t975(n - 1) * float(diffs.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
                low, high = mean - half, mean + half
                rows.append({"scenario": name, "measure": m, "n": n, "difference": mean, "low": low, "high": high,
                             "crosses_zero": bool(n < 2 or (low <= 0 <= high))})
        return pd.DataFrame(rows, columns=["scenario", "measure", "n", "difference", "low", "high", "crosses_zero"])

    def gaps(self) -> pd.DataFrame:
        """Each scenario's solver gap over draws: the relative distance of the worst stage from its bound, and
        of the reserve stage (the must-place and reserve figures rest on the first two stages)."""
        by = self.totals.groupby("scenario", sort=False)
        g = by["solver_gap"]
        return pd.DataFrame({"mean_gap": g.mean(), "max_gap": g.max(),
                             "optimal_draws": g.apply(lambda s: int((s <= 1e-9).sum())),
                             "max_reserve_gap": by["reserve_gap"].max() if "reserve_gap" in self.totals else math.nan})


def _stage_gap(result: Result, stage: str | None = None) -> float:
    """The relative gap (CP-SAT's, on the pairs its model kept) of one stage, or the worst of them."""
    gaps = [float(s.gap) for name, s in result.solve.stages.items() if stage in (None, name) and s.gap is not None]
    return max(gaps) if gaps else math.nan


def _worst(*gaps: float) -> float:
    known = [g for g in gaps if not math.isnan(g)]
    return max(known) if known else math.nan


def remaining(district: District, placed: set[str], filled: set[str]) -> District:
    """The pool and posts left after a round: what a deadline round works on.  Committees' lists keep their
    order, renumbered from 1."""
    teachers = {t: x for t, x in district.teachers.items() if t not in placed}
    vacancies = {v: x for v, x in district.vacancies.items() if v not in filled}
    rankings: list[Ranking] = []
    by_post: dict[str, list[Ranking]] = {}
    for r in district.rankings:
        if r.vacancy_id in vacancies and r.teacher_id in teachers:
            by_post.setdefault(r.vacancy_id, []).append(r)
    for vid, rows in by_post.items():
        rankings += [Ranking(vid, r.teacher_id, i + 1) for i, r in enumerate(sorted(rows, key=lambda r: r.rank))]
    return replace(district, teachers=teachers, vacancies=vacancies,
                   preferences=[p for p in district.preferences if p.teacher_id in teachers], rankings=rankings,
                   interviews=[i for i in district.interviews if i.vacancy_id in vacancies and i.teacher_id in teachers])


def subsample(district: District, seed: int, share: float = SUBSAMPLE) -> District:
    """A seeded sample of ``share`` of a given pool's teachers and posts (draws on a live pool)."""
    rng = random.Random(f"subsample:{seed}")
    keep_t = set(rng.sample(sorted(district.teachers), round(share * len(district.teachers))))
    keep_v = set(rng.sample(sorted(district.vacancies), round(share * len(district.vacancies))))
    return remaining(district, set(district.teachers) - keep_t, set(district.vacancies) - keep_v)


def solve_scenarios(district: District, group: Sequence[Scenario], time_limit: float, draw: int = 0,
                    city: str | None = None, horizon: float = HORIZON_MONTHS) -> tuple[list[dict], list[dict]]:
    """Solve once for scenarios that share a solve (:attr:`Scenario.solve_key`) and measure each of them."""
    first = group[0]
    policy = first.policy.with_(time_limit=time_limit).with_settings(lp_bound_pairs=0)
    if not first.levers.forced_at_deadline:
        inst, result, _, violations, audit = evaluate(district, policy)
        assignments, deadline, n_violations = result.assignments, frozenset(), len(violations)
        gap, reserve_gap = _stage_gap(result), _stage_gap(result, "reserve")
    else:
        # the hiring round without forced placement, then the deadline round on what is left, by today's rules
        hiring = policy.with_(overrides=(*policy.overrides, RuleOverride({"accepts_must_place": False}, models=("*",))))
        _, r1, _, v1, _ = evaluate(district, hiring)
        placed1 = r1.placed
        rest = remaining(district, {a.teacher_id for a in placed1}, {a.vacancy_id for a in placed1})
        if rest.vacancies and rest.teachers:
            _, r2, _, v2, _ = evaluate(rest, policy)
        else:  # nothing left to force
            r2, v2 = Result("none", [a for a in r1.assignments if a.vacancy_id is None]), []
        assignments = [*placed1, *r2.assignments]
        inst = build_instance(district, policy)
        audit = seniority_audit(district, Result("deadline", assignments), inst)
        deadline = frozenset(a.teacher_id for a in r2.placed)
        n_violations = len(v1) + len(v2)
        gap = _worst(_stage_gap(r1), _stage_gap(r2))
        reserve_gap = _worst(_stage_gap(r1, "reserve"), _stage_gap(r2, "reserve"))
    rows_out, totals_out = [], []
    for s in group:
        rows, totals = measure_round(district, inst, assignments, audit, deadline_placed=deadline, city=city,
                                     levers=s.levers, horizon=horizon)
        rows_out += [{"draw": draw, "scenario": s.name, **r} for r in rows]
        totals_out.append({"draw": draw, "scenario": s.name, **totals, "rule_violations": n_violations,
                           "solver_gap": gap, "reserve_gap": reserve_gap})
    return rows_out, totals_out


def measure(district: District, policy: Policy | Scenario, draw: int = 0, city: str | None = None) -> tuple[list[dict], dict]:
    """Solve and measure one scenario (a rule-table policy alone, or a scenario with levers)."""
    scenario = policy if isinstance(policy, Scenario) else Scenario(policy.name, policy.name, policy.description, policy)
    rows, totals = solve_scenarios(district, [scenario], scenario.policy.time_limit, draw, city)
    return rows, totals[0]


def resolve_scenarios(names: Sequence[str] | None, city: str | None) -> list[Scenario]:
    """The city's set, or the named scenarios from it (or from :data:`solver.policy.SCENARIOS`), baseline first."""
    available = {s.name: s for s in scenario_set(city)}
    if not names:
        return list(available.values())
    unknown = [n for n in names if n not in available and n not in SCENARIOS]
    if unknown:
        raise KeyError(f"unknown scenario(s) {', '.join(unknown)}: choose from {', '.join(available)}")
    chosen = [available.get(n) or Scenario(n, n.replace("_", " "), SCENARIOS[n].description, SCENARIOS[n])
              for n in dict.fromkeys(names)]
    return chosen


def run_tradeoffs(size: str = "small", seed: int = 7, draws: int = 20, scenarios: Sequence[str] | None = None,
                  time_limit: float = 2.0, district: District | None = None, progress: Progress = silent, *,
                  city: str | None = None, rating_weight: float = RATING_WEIGHT, processes: int = 1,
                  cluster: object = None, bar: bool = False, horizon: float = HORIZON_MONTHS) -> TradeoffReport:
    """Every scenario on the same ``draws`` districts; ``processes`` > 1 runs a local process pool, ``cluster``
    (a Dask scheduler address or cluster object) a Dask cluster; the numbers are the same either way."""
    from staffing.sweep import SweepSpec, run_sweep

    if draws < 1:
        raise ValueError("draws must be at least 1")
    if not 0 < time_limit < math.inf:
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit}")
    chosen = resolve_scenarios(scenarios, city)
    if district is None:
        generate(size, seed, city=city, rating_weight=rating_weight)  # bad size, city or weight: fail here, once
    spec = SweepSpec(size=size, seed=seed, draws=draws, city=city, rating_weight=rating_weight,
                     time_limit=time_limit, horizon=horizon, district=district)
    by_model, totals = run_sweep(spec, chosen, progress=progress, processes=processes, cluster=cluster, bar=bar)
    order = {s.name: i for i, s in enumerate(chosen)}
    totals = sorted(totals, key=lambda r: (r["draw"], order[r["scenario"]]))
    by_model = sorted(by_model, key=lambda r: (r["draw"], order[r["scenario"]], r["model"]))
    meta = {"size": size if district is None else "current pool", "seed": seed, "draws": draws, "city": city,
            "rating_weight": rating_weight, "time_limit": time_limit, "horizon_months": horizon,
            "baseline": chosen[0].name if BASELINE not in order else BASELINE}
    return TradeoffReport(pd.DataFrame(by_model), pd.DataFrame(totals), chosen, meta)


def pareto_front(points: list[tuple[str, float, float]]) -> set[str]:
    """Names of points not dominated when lower x (cost) and higher y (autonomy) are better."""
    return {name for name, x, y in points
            if not any((x2 <= x and y2 >= y) and (x2 < x or y2 > y) for n2, x2, y2 in points if n2 != name)}


def write_report(report: TradeoffReport, folder: Path | str, title: str = "Staffing-autonomy trade-offs",
                 asset_prefix: str = "") -> Path:
    from staffing.report import write_report as write

    return write(report, Path(folder), title, asset_prefix)


def current_district_report(district: District, folder: Path, time_limit: float = 2.0, draws: int = 5,
                            progress: Progress = silent, asset_prefix: str = "") -> Path:
    """The analysis on the pool in the database (the HR page): draw 0 is the whole pool, the others seeded
    90 % subsamples of it, so the intervals say how much the differences depend on who is in the pool."""
    report = run_tradeoffs(district=district, draws=draws, time_limit=time_limit, progress=progress)
    progress("writing the report", "findings, charts and tables")
    return write_report(report, folder, title="Staffing-autonomy trade-offs on the current pool",
                        asset_prefix=asset_prefix)
