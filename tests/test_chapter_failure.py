"""A chapter cell that raises, or a hidden assert that fails, makes `make test` fail.

`make test` executes every chapter once, in the HTML build (`make html`: tools/build_book.py,
Jupyter Book's build with `nb_execution_raise_on_error`, `-W -n --keep-going` and two jobs,
so two chapters execute at once), from a cleared execution cache. This
test builds a two-chapter book with the repository's own `_config.yml`: one chapter whose
hidden cell (tagged `remove-cell`, as the chapters' asserts are) fails its assert, one that
runs. The build must fail and name the failing chapter and its error (the build stops at
the first failing chapter: `nb_execution_raise_on_error`); the same build of the good chapter
alone passes, so it is the failing assert that fails it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

HEADER = """\
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
"""


def chapter(title: str, hidden_assert: str) -> str:
    """A MyST chapter: one cell, then a hidden cell (tagged remove-cell) with ``hidden_assert``."""
    return (
        HEADER
        + f"""
# {title}

```{{code-cell}} ipython3
x = 1
```

```{{code-cell}} ipython3
:tags: [remove-cell]
{hidden_assert}
```
"""
    )


BROKEN = chapter("A chapter that breaks", 'assert x == 2, "a wrong number"')
GOOD = chapter("A chapter that runs", "assert x == 1")


def _build(tmp_path: Path, chapters: dict[str, str]) -> subprocess.CompletedProcess:
    """Build a book of ``chapters`` (name -> MyST text; the first is the root) with the
    repository's _config.yml and `make html`'s command."""
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copy(ROOT / "references.bib", book / "references.bib")
    (book / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "sphinx_parallel.py", book / "tools" / "sphinx_parallel.py")
    names = list(chapters)
    toc = {"format": "jb-book", "root": f"chapters/{names[0]}"}
    if names[1:]:
        toc["chapters"] = [{"file": f"chapters/{n}"} for n in names[1:]]
    (book / "_toc.yml").write_text(yaml.safe_dump(toc))
    for name, text in chapters.items():
        (book / "chapters" / f"{name}.md").write_text(text)
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_book.py"), "--jobs", "2", str(book)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_failing_hidden_assert_fails_the_book_build_and_names_the_chapter(tmp_path):
    done = _build(tmp_path, {"good": GOOD, "broken": BROKEN})
    out = done.stdout + done.stderr
    assert done.returncode != 0, out[-2000:]
    assert re.search(r"chapters/broken", out) and "AssertionError" in out and "a wrong number" in out, out[-2000:]


def test_the_good_chapter_alone_builds(tmp_path):
    done = _build(tmp_path, {"good": GOOD})
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    assert (tmp_path / "book" / "_build" / "html" / "chapters" / "good.html").exists()


def test_the_book_build_turns_cell_errors_and_warnings_into_failures():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert cfg["execute"]["allow_errors"] is False
    html = (ROOT / "Makefile").read_text().split("\nhtml: install\n", 1)[1].split("\n\n", 1)[0]
    assert "tools/build_book.py" in html
    build = (ROOT / "tools" / "build_book.py").read_text()
    assert all(f"{option}=True" in build for option in ("warningiserror", "keep_going")) and '"nitpicky": True' in build


def test_make_test_executes_every_chapter_once_in_the_build():
    """The test target clears the execution cache before the build and runs no second
    executor (nbval) on the chapters."""
    mk = (ROOT / "Makefile").read_text()
    body = mk.split("\ntest: install", 1)[1].split("\n\n", 1)[0]
    # the build runs as the prerequisite of the browser check, after the cache is cleared
    assert "\nbrowser-check: html\n" in mk
    assert "rm -rf _build/.jupyter_cache" in body and " browser-check" in body
    assert body.index("rm -rf _build/.jupyter_cache") < body.index(" browser-check")
    assert "nbval" not in body
