"""The data contract of the study: table schemas, dtypes, and the coercion that enforces them.

Every other module relies on the columns listed in :data:`SCHEMAS`; ``data/README.md`` is
the reader-facing data dictionary of the same columns.

Offsets (``start``, ``end``) are Unicode code-point offsets into the transcript text with
an exclusive end, as REFI-QDA counts them (spec section 10.2): the text of a coding is
``transcript_text[start:end]`` in Python.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from qda.errors import SchemaError

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
    "theme_memos": {
        "memo_id": "str",  # into memos
        "theme": "int",  # 1..4
        "decision": "category",  # open | keep | split | merge | rename | negative case | drop
    },
    "exemplars": {
        "exemplar_id": "str",
        "theme": "int",
        "transcript_id": "str",
        "start": "int",
        "end": "int",
        "coder": "str",
        "rationale": "str",  # why this passage was chosen to quote
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
OPTIONAL_TABLES = {"reconciliation", "memos", "themes", "coders", "institutions", "theme_memos", "exemplars"}

#: CSV file per table (transcripts are read from data/transcripts/*.txt).
CSV_FILES = {
    "participants": "participants.csv",
    "institutions": "institutions.csv",
    "coders": "coders.csv",
    "codings": "codings.csv",
    "reconciliation": "reconciliation.csv",
    "memos": "memos.csv",
    "themes": "themes.csv",
    "theme_memos": "theme_memos.csv",
    "exemplars": "exemplars.csv",
}

#: The analysis codes of the paper, as slugs in the synthetic codebook.
DEFAULT_ANALYSIS_CODES = {
    "gender_inequities": "gender_inequities",
    "mentorship": "mentorship",
    "mentoring": "mentoring",  # giving mentorship
    "being_mentored": "being_mentored",  # receiving mentorship
}

#: The generic mapping (``analysis`` etc. of ``qda-project.yml``) resolved to code slugs;
#: this study's own configuration is the instance below: the analysis set is where
#: gender inequities (code_a) meet mentorship (code_b), split into giving and receiving.
DEFAULT_ANALYSIS = {
    "code_a": "gender_inequities",
    "code_b": "mentorship",
    "code_b_parts": ["mentoring", "being_mentored"],
    "compare_by": "gender",
    "themes": [],
}


def empty_frame(table: str) -> pd.DataFrame:
    """An empty DataFrame with the columns and dtypes of ``table``."""
    return coerce(pd.DataFrame({c: pd.Series(dtype=object) for c in SCHEMAS[table]}), table, Path(table))


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f", ""}


def coerce(df: pd.DataFrame, table: str, file: Path, row_offset: int = 2) -> pd.DataFrame:
    """Give ``df`` the dtypes of :data:`SCHEMAS` [table]; raise SchemaError naming file, row, column.

    ``row_offset`` converts a 0-based index into the file's line number (header is line 1).
    """
    schema = SCHEMAS[table]
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise SchemaError(
            file,
            "header",
            f"missing column(s) {', '.join(missing)}",
            "add them (see data/README.md for what each column holds)",
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
                    file,
                    f"row {i + row_offset}, column {col}",
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
                    file,
                    f"row {i + row_offset}, column {col}",
                    f"{s.iloc[i]!r} is not yes/no",
                    "write yes or no",
                )
            out[col] = low.isin(_TRUE)
        elif kind == "date":
            d = pd.to_datetime(s.replace("", np.nan), errors="coerce", format="%Y-%m-%d")
            bad = d.isna() & s.notna() & (s.astype(str) != "")
            if bad.any():
                i = bad.to_numpy().nonzero()[0][0]
                raise SchemaError(
                    file,
                    f"row {i + row_offset}, column {col}",
                    f"{s.iloc[i]!r} is not a date",
                    "write it as YYYY-MM-DD",
                )
            out[col] = d
        else:  # pragma: no cover - schema typo
            raise AssertionError(kind)
    return out.reset_index(drop=True)


#: The order in which the levels of participant columns are shown.
LEVEL_ORDER = {
    "gender": ["woman", "man"],
    "rank": ["assistant", "associate", "full"],
    "degree": ["MD", "MD-PhD", "PhD"],
    "leadership": ["dean", "chair", "center director", "other", "none"],
    "age_band": ["30-39", "40-49", "50-59", "60+"],
    "career_stage": ["early", "mid", "senior"],
}


def ordered_levels(values: pd.Series, column: str) -> list:
    """The distinct values of ``values`` in :data:`LEVEL_ORDER` [column] order, others after, sorted."""
    present = list(pd.unique(values.dropna()))
    pref = [v for v in LEVEL_ORDER.get(column, []) if v in present]
    return pref + sorted((v for v in present if v not in pref), key=str)
