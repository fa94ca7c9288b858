"""Every public function of qda.stats documents its formula and names its reference."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

MODULES = ["qda.stats.unitizing", "qda.stats.coefficients"]
REFERENCE = re.compile(r"\b(19[5-9]\d|20[0-2]\d)\b|manual|ATLAS\.ti|irrCAC|:func:")


def _public_functions(name):
    module = importlib.import_module(name)
    for attribute, obj in vars(module).items():
        if not attribute.startswith("_") and inspect.isfunction(obj) and obj.__module__ == name:
            yield attribute, obj


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_give_formula_and_reference(name):
    functions = dict(_public_functions(name))
    assert functions
    undocumented = [f for f, obj in functions.items() if "=" not in (inspect.getdoc(obj) or "")]
    unreferenced = [f for f, obj in functions.items() if not REFERENCE.search(inspect.getdoc(obj) or "")]
    assert not undocumented, f"{name}: no formula in the docstring of {undocumented}"
    assert not unreferenced, f"{name}: no reference in the docstring of {unreferenced}"


@pytest.mark.parametrize("name", MODULES)
def test_statistics_import_no_other_qda_module(name):
    source = inspect.getsource(importlib.import_module(name))
    imported = set(re.findall(r"^(?:from|import) (qda[\w.]*)", source, flags=re.MULTILINE))
    assert imported <= {"qda.errors"}, imported
