"""Coefficients over arrays and tables: agreement, unitizing, co-occurrence, span overlap. Knows nothing of the study."""
