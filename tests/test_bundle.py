"""Bundle reading: every problem is reported with file, line and column; good bundles round-trip."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staffing.bundle import read_bundle, write_bundle
from staffing.validation import ValidationError


@pytest.fixture
def bundle(tmp_path, small_district) -> Path:
    return write_bundle(small_district, tmp_path / "bundle")


def edit(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell; ``line`` counts the header as line 1, as error messages do."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    rows[line - 2][column] = value
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def problems(folder: Path) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        read_bundle(folder)
    return [str(p) for p in exc.value.problems]


def test_round_trip_keeps_every_record(bundle, small_district):
    assert read_bundle(bundle).snapshot_hash() == small_district.snapshot_hash()


@pytest.mark.parametrize("file,column,value,expected", [
    ("teachers.csv", "certifications", "MATH;UNDERWATER", "unknown certification 'UNDERWATER'"),
    ("teachers.csv", "seniority_date", "2999-01-01", "2999-01-01 is in the future"),
    ("teachers.csv", "seniority_date", "31/12/2001", "expected a date YYYY-MM-DD"),
    ("teachers.csv", "salary", "lots", "expected a whole number"),
    ("teachers.csv", "must_place", "yes", "expected true or false"),
    ("teachers.csv", "status", "retired", "must be one of displaced, new_hire, voluntary_transfer"),
    ("teachers.csv", "former_school_id", "S9999", "unknown school 'S9999'"),
    ("vacancies.csv", "school_id", "S9999", "unknown school 'S9999'"),
    ("vacancies.csv", "fte", "2.5", "must be in (0, 1]"),
    ("schools.csv", "model", "space_academy", "unknown school model 'space_academy'"),
    ("rankings.csv", "teacher_id", "T99999", "'T99999' is not a teacher in the pool"),
    ("preferences.csv", "rank", "first", "expected a whole number"),
    ("committees.csv", "role", "mascot", "must be one of principal"),
])
def test_bad_cell_is_reported_with_file_line_and_column(bundle, file, column, value, expected):
    edit(bundle / file, 3, column, value)
    found = problems(bundle)
    assert any(p.startswith(f"{file}, line 3, column {column}:") and expected in p for p in found), found


def test_duplicate_id_names_first_occurrence(bundle):
    path = bundle / "teachers.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    found = problems(bundle)
    assert any("teachers.csv" in p and "duplicate 'T00001' (first on line 2)" in p for p in found), found


def test_return_rights_without_former_school_is_an_error(bundle):
    edit(bundle / "teachers.csv", 2, "return_rights", "true")
    edit(bundle / "teachers.csv", 2, "former_school_id", "")
    assert any("return_rights is true but no former school" in p for p in problems(bundle))


def test_missing_column_and_missing_file_are_reported(bundle):
    (bundle / "vacancies.csv").write_text("vacancy_id,school_id\nV1,S0001\n")
    (bundle / "schools.csv").unlink()
    found = problems(bundle)
    assert any(p.startswith("vacancies.csv, line 1, column certification, fte") for p in found), found
    assert any(p.startswith("schools.csv") and "required file is missing" in p for p in found), found


def test_all_bad_rows_are_reported_not_just_the_first(bundle):
    for line in (2, 4, 6):
        edit(bundle / "vacancies.csv", line, "certification", "NOPE")
    assert len([p for p in problems(bundle) if "unknown certification 'NOPE'" in p]) == 3


def test_models_csv_overrides_the_builtin_table(bundle):
    edit(bundle / "models.csv", 2, "honours_return_rights", "false")  # rows sorted: boston_innovation first
    district = read_bundle(bundle)
    assert not district.models["boston_innovation"].honours_return_rights


def test_not_utf8_and_empty_files_are_clear_errors(bundle):
    (bundle / "schools.csv").write_bytes(b"school_id,name,region,model\nS1,Caf\xe9,North,traditional\n")
    (bundle / "vacancies.csv").write_text("")
    found = problems(bundle)
    assert any("schools.csv" in p and "not UTF-8" in p for p in found), found
    assert any("vacancies.csv" in p and "empty" in p for p in found), found


junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(["teacher_id", "certifications", "seniority_date", "salary", "status", "must_place",
                               "return_rights", "former_school_id"]), value=junk, line=st.integers(2, 20))
def test_malformed_teacher_cells_give_an_error_or_a_valid_district_never_a_crash(tmp_path_factory, small_district,
                                                                                  column, value, line):
    folder = write_bundle(small_district, tmp_path_factory.mktemp("b"))
    edit(folder / "teachers.csv", line, column, value)
    try:
        district = read_bundle(folder)
    except ValidationError as exc:
        assert exc.problems and all(p.where.endswith(".csv") for p in exc.problems)
    else:
        assert len(district.teachers) == len(small_district.teachers)
    shutil.rmtree(folder)


def test_rosters_round_trip_with_tenure_and_rating(tmp_path):
    from staffing.seed import generate

    staffed = generate("small", 5, rosters=True)
    back = read_bundle(write_bundle(staffed, tmp_path / "staffed"))
    assert back.snapshot_hash() == staffed.snapshot_hash()
    employed = [t for t in back.teachers.values() if t.status == "employed"]
    assert employed and any(t.tenured for t in employed) and all(t.rating for t in employed)


def test_bundles_without_the_optional_teacher_columns_still_read(bundle, small_district):
    path = bundle / "teachers.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    keep = [c for c in rows[0] if c not in ("tenured", "rating", "displacement_reason")]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keep, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    back = read_bundle(bundle)
    assert not any(t.tenured or t.rating for t in back.teachers.values())


@pytest.mark.parametrize("changes, expected", [
    ({"status": "employed", "current_school_id": ""}, "current_school_id: an employed teacher holds a post"),
    ({"rating": "5"}, "rating: must be a whole number from 1 to 4"),
    ({"rating": "good"}, "rating: expected a whole number"),
    ({"tenured": "yes"}, "tenured: expected true or false"),
])
def test_bad_roster_cells_are_reported(bundle, changes, expected):
    for column, value in changes.items():
        edit(bundle / "teachers.csv", 2, column, value)
    with pytest.raises(ValidationError) as caught:
        read_bundle(bundle)
    assert f"teachers.csv, line 2, column {expected}" in str(caught.value)
