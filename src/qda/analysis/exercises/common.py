"""Shared by the exercises: the framing, the column sets, small checks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from qda.errors import QDAError
from qda.study.model import Study

#: How every exercise frames the team's coding.

ONE_READING = (
    "The team's coding is one team's reading of these passages, not the truth: "
    "where you differ, say why, and you have the conversation the analysts had."
)

#: Columns of :func:`browse_excerpts`.
EXCERPT_COLUMNS = ["participant_id", "gender", "career_stage", "code_or_theme", "text"]

#: Prompts of the memo exercise (what an analytic memo of the team does).
MEMO_PROMPTS = [
    "What do these segments have in common? Give it a provisional name.",
    "Cite the segments by their ids as you go.",
    "Say what the idea includes and what it leaves out.",
    "Which segment does not fit, or fits only partly? Why?",
    "What did you bring to the reading (your role, your training)?",
]

# "networks_sponsorship v2 exclusion", "the v2 sponsorship exclusion", "the v2 inclusion", ...
_CRITERION = re.compile(
    r"(?:\b(?P<code>[a-z]+_[a-z_]+)\s+)?\b(?P<version>v\d|final)\s+(?:(?P<word>[a-z]+)\s+)?"
    r"(?P<field>inclusion|exclusion|definition)\b"
)


def _check_n(n, name: str = "n", minimum: int = 0) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise QDAError(
            None, name, f"{n!r} is not a whole number >= {minimum}", f"pass {name}={max(minimum, 3)} or similar"
        )
    return int(n)


def _round(study: Study, rnd: str) -> pd.DataFrame:
    codings = study.codings.loc[study.codings["round"].astype(str) == str(rnd)]
    if codings.empty:
        rounds = sorted(study.codings["round"].astype(str).unique())
        raise QDAError(
            study.root, f"round {rnd}", "has no codings", f"pick one of the rounds {', '.join(rounds) or '(none)'}"
        )
    return codings


def _codebook_row(study: Study, code: str, version: str) -> pd.Series:
    cb = study.codebook
    row = cb.loc[(cb["code"].astype(str) == code) & (cb["version"].astype(str) == version)]
    if row.empty:
        raise QDAError(study.root, "codebook", f"no code {code!r} in version {version}", "pick a code of that version")
    return row.iloc[0]
