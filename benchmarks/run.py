"""Benchmarks of issue 8: ``make bench`` (``python benchmarks/run.py``) rewrites benchmarks/results.md.

Each measured call runs in a fresh interpreter (``benchmarks/child.py``) with its
address space capped (``--mem-cap-gib``), so a peer that needs more memory fails with
a ``MemoryError`` that the report shows, instead of taking the machine down. Figures:
median wall time of repeated calls, peak RSS of that process (``ru_maxrss``, which
includes the interpreter, the imports and the inputs) and the Python-level peak of
one call (``tracemalloc``, numpy buffers included).

Options: ``--quick`` (small sizes, a quick look; writes benchmarks/_work/results-quick.md
unless ``--out`` is given), ``--only alpha,kappa,cooc,load,aset,whole,make``,
``--skip-make`` (carry the last measured make times from benchmarks/make_times.json;
``--only`` runs write benchmarks/_work/results-only.md, so that only a complete run rewrites
results.md),
``--repeats N``, ``--make-repeats N`` (runs of ``make test``, default 3), ``--no-profile``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

GROUPS = ("alpha", "kappa", "unitizing", "cooc", "load", "aset", "whole", "refi", "make", "ci")
LEVELS = ("nominal", "ordinal", "interval", "ratio")
GIB = 1024**3
MIB = 1024**2
MAKE_TIMES = HERE / "make_times.json"
#: Issue 18: make test without install, every chapter executed once, in under 3 minutes.
MAKE_TEST_TARGET = "make test (lint, unit, html, browser, book, interop; no install) < 3 min"
#: Issue 18: a fresh clone's .ci/run, the browser install included, in under 8 minutes.
CI_TARGET = "fresh-clone .ci/run end to end, browser install included, < 8 min"


# ---------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------
@dataclass
class Sizes:
    """Problem sizes of one run (full: the issue's; quick: small)."""

    corpora: dict[str, int]  # label -> participants
    alpha_units: int
    many_values: int  # distinct values of the "many values" alpha cases
    many_small_units: int  # units at which the package can hold its N x V x V array
    kappa_units: int
    cooc_large: int
    cooc_small: int  # both ours and the naive merge
    repeats: int
    heavy_repeats: int
    unitizing_segments: int = 10**6  # per coder, 2 coders, the sweep alone
    unitizing_brute: int = 10**4  # per coder: the sweep beside the all-pairs brute force
    refi_codings: int = 10**6  # codings in the generated REFI-QDA project (issue 17)
    refi_source_mib: int = 300  # size of the one big generated source
    refi_notes: int = 40_000  # Notes that share one name


FULL = Sizes({"1x": 104, "10x": 1040, "100x": 10400}, 10**6, 200, 1000, 10**6, 10**6, 10**5, 5, 3)
QUICK = Sizes(
    {"1x": 104},
    10**4,
    50,
    200,
    10**4,
    2 * 10**4,
    2 * 10**3,
    2,
    1,
    unitizing_segments=10**4,
    unitizing_brute=10**3,
    refi_codings=20_000,
    refi_source_mib=8,
    refi_notes=4000,
)


@dataclass
class Job:
    """One measurement to run: a case of benchmarks/cases.py with its parameters."""

    key: str  # unique id, also the row label
    group: str
    case: str
    params: dict
    size: str  # human-readable size
    repeats: int
    trace: bool = True


@dataclass
class Record:
    """What a job measured (or why it failed)."""

    job: Job
    times: list[float] = field(default_factory=list)
    rss_peak: int | None = None
    rss_after_setup: int | None = None
    trace_peak: int | None = None
    result: Any = None
    error: str | None = None
    profile: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


def plan(sizes: Sizes, groups: set[str], corpus_paths: dict[str, Path]) -> list[Job]:
    """The jobs of a run, in order (cheap first)."""
    jobs: list[Job] = []
    r, h = sizes.repeats, sizes.heavy_repeats
    big = "100x" if "100x" in sizes.corpora else max(sizes.corpora, key=sizes.corpora.get)
    if "load" in groups:
        for label, path in corpus_paths.items():
            rr = h if label == big and len(corpus_paths) > 1 else r
            jobs.append(Job(f"load/{label}", "load", "load", {"folder": str(path)}, f"{label} corpus", rr))
            jobs.append(Job(f"validate/{label}", "load", "validate", {"folder": str(path)}, f"{label} corpus", rr))
    if "aset" in groups:
        for label, path in corpus_paths.items():
            rr = h if label == big and len(corpus_paths) > 1 else r
            jobs.append(
                Job(f"analysis_set/{label}", "aset", "analysis_set", {"folder": str(path)}, f"{label} corpus", rr)
            )
    if "alpha" in groups:
        n = sizes.alpha_units
        for level in LEVELS:
            p = {"n_units": n, "level": level, "n_values": 5}
            size = f"5 coders x {n:,} units, 5 values"
            jobs.append(Job(f"alpha/{level}/ours", "alpha", "alpha_ours", p, size, r))
            jobs.append(Job(f"alpha/{level}/pkg", "alpha", "alpha_pkg", p, size, h))
        v = sizes.many_values
        for level in ("interval", "ratio"):
            p = {"n_units": n, "level": level, "n_values": v}
            size = f"5 coders x {n:,} units, {v} values"
            jobs.append(Job(f"alpha_many/{level}/ours", "alpha", "alpha_ours", p, size, r))
            jobs.append(Job(f"alpha_many/{level}/pkg", "alpha", "alpha_pkg", p, size, 1, trace=False))
            ps = {"n_units": sizes.many_small_units, "level": level, "n_values": v}
            size_s = f"5 coders x {sizes.many_small_units:,} units, {v} values"
            jobs.append(Job(f"alpha_many_small/{level}/ours", "alpha", "alpha_ours", ps, size_s, r))
            jobs.append(Job(f"alpha_many_small/{level}/pkg", "alpha", "alpha_pkg", ps, size_s, h))
    if "kappa" in groups:
        n = sizes.kappa_units
        jobs.append(
            Job("cohen/ours", "kappa", "cohen_ours", {"n_units": n}, f"2 raters x {n:,} units, 5 categories", r)
        )
        jobs.append(Job("cohen/sm", "kappa", "cohen_sm", {"n_units": n}, f"2 raters x {n:,} units, 5 categories", r))
        jobs.append(
            Job("fleiss/ours", "kappa", "fleiss_ours", {"n_units": n}, f"5 raters x {n:,} subjects, 5 categories", r)
        )
        jobs.append(
            Job("fleiss/sm", "kappa", "fleiss_sm", {"n_units": n}, f"5 raters x {n:,} subjects, 5 categories", r)
        )
    if "unitizing" in groups:
        n, b = sizes.unitizing_segments, sizes.unitizing_brute
        jobs.append(
            Job(
                f"unitizing/{n}/ours", "unitizing", "unitizing_ours", {"n_segments": n}, f"2 coders x {n:,} segments", r
            )
        )
        for who in ("ours", "brute"):
            jobs.append(
                Job(
                    f"unitizing/{b}/{who}",
                    "unitizing",
                    f"unitizing_{who}",
                    {"n_segments": b, "seed": 1},
                    f"2 coders x {b:,} segments",
                    r if who == "ours" else h,
                )
            )
    if "cooc" in groups:
        c1 = str(corpus_paths.get("1x", next(iter(corpus_paths.values()))))
        for n, who in ((sizes.cooc_small, ("ours", "naive")), (sizes.cooc_large, ("ours",))):
            for kind in ("pairs", "matrix"):
                for w in who:
                    rr = h if w == "naive" else r
                    jobs.append(
                        Job(
                            f"cooc_{kind}/{n}/{w}",
                            "cooc",
                            f"cooc_{kind}_{w}",
                            {"n_codings": n, "corpus": c1},
                            f"{n:,} codings",
                            rr,
                        )
                    )
    if "refi" in groups:
        n, mib, notes = sizes.refi_codings, sizes.refi_source_mib, sizes.refi_notes
        for case, kind, size, label in (
            ("refi_import", "codings", n, f"{n:,} codings"),
            ("refi_validate", "codings", n, f"{n:,} codings"),
            ("refi_import", "codings_qc", n, f"{n:,} codings as qc writes them (no Description)"),
            ("refi_import", "source", mib, f"one {mib} MiB source (CRLF, one emoji)"),
            ("refi_import", "notes", notes, f"{notes:,} Notes with one name"),
        ):
            key = f"{case}/{kind}"
            jobs.append(Job(key, "refi", case, {"kind": kind, "n": size}, label, h, trace=False))
    if "whole" in groups:
        for label, path in corpus_paths.items():
            rr = h if label != "1x" or len(corpus_paths) == 1 else r
            jobs.append(
                Job(f"whole/{label}", "whole", "whole", {"folder": str(path)}, f"{label} corpus", rr, trace=False)
            )
    return jobs


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------
def _cap(mem_cap: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem_cap, mem_cap))

    return limit


def run_job(job: Job, mem_cap: int = 8 * GIB, timeout: float = 1800, profile: bool = False) -> Record:
    """Run ``job`` in a fresh interpreter (benchmarks/child.py) and collect its report."""
    spec = {"case": job.case, "params": job.params, "repeats": job.repeats, "trace": job.trace, "profile": profile}
    if profile:
        spec.update(repeats=1, trace=False)
    from cases import CASES

    rec = Record(job)
    try:
        if CASES[job.case].files_only:  # write the input files first, in a process of their own
            subprocess.run(
                [sys.executable, str(HERE / "child.py"), json.dumps({**spec, "setup_only": True})],
                capture_output=True,
                timeout=timeout,
                preexec_fn=_cap(mem_cap),
                cwd=str(ROOT),
                check=False,
            )
        proc = subprocess.run(
            [sys.executable, str(HERE / "child.py"), json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_cap(mem_cap),
            cwd=str(ROOT),
        )
    except subprocess.TimeoutExpired:
        rec.error = f"timed out after {timeout:.0f} s"
        return rec
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
        rec.error = f"exit code {proc.returncode}: {tail[0][:200]}"
        return rec
    out = json.loads(lines[-1])
    return _fill(rec, out)


def run_inline(job: Job, trace: bool | None = None, collect: bool = True) -> Record:
    """Run ``job`` in this process (the smoke test's path; no memory cap, no fresh interpreter).

    ``trace`` overrides ``job.trace``; ``collect=False`` skips the ``gc.collect()`` before each call.
    """
    from child import measure

    spec = {
        "case": job.case,
        "params": job.params,
        "repeats": job.repeats,
        "trace": job.trace if trace is None else trace,
        "gc": collect,
    }
    return _fill(Record(job), measure(spec))


def _fill(rec: Record, out: dict) -> Record:
    rec.times = list(out.get("times", []))
    rec.rss_peak = out.get("rss_peak")
    rec.rss_after_setup = out.get("rss_after_setup")
    rec.trace_peak = out.get("trace_peak")
    rec.result = out.get("result")
    rec.error = out.get("error")
    rec.profile = out.get("profile")
    return rec


def _restore(path: Path, original: bytes, modified: bytes, marker: bytes) -> str:
    """Put ``path`` back as it was; never clobber an edit someone else made meanwhile."""
    now = path.read_bytes()
    if now == modified:
        path.write_bytes(original)
        return "restored"
    if marker in now:  # another edit landed on top of ours: remove only our line
        path.write_bytes(now.replace(marker, b""))
        return "marker removed from a file edited meanwhile"
    return "left as is (edited meanwhile, our line already gone)"


def time_make(targets: list[str], log: Path) -> tuple[float, int]:
    """Wall seconds and exit code of ``make --no-print-directory TARGETS`` in the repository."""
    log.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    with log.open("w") as fh:
        rc = subprocess.run(
            ["make", "--no-print-directory", *targets], cwd=str(ROOT), stdout=fh, stderr=subprocess.STDOUT
        ).returncode
    return time.perf_counter() - t, rc


#: `make test` runs its steps concurrently (unit tests beside the chapters' execution; the
#: browser, book and interop checks in one two-worker run), so it is timed whole.
TEST_STEPS = ("test",)


def measure_make(work: Path, repeats: int = 3) -> dict:
    """``make test`` without install, ``repeats`` times (each run's total and the median; it
    clears the execution cache itself, so every chapter executes), and ``make book`` after
    one chapter's prose changed with a warm cache."""
    res: dict[str, Any] = {"date": _dt.datetime.now().isoformat(timespec="seconds")}
    # "without install": the venv and the interop environments brought up to date first, untimed
    res["install_seconds_untimed"] = time_make(["install", "interop-envs"], work / "make-install.log")[0]
    res["load_before"] = list(os.getloadavg())
    runs = []
    for k in range(repeats):
        steps = {t: time_make([t], work / f"make-{t}-{k + 1}.log") for t in TEST_STEPS}
        runs.append({t: {"seconds": sec, "rc": rc} for t, (sec, rc) in steps.items()})
    res["load_after"] = list(os.getloadavg())
    res["test_runs"] = [sum(st["seconds"] for st in r.values()) for r in runs]
    res["test_seconds"] = statistics.median(res["test_runs"])
    res["test_steps"] = {
        t: {"seconds": statistics.median(r[t]["seconds"] for r in runs), "rc": max(r[t]["rc"] for r in runs)}
        for t in TEST_STEPS
    }
    res["test_ok"] = all(st["rc"] == 0 for st in res["test_steps"].values())
    # make book: warm the cache, change one chapter's prose, build, restore byte-identically
    warm, rc_w = time_make(["book"], work / "make-book-warm.log")
    # the chapter with code cells edited longest ago: the least likely to be edited by someone right now
    chapters = sorted(
        (p for p in (ROOT / "chapters").glob("*.md") if "{code-cell}" in p.read_text("utf-8")),
        key=lambda p: p.stat().st_mtime,
    )
    chapter = chapters[0] if chapters else sorted((ROOT / "chapters").glob("*.md"))[0]
    original = chapter.read_bytes()
    marker = b"\n\nThis sentence was added by the benchmark and is removed again.\n"
    modified = original + marker
    try:
        chapter.write_bytes(modified)
        secs, rc = time_make(["book"], work / "make-book-changed.log")
    finally:
        how = _restore(chapter, original, modified, marker)
    res["book"] = {
        "seconds": secs,
        "rc": rc,
        "warmup_seconds": warm,
        "warmup_rc": rc_w,
        "chapter": str(chapter.relative_to(ROOT)),
        "restore": how,
        "identical": chapter.read_bytes() == original,
    }
    return res


def git_commit() -> str:
    """The short hash of HEAD, or "?" where git cannot tell."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True, text=True)
    except OSError:
        return "?"
    return head.stdout.strip() or "?"


def measure_ci(work: Path) -> dict:
    """A fresh clone of HEAD and its ``.ci/run`` end to end, as CI runs it (``CI=true``).

    The clone gets empty uv and pip caches (every package downloaded, as on a fresh
    machine) and ../shared beside it. Chromium cannot be removed from the machine running
    the benchmark, so its install is timed on its own (``apt-get install --reinstall``,
    download and unpack, root only) and added: ``total = browser install + .ci/run``.
    """
    res: dict[str, Any] = {"date": _dt.datetime.now().isoformat(timespec="seconds")}
    res["commit"] = git_commit()
    base = Path(tempfile.mkdtemp(prefix="qda-ci-"))
    try:
        repo = base / "main"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        if (ROOT.parent / "shared").is_dir():
            (base / "shared").symlink_to(ROOT.parent / "shared")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QDA_", "VIRTUAL_ENV", "PYTHON"))}
        env.update(CI="true", UV_CACHE_DIR=str(base / "uv-cache"), PIP_NO_CACHE_DIR="1")
        res["browser_install_seconds"] = None
        if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
            # as .ci/run does it: the package lists updated, the two packages downloaded
            # (apt's local cache emptied first) and installed; their dependencies, already
            # on this machine, are not downloaded again (a fresh machine would)
            apt_env = {**env, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "clean"], env=apt_env, check=False)
            t = time.perf_counter()
            with (work / "ci-browser-install.log").open("w") as fh:
                done = subprocess.run(
                    "apt-get update -qq && apt-get install --reinstall -y chromium chromium-driver",
                    shell=True,
                    env=apt_env,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                )
            if done.returncode == 0:
                res["browser_install_seconds"] = time.perf_counter() - t
        res["load_before"] = list(os.getloadavg())
        t = time.perf_counter()
        with (work / "ci-run.log").open("w") as fh:
            rc = subprocess.run(["bash", ".ci/run"], cwd=repo, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
        res["ci_run_seconds"] = time.perf_counter() - t
        res["load_after"] = list(os.getloadavg())
        res["rc"] = rc
    finally:
        shutil.rmtree(base, ignore_errors=True)
    res["total_seconds"] = res["ci_run_seconds"] + (res["browser_install_seconds"] or 0.0)
    return res


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
def machine() -> dict:
    """CPU model, cores, RAM, OS, Python and package versions, git commit, date, load."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        ram = f"{kib / 1024**2:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    vers = {}
    for pkg in ("qda", "numpy", "pandas", "scipy", "statsmodels", "krippendorff", "jupyter-book"):
        try:
            vers[pkg] = version(pkg)
        except PackageNotFoundError:
            vers[pkg] = "not installed"
    commit = git_commit()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": vers,
        "commit": commit,
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "load": os.getloadavg(),
    }


def _s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if x < 10 else f"{x:.1f}"


def _mib(x: int | None) -> str:
    return "-" if x is None else f"{x / MIB:,.0f}"


def _bytes(x: float) -> str:
    return f"{x / GIB:,.1f} GiB" if x >= GIB else f"{x / MIB:,.0f} MiB"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def targets(recs: dict[str, Record], make: dict | None, sizes: Sizes) -> list[tuple[str, str, str]]:
    """(target, measured, PASS / MISS / NOT RUN) for each target of issue 8."""
    out = []

    def med(k: str) -> float | None:
        r = recs.get(k)
        return r.median if r else None

    for level in LEVELS:
        o, p = med(f"alpha/{level}/ours"), med(f"alpha/{level}/pkg")
        q = _ratio(o, p)
        out.append(
            (
                f"alpha {level}: ours / krippendorff <= 1.0 (5 coders x {sizes.alpha_units:,} units)",
                "-" if q is None else f"{q:.2f} ({_s(o)} s vs {_s(p)} s)",
                "NOT RUN" if q is None else ("PASS" if q <= 1.0 else "MISS"),
            )
        )
    o, p = med("fleiss/ours"), med("fleiss/sm")
    q = _ratio(o, p)
    out.append(
        (
            f"Fleiss' kappa: ours / statsmodels <= 1.0 (5 raters x {sizes.kappa_units:,} subjects)",
            "-" if q is None else f"{q:.2f} ({_s(o)} s vs {_s(p)} s)",
            "NOT RUN" if q is None else ("PASS" if q <= 1.0 else "MISS"),
        )
    )
    n_u, n_b = sizes.unitizing_segments, sizes.unitizing_brute
    o = med(f"unitizing/{n_u}/ours")
    out.append(
        (
            f"unitizing alphas: < 2 s for 2 coders x {n_u:,} segments",
            "-" if o is None else f"{_s(o)} s",
            "NOT RUN" if o is None else ("PASS" if o < 2 else "MISS"),
        )
    )
    ro, rb = recs.get(f"unitizing/{n_b}/ours"), recs.get(f"unitizing/{n_b}/brute")
    same = ro is not None and rb is not None and not ro.error and not rb.error and ro.result == rb.result
    out.append(
        (
            f"unitizing alphas: the sweep equals the all-pairs brute force at 2 x {n_b:,} segments",
            "-" if ro is None or rb is None else f"{ro.result} vs {rb.result}",
            "NOT RUN" if ro is None or rb is None else ("PASS" if same else "MISS"),
        )
    )
    n_s, n_l = sizes.cooc_small, sizes.cooc_large
    for kind in ("pairs", "matrix"):
        o_s, nv = med(f"cooc_{kind}/{n_s}/ours"), med(f"cooc_{kind}/{n_s}/naive")
        sp = _ratio(nv, o_s)
        out.append(
            (
                f"co-occurrence {kind}: >= 20x faster than the naive merge, both measured at {n_s:,} codings",
                "-" if sp is None else f"{sp:.0f}x ({_s(nv)} s vs {_s(o_s)} s)",
                "NOT RUN" if sp is None else ("PASS" if sp >= 20 else "MISS"),
            )
        )
        o_l = med(f"cooc_{kind}/{n_l}/ours")
        ext = nv * (n_l / n_s) if nv else None
        sp_l = _ratio(ext, o_l)
        out.append(
            (
                f"co-occurrence {kind}: >= 20x at {n_l:,} codings (naive extrapolated linearly from {n_s:,})",
                "-" if sp_l is None else f"{sp_l:.0f}x ({_s(ext)} s extrapolated vs {_s(o_l)} s measured)",
                "NOT RUN" if sp_l is None else ("PASS" if sp_l >= 20 else "MISS"),
            )
        )
        out.append(
            (
                f"co-occurrence {kind}: < 2 s for {n_l:,} codings",
                "-" if o_l is None else f"{_s(o_l)} s",
                "NOT RUN" if o_l is None else ("PASS" if o_l < 2 else "MISS"),
            )
        )
    big = "100x" if "100x" in sizes.corpora else max(sizes.corpora, key=sizes.corpora.get)
    w = recs.get(f"whole/{big}")
    wm = w.median if w else None
    out.append(
        (
            f"{big} corpus, whole analysis: < 60 s",
            "-" if wm is None else f"{_s(wm)} s",
            "NOT RUN" if wm is None else ("PASS" if wm < 60 else "MISS"),
        )
    )
    rss = w.rss_peak if w and w.times else None
    out.append(
        (
            f"{big} corpus, whole analysis: < 4 GiB peak memory (process peak RSS)",
            "-" if rss is None else f"{rss / GIB:.2f} GiB",
            "NOT RUN" if rss is None else ("PASS" if rss < 4 * GIB else "MISS"),
        )
    )
    n_r = f"{sizes.refi_codings:,}"
    for key, what, limit, use_rss, unit in (
        ("refi_import/codings", f"REFI-QDA import of {n_r} codings: < 15 s", 15, False, "s"),
        ("refi_import/codings", f"REFI-QDA import of {n_r} codings: < 1.5 GiB peak RSS", 1.5, True, "GiB"),
        ("refi_validate/codings", f"REFI-QDA validate of {n_r} codings: < 15 s", 15, False, "s"),
        (
            "refi_import/source",
            f"REFI-QDA import of a {sizes.refi_source_mib} MiB source: < 2 GiB peak RSS",
            2,
            True,
            "GiB",
        ),
    ):
        r = recs.get(key)
        val = (r.rss_peak / GIB if r.rss_peak else None) if (r and r.times and use_rss) else (r.median if r else None)
        out.append(
            (
                what,
                "-" if val is None else f"{val:.2f} {unit}",
                "NOT RUN" if val is None else ("PASS" if val < limit else "MISS"),
            )
        )
    if make and make.get("test_seconds") is not None:
        ts = make["test_seconds"]
        steps = make.get("test_steps", {})
        failed = [k for k, st in steps.items() if st["rc"] != 0]
        # lint, unit and browser run every check even when one fails, so their time stands;
        # a failing html build stops at the first failing chapter, so its time does not
        early_stop = "html" in failed or "test" in failed
        note = f" ({', '.join(failed)} failed{'; the build stopped early' if early_stop else ''})" if failed else ""
        n_runs = len(make.get("test_runs", [])) or 1
        out.append(
            (
                MAKE_TEST_TARGET,
                f"{ts / 60:.1f} min, median of {n_runs}{note}" if n_runs > 1 else f"{ts / 60:.1f} min{note}",
                "PASS" if ts < 180 and not early_stop else "MISS",
            )
        )
        b = make.get("book", {})
        bs = b.get("seconds")
        out.append(
            (
                "make book after one chapter changed (warm cache) < 30 s",
                "-" if bs is None else f"{bs:.1f} s" + ("" if b.get("rc") == 0 else " (build failed)"),
                "NOT RUN" if bs is None else ("PASS" if bs < 30 and b.get("rc") == 0 else "MISS"),
            )
        )
    else:
        out.append((MAKE_TEST_TARGET, "-", "NOT RUN"))
        out.append(("make book after one chapter changed (warm cache) < 30 s", "-", "NOT RUN"))
    ci = (make or {}).get("ci")
    if ci:
        measured = f"{ci['total_seconds'] / 60:.1f} min" + (
            "" if ci.get("browser_install_seconds") is not None else " (browser install not measured)"
        )
        ok = ci["rc"] == 0 and ci.get("browser_install_seconds") is not None and ci["total_seconds"] < 480
        out.append((CI_TARGET, measured + ("" if ci["rc"] == 0 else " (failed)"), "PASS" if ok else "MISS"))
    else:
        out.append((CI_TARGET, "-", "NOT RUN"))
    return out


def render(
    recs: dict[str, Record],
    info: dict,
    sizes: Sizes,
    make: dict | None,
    make_note: str,
    quick: bool,
    load_end: tuple,
    notes: list[str],
) -> str:
    """results.md as text: machine, method, every figure, every ratio, targets."""
    L: list[str] = []
    L.append("# Benchmark results (issue 8)\n")
    L.append(
        "Rewritten by `make bench` (`.venv/bin/python benchmarks/run.py`); do not edit by hand. "
        "See benchmarks/README.md for what is measured and how."
        + (" **Quick run: small sizes.**" if quick else "")
        + "\n"
    )
    L.append("## Machine\n")
    v = info["versions"]
    L.append(f"- Date: {info['date']}; git commit {info['commit']}")
    L.append(f"- CPU: {info['cpu']}, {info['cores']} cores; RAM {info['ram']}; {info['os']}")
    L.append(f"- Python {info['python']}; " + ", ".join(f"{k} {v[k]}" for k in v))
    la, le = info["load"], load_end
    L.append(
        f"- Load average (1/5/15 min) at start {la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f}, "
        f"at end {le[0]:.2f}/{le[1]:.2f}/{le[2]:.2f}. The machine was shared with other engineers "
        "during the run, so times carry noise from their work."
    )
    L.append("")
    L.append("## Method\n")
    L.append(
        f"- Each row runs in a fresh interpreter (`benchmarks/child.py`); inputs are built first and not timed. "
        f"`median s` is the median wall time (`time.perf_counter`) of the `runs` calls "
        f"(full run: {FULL.repeats}, or {FULL.heavy_repeats} for the long ones)."
    )
    L.append(
        "- `peak RSS MiB`: peak resident set size of that process (`ru_maxrss`), which includes the "
        "interpreter, the imports (numpy, pandas) and the inputs, not only the call. `call peak MiB`: "
        "Python-level peak of one extra call under `tracemalloc` (numpy buffers included), i.e. what the "
        "call itself allocated."
    )
    L.append(
        "- Each process has its address space capped (`RLIMIT_AS`); a peer that needs more fails with "
        "`MemoryError`, reported as such."
    )
    L.append(
        "- Corpora: `python -m qda generate --out benchmarks/corpora/<n> --participants <n>` "
        + ", ".join(f"{k} = {n:,} participants" for k, n in sizes.corpora.items())
        + " (made on demand, git-ignored)."
    )
    L.append(
        "- Co-occurrence inputs: the codings of the 1x corpus tiled over new transcripts (same codings per "
        "transcript as the study) up to the stated number of codings."
    )
    L.append("")

    def table(keys: list[str], title: str) -> None:
        rows = [recs[k] for k in keys if k in recs]
        if not rows:
            return
        L.append(f"### {title}\n")
        L.append("| case | call | size | runs | median s | min s | peak RSS MiB | call peak MiB | result |")
        L.append("|---|---|---|---:|---:|---:|---:|---:|---|")
        from cases import CASES

        for r in rows:
            if r.error:
                res = r.error
            elif isinstance(r.result, dict):
                res = ", ".join(f"{k} {v}" for k, v in r.result.items() if not isinstance(v, dict))
            else:
                res = r.result
            if isinstance(res, str) and len(res) > 160:
                res = res[:157] + "..."
            L.append(
                f"| {r.job.key} | {CASES[r.job.case].doc} | {r.job.size} | {len(r.times)} | {_s(r.median)} | "
                f"{_s(min(r.times) if r.times else None)} | {_mib(r.rss_peak)} | {_mib(r.trace_peak)} | "
                f"{str(res).replace('|', '/')} |"
            )
        L.append("")

    def comparisons(pairs: list[tuple[str, str, str]], title: str) -> None:
        rows = [(lab, recs.get(a), recs.get(b)) for lab, a, b in pairs if a in recs or b in recs]
        if not rows:
            return
        L.append(f"### {title}\n")
        L.append(
            "| comparison | ours median s | peer median s | ours / peer | speed-up | ours peak RSS MiB | "
            "peer peak RSS MiB | same result |"
        )
        L.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for lab, a, b in rows:
            ma, mb = (a.median if a else None), (b.median if b else None)
            q = _ratio(ma, mb)
            same = "-"
            if a and b and a.result is not None and b.result is not None:
                same = "yes" if a.result == b.result else f"no ({a.result} vs {b.result})"
            if b and b.error:
                same = f"peer failed: {b.error[:120]}"
            L.append(
                f"| {lab} | {_s(ma)} | {_s(mb)} | {'-' if q is None else (f'{q:.2f}' if q >= 0.1 else f'{q:.2g}')} | "
                f"{'-' if q is None else f'{1 / q:.1f}x'} | {_mib(a.rss_peak if a else None)} | "
                f"{_mib(b.rss_peak if b else None)} | {same} |"
            )
        L.append("")

    L.append("## Figures\n")
    n = sizes.alpha_units
    alpha_keys = [k for k in recs if k.startswith("alpha")]
    table(alpha_keys, "Krippendorff's alpha: qda vs the `krippendorff` package")
    pairs = [(f"alpha {lv}, {n:,} units, 5 values", f"alpha/{lv}/ours", f"alpha/{lv}/pkg") for lv in LEVELS]
    pairs += [
        (f"alpha {lv}, {n:,} units, {sizes.many_values} values", f"alpha_many/{lv}/ours", f"alpha_many/{lv}/pkg")
        for lv in ("interval", "ratio")
    ]
    pairs += [
        (
            f"alpha {lv}, {sizes.many_small_units:,} units, {sizes.many_values} values",
            f"alpha_many_small/{lv}/ours",
            f"alpha_many_small/{lv}/pkg",
        )
        for lv in ("interval", "ratio")
    ]
    comparisons(pairs, "Alpha: ratios")
    V, N = sizes.many_values, sizes.alpha_units
    L.append(
        f"The package counts values per unit in an N x V array and forms its coincidences through an "
        f"N x V x V float64 array: with V = {V} distinct values and N = {N:,} units that array alone is "
        f"{_bytes(N * V * V * 8)} (at 5 values: {_bytes(N * 25 * 8)}); at N = {sizes.many_small_units:,} and "
        f"V = {V} it is {_bytes(sizes.many_small_units * V * V * 8)}. qda's alpha needs O(N x coders) memory "
        "at every level.\n"
    )
    kappa_keys = ["cohen/ours", "cohen/sm", "fleiss/ours", "fleiss/sm"]
    table(kappa_keys, "Cohen's and Fleiss' kappa: qda vs statsmodels")
    comparisons(
        [
            ("Cohen's kappa (from raw ratings; statsmodels via pd.crosstab)", "cohen/ours", "cohen/sm"),
            ("Fleiss' kappa (same counts table)", "fleiss/ours", "fleiss/sm"),
        ],
        "Kappa: ratios",
    )
    table([k for k in recs if k.startswith("unitizing/")], "Unitizing alphas: qda sweep vs an all-pairs brute force")
    nb = sizes.unitizing_brute
    comparisons(
        [(f"u-alpha family, 2 coders x {nb:,} segments", f"unitizing/{nb}/ours", f"unitizing/{nb}/brute")],
        "Unitizing: ratio (measured at the same size)",
    )
    cooc_keys = [k for k in recs if k.startswith("cooc")]
    table(cooc_keys, "Co-occurrence: qda sweep vs the naive pandas self-merge")
    ns, nl = sizes.cooc_small, sizes.cooc_large
    comparisons(
        [
            (f"pairs, {ns:,} codings (both measured)", f"cooc_pairs/{ns}/ours", f"cooc_pairs/{ns}/naive"),
            (f"matrix, {ns:,} codings (both measured)", f"cooc_matrix/{ns}/ours", f"cooc_matrix/{ns}/naive"),
        ],
        "Co-occurrence: ratios (measured at the same size)",
    )
    nv = recs.get(f"cooc_pairs/{ns}/naive")
    if nv and nv.median:
        L.append(
            f"The naive merge materialises every pair of codings of a transcript, so its cost grows with the "
            f"sum over transcripts of (codings per transcript)^2: with the density fixed and the number of "
            f"transcripts x{nl // ns}, it grows x{nl // ns}. Extrapolated to {nl:,} codings: "
            f"{_s(nv.median * nl / ns)} s and, from its peak RSS, roughly "
            f"{(nv.rss_peak or 0) * nl / ns / GIB:,.1f} GiB of peak RSS. It was not run at {nl:,} codings "
            "(the machine is shared and the run would be long and memory-hungry); this extrapolation is an "
            "estimate, not a measurement.\n"
        )
    table([k for k in recs if k.startswith(("load/", "validate/"))], "Loading and validating the study")
    table([k for k in recs if k.startswith("analysis_set/")], "The analysis set")
    table(
        [k for k in recs if k.startswith("refi_")],
        "REFI-QDA exchange (issue 17; inputs generated in benchmarks/_work/refi, never committed)",
    )
    whole = [k for k in recs if k.startswith("whole/")]
    table(whole, "The whole analysis (load, validate, agreement, co-occurrence, analysis set, theme tables)")
    if whole:
        L.append("Seconds per stage (last run of each corpus):\n")
        stages = ["load", "validate", "agreement", "cooccurrence", "analysis_set", "themes"]
        L.append("| corpus | " + " | ".join(stages) + " | total | codings | segments |")
        L.append("|---" * (len(stages) + 4) + "|")
        for k in whole:
            r = recs[k]
            if isinstance(r.result, dict):
                st = r.result.get("stages", {})
                L.append(
                    f"| {k} | "
                    + " | ".join(_s(st.get(s)) for s in stages)
                    + f" | {_s(sum(st.values()))} | {r.result.get('codings')} | {r.result.get('segments')} |"
                )
        L.append("")
    L.append("### make\n")
    if make:
        L.append(f"{make_note}\n")
        L.append("| step | seconds | exit code |")
        L.append("|---|---:|---:|")
        runs = make.get("test_runs", [])
        for k, s in make.get("test_steps", {}).items():
            L.append(f"| make {k}{' (median)' if len(runs) > 1 else ''} | {s['seconds']:.1f} | {s['rc']} |")
        if make.get("test_seconds") is None:
            pass
        elif len(runs) > 1:
            each = ", ".join(f"{r:.1f}" for r in runs)
            L.append(
                f"| make test total, median of {len(runs)} runs ({each}), every chapter executed "
                f"(load {make.get('load_before', [float('nan')])[0]:.1f} at start) | {make['test_seconds']:.1f} | |"
            )
        else:
            L.append(
                f"| make test total ({' + '.join(make.get('test_steps', {}))}, html from a cold execution cache) "
                f"| {make['test_seconds']:.1f} | |"
            )
        ci = make.get("ci")
        if ci:
            browser = ci.get("browser_install_seconds")
            L.append(
                f"| fresh clone of {ci.get('commit', '?')}: `.ci/run` end to end (CI=true, empty uv and pip caches; "
                f"load {ci['load_before'][0]:.1f} at start), measured {ci['date']} | {ci['ci_run_seconds']:.1f} | {ci['rc']} |"
            )
            L.append(
                "| the same: Chromium's install (`apt-get install --reinstall chromium chromium-driver`), "
                "timed apart because the machine already has it | "
                + ("not measured (needs root and apt-get) | |" if browser is None else f"{browser:.1f} | 0 |")
            )
            L.append(f"| the same: total, browser install included | {ci['total_seconds']:.1f} | |")
        b = make.get("book", {})
        if b:
            L.append(f"| make book, warm-up build before the change | {b['warmup_seconds']:.1f} | {b['warmup_rc']} |")
            L.append(f"| make book after a prose change to {b['chapter']} | {b['seconds']:.1f} | {b['rc']} |")
        L.append("")
        failed = [k for k, st in make.get("test_steps", {}).items() if st["rc"] != 0]
        if b and b.get("rc") != 0:
            failed.append("book")
        if failed:
            L.append(
                f"**Failed steps: {', '.join(failed)}** (logs in benchmarks/_work/make-*.log, not committed). "
                "`make lint`, `make unit` and `make browser` run every check even when one fails, so their time stands "
                "and the target is judged on it; a failed `make html` or `make book` stops at the first failing "
                "chapter, so its time is not that of a passing build and counts as a miss.\n"
            )
        if b:
            L.append(
                f"The chapter was {b['restore']}; byte-identical afterwards: {b['identical']}. "
                "Each chapter is executed once per `make test`, in the html step.\n"
            )
    else:
        L.append(f"{make_note}\n")
    L.append("## Targets (issue 8)\n")
    L.append("| target | measured | verdict |")
    L.append("|---|---|---|")
    for t, m, v in targets(recs, make, sizes):
        L.append(f"| {t} | {m} | **{v}** |")
    L.append("")
    profs = [r for r in recs.values() if r.profile]
    if notes or profs:
        L.append("## Misses, near misses and hot spots\n")
        L.append(
            "Cases that miss a target, or where ours is not clearly faster than its peer, are run once more "
            "under cProfile; the hot spots and the fixes proposed to the module owners are in "
            'benchmarks/README.md ("Hot spots").\n'
        )
        for n_ in notes:
            L.append(f"- {n_}")
        L.append("")
        for r in profs:
            L.append(f"cProfile of `{r.job.key}` ({r.job.size}), top functions by own time:\n")
            L.append("```")
            body = r.profile.strip().splitlines()
            start = next((i for i, ln in enumerate(body) if ln.strip().startswith("ncalls")), 0)
            L.extend(ln[:160] for ln in body[start : start + 14])
            L.append("```\n")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a quick look)")
    ap.add_argument("--only", default="", help=f"comma-separated groups of {', '.join(GROUPS)}")
    ap.add_argument("--skip-make", action="store_true", help="do not run make; carry the last measured make times")
    ap.add_argument("--repeats", type=int, default=None, help="runs per case (default 5; 3 for the long ones)")
    ap.add_argument("--make-repeats", type=int, default=3, help="runs of make test (default 3; the median is reported)")
    ap.add_argument("--mem-cap-gib", type=float, default=8.0, help="address-space cap of each measured process")
    ap.add_argument("--no-profile", action="store_true", help="do not profile the cases that miss a target")
    ap.add_argument("--out", default=None, help="where to write the report (default benchmarks/results.md)")
    a = ap.parse_args(argv)
    groups = set(GROUPS) if not a.only else {g.strip() for g in a.only.split(",") if g.strip()}
    unknown = groups - set(GROUPS)
    if unknown:
        print(
            f"benchmarks/run.py: --only: unknown group(s) {', '.join(sorted(unknown))}; use {', '.join(GROUPS)}",
            file=sys.stderr,
        )
        return 2
    sizes = QUICK if a.quick else FULL
    if a.repeats:
        sizes = Sizes(**{**sizes.__dict__, "repeats": a.repeats, "heavy_repeats": min(a.repeats, sizes.heavy_repeats)})
    # only a complete, full-size run rewrites benchmarks/results.md
    out = (
        Path(a.out)
        if a.out
        else HERE / "_work" / "results-quick.md"
        if a.quick
        else HERE / "_work" / "results-only.md"
        if a.only
        else HERE / "results.md"
    )
    work = HERE / "_work"
    work.mkdir(exist_ok=True)
    info = machine()
    print(f"benchmarks: load average {info['load'][0]:.2f}; groups {', '.join(sorted(groups))}", flush=True)
    from cases import ensure_corpus

    corpus_paths = {
        label: ensure_corpus(n) for label, n in sizes.corpora.items() if groups & {"load", "aset", "whole", "cooc"}
    }
    if "cooc" in groups and "1x" not in corpus_paths:
        corpus_paths["1x"] = ensure_corpus(104)
    recs: dict[str, Record] = {}
    cap = int(a.mem_cap_gib * GIB)
    for job in plan(sizes, groups, corpus_paths):
        t = time.perf_counter()
        rec = run_job(job, cap)
        recs[job.key] = rec
        print(
            f"  {job.key:34s} {_s(rec.median):>8s} s  rss {_mib(rec.rss_peak):>7s} MiB  "
            f"{rec.error or rec.result if not isinstance(rec.result, dict) else ''}  "
            f"({time.perf_counter() - t:.0f} s)",
            flush=True,
        )
    make = None
    if "make" in groups and not a.skip_make and not a.quick:
        earlier = json.loads(MAKE_TIMES.read_text()) if MAKE_TIMES.is_file() else {}
        make = measure_make(work, a.make_repeats)
        if "ci" in earlier:  # the last fresh-clone measurement, kept unless re-measured below
            make["ci"] = earlier["ci"]
        make_note = f"Measured in this run ({make['date']})."
        MAKE_TIMES.write_text(json.dumps(make, indent=1) + "\n")
    elif MAKE_TIMES.is_file():
        make = json.loads(MAKE_TIMES.read_text())
        make_note = (
            f"Not re-measured in this run (`--skip-make`{', --quick' if a.quick else ''}): "
            f"the figures below are the last measurement, of {make['date']} (benchmarks/make_times.json)."
        )
    else:
        make_note = (
            "Not measured: run without `--skip-make` once the chapters are complete "
            "(the make targets were not run in this invocation and no earlier measurement exists)."
        )
    if "ci" in groups and not a.skip_make and not a.quick:
        ci = measure_ci(work)
        make = {**(make or {}), "ci": ci}
        MAKE_TIMES.write_text(json.dumps(make, indent=1) + "\n")
    notes: list[str] = []
    if not a.no_profile:
        verdicts = targets(recs, make, sizes)
        to_profile: list[str] = []
        for t, _, v in verdicts:
            if v != "MISS":
                continue
            if t.startswith("alpha"):
                lv = t.split()[1].rstrip(":")
                to_profile.append(f"alpha/{lv}/ours")
            elif t.startswith("co-occurrence"):
                kind = t.split()[1].rstrip(":")
                to_profile.append(f"cooc_{kind}/{sizes.cooc_large}/ours")
            elif "whole analysis" in t:
                to_profile.append(f"whole/{'100x' if '100x' in sizes.corpora else '1x'}")
        # near misses: ours not clearly faster than its peer (ours / peer > 0.8)
        for ours, peer in [
            *((f"alpha/{lv}/ours", f"alpha/{lv}/pkg") for lv in LEVELS),
            ("cohen/ours", "cohen/sm"),
            ("fleiss/ours", "fleiss/sm"),
        ]:
            q = _ratio(recs[ours].median if ours in recs else None, recs[peer].median if peer in recs else None)
            if q is not None and q > 0.8:
                to_profile.append(ours)
                notes.append(f"`{ours}` takes {q:.2f} x the time of `{peer}`: profiled below.")
        for key in dict.fromkeys(to_profile):
            if key in recs:
                p = run_job(recs[key].job, cap, profile=True)
                recs[key].profile = p.profile or p.error
    rendered = render(recs, info, sizes, make, make_note, a.quick, os.getloadavg(), notes)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered, encoding="utf-8")
    print(f"benchmarks: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
