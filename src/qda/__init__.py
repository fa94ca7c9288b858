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

__version__ = "0.1.0"


def validate(study: Study) -> None:
    """Check every invariant of ``study``; raise one :class:`ValidationError` listing all violations."""
    from .validate import validate_study

    validate_study(study)


__all__ = [
    "SCHEMAS", "Study", "load_study", "validate", "QDAError", "DataError", "SchemaError",
    "RefiError", "UnsafeInputError", "ValidationError", "__version__",
]
