"""What the benchmark measures: input makers and one ``setup``/``run`` pair per case.

Every case is a :class:`Case`: ``setup(**params)`` builds the inputs (not timed),
``run(state)`` is the measured call and returns a small JSON-able summary (an alpha, a
pair count) that lets the report show that ours and the peer computed the same thing.
``benchmarks/child.py`` runs one case in a fresh interpreter; the smoke test calls
``setup``/``run`` in-process on tiny inputs.

The peers: the ``krippendorff`` package (GPL-3.0, allowed in benchmarks only),
``statsmodels.stats.inter_rater`` and the naive pandas self-merge that a notebook
author writes for co-occurrence (:func:`naive_pairs`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CORPORA = HERE / "corpora"

LEVELS = ("nominal", "ordinal", "interval", "ratio")


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------
def reliability_data(
    n_units: int, n_coders: int = 5, n_values: int = 5, p_agree: float = 0.8, p_missing: float = 0.1, seed: int = 0
) -> np.ndarray:
    """Units x coders float matrix: values ``0..n_values-1``, NaN = not coded.

    Each unit has a true value; each coder reports it with probability ``p_agree``,
    else a uniform random value; each cell is missing with probability ``p_missing``.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_values, size=n_units)
    x = np.repeat(truth[:, None], n_coders, axis=1).astype(float)
    noise = rng.random((n_units, n_coders)) >= p_agree
    x[noise] = rng.integers(0, n_values, size=int(noise.sum()))
    x[rng.random((n_units, n_coders)) < p_missing] = np.nan
    return x


def tiled_codings(n: int, corpus: Path | None = None) -> pd.DataFrame:
    """``n`` codings with the density of a generated corpus, tiled over new transcripts.

    The codings table of ``corpus`` (default: the 1x corpus) is repeated with new
    ``transcript_id`` (``P001~k``) and ``coding_id`` values until ``n`` rows exist, so
    that codings per transcript, and hence co-occurring pairs per transcript, stay those
    of the generated study while the number of transcripts grows.
    """
    corpus = corpus or CORPORA / "104"
    base = pd.read_csv(corpus / "codings.csv", dtype={"round": str})
    reps = -(-n // len(base))
    parts = []
    for k in range(reps):
        part = base.copy()
        part["transcript_id"] = part["transcript_id"] + f"~{k}"
        parts.append(part)
    out = pd.concat(parts, ignore_index=True).iloc[:n].copy()
    out["coding_id"] = [f"C{k:08d}" for k in range(len(out))]
    return out.reset_index(drop=True)


def ensure_corpus(n_participants: int, root: Path | None = None) -> Path:
    """The generated corpus of ``n_participants`` under ``benchmarks/corpora/<n>``, made on demand.

    Runs ``python -m qda generate --out <root>/<n> --participants <n>`` (seeded, so
    every machine gets the same corpus) unless it is already there, made by the same
    generator (a hash of ``qda/synthetic`` is kept beside it).
    """
    import hashlib
    import subprocess
    import sys

    import qda.synthetic

    folder = (root or CORPORA) / str(n_participants)
    gen = Path(qda.synthetic.__file__).resolve().parent
    digest = hashlib.sha256()
    for f in sorted(p for p in gen.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f.read_bytes())
    stamp = folder / ".generator-sha256"
    if not (folder / "participants.csv").is_file() or not stamp.is_file() or stamp.read_text() != digest.hexdigest():
        subprocess.run(
            [sys.executable, "-m", "qda", "generate", "--out", str(folder), "--participants", str(n_participants)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        stamp.write_text(digest.hexdigest())
    return folder


# ---------------------------------------------------------------------------
# Peers that are not a library call
# ---------------------------------------------------------------------------
def naive_pairs(codings: pd.DataFrame) -> pd.DataFrame:
    """The co-occurrence a notebook author writes: self-merge on transcript, then filter.

    Quadratic in codings per transcript (every pair of one transcript is materialised).
    Keeps pairs of different codes that share a character, as
    ``qda.analysis.cooccurrence.cooccurring_pairs`` does by default.
    """
    c = codings[["coding_id", "transcript_id", "start", "end", "code"]]
    m = c.merge(c, on="transcript_id", suffixes=("_1", "_2"))
    keep = (
        (m["coding_id_1"] < m["coding_id_2"])
        & (m["start_1"] < m["end_2"])
        & (m["start_2"] < m["end_1"])
        & (m["code_1"] != m["code_2"])
    )
    return m.loc[keep]


def naive_matrix(codings: pd.DataFrame) -> pd.DataFrame:
    """The naive pairs, counted into a code x code table with ``pd.crosstab`` (symmetrised)."""
    p = naive_pairs(codings)
    a = pd.concat([p["code_1"], p["code_2"]], ignore_index=True)
    b = pd.concat([p["code_2"], p["code_1"]], ignore_index=True)
    return pd.crosstab(a, b)


# ---------------------------------------------------------------------------
# The whole analysis
# ---------------------------------------------------------------------------
def whole_analysis(folder: str | Path) -> dict[str, Any]:
    """Load, validate, agreement, co-occurrence, analysis set and theme tables, as the book does.

    Returns seconds per stage (``stages``) and a few counts. Agreement follows the book:
    participant turns as fixed units, each round's codings projected onto them
    (``unit_decisions``), then reliability before and agreement after reconciliation
    (``campbell_reliability_agreement``) and the unitized alpha of each round.
    """
    import qda
    from qda import agreement
    from qda.analysis import analysis_set, cooccurrence, themes
    from qda.study.units import participant_units, unit_decisions

    stages: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        stages[name] = now - t
        t = now

    study = qda.load_study(folder)
    lap("load")
    qda.validate(study)
    lap("validate")
    c = study.codings
    rounds = [r for r in ("2", "3") if (c["round"].astype(str) == r).any()]
    decs = []
    for r in rounds:
        cr = c.loc[c["round"].astype(str) == r]
        tr = study.transcripts.loc[study.transcripts["transcript_id"].isin(set(cr["transcript_id"]))]
        decs.append(unit_decisions(cr, participant_units(tr)).assign(round=r))
    dec = pd.concat(decs, ignore_index=True)
    campbell = agreement.campbell_reliability_agreement(dec, study.reconciliation)
    lap("agreement")
    full = c.loc[c["round"].astype(str) == "full"]
    mat = cooccurrence.cooccurrence_matrix(full)
    cooccurrence.c_coefficient(mat)
    lap("cooccurrence")
    seg = analysis_set.analysis_set(study)
    analysis_set.analysis_set_summary(study, seg)
    lap("analysis_set")
    for by in ("gender", "career_stage", "rank"):
        themes.theme_by(study, by)
    themes.theme_by(study, "gender", segments=seg)
    themes.theme_by(study, "gender", level="subtheme")
    lap("themes")
    return {
        "stages": stages,
        "codings": int(len(c)),
        "segments": int(len(seg)),
        "campbell_rows": int(len(campbell)),
        "codes": int(mat.shape[0]),
    }


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One measured call: ``setup(**params) -> state`` (untimed), ``run(state) -> summary``."""

    setup: Callable[..., Any]
    run: Callable[[Any], Any]
    doc: str
    imports: tuple[str, ...] = ()  # imported before setup, so that no import is timed


def _alpha_setup(n_units: int, level: str, n_values: int = 5, n_coders: int = 5) -> dict:
    x = reliability_data(n_units, n_coders, n_values)
    if level == "ratio":
        x = x + 1.0  # strictly positive values
    return {"x": x, "level": level}


def _ours_alpha(s: dict) -> float:
    from qda.agreement import krippendorff_alpha

    return round(float(krippendorff_alpha(s["x"], s["level"])), 6)


def _pkg_alpha(s: dict) -> float:
    import krippendorff  # GPL-3.0: benchmarks and tests only

    return round(float(krippendorff.alpha(reliability_data=s["x"].T, level_of_measurement=s["level"])), 6)


def _cohen_setup(n_units: int, n_values: int = 5) -> dict:
    x = reliability_data(n_units, 2, n_values, p_missing=0.0).astype(np.int64)
    return {"a": pd.Series(x[:, 0]), "b": pd.Series(x[:, 1])}


def _ours_cohen(s: dict) -> float:
    from qda.agreement import cohen_kappa

    return round(cohen_kappa(s["a"], s["b"]).kappa, 6)


def _sm_cohen(s: dict) -> float:
    from statsmodels.stats.inter_rater import cohens_kappa

    return round(float(cohens_kappa(pd.crosstab(s["a"], s["b"]))["kappa"]), 6)


def _fleiss_setup(n_units: int, n_coders: int = 5, n_values: int = 5) -> dict:
    from statsmodels.stats.inter_rater import aggregate_raters

    x = reliability_data(n_units, n_coders, n_values, p_missing=0.0).astype(np.int64)
    counts, _ = aggregate_raters(x, n_cat=n_values)
    return {"counts": counts}


def _ours_fleiss(s: dict) -> float:
    from qda.agreement import fleiss_kappa

    return round(fleiss_kappa(s["counts"]).kappa, 6)


def _sm_fleiss(s: dict) -> float:
    from statsmodels.stats.inter_rater import fleiss_kappa

    return round(float(fleiss_kappa(s["counts"])), 6)


def _codings_setup(n_codings: int, corpus: str | None = None) -> pd.DataFrame:
    return tiled_codings(n_codings, Path(corpus) if corpus else None)


def _ours_pairs(c: pd.DataFrame) -> int:
    from qda.analysis.cooccurrence import cooccurring_pairs

    return int(len(cooccurring_pairs(c)))


def _ours_matrix(c: pd.DataFrame) -> int:
    from qda.analysis.cooccurrence import cooccurrence_matrix

    m = cooccurrence_matrix(c)
    return int((m.to_numpy().sum() - np.trace(m.to_numpy())) // 2)


def _naive_pairs_run(c: pd.DataFrame) -> int:
    return int(len(naive_pairs(c)))


def _naive_matrix_run(c: pd.DataFrame) -> int:
    return int(naive_matrix(c).to_numpy().sum() // 2)


def _path(folder: str) -> str:
    return folder


def _load(folder: str) -> dict:
    import qda

    s = qda.load_study(folder)
    return {"transcripts": len(s.transcripts), "codings": len(s.codings)}


def _study(folder: str):
    import qda

    return qda.load_study(folder)


def _validate(study) -> str:
    import qda

    qda.validate(study)
    return "valid"


def _analysis_set(study) -> int:
    from qda.analysis.analysis_set import analysis_set

    return int(len(analysis_set(study)))


def _whole(folder: str) -> dict:
    return whole_analysis(folder)


CASES: dict[str, Case] = {
    "alpha_ours": Case(_alpha_setup, _ours_alpha, "qda.agreement.krippendorff_alpha", ("qda.agreement",)),
    "alpha_pkg": Case(_alpha_setup, _pkg_alpha, "krippendorff.alpha (package 'krippendorff')", ("krippendorff",)),
    "cohen_ours": Case(_cohen_setup, _ours_cohen, "qda.agreement.cohen_kappa(a, b)", ("qda.agreement",)),
    "cohen_sm": Case(
        _cohen_setup, _sm_cohen, "statsmodels cohens_kappa(pd.crosstab(a, b))", ("statsmodels.stats.inter_rater",)
    ),
    "fleiss_ours": Case(_fleiss_setup, _ours_fleiss, "qda.agreement.fleiss_kappa(counts)", ("qda.agreement",)),
    "fleiss_sm": Case(
        _fleiss_setup, _sm_fleiss, "statsmodels fleiss_kappa(counts)", ("statsmodels.stats.inter_rater",)
    ),
    "cooc_pairs_ours": Case(
        _codings_setup, _ours_pairs, "qda.analysis.cooccurrence.cooccurring_pairs", ("qda.analysis.cooccurrence",)
    ),
    "cooc_matrix_ours": Case(
        _codings_setup, _ours_matrix, "qda.analysis.cooccurrence.cooccurrence_matrix", ("qda.analysis.cooccurrence",)
    ),
    "cooc_pairs_naive": Case(_codings_setup, _naive_pairs_run, "pandas self-merge on transcript_id + filter"),
    "cooc_matrix_naive": Case(_codings_setup, _naive_matrix_run, "naive pairs + pd.crosstab"),
    "load": Case(_path, _load, "qda.load_study", ("qda", "qda.study.codebook")),
    "validate": Case(_study, _validate, "qda.validate (study loaded in setup)", ("qda.study.validation",)),
    "analysis_set": Case(
        _study,
        _analysis_set,
        "qda.analysis.analysis_set.analysis_set (study loaded in setup)",
        ("qda.analysis.analysis_set",),
    ),
    "whole": Case(
        _path,
        _whole,
        "load + validate + agreement + co-occurrence + analysis set + theme tables",
        (
            "qda",
            "qda.study.codebook",
            "qda.study.validation",
            "qda.agreement",
            "qda.analysis.cooccurrence",
            "qda.analysis.analysis_set",
            "qda.analysis.themes",
            "qda.study.units",
        ),
    ),
}
