"""The `staffing` command line of FORMATS.md, end to end on the shipped seed bundle."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from solver.policy import Policy
from staffing.cli import app
from staffing.db import session_scope
from staffing.runs import fail_run, start_run
from tests.conftest import ROOT

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch, db_url):
    """The command line on this test's database (each backend), run from an empty folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STAFFING_DATABASE_URL", db_url)
    return tmp_path


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_shipped_seed_bundle_is_what_the_generator_writes(env):
    assert run("seed", "--size", "small", "--seed", "7", "--out", "fresh").exit_code == 0
    for f in sorted((ROOT / "seed_data" / "small").glob("*.csv")):
        assert (env / "fresh" / f.name).read_text() == f.read_text(), f.name


def test_tradeoffs_writes_the_report_shows_a_progress_bar_and_refuses_bad_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no database: the analysis draws its own districts
    made = run("tradeoffs", "--draws", "2", "--time-limit", "0.5", "--scenario", "district_rules",
               "--scenario", "all_traditional", "--processes", "1", "--out", "report")
    assert made.exit_code == 0 and "wrote report/report.html (2 draw(s), 2 scenarios)" in made.stdout
    assert "4/4" in made.stderr  # the bar: scenarios x draws solved
    assert any(line.startswith("- All traditional against Today's rules: ") for line in made.stdout.splitlines())
    quiet = run("tradeoffs", "--draws", "1", "--time-limit", "0.5", "--scenario", "district_rules", "--quiet",
                "--processes", "1", "--out", "report")
    assert quiet.exit_code == 0 and not quiet.stderr
    for bad, message in ((["--city", "paris"], "unknown city 'paris'"), (["--draws", "0"], "--draws must be at least 1"),
                         (["--scenario", "nope"], "unknown scenario(s) nope")):
        refused = run("tradeoffs", *bad, "--out", "refused")
        assert refused.exit_code == 2 and message in refused.stderr, refused.stderr
    assert not (tmp_path / "refused").exists()


def test_import_place_audit_replay(env, db_url):
    assert run("import", str(ROOT / "seed_data" / "small")).exit_code == 0
    placed = run("place", "--time-limit", "5", "--out", "placements.csv")
    assert placed.exit_code == 0, placed.output
    assert "run 1" in placed.output and "must_place_placed" in placed.output
    assert " deterministic)" in placed.output  # the work each searched stage did, which a replay must repeat
    # the small round's model keeps every pair, so CP-SAT's own proof holds for the whole problem
    assert "  reserve 3,867: proven optimal (CP-SAT's bound 3,867)" in placed.output.splitlines()
    # what the solve was doing, on stderr with the seconds since the start; stdout keeps only the figures
    steps = [line.split("] ", 1)[1] for line in placed.stderr.splitlines()]
    assert steps[0] == "building the instance: 100 teachers, 110 vacancies"
    assert any(step.startswith("reserve stage: best ") for step in steps)
    assert steps[-1] == "seniority audit: every more senior teacher passed over, and why"
    assert all(re.match(r"  \[ *\d+ s\] ", line) for line in placed.stderr.splitlines())
    assert "building the instance" not in placed.stdout
    rows = read(env / "placements.csv")
    assert list(rows[0]) == ["teacher_id", "vacancy_id", "school_id", "kind", "reason"]
    assert len(rows) == 100
    assert {r["kind"] for r in rows if not r["vacancy_id"]} == {"unplaced"}
    audit = run("audit", "--out", "audit.csv")
    assert audit.exit_code == 0 and "0 violation(s)" in audit.output
    assert read(env / "audit.csv")[0]["lawful_reason"]
    replay = run("replay", "1", "--quiet")
    assert replay.exit_code == 0 and "reproduces all placements" in replay.output and not replay.stderr
    assert "welfare stage" in run("replay", "1").stderr
    assert "district_rules" in run("runs").output
    with session_scope(db_url) as session:  # a web run whose solver process crashed
        crashed = start_run(session, Policy(time_limit=5), "hr")
        fail_run(session, crashed.id, "the solver process stopped unexpectedly (signal SIGABRT)")
    listing = run("runs").output.splitlines()
    assert re.search(r"cpsat +draft · lawful +placed 71$", listing[0]), listing[0]
    assert listing[1].endswith("failed: the solver process stopped unexpectedly (signal SIGABRT)")
    assert run("placements", "--run", "1", "--out", "again.csv").exit_code == 0
    assert read(env / "again.csv") == rows
    fast = run("place", "--parallel", "--time-limit", "5", "--out", "fast.csv")
    assert fast.exit_code == 0 and "run 3" in fast.output
    bad = runner.invoke(app, ["place", "--time-limit", "0", "--out", "z.csv"])
    assert bad.exit_code == 2 and "time_limit must be a positive, finite number of seconds" in bad.output
    bad = runner.invoke(app, ["place", "--bound-seconds", "-1", "--out", "z.csv"])
    assert bad.exit_code == 2 and "bound_seconds must be 0 (off)" in bad.output and not (env / "z.csv").exists()


def test_bad_bundle_exits_2_lists_problems_and_writes_nothing(env, small_district):
    from staffing.bundle import write_bundle

    folder = write_bundle(small_district, env / "bad")
    lines = (folder / "vacancies.csv").read_text().splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0] + ",abc"  # line 5 of the file
    (folder / "vacancies.csv").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["import", str(folder)])
    assert result.exit_code == 2
    assert "vacancies.csv, line 5, column fte: expected a number, got 'abc'" in result.output
    assert "Traceback" not in result.output
    empty = runner.invoke(app, ["place", "--out", "p.csv"])
    assert empty.exit_code == 2 and "no open vacancies" in empty.output
    assert not (env / "p.csv").exists()


def test_second_import_needs_replace(env):
    assert run("import", str(ROOT / "seed_data" / "small")).exit_code == 0
    again = runner.invoke(app, ["import", str(ROOT / "seed_data" / "small")])
    assert again.exit_code == 2 and "--replace" in again.output
    assert run("import", "--replace", str(ROOT / "seed_data" / "small")).exit_code == 0


def test_unknown_scenario_and_missing_run_are_clear_errors(env):
    run("import", str(ROOT / "seed_data" / "small"))
    bad = runner.invoke(app, ["place", "--scenario", "anarchy", "--out", "p.csv"])
    assert bad.exit_code == 2 and "unknown scenario 'anarchy'" in bad.output
    missing = runner.invoke(app, ["audit", "--run", "42", "--out", "a.csv"])
    assert missing.exit_code == 2 and "placement run 42 does not exist" in missing.output


def test_export_then_import_into_an_empty_database_gives_the_same_district(env, db_url):
    from staffing.bundle import read_bundle
    from staffing.db import init_db, session_scope
    from staffing.store import load_district

    run("import", str(ROOT / "seed_data" / "small"))
    with session_scope(db_url) as s:
        original = load_district(s, open_only=False).snapshot_hash()
    assert run("export-bundle", "backup").exit_code == 0
    assert read_bundle(env / "backup").snapshot_hash() == original
    empty = f"sqlite:///{env / 'restored.db'}"
    init_db(empty)
    assert run("import", "backup", "--database-url", empty).exit_code == 0
    with session_scope(empty) as s:
        assert load_district(s, open_only=False).snapshot_hash() == original


def test_replay_notices_a_tampered_run(env, db_url):
    from sqlalchemy import update

    from staffing.db import session_scope
    from staffing.db_models import Placement

    run("import", str(ROOT / "seed_data" / "small"))
    run("place", "--time-limit", "5", "--out", "p.csv")
    with session_scope(db_url) as s:
        s.execute(update(Placement).where(Placement.run_id == 1, Placement.vacancy_id.is_not(None))
                  .values(vacancy_id=None, kind="unplaced"))
    replay = runner.invoke(app, ["replay", "1"])
    assert replay.exit_code == 1 and "differ on replay" in replay.output
    # the recorded placements are evaluated as they now stand, not taken from the recorded figures
    assert "must_place 0 ->" in replay.output and "exactly as good" not in replay.output


def _placements_by_group(db_url: str, run_id: int) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """A recorded run's (teacher, vacancy) placements by group: (school, certification)."""
    from sqlmodel import select

    from solver.instance import Instance
    from staffing.db_models import Placement
    from staffing.runs import get_run, run_snapshot

    with session_scope(db_url) as s:
        inst = Instance(*run_snapshot(get_run(s, run_id)))
        rows = s.exec(select(Placement).where(Placement.run_id == run_id, Placement.vacancy_id.is_not(None))).all()
        by_group: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for r in rows:
            group = inst.vacancy_group[r.vacancy_id]
            by_group.setdefault((group.school_id, group.certification), []).append((r.teacher_id, r.vacancy_id))
    return by_group


def _swap(db_url: str, run_id: int, a: tuple[str, str], b: tuple[str, str]) -> None:
    """Edit a recorded run: the teachers of placements ``a`` and ``b`` (teacher, vacancy) trade posts."""
    from sqlalchemy import update
    from sqlmodel import select

    from staffing.db_models import Placement

    with session_scope(db_url) as s:
        school = {t: s.exec(select(Placement.school_id).where(Placement.run_id == run_id, Placement.teacher_id == t))
                  .one() for t, _ in (a, b)}
        for (teacher, _), (other, vacancy) in ((a, b), (b, a)):
            s.execute(update(Placement).where(Placement.run_id == run_id, Placement.teacher_id == teacher)
                      .values(vacancy_id=vacancy, school_id=school[other]))


def test_a_replay_that_differs_says_whether_it_is_as_good_under_the_rules(env, db_url):
    """Two placements of equal value in every stage are equally lawful answers: an auditor must be able to
    tell that from a replay that found a worse (or a tampered record that shows a better) placement."""
    run("import", str(ROOT / "seed_data" / "small"))
    run("place", "--time-limit", "5", "--out", "p.csv")
    groups = _placements_by_group(db_url, 1)
    _swap(db_url, 1, *next(p[:2] for p in groups.values() if len(p) >= 2))  # the same placement under the rules
    replay = runner.invoke(app, ["replay", "1"])
    assert replay.exit_code == 1 and "2 placement(s) differ on replay" in replay.output
    assert "exactly as good under the rules in every stage" in replay.output
    assert "search work in deterministic seconds, recorded -> replayed: must_place" in replay.output
    assert "side by side" not in replay.output  # one task at a time: the search cannot be why
    # and a record edited into a placement the rules forbid (a teacher on another certification's post) says so
    by_cert = {cert: p[0] for (_, cert), p in groups.items()}
    _swap(db_url, 1, *list(by_cert.values())[:2])
    replay = runner.invoke(app, ["replay", "1"])
    assert "the recorded placements break the rules" in replay.output and "CERTIFICATION" in replay.output
    assert "exactly as good" not in replay.output


def test_side_by_side_runs_cp_sat_s_tasks_two_at_a_time_and_a_differing_replay_says_what_that_means(env, db_url):
    from staffing.runs import get_run

    run("import", str(ROOT / "seed_data" / "small"))
    assert run("place", "--time-limit", "5", "--out", "p.csv").exit_code == 0
    placed = run("place", "--side-by-side", "--time-limit", "5", "--out", "p.csv")
    assert placed.exit_code == 0, placed.output
    with session_scope(db_url) as session:
        batches = [Policy.from_json(get_run(session, i).policy_json).settings.interleave_batch for i in (1, 2)]
    assert batches == [1, 0]  # one task at a time unless asked
    assert "reproduces all placements" in run("replay", "2").output
    groups = _placements_by_group(db_url, 2)
    _swap(db_url, 2, *next(p[:2] for p in groups.values() if len(p) >= 2))
    assert "ran CP-SAT's tasks side by side" in runner.invoke(app, ["replay", "2"]).output
    both = runner.invoke(app, ["place", "--side-by-side", "--parallel", "--out", "z.csv"])
    assert both.exit_code == 2 and "--side-by-side is a way of running the deterministic search" in both.output
    assert not (env / "z.csv").exists()


@pytest.mark.parametrize("flag, knob", [("--bound-beside-search", "bound_beside_search"),
                                        ("--settled-pricing", "settled_pricing_iterations")])
def test_place_records_a_count_of_lagrangian_iterations_and_refuses_a_negative_one(env, db_url, flag, knob):
    from staffing.runs import get_run

    run("import", str(ROOT / "seed_data" / "small"))
    assert run("place", "--time-limit", "5", "--out", "p.csv").exit_code == 0
    assert run("place", "--time-limit", "5", flag, "0", "--out", "p.csv").exit_code == 0
    with session_scope(db_url) as session:
        counts = [getattr(Policy.from_json(get_run(session, i).policy_json).settings, knob) for i in (1, 2)]
    assert counts == [getattr(Policy().settings, knob), 0]  # the policy's default unless asked
    bad = runner.invoke(app, ["place", flag, "-1", "--out", "z.csv"])
    assert bad.exit_code == 2 and f"{knob} must be at least 0, got -1" in bad.output
    assert not (env / "z.csv").exists()


def test_place_takes_a_settings_preset_records_it_with_its_changes_and_refuses_an_unknown_one(env, db_url):
    from staffing.runs import get_run

    run("import", str(ROOT / "seed_data" / "small"))
    placed = run("place", "--settings", "quick", "--bound-beside-search", "7", "--time-limit", "3", "--out", "p.csv")
    assert placed.exit_code == 0 and "solver settings quick (bound_beside_search=7)" in placed.output
    with session_scope(db_url) as session:
        recorded = Policy.from_json(get_run(session, 1).policy_json)
    assert recorded.settings.preset == "quick" and recorded.settings.changed() == {"bound_beside_search": 7}
    assert recorded.settings.pricing_iterations == 0 and recorded.search.reproducible
    assert "reproduces all placements" in run("replay", "1").output
    bad = runner.invoke(app, ["place", "--settings", "fastest", "--out", "z.csv"])
    assert bad.exit_code == 2 and "unknown solver settings preset 'fastest'" in bad.output
    assert not (env / "z.csv").exists()
