"""Writing an imported study as a data folder (``python -m qda import FILE --out DIR``).

The folder
----------
``--out DIR`` is written whole or not at all: every file is rendered in memory, written
into a fresh sibling folder, and that folder is renamed into place.  An existing ``DIR``
is refused unless it is empty or holds an earlier import of the same file (named in its
:data:`IMPORT_STAMP`), or ``force`` is given; it is then replaced (renamed aside, the new
folder renamed in, the old one removed), so no file of an earlier import survives (an
old ``SYNTHETIC`` marker included).  A path that is a file is refused in one line.

Spreadsheet safety
------------------
A CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` (and is not a number) is run as a
formula by spreadsheet programs (CSV injection).  Such cells are written with a leading
apostrophe, the usual neutraliser, and the count is reported; ``validate`` names them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

from qda.errors import DataError, UnsafeInputError
from qda.exchange.naming import sanitise_id
from qda.exchange.write import codes_for_export
from qda.study.model import Study
from qda.study.schema import SCHEMAS, empty_frame

_UNSTATED = "(not stated in the imported project)"
_EARLIER = "(earlier wording not carried by REFI-QDA)"
#: File in an import folder naming the REFI-QDA file it was imported from.
IMPORT_STAMP = ".qda-import"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


# ---------------------------------------------------------------------------
# codebook.yml
# ---------------------------------------------------------------------------
def _round(v: object) -> int | None:
    s = str(v)
    return int(s) if s.isdigit() else None


def _history(latest: pd.DataFrame, codings: pd.DataFrame) -> list[tuple[str, int]] | None:
    """Versions ``[(name, after_round)]`` that let every code keep its refined round, or None (one version).

    The rounds needed are the codes' introduced and refined rounds; the last is ``final``.
    The earlier ones are named by the codings' ``codebook_version`` labels (ordered by the
    first round coded with each), so that every coding still names a version; rounds left
    over are named ``round_<R>``, labels left over get rounds before the first.
    """
    refined = {int(r) for r in latest["refined_round"].dropna()}
    if not refined:
        return None
    first_round: dict[str, float] = {}
    for label, rnd in zip(codings["codebook_version"].astype(str), codings["round"].astype(str), strict=False):
        if label not in ("", "final"):
            r = _round(rnd)
            first_round[label] = min(first_round.get(label, float("inf")), r if r is not None else float("inf"))
    labels = sorted(first_round, key=lambda k: (first_round[k], k))
    rounds = sorted(refined | {max(int(x), 1) for x in latest["introduced_round"]})
    final_after, others = rounds[-1], rounds[:-1]
    if len(labels) >= len(others):
        extra = len(labels) - len(others)
        base = others[0] if others else final_after
        versions = list(zip(labels, [base - extra + i for i in range(extra)] + others, strict=True))
    else:
        versions = list(zip(labels, others[: len(labels)], strict=True))
        versions += [(f"round_{r}", r) for r in others[len(labels) :]]
    return [*versions, ("final", final_after)]


def codebook_yaml(codebook: pd.DataFrame, source: str = "", codings: pd.DataFrame | None = None) -> str:
    """A ``codebook.yml`` that :func:`qda.study.codebook.read_codebook` reads back.

    Each code's latest text is kept.  When codes carry a refined round (``Refined in
    round: R`` in a qda export), the file gets the versions that keep it (see
    :func:`_history`): the code's introducing block says ``(earlier wording not carried by
    REFI-QDA)`` and the block of round R states the text.  Otherwise one version, ``final``.
    ``read_codebook`` requires a ``#RRGGBB`` colour, an origin and all four text fields,
    which other tools may not record: the writer fills ``#999999``, ``inductive`` and
    ``(not stated in the imported project)``, and says so in the file's header.
    """
    cb = codebook.copy()
    cb["version"] = cb["version"].astype(str)
    study = Study(empty_frame("participants"), empty_frame("transcripts"), cb, empty_frame("codings"))
    latest = codes_for_export(study, None)
    history = _history(latest, codings if codings is not None else empty_frame("codings")) if len(latest) else None
    versions = history or [("final", max([1, *[int(x) for x in latest["introduced_round"]]]) if len(latest) else 1)]
    codes = []
    filled: Counter = Counter()
    for _, r in latest.iterrows():
        color = str(r["color"] or "")
        if re.fullmatch(r"#[0-9A-Fa-f]{3}", color):
            color = "#" + "".join(ch * 2 for ch in color[1:])
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
            color = "#999999"
            filled["colour"] += 1
        origin = str(r["origin"] or "")
        if origin not in {"deductive", "inductive"}:
            origin = "inductive"
            filled["origin"] += 1
        block = {}
        for f in ("definition", "inclusion", "exclusion", "example"):
            v = " ".join(str(r[f] or "").split())
            if not v:
                v = _UNSTATED
                filled[f] += 1
            block[f] = v
        intro = max(int(r["introduced_round"]), 0)
        first = next(name for name, a in versions if a >= max(intro, 1)) if history else "final"
        entry = {
            "code": str(r["code"]),
            "name": str(r["name"] or r["code"]),
            "parent": str(r["parent"] or ""),
            "code_group": str(r["code_group"] or ""),
            "origin": origin,
            "introduced_round": intro,
            "color": color.upper(),
        }
        rr = r["refined_round"]
        at = next((n for n, a in versions if not pd.isna(rr) and a == int(rr)), None)
        if history and at is not None and dict(versions)[at] > dict(versions)[first]:
            entry[first] = {f: _EARLIER for f in block}
            entry[at] = block
        else:
            entry[first] = block
        codes.append(entry)
    head = [
        f"# Codebook imported from a REFI-QDA file{(': ' + source) if source else ''}.",
        "# Written by `python -m qda import`; "
        + (
            "one version (final)."
            if not history
            else f"versions {', '.join(n for n, _ in versions)}: REFI-QDA carries only each code's latest text "
            f"and the round it was refined in; earlier wording reads {_EARLIER!r}."
        ),
    ]
    if filled:
        head.append(
            "# Filled by the importer where the project recorded nothing: "
            + ", ".join(f"{k} ({n} codes)" for k, n in sorted(filled.items()))
            + f"; colour #999999, origin inductive, text {_UNSTATED!r}."
        )
    body = yaml.safe_dump(
        {"versions": [{"version": n, "after_round": a} for n, a in versions], "codes": codes},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return "\n".join(head) + "\n" + body


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------
def formula_safe(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``frame`` with text cells that a spreadsheet would run as a formula prefixed by ``'``; and their count."""
    out = frame.copy()
    n = 0
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        text = s.astype(str)
        risky = text.str.startswith(FORMULA_START) & ~text.str.match(_NUMBER.pattern) & s.notna()
        if risky.any():
            n += int(risky.sum())
            out[col] = s.astype(object).where(~risky, "'" + text)
    return out, n


def _csv(frame: pd.DataFrame, table: str) -> tuple[str, int]:
    cols = list(SCHEMAS[table]) + [c for c in frame.columns if c not in SCHEMAS[table]]
    safe, n = formula_safe(frame[cols])
    return safe.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d"), n


# ---------------------------------------------------------------------------
# The folder
# ---------------------------------------------------------------------------
def _stamp(source: Path | None) -> str:
    if source is None:
        return "source: (none)\n"
    return f"source: {source.resolve()}\n"


def check_out_folder(out: Path, source: Path | None, force: bool) -> None:
    """Refuse ``out`` when it is a file, or a folder holding anything but an earlier import of ``source``."""
    if out.exists() and not out.is_dir():
        raise DataError(out, "--out", "is a file, not a folder", "give a folder path (it is created)")
    if not out.is_dir() or force:
        return
    entries = list(out.iterdir())
    if not entries:
        return
    stamp = out / IMPORT_STAMP
    if stamp.is_file() and stamp.read_text("utf-8", errors="replace") == _stamp(source):
        return
    what = "an import of another file" if stamp.is_file() else f"{len(entries)} item(s) that are not an earlier import"
    raise DataError(
        out,
        "--out",
        f"already holds {what}",
        "choose a new folder, or add --force to replace the whole folder",
    )


def write_study(
    study: Study, out_dir: str | Path, *, source: str | Path | None = None, force: bool = False
) -> list[Path]:
    """Write ``study`` in the ``data/`` layout so that ``load_study(out_dir)`` reads it.

    Files: ``participants.csv``, ``institutions.csv``, ``coders.csv``, ``codings.csv``,
    ``memos.csv``, ``themes.csv`` and ``reconciliation.csv`` (when not empty), ``codebook.yml``
    (:func:`codebook_yaml`), ``transcripts/<id>.txt``, ``SYNTHETIC`` when the study is
    synthetic and :data:`IMPORT_STAMP`.  Every file is rendered in memory and checked to
    lie inside the folder before anything is written; the folder then appears whole (see
    the module docstring, which also gives the rules for an existing ``out_dir``).
    Returns the paths written.  ``study.imported.notes`` gets a line when cells were
    neutralised for spreadsheets.
    """
    out = Path(out_dir)
    src = Path(source) if source is not None else None
    check_out_folder(out, src, force)
    files: dict[str, bytes] = {}

    def put(rel: str, data: str) -> None:
        parts = Path(rel).parts
        if Path(rel).is_absolute() or ".." in parts:
            raise UnsafeInputError(out, rel, "would be written outside the output folder", "rename the transcript")
        if rel in files:
            raise DataError(out, rel, "two items would be written to the same file", "give them distinct ids")
        files[rel] = data.encode("utf-8")

    escaped = 0
    tables = ["participants", "institutions", "coders", "codings", "memos"] + [
        t for t in ("themes", "reconciliation") if len(getattr(study, t))
    ]
    for table in tables:
        text, n = _csv(getattr(study, table), table)
        escaped += n
        put(SCHEMAS_FILES[table], text)
    put("codebook.yml", codebook_yaml(study.codebook, str(study.root or ""), study.codings))
    for tid, text in zip(study.transcripts["transcript_id"], study.transcripts["text"], strict=False):
        if sanitise_id(tid) != tid:
            raise DataError(out, f"transcript {tid!r}", "is not a safe file name", "rename the transcript")
        put(f"transcripts/{tid}.txt", text)
    if study.synthetic:
        put("SYNTHETIC", "This folder holds SYNTHETIC data (an export of the generated corpus).\n")
    put(IMPORT_STAMP, _stamp(src))
    _write_folder(out, files)
    if escaped and study.imported is not None:
        study.imported.notes.append(
            f"{out}: CSV: {escaped} cell(s) starting with =, +, - or @ written with a leading apostrophe "
            "so that a spreadsheet does not run them as formulas"
        )
    return [out / rel for rel in files]


SCHEMAS_FILES = {
    t: f"{t}.csv" for t in ("participants", "institutions", "coders", "codings", "memos", "themes", "reconciliation")
}


def _write_folder(out: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a fresh sibling of ``out``, then put it in place of ``out``."""
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".new", dir=parent))
    old: Path | None = None
    try:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=parent))
            old.rmdir()
            os.replace(out, old)
        os.replace(tmp, out)
    except BaseException:
        if old is not None and old.exists() and not out.exists():
            os.replace(old, out)  # put the earlier folder back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)
