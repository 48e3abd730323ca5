"""The ``staffing`` command line (FORMATS.md).

Every command turns bad input into a clear message and exit code 2, never a traceback, and every command
that writes does so in one transaction.  The database is ``STAFFING_DATABASE_URL`` or ``--database-url``;
its schema is brought up to date (Alembic) before any command touches it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from staffing.settings import get_settings
from staffing.validation import ValidationError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Teacher hiring pool, placement solver and staffing-autonomy analysis.")

DbOption = Annotated[str | None, typer.Option("--database-url", envvar="STAFFING_DATABASE_URL",
                                              help="SQLAlchemy URL; default: SQLite file staffing.db here")]
ProgressOption = Annotated[bool, typer.Option("--progress/--quiet",
                                              help="say on stderr what the solve is doing while it runs")]
#: Problems printed for a rejected input; the rest are counted.
MAX_PRINTED = 100
#: Seconds between two progress lines of the same step (a new step is always shown at once).
PROGRESS_INTERVAL = 5.0


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def progress_lines(show: bool) -> Iterator[Callable[[str, str], None]]:
    """A progress listener (:mod:`solver.progress`) that writes to stderr, with the seconds since the start.

    Why: a district round runs for minutes, and HR at a terminal should see it working and where.  stderr, so
    that stdout keeps only the figures, which scripts read."""
    from solver.progress import Throttled, describe, silent

    if not show:
        yield silent
        return
    t0 = time.monotonic()
    lines = Throttled(lambda step, detail: typer.echo(f"  [{time.monotonic() - t0:4.0f} s] {describe(step, detail)}",
                                                      err=True), PROGRESS_INTERVAL)
    try:
        yield lines
    finally:
        lines.flush()


@contextmanager
def user_errors() -> Iterator[None]:
    """Known failure modes become a message and exit code 2."""
    from staffing.services import NotFound, StaleVersion
    from staffing.store import DistrictExists

    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except ValidationError as exc:
        total = len(exc.problems) + exc.more
        typer.echo(f"error: {total} problem(s) found; nothing was written:", err=True)
        for problem in exc.problems[:MAX_PRINTED]:
            typer.echo(f"  {problem}", err=True)
        if total > MAX_PRINTED:
            typer.echo(f"  ... and {total - MAX_PRINTED} more problem(s) (the first {MAX_PRINTED} are shown)", err=True)
        raise typer.Exit(2) from None
    except (NotFound, StaleVersion, DistrictExists, KeyError, ValueError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        fail(str(message))
    except DBAPIError as exc:  # busy past the retries, unreachable, or a value the database refuses
        from staffing.db import is_busy

        if is_busy(exc):
            fail("the database is busy: another program kept it locked; nothing was changed, try again")
        fail(f"the database refused the operation, nothing was changed: {str(exc.orig).strip().splitlines()[0]}")


def _db(url: str | None) -> str:
    from staffing.db import database_url, init_db

    url = url or database_url()
    init_db(url)
    return url


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    from staffing.csvsafe import write_rows

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        write_rows(fh, rows, columns)  # formula-like text cells neutralised (staffing.csvsafe)
    tmp.replace(path)  # never a half-written file


def _print_figures(figures: dict[str, Any]) -> None:
    from solver.solve_figures import SolveFigures, describe_gap, describe_round, describe_stage
    from staffing.runs import wall_clock_cuts

    shown = {k: v for k, v in figures.items() if k != "solve"}
    width = max(len(k) for k in shown)
    for key, value in shown.items():
        typer.echo(f"  {key:<{width}}  {value}")
    solve = SolveFigures.from_dict(figures.get("solve"))
    if solve.stages:
        for line in describe_round(solve):
            typer.echo(f"  {line}")
        for name, stage in solve.stages.items():
            typer.echo(f"    {describe_stage(name, stage)}")
        for proven in solve.proven_gaps():
            typer.echo(f"  {describe_gap(proven)}")
        if cut := wall_clock_cuts(solve):
            typer.echo(f"  warning: {cut}", err=True)


@app.command("init-db")
def init_db_cmd(database_url: DbOption = None) -> None:
    """Create or upgrade the database schema."""
    with user_errors():
        url = _db(database_url)
    typer.echo(f"database ready: {url}")


@app.command()
def seed(size: Annotated[str, typer.Option(help="small (20 schools), region (100), city (150), mid (300), district (1,000) or state (6,000 schools, 50,000 teachers)")] = "small",
         seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same district")] = 7,
         out: Annotated[Path, typer.Option(help="bundle folder to write")] = Path("seed_data/small"),
         rosters: Annotated[bool, typer.Option(help="give every school its employed teachers (a roster)")] = True,
         rating_weight: Annotated[float, typer.Option(help="committees rank by a noisy view of teachers' ratings "
                                                           "with this weight (1.0: the trade-off analysis's "
                                                           "calibrated pool; 0: as before)")] = 0.0,
         city: Annotated[str | None, typer.Option(help="only this city's school models (boston, los_angeles, "
                                                       "memphis, denver, springfield)")] = None) -> None:
    """Write a generated district bundle."""
    from staffing.bundle import write_bundle
    from staffing.seed import generate

    with user_errors():
        district = generate(size, seed, rosters=rosters, city=city, rating_weight=rating_weight)
        write_bundle(district, out)
    pool = sum(t.in_pool for t in district.teachers.values())
    typer.echo(f"wrote {out}: {len(district.schools)} schools, {pool} pool teachers, "
               f"{len(district.teachers) - pool} employed teachers on rosters, {len(district.vacancies)} vacancies")


@app.command("import")
def import_cmd(folder: Path,
               replace: Annotated[bool, typer.Option(help="replace the district already in the database")] = False,
               update: Annotated[bool, typer.Option(help="add and change rows, keep the season (runs, offers, "
                                                         "accounts, audit trail)")] = False,
               database_url: DbOption = None) -> None:
    """Load a bundle: all or nothing; every bad row is reported with file, line and column."""
    from staffing.bundle import read_bundle
    from staffing.db import retrying
    from staffing.locks import command_lock
    from staffing.store import save_district
    from staffing.update import update_district

    with user_errors():
        if replace and update:
            raise ValueError("--replace starts a new district and --update keeps the season: choose one")
        district = read_bundle(folder, limits=get_settings())
        url = _db(database_url)
        actor = os.environ.get("USER", "import")
        with command_lock(url, "import", get_settings().command_wait_seconds):
            if update:
                summary = retrying(url, lambda session: update_district(session, district, actor),
                                   say=lambda m: typer.echo(m, err=True))
            else:
                notes = retrying(url, lambda session: save_district(session, district, replace=replace, actor=actor),
                                 say=lambda m: typer.echo(m, err=True))
    if update:
        typer.echo(f"updated from {folder}: {summary.text()}")
        return
    outside = sum(1 for t in district.teachers.values() if t.is_outside_candidate)
    pool = sum(t.in_pool for t in district.teachers.values()) - outside
    typer.echo(f"imported {folder}: {len(district.schools)} schools, {pool} pool teachers, "
               f"{len(district.teachers) - pool - outside} employed, "
               f"{len(district.vacancies)} vacancies, {len(district.rankings)} rankings"
               + (f", {outside} outside candidates" if outside else ""))
    for line in notes.lines():
        typer.echo(f"  {line}")


@app.command("export")
def export_cmd(folder: Path, database_url: DbOption = None) -> None:
    """Write the district in the database as a bundle (backup; `import` restores it)."""
    from staffing.bundle import write_bundle
    from staffing.db import session_scope
    from staffing.store import load_district

    with user_errors():
        with session_scope(_db(database_url)) as session:
            district = load_district(session, open_only=False)
        write_bundle(district, folder)
    typer.echo(f"exported to {folder}")


app.command("export-bundle", help="Same as `export`.")(export_cmd)


@app.command()
def place(scenario: Annotated[str, typer.Option(help="named policy scenario")] = "district_rules",
          time_limit: Annotated[float, typer.Option(help="solver time limit in seconds")] = 30.0,
          method: Annotated[str, typer.Option(help="cpsat, or a baseline: teacher_da, school_da, max_welfare")] = "cpsat",
          parallel: Annotated[bool, typer.Option(help="search on both cores against the wall clock (a 30 s "
                                                      "round takes 30 s, but answers are weaker on large rounds "
                                                      "and a replay may differ); where they fit 65 % of the "
                                                      "limit at nominal speed, the settled pricing's iterations "
                                                      "run inside it (300-school rounds at 30 s, the district "
                                                      "from about 26 s)")] = False,
          side_by_side: Annotated[bool, typer.Option(
              help="run CP-SAT's tasks two at a time, side by side, instead of one at a time: a replay may then "
                   "differ where the last batch of a search stopped")] = False,
          bound_seconds: Annotated[float, typer.Option(
              help="after the search, seconds spent proving how close the answer is to the best lawful one "
                   "(Lagrangian bound with seniority, for rounds too big for the exact LP); changes no "
                   "placement")] = 0.0,
          settled_pricing: Annotated[int | None, typer.Option(
              help="Lagrangian iterations run before the search on rounds too large for the full pricing "
                   "(300 schools and more at 30 s), charged to a deterministic budget as the quick pricing's 4: the "
                   "pairs of their last relaxed assignment join the model and their bound proves the reserve "
                   "stage's gap (on the district 100 take about 25 s); 0 is off, which runs the quick pricing and "
                   "the bound beside the search instead; default: the scenario's")] = None,
          bound_beside_search: Annotated[int | None, typer.Option(
              help="with --settled-pricing 0: Lagrangian iterations of the reserve stage's bound run during a "
                   "deterministic search with the quick pricing, on the core it leaves idle, so the round proves "
                   "its own gap (on the district 100 take about 100 s and make the search 14-38 % slower); 0 is "
                   "off; changes no placement; default: the scenario's")] = None,
          settings: Annotated[str, typer.Option(
              help="solver settings preset: default, first_recorded (the engine of the first recorded runs), "
                   "side_by_side (as --side-by-side) or quick (no pricing, no bound work); the options above "
                   "change single values of it")] = "default",
          out: Annotated[Path, typer.Option(help="placements CSV to write")] = Path("placements.csv"),
          database_url: DbOption = None, progress: ProgressOption = True) -> None:
    """Run a placement round, record it, write the placements and print the figures."""
    from solver.policy import scenario as named
    from solver.settings import DETERMINISTIC, PARALLEL
    from staffing.locks import command_lock
    from staffing.runs import run_placement_outside_transactions

    with user_errors():
        if parallel and side_by_side:
            raise ValueError("--side-by-side is a way of running the deterministic search: leave out --parallel")
        knobs = {knob: value for knob, value in (("settled_pricing_iterations", settled_pricing),
                                                 ("bound_beside_search", bound_beside_search),
                                                 ("bound_seconds", bound_seconds or None),
                                                 ("interleave_batch", 0 if side_by_side else None))
                 if value is not None}
        policy = named(scenario).with_(time_limit=time_limit, search=PARALLEL if parallel else DETERMINISTIC)
        policy = policy.with_settings(settings, **knobs)
        url = _db(database_url)
        # one writing command at a time; the solve itself holds no transaction (web users keep working)
        with command_lock(url, "place", get_settings().command_wait_seconds), progress_lines(progress) as listener:
            outcome = run_placement_outside_transactions(url, policy, actor=os.environ.get("USER", "cli"),
                                                         method=method, progress=listener)
        _write_csv(out, outcome.result.as_rows(), ("teacher_id", "vacancy_id", "school_id", "kind", "reason"))
    typer.echo(f"run {outcome.run.id} ({scenario}, {method}) recorded; placements written to {out}")
    typer.echo(f"  {policy.search} search, solver settings {policy.settings.describe()}")
    _print_figures(outcome.figures)
    if outcome.violations:
        typer.echo(f"  WARNING: {len(outcome.violations)} rule violation(s) found by the checker", err=True)


@app.command()
def audit(run: Annotated[int | None, typer.Option(help="run id; default the newest run")] = None,
          out: Annotated[Path, typer.Option(help="audit CSV to write")] = Path("audit.csv"),
          database_url: DbOption = None) -> None:
    """Write the seniority audit of a run: every more-senior teacher passed over, with the lawful reason."""
    from solver.audit import AUDIT_COLUMNS, audit_rows
    from staffing.db import session_scope
    from staffing.runs import audit_run, get_run

    with user_errors():
        with session_scope(_db(database_url)) as session:
            record = get_run(session, run)
            rows = audit_run(session, record)
        _write_csv(out, audit_rows(rows), AUDIT_COLUMNS)
    violations = sum(1 for r in rows if r.lawful_reason.startswith("VIOLATION"))
    typer.echo(f"audit of run {record.id}: {len(rows)} passed-over rows, {violations} violation(s); written to {out}")


@app.command()
def placements(run: Annotated[int | None, typer.Option(help="run id; default the newest run")] = None,
               out: Annotated[Path, typer.Option(help="placements CSV to write")] = Path("placements.csv"),
               database_url: DbOption = None) -> None:
    """Export the placements of a recorded run (the same columns as `place` writes)."""
    from staffing.db import session_scope
    from staffing.runs import get_run, stored_result

    with user_errors():
        with session_scope(_db(database_url)) as session:
            record = get_run(session, run)
            result = stored_result(session, record)
        _write_csv(out, result.as_rows(), ("teacher_id", "vacancy_id", "school_id", "kind", "reason"))
    typer.echo(f"run {record.id}: {len(result.placed)} placements, {len(result.assignments) - len(result.placed)} "
               f"unplaced; written to {out}")


@app.command()
def replay(run_id: int, database_url: DbOption = None, progress: ProgressOption = True) -> None:
    """Re-solve a recorded run from its stored snapshot and compare the placements."""
    from staffing.db import session_scope
    from staffing.runs import get_run, recorded_figures, replay as do_replay, run_snapshot, search_mode, wall_clock_cuts

    with user_errors():
        with session_scope(_db(database_url)) as session:
            record = get_run(session, run_id)
            with progress_lines(progress) as listener:
                outcome = do_replay(session, record, listener)
    if outcome.diffs:
        policy = run_snapshot(record)[1]
        if search_mode(record) == "parallel":
            typer.echo(f"note: run {run_id} was solved in parallel mode (--parallel), which is not reproducible "
                       "when the time limit stops the search", err=True)
        elif policy.settings.interleave_batch != 1:
            typer.echo(f"note: run {run_id} ran CP-SAT's tasks side by side; where the budget stopped a search, "
                       "the last batch depends on thread timing (newer runs run them one at a time)",
                       err=True)
        recorded, replayed = recorded_figures(record), outcome.result.solve
        for when, solve in (("recorded run", recorded), ("replay", replayed)):
            if cut := wall_clock_cuts(solve):
                typer.echo(f"note: in the {when}, {cut}", err=True)
        typer.echo(f"run {run_id}: {len(outcome.diffs)} placement(s) differ on replay", err=True)
        typer.echo("  stage objectives, recorded -> replayed: " + ", ".join(
            f"{stage} {old:,} -> {new:,}" for stage, (old, new) in outcome.objectives.items()), err=True)
        work = {stage: (row.deterministic_seconds, getattr(replayed.stages.get(stage), "deterministic_seconds", None))
                for stage, row in recorded.stages.items()}
        if work and all(old is not None for old, _ in work.values()):  # older recorded runs lack it
            typer.echo("  search work in deterministic seconds, recorded -> replayed: " + ", ".join(
                f"{stage} {old} -> {new}" for stage, (old, new) in work.items()), err=True)
        if v := next(iter(outcome.recorded_violations), None):
            typer.echo(f"  the recorded placements break the rules {len(outcome.recorded_violations)} time(s), "
                       f"e.g. {v.rule} {v.teacher_id}: {v.detail}", err=True)
        elif outcome.equally_good:
            typer.echo("  the replay found other placements exactly as good under the rules in every stage", err=True)
        for tid, before, after in outcome.diffs[:20]:
            typer.echo(f"  {tid}: recorded {before or 'unplaced'}, replayed {after or 'unplaced'}", err=True)
        raise typer.Exit(1)
    typer.echo(f"run {run_id}: replay reproduces all placements (snapshot {record.snapshot_hash[:12]})")


@app.command()
def runs(database_url: DbOption = None) -> None:
    """List recorded placement runs: method, scenario, label (draft, published, stale, superseded), lawful."""
    from sqlmodel import select

    from staffing.db import session_scope
    from staffing.db_models import PlacementRun
    from staffing.runs import fail_interrupted_runs

    from staffing.season import run_labels

    with user_errors():
        with session_scope(_db(database_url)) as session:
            fail_interrupted_runs(session)  # a run whose process was killed shows as failed, with why
            records = session.exec(select(PlacementRun).order_by(PlacementRun.id)).all()
            labels = run_labels(session, list(records))
    for r in records:
        figures = json.loads(r.figures_json)
        label = labels[r.id]  # type: ignore[index]
        outcome = (f"{label.text:<24} placed {figures.get('placed')}"
                   if r.status == "done" else r.status + (f": {figures['error']}" if "error" in figures else ""))
        typer.echo(f"{r.id:>4}  {r.created_at:%Y-%m-%d %H:%M}  {r.scenario:<24} {r.solver_version.split('/')[-1]:<12} "
                   f"{outcome}")


@app.command()
def publish(run_id: int, database_url: DbOption = None) -> None:
    """Publish a round: its placements become offers (only a lawful run whose snapshot is still current)."""
    from staffing.db import session_scope
    from staffing.season import publish as do_publish

    with user_errors():
        with session_scope(_db(database_url)) as session:
            run, offers = do_publish(session, run_id, os.environ.get("USER", "cli"))
            deadline = offers[0].deadline if offers else None
    typer.echo(f"run {run.id} published: {len(offers)} offer(s)"
               + (f", to be answered by {deadline:%Y-%m-%d %H:%M} UTC" if deadline else ""))


@app.command()
def respond(teacher_id: str, answer: Annotated[str, typer.Argument(help="accept or decline (refuse: a forced placement)")],
            database_url: DbOption = None) -> None:
    """Answer a teacher's pending offer."""
    from staffing.db import session_scope
    from staffing.season import respond as do_respond

    with user_errors():
        with session_scope(_db(database_url)) as session:
            offer = do_respond(session, teacher_id, answer, os.environ.get("USER", "cli"))
            line = f"{teacher_id}: offer of {offer.vacancy_id} at {offer.school_id} ({offer.kind}, run {offer.run_id}) {offer.status}"
            if offer.vacated_vacancy_id:
                line += f"; their former post is now open vacancy {offer.vacated_vacancy_id}"
    typer.echo(line)


season_app = typer.Typer(help="The staffing season: phase, rounds, offers (no subcommand: print its state).",
                         invoke_without_command=True)
app.add_typer(season_app, name="season")


@season_app.callback()
def season(ctx: typer.Context, database_url: DbOption = None) -> None:
    """Print the season's state: phase, rounds, offers by status, open posts, pool, must-place still unplaced."""
    if ctx.invoked_subcommand is not None:
        return
    from staffing.db import session_scope
    from staffing.season import lapse_due, state

    with user_errors():
        with session_scope(_db(database_url)) as session:
            lapsed = lapse_due(session)
            st = state(session)
    if lapsed:
        typer.echo(f"{len(lapsed)} offer(s) reached their deadline and were settled now")
    typer.echo(f"phase: {st.phase}  (forced placements {'allowed' if st.forced_allowed else 'not allowed'} in "
               f"this phase; forced_placement={st.forced_placement}, response days {st.response_days}, "
               f"unanswered offers become {st.unanswered})")
    typer.echo(f"rounds published: {len(st.rounds)}" + "".join(
        f"\n  run {r['run_id']}: {r['offers']} offers, by {r['published_by']}" for r in st.rounds))
    typer.echo("offers: " + (", ".join(f"{k} {v}" for k, v in st.offers_by_status.items()) or "none"))
    typer.echo(f"open posts: {st.open_posts}")
    typer.echo("pool: " + (", ".join(f"{k} {v}" for k, v in st.pool_by_status.items()) or "empty")
               + (f"; {len(st.left_pool)} left the pool" if st.left_pool else ""))
    typer.echo(f"must-place still unplaced: {len(st.must_place_unplaced)}"
               + (f" ({', '.join(st.must_place_unplaced[:20])}{' ...' if len(st.must_place_unplaced) > 20 else ''})"
                  if st.must_place_unplaced else ""))


@season_app.command("advance")
def season_advance(to: Annotated[str | None, typer.Argument(help="phase to move to; default the next")] = None,
                   database_url: DbOption = None) -> None:
    """Move the season to a later phase (never back)."""
    from staffing.db import session_scope
    from staffing.season import PHASES, advance_phase

    with user_errors():
        with session_scope(_db(database_url)) as session:
            row = advance_phase(session, to, os.environ.get("USER", "cli"))
            phase = row.phase
    typer.echo(f"season phase: {phase}  ({' -> '.join(PHASES)})")


@season_app.command("set")
def season_set(response_days: Annotated[int | None, typer.Option(help="days to answer an offer")] = None,
               unanswered: Annotated[str | None, typer.Option(help="what an unanswered offer becomes: lapsed or accepted")] = None,
               forced_placement: Annotated[str | None, typer.Option(help="any_round or final_phase")] = None,
               database_url: DbOption = None) -> None:
    """Change the district's season settings."""
    from staffing.db import session_scope
    from staffing.season import configure

    with user_errors():
        with session_scope(_db(database_url)) as session:
            row = configure(session, os.environ.get("USER", "cli"), response_days, unanswered, forced_placement)
            text = f"response days {row.response_days}, unanswered -> {row.unanswered}, forced_placement {row.forced_placement}"
    typer.echo(f"season settings: {text}")


@app.command()
def compare(scenario: Annotated[str, typer.Option(help="named policy scenario")] = "district_rules",
            time_limit: Annotated[float, typer.Option()] = 30.0,
            database_url: DbOption = None) -> None:
    """Solve the current pool with CP-SAT and every baseline, side by side (nothing is recorded)."""
    from solver import METHODS
    from solver.policy import scenario as named
    from staffing.db import session_scope
    from staffing.runs import evaluate
    from staffing.store import load_district

    with user_errors():
        with session_scope(_db(database_url)) as session:
            district = load_district(session)
        policy = named(scenario).with_(time_limit=time_limit)
        keys = ("placed", "must_place_placed", "return_rights_honoured", "reserve_cost", "teacher_satisfaction",
                "committee_top_share", "rule_violations")
        typer.echo(f"{'method':<12} " + " ".join(f"{k:>22}" for k in keys) + f" {'seconds':>8}")
        for method in METHODS:
            _, result, figures, _, _ = evaluate(district, policy, method)
            typer.echo(f"{method:<12} " + " ".join(f"{figures[k]!s:>22}" for k in keys)
                       + f" {result.solve.total_time:>8}")


@app.command()
def tradeoffs(size: Annotated[str, typer.Option(help="small, region, city, mid or district")] = "small",
              seed: Annotated[int, typer.Option(help="seed of the first draw")] = 7,
              draws: Annotated[int, typer.Option(help="districts drawn; every scenario is solved on each")] = 20,
              time_limit: Annotated[float, typer.Option(help="deterministic solver seconds per scenario")] = 2.0,
              city: Annotated[str | None, typer.Option(
                  help="boston, los_angeles, memphis, denver or springfield: that city's models, rules and "
                       "scenarios; default a mixed district")] = None,
              scenario: Annotated[list[str] | None, typer.Option(help="scenario to include (repeat); default the "
                                                                      "city's whole set")] = None,
              rating_weight: Annotated[float, typer.Option(help="committees' weight on a teacher's rating "
                                                                "(0: uncalibrated)")] = 1.0,
              processes: Annotated[int, typer.Option(help="local worker processes (default: one per core)")] = 0,
              cluster: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786: "
                                                               "run the sweep there")] = None,
              out: Annotated[Path, typer.Option(help="report folder")] = Path("report"),
              progress: ProgressOption = True) -> None:
    """Staffing-autonomy trade-offs: every scenario on the same draws, paired differences with 95% intervals,
    an HTML report with findings and interactive charts (offline), PNG/SVG and CSV."""
    from staffing.analysis import run_tradeoffs, write_report
    from staffing.report import findings
    from staffing.sweep import default_processes

    with user_errors():
        if draws < 1:
            raise ValueError("--draws must be at least 1")
        if processes < 0:
            raise ValueError("--processes must be 0 (one per core) or more")
        report = run_tradeoffs(size, seed, draws, scenario, time_limit, city=city, rating_weight=rating_weight,
                               processes=processes or default_processes(), cluster=cluster, bar=progress)
        path = write_report(report, out)
    typer.echo(f"wrote {path} ({draws} draw(s), {report.totals['scenario'].nunique()} scenarios)")
    for sentence in findings(report):
        typer.echo(f"- {sentence}")


@app.command("demo-users")
def demo_users(password: Annotated[str, typer.Option(help="password for every demo user")] = "demo",
               database_url: DbOption = None) -> None:
    """Create the demo sign-ins (flagged as demo, refused when STAFFING_PRODUCTION is on): hr, union,
    principal.<school_id> and member.<school_id> for every school, and teacher.<teacher_id> for a few teachers of
    each status.  An existing account is never changed."""
    from staffing.db import session_scope
    create_demo_users = _web("web.auth").create_demo_users

    with user_errors():
        if get_settings().production:
            raise ValueError("STAFFING_PRODUCTION is on: demo accounts could not sign in; create real ones with "
                             "`staffing add-user`")
        with session_scope(_db(database_url)) as session:
            users, skipped = create_demo_users(session, password)
    teachers = [u.username for u in users if u.role == "teacher"]
    typer.echo(f"{len(users)} demo users (password {password!r}): hr, union, principal.<school_id>, "
               f"member.<school_id>, and teachers {', '.join(teachers) or '(none)'}")
    if skipped:
        typer.echo(f"{len(skipped)} existing account(s) left as they were: {', '.join(skipped[:10])}"
                   + (" ..." if len(skipped) > 10 else ""))


@app.command("add-user")
def add_user(username: str, role: Annotated[str, typer.Option(help="hr, principal, committee, union or teacher")],
             school: Annotated[str | None, typer.Option(help="the principal's or committee member's school id")] = None,
             teacher: Annotated[str | None, typer.Option(help="the teacher id a teacher user signs in as")] = None,
             display_name: Annotated[str, typer.Option(help="name shown in the app")] = "",
             password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                                   envvar="STAFFING_NEW_PASSWORD",
                                                   help="asked for when not given (or STAFFING_NEW_PASSWORD)")] = "",
             database_url: DbOption = None) -> None:
    """Create a sign-in for the web app (the password needs STAFFING_MIN_PASSWORD_LENGTH characters, default 10)."""
    from staffing.db import session_scope
    create_user = _web("web.auth").create_user

    with user_errors():
        with session_scope(_db(database_url)) as session:
            create_user(session, username, password, role, school, display_name=display_name,
                        actor=os.environ.get("USER", "cli"), teacher_id=teacher)
    typer.echo(f"user {username} ({role}) created")


@app.command()
def passwd(username: str,
           password: Annotated[str, typer.Option(prompt="New password", hide_input=True, confirmation_prompt=True,
                                                 envvar="STAFFING_NEW_PASSWORD",
                                                 help="asked for when not given (or STAFFING_NEW_PASSWORD)")] = "",
           database_url: DbOption = None) -> None:
    """Set a user's password (e.g. a forgotten one) and end all of their sessions."""
    from staffing.db import session_scope
    change_password = _web("web.auth").change_password

    with user_errors():
        with session_scope(_db(database_url)) as session:
            change_password(session, username, None, password, actor=os.environ.get("USER", "cli"))
    typer.echo(f"password of {username} changed; their sessions were ended")


@app.command()
def users(database_url: DbOption = None) -> None:
    """List the sign-ins: name, role, school or teacher (never passwords)."""
    from sqlmodel import select

    from staffing.db import session_scope
    from staffing.db_models import UserRow

    with user_errors():
        with session_scope(_db(database_url)) as session:
            rows = [(u.username, u.role, u.school_id or "", u.teacher_id or "", u.display_name)
                    for u in session.exec(select(UserRow).order_by(UserRow.role, UserRow.username))]
    typer.echo(f"{'username':<24} {'role':<10} {'school':<8} {'teacher':<8} name")
    for name, role, school, teacher, display in rows:
        typer.echo(f"{name:<24} {role:<10} {school:<8} {teacher:<8} {display}")
    typer.echo(f"{len(rows)} user(s)")


NOTICE_OPTION = Annotated[Path | None, typer.Option("--out", help="write the notices as CSV")]


@app.command()
def excess(school_id: str, certification: str, n: int,
           teachers: Annotated[str | None, typer.Option(help="ID,ID,...: the teachers the principal names, where "
                                                              "the school's model may dismiss to the pool")] = None,
           out: NOTICE_OPTION = None, database_url: DbOption = None) -> None:
    """Cut N posts in CERTIFICATION at SCHOOL_ID: who goes follows the school's model (docs/excessing.md)."""
    from staffing.db import session_scope
    from staffing.excessing import NOTICE_COLUMNS, excess as run_excess, notice_dict

    with user_errors():
        with session_scope(_db(database_url)) as session:
            outcome = run_excess(session, school_id, certification, n,
                                 teachers.split(",") if teachers else None, actor=os.environ.get("USER", "cli"))
            rows = [notice_dict(session, x) for x in outcome.notices]
            summary = _outcome_lines(outcome)
        if out is not None:
            _write_csv(out, rows, NOTICE_COLUMNS)
    typer.echo("\n".join(summary))
    if out is not None:
        typer.echo(f"notices written to {out}")


@app.command()
def dismiss(school_id: str, teacher_id: str,
            reason: Annotated[str, typer.Option(help="why (recorded on the notice)")] = "",
            out: NOTICE_OPTION = None, database_url: DbOption = None) -> None:
    """Dismiss an employed teacher to the pool, where the school's model allows it; the post opens again."""
    from staffing.db import session_scope
    from staffing.excessing import NOTICE_COLUMNS, dismiss as run_dismiss, notice_dict

    with user_errors():
        with session_scope(_db(database_url)) as session:
            outcome = run_dismiss(session, school_id, teacher_id, reason, actor=os.environ.get("USER", "cli"))
            rows = [notice_dict(session, x) for x in outcome.notices]
            summary = _outcome_lines(outcome)
        if out is not None:
            _write_csv(out, rows, NOTICE_COLUMNS)
    typer.echo("\n".join(summary))


def _outcome_lines(outcome) -> list[str]:
    d = outcome.decision
    lines = [f"decision {d.id} at {d.school_id} ({d.model}): {d.rule}"]
    for n in outcome.notices:
        flags = ", ".join(f for f, on in (("must-place", n.must_place), ("return rights", n.return_rights)) if on)
        lines.append(f"  notice {n.id}: {n.teacher_id} to the pool as displaced{f' ({flags})' if flags else ''}")
    return lines


@app.command("pool-settings")
def pool_settings_cmd(set_: Annotated[list[str] | None, typer.Option("--set", help="KEY=VALUE (repeat)")] = None,
                      database_url: DbOption = None) -> None:
    """Show or change the district settings of excessing and teachers' lists."""
    from staffing import pool_settings
    from staffing.db import session_scope

    with user_errors():
        with session_scope(_db(database_url)) as session:
            for item in set_ or []:
                key, sep, value = item.partition("=")
                if not sep:
                    raise ValueError(f"--set takes KEY=VALUE, got {item!r}")
                pool_settings.set_value(session, key.strip(), value, os.environ.get("USER", "cli"))
            values = pool_settings.all_settings(session)
    for key, value in values.items():
        typer.echo(f"  {key:<22} {'' if value is None else value}   ({pool_settings.SETTINGS[key].meaning})")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, database_url: DbOption = None) -> None:
    """Start the web app on localhost; refuses a missing or empty database and says how to load one (in
    production: behind an HTTPS proxy, see docs/security.md)."""
    import uvicorn

    from staffing.db import database_url as default_url

    url = database_url or default_url()
    with user_errors():
        settings = get_settings()  # a bad STAFFING_* value is a message and exit 2, not a traceback
        problem = _not_servable(url)
        if problem:
            fail(problem)
        url = _db(url)
    os.environ["STAFFING_DATABASE_URL"] = url
    if not settings.https and host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo("warning: serving on a network address without STAFFING_HTTPS: put an HTTPS proxy in front "
                   "(docs/security.md)", err=True)
    uvicorn.run(_web("web.app").create_app(settings=settings), host=host, port=port)


def _web(module: str):
    """A module of the web layer, imported by name at run time.  The command line is an entry point that starts
    the web app and manages its sign-ins; importing ``web`` statically would make the services layer depend on
    the layer above it (the import-linter contract in ``.importlinter`` forbids that)."""
    return importlib.import_module(module)


LOAD_HINT = ("load one first: `staffing import seed_data/small && staffing demo-users` (or `bash scripts/demo.sh`), "
             "or point --database-url / STAFFING_DATABASE_URL at the district's database")


def _not_servable(url: str) -> str | None:
    """Why the web app could not be used on this database (nobody could sign in), or None."""
    from sqlalchemy.engine import make_url
    from sqlmodel import select

    from staffing.db import init_db, session_scope
    from staffing.db_models import SchoolRow, UserRow

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.exists():
            return f"no database at {path.resolve()}; {LOAD_HINT}"
    init_db(url)
    with session_scope(url) as session:
        if session.exec(select(SchoolRow)).first() is None:
            return f"the database {parsed.render_as_string(hide_password=True)} holds no district; {LOAD_HINT}"
        if session.exec(select(UserRow)).first() is None:
            return ("the database has a district but no user who could sign in: add them with "
                    "`staffing demo-users` or `staffing add-user NAME --role hr`")
    return None


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
