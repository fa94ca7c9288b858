"""Computed facts about the SYNTHETIC corpus, for the book's limitations chapter.

The synthetic transcripts are composed from a finite bank of hand-written passages
(``qda/synthetic/passages``), their slots filled from each participant's profile, and
coded by simulated coders (:mod:`qda.synthetic.generate`). What that construction
implies (passages reused across transcripts, themes present by design, one
interviewer's wording, coder disagreement set by chosen rates) is measured here from
the corpus itself, not asserted from the generator's intentions.

The central step, :func:`identify_passages`, recovers which bank passage each
participant answer was built from. It turns every passage into a regular expression
(the literal text escaped, each ``{slot}`` a lazy ``(.+?)`` group, "a"/"an" before a
slot either way, as the generator's ``_fill`` chooses the article) and full-matches
it against the answer. No library does this template inversion; it is written here.

These functions describe the synthetic corpus only; on a real project they raise
:class:`~qda.errors.QDAError`, because real answers come from no passage bank.
Reference for the design being mirrored: Murphy et al., Academic Medicine 2022,
doi:10.1097/ACM.0000000000004388.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from qda.analysis.themes import theme_by, theme_names
from qda.errors import QDAError
from qda.study.codebook import codes_in_version, read_codebook
from qda.study.model import Study
from qda.study.units import speaker_turns
from qda.synthetic.generate import (
    CONSENT_REPLIES,
    NOISE,
    PACKAGE_CODEBOOK,
    PASSAGE_DIR,
    load_bank,
    load_guide,
)

#: Columns of :func:`bank_passages`.
BANK_COLUMNS = [
    "passage_id",
    "file",
    "category",
    "theme",
    "subtheme",
    "speaker_gender",
    "guide_section",
    "primary_caregiver",
    "n_sentences",
    "n_words",
]
#: Columns of :func:`identify_passages`.
IDENTIFIED_COLUMNS = [
    "transcript_id",
    "participant_id",
    "turn",
    "unit_id",
    "start",
    "end",
    "passage_id",
    "category",
    "theme",
    "subtheme",
    "speaker_gender",
]

# Words that refer to a man or to a woman, for :func:`harasser_references`.
_MASCULINE = re.compile(r"\b(he|him|his|himself|man)\b", re.IGNORECASE)
_FEMININE = re.compile(r"\b(she|her|hers|herself|woman)\b", re.IGNORECASE)
_SLOT = re.compile(r"\{(\w+)\}")
_ARTICLE_END = re.compile(r"(^|\s)([Aa])n? $")


def _require_synthetic(study: Study) -> None:
    if not study.synthetic:
        raise QDAError(
            study.root,
            "corpus_facts",
            "the study is not the synthetic corpus",
            "use these functions on qda.load_study() of the generated data/ folder",
        )


def _load_bank(study: Study | None, folder: str | Path | None):
    """The generator's parsed bank (list of Passage) and its guide."""

    folder = Path(folder) if folder is not None else PASSAGE_DIR
    if study is not None and len(study.codebook):
        known = set(codes_in_version(study.codebook, "final"))
    else:
        known = set(codes_in_version(read_codebook(PACKAGE_CODEBOOK), "final"))
    return load_bank(folder, known), load_guide(folder)


def bank_passages(study: Study | None = None, folder: str | Path | None = None) -> pd.DataFrame:
    """The passage bank as a table: one row per hand-written passage.

    Columns :data:`BANK_COLUMNS`: ``passage_id``, ``file``, ``category`` (theme1-4
    or a general category such as career_path), ``theme`` (1-4; 0 for general
    passages), ``subtheme`` (the bank's sub-theme label, e.g. learning_secondhand,
    systems_reviews, role_modeling; "" for general passages), ``speaker_gender``
    (woman, man or any), ``guide_section``, ``primary_caregiver`` (the passage says
    the speaker is the family's primary caregiver), ``n_sentences`` and ``n_words``
    (of the template, slots counted as one word each). ``folder`` defaults to the
    package's bank; the codes are checked against ``study``'s final codebook.
    """
    bank, _ = _load_bank(study, folder)
    rows = [
        {
            "passage_id": p.id,
            "file": p.file,
            "category": p.category,
            "theme": int(p.theme),
            "subtheme": p.subtheme if p.theme else "",
            "speaker_gender": p.gender,
            "guide_section": p.section,
            "primary_caregiver": bool(p.caregiver),
            "n_sentences": len(p.parts),
            "n_words": int(sum(len(" ".join(x).split()) for x in p.parts)),
        }
        for p in bank
    ]
    return pd.DataFrame(rows, columns=BANK_COLUMNS)


def _template_regex(parts: list[list[str]]) -> tuple[re.Pattern, str]:
    """(full-match regex, longest literal chunk) of one passage (rule in the module docstring)."""
    sentences = []
    literals = []
    for pieces in parts:
        out = []
        for k, piece in enumerate(pieces):
            if k % 2:  # a slot
                out.append("(.+?)")
                continue
            literals.append(piece)
            nxt_is_slot = k + 1 < len(pieces)
            m = _ARTICLE_END.search(piece) if nxt_is_slot else None
            if m:  # "a {slot}" may have become "an {slot}", and the reverse
                out.append(re.escape(piece[: m.start(2)]) + "[" + m.group(2) + "]n? ")
            else:
                out.append(re.escape(piece))
        sentences.append("".join(out))
    return re.compile(" ".join(sentences), re.DOTALL), max(literals, key=len)


def identify_passages(study: Study, folder: str | Path | None = None) -> pd.DataFrame:
    """Which bank passage each participant answer of the synthetic corpus was built from.

    One row per participant turn (:func:`qda.codings.speaker_turns`), columns
    :data:`IDENTIFIED_COLUMNS`. An answer is matched to the passage whose template
    regex full-matches its text (module docstring); the generator's consent replies
    and the guide's closing answers get ``category`` "consent" / "closing" and an
    empty ``passage_id``; an answer matching nothing gets "unmatched" (kept, never
    dropped). ``theme`` is 0 for non-theme answers. Raises
    :class:`~qda.errors.QDAError` if the study is not synthetic or an answer matches
    two passages (the bank would then be ambiguous).
    """
    _require_synthetic(study)
    bank, guide = _load_bank(study, folder)
    compiled = [(p, *_template_regex(p.parts)) for p in bank]
    consent, closing = set(CONSENT_REPLIES), set(guide["closing_answers"])
    turns = speaker_turns(study.transcripts)
    turns = turns.loc[turns["speaker"] == "PARTICIPANT"].reset_index(drop=True)
    texts = study.texts()
    t2p = study.transcripts.set_index("transcript_id")["participant_id"]
    rows = []
    for tid, s, e in zip(turns["transcript_id"], turns["start"].tolist(), turns["end"].tolist(), strict=False):
        text = texts[tid][s:e]
        hits = [p for p, rx, lit in compiled if lit in text and rx.fullmatch(text)]
        if len(hits) > 1:
            raise QDAError(
                study.root,
                f"transcript {tid}, characters {s}-{e}",
                f"matches passages {', '.join(p.id for p in hits)}",
                "make those bank passages differ outside their slots",
            )
        if hits:
            p = hits[0]
            rows.append((p.id, p.category, int(p.theme), p.subtheme if p.theme else "", p.gender))
        else:
            cat = "consent" if text in consent else "closing" if text in closing else "unmatched"
            rows.append(("", cat, 0, "", ""))
    out = pd.concat(
        [
            turns[["transcript_id", "turn", "unit_id", "start", "end"]],
            pd.DataFrame(rows, columns=["passage_id", "category", "theme", "subtheme", "speaker_gender"]),
        ],
        axis=1,
    )
    out["participant_id"] = out["transcript_id"].map(t2p).astype(str)
    out["theme"] = out["theme"].astype("int64")
    out = out[IDENTIFIED_COLUMNS]
    return out


def passage_reuse(study: Study, folder: str | Path | None = None) -> pd.DataFrame:
    """How often the bank's passages are reused across the synthetic transcripts.

    One row per bank ``category`` plus a row "all" (bank passages only; consent and
    closing replies are excluded): ``n_bank`` (passages in the bank), ``n_used``
    (distinct passages that occur), ``n_answers`` (answers built from the category),
    ``mean_reuse`` = ``n_answers / n_used`` (answers per distinct passage used),
    ``max_reuse`` (answers of the most reused passage) and ``n_transcripts_max``
    (transcripts holding that passage). A mean reuse of 5 means a reader meets each
    passage, slot fills aside, about five times across the corpus.
    """
    bank = bank_passages(study, folder)
    ident = identify_passages(study, folder)
    used = ident.loc[ident["passage_id"] != ""]
    per_passage = used.groupby("passage_id").agg(n=("turn", "size"), n_t=("transcript_id", "nunique"))
    per_passage = per_passage.join(bank.set_index("passage_id")["category"])

    def summary(b: pd.DataFrame, pp: pd.DataFrame) -> dict:
        top = pp.sort_values(["n", "n_t"], ascending=False).head(1)
        return {
            "n_bank": len(b),
            "n_used": len(pp),
            "n_answers": int(pp["n"].sum()),
            "mean_reuse": float(pp["n"].mean()) if len(pp) else float("nan"),
            "max_reuse": int(top["n"].iloc[0]) if len(top) else 0,
            "n_transcripts_max": int(top["n_t"].iloc[0]) if len(top) else 0,
        }

    rows = {
        cat: summary(b, per_passage.loc[per_passage["category"] == cat])
        for cat, b in bank.groupby("category", sort=True)
    }
    rows["all"] = summary(bank, per_passage)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "category"
    return out


def with_passage(study: Study, frame: pd.DataFrame, folder: str | Path | None = None) -> pd.DataFrame:
    """``frame`` (with transcript_id, start) plus the bank passage its start falls in.

    Adds ``passage_id``, ``category`` and ``bank_subtheme`` (the bank's sub-theme
    label, e.g. learning_secondhand vs learning_firsthand in theme 1, warnings_advice
    vs systems_reviews in theme 2) from the participant answer containing ``start``
    (``turn.start <= start < turn.end``); rows outside every answer get "".
    Works for ``study.themes`` and for :func:`qda.analysis_set.analysis_set`.
    """
    missing = [c for c in ("transcript_id", "start") if c not in frame.columns]
    if missing:
        raise QDAError(
            None, "frame", f"missing column(s) {', '.join(missing)}", "pass study.themes or an analysis_set() frame"
        )
    ident = identify_passages(study, folder).sort_values(["transcript_id", "start"], ignore_index=True)
    out = frame.copy()
    out["_k"] = np.arange(len(out))
    left = out[["_k", "transcript_id", "start"]].astype({"start": "int64"}).sort_values("start")
    right = (
        ident[["transcript_id", "start", "end", "passage_id", "category", "subtheme"]]
        .rename(columns={"start": "turn_start"})
        .astype({"turn_start": "int64"})
        .sort_values("turn_start")
    )
    m = pd.merge_asof(left, right, left_on="start", right_on="turn_start", by="transcript_id", direction="backward")
    inside = m["turn_start"].notna() & (m["start"] < m["end"])
    m.loc[~inside, ["passage_id", "category", "subtheme"]] = ""
    m = m.set_index("_k").reindex(out["_k"])
    out["passage_id"] = m["passage_id"].fillna("").astype(str).to_numpy()
    out["category"] = m["category"].fillna("").astype(str).to_numpy()
    out["bank_subtheme"] = m["subtheme"].fillna("").astype(str).to_numpy()
    return out.drop(columns="_k")


def harasser_references(study: Study) -> pd.DataFrame:
    """Words referring to a man or a woman in each theme-4 (harassment) answer.

    One row per theme-4 coding of ``study.themes``: ``transcript_id``,
    ``participant_id``, ``gender`` (the speaker's), ``n_masculine`` (matches of
    he/him/his/himself/man), ``n_feminine`` (she/her/hers/herself/woman, whole
    words, any case) and ``refers_to_man`` (``n_masculine > 0``). This is a
    documented heuristic, not a parser: the bank's rule that every harasser
    described is a man holds by construction (passages/README.md), and what can be
    computed is that every harassment answer does refer to a man; feminine words
    also occur because the speaker's trainee or an office's staff member may be a
    woman. The study reports that every harasser described was a man (Murphy et al.
    2022, theme 4).
    """
    th = study.themes
    sub = th.loc[th["theme"].astype(int) == 4, ["transcript_id", "start", "end"]]
    sub = study.with_text(sub)
    t2p = study.transcripts.set_index("transcript_id")["participant_id"]
    sub["participant_id"] = sub["transcript_id"].map(t2p).astype(str)
    g = study.participants.set_index("participant_id")["gender"].astype(str)
    sub["gender"] = sub["participant_id"].map(g)
    sub["n_masculine"] = sub["text"].map(lambda t: len(_MASCULINE.findall(t))).astype("int64")
    sub["n_feminine"] = sub["text"].map(lambda t: len(_FEMININE.findall(t))).astype("int64")
    sub["refers_to_man"] = sub["n_masculine"] > 0
    return sub[["transcript_id", "participant_id", "gender", "n_masculine", "n_feminine", "refers_to_man"]].reset_index(
        drop=True
    )


#: What each simulated-noise parameter of the generator means.
NOISE_MEANING = {
    "miss": "probability that a coder leaves out a true code",
    "confuse": "probability of swapping a code for its neighbouring code",
    "double": "probability of adding the neighbouring code as a second code",
    "jitter": "probability of moving a coding's boundaries",
    "words": "largest boundary move, in words",
    "whole": "probability of coding the whole answer instead of the relevant sentences",
}


def coder_noise() -> pd.DataFrame:
    """The simulated coders' departure rates, per coding round, as a tidy table.

    Rows are the generator's :data:`qda.synthetic.generate.NOISE` settings: columns
    ``round`` ("1", "2", "3", "full"), ``parameter`` (miss, confuse, double, jitter,
    words, whole), ``value`` and ``meaning`` (:data:`NOISE_MEANING`). These rates
    were *chosen* by the project, so the corpus's disagreement reflects a choice,
    not real coders; in the full round the analysis codes are also protected from
    misses (data/README.md, "How the codings were made").
    """

    rows = [
        {"round": r, "parameter": k, "value": float(v), "meaning": NOISE_MEANING.get(k, "")}
        for r, params in NOISE.items()
        for k, v in params.items()
    ]
    return pd.DataFrame(rows, columns=["round", "parameter", "value", "meaning"])


def interviewer_wording(study: Study) -> pd.DataFrame:
    """The interviewer's turns grouped by their exact wording.

    One row per distinct interviewer text: ``text``, ``n_turns`` (turns with that
    wording) and ``n_transcripts`` (transcripts where it occurs), most frequent
    first. Every synthetic interviewer turn comes from one guide
    (``interview_guide.md``) with slots filled, so a few wordings recur across all
    interviews: one voice, where real interviews differ in phrasing, follow-ups and
    rapport.
    """
    turns = speaker_turns(study.transcripts)
    turns = study.with_text(turns.loc[turns["speaker"] == "INTERVIEWER"])
    out = turns.groupby("text").agg(n_turns=("turn", "size"), n_transcripts=("transcript_id", "nunique"))
    return out.sort_values(["n_turns", "n_transcripts"], ascending=False).reset_index()


def bank_subtheme_by(study: Study, theme: int, by: str = "gender", labels: dict | None = None) -> pd.DataFrame:
    """Participants by the bank's sub-themes of one theme, as a :func:`qda.themes.theme_by` table.

    The bank labels each theme passage with a sub-theme (theme 1: learning_secondhand
    / learning_firsthand; theme 2: warnings_advice / systems_reviews; theme 3 as in
    themes.csv). :func:`with_passage` recovers it for every theme coding, and
    :func:`qda.themes.theme_by` (``level="subtheme"``) counts distinct participants
    per sub-theme and level of ``by``. Returns the rows of ``theme`` (index: the
    sub-theme, renamed by ``labels`` if given) plus the "participants" row, with
    the caveat in ``.attrs``; :func:`qda.plots.theme_by_gender` draws it.
    """

    names = theme_names(study)
    if theme not in names.index:
        raise QDAError(study.root, "theme", f"no theme {theme!r}", f"use one of {', '.join(map(str, names.index))}")
    w = with_passage(study, study.themes)
    tab = theme_by(study, by=by, segments=w.assign(subtheme=w["bank_subtheme"]), level="subtheme")
    attrs = dict(tab.attrs)
    rows = [k for k in tab.index if k[0] == names[theme]] + [("participants", "")]
    out = tab.loc[rows]
    out.index = pd.Index([k[1] if k[0] != "participants" else "participants" for k in rows], name="subtheme")
    if labels:
        out = out.rename(index=labels)
    out.attrs.update(attrs)
    return out
