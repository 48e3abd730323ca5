"""How a selection committee turns its members' ballots into the committee's ranking.

The rule is the school model's ``committee_rule`` (rule table): ``principal`` — the principal decides, the
members advise; ``consensus`` (RULES.md, *Committees and interviews*) — no decision until a quorum, a majority
of the full roster, has voted; a candidate is acceptable when a majority of the full roster (not of the
ballots cast) lists them, and acceptable candidates are ordered by their Borda score (a first place on a
ballot of n is worth n points, the last 1), ties by how many ballots list them, then by id; ``district`` —
district staffing rules apply and the principal's ballot is the committee's list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence


class NoDecision(ValueError):
    """The ballots cast do not yet allow the committee's rule to decide."""


def committee_ranking(rule: str, ballots: Mapping[str, Sequence[str]], principals: set[str],
                      roster: int | None = None) -> list[str]:
    """The committee's ranking from ``ballots`` (voter -> candidates best first) under ``rule``; ``roster`` is
    the size of the full committee (None: the voters are the whole committee)."""
    if rule in ("principal", "district"):
        cast = [v for v in ballots if v in principals]
        if not cast:
            raise NoDecision("the principal has not cast a ballot for this vacancy yet")
        return list(ballots[sorted(cast)[0]])
    if rule != "consensus":
        raise ValueError(f"unknown committee rule {rule!r}")
    if not ballots:
        raise NoDecision("no committee member has cast a ballot for this vacancy yet")
    members = max(roster or 0, len(ballots))
    majority = members // 2 + 1
    if len(ballots) < majority:
        raise NoDecision(f"no quorum: {len(ballots)} of the committee's {members} members have voted, "
                         f"a decision needs {majority}")
    points: dict[str, int] = defaultdict(int)
    listed: dict[str, int] = defaultdict(int)
    for candidates in ballots.values():
        n = len(candidates)
        for position, tid in enumerate(candidates):
            points[tid] += n - position
            listed[tid] += 1
    acceptable = [tid for tid in points if listed[tid] >= majority]
    return sorted(acceptable, key=lambda tid: (-points[tid], -listed[tid], tid))
