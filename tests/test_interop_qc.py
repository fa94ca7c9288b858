"""Issue 17 item 6: exchange with a real client, qc (pip install qualitative-coding, 1.7.8).

1. qc reads our export through its own REFI importer (`qc init --import`): every source
   byte-identical, every code and every user there.
2. A project made with qc's own commands and exported by qc imports here, every coding's
   text checked (the project of tests/test_project_book.py, plus a source in emoji, CJK and
   combining marks).

Not part of `make test` (installing qc pulls spaCy): `make interop` makes .venv-qc and runs
these (marker `interop`). Skipped when no qc command is found (QDA_QC, .venv-qc/bin/qc, PATH).

qc 1.7.8's own bugs, which these tests record rather than work around:
- its importer places every coding on line 0 (`get_line_for_position` returns line 0 for any
  position, and `line_positions` walks characters, not lines), so codings arrive with their
  coder and code but not their place;
- its reader has a leftover `breakpoint()` (refi_qda/reader.py) that stops in pdb on every
  source: run it with PYTHONBREAKPOINT=0 and stdin closed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from test_project_book import QC_PLAN, QC_TEXT, make_qc_project, qc_command

import qda

pytestmark = pytest.mark.interop

# six lines, as QC_PLAN codes them: emoji (with a ZWJ sequence), CJK, combining marks
UNICODE_TEXT = (
    "INTERVIEWER: Tell me about your first year. \U0001f642\n"
    "PARTICIPANT: 我的导师每周都见我，教我写基金申请。\n"
    "PARTICIPANT: Later I guided two students, Zoe\u0308 and Noe\u0301 (combining marks).\n"
    "INTERVIEWER: Was anything unfair? \U0001f469\u200d\U0001f52c\n"
    "PARTICIPANT: 男同事拿到了大项目 \U0001f644; my supervisor never noticed.\n"
    "PARTICIPANT: I now tell my students to ask for credit. \u2728\n"
)


@pytest.fixture(scope="module")
def qc() -> str:
    found = qc_command()
    if found is None:
        pytest.skip(
            "qc is not installed: run `make interop` (makes .venv-qc with qualitative-coding==1.7.8), "
            "or set QDA_QC to a qc command"
        )
    return found


def run_qc(qc: str, *args: str, cwd: Path) -> str:
    """qc's output, its log lines included."""
    env = {**os.environ, "PYTHONBREAKPOINT": "0"}  # qc's leftover breakpoint() in its REFI reader
    done = subprocess.run(
        [qc, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"qc {' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout + done.stderr


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def code_paths(codes: ET.Element, parent: str = ""):
    """Each code as qc's `codes list --expanded` shows it: its parents' names and its own, joined by ':'."""
    for code in codes:
        if local(code.tag) == "Code":
            path = parent + code.get("name")
            yield path
            yield from code_paths(code, path + ":")


def test_qc_imports_our_export_sources_codes_and_users(qc, tmp_path):
    if not (DATA / "participants.csv").exists():
        pytest.skip("data/ has not been generated yet (make data)")
    export = tmp_path / "study.qdpx"
    done = subprocess.run(
        [sys.executable, "-m", "qda", "export", "--out", str(export), "--data", str(DATA)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(export) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        sources = {
            e.get("name"): zf.read("sources/" + e.get("plainTextPath").removeprefix("internal://"))
            for e in root.iter()
            if local(e.tag) == "TextSource"
        }
    users = {e.get("name") for e in root.iter() if local(e.tag) == "User"}
    codes = set(code_paths(next(e for e in root.iter() if local(e.tag) == "Codes")))
    coded = sum(1 for e in root.iter() if local(e.tag) == "Coding")
    assert len(sources) == len(list((DATA / "transcripts").glob("*.txt"))) and users and codes and coded

    project = tmp_path / "qc"
    project.mkdir()
    log = run_qc(qc, "init", "--import", str(export), cwd=project)
    # what qc drops, and says so: memos (our Notes), participants (Cases) and their Variables
    for part in ("Notes", "Cases", "Variables"):
        assert f"contains {part}, which are not supported by qc" in log
    assert list((project / "memos").iterdir()) == []

    # sources: every one there, text byte-identical (qc names each file after the source)
    corpus = {p.stem: p.read_bytes() for p in (project / "corpus").iterdir()}
    assert sorted(corpus) == sorted(sources)
    assert [name for name in sources if corpus[name] != sources[name]] == []

    # users, and codes with their hierarchy (parent:child), as qc's own commands list them
    assert set(run_qc(qc, "coders", cwd=project).splitlines()) - {""} == users
    assert set(run_qc(qc, "codes", "list", "--expanded", cwd=project).splitlines()) - {""} == codes

    # codings: each coder's arrive in qc's database, but all on line 0 (qc 1.7.8's importer bug)
    with sqlite3.connect(project / "qualitative_coding.sqlite3") as db:
        coders = {row[0] for row in db.execute("select distinct coder_id from coded_line")}
        lines = {row[0] for row in db.execute("select distinct line from coded_line")}
    assert coders == users
    assert lines == {0}, "qc now places codings on their lines: update the known-bug note here and in the book"


def test_a_project_made_and_exported_by_qc_imports_here_every_coding_text_exact(qc, tmp_path):
    sources = {"int1.txt": QC_TEXT, "unicode.txt": UNICODE_TEXT}
    project = make_qc_project(qc, tmp_path / "qc", sources=sources)
    study = qda.load_study(project)

    texts = dict(zip(study.transcripts["transcript_id"], study.transcripts["text"], strict=True))
    assert texts == sources
    assert sorted(study.coders["coder"]) == sorted(QC_PLAN)
    # qc codes whole lines: each coding is one line of its source with its line break
    expected = sorted(
        (name, coder, code.strip(), text.splitlines(keepends=True)[int(line)])
        for name, text in sources.items()
        for coder, plan in QC_PLAN.items()
        for line, typed in plan.items()
        for code in typed.split(",")
    )
    got = sorted(
        (c.transcript_id, c.coder, c.code, texts[c.transcript_id][c.start : c.end]) for c in study.codings.itertuples()
    )
    assert got == expected
