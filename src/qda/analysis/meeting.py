"""Participants in whose talk two codes meet: who spoke to a point, never how often.

A qualitative study counts people, not segments (Murphy et al., Academic Medicine 2022,
doi:10.1097/ACM.0000000000004388, name the absence of frequency data as a limitation).
These functions say which participants have a coding of one code sharing a character
with a coding of another (the overlap rule of :mod:`qda.analysis.cooccurrence`), so a
chapter can say who spoke to a point, by gender, without counting segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from qda.study.model import Study
from qda.study.units import rows_overlapping


def participants_where_codes_meet(
    study: Study, code: str, others: Iterable[str], round: str | None = "full"
) -> pd.DataFrame:
    """Participants with a coding of ``code`` that overlaps a coding of any of ``others``.

    Codings of ``round`` (``None``: all rounds). Returns the rows of
    ``study.participants`` for those participants, in participant order.
    """
    codings = study.codings
    if round is not None:
        codings = codings.loc[codings["round"].astype(str) == str(round)]
    cols = ["transcript_id", "start", "end"]
    left = codings.loc[codings["code"].astype(str) == code, cols]
    right = codings.loc[codings["code"].astype(str).isin(list(others)), cols]
    hit = left.loc[rows_overlapping(left, right), "transcript_id"]
    ids = study.transcripts.loc[study.transcripts["transcript_id"].isin(hit), "participant_id"]
    return study.participants.loc[study.participants["participant_id"].isin(ids)].reset_index(drop=True)


def meeting_table(
    study: Study, meetings: Sequence[tuple[str, str, Sequence[str]]], round: str | None = "full"
) -> pd.DataFrame:
    """Participants by gender for each ``(label, code, others)`` meeting of codes.

    One row per label, one column per gender of ``study.participants`` (participants,
    not segments), and ``total``.
    """
    genders = [str(g) for g in study.participants["gender"].astype(str).unique()]
    rows = {}
    for label, code, others in meetings:
        who = participants_where_codes_meet(study, code, others, round)
        counts = who["gender"].astype(str).value_counts()
        rows[label] = {g: int(counts.get(g, 0)) for g in genders} | {"total": len(who)}
    return pd.DataFrame.from_dict(rows, orient="index")
