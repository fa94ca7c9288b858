"""Shared fixtures: paths to the repository, the data folder and ../shared."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

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


#: Variables a user may have set that would change what a command reads.
USER_SETTINGS = ("QDA_PROJECT", "QDA_MAPPING", "QDA_DATA")


def run_qda(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    """``python -m qda ARGS`` run in this process: exit code, stdout and stderr.

    The commands' tests call ``qda.__main__.main`` directly: a fresh interpreter costs about
    a second a call (pandas and lxml imported again), over a hundred calls. What only a
    real process shows (the ``python -m`` entry point, no traceback at exit) is tested with
    subprocesses in a few tests (tests/test_refi_hostile.py, tests/test_deidentify.py).
    An exception escaping ``main`` fails the calling test, as a traceback would.
    """
    from qda.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    settings = {k: v for k, v in os.environ.items() if k not in USER_SETTINGS}
    with (
        mock.patch.dict(os.environ, {**settings, **env}, clear=True),
        contextlib.chdir(cwd),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main([str(a) for a in args])
        except SystemExit as stop:  # argparse's usage errors
            code = stop.code if isinstance(stop.code, int) else 2
    return subprocess.CompletedProcess(["python", "-m", "qda", *map(str, args)], code, out.getvalue(), err.getvalue())
