"""Issues 7 and 19: the book builds on a user's own project (QDA_PROJECT).

Projects: an export of the synthetic study whose analysis codes were renamed and whose
synthetic marker was removed (make_demo_project); the qc demo export from the shared
fixtures with a mapping of its own codes; and, where qc installs, a two-coder project made
with qc's own commands. Runs `make book` with QDA_PROJECT, as a user would, in `make test`
after the main build (marker `book`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import DATA, ROOT
from demo_project import make_demo_project
from project_book import build_dir
from test_project_mapping import qc_demo

import qda

pytestmark = pytest.mark.book


def make_book(project: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"QDA_DATA", "QDA_MAPPING"}}
    env.update(QDA_PROJECT=str(project), **extra)
    return subprocess.run(
        ["make", "--no-print-directory", "book"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
    )


def pages(project: Path) -> dict[str, str]:
    html = build_dir(project) / "_build" / "html" / "chapters"
    names = [
        "rerun-your-project",
        "project/participants",
        "project/analysis-set",
        "project/reliability",
        "project/themes",
    ]
    return {n: (html / f"{n}.html").read_text() for n in names}


def review_all(project: Path) -> None:
    """Confirm every identifying-data finding (the qc demo's are public board-meeting names)."""
    done = subprocess.run(
        [sys.executable, "-m", "qda", "deidentify-check", "--write-review", str(project)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    review = project.parent / "deidentify-reviewed.yml"
    review.write_text(review.read_text().replace("status: unreviewed", "status: reviewed"))


def test_two_projects_built_in_a_row_each_show_their_own_data(tmp_path):
    """The renamed synthetic export, then the qc demo export: the second's pages hold only its data."""
    first = make_demo_project(qda.load_study(DATA), tmp_path / "first")
    review_all(first)  # the synthetic memos carry dates (written by the user's own command)
    done = make_book(first)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    one = pages(first)
    assert "export.qdpx" in one["rerun-your-project"]
    assert "not on the synthetic corpus" in one["project/analysis-set"]  # the banner names the user's project
    assert "Mentor gives" in one["project/analysis-set"]  # the renamed codes reached the page
    assert "your project" in one["project/reliability"] and "unitizing alpha" in one["project/reliability"]
    # nothing was written beside the user's export but the files the user put there
    assert sorted(p.name for p in first.parent.iterdir()) == [
        "deidentify-reviewed.yml",
        "export.qdpx",
        "qda-project.yml",
    ]

    second = qc_demo(tmp_path / "second")
    review_all(second)
    done = make_book(second)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert build_dir(second) != build_dir(first)
    two = pages(second)
    assert "demo.qdpx" in two["rerun-your-project"]
    assert "board_2017" in two["project/participants"] and "P001" not in two["project/participants"]
    assert "rq2_curriculum_and_instruction/pedagogy" in two["project/analysis-set"]
    assert "Mentor gives" not in two["project/analysis-set"]
    assert "1 coder(s); reliability needs two or more" in two["project/reliability"]
    assert "practices" in two["project/themes"]
    for name, page in two.items():
        assert "synthetic codings" not in page and str(tmp_path) not in page, name


def qc_command() -> str | None:
    """The qc command (pip install qualitative-coding): QDA_QC, else .venv-qc/bin/qc (made by
    `make interop` from requirements-interop-qc.lock), else `qc` on PATH or beside python."""
    made = ROOT / ".venv-qc"
    found = (
        os.environ.get("QDA_QC")
        or (str(made / "bin" / "qc") if (made / ".installed").exists() else None)
        or shutil.which("qc")
        or shutil.which("qc", path=str(Path(sys.executable).parent))
    )
    return found


# The interview each qc source holds, and what each coder types beside its lines (line index: codes).
QC_TEXT = (
    "INTERVIEWER: Tell me about your first year.\n"
    "PARTICIPANT: My supervisor met me every week and showed me how to write grants.\n"
    "PARTICIPANT: Later I started guiding two students of my own.\n"
    "INTERVIEWER: Was anything unfair?\n"
    "PARTICIPANT: The men in my group got the big projects; my supervisor never noticed.\n"
    "PARTICIPANT: I now tell my students to ask for credit.\n"
)
QC_PLAN = {
    "ana": {"1": "mentoring, received", "2": "mentoring, giving", "4": "inequity", "5": "mentoring, giving"},
    "ben": {"1": "mentoring, received", "2": "giving", "4": "inequity, mentoring, received", "5": "giving"},
}


# Runs in qc's own Python: qc's command lines (its click CLI, as `qc` runs it) one after
# another in one process, so that qc's start-up (it imports spaCy: 3 s) is paid once, not per
# command. Each step's output (file descriptors 1 and 2: print, logging, the editor qc starts)
# goes to a file of its own; a step {"write": path, "text": ...} writes a file between commands.
QC_DRIVER = r"""
import json, os, sys, traceback
from qualitative_coding.cli import cli
steps, out = json.load(sys.stdin), sys.argv[1]
codes = []
for i, step in enumerate(steps):
    if "write" in step:
        open(step["write"], "w", encoding="utf-8").write(step["text"])
        codes.append(0)
        continue
    os.chdir(step["cwd"])
    env = dict(os.environ)
    os.environ.update(step.get("env", {}))
    sys.stdout.flush(); sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.path.join(out, f"{i}.out"), "wb") as f:
        os.dup2(f.fileno(), 1); os.dup2(f.fileno(), 2)
        try:
            cli.main(step["args"], prog_name="qc", standalone_mode=False)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else int(e.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(saved[0], 1); os.dup2(saved[1], 2)
    os.environ.clear(); os.environ.update(env)
    codes.append(code)
    if code:
        break
json.dump(codes, open(os.path.join(out, "codes.json"), "w"))
"""


def qc_python(qc: str) -> str | None:
    """The Python that runs the qc command (from its script's first line), or None."""
    try:
        first = Path(qc).read_bytes()[:300].split(b"\n", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        return None
    python = first.removeprefix("#!").strip()
    return python if first.startswith("#!") and Path(python).name.startswith("python") else None


def run_qc_steps(qc: str, steps: list[dict], timeout: int = 600) -> list[str]:
    """Run qc commands ({"args": [...], "cwd": ..., "env": {...}}) in order; each one's output.

    In one qc process where qc's Python can be found (QC_DRIVER), else one process per command.
    Fails the test, with the command's output, at the first command that fails.
    """
    steps = [{**s, "cwd": str(s["cwd"])} if "cwd" in s else s for s in steps]
    base = {**os.environ, "PYTHONBREAKPOINT": "0"}  # qc 1.7.8's leftover breakpoint() in its REFI reader
    python = qc_python(qc)
    if python is None:
        outs = []
        for step in steps:
            if "write" in step:
                Path(step["write"]).write_text(step["text"], encoding="utf-8")
                continue
            done = subprocess.run(
                [qc, *step["args"]],
                cwd=step["cwd"],
                env={**base, **step.get("env", {})},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            outs.append(done.stdout + done.stderr)
            assert done.returncode == 0, f"qc {' '.join(step['args'])}: {outs[-1][-3000:]}"
        return outs
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [python, "-c", QC_DRIVER, out],
            input=json.dumps(steps),
            env=base,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"qc: {done.stdout[-3000:]}{done.stderr[-3000:]}"
        codes = json.loads(Path(out, "codes.json").read_text())
        outs = [
            Path(out, f"{i}.out").read_text(encoding="utf-8", errors="replace")
            for i, step in enumerate(steps[: len(codes)])
            if "write" not in step
        ]
        failed = [step for step, code in zip(steps, codes, strict=False) if code]
        assert not failed, f"qc {' '.join(failed[0]['args'])}: {outs[-1][-3000:]}"
        return outs


def make_qc_project(qc: str, folder: Path, sources: dict[str, str] | None = None) -> Path:
    """A two-coder project made with qc's own commands (init, corpus import, code, codebook, export).

    sources: file name -> text (six lines each, coded by QC_PLAN); default two copies of QC_TEXT.
    qc codes in an editor; the editor here is a script that writes each coder's codes
    line by line, as a coder would type them beside the text.
    """
    folder.mkdir(parents=True)
    run_qc_steps(qc, [{"args": ["init"], "cwd": folder}])
    settings = yaml.safe_load((folder / "settings.yaml").read_text())
    settings["editor"] = "scripted"
    settings["editors"] = {
        "scripted": {
            "name": "scripted",
            "code_command": f'{sys.executable} "{folder / "editor.py"}" "{{corpus_file_path}}" "{{codes_file_path}}"',
            "memo_command": 'true "{memo_file_path}"',
        }
    }
    (folder / "settings.yaml").write_text(yaml.safe_dump(settings))
    (folder / "editor.py").write_text(
        "import json, os, sys\n"
        "lines = open(sys.argv[1]).read().splitlines()\n"
        "plan = json.loads(os.environ['QC_PLAN'])[os.environ['QC_CODER']]\n"
        "open(sys.argv[2], 'w').write('\\n'.join(plan.get(str(i), '') for i in range(len(lines))) + '\\n')\n"
    )
    sources = sources or {"int1.txt": QC_TEXT, "int2.txt": QC_TEXT}
    steps = []
    for name, text in sources.items():
        (folder / name).write_text(text, encoding="utf-8")
        steps.append({"args": ["corpus", "import", name, "-i", "verbatim"], "cwd": folder})
    plan = json.dumps(QC_PLAN)
    steps += [
        {"args": ["code", coder, "-p", name], "cwd": folder, "env": {"QC_PLAN": plan, "QC_CODER": coder}}
        for coder in QC_PLAN
        for name in sources
    ]
    codebook = "- inequity\n- mentoring:\n  - giving\n  - received\n"
    steps += [
        {"write": str(folder / "codebook.yaml"), "text": codebook},
        {"args": ["codebook"], "cwd": folder},
        {"args": ["export", "project.qdpx"], "cwd": folder},
    ]
    run_qc_steps(qc, steps)
    out = folder / "export" / "project.qdpx"
    out.parent.mkdir()
    shutil.move(folder / "project.qdpx", out)
    (out.parent / "qda-project.yml").write_text(
        'analysis:\n  code_a: "inequity"\n  code_b: "mentoring"\n  code_b_parts: ["giving", "received"]\n'
        'themes: ["giving", "received"]\n'
    )
    return out


def test_a_wrong_mapping_stops_make_book_before_any_chapter(tmp_path):
    project = qc_demo(tmp_path / "wrong", mapping='analysis:\n  code_a: "Gender inequity"\n  code_b: "identity"\n')
    done = make_book(project)
    assert done.returncode != 0
    assert "analysis.code_a: no code 'Gender inequity' in the project" in done.stderr
    assert "jupyter-book" not in done.stdout and "Traceback" not in done.stderr


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
