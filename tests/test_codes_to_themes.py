"""From codes to themes: code x theme table, thematic map, memos, negative cases, exemplars.

On a hand-built study (every expected number worked out by hand in the comments) and,
where data/ exists, on the synthetic corpus against counts recomputed by plain loops.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_analysis_set import tiny_study  # noqa: E402

from qda.analysis import theme_building, themes  # noqa: E402
from qda.errors import QDAError  # noqa: E402
from qda.show import plots, tables  # noqa: E402
from qda.study.schema import coerce  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def study_with_records():
    """tiny_study plus an advice code, memos, theme memos and exemplars.

    Themes (tiny_study): P001 t1 [0,70), t2 [60,90); P002 t3 [0,60) "Role modeling";
    P003 t3 [0,30) "Supporting", t4 [100,140). Analysis-set segments: P001-S001 [10,80)
    giving, P001-S002 [200,260) receiving (no theme), P002-S001 [0,60) both.
    Added full-round advice codings: P001 [65,68) (inside t1 and t2), P002 [55,70)
    (touches t3 at 55-59); a round-2 advice coding on P003 [0,30) must not count.
    """
    st = tiny_study()
    extra = [
        ("X1", "P001", "a", "full", 65, 68, "advice_strategies"),
        ("X2", "P002", "a", "full", 55, 70, "advice_strategies"),
        ("X3", "P003", "c", "2", 0, 30, "advice_strategies"),
    ]
    cols = ["coding_id", "transcript_id", "coder", "round", "start", "end", "code"]
    add = pd.DataFrame(extra, columns=cols).assign(codebook_version="final")
    st.codings = pd.concat([st.codings, coerce(add.astype(str), "codings", Path("c"))], ignore_index=True)
    memo_cols = ["memo_id", "coder", "date", "attached_to", "code", "coding_id", "text"]
    memos = [
        ("M1", "a", "2020-03-01", "project", "", "", "Keep it. P001-S001 shows the channel."),
        ("M2", "a", "2020-01-01", "code", "mentoring", "", "Renamed the working label."),
        ("M3", "b", "2020-02-01", "project", "", "", "Left P001-S002 out; P009-S001 too. Deviant."),
    ]
    st.memos = coerce(pd.DataFrame(memos, columns=memo_cols), "memos", Path("memos"))
    st.theme_memos = coerce(
        pd.DataFrame(
            {"memo_id": ["M1", "M2", "M3"], "theme": ["1", "1", "3"], "decision": ["keep", "rename", "negative case"]}
        ),
        "theme_memos",
        Path("tm"),
    )
    st.exemplars = coerce(
        pd.DataFrame(
            {
                "exemplar_id": ["E1", "E2"],
                "theme": ["1", "4"],
                "transcript_id": ["P001", "P003"],
                "start": ["5", "0"],
                "end": ["15", "10"],
                "coder": ["a", "b"],
                "rationale": ["typical", "outside the set"],
            }
        ),
        "exemplars",
        Path("ex"),
    )
    return st


def test_segment_codes_use_the_overlap_rule_and_the_round():
    long = theme_building.segment_codes(study_with_records())
    advice = long.loc[long["code"] == "advice_strategies"]
    # [65,68) lies in t1 [0,70) and t2 [60,90); [55,70) touches P002's t3 [0,60); round 2 ignored
    assert sorted(zip(advice["transcript_id"], advice["theme"], strict=True)) == [("P001", 1), ("P001", 2), ("P002", 3)]
    # GI [10,50) is in P001's t1 only; t2 [60,90) starts after it ends
    gi = long.loc[(long["code"] == "gender_inequities") & (long["transcript_id"] == "P001")]
    assert gi["theme"].tolist() == [1]


def test_code_theme_table_counts_participants_not_segments():
    st = study_with_records()
    # a second theme-1 segment of P001 that also carries advice: still one participant
    more = pd.DataFrame([["TH9", "P001", 64, 69, 1, "Learning", "", "x"]], columns=st.themes.columns)
    st.themes = pd.concat([st.themes, more.astype(st.themes.dtypes.to_dict())], ignore_index=True)
    t = theme_building.code_theme_table(st)
    assert list(t.columns) == [1, 2, 3, 4, "any theme"]
    assert t.loc["advice_strategies"].tolist() == [1, 1, 1, 0, 2]
    assert t.loc["participants"].tolist() == [1, 1, 2, 1, 3]
    assert "gender_inequities" not in t.index and "frequen" in t.attrs["caveat"]
    full = theme_building.code_theme_table(st, analysis_codes=True)
    assert full.loc["gender_inequities"].tolist() == [1, 0, 2, 0, 3]  # P002 and P003 in theme 3
    assert full.index[-1] == "participants"


def test_codes_in_theme_and_variation():
    st = study_with_records()
    c = theme_building.codes_in_theme(st, 3, by="gender")
    assert list(c.columns) == ["woman", "man"]
    assert c.loc["advice_strategies"].tolist() == [0, 1] and c.loc["participants"].tolist() == [1, 1]
    v = theme_building.theme_variation(st, 3, rows="gender", columns="role")
    # P002 (man) overlaps the "both" segment; P003 (woman) overlaps no analysis-set segment
    assert v.loc["man", "both"] == 1 and v.loc["woman", "unspecified"] == 1
    assert v.loc["total", "total"] == 2
    s = theme_building.theme_variation(st, 3, columns="subtheme")
    assert s.loc["woman", "Supporting"] == 1 and s.loc["man", "Role modeling"] == 1
    with pytest.raises(QDAError):
        theme_building.theme_variation(st, 3, columns="shoe_size")


def test_thematic_map_edges():
    e = theme_building.thematic_map_edges(study_with_records())
    got = {(r.source, r.target, r.kind, r.participants) for r in e.itertuples()}
    assert got == {
        ("advice_strategies", "t1", "code -> theme", 1),
        ("advice_strategies", "t2", "code -> theme", 1),
        ("advice_strategies", "t3:Role modeling", "code -> sub-theme", 1),
        ("t3:Role modeling", "t3", "sub-theme -> theme", 1),
        ("t3:Supporting", "t3", "sub-theme -> theme", 1),
    }
    assert set(e["target_label"]) >= {"Theme 1: Learning", "Role modeling"}
    assert e.loc[e["source"] == "advice_strategies", "source_label"].iloc[0] == "advice_strategies"  # not in codebook
    assert len(theme_building.thematic_map_edges(study_with_records(), min_participants=2)) == 2  # sub-theme edges only


def test_memo_trail_negative_cases_and_unassigned():
    st = study_with_records()
    trail = theme_building.memo_trail(st, 1)
    assert trail["memo_id"].tolist() == ["M2", "M1"]  # date order, not id order
    assert trail["decision"].tolist() == ["rename", "keep"] and trail["segments"].tolist() == ["", "P001-S001"]
    neg = theme_building.negative_cases(st)
    assert neg["segment_id"].tolist() == ["P001-S002", "P009-S001"]
    assert neg["found"].tolist() == [True, False] and neg["themes"].tolist() == ["", ""]
    assert neg["outcome"].tolist() == ["left without a theme", "not in the set"]
    assert neg["text"].iloc[0] == st.text("P001", 200, 260)
    un = theme_building.unassigned_segments(st)
    assert un["segment_id"].tolist() == ["P001-S002"] and un["memos"].tolist() == ["M3"]
    with pytest.raises(QDAError, match="decision"):
        theme_building.memo_trail(st, decision="maybe")


def test_theme_exemplars():
    st = study_with_records()
    ex = theme_building.theme_exemplars(st)
    assert ex["exemplar_id"].tolist() == ["E1", "E2"]
    assert ex["in_theme_segment"].tolist() == [True, False]  # E2 [0,10) misses t4 [100,140)
    assert ex["text"].iloc[0] == st.text("P001", 5, 15) and ex["gender"].tolist() == ["woman", "woman"]
    assert theme_building.theme_exemplars(st, 4)["exemplar_id"].tolist() == ["E2"]


def test_thematic_map_figure_reads_without_colour():
    e = theme_building.thematic_map_edges(study_with_records())
    fig = plots.thematic_map(e)
    ax = fig.axes[0]
    markers = {c.get_paths()[0].vertices.shape[0] for c in ax.collections}
    assert len(ax.collections) == 3 and len(markers) >= 2  # three node kinds, distinct shapes
    texts = [t.get_text() for t in ax.texts]
    assert "Role modeling" in texts and any(t.startswith("Theme 3") for t in texts)
    widths = sorted({round(ln.get_linewidth(), 2) for ln in ax.lines})
    assert widths == [pytest.approx(8.0)]  # every edge has 1 participant: the widest line
    assert any("not segments" in t.get_text() for t in fig.texts)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == ["code", "sub-theme", "theme"]
    with pytest.raises(QDAError):
        plots.thematic_map(e.iloc[0:0])


def test_display_tables():
    st = study_with_records()
    t = tables.human_labels(theme_building.code_theme_table(st), tables.code_names(st))
    assert list(t.columns)[:2] == ["Theme 1", "Theme 2"] and t.index[-1] == "Participants who spoke to the theme"
    html = tables.memo_table(theme_building.memo_trail(st), "Memos (synthetic)").to_html()
    assert "2020-01-01" in html and "rename" in html
    ex = theme_building.theme_exemplars(st)
    with pytest.raises(QDAError, match="synthetic"):
        tables.exemplar_table(ex, "Exemplars")
    assert "outside the theme" in tables.exemplar_table(ex, "Synthetic exemplars").to_html()
    assert "none" in tables.case_table(theme_building.negative_cases(st), "Synthetic cases").to_html()


# ---------------------------------------------------------------- synthetic corpus
def test_synthetic_code_theme_table_against_a_plain_loop(study):
    t = theme_building.code_theme_table(study)
    full = study.codings.loc[study.codings["round"].astype(str) == "full"]
    p_of = dict(zip(study.transcripts["transcript_id"], study.transcripts["participant_id"], strict=True))
    for code, theme in (("advice_strategies", 2), ("awareness_of_inequity", 1), ("parental_leave_childcare", 3)):
        spans = full.loc[full["code"] == code, ["transcript_id", "start", "end"]].itertuples(index=False)
        by_t: dict[str, list] = {}
        for tid, s, e in spans:
            by_t.setdefault(tid, []).append((s, e))
        seen = {
            p_of[r.transcript_id]
            for r in study.themes.loc[study.themes["theme"] == theme].itertuples()
            if any(s < r.end and r.start < e for s, e in by_t.get(r.transcript_id, []))
        }
        assert t.loc[code, theme] == len(seen)
    spoke = themes.who_spoke(study, 1).loc["spoke to the theme", ("all", "total")]
    assert t.loc["participants", 1] == spoke
    assert (t.drop(index="participants") <= t.loc["participants"]).all().all()


def test_synthetic_records_hang_together(study):
    memos = theme_building.memo_trail(study)
    assert memos["date"].is_monotonic_increasing and set(memos["theme"]) == {1, 2, 3, 4}
    ex = theme_building.theme_exemplars(study)
    assert ex["rationale"].str.len().gt(0).all() and set(ex["theme"]) == {1, 2, 3, 4}
    edges = theme_building.thematic_map_edges(study, top=5)
    assert (edges.groupby("target").size() <= 5).all()
    plots.thematic_map(edges).canvas.draw()


def test_synthetic_memo_citations_resolve(study):
    """Every segment id a theme memo cites names a segment of the current analysis set."""
    cited = theme_building.memo_segments(study, theme_building.memo_trail(study))
    assert len(cited) > 0
    assert cited["found"].all(), sorted(cited.loc[~cited["found"], "segment_id"])
