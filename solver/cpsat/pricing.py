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
from solver.policy import Policy
from solver.progress import Progress

#: Arcs of the Lagrangian's flow an iteration processes per second on the reference machine (2 cores; the
#: district's 710k arcs take about 0.9 s).  A nominal speed, not a measured one, so whether pairs are priced
#: is a pure function of the instance and the policy and a replay prices the same pairs.
ARCS_PER_SECOND = 800_000
#: What an iteration by auction (``policy.auction_eps``) costs against an exact flow's :data:`ARCS_PER_SECOND`,
#: averaged over the pricing (one iteration in ten is still a flow): the district's 100 iterations took 17-24 s
#: by auction (2026-11-27, night), against 89 s at nominal speed by flows.
AUCTION_COST = 0.2
#: The longest a parallel round's pricing runs, as a share of its wall-clock limit, however many iterations are
#: left (at least one runs).  It is chosen to take at most 65 % (``policy.parallel_pricing_share``) at nominal
#: speed, and took 17-25 s of the district's 60 s (2026-11-27; 18.5-31 s the next night, when it sometimes cut
#: the pricing short; 9-10.5 s of 30 s on 2026-12-05 with one exact flow); on a machine twice as slow this keeps
#: the searches from getting nothing.
PARALLEL_PRICING_CAP = 0.5
#: How many of the last relaxed assignments give their pairs to the model (20 of 150 measured best).
PRICED_ASSIGNMENTS = 20


def pricing_iterations(inst: Instance) -> int:
    """``policy.pricing_iterations`` if they fit in ``policy.pricing_share`` of the time limit at nominal
    speed, else 0.

    All or nothing, because the priced pairs pay only when the search has time for the larger model.  Measured
    on a generated 300-school round (deterministic): with 120 s the reserve stage rose from 75,048 to 75,568
    (0.15 % from its bound) and welfare from 17,945 to 18,060; with 30 s the larger model was searched less
    well (74,554 against 75,048, welfare 15,805 against 17,617), and fewer iterations (15-50) chose pairs that
    helped less.  So pricing starts where 150 iterations fit in 15 % of the limit: 150 schools (`city`) at the
    default 30 s, 200 from about 40 s, 300 from about 90 s, the district from about 15 minutes."""
    p = inst.policy
    return p.pricing_iterations if nominal_seconds(inst, p.pricing_iterations) <= p.pricing_share * p.time_limit else 0


def quick_pricing_iterations(inst: Instance) -> int:
    """``policy.quick_pricing_iterations`` where the full pricing does not fit the limit but these do (same share,
    same nominal speed), else 0: the pairs of the last relaxed assignment join the model.

    Why: on the district the search on the kept pairs levels off at 249,875 (its own bound is within 0.03 %)
    and more time does not help (249,667 after 15 minutes), while the best placement known (252,059) needs only
    296 more pairs; with those the 30 s round finds and proves it.  The full pricing's +9,641 pairs contain
    them but defeat a short search (236,815).  One assignment's pairs are a few hundred: few enough for the
    usual search, and where the multipliers put teachers.  Measured 2026-11-27 on the district (seed 7,
    deterministic, reserve stage from the warm start, 11.8 deterministic seconds, lean search), the pairs of
    the assignment of iteration 2, 3, 4, 5 or 6 (+700 each): 250,603, 250,915, 251,175, 250,915, 250,863; the
    last 2 of 5 (+1,350): 250,835.  Tried and replaced: a *polish* that searched again from the kept pairs'
    answer with the pairs of the last 5 of 10 iterations held back until then -- 251,175 / 59,214 with 60 s
    where this gives 251,227 / 61,464, and 75,256 and 75,765 on `mid` rounds in 30 s where this gives 75,308
    and 75,782.  On the district 4 iterations fit in 15 % of the default 30 s.

    Deterministic searches only: the parallel mode's wall-clock limit buys far less search (on the district
    with 60 s its reserve stage got 8.4 deterministic seconds in all); added pairs were measured there only for
    the polish, which cost welfare without a clear gain."""
    p = inst.policy
    return p.quick_pricing_iterations if quick_pricing_fits(inst) and not p.settled_pricing_iterations else 0


def quick_pricing_fits(inst: Instance) -> bool:
    """Where the quick pricing (or the settled pricing in its place) runs: deterministic rounds whose full
    pricing does not fit the limit and whose quick pricing does."""
    p = inst.policy
    fits = nominal_seconds(inst, p.quick_pricing_iterations) <= p.pricing_share * p.time_limit
    return p.deterministic and fits and not pricing_iterations(inst)


def settled_pricing_iterations(inst: Instance) -> int:
    """``policy.settled_pricing_iterations`` where the quick pricing would run, and in a parallel round whose full
    pricing does not fit where they fit ``policy.parallel_pricing_share`` of its limit; else 0.

    Why: the pairs a district's 30 s round lacks are found by the Lagrangian once its multipliers have settled,
    not after the quick pricing's 4 iterations.  The pairs of the relaxed assignment of the 100th iteration
    (step halved after :data:`BESIDE_PATIENCE` stalls, the bound beside the search's setting) took the reserve
    stage of six generated districts (seeds 7-12, 2026-11-27, night) to 251,903, 252,046, 250,825, 251,190,
    258,120 and 248,773 -- 0.13-0.33 % from their bounds, against 0.36-0.83 % with the quick pricing's pairs, the
    same search budget and about a minute more wall time (by exact flows; by auction, ``policy.auction_eps``, the
    iterations take about 23 s, and the six districts came to 0.10-0.29 %).  The pairs of the 20th iteration
    (step halved after 10 stalls) helped far less, +203 on average: it is the settled multipliers that matter.
    They take the quick pricing's place and its charge to the deterministic budget (4 iterations at nominal
    speed), so the search keeps the budget it had; the rest is not charged, because at nominal speed 100
    iterations are 89 s and would leave the search nothing.  Like the bound beside the search they are a fixed
    count, so a replay repeats them.  Their bound is reported as the round's proven reserve bound.

    A parallel round had only CP-SAT's own bound on its pairs to show (4 % from the flow relaxation on the
    district).  With the settled pricing inside its wall-clock limit it proves its reserve gap.  With CP-SAT's
    default portfolio, at 60 s the district's reserve stage came within 0.41-1.94 % of that bound (seeds 7-12),
    against 1.27-2.04 % without the pricing (seeds 7, 8, 10, 12); with the lean portfolio as well
    (``policy.portfolio_in_parallel``), within 0.22-0.49 % in 12 of 13 runs, and at 45 s within 0.36 % and
    0.62 % (seeds 7 and 8) against 1.04 % and 1.12 % without the pricing."""
    p = inst.policy
    if quick_pricing_fits(inst):
        return p.settled_pricing_iterations
    if p.deterministic or pricing_iterations(inst):
        return 0
    # a parallel round: the iterations come out of its wall-clock limit, so they run only where they leave the
    # searches enough of it (see policy.parallel_pricing_share)
    nominal = nominal_seconds(inst, p.settled_pricing_iterations) * (AUCTION_COST if p.auction_eps else 1.0)
    return p.settled_pricing_iterations if nominal <= p.parallel_pricing_share * p.time_limit else 0


def nominal_seconds(inst: Instance, iterations: int) -> float:
    """What ``iterations`` Lagrangian iterations cost at :data:`ARCS_PER_SECOND`."""
    return iterations * lagrangian.arc_count(inst) / ARCS_PER_SECOND


def price_pairs(inst: Instance, start: GroupPlacement, iterations: int, rows: lagrangian.SeatRows,
                keep_last: int, patience: int = 10, on_iteration: Callable[[int, int], None] | None = None,
                time_limit: float = math.inf) -> lagrangian.LagrangianBound:
    """Which left-out pairs the reserve stage needs, priced by Lagrangian relaxation of the rules.

    The restricted model keeps the pairs teachers asked for and a few "indifferent" ones per teacher; the
    reserve stage's best answers move teachers without a list and must-place teachers to schools no cheap
    rule predicts.  The relaxed assignments of the reserve stage's Lagrangian (:mod:`solver.lagrangian`:
    capacity and consent exact, seniority and return rights priced by multipliers) put teachers where a
    rule-abiding optimum would, once the multipliers have settled: the pairs of the last ``keep_last`` of them
    join the model (:data:`PRICED_ASSIGNMENTS` for the full pricing).  Measured on a generated 300-school round
    (51k pairs), reserve stage in 20 s: 74,944 without them, 75,412 with the pairs of 150 iterations (+1,962
    pairs), against 75,152 for the exact model after 900 s and an LP bound of 75,656.  The iterations also bound
    the reserve stage (the must-place floor is the warm start's, never above the final one, so the bound stays
    valid)."""
    floor = [(inst.stage_values("must_place"), stage_value(inst, start, "must_place"))]
    return lagrangian.lagrangian_bound(inst, inst.stage_values("reserve"), floor,
                                       target=stage_value(inst, start, "reserve"), time_limit=time_limit,
                                       max_iterations=iterations, rows=rows, keep_last=keep_last,
                                       patience=patience, on_iteration=on_iteration,
                                       auction_eps=inst.policy.auction_eps, exact_every=exact_every(inst.policy))


def exact_every(policy: Policy) -> int:
    """How often the pricing's relaxed assignment is an exact flow rather than an auction's
    (:func:`solver.lagrangian.lagrangian_bound`): a parallel round spends less of its wall clock on flows."""
    return lagrangian.EXACT_EVERY if policy.deterministic else policy.parallel_exact_every


def bound_beside_search(inst: Instance) -> int:
    """Iterations of :class:`BoundBesideSearch` for this round: ``policy.bound_beside_search`` where the quick
    pricing runs (a full pricing's own iterations bound the reserve stage already) and the search runs one task
    at a time, so a core is idle; else 0."""
    p = inst.policy
    return p.bound_beside_search if quick_pricing_iterations(inst) and p.interleave_batch == 1 else 0


#: Iterations without a better bound before :class:`BoundBesideSearch` halves its step (the Lagrangian's
#: default is 10, for runs of many minutes).  With 100 iterations a shorter patience ends lower: on the district
#: (seed 10) 252,174 with 5 against 252,657 with 10 and 252,245 with 3 -- what 10 reaches after about 200.
BESIDE_PATIENCE = 5


class BoundBesideSearch:
    """The reserve stage's Lagrangian bound, computed in a thread while CP-SAT searches.

    Why: a deterministic search runs CP-SAT's tasks one at a time (``policy.interleave_batch``), so one of the
    two cores idles through the round's longest part, and the quick pricing's 4 iterations prove nothing (on the
    district they stop at the flow relaxation, 4 % above the answer).  CP-SAT releases Python's lock while it
    searches, so the iterations run on the idle core: the round reports a gap proven by itself, not only by a
    ``bound_seconds`` run afterwards.  A fixed number of iterations, not "until the search ends", so the figure
    is the same in a replay; it changes no placement.  The bound holds for every answer placing at least the
    warm start's must-place count (``floor``); Polyak's step aims at the warm start's reserve value.  The price:
    on the district the search takes 14-38 % more wall time beside it.  A forked process instead of this thread
    measured cheaper in isolation (+5 % against +14 %) but not in a whole round (benchmarks/RESULTS.md, "The round
    proves its own gap"), so the simpler thread stays.  ``policy.bound_beside_search`` 0 turns it off."""

    def __init__(self, inst: Instance, rows: lagrangian.SeatRows, floor: int, target: int, iterations: int):
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bound-beside-search")
        self._future = self._pool.submit(
            lagrangian.lagrangian_bound, inst, inst.stage_values("reserve"),
            [(inst.stage_values("must_place"), floor)], target=target, time_limit=math.inf,
            max_iterations=iterations, rows=rows, stop=self._stop, patience=BESIDE_PATIENCE,
            auction_eps=inst.policy.auction_eps)

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
    pricing's last relaxed assignment (:func:`solver.matching.teacher_proposing`); and both starts' stage
    values with the one taken, for the run's figures.

    Why: the rules leave deferred acceptance free where a teacher ranks schools equally (a teacher without a
    list ranks them all equally) and where a school has no seniority order, and there plain deferred acceptance
    decides by group number and committee rank, blind to the reserve cost.  The relaxed assignment, once its
    multipliers price seniority, puts teachers where the reserve stage wants them; following it wherever the
    rules allow keeps every rule and places whom it would.  Measured on the district from 4 iterations: seed 8
    starts at 852 must-place / 244,964 against 842 / 233,899 (so its must-place stage is settled), seed 10 at
    867 / 242,430 against 867 / 233,651.  Both starts obey the rules, so the better one is kept."""
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
    until = math.inf if inst.policy.deterministic else PARALLEL_PRICING_CAP * inst.policy.time_limit
    bound = price_pairs(inst, start, iterations, rows, assignments, patience,
                        lambda k, b: progress("pricing pairs", f"Lagrangian iteration {k} of {iterations}, "
                                                               f"reserve bound {b:,}"),
                        time_limit=until)
    # the settled pricing takes the quick pricing's place and its charge, so the search keeps its budget
    charged = (inst.policy.quick_pricing_iterations if kind == "settled" and inst.policy.deterministic
               else bound.iterations)
    return Pricing(kind, rows, bound, floor, charged)


def guide(inst: Instance, start: GroupPlacement, pricing: Pricing, progress: Progress
          ) -> tuple[GroupPlacement, dict[str, object] | None]:
    """The start the search takes (:func:`guided_start` where the pricing ran and the policy asks for it), and
    both starts' figures (``None`` when there was no choice)."""
    if not (pricing.bound and inst.policy.guided_start):
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
