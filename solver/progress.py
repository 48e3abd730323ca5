"""What a round is doing while it runs, for whoever waits on it.

Why: a district round takes minutes (``benchmarks/JOURNAL.md``), most of them in two CP-SAT searches and the
Lagrangian pricing before them.  HR at the command line or on the run page should see which step the round is
in and how far it has got, not a silent prompt or a spinner.

The solver stays a pure function: a progress listener only observes.  Nothing the solver decides reads it, and the
tests check that a round gives the same placements with a listener and without one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: ``listener(step, detail)``: ``step`` names the part of the round ("pricing pairs", "reserve stage"), ``detail``
#: says how far it has got ("iteration 40 of 100, reserve bound 252,900"), or is empty
Progress = Callable[[str, str], None]


def silent(step: str, detail: str = "") -> None:
    """The listener when nobody listens."""


def describe(step: str, detail: str = "") -> str:
    """One line a person reads: ``"pricing pairs: iteration 40 of 100"``."""
    return f"{step}: {detail}" if detail else step


class Throttled:
    """Passes a message on when its step differs from the last one passed on, or when ``interval`` seconds have gone
    by since then; otherwise keeps only the latest, which goes out before the next step's first message.

    Why: the pricing reports each of its iterations and a search each better placement it finds (up to a hundred a
    stage), and a terminal or a database row wants a line every few seconds, not every few milliseconds.  A step's
    last word is never lost: "reserve stage: best 251,903" shows even when it came a moment after the previous line.
    """

    def __init__(self, listener: Progress, interval: float, clock: Callable[[], float] = time.monotonic):
        self.listener, self.interval, self.clock = listener, interval, clock
        self.step: str | None = None
        self.sent_at = -float("inf")
        self.held: tuple[str, str] | None = None

    def __call__(self, step: str, detail: str = "") -> None:
        now = self.clock()
        if step == self.step and now - self.sent_at < self.interval:
            self.held = (step, detail)
            return
        if self.held is not None and step != self.step:
            self.listener(*self.held)
        self.held = None
        self.step, self.sent_at = step, now
        self.listener(step, detail)

    def flush(self) -> None:
        """Pass on the message held back, if any (at the end of the round)."""
        if self.held is not None:
            self.listener(*self.held)
            self.held = None
