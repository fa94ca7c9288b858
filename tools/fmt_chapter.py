"""Rewrite MyST chapters in jupytext's normal form (what JupyterLab writes on save).

Usage: .venv/bin/python tools/fmt_chapter.py chapters/NAME.md [...]
Reads each file fully before writing it back, so a failure never truncates a chapter.
"""

import sys

import jupytext

for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "{code-cell}" not in text:
        continue  # plain Markdown pages (the bibliography) are not notebooks
    out = jupytext.writes(jupytext.reads(text, fmt="md:myst"), fmt="md:myst")
    if out != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(out)
        print(f"normalised {path}")
