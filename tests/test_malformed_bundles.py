"""A corpus of malformed bundles, generated here from the shipped seed bundle: every one must be refused by
`staffing import --replace` with exit code 2, a clear message and no traceback, and leave the database
exactly as it was (the SQLite file byte for byte; every table's rows on both backends).

Kinds: empty and missing files, missing columns, wrong types, numbers beyond the 32-bit columns, NUL bytes,
byte-order marks and CRLF line ends, duplicates, dangling references, bad encodings, broken CSV quoting,
hostile ids, size and row limits, and a flood of errors (at most 100 printed, plus a count)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select as core_select
from typer.testing import CliRunner

from staffing.cli import app
from staffing.db import get_engine, session_scope
from staffing.bundle import read_bundle
from staffing.store import save_district
from tests.conftest import ROOT

SEED = ROOT / "seed_data" / "small"
Files = dict[str, bytes]


def _rows(files: Files, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(files[name].decode("utf-8"))))


def _write(files: Files, name: str, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    files[name] = out.getvalue().encode("utf-8")


def cell(name: str, column: str, value: str, row: int = 1) -> Callable[[Files], None]:
    """Set one cell (row 1 is the first data row)."""
    def change(files: Files) -> None:
        rows = _rows(files, name)
        rows[row][rows[0].index(column)] = value
        _write(files, name, rows)
    return change


def copy_row(name: str, source: int = 1) -> Callable[[Files], None]:
    """Append a copy of a data row: a duplicate key."""
    def change(files: Files) -> None:
        rows = _rows(files, name)
        _write(files, name, rows + [rows[source]])
    return change


def drop_column(name: str, index: int = 0) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        _write(files, name, [r[:index] + r[index + 1:] for r in _rows(files, name)])
    return change


def raw(name: str, data: bytes) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        files[name] = data
    return change


def missing(name: str) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        del files[name]
    return change


def edit(name: str, fn: Callable[[bytes], bytes]) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        files[name] = fn(files[name])
    return change


def both(*changes: Callable[[Files], None]) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        for c in changes:
            c(files)
    return change


def flood(files: Files) -> None:
    """5,000 teachers with a bad salary: far more problems than are printed."""
    rows = _rows(files, "teachers.csv")
    template = rows[1]
    col = rows[0].index("teacher_id"), rows[0].index("salary")
    extra = []
    for n in range(5000):
        row = list(template)
        row[col[0]], row[col[1]] = f"X{n:05d}", "lots"
        extra.append(row)
    _write(files, "teachers.csv", rows + extra)


REQUIRED = ("schools.csv", "teachers.csv", "vacancies.csv", "preferences.csv", "rankings.csv")
OPTIONAL = ("models.csv", "certifications.csv", "interviews.csv", "committees.csv")
BIG = str(2**31)
CASES: dict[str, Callable[[Files], None]] = {
    **{f"empty {n}": raw(n, b"") for n in REQUIRED + OPTIONAL},
    **{f"missing {n}": missing(n) for n in REQUIRED},
    **{f"no first column in {n}": drop_column(n) for n in REQUIRED + OPTIONAL},
    "salary not a number": cell("teachers.csv", "salary", "abc"),
    "salary 2^31": cell("teachers.csv", "salary", BIG),
    "salary 10^30": cell("teachers.csv", "salary", "1" + "0" * 30),
    "salary 10^5000": cell("teachers.csv", "salary", "9" * 5000),
    "salary negative": cell("teachers.csv", "salary", "-1"),
    "salary in exponent form": cell("teachers.csv", "salary", "1e5"),
    "salary with underscores": cell("teachers.csv", "salary", "1_000"),
    "salary in full-width digits": cell("teachers.csv", "salary", "１２３"),
    "preference rank 10^20": cell("preferences.csv", "rank", "1" + "0" * 20),
    "ranking rank 2^31": cell("rankings.csv", "rank", BIG),
    "ranking rank below -2^31": cell("rankings.csv", "rank", "-" + str(2**31 + 1)),
    "ranking rank 0": cell("rankings.csv", "rank", "0"),
    "fte nan": cell("vacancies.csv", "fte", "nan"),
    "fte 1e400": cell("vacancies.csv", "fte", "1e400"),
    "fte 2": cell("vacancies.csv", "fte", "2"),
    "fte 300 digits": cell("vacancies.csv", "fte", "0." + "1" * 300),
    "interview minimum 2^40": cell("models.csv", "min_pool_interviews", str(2**40)),
    "interview minimum negative": cell("models.csv", "min_pool_interviews", "-3"),
    "bad date": cell("teachers.csv", "seniority_date", "2026-13-45"),
    "future seniority date": cell("teachers.csv", "seniority_date", "2999-01-01"),
    "future interview date": cell("interviews.csv", "date", "2999-01-01"),
    "boolean yes": cell("teachers.csv", "must_place", "yes"),
    "unknown status": cell("teachers.csv", "status", "retired"),
    "no certification": cell("teachers.csv", "certifications", ""),
    "return rights without a former school": both(cell("teachers.csv", "return_rights", "true"),
                                                   cell("teachers.csv", "former_school_id", "")),
    "NUL in a name": cell("teachers.csv", "name", "Ada\x00Lovelace"),
    "NUL in an id": cell("teachers.csv", "teacher_id", "T\x0000001"),
    "NUL in a header": edit("schools.csv", lambda b: b.replace(b"school_id", b"school\x00_id", 1)),
    "NUL bytes throughout a file": edit("vacancies.csv", lambda b: b.replace(b",", b"\x00,")),
    "id with quotes": cell("teachers.csv", "teacher_id", 'T"1\', "x'),
    "id with a space": cell("schools.csv", "school_id", "S 1"),
    "id with markup": cell("vacancies.csv", "vacancy_id", "<script>alert(1)</script>"),
    "id of 100 characters": cell("teachers.csv", "teacher_id", "T" * 100),
    "id with a slash": cell("vacancies.csv", "vacancy_id", "V/../1"),
    "certification code with a formula": cell("certifications.csv", "certification", "=HYPERLINK(1)"),
    "name of 5,000 characters": cell("teachers.csv", "name", "n" * 5000),
    "duplicate teacher": copy_row("teachers.csv"),
    "duplicate school": copy_row("schools.csv"),
    "duplicate vacancy": copy_row("vacancies.csv"),
    "duplicate preference": copy_row("preferences.csv"),
    "duplicate ranking": copy_row("rankings.csv"),
    "duplicate model": copy_row("models.csv"),
    "duplicate certification": copy_row("certifications.csv"),
    "vacancy at an unknown school": cell("vacancies.csv", "school_id", "S9999"),
    "teacher from an unknown school": cell("teachers.csv", "former_school_id", "S9999"),
    "ranking of an unknown teacher": cell("rankings.csv", "teacher_id", "T99999"),
    "ranking for an unknown vacancy": cell("rankings.csv", "vacancy_id", "V99999"),
    "preference for an unknown school": cell("preferences.csv", "school_id", "S9999"),
    "vacancy with an unknown certification": cell("vacancies.csv", "certification", "NOPE"),
    "school with an unknown model": cell("schools.csv", "model", "nope"),
    "committee at an unknown school": cell("committees.csv", "school_id", "S9999"),
    "committee role unknown": cell("committees.csv", "role", "king"),
    "interview of an unknown teacher": cell("interviews.csv", "teacher_id", "T99999"),
    "header only teachers, dangling rankings": edit("teachers.csv", lambda b: b.split(b"\n", 1)[0] + b"\n"),
    "not UTF-8": edit("teachers.csv", lambda b: b.replace(b"a", "\u00e9".encode("latin-1"), 3)),
    "binary garbage": raw("schools.csv", bytes(range(256)) * 4),
    "unbalanced quote": edit("schools.csv", lambda b: b + b'S0999,"Unclosed school,North,traditional\n'),
    "row with extra fields": edit("vacancies.csv", lambda b: b + b"V99998,S0001,MATH,1.0,extra,more\n"),
    "short row": edit("vacancies.csv", lambda b: b + b"V99997,S0001\n"),
    "BOM and CRLF with a bad value": both(cell("teachers.csv", "salary", "abc"),
                                          edit("teachers.csv", lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"))),
    "BOM in the middle of a header": edit("schools.csv", lambda b: b.replace(b"name", b"\xef\xbb\xbfname", 1)),
    "CR-only line ends with a duplicate": both(copy_row("schools.csv"), edit("schools.csv", lambda b: b.replace(b"\n", b"\r"))),
    "a folder named teachers.csv": missing("teachers.csv"),  # replaced by a folder in make_bundle
    "5,000 bad rows": flood,
}
FOLDER_AS_FILE = "a folder named teachers.csv"


@pytest.fixture
def loaded(db_url):
    """A database holding the seed district (what a bad import must not disturb)."""
    with session_scope(db_url) as s:
        save_district(s, read_bundle(SEED))
    get_engine(db_url).dispose()
    return db_url


def fingerprint(url: str) -> tuple[str, list]:
    """The SQLite file's hash (empty on PostgreSQL) and every table's rows in a fixed order."""
    engine = get_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    tables = []
    with engine.connect() as conn:
        for name in sorted(meta.tables):
            table = meta.tables[name]
            rows = conn.execute(core_select(table)).all()
            tables.append((name, sorted(map(repr, rows))))
    engine.dispose()
    digest = ""
    if url.startswith("sqlite"):
        digest = hashlib.sha256(Path(url.removeprefix("sqlite:///")).read_bytes()).hexdigest()
    return digest, tables


def make_bundle(folder: Path, name: str) -> Path:
    files = {p.name: p.read_bytes() for p in SEED.glob("*.csv")}
    CASES[name](files)
    folder.mkdir()
    for file, data in files.items():
        (folder / file).write_bytes(data)
    if name == FOLDER_AS_FILE:
        (folder / "teachers.csv").mkdir()
    return folder


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 60


def test_the_unchanged_seed_imports(loaded, monkeypatch, tmp_path):
    """The base of the corpus is valid: each case fails for its own defect only."""
    monkeypatch.setenv("STAFFING_DATABASE_URL", loaded)
    result = CliRunner().invoke(app, ["import", "--replace", str(SEED)])
    assert result.exit_code == 0, result.output


def test_every_malformed_bundle_is_refused_cleanly(loaded, monkeypatch, tmp_path):
    monkeypatch.setenv("STAFFING_DATABASE_URL", loaded)
    before = fingerprint(loaded)
    runner = CliRunner()
    failures = []
    for n, name in enumerate(CASES):
        folder = make_bundle(tmp_path / f"case{n}", name)
        result = runner.invoke(app, ["import", "--replace", str(folder)])
        output = result.output
        if result.exit_code != 2 or "Traceback" in output or not output.startswith("error:") \
                or (result.exception and not isinstance(result.exception, SystemExit)):
            failures.append(f"{name}: exit {result.exit_code}, {result.exception!r}, {output[:300]!r}")
        elif name == "5,000 bad rows":
            listed = [line for line in output.splitlines() if line.startswith("  teachers.csv")]
            if len(listed) != 100 or "more problem(s)" not in output:
                failures.append(f"{name}: {len(listed)} problems listed")
    assert not failures, "\n".join(failures)
    assert fingerprint(loaded) == before


def test_size_and_row_limits_give_a_clear_message(loaded, monkeypatch, tmp_path):
    monkeypatch.setenv("STAFFING_DATABASE_URL", loaded)
    before = fingerprint(loaded)
    monkeypatch.setenv("STAFFING_MAX_ROWS", "50")
    result = CliRunner().invoke(app, ["import", "--replace", str(SEED)])
    assert result.exit_code == 2 and "more than 50 rows" in result.output and "STAFFING_MAX_ROWS" in result.output
    monkeypatch.delenv("STAFFING_MAX_ROWS")
    monkeypatch.setenv("STAFFING_MAX_FILE_MB", "1")
    folder = make_bundle(tmp_path / "big", "duplicate school")
    (folder / "interviews.csv").write_bytes((folder / "interviews.csv").read_bytes() + b"#" * (2 * 2**20))
    result = CliRunner().invoke(app, ["import", "--replace", str(folder)])
    assert result.exit_code == 2 and "more than the limit of 1 MB" in result.output
    assert fingerprint(loaded) == before
