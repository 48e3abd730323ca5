"""The staffing season (RULES.md, *The season*): rounds that continue, offers and answers, vacancy chains,
phases and the forced-placement deadline; every round checked by the independent checker on its own snapshot."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from solver.checker import check
from solver.policy import Policy, scenario
from staffing import season
from staffing.cli import app
from staffing.db import session_scope
from staffing.db_models import AuditLog, OfferRow, Placement, PoolEntry, TeacherRow, VacancyRow, utcnow
from staffing.domain import Teacher, Vacancy
from staffing.runs import run_placement, run_snapshot, stored_result
from staffing.seed import generate
from staffing.services import NotFound, add_vacancy
from staffing.store import load_district, save_district
from staffing.update import update_district

POLICY = scenario("district_rules").with_(time_limit=3.0)


def lawful_round(url: str, policy: Policy = POLICY, method: str = "cpsat"):
    """Solve a round and run the independent checker on that round's own snapshot and policy."""
    with session_scope(url) as s:
        outcome = run_placement(s, policy, "hr", method)
        run_id = outcome.run.id
    with session_scope(url) as s:
        run = s.get(type(outcome.run), run_id)
        district, effective = run_snapshot(run)
        assignments = stored_result(s, run).assignments
    assert check(district, assignments, effective) == [], f"round {run_id} breaks the rules"
    return run_id, district, assignments


def offers(url: str, **where) -> list[OfferRow]:
    with session_scope(url) as s:
        rows = list(s.exec(select(OfferRow).order_by(OfferRow.id)))
        for r in rows:
            s.expunge(r)
    return [r for r in rows if all(getattr(r, k) == v for k, v in where.items())]


def accepted_must_place(url: str) -> int:
    with session_scope(url) as s:
        must = {e.teacher_id for e in s.exec(select(PoolEntry).where(PoolEntry.must_place))}
    return sum(o.teacher_id in must for o in offers(url, status="accepted"))


def test_a_whole_season_from_the_first_round_to_the_forced_placement_deadline(db_url):
    district = generate("small", 7)
    with session_scope(db_url) as s:
        save_district(s, district)
        season.configure(s, "hr", response_days=7, forced_placement="final_phase")
        season.advance_phase(s, "mutual_consent", "hr")
    must_placed = []

    # round 1: no forced placement before the forced-placement phase
    run1, snap1, placed1 = lawful_round(db_url)
    assert not [a for a in placed1 if a.kind == "forced"]
    with session_scope(db_url) as s:
        _, made = season.publish(s, run1, "hr")
    assert len(made) == sum(1 for a in placed1 if a.vacancy_id)
    # answers: the first three decline, a voluntary transfer with a post accepts (vacancy chain), the rest accept
    pending = offers(db_url, run_id=run1)
    with session_scope(db_url) as s:
        movers = [o for o in pending if (t := s.get(TeacherRow, o.teacher_id)).current_school_id
                  and t.current_school_id != o.school_id
                  and s.get(PoolEntry, o.teacher_id).status == "voluntary_transfer"]
    assert movers, "the seed has voluntary transfers with a post of their own"
    mover = movers[0]
    declined = [o for o in pending if o.teacher_id != mover.teacher_id][:3]
    with session_scope(db_url) as s:
        for o in declined:
            assert season.respond(s, o.teacher_id, "decline", "hr").status == "declined"
        chained = season.respond(s, mover.teacher_id, "accept", mover.teacher_id)
        assert chained.vacated_vacancy_id
        mover_school = s.get(TeacherRow, mover.teacher_id).current_school_id
        for o in pending:
            if o.teacher_id not in {d.teacher_id for d in declined} | {mover.teacher_id}:
                season.respond(s, o.teacher_id, "accept", "hr")
    must_placed.append(accepted_must_place(db_url))
    chain_post = chained.vacated_vacancy_id

    # round 2: only what is still open; the chain's post is in it; declined pairs are never offered again
    run2, snap2, placed2 = lawful_round(db_url)
    assert chain_post in snap2.vacancies and snap2.vacancies[chain_post].school_id == mover_school
    assert set(snap2.teachers) & {o.teacher_id for o in offers(db_url, status="accepted")} == set()
    assert {(o.teacher_id, o.vacancy_id) for o in declined} <= set(snap2.excluded_pairs)
    assert not {(a.teacher_id, a.vacancy_id) for a in placed2} & {(o.teacher_id, o.vacancy_id) for o in declined}
    assert {d.teacher_id for d in declined} <= set(snap2.teachers)
    with session_scope(db_url) as s:
        _, made2 = season.publish(s, run2, "hr")
    assert made2, "round 2 places someone"
    # one declines; the rest do not answer and lapse at the deadline (the district's setting)
    with session_scope(db_url) as s:
        season.respond(s, made2[0].teacher_id, "decline", "hr")
        lapsed = season.lapse_due(s, utcnow() + timedelta(days=8))
    assert len(lapsed) == len(made2) - 1 and all(o.status == "lapsed" for o in lapsed)
    must_placed.append(accepted_must_place(db_url))

    # between rounds: an update adds vacancies (and keeps the season)
    with session_scope(db_url) as s:
        current = load_district(s, open_only=False)
    extra = {f"VNEW{i}": Vacancy(f"VNEW{i}", "S0001", cert) for i, cert in enumerate(("MATH", "SCI", "ESL"))}
    bundle = dataclasses.replace(current, vacancies={**{k: v for k, v in current.vacancies.items() if k != chain_post},
                                                     **extra})
    with session_scope(db_url) as s:
        summary = update_district(s, bundle, "hr")
    assert summary.added["vacancies"] == 3 and summary.kept == [chain_post]
    assert len(offers(db_url)) == len(made) + len(made2), "the update keeps every offer"

    # round 3 on the updated data
    run3, snap3, placed3 = lawful_round(db_url)
    assert set(extra) <= set(snap3.vacancies)
    with session_scope(db_url) as s:
        _, made3 = season.publish(s, run3, "hr")
        for o in made3:
            season.respond(s, o.teacher_id, "accept", "hr")
    must_placed.append(accepted_must_place(db_url))

    # the forced-placement phase: enough posts where must-place teachers may be forced, then a round.  A displaced
    # teacher from a Springfield zone school may be placed only inside the zone, whose schools accept no forced
    # placement (docs/rules.md): nobody may force them anywhere, so they are left to the zone, which pays them.
    with session_scope(db_url) as s:
        state = season.state(s)
        assert state.must_place_unplaced, "the season leaves must-place teachers for the forced phase"
        accepting = next(sid for sid in district.schools if district.rules_of(sid).accepts_must_place)
        zone_bound = sorted(tid for tid in state.must_place_unplaced if district.teachers[tid].status == "displaced"
                            and (former := district.teachers[tid].former_school_id) in district.schools
                            and district.rules_of(former).zone)
        assert not any(district.rules_of(sid).accepts_must_place
                       for sid in district.schools if district.rules_of(sid).zone)
        for i, tid in enumerate(state.must_place_unplaced):
            cert = s.get(TeacherRow, tid).certifications.split(";")[0]
            add_vacancy(s, Vacancy(f"VF{i}", accepting, cert), "hr")
        season.advance_phase(s, "forced_placement", "hr")
    run4, snap4, placed4 = lawful_round(db_url)
    forced = [a for a in placed4 if a.kind == "forced"]
    assert forced, "the forced phase places must-place teachers by force"
    with session_scope(db_url) as s:
        _, made4 = season.publish(s, run4, "hr")
        forced_offer = next(o for o in made4 if o.kind == "forced")
        with pytest.raises(season.SeasonError, match="cannot be declined"):
            season.respond(s, forced_offer.teacher_id, "decline", "hr")
        # unanswered, a forced placement is an assignment at the deadline whatever the setting for offers
        settled = season.lapse_due(s, utcnow() + timedelta(days=8))
    assert {o.teacher_id for o in settled if o.kind == "forced"} == {a.teacher_id for a in forced}
    assert all(o.status == "accepted" for o in settled if o.kind == "forced")
    must_placed.append(accepted_must_place(db_url))
    # every must-place teacher the rules let the district force is placed; the zone's stay, and the round says why
    reasons = {a.teacher_id: a.reason for a in placed4 if not a.vacancy_id}
    assert all("may be placed only at its schools" in reasons[tid] for tid in zone_bound)
    with session_scope(db_url) as s:
        assert season.state(s).must_place_unplaced == zone_bound
        season.advance_phase(s, "closed", "hr")
        with pytest.raises(season.SeasonError, match="closed"):
            run_placement(s, POLICY, "hr")

    # the season's invariants and its audit trail
    assert must_placed == sorted(must_placed)
    every = offers(db_url)
    held = [o for o in every if o.status in ("pending", "accepted")]
    assert len({o.teacher_id for o in held}) == len(held) and len({o.vacancy_id for o in held}) == len(held)
    with session_scope(db_url) as s:
        actions = {a.action for a in s.exec(select(AuditLog))}
        filled = {v.vacancy_id for v in s.exec(select(VacancyRow).where(VacancyRow.status == "filled"))}
    assert {"publish", "offer", "accepted", "declined", "lapsed", "advance", "configure", "update"} <= actions
    assert filled == {o.vacancy_id for o in held}


def test_refusing_a_forced_placement_leaves_the_pool_and_frees_the_post(db_url):
    with session_scope(db_url) as s:
        save_district(s, generate("small", 7))
    run_id, _, placed = lawful_round(db_url)
    forced = next(a for a in placed if a.kind == "forced")
    with session_scope(db_url) as s:
        season.publish(s, run_id, "hr")
        with pytest.raises(season.SeasonError, match="'refuse' is for forced"):
            season.respond(s, next(a.teacher_id for a in placed if a.vacancy_id and a.kind != "forced"), "refuse", "hr")
        assert season.respond(s, forced.teacher_id, "refuse", "hr").status == "refused"
        assert forced.teacher_id in season.state(s).left_pool
        snapshot = load_district(s)
        assert forced.teacher_id not in snapshot.teachers and forced.vacancy_id in snapshot.vacancies


def test_bad_season_input_is_refused_with_the_reason_and_changes_nothing(db_url):
    with session_scope(db_url) as s:
        save_district(s, generate("small", 7))
    run1, _, placed = lawful_round(db_url)
    run2, _, _ = lawful_round(db_url)
    bad, _, _ = lawful_round(db_url, scenario("all_mutual_consent").with_(time_limit=3.0))
    with session_scope(db_url) as s:  # a run the checker rejects: a recorded placement tampered with
        row = s.exec(select(Placement).where(Placement.run_id == bad, Placement.vacancy_id.is_not(None))).first()
        row.kind = "forced"
    with session_scope(db_url) as s:
        with pytest.raises(season.UnlawfulRun, match="0 violations"):
            season.publish(s, bad, "hr")
    with session_scope(db_url) as s:
        season.publish(s, run1, "hr")
    with session_scope(db_url) as s:
        with pytest.raises(season.SeasonError, match="already published"):
            season.publish(s, run1, "hr")
        with pytest.raises(season.StaleRun, match="stale"):
            season.publish(s, run2, "hr")
        with pytest.raises(season.SeasonError, match="no pending offer"):
            season.respond(s, next(a.teacher_id for a in placed if not a.vacancy_id), "accept", "hr")
        with pytest.raises(NotFound):
            season.respond(s, "NOBODY", "accept", "hr")
        with pytest.raises(season.SeasonError, match="must be one of"):
            season.respond(s, placed[0].teacher_id, "maybe", "hr")
        season.advance_phase(s, "mutual_consent", "hr")
        with pytest.raises(season.SeasonError, match="cannot go back"):
            season.advance_phase(s, "interviews", "hr")
        with pytest.raises(season.SeasonError, match="unknown phase"):
            season.advance_phase(s, "summer", "hr")
        with pytest.raises(season.SeasonError, match="response days"):
            season.configure(s, "hr", response_days=0)
    taken = next(a for a in placed if a.vacancy_id)
    with session_scope(db_url) as s:
        season.respond(s, taken.teacher_id, "accept", "hr")
        with pytest.raises(season.SeasonError, match="no pending offer.*accepted"):
            season.respond(s, taken.teacher_id, "decline", "hr")
        current = load_district(s, open_only=False)
    without = dataclasses.replace(current, teachers={k: v for k, v in current.teachers.items() if k != taken.teacher_id},
                                  vacancies={k: v for k, v in current.vacancies.items() if k != taken.vacancy_id})
    with session_scope(db_url) as s:
        with pytest.raises(season.SeasonError, match=f"teacher {taken.teacher_id} .* refers") as refused:
            update_district(s, without, "hr")
        assert f"vacancy {taken.vacancy_id}" in str(refused.value)
    with session_scope(db_url) as s:  # nothing changed
        assert season.settings(s).phase == "mutual_consent"
        assert s.get(TeacherRow, taken.teacher_id) is not None
        assert len(list(s.exec(select(OfferRow).where(OfferRow.status == "accepted")))) == 1


def test_the_command_line_runs_a_two_round_season(tmp_path, monkeypatch, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STAFFING_DATABASE_URL", db_url)
    cli = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = cli.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    from tests.conftest import ROOT
    run("import", str(ROOT / "seed_data" / "small"))
    run("place", "--scenario", "all_mutual_consent", "--time-limit", "3", "--quiet")
    assert "published: " in run("publish", "1")
    assert "already published" in run("publish", "1", code=2)
    first = offers(db_url)
    assert "declined" in run("respond", first[0].teacher_id, "decline")
    assert "no pending offer" in run("respond", first[0].teacher_id, "accept", code=2)
    run("respond", first[1].teacher_id, "accept")
    # the bug this season fixed: a second round after a publication
    assert "run 2" in run("place", "--scenario", "all_mutual_consent", "--time-limit", "3", "--quiet")
    out = run("season")
    assert "rounds published: 1" in out and "declined 1" in out and "accepted 1" in out
    assert "phase: mutual_consent" in run("season", "advance", "mutual_consent")
    assert "cannot go back" in run("season", "advance", "preferences", code=2)
    # an update: one more vacancy, the season kept
    bundle = tmp_path / "bundle"
    run("export", str(bundle))
    with (bundle / "vacancies.csv").open("a") as fh:
        fh.write("VXTRA,S0001,MATH,1.0\n")
    assert "added 1 vacancies" in run("import", str(bundle), "--update")
    assert "stale" in run("publish", "2", code=2)
    run("place", "--scenario", "all_mutual_consent", "--time-limit", "3", "--quiet")
    assert "published" in run("publish", "3")
    assert "rounds published: 2" in run("season")


def test_a_round_after_a_publication_sees_only_the_pool_and_its_own_lists(db_url):
    """The bug that stopped every season after one round: the snapshot kept the preferences and rankings of
    teachers a published run had placed, and the audit then looked them up (KeyError)."""
    with session_scope(db_url) as s:
        save_district(s, generate("small", 7))
    run1, _, placed = lawful_round(db_url)
    with session_scope(db_url) as s:
        season.publish(s, run1, "hr")
        snapshot = load_district(s)
    offered = {a.teacher_id for a in placed if a.vacancy_id}
    assert offered and not offered & set(snapshot.teachers)
    assert all(p.teacher_id in snapshot.teachers for p in snapshot.preferences)
    assert all(r.teacher_id in snapshot.teachers and r.vacancy_id in snapshot.vacancies for r in snapshot.rankings)
    by_vacancy: dict[str, list[int]] = {}
    for r in snapshot.rankings:
        by_vacancy.setdefault(r.vacancy_id, []).append(r.rank)
    assert all(sorted(ranks) == list(range(1, len(ranks) + 1)) for ranks in by_vacancy.values())
    run2, _, _ = lawful_round(db_url)  # solved, checked and audited without a KeyError
    assert run2 == run1 + 1
