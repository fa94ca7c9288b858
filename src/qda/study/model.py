"""The Study: one qualitative study as typed tables (see :mod:`qda.study.schema`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qda.study.schema import DEFAULT_ANALYSIS, DEFAULT_ANALYSIS_CODES, empty_frame


@dataclass
class ImportRecord:
    """What an imported REFI-QDA file carried that the study's tables do not hold.

    Attributes
    ----------
    kind : str
        ``"project"`` (``.qdpx``/``.qde``) or ``"codebook"`` (``.qdc``).
    origin, project_name : str
        The file's ``origin`` attribute (the exporting tool) and project name.
    guids : dict
        ``"kind:key" -> GUID`` of every imported object, so a re-export keeps them.
    variables : DataFrame | None
        The cases' and sources' variables as the file stated them, one row per
        participant, before the mapping chose the contract columns.
    variable_types : dict
        Variable name -> REFI-QDA type (``Text``, ``Integer``, ``Boolean``, ...).
    missing_sources : list
        Sources whose text the file did not contain (imported with empty text).
    missing_participant_columns : list
        Contract columns of ``participants`` the file did not state.
    mapping : dict
        The mapping (``qda-project.yml``) applied, empty when none was.
    notes : list
        One-line notes on how the file was read (e.g. the offset base of sources
        with a byte-order mark), for the command line to print.
    """

    kind: str
    origin: str = ""
    project_name: str = ""
    guids: dict[str, str] = field(default_factory=dict)
    variables: pd.DataFrame | None = None
    variable_types: dict[str, str] = field(default_factory=dict)
    missing_sources: list[str] = field(default_factory=list)
    missing_participant_columns: list[str] = field(default_factory=list)
    mapping: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def defer_guids(self, make: Callable[[], dict[str, str]]) -> None:
        """Let ``guids`` be ``make()``, computed on first access (a large import has millions of
        entries that only an export reads). Every access, comparison, copy or pickle sees the dict."""
        self.__dict__.pop("guids", None)
        self.__dict__["_make_guids"] = make

    def __getattr__(self, name: str) -> Any:
        # reached only for a missing attribute: ``guids`` after defer_guids, before its first access
        make = self.__dict__.pop("_make_guids", None) if name == "guids" else None
        if make is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.guids = make()
        return self.guids

    def __getstate__(self) -> dict[str, Any]:
        self.guids  # noqa: B018 - computed before a copy or pickle
        return dict(self.__dict__)


@dataclass
class Study:
    """One qualitative study: typed DataFrames with the columns of :data:`SCHEMAS`.

    Attributes
    ----------
    participants, institutions, coders, codebook, codings, reconciliation,
    memos, themes, theme_memos, exemplars, transcripts : pandas.DataFrame
        One tidy table each (one row per participant, code-version, coding, ...).
    root : Path | None
        The folder (or file) the study was loaded from.
    analysis_codes : dict
        Maps the roles ``gender_inequities``, ``mentorship``, ``mentoring`` and
        ``being_mentored`` to code slugs of this study's codebook, so that a
        user's own project can name its codes differently.
    analysis : dict
        The generic mapping resolved to code slugs (see ``qda-project.example.yml``):
        ``code_a``, ``code_b`` (each standing for itself and its descendants),
        ``code_b_parts`` (sub-codes of code_b to split by), ``compare_by`` (a column of
        ``participants``) and ``themes`` (codes). "" or [] where not set. The synthetic
        study's own configuration is :data:`~qda.study.schema.DEFAULT_ANALYSIS`.
    synthetic : bool
        True for the generated corpus; the book labels every output accordingly.
    imported : ImportRecord | None
        For a study read from a REFI-QDA file: what the file carried beyond the tables
        (its kind, origin, name, GUIDs, raw variables, missing sources, the mapping).
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
    theme_memos: pd.DataFrame = field(default_factory=lambda: empty_frame("theme_memos"))
    exemplars: pd.DataFrame = field(default_factory=lambda: empty_frame("exemplars"))
    root: Path | None = None
    analysis_codes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ANALYSIS_CODES))
    analysis: dict[str, Any] = field(
        default_factory=lambda: {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULT_ANALYSIS.items()}
    )
    synthetic: bool = True
    imported: ImportRecord | None = None

    # -- text access (no cache: the transcripts table may be replaced or edited) --------
    def text(self, transcript_id: str, start: int | None = None, end: int | None = None) -> str:
        """The transcript's text, or the slice ``[start:end)`` in code points."""
        rows = self.transcripts.loc[self.transcripts["transcript_id"] == transcript_id, "text"]
        if rows.empty:
            raise KeyError(f"no transcript {transcript_id!r} in this study")
        return rows.iloc[0][start:end]

    def texts(self) -> dict[str, str]:
        """Transcript id -> text, built from the current transcripts table."""
        return dict(zip(self.transcripts["transcript_id"], self.transcripts["text"], strict=False))

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
        texts = self.texts()
        out = frame.copy()
        out["text"] = [texts[t][s:e] for t, s, e in zip(out["transcript_id"], out["start"], out["end"], strict=False)]
        return out

    def _summary(self) -> tuple[str, str]:
        kind = "synthetic" if self.synthetic else "user"
        n_codes = self.codebook["code"].nunique() if len(self.codebook) else 0
        counts = (
            f"{len(self.participants)} participants, {len(self.transcripts)} transcripts, "
            f"{n_codes} codes, {len(self.codings)} codings"
        )
        return f"<Study ({kind}) from {self.root}:", f"{counts}>"

    def __repr__(self) -> str:  # short: a Study holds megabytes of text
        return " ".join(self._summary())

    def __str__(self) -> str:  # print(study): two lines, to fit the book's text column
        head, counts = self._summary()
        return f"{head}\n {counts}"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """In a notebook (and so in the book): as ``str``, on two lines."""
        printer.text(str(self))
