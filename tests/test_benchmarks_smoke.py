"""Smoke test of the benchmark harness (benchmarks/): every case runs on tiny inputs.

It proves that the harness works and that results.md carries every required row; it
never asserts a timing (speed is measured by `make bench`, not by a timed test).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

run = pytest.importorskip("run")
cases = pytest.importorskip("cases")

TINY = run.Sizes(
    {"1x": 32},
    alpha_units=300,
    many_values=20,
    many_small_units=60,
    kappa_units=300,
    cooc_large=3000,
    cooc_small=800,
    repeats=1,
    heavy_repeats=1,
    unitizing_segments=2000,
    unitizing_brute=300,
    refi_codings=2000,
    refi_source_mib=1,
    refi_notes=200,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from qda.synthetic.generate import generate

    out = tmp_path_factory.mktemp("corpus") / "32"
    generate(out, n_participants=32)
    return out


@pytest.fixture(scope="module")
def records(corpus):
    groups = set(run.GROUPS) - {"make"}
    jobs = run.plan(TINY, groups, {"1x": corpus})
    # tracemalloc and gc.collect() are exercised by test_subprocess_measurement_and_memory_cap
    return {job.key: run.run_inline(job, trace=False, collect=False) for job in jobs}


def test_every_case_runs_without_error(records):
    assert len(records) == 38  # 3 study, 16 alpha, 4 kappa, 3 unitizing, 6 co-occurrence, 1 whole, 5 REFI-QDA
    failed = {k: r.error for k, r in records.items() if r.error}
    assert not failed
    for k, r in records.items():
        assert len(r.times) == 1 and r.times[0] >= 0, k
        assert r.rss_peak and r.rss_peak > 0, k


def test_ours_and_peers_agree(records):
    for level in run.LEVELS:
        assert records[f"alpha/{level}/ours"].result == pytest.approx(records[f"alpha/{level}/pkg"].result, abs=1e-6)
    for level in ("interval", "ratio"):
        for tag in ("alpha_many", "alpha_many_small"):
            assert records[f"{tag}/{level}/ours"].result == pytest.approx(
                records[f"{tag}/{level}/pkg"].result, abs=1e-6
            )
    assert records["cohen/ours"].result == pytest.approx(records["cohen/sm"].result, abs=1e-6)
    assert records["fleiss/ours"].result == pytest.approx(records["fleiss/sm"].result, abs=1e-6)
    assert records["unitizing/300/ours"].result == pytest.approx(records["unitizing/300/brute"].result, abs=1e-9)
    for kind in ("pairs", "matrix"):
        ours, naive = records[f"cooc_{kind}/800/ours"].result, records[f"cooc_{kind}/800/naive"].result
        assert ours == naive and ours > 0


def test_whole_analysis_reports_every_stage(records):
    res = records["whole/1x"].result
    assert set(res["stages"]) == {"load", "validate", "agreement", "cooccurrence", "analysis_set", "themes"}
    assert res["segments"] > 0 and res["campbell_rows"] > 0
    assert records["load/1x"].result["transcripts"] == 32


def test_results_md_has_every_required_row(records, tmp_path):
    info = run.machine()
    text = run.render(records, info, TINY, None, "Not measured (smoke test).", True, (0.0, 0.0, 0.0), [])
    for needle in (
        "## Machine",
        "CPU:",
        "RAM",
        "Python",
        "numpy",
        "pandas",
        "statsmodels",
        "krippendorff",
        "## Targets (issue 8)",
        "ours / peer",
        "peak RSS MiB",
        "call peak MiB",
    ):
        assert needle in text, needle
    for key in records:
        assert f"| {key} |" in text, key
    for level in run.LEVELS:
        assert f"alpha {level}: ours / krippendorff <= 1.0" in text
    for t in (
        "co-occurrence pairs: >= 20x faster",
        "co-occurrence matrix: < 2 s",
        "Fleiss' kappa: ours / statsmodels <= 1.0",
        "unitizing alphas: < 2 s for 2 coders x",
        "unitizing alphas: the sweep equals the all-pairs brute force",
        "whole analysis: < 60 s",
        "whole analysis: < 4 GiB peak memory",
        run.MAKE_TEST_TARGET,
        run.CI_TARGET,
        "make book after one chapter changed (warm cache) < 30 s",
    ):
        assert t in text, t
    verdicts = [ln for ln in text.splitlines() if ln.startswith("| ") and ln.endswith("** |")]
    assert len(verdicts) == len(run.targets(records, None, TINY)) == 22
    assert all(v.endswith(("**PASS** |", "**MISS** |", "**NOT RUN** |")) for v in verdicts)
    assert text.count("**NOT RUN**") >= 3  # the make and CI rows, not measured here


def test_target_verdicts_follow_the_thresholds():
    def rec(key, secs, rss=None):
        job = run.Job(key, "g", "load", {}, "", 1)
        return run.Record(job, times=[secs], rss_peak=rss)

    s = TINY
    recs = {
        "alpha/nominal/ours": rec("", 1.0),
        "alpha/nominal/pkg": rec("", 2.0),
        "alpha/ordinal/ours": rec("", 2.0),
        "alpha/ordinal/pkg": rec("", 1.0),
        f"cooc_pairs/{s.cooc_small}/ours": rec("", 0.1),
        f"cooc_pairs/{s.cooc_small}/naive": rec("", 1.0),
        f"cooc_pairs/{s.cooc_large}/ours": rec("", 3.0),
        "whole/1x": rec("", 59.0, 5 * run.GIB),
    }
    make = {
        "test_seconds": 301.0,
        "test_steps": {"unit": {"seconds": 301.0, "rc": 0}},
        "book": {"seconds": 10.0, "rc": 0},
    }
    v = {t: verdict for t, _, verdict in run.targets(recs, make, s)}
    get = lambda prefix: next(verdict for t, verdict in v.items() if t.startswith(prefix))  # noqa: E731
    assert get("alpha nominal") == "PASS" and get("alpha ordinal") == "MISS" and get("alpha ratio") == "NOT RUN"
    assert get("co-occurrence pairs: >= 20x faster") == "MISS"  # 10x only
    assert get("co-occurrence pairs: < 2 s") == "MISS"
    assert get("1x corpus, whole analysis: < 60 s") == "PASS"
    assert get("1x corpus, whole analysis: < 4 GiB") == "MISS"
    assert get("make test") == "MISS" and get("make book") == "PASS"
    # a failing unit step still ran every test: judged on time; a failing html build stopped early: a miss
    make["test_seconds"] = 100.0
    make["test_steps"] = {"unit": {"seconds": 50.0, "rc": 2}, "html": {"seconds": 50.0, "rc": 0}}
    assert next(x for t, _, x in run.targets(recs, make, s) if t.startswith("make test")) == "PASS"
    make["test_seconds"], make["test_runs"] = 181.0, [170.0, 181.0, 200.0]  # issue 18: under 3 minutes
    assert next(x for t, _, x in run.targets(recs, make, s) if t.startswith("make test")) == "MISS"
    make["test_seconds"] = 179.0
    assert next(x for t, _, x in run.targets(recs, make, s) if t.startswith("make test")) == "PASS"
    make["test_steps"]["html"]["rc"] = 2
    make["book"]["rc"] = 2
    v = {t: verdict for t, _, verdict in run.targets(recs, make, s)}
    assert get("make test") == "MISS" and get("make book") == "MISS"
    # issue 18: a fresh clone's .ci/run, the browser install included, under 8 minutes
    ci = {"ci_run_seconds": 400.0, "browser_install_seconds": 70.0, "total_seconds": 470.0, "rc": 0}
    v = {t: verdict for t, _, verdict in run.targets(recs, {"ci": ci}, s)}
    assert get("fresh-clone") == "PASS" and get("make test") == "NOT RUN"
    v = {t: verdict for t, _, verdict in run.targets(recs, {"ci": {**ci, "total_seconds": 481.0}}, s)}
    assert get("fresh-clone") == "MISS"
    v = {t: verdict for t, _, verdict in run.targets(recs, {"ci": {**ci, "browser_install_seconds": None}}, s)}
    assert get("fresh-clone") == "MISS"  # without the browser install the target is not shown to be met
    v = {t: verdict for t, _, verdict in run.targets(recs, {"ci": {**ci, "rc": 2}}, s)}
    assert get("fresh-clone") == "MISS"


def test_subprocess_measurement_and_memory_cap():
    ok = run.run_job(run.Job("a", "alpha", "alpha_ours", {"n_units": 200, "level": "interval"}, "", 2))
    assert ok.error is None and len(ok.times) == 2 and ok.rss_peak > 0 and ok.trace_peak is not None
    # 20,000 units x 300 values: the package needs a 20,000 x 300 x 300 float64 array (14 GiB)
    big = run.run_job(
        run.Job(
            "b", "alpha", "alpha_pkg", {"n_units": 20_000, "level": "interval", "n_values": 300}, "", 1, trace=False
        ),
        mem_cap=2 * run.GIB,
    )
    assert big.error and big.error.startswith("MemoryError") and not big.times


def test_restore_is_byte_identical_and_never_clobbers(tmp_path):
    f = tmp_path / "chapter.md"
    original = "# Title\n\nProse é.\n".encode()
    marker = b"\n\nadded\n"
    f.write_bytes(original + marker)
    assert run._restore(f, original, original + marker, marker) == "restored"
    assert f.read_bytes() == original
    f.write_bytes(b"someone else's edit" + marker)  # edited meanwhile, our line still there
    run._restore(f, original, original + marker, marker)
    assert f.read_bytes() == b"someone else's edit"
    f.write_bytes(b"rewritten")
    run._restore(f, original, original + marker, marker)
    assert f.read_bytes() == b"rewritten"


def test_naive_pairs_match_the_sweep_on_edge_cases():
    import pandas as pd

    from qda.analysis.cooccurrence import cooccurring_pairs

    c = pd.DataFrame(
        {
            "coding_id": ["a", "b", "c", "d"],
            "transcript_id": ["T", "T", "T", "U"],
            "start": [0, 5, 3, 0],
            "end": [5, 9, 6, 9],
            "code": ["x", "y", "z", "x"],
        }
    )
    naive = cases.naive_pairs(c)
    ours = cooccurring_pairs(c)
    assert sorted(zip(naive["coding_id_1"], naive["coding_id_2"], strict=False)) == sorted(
        tuple(sorted(p)) for p in zip(ours["coding_id_1"], ours["coding_id_2"], strict=False)
    )
    assert len(naive) == 2  # [0,5) and [5,9) touch but do not overlap
