"""Tests of qda.analysis.themes, qda.show.tables and qda.show.plots (hand-built study; synthetic corpus when present)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from test_analysis_set import tiny_study  # noqa: E402

from qda.analysis.analysis_set import analysis_set  # noqa: E402
from qda.analysis.cooccurrence import c_coefficient, cooccurrence_matrix  # noqa: E402
from qda.analysis.themes import CAVEAT, excerpts, theme_by, theme_names  # noqa: E402
from qda.errors import QDAError  # noqa: E402
from qda.show import plots  # noqa: E402
from qda.show.tables import codebook_table, table1, table1_counts, table1_styler  # noqa: E402

DATA = Path(os.environ.get("QDA_DATA") or Path(__file__).resolve().parents[1] / "data")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- themes
def test_theme_names():
    names = theme_names(tiny_study())
    assert list(names.index) == [1, 2, 3, 4]
    assert names[3] == "Balancing"


def test_theme_by_counts_participants_not_segments():
    st = tiny_study()
    # P003 gets a second theme-3 passage: still one participant
    extra = pd.DataFrame([["TH6", "P003", 200, 220, 3, "Balancing", "Supporting", "x"]], columns=st.themes.columns)
    st.themes = pd.concat([st.themes, extra.astype(st.themes.dtypes.to_dict())], ignore_index=True)
    t = theme_by(st, by="gender")
    assert list(t.columns) == ["woman", "man", "total"]
    assert t.loc["Balancing", "woman"] == 1 and t.loc["Balancing", "man"] == 1 and t.loc["Balancing", "total"] == 2
    assert t.loc["Learning", "woman"] == 1 and t.loc["Learning", "man"] == 0
    assert list(t.loc["participants"]) == [2, 1, 3]
    assert (
        t.attrs["caveat"].startswith(CAVEAT)
        and "synthetic" in t.attrs["caveat"]
        and "frequen" in CAVEAT
        and "Murphy" in CAVEAT
    )
    cs = theme_by(st, by="career_stage")
    assert list(cs.columns) == ["early", "mid", "senior", "total"]
    assert cs.loc["Harassment", "mid"] == 1
    sub = theme_by(st, by="gender", level="subtheme")
    assert sub.loc[("Balancing", "Supporting"), "woman"] == 1
    assert sub.loc[("Balancing", "Role modeling"), "man"] == 1


def test_theme_by_on_segments():
    st = tiny_study()
    t = theme_by(st, by="gender", segments=analysis_set(st))
    assert t.loc["Learning", "woman"] == 1 and t.loc["Balancing", "man"] == 1
    assert t.loc["Harassment", "total"] == 0  # no analysis-set segment carries theme 4
    with pytest.raises(QDAError):
        theme_by(st, by="shoe_size")
    with pytest.raises(QDAError):
        theme_by(st, segments=pd.DataFrame({"x": [1]}))


def test_excerpts_filter_and_seed():
    st = tiny_study()
    ex = excerpts(st, 3, n=5)
    assert list(ex.columns) == [
        "participant_id",
        "gender",
        "career_stage",
        "theme",
        "theme_name",
        "subtheme",
        "transcript_id",
        "start",
        "end",
        "text",
    ]
    assert set(ex["participant_id"]) == {"P002", "P003"} and len(ex) == 2
    assert ex.loc[ex["participant_id"] == "P002", "text"].iloc[0] == st.text("P002", 0, 60)
    women = excerpts(st, "Balancing", gender="woman")
    assert list(women["participant_id"]) == ["P003"] and women["subtheme"].iloc[0] == "Supporting"
    assert excerpts(st, 3, career_stage="senior")["participant_id"].tolist() == ["P002"]
    assert len(excerpts(st, 3, n=1, seed=1)) == 1
    with pytest.raises(QDAError):
        excerpts(st, 9)
    with pytest.raises(QDAError):
        excerpts(st, 1, gender="nonbinary")


def test_excerpts_seeded_sample_is_reproducible_and_spreads_over_participants():
    st = tiny_study()
    rows = [[f"TH{10 + k}", "P003", 150 + 10 * k, 155 + 10 * k, 1, "Learning", "", "x"] for k in range(10)]
    st.themes = pd.concat(
        [st.themes, pd.DataFrame(rows, columns=st.themes.columns).astype(st.themes.dtypes.to_dict())], ignore_index=True
    )
    a = excerpts(st, 1, n=2, seed=3)
    assert a.equals(excerpts(st, 1, n=2, seed=3))
    assert set(a["participant_id"]) == {"P001", "P003"}  # one per participant before repeats
    draws = {tuple(excerpts(st, 1, n=3, seed=s)["start"]) for s in range(8)}
    assert len(draws) > 1


# ---------------------------------------------------------------- tables
def test_table1_counts_and_percentages():
    st = tiny_study()
    tidy = table1_counts(st)
    w = tidy.loc[tidy["gender"] == "woman"]
    for _, grp in w.loc[w["variable"] != "endowed_chair"].groupby("variable"):
        assert grp["percent"].sum() == pytest.approx(100.0)
        assert grp["n"].sum() == 2
    t = table1(st)
    assert list(t.columns) == ["Women (n = 2)", "Men (n = 1)", "All (n = 3)"]
    assert t.loc[("Academic rank", "Assistant professor"), "Women (n = 2)"] == "1 (50)"
    assert t.loc[("Degree", "MD"), "Men (n = 1)"] == "1 (100)"
    assert t.loc[("Endowed chair", "Yes"), "Women (n = 2)"] == "0 (0)"
    assert t.loc[("Leadership position", "Department chair"), "All (n = 3)"] == "1 (33)"
    assert list(t.index.get_level_values(0).unique()) == [
        "Academic rank",
        "Degree",
        "Leadership position",
        "Endowed chair",
        "Age, years",
        "Career stage",
    ]


def test_table1_styler_renders_caption():
    html = table1_styler(tiny_study()).to_html()
    assert "Participant characteristics by gender" in html and "synthetic" in html
    assert "1 (50)" in html


def test_codebook_table():
    st = tiny_study()
    cb = codebook_table(st)
    assert list(cb.columns) == ["Code", "Group", "Definition", "Inclusion", "Exclusion"]
    assert cb.loc["mentoring", "Code"] == "Experiences of mentorship > Mentoring (giving)"
    assert cb.loc["gender_inequities", "Definition"] == "def gender_inequities final"
    assert list(cb["Group"]) == ["Mentorship"] * 3 + ["Inequities"]
    assert codebook_table(st, "v1").loc["mentoring", "Definition"] == "def mentoring v1"
    with pytest.raises(QDAError):
        codebook_table(st, "v9")


# ---------------------------------------------------------------- plots
def _texts(fig: Figure) -> list[str]:
    out = [t.get_text() for t in fig.texts]
    if fig._suptitle is not None:
        out.append(fig._suptitle.get_text())
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    return out


def test_cooccurrence_heatmap():
    st = tiny_study()
    m = cooccurrence_matrix(st.codings.query("round == 'full'"))
    fig = plots.cooccurrence_heatmap(m)
    assert isinstance(fig, Figure)
    txt = _texts(fig)
    assert "Code co-occurrence" in txt and "Code" in txt
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(m.index)
    annotated = [t.get_text() for t in ax.texts]
    assert len(annotated) == len(m) ** 2 - len(m)  # diagonal masked
    fig2 = plots.cooccurrence_heatmap(c_coefficient(m), title="c")
    assert any("." in t.get_text() for t in fig2.axes[0].texts)
    with pytest.raises(QDAError):
        plots.cooccurrence_heatmap(pd.DataFrame({"a": [1, 2]}))


def test_agreement_by_code():
    frame = pd.DataFrame(
        {
            "code": ["gi", "gi", "mentoring", "mentoring"] * 2,
            "round": ["2", "3", "2", "3"] * 2,
            "value": [0.55, 0.81, 0.62, 0.9, 0.7, 0.9, 0.8, 0.95],
            "measure": ["Krippendorff's alpha"] * 4 + ["percent agreement"] * 4,
        }
    )
    fig = plots.agreement_by_code(frame)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["Krippendorff's alpha", "percent agreement"]
    assert "Intercoder agreement by code and round" in _texts(fig)
    points = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
    assert points == 4
    drawn = [[tuple(ln.get_xdata()) for ln in ax.lines if len(ln.get_xdata())] for ax in fig.axes]
    assert drawn == [[(0.667, 0.667), (0.8, 0.8)], []]  # thresholds on alpha only
    with pytest.raises(QDAError):
        plots.agreement_by_code(frame.drop(columns="measure"))


def test_theme_by_gender_plot():
    st = tiny_study()
    t = theme_by(st, by="gender")
    fig = plots.theme_by_gender(t)
    ax = fig.axes[0]
    heights = sorted(round(p.get_width()) for p in ax.patches if p.get_width() > 0)
    assert heights == sorted(v for v in t.drop(index="participants")[["woman", "man"]].to_numpy().ravel() if v > 0)
    labels = [x.get_text() for x in ax.get_legend().get_texts()]
    assert labels == ["Women (n = 2)", "Men (n = 1)"]
    assert ax.get_xlabel() == "Participants (count)" and ax.get_title()
    assert any("not segments" in x.get_text() for x in fig.texts)


def test_participants_by_rank_degree():
    fig = plots.participants_by_rank_degree(tiny_study())
    assert [ax.get_title() for ax in fig.axes] == ["Women (n = 2)", "Men (n = 1)"]
    total = sum(p.get_height() for ax in fig.axes for p in ax.patches if np.isfinite(p.get_height()))
    assert total == 3
    assert fig.axes[0].get_xlabel() == "Academic rank"
    w, h = fig.get_size_inches()
    assert 6 <= w <= 16 and 3 <= h <= 10


def test_style_is_restored_and_palette_is_okabe_ito():
    before = dict(plt.rcParams)
    with plots.use_style():
        cycle = [to_hex(c["color"]) for c in plt.rcParams["axes.prop_cycle"]]
        assert cycle == [x.lower() for x in plots.OKABE_ITO]
    assert plt.rcParams["axes.titlesize"] == before["axes.titlesize"]
    assert plt.rcParams["axes.prop_cycle"] == before["axes.prop_cycle"]


# ---------------------------------------------------------------- synthetic corpus
# the `study` fixture of conftest.py loads data/ once per session (skips where absent)


def test_synthetic_table1_is_52_52(study):
    t = table1(study)
    assert list(t.columns) == ["Women (n = 52)", "Men (n = 52)", "All (n = 104)"]
    tidy = table1_counts(study)
    rank = tidy.loc[(tidy["variable"] == "rank") & (tidy["gender"] != "total")]
    assert rank.groupby("gender")["n"].sum().to_dict() == {"man": 52, "woman": 52}


def test_synthetic_themes_and_figures_render(study):
    t = theme_by(study, by="gender")
    assert len(t) == 5 and (t.loc["participants", ["woman", "man"]] == 52).all()
    assert (t.drop(index="participants")["total"] > 0).all()
    for fig in (
        plots.theme_by_gender(t),
        plots.participants_by_rank_degree(study),
        plots.cooccurrence_heatmap(cooccurrence_matrix(study.codings.query("round == 'full'"))),
    ):
        main = fig.axes[0]
        assert isinstance(fig, Figure) and main.get_xlabel() and main.get_ylabel()
        assert main.get_title() or (fig._suptitle is not None and fig._suptitle.get_text())
        fig.canvas.draw()
    ex = excerpts(study, 4, gender="woman", n=3, seed=0)
    assert len(ex) == 3 and (ex["gender"] == "woman").all()
    assert codebook_table(study).shape[1] == 5


# ---------------------------------------------------------------- excerpt and table stylers
def test_shorten_cuts_at_sentence_ends():
    from qda.show.tables import shorten

    t = "First one. Second? Third! Fourth."
    assert shorten(t, 2) == "First one. Second? [...]"
    assert shorten(t, 4) == t and shorten(t, None) == t
    with pytest.raises(QDAError, match="max_sentences"):
        shorten(t, 0)


def test_excerpt_styler_requires_synthetic_label_and_renders():
    from qda.show.tables import excerpt_table as excerpt_styler

    ex = excerpts(tiny_study(), 3, n=2, seed=1)
    with pytest.raises(QDAError, match="synthetic"):
        excerpt_styler(ex, "Passages about family")
    html = excerpt_styler(ex, "Synthetic passages, theme 3", subtheme=True).to_html()
    assert "Synthetic passages, theme 3" in html and "Sub-theme" in html and "Passage" in html
    with pytest.raises(QDAError, match="missing column"):
        excerpt_styler(ex.drop(columns="text"), "synthetic")


def test_table_styler_needs_a_caption():
    from qda.show.tables import captioned as table_styler

    t = theme_by(tiny_study(), by="gender")
    assert "My caption" in table_styler(t, "My caption").to_html()
    with pytest.raises(QDAError, match="caption"):
        table_styler(t, "  ")


# ---------------------------------------------------------------- book helpers (methods chapters)
def test_stated_patterns_on_tiny_study():
    from qda.show.tables import stated_patterns

    out = stated_patterns(tiny_study()).set_index("pattern")
    # women: P001 PhD assistant, P003 MD-PhD associate; man: P002 MD full chair, endowed
    assert out.loc["MD or MD-PhD degree", ["women", "men"]].tolist() == [50.0, 100.0]
    assert out.loc["PhD degree", ["women", "men"]].tolist() == [50.0, 0.0]
    assert out.loc["Endowed chair", "men"] == 100.0 and out.loc["Endowed chair", "women"] == 0.0
    assert out.loc[["MD or MD-PhD degree", "PhD degree", "Endowed chair"], "holds"].all()
    ranks = out.loc["Every academic rank represented"]
    assert (ranks["women"], ranks["men"], ranks["expected"], ranks["holds"]) == (2.0, 1.0, "all 3 ranks", False)


def test_stated_patterns_detects_a_reversed_pattern():
    from qda.show.tables import stated_patterns

    st = tiny_study()
    st.participants = st.participants.assign(leadership=["dean", "none", "none"])  # the woman leads
    out = stated_patterns(st).set_index("pattern")
    assert not out.loc["Leadership post (dean, chair, center director)", "holds"]
    st.participants = st.participants.assign(gender=["woman"] * 3)
    with pytest.raises(QDAError, match="both genders"):
        stated_patterns(st)


def test_synthetic_stated_patterns_hold(study):
    from qda.show.tables import stated_patterns

    assert stated_patterns(study)["holds"].all()


def test_captioned_styler():
    from qda.show.tables import captioned

    frame = pd.DataFrame({"code": ["x"], "value": [0.123456]})
    html = captioned(frame, "A caption (synthetic)", hide_index=True).to_html()
    assert "A caption (synthetic)" in html and "0.12" in html and "0.1235" not in html
    with pytest.raises(QDAError, match="caption"):
        captioned(frame, "  ")


def test_coding_rounds_summary():
    from qda.study.codebook import coding_rounds

    out = coding_rounds(tiny_study().codings).set_index("round")
    assert list(out.index) == ["2", "full"]
    assert out.loc["full", "n_transcripts"] == 3 and out.loc["full", "transcripts"] == "P001-P003"
    assert out.loc["full", "coders"] == "a;b" and out.loc["2", "n_coders"] == 1
    assert out.loc["full", "n_codings"] == 11 and out.loc["2", "n_codes"] == 2


def test_agreement_by_unit_plot():
    frame = pd.DataFrame(
        {
            "round": ["2", "2", "3", "3"],
            "unit": ["characters", "segments"] * 2,
            "percent_agreement": [90.0, 40.0, 97.0, 75.0],
            "kappa": [0.5, 0.3, 0.8, 0.7],
        }
    )
    fig = plots.agreement_by_unit(frame)
    assert [ax.get_ylabel() for ax in fig.axes] == ["Percent agreement", "Kappa"]
    heights = sorted(p.get_height() for p in fig.axes[0].patches if p.get_height() > 0)
    assert heights == [40.0, 75.0, 90.0, 97.0]
    assert fig.legends and fig.legends[0].get_title().get_text() == "Round"
    with pytest.raises(QDAError, match="kappa"):
        plots.agreement_by_unit(frame.drop(columns="kappa"))


def test_segments_per_participant_plot():
    summary = pd.DataFrame({"gender": ["woman", "woman", "man", "man", "man"], "n_segments": [0, 2, 2, 2, 1]})
    fig = plots.segments_per_participant(summary)
    ax = fig.axes[0]
    bars = [p.get_height() for p in ax.patches if np.isfinite(p.get_height())]
    assert sum(bars) == 5  # participants, not segments
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Women", "Men"]


def test_who_spoke_one_theme_several_characteristics():
    from qda.analysis.themes import who_spoke

    st = tiny_study()
    w = who_spoke(st, "Balancing")
    assert list(w.index) == ["spoke to the theme", "all participants"]
    assert w.loc["spoke to the theme", ("gender", "woman")] == 1
    assert w.loc["spoke to the theme", ("gender", "man")] == 1
    assert w.loc["spoke to the theme", ("career_stage", "senior")] == 1
    assert w.loc["spoke to the theme", ("career_stage", "early")] == 0
    assert w.loc["spoke to the theme", ("all", "total")] == 2
    assert w.loc["all participants", ("all", "total")] == 3
    assert w.attrs["caveat"].startswith(CAVEAT)
    assert who_spoke(st, 4, by="gender").loc["spoke to the theme", ("gender", "woman")] == 1
    with pytest.raises(QDAError):
        who_spoke(st, 4, by=())


def test_answers_with_code_uses_the_overlap_rule():
    from qda.analysis.themes import answers_with_code

    st = tiny_study()
    # P001 theme codings [0,70) and [60,90); full-round GI codings [10,50) and [220,260)
    a = answers_with_code(st, "gender_inequities", theme=1)
    assert list(a["has_code"]) == [True]
    b = answers_with_code(st, "mentoring", theme=2)  # mentoring [30,80) and [70,100) overlap [60,90)
    assert list(b["has_code"]) == [True]
    h = answers_with_code(st, "mentoring", theme=4)  # P003 [100,140) vs mentoring [100,150)
    assert list(h["has_code"]) == [True]
    g = answers_with_code(st, "gender_inequities", theme=4)  # P003 GI [0,20): no overlap with [100,140)
    assert list(g["has_code"]) == [False]
    assert len(answers_with_code(st, "gender_inequities")) == len(st.themes)
    with pytest.raises(QDAError, match="no coding"):
        answers_with_code(st, "nonexistent")


def test_captioned_shows_human_labels_and_keeps_the_data():
    from qda.show.tables import captioned, human_label

    frame = pd.DataFrame(
        {"reliability_percent": [87.6, float("nan")], "n_codings": [3.0, 4.0]},
        index=pd.Index(["being_mentored", "(all codes)"], name="code_group"),
    )
    html = captioned(frame, "Reliability (synthetic); \u2013: no decision").to_html()
    for label in ("Reliability (%)", "Codings", "Code group", "Being mentored", "(all codes)", "\u2013"):
        assert label in html
    for ident in ("reliability_percent", "n_codings", "code_group", ">being_mentored<", ">nan<"):
        assert ident not in html
    assert list(captioned(frame, "c").data.columns) == ["reliability_percent", "n_codings"]
    assert "Mentoring" in captioned(frame, "c", labels={"being_mentored": "Mentoring"}).to_html()
    assert [human_label(x) for x in ("participant_id", "percent_agreement", "gender", "v1", 2)] == [
        "Participant",
        "Agreement (%)",
        "Gender",
        "v1",
        2,
    ]
