"""FORMATS.md: certification codes are free strings when a bundle brings no certifications.csv."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from staffing.bundle import read_bundle
from staffing.cli import app


def write(folder: Path, name: str, header: str, *rows: str) -> None:
    (folder / name).write_text("\n".join([header, *rows]) + "\n")


def hist_music_bundle(folder: Path) -> Path:
    """A district's own bundle: History and Music codes the built-in catalogue does not know."""
    folder.mkdir()
    write(folder, "schools.csv", "school_id,name,region,model", "A,Adams,North,traditional", "B,Baker,North,traditional")
    write(folder, "teachers.csv",
          "teacher_id,name,certifications,seniority_date,salary,status,must_place,return_rights,former_school_id,"
          "current_school_id",
          "T1,Ann,HIST,2001-05-01,70000,displaced,false,false,,",
          "T2,Bo,MUSIC;HIST,2010-05-01,60000,displaced,false,false,,",
          "T3,Cy,MUSIC,2015-05-01,55000,new_hire,false,false,,")
    write(folder, "vacancies.csv", "vacancy_id,school_id,certification,fte", "V1,A,HIST,1", "V2,B,MUSIC,1")
    write(folder, "preferences.csv", "teacher_id,school_id,rank", "T1,A,1", "T2,B,1", "T3,B,1")
    write(folder, "rankings.csv", "vacancy_id,teacher_id,rank")
    return folder


def test_unknown_codes_are_accepted_without_a_catalogue(tmp_path):
    d = read_bundle(hist_music_bundle(tmp_path / "b"))
    assert {"HIST", "MUSIC"} <= set(d.certifications)
    assert d.teachers["T2"].certifications == ("HIST", "MUSIC")


def test_with_a_catalogue_an_unlisted_code_is_still_an_error(tmp_path):
    folder = hist_music_bundle(tmp_path / "b")
    write(folder, "certifications.csv", "certification,name,shortage", "HIST,History,false")
    try:
        read_bundle(folder)
    except Exception as exc:  # noqa: BLE001 - the message is what matters
        assert "unknown certification 'MUSIC'" in str(exc)
    else:
        raise AssertionError("MUSIC is not in the bundle's own catalogue")


def test_hist_music_bundle_imports_and_places(tmp_path, monkeypatch):
    folder = hist_music_bundle(tmp_path / "b")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STAFFING_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(folder)], catch_exceptions=False).exit_code == 0
    out = runner.invoke(app, ["place", "--time-limit", "5", "--out", "p.csv"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    with (tmp_path / "p.csv").open(newline="") as fh:
        rows = {r["teacher_id"]: r for r in csv.DictReader(fh)}
    assert rows["T1"]["vacancy_id"] == "V1"  # HIST post to the HIST teacher
    assert rows["T2"]["vacancy_id"] == "V2"  # the more senior MUSIC teacher gets the MUSIC post
    assert rows["T3"]["kind"] == "unplaced"
