"""`python -m qda export|import|validate` (qda.cli)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import SHARED, run_qda

import qda
from qda.refi import import_project, read_qdpx_members, schema_errors, write_study

FIXTURES = SHARED / "fixtures" / "refi"
QC = FIXTURES / "qc-1.3.2_qualitative-coding_demo.qdpx"


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    """A small study written in the data/ layout by the import writer."""
    from test_refi import small_study

    d = tmp_path / "data"
    write_study(small_study(), d)
    return d


def test_written_data_folder_loads_back(data_dir):
    st = qda.load_study(data_dir)
    assert len(st.codings) == 6 and len(st.transcripts) == 3 and st.synthetic is True
    assert st.coding_text("C0004").startswith("She put my name forward")


def test_export_project_and_codebook(data_dir, tmp_path):
    r = run_qda("export", "--out", str(tmp_path / "s.qdpx"), "--data", str(data_dir), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "3 sources" in r.stdout and "6 codings" in r.stdout
    assert schema_errors(read_qdpx_members(tmp_path / "s.qdpx")["project.qde"], "project") == []
    r = run_qda("export", "--out", str(tmp_path / "s.qdc"), "--data", str(data_dir), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert schema_errors((tmp_path / "s.qdc").read_bytes(), "codebook") == []
    r = run_qda("export", "--out", str(tmp_path / "s.zip"), "--data", str(data_dir), cwd=tmp_path)
    assert r.returncode == 2 and "has the suffix '.zip'" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.zip").exists()


def test_usage_errors_are_one_line(tmp_path):
    r = run_qda("import", str(QC), cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "qda import: arguments: the following arguments are required: --out" in r.stderr


def test_import_qc_demo_writes_a_loadable_data_folder(shared, tmp_path):
    out = tmp_path / "qc"
    r = run_qda("import", str(QC), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "205 codings" in r.stdout
    st = qda.load_study(out)
    ref = import_project(QC)
    assert len(st.codings) == 205 and len(st.codebook) == 262
    for cid in ref.codings["coding_id"][:50]:
        assert st.coding_text(cid) == ref.coding_text(cid)
    # everything it wrote is inside the folder
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))


def test_import_export_import_via_cli_keeps_codings(shared, tmp_path):
    run_qda("import", str(QC), "--out", str(tmp_path / "a"), cwd=tmp_path)
    r = run_qda("export", "--out", str(tmp_path / "a.qdpx"), "--data", str(tmp_path / "a"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    again = import_project(tmp_path / "a.qdpx")
    first = import_project(QC)
    cols = ["transcript_id", "start", "end", "code"]
    assert sorted(map(tuple, again.codings[cols].astype(str).values)) == sorted(
        map(tuple, first.codings[cols].astype(str).values)
    )


@pytest.mark.parametrize(
    "name",
    [
        "atlasti-win-23.2.3_ponte_target-atlas-project.qdpx",
        "atlasti-win-23.4.0_requal-test_codebook.qdc",
        "maxqda-24.7.0_paper_themes_project.qde",
        "nvivo-mac-15.0.0_qualitative-coding_nvivo_project.qdpx",
        "qc-1.3.2_qualitative-coding_demo.qdpx",
    ],
)
def test_validate_accepts_real_exports(shared, tmp_path, name):
    r = run_qda("validate", str(FIXTURES / name), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "valid REFI-QDA file" in r.stdout


def test_validate_lists_every_problem_one_per_line(tmp_path):
    src = "I: one\nR: two three\n"
    g = "9f2c1e7a-1111-4a2b-8c3d-0123456789ab"
    sels = (
        '<PlainTextSelection guid="aaaaaaaa-5555-4a2b-8c3d-0123456789ab" startPosition="2" endPosition="900"/>'
        '<PlainTextSelection guid="bbbbbbbb-5555-4a2b-8c3d-0123456789ab" startPosition="9" endPosition="3"/>'
        '<PlainTextSelection guid="cccccccc-5555-4a2b-8c3d-0123456789ab" startPosition="1" endPosition="4">'
        '<Coding guid="dddddddd-6666-4a2b-8c3d-0123456789ab"><CodeRef targetGUID="eeeeeeee-0000-4a2b-8c3d-0123456789ab"/>'
        "</Coding></PlainTextSelection>"
    )
    xml = (
        f'<Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes>'
        f'<Code guid="{g}" name="dup" isCodable="true"/></Codes></CodeBook>'
        f'<Sources><TextSource guid="{g}" plainTextPath="internal://{g}.txt">{sels}</TextSource></Sources></Project>'
    )
    p = tmp_path / "many.qdpx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("project.qde", xml)
        zf.writestr(f"sources/{g}.txt", src)
    r = run_qda("validate", str(p), cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    whats = " | ".join(lines)
    assert "duplicate GUID" in whats and "points to nothing" in whats
    assert "positions 2-900 lie outside the text" in whats and "ends at 3, not after its start 9" in whats
    assert all(line.startswith(f"{p}!project.qde: ") and "; " in line for line in lines)
    assert len(lines) == 4


def test_validate_data_folder(data_dir, tmp_path):
    r = run_qda("validate", str(data_dir), cwd=tmp_path)
    assert r.returncode in (0, 2) and "Traceback" not in r.stderr
    if r.returncode == 0:
        assert "valid data folder" in r.stdout
    else:
        assert all(": " in line and "; " in line for line in r.stderr.strip().splitlines())
