"""The study: its tables and their schemas, loading a data folder, the codebook, units, validation, de-identification."""
