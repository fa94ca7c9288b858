"""Rewrite environment.yml from requirements.lock so conda users get the same pins.

requirements.lock is the single source of truth; run this after changing it:
    .venv/bin/python tools/sync_environment.py
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = """\
# Conda users: `conda env create -f environment.yml && conda activate qda-book`.
# Generated from requirements.lock by tools/sync_environment.py: the same pins, installed
# with pip inside a conda Python (tests/test_foundation.py checks that the two agree).
name: qda-book
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
"""


def render() -> str:
    pins = [
        line.strip()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    body = "".join(f"      - {p}\n" for p in pins)
    return HEADER + body + "      - -e .\n"


if __name__ == "__main__":
    (ROOT / "environment.yml").write_text(render())
    print("environment.yml rewritten from requirements.lock")
