"""The round's report: the bounds that prove its gaps after the search, and its figures."""

from __future__ import annotations

import time

from solver import bounds, lagrangian
from solver.cpsat.pairs import Relaxations
from solver.cpsat.pricing import Beside, Pricing
from solver.cpsat.search import Searched, with_lp
from solver.cpsat.stages import STAGES, StageReport, gap, stage_step
from solver.instance import Instance
from solver.progress import Progress, silent
from solver.solve_figures import BesideFigures, PricingFigures, SolveFigures, Sizes, StageFigures, WarmStarts



def report(inst: Instance, t0: float, stages: tuple[str, ...], relaxed: Relaxations, settled: list[str],
           pricing: Pricing, pairs_added: int, starts: dict[str, object] | None, found: Searched,
           beside: Beside | None, progress: Progress = silent) -> SolveFigures:
    """The round's figures: per stage its value, the model's bound and every bound proven beside it."""
    reports = found.reports
    relaxation = {s: bound for s, (bound, _) in relaxed.items()}
    lp = with_lp(inst)
    if lp:
        progress("LP bounds with seniority", f"{len(inst.edges):,} pairs")
    lp_bounds = _seniority_lp_bounds(inst, reports, t0) if lp else {}
    wall_time = time.perf_counter() - t0
    # outside the limit and the wall time on purpose: it changes no placement, it only proves more about it
    lagrange = (_lagrangian_bounds(inst, reports, settled, pricing.rows, progress)
                if stages == STAGES and not lp and inst.policy.engine.bound_seconds > 0 else {})
    # the pricing's iterations, and those beside the search, bound the reserve stage too, for every answer
    # placing at least as many must-place teachers as the warm start they used (their floor)
    runs = [(pricing.bound, pricing.floor)] + ([(beside.bound, beside.floor)] if beside else [])
    for run, at_least in runs:
        if (run and reports["must_place"].objective >= at_least
                and run.bound < getattr(lagrange.get("reserve"), "bound", run.bound + 1)):
            lagrange["reserve"] = run
    restricted = found.sizes["pairs_in_model"] < len(inst.edges)
    priced = pricing.bound
    return SolveFigures(
        solver="cp-sat", time_limit=inst.policy.time_limit, restricted_pairs=restricted,
        wall_time=round(wall_time, 3), sizes=Sizes(**found.sizes),
        stages={name: _stage_row(inst, name, r, relaxation, lp_bounds, lagrange) for name, r in reports.items()},
        settled_by_relaxation=list(settled),
        warm_starts=WarmStarts.from_dict(starts),
        pricing=(PricingFigures(kind=pricing.kind, iterations=priced.iterations, seconds=round(priced.seconds, 2),
                                pairs_added=pairs_added, charged_iterations=pricing.charged)
                 if priced else None),
        bound_beside_search=(BesideFigures(iterations=beside.bound.iterations, bound=beside.bound.bound,
                                           seconds=round(beside.bound.seconds, 2), waited=round(beside.waited, 2))
                             if beside else None),
        optimal=not restricted and all(r.optimal_components == r.components for r in reports.values()),
        # a deterministic run's answer is a function of its snapshot and policy unless the wall clock cut a search
        # -- or, unseen here, with tasks side by side (interleave_batch 0) the task a search's last batch stopped
        # early differed (benchmarks/JOURNAL.md, "CP-SAT's last batch")
        reproducible=inst.policy.search.reproducible and not any(r.cut_by_wall_clock for r in reports.values()),
    )


def _stage_row(inst: Instance, name: str, r: StageReport, relaxation: dict[str, int],
               lp_bounds: dict[str, int | None], lagrange: dict[str, lagrangian.LagrangianBound]
               ) -> StageFigures:
    """One stage's figures: its value, the model's bound and gap, and each bound proven for it."""
    row = StageFigures(objective=r.objective, model_bound=r.bound, gap=round(r.gap, 6),
                       optimal_components=r.optimal_components, components=r.components,
                       seconds=round(r.seconds, 2), deterministic_seconds=round(r.deterministic_seconds, 3))
    if inst.policy.search.reproducible:
        row.cut_by_wall_clock = r.cut_by_wall_clock
    if name in relaxation:
        row.relaxation_bound = relax = relaxation[name]
        row.relaxation_gap = round(gap(relax, r.objective), 6)
    if name in lp_bounds:
        row.lp_bound = lp = lp_bounds[name]
        row.lp_gap = None if lp is None else round(gap(lp, r.objective), 6)
    if name in lagrange:
        bound = lagrange[name]
        row.lagrangian_bound = bound.bound
        row.lagrangian_gap = round(gap(bound.bound, r.objective), 6)
        row.lagrangian_iterations = bound.iterations
        row.lagrangian_seconds = round(bound.seconds, 2)
    return row


def _seniority_lp_bounds(inst: Instance, reports: dict[str, StageReport], t0: float) -> dict[str, int | None]:
    """Each lexicographic stage's LP bound with seniority (:mod:`solver.bounds`), earlier stages held at the
    values found, as the CP-SAT stages hold them; ``None`` where the LP did not finish in the time left.  Rebuilt
    for each stage: re-solving one GLOP model with a new objective measured slower."""
    out: dict[str, int | None] = {}
    floors: list[tuple[bounds.Weight, int]] = []
    for stage in STAGES:
        weight = inst.stage_values(stage)
        left = t0 + inst.policy.time_limit - time.perf_counter()
        out[stage] = bounds.seniority_lp_bound(inst, weight, floors, time_limit=max(3.0, left))
        floors.append((weight, reports[stage].objective))
    return out


def _lagrangian_bounds(inst: Instance, reports: dict[str, StageReport], settled: list[str],
                       rows: lagrangian.SeatRows | None = None,
                       progress: Progress = silent) -> dict[str, lagrangian.LagrangianBound]:
    """Each searched stage's Lagrangian bound with seniority (:mod:`solver.lagrangian`), earlier stages held at
    the values found, the settings' ``bound_seconds`` shared between them.  Settled stages are proven already."""
    searched = [s for s in STAGES if s not in settled]
    if not searched:
        return {}
    rows = rows or lagrangian.SeatRows(inst)
    out: dict[str, lagrangian.LagrangianBound] = {}
    floors: list[tuple[bounds.Weight, int]] = [(inst.stage_values(s), reports[s].objective) for s in settled]
    for stage in searched:
        weight = inst.stage_values(stage)
        step = f"proving the {stage_step(stage)}'s gap"
        out[stage] = lagrangian.lagrangian_bound(
            inst, weight, floors, target=reports[stage].objective,
            time_limit=inst.policy.engine.bound_seconds / len(searched),
            rows=rows, auction_eps=inst.policy.engine.auction_eps,
            on_iteration=lambda k, bound, step=step: progress(step, f"Lagrangian iteration {k}, bound {bound:,}"))
        floors.append((weight, reports[stage].objective))
    return out
