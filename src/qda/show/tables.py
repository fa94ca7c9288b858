"""Book-ready tables: Table 1 (participants by gender) and the readable codebook.

Table 1 restates, for the synthetic corpus, the layout of the study's Table 1:
participant characteristics by gender, as counts with column percentages, printed
"n (%)" (Murphy et al., Academic Medicine 2022, doi:10.1097/ACM.0000000000004388,
Table 1). Counting is ``pandas.crosstab``; only the layout is ours.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from qda.errors import QDAError
from qda.study.model import Study
from qda.study.schema import ordered_levels

#: (column of participants, label in the table) in the order Table 1 prints them.
TABLE1_ROWS = [
    ("rank", "Academic rank"),
    ("degree", "Degree"),
    ("leadership", "Leadership position"),
    ("endowed_chair", "Endowed chair"),
    ("age_band", "Age, years"),
    ("career_stage", "Career stage"),
]

#: Preferred level order where the data use these values; other values follow, sorted.
_LEVEL_LABEL = {
    "assistant": "Assistant professor",
    "associate": "Associate professor",
    "full": "Full professor",
    "dean": "Dean",
    "chair": "Department chair",
    "center director": "Center director",
    "other": "Other",
    "none": "None",
    "early": "Early",
    "mid": "Mid",
    "senior": "Senior",
}
_GENDER_LABEL = {"woman": "Women", "man": "Men"}


def table1_counts(study: Study) -> pd.DataFrame:
    """Table 1 as a tidy frame: one row per (characteristic, level, gender).

    Columns ``characteristic`` (label), ``variable`` (participants column),
    ``level`` (label), ``gender``, ``n`` (participants) and ``percent``
    (``100 * n / N_gender``: column percentages, as Table 1 prints them; the
    percentages of one characteristic add up to 100 within a gender, except for
    yes/no characteristics, of which only "yes" is shown). A ``total`` gender
    holds all participants. Reference: Murphy et al. 2022, Table 1.
    """
    p = study.participants
    need = ["gender"] + [c for c, _ in TABLE1_ROWS]
    missing = [c for c in need if c not in p.columns]
    if missing:
        raise QDAError(
            study.root, "participants", f"missing column(s) {', '.join(missing)}", "add them (see data/README.md)"
        )
    if p.empty:
        raise QDAError(study.root, "participants", "has no rows", "add one row per participant")
    genders = ordered_levels(p["gender"].astype(str), "gender")
    rows = []
    for col, label in TABLE1_ROWS:
        s = p[col]
        is_bool = s.dtype == bool
        vals = s.map({True: "yes", False: "no"}) if is_bool else s.astype(str)
        levels = ["yes"] if is_bool else ordered_levels(vals, col)
        tab = pd.crosstab(vals, p["gender"].astype(str)).reindex(index=levels, columns=genders, fill_value=0)
        tab["total"] = vals.value_counts().reindex(levels, fill_value=0)
        sizes = p["gender"].astype(str).value_counts().reindex(genders).tolist() + [len(p)]
        for lv in levels:
            for g, size in zip(genders + ["total"], sizes, strict=False):
                k = int(tab.loc[lv, g])
                rows.append(
                    {
                        "characteristic": label,
                        "variable": col,
                        "level": "Yes" if is_bool else _LEVEL_LABEL.get(lv, lv),
                        "gender": g,
                        "n": k,
                        "percent": 100.0 * k / size if size else float("nan"),
                    }
                )
    return pd.DataFrame(rows, columns=["characteristic", "variable", "level", "gender", "n", "percent"])


def table1(study: Study, total: bool = True) -> pd.DataFrame:
    """Table 1: participant characteristics by gender, cells "n (%)".

    Rows: a (characteristic, level) MultiIndex in the order of :data:`TABLE1_ROWS`;
    columns: "Women (n = 52)", "Men (n = 52)" and, if ``total``, "All (n = 104)"
    (group sizes from the data). Cell: ``n (p)`` with ``p`` the column percentage
    rounded to a whole number, as journals print it. The numbers are in
    :func:`table1_counts`. Reference: Murphy et al. 2022, Table 1.
    """
    tidy = table1_counts(study)
    p = study.participants
    genders = [g for g in tidy["gender"].unique() if g != "total"] + (["total"] if total else [])
    sizes = p["gender"].astype(str).value_counts()
    labels = {g: f"{_GENDER_LABEL.get(g, str(g).capitalize())} (n = {int(sizes.get(g, 0))})" for g in genders}
    labels["total"] = f"All (n = {len(p)})"
    tidy = tidy.loc[tidy["gender"].isin(genders)].copy()
    tidy["cell"] = [f"{n} ({pct:.0f})" for n, pct in zip(tidy["n"], tidy["percent"], strict=False)]
    wide = tidy.pivot(index=["characteristic", "level"], columns="gender", values="cell")
    order = list(dict.fromkeys(zip(tidy["characteristic"], tidy["level"], strict=False)))
    wide = wide.reindex(index=pd.MultiIndex.from_tuples(order, names=["characteristic", "level"]), columns=genders)
    wide.columns = pd.Index([labels[g] for g in genders], name=None)
    return wide


def table1_styler(study: Study, caption: str | None = None):
    """:func:`table1` as a pandas Styler with a caption, ready for the book.

    The caption says the table is synthetic when ``study.synthetic`` and explains
    "n (%)" (column percentages of each gender). Rendering needs jinja2.
    Reference: Murphy et al. 2022, Table 1 (layout).
    """
    t = table1(study)
    if caption is None:
        kind = "synthetic corpus" if study.synthetic else "your project"
        caption = (
            f"Table 1. Participant characteristics by gender ({kind}), n (%); "
            "percentages are of each column's participants."
        )
    return captioned(t, caption)


def codebook_table(study: Study, version: str = "final") -> pd.DataFrame:
    """The codebook of one version as a readable table.

    Columns ``Code`` (display name; a child code is shown "Parent > Child"),
    ``Group`` (code group), ``Definition``, ``Inclusion``, ``Exclusion``; one row
    per code of ``version``, ordered by group and then as the codebook lists
    them, index = code slug. Raises :class:`~qda.errors.QDAError` for an unknown
    version.
    """
    cb = study.codebook
    versions = list(pd.unique(cb["version"].astype(str)))
    if str(version) not in versions:
        raise QDAError(study.root, "codebook", f"no version {version!r}", f"use one of {', '.join(versions)}")
    v = cb.loc[cb["version"].astype(str) == str(version)].copy()
    names = dict(zip(v["code"].astype(str), v["name"].astype(str), strict=False))
    display = [
        f"{names.get(par, par)} > {nm}" if par else nm
        for nm, par in zip(v["name"].astype(str), v["parent"].astype(str), strict=False)
    ]
    out = pd.DataFrame(
        {
            "Code": display,
            "Group": v["code_group"].astype(str).to_numpy(),
            "Definition": v["definition"].astype(str).to_numpy(),
            "Inclusion": v["inclusion"].astype(str).to_numpy(),
            "Exclusion": v["exclusion"].astype(str).to_numpy(),
        },
        index=pd.Index(v["code"].astype(str).to_numpy(), name="code"),
    )
    group_order = {g: k for k, g in enumerate(pd.unique(out["Group"]))}
    out["_g"] = out["Group"].map(group_order)
    out["_k"] = range(len(out))
    return out.sort_values(["_g", "_k"]).drop(columns=["_g", "_k"])


#: Caption and cell styles shared by every table of the book.
TABLE_STYLES = [
    {"selector": "caption", "props": "caption-side: top; font-weight: bold; text-align: left;"},
    {"selector": "th.col_heading", "props": "text-align: center;"},
    {"selector": "td", "props": "text-align: left; padding: 0 0.8em; vertical-align: top;"},
    {"selector": "th.row_heading", "props": "text-align: left; vertical-align: top;"},
]


#: How a missing value is shown in a table of the book (with a note in the caption).
MISSING = "\u2013"


def _number(precision: int | None):
    """A formatter: whole floats without decimals, others with ``precision`` (default 2)."""

    def fmt(x):
        if isinstance(x, float | np.floating) and float(x).is_integer() and precision is None:
            return f"{x:.0f}"
        if isinstance(x, float | np.floating):
            return f"{x:.{2 if precision is None else precision}f}"
        return x

    return fmt


#: Human labels of the identifiers that the package's frames use as column or index names.
#: Identifiers not listed here are labelled by :func:`human_label`'s rules.
LABELS = {
    "n": "n",
    "percent": "%",
    "ci_low": "CI, low",
    "ci_high": "CI, high",
    "reliability_alpha": "Alpha",
    "codebook_version": "Codebook version",
    "code_group": "Code group",
    "attached_to": "Attached to",
    "prestige_tier": "Prestige tier",
    "career_stage": "Career stage",
    "age_band": "Age band",
    "endowed_chair": "Endowed chair",
}

_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
_WORD = re.compile(r"[a-z]+")


def human_label(name, labels: dict | None = None, *, words: bool = True):
    """The label a reader sees for a column or index name ``name``.

    ``labels`` (then :data:`LABELS`) first; else an identifier in snake_case becomes words:
    a leading ``n_`` is dropped (``n_codings`` -> "Codings"), a trailing ``_id`` too
    (``participant_id`` -> "Participant"), ``percent`` becomes "(%)"
    (``reliability_percent`` -> "Reliability (%)", ``percent_agreement`` -> "Agreement (%)"),
    underscores become spaces and the first letter is capitalised. With ``words``, a single
    lowercase word is capitalised too (``gender`` -> "Gender"). Anything else (numbers,
    "v1", "(all codes)", labels already human) is returned unchanged.
    """
    for table in (labels or {}, LABELS):
        if isinstance(name, str) and name in table:
            return table[name]
    if not isinstance(name, str):
        return name
    if _IDENTIFIER.fullmatch(name):
        parts = name.split("_")
        if parts[0] == "n" and len(parts) > 1:
            parts = parts[1:]
        if parts[-1] == "id" and len(parts) > 1:
            parts = parts[:-1]
        pct = "percent" in parts
        parts = [w for w in parts if w != "percent"] or ["percent"]
        text = " ".join(parts)
        text = text[0].upper() + text[1:]
        return f"{text} (%)" if pct and parts != ["percent"] else text
    if words and _WORD.fullmatch(name):
        return name[0].upper() + name[1:]
    return name


def captioned(
    frame: pd.DataFrame,
    caption: str,
    *,
    hide_index: bool = False,
    precision: int | None = None,
    labels: dict | None = None,
):
    """``frame`` as a pandas Styler with ``caption`` on top, in the book's one table style.

    Floats are shown with ``precision`` decimals (default: none for whole numbers, 2 for
    others); a missing value is shown as an en dash (:data:`MISSING`: say in the caption
    what it means); ``hide_index`` drops the row labels. Headers are shown with human labels
    (:func:`human_label`): column labels and the names of the axes; row labels too, where
    they are identifiers (``being_mentored`` -> "Being mentored"). ``labels`` maps
    identifiers to the labels to show instead (e.g. :func:`code_labels` for code names).
    Only the display changes: the Styler's ``data`` keeps the frame's columns. Raises
    :class:`~qda.errors.QDAError` for an empty caption: every table of the book has one.
    The only table helper of the book: every displayed table goes through it.
    """
    if not isinstance(frame, pd.DataFrame):
        raise QDAError(None, "frame", f"is a {type(frame).__name__}, not a DataFrame", "pass a DataFrame")
    if not str(caption).strip():
        raise QDAError(None, "caption", "is empty", "say what the table shows (and that it is synthetic)")
    shown = frame.rename_axis(
        index=[human_label(n, labels) for n in frame.index.names],
        columns=[human_label(n, labels) for n in frame.columns.names],
    )
    sty = (
        shown.style.set_caption(caption)
        .set_table_styles(TABLE_STYLES)
        .format(_number(precision), na_rep=MISSING)
        .format_index(lambda v: human_label(v, labels), axis="columns")
        .format_index(lambda v: human_label(v, labels, words=False), axis="index")
    )
    return sty.hide(axis="index") if hide_index else sty


def code_labels(study: Study, version: str | None = None) -> dict[str, str]:
    """``{code slug: code name}`` from the codebook (of ``version``, else every version, the
    latest name winning), for ``captioned(..., labels=code_labels(study))``."""
    cb = study.codebook
    if version is not None:
        cb = cb.loc[cb["version"].astype(str) == str(version)]
    return dict(zip(cb["code"].astype(str), cb["name"].astype(str), strict=False))


#: Leadership posts the study names (dean, chair, center director); "other" is not one of them.
NAMED_LEADERSHIP = ("dean", "chair", "center director")


def stated_patterns(study: Study) -> pd.DataFrame:
    """The participant patterns the study states in words, checked on ``study``.

    One row per pattern (Murphy et al. 2022, Table 1 and text): the share of women and of
    men (percent of each gender) with an MD or MD-PhD degree, with a PhD, in a named
    leadership post (:data:`NAMED_LEADERSHIP`), with an endowed chair; and the number of
    academic ranks at which each gender has at least one participant. Columns
    ``pattern``, ``women``, ``men``, ``unit`` ("% of gender" or "ranks"), ``expected``
    (the stated direction: "men > women", "women > men", or "all N ranks") and ``holds``
    (bool: the data show the stated direction, strictly; or every rank present for both).
    """
    p = study.participants
    need = ["gender", "degree", "leadership", "endowed_chair", "rank"]
    missing = [c for c in need if c not in p.columns]
    if missing:
        raise QDAError(
            study.root, "participants", f"missing column(s) {', '.join(missing)}", "add them (see data/README.md)"
        )
    g = p["gender"].astype(str)
    if not {"woman", "man"} <= set(g):
        raise QDAError(
            study.root,
            "participants",
            "does not hold both genders 'woman' and 'man'",
            "the stated patterns compare women with men",
        )
    flags = {
        "MD or MD-PhD degree": (p["degree"].astype(str).isin(["MD", "MD-PhD"]), "men > women"),
        "PhD degree": (p["degree"].astype(str) == "PhD", "women > men"),
        "Leadership post (dean, chair, center director)": (
            p["leadership"].astype(str).isin(NAMED_LEADERSHIP),
            "men > women",
        ),
        "Endowed chair": (p["endowed_chair"].astype(bool), "men > women"),
    }
    rows = []
    for name, (flag, expected) in flags.items():
        share = 100.0 * flag.groupby(g).mean()
        w, m = float(share["woman"]), float(share["man"])
        rows.append(
            {
                "pattern": name,
                "women": w,
                "men": m,
                "unit": "% of gender",
                "expected": expected,
                "holds": (m > w) if expected == "men > women" else (w > m),
            }
        )
    ranks = p["rank"].astype(str)
    n_ranks = ranks.nunique()
    present = ranks.groupby(g).nunique()
    rows.append(
        {
            "pattern": "Every academic rank represented",
            "women": float(present["woman"]),
            "men": float(present["man"]),
            "unit": "ranks",
            "expected": f"all {n_ranks} ranks",
            "holds": bool(present["woman"] == n_ranks and present["man"] == n_ranks),
        }
    )
    return pd.DataFrame(rows)


# Hand-written: a sentence ends at ., ! or ? followed by a space (the passages' style);
# no library is needed for so simple a split, and abbreviations do not occur in them.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def checklist_view(frame: pd.DataFrame) -> pd.DataFrame:
    """A reporting checklist (:func:`qda.study.reporting.read_checklist`) with readable labels.

    ``where`` is shown as the chapter's file name and its label (``codebook``,
    ``limitations, limitations-corpus``) or as ``Paper: ...``; missing places as empty.
    """

    def place(where: str) -> str:
        if where.startswith("paper:"):
            return "Paper: " + where.removeprefix("paper:").strip()
        file, _, label = where.partition("#")
        name = file.removeprefix("chapters/").removesuffix(".md")
        return f"{name}, {label}" if label else name

    return pd.DataFrame(
        {
            "No.": frame["number"],
            "Topic": frame["topic"],
            "Item (our paraphrase)": frame["item"],
            "Where it is answered": [place(w) for w in frame["where"]],
            "Status": frame["status"],
            "Why not, or note": frame["reason"],
        }
    )


def shorten(text: str, max_sentences: int | None) -> str:
    """The first ``max_sentences`` sentences of ``text``, then " [...]" if any were cut.

    A sentence ends at ".", "!" or "?" followed by white space. ``None`` returns
    ``text`` unchanged. Used to keep sensitive excerpts (theme 4) brief.
    """
    if max_sentences is None:
        return text
    if not isinstance(max_sentences, (int, np.integer)) or max_sentences < 1:
        raise QDAError(
            None, "max_sentences", f"{max_sentences!r} is not a whole number >= 1", "pass max_sentences=2 or None"
        )
    parts = _SENTENCE_END.split(text.strip())
    return text.strip() if len(parts) <= max_sentences else " ".join(parts[:max_sentences]) + " [...]"


def excerpt_table(frame: pd.DataFrame, caption: str, max_sentences: int | None = None, subtheme: bool = False):
    """Passages from :func:`excerpts` as a captioned table for the book.

    Columns ``Participant``, ``Gender``, ``Career stage``, (``Sub-theme`` if
    ``subtheme``) and ``Passage`` (the text, cut by :func:`shorten` to
    ``max_sentences``); left-aligned, no index. ``caption`` should say the
    passages are synthetic; a caption that does not raises
    :class:`~qda.errors.QDAError`, so no invented passage is shown unlabelled.
    """
    need = ["participant_id", "gender", "career_stage", "text"] + (["subtheme"] if subtheme else [])
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise QDAError(None, "frame", f"missing column(s) {', '.join(missing)}", "pass the frame from excerpts()")
    if "synthetic" not in caption.lower():
        raise QDAError(None, "caption", "does not say the passages are synthetic", "write 'synthetic' in the caption")
    out = pd.DataFrame(
        {
            "Participant": frame["participant_id"].astype(str),
            "Gender": frame["gender"].astype(str),
            "Career stage": frame["career_stage"].astype(str),
        }
    )
    if subtheme:
        out["Sub-theme"] = frame["subtheme"].astype(str).str.replace("_", " ")
    out["Passage"] = [shorten(t, max_sentences) for t in frame["text"].astype(str)]
    return captioned(out, caption, hide_index=True)


# ---------------------------------------------------------------- from codes to themes
#: Human labels for the values and column names that the theme tables carry.
LABELS = {
    "woman": "Women",
    "man": "Men",
    "giving": "Mentoring others",
    "receiving": "Being mentored",
    "both": "Both sides",
    "unspecified": "Unspecified",
    "total": "Total",
    "all": "All",
    "any theme": "Any theme",
    "gender": "Gender",
    "career_stage": "Career stage",
    "rank": "Rank",
    "role": "Side of the mentoring tie",
    "subtheme": "Sub-theme",
    "characteristic": "",
    "level": "",
    "role_modeling": "Role modelling",
    "pregnancy_childcare": "Pregnancy and childcare",
    "participants": "Participants who spoke to the theme",
    "spoke to the theme": "Spoke to the theme",
    "all participants": "All participants",
    "code": "Code",
    "theme": "Theme",
    "decision": "Decision",
    "primary_caregiver": "Primary caregiver",
    "True": "Yes",
    "False": "No",
    "outcome": "What the team made of it",
} | {k: v for k, v in _LEVEL_LABEL.items() if k in ("early", "mid", "senior")}


def _label(x) -> str:
    if isinstance(x, int | np.integer):
        return f"Theme {x}"
    return LABELS.get(str(x), str(x))


def human_labels(frame: pd.DataFrame, names: dict | None = None) -> pd.DataFrame:
    """``frame`` with its row and column labels (and their names) made readable.

    Slugs of :data:`LABELS` become words ("woman" -> "Women", "giving" ->
    "Mentoring others"), integer labels become "Theme n", and ``names`` (e.g. code
    slug -> code name from the codebook) is applied first. The values are not
    touched. For display only.
    """
    names = names or {}
    out = frame.rename(index=lambda x: names.get(x, _label(x)), columns=lambda x: names.get(x, _label(x)))
    out.index = out.index.set_names([_label(n) if n else n for n in out.index.names])
    out.columns = out.columns.set_names([_label(n) if n else n for n in out.columns.names])
    return out


def code_names(study: Study) -> dict:
    """Code slug -> code name, from the codebook (its last version listed wins)."""
    cb = study.codebook
    return dict(zip(cb["code"].astype(str), cb["name"].astype(str), strict=False))


def _dated(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")


def memo_table(memos: pd.DataFrame, caption: str, max_sentences: int | None = None, theme: bool = True):
    """Memos from :func:`qda.analysis.theme_building.memo_trail` as a captioned table.

    Columns ``Date``, ``Analyst``, (``Theme``), ``Decision`` and ``Memo`` (cut by
    :func:`shorten` to ``max_sentences``), in the frame's order (date order).
    """
    need = ["date", "coder", "theme", "decision", "text"]
    missing = [c for c in need if c not in memos.columns]
    if missing:
        raise QDAError(None, "memos", f"missing column(s) {', '.join(missing)}", "pass the frame from memo_trail()")
    out = pd.DataFrame({"Date": _dated(memos), "Analyst": memos["coder"].astype(str)})
    if theme:
        out["Theme"] = memos["theme"].astype(int).map(lambda t: f"Theme {t}")
    out["Decision"] = memos["decision"].astype(str)
    out["Memo"] = [shorten(str(t), max_sentences) for t in memos["text"]]
    return captioned(out, caption, hide_index=True)


def exemplar_table(exemplars: pd.DataFrame, caption: str, max_sentences: int | None = None):
    """Exemplars from :func:`qda.analysis.theme_building.theme_exemplars` as a captioned table.

    Columns ``Participant``, ``Gender``, ``Career stage``, ``Passage`` (cut by
    :func:`shorten` to ``max_sentences``; marked "(outside the theme's segments)"
    where ``in_theme_segment`` is False) and ``Why the analyst chose it``
    (the rationale, with the analyst). The caption must say the passages are
    synthetic, as for :func:`excerpt_table`.
    """
    need = ["participant_id", "gender", "career_stage", "text", "rationale", "coder", "in_theme_segment"]
    missing = [c for c in need if c not in exemplars.columns]
    if missing:
        raise QDAError(None, "exemplars", f"missing column(s) {', '.join(missing)}", "pass theme_exemplars()")
    if "synthetic" not in caption.lower():
        raise QDAError(None, "caption", "does not say the passages are synthetic", "write 'synthetic' in the caption")
    passage = [
        shorten(str(t), max_sentences) + ("" if inside else " (outside the theme's segments)")
        for t, inside in zip(exemplars["text"], exemplars["in_theme_segment"], strict=True)
    ]
    out = pd.DataFrame(
        {
            "Participant": exemplars["participant_id"].astype(str),
            "Gender": exemplars["gender"].astype(str),
            "Career stage": exemplars["career_stage"].astype(str),
            "Passage": passage,
            "Why the analyst chose it": exemplars["rationale"].astype(str)
            + " ("
            + exemplars["coder"].astype(str)
            + ")",
        }
    )
    return captioned(out, caption, hide_index=True)


def case_table(cases: pd.DataFrame, caption: str, max_sentences: int | None = 2):
    """Segments cited by memos (:func:`qda.analysis.theme_building.negative_cases`) as a captioned table.

    Columns ``Memo``, ``Segment``, ``Gender``, ``Career stage``, ``Theme given``
    ("none" where the analysts left the segment without a theme) and ``Passage``
    (cut by :func:`shorten`). The caption must say the passages are synthetic.
    """
    need = ["memo_id", "segment_id", "gender", "career_stage", "themes", "text"]
    missing = [c for c in need if c not in cases.columns]
    if missing:
        raise QDAError(None, "cases", f"missing column(s) {', '.join(missing)}", "pass negative_cases()")
    if "synthetic" not in caption.lower():
        raise QDAError(None, "caption", "does not say the passages are synthetic", "write 'synthetic' in the caption")
    out = pd.DataFrame(
        {
            "Memo": cases["memo_id"].astype(str),
            "Segment": cases["segment_id"].astype(str),
            "Gender": cases["gender"].astype(str),
            "Career stage": cases["career_stage"].astype(str),
            "Theme given": cases["themes"].astype(str).replace("", "none").str.replace(";", " and "),
            "Passage": [shorten(str(t), max_sentences) for t in cases["text"]],
        }
    )
    return captioned(out, caption, hide_index=True)
