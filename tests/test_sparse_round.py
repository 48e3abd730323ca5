"""A pool over the dense instance's limit (a state) is placed, explained, measured, audited and recorded through
the sparse round (solver/sparse_round.py): the same answers as the dense instance would give for the same
placement, on districts small enough to build both."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

import solver
from solver.audit import seniority_audit
from solver.checker import check
from solver.figures import compute
from solver.instance import Instance
from solver.policy import SCENARIOS
from solver.result import to_result
from solver.sparse import STAGES, best_deferred_acceptance, relaxation_bound
from solver.sparse_round import ListedInstance
from staffing.seed import generate
from tests.conftest import ROOT
from tests.test_sparse import every_rule_district


@pytest.mark.parametrize("make,scenario", [(lambda: generate("small", 7), "district_rules"),
                                           (lambda: generate("region", 3), "all_mutual_consent"),
                                           (lambda: every_rule_district(5), "district_rules"),
                                           (lambda: every_rule_district(6), "all_traditional")])
def test_the_listed_instance_explains_measures_and_audits_a_placement_as_the_dense_one_does(make, scenario):
    d, policy = make(), SCENARIOS[scenario]
    listed, dense = ListedInstance(d, policy), Instance(d, policy)
    # the indifferent pairs are not listed (all mutual consent has none) ...
    assert len(listed.edges) <= len(dense.edges) and (len(listed.edges) < len(dense.edges)) == (scenario != "all_mutual_consent")
    for e in dense.edges:  # ... yet every pair is answered as the dense instance answers it
        assert listed.edge(e.teacher_id, e.group) == e
    for tid in d.teachers:
        assert sorted(listed.allowed_groups(tid).tolist()) == sorted(dense.allowed_groups(tid).tolist())
        assert listed.may_be_placed(tid) == dense.may_be_placed(tid)
    placement = listed.placement(best_deferred_acceptance(listed.sparse)[0])
    for stage in STAGES:
        assert listed.value_of(placement, stage) == dense.value_of(placement, stage)
    mine, theirs = to_result(listed, placement, "cpsat"), to_result(dense, placement, "cpsat")
    assert mine.assignments == theirs.assignments  # posts, kinds and reasons, placed and unplaced
    assert any(a.vacancy_id is None for a in mine.assignments)
    assert seniority_audit(d, mine, listed) == seniority_audit(d, theirs, dense)
    assert compute(listed, mine) == compute(dense, theirs)


def test_a_pool_over_the_limit_is_placed_on_the_sparse_instance_without_listing_its_indifferent_pairs(monkeypatch):
    d, policy = every_rule_district(5), SCENARIOS["district_rules"]
    monkeypatch.setattr(solver, "DENSE_PAIRS_LIMIT", solver.indifferent_pairs(d, policy) - 1)
    built = []
    monkeypatch.setattr(solver, "Instance", lambda *a: built.append(a))
    inst = solver.build_instance(d, policy)
    result = solver.solve(d, policy, instance=inst)
    assert built == [] and isinstance(inst, ListedInstance)
    assert check(d, result.assignments, policy) == []
    start, _ = best_deferred_acceptance(inst.sparse)
    figures = result.solve
    assert figures.solver == "sparse" and figures.reproducible is True
    # the window search starts from the best deferred acceptance and never ends lexicographically worse
    before = [inst.sparse.placement_values(start, stage) for stage in STAGES]
    after = [figures.stages[stage].objective for stage in STAGES]
    assert figures.window_search.before == before and after >= before
    placement = {a.teacher_id: inst.vacancy_group[a.vacancy_id].index for a in result.placed}
    for stage in STAGES:  # each stage's value at the placement recorded, and the relaxation bound that proves its gap
        row = figures.stages[stage]
        assert row.objective == inst.value_of(placement, stage)
        assert row.relaxation_bound == relaxation_bound(inst.sparse, stage) >= row.objective
    again = solver.solve(d, policy, instance=solver.build_instance(d, policy))  # reproducible: the same answer
    assert again.assignments == result.assignments
    assert [p.stage for p in figures.proven_gaps()] == list(STAGES)
    # teacher-proposing deferred acceptance runs on it too; the baselines that need every pair say why not
    assert check(d, solver.solve(d, policy, "teacher_da", instance=inst).assignments, policy) == []
    with pytest.raises(ValueError, match="school_da baseline needs every teacher-post pair listed"):
        solver.solve(d, policy, "school_da", instance=inst)


def test_place_records_a_pool_over_the_limit_as_a_lawful_run_that_replays_exactly(tmp_path, monkeypatch, db_url):
    from staffing.cli import app
    from staffing.db import session_scope
    from staffing.db_models import Placement, PlacementRun

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STAFFING_DATABASE_URL", db_url)
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(ROOT / "seed_data" / "small")]).exit_code == 0
    monkeypatch.setattr(solver, "DENSE_PAIRS_LIMIT", 10)
    placed = runner.invoke(app, ["place", "--time-limit", "5", "--out", "p.csv"])
    assert placed.exit_code == 0, placed.output
    assert "on the sparse instance" in placed.output and "flow relaxation without seniority" in placed.output
    assert "rule_violations" in placed.output and "WARNING" not in placed.output
    with session_scope(db_url) as session:
        run = session.exec(select(PlacementRun)).one()
        assert run.status == "done"
        rows = session.exec(select(Placement).where(Placement.run_id == run.id)).all()
        assert rows and all(r.reason for r in rows)
    replay = runner.invoke(app, ["replay", "1", "--quiet"])
    assert replay.exit_code == 0 and "reproduces all placements" in replay.output, replay.output
    audit = runner.invoke(app, ["audit", "--run", "1", "--out", "audit.csv"])
    assert audit.exit_code == 0, audit.output
    refused = runner.invoke(app, ["place", "--method", "school_da"])
    assert refused.exit_code == 2 and "needs every teacher-post pair listed" in refused.output
