"""Properties over random small seasons: no teacher holds two accepted offers, no post is filled twice, every
round is lawful on its own snapshot, no declined pair is offered again, and must-place teachers placed
(accepted) never decrease."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from solver.checker import check
from solver.policy import Policy
from staffing import season
from staffing.db import get_engine, init_db, session_scope
from staffing.db_models import OfferRow, PlacementRun, PoolEntry, VacancyRow, utcnow
from staffing.runs import run_placement, run_snapshot, stored_result
from staffing.store import save_district
from tests.test_properties import districts

POLICY = Policy(time_limit=2)


@st.composite
def seasons(draw):
    """A random small district (voluntary transfers hold a post somewhere) and the season's settings."""
    d = draw(districts())
    sids = sorted(d.schools)
    teachers = {tid: dataclasses.replace(t, current_school_id=draw(st.sampled_from(sids)))
                if t.status == "voluntary_transfer" else t for tid, t in d.teachers.items()}
    return (dataclasses.replace(d, teachers=teachers), draw(st.sampled_from(season.FORCED_PLACEMENT)),
            draw(st.sampled_from(season.UNANSWERED)))


def _held(s) -> list[OfferRow]:
    return list(s.exec(select(OfferRow).where(OfferRow.status.in_(("pending", "accepted")))))  # type: ignore[attr-defined]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seasons(), st.data())
def test_random_seasons_keep_their_invariants(case, data):
    district, forced_placement, unanswered = case
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'season.db'}"
        init_db(url)
        try:
            with session_scope(url) as s:
                save_district(s, district)
                season.configure(s, "hr", response_days=3, unanswered=unanswered, forced_placement=forced_placement)
                season.advance_phase(s, "mutual_consent", "hr")
            placed_before = 0
            now = utcnow()
            for round_no in range(3):
                if round_no == 2:
                    with session_scope(url) as s:
                        season.advance_phase(s, "forced_placement", "hr")
                with session_scope(url) as s:
                    try:
                        run_id = run_placement(s, POLICY, "hr").run.id
                    except ValueError as exc:  # nothing open any more
                        assert "no open vacancies" in str(exc)
                        break
                with session_scope(url) as s:
                    run = s.get(PlacementRun, run_id)
                    snapshot, policy = run_snapshot(run)
                    assignments = stored_result(s, run).assignments
                    assert check(snapshot, assignments, policy) == []
                    refused = {(o.teacher_id, o.vacancy_id) for o in s.exec(select(OfferRow))
                               if o.status in ("declined", "lapsed", "refused")}
                    assert not refused & {(a.teacher_id, a.vacancy_id) for a in assignments}, "offered again"
                    if forced_placement == "final_phase" and round_no < 2:
                        assert all(a.kind != "forced" for a in assignments)
                    _, made = season.publish(s, run_id, "hr", now=now)
                with session_scope(url) as s:
                    for offer in made:
                        answer = data.draw(st.sampled_from(["accept", "decline", "refuse", "none"]))
                        if answer == "none":
                            continue
                        if (answer == "refuse") != (offer.kind == "forced"):
                            answer = "accept" if answer == "refuse" else answer
                            if offer.kind == "forced" and answer == "decline":
                                answer = "refuse"
                        season.respond(s, offer.teacher_id, answer, "hr", now=now)
                    now += timedelta(days=4)
                    season.lapse_due(s, now)
                with session_scope(url) as s:
                    held = _held(s)
                    accepted = [o for o in held if o.status == "accepted"]
                    assert len({o.teacher_id for o in accepted}) == len(accepted)
                    assert len({o.teacher_id for o in held}) == len(held)
                    assert len({o.vacancy_id for o in held}) == len(held)
                    filled = {v.vacancy_id for v in s.exec(select(VacancyRow).where(VacancyRow.status == "filled"))}
                    assert filled == {o.vacancy_id for o in held}
                    must = {e.teacher_id for e in s.exec(select(PoolEntry).where(PoolEntry.must_place))}
                    placed = sum(o.teacher_id in must for o in accepted)
                    assert placed >= placed_before
                    placed_before = placed
        finally:
            get_engine(url).dispose()
