"""Bad inputs in the data-folder layout (participants.csv, codings.csv, memos.csv,
transcripts/*.txt): each gives a specific qda.errors exception whose one-line message
names the file, the row or column, and a fix; the CLI prints it with exit code 2; and
nothing is written.

Each case copies ``data/`` (or, before it is generated, a minimal valid folder) to
tmp_path and replaces one file with a committed sample of ``tests/bad_inputs/csv/``
or mutates one row.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA, ROOT

import qda
from qda.__main__ import main as qda_main
from qda.errors import DataError, QDAError, SchemaError, ValidationError
from qda.study.schema import SCHEMAS

SAMPLES = ROOT / "tests" / "bad_inputs" / "csv"

MINIMAL_CODEBOOK = """\
versions:
  - version: v1
    after_round: 1
  - version: final
    after_round: 3
codes:
  - code: career_path
    name: Career path
    parent: ""
    code_group: Career
    origin: deductive
    introduced_round: 1
    color: "#0072B2"
    v1:
      definition: Talk about training and jobs.
      inclusion: Any account of a career step.
      exclusion: Mentoring itself.
      example: An invented example.
  - code: leadership
    name: Leadership
    parent: ""
    code_group: Career
    origin: deductive
    introduced_round: 1
    color: "#E69F00"
    v1:
      definition: Talk about leading a unit.
      inclusion: Holding or seeking a leadership post.
      exclusion: Leading a single project.
      example: An invented example.
"""


def _minimal(folder: Path) -> None:
    """A small valid project from the schemas (used only while data/ is not generated)."""
    (folder / "transcripts").mkdir(parents=True)
    text = "INTERVIEWER: Tell me about your path.\n\nPARTICIPANT: " + "I trained in a lab first. " * 80 + "\n"
    rows = []
    for _i, (pid, gender) in enumerate([("P001", "man"), ("P002", "woman")]):
        rows.append(
            {
                "participant_id": pid,
                "gender": gender,
                "institution_id": "I01",
                "rank": "full",
                "degree": "MD",
                "leadership": "none",
                "endowed_chair": "no",
                "age_band": "50-59",
                "career_stage": "senior",
                "field": "cardiology",
                "interview_mode": "in person",
                "interview_minutes": 60,
                "primary_caregiver": "no",
            }
        )
        (folder / "transcripts" / f"{pid}.txt").write_text(text, encoding="utf-8")
    pd.DataFrame(rows, columns=list(SCHEMAS["participants"])).to_csv(folder / "participants.csv", index=False)
    pd.DataFrame(
        [
            {
                "coding_id": "C000001",
                "transcript_id": "P001",
                "coder": "analyst_a",
                "round": "1",
                "start": 610,
                "end": 1338,
                "code": "career_path",
                "codebook_version": "v1",
            },
            {
                "coding_id": "C000002",
                "transcript_id": "P001",
                "coder": "analyst_a",
                "round": "1",
                "start": 610,
                "end": 1338,
                "code": "leadership",
                "codebook_version": "v1",
            },
        ]
    ).to_csv(folder / "codings.csv", index=False)
    pd.DataFrame(
        [
            {
                "memo_id": "M001",
                "coder": "analyst_a",
                "date": "2019-09-20",
                "attached_to": "project",
                "code": "",
                "coding_id": "",
                "text": "A note.",
            }
        ]
    ).to_csv(folder / "memos.csv", index=False)
    (folder / "codebook.yml").write_text(MINIMAL_CODEBOOK, encoding="utf-8")


@pytest.fixture
def project(tmp_path) -> Path:
    """A valid project folder in tmp_path: a copy of data/, else a minimal one."""
    folder = tmp_path / "project"
    if (DATA / "participants.csv").exists():
        shutil.copytree(DATA, folder)
    else:
        _minimal(folder)
    qda.validate(qda.load_study(folder))  # the starting point is valid
    return folder


def snapshot(folder: Path) -> list[tuple[str, int, int]]:
    """Every file under the tmp folder: path, size, mtime (to prove nothing was written)."""
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


def check_one_line_error(err: QDAError, file: Path, where: str | re.Pattern, what: str, fix: str) -> None:
    assert err.file == str(file)
    if isinstance(where, re.Pattern):
        assert where.fullmatch(err.where), err.where
    else:
        assert err.where == where
    assert what in err.what, err.what
    assert fix in err.fix and err.fix.strip(), err.fix
    line = str(err)
    assert "\n" not in line and "Traceback" not in line
    assert line == f"{err.file}: {err.where}: {err.what}; {err.fix}"


def cli_fails_cleanly(capsys, folder: Path, tmp_path: Path, first_line: str, export: bool = True) -> None:
    """`validate DIR` (and `export --data DIR`) exit 2 with ``first_line`` first and write nothing."""
    before = snapshot(tmp_path)
    assert qda_main(["validate", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == first_line
    if export:
        out_file = tmp_path / "exported.qdpx"
        assert qda_main(["export", "--out", str(out_file), "--data", str(folder)]) == 2
        out, err = capsys.readouterr()
        assert err.splitlines()[0] == first_line
        assert not out_file.exists()
    assert snapshot(tmp_path) == before  # no export, no temporary file, no change to the data


# ---------------------------------------------------------------------------
# Load-time errors: DataError / SchemaError with file, row/column and fix
# ---------------------------------------------------------------------------
LOAD_CASES = [
    # sample, target, error type, where, what, fix
    (
        "participants_missing_column.csv",
        "participants.csv",
        SchemaError,
        "header",
        "missing column(s) gender",
        "add them",
    ),
    (
        "participants_yes_no_maybe.csv",
        "participants.csv",
        SchemaError,
        "row 3, column endowed_chair",
        "'maybe' is not yes/no",
        "write yes or no",
    ),
    (
        "participants_minutes_not_integer.csv",
        "participants.csv",
        SchemaError,
        "row 2, column interview_minutes",
        "'about an hour' is not a whole number",
        "correct the value",
    ),
    (
        "participants_latin1.csv",
        "participants.csv",
        DataError,
        "line 2, byte 201",
        "is not UTF-8 text",
        "save the file as UTF-8",
    ),
    (
        "codings_offset_not_integer.csv",
        "codings.csv",
        SchemaError,
        "row 3, column start",
        "'six hundred' is not a whole number",
        "correct the value",
    ),
    (
        "codings_offset_decimal.csv",
        "codings.csv",
        SchemaError,
        "row 2, column end",
        "'1338.5' is not a whole number",
        "correct the value",
    ),
    (
        "codings_unbalanced_quote.csv",
        "codings.csv",
        DataError,
        "parsing",
        "is not a valid CSV (Error tokenizing data",
        "fix the quoting",
    ),
    (
        "codings_too_many_fields.csv",
        "codings.csv",
        DataError,
        "parsing",
        "Expected 8 fields in line 3, saw 9",
        "fix the quoting or the number of fields",
    ),
    ("empty.csv", "codings.csv", DataError, "file", "is empty", "write the header row of the codings table"),
    ("empty.csv", "participants.csv", DataError, "file", "is empty", "write the header row of the participants table"),
    ("memos_bad_date.csv", "memos.csv", SchemaError, "row 3, column date", "'03/14/2019' is not a date", "YYYY-MM-DD"),
    (
        "memos_impossible_date.csv",
        "memos.csv",
        SchemaError,
        "row 2, column date",
        "'2019-02-30' is not a date",
        "YYYY-MM-DD",
    ),
    (
        "transcript_latin1.txt",
        "transcripts/P001.txt",
        DataError,
        "byte 80",
        "is not UTF-8 text",
        "save the file as UTF-8",
    ),
    ("transcript_bom.txt", "transcripts/P001.txt", DataError, "byte 0", "byte-order mark", "without BOM"),
    (
        "transcript_crlf.txt",
        "transcripts/P001.txt",
        DataError,
        "character 40",
        "CR (Windows) line ends",
        "LF line ends",
    ),
]


@pytest.mark.parametrize(
    "sample, target, kind, where, what, fix", LOAD_CASES, ids=[f"{c[0]}->{c[1]}" for c in LOAD_CASES]
)
def test_bad_file_gives_a_one_line_error_and_writes_nothing(
    project, tmp_path, capsys, sample, target, kind, where, what, fix
):
    shutil.copyfile(SAMPLES / sample, project / target)
    before = snapshot(tmp_path)
    with pytest.raises(kind) as info:
        qda.load_study(project)
    assert type(info.value) is kind  # the specific type, not a parent class
    check_one_line_error(info.value, project / target, where, what, fix)
    assert snapshot(tmp_path) == before
    cli_fails_cleanly(capsys, project, tmp_path, str(info.value))


def test_missing_required_file(project, tmp_path, capsys):
    (project / "codings.csv").unlink()
    with pytest.raises(DataError) as info:
        qda.load_study(project)
    check_one_line_error(info.value, project / "codings.csv", "file", "does not exist", "create it")
    cli_fails_cleanly(capsys, project, tmp_path, str(info.value))


def test_bad_value_deep_in_a_real_table_names_its_line(project, tmp_path, capsys):
    """Mutating row 500 of codings.csv: the message points at that very line."""
    lines = (project / "codings.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    n = min(500, len(lines) - 1)
    cells = lines[n].rstrip("\n").split(",")
    cells[4] = "12a"  # start
    lines[n] = ",".join(cells) + "\n"
    (project / "codings.csv").write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        qda.load_study(project)
    check_one_line_error(
        info.value,
        project / "codings.csv",
        f"row {n + 1}, column start",
        "'12a' is not a whole number",
        "correct the value",
    )
    cli_fails_cleanly(capsys, project, tmp_path, str(info.value))


# ---------------------------------------------------------------------------
# Harmless encodings: a CSV with a BOM or CRLF line ends loads unchanged
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["bom", "crlf", "bom+crlf"])
def test_csv_with_bom_or_crlf_loads_without_losing_data(project, variant):
    original = qda.load_study(project)
    for name in ("participants.csv", "codings.csv", "memos.csv"):
        data = (project / name).read_bytes()
        if "crlf" in variant:
            data = data.replace(b"\n", b"\r\n")
        if "bom" in variant:
            data = b"\xef\xbb\xbf" + data
        (project / name).write_bytes(data)
    again = qda.load_study(project)
    for table in ("participants", "codings", "memos"):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(original, table))


# ---------------------------------------------------------------------------
# Reference errors: caught by qda.validate, one problem per bad row
# ---------------------------------------------------------------------------
def _append_row(path: Path, values: dict) -> int:
    """Append one row (by column name) to a CSV; return its line number."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = pd.concat([df, pd.DataFrame([values])], ignore_index=True)
    df.to_csv(path, index=False)
    return len(df) + 1


def _validation_error(folder: Path) -> ValidationError:
    study = qda.load_study(folder)
    with pytest.raises(ValidationError) as info:
        qda.validate(study)
    return info.value


def _coding(**kw) -> dict:
    row = {
        "coding_id": "C999999",
        "transcript_id": "P001",
        "coder": "analyst_a",
        "round": "1",
        "start": "610",
        "end": "700",
        "code": "career_path",
        "codebook_version": "v1",
    }
    row.update(kw)
    return row


CODING_CASES = {
    "unknown code": (
        _coding(code="no_such_code"),
        "code 'no_such_code' is not in codebook version v1",
        "use a code of that version",
    ),
    "unknown transcript": (_coding(transcript_id="P999"), "transcript 'P999' does not exist", "correct transcript_id"),
    "end before start": (_coding(start="700", end="610"), "start 700 is not before end 610", "end is exclusive"),
    "out of range": (_coding(end="99999999"), "end 99999999 is past the end of transcript P001", "correct the offsets"),
    "unknown version": (
        _coding(codebook_version="v9"),
        "codebook_version 'v9' is not a version of codebook.yml",
        "use one of",
    ),
}


@pytest.mark.parametrize("values, what, fix", CODING_CASES.values(), ids=CODING_CASES.keys())
def test_bad_reference_in_codings_is_a_validation_problem(project, tmp_path, capsys, values, what, fix):
    row = _append_row(project / "codings.csv", values)
    before = snapshot(tmp_path)
    err = _validation_error(project)
    assert len(err.problems) == 1, err
    p = err.problems[0]
    assert p.file == str(project / "codings.csv")
    assert p.where == f"row {row} (coding C999999)"
    assert what in p.what and fix in p.fix
    assert str(err).splitlines()[1] == p.line()
    assert snapshot(tmp_path) == before
    cli_fails_cleanly(capsys, project, tmp_path, p.line(), export=False)


@pytest.mark.parametrize(
    "case",
    [
        "unknown code",
        "unknown transcript",
        "end before start",
        "out of range",
        "unknown version",
        "orphan transcript",
    ],
)
def test_export_refuses_a_project_that_fails_validation(project, tmp_path, capsys, case):
    """`python -m qda export` on a project with a reference error: exit 2, one line, no file."""
    if case == "orphan transcript":
        (project / "transcripts" / "P999.txt").write_text("PARTICIPANT: Hello.\n", encoding="utf-8")
    else:
        _append_row(project / "codings.csv", CODING_CASES[case][0])
    before = snapshot(tmp_path)
    out_file = tmp_path / "exported.qdpx"
    code = qda_main(["export", "--out", str(out_file), "--data", str(project)])
    _, err = capsys.readouterr()
    assert not out_file.exists() and snapshot(tmp_path) == before
    assert code == 2
    assert len(err.splitlines()) == 1 and re.fullmatch(r"[^:]+: [^:]+: .+; .+", err.strip()), err


def test_unknown_participant_transcript_is_a_validation_problem(project, tmp_path, capsys):
    (project / "transcripts" / "P999.txt").write_text("INTERVIEWER: Hello.\n\nPARTICIPANT: Hello.\n", encoding="utf-8")
    err = _validation_error(project)
    p = err.problems[0]
    assert p.file == str(project / "transcripts" / "P999.txt")
    assert p.where == "file name"
    assert "transcript P999 belongs to no participant in participants.csv" in p.what
    assert "add the participant" in p.fix
    cli_fails_cleanly(capsys, project, tmp_path, p.line(), export=False)


def test_unknown_institution_of_a_participant(project, tmp_path, capsys):
    if not (project / "institutions.csv").exists():
        pytest.skip("the minimal project has no institutions.csv")
    df = pd.read_csv(project / "participants.csv", dtype=str, keep_default_na=False)
    df.loc[1, "institution_id"] = "I99"
    df.to_csv(project / "participants.csv", index=False)
    err = _validation_error(project)
    p = err.problems[0]
    assert (p.file, p.where) == (
        str(project / "participants.csv"),
        f"row 3 (participant {df.loc[1, 'participant_id']})",
    )
    assert "institution 'I99' is not in institutions.csv" in p.what and "add the institution" in p.fix


def test_memo_naming_an_unknown_code(project, tmp_path, capsys):
    row = _append_row(
        project / "memos.csv",
        {
            "memo_id": "M999",
            "coder": "analyst_a",
            "date": "2019-12-01",
            "attached_to": "code",
            "code": "no_such_code",
            "coding_id": "",
            "text": "A note about a code that was never defined.",
        },
    )
    err = _validation_error(project)
    assert [(p.file, p.where) for p in err.problems] == [(str(project / "memos.csv"), f"row {row} (memo M999)")]
    assert "code 'no_such_code' is not in codebook.yml" in err.problems[0].what


def test_empty_transcript_with_codings_is_caught(project, tmp_path, capsys):
    shutil.copyfile(SAMPLES / "transcript_empty.txt", project / "transcripts" / "P001.txt")
    err = _validation_error(project)
    assert err.problems, err
    for p in err.problems:
        assert p.file in {
            str(project / "codings.csv"),
            str(project / "reconciliation.csv"),
            str(project / "themes.csv"),
        }
        assert "P001" in p.what
    assert any("past the end of transcript P001 (0 characters)" in p.what for p in err.problems)


def test_every_committed_sample_is_used():
    used = {c[0] for c in LOAD_CASES} | {"transcript_empty.txt"}
    assert {p.name for p in SAMPLES.iterdir() if p.name != "README.md"} == used
