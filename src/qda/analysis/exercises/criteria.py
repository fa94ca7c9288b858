"""Open coding and writing a code's criteria (exercises 1 and 2)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qda.analysis.exercises.common import _CRITERION, _check_n, _codebook_row, _round
from qda.errors import QDAError
from qda.stats.spans import overlap
from qda.study.model import Study
from qda.study.units import participant_units, speaker_turns, unit_decisions

#: How every exercise frames the team's coding.


# ---------------------------------------------------------------------------
# 1. Open coding
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class OpenCoding:
    """A passage to code with no codebook, and the team's round-1 codes for it.

    ``team_codes`` has one row per code the lead analyst applied in round 1:
    ``code``, ``name`` and ``captures`` (its v1 name and definition) and ``words``
    (the part of the passage the coding covers, or "(the whole answer)").
    """

    unit_id: str
    transcript_id: str
    start: int
    end: int
    text: str
    team_codes: pd.DataFrame


def open_coding_exercise(study: Study, seed: int = 0, min_codes: int = 3, max_chars: int = 1200) -> OpenCoding:
    """A participant answer of round 1 (the transcripts read to build v1) and its round-1 codes.

    Candidates are the participant turns of the round-1 transcripts of at most
    ``max_chars`` characters to which the round-1 coding applies at least
    ``min_codes`` codes (:func:`qda.study.units.unit_decisions`: a coding covers half
    of the turn or half of itself); one is drawn with ``default_rng(seed)``.
    Raises :class:`~qda.errors.QDAError` when no turn qualifies.
    """
    _check_n(min_codes, "min_codes", minimum=1)
    codings = _round(study, "1")
    units = participant_units(study.transcripts)
    units = units.loc[units["transcript_id"].isin(codings["transcript_id"].unique())]
    units = units.loc[(units["end"] - units["start"]) <= max_chars]
    dec = unit_decisions(codings, units)
    applied = dec.loc[dec["applied"]].drop_duplicates(["unit_id", "code"])
    n_codes = applied.groupby("unit_id").size()
    candidates = sorted(n_codes.index[n_codes >= min_codes])
    if not candidates:
        raise QDAError(study.root, "round 1", f"no answer carries {min_codes} codes", "lower min_codes")
    unit_id = str(np.random.default_rng(seed).choice(candidates))
    unit = units.set_index("unit_id").loc[unit_id]
    tid, s, e = str(unit["transcript_id"]), int(unit["start"]), int(unit["end"])
    rows = []
    for code in sorted(applied.loc[applied["unit_id"] == unit_id, "code"].astype(str)):
        cb = _codebook_row(study, code, "v1")
        c = codings.loc[(codings["transcript_id"] == tid) & (codings["code"].astype(str) == code)]
        c = c.loc[overlap(c["start"], c["end"], s, e)]
        whole = bool(((c["start"] <= s) & (c["end"] >= e)).any())
        words = (
            "(the whole answer)"
            if whole
            else " [...] ".join(
                study.text(tid, max(int(a), s), min(int(b), e)) for a, b in zip(c["start"], c["end"], strict=False)
            )
        )
        rows.append({"code": code, "name": cb["name"], "captures": cb["definition"], "words": words})
    return OpenCoding(unit_id, tid, s, e, study.text(tid, s, e), pd.DataFrame(rows))


_STOP = {
    "about",
    "after",
    "also",
    "being",
    "code",
    "from",
    "into",
    "other",
    "someone",
    "that",
    "their",
    "them",
    "they",
    "this",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "with",
    "within",
}


def _stems(text: str) -> set[str]:
    """Lower-case words of four letters or more, cut to their first five letters (a crude stem)."""
    return {w[:5] for w in re.findall(r"[a-z]{4,}", str(text).lower().replace("_", " ")) if w not in _STOP}


def match_open_codes(exercise: OpenCoding, labels: Iterable[str]) -> pd.DataFrame:
    """Which of the team's round-1 codes your own code labels touch.

    A label touches a team code when they share a word stem (a word of four letters or
    more, cut to five letters, common words left out) with the code's slug, name or
    definition. A prompt for discussion, not a grade: a label that touches nothing may
    be a code the team did not think of. Returns one row per team code: ``code``,
    ``name``, ``your_labels`` (";"-joined) and ``touched`` (bool).
    """
    labels = [str(x).strip() for x in labels if str(x).strip()]
    rows = []
    for t in exercise.team_codes.itertuples():
        vocab = _stems(f"{t.code} {t.name} {t.captures}")
        hits = [x for x in labels if _stems(x) & vocab]
        rows.append({"code": t.code, "name": t.name, "your_labels": "; ".join(hits), "touched": bool(hits)})
    return pd.DataFrame(rows, columns=["code", "name", "your_labels", "touched"])


def unmatched_labels(exercise: OpenCoding, labels: Iterable[str]) -> list[str]:
    """Your labels that touch none of the team's codes (see :func:`match_open_codes`)."""
    vocab = set().union(*(_stems(f"{t.code} {t.name} {t.captures}") for t in exercise.team_codes.itertuples()))
    return [str(x).strip() for x in labels if str(x).strip() and not (_stems(x) & vocab)]


# ---------------------------------------------------------------------------
# 2. Writing a code's criteria
# ---------------------------------------------------------------------------
def note_criterion(note: str, code: str = "", codes: Iterable[str] = ()) -> dict[str, str]:
    """The criterion a reconciliation note names: ``code``, ``version`` and ``field``.

    The analysts' notes are prose that names the rule which settled the disagreement
    (data/README.md): "the v2 inclusion", "the networks_sponsorship v2 exclusion",
    "the v2 sponsorship exclusion". The first such phrase is read; its code is the
    slug written before it, else the code of ``codes`` whose slug holds the word
    between version and field ("sponsorship"), else ``code`` (the code disagreed
    on). A note that names no criterion gives empty strings.
    """
    m = _CRITERION.search(str(note))
    if not m:
        return {"code": "", "version": "", "field": ""}
    named = m["code"] or ""
    if not named and m["word"]:
        named = next((c for c in codes if m["word"] in str(c).split("_")), "")
    return {"code": named or str(code), "version": m["version"], "field": m["field"]}


@dataclass(frozen=True, eq=False)
class CriteriaExercise:
    """A code's v1 wording, boundary passages it handled badly, and its v2 rewrite.

    ``criteria`` has one row per field (``definition``, ``inclusion``,
    ``exclusion``): columns ``v1``, ``v2`` and ``rewritten`` (bool). ``boundary`` has
    one row per passage: ``unit_id, transcript_id, text, coded_by, not_coded_by,
    resolution, criterion, settled`` (the note names a v2 criterion of this code).
    """

    code: str
    name: str
    criteria: pd.DataFrame
    boundary: pd.DataFrame


def _reconciliation_with_text(study: Study, rows: pd.DataFrame) -> pd.DataFrame:
    turns = speaker_turns(study.transcripts)[["unit_id", "transcript_id", "start", "end"]]
    out = rows.merge(turns, on=["unit_id", "transcript_id"], how="left")
    return study.with_text(out)


def criteria_exercise(study: Study, code: str | None = None, n: int = 4, seed: int = 0) -> CriteriaExercise:
    """The code whose v1 criteria split the round-2 analysts most, with ``n`` of those passages.

    ``code`` defaults to the code with the most round-2 rows in
    ``study.reconciliation``. The boundary passages are its round-2 disagreements,
    drawn with ``default_rng(seed)``, one per distinct note first (so the kinds of
    disagreement vary). Raises :class:`~qda.errors.QDAError` for a code without
    round-2 disagreements.
    """
    n = _check_n(n, minimum=1)
    rec = study.reconciliation
    rec = rec.loc[rec["round"].astype(str) == "2"]
    if rec.empty:
        raise QDAError(study.root, "reconciliation", "has no round-2 rows", "add the round-2 disagreements")
    code = str(rec["code"].astype(str).value_counts().idxmax() if code is None else code)
    rows = rec.loc[rec["code"].astype(str) == code]
    if rows.empty:
        raise QDAError(study.root, "reconciliation", f"no round-2 disagreement on {code!r}", "pick another code")
    rows = rows.iloc[np.random.default_rng(seed).permutation(len(rows))]
    first = rows.drop_duplicates("note")
    take = list(first.index[:n]) + list(rows.index.difference(first.index, sort=False)[: max(0, n - len(first))])
    rows = _reconciliation_with_text(study, rows.loc[take]).sort_values("unit_id").reset_index(drop=True)
    slugs = sorted(set(study.codebook["code"].astype(str)))
    crit = pd.DataFrame([note_criterion(x, code, slugs) for x in rows["note"]])
    rows["criterion"] = (crit["code"] + " (" + crit["version"] + " " + crit["field"] + ")").where(crit["code"] != "")
    rows["settled"] = (crit["code"] == code) & (crit["version"] == "v2")
    v1, v2 = _codebook_row(study, code, "v1"), _codebook_row(study, code, "v2")
    fields = ["definition", "inclusion", "exclusion"]
    criteria = pd.DataFrame({"v1": [v1[f] for f in fields], "v2": [v2[f] for f in fields]}, index=fields)
    criteria["rewritten"] = criteria["v1"] != criteria["v2"]
    cols = ["unit_id", "transcript_id", "text", "coded_by", "not_coded_by", "resolution", "criterion", "settled"]
    return CriteriaExercise(code, str(v1["name"]), criteria, rows[cols])


def score_boundary_decisions(exercise: CriteriaExercise, decisions: Mapping[str, bool]) -> pd.DataFrame:
    """Your decision on each boundary passage under your criteria, beside the team's.

    ``decisions`` maps a unit id to True (your criteria apply the code) or False.
    Returns one row per decided passage: ``unit_id, yours, team`` (bools) and
    ``agree``. Unknown unit ids raise :class:`~qda.errors.QDAError`.
    """
    known = set(exercise.boundary["unit_id"])
    bad = set(decisions) - known
    if bad:
        raise QDAError(None, "decisions", f"unit(s) {sorted(bad)} are not boundary passages", "use exercise.boundary")
    team = exercise.boundary.set_index("unit_id")["resolution"].eq("present")
    out = pd.DataFrame(
        {"unit_id": list(decisions), "yours": [bool(v) for v in decisions.values()]},
        columns=["unit_id", "yours"],
    )
    out["team"] = out["unit_id"].map(team).astype(bool)
    out["agree"] = out["yours"] == out["team"]
    return out
