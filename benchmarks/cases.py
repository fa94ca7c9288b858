"""What the benchmark measures: input makers and one ``setup``/``run`` pair per case.

Every case is a :class:`Case`: ``setup(**params)`` builds the inputs (not timed),
``run(state)`` is the measured call and returns a small JSON-able summary (an alpha, a
pair count) that lets the report show that ours and the peer computed the same thing.
``benchmarks/child.py`` runs one case in a fresh interpreter; the smoke test calls
``setup``/``run`` in-process on tiny inputs.

The peers: the ``krippendorff`` package (GPL-3.0, allowed in benchmarks only),
``statsmodels.stats.inter_rater``, the naive pandas self-merge that a notebook
author writes for co-occurrence (:func:`naive_pairs`) and, for the unitizing alphas, the
all-pairs brute force of ``benchmarks/unitizing_bench.py`` (no library computes them).
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
    (``campbell_reliability_agreement``).
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
    #: setup only writes input files: it is run once in a process of its own first, so that the
    #: measured process's peak RSS is the call's, not the generator's (the files are then reused)
    files_only: bool = False


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


def _unitizing_setup(n_segments: int, seed: int = 0) -> dict:
    from unitizing_bench import random_unitizations

    segments, length = random_unitizations(n_segments, seed)
    return {"segments": segments, "length": length}


def _ours_unitizing(s: dict) -> list[float]:
    from qda.agreement import unitizing_alpha

    r = unitizing_alpha(s["segments"], s["length"])
    return [round(float(r.u_alpha), 9), round(float(r.binary_u_alpha), 9), round(float(r.cu_alpha), 9)]


def _brute_unitizing(s: dict) -> list[float]:
    from unitizing_bench import brute_force_alphas

    return [round(float(v), 9) for v in brute_force_alphas(s["segments"], s["length"])]


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
    "unitizing_ours": Case(
        _unitizing_setup, _ours_unitizing, "qda.agreement.unitizing_alpha (sweep)", ("qda.agreement", "unitizing_bench")
    ),
    "unitizing_brute": Case(
        _unitizing_setup,
        _brute_unitizing,
        "all-pairs brute force from the formulas (benchmarks/unitizing_bench.py)",
        ("unitizing_bench",),
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


# ---------------------------------------------------------------------------
# REFI-QDA exchange (issue 17): generated inputs, never committed
# ---------------------------------------------------------------------------
REFI_WORK = HERE / "_work" / "refi"
_WORDS = [
    *("mentor", "sponsor", "chair", "committee", "grant", "letter", "promotion", "service", "teaching"),
    *("clinic", "research", "women", "men", "department", "advice", "career", "meeting", "network"),
    *("support", "tenure", "review", "paper", "colleague", "leadership"),
]


def refi_codings_file(n_codings: int, n_sources: int = 1000, folder: Path | None = None, qc_form: bool = False) -> Path:
    """A ``.qdpx`` in this package's export form with ``n_codings`` codings over ``n_sources`` sources.

    Written directly as text (fast), GUIDs from a counter; each source holds
    ``I: ... / R: ...`` turns of generated words, each coding a span of one source. With
    ``qc_form``, each selection is written as qc writes it: no Description, no creatingUser on
    the selection, ``name="line:N"`` (``shared/fixtures/refi/qc-*.qdpx``).
    """
    import zipfile

    folder = folder or REFI_WORK
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"codings-{n_codings}{'-qc' if qc_form else ''}.qdpx"
    if path.is_file():
        return path
    rng = np.random.default_rng(17)
    text = ("R: " + " ".join(rng.choice(_WORDS, 3000)) + "\n") * 2
    n = len(text)
    per = -(-n_codings // n_sources)

    def g(kind: int, i: int) -> str:
        return f"{i:08x}-{kind:04x}-4000-8000-000000000000"

    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="bench" origin="qda bench">',
        f'<Users><User guid="{g(1, 0)}" name="analyst_a"/><User guid="{g(1, 1)}" name="analyst_b"/></Users>',
        "<CodeBook><Codes>",
        *(f'<Code guid="{g(2, c)}" name="code {c}" isCodable="true"/>' for c in range(20)),
        "</Codes></CodeBook><Sources>",
    ]
    starts = rng.integers(0, n - 400, size=n_codings)
    lens = rng.integers(20, 400, size=n_codings)
    k = 0
    for s in range(n_sources):
        parts.append(f'<TextSource guid="{g(3, s)}" name="S{s:05d}" plainTextPath="internal://{g(3, s)}.txt">')
        for _ in range(min(per, n_codings - k)):
            a, e = int(starts[k]), int(starts[k] + lens[k])
            if qc_form:
                parts.append(
                    f'<PlainTextSelection guid="{g(4, k)}" name="line:{k}" startPosition="{a}" endPosition="{e}">'
                    f'<Coding guid="{g(5, k)}" creatingUser="{g(1, k % 2)}"><CodeRef targetGUID="{g(2, k % 20)}" />'
                    "</Coding></PlainTextSelection>"
                )
                k += 1
                continue
            parts.append(
                f'<PlainTextSelection guid="{g(4, k)}" name="C{k:07d}" startPosition="{a}" endPosition="{e}" '
                f'creatingUser="{g(1, k % 2)}"><Description>Coding ID: C{k:07d}\nRound: full\nCodebook version: final'
                f'</Description><Coding guid="{g(5, k)}" creatingUser="{g(1, k % 2)}"><CodeRef targetGUID="{g(2, k % 20)}"/>'
                "</Coding></PlainTextSelection>"
            )
            k += 1
        parts.append("</TextSource>")
    parts.append("</Sources></Project>")
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("project.qde", "".join(parts))
        for s in range(n_sources):
            zf.writestr(f"sources/{g(3, s)}.txt", text)
    tmp.replace(path)
    return path


def refi_big_source_file(mib: int, folder: Path | None = None) -> Path:
    """A ``.qdpx`` with one source of ``mib`` MiB (generated words, CRLF line ends, one emoji) and 1,000 codings."""
    import zipfile

    folder = folder or REFI_WORK
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"source-{mib}MiB.qdpx"
    if path.is_file():
        return path
    rng = np.random.default_rng(300)
    words = np.array(_WORDS)
    line = " ".join(rng.choice(words, 200_000))  # varied enough to stay below the zip-bomb ratio
    chunks, size = [], 0
    while size < mib * 1024 * 1024:
        ln = "R: " + line[int(rng.integers(0, 1000)) :] + "\r\n"
        chunks.append(ln)
        size += len(ln)
    text = "I: \U0001f600\r\n" + "".join(chunks)
    n = len(text)
    g = "00000000-0003-4000-8000-000000000000"
    sels = "".join(
        f'<PlainTextSelection guid="{k:08x}-0004-4000-8000-000000000000" startPosition="{s}" endPosition="{s + 50}">'
        f'<Coding guid="{k:08x}-0005-4000-8000-000000000000"><CodeRef targetGUID="00000000-0002-4000-8000-000000000000"/>'
        "</Coding></PlainTextSelection>"
        for k, s in enumerate(np.linspace(10, n - 100, 1000).astype(int).tolist())
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="big" origin="bench">'
        '<CodeBook><Codes><Code guid="00000000-0002-4000-8000-000000000000" name="c" isCodable="true"/></Codes>'
        f'</CodeBook><Sources><TextSource guid="{g}" name="big" plainTextPath="internal://{g}.txt">{sels}'
        "</TextSource></Sources></Project>"
    )
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("project.qde", xml)
        zf.writestr(f"sources/{g}.txt", text.encode("utf-8"))
    tmp.replace(path)
    return path


def refi_notes_file(n_notes: int, folder: Path | None = None) -> Path:
    """A ``.qde`` with ``n_notes`` Notes that all have the same name (name de-duplication)."""
    folder = folder or REFI_WORK
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"notes-{n_notes}.qde"
    if not path.is_file():
        notes = "".join(
            f'<Note guid="{i:08x}-0007-4000-8000-000000000000" name="memo"><PlainTextContent>x</PlainTextContent></Note>'
            for i in range(n_notes)
        )
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="n">'
            f"<Notes>{notes}</Notes></Project>",
            encoding="utf-8",
        )
    return path


def _refi_setup(kind: str, n: int, folder: str | None = None) -> str:
    where = Path(folder) if folder else None
    if kind in ("codings", "codings_qc"):
        n_sources = max(1, min(1000, n // 100))
        return str(refi_codings_file(n, n_sources=n_sources, folder=where, qc_form=kind == "codings_qc"))
    if kind == "source":
        return str(refi_big_source_file(n, folder=where))
    return str(refi_notes_file(n, folder=where))


def _refi_import(path: str) -> dict:
    from qda.refi import import_project

    s = import_project(path)
    return {"codings": len(s.codings), "transcripts": len(s.transcripts), "memos": len(s.memos)}


def _refi_validate(path: str) -> int:
    from qda.refi import validate_file

    return len(validate_file(path))


CASES.update(
    {
        "refi_import": Case(_refi_setup, _refi_import, "qda.refi.import_project", ("qda.refi",), files_only=True),
        "refi_validate": Case(
            _refi_setup, _refi_validate, "qda.refi.validate_file (problems found)", ("qda.refi",), files_only=True
        ),
    }
)
