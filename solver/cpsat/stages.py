"""The lexicographic stages and their figures: what every step of a round reads and reports."""

from __future__ import annotations

from dataclasses import dataclass

from solver.instance import GroupPlacement, Instance
from solver.policy import Policy
from solver.solve_figures import gap

STAGES = ("must_place", "reserve", "welfare")


def stages_of(policy: Policy) -> tuple[str, ...]:
    """The stages a round searches: the three lexicographic ones, or one weighted objective."""
    return STAGES if policy.objective == "lexicographic" else ("weighted",)


@dataclass
class StageReport:
    objective: int = 0
    bound: int = 0
    optimal_components: int = 0
    components: int = 0
    seconds: float = 0.0
    #: CP-SAT's own measure of the work done; in deterministic mode the same snapshot and policy must give the
    #: same figure, so a replay that differs shows here whether the searches themselves went another way
    deterministic_seconds: float = 0.0
    #: components whose deterministic search the wall-clock cap may have ended
    #: (:func:`solver.cpsat.search.cut_by_wall_clock`)
    cut_by_wall_clock: int = 0

    @property
    def gap(self) -> float:
        return gap(self.bound, self.objective)


def stage_value(inst: Instance, placement: GroupPlacement, stage: str) -> int:
    """A stage objective evaluated at a placement."""
    return inst.value_of(placement, stage)


def trivial_bound(inst: Instance, teachers: list[str], stage: str) -> int:
    """Each teacher takes at most one post: the sum of their best pair values bounds any stage."""
    values = inst.stage_values(stage)
    return sum(max((int(values[inst.position(t, e.group)]) for e in inst.edges_by_teacher[t]), default=0)
               for t in teachers)


def stage_step(stage: str) -> str:
    """How progress names a stage's search: ``"must-place stage"``."""
    return f"{stage.replace('_', '-')} stage"
