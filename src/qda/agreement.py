"""Intercoder reliability and agreement: the stable public module.

The coefficients live in :mod:`qda.stats.agreement` (over arrays and tables, nothing of
the study); the comparisons on a study's codings (NVivo's and MAXQDA's measures, fixed
units in the manner of Campbell et al. 2013, intervals, Krippendorff's unitizing alphas on a
study) in :mod:`qda.analysis.reliability`; the unitizing alphas over a continuum in
:mod:`qda.stats.unitizing`. This module re-exports them, so ``qda.agreement.<name>`` keeps
working (``unitized_alpha`` is a deprecated alias of ``unit_decision_alpha``).
"""

from qda.analysis.campbell import (
    RESOLUTIONS,
    campbell_reliability_agreement,
    codebook_in_force,
    coverage_sensitivity,
    decision_agreement,
    study_decisions,
    unit_decision_alpha,
    unitized_alpha,
)
from qda.analysis.coded_text import nvivo_coding_comparison, segment_overlap_agreement
from qda.analysis.reliability import UNIT_CHOICES, agreement_by_unit_choice, decision_matrix, reliability_with_ci
from qda.analysis.unitizing import (
    ALL_DOMAINS,
    UNITIZING_COEFFICIENTS,
    reliability_rounds,
    spans_beside_units,
    unitizing_reliability,
)
from qda.stats.agreement import (
    ALL_CODES,
    LEVELS,
    AgreementError,
    FleissResult,
    KappaResult,
    brennan_prediger_kappa,
    cohen_kappa,
    cohen_kappa_table,
    percent_agreement,
    unit_pair_agreement,
)
from qda.stats.alpha import AlphaBootstrap, alpha_bootstrap_ci, krippendorff_alpha, pairable_pairs
from qda.stats.coefficients import (
    conger_kappa,
    fleiss_kappa_se,
    gwet_ac1,
    gwet_ac2,
    holsti_index,
    scott_pi,
)
from qda.stats.fleiss import fleiss_bootstrap_ci, fleiss_kappa
from qda.stats.unitizing import GAP, UnitizingAlpha, UnitizingError, unitizing_alpha

__all__ = [
    "gwet_ac1",
    "gwet_ac2",
    "scott_pi",
    "conger_kappa",
    "holsti_index",
    "fleiss_kappa_se",
    "ALL_CODES",
    "AgreementError",
    "KappaResult",
    "FleissResult",
    "AlphaBootstrap",
    "LEVELS",
    "percent_agreement",
    "cohen_kappa",
    "cohen_kappa_table",
    "brennan_prediger_kappa",
    "fleiss_kappa",
    "fleiss_bootstrap_ci",
    "krippendorff_alpha",
    "alpha_bootstrap_ci",
    "nvivo_coding_comparison",
    "segment_overlap_agreement",
    "decision_agreement",
    "unit_decision_alpha",
    "unitized_alpha",  # deprecated alias of unit_decision_alpha
    "campbell_reliability_agreement",
    "decision_matrix",
    "reliability_with_ci",
    "agreement_by_unit_choice",
    "UNIT_CHOICES",
    "unit_pair_agreement",
    "pairable_pairs",
    "unitizing_alpha",
    "UnitizingAlpha",
    "UnitizingError",
    "GAP",
    "unitizing_reliability",
    "spans_beside_units",
    "UNITIZING_COEFFICIENTS",
    "ALL_DOMAINS",
    "RESOLUTIONS",
    "study_decisions",
    "codebook_in_force",
    "coverage_sensitivity",
    "reliability_rounds",
]
