"""Shared fixtures: paths to the repository, the data folder and ../shared."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# tools/ holds helpers shared by the chapters and the tests (the demo project maker)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SHARED = Path(os.environ.get("QDA_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder (study brief, published fixtures); skip where absent."""
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent ({SHARED}); CI always has it")
    return SHARED


@pytest.fixture(scope="session")
def study():
    """The synthetic study, loaded once per session."""
    if not (DATA / "participants.csv").exists():
        pytest.skip("data/ has not been generated yet (make data)")
    import qda

    return qda.load_study(DATA)
