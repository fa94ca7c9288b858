"""Reporting checklists: where the book (or the paper) answers each item of SRQR and COREQ.

A checklist is a CSV in ``reporting/`` (beside ``data/``, not in it: ``data/`` holds
exactly what the generator writes, and the checklists describe the book, not a study),
one row per item, with the columns of :data:`CHECKLIST_COLUMNS`:

- ``item``: the item in the project's own short paraphrase (never the checklist's wording);
- ``number``: 1 to n, in the checklist's order;
- ``topic``: the checklist's section or domain;
- ``where``: ``chapters/<file>.md`` or ``chapters/<file>.md#<label>`` (a ``(label)=``
  target of that chapter) when the book answers the item; ``paper: ...`` (what the paper
  says, cited in the chapter) when only the paper does; empty when nothing does;
- ``status``: one of :data:`STATUSES`;
- ``reason``: why the item is not reported (required then), or a note.

The checklists: SRQR, O'Brien BC, Harris IB, Beckman TJ, Reed DA, Cook DA, Standards for
reporting qualitative research: a synthesis of recommendations, Academic Medicine
2014;89(9):1245-1251 (21 items); COREQ, Tong A, Sainsbury P, Craig J, Consolidated
criteria for reporting qualitative research (COREQ): a 32-item checklist for interviews
and focus groups, International Journal for Quality in Health Care 2007;19(6):349-357.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from qda.errors import DataError
from qda.study.folder import find_data_dir

CHECKLIST_COLUMNS = ["item", "number", "topic", "where", "status", "reason"]
STATUSES = ("reported", "reported in the paper", "not reported")
#: checklist id -> (file name, number of items)
CHECKLISTS = {"SRQR": ("srqr.csv", 21), "COREQ": ("coreq.csv", 32)}
_LABEL = re.compile(r"^\(([A-Za-z0-9_-]+)\)=\s*$", re.M)


def reporting_dir() -> Path:
    """The ``reporting/`` folder beside the data folder (:func:`~qda.study.folder.find_data_dir`)."""
    return find_data_dir().parent / "reporting"


def read_checklist(path: str | Path) -> pd.DataFrame:
    """Read and check one checklist CSV; raises :class:`~qda.errors.DataError` on a bad row.

    Checks: the columns, numbers 1..n in order, a known status, a ``paper:`` place for
    items reported in the paper, a chapter for reported items, a reason for the rest.
    """
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(frame.columns) != CHECKLIST_COLUMNS:
        raise DataError(path, "header", f"is {list(frame.columns)}", f"use {CHECKLIST_COLUMNS}")
    expected = [str(i) for i in range(1, len(frame) + 1)]
    if list(frame["number"]) != expected:
        raise DataError(path, "number", "is not 1, 2, ... in order", "number the items as the checklist does")
    for line, row in enumerate(frame.itertuples(index=False), 2):
        where, status = row.where.strip(), row.status
        if status not in STATUSES:
            raise DataError(path, f"line {line}", f"status '{status}' is unknown", f"use one of {STATUSES}")
        if status == "reported in the paper" and not where.startswith("paper:"):
            raise DataError(path, f"line {line}", "points at the book", "write 'paper: what the paper says'")
        if status == "reported" and not where.startswith("chapters/"):
            raise DataError(path, f"line {line}", "has no chapter", "write chapters/<file>.md[#label]")
        if status == "not reported" and (where or not row.reason.strip()):
            raise DataError(path, f"line {line}", "is not reported", "leave where empty and give the reason")
    frame["number"] = frame["number"].astype(int)
    return frame


def load_checklists(folder: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Every checklist of :data:`CHECKLISTS`, read from ``folder`` (default :func:`reporting_dir`)."""
    folder = Path(folder) if folder is not None else reporting_dir()
    return {name: read_checklist(folder / file) for name, (file, _) in CHECKLISTS.items()}


def chapter_labels(chapters: str | Path) -> dict[str, set[str]]:
    """``chapters/<file>.md`` -> the ``(label)=`` targets that file defines."""
    return {
        f"chapters/{p.name}": set(_LABEL.findall(p.read_text(encoding="utf-8"))) for p in Path(chapters).glob("*.md")
    }


def unresolved(frame: pd.DataFrame, chapters: str | Path) -> list[str]:
    """Items whose ``where`` names a chapter file or a label that does not exist."""
    labels = chapter_labels(chapters)
    problems = []
    for row in frame.itertuples(index=False):
        if not row.where.startswith("chapters/"):
            continue
        file, _, label = row.where.partition("#")
        if file not in labels:
            problems.append(f"item {row.number}: no chapter {file}")
        elif label and label not in labels[file]:
            problems.append(f"item {row.number}: {file} has no label ({label})=")
    return problems


def status_counts(checklists: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Items by status (rows, in :data:`STATUSES` order) and checklist (columns)."""
    counts = {name: frame["status"].value_counts() for name, frame in checklists.items()}
    return pd.DataFrame(counts).reindex(list(STATUSES)).fillna(0).astype(int)
