"""Reconciling a disagreement (exercise 4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qda.analysis.exercises.common import _round
from qda.analysis.exercises.criteria import _reconciliation_with_text, note_criterion
from qda.errors import QDAError
from qda.stats.spans import overlap
from qda.study.model import Study

#: How every exercise frames the team's coding.


# ---------------------------------------------------------------------------
# 4. Reconciling a disagreement
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ReconciliationCase:
    """One (answer, code) the analysts disagreed on, with each analyst's coding of it.

    ``codings`` has one row per analyst: ``coder``, ``applied`` (bool) and ``words``
    (the text of their coding of the code that overlaps the answer, empty if none).
    ``resolution``, ``note`` and ``criterion`` are the team's decision.
    """

    round: str
    unit_id: str
    transcript_id: str
    code: str
    text: str
    codings: pd.DataFrame
    resolution: str
    note: str
    criterion: dict


def reconciliation_case(study: Study, seed: int = 0, round: str = "2", code: str | None = None) -> ReconciliationCase:
    """A disagreement of ``round`` (optionally on ``code``), drawn with ``default_rng(seed)``."""
    rec = study.reconciliation
    rec = rec.loc[rec["round"].astype(str) == str(round)]
    if code is not None:
        rec = rec.loc[rec["code"].astype(str) == code]
    if rec.empty:
        raise QDAError(study.root, "reconciliation", f"no disagreement in round {round}", "pick another round or code")
    row = rec.iloc[int(np.random.default_rng(seed).integers(len(rec)))]
    unit = _reconciliation_with_text(study, row.to_frame().T).iloc[0]
    s, e, tid = int(unit["start"]), int(unit["end"]), str(row["transcript_id"])
    c = _round(study, str(round))
    c = c.loc[(c["transcript_id"] == tid) & (c["code"].astype(str) == str(row["code"]))]
    c = c.loc[overlap(c["start"], c["end"], s, e)]
    coders = sorted(set(str(row["coded_by"]).split(";")) | set(str(row["not_coded_by"]).split(";")) - {""})
    applied = set(str(row["coded_by"]).split(";"))
    rows = []
    for coder in coders:
        mine = c.loc[c["coder"] == coder]
        words = " [...] ".join(
            study.text(tid, int(a), int(b)) for a, b in zip(mine["start"], mine["end"], strict=False)
        )
        rows.append({"coder": coder, "applied": coder in applied, "words": words if coder in applied else ""})
    return ReconciliationCase(
        str(round),
        str(row["unit_id"]),
        tid,
        str(row["code"]),
        str(unit["text"]),
        pd.DataFrame(rows, columns=["coder", "applied", "words"]),
        str(row["resolution"]),
        str(row["note"]),
        note_criterion(row["note"], str(row["code"]), sorted(set(study.codebook["code"].astype(str)))),
    )


def score_reconciliation(case: ReconciliationCase, decision: str) -> pd.Series:
    """Your decision (``"present"`` or ``"absent"``) beside the team's, and the criterion it used."""
    decision = str(decision).strip().lower()
    if decision not in ("present", "absent"):
        raise QDAError(None, "decision", f"{decision!r} is not a decision", "say 'present' or 'absent'")
    crit = case.criterion
    named = f"{crit['code']} ({crit['version']} {crit['field']})" if crit["code"] else ""
    return pd.Series(
        {"yours": decision, "team": case.resolution, "agree": decision == case.resolution, "criterion": named},
        dtype=object,
    )
