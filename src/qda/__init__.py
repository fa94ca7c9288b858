"""qda: the helper package of the reproducible analysis book.

The folders are the architecture; imports go one way (see CONTRIBUTING.md):

- :mod:`qda.stats`     coefficients over arrays and tables (agreement, co-occurrence c, spans);
                       knows nothing of the study
- :mod:`qda.study`     the study's tables and schemas, loading a data folder, the codebook,
                       fixed units, validation, de-identification
- :mod:`qda.analysis`  analyses of a study: co-occurrence, the analysis set, themes,
                       reliability and agreement on codings, exercise scoring
- :mod:`qda.show`      display only: book tables, figures, teaching widgets
- :mod:`qda.exchange`  REFI-QDA: safe reading, import, mapping, export
- :mod:`qda.synthetic` the synthetic corpus: authored interviews, generator, facts about it

This top level is the public entry: :func:`load_study` (a data folder or a REFI-QDA file),
:func:`validate`, the errors, and the stable facades :mod:`qda.agreement` and :mod:`qda.refi`.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from qda.errors import (
    DataError,
    QDAError,
    RefiError,
    SchemaError,
    UnsafeInputError,
    ValidationError,
)
from qda.exchange.read import load_project
from qda.study.folder import load_folder
from qda.study.model import Study
from qda.study.schema import SCHEMAS
from qda.study.validation import validate_study

try:
    __version__ = version("qda")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

REFI_SUFFIXES = (".qdpx", ".qde", ".qdc")


def load_study(path: str | Path | None = None) -> Study:
    """Load a study from a data folder (the layout of ``data/``) or a REFI-QDA file.

    Parameters
    ----------
    path : folder or ``.qdpx``/``.qde``/``.qdc`` file, optional
        Default: the ``QDA_PROJECT`` environment variable (a REFI-QDA export with an
        optional ``qda-project.yml`` mapping beside it, see :mod:`qda.refi`), else
        ``QDA_DATA``, else the nearest ``data/`` folder above the working directory.

    Returns
    -------
    Study
        Typed DataFrames; see :data:`qda.SCHEMAS` and ``data/README.md``.
    """
    if path is None and os.environ.get("QDA_PROJECT"):
        path = os.environ["QDA_PROJECT"]
    if path is not None and Path(path).suffix.lower() in REFI_SUFFIXES:
        return load_project(path)
    return load_folder(path)


def validate(study: Study, expect_design: bool | None = None) -> None:
    """Check every invariant of ``study``; raise one :class:`ValidationError` listing all violations.

    ``expect_design`` (default: ``study.synthetic``) adds the study-design checks
    (104 participants, 52/52, 16 institutions, 2 video interviews, both analysis codes
    in every transcript); a user's own project gets the structural checks only.
    """
    validate_study(study, expect_design=expect_design)


__all__ = [
    "SCHEMAS",
    "Study",
    "load_study",
    "validate",
    "QDAError",
    "DataError",
    "SchemaError",
    "RefiError",
    "UnsafeInputError",
    "ValidationError",
    "__version__",
]
