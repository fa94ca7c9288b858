"""Build the HTML book as ``jupyter-book build . -W -n --keep-going`` does, with N jobs.

Jupyter Book 1.x's command line has no ``-j`` option, but its Sphinx call takes one
(``jupyter_book.sphinx.build_sphinx(jobs=...)``), and MyST-NB, Jupyter Book and the theme
declare themselves safe for parallel reading. MyST-NB executes a notebook while Sphinx
reads it, so with two jobs two chapters execute at once: on a 2-core machine the build
takes about half the time of a serial one. Usage::

    .venv/bin/python tools/build_book.py [--jobs N] [--toc T] [--config C] [--path-output O] [SOURCE]

SOURCE (default ``.``) holds the chapters; ``--toc`` and ``--config`` default to its
``_toc.yml`` and ``_config.yml``, and the HTML goes to O/_build/html (O defaults to SOURCE),
as with ``jupyter-book build``. ``--jobs`` defaults to QDA_BOOK_JOBS, else the number of
CPUs (at most 4). The exit status is non-zero on any warning, as ``-W --keep-going``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jupyter_book.sphinx import build_sphinx


def default_jobs() -> int:
    """QDA_BOOK_JOBS if set, else the CPUs this process may use, at most 4."""
    if os.environ.get("QDA_BOOK_JOBS"):
        return max(1, int(os.environ["QDA_BOOK_JOBS"]))
    return max(1, min(4, len(os.sched_getaffinity(0))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=Path("."))
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--toc", type=Path, default=None)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--path-output", type=Path, default=None)
    args = parser.parse_args(argv)
    source = args.source.resolve()
    toc = (args.toc or source / "_toc.yml").resolve()
    config = (args.config or source / "_config.yml").resolve()
    output = (args.path_output or source).resolve()
    for needed in (toc, config):
        if not needed.exists():
            print(f"{needed}: not found; give the book's _toc.yml and _config.yml", file=sys.stderr)
            return 2
    result = build_sphinx(
        source,
        output / "_build" / "html",
        use_external_toc=True,
        noconfig=True,
        path_config=str(config),
        confoverrides={"external_toc_path": toc.as_posix(), "latex_individualpages": False, "nitpicky": True},
        builder="html",
        warningiserror=True,
        keep_going=True,
        jobs=args.jobs or default_jobs(),
    )
    if isinstance(result, Exception):
        # the cause chain holds what an author needs: the chapter, then the failing cell
        # with its traceback (a CellExecutionError's message)
        error: BaseException | None = result
        while error is not None:
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
            error = error.__cause__
        print("the book build failed: see the chapter and cell above", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
