"""Issue 7, item 5: the book builds on a user's own project (QDA_PROJECT).

The project is an export of the synthetic study whose analysis codes were renamed and
whose synthetic marker was removed (make_demo_project), with a qda-project.yml
mapping beside it. Runs `make book` with QDA_PROJECT, as a user would, in `make test`
after the main build (marker `book`).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import DATA, ROOT
from demo_project import make_demo_project

import qda

pytestmark = pytest.mark.book


def test_book_builds_on_an_imported_project_with_renamed_codes(tmp_path):
    project = make_demo_project(qda.load_study(DATA), tmp_path / "private")
    out = ROOT / "_build" / "project"
    env = {k: v for k, v in os.environ.items() if k not in {"QDA_DATA", "QDA_MAPPING"}}
    env["QDA_PROJECT"] = str(project)
    done = subprocess.run(
        ["make", "--no-print-directory", "book"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = out / "_build" / "html"
    page = (html / "chapters" / "analysis-set.html").read_text()
    assert "export.qdpx" in (html / "chapters" / "rerun-your-project.html").read_text()
    assert "not on the synthetic corpus" in page  # the banner names the user's project
    assert "Mentor gives" in page or "mentor_gives" in page  # the renamed codes reached the chapter
    # nothing was written beside the user's export but the files the user put there
    assert sorted(p.name for p in project.parent.iterdir()) == ["export.qdpx", "qda-project.yml"]


def test_make_book_refuses_a_project_with_unreviewed_identifying_data(tmp_path):
    study = qda.load_study(DATA)
    study.transcripts.loc[0, "text"] = study.transcripts.loc[0, "text"] + "\n\nPARTICIPANT: Ask Dr. Sarah Whitfield."
    study.transcripts.loc[0, "n_chars"] = len(study.transcripts.loc[0, "text"])
    project = make_demo_project(study, tmp_path / "private")
    env = {k: v for k, v in os.environ.items() if k not in {"QDA_DATA", "QDA_MAPPING"}}
    env["QDA_PROJECT"] = str(project)
    done = subprocess.run(
        ["make", "--no-print-directory", "deidentify-gate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "Sarah Whitfield" in done.stdout + done.stderr
