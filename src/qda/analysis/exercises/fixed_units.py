"""Coding on fixed units, scored against the team's reading; the excerpt browser's selection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qda.analysis.exercises.common import EXCERPT_COLUMNS, _check_n, _round
from qda.analysis.themes import excerpts
from qda.errors import QDAError
from qda.stats.agreement import cohen_kappa_table
from qda.study.model import Study
from qda.study.units import participant_units, rows_overlapping, unit_decisions

#: How every exercise frames the team's coding.


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
            hit = rows_overlapping(th, cc)
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
