"""A round's solve figures, typed: per stage its objective, bounds and gaps; per round its timings and sizes.

One place defines them and how a reader sees them (:data:`FIGURES`, :func:`describe`), for the command line and
the HR run page alike.  Stored as JSON in a run's ``figures_json["solve"]`` (:meth:`SolveFigures.to_dict`);
:meth:`SolveFigures.from_dict` reads runs recorded by any version (missing figures are None, unknown ignored).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypeVar

_T = TypeVar("_T")


def gap(bound: int, value: int) -> float:
    """How far ``value`` falls short of ``bound``, as a share of the bound (every gap the solver reports)."""
    return abs(bound - value) / max(1, abs(bound))


def _known(cls: type[_T], data: object) -> _T | None:
    """``cls`` from the keys of ``data`` it knows (missing ones take their default, unknown ones are dropped);
    None when ``data`` is not a mapping (a figure a round did not compute)."""
    if not isinstance(data, dict):
        return None
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class StageFigures:
    """One lexicographic stage (or the weighted objective): the value found and every bound proven for it.

    Every stage maximises, so a bound is at least the objective; a bound the round did not compute is None.
    ``model_bound`` is CP-SAT's bound on the pairs its model kept, the others hold for the whole problem."""
    objective: int = 0
    model_bound: int | None = None
    gap: float | None = None
    relaxation_bound: int | None = None
    relaxation_gap: float | None = None
    lp_bound: int | None = None
    lp_gap: float | None = None
    lagrangian_bound: int | None = None
    lagrangian_gap: float | None = None
    lagrangian_iterations: int | None = None
    lagrangian_seconds: float | None = None
    optimal_components: int | None = None
    components: int | None = None
    seconds: float | None = None
    #: CP-SAT's own measure of the search's work: a deterministic replay repeats it
    deterministic_seconds: float | None = None
    #: searches the wall-clock cap may have ended (deterministic rounds only)
    cut_by_wall_clock: int | None = None

    @property
    def proven_optimal_components(self) -> bool:
        return self.components is not None and self.optimal_components == self.components


@dataclass
class Sizes:
    """How big the round's instance and model were; each producer fills the sizes it has."""
    # the dense instance and its CP-SAT model
    pairs: int | None = None
    pairs_in_model: int | None = None
    groups: int | None = None
    components: int | None = None
    variables: int | None = None
    constraints: int | None = None
    largest_component_pairs: int | None = None
    # the sparse instance (solver.sparse)
    explicit_pairs: int | None = None
    classes: int | None = None
    memberships: int | None = None
    class_arcs: int | None = None
    dense_pairs: int | None = None


@dataclass
class PricingFigures:
    """The Lagrangian pricing of left-out pairs before the search (:mod:`solver.cpsat.pricing`)."""
    kind: str | None = None
    iterations: int | None = None
    seconds: float | None = None
    pairs_added: int | None = None
    #: iterations charged to a deterministic search's budget at nominal speed
    charged_iterations: int | None = None


@dataclass
class BesideFigures:
    """The reserve stage's Lagrangian bound computed on the core the search left idle."""
    iterations: int | None = None
    bound: int | None = None
    seconds: float | None = None
    #: seconds the round waited for it after its search
    waited: float | None = None


@dataclass
class WindowSearchFigures:
    """The sparse round's CP-SAT search, window by window (:mod:`solver.sparse_search`)."""
    passes: int | None = None
    windows: int | None = None
    windows_improved: int | None = None
    deterministic_seconds: float | None = None
    wall_seconds: float | None = None
    #: a window's search hit its wall-clock cap: the answer may not replay
    cut_by_wall_clock: bool | None = None
    #: stage values (must-place, reserve, welfare) before the search
    before: list[int] | None = None


@dataclass
class WarmStarts:
    """The candidate starts' stage values (must-place, reserve, welfare) and the one the round took."""
    used: str = ""
    candidates: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object) -> WarmStarts | None:
        """Today's shape, or the flat one of runs recorded before (``{name: values, ..., "used": name}``)."""
        if not isinstance(data, dict):
            return None
        candidates = data.get("candidates")
        if not isinstance(candidates, dict):
            candidates = {k: v for k, v in data.items() if k != "used" and isinstance(v, list)}
        return cls(str(data.get("used") or ""), {k: list(v) for k, v in candidates.items()})


@dataclass(frozen=True)
class ProvenGap:
    """How close one stage's answer is proven to be to the best lawful value of that stage."""
    stage: str
    objective: int
    bound: int
    #: which bound proves it (the label of one of :data:`WHOLE_PROBLEM_BOUNDS`, or CP-SAT's on an exact model)
    proven_by: str
    #: CP-SAT's gap on the pairs the model kept, where that is a different (smaller) statement; else None
    kept_pairs_gap: float | None = None

    @property
    def gap(self) -> float:
        return gap(self.bound, self.objective)


#: The bounds of a stage that hold for every lawful placement, not only for the pairs a model kept, in the order
#: a tie is settled.  CP-SAT's own bound (``model_bound``) joins them only when the model kept every pair.
WHOLE_PROBLEM_BOUNDS = ("lp_bound", "lagrangian_bound", "relaxation_bound")


@dataclass
class SolveFigures:
    """A round's figures.  A baseline's round has no stages; a CP-SAT round has the three lexicographic stages
    (or ``weighted``); a state-size round on the sparse instance has objectives and relaxation bounds only."""
    #: the engine: "cp-sat", or the baseline's name
    solver: str = ""
    #: the method asked for (``solver.METHODS``)
    method: str | None = None
    time_limit: float | None = None
    #: seconds from the start of the round to the end of its search and bounds
    wall_time: float | None = None
    build_time: float | None = None
    total_time: float | None = None
    #: the model kept only some allowed pairs: its own bound then holds for those pairs only
    restricted_pairs: bool | None = None
    optimal: bool | None = None
    reproducible: bool | None = None
    sizes: Sizes = field(default_factory=Sizes)
    stages: dict[str, StageFigures] = field(default_factory=dict)
    #: stages the warm start already met the relaxation bound of: not searched
    settled_by_relaxation: list[str] = field(default_factory=list)
    warm_starts: WarmStarts | None = None
    pricing: PricingFigures | None = None
    bound_beside_search: BesideFigures | None = None
    window_search: WindowSearchFigures | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> SolveFigures:
        """A run's figures as recorded by this or an earlier version; anything missing is None."""
        if not isinstance(data, dict):
            return cls()
        top = _known(cls, {k: v for k, v in data.items()
                           if k not in ("sizes", "stages", "settled_by_relaxation", "warm_starts", "pricing",
                                        "bound_beside_search", "window_search")}) or cls()
        # earlier runs kept the sizes beside the other round figures
        top.sizes = _known(Sizes, data.get("sizes") if isinstance(data.get("sizes"), dict) else data) or Sizes()
        stages = data.get("stages") if isinstance(data.get("stages"), dict) else {}
        top.stages = {name: row for name, raw in stages.items() if (row := _known(StageFigures, raw)) is not None}
        top.settled_by_relaxation = list(data.get("settled_by_relaxation") or [])
        # the first recorded sparse rounds named their warm starts "candidates"
        top.warm_starts = WarmStarts.from_dict(data.get("warm_starts", data.get("candidates")))
        top.pricing = _known(PricingFigures, data.get("pricing"))
        top.bound_beside_search = _known(BesideFigures, data.get("bound_beside_search"))
        top.window_search = _known(WindowSearchFigures, data.get("window_search"))
        return top

    @property
    def cut_by_wall_clock(self) -> int:
        """Searches, over all stages, that the wall-clock cap may have ended."""
        return sum(s.cut_by_wall_clock or 0 for s in self.stages.values())

    def proven_gaps(self) -> list[ProvenGap]:
        """Each stage's tightest bound valid for the whole problem, and the gap it proves.

        A run's figures carry up to four bounds per stage, and only some hold for every lawful placement
        (CP-SAT's bound of a restricted model holds for the pairs it kept).  Every stage maximises, so the
        tightest is the smallest.  A run recorded without ``restricted_pairs`` is taken as restricted."""
        exact = self.restricted_pairs is False
        out = []
        for name, stage in self.stages.items():
            bounds = [(stage.model_bound, "model_bound")] if exact and stage.model_bound is not None else []
            bounds += [(b, key) for key in WHOLE_PROBLEM_BOUNDS if (b := getattr(stage, key)) is not None]
            if not bounds:
                continue
            bound, key = min(bounds, key=lambda b: b[0])  # on a tie, the first named
            out.append(ProvenGap(name, stage.objective, bound, FIGURES[key].label, None if exact else stage.gap))
        return out

    def proven_gap(self, stage: str) -> ProvenGap | None:
        return next((p for p in self.proven_gaps() if p.stage == stage), None)


# --- how a reader sees them -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A figure's name for a reader and how its value is written: ``count`` (an integer with thousands
    separators), ``number`` (as short as exact), ``percent`` (a share), ``seconds``, ``flag`` (yes/no)."""
    label: str
    style: Literal["count", "number", "percent", "seconds", "flag"] = "count"

    def format(self, value: object) -> str:
        if value is None:
            return "not computed"
        if self.style == "percent":
            return f"{value:.2%}"
        if self.style in ("seconds", "number"):
            return f"{value:g}" + (" s" if self.style == "seconds" else "")
        if self.style == "flag":
            return "yes" if value else "no"
        return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


#: Every solve figure a reader sees, by its attribute name (stage and round figures share the names' space).
FIGURES: dict[str, Figure] = {
    # a stage
    "objective": Figure("objective"),
    "model_bound": Figure("CP-SAT's bound"),
    "gap": Figure("gap", "percent"),
    "relaxation_bound": Figure("flow relaxation without seniority"),
    "relaxation_gap": Figure("gap", "percent"),
    "lp_bound": Figure("LP bound with seniority"),
    "lp_gap": Figure("gap", "percent"),
    "lagrangian_bound": Figure("Lagrangian bound with seniority"),
    "lagrangian_gap": Figure("gap", "percent"),
    "lagrangian_iterations": Figure("Lagrangian iterations"),
    "lagrangian_seconds": Figure("Lagrangian time", "seconds"),
    "seconds": Figure("searched", "seconds"),
    "deterministic_seconds": Figure("deterministic", "number"),
    "cut_by_wall_clock": Figure("searches cut by the wall clock"),
    # a round
    "wall_time": Figure("wall time", "seconds"),
    "build_time": Figure("instance built in", "seconds"),
    "total_time": Figure("total time", "seconds"),
    "time_limit": Figure("time limit", "seconds"),
    "pairs": Figure("allowed pairs"),
    "pairs_in_model": Figure("pairs in the model"),
    "optimal": Figure("proven optimal", "flag"),
    "pairs_added": Figure("pairs added"),
    "iterations": Figure("Lagrangian iterations"),
    "waited": Figure("waited", "seconds"),
    "reproducible": Figure("reproducible", "flag"),
    "explicit_pairs": Figure("listed pairs"),
    "classes": Figure("classes of interchangeable teachers"),
    "memberships": Figure("memberships"),
    "class_arcs": Figure("class arcs"),
    "dense_pairs": Figure("pairs the dense instance would list"),
}

#: A stage's bounds and their gaps, in the order a stage's line gives them.
STAGE_BOUNDS = (("model_bound", "gap"), ("relaxation_bound", "relaxation_gap"), ("lp_bound", "lp_gap"),
                ("lagrangian_bound", "lagrangian_gap"))


def show(name: str, value: object) -> str:
    """One figure's value as a reader sees it (:data:`FIGURES`)."""
    return FIGURES[name].format(value)


def describe_stage(name: str, stage: StageFigures) -> str:
    """One stage in a line: its objective, each bound computed with its gap, and the search's work."""
    parts = [f"{FIGURES['objective'].label} {show('objective', stage.objective)}"]
    for bound, gap_name in STAGE_BOUNDS:
        value = getattr(stage, bound)
        if value is None:
            continue
        text = f"{FIGURES[bound].label} {show(bound, value)}"
        if (g := getattr(stage, gap_name)) is not None:
            extra = (f", {show('lagrangian_iterations', stage.lagrangian_iterations)} iterations in "
                     f"{show('lagrangian_seconds', stage.lagrangian_seconds)}"
                     if bound == "lagrangian_bound" and stage.lagrangian_iterations is not None else "")
            text += f" (gap {show(gap_name, g)}{extra})"
        parts.append(text)
    if stage.seconds:
        work = (f" ({show('deterministic_seconds', stage.deterministic_seconds)} "
                f"{FIGURES['deterministic_seconds'].label})"
                if stage.deterministic_seconds is not None else "")
        parts.append(f"{FIGURES['seconds'].label} {show('seconds', stage.seconds)}{work}")
    return f"{name:<10} " + ", ".join(parts)


def describe(solve: SolveFigures) -> list[str]:
    """A round's figures in lines, as the command line prints them and the HR run page lists them: the round's
    (:func:`describe_round`), then one per stage (:func:`describe_stage`)."""
    return describe_round(solve) + [describe_stage(name, stage) for name, stage in solve.stages.items()]


def describe_round(solve: SolveFigures) -> list[str]:
    """The round's own figures in lines: time and sizes, pricing, the bound beside the search, warm starts."""
    lines = []
    head = []
    if solve.wall_time is not None:
        head.append(f"{FIGURES['wall_time'].label} {show('wall_time', solve.wall_time)}")
    sizes = solve.sizes
    if sizes.pairs_in_model is not None:
        head.append(f"{show('pairs_in_model', sizes.pairs_in_model)} of {show('pairs', sizes.pairs)} "
                    f"{FIGURES['pairs'].label} in the model")
    sparse = [f"{show(k, v)} {FIGURES[k].label}" for k in ("explicit_pairs", "classes", "memberships", "class_arcs",
                                                             "dense_pairs") if (v := getattr(sizes, k)) is not None]
    if sparse:
        head.append(f"on the sparse instance ({', '.join(sparse)})")
    if solve.optimal is not None:
        head.append("proven optimal" if solve.optimal else "not proven optimal")
    if head:
        lines.append(f"solver {solve.solver}: " + ", ".join(head))
    if p := solve.pricing:
        charged = ("" if p.charged_iterations in (None, p.iterations)
                   else f", {show('iterations', p.charged_iterations)} of them charged to the search's budget")
        lines.append(f"pricing: {show('pairs_added', p.pairs_added)} pairs added by "
                     f"{show('iterations', p.iterations)} Lagrangian iterations ({show('seconds', p.seconds)}{charged})")
    if b := solve.bound_beside_search:
        lines.append(f"bound beside the search: {show('iterations', b.iterations)} Lagrangian iterations in "
                     f"{show('seconds', b.seconds)} on the core the search left idle (reserve bound "
                     f"{show('lagrangian_bound', b.bound)}; the round waited {show('waited', b.waited)} for them)")
    if (ws := solve.window_search) is not None:
        before = "/".join(f"{v:,}" for v in ws.before or ())
        lines.append(f"window search: {ws.windows_improved} of {ws.windows} windows improved in {ws.passes} pass(es), "
                     f"{show('deterministic_seconds', ws.deterministic_seconds)} deterministic s "
                     f"({show('wall_time', ws.wall_seconds)}); before it (must-place/reserve/welfare) {before}")
    if (w := solve.warm_starts) and w.candidates:
        values = ", ".join(f"{name.replace('_', ' ')} {'/'.join(f'{v:,}' for v in vs)}"
                           for name, vs in w.candidates.items())
        lines.append(f"warm start: {w.used.replace('_', ' ')} (must-place/reserve/welfare: {values})")
    return lines


def describe_gap(proven: ProvenGap) -> str:
    """One stage's proven gap in words, as the command line and the HR run page give it."""
    if proven.bound == proven.objective:
        return f"{proven.stage} {proven.objective:,}: proven optimal ({proven.proven_by} {proven.bound:,})"
    kept = ("" if proven.kept_pairs_gap is None
            else "; the best placement on the pairs the model kept" if proven.kept_pairs_gap == 0
            else f"; within {proven.kept_pairs_gap:.2%} of CP-SAT's bound on the pairs the model kept")
    return (f"{proven.stage} {proven.objective:,}: proven within {proven.gap:.2%} of the best lawful value "
            f"({proven.proven_by} {proven.bound:,}{kept})")
