"""CP-SAT search over windows on the sparse instance (solver/sparse_search.py): lawful, no worse, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from solver.checker import check
from solver.policy import SCENARIOS
from solver.sparse import STAGES, SparseInstance, assignments, best_deferred_acceptance, deferred_acceptance
from solver.sparse_search import improve, windows
from staffing.seed import generate
from tests.builders import district, teacher


def values(sp, placed):
    return tuple(sp.placement_values(placed, s) for s in STAGES)


@pytest.mark.parametrize("size,scenario,seed,max_posts", [
    ("region", "district_rules", 3, 200), ("region", "all_traditional", 4, 60), ("small", "district_rules", 7, 15),
    ("city", "la_today", 3, 120), ("region", "all_mutual_consent", 5, 200)])
def test_improved_placement_is_lawful_and_lexicographically_no_worse(size, scenario, seed, max_posts):
    d, policy = generate(size, seed), SCENARIOS[scenario]
    sp = SparseInstance(d, policy)
    # small windows: most envy crosses a window's edge, where fixed and movable teachers meet
    for start in (deferred_acceptance(sp), best_deferred_acceptance(sp)[0]):
        placed, stats = improve(sp, start, 0.5, max_posts=max_posts, max_class_candidates=20)
        assert check(d, assignments(sp, placed), policy) == []
        assert stats.before == values(sp, start) and stats.after == values(sp, placed)
        assert stats.after >= stats.before
        assert len(windows(sp, max_posts)) > 1 and stats.windows >= 1


def test_the_search_improves_plain_deferred_acceptance_on_a_generated_region():
    d, policy = generate("region", 3), SCENARIOS["district_rules"]
    sp = SparseInstance(d, policy)
    start = deferred_acceptance(sp)
    placed, stats = improve(sp, start, 2.0)
    assert stats.after > stats.before and stats.windows_improved >= 1


def test_improve_is_deterministic_and_leaves_its_input_alone():
    d, policy = generate("city", 3), SCENARIOS["la_today"]
    sp = SparseInstance(d, policy)
    start = deferred_acceptance(sp)
    kept = start.copy()
    a, sa = improve(sp, start, 1.0, max_posts=150)
    b, sb = improve(SparseInstance(d, policy), start, 1.0, max_posts=150)
    assert np.array_equal(a, b) and sa.after == sb.after and sa.reproducible
    assert np.array_equal(start, kept)


def test_a_consent_school_takes_the_displaced_teacher_the_committee_ranked_second():
    # la_lis: mutual consent, no seniority order; deferred acceptance follows the committee, the reserve stage
    # wants the displaced teacher (paid while unplaced) placed rather than the voluntary transfer (who keeps a post)
    d = district({"S1": "la_lis"}, [teacher("VT", status="voluntary_transfer"), teacher("DP", salary=80_000)],
                 {"V1": ("S1", "MATH")}, prefs={"VT": ["S1"], "DP": ["S1"]}, rankings={"V1": ["VT", "DP"]})
    sp = SparseInstance(d)
    start = deferred_acceptance(sp)
    assert start[sp.teacher_number["VT"]] >= 0 and start[sp.teacher_number["DP"]] < 0
    placed, stats = improve(sp, start, 1.0)
    rows = assignments(sp, placed)
    assert [(a.teacher_id, a.kind) for a in rows] == [("DP", "mutual_consent")]
    assert check(d, rows) == [] and stats.after > stats.before


def test_a_seniority_school_keeps_the_higher_priority_teacher_whatever_the_reserve_says():
    # traditional: seniority order; the new hire earns more, but a displaced teacher comes first (class b before d),
    # and the displaced teacher in the other window (at their second choice) must not be passed over either
    d = district({"S1": "traditional", "S2": "traditional"},
                 [teacher("DP", since="2015-01-01", salary=40_000), teacher("NH", since="2001-01-01", status="new_hire",
                                                                           salary=120_000)],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")}, prefs={"DP": ["S1", "S2"], "NH": ["S1"]})
    sp = SparseInstance(d)
    start = deferred_acceptance(sp)
    for max_posts in (1, 10):
        placed, _ = improve(sp, start, 1.0, max_posts=max_posts)
        rows = {a.teacher_id: a.vacancy_id for a in assignments(sp, placed)}
        assert rows == {"DP": "V1"}
        assert check(d, assignments(sp, placed)) == []


def test_a_teacher_outside_the_window_keeps_their_claim_on_a_seat_inside_it():
    # windows {A1, A2} and {B1}.  DP2 sits at B1, their second choice, because the more senior DP1 holds A1.  Inside
    # the first window the search could move DP1 (no list: every school alike) to A2 and give A1 to the well-paid
    # new hire NH, placing one more district employee -- but DP2, fixed outside the window, ranks A1 first and comes
    # before NH there, so that would be justified envy (R-SENIORITY).
    d = district({"A1": "traditional", "A2": "traditional", "B1": "traditional"},
                 [teacher("DP1", since="2000-01-01"), teacher("DP2", since="2010-01-01"),
                  teacher("NH", since="2012-01-01", status="new_hire", salary=150_000)],
                 {"VA1": ("A1", "MATH"), "VA2": ("A2", "MATH"), "VB1": ("B1", "MATH")},
                 prefs={"DP2": ["A1", "B1"], "NH": ["A1"]})
    sp = SparseInstance(d)
    group = {sp.school_ids[s]: g for g, s in enumerate(sp.g_school.tolist())}
    start = np.full(len(sp.teacher_ids), -1, np.int64)
    start[sp.teacher_number["DP1"]], start[sp.teacher_number["DP2"]] = group["A1"], group["B1"]
    assert check(d, assignments(sp, start)) == []  # a lawful start (NH unplaced)
    assert [list(sp.g_school[w]) for w in windows(sp, 2)] == [[0, 1], [2]]
    placed, stats = improve(sp, start, 1.0, max_posts=2)
    assert check(d, assignments(sp, placed)) == []
    assert placed[sp.teacher_number["NH"]] == -1 and stats.after == stats.before


@pytest.mark.parametrize("time_limit", [0.0, -1.0, float("inf"), float("nan")])
def test_a_budget_that_is_not_a_positive_finite_number_is_refused_with_the_reason(time_limit):
    sp = SparseInstance(generate("small", 7))
    with pytest.raises(ValueError, match="time_limit must be a positive, finite number"):
        improve(sp, deferred_acceptance(sp), time_limit)
    with pytest.raises(ValueError, match="one group \\(or -1\\) per teacher"):
        improve(sp, deferred_acceptance(sp)[:-1], 1.0)
