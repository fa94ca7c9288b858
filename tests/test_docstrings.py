"""The statistics name their formula's reference in their docstrings."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import qda.stats

STATISTICS = sorted(
    [f"qda.stats.{m.name}" for m in pkgutil.iter_modules(qda.stats.__path__)]
    + [f"qda.analysis.{m}" for m in ("reliability", "campbell", "coded_text", "unitizing")]
)
# a reference is an author-year citation, a manual, or a pointer to the function that gives it
REFERENCE = re.compile(r"\b(1[89]\d\d|20\d\d)\b|manual|ATLAS\.ti|NVivo|MAXQDA|:func:")


def _public_functions(name):
    mod = importlib.import_module(name)
    for fname, obj in vars(mod).items():
        if fname.startswith("_") or not inspect.isfunction(obj) or obj.__module__ != mod.__name__:
            continue
        yield fname, obj


@pytest.mark.parametrize("name", STATISTICS)
def test_statistics_give_their_reference(name):
    missing = [f for f, obj in _public_functions(name) if not REFERENCE.search(inspect.getdoc(obj) or "")]
    assert not missing, f"{name}: functions whose docstring names no reference: {missing}"
