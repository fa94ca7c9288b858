"""REFI-QDA 1.5 exchange: export a :class:`~qda.corpus.Study` as ``.qdpx``/``.qdc``, import it back.

Reference: REFI-QDA, *Exchange of processed data between QDA software packages*,
version 1.5 (2019-09-25, ed. F. van Blommestein; www.qdasoftware.org), with the
QDA-XML 1.0 schemas ``Project.xsd`` and ``Codebook.xsd`` shipped in ``qda/schema``.

Mapping between the study tables (:data:`qda.corpus.SCHEMAS`) and QDA-XML
---------------------------------------------------------------------------
=====================  ======================================================
study                  REFI-QDA project (``project.qde`` inside the ``.qdpx``)
=====================  ======================================================
coders                 ``Users/User`` (name = coder); the role as a ``Note`` named
                       ``Coder role: <coder>`` (a User has no description)
codebook               ``CodeBook/Codes/Code`` nested by ``parent``, ``color``;
                       definition, criteria, origin and rounds as labelled lines
                       in ``Description`` (see :func:`code_description`)
codebook.code_group    ``Sets/Set`` with ``MemberCode``
participants           ``Variables`` + one ``Cases/Case`` per participant, named
                       by ``participant_id``, with ``VariableValue`` per column
                       and ``SourceRef`` to the participant's transcripts
institutions           extra case variables ``institution_<column>``
transcripts            ``Sources/TextSource``, ``plainTextPath=internal://<GUID>.txt``,
                       the text in ``sources/<GUID>.txt`` (UTF-8, no BOM, LF)
codings                one ``PlainTextSelection`` per coding row (code-point
                       offsets, exclusive end) holding one ``Coding``/``CodeRef``;
                       ``creatingUser`` = the coder.  The selection's
                       ``Description`` reads ``Coding ID: ...``, ``Round: ...``,
                       ``Codebook version: ...`` so every round stays recoverable.
themes                 codes under a root code marked as theme assignments (one per
                       theme, one below it per subtheme), each themes row one
                       ``PlainTextSelection`` with ``Theme coding ID: ...``
memos                  ``Notes/Note`` (text in ``PlainTextContent``), referenced by a
                       ``NoteRef`` from the Code (code memos), from the
                       PlainTextSelection (coding memos) or from the Project.
=====================  ======================================================

GUIDs are UUID-5 over stable keys (``"code:<slug>"``, ``"coding:<coding_id>"``,
...) so that the same study always exports to the same bytes.  A study imported
from another tool keeps its GUIDs (``study.imported.guids``).

Offsets on import
-----------------
REFI offsets count Unicode code points (spec 10.2) of the source text.  Decoding, the
base of offsets in a source that starts with a byte-order mark, and line ends are
decided in :mod:`qda.exchange.text` (its docstring states the rule, with the spec's
words and what the tools do): a selection always covers exactly the characters the
exporting tool selected, and the stored text's CRLF/CR become LF (raw CRs in inline
text, which XML reads as LF, included).

Safety (untrusted files)
------------------------
XML is parsed by :mod:`defusedxml` with DTDs forbidden (no entities, no external
references: XXE and billion-laughs fail before any expansion) and an element
depth limit; zip members are checked for absolute names, ``..`` parts, symlinks,
their number, their declared total size and their compression ratio before
anything is decompressed; nothing outside the given file is ever read.  Limits are
:class:`Limits` (environment variables ``QDA_REFI_MAX_UNCOMPRESSED``,
``QDA_REFI_MAX_ENTRIES``, ``QDA_REFI_MAX_DEPTH``, ``QDA_REFI_MAX_RATIO``).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from qda.errors import Problem, QDAError
from qda.exchange.build import build_study
from qda.exchange.mapping import MAPPING_FILE, apply_mapping
from qda.exchange.safety import Limits, _Package, schema_errors
from qda.exchange.structure import Doc, read_document
from qda.study.model import Study


def _open(path: str | Path, limits: Limits | None) -> tuple[_Package, Doc]:
    limits = limits or Limits.from_env()
    pkg = _Package(Path(path), limits)
    label = str(pkg.path) if pkg.kind != "qdpx" else f"{pkg.path}!{pkg.qde_name}"
    return pkg, read_document(pkg, label, limits)


def import_project(
    path: str | Path, mapping: dict | str | Path | None = None, *, limits: Limits | None = None
) -> Study:
    """Read a ``.qdpx``, ``.qde`` or ``.qdc`` file into a :class:`~qda.study.model.Study`.

    Rules (the inverse of :func:`~qda.exchange.write.export_project`; see the module docstring):

    * transcripts: one per ``TextSource``; ``transcript_id`` = source name (sanitised,
      :func:`~qda.exchange.naming.sanitise_id`), else the plainTextPath's stem when it is
      not a GUID, else the GUID; text decoded and offsets mapped by :mod:`qda.exchange.text`.
      Sources whose text is not in the file (a bare ``.qde``) get empty text and are listed
      in ``study.imported.missing_sources``; a selection on such a source is an error.
    * codings: one row per ``Coding`` (in a ``PlainTextSelection``, or directly on a
      source = the whole text); ``coder`` = the User of ``creatingUser``;
      ``round``/``codebook_version``/``coding_id`` from the selection's labelled
      Description when present, else ``"full"``/``"final"``/the Coding GUID.
    * codebook: one row per Code, ``version="final"``; slug from ``Code ID:`` or
      :func:`~qda.exchange.naming.slugify` of the name (made unique with the parent's
      slug); fields from the labelled Description; ``code_group`` = the first Set naming it.
      Codes below the theme root (see the module docstring) become ``themes`` rows instead.
    * participants: one row per Case (or per source when there are no Cases), values
      of VariableValues on the case or its sources (``mapping`` renames and recodes, see
      :func:`~qda.exchange.mapping.apply_mapping`); contract columns the project lacks are
      filled with ""/0/False and listed in ``study.imported.missing_participant_columns``.
    * memos: one per Note (except the coder-role notes); attached to the code or coding
      whose NoteRef names it, else to the project.

    Every error is a :class:`~qda.errors.RefiError` (or its subclasses
    :class:`~qda.errors.UnsafeInputError`, :class:`~qda.errors.LimitExceededError`) or,
    from the mapping, a :class:`~qda.errors.DataError`, with a one-line
    "FILE: where: what; fix" message. Nothing is written.
    """
    pkg, doc = _open(path, limits)
    doc.raise_first()
    study = build_study(pkg, doc)
    doc.raise_first()
    if mapping is not None:
        study = apply_mapping(study, mapping)
    return study


def validate_file(path: str | Path, *, limits: Limits | None = None) -> list[Problem]:
    """Every problem of a REFI-QDA file: container/XML safety, schema, then semantics.

    Semantic checks: the structure whose breaking loses data, duplicate GUIDs,
    references (CodeRef, SourceRef, NoteRef, VariableRef, MemberCode, creatingUser)
    that name nothing, selections out of the text, ending before or at their start, or
    on a source whose text is missing, source text that is not text, and names that a
    spreadsheet would run as a formula.  Safety problems stop the check (one line).
    """
    try:
        pkg, doc = _open(path, limits)
    except QDAError as e:
        return [Problem(e.file, e.where, e.what, e.fix)]
    problems = [
        Problem(
            doc.file,
            f"line {line}" if line else "document (validated while streaming, no line number)",
            f"schema: {msg}",
            "make the file follow the REFI-QDA schema",
        )
        for line, msg in _schema_errors(pkg, doc)
    ]
    try:
        study = build_study(pkg, doc)
    except QDAError as e:
        doc.problems.append(Problem(e.file, e.where, e.what, e.fix))
    else:
        doc.problems.extend(spreadsheet_risks(study, doc.file))
    return problems + doc.problems


def _schema_errors(pkg: _Package, doc: Doc) -> list[tuple[int, str]]:
    """The schema errors of the file, judged on its stand-in when read_document made one.

    The stand-in (:attr:`~qda.exchange.structure.Doc.schema_stand_in`) is valid exactly when the
    file is; when it is not, the file itself is validated, so that every error is listed with
    the file's own line numbers.
    """
    if doc.schema_stand_in is not None and not schema_errors(doc.schema_stand_in):
        return []
    return schema_errors(pkg.xml)


#: First characters that make a spreadsheet treat a cell as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@")


def spreadsheet_risks(study: Study, file: str) -> list[Problem]:
    """Names (codes, coders, sources, participants, memos) that start like a spreadsheet formula."""
    found = []
    checks = [
        ("code", study.codebook, "name"),
        ("code", study.codebook, "code_group"),
        ("coder", study.coders, "coder"),
        ("transcript", study.transcripts, "transcript_id"),
        ("participant", study.participants, "participant_id"),
        ("memo", study.memos, "memo_id"),
    ]
    for what, table, col in checks:
        if col not in table.columns:
            continue
        for v in dict.fromkeys(table[col].astype(str)):
            if v.startswith(FORMULA_START):
                found.append(
                    Problem(
                        file,
                        f"{what} {v[:60]!r}",
                        f"starts with {v[0]!r}, so a spreadsheet opening the CSVs would run it as a formula "
                        "(the CSVs written by `import` quote it with a leading apostrophe)",
                        "rename it so that it starts with a letter or digit",
                    )
                )
    return found


# ---------------------------------------------------------------------------
# Canonical form (round-trip comparisons)
# ---------------------------------------------------------------------------
def canonical_xml(data: bytes) -> str:
    """C14N 2.0 of QDA-XML with whitespace-only text stripped (``xml.etree.ElementTree.canonicalize``)."""
    return ET.canonicalize(data.decode("utf-8"), strip_text=True)


def read_qdpx_members(path: str | Path, limits: Limits | None = None) -> dict[str, bytes]:
    """``{member name: bytes}`` of a (trusted or checked) ``.qdpx``, with the same limits as import."""
    pkg = _Package(Path(path), limits or Limits.from_env())
    if pkg.zip is None:
        return {pkg.path.name: pkg.xml}
    return {info.filename: pkg._read(info) for info in pkg.zip.infolist()}


def load_project(path: str | Path, mapping: dict | str | Path | None = None, *, limits: Limits | None = None) -> Study:
    """Import a REFI-QDA file for the book (called by :func:`qda.load_study`).

    The mapping is ``mapping`` if given, else the file named by ``QDA_MAPPING``, else
    ``qda-project.yml`` beside the export, else none.  The study is marked
    ``synthetic=False`` unless the file is an export of the synthetic corpus
    (its Project Description starts with :data:`~qda.exchange.naming.SYNTHETIC_MARKER`).
    """
    path = Path(path)
    if mapping is None:
        env = os.environ.get("QDA_MAPPING")
        if env:
            mapping = Path(env)
        elif (path.parent / MAPPING_FILE).is_file():
            mapping = path.parent / MAPPING_FILE
    return import_project(path, mapping, limits=limits)
