"""Issue 17 item 6: Taguette's codebook export (.qdc) imports here (Taguette 1.5.2).

A script run in Taguette's own environment (.venv-taguette, made by `make interop` from
requirements-interop-taguette.lock) makes a project in a Taguette database, adds tags
(Taguette's codes) with descriptions, and exports them with Taguette's own code, the
function its "export codebook as QDC" page calls (`taguette.export.codebook_xml` on the
project's `Tag` objects). qda then imports that file and validates it.

What Taguette 1.5.2 writes, which these tests record (and fail on, so that a Taguette fix
is noticed): each tag's name, flat (a dotted name is one name), with no <Description> (the
descriptions are lost), and an empty <Sets/>, which the REFI-QDA schema does not allow.

Skipped when no Python with Taguette is found (QDA_TAGUETTE, .venv-taguette/bin/python).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import ROOT

import qda

pytestmark = pytest.mark.interop

# name -> description, as a Taguette user would type them
CODEBOOK = {
    "mentoring": "Support given or received in a working relationship.",
    "naïve café, Zoë": "Latin letters with diacritics (precomposed).",
    "Zoe\u0308 (combining)": "A combining diaeresis, not the precomposed letter.",
    "导师 指导": "CJK: supervisor, guidance.",
    "\U0001f469\u200d\U0001f52c science": "An emoji with a zero-width joiner.",
    "=SUM(A1)": "A name a spreadsheet would run as a formula.",
    'R&D <lab> "quoted"': "XML's special characters: & < > \" '.",
    "places.interesting": "A dotted name (a path in Taguette's own words).",
}

# Runs in Taguette's environment: codebook (JSON on stdin) -> Taguette database -> .qdc
TAGUETTE_EXPORT = """
import json, sys
from taguette import database, export
out, db_file = sys.argv[1], sys.argv[2]
db = database.connect("sqlite:///" + db_file)()
project = database.Project(name="interop", description="")
db.add(project)
for name, description in json.load(sys.stdin).items():
    db.add(database.Tag(project=project, path=name, description=description))
db.commit()
with open(out, "wb") as f:
    export.codebook_xml(list(project.tags), f)
"""


def taguette_python() -> str | None:
    """A Python with Taguette: QDA_TAGUETTE, else .venv-taguette/bin/python (made by `make interop`)."""
    made = ROOT / ".venv-taguette"
    if os.environ.get("QDA_TAGUETTE"):
        return os.environ["QDA_TAGUETTE"]
    return str(made / "bin" / "python") if (made / ".installed").exists() else None


@pytest.fixture(scope="module")
def qdc(tmp_path_factory) -> Path:
    python = taguette_python()
    if python is None:
        pytest.skip(
            "Taguette is not installed: run `make interop` (makes .venv-taguette from "
            "requirements-interop-taguette.lock), or set QDA_TAGUETTE to a Python that has taguette"
        )
    folder = tmp_path_factory.mktemp("taguette")
    out = folder / "codebook.qdc"
    done = subprocess.run(
        [python, "-c", TAGUETTE_EXPORT, str(out), str(folder / "taguette.sqlite3")],
        input=json.dumps(CODEBOOK),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def test_taguette_writes_every_name_flat_and_drops_descriptions(qdc):
    root = ET.parse(qdc).getroot()
    assert root.get("origin") == "Taguette 1.5.2"
    codes = [e for e in root.iter() if local(e.tag) == "Code"]
    assert [c.get("name") for c in codes] == list(CODEBOOK)
    # flat: every Code is a child of Codes, none nested in another
    assert all(local(parent.tag) == "Codes" for parent in root.iter() for c in parent if local(c.tag) == "Code")
    assert [e for e in root.iter() if local(e.tag) == "Description"] == [], (
        "Taguette now exports descriptions: check that they arrive here and update the book's table"
    )


def test_qda_imports_every_taguette_code_exactly(qdc):
    codebook = qda.load_study(qdc).codebook
    assert sorted(codebook["name"]) == sorted(CODEBOOK)
    assert set(codebook["parent"]) == {""}
    # each definition is the file's Description, which Taguette leaves out (so: empty)
    described = {
        c.get("name"): "".join(d.text or "" for d in c if local(d.tag) == "Description")
        for c in ET.parse(qdc).getroot().iter()
        if local(c.tag) == "Code"
    }
    assert dict(zip(codebook["name"], codebook["definition"], strict=True)) == described


def test_validate_reports_taguettes_empty_sets_and_the_formula_name(qdc):
    done = subprocess.run(
        [sys.executable, "-m", "qda", "validate", str(qdc)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
    )
    lines = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 2, lines
    formulas = [name for name in CODEBOOK if name.startswith(("=", "+", "-", "@"))]
    assert len(lines) == 1 + len(formulas), lines
    assert [line for line in lines if "Sets" in line and "Missing child element" in line] != [], (
        "Taguette's empty <Sets/> no longer fails the schema: update the book's table"
    )
    for name in formulas:
        assert [line for line in lines if f"code {name!r}: starts with {name[0]!r}" in line] != [], lines
