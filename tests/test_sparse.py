"""The sparse instance (solver/sparse.py) against the dense one, and its size against the number of teachers."""

from __future__ import annotations

import pytest

from solver.checker import check
from solver.instance import Instance
from solver.matching import relaxation_bound as dense_relaxation_bound
from solver.policy import SCENARIOS
from solver.sparse import (GUIDES, STAGES, SparseInstance, assignments, best_deferred_acceptance, deferred_acceptance,
                           lexicographic_values, relaxation, relaxation_bound)
from staffing.seed import SeedSize, generate
from tests.builders import district, teacher


@pytest.mark.parametrize("size,scenario", [("small", "district_rules"), ("region", "district_rules"), ("region", "all_traditional"),
                                           ("region", "all_mutual_consent"), ("city", "la_today")])
def test_sparse_instance_holds_the_dense_pairs_and_bounds_and_its_deferred_acceptance_is_lawful(size, scenario):
    d, policy = generate(size, 3), SCENARIOS[scenario]
    sp, inst = SparseInstance(d, policy), Instance(d, policy)
    assert sp.sizes.dense_pairs == len(inst.edges)
    assert sp.sizes.pairs <= len(inst.edges) or len(inst.edges) < 1000
    for stage in STAGES:
        assert relaxation_bound(sp, stage) == dense_relaxation_bound(inst, inst.stage_values(stage))
    placed = deferred_acceptance(sp)
    rows = assignments(sp, placed)
    assert check(d, rows, policy) == []
    for row in rows:  # the kind recorded is the dense instance's first kind of the pair
        g = inst.vacancy_group[row.vacancy_id].index
        assert row.kind == inst.edge(row.teacher_id, g).kind
    placement = {a.teacher_id: inst.vacancy_group[a.vacancy_id].index for a in rows}
    for stage in STAGES:
        value = sum(int(inst.stage_values(stage)[inst.position(t, g)]) for t, g in placement.items())
        assert sp.placement_values(placed, stage) == value <= relaxation_bound(sp, stage)


def test_deferred_acceptance_gives_a_return_right_before_a_more_senior_must_place_teacher():
    d = district({"S1": "traditional", "S2": "traditional"},
                 [teacher("RR", since="2015-01-01", return_to="S1"), teacher("MP", since="2000-01-01", must_place=True),
                  teacher("NL", since="1990-01-01", status="new_hire")],
                 {"V1": ("S1", "MATH"), "V2": ("S2", "MATH")}, prefs={"RR": ["S1"], "MP": ["S1"]})
    sp = SparseInstance(d)
    placed = dict(zip(sp.teacher_ids, deferred_acceptance(sp).tolist()))
    rows = {a.teacher_id: a for a in assignments(sp, deferred_acceptance(sp))}
    assert rows["RR"].vacancy_id == "V1" and rows["RR"].kind == "return_right"
    # MP is forced into S2 (must-place, unlisted); NL, without a list, could be assigned to either, but a new
    # hire comes after a must-place teacher whatever their seniority
    assert rows["MP"].vacancy_id == "V2" and rows["MP"].kind == "forced"
    assert placed["NL"] == -1
    assert check(d, list(rows.values())) == []


def scaled(teachers: int) -> SeedSize:
    """The state's proportions (6,000 schools, 52,000 posts per 50,000 teachers) at another size."""
    return SeedSize(schools=teachers * 6 // 50, teachers=teachers, vacancies=teachers * 52 // 50,
                    regions=max(3, teachers * 40 // 50_000))


def test_sparse_pairs_grow_linearly_with_teachers_where_dense_pairs_grow_quadratically():
    sizes = {n: SparseInstance(generate(scaled(n), 1)).sizes for n in (5_000, 10_000, 20_000)}
    for n in (10_000, 20_000):
        ratio = n / 5_000
        assert sizes[n].pairs <= 1.15 * ratio * sizes[5_000].pairs
        assert sizes[n].dense_pairs >= 1.5 * ratio * sizes[5_000].dense_pairs  # what the dense instance enumerates


@pytest.mark.parametrize("size,scenario", [("region", "district_rules"), ("city", "pilots_no_forced")])
def test_guided_deferred_acceptance_is_lawful_and_no_worse_than_plain(size, scenario):
    d, policy = generate(size, 4), SCENARIOS[scenario]
    sp = SparseInstance(d, policy)
    placed, info = best_deferred_acceptance(sp)
    assert check(d, assignments(sp, placed), policy) == []
    plain = deferred_acceptance(sp)
    assert info["deferred_acceptance"] == [sp.placement_values(plain, s) for s in STAGES]
    assert info[info["used"]] == [sp.placement_values(placed, s) for s in STAGES] >= info["deferred_acceptance"]
    for name in GUIDES:  # each guided answer is stable too, and within the relaxation bounds
        guided = deferred_acceptance(sp, relaxation(sp, *lexicographic_values(sp, GUIDES[name]))[1])
        assert check(d, assignments(sp, guided), policy) == []
        assert all(v <= relaxation_bound(sp, s) for v, s in zip(info[name], STAGES))


def test_a_pool_too_large_for_the_dense_instance_is_refused_with_the_reason_before_it_is_built(monkeypatch):
    import solver

    d = generate("small", 7)
    estimate = solver.indifferent_pairs(d)
    sp = SparseInstance(d)
    # the estimate never undercounts the class pairs the dense instance lists
    class_pairs = int((sp.class_ptr[sp.m_class + 1] - sp.class_ptr[sp.m_class]).sum())
    assert estimate >= class_pairs
    monkeypatch.setattr(solver, "DENSE_PAIRS_LIMIT", estimate - 1)
    built = []
    monkeypatch.setattr(solver, "Instance", lambda *a: built.append(a))
    with pytest.raises(ValueError, match=f"about {estimate:,} teacher-post pairs"):
        solver.solve(d)
    assert built == []


def test_place_refuses_a_pool_too_large_with_exit_code_2_and_records_nothing(tmp_path, monkeypatch, db_url):
    import solver
    from typer.testing import CliRunner

    from sqlmodel import select

    from staffing.cli import app
    from staffing.db import session_scope
    from staffing.db_models import PlacementRun
    from tests.conftest import ROOT

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STAFFING_DATABASE_URL", db_url)
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(ROOT / "seed_data" / "small")]).exit_code == 0
    monkeypatch.setattr(solver, "DENSE_PAIRS_LIMIT", 10)
    refused = runner.invoke(app, ["place", "--time-limit", "5"])
    assert refused.exit_code == 2 and "too large for a CP-SAT round" in refused.output
    with session_scope(db_url) as session:
        assert session.exec(select(PlacementRun)).all() == []
