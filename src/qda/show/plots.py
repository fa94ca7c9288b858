"""The book's figures: seaborn, one style, a colour-blind-safe palette.

Every function draws inside :func:`use_style` and returns its matplotlib
``Figure`` (never calls ``plt.show()``); the caller displays or saves it. Colours
are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), which stays
distinguishable under the common colour-vision deficiencies; sequential maps use
``viridis``/``cividis``, which are perceptually uniform and colour-blind safe.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from qda.errors import QDAError
from qda.study.model import Study
from qda.study.schema import ordered_levels

#: Okabe-Ito colours (black omitted), in their usual order.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"]
#: Fixed colours for the two gender categories, so every figure agrees.
GENDER_COLORS = {"woman": "#D55E00", "man": "#0072B2", "Women": "#D55E00", "Men": "#0072B2"}

_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _one_legend(axes, title: str) -> None:
    """Keep only the legend of the last panel of a row of panels, titled ``title``."""
    last = axes[0][-1]
    for ax in axes[0]:
        if ax is not last and ax.get_legend() is not None:
            ax.get_legend().remove()
    if last.get_legend() is not None:
        last.get_legend().set_title(title)


def _detached(fig):
    """Close ``fig`` in pyplot and return it.

    A notebook then shows the figure once, as the cell's value (with the caption and
    alt text MyST-NB attaches to that output), and not a second time through pyplot's
    automatic display, which would duplicate the figure's label (a -W build error).
    """
    plt.close(fig)
    return fig


@contextlib.contextmanager
def use_style() -> Iterator[None]:
    """Context manager: the book's style (seaborn "whitegrid", "notebook" context,
    Okabe-Ito palette, readable font sizes) for the figures drawn inside it;
    the previous matplotlib settings come back on exit."""
    with plt.rc_context(), sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        sns.set_palette(OKABE_ITO)
        plt.rcParams.update(_RC)
        yield


def _need(frame: pd.DataFrame, cols: list[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise QDAError(None, name, f"is a {type(frame).__name__}, not a DataFrame", f"pass a DataFrame with {cols}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise QDAError(
            None, name, f"missing column(s) {', '.join(missing)}", f"pass a tidy frame with {', '.join(cols)}"
        )


def cooccurrence_heatmap(
    matrix: pd.DataFrame,
    title: str = "Code co-occurrence",
    mask_diagonal: bool = True,
    annot: bool | None = None,
    labels: dict | None = None,
):
    """Heatmap of a code x code matrix (:func:`qda.cooccurrence.cooccurrence_matrix`
    or :func:`~qda.cooccurrence.c_coefficient`).

    The diagonal (code frequencies, or NaN for c) is masked by default so the
    colour scale shows co-occurrences only. Cells are annotated when the matrix
    has at most 15 codes (``annot`` overrides). ``labels`` maps code slugs to
    display names. Returns the Figure.
    """
    if not isinstance(matrix, pd.DataFrame) or matrix.shape[0] != matrix.shape[1] or matrix.empty:
        raise QDAError(None, "matrix", "is not a non-empty square DataFrame", "pass cooccurrence_matrix(...)")
    m = matrix.astype(float)
    if labels:
        m = m.rename(index=labels, columns=labels)
    k = len(m)
    annot = k <= 15 if annot is None else annot
    is_int = bool(np.all(np.isnan(m.to_numpy()) | (m.to_numpy() == np.round(m.to_numpy()))))
    mask = np.eye(k, dtype=bool) if mask_diagonal else None
    with use_style():
        size = max(5.0, 0.45 * k + 3)
        fig, ax = plt.subplots(figsize=(size + 1.2, size))
        sns.heatmap(
            m,
            mask=mask,
            cmap="viridis",
            annot=annot,
            fmt=".0f" if is_int else ".2f",
            square=True,
            linewidths=0.5,
            linecolor="white",
            cbar_kws={"label": "co-occurrences" if is_int else "c-coefficient", "shrink": 0.8},
            ax=ax,
        )
        ax.grid(False)
        ax.set_title(title)
        ax.set_xlabel("Code")
        ax.set_ylabel("Code")
        ax.tick_params(axis="x", labelrotation=45)
        for t in ax.get_xticklabels():
            t.set_horizontalalignment("right")
        fig.tight_layout()
    return _detached(fig)


def agreement_by_code(frame: pd.DataFrame, title: str = "Intercoder agreement by code and round"):
    """Dot plot of agreement per code and round, one panel per measure.

    ``frame`` is tidy: columns ``code``, ``round``, ``value``, ``measure`` (e.g.
    "Krippendorff's alpha", "percent agreement"). Rounds are coloured (Okabe-Ito),
    codes on the y axis; reference lines at 0.667 and 0.8, Krippendorff's (2004)
    thresholds for tentative and reliable conclusions, are drawn for alpha/kappa
    measures. Returns the Figure.
    """
    _need(frame, ["code", "round", "value", "measure"], "frame")
    if frame.empty:
        raise QDAError(None, "frame", "has no rows", "pass agreement values")
    df = frame.copy()
    df["round"] = df["round"].astype(str)
    measures = list(pd.unique(df["measure"]))
    codes = list(pd.unique(df["code"]))
    with use_style():
        fig, axes = plt.subplots(
            1, len(measures), figsize=(4.2 * len(measures) + 1.5, 0.4 * len(codes) + 2.2), sharey=True, squeeze=False
        )
        for ax, meas in zip(axes[0], measures, strict=False):
            sub = df.loc[df["measure"] == meas]
            sns.stripplot(
                data=sub,
                x="value",
                y="code",
                hue="round",
                order=codes,
                dodge=False,
                size=8,
                jitter=False,
                ax=ax,
                palette=OKABE_ITO[: sub["round"].nunique()],
                hue_order=sorted(df["round"].unique()),
            )
            low = str(meas).lower()
            if any(w in low for w in ("alpha", "kappa")):
                for x, ls in ((0.667, ":"), (0.8, "--")):
                    ax.axvline(x, color="#555555", linestyle=ls, linewidth=1)
            ax.set_title(str(meas), fontsize=11)
            ax.set_xlabel("Value")
            ax.set_ylabel("Code")
        _one_legend(axes, "Round")
        fig.suptitle(title, fontweight="bold")
        fig.tight_layout()
    return _detached(fig)


def theme_by_gender(table: pd.DataFrame, title: str = "Participants who spoke to each theme, by gender"):
    """Grouped horizontal bars from :func:`qda.themes.theme_by` (``by="gender"``).

    Bars are participants (not segments); the "participants" row (group sizes)
    and "total" column are not drawn but the group sizes go into the legend
    ("Women (n = 52)"). The table's caveat (``attrs["caveat"]``) is printed
    under the plot. Returns the Figure.
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise QDAError(None, "table", "is not a non-empty DataFrame", "pass theme_by(study, by='gender')")
    t = table.copy()
    sizes = t.loc["participants"] if "participants" in t.index else None
    t = t.drop(index="participants", errors="ignore").drop(columns="total", errors="ignore")
    if isinstance(t.index, pd.MultiIndex):
        t.index = [f"{a}: {b}" if b else str(a) for a, b in t.index]
    groups = list(t.columns)
    long = t.reset_index(names="theme").melt(id_vars="theme", var_name="group", value_name="participants")
    names = {g: ("Women" if g == "woman" else "Men" if g == "man" else str(g)) for g in groups}
    if sizes is not None:
        size_of = sizes.iloc[0] if isinstance(sizes, pd.DataFrame) else sizes
        names = {g: f"{names[g]} (n = {int(size_of[g])})" for g in groups}
    long["group"] = long["group"].map(names)
    long["theme"] = long["theme"].map(lambda x: textwrap.fill(str(x), 30))
    palette = {names[g]: GENDER_COLORS.get(g, OKABE_ITO[k % len(OKABE_ITO)]) for k, g in enumerate(groups)}
    with use_style():
        fig, ax = plt.subplots(figsize=(9, 0.9 * len(t) + 2.2))
        sns.barplot(
            data=long,
            y="theme",
            x="participants",
            hue="group",
            hue_order=[names[g] for g in groups],
            palette=palette,
            ax=ax,
            orient="h",
        )
        ax.set_title(title)
        ax.set_xlabel("Participants (count)")
        ax.set_ylabel("Theme")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(title=None, loc="best")
        for cont in ax.containers:
            ax.bar_label(cont, fmt="%d", padding=2, fontsize=9)
        caveat = table.attrs.get("caveat")
        if caveat:
            fig.text(0.01, 0.005, caveat, fontsize=8, wrap=True, ha="left", va="bottom", color="#333333")
            fig.tight_layout(rect=(0, 0.12, 1, 1))
        else:
            fig.tight_layout()
    return _detached(fig)


def participants_by_rank_degree(study: Study, title: str = "Participants by rank and degree"):
    """Counts of participants by academic rank (x) and degree (colour), one panel per gender.

    Counting is ``pandas.crosstab``; the panels share the y axis so women and men
    compare directly. Returns the Figure.
    """
    p = study.participants
    _need(p, ["gender", "rank", "degree"], "participants")

    ranks = ordered_levels(p["rank"].astype(str), "rank")
    degrees = ordered_levels(p["degree"].astype(str), "degree")
    genders = ordered_levels(p["gender"].astype(str), "gender")
    full = pd.MultiIndex.from_product([genders, ranks, degrees], names=["gender", "rank", "degree"])
    counts = (
        pd.crosstab([p["gender"].astype(str), p["rank"].astype(str)], p["degree"].astype(str))
        .stack()
        .reindex(full, fill_value=0)
        .rename("participants")
        .reset_index()
    )
    with use_style():
        fig, axes = plt.subplots(1, len(genders), figsize=(4.5 * len(genders) + 1, 4.5), sharey=True, squeeze=False)
        for ax, g in zip(axes[0], genders, strict=False):
            sub = counts.loc[counts["gender"] == g]
            sns.barplot(
                data=sub,
                x="rank",
                y="participants",
                hue="degree",
                order=ranks,
                hue_order=degrees,
                palette=OKABE_ITO[: len(degrees)],
                ax=ax,
            )
            n = int((p["gender"].astype(str) == g).sum())
            ax.set_title({"woman": "Women", "man": "Men"}.get(g, str(g)) + f" (n = {n})", fontsize=11)
            ax.set_xlabel("Academic rank")
            ax.set_ylabel("Participants (count)")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xticks(range(len(ranks)), [str(r).capitalize() for r in ranks])
        _one_legend(axes, "Degree")
        fig.suptitle(title, fontweight="bold")
        fig.tight_layout()
    return _detached(fig)


def agreement_by_unit(frame: pd.DataFrame, title: str = "Agreement depends on the unit counted"):
    """Grouped bars: percent agreement and kappa for each unit choice, coloured by round.

    ``frame`` is :func:`qda.agreement.agreement_by_unit_choice` output: columns
    ``unit``, ``round``, ``percent_agreement``, ``kappa``. Left panel percent agreement
    (0-100), right panel kappa (dotted and dashed lines at 0.667 and 0.8, Krippendorff's
    thresholds). Bars are labelled with their value. Returns the Figure.
    """
    _need(frame, ["unit", "round", "percent_agreement", "kappa"], "frame")
    if frame.empty:
        raise QDAError(None, "frame", "has no rows", "pass agreement_by_unit_choice(...)")
    df = frame.assign(round=frame["round"].astype(str), unit=frame["unit"].map(lambda u: textwrap.fill(str(u), 14)))
    units = list(pd.unique(df["unit"]))
    rounds = sorted(df["round"].unique())
    palette = dict(zip(rounds, OKABE_ITO, strict=False))
    with use_style():
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
        for ax, col, label, fmt in (
            (axes[0], "percent_agreement", "Percent agreement", "%.0f"),
            (axes[1], "kappa", "Kappa", "%.2f"),
        ):
            sns.barplot(data=df, x="unit", y=col, hue="round", order=units, hue_order=rounds, palette=palette, ax=ax)
            for cont in ax.containers:
                ax.bar_label(cont, fmt=fmt, padding=2, fontsize=9)
            ax.set_xlabel("Unit of comparison")
            ax.set_ylabel(label)
            ax.set_ylim(0, 110 if col == "percent_agreement" else 1.1)
            if col == "kappa":
                for x, ls in ((0.667, ":"), (0.8, "--")):
                    ax.axhline(x, color="#555555", linestyle=ls, linewidth=1)
            handles, labels = ax.get_legend_handles_labels()
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        fig.legend(handles, labels, title="Round", loc="center right", frameon=False)
        fig.suptitle(title, fontweight="bold")
        fig.tight_layout(rect=(0, 0, 0.91, 1))
    return _detached(fig)


def segments_per_participant(summary: pd.DataFrame, title: str = "Analysis-set segments per participant"):
    """Bar chart of how many participants have 0, 1, 2, ... analysis-set segments, by gender.

    ``summary`` is :func:`qda.analysis_set.analysis_set_summary` output (columns
    ``n_segments`` and ``gender``). Bars count participants (not segments), side by side
    for each gender in the book's gender colours. Returns the Figure.
    """
    _need(summary, ["n_segments", "gender"], "summary")
    if summary.empty:
        raise QDAError(None, "summary", "has no rows", "pass analysis_set_summary(study)")

    genders = ordered_levels(summary["gender"].astype(str), "gender")
    ks = list(range(0, int(summary["n_segments"].max()) + 1))
    counts = pd.crosstab(summary["n_segments"], summary["gender"].astype(str)).reindex(
        index=ks, columns=genders, fill_value=0
    )
    long = counts.rename_axis(index="n_segments", columns="gender").stack().rename("participants").reset_index()
    names = {g: {"woman": "Women", "man": "Men"}.get(g, str(g)) for g in genders}
    long["gender"] = long["gender"].map(names)
    palette = {names[g]: GENDER_COLORS.get(g, OKABE_ITO[k]) for k, g in enumerate(genders)}
    with use_style():
        fig, ax = plt.subplots(figsize=(7, 4))
        sns.barplot(
            data=long,
            x="n_segments",
            y="participants",
            hue="gender",
            hue_order=[names[g] for g in genders],
            palette=palette,
            ax=ax,
        )
        for cont in ax.containers:
            ax.bar_label(cont, fmt="%d", padding=2, fontsize=9)
        ax.set_xlabel("Segments in the analysis set")
        ax.set_ylabel("Participants (count)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(title=None, loc="upper left")
        ax.set_title(title)
        fig.tight_layout()
    return _detached(fig)


#: Marker per node kind of the thematic map: shapes, so the map reads without colour.
MAP_MARKERS = {"code": "o", "sub-theme": "D", "theme": "s"}


def _line_width(n, most: float) -> float:
    """Line width (points) for an edge of ``n`` participants: 0.8 to 8, proportional."""
    return 0.8 + 7.2 * float(n) / most if most else 0.8


def thematic_map(edges: pd.DataFrame, title: str = "From codes to themes", label_edges: bool = True):
    """A thematic map drawn from :func:`qda.analysis.theme_building.thematic_map_edges`.

    Three columns, left to right: codes (circles), sub-themes (diamonds), themes
    (squares, names in bold boxes); each edge's line width is proportional to its
    ``participants`` and, if ``label_edges``, the number is printed on the line, so
    the map reads in greyscale. Code edges are solid; sub-theme -> theme edges are
    dashed. Colours (Okabe-Ito, one per theme) repeat what position and labels
    already say. Codes are placed at the mean height of the themes they feed,
    weighted by participants, to keep lines short. Computes nothing: every number
    is the ``participants`` column. Returns the Figure.
    """
    _need(edges, ["source", "target", "source_label", "target_label", "kind", "theme", "participants"], "edges")
    if edges.empty:
        raise QDAError(None, "edges", "is empty", "lower top/min_participants in thematic_map_edges")
    themes = sorted(edges["theme"].unique())
    theme_node = {t: f"t{t}" for t in themes}
    labels = dict(zip(edges["source"], edges["source_label"], strict=True))
    labels.update(zip(edges["target"], edges["target_label"], strict=True))
    y = {theme_node[t]: -float(k) for k, t in enumerate(themes)}
    subs = edges.loc[edges["kind"] == "sub-theme -> theme"]
    for t, grp in subs.groupby("theme"):
        for k, node in enumerate(grp["source"]):
            y[node] = y[theme_node[t]] + 0.35 - 0.7 * k / max(len(grp) - 1, 1)
    code_edges = edges.loc[edges["kind"] != "sub-theme -> theme"]
    pull = code_edges.assign(_y=code_edges["target"].map(y))
    mean_y = pull.groupby("source").apply(
        lambda g: np.average(g["_y"], weights=g["participants"]), include_groups=False
    )
    codes = list(mean_y.sort_values(ascending=False).index)
    top, bottom = 0.4, -(len(themes) - 1) - 0.4
    for k, c in enumerate(codes):
        y[c] = top - (top - bottom) * k / max(len(codes) - 1, 1)
    x = {n: 0.0 for n in codes} | {n: 1.0 for n in subs["source"]} | {n: 2.0 for n in theme_node.values()}
    most = float(edges["participants"].max())
    colors = {t: OKABE_ITO[[4, 5, 2, 6, 0, 1, 7, 3][k % 8]] for k, t in enumerate(themes)}
    with use_style():
        fig, ax = plt.subplots(figsize=(11, 1.6 + 1.7 * len(themes)))
        for e in edges.itertuples():
            xs, ys = (x[e.source], x[e.target]), (y[e.source], y[e.target])
            ls = "--" if e.kind == "sub-theme -> theme" else "-"
            ax.plot(xs, ys, ls, color=colors[e.theme], lw=_line_width(e.participants, most), alpha=0.8, zorder=1)
            if label_edges:
                # numbers where the lines of one code have fanned apart, away from the crowded nodes
                f = {"code -> theme": 0.3, "code -> sub-theme": 0.7}.get(e.kind, 0.5)
                ax.text(
                    xs[0] + f * (xs[1] - xs[0]),
                    ys[0] + f * (ys[1] - ys[0]),
                    str(e.participants),
                    fontsize=8,
                    ha="center",
                    va="center",
                    zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9},
                )
        for kind, nodes in (("code", codes), ("sub-theme", list(subs["source"])), ("theme", list(theme_node.values()))):
            ax.scatter(
                [x[n] for n in nodes],
                [y[n] for n in nodes],
                marker=MAP_MARKERS[kind],
                s=70,
                color="black" if kind != "sub-theme" else "white",
                edgecolor="black",
                zorder=4,
            )
        for n in codes:
            ax.text(-0.04, y[n], labels[n], ha="right", va="center", fontsize=9)
        for n in subs["source"]:
            ax.text(1.0, y[n] + 0.11, labels[n], ha="center", va="bottom", fontsize=9, style="italic")
        for t, n in theme_node.items():
            ax.text(
                2.05,
                y[n],
                textwrap.fill(labels[n], 30),
                ha="left",
                va="center",
                fontsize=9.5,
                fontweight="bold",
                bbox={"boxstyle": "square,pad=0.3", "fc": "white", "ec": colors[t]},
            )
        handles = [
            plt.Line2D(
                [],
                [],
                color="black",
                lw=0,
                marker=MAP_MARKERS[k],
                markersize=8,
                markerfacecolor="white" if k == "sub-theme" else "black",
                label=k,
            )
            for k in MAP_MARKERS
        ]
        handles += [
            plt.Line2D([], [], color="grey", lw=_line_width(n, most), label=f"{n} participants")
            for n in sorted({max(1, int(most) // 4), int(most)})
        ]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=len(handles), frameon=False)
        ax.set_xlim(-1.05, 3.0)
        ax.set_ylim(bottom - 0.3, top + 0.3)
        ax.set_xticks([0, 1, 2], ["Codes", "Sub-themes", "Themes"])
        ax.xaxis.tick_top()
        ax.set_yticks([])
        ax.grid(False)
        for side in ("left", "bottom", "top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(title, pad=24)
        ax.set_xlabel("")
        ax.set_ylabel("")
        fig.text(0.01, 0.01, "Line width and numbers: participants, not segments.", fontsize=8, style="italic")
        fig.tight_layout()
    return _detached(fig)
