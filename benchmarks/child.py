"""Run one benchmark case in this (fresh) interpreter and print one JSON line.

Usage: ``python benchmarks/child.py '{"case": ..., "params": {...}, "repeats": 5, "trace": true}'``.

Measures, after an untimed ``setup``: the wall time (``time.perf_counter``) of
``repeats`` calls, then, if ``trace``, one more call under ``tracemalloc`` (the
Python-level peak of that call, numpy buffers included), and finally the peak
resident set size of the whole process (``ru_maxrss``: interpreter, imports, inputs
and calls). A ``MemoryError`` (the parent caps the address space) is reported, not
raised. With ``profile`` set, the first call runs under cProfile and the report
carries its top functions by own time. With ``setup_only`` set, only ``setup`` runs (the
parent does this first for cases whose setup writes input files, ``Case.files_only``).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def maxrss_bytes() -> int:
    """Peak RSS of this process in bytes (Linux reports KiB)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r if sys.platform == "darwin" else r * 1024)


def measure(spec: dict) -> dict:
    """Run the case named in ``spec`` and return the report (see the module docstring)."""
    from cases import CASES

    case = CASES[spec["case"]]
    out: dict = {"case": spec["case"], "params": spec.get("params", {})}
    t0 = time.perf_counter()
    try:
        import importlib

        for mod in case.imports:
            importlib.import_module(mod)
        t0 = time.perf_counter()
        state = case.setup(**spec.get("params", {}))
        out["setup_s"] = time.perf_counter() - t0
        if spec.get("setup_only"):
            return out
        out["rss_after_setup"] = maxrss_bytes()
        if spec.get("profile"):
            import cProfile
            import io
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            case.run(state)
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(int(spec.get("profile_top", 12)))
            out["profile"] = buf.getvalue()
        times = []
        result = None
        collect = spec.get("gc", True)
        for _ in range(int(spec.get("repeats", 1))):
            if collect:
                gc.collect()
            t = time.perf_counter()
            result = case.run(state)
            times.append(time.perf_counter() - t)
        out["times"] = times
        out["result"] = result
        if spec.get("trace"):
            import tracemalloc

            gc.collect()
            tracemalloc.start()
            case.run(state)
            out["trace_peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    except MemoryError as e:
        out["error"] = f"MemoryError: {e}".strip()
    except Exception as e:  # reported in results.md, never hidden
        out["error"] = f"{type(e).__name__}: {e}"
        out["traceback"] = traceback.format_exc(limit=6)
    out["rss_peak"] = maxrss_bytes()
    return out


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1])), default=str))
