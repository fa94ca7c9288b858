"""The synthetic corpus: 104 interviews written one by one, the team's records, and the build.

- :mod:`qda.synthetic.authored`: the source format of an interview (persona card, inline
  reference coding) and its compiler;
- :mod:`qda.synthetic.checks`: each interview against its card; repetition across the corpus;
- :mod:`qda.synthetic.people`: the seeded draw of participants and institutions;
- :mod:`qda.synthetic.team`: the coding rounds and the analysts' stated readings;
- :mod:`qda.synthetic.records`: the analysts' memos, theme assignments and exemplars;
- :mod:`qda.synthetic.generate`: ``python -m qda generate``, which builds ``data/``.

Every sentence here is the project's own writing. Nothing is taken from the study's
transcripts, which are confidential, or from the paper.
"""
