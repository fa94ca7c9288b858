"""Coefficients over arrays and tables: agreement, co-occurrence, span overlap. Knows nothing of the study."""
