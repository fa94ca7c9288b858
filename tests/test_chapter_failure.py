"""A chapter cell that raises makes `make test` fail (issue 3 acceptance).

`make test` runs every chapter through nbval (`make nbval`); this test runs the same
conversion and the same nbval command on a chapter with a raising cell, in a scratch
folder, and checks that pytest exits non-zero and names the failing cell. The book build
fails the same way through `nb_execution_raise_on_error` and `-W`, checked in _config.yml.
"""

from __future__ import annotations

import subprocess
import sys

import jupytext
import yaml
from conftest import ROOT

CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter that breaks

```{code-cell} ipython3
x = 1
```

```{code-cell} ipython3
raise RuntimeError("a wrong number")
```
"""


def _nbval(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-current-env",
            "-q",
            str(path),
            "--rootdir",
            str(path.parent),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_raising_cell_fails_the_chapter_tests(tmp_path):
    nb = jupytext.reads(CHAPTER, fmt="md:myst")
    path = tmp_path / "broken.ipynb"
    jupytext.write(nb, path)
    done = _nbval(path)
    assert done.returncode != 0
    assert "RuntimeError" in done.stdout and "1 failed" in done.stdout


def test_a_good_chapter_passes_the_same_command(tmp_path):
    nb = jupytext.reads(CHAPTER.replace('raise RuntimeError("a wrong number")', "assert x == 1"), fmt="md:myst")
    path = tmp_path / "fine.ipynb"
    jupytext.write(nb, path)
    done = _nbval(path)
    assert done.returncode == 0, done.stdout


def test_the_book_build_turns_cell_errors_and_warnings_into_failures():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert cfg["execute"]["allow_errors"] is False
    assert "-W -n --keep-going" in (ROOT / "Makefile").read_text()
