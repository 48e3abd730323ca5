"""The search: each component's model solved stage by stage, lexicographically, within the round's budget.

Each stage is solved, its value fixed, and the next stage starts from that solution.  Components (teachers and
groups that share no pair never interact) each get a share of the time limit, in proportion to their pairs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.cpsat.model import ComponentModel, must_be_placed
from solver.cpsat.pairs import Relaxations, components
from solver.cpsat.pricing import Pricing, nominal_seconds
from solver.cpsat.stages import StageReport, stage_step, stage_value, trivial_bound
from solver.instance import GroupPlacement, Instance
from solver.settings import Engine
from solver.progress import Progress, silent

#: Components with less than this share of the pairs are not reported one by one (:mod:`solver.progress`): they
#: are solved in moments, and a small round of many components would otherwise say five things about each.
PROGRESS_COMPONENT_SHARE = 0.1


class _Found(cp_model.CpSolverSolutionCallback):
    """Tells ``progress`` of each better placement a search finds; it only reads the placement."""

    def __init__(self, progress: Progress, step: str, within: str):
        super().__init__()
        self.progress, self.step, self.within = progress, step, within

    def on_solution_callback(self) -> None:
        self.progress(self.step, f"best {round(self.objective_value):,} so far{self.within}, bound on the pairs kept "
                                 f"{round(self.best_objective_bound):,}")


def _params(inst: Instance, seconds: float) -> cp_model.CpSolver:
    """A solver for one stage's search with a budget of ``seconds``: deterministic time, or wall-clock time."""
    solver = cp_model.CpSolver()
    e = inst.policy.engine
    if e.ignore_subsolvers is not None:
        solver.parameters.ignore_subsolvers.extend(e.ignore_subsolvers)
    if e.lns_task_seconds is not None:
        solver.parameters.lns_initial_deterministic_limit = e.lns_task_seconds
    solver.parameters.random_seed = e.seed
    solver.parameters.num_workers = max(1, e.workers)
    solver.parameters.linearization_level = e.linearization_level
    # CP-SAT 9.15's symmetry detection aborts the whole process on some of these models ("Check failed:
    # context_->VarToConstraints(var).empty()" in presolve; the must-place stage of generated round mid, seed
    # 3) -- an abort no caller can catch.  Levels 2 and 1 both crash there, 0 does not, and finds the same
    # optimum in 2 s.
    solver.parameters.symmetry_level = 0
    if e.reproducible:
        # deterministic time and interleaved workers: the same snapshot and policy give the same answer,
        # which is what makes a recorded run replayable
        solver.parameters.interleave_search = True
        solver.parameters.interleave_batch_size = e.interleave_batch
        solver.parameters.max_deterministic_time = max(seconds, 0.05)
        # a wall-clock cap only against a pathological search; a deterministic second costs one to four wall
        # seconds on an idle machine and several times that on a busy one, so the cap must stay far above that
        # or it would decide where the search stops (see WALL_CLOCK_FACTOR)
        solver.parameters.max_time_in_seconds = wall_clock_cap(seconds)
    else:
        solver.parameters.max_time_in_seconds = max(seconds, 0.05)
    if e.presolve_iterations is not None:
        solver.parameters.max_presolve_iterations = e.presolve_iterations
    return solver


#: A deterministic search's wall-clock cap, in multiples of its deterministic budget: far above what a busy
#: machine needs, so the budget, not the load, ends the search.
WALL_CLOCK_FACTOR = 100.0


def wall_clock_cap(seconds: float) -> float:
    """The wall-clock cap of a deterministic search with a budget of ``seconds`` of deterministic time (at least
    10 s: a tiny budget's search is mostly loading and presolve, whose wall time a busy machine stretches)."""
    return max(WALL_CLOCK_FACTOR * seconds, 10.0)


def cut_by_wall_clock(solver: cp_model.CpSolver, wall_seconds: float) -> bool:
    """Whether the wall-clock cap may have ended a deterministic search rather than its budget: then a replay
    may differ.  CP-SAT reports no stop reason, so an unproven search that ran half the cap or more counts as cut;
    ``wall_seconds`` is the caller's own measure of the ``solve`` call."""
    p, r = solver.parameters, solver.response_proto
    return (p.interleave_search and r.status not in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
            and wall_seconds >= 0.5 * p.max_time_in_seconds)


def parallel_stage_share(engine: Engine, stages: tuple[str, ...], k: int) -> float:
    """The share of a parallel round's search time still left that its ``k``-th stage gets: an equal share,
    except the reserve stage, which gets the parallel mode's ``reserve_share`` when welfare follows (it weighs
    more); a search that ends early leaves its time to the next stage."""
    if stages[k] == "reserve" and k + 1 < len(stages) and engine.reserve_share is not None:
        return engine.reserve_share
    return 1 / (len(stages) - k)


def settled_stages(inst: Instance, start: GroupPlacement, stages: tuple[str, ...], relaxed: Relaxations) -> list[str]:
    """Stages the start already solves (its value meets the whole problem's relaxation bound): skipped, which on a
    district saves CP-SAT's presolve for the proof.  Only a leading run qualifies, because a searched stage
    changes the placement the next one starts from."""
    settled: list[str] = []
    for stage in stages:
        if stage not in relaxed or stage_value(inst, start, stage) != relaxed[stage][0]:
            break
        settled.append(stage)
    return settled


def with_lp(inst: Instance) -> bool:
    """Whether the round computes the LP bounds with seniority after its search (small lexicographic rounds)."""
    return inst.policy.objective == "lexicographic" and len(inst.edges) <= inst.policy.engine.lp_bound_pairs


@dataclass(frozen=True)
class Budget:
    """The search's share of the time limit: a wall-clock deadline (parallel rounds) and the deterministic
    seconds of the searched stages (deterministic rounds), the rest kept for the bounds and explanations."""
    deadline: float
    work: float
    searched: int


def budget(inst: Instance, t0: float, stages: tuple[str, ...], settled: list[str], pricing: Pricing) -> Budget:
    """The deterministic budget is the limit less what follows the search and the pricing's nominal cost, never
    what preparation took on this machine, so a replay gets the same budget and the same answer."""
    limit = inst.policy.time_limit
    after_search = min(2.0, 0.1 * limit) + (min(5.0, 0.15 * limit) if with_lp(inst) else 0.0)
    return Budget(deadline=t0 + limit - after_search,
                  work=limit - after_search - nominal_seconds(inst, pricing.charged),
                  searched=max(1, len(stages) - len(settled)))


@dataclass
class Searched:
    """The search's answer: the placement, each stage's report, and the model's sizes."""
    placement: GroupPlacement
    reports: dict[str, StageReport]
    sizes: dict[str, int] = field(default_factory=dict)


def search(inst: Instance, start: GroupPlacement, stages: tuple[str, ...], keep: set[tuple[str, int]],
           settled: list[str], plan: Budget, progress: Progress = silent) -> Searched:
    """Every component, largest first, built and searched stage by stage from ``start``."""
    comps = components(inst)
    placed = must_be_placed(inst, start, settled)
    reports = {s: StageReport() for s in stages}
    placement: GroupPlacement = {}
    sizes = {"components": len(comps), "pairs": len(inst.edges), "pairs_in_model": len(keep),
             "groups": len(inst.groups), "variables": 0, "constraints": 0, "largest_component_pairs": 0}
    remaining = max(1, len(inst.edges))
    for c, (teachers, groups) in enumerate(comps, 1):
        pairs = sum(len(inst.edges_by_teacher[t]) for t in teachers)
        within = f" (component {c} of {len(comps)})" if len(comps) > 1 else ""
        told = progress if pairs >= PROGRESS_COMPONENT_SHARE * len(inst.edges) else silent
        told("building the model", f"{len(keep):,} of {len(inst.edges):,} pairs{within}")
        comp = ComponentModel(inst, teachers, groups, keep, placed)
        sizes["variables"] += len(comp.model.proto.variables)
        sizes["constraints"] += len(comp.model.proto.constraints)
        sizes["largest_component_pairs"] = max(sizes["largest_component_pairs"], pairs)
        share = max(0.0, plan.deadline - time.perf_counter()) * pairs / remaining
        remaining -= pairs
        work = plan.work * pairs / max(1, len(inst.edges)) / plan.searched
        current = {tid: start[tid] for tid in teachers if tid in start}
        placement.update(_search_component(inst, comp, teachers, current, stages, settled, reports, work, share,
                                           told, within))
    return Searched(placement, reports, sizes)


def _search_component(inst: Instance, comp: ComponentModel, teachers: list[str], current: GroupPlacement,
                      stages: tuple[str, ...], settled: list[str], reports: dict[str, StageReport], work: float,
                      share: float, told: Progress, within: str) -> GroupPlacement:
    """One component's stages in turn, each from the last one's answer, each keeping the earlier values.

    Deterministic rounds give each searched stage ``work`` deterministic seconds, plus what an earlier stage
    left (one proven optimal early); parallel rounds share the component's wall-clock ``share``."""
    unused = 0.0
    for k, stage in enumerate(stages):
        expr = comp.objective(stage)
        report = reports[stage]
        report.components += 1
        if stage in settled:  # proven optimal by the relaxation bound: nothing to search
            told(stage_step(stage), f"the warm start is proven optimal{within}")
            value = bound = stage_value(inst, current, stage)
            report.optimal_components += 1
        else:
            comp.set_hint(current)
            comp.model.maximize(expr)
            budget = work + unused
            engine = inst.policy.engine
            seconds = budget if engine.reproducible else share * parallel_stage_share(engine, stages, k)
            solver = _params(inst, seconds)
            step = stage_step(stage)
            told(step, f"searching{within}, up to {seconds:.3g} "
                       f"{'deterministic ' if engine.reproducible else ''}seconds")
            t_stage = time.perf_counter()
            status = solver.solve(comp.model, None if told is silent else _Found(told, step, within))
            spent = time.perf_counter() - t_stage
            share -= spent
            used = solver.response_proto.deterministic_time
            unused = max(0.0, budget - used)
            report.seconds += spent
            report.deterministic_seconds += used
            report.cut_by_wall_clock += cut_by_wall_clock(solver, spent)
            solved = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            if solved:
                current = comp.read(solver)
                report.optimal_components += status == cp_model.OPTIMAL
            value = stage_value(inst, current, stage)
            # the solver's bound holds for the kept pairs only; without a solve it is the trivial bound
            bound = int(round(solver.best_objective_bound)) if solved else trivial_bound(inst, teachers, stage)
        report.objective += value
        report.bound += max(bound, value)
        if stage != "weighted":
            comp.model.add(expr >= value)  # later stages keep this stage's value (lexicographic)
    return current
