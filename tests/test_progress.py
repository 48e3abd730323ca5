"""Progress of a round while it runs (solver.progress): what HR sees at the terminal and on the run page."""

from __future__ import annotations

import re

from solver import solve
from solver.cpsat import STAGES, stage_step
from solver.policy import Policy
from solver.progress import Throttled, describe
from staffing.seed import generate

#: a small round made to take every step a district takes: the model keeps a subset of the pairs, so the
#: relaxations and the pricing run, and the LP is left out, so the gap is proven by the Lagrangian afterwards
POLICY = Policy(time_limit=20).with_settings(full_model_pairs=0, indifferent_pairs=1, lp_bound_pairs=0,
                                             bound_seconds=1.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttled_passes_each_new_step_at_once_and_the_same_step_at_most_once_an_interval():
    heard: list[tuple[str, str]] = []
    clock = Clock()
    lines = Throttled(lambda step, detail: heard.append((step, detail)), 5.0, clock)
    lines("pricing pairs", "iteration 1")
    clock.now = 1.0
    lines("pricing pairs", "iteration 2")  # held: within the interval
    clock.now = 2.0
    lines("pricing pairs", "iteration 3")  # replaces the one held
    assert heard == [("pricing pairs", "iteration 1")]
    clock.now = 6.0
    lines("pricing pairs", "iteration 9")  # the interval has passed
    clock.now = 7.0
    lines("pricing pairs", "iteration 10")  # held, then passed on before the next step's first word
    lines("reserve stage", "searching")
    lines("reserve stage", "best 10 so far")
    assert heard == [("pricing pairs", "iteration 1"), ("pricing pairs", "iteration 9"),
                     ("pricing pairs", "iteration 10"), ("reserve stage", "searching")]
    lines.flush()
    lines.flush()  # nothing held any more: nothing more to say
    assert heard[-1] == ("reserve stage", "best 10 so far") and len(heard) == 5


def test_describe_reads_as_one_line():
    assert describe("warm start", "") == "warm start"
    assert describe("reserve stage", "best 5 so far") == "reserve stage: best 5 so far"


def test_a_round_reports_every_step_in_order_and_places_the_same_with_a_listener_as_without():
    district = generate("small", 3)
    heard: list[tuple[str, str]] = []
    listened = solve(district, POLICY, progress=lambda step, detail: heard.append((step, detail)))
    quiet = solve(district, POLICY)
    assert listened.assignments == quiet.assignments
    assert ({s: r.objective for s, r in listened.solve.stages.items()}
            == {s: r.objective for s, r in quiet.solve.stages.items()})

    steps = list(dict.fromkeys(step for step, _ in heard))  # in the order first heard
    searched = [stage_step(s) for s in STAGES]
    assert steps[:5] == ["building the instance", "warm start", "relaxation bounds", "pricing pairs", "building the model"]
    assert [s for s in steps if s in searched] == searched
    assert steps[-1] == "explaining placements"
    assert any(step.startswith("proving the") and step.endswith("gap") for step in steps)

    iterations = [int(m.group(1)) for step, detail in heard if step == "pricing pairs"
                  if (m := re.match(r"Lagrangian iteration (\d+) of \d+", detail))]
    assert iterations == list(range(1, listened.solve.pricing.iterations + 1))
    # a search reports each better placement it finds, component by component (those with a tenth of the pairs or
    # more: the others take moments); the last of each is what it kept, a part of the stage's value
    for stage in ("reserve", "welfare"):
        found: dict[str, list[int]] = {}
        for step, detail in heard:
            if step == stage_step(stage) and (m := re.match(r"best ([\d,]+) so far( \(component \d+)?", detail)):
                found.setdefault(m.group(2) or "", []).append(int(m.group(1).replace(",", "")))
        assert found and all(values == sorted(values) for values in found.values())
        assert 0 < sum(values[-1] for values in found.values()) <= listened.solve.stages[stage].objective
    components = {m.group(1) for _, detail in heard if (m := re.search(r"\(component (\d+) of", detail))}
    assert "1" in components and len(components) < listened.solve.sizes.components  # the small ones are not told
