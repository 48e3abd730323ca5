"""Staffing-autonomy trade-offs by school model: run policy scenarios on a district and measure what each
degree of autonomy costs (unplaced pool teachers, reserve salary, forced placements) and buys (committees'
top choices, teacher satisfaction).

Runs are reproducible: the district comes from the seeded generator (or a snapshot), the solver runs in
deterministic mode, and error bars come from repeated draws of the district with consecutive seeds.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from solver.figures import interview_shortfalls
from solver.policy import SCENARIOS, Policy
from solver.progress import Progress, silent
from staffing.domain import District
from staffing.rules import AUTONOMY_ORDER
from staffing.runs import evaluate
from staffing.seed import generate

DEFAULT_SCENARIOS = ("district_rules", "all_traditional", "la_today", "lis_exempt", "innovation_no_seniority",
                     "pilots_no_forced", "all_mutual_consent")
AUTONOMOUS = ("mid", "high", "highest")


@dataclass
class TradeoffReport:
    by_model: pd.DataFrame  # one row per (draw, scenario, model)
    totals: pd.DataFrame  # one row per (draw, scenario)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation over draws of the scenario totals."""
        numeric = self.totals.drop(columns=["draw"]).groupby("scenario", sort=False)
        return numeric.agg(["mean", "std"]).fillna(0.0)

    def model_summary(self) -> pd.DataFrame:
        return (self.by_model.drop(columns=["draw"]).groupby(["scenario", "model", "autonomy"], sort=False)
                .mean(numeric_only=True).reset_index())


def measure(district: District, policy: Policy, draw: int = 0) -> tuple[list[dict], dict]:
    """Solve one scenario and measure it per school model and in total."""
    inst, result, figures, _, audit = evaluate(district, policy)
    occupant = {a.vacancy_id: a for a in result.placed}
    overridden = {r.vacancy_id for r in audit if not r.lawful_reason.startswith("certification")}
    shortfalls = {v for v, _, _ in interview_shortfalls(inst)}
    rows: dict[str, dict] = {}
    for v in district.vacancies.values():
        rules = inst.school_rules(v.school_id)
        row = rows.setdefault(rules.model, {
            "draw": draw, "scenario": policy.name, "model": rules.model, "autonomy": rules.autonomy,
            "vacancies": 0, "filled": 0, "forced": 0, "return_right": 0, "ranked_filled": 0, "committee_top": 0,
            "teacher_score": 0, "seniority_overrides": 0, "interview_shortfalls": 0})
        row["vacancies"] += 1
        row["seniority_overrides"] += v.vacancy_id in overridden
        row["interview_shortfalls"] += v.vacancy_id in shortfalls
        a = occupant.get(v.vacancy_id)
        if a is None:
            continue
        group = inst.vacancy_group[v.vacancy_id]
        edge = inst.edge(a.teacher_id, group.index)
        row["filled"] += 1
        row["forced"] += a.kind == "forced"
        row["return_right"] += a.kind == "return_right"
        row["teacher_score"] += edge.teacher_score if edge else 0
        if group.ranking:
            row["ranked_filled"] += 1
            row["committee_top"] += group.committee_top_choice(a.teacher_id)
    out = []
    for row in rows.values():
        row["fill_rate"] = row["filled"] / row["vacancies"]
        row["committee_top_share"] = row["committee_top"] / row["ranked_filled"] if row["ranked_filled"] else math.nan
        row["teacher_satisfaction"] = row["teacher_score"] / (10 * row["filled"]) if row["filled"] else math.nan
        out.append(row)
    autonomous = [r for r in out if r["autonomy"] in AUTONOMOUS]
    ranked = sum(r["ranked_filled"] for r in autonomous)
    totals = {
        "draw": draw, "scenario": policy.name, "placed": figures["placed"], "unplaced": figures["unplaced"],
        "unplaced_paid": figures["reserve_teachers"], "reserve_cost": figures["reserve_cost"],
        "must_place_placed": figures["must_place_placed"], "must_place_total": figures["must_place_total"],
        "return_rights_honoured": figures["return_rights_honoured"],
        "return_rights_total": figures["return_rights_total"],
        "forced": sum(r["forced"] for r in out), "forced_autonomous": sum(r["forced"] for r in autonomous),
        "committee_top_share": figures["committee_top_share"],
        "committee_top_share_autonomous": sum(r["committee_top"] for r in autonomous) / ranked if ranked else math.nan,
        "teacher_satisfaction": figures["teacher_satisfaction"], "seniority_overrides": figures["seniority_overrides"],
        "rule_violations": figures["rule_violations"],
    }
    return out, totals


def run_tradeoffs(size: str = "small", seed: int = 7, draws: int = 3, scenarios: Sequence[str] = DEFAULT_SCENARIOS,
                  time_limit: float = 5.0, district: District | None = None,
                  progress: Progress = silent) -> TradeoffReport:
    """Every scenario on ``draws`` districts (seeds ``seed``, ``seed+1``, ...), or on one given district;
    ``progress`` hears which round is solving (:mod:`solver.progress`)."""
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise KeyError(f"unknown scenario(s) {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}")
    by_model, totals = [], []
    districts = [district] if district is not None else [generate(size, seed + d) for d in range(draws)]
    for draw, d in enumerate(districts):
        for i, name in enumerate(scenarios, 1):
            of_draws = f", draw {draw + 1} of {len(districts)}" if len(districts) > 1 else ""
            progress("solving scenarios", f"{name} ({i} of {len(scenarios)}){of_draws}")
            rows, total = measure(d, SCENARIOS[name].with_(time_limit=time_limit), draw)
            by_model += rows
            totals.append(total)
    return TradeoffReport(pd.DataFrame(by_model), pd.DataFrame(totals))


def pareto_front(points: list[tuple[str, float, float]]) -> set[str]:
    """Names of points not dominated when lower x (cost) and higher y (autonomy) are better."""
    front = set()
    for name, x, y in points:
        if not any((x2 <= x and y2 >= y) and (x2 < x or y2 > y) for n2, x2, y2 in points if n2 != name):
            front.add(name)
    return front


def plot(report: TradeoffReport, folder: Path) -> list[Path]:
    """The Pareto plot and the per-model bar charts, as PNG and SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = report.summary()
    names = list(summary.index)
    written: list[Path] = []

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    panels = [("reserve_cost", "committee_top_share_autonomous", 1e-6,
               "reserve salary of unplaced pool teachers ($ millions)",
               "autonomous schools: posts filled by a committee's top choices"),
              ("unplaced", "forced", 1.0, "pool teachers left unplaced",
               "forced placements received (lower = more autonomy)")]
    for ax, (xcol, ycol, scale, xlabel, ylabel) in zip(axes, panels):
        xs = summary[(xcol, "mean")] * scale
        ys = summary[(ycol, "mean")]
        sign = -1 if ycol == "forced" else 1
        front = pareto_front([(n, float(xs[n]), sign * float(ys[n])) for n in names])
        for n in names:
            on_front = n in front
            ax.errorbar(xs[n], ys[n], xerr=summary[(xcol, "std")][n] * scale, yerr=summary[(ycol, "std")][n],
                        fmt="o", ms=8 if on_front else 6, capsize=3, color="#1f5f8b" if on_front else "#9aa5b1")
            ax.annotate(n, (xs[n], ys[n]), textcoords="offset points", xytext=(6, 5), fontsize=8)
        ordered = sorted(front, key=lambda n: float(xs[n]))
        ax.plot([xs[n] for n in ordered], [ys[n] for n in ordered], "--", color="#1f5f8b", lw=1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    fig.suptitle("Staffing autonomy against the cost of the pool (mean ± sd over draws; dashed: Pareto front)")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    written += _save(fig, folder / "pareto")
    plt.close(fig)

    models = report.model_summary()
    order = sorted(models["model"].unique(), key=lambda m: (AUTONOMY_ORDER.get(
        models.loc[models["model"] == m, "autonomy"].iloc[0], 0), m))
    for column, title, stem in [("forced", "Forced placements received per school model", "forced_by_model"),
                                ("committee_top_share", "Share of filled posts going to the committee's top choices",
                                 "committee_top_by_model"),
                                ("fill_rate", "Share of vacancies filled from the pool", "fill_rate_by_model")]:
        table = models.pivot_table(index="model", columns="scenario", values=column).reindex(order)[names]
        fig, ax = plt.subplots(figsize=(13, 5))
        table.plot.bar(ax=ax, width=0.85)
        ax.set_title(title + " (mean over draws)")
        ax.set_xlabel("school model (least to most autonomous)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        written += _save(fig, folder / stem)
        plt.close(fig)
    return written


def _save(fig, stem: Path) -> list[Path]:
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=110)
    fig.savefig(paths[1])
    return paths


def write_report(report: TradeoffReport, folder: Path | str, title: str = "Staffing-autonomy trade-offs") -> Path:
    """Tables as CSV, plots as PNG/SVG, and a short self-contained HTML report that shows them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    report.totals.to_csv(folder / "scenario_totals.csv", index=False)
    report.by_model.to_csv(folder / "by_model.csv", index=False)
    summary = report.summary()
    summary.columns = [f"{a} ({b})" for a, b in summary.columns]
    summary.to_csv(folder / "scenario_summary.csv")
    plot(report, folder)
    draws = report.totals["draw"].nunique()
    descriptions = "".join(f"<li><b>{html.escape(n)}</b>: {html.escape(SCENARIOS[n].description)}</li>"
                           for n in report.totals["scenario"].unique())
    keep = ["placed (mean)", "unplaced (mean)", "reserve_cost (mean)", "must_place_placed (mean)",
            "forced (mean)", "forced_autonomous (mean)", "committee_top_share_autonomous (mean)",
            "teacher_satisfaction (mean)", "return_rights_honoured (mean)", "seniority_overrides (mean)",
            "rule_violations (mean)"]
    table = summary[keep].to_html(float_format=lambda x: f"{x:,.3f}" if abs(x) < 10 else f"{x:,.0f}",
                                  classes="t", border=0)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:15px/1.45 system-ui,sans-serif;max-width:1200px;margin:1.5rem auto;color:#1d2733}}
table.t{{border-collapse:collapse}} .t td,.t th{{border-bottom:1px solid #d9dee4;padding:.3rem .5rem;text-align:right}}
img{{max-width:100%;border:1px solid #d9dee4;margin:.6rem 0}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{draws} draw(s) of the district; every scenario solved with the same deterministic solver settings.
What each scenario changes:</p><ul>{descriptions}</ul>
<h2>Scenario totals (mean over draws; <a href="scenario_summary.csv">with standard deviations</a>)</h2>{table}
<p>Per school model: <a href="by_model.csv">by_model.csv</a>; per draw: <a href="scenario_totals.csv">scenario_totals.csv</a>.</p>
<h2>Autonomy against the cost of the pool</h2><img src="pareto.png" alt="Pareto plot">
<h2>Per school model</h2><img src="forced_by_model.png" alt="forced placements by model">
<img src="committee_top_by_model.png" alt="committee top choices by model"><img src="fill_rate_by_model.png" alt="fill rate by model">
</body></html>"""
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def current_district_report(district: District, folder: Path, time_limit: float = 3.0,
                            progress: Progress = silent) -> Path:
    """The analysis on one given district (the web app's HR page uses the pool in the database)."""
    report = run_tradeoffs(district=district, time_limit=time_limit, progress=progress)
    progress("writing the report", "table, plots and page")
    return write_report(report, folder, title="Staffing-autonomy trade-offs on the current pool")

