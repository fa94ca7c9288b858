"""qda: the helper package of the reproducible analysis book.

Modules, one per concept:

- :mod:`qda.corpus`       the Study object, its data contract, ``load_study``
- :mod:`qda.codebook`     the versioned codebook (YAML) and version comparison
- :mod:`qda.validate`     every invariant of a study, reported at once
- :mod:`qda.codings`      coded segments: text, speaker turns, fixed units
- :mod:`qda.agreement`    intercoder reliability and agreement statistics
- :mod:`qda.cooccurrence` code co-occurrence (sweep line) and ATLAS.ti's c
- :mod:`qda.analysis_set` the segments where the two analysis codes co-occur
- :mod:`qda.themes`       theme tables (participants, not segments) and excerpts
- :mod:`qda.tables`       Table 1 and the codebook as book-ready tables
- :mod:`qda.plots`        the book's figures (seaborn, one colour-blind-safe style)
- :mod:`qda.widgets`      teaching widgets (ipywidgets) with static renderings
- :mod:`qda.refi`         REFI-QDA 1.5 import and export (.qdpx, .qde, .qdc)
- :mod:`qda.synthetic`    the seeded generator of the synthetic corpus
"""

from .corpus import SCHEMAS, Study, load_study
from .errors import DataError, QDAError, RefiError, SchemaError, UnsafeInputError, ValidationError

# Import the submodule first: importing `qda.validate` binds the module to the name
# `qda.validate`; the function defined below must be the binding that stays.
from . import validate as _validate_module  # noqa: E402

__version__ = "0.1.0"


def validate(study: Study, expect_design: bool | None = None) -> None:
    """Check every invariant of ``study``; raise one :class:`ValidationError` listing all violations.

    ``expect_design`` (default: ``study.synthetic``) adds the study-design checks
    (104 participants, 52/52, 16 institutions, 2 video interviews, both analysis codes
    in every transcript); a user's own project gets the structural checks only.
    """
    _validate_module.validate_study(study, expect_design=expect_design)


__all__ = [
    "SCHEMAS", "Study", "load_study", "validate", "QDAError", "DataError", "SchemaError",
    "RefiError", "UnsafeInputError", "ValidationError", "__version__",
]
