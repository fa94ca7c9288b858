"""The study as one object: participants, transcripts, codebook, codings, memos, themes.

This module is the data contract of the whole package. Every other module takes a
:class:`Study` (or one of its DataFrames) and relies on the columns listed in
:data:`SCHEMAS`. ``data/README.md`` is the reader-facing data dictionary of the
same columns.

Offsets (``start``, ``end``) are Unicode code-point offsets into the transcript
text with an exclusive end, as REFI-QDA counts them (spec section 10.2): the text
of a coding is ``transcript_text[start:end]`` in Python.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, SchemaError

# ---------------------------------------------------------------------------
# The schema: table name -> {column: kind}. Kinds: "str", "int", "bool",
# "category", "date", "float". Optional columns are listed in OPTIONAL.
# ---------------------------------------------------------------------------
SCHEMAS: dict[str, dict[str, str]] = {
    "participants": {
        "participant_id": "str",  # P001 ... P104
        "gender": "category",  # "woman" | "man" (the study's binary categories)
        "institution_id": "str",  # I01 ... I16, into institutions
        "rank": "category",  # "assistant" | "associate" | "full"
        "degree": "category",  # "MD" | "PhD" | "MD-PhD"
        "leadership": "category",  # "none" | "dean" | "chair" | "center director" | "other"
        "endowed_chair": "bool",
        "age_band": "category",  # "30-39" | "40-49" | "50-59" | "60+"
        "career_stage": "category",  # "early" | "mid" | "senior"
        "field": "category",  # clinical or research field (synthetic)
        "interview_mode": "category",  # "in person" | "video call"
        "interview_minutes": "Int",  # nullable: an imported project may not record it
        "primary_caregiver": "bool",
    },
    "institutions": {
        "institution_id": "str",
        "pseudonym": "str",  # "Institution A" ...; never a real name
        "region": "category",  # "Northeast" | "Midwest" | "South" | "West"
        "ownership": "category",  # "public" | "private"
        "prestige_tier": "category",  # "higher" | "middle" | "lower"
    },
    "coders": {
        "coder": "str",  # e.g. "analyst_a"
        "role": "str",  # team role (synthetic description)
    },
    "codebook": {
        "version": "category",  # "v1" | "v2" | "final"
        "code": "str",  # stable slug, e.g. "gender_inequities"
        "name": "str",  # display name
        "parent": "str",  # parent code slug or "" for a top-level code
        "code_group": "str",  # the code group (REFI-QDA Set) the code belongs to
        "definition": "str",
        "inclusion": "str",
        "exclusion": "str",
        "example": "str",  # a synthetic example, our own writing
        "origin": "category",  # "deductive" | "inductive"
        "introduced_round": "int",
        "refined_round": "Int",  # nullable: round in which criteria were last refined
        "color": "str",  # "#RRGGBB" for REFI-QDA export
    },
    "codings": {
        "coding_id": "str",
        "transcript_id": "str",
        "coder": "str",
        "round": "category",  # "1" | "2" | "3" | "full"
        "start": "int",
        "end": "int",
        "code": "str",
        "codebook_version": "category",
    },
    "reconciliation": {
        "round": "category",  # "2" | "3"
        "transcript_id": "str",
        "unit_id": "str",  # the fixed unit (participant turn) the decision is about
        "code": "str",
        "coded_by": "str",  # ";"-joined coders who applied the code before discussion
        "not_coded_by": "str",  # ";"-joined coders who did not
        "resolution": "category",  # "present" | "absent" | "unresolved"
        "note": "str",
    },
    "memos": {
        "memo_id": "str",
        "coder": "str",
        "date": "date",
        "attached_to": "category",  # "code" | "coding" | "project"
        "code": "str",  # code slug or ""
        "coding_id": "str",  # coding id or ""
        "text": "str",
    },
    "themes": {
        "theme_coding_id": "str",
        "transcript_id": "str",
        "start": "int",
        "end": "int",
        "theme": "int",  # 1..4
        "theme_name": "str",
        "subtheme": "str",  # "" where the theme has no sub-themes
        "coder": "str",
    },
    "transcripts": {
        "transcript_id": "str",
        "participant_id": "str",
        "path": "str",
        "text": "str",
        "n_chars": "int",
        "n_words": "int",
    },
}

#: Optional tables: may be absent from a project (e.g. an imported REFI-QDA file).
OPTIONAL_TABLES = {"reconciliation", "memos", "themes", "coders", "institutions"}

#: CSV file per table (transcripts are read from data/transcripts/*.txt).
CSV_FILES = {
    "participants": "participants.csv",
    "institutions": "institutions.csv",
    "coders": "coders.csv",
    "codings": "codings.csv",
    "reconciliation": "reconciliation.csv",
    "memos": "memos.csv",
    "themes": "themes.csv",
}

#: The analysis codes of the paper, as slugs in the synthetic codebook.
DEFAULT_ANALYSIS_CODES = {
    "gender_inequities": "gender_inequities",
    "mentorship": "mentorship",
    "mentoring": "mentoring",  # giving mentorship
    "being_mentored": "being_mentored",  # receiving mentorship
}


def empty_frame(table: str) -> pd.DataFrame:
    """An empty DataFrame with the columns and dtypes of ``table``."""
    return _coerce(pd.DataFrame({c: pd.Series(dtype=object) for c in SCHEMAS[table]}), table, Path(table))


@dataclass
class Study:
    """One qualitative study: typed DataFrames with the columns of :data:`SCHEMAS`.

    Attributes
    ----------
    participants, institutions, coders, codebook, codings, reconciliation,
    memos, themes, transcripts : pandas.DataFrame
        One tidy table each (one row per participant, code-version, coding, ...).
    root : Path | None
        The folder (or file) the study was loaded from.
    analysis_codes : dict
        Maps the roles ``gender_inequities``, ``mentorship``, ``mentoring`` and
        ``being_mentored`` to code slugs of this study's codebook, so that a
        user's own project can name its codes differently.
    synthetic : bool
        True for the generated corpus; the book labels every output accordingly.
    """

    participants: pd.DataFrame
    transcripts: pd.DataFrame
    codebook: pd.DataFrame
    codings: pd.DataFrame
    institutions: pd.DataFrame = field(default_factory=lambda: empty_frame("institutions"))
    coders: pd.DataFrame = field(default_factory=lambda: empty_frame("coders"))
    reconciliation: pd.DataFrame = field(default_factory=lambda: empty_frame("reconciliation"))
    memos: pd.DataFrame = field(default_factory=lambda: empty_frame("memos"))
    themes: pd.DataFrame = field(default_factory=lambda: empty_frame("themes"))
    root: Path | None = None
    analysis_codes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ANALYSIS_CODES))
    synthetic: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    # -- text access -------------------------------------------------------
    def text(self, transcript_id: str, start: int | None = None, end: int | None = None) -> str:
        """The transcript's text, or the slice ``[start:end)`` in code points."""
        texts = self._texts()
        if transcript_id not in texts:
            raise KeyError(f"no transcript {transcript_id!r} in this study")
        return texts[transcript_id][start:end]

    def coding_text(self, coding: str | pd.Series | Any) -> str:
        """The text of one coding, given its ``coding_id`` or its row."""
        if isinstance(coding, str):
            rows = self.codings.loc[self.codings["coding_id"] == coding]
            if rows.empty:
                raise KeyError(f"no coding {coding!r} in this study")
            coding = rows.iloc[0]
        return self.text(coding["transcript_id"], int(coding["start"]), int(coding["end"]))

    def with_text(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (with transcript_id, start, end) plus a ``text`` column."""
        texts = self._texts()
        out = frame.copy()
        out["text"] = [texts[t][s:e] for t, s, e in zip(out["transcript_id"], out["start"], out["end"])]
        return out

    def _texts(self) -> dict[str, str]:
        cache = self.extra.get("_texts")
        if cache is None or len(cache) != len(self.transcripts):
            cache = dict(zip(self.transcripts["transcript_id"], self.transcripts["text"]))
            self.extra["_texts"] = cache
        return cache

    def __repr__(self) -> str:  # short: a Study holds megabytes of text
        kind = "synthetic" if self.synthetic else "user"
        return (
            f"<Study ({kind}) from {self.root}: {len(self.participants)} participants, "
            f"{len(self.transcripts)} transcripts, {self.codebook['code'].nunique() if len(self.codebook) else 0} codes, "
            f"{len(self.codings)} codings>"
        )


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f", ""}


def _coerce(df: pd.DataFrame, table: str, file: Path, row_offset: int = 2) -> pd.DataFrame:
    """Give ``df`` the dtypes of :data:`SCHEMAS` [table]; raise SchemaError naming file, row, column.

    ``row_offset`` converts a 0-based index into the file's line number (header is line 1).
    """
    schema = SCHEMAS[table]
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise SchemaError(
            file, "header", f"missing column(s) {', '.join(missing)}",
            f"add them (see data/README.md for what each column holds)",
        )
    out = pd.DataFrame(index=df.index)
    for col, kind in schema.items():
        s = df[col]
        if kind in ("str", "category"):
            s = s.fillna("").astype(str)
            out[col] = s.astype("category") if kind == "category" else s
        elif kind in ("int", "Int", "float"):
            num = pd.to_numeric(s.replace("", np.nan), errors="coerce")
            bad = (num.isna() & s.notna() & (s.astype(str) != "")) if kind != "int" else num.isna()
            if kind in ("int", "Int"):
                bad |= num.notna() & (num != np.floor(num.fillna(0)))
            if bad.any():
                i = bad.to_numpy().nonzero()[0][0]
                raise SchemaError(
                    file, f"row {i + row_offset}, column {col}",
                    f"{s.iloc[i]!r} is not a {'whole number' if kind != 'float' else 'number'}",
                    "correct the value (see data/README.md)",
                )
            out[col] = num.astype("int64" if kind == "int" else ("Int64" if kind == "Int" else "float64"))
        elif kind == "bool":
            low = s.fillna("").astype(str).str.strip().str.lower()
            bad = ~low.isin(_TRUE | _FALSE)
            if bad.any():
                i = bad.to_numpy().nonzero()[0][0]
                raise SchemaError(
                    file, f"row {i + row_offset}, column {col}",
                    f"{s.iloc[i]!r} is not yes/no", "write yes or no",
                )
            out[col] = low.isin(_TRUE)
        elif kind == "date":
            d = pd.to_datetime(s.replace("", np.nan), errors="coerce", format="%Y-%m-%d")
            bad = d.isna() & s.notna() & (s.astype(str) != "")
            if bad.any():
                i = bad.to_numpy().nonzero()[0][0]
                raise SchemaError(
                    file, f"row {i + row_offset}, column {col}",
                    f"{s.iloc[i]!r} is not a date", "write it as YYYY-MM-DD",
                )
            out[col] = d
        else:  # pragma: no cover - schema typo
            raise AssertionError(kind)
    return out.reset_index(drop=True)


def read_table(path: str | Path, table: str) -> pd.DataFrame:
    """Read one CSV of the study as a typed DataFrame (columns of ``SCHEMAS[table]``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file", "does not exist", f"create it or regenerate data/ with `make data`") from None
    # Decode here, not in pandas: pandas reports the byte offset within its read buffer,
    # not within the file. A UTF-8 byte-order mark (Excel's "CSV UTF-8") is dropped.
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DataError(path, f"line {line}, byte {e.start}", "is not UTF-8 text", "save the file as UTF-8") from None
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(path, "file", "is empty", f"write the header row of the {table} table (see data/README.md)") from None
    except pd.errors.ParserError as e:
        detail = " ".join(str(e).split())  # pandas' message may end in a newline: keep the error on one line
        raise DataError(path, "parsing", f"is not a valid CSV ({detail})", "fix the quoting or the number of fields") from None
    return _coerce(raw, table, path)


def _read_transcripts(folder: Path) -> pd.DataFrame:
    if not folder.is_dir():
        raise DataError(folder, "folder", "does not exist", "put one <transcript_id>.txt per transcript there")
    rows = []
    for p in sorted(folder.glob("*.txt")):
        raw = p.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            raise DataError(p, "byte 0", "starts with a byte-order mark, which shifts every offset by one",
                            "save the file as UTF-8 without BOM")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(p, f"byte {e.start}", "is not UTF-8 text", "save the file as UTF-8") from None
        if "\r" in text:
            raise DataError(p, f"character {text.index(chr(13))}", "has CR (Windows) line ends, which shift offsets",
                            "convert the file to LF line ends")
        tid = p.stem
        rows.append({
            "transcript_id": tid, "participant_id": tid, "path": str(p),
            "text": text, "n_chars": len(text), "n_words": len(text.split()),
        })
    df = pd.DataFrame(rows, columns=list(SCHEMAS["transcripts"]))
    return _coerce(df, "transcripts", folder)


def find_data_dir() -> Path:
    """Where the study lives when no path is given.

    ``QDA_DATA`` (a folder) wins; then the first ``data/`` folder holding
    ``participants.csv`` found walking up from the working directory (so a chapter
    executed from ``chapters/`` or from a scratch copy finds the repository's data).
    """
    env = os.environ.get("QDA_DATA")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for d in [here, *here.parents]:
        if (d / "data" / "participants.csv").is_file():
            return d / "data"
    raise DataError("data", "folder", "no data/participants.csv found here or in any parent folder",
                    "pass load_study(path=...) or set QDA_DATA")


def load_study(path: str | Path | None = None) -> Study:
    """Load a study from a data folder (the layout of ``data/``) or a REFI-QDA file.

    Parameters
    ----------
    path : folder or ``.qdpx``/``.qde``/``.qdc`` file, optional
        Default: the ``QDA_PROJECT`` environment variable (a REFI-QDA export with an
        optional ``qda-project.yml`` mapping beside it, see :mod:`qda.refi`), else
        ``QDA_DATA``, else the nearest ``data/`` folder above the working directory.

    Returns
    -------
    Study
        Typed DataFrames; see :data:`SCHEMAS` and ``data/README.md``.
    """
    if path is None and os.environ.get("QDA_PROJECT"):
        path = os.environ["QDA_PROJECT"]
    if path is not None and Path(path).suffix.lower() in {".qdpx", ".qde", ".qdc"}:
        from .refi import load_project  # local import: refi pulls in lxml/xmlschema

        return load_project(path)
    root = Path(path) if path is not None else find_data_dir()
    if not root.is_dir():
        raise DataError(root, "folder", "does not exist", "pass the folder that holds participants.csv")

    tables: dict[str, pd.DataFrame] = {}
    for table, fname in CSV_FILES.items():
        f = root / fname
        if table in OPTIONAL_TABLES and not f.exists():
            tables[table] = empty_frame(table)
        else:
            tables[table] = read_table(f, table)

    from .codebook import read_codebook  # the codebook is YAML with versions

    codebook = read_codebook(root / "codebook.yml")
    transcripts = _read_transcripts(root / "transcripts")
    synthetic = (root / "SYNTHETIC").exists()
    return Study(
        participants=tables["participants"], institutions=tables["institutions"], coders=tables["coders"],
        codebook=codebook, codings=tables["codings"], reconciliation=tables["reconciliation"],
        memos=tables["memos"], themes=tables["themes"], transcripts=transcripts, root=root,
        synthetic=synthetic,
    )
