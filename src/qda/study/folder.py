"""Loading a study from a data folder (the layout of ``data/``)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from qda.errors import DataError
from qda.study.codebook import read_codebook
from qda.study.model import Study
from qda.study.schema import CSV_FILES, OPTIONAL_TABLES, SCHEMAS, coerce, empty_frame


def read_table(path: str | Path, table: str) -> pd.DataFrame:
    """Read one CSV of the study as a typed DataFrame (columns of ``SCHEMAS[table]``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file", "does not exist", "create it or regenerate data/ with `make data`") from None
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
        raise DataError(
            path, "file", "is empty", f"write the header row of the {table} table (see data/README.md)"
        ) from None
    except pd.errors.ParserError as e:
        detail = " ".join(str(e).split())  # pandas' message may end in a newline: keep the error on one line
        raise DataError(
            path, "parsing", f"is not a valid CSV ({detail})", "fix the quoting or the number of fields"
        ) from None
    return coerce(raw, table, path)


def _read_transcripts(folder: Path) -> pd.DataFrame:
    if not folder.is_dir():
        raise DataError(folder, "folder", "does not exist", "put one <transcript_id>.txt per transcript there")
    rows = []
    for p in sorted(folder.glob("*.txt")):
        raw = p.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            raise DataError(
                p,
                "byte 0",
                "starts with a byte-order mark, which shifts every offset by one",
                "save the file as UTF-8 without BOM",
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(p, f"byte {e.start}", "is not UTF-8 text", "save the file as UTF-8") from None
        if "\r" in text:
            raise DataError(
                p,
                f"character {text.index(chr(13))}",
                "has CR (Windows) line ends, which shift offsets",
                "convert the file to LF line ends",
            )
        tid = p.stem
        rows.append(
            {
                "transcript_id": tid,
                "participant_id": tid,
                "path": str(p),
                "text": text,
                "n_chars": len(text),
                "n_words": len(text.split()),
            }
        )
    df = pd.DataFrame(rows, columns=list(SCHEMAS["transcripts"]))
    return coerce(df, "transcripts", folder)


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
    raise DataError(
        "data",
        "folder",
        "no data/participants.csv found here or in any parent folder",
        "pass load_study(path=...) or set QDA_DATA",
    )


def load_folder(path: str | Path | None = None) -> Study:
    """Load a study from a data folder (the layout of ``data/``).

    ``path`` defaults to ``QDA_DATA``, else the nearest ``data/`` folder above the working
    directory (:func:`find_data_dir`). Returns typed DataFrames; see
    :data:`qda.study.schema.SCHEMAS` and ``data/README.md``. (``qda.load_study`` also
    opens REFI-QDA files; this function reads folders only.)
    """
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
    return Study(
        participants=tables["participants"],
        institutions=tables["institutions"],
        coders=tables["coders"],
        codebook=read_codebook(root / "codebook.yml"),
        codings=tables["codings"],
        reconciliation=tables["reconciliation"],
        memos=tables["memos"],
        themes=tables["themes"],
        theme_memos=tables["theme_memos"],
        exemplars=tables["exemplars"],
        transcripts=_read_transcripts(root / "transcripts"),
        root=root,
        synthetic=(root / "SYNTHETIC").exists(),
    )
