"""Tests of qda.synthetic.facts: passage identification, reuse, noise, harasser references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_analysis_set import tiny_study

from qda.errors import QDAError
from qda.synthetic import facts as cf
from qda.synthetic import generate as gen


# ------------------------------------------------------------ template inversion
def _bank():
    from qda.study.codebook import codes_in_version, read_codebook

    return gen.load_bank(gen.PASSAGE_DIR, set(codes_in_version(read_codebook(gen.PACKAGE_CODEBOOK), "final")))


def test_every_filled_passage_matches_its_own_template_and_no_other():
    """Fill every bank passage with random slot values (as the generator does) and invert it."""
    bank = _bank()
    compiled = [(p.id, *cf._template_regex(p.parts)) for p in bank]
    rng = np.random.default_rng(7)
    fields = gen.CLINICAL_FIELDS + gen.RESEARCH_FIELDS
    for p in bank:
        for _ in range(4):
            v = {k: opts[rng.integers(len(opts))] for k, opts in gen.SLOTS.items()}
            v["field"] = fields[rng.integers(len(fields))]
            text = " ".join(gen._fill(x, v) for x in p.parts)
            hits = [pid for pid, rx, lit in compiled if lit in text and rx.fullmatch(text)]
            assert hits == [p.id], (p.id, text[:80], hits)


def test_article_before_a_slot_may_change():
    rx, _ = cf._template_regex([["I was a ", "trainee", " then."]])
    assert rx.fullmatch("I was an intern then.")
    assert rx.fullmatch("I was a fellow then.")
    assert not rx.fullmatch("I was the fellow then.")
    rx2, _ = cf._template_regex([["", "trainee", " came to see me."]])
    assert rx2.fullmatch("Postdoc came to see me.")


def test_not_synthetic_raises():
    st = tiny_study()
    st.synthetic = False
    with pytest.raises(QDAError, match="not the synthetic corpus"):
        cf.identify_passages(st)


def test_with_passage_needs_columns(study):
    with pytest.raises(QDAError, match="missing column"):
        cf.with_passage(study, pd.DataFrame({"transcript_id": ["P001"]}))


# ------------------------------------------------------------ harasser references
def test_harasser_references_counts_whole_words():
    st = tiny_study()
    text = st.transcripts.loc[2, "text"]
    span = "He said his hem; she and her man. Theme"  # 'hem', 'Theme', 'shed' are not words of the lists
    span = span + " " * (40 - len(span))
    st.transcripts.loc[2, "text"] = text[:100] + span + text[140:]
    r = cf.harasser_references(st)
    assert len(r) == 1 and r.loc[0, "participant_id"] == "P003" and r.loc[0, "gender"] == "woman"
    assert r.loc[0, "n_masculine"] == 3  # He, his, man
    assert r.loc[0, "n_feminine"] == 2  # she, her
    assert bool(r.loc[0, "refers_to_man"])


def test_harasser_references_false_without_a_man():
    st = tiny_study()
    text = st.transcripts.loc[2, "text"]
    st.transcripts.loc[2, "text"] = text[:100] + "x" * 40 + text[140:]
    assert not cf.harasser_references(st)["refers_to_man"].any()


# ------------------------------------------------------------ noise table
def test_coder_noise_is_the_generator_setting():
    t = cf.coder_noise()
    assert set(t["round"]) == set(gen.NOISE)
    assert len(t) == sum(len(v) for v in gen.NOISE.values())
    miss = t.loc[t["parameter"] == "miss"].set_index("round")["value"]
    assert miss["2"] > miss["3"] > miss["full"]
    assert (t["meaning"] != "").all()


# ------------------------------------------------------------ on the synthetic corpus
def test_identify_passages_accounts_for_every_answer(study):
    ident = cf.identify_passages(study)
    from qda.study.units import speaker_turns

    turns = speaker_turns(study.transcripts)
    assert len(ident) == int((turns["speaker"] == "PARTICIPANT").sum())
    assert not (ident["category"] == "unmatched").any()
    n = len(study.transcripts)
    assert (ident["category"] == "consent").sum() == n and (ident["category"] == "closing").sum() == n
    # the theme answers found by inversion are exactly the theme codings of themes.csv
    found = ident.loc[ident["theme"] > 0, ["transcript_id", "start", "end", "theme"]]
    th = study.themes[["transcript_id", "start", "end", "theme"]].astype({"theme": "int64"})
    pd.testing.assert_frame_equal(
        found.sort_values(["transcript_id", "start"], ignore_index=True),
        th.sort_values(["transcript_id", "start"], ignore_index=True),
        check_dtype=False,
    )
    # harassment passages only in women's interviews
    g = study.participants.set_index("participant_id")["gender"].astype(str)
    assert set(ident.loc[ident["theme"] == 4, "participant_id"].map(g)) == {"woman"}


def test_passage_reuse_is_consistent(study):
    r = cf.passage_reuse(study)
    bank = cf.bank_passages(study)
    cats = r.drop(index="all")
    assert r.loc["all", "n_bank"] == len(bank) == cats["n_bank"].sum()
    assert r.loc["all", "n_answers"] == cats["n_answers"].sum()
    ident = cf.identify_passages(study)
    assert r.loc["all", "n_answers"] == (ident["passage_id"] != "").sum()
    assert r.loc["all", "mean_reuse"] == pytest.approx(r.loc["all", "n_answers"] / r.loc["all", "n_used"])
    assert (r["n_used"] <= r["n_bank"]).all() and (r["max_reuse"] >= r["mean_reuse"]).all()


def test_with_passage_recovers_theme3_subthemes(study):
    """An independent check: the bank's sub-theme of theme-3 answers equals themes.csv's."""
    w = cf.with_passage(study, study.themes)
    t3 = w.loc[w["theme"] == 3]
    assert (t3["bank_subtheme"] == t3["subtheme"]).all()
    assert set(w.loc[w["theme"] == 1, "bank_subtheme"]) == {"learning_secondhand", "learning_firsthand"}
    outside = cf.with_passage(study, pd.DataFrame({"transcript_id": ["P001"], "start": [0]}))
    assert outside.loc[0, "passage_id"] == "" and outside.loc[0, "bank_subtheme"] == ""


def test_every_harassment_answer_refers_to_a_man(study):
    r = cf.harasser_references(study)
    assert len(r) == int((study.themes["theme"] == 4).sum()) > 0
    assert r["refers_to_man"].all() and (r["gender"] == "woman").all()


def test_interviewer_wording(study):
    w = cf.interviewer_wording(study)
    from qda.study.units import speaker_turns

    turns = speaker_turns(study.transcripts)
    assert w["n_turns"].sum() == int((turns["speaker"] == "INTERVIEWER").sum())
    assert len(w) < w["n_turns"].sum()
    assert (w["n_turns"].diff().dropna() <= 0).all()


def test_bank_subtheme_by_theme1_splits_by_gender(study):
    t = cf.bank_subtheme_by(study, 1, labels={"learning_secondhand": "second-hand"})
    assert list(t.index) == ["learning_firsthand", "second-hand", "participants"]
    # the bank gives second-hand passages to men and first-hand ones to women
    assert t.loc["second-hand", "woman"] == 0 and t.loc["learning_firsthand", "man"] == 0
    w = cf.with_passage(study, study.themes)
    men = w.loc[(w["bank_subtheme"] == "learning_secondhand")].merge(
        study.transcripts[["transcript_id", "participant_id"]]
    )
    assert t.loc["second-hand", "man"] == men["participant_id"].nunique()
    assert "frequen" in t.attrs["caveat"]
    with pytest.raises(QDAError, match="no theme"):
        cf.bank_subtheme_by(study, 9)
