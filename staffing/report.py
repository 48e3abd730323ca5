"""The trade-off report a district leader reads: findings in sentences, a heat map of school model x scenario
per measure, paired-difference dot plots with 95 % intervals, readable tables; interactive (Vega-Lite via
Altair, the JavaScript written next to the page, no network) and static (PNG/SVG via vl-convert) for print.

``write_report`` writes ``report.html`` (the whole page) and ``report_body.html`` (the same content without
the page around it, which the HR page includes), the chart specs, the JavaScript and the CSV tables.
"""

from __future__ import annotations

import html
import json
import math
from functools import lru_cache
from pathlib import Path

import altair as alt
import pandas as pd

from staffing.analysis import MEASURES, TradeoffReport
from staffing.rules import AUTONOMY_ORDER
from staffing.scenarios import model_label

#: Per-model measures the heat map offers: column -> (label, unit).
MODEL_MEASURES: dict[str, tuple[str, str]] = {
    "without_consent": ("Placements without the school's consent", "posts"),
    "forced": ("Forced placements", "posts"),
    "fill_rate": ("Vacancies filled", "share"),
    "committee_top_share": ("Filled by a committee's top choices", "share"),
    "school_cost_per_post": ("First-year cost to the school per hire", "$"),
    "seniority_overrides": ("Posts where seniority was passed over", "posts"),
}
CAVEAT = ("These figures come from synthetic districts drawn by a calibrated generator, not from any real "
          "district's records: the direction and rough size of a difference are the finding, not the numbers "
          "themselves. Committees' lists are data, so a lever that changes only who pays does not change who "
          "is placed here; in practice schools may respond to it.")


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "$":
        return f"${value:,.0f}" if abs(value) < 1e6 else f"${value / 1e6:,.2f} million"
    if unit.startswith("share"):
        return f"{100 * value:.1f}%"
    return f"{value:,.1f}" if abs(value - round(value)) > 1e-9 else f"{value:,.0f}"


def _fmt_diff(value: float, unit: str) -> str:
    text = _fmt(abs(value), unit)
    if unit.startswith("share"):
        text = text.replace("%", " percentage points")
    return ("+" if value > 0 else "-" if value < 0 else "") + text


def findings(report: TradeoffReport) -> list[str]:
    """Sentences generated from the paired differences (plain text, escaped by the caller)."""
    labels = report.labels()
    base = labels[report.baseline]
    paired = report.paired()
    draws = int(report.totals["draw"].nunique())
    out: list[str] = []

    district_side = ("must_place_placed", "reserve_cost", "central_cost", "unplaced")
    school_side = ("without_consent", "school_cost", "committee_top_share_autonomous", "seniority_overrides",
                   "interview_shortfalls")

    def clause(r) -> str:
        label, unit, _ = MEASURES[r["measure"]]
        if r["n"] < 2:
            return f"{label.lower()} {_fmt_diff(r['difference'], unit)} (one draw, no interval)"
        return (f"{label.lower()} {_fmt_diff(r['difference'], unit)} (95% interval {_fmt_diff(r['low'], unit)} "
                f"to {_fmt_diff(r['high'], unit)})")

    base_totals = report.totals[report.totals["scenario"] == report.baseline]
    out.append(f"Under {base}, an average round places {base_totals['must_place_placed'].mean():.1f} of "
               f"{base_totals['must_place_total'].mean():.1f} must-place teachers, makes "
               f"{base_totals['without_consent'].mean():.1f} placements without the school's consent and leaves a "
               f"reserve costing {_fmt(base_totals['reserve_cost'].mean(), '$')} over "
               f"{report.meta.get('horizon_months', 24):g} months ({draws} draws).")
    for scenario in labels:
        if scenario == report.baseline:
            continue
        mine = paired[paired["scenario"] == scenario].set_index("measure")
        moved = mine[(mine["difference"].abs() > 1e-9) | (mine["low"] != mine["high"])]
        if moved.empty:
            out.append(f"{labels[scenario]} changes none of the measures against {base} on these draws.")
            continue
        clear = moved[~moved["crosses_zero"]]
        parts = []
        for side, names in (("for the district", district_side), ("for schools", school_side)):
            rows = [clause({**clear.loc[m].to_dict(), "measure": m}) for m in names if m in clear.index]
            if rows:
                parts.append(f"{side}, " + ", ".join(rows))
        unclear = [MEASURES[m][0].lower() for m in (*district_side, *school_side)
                   if m in moved.index and m not in clear.index]
        if unclear:
            parts.append(f"no clear change (interval includes 0) in {', '.join(unclear)}")
        sentence = f"{labels[scenario]} against {base}: " + ("; ".join(parts) or "no clear difference")
        out.append(sentence + ".")
    gaps = report.gaps()
    worst = gaps["max_gap"].max()
    if not math.isnan(worst):
        reserve = gaps["max_reserve_gap"].max()
        out.append("Every scenario was solved to proven optimality on every draw." if worst <= 1e-9 else
                   f"The solver's largest gap to its proven bound was {100 * worst:.2f}% "
                   f"({labels.get(gaps['max_gap'].idxmax(), '')}), {100 * reserve:.2f}% in the reserve stage "
                   "that decides reserve cost: with more solver time a figure may still move by up to that share.")
    out.append(CAVEAT)
    return out


def _scenario_order(report: TradeoffReport) -> list[str]:
    labels = report.labels()
    return [labels[n] for n in report.totals["scenario"].unique()]


def _model_order(report: TradeoffReport) -> list[str]:
    models = report.by_model[["model", "autonomy"]].drop_duplicates()
    return [m for m, _ in sorted(models.itertuples(index=False), key=lambda x: (AUTONOMY_ORDER.get(x[1], 0), x[0]))]


def heat_data(report: TradeoffReport) -> pd.DataFrame:
    labels = report.labels()
    means = report.model_summary()
    rows = []
    for measure, (label, unit) in MODEL_MEASURES.items():
        for r in means.itertuples(index=False):
            value = getattr(r, measure)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            rows.append({"measure": label, "unit": unit, "scenario": labels[r.scenario], "model": r.model,
                         "model_label": model_label(r.model),
                         "autonomy": r.autonomy, "value": float(value), "shown": _fmt(float(value), unit)})
    frame = pd.DataFrame(rows)
    if not frame.empty:  # position within its measure's range: dark cells get white text
        span = frame.groupby("measure")["value"].transform(lambda v: (v.max() - v.min()) or 1.0)
        frame["shade"] = (frame["value"] - frame.groupby("measure")["value"].transform("min")) / span
    return frame


def paired_data(report: TradeoffReport) -> pd.DataFrame:
    labels = report.labels()
    p = report.paired()
    p = p[p["n"] > 0].copy()
    p["scenario"] = p["scenario"].map(labels)
    p["unit"] = p["measure"].map(lambda m: MEASURES[m][1])
    p["measure"] = p["measure"].map(lambda m: f"{MEASURES[m][0]} ({MEASURES[m][1]})")
    p["shown"] = [f"{_fmt_diff(d, u)} [{_fmt_diff(lo, u)}, {_fmt_diff(hi, u)}]"
                  for d, lo, hi, u in zip(p["difference"], p["low"], p["high"], p["unit"])]
    p["result"] = p["crosses_zero"].map({True: "interval includes 0", False: "clear difference"})
    p["low"] = p["low"].fillna(p["difference"])  # one draw: a dot without a line
    p["high"] = p["high"].fillna(p["difference"])
    return p


def heat_chart(report: TradeoffReport, static: bool = False) -> alt.Chart:
    data = heat_data(report)
    measures = list(MODEL_MEASURES.values())
    base = alt.Chart(data).mark_rect().encode(
        x=alt.X("scenario:N", sort=_scenario_order(report), title=None, axis=alt.Axis(labelAngle=-35, labelLimit=220)),
        y=alt.Y("model_label:N", sort=[model_label(m) for m in _model_order(report)],
                title=None if static else "school model (least to most autonomous)"),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="blues"), title="value"),
        tooltip=[alt.Tooltip("model_label:N", title="school model"), alt.Tooltip("scenario:N"),
                 alt.Tooltip("measure:N"), alt.Tooltip("shown:N", title="mean over draws")])
    text = base.mark_text(fontSize=10).encode(
        text="shown:N", color=alt.condition(alt.datum.shade > 0.6, alt.value("white"), alt.value("#1d2733")))
    if static:
        return (base + text).properties(width=alt.Step(70), height=alt.Step(22)).facet(
            row=alt.Row("measure:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelFontSize=13))
        ).resolve_scale(color="independent")
    pick = alt.param(name="heat_measure", value=measures[0][0],
                     bind=alt.binding_select(options=[m for m, _ in measures], name="Measure: "))
    return (base + text).add_params(pick).transform_filter(alt.datum.measure == pick).properties(
        width=alt.Step(70), height=alt.Step(24), title="Per school model, mean over draws")


def paired_chart(report: TradeoffReport, static: bool = False) -> alt.Chart:
    data = paired_data(report)
    order = [s for s in _scenario_order(report) if s != report.labels()[report.baseline]]
    y = alt.Y("scenario:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    colour = alt.Color("result:N", title=None, scale=alt.Scale(domain=["clear difference", "interval includes 0"],
                                                               range=["#1f5f8b", "#9aa5b1"]))
    tooltip = [alt.Tooltip("scenario:N"), alt.Tooltip("measure:N"), alt.Tooltip("shown:N", title="difference [95% CI]"),
               alt.Tooltip("n:Q", title="draws")]
    bars = alt.Chart(data).mark_rule(strokeWidth=2).encode(y=y, x=alt.X("low:Q", title="difference from baseline"),
                                                           x2="high:Q", color=colour, tooltip=tooltip)
    dots = alt.Chart(data).mark_point(filled=True, size=70).encode(y=y, x="difference:Q", color=colour, tooltip=tooltip)
    zero = alt.Chart(data).mark_rule(color="#c0392b", strokeDash=[4, 3]).encode(x=alt.datum(0))
    layer = bars + dots + zero
    if static:
        return layer.properties(width=420, height=alt.Step(18)).facet(
            facet=alt.Facet("measure:N", title=None, header=alt.Header(labelFontSize=12)), columns=2
        ).resolve_scale(x="independent")
    first = f"{MEASURES['must_place_placed'][0]} ({MEASURES['must_place_placed'][1]})"
    pick = alt.param(name="diff_measure", value=first,
                     bind=alt.binding_select(options=sorted(data["measure"].unique(), key=lambda m: list(
                         f"{a} ({b})" for a, b, _ in MEASURES.values()).index(m)), name="Measure: "))
    return layer.add_params(pick).transform_filter(alt.datum.measure == pick).properties(
        width=560, height=alt.Step(22), title=f"Scenario minus {report.labels()[report.baseline]}, same draws "
                                             "(dot: mean; line: 95% t interval)")


BUNDLE = Path(__file__).parent / "assets" / "vega_bundle.js"


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script: the vendored copy (staffing/assets/README.md), else
    bundled afresh by the vl-convert package (no network either way)."""
    if BUNDLE.is_file():
        return BUNDLE.read_text(encoding="utf-8")
    import vl_convert

    return vl_convert.javascript_bundle()


EMBED_JS = """// Draws every chart whose spec is in a <script type="application/json" class="vl-spec"> element.
// ast: expressions are interpreted, not compiled with Function(), so a Content-Security-Policy without
// 'unsafe-eval' does not stop the charts.
document.querySelectorAll('script.vl-spec').forEach(function (node) {
  var target = document.getElementById(node.dataset.target);
  if (target && window.vegaEmbed) {
    window.vegaEmbed(target, JSON.parse(node.textContent), {actions: false, renderer: 'svg', ast: true});
  }
});
"""


def _spec(chart: alt.Chart) -> str:
    spec = chart.to_dict()
    spec.pop("$schema", None)  # a URL, and not needed to draw
    return json.dumps(spec).replace("</", "<\\/")


def _table(report: TradeoffReport) -> str:
    labels = report.labels()
    totals = report.totals.groupby("scenario", sort=False).mean(numeric_only=True)
    gaps = report.gaps()
    cols = [("must_place_placed", "teachers"), ("without_consent", "posts"), ("reserve_cost", "$"),
            ("central_cost", "$"), ("school_cost", "$"), ("committee_top_share_autonomous", "share"),
            ("seniority_overrides", "posts"), ("return_rights_share", "share")]
    head = "".join(f"<th>{html.escape(MEASURES[c][0])}</th>" for c, _ in cols) + \
        "<th>Solver gap, worst stage (max)</th><th>Solver gap, reserve stage (max)</th>"
    body = []
    for name, row in totals.iterrows():
        cells = "".join(f"<td>{html.escape(_fmt(float(row[c]), u))}</td>" for c, u in cols)
        shown = ["n/a" if math.isnan(g) else f"{100 * g:.2f}%" for g in gaps.loc[name, ["max_gap", "max_reserve_gap"]]]
        body.append(f"<tr><th scope=row>{html.escape(labels[name])}</th>{cells}"
                    f"<td>{shown[0]}</td><td>{shown[1]}</td></tr>")
    return (f'<div class="scroll"><table class="t"><thead><tr><th>Scenario (mean over draws)</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def body_html(report: TradeoffReport, asset_prefix: str = "") -> str:
    """The report's content: findings, charts (specs as JSON, drawn by ``report_charts.js``), tables, links."""
    meta = report.meta
    where = {None: "a mixed district"}.get(meta.get("city"), str(meta.get("city", "")).replace("_", " ").title())
    draws = int(report.totals["draw"].nunique())
    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in findings(report))
    scenarios = "".join(f"<li><b>{html.escape(s.label)}</b>: {html.escape(s.description)}</li>" for s in report.scenarios)
    return f"""<section class="tradeoff-report">
<p class="muted">{html.escape(where)} · size {html.escape(str(meta.get('size')))} · {draws} draw{'s' if draws != 1 else ''}
 (seed {html.escape(str(meta.get('seed')))} on) · {html.escape(str(meta.get('time_limit')))} deterministic solver seconds
 per scenario · committees' rating weight {html.escape(str(meta.get('rating_weight')))} ·
 95% intervals: Student's t on the paired differences over draws.</p>
<h2>Findings</h2><ul class="findings">{sentences}</ul>
<h2>What each scenario does to the baseline</h2>
<p>Every scenario is solved on the same draws as the baseline; a difference is flagged grey where its 95% interval
includes zero. Pick a measure.</p>
<div id="chart-paired" class="chart"></div>
<script type="application/json" class="vl-spec" data-target="chart-paired">{_spec(paired_chart(report))}</script>
<p class="print-link"><a href="{asset_prefix}paired_differences.svg">Printable version (SVG</a>, <a href="{asset_prefix}paired_differences.png">PNG)</a></p>
<h2>By school model</h2>
<div id="chart-heat" class="chart"></div>
<script type="application/json" class="vl-spec" data-target="chart-heat">{_spec(heat_chart(report))}</script>
<p class="print-link"><a href="{asset_prefix}heat_map.svg">Printable version (SVG</a>, <a href="{asset_prefix}heat_map.png">PNG)</a></p>
<h2>Scenario totals</h2>{_table(report)}
<p>Per draw: <a href="{asset_prefix}scenario_totals.csv">scenario_totals.csv</a> · per school model:
<a href="{asset_prefix}by_model.csv">by_model.csv</a> · paired differences: <a href="{asset_prefix}paired_differences.csv">paired_differences.csv</a>
 · solver gaps: <a href="{asset_prefix}solver_gaps.csv">solver_gaps.csv</a></p>
<h2>Scenarios</h2><ul>{scenarios}</ul>
</section>"""


STYLE = """body{font:15px/1.45 system-ui,sans-serif;max-width:1240px;margin:1.5rem auto;padding:0 1rem;color:#1d2733}
.muted{color:#56606b}.findings li{margin:.35rem 0}.scroll{overflow-x:auto;max-width:100%}
table.t{border-collapse:collapse;font-size:13px}.t td,.t th{border-bottom:1px solid #d9dee4;padding:.3rem .5rem;text-align:right}
.t th[scope=row]{text-align:left}.t thead th{vertical-align:bottom;max-width:9rem}.chart{margin:.5rem 0 1rem}"""


def write_report(report: TradeoffReport, folder: Path, title: str = "Staffing-autonomy trade-offs",
                 asset_prefix: str = "") -> Path:
    """Tables as CSV, charts as Vega-Lite (interactive) and PNG/SVG (print), and the HTML page;
    ``report_body.html`` links its files under ``asset_prefix`` (where a web page serves them)."""
    folder.mkdir(parents=True, exist_ok=True)
    report.totals.to_csv(folder / "scenario_totals.csv", index=False)
    report.by_model.to_csv(folder / "by_model.csv", index=False)
    report.paired().to_csv(folder / "paired_differences.csv", index=False)
    report.gaps().to_csv(folder / "solver_gaps.csv")
    summary = report.summary()
    summary.columns = [f"{a} ({b})" for a, b in summary.columns]
    summary.to_csv(folder / "scenario_summary.csv")
    for stem, chart in (("paired_differences", paired_chart(report, static=True)),
                        ("heat_map", heat_chart(report, static=True))):
        chart.save(str(folder / f"{stem}.svg"))
        chart.save(str(folder / f"{stem}.png"))
    (folder / "vega_bundle.js").write_text(vega_bundle(), encoding="utf-8")
    (folder / "report_charts.js").write_text(EMBED_JS, encoding="utf-8")
    body = body_html(report)
    (folder / "report_body.html").write_text(body_html(report, asset_prefix) if asset_prefix else body,
                                             encoding="utf-8")
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style>
<script src="vega_bundle.js"></script></head><body><h1>{html.escape(title)}</h1>
{body}<script src="report_charts.js"></script></body></html>"""
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
