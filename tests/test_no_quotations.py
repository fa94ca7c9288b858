"""No sentence of the paper's participants stands anywhere in the project's text."""

from __future__ import annotations

import re
import subprocess

from conftest import ROOT
from forbidden_phrases import FORBIDDEN


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("\u2019", "'"))


def test_no_forbidden_phrase_in_any_tracked_text_file():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    hits = []
    for name in files:
        if name.startswith("tests/") or not name.endswith(
            (".md", ".yml", ".yaml", ".txt", ".csv", ".py", ".bib", ".cff")
        ):
            continue  # the tests hold the encoded list itself
        text = _norm((ROOT / name).read_text(encoding="utf-8", errors="replace"))
        hits += [f"{name}: {p!r}" for p in FORBIDDEN if p in text]
    assert not hits, "\n".join(hits)
