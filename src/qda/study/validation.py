"""Every invariant of a study, checked at once and reported together.

:func:`validate_study` collects one :class:`qda.errors.Problem` per violation
(file, row, what is wrong, how to fix it) and raises a single
:class:`qda.errors.ValidationError` listing them all, so a user fixes a broken
project in one pass instead of one error at a time.

Row numbers are line numbers of the CSV file (the header is line 1, the first data
row is row 2), as a spreadsheet or text editor shows them.

Two kinds of check:

- *structural*, for every project: unique ids; offsets inside the transcript with
  ``start < end``; every code in the codebook version named by the coding; every
  referenced participant, institution, transcript, coder, code, unit and coding exists;
  controlled values (memo attachment, reconciliation resolution, theme number).
- *design*, for the synthetic corpus (``study.synthetic``) or when asked
  (``expect_design=True``): the study's design as Murphy et al. (Academic Medicine
  2022) report it: 104 participants (or the size recorded in the ``SYNTHETIC``
  marker), half women and half men, 16 institutions, exactly 2 video interviews, one
  transcript per participant, and both analysis codes in every transcript's full coding.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from qda.errors import Problem, ValidationError
from qda.study.model import Study
from qda.study.schema import CSV_FILES
from qda.study.units import speaker_turns

#: The paper's design (Murphy et al. 2022).
DESIGN = {"participants": 104, "institutions": 16, "video": 2}


def _num(n: int) -> str:
    """9012 -> '9 012' (thin grouping, as in the error messages of the data dictionary)."""
    return f"{int(n):,}".replace(",", " ")


class _Collector:
    def __init__(self, study: Study):
        self.study = study
        self.root = Path(study.root) if study.root is not None else None
        self.problems: list[Problem] = []

    def file(self, table: str) -> str:
        name = CSV_FILES.get(table, table)
        if table == "codebook":
            name = "codebook.yml"
        elif table == "transcripts":
            name = "transcripts"
        return str(self.root / name) if self.root is not None and self.root.is_dir() else name

    def add(self, table: str, where: str, what: str, fix: str) -> None:
        self.problems.append(Problem(self.file(table), where, what, fix))

    def rows(self, table: str, mask, id_col: str | None, what, fix: str) -> None:
        """One problem per True row of ``mask``; ``what`` is a str or a function of the row."""
        frame = getattr(self.study, table)
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        for i in idx:
            row = frame.iloc[i]
            label = f" ({table.rstrip('s')} {row[id_col]})" if id_col and str(row[id_col]) else ""
            where = f"row {i + 2}{label}"
            self.add(table, where, what(row) if callable(what) else what, fix)


def _unique(c: _Collector, table: str, col: str) -> None:
    frame = getattr(c.study, table)
    if col not in frame or frame.empty:
        return
    dup = frame[col].duplicated(keep="first").to_numpy()
    c.rows(
        table, dup, None, lambda r: f"{col} {r[col]!r} is used by an earlier row too", f"give every row its own {col}"
    )


def _design_size(study: Study) -> int:
    marker = Path(study.root) / "SYNTHETIC" if study.root is not None else None
    if marker is not None and marker.is_file():
        m = re.search(r"^participants:\s*(\d+)\s*$", marker.read_text(encoding="utf-8"), re.MULTILINE)
        if m:
            return int(m.group(1))
    return DESIGN["participants"]


def problems(study: Study, expect_design: bool | None = None) -> list[Problem]:
    """Every violation of ``study`` as a list of :class:`Problem` (empty when valid).

    ``expect_design`` defaults to ``study.synthetic``: the design checks apply to the
    synthetic corpus, only the structural checks to a user's own project.
    """
    s = study
    c = _Collector(s)
    if expect_design is None:
        expect_design = bool(s.synthetic)

    # -- unique ids ----------------------------------------------------------
    for table, col in (
        ("participants", "participant_id"),
        ("institutions", "institution_id"),
        ("coders", "coder"),
        ("codings", "coding_id"),
        ("memos", "memo_id"),
        ("themes", "theme_coding_id"),
        ("exemplars", "exemplar_id"),
        ("transcripts", "transcript_id"),
    ):
        _unique(c, table, col)

    participants = set(s.participants["participant_id"])
    institutions = set(s.institutions["institution_id"])
    coders = set(s.coders["coder"])
    n_chars = dict(zip(s.transcripts["transcript_id"], s.transcripts["n_chars"], strict=False))
    transcripts = set(n_chars)
    cb_versions = list(dict.fromkeys(s.codebook["version"].astype(str)))
    codes_by_version = {v: set(s.codebook.loc[s.codebook["version"].astype(str) == v, "code"]) for v in cb_versions}
    all_codes = set(s.codebook["code"])
    if s.codebook.empty:
        c.add("codebook", "file", "holds no codes", "define the codes of the project")

    # -- participants and transcripts ----------------------------------------
    if not s.institutions.empty:
        c.rows(
            "participants",
            ~s.participants["institution_id"].isin(institutions),
            "participant_id",
            lambda r: f"institution {r['institution_id']!r} is not in institutions.csv",
            "add the institution or correct the id",
        )
    if not s.participants.empty:
        bad = ~s.transcripts["participant_id"].isin(participants)
        for i in np.flatnonzero(bad.to_numpy()):
            r = s.transcripts.iloc[i]
            c.problems.append(
                Problem(
                    str(r["path"]) or c.file("transcripts"),
                    "file name",
                    f"transcript {r['transcript_id']} belongs to no participant in participants.csv",
                    "add the participant or rename the file after a participant_id",
                )
            )

    # -- codings -------------------------------------------------------------
    cod = s.codings
    if not cod.empty:
        known_t = cod["transcript_id"].isin(transcripts).to_numpy()
        c.rows(
            "codings",
            ~known_t,
            "coding_id",
            lambda r: f"transcript {r['transcript_id']!r} does not exist",
            "add data/transcripts/<id>.txt or correct transcript_id",
        )
        if coders:
            c.rows(
                "codings",
                ~cod["coder"].isin(coders),
                "coding_id",
                lambda r: f"coder {r['coder']!r} is not in coders.csv",
                "add the coder or correct the name",
            )
        start, end = cod["start"].to_numpy(), cod["end"].to_numpy()
        length = cod["transcript_id"].map(n_chars).fillna(-1).to_numpy()
        c.rows(
            "codings",
            start < 0,
            "coding_id",
            lambda r: f"start {r['start']} is negative",
            "offsets count code points from 0",
        )
        c.rows(
            "codings",
            start >= end,
            "coding_id",
            lambda r: f"start {r['start']} is not before end {r['end']}",
            "end is exclusive and must be larger than start",
        )
        c.rows(
            "codings",
            known_t & (end > length),
            "coding_id",
            lambda r: (
                f"end {r['end']} is past the end of transcript {r['transcript_id']} "
                f"({_num(n_chars[r['transcript_id']])} characters)"
            ),
            "correct the offsets (code points, exclusive end) or the transcript",
        )
        ver = cod["codebook_version"].astype(str).replace("", cb_versions[-1] if cb_versions else "")
        if len(cb_versions) == 1:
            # A project imported from another tool carries one codebook (REFI-QDA has no
            # versions); codings keep the version label they were exported with.
            ver = pd.Series(cb_versions[0], index=cod.index)
        c.rows(
            "codings",
            ~ver.isin(cb_versions).to_numpy(),
            "coding_id",
            lambda r: f"codebook_version {r['codebook_version']!r} is not a version of codebook.yml",
            f"use one of {', '.join(cb_versions)}",
        )
        in_ver = (
            np.array(
                [code in codes_by_version.get(v, ()) for code, v in zip(cod["code"], ver, strict=False)], dtype=bool
            )
            if len(cod)
            else np.zeros(0, bool)
        )
        c.rows(
            "codings",
            ver.isin(cb_versions).to_numpy() & ~in_ver,
            "coding_id",
            lambda r: f"code {r['code']!r} is not in codebook version {str(r['codebook_version']) or cb_versions[-1]}",
            "use a code of that version or correct codebook_version",
        )

    # -- reconciliation ------------------------------------------------------
    rec = s.reconciliation
    if not rec.empty:
        turns = speaker_turns(s.transcripts.loc[s.transcripts["transcript_id"].isin(set(rec["transcript_id"]))])
        units = set(zip(turns["transcript_id"], turns["unit_id"], strict=False))
        c.rows(
            "reconciliation",
            ~rec["transcript_id"].isin(transcripts),
            None,
            lambda r: f"transcript {r['transcript_id']!r} does not exist",
            "correct transcript_id",
        )
        ok_unit = np.array(
            [(t, u) in units for t, u in zip(rec["transcript_id"], rec["unit_id"], strict=False)], dtype=bool
        )
        c.rows(
            "reconciliation",
            rec["transcript_id"].isin(transcripts).to_numpy() & ~ok_unit,
            None,
            lambda r: f"unit {r['unit_id']!r} is not a speaker turn of transcript {r['transcript_id']}",
            "unit ids are <transcript>-T<turn number>, see qda.codings.speaker_turns",
        )
        c.rows(
            "reconciliation",
            ~rec["code"].isin(all_codes),
            None,
            lambda r: f"code {r['code']!r} is not in codebook.yml",
            "correct the code slug",
        )
        c.rows(
            "reconciliation",
            ~rec["resolution"].astype(str).isin({"present", "absent", "unresolved"}),
            None,
            lambda r: f"resolution {r['resolution']!r} is not present, absent or unresolved",
            "write one of the three",
        )
        if coders:
            named = [
                {x for x in (str(a) + ";" + str(b)).split(";") if x}
                for a, b in zip(rec["coded_by"], rec["not_coded_by"], strict=False)
            ]
            c.rows(
                "reconciliation",
                [bool(n - coders) for n in named],
                None,
                lambda r: (
                    f"coder(s) {', '.join(sorted({x for x in (r['coded_by'] + ';' + r['not_coded_by']).split(';') if x} - coders))} "
                    "not in coders.csv"
                ),
                "correct coded_by / not_coded_by",
            )

    # -- memos ---------------------------------------------------------------
    memos = s.memos
    if not memos.empty:
        if coders:
            c.rows(
                "memos",
                ~memos["coder"].isin(coders),
                "memo_id",
                lambda r: f"coder {r['coder']!r} is not in coders.csv",
                "add the coder or correct the name",
            )
        att = memos["attached_to"].astype(str)
        c.rows(
            "memos",
            ~att.isin({"code", "coding", "project"}),
            "memo_id",
            lambda r: f"attached_to {r['attached_to']!r} is not code, coding or project",
            "write one of the three",
        )
        c.rows(
            "memos",
            (memos["code"] != "") & ~memos["code"].isin(all_codes),
            "memo_id",
            lambda r: f"code {r['code']!r} is not in codebook.yml",
            "correct the code slug",
        )
        c.rows(
            "memos",
            (att == "code") & (memos["code"] == ""),
            "memo_id",
            "is attached to a code but names none",
            "fill the code column",
        )
        coding_ids = set(cod["coding_id"])
        c.rows(
            "memos",
            (memos["coding_id"] != "") & ~memos["coding_id"].isin(coding_ids),
            "memo_id",
            lambda r: f"coding {r['coding_id']!r} is not in codings.csv",
            "correct coding_id",
        )
        c.rows(
            "memos",
            (att == "coding") & (memos["coding_id"] == ""),
            "memo_id",
            "is attached to a coding but names none",
            "fill the coding_id column",
        )

    # -- themes --------------------------------------------------------------
    th = s.themes
    if not th.empty:
        known = th["transcript_id"].isin(transcripts).to_numpy()
        c.rows(
            "themes",
            ~known,
            "theme_coding_id",
            lambda r: f"transcript {r['transcript_id']!r} does not exist",
            "correct transcript_id",
        )
        tl = th["transcript_id"].map(n_chars).fillna(-1).to_numpy()
        c.rows(
            "themes",
            (th["start"].to_numpy() < 0) | (th["start"].to_numpy() >= th["end"].to_numpy()),
            "theme_coding_id",
            lambda r: f"span {r['start']}-{r['end']} is empty or negative",
            "start must be at least 0 and before end",
        )
        c.rows(
            "themes",
            known & (th["end"].to_numpy() > tl),
            "theme_coding_id",
            lambda r: (
                f"end {r['end']} is past the end of transcript {r['transcript_id']} "
                f"({_num(n_chars[r['transcript_id']])} characters)"
            ),
            "correct the offsets",
        )
        c.rows(
            "themes",
            th["theme"].to_numpy() < 1,
            "theme_coding_id",
            lambda r: f"theme {r['theme']} is not a theme number",
            "number themes from 1",
        )
        if coders:
            c.rows(
                "themes",
                ~th["coder"].isin(coders),
                "theme_coding_id",
                lambda r: f"coder {r['coder']!r} is not in coders.csv",
                "add the coder or correct the name",
            )

    # -- analytic memos and exemplars (the interpretive step; optional) -----------
    tm = s.theme_memos
    if not tm.empty:
        c.rows(
            "theme_memos",
            ~tm["memo_id"].isin(s.memos["memo_id"]).to_numpy(),
            "memo_id",
            lambda r: f"memo {r['memo_id']!r} is not in memos.csv",
            "correct memo_id",
        )
    ex = s.exemplars
    if not ex.empty:
        known = ex["transcript_id"].isin(transcripts).to_numpy()
        c.rows(
            "exemplars",
            ~known,
            "exemplar_id",
            lambda r: f"transcript {r['transcript_id']!r} does not exist",
            "correct transcript_id",
        )
        tl = ex["transcript_id"].map(n_chars).fillna(-1).to_numpy()
        c.rows(
            "exemplars",
            known
            & ((ex["start"].to_numpy() < 0) | (ex["end"].to_numpy() > tl) | (ex["start"] >= ex["end"]).to_numpy()),
            "exemplar_id",
            lambda r: f"span {r['start']}-{r['end']} is not inside transcript {r['transcript_id']}",
            "correct the offsets",
        )

    if expect_design:
        _design(c, s)
    return c.problems


def _design(c: _Collector, s: Study) -> None:
    """The design checks (see the module docstring)."""
    n = _design_size(s)
    p = s.participants
    if len(p) != n:
        c.add(
            "participants",
            "table",
            f"holds {len(p)} participants; the design has {n}",
            "regenerate data/ with `make data` or restore the missing rows",
        )
    women = int((p["gender"].astype(str) == "woman").sum())
    men = int((p["gender"].astype(str) == "man").sum())
    if women != men or women + men != len(p):
        c.add(
            "participants",
            "column gender",
            f"{women} women and {men} men (of {len(p)}); the design has equal numbers",
            "write woman or man, half of each",
        )
    if len(s.institutions) != DESIGN["institutions"]:
        c.add(
            "institutions",
            "table",
            f"holds {len(s.institutions)} institutions; the design has {DESIGN['institutions']}",
            "regenerate data/ with `make data`",
        )
    video = int((p["interview_mode"].astype(str) == "video call").sum())
    if video != DESIGN["video"]:
        c.add(
            "participants",
            "column interview_mode",
            f"{video} video interviews; the design has exactly {DESIGN['video']}",
            "set interview_mode to 'video call' for exactly two participants",
        )
    missing = sorted(set(p["participant_id"]) - set(s.transcripts["transcript_id"]))
    for pid in missing:
        c.add("transcripts", f"transcript {pid}", f"participant {pid} has no transcript", f"add transcripts/{pid}.txt")
    # both analysis codes in every transcript's full coding
    ac = s.analysis_codes
    final = (
        s.codebook.loc[s.codebook["version"].astype(str) == list(dict.fromkeys(s.codebook["version"].astype(str)))[-1]]
        if not s.codebook.empty
        else s.codebook
    )
    mentor = {ac["mentorship"], ac.get("mentoring", ""), ac.get("being_mentored", "")}
    mentor |= set(final.loc[final["parent"] == ac["mentorship"], "code"])
    full = s.codings.loc[s.codings["round"].astype(str) == "full"]
    has_gi = set(full.loc[full["code"] == ac["gender_inequities"], "transcript_id"])
    has_me = set(full.loc[full["code"].isin(mentor - {""}), "transcript_id"])
    for tid in sorted(s.transcripts["transcript_id"]):
        lacking = [name for name, has in (("gender_inequities", has_gi), ("mentorship", has_me)) if tid not in has]
        if lacking:
            c.add(
                "codings",
                f"transcript {tid}",
                f"the full coding lacks the analysis code(s) {', '.join(ac[x] for x in lacking)}",
                "every transcript holds both analysis codes in the study; code them in round 'full'",
            )


def validate_study(study: Study, expect_design: bool | None = None) -> None:
    """Check every invariant of ``study``; raise one :class:`ValidationError` listing all violations.

    Rules: see the module docstring (structural checks always; design checks when
    ``expect_design`` is True or, by default, when ``study.synthetic``).
    """
    found = problems(study, expect_design)
    if found:
        raise ValidationError(problems=found)
