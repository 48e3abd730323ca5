"""Engine tuning apart from what HR chooses: :class:`SolverSettings` with named :data:`PRESETS`, the
:class:`SearchMode` a round runs in, and :class:`Engine`, the settings resolved for that mode.

HR's choices (scenario, objective weights, time limit, search mode) live in :class:`solver.policy.Policy`, which
carries a :class:`SolverSettings` so that a recorded run stores both and replays with the engine it was solved
with.  The engine reads only :class:`Engine` (``policy.engine``): the one place where the two modes differ.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

#: CP-SAT's LP-heavy full-problem workers and its quick restarts (the ``lean`` portfolio's skips)
_LP_HEAVY = ("max_lp", "reduced_costs", "core", "no_lp", "quick_restart", "quick_restart_no_lp")

#: CP-SAT workers a search skips, by portfolio name.  A name is never redefined: a recorded run replays with the
#: portfolio it was solved with.  ``full``: CP-SAT's whole portfolio; ``lean``: without the LP-heavy full-problem
#: workers and quick restarts; ``pseudo_costs_lns`` (default): ``lean`` without ``default_lp`` too.
PORTFOLIOS: dict[str, tuple[str, ...]] = {"full": (), "lean": _LP_HEAVY, "pseudo_costs_lns": (*_LP_HEAVY, "default_lp")}

#: How often a reproducible round's Lagrangian relaxed assignment is an exact flow (every tenth iteration, and
#: the last): :data:`solver.lagrangian.EXACT_EVERY`, repeated here so settings stay below the engine.
REPRODUCIBLE_EXACT_EVERY = 10


@dataclass(frozen=True)
class SearchMode:
    """How a round spends its time limit.  ``deterministic``: interleaved workers against a deterministic time
    limit, so the same snapshot and policy give the same placements and a recorded run replays (a district round
    takes several times its limit in wall time).  ``parallel``: both cores against the wall clock; the round ends
    within its limit, and a replay may differ."""

    name: str = "deterministic"

    def __post_init__(self) -> None:
        if self.name not in SEARCH_MODES:
            raise ValueError(f"search must be one of {', '.join(SEARCH_MODES)}, got {self.name!r}")

    @property
    def reproducible(self) -> bool:
        """Whether a replay of the same snapshot and policy gives the same placements (deterministic time)."""
        return self.name == "deterministic"

    @classmethod
    def parse(cls, text: str) -> "SearchMode":
        """A mode by name; "reproducible" is accepted for "deterministic"."""
        return cls("deterministic" if text == "reproducible" else text)

    def __str__(self) -> str:
        return self.name


SEARCH_MODES = ("deterministic", "parallel")
DETERMINISTIC = SearchMode("deterministic")
PARALLEL = SearchMode("parallel")


def _checks(obj: object, ranges: list[tuple[bool, str]], at_least: dict[str, int], prefix: str = "") -> None:
    """Refuse settings out of range with every reason at once: settings that exist can be solved with."""
    problems = [message for ok, message in ranges if not ok]
    problems += [f"{prefix}{name} must be at least {low}, got {getattr(obj, name)}"
                 for name, low in at_least.items() if getattr(obj, name) < low]
    if problems:
        raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class ParallelTuning:
    """What the parallel (wall-clock) mode chooses where it differs from a deterministic round.  Deterministic
    rounds ignore these."""

    #: The settled pricing runs where it takes at most this share of the limit at nominal speed
    #: (:func:`solver.cpsat.pricing.settled_pricing_iterations`), so the round proves its reserve gap; 0 is off.
    pricing_share: float = 0.65
    #: In the pricing, every this many iterations is an exact flow; 0: only the last, the bound coming from the
    #: auctions' dual values, leaving the wall clock to the search.
    exact_every: int = 0
    #: The share of the search time left that the reserve stage gets when the welfare stage follows
    #: (:func:`solver.cpsat.search.parallel_stage_share`); the other stages share equally.
    reserve_share: float = 0.67
    #: Run the settings' ``portfolio`` and ``lns_task_seconds`` too; off, CP-SAT's default portfolio for two workers.
    portfolio: bool = True
    #: CP-SAT's presolve passes (``max_presolve_iterations``, 3 in CP-SAT): one leaves a short round more search.
    presolve_iterations: int = 1

    def __post_init__(self) -> None:
        _checks(self, [
            (0 <= self.pricing_share <= 1, f"parallel.pricing_share must be between 0 and 1, got {self.pricing_share}"),
            (0 < self.reserve_share < 1,
             f"parallel.reserve_share must be between 0 and 1 (both excluded), got {self.reserve_share}"),
        ], {"exact_every": 0, "presolve_iterations": 1}, prefix="parallel.")


@dataclass(frozen=True)
class SolverSettings:
    """Engine tuning: how the solver searches, never what it optimises.  Frozen and validated on creation, for
    every caller (command line, web form, JSON API, a recorded run).  ``preset`` names the preset the values
    started from (:data:`PRESETS`); :meth:`changed` lists where they differ from it."""

    preset: str = "default"
    workers: int = 2
    seed: int = 0
    #: Up to this many allowed pairs the model is exact; above it, see :func:`solver.cpsat.pairs.model_pairs`.
    full_model_pairs: int = 10_000
    #: Pairs kept per teacher among schools they are indifferent to (no list, or unlisted forced placement).
    indifferent_pairs: int = 6
    #: Above ``full_model_pairs``, this many Lagrangian iterations choose more pairs for the model where they fit
    #: in ``pricing_share`` of the time limit (:func:`solver.cpsat.pricing.pricing_iterations`); 0 is off.
    pricing_iterations: int = 150
    pricing_share: float = 0.15
    #: Where the full pricing does not fit, this many (if they fit in ``pricing_share``) give their last
    #: assignment's pairs to the model; deterministic rounds only; 0 is off.
    quick_pricing_iterations: int = 4
    #: Where the quick pricing would run, this many Lagrangian iterations run instead, charged as the quick
    #: pricing's were: their pairs join the model and their bound is the reserve stage's proven bound; 0 is off.
    settled_pricing_iterations: int = 100
    #: Relaxed assignments by auction within this many thousandths of a weight unit per teacher of the maximum
    #: (:mod:`solver.auction`); 0 is an exact flow every iteration.
    auction_eps: int = 100
    #: Where pairs are priced, a second warm start guided by the pricing (:func:`solver.cpsat.pricing.guided_start`).
    guided_start: bool = True
    #: The CP-SAT workers a search runs (:data:`PORTFOLIOS`).
    portfolio: str = "pseudo_costs_lns"
    #: Tasks per batch of a deterministic search: 1 runs them one at a time (a replay gives exactly the same
    #: placements); 0 is CP-SAT's default, one per worker side by side, whose last batch depends on thread timing.
    interleave_batch: int = 1
    #: Deterministic seconds CP-SAT gives each LNS task at first (``lns_initial_deterministic_limit``, 0.1 in CP-SAT).
    lns_task_seconds: float = 0.01
    #: Lagrangian iterations of the reserve stage run on the core a one-task-at-a-time search leaves idle
    #: (:class:`solver.cpsat.pricing.BoundBesideSearch`); they change no placement.  0 is off.
    bound_beside_search: int = 100
    #: Up to this many allowed pairs each stage's gap is also reported against the LP bound with seniority.
    lp_bound_pairs: int = 10_000
    #: Above ``lp_bound_pairs``, seconds spent after the search tightening the bounds by Lagrangian relaxation of
    #: R-SENIORITY; 0 is off.  Outside the time limit: it changes no placement, only what is proven about it.
    bound_seconds: float = 0.0
    #: CP-SAT's LP relaxation strength (0-2).
    linearization_level: int = 1
    #: What the parallel mode chooses where it differs.
    parallel: ParallelTuning = field(default_factory=ParallelTuning)

    def __post_init__(self) -> None:
        if isinstance(self.parallel, dict):  # as read from JSON
            object.__setattr__(self, "parallel", ParallelTuning(**self.parallel))
        _checks(self, [
            (self.preset in PRESET_NAMES,
             f"settings preset must be one of {', '.join(PRESET_NAMES)}, got {self.preset!r}"),
            (0 <= self.bound_seconds < math.inf,
             f"bound_seconds must be 0 (off) or a positive, finite number of seconds, got {self.bound_seconds}"),
            (0 <= self.pricing_share <= 1, f"pricing_share must be between 0 and 1, got {self.pricing_share}"),
            (0 < self.lns_task_seconds < math.inf,
             f"lns_task_seconds must be a positive, finite number of seconds, got {self.lns_task_seconds}"),
            (self.portfolio in PORTFOLIOS, f"portfolio must be one of {', '.join(PORTFOLIOS)}, got {self.portfolio!r}"),
        ], {"workers": 1, "pricing_iterations": 0, "quick_pricing_iterations": 0, "auction_eps": 0,
            "settled_pricing_iterations": 0, "full_model_pairs": 0, "interleave_batch": 0, "bound_beside_search": 0,
            "indifferent_pairs": 0, "lp_bound_pairs": 0, "linearization_level": 0})

    def with_(self, **changes: Any) -> "SolverSettings":
        """These settings with some values changed (``parallel`` may be given as a dict of its changes)."""
        if isinstance(changes.get("parallel"), dict):
            changes["parallel"] = replace(self.parallel, **changes["parallel"])
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown solver setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def changed(self) -> dict[str, object]:
        """The values that differ from this settings' preset (``parallel.x`` for the parallel mode's)."""
        base = asdict(PRESETS[self.preset])
        mine = asdict(self)
        out = {k: v for k, v in mine.items() if k not in ("preset", "parallel") and v != base[k]}
        out |= {f"parallel.{k}": v for k, v in mine["parallel"].items() if v != base["parallel"][k]}
        return out

    def describe(self) -> str:
        """The preset's name and what differs from it, as a figure line shows it."""
        changed = self.changed()
        return self.preset + (f" ({', '.join(f'{k}={v}' for k, v in changed.items())})" if changed else "")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SolverSettings":
        """Settings as recorded; a value it lacks, or a field it has that no longer exists, is an error (one
        migration brings recorded runs to today's fields, not a chain at load time)."""
        names = {f.name for f in fields(cls)}
        missing, unknown = names - set(data), set(data) - names
        if missing or unknown:
            raise ValueError("recorded solver settings do not match this version's: "
                             + "; ".join(part for part in (f"missing {', '.join(sorted(missing))}" if missing else "",
                                                           f"unknown {', '.join(sorted(unknown))}" if unknown else "")
                                         if part))
        parallel = data["parallel"]
        if not isinstance(parallel, dict) or set(parallel) != {f.name for f in fields(ParallelTuning)}:
            raise ValueError("recorded solver settings' parallel tuning does not match this version's")
        return cls(**{**data, "parallel": ParallelTuning(**parallel)})

    def for_mode(self, mode: SearchMode) -> "Engine":
        """These settings resolved for a search mode: what the engine reads."""
        reproducible = mode.reproducible
        p = self.parallel
        tuned = reproducible or p.portfolio
        return Engine(
            reproducible=reproducible, workers=self.workers, seed=self.seed,
            linearization_level=self.linearization_level, full_model_pairs=self.full_model_pairs,
            indifferent_pairs=self.indifferent_pairs, pricing_iterations=self.pricing_iterations,
            pricing_share=self.pricing_share, quick_pricing_iterations=self.quick_pricing_iterations,
            settled_pricing_iterations=self.settled_pricing_iterations,
            settled_pricing_share=None if reproducible else p.pricing_share,
            auction_eps=self.auction_eps,
            exact_every=REPRODUCIBLE_EXACT_EVERY if reproducible else p.exact_every,
            reserve_share=None if reproducible else p.reserve_share,
            guided_start=self.guided_start,
            ignore_subsolvers=PORTFOLIOS[self.portfolio] if tuned else None,
            lns_task_seconds=self.lns_task_seconds if tuned else None,
            interleave_batch=self.interleave_batch if reproducible else None,
            presolve_iterations=None if reproducible else p.presolve_iterations,
            bound_beside_search=self.bound_beside_search, lp_bound_pairs=self.lp_bound_pairs,
            bound_seconds=self.bound_seconds)


@dataclass(frozen=True)
class Engine:
    """The settings a round runs with, resolved for its search mode (:meth:`SolverSettings.for_mode`): the engine
    asks these instead of branching on the mode.  ``None`` means CP-SAT's own default, or not used in this mode."""

    reproducible: bool
    workers: int
    seed: int
    linearization_level: int
    full_model_pairs: int
    indifferent_pairs: int
    pricing_iterations: int
    pricing_share: float
    quick_pricing_iterations: int
    settled_pricing_iterations: int
    #: parallel rounds: the share of the limit the settled pricing may take (deterministic ones run it where the
    #: quick pricing would)
    settled_pricing_share: float | None
    auction_eps: int
    exact_every: int
    #: parallel rounds: the reserve stage's share of the search time left when welfare follows
    reserve_share: float | None
    guided_start: bool
    #: CP-SAT workers skipped; None: CP-SAT's default portfolio
    ignore_subsolvers: tuple[str, ...] | None
    lns_task_seconds: float | None
    #: deterministic rounds: tasks per interleaved batch
    interleave_batch: int | None
    #: parallel rounds: CP-SAT's presolve passes
    presolve_iterations: int | None
    bound_beside_search: int
    lp_bound_pairs: int
    bound_seconds: float


#: Named settings.  ``default``: today's engine.  ``first_recorded``: the engine of the first recorded runs, before
#: each knob existed (the values a run recorded then replays with).  ``side_by_side``: today's engine with CP-SAT's
#: tasks run two at a time (``place --side-by-side``; a replay may differ where the last batch stopped).
#: ``quick``: no pricing and no bound work, for tests and short trials on small pools.  A preset is never
#: redefined: a recorded run stores its values anyway, and the name says where they came from.
PRESETS: dict[str, SolverSettings] = {}
PRESET_NAMES = ("default", "first_recorded", "side_by_side", "quick")
PRESETS["default"] = SolverSettings()
PRESETS["first_recorded"] = SolverSettings(
    preset="first_recorded", pricing_iterations=0, quick_pricing_iterations=0, settled_pricing_iterations=0,
    guided_start=False, lns_task_seconds=0.1, interleave_batch=0, bound_beside_search=0, auction_eps=0,
    portfolio="full",
    parallel=ParallelTuning(pricing_share=0.0, exact_every=10, reserve_share=0.5, portfolio=False,
                            presolve_iterations=3))
PRESETS["side_by_side"] = SolverSettings(preset="side_by_side", interleave_batch=0)
PRESETS["quick"] = SolverSettings(preset="quick", pricing_iterations=0, quick_pricing_iterations=0,
                                  settled_pricing_iterations=0, bound_beside_search=0)


def preset(name: str) -> SolverSettings:
    """A named preset; an unknown name says which exist."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown solver settings preset {name!r}: choose one of {', '.join(PRESETS)}") from None
