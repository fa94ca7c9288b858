"""The review of de-identification findings: which findings a person has checked.

``deidentify-reviewed.yml`` beside a project lists the findings of
:func:`qda.study.deidentify.scan` that a person has reviewed (kept as they are, or fixed at
the source); ``make book`` on a user's project refuses to build while any finding is not
listed. :func:`review_file` writes a starter file with every finding marked unreviewed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from qda.errors import DataError, SchemaError
from qda.study.deidentify import KINDS, REVIEW_STATUSES, REVIEWED_NAMES

#: Columns of the findings table returned by :func:`scan`.


# ---------------------------------------------------------------------------
# Reviewed findings
# ---------------------------------------------------------------------------
def reviewed_path(project: str | Path) -> Path:
    """Where the reviewed list of ``project`` lives: inside a data folder, beside a file.

    The first existing name of :data:`REVIEWED_NAMES`; if none exists, the ``.yml`` one.
    """
    project = Path(project)
    folder = project if project.is_dir() else project.parent
    for name in REVIEWED_NAMES:
        if (folder / name).is_file():
            return folder / name
    return folder / REVIEWED_NAMES[0]


def read_reviewed(path: str | Path) -> pd.DataFrame:
    """Read the reviewed findings: a YAML list or a CSV with ``file``, ``kind``, ``match``.

    YAML layout::

        reviewed:
          - file: transcripts/P001.txt   # optional; "*" or omitted = every file
            kind: person name
            match: Dr. Sarah Whitfield
            note: a pseudonym chosen with the participant   # optional, free text
            status: reviewed   # optional; "unreviewed" (as --write-review writes) counts as not reviewed

    A missing file means nothing is reviewed (an empty table). Returns a DataFrame
    with columns ``file``, ``kind``, ``match``, ``note``.

    Raises
    ------
    DataError, SchemaError
        Unreadable YAML/CSV, or an entry without ``kind``/``match`` or with an
        unknown kind, naming the file and the entry.
    """
    path = Path(path)
    cols = ["file", "kind", "match", "note"]
    if not path.exists():
        return pd.DataFrame(columns=cols, dtype=str)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(path, f"byte {e.start}", "is not UTF-8 text", "save the file as UTF-8") from None
    if path.suffix.lower() == ".csv":
        import io

        try:
            df = pd.read_csv(io.StringIO(raw_text), dtype=str, keep_default_na=False)
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as e:
            raise DataError(
                path,
                "parsing",
                f"is not a valid CSV ({str(e).splitlines()[0]})",
                "write a header row file,kind,match and one row per reviewed finding",
            ) from None
        missing = [c for c in ("kind", "match") if c not in df.columns]
        if missing:
            raise SchemaError(
                path, "header", f"missing column(s) {', '.join(missing)}", "write a header row file,kind,match"
            )
        entries = df.to_dict("records")
        where = [f"row {i + 2}" for i in range(len(entries))]
    else:
        try:
            raw = yaml.safe_load(raw_text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise DataError(
                path,
                f"line {mark.line + 1}" if mark is not None else "parsing",
                f"is not valid YAML ({getattr(e, 'problem', None) or e})",
                "fix the indentation or quoting",
            ) from None
        if raw is None:
            raw = {"reviewed": []}
        if isinstance(raw, dict) and raw.get("reviewed") is None:  # `reviewed:` with no entry
            raw["reviewed"] = []
        if not isinstance(raw, dict) or not isinstance(raw.get("reviewed", []), list):
            raise DataError(
                path,
                "top level",
                "needs a `reviewed:` list",
                "write `reviewed:` then one `- {file: ..., kind: ..., match: ...}` per finding",
            )
        entries = raw.get("reviewed") or []
        where = [f"entry {i + 1}" for i in range(len(entries))]
    rows = []
    for w, entry in zip(where, entries, strict=False):
        if not isinstance(entry, dict):
            raise SchemaError(path, w, "is not a mapping", "write it as {file: ..., kind: ..., match: ...}")
        kind = str(entry.get("kind") or "").strip()
        match = entry.get("match")
        if match is None or str(match) == "":
            raise SchemaError(path, w, "has no `match`", "copy the matched text from the check's output")
        if kind not in KINDS:
            raise SchemaError(
                path, w, f"kind {kind!r} is not one of {', '.join(KINDS)}", "copy the kind from the check's output"
            )
        status = str(entry.get("status") or "reviewed").strip().lower()
        if status not in REVIEW_STATUSES:
            raise SchemaError(
                path, w, f"status {status!r} is not one of {', '.join(REVIEW_STATUSES)}", "write reviewed or unreviewed"
            )
        if status == "unreviewed":
            continue
        file = str(entry.get("file") or "*").strip() or "*"
        rows.append({"file": file, "kind": kind, "match": str(match), "note": str(entry.get("note") or "")})
    return pd.DataFrame(rows, columns=cols, dtype=str)


def review_file(findings: pd.DataFrame, existing: str | None = None) -> str:
    """The reviewed-findings YAML listing every finding with ``status: unreviewed``, for the user to confirm.

    ``existing`` (the text of a reviewed file already there) keeps its entries, with their
    status; a finding already listed (same file, kind, match) is not repeated. Each new
    entry carries its location and context as a comment.
    """
    old = (yaml.safe_load(existing) or {}).get("reviewed", []) if existing else []
    seen = {(str(e.get("file") or "*"), str(e.get("kind")), str(e.get("match"))) for e in old if isinstance(e, dict)}
    lines = [
        "# Identifying data found by `python -m qda deidentify-check --write-review`.",
        "# For each entry: remove the text from your project, or, if it may stay (a pseudonym,",
        "# a public name), change its status to reviewed. The book is built only when no",
        "# finding is left unreviewed.",
        "reviewed:",
    ]
    for e in old:
        if isinstance(e, dict):
            lines.append("  - " + json.dumps({k: str(v) for k, v in e.items()}, ensure_ascii=False))
    for f, loc, kind, match, ctx in zip(
        findings["file"], findings["location"], findings["kind"], findings["match"], findings["context"], strict=False
    ):
        key = (str(f), str(kind), str(match))
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"  # {loc}: ...{' '.join(str(ctx).split())}...")
        lines.append(f"  - file: {json.dumps(str(f), ensure_ascii=False)}")
        lines.append(f"    kind: {json.dumps(str(kind))}")
        lines.append(f"    match: {json.dumps(str(match), ensure_ascii=False)}")
        lines.append("    status: unreviewed")
    if lines[-1] == "reviewed:":
        lines[-1] = "reviewed: []  # nothing found"
    return "\n".join(lines) + "\n"


def unreviewed(findings: pd.DataFrame, reviewed: pd.DataFrame) -> pd.DataFrame:
    """The findings not covered by ``reviewed``.

    Rule: a finding is reviewed when a reviewed row has the same ``kind`` and
    ``match`` and either the same ``file`` or the file ``"*"`` (every file).
    """
    if reviewed is None or reviewed.empty or findings.empty:
        return findings.copy()
    exact = set(zip(reviewed["file"], reviewed["kind"], reviewed["match"], strict=False))
    anywhere = {(k, m) for f, k, m in exact if f == "*"}
    keep = [
        (f, k, m) not in exact and (k, m) not in anywhere
        for f, k, m in zip(findings["file"], findings["kind"], findings["match"], strict=False)
    ]
    return findings.loc[keep].reset_index(drop=True)
