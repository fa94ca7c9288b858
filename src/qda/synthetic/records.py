"""The analysts' own records: memos and theme assignments, resolved onto the compiled corpus.

The records are written by hand, for their place, in ``team/``:

- ``memos.yml``: one entry per memo, dated on the coding timeline, by one analyst,
  attached to a coding (named by its transcript, code, round and a quotation from its
  text), to a code, or to the project (reflexivity and meeting notes);
- ``theme_assignments.csv``: the interpretive step. Each row assigns one analysis-set
  segment (named by its transcript and a quotation from it) to a theme and sub-theme,
  by one analyst, with a one-line reason;
- ``exemplars.csv``: the passages the analysts chose to quote for each theme, with a
  one-line rationale (read by the theme chapters).

A quotation, not an offset, names the passage, so a record survives edits elsewhere in the
interview; a quotation that no longer matches stops the build with one line naming it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import yaml

from qda.analysis.analysis_set import analysis_set
from qda.errors import DataError
from qda.study.model import Study
from qda.study.schema import coerce, empty_frame

TEAM_DIR = Path(__file__).parent / "team"
#: Each analyst keeps their own files (``memos_a.yml``, ``theme_assignments_b.csv``, ...).
MEMOS_GLOB = "memos*.yml"
ASSIGNMENTS_GLOB = "theme_assignments*.csv"
EXEMPLARS_GLOB = "exemplars*.csv"
NOTES_FILE = TEAM_DIR / "reconciliation_notes.csv"
DECISIONS = ("open", "keep", "split", "merge", "rename", "negative case", "drop")

THEME_NAMES = {
    1: "Learning about gender inequities through mentoring relationships",
    2: "Intentionally helping women mentees navigate an inequitable environment",
    3: "Balancing work and family responsibilities",
    4: "Experiencing sexual harassment",
}
SUBTHEMES = {3: ("role_modeling", "pregnancy_childcare")}
MEMO_COLUMNS = ["memo_id", "coder", "date", "attached_to", "code", "coding_id", "text"]
THEME_MEMO_COLUMNS = ["memo_id", "theme", "decision"]
EXEMPLAR_COLUMNS = ["exemplar_id", "theme", "transcript_id", "start", "end", "coder", "rationale"]
THEME_COLUMNS = ["theme_coding_id", "transcript_id", "start", "end", "theme", "theme_name", "subtheme", "coder"]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _source_map(transcripts: pd.DataFrame, source_of: dict[str, str] | None) -> dict[str, list[str]]:
    """Authored transcript id -> the transcript ids that carry its text (itself, or its tiles)."""
    out: dict[str, list[str]] = {}
    for tid in transcripts["transcript_id"]:
        out.setdefault((source_of or {}).get(tid, tid), []).append(tid)
    return out


def _memo_entries(folder: Path) -> list[tuple[Path, int, dict]]:
    out = []
    for path in sorted(folder.glob(MEMOS_GLOB)):
        for k, m in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or [], 1):
            out.append((path, k, m))
    return out


def make_memos(
    codings: pd.DataFrame, transcripts: pd.DataFrame, source_of: dict[str, str] | None = None, folder: Path = TEAM_DIR
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``memos.csv`` and ``theme_memos.csv`` from the analysts' ``team/memos*.yml``.

    A memo with ``theme`` and ``decision`` keys is an analytic memo: it is also listed in
    the second table (memo id, theme, the decision it records: one of :data:`DECISIONS`).
    Both are empty when no memo file exists yet.
    """
    entries = _memo_entries(folder)
    texts = dict(zip(transcripts["transcript_id"], transcripts["text"], strict=True))
    targets = _source_map(transcripts, source_of)
    rows = []
    for path, k, m in entries:
        where = f"memo {k}"
        kind = m.get("attached_to")
        if kind not in ("code", "coding", "project"):
            raise DataError(path, where, f"attached_to {kind!r}", "write code, coding or project")
        if m.get("decision") is not None and m["decision"] not in DECISIONS:
            raise DataError(path, where, f"decision {m['decision']!r}", f"use one of {', '.join(DECISIONS)}")
        base = {
            "coder": m["coder"],
            "date": str(m["date"]),
            "attached_to": kind,
            "code": m.get("code", "") if kind == "code" else "",
            "text": _norm(m["text"]),
            "theme": int(m["theme"]) if m.get("theme") is not None else 0,
            "decision": m.get("decision") or "",
        }
        if kind != "coding":
            rows.append({**base, "coding_id": ""})
            continue
        # a coding memo belongs to the interview it was written on (in a tiled benchmark
        # corpus: its first copy, the one the coding rounds cover)
        for tid in targets.get(m["transcript_id"], [])[:1]:
            c = codings.loc[
                (codings["transcript_id"] == tid)
                & (codings["code"] == m["code"])
                & (codings["round"].astype(str) == str(m.get("round", "full")))
            ]
            quote = _norm(m["quote"])
            hit = [
                cid
                for cid, s, e in zip(c["coding_id"], c["start"], c["end"], strict=True)
                if quote in _norm(texts[tid][s:e])
            ]
            if not hit:
                raise DataError(
                    path,
                    where,
                    f"no {m['code']} coding of round {m.get('round', 'full')} in {tid} holds {m['quote']!r}",
                    "quote words of the coded passage exactly",
                )
            rows.append({**base, "coding_id": hit[0]})
    out = pd.DataFrame(rows, columns=[c for c in MEMO_COLUMNS if c != "memo_id"] + ["theme", "decision"])
    dup = out["text"].duplicated()
    if dup.any():
        raise DataError(
            folder,
            "memos",
            f"the memo {out.loc[dup, 'text'].iloc[0][:60]!r}... is written twice",
            "write each memo once",
        )
    out = out.sort_values(["date", "coder"], kind="stable").reset_index(drop=True)
    out.insert(0, "memo_id", [f"M{k + 1:03d}" for k in range(len(out))])
    analytic = out.loc[out["theme"] > 0, THEME_MEMO_COLUMNS].reset_index(drop=True)
    return out[MEMO_COLUMNS], analytic


def _analysis_segments(codings: pd.DataFrame, transcripts: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    study = Study(
        participants=coerce(participants, "participants", Path("participants.csv")),
        transcripts=transcripts.assign(path="", n_chars=transcripts["text"].str.len(), n_words=0),
        codebook=empty_frame("codebook"),
        codings=codings,
        synthetic=True,
    )
    return analysis_set(study, round="full")


def read_rows(folder: Path, pattern: str) -> list[tuple[Path, int, dict]]:
    """Every row of the CSV files matching ``pattern`` in ``folder``: (file, line, row)."""
    out = []
    for path in sorted(folder.glob(pattern)):
        with open(path, encoding="utf-8", newline="") as f:
            out += [(path, line, row) for line, row in enumerate(csv.DictReader(f), 2)]
    return out


def make_themes(
    codings: pd.DataFrame,
    transcripts: pd.DataFrame,
    participants: pd.DataFrame,
    source_of: dict[str, str] | None = None,
    folder: Path = TEAM_DIR,
) -> pd.DataFrame:
    """``themes.csv``: the analysis-set segments the analysts assigned to a theme.

    Each assignment's quotation is looked up in the analysis-set segments of its transcript
    (full round, overlap rule: :func:`qda.analysis.analysis_set.analysis_set`); the row
    carries that segment's span.
    """
    assignments = read_rows(folder, ASSIGNMENTS_GLOB)
    if not assignments:
        return empty_frame("themes")[THEME_COLUMNS]
    segments = _analysis_segments(codings, transcripts, participants)
    texts = dict(zip(transcripts["transcript_id"], transcripts["text"], strict=True))
    targets = _source_map(transcripts, source_of)
    rows = []
    for path, line, a in assignments:
        where = f"row {line}"
        theme = int(a["theme"])
        if theme not in THEME_NAMES:
            raise DataError(path, where, f"theme {a['theme']!r} is not 1-4", "use a theme number")
        sub = a.get("subtheme", "") or ""
        if sub and sub not in SUBTHEMES.get(theme, ()):
            raise DataError(
                path, where, f"sub-theme {sub!r} is not one of theme {theme}", f"use {SUBTHEMES.get(theme)}"
            )
        quote = _norm(a["quote"])
        for tid in targets.get(a["transcript_id"], []):
            seg = segments.loc[segments["transcript_id"] == tid]
            hit = [(s, e) for s, e in zip(seg["start"], seg["end"], strict=True) if quote in _norm(texts[tid][s:e])]
            if not hit:
                raise DataError(
                    path, where, f"no analysis-set segment of {tid} holds {a['quote']!r}", "quote the segment exactly"
                )
            s, e = hit[0]
            rows.append((tid, int(s), int(e), theme, THEME_NAMES[theme], sub, a["coder"]))
    out = pd.DataFrame(rows, columns=THEME_COLUMNS[1:]).drop_duplicates(["transcript_id", "start", "end", "theme"])
    out = out.sort_values(["transcript_id", "start", "theme"], kind="stable").reset_index(drop=True)
    out.insert(0, "theme_coding_id", [f"T{k + 1:04d}" for k in range(len(out))])
    return out


def make_exemplars(transcripts: pd.DataFrame, folder: Path = TEAM_DIR) -> pd.DataFrame:
    """``exemplars.csv``: the passages the analysts chose to quote, located in their transcripts.

    Each row of ``team/exemplars*.csv`` (theme, transcript_id, quote, coder, rationale) names
    an exact quotation; its span is found in the transcript (first occurrence).
    """
    texts = dict(zip(transcripts["transcript_id"], transcripts["text"], strict=True))
    rows = []
    for path, line, r in read_rows(folder, EXEMPLARS_GLOB):
        text = texts.get(r["transcript_id"])
        start = -1 if text is None else text.find(r["quote"])
        if start < 0:
            raise DataError(path, f"row {line}", f"{r['quote'][:50]!r} is not in {r['transcript_id']}", "quote exactly")
        rows.append(
            (int(r["theme"]), r["transcript_id"], start, start + len(r["quote"]), r["coder"], _norm(r["rationale"]))
        )
    out = pd.DataFrame(rows, columns=EXEMPLAR_COLUMNS[1:]).sort_values(
        ["theme", "transcript_id", "start"], kind="stable"
    )
    out.insert(0, "exemplar_id", [f"E{k + 1:02d}" for k in range(len(out))])
    return out.reset_index(drop=True)


def apply_notes(recon: pd.DataFrame, path: Path = NOTES_FILE) -> pd.DataFrame:
    """Replace the generated reconciliation notes by the analysts' own (``team/reconciliation_notes.csv``).

    The file is keyed by ``round, unit_id, code``; every disagreement must have its note once
    the file exists, and a note for a disagreement that no longer exists stops the build.
    """
    if not path.is_file():
        return recon
    with open(path, encoding="utf-8", newline="") as f:
        notes = {(r["round"], r["unit_id"], r["code"]): _norm(r["note"]) for r in csv.DictReader(f)}
    keys = list(zip(recon["round"].astype(str), recon["unit_id"], recon["code"], strict=True))
    missing = [k for k in keys if k not in notes]
    stale = set(notes) - set(keys)
    if missing or stale:
        k = (missing or sorted(stale))[0]
        what = "has no note" if missing else "is no longer a disagreement"
        raise DataError(path, f"round {k[0]}, {k[1]}, {k[2]}", what, "write or remove the note")
    return recon.assign(note=[notes[k] for k in keys])
