"""The seeded generator of the synthetic corpus (see :mod:`qda.synthetic.generate`).

Every passage in ``passages/*.yml`` is the project's own writing. Nothing here is
taken from the study's transcripts, which are confidential, or from the paper.
"""
