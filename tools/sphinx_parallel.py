"""A local Sphinx extension: lets the book's chapters be read (and executed) in parallel.

Jupyter Book 1.x loads two extensions that do not declare whether they are safe for
parallel reading, so Sphinx falls back to a serial read whenever it is run with more than
one job (``tools/build_book.py --jobs 2``). Both are safe, as their code shows (versions
pinned in requirements.lock):

* ``sphinx_multitoc_numbering``: its ``setup`` only replaces
  ``TocTreeCollector.assign_section_numbers``, a step Sphinx runs in the main process
  after every document is read; worker processes inherit the replacement.
* ``sphinx_jupyterbook_latex``: adds config values, node types and per-document
  transforms; it keeps nothing in the build environment that workers would have to merge.

This extension says so, leaving the extensions themselves untouched. It also creates
MyST-NB's execution cache (jupyter-cache's SQLite database) in the main process before the
parallel read: otherwise, on a cleared cache, two workers create its tables at once and
one fails ("table settings already exists").
"""

from __future__ import annotations

from jupyter_cache import get_cache
from sphinx.application import Sphinx

PARALLEL_SAFE = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def create_execution_cache(app: Sphinx) -> None:
    """Create the execution cache's database now, once (after MyST-NB set its path)."""
    config = getattr(app.env, "mystnb_config", None)
    if config is not None and config.execution_mode == "cache" and config.execution_cache_path:
        get_cache(config.execution_cache_path).db  # noqa: B018 (the property creates the tables)


def setup(app: Sphinx) -> dict:
    for name in PARALLEL_SAFE:
        app.setup_extension(name)
        app.extensions[name].parallel_read_safe = True
        app.extensions[name].parallel_write_safe = True
    app.connect("builder-inited", create_execution_cache, priority=900)  # after MyST-NB's own handler
    return {"parallel_read_safe": True, "parallel_write_safe": True}
