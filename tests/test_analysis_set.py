"""Tests of qda.analysis.analysis_set on a hand-built study, and on the synthetic corpus when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qda.analysis.analysis_set import SEGMENT_COLUMNS, analysis_set, analysis_set_summary
from qda.errors import QDAError
from qda.study.model import Study
from qda.study.schema import coerce

DATA = Path(os.environ.get("QDA_DATA") or Path(__file__).resolve().parents[1] / "data")


def _text(tid: str, n: int = 400) -> str:
    words = [f"{tid.lower()}w{k:03d}" for k in range(n)]
    return (" ".join(words))[:n]


def tiny_study() -> Study:
    """Three participants, three transcripts, hand-placed codings and themes.

    P001: GI [10,50) x mentoring [30,80) -> segment [10,80) giving;
          being_mentored [200,240) x GI [220,260) -> segment [200,260) receiving.
    P002: GI [0,40) x mentoring [20,60) and x being_mentored [30,50) -> [0,60) both.
    P003: GI [0,20) and mentoring [100,150): 80 characters apart, no overlap.
    Round-2 codings of P001 by another coder must be ignored by round="full".
    """
    part = pd.DataFrame(
        {
            "participant_id": ["P001", "P002", "P003"],
            "gender": ["woman", "man", "woman"],
            "institution_id": ["I01", "I02", "I01"],
            "rank": ["assistant", "full", "associate"],
            "degree": ["PhD", "MD", "MD-PhD"],
            "leadership": ["none", "chair", "none"],
            "endowed_chair": ["no", "yes", "no"],
            "age_band": ["30-39", "60+", "40-49"],
            "career_stage": ["early", "senior", "mid"],
            "field": ["a", "b", "c"],
            "interview_mode": ["in person"] * 3,
            "interview_minutes": ["60", "58", "61"],
            "primary_caregiver": ["no", "no", "yes"],
        }
    )
    ids = ["P001", "P002", "P003"]
    texts = [_text(t) for t in ids]
    tr = pd.DataFrame(
        {
            "transcript_id": ids,
            "participant_id": ids,
            "path": "",
            "text": texts,
            "n_chars": [len(t) for t in texts],
            "n_words": [len(t.split()) for t in texts],
        }
    )
    rows = [
        ("P001", "a", "full", 10, 50, "gender_inequities"),
        ("P001", "b", "full", 30, 80, "mentoring"),
        ("P001", "b", "full", 70, 100, "mentoring"),  # overlaps no GI coding
        ("P001", "b", "full", 200, 240, "being_mentored"),
        ("P001", "a", "full", 220, 260, "gender_inequities"),
        ("P002", "a", "full", 0, 40, "gender_inequities"),
        ("P002", "b", "full", 20, 60, "mentoring"),
        ("P002", "b", "full", 30, 50, "being_mentored"),
        ("P003", "a", "full", 0, 20, "gender_inequities"),
        ("P003", "b", "full", 100, 150, "mentoring"),
        ("P001", "c", "2", 300, 350, "gender_inequities"),
        ("P001", "c", "2", 310, 360, "mentoring"),
        ("P002", "a", "full", 100, 200, "career_path"),
    ]
    cod = pd.DataFrame(
        [
            {
                "coding_id": f"K{k:02d}",
                "transcript_id": t,
                "coder": c,
                "round": r,
                "start": str(s),
                "end": str(e),
                "code": code,
                "codebook_version": "final",
            }
            for k, (t, c, r, s, e, code) in enumerate(rows)
        ]
    )
    th = pd.DataFrame(
        [
            ("TH1", "P001", 0, 70, 1, "Learning", "", "x"),
            ("TH2", "P001", 60, 90, 2, "Helping", "", "x"),
            ("TH3", "P002", 0, 60, 3, "Balancing", "Role modeling", "x"),
            ("TH4", "P003", 0, 30, 3, "Balancing", "Supporting", "x"),
            ("TH5", "P003", 100, 140, 4, "Harassment", "", "x"),
        ],
        columns=["theme_coding_id", "transcript_id", "start", "end", "theme", "theme_name", "subtheme", "coder"],
    )
    cb_rows = []
    for v in ("v1", "final"):
        for code, name, parent, group in [
            ("mentorship", "Experiences of mentorship", "", "Mentorship"),
            ("mentoring", "Mentoring (giving)", "mentorship", "Mentorship"),
            ("being_mentored", "Being mentored", "mentorship", "Mentorship"),
            ("gender_inequities", "Gender inequities", "", "Inequities"),
        ]:
            cb_rows.append(
                {
                    "version": v,
                    "code": code,
                    "name": name,
                    "parent": parent,
                    "code_group": group,
                    "definition": f"def {code} {v}",
                    "inclusion": f"inc {code}",
                    "exclusion": f"exc {code}",
                    "example": "",
                    "origin": "deductive",
                    "introduced_round": "1",
                    "refined_round": "",
                    "color": "#000000",
                }
            )
    return Study(
        participants=coerce(part, "participants", Path("participants")),
        transcripts=coerce(tr, "transcripts", Path("transcripts")),
        codebook=coerce(pd.DataFrame(cb_rows), "codebook", Path("codebook")),
        codings=coerce(cod, "codings", Path("codings")),
        themes=coerce(th.astype(str), "themes", Path("themes")),
    )


def test_segments_by_hand():
    st = tiny_study()
    seg = analysis_set(st)
    assert list(seg.columns) == SEGMENT_COLUMNS
    got = {(r.transcript_id, r.start, r.end, r.role) for r in seg.itertuples()}
    assert got == {("P001", 10, 80, "giving"), ("P001", 200, 260, "receiving"), ("P002", 0, 60, "both")}
    row = seg.set_index(["transcript_id", "start"]).loc[("P001", 10)]
    assert row["text"] == st.text("P001", 10, 80)
    assert row["gender"] == "woman" and row["career_stage"] == "early" and row["rank"] == "assistant"
    # theme 1 shares 60 characters with [10,80), theme 2 only 20
    assert row["theme"] == 1 and row["theme_name"] == "Learning" and row["themes"] == "1;2"
    assert row["coding_ids"] == "K00;K01"
    both = seg.loc[seg["transcript_id"] == "P002"].iloc[0]
    assert both["theme"] == 3 and both["subtheme"] == "Role modeling" and both["participant_id"] == "P002"
    lone = seg.loc[seg["start"] == 200].iloc[0]
    assert pd.isna(lone["theme"]) and lone["theme_name"] == "" and lone["themes"] == ""
    assert seg["segment_id"].is_unique and seg["segment_id"].iloc[0] == "P001-S001"


def test_theme_join_does_not_depend_on_row_order():
    st = tiny_study()
    a = analysis_set(st)
    st.themes = st.themes.iloc[::-1]  # index 4, 3, 2, 1, 0
    pd.testing.assert_frame_equal(analysis_set(st), a)


def test_intersection_span_and_round_and_coders():
    st = tiny_study()
    inter = analysis_set(st, span="intersection")
    assert set(zip(inter["start"], inter["end"], strict=False)) == {(30, 50), (220, 240), (20, 40)}
    all_rounds = analysis_set(st, round=None)
    assert len(all_rounds) == 4 and ((all_rounds["start"] == 300) & (all_rounds["end"] == 360)).any()
    only_a = analysis_set(st, coders=["a"])  # mentorship codes are coder b's: nothing co-occurs
    assert only_a.empty and list(only_a.columns) == SEGMENT_COLUMNS
    with pytest.raises(QDAError):
        analysis_set(st, round="7")
    with pytest.raises(QDAError):
        analysis_set(st, coders=["nobody"])
    with pytest.raises(QDAError):
        analysis_set(st, span="intersection", rule="within", within=5)
    with pytest.raises(QDAError):
        analysis_set(st, span="middle")


def test_within_rule_reaches_further():
    st = tiny_study()
    seg = analysis_set(st, rule="within", within=80)
    p3 = seg.loc[seg["transcript_id"] == "P003"]
    assert list(zip(p3["start"], p3["end"], p3["role"], strict=False)) == [(0, 150, "giving")]
    assert p3["themes"].iloc[0] == "3;4"
    assert len(analysis_set(st, rule="within", within=79).query("transcript_id == 'P003'")) == 0


def test_overlapping_spans_merge_into_one_segment():
    st = tiny_study()
    extra = pd.DataFrame(
        [
            {
                "coding_id": "X1",
                "transcript_id": "P001",
                "coder": "a",
                "round": "full",
                "start": 75,
                "end": 210,
                "code": "gender_inequities",
                "codebook_version": "final",
            }
        ]
    )
    st.codings = pd.concat([st.codings, coerce(extra, "codings", Path("x"))], ignore_index=True)
    seg = analysis_set(st)
    p1 = seg.loc[seg["transcript_id"] == "P001"]
    # X1 co-occurs with mentoring [30,80), [70,100) and being_mentored [200,240): one long segment
    assert list(zip(p1["start"], p1["end"], p1["role"], strict=False)) == [(10, 260, "both")]


def test_custom_analysis_code_names():
    st = tiny_study()
    st.codings["code"] = st.codings["code"].replace({"gender_inequities": "gi", "mentoring": "giving"})
    st.analysis_codes = {**st.analysis_codes, "gender_inequities": "gi", "mentoring": "giving"}
    assert len(analysis_set(st)) == 3
    del st.analysis_codes["being_mentored"]
    with pytest.raises(QDAError):
        analysis_set(st)


def test_summary_counts_every_participant():
    st = tiny_study()
    s = analysis_set_summary(st)
    assert list(s["participant_id"]) == ["P001", "P002", "P003"]
    assert list(s["n_segments"]) == [2, 1, 0]
    assert list(s["n_chars"]) == [130, 60, 0]
    assert list(s["n_both"]) == [0, 1, 0] and list(s["covered"]) == [True, True, False]
    assert s.attrs["share_covered"] == pytest.approx(2 / 3)


# ---------------------------------------------------------------- synthetic corpus
# the `study` fixture of conftest.py loads data/ once per session (skips where absent)


def test_synthetic_analysis_set_covers_all_transcripts_and_themes(study):
    seg = analysis_set(study)
    assert seg["transcript_id"].nunique() == len(study.transcripts) == 104
    assert set(seg["theme"].dropna().astype(int)) == set(study.themes["theme"].astype(int)) == {1, 2, 3, 4}
    assert set(seg["role"]) <= {"giving", "receiving", "both"}
    assert {"giving", "receiving"} <= set(seg["role"])
    assert (seg["end"] > seg["start"]).all()
    assert (seg["text"].str.len() == seg["end"] - seg["start"]).all()
    assert set(seg["gender"]) == {"woman", "man"}
    summary = analysis_set_summary(study, segments=seg)
    assert summary.attrs["share_covered"] == 1.0 and summary["covered"].all()


def test_synthetic_segments_do_not_overlap(study):
    seg = analysis_set(study).sort_values(["transcript_id", "start"])
    nxt = seg.groupby("transcript_id")["start"].shift(-1)
    assert (nxt.isna() | (nxt >= seg["end"])).all()
    assert np.isfinite(seg["start"].to_numpy(dtype=float)).all()


def test_synthetic_same_turn_segments_contain_overlap_segments(study):
    """Codings that share a character also share a speaker turn, so every overlap segment
    lies inside a same-turn segment (spans are unions, merged)."""
    a = analysis_set(study)
    b = analysis_set(study, rule="same_turn")
    by_t = {t: g for t, g in b.groupby("transcript_id")}
    for r in a.itertuples():
        g = by_t[r.transcript_id]
        assert ((g["start"] <= r.start) & (g["end"] >= r.end)).any(), r.segment_id


def test_analysis_code_c_equals_a_brute_force_count(study):
    """ATLAS.ti's c = n12 / (n1 + n2 - n12), counted here by looping over pairs of codings."""
    from qda.analysis.analysis_set import analysis_code_c

    full = study.codings[study.codings["round"] == "full"]

    def brute_c(codes_b):
        a = full[full["code"] == "gender_inequities"]
        b = full[full["code"].isin(codes_b)]
        pairs = 0
        for t, ga in a.groupby("transcript_id"):
            gb = b[b["transcript_id"] == t]
            for s1, e1 in zip(ga["start"], ga["end"], strict=True):
                for s2, e2 in zip(gb["start"], gb["end"], strict=True):
                    pairs += max(s1, s2) < min(e1, e2)
        return pairs / (len(a) + len(b) - pairs)

    got = analysis_code_c(study)
    assert got["mentoring"] == pytest.approx(brute_c(["mentoring"]))
    assert got["being mentored"] == pytest.approx(brute_c(["being_mentored"]))
