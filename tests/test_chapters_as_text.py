"""Chapters are MyST Markdown notebooks: prose edits are prose diffs."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess

import jupytext
import pytest
from conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.md")) + sorted((ROOT / "chapters" / "project").glob("*.md"))
# Pages without code (the bibliography) are plain Markdown; every other chapter is a notebook.
NOTEBOOKS = [p for p in CHAPTERS if "{code-cell}" in p.read_text()]


def test_no_ipynb_is_committed_in_chapters():
    assert not list((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_is_a_myst_notebook_with_short_code_cells(path):
    nb = jupytext.read(path)
    assert nb.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            # the chapters call the package; analysis code lives in src/qda
            assert len(cell.source.splitlines()) <= 15, f"{path.name}: a code cell longer than 15 lines"
            tags = cell.metadata.get("tags", [])
            if "remove-cell" not in tags and "remove-input" not in tags:
                # a shown code line fits the book's column (76 characters; see CONTRIBUTING.md)
                wide = [line for line in cell.source.splitlines() if len(line) > 76]
                assert not wide, f"{path.name}: code wider than the column: {wide[0]}"


@pytest.mark.parametrize("path", NOTEBOOKS[:1], ids=lambda p: p.stem)
def test_one_line_prose_edit_is_a_one_line_diff(path, tmp_path):
    before = tmp_path / "before.md"
    after = tmp_path / "after.md"
    shutil.copy(path, before)
    lines = path.read_text().splitlines(keepends=True)
    i = next(k for k, line in enumerate(lines) if re.match(r"[A-Z][a-z]", line) and len(line) > 40)
    lines[i] = lines[i].replace(" ", "  ", 1)
    after.write_text("".join(lines))
    diff = subprocess.run(
        ["git", "diff", "--no-index", "--numstat", str(before), str(after)], capture_output=True, text=True
    ).stdout.split()
    assert diff[:2] == ["1", "1"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_saving_from_jupyter_does_not_churn_the_file(path):
    """Opening a chapter in JupyterLab and saving it rewrites it through jupytext: no diff."""
    assert jupytext.writes(jupytext.read(path), fmt="md:myst") == path.read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_asserts_its_key_results_in_a_hidden_cell(path):
    nb = jupytext.read(path)
    hidden = [c for c in nb.cells if c.cell_type == "code" and "remove-cell" in c.metadata.get("tags", [])]
    asserts = [node for c in hidden for node in ast.walk(ast.parse(c.source)) if isinstance(node, ast.Assert)]
    assert asserts, f"{path.name}: no hidden cell asserts its results"
    # an assert that compares an expression with itself restates an identity and cannot fail
    for node in asserts:
        test = node.test
        if isinstance(test, ast.Compare) and len(test.comparators) == 1:
            assert ast.dump(test.left) != ast.dump(test.comparators[0]), f"{path.name}: {ast.unparse(node)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_cell_has_a_caption_and_alt_text(path):
    nb = jupytext.read(path)
    for cell in nb.cells:
        if (
            cell.cell_type == "code"
            and "qda.show.plots." in cell.source
            and "remove-cell" not in cell.metadata.get("tags", [])
        ):
            meta = cell.metadata.get("mystnb", {})
            assert meta.get("figure", {}).get("caption"), f"{path.name}: figure without caption: {cell.source[:60]}"
            assert meta.get("image", {}).get("alt"), f"{path.name}: figure without alt text: {cell.source[:60]}"
