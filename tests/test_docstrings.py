"""Every public function documents itself; the statistics name their formula and reference."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

MODULES = ["corpus", "codebook", "codings", "validate", "agreement", "cooccurrence", "analysis_set",
           "themes", "tables", "plots", "widgets", "refi", "deidentify", "corpus_facts", "io"]
STATISTICS = ["agreement", "cooccurrence"]


def _public_functions(name):
    mod = importlib.import_module(f"qda.{name}")
    for fname, obj in vars(mod).items():
        if fname.startswith("_") or not inspect.isfunction(obj) or obj.__module__ != mod.__name__:
            continue
        yield fname, obj


@pytest.mark.parametrize("name", MODULES)
def test_every_public_function_has_a_docstring(name):
    missing = [f for f, obj in _public_functions(name) if len(inspect.getdoc(obj) or "") < 30]
    assert not missing, f"qda.{name}: functions without a real docstring: {missing}"


@pytest.mark.parametrize("name", STATISTICS)
def test_statistics_give_their_reference(name):
    # a reference is an author-year citation, a manual, or a pointer to the function that gives it
    ref = re.compile(r"\b(1[89]\d\d|20\d\d)\b|manual|ATLAS\.ti|NVivo|MAXQDA|:func:")
    missing = [f for f, obj in _public_functions(name) if not ref.search(inspect.getdoc(obj) or "")]
    assert not missing, f"qda.{name}: functions whose docstring names no reference: {missing}"
