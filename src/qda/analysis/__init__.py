"""Analyses of a study: co-occurrence, the analysis set, themes, reliability and agreement on codings."""
