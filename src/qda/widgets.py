"""Teaching widgets (ipywidgets), each with a pure function underneath and a static rendering.

Widgets need a live kernel; the web book has none. So every widget here is a thin
view over a pure function that returns a DataFrame: the book prints that DataFrame
as the widget's static rendering, and the tests call the function directly.

- :class:`CodingExercise` : code passages yourself and see your agreement with the
  reference coding update as you tick codes (percent agreement, Cohen's kappa).
- :func:`browse_excerpts` / :func:`excerpt_browser` : passages by code, theme,
  gender and career stage.
- :func:`analysis_set_under_rules` / :func:`cooccurrence_explorer` : how the
  co-occurrence rule changes the analysis set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .corpus import Study
from .errors import QDAError


# ---------------------------------------------------------------------------
# (a) Code a passage yourself
# ---------------------------------------------------------------------------
@dataclass
class CodingExercise:
    """A coding exercise on fixed units (participant turns), scored against a reference.

    The reference is the full coding of the study (every analyst's codings on the
    unit, combined, because each full-round analyst applied part of the codebook):
    a code is *present* in a unit when :func:`qda.codings.unit_decisions` says an
    analyst applied it there. Your answer is the set of codes you tick per unit.
    Scoring treats every (unit, code) pair as one binary decision, as Campbell et
    al. (2013) do for fixed units, and reports percent agreement and Cohen's kappa
    (Cohen 1960) over the decisions, plus the agreement per code.

    Parameters
    ----------
    study : Study
    n_units : int
        How many passages to draw (seeded).
    seed : int
        Seed of the draw (numpy ``default_rng``).
    round : str
        The coding round that provides the reference (default ``"full"``).
    """

    study: Study
    n_units: int = 4
    seed: int = 0
    round: str = "full"
    units: pd.DataFrame = field(init=False)
    reference: pd.DataFrame = field(init=False)
    codes: list[str] = field(init=False)

    def __post_init__(self) -> None:
        from .codings import participant_units, unit_decisions

        codings = self.study.codings.loc[self.study.codings["round"].astype(str) == self.round]
        if codings.empty:
            raise QDAError(self.study.root, f"round {self.round}", "has no codings",
                           "pick a round that has codings (see study.codings['round'])")
        units = participant_units(self.study.transcripts)
        dec = unit_decisions(codings, units.loc[units["transcript_id"].isin(codings["transcript_id"].unique())])
        present = dec.groupby(["unit_id", "code"], observed=True)["applied"].any().reset_index()
        n_codes = present.loc[present["applied"]].groupby("unit_id").size()
        # teach on passages that carry two to four codes: rich enough to disagree on
        candidates = n_codes[(n_codes >= 2) & (n_codes <= 4)].index.to_numpy()
        if len(candidates) == 0:
            candidates = n_codes.index.to_numpy()
        rng = np.random.default_rng(self.seed)
        chosen = sorted(rng.choice(candidates, size=min(self.n_units, len(candidates)), replace=False))
        self.units = self.study.with_text(units.set_index("unit_id").loc[chosen].reset_index())
        parent_codes = set(self.study.codebook["parent"].astype(str)) - {""}
        version_codes = self.study.codebook.loc[self.study.codebook["version"].astype(str) ==
                                                self.study.codebook["version"].astype(str).iloc[-1], "code"]
        self.codes = sorted(set(version_codes) - parent_codes) or sorted(codings["code"].unique())
        ref = present.loc[present["unit_id"].isin(chosen) & present["applied"], ["unit_id", "code"]]
        self.reference = ref.sort_values(["unit_id", "code"]).reset_index(drop=True)

    # -- pure scoring -------------------------------------------------------
    def decisions(self, answers: Mapping[str, Iterable[str]]) -> pd.DataFrame:
        """One row per (unit, code) for the answered units: ``unit_id, code, reference, yours``."""
        unknown = set(answers) - set(self.units["unit_id"])
        if unknown:
            raise QDAError(None, "answers", f"unit(s) {sorted(unknown)} are not in this exercise",
                           f"answer units {', '.join(self.units['unit_id'])}")
        rows = []
        ref = self.reference.groupby("unit_id")["code"].apply(set).to_dict()
        for unit_id, chosen in answers.items():
            chosen = set(chosen)
            bad = chosen - set(self.codes)
            if bad:
                raise QDAError(None, f"answers[{unit_id!r}]", f"unknown code(s) {sorted(bad)}",
                               "use codes from exercise.codes")
            for code in self.codes:
                rows.append({"unit_id": unit_id, "code": code,
                             "reference": code in ref.get(unit_id, set()), "yours": code in chosen})
        return pd.DataFrame(rows, columns=["unit_id", "code", "reference", "yours"])

    def score(self, answers: Mapping[str, Iterable[str]]) -> pd.Series:
        """Agreement of ``answers`` with the reference over all answered decisions.

        Returns ``decisions``, ``agreements``, ``percent_agreement`` (share of equal
        decisions) and ``kappa`` (Cohen 1960; NaN when one side never varies, where
        kappa is undefined), ``only_yours`` and ``only_reference`` (the two kinds of
        disagreement).
        """
        from .agreement import cohen_kappa

        d = self.decisions(answers)
        if d.empty:
            return pd.Series({"decisions": 0, "agreements": 0, "percent_agreement": np.nan, "kappa": np.nan,
                              "only_yours": 0, "only_reference": 0})
        agree = d["reference"] == d["yours"]
        varied = d["reference"].nunique() > 1 or d["yours"].nunique() > 1
        kappa = cohen_kappa(d["reference"].astype(int), d["yours"].astype(int)).kappa if varied else np.nan
        return pd.Series({
            "decisions": len(d), "agreements": int(agree.sum()),
            "percent_agreement": float(agree.mean()), "kappa": float(kappa),
            "only_yours": int((d["yours"] & ~d["reference"]).sum()),
            "only_reference": int((~d["yours"] & d["reference"]).sum()),
        })

    def per_code(self, answers: Mapping[str, Iterable[str]]) -> pd.DataFrame:
        """Per code: how many units you and the reference ticked, and how many agree."""
        d = self.decisions(answers)
        d["agree"] = d["reference"] == d["yours"]
        out = d.groupby("code").agg(reference=("reference", "sum"), yours=("yours", "sum"), agree=("agree", "sum"),
                                    units=("agree", "size"))
        return out.loc[(out["reference"] > 0) | (out["yours"] > 0)].astype(int)

    def reference_answers(self) -> dict[str, set[str]]:
        """The reference coding as an answers mapping (the exercise's solution)."""
        ref = self.reference.groupby("unit_id")["code"].apply(set).to_dict()
        return {u: ref.get(u, set()) for u in self.units["unit_id"]}

    def passages(self) -> pd.DataFrame:
        """The passages to code: ``unit_id, transcript_id, text``."""
        return self.units[["unit_id", "transcript_id", "text"]]

    # -- the widget -----------------------------------------------------------
    def widget(self):
        """An ipywidgets view: one row of code checkboxes per passage, the score below it."""
        import ipywidgets as w
        from IPython.display import display

        boxes: dict[str, dict[str, w.Checkbox]] = {}
        out = w.Output()
        rows = []
        for unit in self.units.itertuples():
            boxes[unit.unit_id] = {c: w.Checkbox(value=False, description=c, indent=False,
                                                 layout=w.Layout(width="210px")) for c in self.codes}
            rows.append(w.HTML(f"<b>{unit.unit_id}</b><blockquote>{unit.text}</blockquote>"))
            rows.append(w.GridBox(list(boxes[unit.unit_id].values()),
                                  layout=w.Layout(grid_template_columns="repeat(4, 220px)")))

        def refresh(_=None):
            answers = {u: {c for c, b in bs.items() if b.value} for u, bs in boxes.items()}
            s = self.score(answers)
            out.clear_output()
            with out:
                print(f"{s['agreements']} of {s['decisions']} decisions agree "
                      f"({s['percent_agreement']:.0%}); Cohen's kappa = {s['kappa']:.2f}")
                display(self.per_code(answers))

        for bs in boxes.values():
            for b in bs.values():
                b.observe(refresh, names="value")
        refresh()
        return w.VBox(rows + [out])


# ---------------------------------------------------------------------------
# (b) Excerpt browser
# ---------------------------------------------------------------------------
def browse_excerpts(study: Study, code: str | None = None, theme=None, gender: str | None = None,
                    career_stage: str | None = None, n: int = 5, seed: int = 0) -> pd.DataFrame:
    """Passages filtered by code, theme, gender and career stage, drawn with ``seed``.

    With ``theme`` the passages are theme codings (:func:`qda.themes.excerpts`);
    otherwise they are the full-round codings of ``code`` (any code when None).
    Returns ``participant_id, gender, career_stage, code_or_theme, text``.
    """
    from .themes import excerpts

    if theme is not None:
        ex = excerpts(study, theme, gender=gender, career_stage=career_stage, n=n, seed=seed)
        ex["code_or_theme"] = ex["theme_name"]
        return ex[["participant_id", "gender", "career_stage", "code_or_theme", "text"]].reset_index(drop=True)
    c = study.codings.loc[study.codings["round"].astype(str) == "full"]
    if code is not None:
        if code not in set(study.codings["code"]):
            raise QDAError(None, "code", f"{code!r} is not a code of this study", "pick one of study.codings['code']")
        c = c.loc[c["code"] == code]
    c = c.merge(study.participants[["participant_id", "gender", "career_stage"]],
                left_on="transcript_id", right_on="participant_id", how="left")
    for col, val in (("gender", gender), ("career_stage", career_stage)):
        if val is not None:
            c = c.loc[c[col].astype(str) == str(val)]
    if c.empty:
        return pd.DataFrame(columns=["participant_id", "gender", "career_stage", "code_or_theme", "text"])
    c = c.sample(n=min(n, len(c)), random_state=seed).sort_values(["participant_id", "start"])
    c = study.with_text(c)
    c["code_or_theme"] = c["code"]
    return c[["participant_id", "gender", "career_stage", "code_or_theme", "text"]].reset_index(drop=True)


def excerpt_browser(study: Study, n: int = 3):
    """An ipywidgets excerpt browser over :func:`browse_excerpts`."""
    import ipywidgets as w
    from IPython.display import display

    codes = ["(any)"] + sorted(study.codings["code"].unique())
    themes = ["(none)"] + sorted(study.themes["theme_name"].unique())
    genders = ["(any)"] + sorted(study.participants["gender"].astype(str).unique())
    stages = ["(any)"] + sorted(study.participants["career_stage"].astype(str).unique())
    dd = {name: w.Dropdown(options=opts, description=name) for name, opts in
          [("code", codes), ("theme", themes), ("gender", genders), ("stage", stages)]}
    seed = w.IntSlider(value=0, min=0, max=20, description="draw")
    out = w.Output()

    def refresh(_=None):
        names = dict(zip(study.themes["theme_name"], study.themes["theme"]))
        pick = {k: (None if str(v.value).startswith("(") else v.value) for k, v in dd.items()}
        out.clear_output()
        with out:
            frame = browse_excerpts(study, code=pick["code"], theme=names.get(pick["theme"]),
                                    gender=pick["gender"], career_stage=pick["stage"], n=n, seed=seed.value)
            display(frame.style.hide(axis="index"))

    for widget in [*dd.values(), seed]:
        widget.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox(list(dd.values())[:2]), w.HBox(list(dd.values())[2:] + [seed]), out])


# ---------------------------------------------------------------------------
# (c) Co-occurrence rule explorer
# ---------------------------------------------------------------------------
DEFAULT_RULES = (("overlap", 0), ("within", 100), ("within", 400), ("same_turn", 0))


def analysis_set_under_rules(study: Study, rules: Iterable[tuple[str, int]] = DEFAULT_RULES) -> pd.DataFrame:
    """Size of the analysis set under each co-occurrence rule.

    For each ``(rule, within)`` the analysis set is recomputed with
    :func:`qda.analysis_set.analysis_set`; the table reports segments,
    participants, transcripts and segments per theme (a segment without a theme
    counts under ``no theme``). A looser rule admits pairs of codings that are
    near but do not touch, so the set grows; the table makes that visible.
    """
    from .analysis_set import analysis_set

    rows = []
    for rule, within in rules:
        seg = analysis_set(study, rule=rule, within=within)
        theme = seg["theme"].astype("Int64").astype(str).replace("<NA>", "no theme")
        row = {"rule": rule if rule != "within" else f"within {within} characters",
               "segments": len(seg), "participants": seg["participant_id"].nunique(),
               "transcripts": seg["transcript_id"].nunique()}
        row.update({f"theme {k}" if k != "no theme" else k: v for k, v in theme.value_counts().sort_index().items()})
        rows.append(row)
    return pd.DataFrame(rows).fillna(0).set_index("rule").astype(int)


def cooccurrence_explorer(study: Study):
    """An ipywidgets view: choose the co-occurrence rule, see the analysis set change."""
    import ipywidgets as w
    from IPython.display import display

    rule = w.Dropdown(options=["overlap", "within", "same_turn"], value="overlap", description="rule")
    within = w.IntSlider(value=100, min=0, max=1000, step=50, description="within N")
    out = w.Output()

    def refresh(_=None):
        out.clear_output()
        with out:
            display(analysis_set_under_rules(study, [(rule.value, within.value)]))

    rule.observe(refresh, names="value")
    within.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([rule, within]), out])
