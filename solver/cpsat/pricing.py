"""Pricing: which left-out pairs the model needs, by Lagrangian relaxation of the rules, the start it guides,
and the reserve stage's bound computed beside the search.

Every count here is a function of the instance and the policy (nominal speeds, fixed iterations), so a
deterministic round prices the same pairs in a replay.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from solver import lagrangian, matching
from solver.cpsat.pairs import restricted
from solver.cpsat.stages import STAGES, stage_value
from solver.instance import GroupPlacement, Instance
from solver.progress import Progress

#: Arcs of the Lagrangian's flow an iteration processes per second on the reference machine (2 cores): a nominal
#: speed, not a measured one, so whether pairs are priced is a pure function of the instance and the policy.
ARCS_PER_SECOND = 800_000
#: What an iteration by auction (the settings' ``auction_eps``) costs against an exact flow's, averaged over a pricing.
AUCTION_COST = 0.2
#: The longest a parallel round's pricing runs, as a share of its wall-clock limit (at least one iteration runs):
#: on a slow machine the searches keep the rest.
PARALLEL_PRICING_CAP = 0.5
#: How many of the full pricing's last relaxed assignments give their pairs to the model.
PRICED_ASSIGNMENTS = 20


def pricing_iterations(inst: Instance) -> int:
    """The settings' ``pricing_iterations`` if they fit in ``pricing_share`` of the time limit at nominal
    speed, else 0: all or nothing, because the priced pairs pay only when the search has time for the larger model."""
    e, limit = inst.policy.engine, inst.policy.time_limit
    return e.pricing_iterations if nominal_seconds(inst, e.pricing_iterations) <= e.pricing_share * limit else 0


def quick_pricing_iterations(inst: Instance) -> int:
    """The settings' ``quick_pricing_iterations`` where the full pricing does not fit the limit but these do and no
    settled pricing replaces them, else 0: the last relaxed assignment's few hundred pairs join the model, where
    a search on the kept pairs alone levels off.  Deterministic rounds only."""
    e = inst.policy.engine
    return e.quick_pricing_iterations if quick_pricing_fits(inst) and not e.settled_pricing_iterations else 0


def quick_pricing_fits(inst: Instance) -> bool:
    """Where the quick pricing (or the settled pricing in its place) runs: deterministic rounds whose full
    pricing does not fit the limit and whose quick pricing does."""
    e = inst.policy.engine
    fits = nominal_seconds(inst, e.quick_pricing_iterations) <= e.pricing_share * inst.policy.time_limit
    return e.reproducible and fits and not pricing_iterations(inst)


def settled_pricing_iterations(inst: Instance) -> int:
    """The settings' ``settled_pricing_iterations`` where the quick pricing would run (taking its place and its
    charge), and in a parallel round whose full pricing does not fit, where they fit the parallel mode's
    ``settled_pricing_share`` of its limit; else 0.  Settled multipliers find the pairs a short round lacks, and
    their bound proves its gap."""
    e = inst.policy.engine
    if quick_pricing_fits(inst):
        return e.settled_pricing_iterations
    if e.settled_pricing_share is None or pricing_iterations(inst):
        return 0
    # a parallel round: the iterations come out of its wall-clock limit, so they run only where they leave the
    # searches enough of it
    nominal = nominal_seconds(inst, e.settled_pricing_iterations) * (AUCTION_COST if e.auction_eps else 1.0)
    return e.settled_pricing_iterations if nominal <= e.settled_pricing_share * inst.policy.time_limit else 0


def nominal_seconds(inst: Instance, iterations: int) -> float:
    """What ``iterations`` Lagrangian iterations cost at :data:`ARCS_PER_SECOND`."""
    return iterations * lagrangian.arc_count(inst) / ARCS_PER_SECOND


def price_pairs(inst: Instance, start: GroupPlacement, iterations: int, rows: lagrangian.SeatRows,
                keep_last: int, patience: int = 10, on_iteration: Callable[[int, int], None] | None = None,
                time_limit: float = math.inf) -> lagrangian.LagrangianBound:
    """Which left-out pairs the reserve stage needs, priced by Lagrangian relaxation of the rules
    (:mod:`solver.lagrangian`): the pairs of the last ``keep_last`` relaxed assignments join the model.  The
    iterations also bound the reserve stage, for answers placing at least the start's must-place count."""
    floor = [(inst.stage_values("must_place"), stage_value(inst, start, "must_place"))]
    return lagrangian.lagrangian_bound(inst, inst.stage_values("reserve"), floor,
                                       target=stage_value(inst, start, "reserve"), time_limit=time_limit,
                                       max_iterations=iterations, rows=rows, keep_last=keep_last,
                                       patience=patience, on_iteration=on_iteration,
                                       auction_eps=inst.policy.engine.auction_eps,
                                       exact_every=inst.policy.engine.exact_every)


def bound_beside_search(inst: Instance) -> int:
    """Iterations of :class:`BoundBesideSearch` for this round: the settings' ``bound_beside_search`` where the
    quick pricing runs (a full pricing's own iterations bound the reserve stage already) and the search runs one
    task at a time, so a core is idle; else 0."""
    e = inst.policy.engine
    return e.bound_beside_search if quick_pricing_iterations(inst) and e.interleave_batch == 1 else 0


#: Iterations without a better bound before :class:`BoundBesideSearch` halves its step: shorter than the
#: Lagrangian's default (10, for runs of many minutes) because it runs a fixed 100 or so.
BESIDE_PATIENCE = 5


class BoundBesideSearch:
    """The reserve stage's Lagrangian bound, computed in a thread on the core a one-task-at-a-time deterministic
    search leaves idle (CP-SAT releases Python's lock), so the round proves its own gap.  A fixed iteration count:
    a replay repeats the figure, and no placement changes.  It holds for answers placing ``floor`` or more."""

    def __init__(self, inst: Instance, rows: lagrangian.SeatRows, floor: int, target: int, iterations: int):
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bound-beside-search")
        self._future = self._pool.submit(
            lagrangian.lagrangian_bound, inst, inst.stage_values("reserve"),
            [(inst.stage_values("must_place"), floor)], target=target, time_limit=math.inf,
            max_iterations=iterations, rows=rows, stop=self._stop, patience=BESIDE_PATIENCE,
            auction_eps=inst.policy.engine.auction_eps)

    def result(self) -> tuple[lagrangian.LagrangianBound, float]:
        """The bound, and the seconds the round waited for it after its search."""
        t = time.perf_counter()
        bound = self._future.result()
        return bound, time.perf_counter() - t

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)


def guided_start(inst: Instance, start: GroupPlacement, priced: lagrangian.LagrangianBound
                 ) -> tuple[GroupPlacement, dict[str, object]]:
    """The better start, lexicographically over the stages: ``start`` or deferred acceptance guided by the
    pricing's last relaxed assignment wherever the rules leave it free (ties, no list, no seniority order); and
    both starts' stage values with the one taken.  Both obey the rules."""
    guide = {inst.edges[i].teacher_id: inst.edges[i].group for i in priced.assignment}
    guided = matching.teacher_proposing(inst, guide)
    values = {name: [stage_value(inst, p, s) for s in STAGES]
              for name, p in (("deferred_acceptance", start), ("guided", guided))}
    used = "guided" if values["guided"] > values["deferred_acceptance"] else "deferred_acceptance"
    return (guided if used == "guided" else start), {**values, "used": used}


@dataclass
class Pricing:
    """What the pricing step did: its kind, its Lagrangian run (``None`` if none ran) and what it is charged."""
    kind: str = "none"
    #: the seat rows of the Lagrangian, shared with the bounds that follow
    rows: lagrangian.SeatRows | None = None
    bound: lagrangian.LagrangianBound | None = None
    #: the must-place count of the start it priced from: its reserve bound holds for answers placing as many
    floor: int = 0
    #: iterations charged to the deterministic search budget at nominal speed
    charged: int = 0

    @property
    def pairs(self) -> list[int]:
        return self.bound.pairs if self.bound else []


def price(inst: Instance, start: GroupPlacement, stages: tuple[str, ...], progress: Progress) -> Pricing:
    """Run the pricing this round affords (full, settled or quick; none for an exact model or one objective)."""
    floor = stage_value(inst, start, "must_place")
    if not (restricted(inst) and stages == STAGES):
        return Pricing(floor=floor)
    full, settled = pricing_iterations(inst), settled_pricing_iterations(inst)
    # the full pricing keeps the pairs of its last assignments, the settled and quick ones those of their last
    iterations, assignments, patience, kind = (
        (full, PRICED_ASSIGNMENTS, 10, "full") if full else
        (settled, 1, BESIDE_PATIENCE, "settled") if settled else
        (quick_pricing_iterations(inst), 1, 10, "quick"))
    if not iterations:
        return Pricing(kind, floor=floor)
    rows = lagrangian.SeatRows(inst)
    # a deterministic round's iterations are a fixed count (a replay repeats them); a wall-clock round's stop
    # after PARALLEL_PRICING_CAP of its limit, so that on a slow machine its searches keep the rest
    engine = inst.policy.engine
    until = math.inf if engine.reproducible else PARALLEL_PRICING_CAP * inst.policy.time_limit
    bound = price_pairs(inst, start, iterations, rows, assignments, patience,
                        lambda k, b: progress("pricing pairs", f"Lagrangian iteration {k} of {iterations}, "
                                                               f"reserve bound {b:,}"),
                        time_limit=until)
    # the settled pricing takes the quick pricing's place and its charge, so the search keeps its budget
    charged = (engine.quick_pricing_iterations if kind == "settled" and engine.reproducible
               else bound.iterations)
    return Pricing(kind, rows, bound, floor, charged)


def guide(inst: Instance, start: GroupPlacement, pricing: Pricing, progress: Progress
          ) -> tuple[GroupPlacement, dict[str, object] | None]:
    """The start the search takes (:func:`guided_start` where the pricing ran and the policy asks for it), and
    both starts' figures (``None`` when there was no choice)."""
    if not (pricing.bound and inst.policy.engine.guided_start):
        return start, None
    progress("warm start", "deferred acceptance guided by the pricing")
    return guided_start(inst, start, pricing.bound)


@dataclass
class Beside:
    """The bound computed beside the search: the Lagrangian run, the seconds the round waited for it, and the
    must-place floor it holds for (the start the search took)."""
    bound: lagrangian.LagrangianBound
    waited: float
    floor: int


@contextmanager
def bound_beside(inst: Instance, start: GroupPlacement, pricing: Pricing
                 ) -> Iterator[Callable[[], Beside | None]]:
    """Runs :class:`BoundBesideSearch` where this round calls for it, during the ``with`` block; yields the
    call that collects it after the search.  Leaving the block stops and joins its thread, also on an error."""
    iterations = bound_beside_search(inst) if pricing.rows is not None else 0
    floor = stage_value(inst, start, "must_place")
    beside = (BoundBesideSearch(inst, pricing.rows, floor, stage_value(inst, start, "reserve"), iterations)
              if iterations else None)

    def collect() -> Beside | None:
        return Beside(*beside.result(), floor) if beside else None

    try:
        yield collect
    finally:
        if beside:
            beside.close()
