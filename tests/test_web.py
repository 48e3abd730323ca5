"""Every route and every role boundary of the web app and its JSON API (FastAPI TestClient)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading

import pytest
from sqlmodel import select

from solver.policy import Policy
from staffing.db import session_scope
from staffing.db_models import AuditLog, PlacementRun, RankingRow, VacancyRow
from staffing.runs import start_run, this_process
from tests.conftest import fresh_postgres
from tests.db_dump import dump
from tests.web_support import abort_solver, build_template, client_for, password_of, seed_web_db
from web import runner
from web.runner import solve_recorded_run


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("webtemplate"))


@pytest.fixture
def db_url(backend, tmp_path):
    """This test's web database: a copy of the SQLite template, or a fresh seeded PostgreSQL schema."""
    if backend == "postgresql":
        url = fresh_postgres()
        seed_web_db(url)
        return url
    return f"sqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
def as_(template, tmp_path, db_url):
    """as_("hr") -> a client signed in as that user, all sharing this test's database."""
    url = None if db_url.startswith("sqlite") else db_url
    return lambda user=None: client_for(template, tmp_path, user, url)


PAGES_HR = ["/hr", "/hr/vacancies", "/hr/runs", "/hr/compare", "/audit", "/schools/S0001",
            "/schools/S0002/vacancies/V00002"]


def test_pages_need_sign_in_and_api_answers_401(as_):
    anon = as_()
    for path in PAGES_HR:
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    assert anon.get("/api/pool").status_code == 401
    assert anon.get("/login").status_code == 200


def test_wrong_password_is_an_inline_message(as_):
    r = as_().post("/login", data={"username": "hr", "password": "nope"})
    assert r.status_code == 401 and "Unknown user or wrong password." in r.text


def test_each_role_lands_on_its_start_page(as_):
    assert as_("hr").get("/", follow_redirects=False).headers["location"] == "/hr"
    assert as_("union").get("/", follow_redirects=False).headers["location"] == "/audit"
    assert as_("p1").get("/", follow_redirects=False).headers["location"] == "/schools/S0001"


def test_hr_sees_every_page(as_):
    hr = as_("hr")
    heading = {"/hr": "Hiring pool", "/hr/vacancies": "Vacancies", "/hr/runs": "Placement runs",
               "/hr/compare": "Compare two runs", "/audit": "Seniority audit", "/schools/S0001": "Alvarez High 1",
               "/schools/S0002/vacancies/V00002": "vacancy V00002"}
    assert set(heading) == set(PAGES_HR)
    for path in PAGES_HR:
        page = hr.get(path)
        assert page.status_code == 200 and heading[path] in page.text, path
    assert "reserve salary" in hr.get("/hr").text
    filtered = hr.get("/hr?status=displaced&certification=MATH")  # tests/test_filters.py checks every filter's rows
    assert filtered.status_code == 200 and "T00" in filtered.text


def test_principal_sees_only_their_own_school(as_):
    p1 = as_("p1")
    own = p1.get("/schools/S0001")
    assert own.status_code == 200 and "V00001" in own.text and not re.search(r"\bV00002\b", own.text)
    assert p1.get("/schools/S0002").status_code == 403
    assert p1.get("/schools/S0002/vacancies/V00002").status_code == 403
    assert p1.post("/schools/S0002/vacancies/V00002/ranking", data={"teacher_id": "T00001", "action": "add"}).status_code == 403
    assert p1.get("/api/schools/S0002/vacancies").status_code == 403
    assert p1.put("/api/schools/S0002/vacancies/V00002/ranking", json={"teacher_ids": []}).status_code == 403
    for path in ("/hr", "/hr/runs", "/audit", "/api/pool", "/api/runs"):
        assert p1.get(path).status_code == 403, path
    # a vacancy of another school reached through one's own school id is not found, not shown
    assert p1.get("/schools/S0001/vacancies/V00002").status_code == 404


def test_union_rep_reads_the_audit_but_changes_nothing(as_, db_url):
    union = as_("union")
    before = dump(db_url)
    audit = union.get("/audit")
    assert audit.status_code == 200 and "Seniority audit" in audit.text
    assert union.get("/api/runs").status_code == 200
    assert union.post("/hr/runs", data={"scenario": "district_rules"}).status_code == 403
    assert union.post("/api/runs", json={}).status_code == 403
    assert union.post("/hr/runs/1/publish").status_code == 403
    assert union.post("/schools/S0001/vacancies/V00001/ranking", data={"teacher_id": "T00001", "action": "add"}).status_code == 403
    assert union.get("/schools/S0001").status_code == 403
    assert dump(db_url) == before


def test_hr_runs_a_round_reads_it_publishes_once_and_compares(as_, db_url):
    hr = as_("hr")
    r = hr.post("/hr/runs", data={"scenario": "district_rules", "time_limit": "5", "method": "cpsat"})
    assert r.status_code == 200 and "Placement run #1" in r.text and "rule violations" in r.text
    page = hr.get("/hr/runs/1").text
    assert "<li>reserve 3,867: proven optimal (CP-SAT&#39;s bound 3,867)</li>" in page
    assert "no lawful placement leaves less than $819,400" in page
    assert hr.get("/hr/runs/1/status").headers.get("HX-Refresh") == "true"
    assert hr.get("/hr/runs/1?kind=forced").status_code == 200
    hr.post("/api/runs", json={"scenario": "all_mutual_consent", "time_limit": 5})
    compare = hr.get("/hr/compare?a=1&b=2")
    assert "must_place_placed" in compare.text and "run B #2" in compare.text and "reserve_cost_floor" in compare.text
    assert "difference (B − A)" in compare.text and "Teachers placed differently" in compare.text
    first = hr.post("/api/runs/1/publish").json()
    again = hr.post("/api/runs/1/publish")
    assert first["label"] == "published" and first["offers"] == first["figures"]["placed"]
    assert again.status_code == 409 and "already published by hr" in again.json()["detail"]
    with session_scope(db_url) as s:
        filled = s.exec(select(VacancyRow).where(VacancyRow.status == "filled")).all()
        assert len(filled) == first["figures"]["placed"]
        actions = {(a.actor, a.action) for a in s.exec(select(AuditLog))}
    assert ("hr", "publish") in actions and ("hr", "start") in actions
    # run 2 was made on the same snapshot, but the pool has changed since run 1 was published
    stale = hr.post("/api/runs/2/publish")
    assert stale.status_code == 409 and "run 2 is stale" in stale.json()["detail"]
    assert "Not published" in hr.post("/hr/runs/2/publish", data={"confirm": "yes"}).text


def test_a_run_whose_search_the_wall_clock_cut_says_it_may_not_replay(as_, db_url):
    hr = as_("hr")
    hr.post("/hr/runs", data={"scenario": "district_rules", "time_limit": "5", "method": "cpsat"})
    assert "Not replayable" not in hr.get("/hr/runs/1").text
    with session_scope(db_url) as s:  # as a run solved on an overloaded machine records it
        run = s.get(PlacementRun, 1)
        figures = json.loads(run.figures_json)
        figures["solve"]["stages"]["reserve"]["cut_by_wall_clock"] = 2
        run.figures_json = json.dumps(figures)
        s.add(run)
    assert "Not replayable: 2 search(es) ran for half their wall-clock cap" in hr.get("/hr/runs/1").text


def test_a_solver_process_that_crashes_fails_its_run_and_the_server_carries_on(as_, db_url):
    """A native abort cannot be caught; it ends the run's own process only, and the run says so."""
    hr = as_("hr")
    with session_scope(db_url) as s:
        run_id = start_run(s, Policy(time_limit=5), "hr").id
    solve_recorded_run(db_url, run_id, target=abort_solver)
    page = hr.get(f"/hr/runs/{run_id}").text
    assert "The run failed: the solver process stopped unexpectedly (signal SIGABRT)" in page
    assert hr.get(f"/api/runs/{run_id}").json()["status"] == "failed"
    again = hr.post("/hr/runs", data={"scenario": "district_rules", "time_limit": "5", "method": "cpsat"})
    assert f"Placement run #{run_id + 1}" in again.text and "rule violations" in again.text


def test_a_solver_process_that_cannot_start_fails_its_run_with_the_reason(as_, db_url, monkeypatch):
    from multiprocessing.context import SpawnProcess

    hr = as_("hr")

    def no_process(self):
        raise OSError("[Errno 11] Resource temporarily unavailable")

    monkeypatch.setattr(SpawnProcess, "start", no_process)
    hr.post("/hr/runs", data={"scenario": "district_rules", "time_limit": "5", "method": "cpsat"})
    assert "could not be started ([Errno 11] Resource temporarily unavailable)" in hr.get("/hr/runs/1").text


def test_a_run_waits_for_a_free_solver_and_the_page_says_so(as_, db_url):
    """One run solves at a time (STAFFING_SOLVER_SLOTS=1): a second one queues behind it, still owned by the
    server (so it is not taken for interrupted), and solves once the slot is free."""
    hr = as_("hr")
    with session_scope(db_url) as s:
        run = start_run(s, Policy(time_limit=5), "hr")
        run.solver_process = this_process()  # as the server that took the request records it
        run_id = run.id
    runner.SOLVER_SLOTS.acquire()  # another run is solving
    waiting = threading.Thread(target=runner.solve_recorded_run, args=(db_url, run_id))
    try:
        waiting.start()
        waiting.join(timeout=2)
        assert waiting.is_alive()
        assert "is waiting for a free solver" in hr.get(f"/hr/runs/{run_id}/status").text
    finally:
        runner.SOLVER_SLOTS.release()
    waiting.join(timeout=120)
    assert not waiting.is_alive()
    assert hr.get(f"/api/runs/{run_id}").json()["status"] == "done"


def test_the_page_of_a_running_run_says_what_its_solver_is_doing(as_, db_url, monkeypatch):
    hr = as_("hr")
    with session_scope(db_url) as s:
        run_id = start_run(s, Policy(time_limit=5), "hr").id
    runner.ProgressNotes(db_url, run_id)("reserve stage", "best 4,210 so far, bound on the pairs kept 4,249")
    status = hr.get(f"/hr/runs/{run_id}/status").text
    assert "Solving run" in status and "reserve stage: best 4,210 so far, bound on the pairs kept 4,249" in status
    assert re.search(r"started \d+ s ago", status)
    assert hr.get(f"/api/runs/{run_id}").json()["progress"].startswith("reserve stage: best 4,210")

    # the child's own work (here in this process): a note at each step, and none left once the run is done
    notes: list[str] = []
    note = runner.note_progress
    monkeypatch.setattr(runner, "note_progress", lambda session, rid, text: (notes.append(text), note(session, rid, text)))
    monkeypatch.setattr(runner, "PROGRESS_INTERVAL", 0.0)  # every note, not one a second
    runner.solve_and_store(db_url, run_id)
    assert notes[0].startswith("building the instance") and notes[-1].startswith("seniority audit")
    assert any(n.startswith("welfare stage: best ") for n in notes)
    finished = hr.get(f"/api/runs/{run_id}").json()
    assert finished["status"] == "done" and finished["progress"] is None
    runner.ProgressNotes(db_url, run_id)("welfare stage", "late")  # a finished run keeps no progress
    assert hr.get(f"/api/runs/{run_id}").json()["progress"] is None


def test_a_run_knows_how_long_ago_it_started_whether_or_not_the_database_kept_the_time_zone():
    from datetime import timedelta

    from staffing.db_models import utcnow
    from staffing.runs import seconds_since_start

    started = utcnow() - timedelta(seconds=90)
    assert seconds_since_start(PlacementRun(created_at=started)) in (90, 91)
    assert seconds_since_start(PlacementRun(created_at=started.replace(tzinfo=None))) in (90, 91)


def test_a_progress_note_that_cannot_be_written_does_not_stop_the_solve(tmp_path, caplog):
    runner.ProgressNotes(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}", 1)("reserve stage", "searching")
    assert "could not record its progress" in caplog.text


@pytest.mark.parametrize(("value", "slots"), [("3", 3), ("1", 1), ("0", 1), ("two", 1), ("-2", 1)])
def test_solver_slots_come_from_the_environment_and_a_bad_value_means_one(monkeypatch, value, slots):
    monkeypatch.setenv("STAFFING_SOLVER_SLOTS", value)
    assert runner._solver_slots() == slots


def test_a_run_whose_solver_process_has_gone_shows_as_interrupted_not_running_for_ever(as_, db_url):
    hr = as_("hr")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with session_scope(db_url) as s:  # as a server restarted mid-solve leaves them
        dead, alive = start_run(s, Policy(time_limit=5), "hr"), start_run(s, Policy(time_limit=5), "hr")
        dead.solver_process, alive.solver_process = this_process(gone.pid), this_process()
        dead_id, alive_id = dead.id, alive.id
    assert hr.get(f"/hr/runs/{dead_id}/status").headers.get("HX-Refresh") == "true"
    assert "the web server was restarted or stopped" in hr.get(f"/hr/runs/{dead_id}").text
    assert hr.get(f"/api/runs/{dead_id}").json()["status"] == "failed"
    assert "HX-Refresh" not in hr.get(f"/hr/runs/{alive_id}/status").headers  # its process is still there
    assert hr.get(f"/api/runs/{alive_id}").json()["status"] == "running"


def test_bad_run_form_input_is_an_inline_error_not_a_500(as_):
    hr = as_("hr")
    for data, expected in [({"time_limit": "soon"}, "time limit must be a number"),
                           ({"time_limit": "-3"}, "between 0 and 300"),
                           ({"scenario": "anarchy"}, "unknown scenario"),
                           ({"method": "guess"}, "unknown method"),
                           ({"bound_seconds": "later"}, "seconds to prove the gap must be a number"),
                           ({"bound_seconds": "-1"}, "between 0 (off) and 900"),
                           ({"search": "fastest"}, "search must be one of deterministic, parallel")]:
        r = hr.post("/hr/runs", data={"scenario": "district_rules", "time_limit": "5", **data})
        assert r.status_code == 422 and expected in r.text, data
    assert hr.post("/api/runs", json={"time_limit": 0}).status_code == 422
    assert hr.post("/api/runs", json={"time_limit": 5, "bound_seconds": 901}).status_code == 422
    assert hr.post("/api/runs", json={"time_limit": 5, "search": "fastest"}).status_code == 422


def test_hr_can_ask_for_seconds_proving_the_gap_and_the_run_records_them(as_, db_url):
    """The policy of the recorded run carries the request, so a replay or an auditor sees what was asked."""
    hr = as_("hr")
    hr.post("/hr/runs", data={"scenario": "district_rules", "time_limit": "5", "method": "cpsat",
                              "bound_seconds": "12.5"})
    hr.post("/api/runs", json={"time_limit": 5})
    with session_scope(db_url) as s:
        policies = [Policy.from_json(r.policy_json) for r in s.exec(select(PlacementRun).order_by(PlacementRun.id))]
    assert [p.settings.bound_seconds for p in policies] == [12.5, 0.0]


def test_hr_can_run_a_parallel_round_which_is_recorded_and_flagged_as_not_replayable(as_, db_url):
    """A parallel round (both cores, against the wall clock) is what ends a district round within its limit; its
    policy records the mode, and its page and the runs list say a replay may differ, as they do not for a
    deterministic round or a baseline."""
    hr = as_("hr")
    hr.post("/hr/runs", data={"scenario": "district_rules", "time_limit": "5", "method": "cpsat",
                              "search": "parallel"})
    hr.post("/api/runs", json={"time_limit": 5, "search": "parallel", "method": "teacher_da"})
    hr.post("/api/runs", json={"time_limit": 5})
    with session_scope(db_url) as s:
        policies = [Policy.from_json(r.policy_json) for r in s.exec(select(PlacementRun).order_by(PlacementRun.id))]
    assert [p.search.reproducible for p in policies] == [False, False, True]
    parallel, baseline, deterministic = (hr.get(f"/hr/runs/{n}").text for n in (1, 2, 3))
    assert "parallel search, 5 s" in parallel and "Not replayable: it was solved on both cores" in parallel
    assert "rule violations" in parallel and "0</div><div class=\"l\"><a href=\"#rule-check\">rule violations" in parallel
    assert "Not replayable" not in baseline and "search," not in baseline  # a baseline has no search to speak of
    assert "deterministic search, 5 s" in deterministic and "Not replayable" not in deterministic
    assert [r["search"] for r in hr.get("/api/runs").json()] == ["deterministic", "deterministic", "parallel"]
    assert "<td>parallel</td>" in hr.get("/hr/runs").text


def test_principal_ranks_with_clicks_and_bad_input_is_inline(as_, db_url):
    p1 = as_("p1")
    page = p1.get("/schools/S0001/vacancies/V00001")
    assert page.status_code == 200 and "Committee ranking" in page.text and "Interview log" in page.text
    url = "/schools/S0001/vacancies/V00001/ranking"
    with session_scope(db_url) as s:
        before = [r.teacher_id for r in s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001").order_by(RankingRow.rank))]
    p1.post(url, data={"teacher_id": "T00100", "action": "add"})
    r = p1.post(url, data={"teacher_id": "T00100", "action": "up"})
    assert r.status_code == 200 and 'id="ranking"' in r.text
    with session_scope(db_url) as s:
        after = [r.teacher_id for r in s.exec(select(RankingRow).where(RankingRow.vacancy_id == "V00001").order_by(RankingRow.rank))]
        log = s.exec(select(AuditLog).where(AuditLog.entity == "ranking")).all()
    assert after == before[:-1] + ["T00100", before[-1]] if before else after == ["T00100"]
    assert log[-1].actor == "p1" and json.loads(log[-1].after_json) == after
    bad = p1.post(url, data={"teacher_id": "NOBODY", "action": "add"})
    assert bad.status_code == 422 and "is not a teacher in the pool" in bad.text
    odd = p1.post(url, data={"teacher_id": "T00100", "action": "shuffle"})
    assert odd.status_code == 422 and "must be add, remove, up or down" in odd.text


def test_interview_log_validates_and_reports_the_minimum(as_):
    p1 = as_("p1")
    url = "/schools/S0001/vacancies/V00001/interviews"
    ok = p1.post(url, data={"teacher_id": "T00002", "held_on": "2026-04-10"})
    assert ok.status_code == 200 and "displaced teacher(s) interviewed" in ok.text
    future = p1.post(url, data={"teacher_id": "T00002", "held_on": "2999-01-01"})
    assert future.status_code == 422 and "in the future" in future.text
    garbled = p1.post(url, data={"teacher_id": "T00002", "held_on": "tomorrow"})
    assert garbled.status_code == 422 and "expected a date" in garbled.text


def test_json_api_for_the_same_operations(as_):
    hr = as_("hr")
    assert hr.get("/api/me").json()["role"] == "hr"
    pool = hr.get("/api/pool?status=displaced").json()
    assert pool["summary"]["teachers"] == len(pool["teachers"]) > 0
    assert hr.get("/api/vacancies?certification=MATH").status_code == 200
    started = hr.post("/api/runs", json={"scenario": "district_rules", "time_limit": 5})
    assert started.status_code == 202
    run = hr.get(f"/api/runs/{started.json()['id']}").json()
    assert run["status"] == "done" and len(run["placements"]) == 100
    audit = hr.get(f"/api/runs/{run['id']}/audit?reason=certification").json()
    assert audit and all(row["lawful_reason"].startswith("certification") for row in audit)
    assert len(audit) < len(hr.get(f"/api/runs/{run['id']}/audit").json())
    assert hr.get("/api/runs/999").status_code == 404
    p1 = as_("p1")
    signed_in = p1.post("/api/login", json={"username": "p1", "password": password_of("p1")})
    assert signed_in.status_code == 200
    p1.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]  # a new sign-in has a new token
    assert p1.put("/api/schools/S0001/vacancies/V00001/ranking", json={"teacher_ids": ["T00100"]}).json()["teacher_ids"] == ["T00100"]
    current = p1.get("/api/schools/S0001/vacancies/V00001/ranking").json()
    assert current["teacher_ids"] == ["T00100"]
    stale = p1.put("/api/schools/S0001/vacancies/V00001/ranking", json={"teacher_ids": [], "version": current["version"] - 1})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    fresh = p1.put("/api/schools/S0001/vacancies/V00001/ranking", json={"teacher_ids": ["T00100", "T00002"],
                                                                       "version": current["version"]})
    assert fresh.json()["version"] == current["version"] + 1
    bad = p1.put("/api/schools/S0001/vacancies/V00001/ranking", json={"teacher_ids": ["GHOST"]})
    assert bad.status_code == 422 and "GHOST" in bad.text
    assert as_().post("/api/login", json={"username": "hr", "password": "x"}).status_code == 401
    assert hr.get("/openapi.json").json()["paths"]["/api/runs"]


def test_union_exports_the_audit_as_csv(as_):
    as_("hr").post("/api/runs", json={"time_limit": 5})
    r = as_("union").get("/audit/1.csv?reason=model exempt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("vacancy_id,school_id,model,occupant_id")
    assert len(lines) > 1 and all("model exempt from seniority" in line for line in lines[1:])
    assert len(lines) < len(as_("union").get("/audit/1.csv").text.strip().splitlines())
    page = as_("union").get("/audit?run=1&school_id=S0001")
    assert page.status_code == 200 and "0 seniority violation(s)" in page.text


def test_a_tradeoff_analysis_whose_process_crashes_reports_it_and_can_be_started_again(tmp_path, db_url):
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    (report_dir / "running").write_text("hr")
    runner.tradeoffs_in_child(db_url, report_dir, target=abort_solver)
    state = runner.tradeoff_state(report_dir)
    assert not state["running"] and not state["ready"]
    assert state["error"] == "the analysis process stopped unexpectedly (signal SIGABRT); no report was written"


def test_hr_computes_and_reads_the_tradeoff_report(as_, tmp_path, monkeypatch):
    monkeypatch.setenv(runner.TRADEOFF_DRAWS_ENV, "1")  # keeps CI short; the analysis tests cover draws
    hr = as_("hr")
    hr.app.state.report_dir = tmp_path / "reports"
    assert "Compute on the current pool" in hr.get("/hr/tradeoffs").text
    page = hr.post("/hr/tradeoffs")  # the analysis runs as a background task, finished when TestClient returns
    assert page.status_code == 200 and "Findings" in page.text and "Scenario totals" in page.text
    assert 'href="/hr/tradeoffs/files/heat_map.svg"' in page.text and 'class="vl-spec"' in page.text
    assert hr.get("/hr/tradeoffs/files/heat_map.svg").headers["content-type"].startswith("image/svg")
    assert "vegaEmbed" in hr.get("/hr/tradeoffs/files/vega_bundle.js").text
    assert hr.get("/hr/tradeoffs/files/by_model.csv").status_code == 200
    # the full report under the app's CSP: its scripts come from this server, none is inline
    report = hr.get("/hr/tradeoffs/files/report.html")
    assert report.status_code == 200 and "script-src 'self'" in report.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>", report.text)
    assert scripts and all('src="' in a or 'type="application/json"' in a for a in scripts), scripts
    for src in re.findall(r'<script src="([^"]+)"', report.text):
        js = hr.get(f"/hr/tradeoffs/files/{src}")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"], src
    assert hr.get("/hr/tradeoffs/files/..%2Fsecret.txt").status_code == 404
    assert hr.get("/hr/tradeoffs/status").headers.get("HX-Refresh") == "true"
    union = as_("union")
    assert union.get("/hr/tradeoffs").status_code == 403 and union.post("/hr/tradeoffs").status_code == 403


def test_the_tradeoff_page_says_which_scenario_is_solving(as_, tmp_path, db_url, monkeypatch):
    monkeypatch.setenv(runner.TRADEOFF_DRAWS_ENV, "1")
    hr = as_("hr")
    report_dir = hr.app.state.report_dir = tmp_path / "reports"
    report_dir.mkdir()
    (report_dir / "running").write_text("hr")  # as the analysis's process leaves them while it solves
    (report_dir / "progress.txt").write_text("solving scenarios: all_traditional (3 of 8)")
    assert "solving scenarios: all_traditional (3 of 8)" in hr.get("/hr/tradeoffs/status").text
    assert "all_traditional (3 of 8)" in hr.get("/hr/tradeoffs").text

    notes: list[str] = []  # the analysis's own work (here in this process): a note a round, none left at the end
    replace = runner._replace
    monkeypatch.setattr(runner, "_replace", lambda path, text: (notes.append(text), replace(path, text)))
    runner.compute_tradeoffs(db_url, report_dir)
    assert notes[0].startswith("solving scenarios: 1 of ") and len(notes) > 2
    assert notes[-1] == "writing the report: findings, charts and tables"
    state = runner.tradeoff_state(report_dir)
    assert state["ready"] and not state["running"] and state["progress"] is None
    assert not (report_dir / "progress.txt").exists()


def test_committee_member_reads_own_school_votes_but_cannot_edit_the_committee_list(as_):
    c1 = as_("c1")
    assert c1.get("/", follow_redirects=False).headers["location"] == "/schools/S0001"
    page = c1.get("/schools/S0001/vacancies/V00001")
    assert page.status_code == 200 and "Committee members' ballots" in page.text and "name=\"vote-" in page.text
    assert 'name="add-' not in page.text and 'name="adopt"' not in page.text and "Log interview" not in page.text
    assert c1.get("/schools/S0002").status_code == 403
    assert c1.post("/schools/S0001/vacancies/V00001/ranking", data={"teacher_id": "T00001", "action": "add"}).status_code == 403
    assert c1.post("/schools/S0001/vacancies/V00001/adopt").status_code == 403
    assert c1.post("/schools/S0001/vacancies/V00001/interviews", data={"teacher_id": "T00001"}).status_code == 403
    voted = c1.post("/schools/S0001/vacancies/V00001/ballot", data={"teacher_id": "T00100", "action": "add"})
    assert voted.status_code == 200 and "c1 (you)" in voted.text
    assert c1.post("/schools/S0002/vacancies/V00002/ballot", data={"teacher_id": "T00100", "action": "add"}).status_code == 403
    for user in ("hr", "union"):
        assert as_(user).post("/schools/S0001/vacancies/V00001/ballot",
                              data={"teacher_id": "T00100", "action": "add"}).status_code == 403


def test_consensus_committee_adopts_the_majority_decision(as_, db_url):
    # S0004 is a local-initiative school with a consensus committee of seven (RULES.md: majority of the full
    # roster, quorum, Borda order)
    url = "/schools/S0004/vacancies/V00004"

    def vote(voter, ballot):
        client = as_(voter)
        for tid in ballot:
            assert client.post(f"{url}/ballot", data={"teacher_id": tid, "action": "add"}).status_code == 200

    for voter, ballot in (("c4a", ["T00005", "T00031"]), ("c4b", ["T00031", "T00005", "T00100"]),
                          ("p4", ["T00031", "T00062"])):
        vote(voter, ballot)
    p4 = as_("p4")
    waiting = p4.post(f"{url}/adopt")
    assert waiting.status_code == 422 and "no quorum: 3 of the committee&#39;s 7 members have voted" in waiting.text
    vote("c4c", ["T00031", "T00005"])
    ballots = p4.get("/api/schools/S0004/vacancies/V00004/ballots").json()
    # T00005 is on 3 of 4 ballots cast, but not on a majority (4) of the roster of 7
    assert ballots["rule"] == "consensus" and ballots["decision"] == ["T00031"]
    adopted = p4.post(f"{url}/adopt")
    assert adopted.status_code == 200 and "T00031" in adopted.text
    assert p4.get("/api/schools/S0004/vacancies/V00004/ranking").json()["teacher_ids"] == ["T00031"]
    with session_scope(db_url) as s:
        logged = {(a.entity, a.actor) for a in s.exec(select(AuditLog))}
    assert {("ballot", "c4a"), ("ballot", "c4b"), ("ballot", "p4"), ("ranking", "p4")} <= logged
    bad = as_("c4a").put("/api/schools/S0004/vacancies/V00004/ballot", json={"teacher_ids": ["T00005", "T00005"]})
    assert bad.status_code == 422 and "appears twice" in bad.text
    # the principal cannot bypass the consensus rule by editing the committee's ranking
    bypass = p4.put("/api/schools/S0004/vacancies/V00004/ranking", json={"teacher_ids": ["T00062"]})
    assert bypass.status_code == 422 and "selects by consensus" in bypass.text
    clicked = p4.post(f"{url}/ranking", data={"teacher_id": "T00062", "action": "add"})
    assert clicked.status_code == 422 and "selects by consensus" in clicked.text
    assert p4.get("/api/schools/S0004/vacancies/V00004/ranking").json()["teacher_ids"] == ["T00031"]


def test_principal_rule_waits_for_the_principal(as_):
    # S0001 is an independent charter: the principal decides
    c1 = as_("c1")
    c1.post("/schools/S0001/vacancies/V00001/ballot", data={"teacher_id": "T00100", "action": "add"})
    p1 = as_("p1")
    waiting = p1.post("/schools/S0001/vacancies/V00001/adopt")
    assert waiting.status_code == 422 and "principal has not cast a ballot" in waiting.text
    assert p1.post("/api/schools/S0001/vacancies/V00001/adopt").status_code == 409
    p1.put("/api/schools/S0001/vacancies/V00001/ballot", json={"teacher_ids": ["T00002"]})
    assert p1.post("/api/schools/S0001/vacancies/V00001/adopt").json()["teacher_ids"] == ["T00002"]


def test_principal_school_page_shows_the_schools_rule_row_and_waivers(as_):
    # S0004 is a local-initiative school in Los Angeles holding both its waivers (the seed grants them)
    page = as_("p4").get("/schools/S0004").text
    assert "Staffing rules of this school: LA LIS, Los Angeles" in page
    assert "<td>staff_selection</td><td>yes</td>" in page and "<td>consensus_committee</td><td>yes</td>" in page
    assert "consensus of the committee" in page and "the district&#39;s average salary" in page
    charter = as_("p1").get("/schools/S0001").text
    assert "no — the district neither fills its posts nor places teachers here" in charter
    assert "This model has no conditional autonomies." in charter


def test_committee_edits_work_as_plain_forms_and_as_htmx_panels(as_):
    """Without JavaScript a ranking, interview or ballot edit posts a form and comes back to the vacancy page
    (303), or gets the page with the reason in that panel (422); htmx gets the panel alone."""
    p1, c1 = as_("p1"), as_("c1")
    url = "/schools/S0001/vacancies/V00001"
    page = p1.get(url).text
    for route in ("ranking", "interviews", "ballot", "adopt"):
        assert f'method="post" action="{url}/{route}"' in page  # every control is a form
    for client, route, data, anchor in ((p1, "ranking", {"teacher_id": "T00100", "action": "add"}, "ranking"),
                                        (p1, "interviews", {"teacher_id": "T00002", "held_on": "2026-04-10"},
                                         "interviews"),
                                        (c1, "ballot", {"teacher_id": "T00100", "action": "add"}, "ballots")):
        r = client.post(f"{url}/{route}", data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"{url}#{anchor}", route
    after = p1.get(url).text
    ranking = after[after.index('<div id="ranking">'):after.index('<div id="interviews">')]
    assert "T00100" in ranking
    bad = p1.post(f"{url}/interviews", data={"teacher_id": "Nobody At All", "held_on": "2026-04-01"},
                  follow_redirects=False)
    assert bad.status_code == 422 and "<html" in bad.text
    interviews = bad.text[bad.text.index('<div id="interviews">'):bad.text.index('<div id="ballots">')]
    assert "Nobody At All" in interviews and 'role="alert"' in interviews
    ranking = bad.text[bad.text.index('<div id="ranking">'):bad.text.index('<div id="interviews">')]
    assert 'role="alert"' not in ranking  # the reason shows in its own panel only
    htmx = p1.post(f"{url}/ranking", data={"teacher_id": "T00100", "action": "up"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx.text.lstrip().startswith('<div id="ranking">') and "<html" not in htmx.text


def test_compare_without_two_runs_says_what_to_do_instead_of_an_error(as_):
    page = as_("hr").get("/hr/compare")
    assert page.status_code == 200 and "Nothing to compare yet" in page.text and 'href="/hr/runs"' in page.text
    assert 'role="alert">' not in page.text.replace('<div id="flash" class="error" role="alert" hidden>', "")


def test_a_refused_page_says_which_accounts_it_is_for(as_):
    page = as_("union").get("/hr")
    assert page.status_code == 403 and "a union account may not open this page: it is for HR accounts" in page.text
    change = as_("union").post("/schools/S0001/vacancies/V00001/ballot", data={"teacher_id": "T00100", "action": "add"})
    assert change.status_code == 403 and "may not make this change: it is for principal or committee member" \
        in change.text
