"""Teaching exercises in the craft of coding: the data each one needs, and its scoring.

Six exercises follow the steps the study's team practised (Murphy et al., Academic
Medicine 2022, doi:10.1097/ACM.0000000000004388, Method; Campbell et al. 2013):

1. open coding (:func:`open_coding_exercise`, :func:`match_open_codes`);
2. writing a code's criteria (:func:`criteria_exercise`, :func:`score_boundary_decisions`);
3. unitizing (:func:`unitizing_exercise`, :func:`score_unitizing`);
4. reconciling a disagreement (:func:`reconciliation_case`, :func:`score_reconciliation`);
5. writing an analytic memo (:func:`memo_exercise`, :func:`memo_checklist`);
6. building a theme (:func:`theme_exercise`, :func:`score_grouping`).

Each selection is seeded and deterministic; each scoring function is pure. The widgets
in :mod:`qda.show.widgets` only display what these return. The older fixed-unit coding
exercise (:class:`FixedUnitExercise`) and the excerpt browser's selection
(:func:`browse_excerpts`) live here too.

Every "reference", "model answer" or "team's decision" below is **one team's reading**
of the passages (:data:`ONE_READING`), not the truth: a learner who differs from it
has something to discuss, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from qda.analysis.analysis_set import analysis_set
from qda.analysis.themes import excerpts
from qda.errors import QDAError
from qda.stats.agreement import cohen_kappa_table
from qda.stats.spans import overlapping_rows
from qda.stats.unitizing import unitizing_alpha
from qda.study.model import Study
from qda.study.units import participant_units, speaker_turns, unit_decisions

#: How every exercise frames the team's coding.
ONE_READING = (
    "The team's coding is one team's reading of these passages, not the truth: "
    "where you differ, say why, and you have the conversation the analysts had."
)

#: Columns of :func:`browse_excerpts`.
EXCERPT_COLUMNS = ["participant_id", "gender", "career_stage", "code_or_theme", "text"]

#: Prompts of the memo exercise (what an analytic memo of the team does).
MEMO_PROMPTS = [
    "What do these segments have in common? Give it a provisional name.",
    "Cite the segments by their ids as you go.",
    "Say what the idea includes and what it leaves out.",
    "Which segment does not fit, or fits only partly? Why?",
    "What did you bring to the reading (your role, your training)?",
]

# "networks_sponsorship v2 exclusion", "the v2 sponsorship exclusion", "the v2 inclusion", ...
_CRITERION = re.compile(
    r"(?:\b(?P<code>[a-z]+_[a-z_]+)\s+)?\b(?P<version>v\d|final)\s+(?:(?P<word>[a-z]+)\s+)?"
    r"(?P<field>inclusion|exclusion|definition)\b"
)


def _check_n(n, name: str = "n", minimum: int = 0) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise QDAError(
            None, name, f"{n!r} is not a whole number >= {minimum}", f"pass {name}={max(minimum, 3)} or similar"
        )
    return int(n)


def _round(study: Study, rnd: str) -> pd.DataFrame:
    codings = study.codings.loc[study.codings["round"].astype(str) == str(rnd)]
    if codings.empty:
        rounds = sorted(study.codings["round"].astype(str).unique())
        raise QDAError(
            study.root, f"round {rnd}", "has no codings", f"pick one of the rounds {', '.join(rounds) or '(none)'}"
        )
    return codings


def _codebook_row(study: Study, code: str, version: str) -> pd.Series:
    cb = study.codebook
    row = cb.loc[(cb["code"].astype(str) == code) & (cb["version"].astype(str) == version)]
    if row.empty:
        raise QDAError(study.root, "codebook", f"no code {code!r} in version {version}", "pick a code of that version")
    return row.iloc[0]


# ---------------------------------------------------------------------------
# The fixed-unit coding exercise (Campbell et al. 2013)
# ---------------------------------------------------------------------------
@dataclass
class FixedUnitExercise:
    """A coding exercise on fixed units (participant turns), scored against the team's reading.

    The reference is the coding of ``round`` (default the full round: every
    analyst's codings on the unit combined, because each full-round analyst
    applied part of the codebook): a code is *present* in a unit when
    :func:`qda.study.units.unit_decisions` says an analyst applied it there (a
    coding covers at least half of the unit or half of itself). It is one team's
    reading (:data:`ONE_READING`). The passages are drawn at random
    (``numpy.random.default_rng(seed)``) among the units whose reference carries
    two to four codes, rich enough to disagree on. The codes offered are those of
    the codebook version the round used, less parent codes never applied directly
    (e.g. ``mentorship``, applied through its children).

    Scoring treats every (unit, code) pair as one binary decision, as Campbell et
    al. (2013) do for fixed units: percent agreement is the share of equal
    decisions; Cohen's kappa (Cohen 1960) is ``(p_o - p_e) / (1 - p_e)`` over the
    2 x 2 table of :meth:`contingency`.
    """

    study: Study
    n_units: int = 4
    seed: int = 0
    round: str = "full"
    units: pd.DataFrame = field(init=False)
    reference: pd.DataFrame = field(init=False)
    codes: list[str] = field(init=False)

    def __post_init__(self) -> None:
        _check_n(self.n_units, "n_units", minimum=1)
        self.round = str(self.round)
        codings = _round(self.study, self.round)
        units = participant_units(self.study.transcripts)
        dec = unit_decisions(codings, units.loc[units["transcript_id"].isin(codings["transcript_id"].unique())])
        present = dec.groupby(["unit_id", "code"], observed=True)["applied"].any().reset_index()
        present = present.loc[present["applied"]]
        n_codes = present.groupby("unit_id").size()
        candidates = n_codes[(n_codes >= 2) & (n_codes <= 4)].index.to_numpy()
        if len(candidates) == 0:
            candidates = n_codes.index.to_numpy()
        rng = np.random.default_rng(self.seed)
        chosen = sorted(rng.choice(candidates, size=min(self.n_units, len(candidates)), replace=False))
        self.units = self.study.with_text(units.set_index("unit_id").loc[chosen].reset_index())
        cb = self.study.codebook
        version = codings["codebook_version"].astype(str).mode().iloc[0] if "codebook_version" in codings else ""
        version_codes = set(cb.loc[cb["version"].astype(str) == version, "code"].astype(str))
        used = set(codings["code"].astype(str))
        parents = set(cb["parent"].astype(str)) - {"", "nan", "None"}
        ref = present.loc[present["unit_id"].isin(chosen), ["unit_id", "code"]].astype({"code": str})
        self.codes = sorted(((version_codes or used) - (parents - used)) | set(ref["code"]))
        self.reference = ref.sort_values(["unit_id", "code"]).reset_index(drop=True)

    def decisions(self, answers: Mapping[str, Iterable[str]]) -> pd.DataFrame:
        """One row per (answered unit, code of :attr:`codes`): ``unit_id, code, reference, yours``.

        ``answers`` maps a unit id to the codes you apply there (a set, a list, or
        one code as a string). Units you do not list are not scored. Unknown units
        or codes raise :class:`~qda.errors.QDAError`.
        """
        if not isinstance(answers, Mapping):
            raise QDAError(
                None, "answers", f"is a {type(answers).__name__}, not a mapping", "pass a dict {unit_id: set of codes}"
            )
        unknown = set(answers) - set(self.units["unit_id"])
        if unknown:
            raise QDAError(
                None,
                "answers",
                f"unit(s) {sorted(map(str, unknown))} are not in this exercise",
                f"answer units {', '.join(self.units['unit_id'])}",
            )
        rows = []
        ref = self.reference.groupby("unit_id")["code"].apply(set).to_dict()
        for unit_id, chosen in answers.items():
            chosen = {chosen} if isinstance(chosen, str) else set(chosen)
            bad = chosen - set(self.codes)
            if bad:
                raise QDAError(
                    None, f"answers[{unit_id!r}]", f"unknown code(s) {sorted(map(str, bad))}", "use exercise.codes"
                )
            for code in self.codes:
                rows.append(
                    {
                        "unit_id": unit_id,
                        "code": code,
                        "reference": code in ref.get(unit_id, set()),
                        "yours": code in chosen,
                    }
                )
        return pd.DataFrame(rows, columns=["unit_id", "code", "reference", "yours"]).astype(
            {"reference": bool, "yours": bool}
        )

    def contingency(self, answers: Mapping[str, Iterable[str]]) -> pd.DataFrame:
        """The 2 x 2 table of decisions: rows the reference (``yes``/``no``), columns yours."""
        d = self.decisions(answers)
        lab = {True: "yes", False: "no"}
        table = pd.crosstab(d["reference"].map(lab), d["yours"].map(lab)).reindex(
            index=["yes", "no"], columns=["yes", "no"], fill_value=0
        )
        table.index.name, table.columns.name = "reference", "yours"
        return table.astype("int64")

    def score(self, answers: Mapping[str, Iterable[str]]) -> pd.Series:
        """Agreement of ``answers`` with the team's reading over all answered decisions.

        Returns ``decisions``, ``agreements``, ``percent_agreement`` (share of equal
        decisions), ``kappa`` (Cohen 1960, from :meth:`contingency`; NaN when
        neither side ever varies, where kappa is 0/0), ``only_yours`` and
        ``only_reference`` (the two kinds of disagreement). With no answered unit
        every value is 0 or NaN. Counts are ``int``, shares ``float`` (object Series).
        """
        d = self.decisions(answers)
        if d.empty:
            empty = {"decisions": 0, "agreements": 0, "percent_agreement": np.nan, "kappa": np.nan}
            return pd.Series({**empty, "only_yours": 0, "only_reference": 0}, dtype=object)
        agree = d["reference"] == d["yours"]
        varied = d["reference"].nunique() > 1 or d["yours"].nunique() > 1
        kappa = cohen_kappa_table(self.contingency(answers)).kappa if varied else np.nan
        return pd.Series(
            {
                "decisions": len(d),
                "agreements": int(agree.sum()),
                "percent_agreement": float(agree.mean()),
                "kappa": float(kappa),
                "only_yours": int((d["yours"] & ~d["reference"]).sum()),
                "only_reference": int((~d["yours"] & d["reference"]).sum()),
            },
            dtype=object,
        )  # object: counts stay int, shares stay float

    def per_code(self, answers: Mapping[str, Iterable[str]]) -> pd.DataFrame:
        """Per code either side applied: units the reference and you ticked, units agreeing, units answered."""
        d = self.decisions(answers)
        d["agree"] = d["reference"] == d["yours"]
        out = d.groupby("code").agg(
            reference=("reference", "sum"), yours=("yours", "sum"), agree=("agree", "sum"), units=("agree", "size")
        )
        return out.loc[(out["reference"] > 0) | (out["yours"] > 0)].astype("int64")

    def reference_answers(self) -> dict[str, set[str]]:
        """The team's reading as an answers mapping (the exercise's model answer)."""
        ref = self.reference.groupby("unit_id")["code"].apply(set).to_dict()
        return {u: set(ref.get(u, set())) for u in self.units["unit_id"]}

    def passages(self) -> pd.DataFrame:
        """The passages to code: ``unit_id, transcript_id, text``."""
        return self.units[["unit_id", "transcript_id", "text"]].reset_index(drop=True)


# ---------------------------------------------------------------------------
# The excerpt browser's selection
# ---------------------------------------------------------------------------
def _check_level(study: Study, column: str, value) -> None:
    if value is None:
        return
    known = set(study.participants[column].astype(str))
    if str(value) not in known:
        raise QDAError(None, column, f"no participant has {column} {value!r}", f"use one of {', '.join(sorted(known))}")


def browse_excerpts(
    study: Study,
    code: str | None = None,
    theme=None,
    gender: str | None = None,
    career_stage: str | None = None,
    n: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Up to ``n`` passages filtered by code, theme, gender and career stage, drawn with ``seed``.

    Rule: with ``theme`` (number or name) the passages are the theme codings of
    ``study.themes``; with ``code`` as well, only those theme passages that share
    at least one character with a full-round coding of ``code``. The draw is
    :func:`qda.analysis.themes.excerpts` (seeded, one passage per participant first).
    Without ``theme`` the passages are the full-round codings of ``code`` (any
    code when None), drawn by ``DataFrame.sample(random_state=seed)``.
    ``gender`` and ``career_stage`` filter by the participant; unknown values,
    codes or themes raise :class:`~qda.errors.QDAError`. The same arguments
    always return the same passages.

    Returns :data:`EXCERPT_COLUMNS`, sorted by participant and position.
    """
    n = _check_n(n)
    _check_level(study, "gender", gender)
    _check_level(study, "career_stage", career_stage)
    if code is not None and code not in set(study.codings["code"].astype(str)):
        raise QDAError(
            None, "code", f"{code!r} is not a code of this study", "pick one of study.codings['code'].unique()"
        )
    full = study.codings.loc[study.codings["round"].astype(str) == "full"]
    if theme is not None:
        segments = None
        if code is not None:
            th = study.themes.reset_index(drop=True)
            cc = full.loc[full["code"].astype(str) == code]
            hit = overlapping_rows(
                th["transcript_id"].astype(str),
                th["start"],
                th["end"],
                cc["transcript_id"].astype(str),
                cc["start"],
                cc["end"],
            )
            segments = th.loc[hit]
        ex = excerpts(study, theme, gender=gender, career_stage=career_stage, n=n, seed=seed, segments=segments)
        ex["code_or_theme"] = ex["theme_name"] + ("" if code is None else f" + {code}")
        return ex[EXCERPT_COLUMNS].reset_index(drop=True)
    c = full if code is None else full.loc[full["code"].astype(str) == code]
    c = c.merge(
        # a transcript belongs to a participant through the transcripts table (they are not
        # the same id in an imported project)
        study.transcripts[["transcript_id", "participant_id"]].merge(
            study.participants[["participant_id", "gender", "career_stage"]], on="participant_id"
        ),
        on="transcript_id",
        how="left",
    )
    for col, val in (("gender", gender), ("career_stage", career_stage)):
        if val is not None:
            c = c.loc[c[col].astype(str) == str(val)]
    if c.empty or n == 0:
        return pd.DataFrame(columns=EXCERPT_COLUMNS)
    c = c.sample(n=min(n, len(c)), random_state=seed).sort_values(["participant_id", "start"])
    c = study.with_text(c)
    c["code_or_theme"] = c["code"].astype(str)
    c["gender"] = c["gender"].astype(str)
    c["career_stage"] = c["career_stage"].astype(str)
    return c[EXCERPT_COLUMNS].reset_index(drop=True)


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
        c = c.loc[(c["start"] < e) & (c["end"] > s)]
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


# ---------------------------------------------------------------------------
# 3. Unitizing
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class UnitizingExercise:
    """An answer in which the team coded ``code`` on part of the text only.

    ``reference`` holds the team's spans (``start``, ``end``) relative to
    :attr:`text` (code points, end exclusive), merged where they touch.
    """

    unit_id: str
    transcript_id: str
    start: int
    end: int
    text: str
    code: str
    reference: pd.DataFrame


def unitizing_exercise(
    study: Study,
    code: str = "gender_inequities",
    seed: int = 0,
    min_chars: int = 300,
    max_chars: int = 900,
) -> UnitizingExercise:
    """A participant answer where the full-round coding of ``code`` covers 20-80% of the text.

    Candidates: participant turns of ``min_chars`` to ``max_chars`` characters whose
    full-round codings of ``code`` cover between a fifth and four fifths of the turn,
    so where a unit starts and ends matters; one is drawn with ``default_rng(seed)``.
    """
    full = _round(study, "full")
    full = full.loc[full["code"].astype(str) == code]
    if full.empty:
        raise QDAError(study.root, "code", f"no full-round coding of {code!r}", "pick a code the team applied")
    units = participant_units(study.transcripts)
    length = units["end"] - units["start"]
    units = units.loc[(length >= min_chars) & (length <= max_chars)].reset_index(drop=True)
    m = units.merge(full[["transcript_id", "start", "end"]], on="transcript_id", suffixes=("", "_c"))
    m["s"] = m[["start", "start_c"]].max(axis=1)
    m["e"] = m[["end", "end_c"]].min(axis=1)
    m = m.loc[m["e"] > m["s"]]
    covered = (m["e"] - m["s"]).groupby(m["unit_id"]).sum() / (
        units.set_index("unit_id")["end"] - units.set_index("unit_id")["start"]
    )
    candidates = sorted(covered.index[(covered >= 0.2) & (covered <= 0.8)])
    if not candidates:
        raise QDAError(study.root, "codings", f"no answer is partly coded {code!r}", "widen min_chars/max_chars")
    unit_id = str(np.random.default_rng(seed).choice(candidates))
    unit = units.set_index("unit_id").loc[unit_id]
    s, e = int(unit["start"]), int(unit["end"])
    spans = m.loc[m["unit_id"] == unit_id, ["s", "e"]].sort_values("s").to_numpy() - s
    merged: list[list[int]] = []
    for a, b in spans.tolist():
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    ref = pd.DataFrame(merged, columns=["start", "end"]).astype("int64")
    tid = str(unit["transcript_id"])
    return UnitizingExercise(unit_id, tid, s, e, study.text(tid, s, e), code, ref)


def word_spans(text: str) -> pd.DataFrame:
    """The words of ``text`` (runs of non-space characters): ``start``, ``end`` in code points."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    return pd.DataFrame(spans, columns=["start", "end"]).astype("int64")


def words_to_span(exercise: UnitizingExercise, first: int, last: int) -> tuple[int, int]:
    """The character span from word ``first`` to word ``last`` (0-based, inclusive) of the passage."""
    w = word_spans(exercise.text)
    first, last = sorted((int(first), int(last)))
    if first < 0 or last >= len(w):
        raise QDAError(None, "words", f"{first}-{last} is outside 0-{len(w) - 1}", "pick words of the passage")
    return int(w["start"].iloc[first]), int(w["end"].iloc[last])


def _alpha(spans: Sequence[tuple[int, int]], reference: pd.DataFrame, length: int) -> float:
    seg = pd.DataFrame(
        [("you", a, b, "code") for a, b in spans]
        + [("team", a, b, "code") for a, b in zip(reference["start"], reference["end"], strict=False)],
        columns=["coder", "start", "end", "value"],
    )
    return float(unitizing_alpha(seg, length, coders=["you", "team"]).u_alpha)


def _mask(spans: Iterable[tuple[int, int]], length: int) -> np.ndarray:
    m = np.zeros(length, dtype=bool)
    for a, b in spans:
        m[int(a) : int(b)] = True
    return m


def score_unitizing(exercise: UnitizingExercise, spans: Sequence[tuple[int, int]]) -> pd.Series:
    """Agreement of your spans with the team's on the passage, and what moved it.

    ``spans`` are ``(start, end)`` pairs relative to the passage (sorted, not
    overlapping; an empty list marks nothing). Returns ``u_alpha`` (Krippendorff's
    u-alpha of your spans and the team's, :func:`qda.stats.unitizing.unitizing_alpha`),
    ``chars_both``, ``chars_only_yours``, ``chars_only_team`` (characters inside
    your spans and the team's, yours only, the team's only), ``start_shift`` and
    ``end_shift`` (your first start minus the team's, your last end minus the team's;
    NaN without spans) and ``alpha_start_fixed`` / ``alpha_end_fixed`` (u-alpha had
    your first start, or your last end, been the team's): what moved the coefficient.
    """
    length = len(exercise.text)
    spans = sorted((int(a), int(b)) for a, b in spans)
    for a, b in spans:
        if not 0 <= a < b <= length:
            raise QDAError(
                None, "spans", f"({a}, {b}) is not a span of the passage", f"use 0 <= start < end <= {length}"
            )
    ref = exercise.reference
    yours, team = _mask(spans, length), _mask(zip(ref["start"], ref["end"], strict=False), length)
    out = {
        "u_alpha": _alpha(spans, ref, length),
        "chars_both": int((yours & team).sum()),
        "chars_only_yours": int((yours & ~team).sum()),
        "chars_only_team": int((~yours & team).sum()),
        "start_shift": np.nan,
        "end_shift": np.nan,
        "alpha_start_fixed": np.nan,
        "alpha_end_fixed": np.nan,
    }
    if spans and len(ref):
        r0, r1 = int(ref["start"].iloc[0]), int(ref["end"].iloc[-1])
        out["start_shift"] = spans[0][0] - r0
        out["end_shift"] = spans[-1][1] - r1
        fixed_start = [(min(r0, spans[0][1] - 1), spans[0][1])] + spans[1:]
        fixed_end = spans[:-1] + [(spans[-1][0], max(r1, spans[-1][0] + 1))]
        out["alpha_start_fixed"] = _alpha(fixed_start, ref, length)
        out["alpha_end_fixed"] = _alpha(fixed_end, ref, length)
    return pd.Series(out, dtype=object)


# ---------------------------------------------------------------------------
# 4. Reconciling a disagreement
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ReconciliationCase:
    """One (answer, code) the analysts disagreed on, with each analyst's coding of it.

    ``codings`` has one row per analyst: ``coder``, ``applied`` (bool) and ``words``
    (the text of their coding of the code that overlaps the answer, empty if none).
    ``resolution``, ``note`` and ``criterion`` are the team's decision.
    """

    round: str
    unit_id: str
    transcript_id: str
    code: str
    text: str
    codings: pd.DataFrame
    resolution: str
    note: str
    criterion: dict


def reconciliation_case(study: Study, seed: int = 0, round: str = "2", code: str | None = None) -> ReconciliationCase:
    """A disagreement of ``round`` (optionally on ``code``), drawn with ``default_rng(seed)``."""
    rec = study.reconciliation
    rec = rec.loc[rec["round"].astype(str) == str(round)]
    if code is not None:
        rec = rec.loc[rec["code"].astype(str) == code]
    if rec.empty:
        raise QDAError(study.root, "reconciliation", f"no disagreement in round {round}", "pick another round or code")
    row = rec.iloc[int(np.random.default_rng(seed).integers(len(rec)))]
    unit = _reconciliation_with_text(study, row.to_frame().T).iloc[0]
    s, e, tid = int(unit["start"]), int(unit["end"]), str(row["transcript_id"])
    c = _round(study, str(round))
    c = c.loc[(c["transcript_id"] == tid) & (c["code"].astype(str) == str(row["code"]))]
    c = c.loc[(c["start"] < e) & (c["end"] > s)]
    coders = sorted(set(str(row["coded_by"]).split(";")) | set(str(row["not_coded_by"]).split(";")) - {""})
    applied = set(str(row["coded_by"]).split(";"))
    rows = []
    for coder in coders:
        mine = c.loc[c["coder"] == coder]
        words = " [...] ".join(
            study.text(tid, int(a), int(b)) for a, b in zip(mine["start"], mine["end"], strict=False)
        )
        rows.append({"coder": coder, "applied": coder in applied, "words": words if coder in applied else ""})
    return ReconciliationCase(
        str(round),
        str(row["unit_id"]),
        tid,
        str(row["code"]),
        str(unit["text"]),
        pd.DataFrame(rows, columns=["coder", "applied", "words"]),
        str(row["resolution"]),
        str(row["note"]),
        note_criterion(row["note"], str(row["code"]), sorted(set(study.codebook["code"].astype(str)))),
    )


def score_reconciliation(case: ReconciliationCase, decision: str) -> pd.Series:
    """Your decision (``"present"`` or ``"absent"``) beside the team's, and the criterion it used."""
    decision = str(decision).strip().lower()
    if decision not in ("present", "absent"):
        raise QDAError(None, "decision", f"{decision!r} is not a decision", "say 'present' or 'absent'")
    crit = case.criterion
    named = f"{crit['code']} ({crit['version']} {crit['field']})" if crit["code"] else ""
    return pd.Series(
        {"yours": decision, "team": case.resolution, "agree": decision == case.resolution, "criterion": named},
        dtype=object,
    )


# ---------------------------------------------------------------------------
# 5. Writing an analytic memo
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MemoExercise:
    """Segments of the analysis set, prompts, and the analyst's memo that cites them."""

    memo: pd.Series
    decision: str
    theme: int
    segments: pd.DataFrame
    prompts: list[str]


def _cited(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"P\d{3}-S\d{3}", str(text))))


def memo_exercise(
    study: Study, decision: str = "open", themes: Sequence[int] = (1, 2, 3), n_segments: int = 4, seed: int = 0
) -> MemoExercise:
    """An analytic memo (``theme_memos.csv``) with a given ``decision`` and the segments it cites.

    Candidates: memos of ``themes`` recording ``decision`` that cite at least two
    analysis-set segments by id; one is drawn with ``default_rng(seed)``. The
    segments are the first ``n_segments`` it cites, in its order, from
    :func:`qda.analysis.analysis_set.analysis_set` (full round, overlap rule).
    """
    n_segments = _check_n(n_segments, "n_segments", minimum=1)
    tm = study.theme_memos
    tm = tm.loc[(tm["decision"].astype(str) == decision) & tm["theme"].astype(int).isin(list(themes))]
    memos = study.memos.set_index("memo_id")
    seg = analysis_set(study).set_index("segment_id")
    pool = [
        (str(r.memo_id), int(r.theme))
        for r in tm.itertuples()
        if r.memo_id in memos.index and len([s for s in _cited(memos.at[r.memo_id, "text"]) if s in seg.index]) >= 2
    ]
    if not pool:
        raise QDAError(study.root, "theme_memos", f"no {decision!r} memo cites two segments", "pick another decision")
    memo_id, theme = pool[int(np.random.default_rng(seed).integers(len(pool)))]
    memo = memos.loc[memo_id].copy()
    memo["memo_id"] = memo_id
    ids = [s for s in _cited(memo["text"]) if s in seg.index][:n_segments]
    segments = seg.loc[ids, ["participant_id", "gender", "career_stage", "text"]].reset_index()
    return MemoExercise(memo, decision, theme, segments, list(MEMO_PROMPTS))


#: The checks of :func:`memo_checklist`: (label, pattern searched in the memo, case-insensitive).
MEMO_CHECKS = [
    ("cites segments by id", r"\bP\d{3}-S\d{3}\b"),
    ("gives a provisional name", r"\"[^\"]+\"|\b(label|name|call it|working)\b"),
    ("says what is in and what is out", r"\b(include|includes|inclusion|exclude|excludes|leave[s]? out|not)\b"),
    ("names a case that does not fit", r"\b(but|however|except|negative|does not fit|doubt|unless)\b"),
    ("reflects on the reader", r"\b(I|my|me|we|our)\b"),
]


def memo_checklist(text: str) -> pd.DataFrame:
    """Which of the memo prompts a memo visibly answers: one row per check, ``check`` and ``met``.

    Pattern checks (:data:`MEMO_CHECKS`), plus ``at least 80 words``. They prompt a
    rewrite; they do not grade the analysis.
    """
    text = str(text)
    rows = [
        {"check": label, "met": bool(re.search(p, text, flags=0 if label == "reflects on the reader" else re.I))}
        for label, p in MEMO_CHECKS
    ]
    rows.append({"check": "at least 80 words", "met": len(text.split()) >= 80})
    return pd.DataFrame(rows, columns=["check", "met"])


# ---------------------------------------------------------------------------
# 6. Building a theme
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ThemeExercise:
    """Analysis-set segments to group, labelled A, B, ..., with the team's grouping.

    ``segments``: ``label, segment_id, participant_id, text, team_theme`` (Int64, NA
    for the negative case), ``theme_name``, ``coder``. ``negative`` is the label of
    the segment a negative-case memo left out of every theme; ``memos`` the team's
    memos on these themes (``memo_id, theme, decision, text``).
    """

    segments: pd.DataFrame
    negative: str
    memos: pd.DataFrame


def theme_exercise(
    study: Study, themes: Sequence[int] = (1, 2, 3), per_theme: int = 2, seed: int = 0, max_chars: int = 1500
) -> ThemeExercise:
    """``per_theme`` segments the team assigned to each of ``themes``, and one negative case, shuffled.

    Segments are analysis-set segments (full round, overlap rule) with exactly one
    theme assignment in ``study.themes`` and at most ``max_chars`` characters,
    drawn with ``default_rng(seed)``. The negative case is a segment a
    ``negative case`` memo of these themes cites and no analyst assigned to any
    theme. Labels A, B, ... follow a seeded shuffle.
    """
    per_theme = _check_n(per_theme, "per_theme", minimum=1)
    rng = np.random.default_rng(seed)
    seg = analysis_set(study)
    th = study.themes.merge(seg[["transcript_id", "start", "end", "segment_id"]], on=["transcript_id", "start", "end"])
    once = th.groupby("segment_id")["theme"].transform("nunique") == 1
    th = th.loc[once].drop_duplicates("segment_id")
    th = th.merge(seg[["segment_id", "participant_id", "text"]], on="segment_id")
    th = th.loc[th["text"].str.len() <= max_chars]
    picks = []
    for t in themes:
        pool = th.loc[th["theme"].astype(int) == int(t)].sort_values("segment_id")
        if len(pool) < per_theme:
            raise QDAError(study.root, "themes", f"theme {t} has fewer than {per_theme} segments", "lower per_theme")
        picks.append(pool.iloc[np.sort(rng.choice(len(pool), per_theme, replace=False))])
    chosen = pd.concat(picks)
    tm = study.theme_memos.loc[study.theme_memos["theme"].astype(int).isin(list(themes))]
    memos = tm.merge(study.memos[["memo_id", "text"]], on="memo_id")[["memo_id", "theme", "decision", "text"]]
    neg_memos = memos.loc[memos["decision"] == "negative case"]
    assigned = set(study.themes.merge(seg, on=["transcript_id", "start", "end"])["segment_id"])
    seg_ok = seg.loc[seg["text"].str.len() <= max_chars].set_index("segment_id")
    negs = sorted({s for x in neg_memos["text"] for s in _cited(x) if s in seg_ok.index and s not in assigned})
    if not negs:
        raise QDAError(study.root, "theme_memos", "no negative case cites an unassigned segment", "pick other themes")
    neg_id = str(rng.choice(negs))
    neg = seg_ok.loc[[neg_id], ["participant_id", "text"]].reset_index()
    neg["theme"], neg["theme_name"], neg["coder"] = pd.NA, "(no theme: a negative case)", ""
    cols = ["segment_id", "participant_id", "text", "theme", "theme_name", "coder"]
    out = pd.concat([chosen[cols], neg[cols]], ignore_index=True)
    out = out.iloc[rng.permutation(len(out))].reset_index(drop=True)
    out.insert(0, "label", [chr(ord("A") + k) for k in range(len(out))])
    out = out.rename(columns={"theme": "team_theme"}).astype({"team_theme": "Int64"})
    negative = str(out.loc[out["segment_id"] == neg_id, "label"].iloc[0])
    cited = neg_memos.loc[neg_memos["text"].str.contains(neg_id, regex=False)]
    kept = memos.loc[memos["decision"].isin(["keep", "rename", "split", "merge"])]
    return ThemeExercise(out, negative, pd.concat([kept, cited]).reset_index(drop=True))


def score_grouping(exercise: ThemeExercise, groups: Mapping[str, str], negative: str | None = None) -> pd.Series:
    """Your grouping of the segments beside the team's themes (pair counting), and your negative case.

    ``groups`` maps a segment label to your group name (blank: not grouped). Over
    every pair of segments that both you and the team grouped, a pair *agrees* when
    you and the team both put the two together or both keep them apart; the Rand
    index is the share of agreeing pairs (Rand 1971). Returns ``pairs``,
    ``pairs_agree``, ``rand`` (NaN with no pair), ``groups`` (how many you made) and
    ``negative_found`` (your ``negative`` is the team's negative case).
    """
    labels = set(exercise.segments["label"])
    bad = set(groups) - labels
    if bad:
        raise QDAError(None, "groups", f"label(s) {sorted(bad)} are not segments", f"use {', '.join(sorted(labels))}")
    team = exercise.segments.set_index("label")["team_theme"]
    mine = {k: str(v).strip() for k, v in groups.items() if str(v).strip()}
    both = sorted(k for k in mine if pd.notna(team.get(k)))
    pairs = agree = 0
    for a, b in combinations(both, 2):
        pairs += 1
        agree += (mine[a] == mine[b]) == (team[a] == team[b])
    return pd.Series(
        {
            "pairs": pairs,
            "pairs_agree": agree,
            "rand": agree / pairs if pairs else np.nan,
            "groups": len(set(mine.values())),
            "negative_found": negative == exercise.negative,
        },
        dtype=object,
    )
