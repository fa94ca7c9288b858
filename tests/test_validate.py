"""qda.validate: for each invariant, a mutated copy of data/ that breaks it is reported
with its file, its row and the problem; the untouched data passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import qda
from qda.errors import Problem, ValidationError
from qda.study.validation import problems, validate_study

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    dst = tmp_path_factory.mktemp("data") / "data"
    shutil.copytree(DATA, dst)
    return dst


@pytest.fixture
def copy(tmp_path, template):
    dst = tmp_path / "data"
    shutil.copytree(template, dst)
    return dst


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, folder: Path, name: str) -> None:
    frame.to_csv(folder / name, index=False, lineterminator="\n")


def _row(frame: pd.DataFrame, mask) -> int:
    """Index of the first row matching ``mask``."""
    return int(frame.index[mask][0])


def _errors(folder: Path, expect_design=None) -> str:
    with pytest.raises(ValidationError) as err:
        validate_study(qda.load_study(folder), expect_design)
    assert err.value.problems and all(isinstance(p, Problem) for p in err.value.problems)
    return str(err.value)


def test_committed_data_is_valid():
    s = qda.load_study(DATA)
    assert problems(s) == []
    qda.validate(s)
    qda.validate(s)  # still callable after qda.validate (the module) was imported


# -- one mutation per structural invariant --------------------------------------
def _codings(copy, rnd="2"):
    c = _read(copy, "codings.csv")
    return c, _row(c, c["round"] == rnd)


# Each row: the round of the coding to break, the column, the new value (a function of the
# row and the transcript's length), and the message expected after "row N (coding C): ".
CODING_MUTATIONS = [
    ("offset past end", "2", "end", lambda row, n: str(n + 500), "end {value} is past the end of transcript {tid}"),
    ("start not before end", "2", "start", lambda row, n: row["end"], "start {value} is not before end"),
    ("negative start", "3", "start", lambda row, n: "-4", "start -4 is negative"),
    # round 2 uses v1, which lacks the inductive code introduced in v2
    (
        "code not in version",
        "2",
        "code",
        lambda row, n: "awareness_of_inequity",
        "code 'awareness_of_inequity' is not in codebook version v1",
    ),
    (
        "retired code",
        "full",
        "code",
        lambda row, n: "mentor_qualities",
        "code 'mentor_qualities' is not in codebook version final",
    ),
    ("unknown version", "3", "codebook_version", lambda row, n: "v7", "codebook_version 'v7' is not a version"),
    ("unknown coder", "2", "coder", lambda row, n: "analyst_z", "coder 'analyst_z' is not in coders.csv"),
    ("unknown transcript", "2", "transcript_id", lambda row, n: "P999", "transcript 'P999' does not exist"),
]


@pytest.mark.parametrize(
    ("rnd", "column", "value_of", "expected"), [m[1:] for m in CODING_MUTATIONS], ids=[m[0] for m in CODING_MUTATIONS]
)
def test_a_broken_coding_is_reported_with_its_row(copy, rnd, column, value_of, expected):
    c = _read(copy, "codings.csv")
    i = _row(c, c["round"] == rnd)
    tid = c.at[i, "transcript_id"]
    n = len((copy / "transcripts" / f"{tid}.txt").read_text(encoding="utf-8"))
    value = value_of(c.loc[i], n)
    c.at[i, column] = value
    _write(c, copy, "codings.csv")
    msg = _errors(copy)
    assert f"codings.csv: row {i + 2} (coding {c.at[i, 'coding_id']}): {expected.format(value=value, tid=tid)}" in msg
    assert "1 problem(s)" in msg


def test_duplicate_coding_id(copy):
    c = _read(copy, "codings.csv")
    c.at[11, "coding_id"] = c.at[10, "coding_id"]
    _write(c, copy, "codings.csv")
    assert f"codings.csv: row 13: coding_id '{c.at[10, 'coding_id']}' is used by an earlier row too" in _errors(copy)


def test_duplicate_participant_id(copy):
    p = _read(copy, "participants.csv")
    p.at[5, "participant_id"] = p.at[4, "participant_id"]
    _write(p, copy, "participants.csv")
    msg = _errors(copy, expect_design=False)
    assert f"participants.csv: row 7: participant_id '{p.at[4, 'participant_id']}' is used by an earlier row too" in msg
    assert "transcript P006 belongs to no participant" in msg  # its transcript is now orphaned


def test_unknown_institution(copy):
    p = _read(copy, "participants.csv")
    p.at[20, "institution_id"] = "I42"
    _write(p, copy, "participants.csv")
    assert "participants.csv: row 22 (participant P021): institution 'I42' is not in institutions.csv" in _errors(copy)


def test_transcript_without_participant(copy):
    shutil.copy(copy / "transcripts" / "P001.txt", copy / "transcripts" / "P105.txt")
    msg = _errors(copy)
    assert "P105.txt: file name: transcript P105 belongs to no participant in participants.csv" in msg


def test_memo_references(copy):
    m = _read(copy, "memos.csv")
    i = _row(m, m["attached_to"] == "coding")
    j = _row(m, m["attached_to"] == "code")
    k = _row(m, m["attached_to"] == "project")
    m.at[i, "coding_id"] = "C999999"
    m.at[j, "code"] = "not_a_code"
    m.at[k, "coder"] = "nobody"
    _write(m, copy, "memos.csv")
    msg = _errors(copy)
    assert f"memos.csv: row {i + 2} (memo {m.at[i, 'memo_id']}): coding 'C999999' is not in codings.csv" in msg
    assert f"memos.csv: row {j + 2} (memo {m.at[j, 'memo_id']}): code 'not_a_code' is not in codebook.yml" in msg
    assert f"memos.csv: row {k + 2} (memo {m.at[k, 'memo_id']}): coder 'nobody' is not in coders.csv" in msg
    assert "3 problem(s)" in msg


def test_memo_attachment(copy):
    m = _read(copy, "memos.csv")
    i = _row(m, m["attached_to"] == "coding")
    m.at[i, "coding_id"] = ""
    m.at[i + 1, "attached_to"] = "segment"
    _write(m, copy, "memos.csv")
    msg = _errors(copy)
    assert f"row {i + 2} (memo {m.at[i, 'memo_id']}): is attached to a coding but names none" in msg
    assert f"row {i + 3} (memo {m.at[i + 1, 'memo_id']}): attached_to 'segment' is not code, coding or project" in msg


def test_reconciliation_references(copy):
    r = _read(copy, "reconciliation.csv")
    r.at[3, "unit_id"] = r.at[3, "transcript_id"] + "-T999"
    r.at[4, "resolution"] = "maybe"
    r.at[5, "coded_by"] = "analyst_q"
    r.at[6, "code"] = "nonsense"
    _write(r, copy, "reconciliation.csv")
    msg = _errors(copy)
    assert f"reconciliation.csv: row 5: unit '{r.at[3, 'unit_id']}' is not a speaker turn" in msg
    assert "reconciliation.csv: row 6: resolution 'maybe' is not present, absent or unresolved" in msg
    assert "reconciliation.csv: row 7: coder(s) analyst_q not in coders.csv" in msg
    assert "reconciliation.csv: row 8: code 'nonsense' is not in codebook.yml" in msg


def test_theme_offsets_and_coder(copy):
    t = _read(copy, "themes.csv")
    t.at[2, "end"] = "99999999"
    t.at[3, "coder"] = "analyst_x"
    t.at[4, "start"] = t.at[4, "end"]
    _write(t, copy, "themes.csv")
    msg = _errors(copy)
    assert f"themes.csv: row 4 (theme {t.at[2, 'theme_coding_id']}): end 99999999 is past the end of transcript" in msg
    assert f"themes.csv: row 5 (theme {t.at[3, 'theme_coding_id']}): coder 'analyst_x' is not in coders.csv" in msg
    assert f"themes.csv: row 6 (theme {t.at[4, 'theme_coding_id']}): span" in msg


def test_every_violation_listed_at_once(copy):
    c = _read(copy, "codings.csv")
    c.loc[100:109, "coder"] = "ghost"
    _write(c, copy, "codings.csv")
    p = _read(copy, "participants.csv")
    p.at[0, "institution_id"] = "I99"
    _write(p, copy, "participants.csv")
    with pytest.raises(ValidationError) as err:
        qda.validate(qda.load_study(copy))
    assert len(err.value.problems) == 11
    assert str(err.value).count("\n") == 11


# -- the design checks ------------------------------------------------------------
def test_design_participant_count(copy):
    p = _read(copy, "participants.csv")
    _write(p.drop(index=103), copy, "participants.csv")
    (copy / "transcripts" / "P104.txt").unlink()
    msg = _errors(copy)
    assert "participants.csv: table: holds 103 participants; the design has 104" in msg
    assert "51 women and 52 men" in msg or "52 women and 51 men" in msg


def test_design_gender_balance(copy):
    p = _read(copy, "participants.csv")
    i = _row(p, p["gender"] == "man")
    p.at[i, "gender"] = "woman"
    _write(p, copy, "participants.csv")
    assert "participants.csv: column gender: 53 women and 51 men (of 104)" in _errors(copy)


def test_design_video_interviews(copy):
    p = _read(copy, "participants.csv")
    i = _row(p, p["interview_mode"] == "in person")
    p.at[i, "interview_mode"] = "video call"
    _write(p, copy, "participants.csv")
    assert "participants.csv: column interview_mode: 3 video interviews; the design has exactly 2" in _errors(copy)


def test_design_institutions(copy):
    inst = _read(copy, "institutions.csv")
    _write(inst.drop(index=15), copy, "institutions.csv")
    msg = _errors(copy)
    assert "institutions.csv: table: holds 15 institutions; the design has 16" in msg
    assert "institution 'I16' is not in institutions.csv" in msg


def test_design_missing_transcript(copy):
    (copy / "transcripts" / "P050.txt").unlink()
    msg = _errors(copy)
    assert "transcripts: transcript P050: participant P050 has no transcript" in msg
    assert "coding" in msg and "transcript 'P050' does not exist" in msg


def test_design_analysis_code_missing(copy):
    c = _read(copy, "codings.csv")
    drop = (c["transcript_id"] == "P042") & (c["round"] == "full") & (c["code"] == "gender_inequities")
    assert drop.any()
    memos = _read(copy, "memos.csv")
    _write(memos.loc[~memos["coding_id"].isin(c.loc[drop, "coding_id"])], copy, "memos.csv")
    _write(c.loc[~drop], copy, "codings.csv")
    assert "codings.csv: transcript P042: the full coding lacks the analysis code(s) gender_inequities" in _errors(copy)


def test_design_checks_skipped_for_a_users_project(copy):
    (copy / "SYNTHETIC").unlink()
    p = _read(copy, "participants.csv")
    p.loc[p["interview_mode"] == "in person", "interview_mode"] = "video call"
    p.loc[p["gender"] == "man", "gender"] = "woman"
    _write(p, copy, "participants.csv")
    s = qda.load_study(copy)
    assert not s.synthetic
    qda.validate(s)  # structural checks only: still valid
    with pytest.raises(ValidationError, match="video interviews"):
        validate_study(s, expect_design=True)
