"""Sweeps of scenarios x draws: serially, on a local process pool, or on a Dask cluster (``--cluster``).

A task is one draw and the scenarios that share one solve; it rebuilds its district from the seed (or takes
the given pool), so any worker gives the same numbers.  Results come back in any order and are sorted by the
caller.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context

from solver.progress import Progress, silent
from staffing.domain import District
from staffing.scenarios import Scenario

Task = tuple["SweepSpec", int, tuple[Scenario, ...]]


@dataclass(frozen=True)
class SweepSpec:
    size: str
    seed: int
    draws: int
    city: str | None
    rating_weight: float
    time_limit: float
    horizon: float
    district: District | None = None  # a given pool instead of the generator


@lru_cache(maxsize=4)
def _generated(size: str, seed: int, city: str | None, rating_weight: float) -> District:
    from staffing.seed import generate

    return generate(size, seed, city=city, rating_weight=rating_weight)


def district_for(spec: SweepSpec, draw: int) -> District:
    """Draw ``draw`` of the sweep: the generator's district ``seed + draw``, or a subsample of the given pool."""
    if spec.district is None:
        return _generated(spec.size, spec.seed + draw, spec.city, spec.rating_weight)
    if draw == 0:
        return spec.district
    from staffing.analysis import subsample

    return subsample(spec.district, spec.seed + draw)


def run_task(task: Task) -> tuple[list[dict], list[dict]]:
    """One draw, one shared solve: importable, so process pools and Dask workers can run it."""
    from staffing.analysis import solve_scenarios

    spec, draw, group = task
    return solve_scenarios(district_for(spec, draw), group, spec.time_limit, draw, spec.city, spec.horizon)


def tasks(spec: SweepSpec, scenarios: Sequence[Scenario]) -> list[Task]:
    groups: dict[tuple, list[Scenario]] = defaultdict(list)
    for s in scenarios:
        groups[s.solve_key].append(s)
    return [(spec, draw, tuple(g)) for draw in range(spec.draws) for g in groups.values()]


def _completed(todo: list[Task], processes: int, cluster: object) -> Iterator[tuple[list[dict], list[dict]]]:
    if cluster is not None:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed

        # an address such as tcp://host:8786, or a cluster object; an address nobody answers is an OSError
        client = Client(cluster, timeout="20s")
        try:
            futures = client.map(run_task, todo, pure=False)
            for future in dask_completed(futures):
                yield future.result()
        finally:
            client.close()
    elif processes > 1:
        # spawn: the solver's threads make forking unsafe, and workers must import the code afresh
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(run_task, t) for t in todo]
            for future in as_completed(futures):
                yield future.result()
    else:
        for t in todo:
            yield run_task(t)


def default_processes() -> int:
    """One solve per core: the deterministic search runs its tasks one at a time."""
    return max(1, os.cpu_count() or 1)


def run_sweep(spec: SweepSpec, scenarios: Sequence[Scenario], progress: Progress = silent, processes: int = 1,
              cluster: object = None, bar: bool = False) -> tuple[list[dict], list[dict]]:
    """All rows of every task; ``progress`` hears each finished solve, ``bar`` draws a tqdm bar on stderr."""
    todo = tasks(spec, scenarios)
    by_model: list[dict] = []
    totals: list[dict] = []
    meter = None
    if bar:
        from tqdm import tqdm

        meter = tqdm(total=len(todo), unit="solve", desc="scenarios x draws")
    try:
        for done, (rows, total) in enumerate(_completed(todo, processes, cluster), 1):
            by_model += rows
            totals += total
            progress("solving scenarios", f"{done} of {len(todo)} solves ({len(scenarios)} scenarios, "
                                          f"{spec.draws} draw{'s' if spec.draws > 1 else ''})")
            if meter is not None:
                meter.update()
    finally:
        if meter is not None:
            meter.close()
    return by_model, totals
