"""Teaching exercises in the craft of coding: the data each one needs, and its scoring.

Six exercises follow the steps the study's team practised (Murphy et al., Academic
Medicine 2022, doi:10.1097/ACM.0000000000004388, Method; Campbell et al. 2013):

1. open coding (:func:`open_coding_exercise`, :func:`match_open_codes`);
2. writing a code's criteria (:func:`criteria_exercise`, :func:`score_boundary_decisions`);
3. unitizing (:func:`unitizing_exercise`, :func:`score_unitizing`);
4. reconciling a disagreement (:func:`reconciliation_case`, :func:`score_reconciliation`);
5. writing an analytic memo (:func:`memo_exercise`, :func:`memo_checklist`);
6. building a theme (:func:`theme_exercise`, :func:`score_grouping`).

Each selection is seeded and deterministic; each scoring function is pure. The widgets
in :mod:`qda.show.widgets` only display what these return. The older fixed-unit coding
exercise (:class:`FixedUnitExercise`) and the excerpt browser's selection
(:func:`browse_excerpts`) live here too.

Every "reference", "model answer" or "team's decision" below is **one team's reading**
of the passages (:data:`ONE_READING`), not the truth: a learner who differs from it
has something to discuss, not an error.
"""

from __future__ import annotations

from qda.analysis.exercises.common import (
    EXCERPT_COLUMNS,
    MEMO_PROMPTS,
    ONE_READING,
)
from qda.analysis.exercises.criteria import (
    CriteriaExercise,
    OpenCoding,
    criteria_exercise,
    match_open_codes,
    note_criterion,
    open_coding_exercise,
    score_boundary_decisions,
    unmatched_labels,
)
from qda.analysis.exercises.fixed_units import (
    FixedUnitExercise,
    browse_excerpts,
)
from qda.analysis.exercises.memos_themes import (
    MEMO_CHECKS,
    MemoExercise,
    ThemeExercise,
    memo_checklist,
    memo_exercise,
    score_grouping,
    theme_exercise,
)
from qda.analysis.exercises.reconciling import (
    ReconciliationCase,
    reconciliation_case,
    score_reconciliation,
)
from qda.analysis.exercises.unitizing import (
    UnitizingExercise,
    score_unitizing,
    unitizing_exercise,
    word_spans,
    words_to_span,
)

__all__ = [
    "ONE_READING",
    "EXCERPT_COLUMNS",
    "MEMO_PROMPTS",
    "FixedUnitExercise",
    "browse_excerpts",
    "OpenCoding",
    "open_coding_exercise",
    "match_open_codes",
    "unmatched_labels",
    "note_criterion",
    "CriteriaExercise",
    "criteria_exercise",
    "score_boundary_decisions",
    "UnitizingExercise",
    "unitizing_exercise",
    "word_spans",
    "words_to_span",
    "score_unitizing",
    "ReconciliationCase",
    "reconciliation_case",
    "score_reconciliation",
    "MemoExercise",
    "memo_exercise",
    "MEMO_CHECKS",
    "memo_checklist",
    "ThemeExercise",
    "theme_exercise",
    "score_grouping",
]
